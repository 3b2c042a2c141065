/* faultyfs — a FUSE filesystem that serves one recorder image as /disk.img
 * and can turn it bad while dockd reads it: the test's stand-in for a USB
 * recorder that is pulled or develops a read error mid-file. The kernel and
 * libtsk see real EIO/ENODEV, not a mock.
 *
 *   faultyfs IMAGE MOUNTPOINT       (foreground; stop with fusermount -u)
 *   FAULTYFS_FAIL=PATH   while PATH exists, every read fails with EIO
 *   FAULTYFS_BPS=N       serve at most N bytes/s (a USB 2.0 link, say)
 */
#define FUSE_USE_VERSION 26
#include <errno.h>
#include <fcntl.h>
#include <fuse.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *image;
static const char *fail_path;
static double bps;
static int image_fd = -1;
static pthread_mutex_t rate_mu = PTHREAD_MUTEX_INITIALIZER;
static double next_free;        /* when the simulated link is idle again */

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fs_getattr(const char *path, struct stat *st)
{
        memset(st, 0, sizeof(*st));
        if (strcmp(path, "/") == 0) {
                st->st_mode = S_IFDIR | 0755;
                st->st_nlink = 2;
                return 0;
        }
        if (strcmp(path, "/disk.img") != 0)
                return -ENOENT;
        struct stat b;
        if (fstat(image_fd, &b) < 0)
                return -errno;
        st->st_mode = S_IFREG | 0444;
        st->st_nlink = 1;
        st->st_size = b.st_size;
        return 0;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill, off_t off, struct fuse_file_info *fi)
{
        (void)off;
        (void)fi;
        if (strcmp(path, "/") != 0)
                return -ENOENT;
        fill(buf, ".", NULL, 0);
        fill(buf, "..", NULL, 0);
        fill(buf, "disk.img", NULL, 0);
        return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
        if (strcmp(path, "/disk.img") != 0)
                return -ENOENT;
        if ((fi->flags & O_ACCMODE) != O_RDONLY)
                return -EROFS;          /* a recorder is evidence: never writable here */
        fi->direct_io = 1;              /* every read reaches us, none served from cache */
        return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
        (void)path;
        (void)fi;
        if (fail_path && access(fail_path, F_OK) == 0)
                return -EIO;
        if (bps > 0) {
                pthread_mutex_lock(&rate_mu);
                double t = now();
                double start = next_free > t ? next_free : t;
                next_free = start + size / bps;
                pthread_mutex_unlock(&rate_mu);
                double wait = next_free - t;
                if (wait > 0) {
                        struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };
                        nanosleep(&ts, NULL);
                }
        }
        ssize_t n = pread(image_fd, buf, size, off);
        return n < 0 ? -errno : (int)n;
}

static struct fuse_operations ops = {
        .getattr = fs_getattr,
        .readdir = fs_readdir,
        .open = fs_open,
        .read = fs_read,
};

int main(int argc, char **argv)
{
        if (argc != 3) {
                fprintf(stderr, "usage: faultyfs IMAGE MOUNTPOINT\n");
                return 2;
        }
        image = argv[1];
        fail_path = getenv("FAULTYFS_FAIL");
        bps = getenv("FAULTYFS_BPS") ? atof(getenv("FAULTYFS_BPS")) : 0;
        image_fd = open(image, O_RDONLY);
        if (image_fd < 0) {
                perror(image);
                return 1;
        }
        char *fargv[] = { argv[0], argv[2], "-f", "-o", "ro,default_permissions,allow_other,max_read=1048576", NULL };
        return fuse_main(5, fargv, &ops, NULL);
}
