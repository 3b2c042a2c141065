/* volume.c — the device: raw reads, partitions (libtsk's volume-system
 * parsers), and each FAT/exFAT filesystem on it through fatwalk.c. */
#include "volume.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <tsk/libtsk.h>
#include <unistd.h>

#include "fatwalk.h"

#define MAX_FS 16

/* The source. Large aligned reads (a recording's clusters into the
 * pipeline's aligned buffers) go O_DIRECT from the device straight into the
 * buffer: no page-cache copy and no gigabytes of a recorder's data evicting
 * the station's cache. Anything else (directories, the FAT, unaligned
 * tails) reads buffered. Both descriptors are O_RDONLY: the station can
 * never write to evidence. */
struct source {
        int fd;
        int dfd;      /* O_DIRECT, or -1 where the source has none (FUSE, tmpfs) */
        size_t align; /* offset, length and buffer alignment O_DIRECT needs */
        uint64_t size;
        const char *name;
};

struct volume {
        char *source;
        struct source src;
        struct fatwalk *fs[MAX_FS];
        uint64_t fs_off[MAX_FS];
        unsigned n_fs;
        char fs_type[64];
        /* partitions that hold no FAT or exFAT filesystem: said in the listing */
        char *foreign[MAX_FS];
        unsigned n_foreign;
};

struct volume_file {
        struct volume *v;
        struct fatwalk_file map;
        const char *path;
};

static int src_pread(struct source *s, uint64_t off, void *buf, size_t len, char *err, size_t err_size)
{
        int fd = s->fd;
        if (s->dfd >= 0 && len >= 65536 && off % s->align == 0 && len % s->align == 0 && (uintptr_t)buf % s->align == 0)
                fd = s->dfd;
        size_t got = 0;
        while (got < len) {
                ssize_t k = pread(fd, (char *)buf + got, len - got, (off_t)(off + got));
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EINVAL && fd == s->dfd) {
                        fd = s->fd; /* the device wants coarser alignment: read buffered */
                        continue;
                }
                if (k < 0) {
                        snprintf(err, err_size, "read failed: %zu bytes at byte %llu of the device: %s", len - got,
                                 (unsigned long long)(off + got), strerror(errno));
                        return -EIO;
                }
                if (k == 0) {
                        snprintf(err, err_size, "the device ends at byte %llu, before the %zu bytes asked for at %llu",
                                 (unsigned long long)(off + got), len, (unsigned long long)off);
                        return -EIO;
                }
                got += (size_t)k;
        }
        return 0;
}

static int fs_read(void *ud, uint64_t off, void *buf, size_t len, char *err, size_t err_size)
{
        return src_pread(ud, off, buf, len, err, err_size);
}

/* fds (NULL: open path): descriptors the caller opened, [0] plain and [1]
 * with O_DIRECT (-1 where the caller's filesystem refused it); dockd may not
 * be able to open the caller's file itself, and must not try. */
static int source_open(struct source *s, const char *path, const int *fds, char *err, size_t err_size)
{
        s->fd = fds ? fcntl(fds[0], F_DUPFD_CLOEXEC, 3) : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        s->dfd = -1;
        s->name = path;
        if (s->fd < 0) {
                snprintf(err, err_size, "%s: cannot open device or image: %s", path, strerror(errno));
                return -errno;
        }
        struct stat st;
        uint64_t size = 0;
        if (fstat(s->fd, &st) < 0 || (!S_ISBLK(st.st_mode) && !S_ISREG(st.st_mode))) {
                /* a FIFO, socket or character device would block or lie: refuse it */
                snprintf(err, err_size, "%s: not a block device or image file (refused: only volumes are read)", path);
                return -EMEDIUMTYPE;
        }
        if (S_ISBLK(st.st_mode) && ioctl(s->fd, BLKGETSIZE64, &size) < 0) {
                /* where the ioctl is not answered (an emulated node): the end of the device */
                off_t end = lseek(s->fd, 0, SEEK_END);
                if (end < 0) {
                        snprintf(err, err_size, "%s: cannot read the device's size: %s", path, strerror(errno));
                        return -errno;
                }
                size = (uint64_t)end;
        } else if (!S_ISBLK(st.st_mode)) {
                size = (uint64_t)st.st_size;
        }
        /* O_NONBLOCK was only for the open; reads must wait for the device. */
        fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) & ~O_NONBLOCK);
        if (size == 0) {
                snprintf(err, err_size, "%s: cannot open device or image: it is empty (no medium?)", path);
                return -ENOMEDIUM;
        }
        s->size = size;
        s->dfd = !fds                                                 ? open(path, O_RDONLY | O_DIRECT | O_CLOEXEC)
                 : fds[1] >= 0 && (fcntl(fds[1], F_GETFL) & O_DIRECT) ? fcntl(fds[1], F_DUPFD_CLOEXEC, 3)
                                                                      : -1;
        int ssz = 0;
        s->align = S_ISBLK(st.st_mode) && ioctl(s->fd, BLKSSZGET, &ssz) == 0 && ssz >= 512 ? (size_t)ssz : 4096;
        posix_fadvise(s->fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        return 0;
}

static void source_close(struct source *s)
{
        if (s->fd >= 0)
                close(s->fd);
        if (s->dfd >= 0)
                close(s->dfd);
        s->fd = s->dfd = -1;
}

/* ---- partitions, through libtsk's volume-system parsers (MBR, GPT, …) ---- */

struct tsk_src {
        TSK_IMG_INFO img; /* first: libtsk casts between the two */
        struct source *s;
};

static ssize_t tsk_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len)
{
        struct tsk_src *t = (struct tsk_src *)img;
        char err[256];
        if (off < 0 || (uint64_t)off >= t->s->size)
                return 0;
        if (len > t->s->size - (uint64_t)off)
                len = t->s->size - (uint64_t)off;
        if (src_pread(t->s, (uint64_t)off, buf, len, err, sizeof(err)) < 0) {
                tsk_error_reset();
                tsk_error_set_errno(TSK_ERR_IMG_READ);
                tsk_error_set_errstr("%s", err);
                return -1;
        }
        return (ssize_t)len;
}

static void tsk_close_img(TSK_IMG_INFO *img) { free(img); }
static void tsk_imgstat(TSK_IMG_INFO *img, FILE *f) { fprintf(f, "raw source, %lld bytes\n", (long long)img->size); }

static TSK_IMG_INFO *tsk_img(struct source *s)
{
        struct tsk_src *t = calloc(1, sizeof(*t));
        if (!t)
                return NULL;
        t->s = s;
        TSK_IMG_INFO *img = tsk_img_open_external(t, (TSK_OFF_T)s->size, 0, tsk_read, tsk_close_img, tsk_imgstat);
        if (!img)
                free(t);
        return img;
}

/* What a region that holds no FAT or exFAT filesystem is, for the message:
 * the signatures of the filesystems an officer might bring. */
static void foreign_name(struct source *src, uint64_t off, uint64_t len, char *buf, size_t size)
{
        uint8_t b[4096];
        char err[256];
        snprintf(buf, size, "no filesystem dockd knows");
        if (len < sizeof(b) || src_pread(src, off, b, sizeof(b), err, sizeof(err)) < 0)
                return;
        if (b[1080] == 0x53 && b[1081] == 0xEF) {
                uint32_t compat = (uint32_t)b[1116] | (uint32_t)b[1117] << 8,
                         incompat = (uint32_t)b[1120] | (uint32_t)b[1121] << 8;
                snprintf(buf, size, "%s", incompat & 0x40 ? "ext4" : compat & 0x4 ? "ext3" : "ext2");
        } else if (memcmp(b + 3, "NTFS    ", 8) == 0) {
                snprintf(buf, size, "NTFS");
        } else if (memcmp(b, "XFSB", 4) == 0) {
                snprintf(buf, size, "XFS");
        } else if (memcmp(b, "LUKS\xba\xbe", 6) == 0) {
                snprintf(buf, size, "a LUKS encrypted volume");
        } else if (memcmp(b, "hsqs", 4) == 0) {
                snprintf(buf, size, "squashfs");
        } else if (b[1024] == 0x10 && b[1025] == 0x20 && b[1026] == 0xF5 && b[1027] == 0xF2) {
                snprintf(buf, size, "F2FS");
        } else if (len > 0x10048) {
                uint8_t m[8];
                if (src_pread(src, off + 0x10040, m, 8, err, sizeof(err)) == 0 && memcmp(m, "_BHRfS_M", 8) == 0)
                        snprintf(buf, size, "btrfs");
        }
}

/* Opens the FAT/exFAT filesystem at off, or says in err why there is none
 * (-EINVAL: the codepage, a configuration error). */
static int add_fs(struct volume *v, const char *codepage, uint64_t off, uint64_t len, char *err, size_t err_size)
{
        struct fatwalk *fs = NULL;
        char why[256];
        int r = fatwalk_open(fs_read, &v->src, off, off + len, codepage, &fs, why, sizeof(why));
        if (r == 0) {
                if (v->n_fs == MAX_FS) {
                        fatwalk_close(fs);
                        return -E2BIG;
                }
                v->fs_off[v->n_fs] = off;
                v->fs[v->n_fs++] = fs;
                return 0;
        }
        snprintf(err, err_size, "%s", why);
        return r;
}

struct part_walk {
        struct volume *v;
        const char *codepage;
        int err;
        char *errbuf;
        size_t err_size;
        unsigned index;
};

static TSK_WALK_RET_ENUM part_cb(TSK_VS_INFO *vs, const TSK_VS_PART_INFO *part, void *ptr)
{
        struct part_walk *w = ptr;
        uint64_t off = (uint64_t)part->start * vs->block_size, len = (uint64_t)part->len * vs->block_size;
        w->index++;
        char what[256];
        snprintf(what, sizeof(what), "partition %u (%s, sectors %llu-%llu, %llu MiB)", w->index,
                 part->desc ? part->desc : "?", (unsigned long long)part->start,
                 (unsigned long long)(part->start + part->len - 1), (unsigned long long)(len >> 20));
        char why[256] = "";
        int r = add_fs(w->v, w->codepage, off, len, why, sizeof(why));
        if (r == -EINVAL || r == -ENOMEM || r == -E2BIG) {
                snprintf(w->errbuf, w->err_size, "%s", r == -E2BIG ? "more filesystems than dockd reads (16)" : why);
                w->err = r;
                return TSK_WALK_STOP;
        }
        if (r < 0 && w->v->n_foreign < MAX_FS) {
                char name[128];
                foreign_name(&w->v->src, off, len, name, sizeof(name));
                if (strcmp(name, "no filesystem dockd knows") == 0 && why[0])
                        w->v->foreign[w->v->n_foreign++] =
                                xasprintf("%s holds no filesystem dockd knows (%s); not read", what, why);
                else
                        w->v->foreign[w->v->n_foreign++] = xasprintf("%s holds %s; not read", what, name);
        }
        return TSK_WALK_CONT;
}

int volume_open(const char *source, const int *fds, const char *codepage, struct volume **out, char *err,
                size_t err_size)
{
        struct volume *v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->source = xstrdup(source);
        v->src.fd = v->src.dfd = -1;
        int r = source_open(&v->src, v->source, fds, err, err_size);
        if (r < 0) {
                volume_close(v);
                return r;
        }
        char why[256] = "";
        /* A filesystem on the whole device (how recorders format their cards),
         * or a partition table. */
        r = add_fs(v, codepage, 0, v->src.size, why, sizeof(why));
        if (r == -EINVAL) {
                snprintf(err, err_size, "%s: %s", source, why);
                volume_close(v);
                return r;
        }
        if (r < 0) {
                TSK_IMG_INFO *img = tsk_img(&v->src);
                TSK_VS_INFO *vs = img ? tsk_vs_open(img, 0, TSK_VS_TYPE_DETECT) : NULL;
                tsk_error_reset();
                if (vs) {
                        struct part_walk w = { .v = v, .codepage = codepage, .errbuf = err, .err_size = err_size };
                        tsk_vs_part_walk(vs, 0, vs->part_count - 1, TSK_VS_PART_FLAG_ALLOC, part_cb, &w);
                        tsk_error_reset();
                        tsk_vs_close(vs);
                        if (w.err < 0) {
                                if (img)
                                        tsk_img_close(img);
                                volume_close(v);
                                return w.err;
                        }
                }
                if (v->n_fs == 0) {
                        char name[128];
                        foreign_name(&v->src, 0, v->src.size, name, sizeof(name));
                        if (!vs && strcmp(name, "no filesystem dockd knows") != 0)
                                snprintf(err, err_size,
                                         "%s: filesystem %s is not a recorder filesystem (FAT or exFAT expected)",
                                         source, name);
                        else if (v->n_foreign)
                                snprintf(err, err_size, "%s: no FAT32 or exFAT filesystem found: %s", source,
                                         v->foreign[0]);
                        else
                                snprintf(err, err_size, "%s: %s%s%s", source,
                                         strstr(why, "FAT")
                                                 ? ""
                                                 : "no FAT32 or exFAT filesystem found (unknown or corrupt volume): ",
                                         why, strstr(why, "FAT") ? " (unknown or corrupt volume)" : "");
                        if (img)
                                tsk_img_close(img);
                        volume_close(v);
                        return -EMEDIUMTYPE;
                }
                if (img)
                        tsk_img_close(img);
        }
        size_t n = 0;
        for (unsigned i = 0; i < v->n_fs; i++)
                n += (size_t)snprintf(v->fs_type + n, sizeof(v->fs_type) - n, "%s%s", i ? "+" : "",
                                      fatwalk_type(v->fs[i]));
        *out = v;
        return 0;
}

void volume_close(struct volume *v)
{
        if (!v)
                return;
        for (unsigned i = 0; i < v->n_fs; i++)
                fatwalk_close(v->fs[i]);
        for (unsigned i = 0; i < v->n_foreign; i++)
                free(v->foreign[i]);
        source_close(&v->src);
        free(v->source);
        free(v);
}

const char *volume_fs_type(struct volume *v) { return v->fs_type; }

/* ---- listing ---- */

struct collect {
        struct volume *v;
        struct volume_listing *l;
        unsigned fs;
        size_t cap_files, cap_deleted, cap_issues;
};

static void push_issue(struct collect *c, bool blocking, bool of_fs, const char *msg)
{
        struct volume_listing *l = c->l;
        if (l->n_issues == c->cap_issues) {
                c->cap_issues = c->cap_issues ? c->cap_issues * 2 : 8;
                l->issues = realloc(l->issues, c->cap_issues * sizeof(*l->issues));
                if (!l->issues)
                        abort();
        }
        char pfx[16] = "";
        if (of_fs && c->v->n_fs > 1)
                snprintf(pfx, sizeof(pfx), "p%u:", c->fs + 1);
        l->issues[l->n_issues++] = (struct volume_issue){ blocking, xasprintf("%s%s", pfx, msg) };
        l->n_blocking += blocking;
}

static void on_issue(void *ud, bool blocking, const char *msg) { push_issue(ud, blocking, true, msg); }

static void on_entry(void *ud, const struct fatwalk_entry *fe)
{
        struct collect *c = ud;
        struct volume_listing *l = c->l;
        if (fe->is_dir) {
                l->n_dirs++;
                return;
        }
        struct volume_entry **arr = fe->deleted ? &l->deleted : &l->files;
        size_t *n = fe->deleted ? &l->n_deleted : &l->n_files;
        size_t *cap = fe->deleted ? &c->cap_deleted : &c->cap_files;
        if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 64;
                struct volume_entry *p = realloc(*arr, *cap * sizeof(**arr));
                if (!p)
                        abort();
                *arr = p;
        }
        struct volume_entry *e = &(*arr)[(*n)++];
        memset(e, 0, sizeof(*e));
        if (c->v->n_fs > 1)
                e->path = xasprintf("p%u:%s", c->fs + 1, fe->path);
        else
                e->path = xstrdup(fe->path);
        e->key = xstrdup(fe->key);
        e->raw_name = xmalloc(fe->raw_name_len ? fe->raw_name_len : 1);
        memcpy(e->raw_name, fe->raw_name, fe->raw_name_len);
        e->raw_name_len = fe->raw_name_len;
        e->size = (int64_t)fe->size;
        e->mtime = fe->mtime;
        time_device_iso(fe->mtime, e->times.mtime, sizeof(e->times.mtime));
        time_device_iso(fe->ctime, e->times.ctime, sizeof(e->times.ctime));
        time_device_iso(fe->atime, e->times.atime, sizeof(e->times.atime));
        e->unreadable = fe->unreadable ? xstrdup(fe->unreadable) : NULL;
        e->fs = c->fs;
        e->first_cluster = fe->first_cluster;
        e->valid_size = fe->valid_size;
        e->contiguous = fe->contiguous;
}

static int cmp_entry(const void *a, const void *b)
{
        const struct volume_entry *x = a, *y = b;
        int r = strcmp(x->path, y->path);
        return r ? r : strcmp(x->key, y->key);
}

int volume_list(struct volume *v, struct volume_listing *out, char *err, size_t err_size)
{
        memset(out, 0, sizeof(*out));
        struct collect c = { .v = v, .l = out };
        for (unsigned i = 0; i < v->n_foreign; i++)
                push_issue(&c, true, false, v->foreign[i]);
        for (unsigned i = 0; i < v->n_fs; i++) {
                c.fs = i;
                struct fatwalk_walk_ops ops = { .entry = on_entry, .issue = on_issue, .ud = &c };
                uint64_t lost = 0;
                char why[512];
                int r = fatwalk_walk(v->fs[i], &ops, &lost, why, sizeof(why));
                if (r < 0) {
                        if (v->n_fs == 1) {
                                snprintf(err, err_size, "%s: cannot walk the directory tree (corrupt volume?): %s",
                                         v->source, why);
                                volume_listing_free(out);
                                return r;
                        }
                        char msg[600];
                        snprintf(msg, sizeof(msg), "the %s filesystem at byte %llu cannot be walked: %s",
                                 fatwalk_type(v->fs[i]), (unsigned long long)v->fs_off[i], why);
                        push_issue(&c, true, false, msg);
                }
                out->unaccounted_bytes += lost;
        }
        if (out->n_files)
                qsort(out->files, out->n_files, sizeof(*out->files), cmp_entry);
        if (out->n_deleted)
                qsort(out->deleted, out->n_deleted, sizeof(*out->deleted), cmp_entry);
        return 0;
}

static void entries_free(struct volume_entry *e, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(e[i].path);
                free(e[i].key);
                free(e[i].raw_name);
                free(e[i].unreadable);
        }
        free(e);
}

void volume_listing_free(struct volume_listing *l)
{
        entries_free(l->files, l->n_files);
        entries_free(l->deleted, l->n_deleted);
        for (size_t i = 0; i < l->n_issues; i++)
                free(l->issues[i].what);
        free(l->issues);
        memset(l, 0, sizeof(*l));
}

/* ---- file bytes ---- */

int volume_file_open(struct volume *v, const struct volume_entry *e, struct volume_file **out, char *err,
                     size_t err_size)
{
        if (e->unreadable) {
                snprintf(err, err_size, "%s: %s cannot be read: %s", v->source, e->path, e->unreadable);
                return -EUCLEAN;
        }
        if (e->fs >= v->n_fs)
                return -EINVAL;
        struct volume_file *f = calloc(1, sizeof(*f));
        if (!f)
                return -ENOMEM;
        char why[256];
        int r = fatwalk_file_map(v->fs[e->fs], e->first_cluster, (uint64_t)e->size, e->valid_size, e->contiguous,
                                 &f->map, why, sizeof(why));
        if (r < 0) {
                snprintf(err, err_size, "%s: %s cannot be read: %s", v->source, e->path, why);
                free(f);
                return r;
        }
        f->v = v;
        f->path = e->path;
        *out = f;
        return 0;
}

ssize_t volume_file_read(struct volume_file *f, int64_t off, void *buf, size_t n, char *err, size_t err_size)
{
        if (off < 0 || (uint64_t)off >= f->map.size)
                return 0;
        if (n > f->map.size - (uint64_t)off)
                n = (size_t)(f->map.size - (uint64_t)off);
        size_t done = 0;
        uint64_t pos = 0;
        for (size_t i = 0; i < f->map.n_ext && done < n; i++) {
                const struct fatwalk_extent *x = &f->map.ext[i];
                uint64_t at = (uint64_t)off + done;
                if (at >= pos + x->len) {
                        pos += x->len;
                        continue;
                }
                uint64_t in = at - pos, len = x->len - in;
                if (len > n - done)
                        len = n - done;
                /* past the valid data length (exFAT): zeros, as every driver reads them */
                uint64_t valid = at < f->map.valid_size ? f->map.valid_size - at : 0;
                uint64_t rd = len < valid ? len : valid;
                if (rd) {
                        char why[256];
                        if (src_pread(&f->v->src, x->dev_off + in, (char *)buf + done, (size_t)rd, why, sizeof(why)) <
                            0) {
                                snprintf(err, err_size, "%s: %s: %s", f->v->source, f->path, why);
                                return -EIO;
                        }
                }
                if (len > rd)
                        memset((char *)buf + done + rd, 0, (size_t)(len - rd));
                done += (size_t)len;
                pos += x->len;
        }
        return (ssize_t)done;
}

void volume_file_close(struct volume_file *f)
{
        if (!f)
                return;
        fatwalk_file_unmap(&f->map);
        free(f);
}
