/* util.h — small helpers shared by every module: scoped cleanup, time stamps,
 * hex, durable directory operations, and the crash points used by fault tests. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
        if (*fd >= 0)
                close(*fd);
}
static inline void fclosep(FILE **f)
{
        if (*f)
                fclose(*f);
}
#define _cleanup_free_ __attribute__((cleanup(freep)))
#define _cleanup_close_ __attribute__((cleanup(closep)))
#define _cleanup_fclose_ __attribute__((cleanup(fclosep)))

/* A file's times as its filesystem reports them: the device clock, no zone. */
struct file_times {
        char mtime[32], ctime[32], atime[32];
};

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define SHA256_HEX_LEN 64

/* The station's wall clock, seconds since the epoch. In the test build
 * (DOCKD_TEST_HOOKS) DOCKD_TEST_CLOCK_FILE names a file holding an offset in
 * seconds, re-read on every call, so a test can move a running daemon's clock
 * forward by days (deadlines, alarms) without waiting for them. */
int64_t clock_now(void);
void clock_now_ts(struct timespec *ts);
/* "2026-11-26T20:12:02.123Z" for now, UTC. buf needs 32 bytes. */
void time_now_iso(char *buf, size_t size);
/* t as "2026-11-26T20:12:02.000Z": the form the catalog compares as text. */
void time_iso(int64_t t, char *buf, size_t size);
/* Parses time_now_iso's form back to seconds; -1 if it is not that form. */
int64_t time_parse_iso(const char *s);
/* Seconds since the epoch as "YYYY-MM-DDTHH:MM:SS" with no zone: a device clock. */
void time_device_iso(int64_t t, char *buf, size_t size);
double time_mono(void);

/* "512 B", "1.5 MiB": sizes and rates for people. */
void format_bytes(double n, char *buf, size_t size);
/* "1:05" for 65 s; "--:--" when unknown (< 0). */
void format_eta(double seconds, char *buf, size_t size);

/* Text for a terminal or a log line: control characters (a newline that
 * would forge a row, an escape sequence that would repaint a terminal) and
 * bytes that are not UTF-8 become \xHH, C1 controls and U+2028/9 \uXXXX.
 * Writes at most size-1 bytes to out, cut on a character; returns out. */
char *text_escape(const char *s, char *out, size_t size);

/* Length of the valid UTF-8 sequence at p (1-4; overlong forms, surrogates
 * and values past U+10FFFF are not), or 0; *cp its code point. */
size_t utf8_seq(const unsigned char *p, uint32_t *cp);
/* Code point cp (below U+110000) as UTF-8 at o: the bytes written, 1-4. */
size_t utf8_put(char *o, uint32_t cp);

void hex_encode(const unsigned char *in, size_t n, char *out /* 2n+1 */);

/* Opens path so that reads come from the device, not the page cache: with
 * O_DIRECT where the filesystem has it (*direct true); else plainly, and a
 * file opened for reading is first synced and dropped from the cache
 * (fdatasync + POSIX_FADV_DONTNEED). The one "past the page cache" helper.
 * Returns the fd or -errno. */
int open_past_cache(const char *path, int flags, unsigned mode, bool *direct);

/* mkdir -p, each new directory fsynced into its parent. */
int mkdir_p(const char *path, unsigned mode);
int fsync_dir(const char *path);
int fsync_parent(const char *path);

/* Full-count pread/pwrite that retry on EINTR and short counts. pread_full
 * returns the bytes read (less than n only at end of file) or -errno. */
ssize_t pread_full(int fd, void *buf, size_t n, off_t off);
/* A small file whole, NUL-terminated, into *out (malloc'd), its length in
 * *len. -EFBIG above max bytes; -errno otherwise. */
int read_file_all(const char *path, size_t max, char **out, size_t *len);
/* The same for an open file (read from offset 0). */
int read_fd_all(int fd, size_t max, char **out, size_t *len);
/* All n bytes sent (out) or received on a socket, retrying on EINTR and
 * short counts; never a SIGPIPE. 0, -EPIPE when the peer is gone, or -errno. */
int sock_full(int fd, void *buf, size_t n, bool out);
int pwrite_full(int fd, const void *buf, size_t n, off_t off);

char *xstrdup(const char *s);
void *xmalloc(size_t n);
void *xrealloc(void *p, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Fault injection: with DOCKD_TEST_HOOKS compiled in and DOCKD_CRASHPOINT=name[:n]
 * in the environment, the n-th (default first) time `name` is reached the process
 * sends itself SIGKILL — a real kill -9 at an exact point. */
#ifdef DOCKD_TEST_HOOKS
void crashpoint(const char *name);
#else
static inline void crashpoint(const char *name) { (void)name; }
#endif

/* Where a helper program of dockd's (dockd-probe, dockd-pdf) is: next to
 * our own binary (a build tree, or a package that keeps them together),
 * else the installed libexec directory. */
void helper_path(const char *name, char *out, size_t size);
