/* volume.c — libtsk: image/device → filesystem → file list and file bytes. */
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

#include "util.h"

struct volume {
        char *source;
        TSK_IMG_INFO *img;
        TSK_VS_INFO *vs;        /* set when the device carries a partition table */
        TSK_FS_INFO *fs;
};

struct volume_file {
        struct volume *v;
        TSK_FS_FILE *file;
};

static void tsk_err(char *err, size_t err_size, const char *source, const char *what);

/* The source as libtsk sees it: an "external" raw image whose reads come
 * here. Large aligned reads (a recording's clusters into the pipeline's
 * aligned buffers) go O_DIRECT from the device straight into the buffer: no
 * page-cache copy (in a VM that copy cost as much as the SHA-256) and no
 * gigabytes of a recorder's data evicting the station's cache. Anything else
 * (libtsk's own metadata cache, a file's unaligned tail) reads buffered.
 * Both descriptors are O_RDONLY: the station can never write to evidence. */
struct source_img {
        TSK_IMG_INFO img;       /* first: libtsk casts between the two */
        int fd;                 /* buffered */
        int dfd;                /* O_DIRECT, or -1 where the source has none (FUSE, tmpfs) */
        size_t align;           /* offset, length and buffer alignment O_DIRECT needs */
};

static ssize_t source_read(TSK_IMG_INFO *img, TSK_OFF_T off, char *buf, size_t len)
{
        struct source_img *s = (struct source_img *)img;
        int fd = s->fd;
        if (s->dfd >= 0 && len >= 65536 && off % (TSK_OFF_T)s->align == 0 && len % s->align == 0 &&
            (uintptr_t)buf % s->align == 0)
                fd = s->dfd;
        size_t got = 0;
        while (got < len) {
                ssize_t k = pread(fd, buf + got, len - got, off + (TSK_OFF_T)got);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && errno == EINVAL && fd == s->dfd && s->align < 4096) {
                        s->align *= 2;  /* the device wants coarser alignment: retry buffered */
                        fd = s->fd;
                        continue;
                }
                if (k < 0) {
                        tsk_error_reset();
                        tsk_error_set_errno(TSK_ERR_IMG_READ);
                        tsk_error_set_errstr("read of %zu bytes at offset %lld: %s", len - got,
                                             (long long)(off + (TSK_OFF_T)got), strerror(errno));
                        return -1;
                }
                if (k == 0)
                        break;
                got += (size_t)k;
                /* O_DIRECT ends short only at the end of the device. */
                if (fd == s->dfd && (size_t)k % s->align)
                        break;
        }
        return (ssize_t)got;
}

static void source_close(TSK_IMG_INFO *img)
{
        struct source_img *s = (struct source_img *)img;
        close(s->fd);
        if (s->dfd >= 0)
                close(s->dfd);
        free(s);
}

static void source_imgstat(TSK_IMG_INFO *img, FILE *f)
{
        fprintf(f, "raw source, %lld bytes\n", (long long)img->size);
}

static TSK_IMG_INFO *source_open(const char *path, char *err, size_t err_size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                snprintf(err, err_size, "%s: cannot open device or image: %s", path, strerror(errno));
                return NULL;
        }
        struct stat st;
        uint64_t size = 0;
        if (fstat(fd, &st) < 0 || (S_ISBLK(st.st_mode) ? ioctl(fd, BLKGETSIZE64, &size) < 0
                                                        : (size = (uint64_t)st.st_size, !S_ISREG(st.st_mode)))) {
                snprintf(err, err_size, "%s: not a block device or image file", path);
                close(fd);
                return NULL;
        }
        if (size == 0) {
                snprintf(err, err_size, "%s: cannot open device or image: it is empty (no medium?)", path);
                close(fd);
                return NULL;
        }
        struct source_img *s = calloc(1, sizeof(*s));
        if (!s) {
                close(fd);
                snprintf(err, err_size, "%s: out of memory", path);
                return NULL;
        }
        s->fd = fd;
        s->dfd = open(path, O_RDONLY | O_DIRECT | O_CLOEXEC);
        int ssz = 0;
        s->align = S_ISBLK(st.st_mode) && ioctl(fd, BLKSSZGET, &ssz) == 0 && ssz >= 512 ? (size_t)ssz : 512;
        posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
        TSK_IMG_INFO *img = tsk_img_open_external(s, (TSK_OFF_T)size, 0, source_read, source_close, source_imgstat);
        if (!img) {
                char tmp[256];
                tsk_err(tmp, sizeof(tmp), path, "cannot open device or image");
                snprintf(err, err_size, "%s", tmp);
                source_close(&s->img);
        }
        return img;
}

static void tsk_err(char *err, size_t err_size, const char *source, const char *what)
{
        const char *m = tsk_error_get();
        snprintf(err, err_size, "%s: %s: %s", source, what, m && *m ? m : "unknown libtsk error");
        /* tsk error strings end with a newline and can span lines; keep one line. */
        for (char *p = err; *p; p++)
                if (*p == '\n')
                        *p = (p[1] ? ' ' : '\0');
        tsk_error_reset();
}

static bool fs_supported(TSK_FS_TYPE_ENUM t)
{
        return TSK_FS_TYPE_ISFAT(t);    /* FAT12/16/32 and exFAT: what recorders use */
}

static TSK_WALK_RET_ENUM find_part(TSK_VS_INFO *vs, const TSK_VS_PART_INFO *part, void *ptr)
{
        struct volume *v = ptr;
        TSK_FS_INFO *fs = tsk_fs_open_vol(part, TSK_FS_TYPE_DETECT);
        if (!fs) {
                tsk_error_reset();
                return TSK_WALK_CONT;
        }
        v->fs = fs;
        return TSK_WALK_STOP;
}

int volume_open(const char *source, struct volume **out, char *err, size_t err_size)
{
        struct volume *v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->source = xstrdup(source);
        /* Opened O_RDONLY, as a raw device: a recorder is one, and no
         * VMDK/VHD/EWF parsers face its bytes. */
        v->img = source_open(source, err, err_size);
        if (!v->img) {
                volume_close(v);
                return -ENOENT;
        }
        v->fs = tsk_fs_open_img(v->img, 0, TSK_FS_TYPE_DETECT);
        if (!v->fs) {
                char first[512];
                tsk_err(first, sizeof(first), source, "no FAT32 or exFAT filesystem found (unknown or corrupt volume)");
                /* A whole disk with a partition table: use its first readable filesystem. */
                v->vs = tsk_vs_open(v->img, 0, TSK_VS_TYPE_DETECT);
                if (v->vs)
                        tsk_vs_part_walk(v->vs, 0, v->vs->part_count - 1, TSK_VS_PART_FLAG_ALLOC, find_part, v);
                tsk_error_reset();
                if (!v->fs) {
                        snprintf(err, err_size, "%s", first);
                        volume_close(v);
                        return -EMEDIUMTYPE;
                }
        }
        if (!fs_supported(v->fs->ftype)) {
                snprintf(err, err_size, "%s: filesystem %s is not a recorder filesystem (FAT or exFAT expected)",
                         source, tsk_fs_type_toname(v->fs->ftype));
                volume_close(v);
                return -EMEDIUMTYPE;
        }
        *out = v;
        return 0;
}

void volume_close(struct volume *v)
{
        if (!v)
                return;
        if (v->fs)
                tsk_fs_close(v->fs);
        if (v->vs)
                tsk_vs_close(v->vs);
        if (v->img)
                tsk_img_close(v->img);
        free(v->source);
        free(v);
}

const char *volume_fs_type(struct volume *v)
{
        return tsk_fs_type_toname(v->fs->ftype);
}

struct walk {
        struct volume *v;
        struct volume_listing *l;
        size_t cap_files, cap_deleted;
};

static bool is_fs_internal(const TSK_FS_FILE *f, const char *parent)
{
        const char *name = f->name->name;
        if (f->name->type == TSK_FS_NAME_TYPE_VIRT || f->name->type == TSK_FS_NAME_TYPE_VIRT_DIR)
                return true;    /* $MBR, $FAT1, $OrphanFiles: libtsk's own views */
        if (parent[0] != '\0')
                return false;   /* the entries below exist only in the root directory */
        size_t n = strlen(name);
        static const char label[] = " (Volume Label Entry)";
        if (n >= sizeof(label) - 1 && strcmp(name + n - (sizeof(label) - 1), label) == 0)
                return true;
        /* exFAT's allocation bitmap and up-case table are directory entries of
         * their own type, which libtsk names with a '$'. */
        return strcmp(name, "$ALLOC_BITMAP") == 0 || strcmp(name, "$UPCASE_TABLE") == 0 ||
               strcmp(name, "$TEXFAT") == 0 || strcmp(name, "$ACT") == 0;
}

static void fill_times(struct volume_entry *e, const TSK_FS_META *m)
{
        e->mtime = m ? m->mtime : 0;
        time_device_iso(m ? m->mtime : 0, e->times.mtime, sizeof(e->times.mtime));
        time_device_iso(m ? m->crtime : 0, e->times.ctime, sizeof(e->times.ctime));
        time_device_iso(m ? m->atime : 0, e->times.atime, sizeof(e->times.atime));
}

static TSK_WALK_RET_ENUM walk_cb(TSK_FS_FILE *f, const char *parent, void *ptr)
{
        struct walk *w = ptr;
        if (!f->name || TSK_FS_ISDOT(f->name->name))
                return TSK_WALK_CONT;
        if (is_fs_internal(f, parent)) {
                w->l->n_skipped++;
                return TSK_WALK_CONT;
        }
        bool is_reg = f->name->type == TSK_FS_NAME_TYPE_REG ||
                      (f->name->type == TSK_FS_NAME_TYPE_UNDEF && f->meta && f->meta->type == TSK_FS_META_TYPE_REG);
        if (!is_reg)
                return TSK_WALK_CONT;   /* directories are walked, not recorded */
        bool deleted = (f->name->flags & TSK_FS_NAME_FLAG_UNALLOC) != 0;

        struct volume_entry **arr = deleted ? &w->l->deleted : &w->l->files;
        size_t *n = deleted ? &w->l->n_deleted : &w->l->n_files;
        size_t *cap = deleted ? &w->cap_deleted : &w->cap_files;
        if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 64;
                struct volume_entry *p = realloc(*arr, *cap * sizeof(**arr));
                if (!p)
                        return TSK_WALK_ERROR;
                *arr = p;
        }
        struct volume_entry *e = &(*arr)[(*n)++];
        memset(e, 0, sizeof(*e));
        e->path = xasprintf("/%s%s", parent, f->name->name);
        e->inum = f->name->meta_addr;
        e->size = f->meta ? f->meta->size : 0;
        fill_times(e, f->meta);
        return TSK_WALK_CONT;
}

static int cmp_entry(const void *a, const void *b)
{
        return strcmp(((const struct volume_entry *)a)->path, ((const struct volume_entry *)b)->path);
}

int volume_list(struct volume *v, struct volume_listing *out, char *err, size_t err_size)
{
        memset(out, 0, sizeof(*out));
        struct walk w = { .v = v, .l = out };
        /* NOORPHAN: the orphan hunt scans every inode of the volume; recorders
         * keep their footage in directories, and deleted directory entries are
         * found by walking the directories themselves. */
        if (tsk_fs_dir_walk(v->fs, v->fs->root_inum,
                            TSK_FS_DIR_WALK_FLAG_RECURSE | TSK_FS_DIR_WALK_FLAG_ALLOC |
                            TSK_FS_DIR_WALK_FLAG_UNALLOC | TSK_FS_DIR_WALK_FLAG_NOORPHAN,
                            walk_cb, &w) != 0) {
                tsk_err(err, err_size, v->source, "cannot walk the directory tree (corrupt volume?)");
                volume_listing_free(out);
                return -EIO;
        }
        if (out->n_files)
                qsort(out->files, out->n_files, sizeof(*out->files), cmp_entry);
        if (out->n_deleted)
                qsort(out->deleted, out->n_deleted, sizeof(*out->deleted), cmp_entry);
        return 0;
}

void volume_listing_free(struct volume_listing *l)
{
        for (size_t i = 0; i < l->n_files; i++)
                free(l->files[i].path);
        for (size_t i = 0; i < l->n_deleted; i++)
                free(l->deleted[i].path);
        free(l->files);
        free(l->deleted);
        memset(l, 0, sizeof(*l));
}

int volume_file_open(struct volume *v, const struct volume_entry *e, struct volume_file **out,
                     char *err, size_t err_size)
{
        TSK_FS_FILE *f = tsk_fs_file_open_meta(v->fs, NULL, e->inum);
        if (!f) {
                tsk_err(err, err_size, v->source, "cannot open file entry");
                return -EIO;
        }
        if (!f->meta || f->meta->size != e->size) {
                snprintf(err, err_size, "%s: %s changed on the device since it was listed", v->source, e->path);
                tsk_fs_file_close(f);
                return -ESTALE;
        }
        struct volume_file *vf = xmalloc(sizeof(*vf));
        vf->v = v;
        vf->file = f;
        *out = vf;
        return 0;
}

ssize_t volume_file_read(struct volume_file *f, int64_t off, void *buf, size_t n, char *err, size_t err_size)
{
        if (off >= f->file->meta->size)
                return 0;
        ssize_t k = tsk_fs_file_read(f->file, off, buf, n, TSK_FS_FILE_READ_FLAG_NONE);
        if (k <= 0) {
                tsk_err(err, err_size, f->v->source, "read failed");
                return -EIO;
        }
        return k;
}

void volume_file_close(struct volume_file *f)
{
        if (!f)
                return;
        tsk_fs_file_close(f->file);
        free(f);
}
