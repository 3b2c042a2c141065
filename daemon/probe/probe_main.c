/* dockd-probe — reads one recording's media facts with libavformat and
 * prints them as "key=value" lines (media_info_write). dockd runs it for
 * each verified copy (a file, or with --stream an object version whose
 * ranges it asks dockd for over fd 3), so the parser of untrusted footage lives in a short
 * process of its own, with bounded memory and CPU, never in the daemon.
 *
 * With --serve it is a fork server instead (media.c, server_ask): it loads
 * its libraries once, then forks a fresh process for each probe dockd asks
 * of it on fd 3. Loading and relocating libavformat's 139 libraries took
 * 90 ms of the two cores per recording; a fork of a server that has never
 * read any footage takes a few, and each recording's parser is still a
 * process of its own with the same limits. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "media.h"
#include "util.h"

static void limit(void)
{
        /* A hostile file gets a gigabyte and half a minute, no more (the
         * sanitizer build's shadow memory needs terabytes of address space). */
        struct rlimit cpu = { 30, 30 };
        setrlimit(RLIMIT_CPU, &cpu);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(DOCKD_SANITIZE)
        struct rlimit mem = { 1ul << 30, 1ul << 30 };
        setrlimit(RLIMIT_AS, &mem);
#endif
}

/* One probe, its answer on stdout: file is a path, or NULL for a stream of
 * size bytes whose ranges are asked over fd 3. */
static int probe_one(const char *file, long long size)
{
        limit();
        struct media_info m;
        if (file)
                media_probe_here(file, &m);
        else
                media_probe_here_stream(3, size, &m);
        media_info_write(stdout, &m);
        return fflush(stdout) == 0 ? 0 : 1;
}

#define MAX_CHILDREN 64

struct child {
        pid_t pid;
        int reply; /* the asker's socket: the wait status goes there; a hang-up kills the child */
};

/* A request (media.c, server_ask): "F" and a path, or "S" and a size; with it
 * the fds of the answer's pipe, the reply socket, and for "S" the ranges. */
static void serve_request(int ctl, struct child *kids, unsigned *n_kids)
{
        char buf[4096 + 2];
        union {
                struct cmsghdr h;
                char b[CMSG_SPACE(3 * sizeof(int))];
        } u;
        struct iovec iov = { buf, sizeof(buf) - 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b) };
        ssize_t n = recvmsg(ctl, &msg, MSG_CMSG_CLOEXEC);
        if (n <= 0) {
                if (n == 0 || (errno != EINTR && errno != EAGAIN)) { /* dockd is gone: so are its probes */
                        for (unsigned i = 0; i < *n_kids; i++)
                                kill(kids[i].pid, SIGKILL);
                        _exit(0);
                }
                return;
        }
        buf[n] = '\0';
        int fds[3] = { -1, -1, -1 }, nfd = 0;
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                nfd = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                memcpy(fds, CMSG_DATA(c), (size_t)nfd * sizeof(int));
        }
        bool stream = buf[0] == 'S';
        if ((buf[0] != 'F' && !stream) || nfd != (stream ? 3 : 2) || *n_kids == MAX_CHILDREN) {
                for (int i = 0; i < nfd; i++)
                        close(fds[i]); /* the asker sees its reply socket close with no status */
                return;
        }
        pid_t server = getpid(), pid = fork();
        if (pid == 0) {
                /* It dies with the server (which dies with dockd). */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != server)
                        _exit(1);
                sigset_t none;
                sigemptyset(&none);
                sigprocmask(SIG_SETMASK, &none, NULL);
                if (dup2(fds[0], 1) < 0 || (stream ? dup2(fds[2], 3) : close(3)) < 0)
                        _exit(1);
                close_range(4, ~0u, 0);           /* nothing of the server's, nor the reply socket */
                crashpoint("probe-served-child"); /* tests: a probe that dies under a healthy server */
#ifdef DOCKD_TEST_HOOKS
                if (getenv("DOCKD_TEST_PROBE_HANG")) /* tests: a probe that never answers */
                        for (;;)
                                pause();
#endif
                _exit(probe_one(stream ? NULL : buf + 1, stream ? strtoll(buf + 1, NULL, 10) : 0));
        }
        close(fds[0]);
        if (stream)
                close(fds[2]);
        if (pid < 0) {
                close(fds[1]);
                return;
        }
        kids[(*n_kids)++] = (struct child){ pid, fds[1] };
}

static int serve(void)
{
        sigset_t chld;
        sigemptyset(&chld);
        sigaddset(&chld, SIGCHLD);
        sigprocmask(SIG_BLOCK, &chld, NULL);
        int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
        if (sfd < 0)
                return 1;
        struct child kids[MAX_CHILDREN];
        unsigned n_kids = 0;
        for (;;) {
                struct pollfd p[2 + MAX_CHILDREN] = { { .fd = 3, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
                for (unsigned i = 0; i < n_kids; i++)
                        p[2 + i] = (struct pollfd){ .fd = kids[i].reply, .events = 0 }; /* hang-ups only */
                if (poll(p, 2 + n_kids, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        return 1;
                }
                for (unsigned i = 0; i < n_kids; i++)
                        if (kids[i].reply >= 0 && (p[2 + i].revents & (POLLHUP | POLLERR))) {
                                kill(kids[i].pid, SIGKILL); /* the asker gave up (its timeout) */
                                close(kids[i].reply);
                                kids[i].reply = -1; /* poll skips it until the child is reaped */
                        }
                if (p[1].revents & POLLIN) {
                        struct signalfd_siginfo si;
                        while (read(sfd, &si, sizeof(si)) > 0)
                                ;
                        int status;
                        pid_t pid;
                        while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
                                for (unsigned i = 0; i < n_kids; i++) {
                                        if (kids[i].pid != pid)
                                                continue;
                                        if (kids[i].reply >= 0) {
                                                send(kids[i].reply, &status, sizeof(status), MSG_NOSIGNAL);
                                                close(kids[i].reply);
                                        }
                                        kids[i] = kids[--n_kids];
                                        break;
                                }
                }
                if (p[0].revents)
                        serve_request(3, kids, &n_kids);
        }
}

int main(int argc, char **argv)
{
        if (argc == 2 && strcmp(argv[1], "--serve") == 0)
                return serve();
        bool stream = argc == 3 && strcmp(argv[1], "--stream") == 0;
        if (argc != 2 && !stream) {
                fprintf(stderr, "usage: dockd-probe FILE | --stream SIZE (the recording's ranges asked of fd 3)"
                                " | --serve (a fork server for dockd, asked on fd 3)\n");
                return 2;
        }
        return probe_one(stream ? NULL : argv[1], stream ? strtoll(argv[2], NULL, 10) : 0);
}
