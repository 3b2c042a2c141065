/* util.c — see util.h. */
#include "util.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

void clock_now_ts(struct timespec *ts)
{
        clock_gettime(CLOCK_REALTIME, ts);
#ifdef DOCKD_TEST_HOOKS
        const char *path = getenv("DOCKD_TEST_CLOCK_FILE");
        FILE *f = path ? fopen(path, "re") : NULL;
        long long offset = 0;
        if (f) {
                if (fscanf(f, "%lld", &offset) == 1)
                        ts->tv_sec += offset;
                fclose(f);
        }
#endif
}

int64_t clock_now(void)
{
        struct timespec ts;
        clock_now_ts(&ts);
        return ts.tv_sec;
}

static void iso_ms(time_t t, long ms, char *buf, size_t size)
{
        struct tm tm;
        gmtime_r(&t, &tm);
        size_t n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + n, size - n, ".%03ldZ", ms);
}

void time_now_iso(char *buf, size_t size)
{
        struct timespec ts;
        clock_now_ts(&ts);
        iso_ms(ts.tv_sec, ts.tv_nsec / 1000000, buf, size);
}

void time_iso(int64_t t, char *buf, size_t size) { iso_ms((time_t)t, 0, buf, size); }

int64_t time_parse_iso(const char *s)
{
        struct tm tm = { 0 };
        int used = 0;
        if (!s ||
            sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                   &tm.tm_sec, &used) != 6 ||
            used != 19 || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 || tm.tm_hour > 23 ||
            tm.tm_min > 59 || tm.tm_sec > 60)
                return -1;
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        return (int64_t)timegm(&tm);
}

void time_device_iso(int64_t t, char *buf, size_t size)
{
        time_t tt = (time_t)t;
        struct tm tm;
        if (!gmtime_r(&tt, &tm)) {
                snprintf(buf, size, "invalid:%lld", (long long)t);
                return;
        }
        strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
}

double time_mono(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

void format_eta(double seconds, char *buf, size_t size)
{
        if (seconds < 0)
                snprintf(buf, size, "--:--");
        else
                snprintf(buf, size, "%ld:%02ld", (long)seconds / 60, (long)seconds % 60);
}

void format_bytes(double n, char *buf, size_t size)
{
        static const char *unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
        size_t u = 0;
        while (n >= 1024 && u + 1 < ELEMENTSOF(unit)) {
                n /= 1024;
                u++;
        }
        snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", n, unit[u]);
}

void hex_encode(const unsigned char *in, size_t n, char *out)
{
        static const char digits[] = "0123456789abcdef";
        for (size_t i = 0; i < n; i++) {
                out[2 * i] = digits[in[i] >> 4];
                out[2 * i + 1] = digits[in[i] & 15];
        }
        out[2 * n] = '\0';
}

int fsync_dir(const char *path)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        if (fsync(fd) < 0)
                return -errno;
        return 0;
}

int fsync_parent(const char *path)
{
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');
        if (!slash)
                return fsync_dir(".");
        if (slash == dir)
                slash[1] = '\0';
        else
                *slash = '\0';
        return fsync_dir(dir);
}

int mkdir_p(const char *path, unsigned mode)
{
        _cleanup_free_ char *p = xstrdup(path);
        for (char *s = p + 1;; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char c = *s;
                *s = '\0';
                if (mkdir(p, mode) == 0) {
                        int r = fsync_parent(p);
                        if (r < 0)
                                return r;
                } else if (errno != EEXIST) {
                        return -errno;
                } else {
                        struct stat st;
                        if (stat(p, &st) < 0)
                                return -errno;
                        if (!S_ISDIR(st.st_mode))
                                return -ENOTDIR;
                }
                *s = c;
                if (c == '\0')
                        break;
        }
        return 0;
}

ssize_t pread_full(int fd, void *buf, size_t n, off_t off)
{
        size_t done = 0;
        while (done < n) {
                ssize_t k = pread(fd, (char *)buf + done, n - done, off + (off_t)done);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        break;
                done += (size_t)k;
        }
        return (ssize_t)done;
}

int read_fd_all(int fd, size_t max, char **out, size_t *len)
{
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if ((uint64_t)st.st_size > max)
                return -EFBIG;
        char *b = xmalloc((size_t)st.st_size + 1);
        ssize_t k = pread_full(fd, b, (size_t)st.st_size, 0);
        if (k != st.st_size) {
                free(b);
                return k < 0 ? (int)k : -EIO;
        }
        b[k] = '\0';
        *out = b;
        *len = (size_t)k;
        return 0;
}

int read_file_all(const char *path, size_t max, char **out, size_t *len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        return fd < 0 ? -errno : read_fd_all(fd, max, out, len);
}

int sock_full(int fd, void *buf, size_t n, bool out)
{
        for (size_t done = 0; done < n;) {
                ssize_t k = out ? send(fd, (const char *)buf + done, n - done, MSG_NOSIGNAL)
                                : recv(fd, (char *)buf + done, n - done, 0);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0)
                        return -EPIPE;
                done += (size_t)k;
        }
        return 0;
}

int pwrite_full(int fd, const void *buf, size_t n, off_t off)
{
        size_t done = 0;
        while (done < n) {
                ssize_t k = pwrite(fd, (const char *)buf + done, n - done, off + (off_t)done);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EIO;
                done += (size_t)k;
        }
        return 0;
}

void *xmalloc(size_t n)
{
        void *p = malloc(n ? n : 1);
        if (!p)
                abort(); /* out of memory: nothing sensible left to do */
        return p;
}

int open_past_cache(const char *path, int flags, unsigned mode, bool *direct)
{
        int fd = open(path, flags | O_DIRECT | O_CLOEXEC, mode);
        *direct = fd >= 0;
        if (fd < 0 && errno == EINVAL) { /* tmpfs, FUSE: no O_DIRECT */
                fd = open(path, flags | O_CLOEXEC, mode);
                if (fd >= 0 && (flags & O_ACCMODE) == O_RDONLY) {
                        fdatasync(fd);
                        posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
                }
        }
        return fd < 0 ? -errno : fd;
}

void *xrealloc(void *p, size_t n)
{
        void *q = realloc(p, n ? n : 1);
        if (!q)
                abort();
        return q;
}

char *xstrdup(const char *s)
{
        char *p = strdup(s ? s : "");
        if (!p)
                abort();
        return p;
}

char *xasprintf(const char *fmt, ...)
{
        va_list ap;
        char *p;
        va_start(ap, fmt);
        int r = vasprintf(&p, fmt, ap);
        va_end(ap);
        if (r < 0)
                abort();
        return p;
}

#ifdef DOCKD_TEST_HOOKS
void crashpoint(const char *name)
{
        static int hits;
        const char *want = getenv("DOCKD_CRASHPOINT");
        if (!want)
                return;
        size_t len = strlen(name);
        if (strncmp(want, name, len) != 0 || (want[len] != '\0' && want[len] != ':'))
                return;
        int n = want[len] == ':' ? atoi(want + len + 1) : 1;
        if (++hits >= n)
                kill(getpid(), SIGKILL);
}
#endif

size_t utf8_seq(const unsigned char *p, uint32_t *cp)
{
        if (p[0] < 0x80) {
                *cp = p[0];
                return 1;
        }
        size_t n = p[0] >= 0xF0 && p[0] < 0xF5 ? 4 : p[0] >= 0xE0 ? 3 : p[0] >= 0xC2 && p[0] < 0xE0 ? 2 : 0;
        if (!n || (p[0] >= 0xF5))
                return 0;
        uint32_t c = p[0] & (0x7F >> n);
        for (size_t i = 1; i < n; i++) {
                if ((p[i] & 0xC0) != 0x80)
                        return 0;
                c = c << 6 | (p[i] & 0x3F);
        }
        if ((n == 3 && c < 0x800) || (n == 4 && (c < 0x10000 || c > 0x10FFFF)) || (c >= 0xD800 && c < 0xE000))
                return 0;
        *cp = c;
        return n;
}

size_t utf8_put(char *o, uint32_t cp)
{
        if (cp < 0x80) {
                o[0] = (char)cp;
                return 1;
        }
        if (cp < 0x800) {
                o[0] = (char)(0xC0 | cp >> 6);
                o[1] = (char)(0x80 | (cp & 0x3F));
                return 2;
        }
        if (cp < 0x10000) {
                o[0] = (char)(0xE0 | cp >> 12);
                o[1] = (char)(0x80 | (cp >> 6 & 0x3F));
                o[2] = (char)(0x80 | (cp & 0x3F));
                return 3;
        }
        o[0] = (char)(0xF0 | cp >> 18);
        o[1] = (char)(0x80 | (cp >> 12 & 0x3F));
        o[2] = (char)(0x80 | (cp >> 6 & 0x3F));
        o[3] = (char)(0x80 | (cp & 0x3F));
        return 4;
}

char *text_escape(const char *s, char *out, size_t size)
{
        size_t o = 0;
        if (!size)
                return out;
        for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
                char tmp[16];
                uint32_t cp = 0;
                size_t n = utf8_seq(p, &cp), w;
                if (n == 0) {
                        w = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02X", *p);
                        n = 1;
                } else if (cp < 0x20 || cp == 0x7F) {
                        w = (size_t)snprintf(tmp, sizeof(tmp), "\\x%02X", (unsigned)cp);
                } else if ((cp >= 0x80 && cp < 0xA0) || cp == 0x2028 || cp == 0x2029) {
                        w = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04X", (unsigned)cp);
                } else {
                        memcpy(tmp, p, n);
                        w = n;
                }
                if (o + w >= size)
                        break;
                memcpy(out + o, tmp, w);
                o += w;
                p += n;
        }
        out[o] = '\0';
        return out;
}

#ifndef DOCKD_LIBEXEC_DIR
#define DOCKD_LIBEXEC_DIR "/usr/libexec/dockd"
#endif

void helper_path(const char *name, char *out, size_t size)
{
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n > 0) {
                self[n] = '\0';
                char *slash = strrchr(self, '/');
                if (slash && (size_t)snprintf(out, size, "%.*s/%s", (int)(slash - self), self, name) < size &&
                    access(out, X_OK) == 0)
                        return;
        }
        snprintf(out, size, "%s/%s", DOCKD_LIBEXEC_DIR, name);
}
