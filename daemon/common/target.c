/* target.c — storage target directories, layout and durable placement. */
#include "target.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>
#include <linux/fscrypt.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <time.h>

#include "log.h"
#include "s3.h"
#include "util.h"

#define MARKER ".dockd-target"
#define NAME_MAX_BYTES 255 /* ext4, xfs, btrfs */

char *target_marker_text(const char *name, const char *catalog_id)
{
        return xasprintf("dockd storage target\nname=%s\ncatalog=%s\n", name, catalog_id);
}

static int write_marker(const char *path, const char *name, const char *catalog_id)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid()); /* two ingests may write it at once */
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return -errno;
        _cleanup_free_ char *body = target_marker_text(name, catalog_id);
        int r = pwrite_full(fd, body, strlen(body), 0);
        if (r < 0)
                return r;
        if (fsync(fd) < 0)
                return -errno;
        if (rename(tmp, path) < 0)
                return -errno;
        return fsync_parent(path);
}

/* The marker's target name, and the identity of the catalog that keeps the
 * ledger of its copies (empty in markers from before catalogs had one). */
static int read_marker(const char *path, char *name, size_t size, char catalog_id[33])
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        char text[1024];
        size_t n = fread(text, 1, sizeof(text) - 1, f);
        text[n] = '\0';
        return target_marker_parse(text, name, size, catalog_id);
}

int target_marker_parse(const char *text, char *name, size_t size, char catalog_id[33])
{
        bool named = false;
        if (catalog_id)
                catalog_id[0] = '\0';
        for (const char *line = text; *line; line += strcspn(line, "\n") + (line[strcspn(line, "\n")] == '\n')) {
                size_t len = strcspn(line, "\n");
                if (len > 5 && strncmp(line, "name=", 5) == 0) {
                        snprintf(name, size, "%.*s", (int)(len - 5), line + 5);
                        named = true;
                } else if (len >= 8 && strncmp(line, "catalog=", 8) == 0 && catalog_id) {
                        snprintf(catalog_id, 33, "%.*s", (int)(len - 8 < 32 ? len - 8 : 32), line + 8);
                }
        }
        return named ? 0 : -EBADMSG;
}

static int read_marker_name(const char *path, char *name, size_t size) { return read_marker(path, name, size, NULL); }

/* Does the tree hold anything but the marker and dockd's own directories? */
static bool holds_copies(const char *root)
{
        DIR *d = opendir(root);
        if (!d)
                return false;
        struct dirent *e;
        bool any = false;
        while (!any && (e = readdir(d)))
                any = strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, MARKER) &&
                      strcmp(e->d_name, ".partial") && strcmp(e->d_name, ".quarantine") &&
                      strcmp(e->d_name, "lost+found");
        closedir(d);
        return any;
}

int target_root_check(const char *root, const char *name, char *err, size_t err_size)
{
        _cleanup_free_ char *marker = xasprintf("%s/" MARKER, root);
        char found[128];
        int r = read_marker_name(marker, found, sizeof(found));
        if (r < 0) {
                snprintf(err, err_size, "target %s: %s holds no %s marker (%s): is its filesystem mounted?", name, root,
                         MARKER, strerror(-r));
                return -ENODEV;
        }
        if (strcmp(found, name) != 0) {
                snprintf(err, err_size, "target %s: the marker in %s names target '%s'", name, root, found);
                return -EXDEV;
        }
        return 0;
}

int target_copy_destroy(const char *root, const char *name, const char *relpath, char *err, size_t err_size)
{
        int r = target_root_check(root, name, err, err_size);
        if (r < 0)
                return r;
        _cleanup_free_ char *path = xasprintf("%s/%s", root, relpath);
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0) {
                r = -errno;
                snprintf(err, err_size, "target %s: %s: %s", name, relpath, strerror(-r));
                return r;
        }
        struct stat st;
        _cleanup_free_ char *zero = calloc(1, 1u << 20);
        if (fstat(fd, &st) < 0 || !zero) {
                snprintf(err, err_size, "target %s: %s: %s", name, relpath, zero ? strerror(errno) : "out of memory");
                return zero ? -errno : -ENOMEM;
        }
        for (off_t off = 0; off < st.st_size;) {
                size_t k = st.st_size - off < (off_t)(1u << 20) ? (size_t)(st.st_size - off) : 1u << 20;
                if ((r = pwrite_full(fd, zero, k, off)) < 0) {
                        snprintf(err, err_size, "target %s: %s: overwriting: %s", name, relpath, strerror(-r));
                        return r;
                }
                off += (off_t)k;
        }
        if (fdatasync(fd) < 0 || unlink(path) < 0 || (r = fsync_parent(path)) < 0) {
                r = r < 0 ? r : -errno;
                snprintf(err, err_size, "target %s: %s: %s", name, relpath, strerror(-r));
                return r;
        }
        return 0;
}

int target_apart(const struct config *cfg, size_t i, const bool *opened, char *warn, size_t warn_size, char *err,
                 size_t err_size)
{
        const struct target_conf *b = &cfg->targets[i];
        struct stat sb;
        warn[0] = '\0';
        if (b->type != TARGET_FS)
                return 0; /* a bucket: config refuses one place twice */
        if (stat(b->path, &sb) < 0) {
                /* An embedded target not made yet lands in its parent's filesystem. */
                _cleanup_free_ char *parent = xstrdup(b->path);
                char *slash = strrchr(parent, '/');
                if (!b->create || !slash || slash == parent)
                        return 0; /* target_open says what is wrong with it */
                *slash = '\0';
                if (stat(parent, &sb) < 0)
                        return 0;
        }
        for (size_t j = 0; j < i; j++) {
                const struct target_conf *a = &cfg->targets[j];
                struct stat sa;
                if (!opened[j] || a->type != TARGET_FS || stat(a->path, &sa) < 0 || sa.st_dev != sb.st_dev)
                        continue;
                bool embedded = a->create && b->create;
                if (cfg->allow_same_filesystem || embedded) {
                        snprintf(warn, warn_size,
                                 "targets %s and %s are on one filesystem (%s): the two copies would be "
                                 "lost together with that disk%s",
                                 a->name, b->name, a->path,
                                 embedded ? " (the embedded defaults: configure two targets on two disks)"
                                          : " ([station] allow_same_filesystem = yes)");
                        continue;
                }
                snprintf(err, err_size,
                         "target %s (%s) is on the same filesystem as target %s (%s): two copies on one disk "
                         "are lost together, so no copy is made there. If its own disk is not mounted, mount it; if it "
                         "is "
                         "meant to be there (a demo, a test), set [station] allow_same_filesystem = yes",
                         b->name, b->path, a->name, a->path);
                return -EXDEV;
        }
        return 0;
}

int target_probe(const struct target_conf *tc, int64_t *free_bytes, char *err, size_t err_size)
{
        struct statvfs vfs;
        *free_bytes = -1;
        if (tc->type == TARGET_S3) { /* reachable, versioned, locked; free space is the cluster's */
                struct target t;
                int r = target_s3_open(&t, tc, err, err_size);
                if (r == 0)
                        target_close(&t);
                return r;
        }
        if (statvfs(tc->path, &vfs) < 0) {
                snprintf(err, err_size, "%s: %s", tc->path, strerror(errno));
                return -errno;
        }
        *free_bytes = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
        _cleanup_free_ char *marker = xasprintf("%s/" MARKER, tc->path);
        char name[128];
        int r = read_marker_name(marker, name, sizeof(name));
        if (r < 0) {
                snprintf(err, err_size, "%s: no %s marker (%s): not mounted?", tc->path, MARKER, strerror(-r));
                return r;
        }
        if (strcmp(name, tc->name) != 0) {
                snprintf(err, err_size, "%s: the marker names target '%s', not '%s'", tc->path, name, tc->name);
                return -EXDEV;
        }
        if (access(tc->path, W_OK) < 0 || (vfs.f_flag & ST_RDONLY)) {
                snprintf(err, err_size, "%s: read-only", tc->path);
                return -EROFS;
        }
        return 0;
}

int target_open_dir(struct target *t, const struct target_conf *tc, int64_t id, char *err, size_t err_size)
{
        memset(t, 0, sizeof(*t));
        struct stat st;
        int r;
        if (stat(tc->path, &st) < 0) {
                if (errno != ENOENT || !tc->create) {
                        r = -errno;
                        snprintf(err, err_size, "target %s: %s: %s", tc->name, tc->path, strerror(-r));
                        return r;
                }
                if ((r = mkdir_p(tc->path, 0750)) < 0) {
                        snprintf(err, err_size, "target %s: cannot create %s: %s", tc->name, tc->path, strerror(-r));
                        return r;
                }
        } else if (!S_ISDIR(st.st_mode)) {
                snprintf(err, err_size, "target %s: %s is not a directory", tc->name, tc->path);
                return -ENOTDIR;
        }
        t->ops = &target_fs_ops;
        t->id = id;
        t->name = xstrdup(tc->name);
        t->root = xstrdup(tc->path);
        t->partial_dir = xasprintf("%s/.partial", tc->path);
        return 0;
}

int target_ready(struct target *t, char *err, size_t err_size)
{
        int r = mkdir_p(t->partial_dir, 0750);
        if (r < 0)
                snprintf(err, err_size, "target %s: cannot create %s: %s", t->name, t->partial_dir, strerror(-r));
        return r;
}

int target_marker_read(const struct target_conf *tc, char *name, size_t size, char catalog_id[33])
{
        if (tc->type == TARGET_S3)
                return target_s3_marker_read(tc, name, size, catalog_id);
        _cleanup_free_ char *marker = xasprintf("%s/" MARKER, tc->path);
        return read_marker(marker, name, size, catalog_id);
}

int target_marker_write(const struct target_conf *tc, const char *catalog_id)
{
        if (tc->type == TARGET_S3)
                return target_s3_marker_write(tc, catalog_id);
        _cleanup_free_ char *marker = xasprintf("%s/" MARKER, tc->path);
        return write_marker(marker, tc->name, catalog_id);
}

bool target_holds_copies(const struct target_conf *tc)
{
        return tc->type == TARGET_S3 ? target_s3_holds_copies(tc) : holds_copies(tc->path);
}

void target_close(struct target *t)
{
        if (t->s3) {
                s3_close(t->s3);
                free(t->s3);
        }
        free(t->name);
        free(t->root);
        free(t->partial_dir);
        memset(t, 0, sizeof(*t));
}

char *target_partial_path(const struct target *t, int64_t rec_id)
{
        return xasprintf("%s/rec-%lld.part", t->partial_dir, (long long)rec_id);
}

/* Length of the longest prefix of s (at most max bytes) that ends on a UTF-8 boundary. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
        if (len <= max)
                return len;
        size_t n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
                n--;
        return n;
}

/* One path component made safe for the target filesystem: no control bytes,
 * no "." or "..", at most NAME_MAX_BYTES bytes, extension kept when cut. */
static char *safe_component(const char *s, size_t len, unsigned attempt)
{
        char *c = xmalloc(len + 1);
        for (size_t i = 0; i < len; i++) {
                unsigned char ch = (unsigned char)s[i];
                c[i] = (ch < 0x20 || ch == 0x7f || ch == '/') ? '_' : (char)ch;
        }
        c[len] = '\0';
        if (strcmp(c, ".") == 0 || strcmp(c, "..") == 0 || len == 0) {
                free(c);
                c = xstrdup("_");
                len = 1;
        }
        char suffix[16] = "";
        if (attempt)
                snprintf(suffix, sizeof(suffix), " ~%u", attempt + 1);
        /* Cut only what NAME_MAX forces, keeping the extension (up to 16 bytes). */
        size_t budget = NAME_MAX_BYTES - strlen(suffix);
        const char *dot = attempt || len > budget ? strrchr(c, '.') : NULL;
        size_t ext_len = dot && dot != c && strlen(dot) <= 16 ? strlen(dot) : 0;
        size_t stem_len = utf8_cut(c, len - ext_len, budget - ext_len);
        char *out = xasprintf("%.*s%s%s", (int)stem_len, c, suffix, c + len - ext_len);
        free(c);
        return out;
}

char *target_serial_component(const char *serial) { return safe_component(serial, strlen(serial), 0); }

char *target_layout_relpath(const char *serial, int64_t device_mtime, const char *device_path, unsigned attempt)
{
        time_t tt = (time_t)device_mtime;
        struct tm tm;
        char date[32] = "undated";
        if (gmtime_r(&tt, &tm) && tm.tm_year + 1900 >= 1980)
                strftime(date, sizeof(date), "%Y/%m/%d", &tm);
        _cleanup_free_ char *dev = safe_component(serial, strlen(serial), 0);
        size_t cap = strlen(date) + strlen(dev) + strlen(device_path) * 2 + 64;
        char *out = xmalloc(cap);
        int n = snprintf(out, cap, "%s/%s", date, dev);
        const char *p = device_path;
        while (*p) {
                while (*p == '/')
                        p++;
                if (!*p)
                        break;
                size_t len = strcspn(p, "/");
                bool last = p[len] == '\0';
                _cleanup_free_ char *comp = safe_component(p, len, last ? attempt : 0);
                size_t need = (size_t)n + strlen(comp) + 2;
                if (need > cap) {
                        cap = need * 2;
                        char *q = realloc(out, cap);
                        if (!q)
                                abort();
                        out = q;
                }
                n += snprintf(out + n, cap - (size_t)n, "/%s", comp);
                p += len;
        }
        return out;
}

int target_place(const struct target *t, const char *partial, const char *relpath)
{
        _cleanup_free_ char *final = xasprintf("%s/%s", t->root, relpath);
        _cleanup_free_ char *dir = xstrdup(final);
        *strrchr(dir, '/') = '\0';
        int r = mkdir_p(dir, 0750);
        if (r < 0)
                return r;
        /* RENAME_NOREPLACE: a copy, once placed, is never overwritten by anyone. */
        if (renameat2(AT_FDCWD, partial, AT_FDCWD, final, RENAME_NOREPLACE) < 0) {
                if (errno != EINVAL)
                        return -errno;
                /* Filesystem without RENAME_NOREPLACE: link() fails on an existing name too. */
                if (link(partial, final) == 0) {
                        if (unlink(partial) < 0)
                                return -errno;
                } else if (errno == EPERM || errno == EOPNOTSUPP || errno == ENOSYS || errno == EMLINK) {
                        /* No hard links either (exFAT, FAT): the name is taken with
                         * O_EXCL, which fails on an existing file, and then our own
                         * empty placeholder is the only file the rename replaces.
                         * Only dockd writes into a target, one device at a time. */
                        int fd = open(final, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
                        if (fd < 0)
                                return -errno;
                        close(fd);
                        if (rename(partial, final) < 0) {
                                r = -errno;
                                unlink(final);
                                return r;
                        }
                } else {
                        return -errno;
                }
        }
        if ((r = fsync_dir(dir)) < 0)
                return r;
        return fsync_dir(t->partial_dir);
}

int target_hash_into(const char *path, int64_t len, EVP_MD_CTX *ctx, const char **method)
{
        const size_t bufsize = 4u << 20;
        bool direct;
        _cleanup_close_ int fd = open_past_cache(path, O_RDONLY, 0, &direct);
        *method = direct ? "o_direct" : "fadvise";
        if (fd < 0)
                return fd;
        _cleanup_free_ void *buf = NULL;
        if (posix_memalign(&buf, 4096, bufsize) != 0)
                return -ENOMEM;
        int64_t off = 0;
        int r = 0;
        while (len < 0 || off < len) {
                ssize_t k = pread(fd, buf, bufsize, off);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = -errno;
                        break;
                }
                if (k == 0)
                        break;
                size_t use = (size_t)k;
                if (len >= 0 && (int64_t)use > len - off)
                        use = (size_t)(len - off);
                EVP_DigestUpdate(ctx, buf, use);
                off += (int64_t)use;
                /* O_DIRECT returns a count off the block grid only at end of file;
                 * reading on from there would be an unaligned (EINVAL) read. */
                if (k % 4096 != 0)
                        break;
        }
        if (r == 0 && len >= 0 && off < len)
                r = -ENODATA; /* shorter than it must be */
        return r;
}

int target_hash_file(const char *path, int64_t len, char out_hex[65], const char **method)
{
        EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
                EVP_MD_CTX_free(ctx);
                return -ENOMEM;
        }
        int r = target_hash_into(path, len, ctx, method);
        unsigned char md[32];
        unsigned mdlen;
        EVP_DigestFinal_ex(ctx, md, &mdlen);
        EVP_MD_CTX_free(ctx);
        hex_encode(md, 32, out_hex);
        return r;
}

int target_place_copy(const struct target *t, const char *partial, const char *serial, int64_t device_mtime,
                      const char *device_path, const char *sha256,
                      int (*taken)(void *ud, const struct target *t, const char *rel, bool *taken), void *ud,
                      char **relpath_out, bool *adopted)
{
        *adopted = false;
        for (unsigned attempt = 0; attempt < TARGET_NAME_ATTEMPTS; attempt++) {
                _cleanup_free_ char *rel = target_layout_relpath(serial, device_mtime, device_path, attempt);
                bool in_ledger = false;
                int r = taken(ud, t, rel, &in_ledger);
                if (r < 0)
                        return r;
                if (in_ledger)
                        continue;
                r = target_place(t, partial, rel);
                if (r == -EEXIST) {
                        /* A file the ledger does not know: an earlier run may have
                         * been killed between placing it and recording it. If it is
                         * this very recording (read back past the cache), adopt it. */
                        _cleanup_free_ char *full = xasprintf("%s/%s", t->root, rel);
                        char hex[SHA256_HEX_LEN + 1];
                        const char *method;
                        if (target_hash_file(full, -1, hex, &method) == 0 && strcmp(hex, sha256) == 0) {
                                if (unlink(partial) < 0 || (r = fsync_dir(t->partial_dir)) < 0)
                                        return r < 0 ? r : -errno;
                                *adopted = true;
                                *relpath_out = rel;
                                rel = NULL;
                                return 0;
                        }
                        continue;
                }
                if (r < 0)
                        return r;
                *relpath_out = rel;
                rel = NULL;
                return 0;
        }
        return -EEXIST;
}

/* The filesystem target's operations on copies it holds. */
static int fs_check(struct target *t, char *err, size_t err_size)
{
        return target_root_check(t->root, t->name, err, err_size);
}

static int fs_hash(struct target *t, const struct copy_ref *k, int64_t size, char out_hex[65], const char **method,
                   char *err, size_t err_size)
{
        _cleanup_free_ char *abs = xasprintf("%s/%s", t->root, k->path);
        int r = target_hash_file(abs, size, out_hex, method);
        if (r < 0)
                snprintf(err, err_size, "%s", strerror(-r));
        return r;
}

static int fs_fetch(struct target *t, const struct copy_ref *k, int fd, char *err, size_t err_size)
{
        _cleanup_free_ char *abs = xasprintf("%s/%s", t->root, k->path);
        _cleanup_close_ int in = open(abs, O_RDONLY | O_CLOEXEC);
        if (in < 0) {
                snprintf(err, err_size, "%s: %s", abs, strerror(errno));
                return -errno;
        }
        _cleanup_free_ char *buf = xmalloc(4u << 20);
        for (off_t off = 0;;) {
                ssize_t n = pread_full(in, buf, 4u << 20, off);
                int r = n < 0 ? (int)n : n > 0 ? pwrite_full(fd, buf, (size_t)n, off) : 0;
                if (r < 0) {
                        snprintf(err, err_size, "%s: %s", abs, strerror(-r));
                        return r;
                }
                if (n == 0)
                        return 0;
                off += n;
        }
}

static int fs_destroy(struct target *t, const struct copy_ref *k, char *err, size_t err_size)
{
        return target_copy_destroy(t->root, t->name, k->path, err, err_size);
}

static int fs_destroyable(struct target *t, const struct copy_ref *k, char *err, size_t err_size)
{
        (void)k;
        return fs_check(t, err, err_size); /* its disk mounted: never an empty mount point */
}

const struct target_ops target_fs_ops = { .type = "fs",
                                          .check = fs_check,
                                          .hash = fs_hash,
                                          .fetch = fs_fetch,
                                          .destroyable = fs_destroyable,
                                          .destroy = fs_destroy };

int target_open_existing(struct target *t, const struct target_conf *tc, char *err, size_t err_size)
{
        if (tc->type == TARGET_S3)
                return target_s3_open(t, tc, err, err_size);
        memset(t, 0, sizeof(*t));
        t->ops = &target_fs_ops;
        t->type = TARGET_FS;
        t->name = xstrdup(tc->name);
        t->root = xstrdup(tc->path);
        t->partial_dir = xasprintf("%s/.partial", tc->path);
        return 0;
}

struct target *target_set_get(struct target_set *s, const char *name, char *why, size_t why_size)
{
        for (size_t i = 0; i < s->cfg->n_targets; i++) {
                if (strcmp(s->cfg->targets[i].name, name) != 0)
                        continue;
                if (!s->opened[i]) {
                        s->opened[i] = true;
                        s->rc[i] = target_open_existing(&s->t[i], &s->cfg->targets[i], s->err[i], sizeof(s->err[i]));
                }
                if (s->rc[i] < 0) {
                        snprintf(why, why_size, "%s", s->err[i]);
                        return NULL;
                }
                return &s->t[i];
        }
        snprintf(why, why_size, "target %s is not in the configuration", name);
        return NULL;
}

void target_set_close(struct target_set *s)
{
        for (size_t i = 0; i < DOCKD_MAX_TARGETS; i++)
                if (s->opened[i] && s->rc[i] == 0)
                        target_close(&s->t[i]);
}

/* dm-crypt below the filesystem: the device-mapper device it is on has a
 * CRYPT- uuid (cryptsetup's, LUKS or plain). */
static bool on_dm_crypt(dev_t dev)
{
        _cleanup_free_ char *path = xasprintf("/sys/dev/block/%u:%u/dm/uuid", major(dev), minor(dev));
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        char uuid[160] = "";
        return f && fgets(uuid, sizeof(uuid), f) && strncmp(uuid, "CRYPT-", 6) == 0;
}

int target_encryption(const struct target_conf *tc, char *what, size_t what_size)
{
        if (tc->type == TARGET_S3) {
                if (tc->s3.sse_c_key) {
                        snprintf(what, what_size, "SSE-C (AES256, the key in %s)", tc->s3.sse_c_key);
                        return 1;
                }
                snprintf(what, what_size, "not encrypted by dockd (no sse_c_key)");
                return 0;
        }
        _cleanup_close_ int fd = open(tc->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                snprintf(what, what_size, "%s: %s", tc->path, strerror(errno));
                return -errno;
        }
        struct fscrypt_get_policy_ex_arg arg = { .policy_size = sizeof(arg.policy) };
        if (ioctl(fd, FS_IOC_GET_ENCRYPTION_POLICY_EX, &arg) == 0) {
                unsigned v = arg.policy.version, mode = v == FSCRYPT_POLICY_V2 ? arg.policy.v2.contents_encryption_mode
                                                                               : arg.policy.v1.contents_encryption_mode;
                snprintf(what, what_size, "fscrypt policy v%u on %s (contents mode %u%s)",
                         v == FSCRYPT_POLICY_V2 ? 2 : 1, tc->path, mode,
                         mode == FSCRYPT_MODE_AES_256_XTS ? ": AES-256-XTS" : "");
                return 1;
        }
        int no_policy = errno;
        if (on_dm_crypt(st.st_dev)) {
                snprintf(what, what_size, "dm-crypt below %s", tc->path);
                return 1;
        }
        snprintf(what, what_size, "not encrypted: %s, and its filesystem is not on dm-crypt",
                 no_policy == ENODATA ? "no fscrypt policy on the directory" : "a filesystem without fscrypt");
        return 0;
}
