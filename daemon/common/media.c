/* media.c — runs the dockd-probe helper and reads its answer. See media.h. */
#include "media.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

#define PROBE_TIMEOUT_MS 60000

/* How long a probe may take; test builds may shorten it (a hung probe). */
static int probe_timeout_ms(void)
{
#ifdef DOCKD_TEST_HOOKS
        const char *t = getenv("DOCKD_TEST_PROBE_TIMEOUT_MS");
        if (t && atoi(t) > 0)
                return atoi(t);
#endif
        return PROBE_TIMEOUT_MS;
}
#define PROBE_OUTPUT_MAX 4096

/* Copies at most size - 1 bytes of src and terminates: a longer value is cut. */
static void set(char *dst, size_t size, const char *src)
{
        size_t n = strnlen(src, size - 1);
        memcpy(dst, src, n);
        dst[n] = '\0';
}

extern char **environ;

void media_info_write(FILE *f, const struct media_info *m)
{
        char err[sizeof(m->error)];
        snprintf(err, sizeof(err), "%s", m->error);
        for (char *p = err; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
        fprintf(f,
                "has_creation=%d\ncreation=%lld\nduration_s=%.17g\ncodec=%s\nwidth=%d\nheight=%d\nflag=%s\nerror=%s\n",
                m->has_creation ? 1 : 0, (long long)m->creation, m->duration_s, m->codec, m->width, m->height, m->flag,
                err);
}

int media_info_parse(const char *text, struct media_info *m)
{
        memset(m, 0, sizeof(*m));
        m->duration_s = -1;
        unsigned seen = 0;
        for (const char *line = text; *line;) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t)(end - line) : strlen(line);
                const char *eq = memchr(line, '=', len);
                if (!eq)
                        return -EINVAL;
                size_t klen = (size_t)(eq - line);
                char val[256];
                size_t vlen = len - klen - 1;
                if (vlen >= sizeof(val))
                        vlen = sizeof(val) - 1;
                memcpy(val, eq + 1, vlen);
                val[vlen] = '\0';
#define KEY(k) (klen == strlen(k) && memcmp(line, k, klen) == 0)
                if (KEY("has_creation"))
                        m->has_creation = strcmp(val, "1") == 0, seen |= 1;
                else if (KEY("creation"))
                        m->creation = strtoll(val, NULL, 10), seen |= 2;
                else if (KEY("duration_s"))
                        m->duration_s = strtod(val, NULL), seen |= 4;
                else if (KEY("codec"))
                        set(m->codec, sizeof(m->codec), val), seen |= 8;
                else if (KEY("width"))
                        m->width = atoi(val), seen |= 16;
                else if (KEY("height"))
                        m->height = atoi(val), seen |= 32;
                else if (KEY("flag"))
                        set(m->flag, sizeof(m->flag), val), seen |= 64;
                else if (KEY("error"))
                        set(m->error, sizeof(m->error), val), seen |= 128;
#undef KEY
                line += len + (end ? 1 : 0);
        }
        if (seen != 255 || m->width < 0 || m->height < 0)
                return -EINVAL;
        return 0;
}

int media_helper(char *out, size_t size)
{
        helper_path("dockd-probe", out, size);
        return access(out, X_OK) == 0 ? 0 : -errno;
}

static void unplayable(struct media_info *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void unplayable(struct media_info *m, const char *fmt, ...)
{
        memset(m, 0, sizeof(*m));
        m->duration_s = -1;
        snprintf(m->flag, sizeof(m->flag), "unplayable");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(m->error, sizeof(m->error), fmt, ap);
        va_end(ap);
}

/* One range the helper asked for: 8 bytes of offset and 4 of length, in;
 * 4 bytes of count (negative: could not be read) and the bytes, out. */
struct range_server {
        int server; /* dockd's end of the socket; -1: not serving (a file probe, or the helper hung up) */
        int helper; /* the helper's end, its fd 3; -1: none */
        int64_t size;
        media_read_fn rd;
        void *ud;
        unsigned char *buf;
};

static void serve_range(struct range_server *s)
{
        int64_t off;
        uint32_t len;
        unsigned char req[12];
        if (sock_full(s->server, req, sizeof(req), false) < 0)
                goto hangup; /* the helper is done, or gone */
        memcpy(&off, req, 8);
        memcpy(&len, req + 8, 4);
        int32_t n = -1;
        if (off >= 0 && off <= s->size && len <= MEDIA_RANGE_MAX) {
                size_t want = (int64_t)len < s->size - off ? len : (size_t)(s->size - off);
                ssize_t k = want ? s->rd(s->ud, s->buf, want, off) : 0;
                n = k >= 0 && (size_t)k == want ? (int32_t)k : -1;
        }
        if (sock_full(s->server, &n, 4, true) == 0 && (n <= 0 || sock_full(s->server, s->buf, (size_t)n, true) == 0))
                return;
hangup:
        close(s->server);
        s->server = -1;
}

/* The fork server, dockd-probe --serve (probe_main.c): started at the first
 * probe and again if it dies. Each probe is one datagram on its socket with
 * the fds of the answer's pipe, a reply socket and (a stream) the ranges'
 * socket; the server forks a process for it, sends its wait status on the
 * reply socket, and kills it if the asker hangs the reply socket up. */
static pthread_mutex_t server_mu = PTHREAD_MUTEX_INITIALIZER;
static int server_fd = -1;
static pid_t server_pid = -1;
static struct stat server_exe; /* the helper it runs: another (an upgrade) gets a new server */

static void server_stop_locked(void)
{
        if (server_fd >= 0)
                close(server_fd);
        if (server_pid > 0) {
                kill(server_pid, SIGKILL);
                while (waitpid(server_pid, NULL, 0) < 0 && errno == EINTR)
                        ;
        }
        server_fd = -1;
        server_pid = -1;
}

static int server_start_locked(const char *helper)
{
        int sv[2];
        if (stat(helper, &server_exe) < 0 || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return -errno;
        char *argv[] = { (char *)helper, "--serve", NULL };
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_adddup2(&fa, sv[1], 3);
        int r = posix_spawn(&server_pid, helper, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        close(sv[1]);
        if (r != 0) {
                close(sv[0]);
                server_pid = -1;
                return -r;
        }
        server_fd = sv[0];
        return 0;
}

/* Asks the server for a probe (req: "F" and a path, or "S" and a size), its
 * answer written to out, its ranges asked on range (-1: none). Returns the
 * reply socket, or -errno if the server cannot take it. */
static int server_ask(const char *helper, const char *req, int out, int range)
{
        int rp[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, rp) < 0)
                return -errno;
        int fds[3] = { out, rp[1], range }, nfd = range >= 0 ? 3 : 2;
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(sizeof(fds))];
        } u;
        memset(&u, 0, sizeof(u));
        struct iovec iov = { (void *)req, strlen(req) };
        struct msghdr msg = {
                .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = CMSG_SPACE(nfd * sizeof(int))
        };
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(nfd * sizeof(int));
        memcpy(CMSG_DATA(c), fds, nfd * sizeof(int));
        int r = -EPIPE;
        pthread_mutex_lock(&server_mu);
        struct stat st;
        if (server_fd >= 0 && (stat(helper, &st) < 0 || st.st_ino != server_exe.st_ino ||
                               st.st_dev != server_exe.st_dev || st.st_mtime != server_exe.st_mtime))
                server_stop_locked();
        for (int attempt = 0; attempt < 2 && r < 0; attempt++) {
                if (server_fd < 0 && (r = server_start_locked(helper)) < 0)
                        break;
                if (sendmsg(server_fd, &msg, MSG_NOSIGNAL) >= 0)
                        r = 0;
                else
                        r = -errno, server_stop_locked(); /* it died: start it again, once */
        }
        pthread_mutex_unlock(&server_mu);
        close(rp[1]);
        if (r < 0) {
                close(rp[0]);
                return r;
        }
        return rp[0];
}

void media_prestart(void)
{
        char helper[PATH_MAX];
        helper_path("dockd-probe", helper, sizeof(helper));
        pthread_mutex_lock(&server_mu);
        if (server_fd < 0 && access(helper, X_OK) == 0)
                server_start_locked(helper); /* or not: the first probe tries again, or runs it alone */
        pthread_mutex_unlock(&server_mu);
}

/* Runs dockd-probe with arguments arg and arg2 (NULL: none), answering
 * its ranges when s->server >= 0, and reads its answer into m: a process
 * forked by the fork server, or where that cannot run, one spawned here. */
static int run_probe(char *arg, char *arg2, struct range_server *s, struct media_info *m, bool via_server)
{
        char helper[PATH_MAX];
        helper_path("dockd-probe", helper, sizeof(helper));
        memset(m, 0, sizeof(*m));
        m->duration_s = -1;
        char *argv[] = { helper, arg, arg2, NULL };
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) < 0) {
                snprintf(m->error, sizeof(m->error), "cannot probe: pipe: %s", strerror(errno));
                if (s->server >= 0)
                        close(s->server), close(s->helper);
                return 0;
        }
        char req[PATH_MAX + 2];
        snprintf(req, sizeof(req), "%s%s", arg2 ? "S" : "F", arg2 ? arg2 : arg);
        int reply = via_server ? server_ask(helper, req, fds[1], s->helper) : -1;
        pid_t pid = -1;
        int r = 0;
        if (reply < 0) {
                posix_spawn_file_actions_t fa;
                posix_spawn_file_actions_init(&fa);
                posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
                posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
                posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
                if (s->helper >= 0)
                        posix_spawn_file_actions_adddup2(&fa, s->helper, 3);
                r = posix_spawn(&pid, helper, &fa, NULL, argv, environ);
                posix_spawn_file_actions_destroy(&fa);
        }
        close(fds[1]);
        if (s->helper >= 0)
                close(s->helper);
        if (r != 0) {
                close(fds[0]);
                if (s->server >= 0)
                        close(s->server);
                /* Not the footage's fault: leave it unflagged, say why. */
                log_warn("cannot run the media probe %s: %s", helper, strerror(r));
                set(m->error, sizeof(m->error), "cannot run the media probe dockd-probe");
                return 0;
        }

        char out[PROBE_OUTPUT_MAX + 1];
        size_t got = 0;
        double deadline = time_mono() + probe_timeout_ms() / 1000.0;
        bool timed_out = false;
        for (;;) {
                int left = (int)((deadline - time_mono()) * 1000);
                if (left <= 0) {
                        timed_out = true;
                        break;
                }
                struct pollfd p[2] = { { .fd = fds[0], .events = POLLIN }, { .fd = s->server, .events = POLLIN } };
                int k = poll(p, s->server >= 0 ? 2 : 1, left);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0) {
                        timed_out = k == 0;
                        break;
                }
                if (s->server >= 0 && p[1].revents) {
                        serve_range(s);
                        continue;
                }
                ssize_t n = read(fds[0], out + got, PROBE_OUTPUT_MAX - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t)n;
                if (got == PROBE_OUTPUT_MAX)
                        break;
        }
        out[got] = '\0';
        close(fds[0]);
        if (s->server >= 0)
                close(s->server);
        int status = 0;
        if (reply >= 0) {
                /* The server's word on how the probe ended; hanging up on a
                 * probe that is late tells the server to kill it. */
                int left = (int)((deadline - time_mono()) * 1000);
                struct pollfd p = { .fd = reply, .events = POLLIN };
                bool word = timed_out || (poll(&p, 1, left > 0 ? left : 0) > 0 &&
                                          recv(reply, &status, sizeof(status), 0) == (ssize_t)sizeof(status));
                close(reply);
                if (!word) {
                        /* The server died or refused it: not the footage's
                         * fault. The caller runs the probe again, spawned (a
                         * dead server is found and replaced at the next ask). */
                        return -EAGAIN;
                }
        } else {
                if (timed_out)
                        kill(pid, SIGKILL);
                while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                        ;
        }
        if (timed_out)
                unplayable(m, "media probe gave no answer in %d s", probe_timeout_ms() / 1000);
        else if (WIFSIGNALED(status))
                unplayable(m, "media probe crashed (signal %d)", WTERMSIG(status));
        else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                unplayable(m, "media probe failed (exit %d)", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        else if (media_info_parse(out, m) < 0)
                unplayable(m, "media probe answered nonsense");
        return 0;
}

void media_probe(const char *path, struct media_info *m)
{
        struct range_server s = { .server = -1, .helper = -1 };
        if (run_probe((char *)path, NULL, &s, m, true) == -EAGAIN)
                run_probe((char *)path, NULL, &s, m, false);
}

void media_probe_stream(int64_t size, media_read_fn rd, void *ud, struct media_info *m)
{
        char sz[32];
        snprintf(sz, sizeof(sz), "%lld", (long long)size);
        _cleanup_free_ unsigned char *buf = xmalloc(MEDIA_RANGE_MAX);
        for (int attempt = 0; attempt < 2; attempt++) {
                int sv[2];
                if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                        int e = errno;
                        *m = (struct media_info){ .duration_s = -1 };
                        snprintf(m->error, sizeof(m->error), "cannot probe: socketpair: %s", strerror(e));
                        return;
                }
                struct range_server s = {
                        .server = sv[0], .helper = sv[1], .size = size, .rd = rd, .ud = ud, .buf = buf
                };
                if (run_probe("--stream", sz, &s, m, attempt == 0) != -EAGAIN)
                        return;
        }
}
