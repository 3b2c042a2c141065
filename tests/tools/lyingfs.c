/* lyingfs — a FUSE passthrough of a directory whose reads can lie: the test's
 * stand-in for a storage target that acknowledges a write and later returns
 * other bytes (a failing disk, a bad cable, firmware that loses a cached
 * write). Writes, renames, fsync and the rest reach the backing directory
 * unchanged; only what a read returns is altered.
 *
 *   lyingfs BACKING_DIR MOUNTPOINT [FUSE options]   (foreground; fusermount -u)
 *   LYINGFS_LIE=PATH   while PATH exists, every read of a file flips the lowest
 *                      bit of the first byte it returns
 *   LYINGFS_LOG=PATH   append "OFFSET LENGTH" for every read that lied
 *
 * Mounted with direct_io, so every read(2) of a file reaches this process: the
 * kernel's page cache cannot hide the lie, as a disk's own cache would not.
 */
#define FUSE_USE_VERSION 26
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <unistd.h>

static const char *backing;
static const char *lie_path;
static const char *log_path;

static int full(const char *path, char *out)
{
        if (snprintf(out, PATH_MAX, "%s%s", backing, path) >= PATH_MAX)
                return -ENAMETOOLONG;
        return 0;
}

#define FULL(p)                                                                                                        \
        char real[PATH_MAX];                                                                                           \
        int fr_ = full((p), real);                                                                                     \
        if (fr_ < 0)                                                                                                   \
        return fr_

static int ret(int r) { return r < 0 ? -errno : 0; }

static int ly_getattr(const char *p, struct stat *st)
{
        FULL(p);
        return ret(lstat(real, st));
}
static int ly_access(const char *p, int mode)
{
        FULL(p);
        return ret(access(real, mode));
}
static int ly_mkdir(const char *p, mode_t m)
{
        FULL(p);
        return ret(mkdir(real, m));
}
static int ly_rmdir(const char *p)
{
        FULL(p);
        return ret(rmdir(real));
}
static int ly_unlink(const char *p)
{
        FULL(p);
        return ret(unlink(real));
}
static int ly_chmod(const char *p, mode_t m)
{
        FULL(p);
        return ret(chmod(real, m));
}
static int ly_chown(const char *p, uid_t u, gid_t g)
{
        FULL(p);
        return ret(lchown(real, u, g));
}
static int ly_truncate(const char *p, off_t size)
{
        FULL(p);
        return ret(truncate(real, size));
}
static int ly_statfs(const char *p, struct statvfs *st)
{
        FULL(p);
        return ret(statvfs(real, st));
}

static int ly_utimens(const char *p, const struct timespec tv[2])
{
        FULL(p);
        return ret(utimensat(AT_FDCWD, real, tv, AT_SYMLINK_NOFOLLOW));
}

static int ly_rename(const char *from, const char *to)
{
        char a[PATH_MAX], b[PATH_MAX];
        if (full(from, a) < 0 || full(to, b) < 0)
                return -ENAMETOOLONG;
        return ret(rename(a, b));
}

static int ly_link(const char *from, const char *to)
{
        char a[PATH_MAX], b[PATH_MAX];
        if (full(from, a) < 0 || full(to, b) < 0)
                return -ENAMETOOLONG;
        return ret(link(a, b));
}

static int ly_readdir(const char *p, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi)
{
        (void)off;
        (void)fi;
        FULL(p);
        DIR *d = opendir(real);
        if (!d)
                return -errno;
        struct dirent *e;
        while ((e = readdir(d)))
                if (fill(buf, e->d_name, NULL, 0))
                        break;
        closedir(d);
        return 0;
}

static int ly_fsyncdir(const char *p, int datasync, struct fuse_file_info *fi)
{
        (void)datasync;
        (void)fi;
        FULL(p);
        int fd = open(real, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return -errno;
        int r = ret(fsync(fd));
        close(fd);
        return r;
}

static int ly_open(const char *p, struct fuse_file_info *fi)
{
        FULL(p);
        int fd = open(real, fi->flags & ~O_DIRECT);
        if (fd < 0)
                return -errno;
        fi->fh = (uint64_t)fd;
        fi->direct_io = 1;
        return 0;
}

static int ly_create(const char *p, mode_t mode, struct fuse_file_info *fi)
{
        FULL(p);
        int fd = open(real, (fi->flags & ~O_DIRECT) | O_CREAT, mode);
        if (fd < 0)
                return -errno;
        fi->fh = (uint64_t)fd;
        fi->direct_io = 1;
        return 0;
}

static int ly_read(const char *p, char *buf, size_t n, off_t off, struct fuse_file_info *fi)
{
        (void)p;
        ssize_t k = pread((int)fi->fh, buf, n, off);
        if (k < 0)
                return -errno;
        if (k > 0 && lie_path && access(lie_path, F_OK) == 0) {
                buf[0] ^= 1;
                FILE *f = log_path ? fopen(log_path, "a") : NULL;
                if (f) {
                        fprintf(f, "%lld %zd\n", (long long)off, k);
                        fclose(f);
                }
        }
        return (int)k;
}

static int ly_write(const char *p, const char *buf, size_t n, off_t off, struct fuse_file_info *fi)
{
        (void)p;
        ssize_t k = pwrite((int)fi->fh, buf, n, off);
        return k < 0 ? -errno : (int)k;
}

static int ly_ftruncate(const char *p, off_t size, struct fuse_file_info *fi)
{
        (void)p;
        return ret(ftruncate((int)fi->fh, size));
}

static int ly_fgetattr(const char *p, struct stat *st, struct fuse_file_info *fi)
{
        (void)p;
        return ret(fstat((int)fi->fh, st));
}

static int ly_fsync(const char *p, int datasync, struct fuse_file_info *fi)
{
        (void)p;
        return ret(datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh));
}

static int ly_fallocate(const char *p, int mode, off_t off, off_t len, struct fuse_file_info *fi)
{
        (void)p;
        return ret(fallocate((int)fi->fh, mode, off, len));
}

static int ly_release(const char *p, struct fuse_file_info *fi)
{
        (void)p;
        close((int)fi->fh);
        return 0;
}

static struct fuse_operations ops = {
        .getattr = ly_getattr,
        .fgetattr = ly_fgetattr,
        .access = ly_access,
        .readdir = ly_readdir,
        .mkdir = ly_mkdir,
        .rmdir = ly_rmdir,
        .unlink = ly_unlink,
        .rename = ly_rename,
        .link = ly_link,
        .chmod = ly_chmod,
        .chown = ly_chown,
        .truncate = ly_truncate,
        .ftruncate = ly_ftruncate,
        .utimens = ly_utimens,
        .open = ly_open,
        .create = ly_create,
        .read = ly_read,
        .write = ly_write,
        .statfs = ly_statfs,
        .fsync = ly_fsync,
        .fsyncdir = ly_fsyncdir,
        .fallocate = ly_fallocate,
        .release = ly_release,
};

int main(int argc, char **argv)
{
        if (argc < 3) {
                fprintf(stderr, "usage: lyingfs BACKING_DIR MOUNTPOINT [FUSE options]\n");
                return 2;
        }
        static char abs_backing[PATH_MAX];
        if (!realpath(argv[1], abs_backing)) {
                fprintf(stderr, "lyingfs: %s: %m\n", argv[1]);
                return 1;
        }
        backing = abs_backing;
        lie_path = getenv("LYINGFS_LIE");
        log_path = getenv("LYINGFS_LOG");
        umask(0);
        char *fargv[16];
        int fargc = 0;
        fargv[fargc++] = argv[0];
        fargv[fargc++] = argv[2];
        fargv[fargc++] = "-f";
        fargv[fargc++] = "-o";
        fargv[fargc++] = "default_permissions,allow_other";
        for (int i = 3; i < argc && fargc < 15; i++)
                fargv[fargc++] = argv[i];
        fargv[fargc] = NULL;
        return fuse_main(fargc, fargv, &ops, NULL);
}
