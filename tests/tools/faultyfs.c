/* faultyfs — a FUSE filesystem that serves one recorder image as /disk.img
 * and can turn it bad while dockd reads it: the test's stand-in for a USB
 * recorder that is pulled or develops a read error mid-file. The kernel and
 * libtsk see real EIO/ENODEV, not a mock.
 *
 *   faultyfs IMAGE MOUNTPOINT             serves IMAGE as MOUNTPOINT/disk.img
 *   faultyfs -m MOUNTPOINT IMAGE...       serves them as disk1.img, disk2.img, ...
 *                                          (foreground; stop with fusermount -u)
 *   FAULTYFS_FAIL=PATH   while PATH exists, every read fails with EIO
 *   FAULTYFS_BPS=N       serve each image at most N bytes/s (a USB 2.0 link each)
 *   FAULTYFS_BAD=OFF:LEN[,OFF:LEN...]
 *                        bad sectors: any read that touches one of these byte
 *                        ranges fails with EIO, as a card's bad sectors do
 *   FAULTYFS_LOG=PATH    append "NAME PID EPOCH_NS" the first time each process
 *                        reads each image (who read a device, and when first)
 *
 * Images carry the sticky bit: umockdev's mark of a block device node.
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

#define MAX_IMAGES 64

struct image {
        char name[32];
        int fd;
        pthread_mutex_t mu;
        double next_free;   /* when this image's simulated link is idle again */
        pid_t readers[256]; /* processes whose first read is logged */
        int n_readers;
};

static struct image images[MAX_IMAGES];
static int n_images;
static const char *fail_path;
static const char *log_path;
static double bps;
static struct {
        off_t off, len;
} bad[64];
static int n_bad;

/* FUSE names the reading thread; the log names its process. */
static pid_t process_of(pid_t tid)
{
        char path[64], line[128];
        snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
        FILE *f = fopen(path, "r");
        pid_t tgid = tid;
        if (!f)
                return tid;
        while (fgets(line, sizeof(line), f))
                if (sscanf(line, "Tgid: %d", &tgid) == 1)
                        break;
        fclose(f);
        return tgid;
}

static struct image *find(const char *path)
{
        for (int i = 0; i < n_images; i++)
                if (path[0] == '/' && strcmp(path + 1, images[i].name) == 0)
                        return &images[i];
        return NULL;
}

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
        struct image *im = find(path);
        if (!im)
                return -ENOENT;
        struct stat b;
        if (fstat(im->fd, &b) < 0)
                return -errno;
        st->st_mode = S_IFREG | S_ISVTX | 0444;
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
        for (int i = 0; i < n_images; i++)
                fill(buf, images[i].name, NULL, 0);
        return 0;
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
        if (!find(path))
                return -ENOENT;
        if ((fi->flags & O_ACCMODE) != O_RDONLY)
                return -EROFS; /* a recorder is evidence: never writable here */
        fi->direct_io = 1;     /* every read reaches us, none served from cache */
        return 0;
}

static int fs_read(const char *path, char *buf, size_t size, off_t off, struct fuse_file_info *fi)
{
        (void)fi;
        struct image *im = find(path);
        if (!im)
                return -ENOENT;
        if (fail_path && access(fail_path, F_OK) == 0)
                return -EIO;
        for (int i = 0; i < n_bad; i++)
                if (off < bad[i].off + bad[i].len && off + (off_t)size > bad[i].off)
                        return -EIO;
        pthread_mutex_lock(&im->mu);
        double t = now();
        pid_t pid = log_path ? process_of(fuse_get_context()->pid) : 0;
        int seen = 0;
        for (int i = 0; i < im->n_readers; i++)
                seen |= im->readers[i] == pid;
        if (!seen && log_path && im->n_readers < 256) {
                im->readers[im->n_readers++] = pid;
                struct timespec rt;
                clock_gettime(CLOCK_REALTIME, &rt);
                FILE *f = fopen(log_path, "a");
                if (f) {
                        fprintf(f, "%s %d %lld\n", im->name, (int)pid,
                                (long long)rt.tv_sec * 1000000000LL + rt.tv_nsec);
                        fclose(f);
                }
        }
        double wait = 0;
        if (bps > 0) {
                /* A token bucket with 50 ms of slack: the time FUSE itself spends
                 * between requests is not lost from the link's budget. */
                double start = im->next_free > t - 0.05 ? im->next_free : t - 0.05;
                im->next_free = start + size / bps;
                wait = im->next_free - t;
        }
        pthread_mutex_unlock(&im->mu);
        if (wait > 0) {
                struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };
                nanosleep(&ts, NULL);
        }
        ssize_t n = pread(im->fd, buf, size, off);
        return n < 0 ? -errno : (int)n;
}

static int fs_chmod(const char *path, mode_t mode)
{
        (void)mode;
        return find(path) || strcmp(path, "/") == 0 ? 0 : -ENOENT; /* the mode is fixed; accept and ignore */
}

static struct fuse_operations ops = {
        .chmod = fs_chmod,
        .getattr = fs_getattr,
        .readdir = fs_readdir,
        .open = fs_open,
        .read = fs_read,
};

static int add_image(const char *path, const char *name)
{
        if (n_images == MAX_IMAGES)
                return -1;
        struct image *im = &images[n_images];
        im->fd = open(path, O_RDONLY);
        if (im->fd < 0) {
                perror(path);
                return -1;
        }
        snprintf(im->name, sizeof(im->name), "%s", name);
        pthread_mutex_init(&im->mu, NULL);
        n_images++;
        return 0;
}

int main(int argc, char **argv)
{
        const char *mnt;
        if (argc >= 4 && strcmp(argv[1], "-m") == 0) {
                mnt = argv[2];
                for (int i = 3; i < argc; i++) {
                        char name[32];
                        snprintf(name, sizeof(name), "disk%d.img", i - 2);
                        if (add_image(argv[i], name) < 0)
                                return 1;
                }
        } else if (argc == 3) {
                mnt = argv[2];
                if (add_image(argv[1], "disk.img") < 0)
                        return 1;
        } else {
                fprintf(stderr, "usage: faultyfs IMAGE MOUNTPOINT | faultyfs -m MOUNTPOINT IMAGE...\n");
                return 2;
        }
        fail_path = getenv("FAULTYFS_FAIL");
        log_path = getenv("FAULTYFS_LOG");
        bps = getenv("FAULTYFS_BPS") ? atof(getenv("FAULTYFS_BPS")) : 0;
        for (const char *p = getenv("FAULTYFS_BAD"); p && *p && n_bad < 64;) {
                long long o, l;
                int used = 0;
                if (sscanf(p, "%lld:%lld%n", &o, &l, &used) != 2) {
                        fprintf(stderr, "faultyfs: FAULTYFS_BAD: expected OFF:LEN[,OFF:LEN...], got '%s'\n", p);
                        return 2;
                }
                bad[n_bad].off = (off_t)o;
                bad[n_bad++].len = (off_t)l;
                p += used;
                if (*p == ',')
                        p++;
        }
        char *fargv[] = {
                argv[0], (char *)mnt, "-f", "-o", "ro,default_permissions,allow_other,max_read=1048576", NULL
        };
        return fuse_main(5, fargv, &ops, NULL);
}
