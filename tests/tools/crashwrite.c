/* crashwrite — an LD_PRELOAD shim for the every-write crash test: counts
 * each call that changes a file on disk (write, pwrite, writev, fsync,
 * fdatasync, ftruncate, fallocate on a regular file or directory; rename,
 * link, unlink, mkdir) and kills the process with SIGKILL just before the
 * one numbered CRASHWRITE_AT, the way SQLite's crash tests stop at every
 * write in turn. CRASHWRITE_COUNT=FILE writes the number of such calls made
 * to FILE at exit, so the test knows how many points there are. */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

static atomic_long calls;
static long crash_at = -1;

__attribute__((constructor)) static void init(void)
{
        const char *at = getenv("CRASHWRITE_AT");
        if (at)
                crash_at = atol(at);
}

__attribute__((destructor)) static void fini(void)
{
        const char *path = getenv("CRASHWRITE_COUNT");
        if (!path)
                return;
        FILE *f = fopen(path, "w");
        if (f) {
                fprintf(f, "%ld\n", (long)calls);
                fclose(f);
        }
}

/* A point: counted, and the process dies before it when its turn comes. */
static void point(void)
{
        long n = ++calls;
        if (n == crash_at)
                kill(getpid(), SIGKILL);
}

static int on_disk(int fd)
{
        struct stat st;
        return fd > 2 && fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode));
}

#define REAL(ret, name, ...)                                                                                           \
        static ret (*real)(__VA_ARGS__);                                                                               \
        if (!real)                                                                                                     \
        real = (ret(*)(__VA_ARGS__))dlsym(RTLD_NEXT, name)

ssize_t write(int fd, const void *buf, size_t n)
{
        REAL(ssize_t, "write", int, const void *, size_t);
        if (on_disk(fd))
                point();
        return real(fd, buf, n);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
        REAL(ssize_t, "pwrite", int, const void *, size_t, off_t);
        if (on_disk(fd))
                point();
        return real(fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
        REAL(ssize_t, "pwrite64", int, const void *, size_t, off64_t);
        if (on_disk(fd))
                point();
        return real(fd, buf, n, off);
}

ssize_t writev(int fd, const struct iovec *iov, int n)
{
        REAL(ssize_t, "writev", int, const struct iovec *, int);
        if (on_disk(fd))
                point();
        return real(fd, iov, n);
}

int fsync(int fd)
{
        REAL(int, "fsync", int);
        point();
        return real(fd);
}

int fdatasync(int fd)
{
        REAL(int, "fdatasync", int);
        point();
        return real(fd);
}

int ftruncate(int fd, off_t len)
{
        REAL(int, "ftruncate", int, off_t);
        point();
        return real(fd, len);
}

int ftruncate64(int fd, off64_t len)
{
        REAL(int, "ftruncate64", int, off64_t);
        point();
        return real(fd, len);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
        REAL(int, "fallocate", int, int, off_t, off_t);
        point();
        return real(fd, mode, off, len);
}

int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
        REAL(int, "fallocate64", int, int, off64_t, off64_t);
        point();
        return real(fd, mode, off, len);
}

int rename(const char *a, const char *b)
{
        REAL(int, "rename", const char *, const char *);
        point();
        return real(a, b);
}

int renameat(int da, const char *a, int db, const char *b)
{
        REAL(int, "renameat", int, const char *, int, const char *);
        point();
        return real(da, a, db, b);
}

int renameat2(int da, const char *a, int db, const char *b, unsigned flags)
{
        REAL(int, "renameat2", int, const char *, int, const char *, unsigned);
        point();
        return real(da, a, db, b, flags);
}

int link(const char *a, const char *b)
{
        REAL(int, "link", const char *, const char *);
        point();
        return real(a, b);
}

int linkat(int da, const char *a, int db, const char *b, int flags)
{
        REAL(int, "linkat", int, const char *, int, const char *, int);
        point();
        return real(da, a, db, b, flags);
}

int unlink(const char *p)
{
        REAL(int, "unlink", const char *);
        point();
        return real(p);
}

int unlinkat(int d, const char *p, int flags)
{
        REAL(int, "unlinkat", int, const char *, int);
        point();
        return real(d, p, flags);
}

int mkdir(const char *p, mode_t m)
{
        REAL(int, "mkdir", const char *, mode_t);
        point();
        return real(p, m);
}
