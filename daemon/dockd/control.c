/* control.c — see control.h. Requests arrive as frames (ctlproto.h); each
 * verb but status runs in a worker process that dockd starts for it, so a
 * long ingest or scrub never holds up the event loop, and a verb's crash
 * never takes the daemon with it. */
#include "control.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "alarms.h"
#include "audit.h"
#include "catalog.h"
#include "ctlproto.h"
#include "log.h"
#include "util.h"
#include "verbs.h"

extern char **environ;

struct control {
        const struct config *cfg;
        struct catalog *cat; /* opened on first use: alarms come from the catalog */
        char *path;
        const char *self; /* dockd's own binary, which the workers run */
        int config_fd;    /* the config dockd read at start, for the workers (-1: embedded) */
        int fd;
        sd_event *ev;
        sd_event_source *src;
        struct bays *bays;
        unsigned n_clients, n_workers;
        struct client *clients; /* the open ones, freed with the control socket */
        struct worker *workers; /* running; their ends are logged */
};

static int make_addr(const char *path, struct sockaddr_un *sa)
{
        memset(sa, 0, sizeof(*sa));
        sa->sun_family = AF_UNIX;
        if (strlen(path) >= sizeof(sa->sun_path))
                return -ENAMETOOLONG;
        memcpy(sa->sun_path, path, strlen(path));
        return 0;
}

/* One client: the request is read as the socket allows, from the event loop,
 * never blocking it. A client that sends slowly, never ends its request,
 * sends too much or reads slowly is dropped after CLIENT_TIMEOUT_US; at most
 * MAX_CLIENTS at once. A whole request either is answered here (status, and
 * every refusal of a malformed one) or goes with the socket to a worker. */
#define MAX_CLIENTS 64
#define MAX_WORKERS 8
#define CLIENT_TIMEOUT_US (2 * 1000000ULL)
#define MAX_FDS (2 * VERB_MAX_INPUTS)

struct client {
        struct control *c;
        struct client *next, **prev;
        int fd;
        sd_event_source *io, *timer;
        struct ctl_reader rd;
        size_t got; /* request bytes so far */
        bool versioned, terminal;
        unsigned width; /* the caller's terminal columns (0: not said) */
        bool waiting;   /* a whole request, waiting for a worker to be free */
        char *argv[CTL_MAX_ARGS + 1];
        int argc;
        int fds[MAX_FDS]; /* received, in order, not yet given to an input */
        size_t n_fds;
        struct verb_input inputs[VERB_MAX_INPUTS];
        size_t n_inputs;
        char *out;
        size_t len, done;
};

struct worker {
        struct control *c;
        struct worker *next, **prev;
        pid_t pid;
        uid_t uid;
        char *what; /* "verb" by caller, for the journal line at its end */
        sd_event_source *child;
};

static void close_inputs(struct client *cl)
{
        for (size_t i = 0; i < cl->n_fds; i++)
                close(cl->fds[i]);
        for (size_t i = 0; i < cl->n_inputs; i++)
                for (int k = 0; k < 2; k++)
                        if (cl->inputs[i].fds[k] >= 0)
                                close(cl->inputs[i].fds[k]);
        cl->n_fds = cl->n_inputs = 0;
}

static void client_free(struct client *cl)
{
        sd_event_source_disable_unref(cl->io);
        sd_event_source_disable_unref(cl->timer);
        if (cl->fd >= 0)
                close(cl->fd);
        close_inputs(cl);
        for (int i = 0; i < cl->argc; i++)
                free(cl->argv[i]);
        ctl_reader_free(&cl->rd);
        free(cl->out);
        cl->c->n_clients--;
        *cl->prev = cl->next;
        if (cl->next)
                cl->next->prev = cl->prev;
        free(cl);
}

/* Queues frames for the peer: the bytes, then the exit status. */
static void reply(struct client *cl, const char *out, const char *err, int status)
{
        FILE *f = open_memstream(&cl->out, &cl->len);
        if (!f)
                return;
        if (out && *out)
                fprintf(f, "O%zu:%s,", strlen(out), out);
        if (err && *err)
                fprintf(f, "E%zu:%s,", strlen(err), err);
        char x[16];
        snprintf(x, sizeof(x), "%d", status);
        fprintf(f, "X%zu:%s,", strlen(x), x);
        fclose(f);
}

__attribute__((format(printf, 3, 4))) static void refuse(struct client *cl, int status, const char *fmt, ...)
{
        char msg[512];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg) - 1, fmt, ap);
        va_end(ap);
        strcat(msg, "\n");
        reply(cl, NULL, msg, status);
}

static void worker_free(struct worker *w)
{
        sd_event_source_disable_unref(w->child);
        w->c->n_workers--;
        *w->prev = w->next;
        if (w->next)
                w->next->prev = w->prev;
        free(w->what);
        free(w);
}

static int answer(struct client *cl);
static void hand_over(struct client *cl);

static int on_worker_exit(sd_event_source *s, const siginfo_t *si, void *ud)
{
        struct worker *w = ud;
        int status = si->si_code == CLD_EXITED ? si->si_status : 128 + si->si_status;
        if (si->si_code == CLD_EXITED)
                log_event(LOG_LEVEL_INFO, LOG_MID_REQUEST, NULL, "control: %s (uid %u): exit %d", w->what,
                          (unsigned)w->uid, status);
        else
                log_error("control: %s (uid %u): the worker died of signal %d", w->what, (unsigned)w->uid,
                          si->si_status);
        struct control *c = w->c;
        worker_free(w);
        struct client *next = NULL;
        for (struct client *k = c->clients; k; k = k->next)
                if (k->waiting)
                        next = k; /* the list runs newest first: the oldest waiting */
        if (next) {
                next->waiting = false;
                hand_over(next);
        }
        return 0;
}

/* Hands the client's socket and inputs to a worker process (dockd
 * --serve-request) that runs the verb as dockd, with the caller's role. */
static int spawn_worker(struct client *cl, const struct verb *v, uid_t uid, const char *caller)
{
        struct control *c = cl->c;
        if (c->n_workers >= MAX_WORKERS) {
                cl->waiting = true; /* its turn comes when a worker ends (on_worker_exit) */
                sd_event_source_set_enabled(cl->timer, SD_EVENT_OFF);
                sd_event_source_set_enabled(cl->io, SD_EVENT_OFF);
                return 2;
        }
        /* Numbers the worker will see: the socket 3, the config 4, inputs from 5. */
        int src[2 + 2 * VERB_MAX_INPUTS], n_src = 0;
        char *args[16 + 4 * VERB_MAX_INPUTS + CTL_MAX_ARGS];
        char nums[2 * VERB_MAX_INPUTS][16];
        int na = 0;
        args[na++] = (char *)"dockd";
        args[na++] = (char *)"--serve-request";
        src[n_src++] = cl->fd;
        src[n_src++] = c->config_fd;
        args[na++] = (char *)"--state";
        args[na++] = c->cfg->state_dir;
        char width[16];
        if (cl->terminal) {
                snprintf(width, sizeof(width), "%u", cl->width >= 20 && cl->width <= 1000 ? cl->width : 80);
                args[na++] = (char *)"--terminal";
                args[na++] = width;
        }
        for (size_t i = 0; i < cl->n_inputs; i++) {
                args[na++] = (char *)"--input";
                args[na++] = (char *)cl->inputs[i].name;
                for (int k = 0; k < 2; k++) {
                        int fd = cl->inputs[i].fds[k];
                        snprintf(nums[2 * i + k], sizeof(nums[0]), "%d", fd >= 0 ? 3 + n_src : -1);
                        args[na++] = nums[2 * i + k];
                        if (fd >= 0)
                                src[n_src++] = fd;
                }
        }
        args[na++] = (char *)"--";
        for (int i = 0; i < cl->argc; i++)
                args[na++] = cl->argv[i];
        args[na] = NULL;

        /* Out of the way of the numbers they will get, then into place. */
        int high[ELEMENTSOF(src)];
        posix_spawn_file_actions_t fa;
        posix_spawn_file_actions_init(&fa);
        int ok = 0;
        for (int i = 0; i < n_src; i++) {
                high[i] = src[i] >= 0 ? fcntl(src[i], F_DUPFD_CLOEXEC, 64) : -1;
                if (src[i] >= 0 && high[i] < 0)
                        ok = -errno;
        }
        for (int i = 0; i < n_src && ok == 0; i++)
                if (high[i] >= 0)
                        posix_spawn_file_actions_adddup2(&fa, high[i], 3 + i);
        posix_spawnattr_t at;
        posix_spawnattr_init(&at);
        sigset_t none, all;
        sigemptyset(&none);
        sigemptyset(&all);
        sigaddset(&all, SIGPIPE);
        sigaddset(&all, SIGTERM);
        sigaddset(&all, SIGINT);
        sigaddset(&all, SIGHUP);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setsigdefault(&at, &all);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
        pid_t pid = -1;
        if (ok == 0)
                ok = -posix_spawn(&pid, c->self, &fa, &at, args, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        for (int i = 0; i < n_src; i++)
                if (high[i] >= 0)
                        close(high[i]);
        if (ok < 0) {
                log_error_errno(ok, "control: cannot start a worker for '%s' of %s: %m", v->name, caller);
                refuse(cl, EXIT_UNREACHABLE, "dockd: cannot start the request: %s", strerror(-ok));
                return 0;
        }
        struct worker *w = calloc(1, sizeof(*w));
        if (!w)
                return -ENOMEM;
        w->c = c;
        w->pid = pid;
        w->uid = uid;
        w->what = xasprintf("'%s' by %s", v->name, caller);
        w->next = c->workers;
        w->prev = &c->workers;
        if (c->workers)
                c->workers->prev = &w->next;
        c->workers = w;
        c->n_workers++;
        if (sd_event_add_child(c->ev, &w->child, pid, WEXITED, on_worker_exit, w) < 0)
                log_error("control: cannot watch worker %d", (int)pid);
        log_debug("control: %s runs in worker %d", w->what, (int)pid);
        return 1;
}

/* A whole request: answered here, or handed to a worker (returns 1). */
static int answer(struct client *cl)
{
        struct control *c = cl->c;
        char caller[64];
        uid_t uid;
        enum role role = peer_role(c->cfg, cl->fd, caller, sizeof(caller), &uid);
        const struct verb *v = verb_find(cl->argc, cl->argv);
        if (!v) {
                char shown[256];
                refuse(cl, EXIT_USAGE, "dockctl: unknown verb '%s'; `dockctl --help` lists them",
                       text_escape(cl->argc ? cl->argv[0] : "", shown, sizeof(shown)));
                return 0;
        }
        if (!(v->flags & VERB_IN_DAEMON))
                return spawn_worker(cl, v, uid, caller);
        if (role < v->role) {
                log_warn("control: refused '%s' to %s (uid %u): needs %s", v->name, caller, (unsigned)uid,
                         role_name(v->role));
                char msg[512];
                role_refusal(msg, sizeof(msg), c->cfg, v->name, v->role, caller, role);
                refuse(cl, EXIT_DENIED, "%s", msg);
                return 0;
        }
        bool json = false;
        for (int i = 1; i < cl->argc; i++)
                if (strcmp(cl->argv[i], "--json") == 0)
                        json = true;
                else if (strcmp(cl->argv[i], "--watch") != 0) {
                        refuse(cl, EXIT_USAGE, "usage: dockctl status [--watch] [--json]");
                        return 0;
                }
        struct alarm_list al = { .n = 0 };
        char err[512];
        if (!c->cat && catalog_open_in(c->cfg->state_dir, &c->cat, err, sizeof(err)) < 0)
                log_error("control: %s", err);
        if (c->cat && alarms_collect(c->cfg, c->cat, &al) < 0)
                log_error("control: cannot read alarms: %s", catalog_errmsg(c->cat));
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);
        if (!f)
                return -ENOMEM;
        if (json) {
                bays_status_json(c->bays, f);
                fputs(",\"alarms\":", f);
                alarms_json(&al, f);
                fputs("}\n", f);
        } else {
                bays_status_text(c->bays, f);
                alarms_text(&al, f);
        }
        fclose(f);
        reply(cl, buf, NULL, 0);
        free(buf);
        return 0;
}

/* Takes the frames that have arrived; 1 once the request is whole. */
static int take_frames(struct client *cl)
{
        char type;
        const char *data;
        size_t n;
        int r;
        while ((r = ctl_next(&cl->rd, &type, &data, &n)) > 0) {
                if (!cl->versioned) {
                        if (type != 'V' || strcmp(data, CTL_VERSION) != 0) {
                                refuse(cl, EXIT_USAGE,
                                       "dockd speaks control protocol %s; this request is %s%s: use "
                                       "the dockctl of this dockd",
                                       CTL_VERSION, type == 'V' ? "version " : "not one",
                                       type == 'V' ? (strlen(data) < 16 ? data : "(long)") : "");
                                return -1;
                        }
                        cl->versioned = true;
                        continue;
                }
                if (type == '.')
                        return 1;
                if (type == 'T') {
                        cl->terminal = true;
                        cl->width = (unsigned)strtoul(data, NULL, 10);
                        continue;
                }
                if (type == 'D') {
                        if (cl->n_inputs == 0 || cl->n_fds == 0 || cl->inputs[cl->n_inputs - 1].fds[1] >= 0) {
                                refuse(cl, EXIT_USAGE,
                                       "dockd: a D frame must follow an F frame and carry a descriptor");
                                return -1;
                        }
                        cl->inputs[cl->n_inputs - 1].fds[1] = cl->fds[0];
                        memmove(cl->fds, cl->fds + 1, --cl->n_fds * sizeof(int));
                        continue;
                }
                if ((type != 'A' && type != 'F') || memchr(data, '\0', n)) {
                        refuse(cl, EXIT_USAGE, "dockd: malformed request (frame '%c'%s)",
                               type >= ' ' && type < 127 ? type : '?',
                               type == 'A' || type == 'F' ? " with a NUL byte" : " is not a request frame");
                        return -1;
                }
                if (cl->argc >= CTL_MAX_ARGS) {
                        refuse(cl, EXIT_USAGE, "dockd: more than %d arguments", CTL_MAX_ARGS);
                        return -1;
                }
                cl->argv[cl->argc++] = xstrdup(data);
                if (type == 'F') {
                        if (cl->n_inputs >= VERB_MAX_INPUTS || cl->n_fds == 0) {
                                refuse(cl, EXIT_USAGE, "dockd: an F frame must carry a descriptor (at most %d files)",
                                       VERB_MAX_INPUTS);
                                return -1;
                        }
                        struct verb_input *in = &cl->inputs[cl->n_inputs++];
                        in->name = cl->argv[cl->argc - 1];
                        in->fds[0] = cl->fds[0];
                        in->fds[1] = -1;
                        memmove(cl->fds, cl->fds + 1, --cl->n_fds * sizeof(int));
                }
        }
        if (r == -EMSGSIZE)
                refuse(cl, EXIT_USAGE, "dockd: a request frame is larger than %d bytes", CTL_MAX_ARG);
        else if (r < 0)
                refuse(cl, EXIT_USAGE, "dockd: malformed request (not control protocol %s frames)", CTL_VERSION);
        return r < 0 ? -1 : 0;
}

/* Answers a whole request, or gives it to a worker (then cl is freed), or
 * leaves it waiting for one. */
static void hand_over(struct client *cl)
{
        int r = answer(cl);
        if (r == 1) { /* the worker has the socket now */
                /* out of epoll first: the worker's copy keeps the socket alive */
                cl->io = sd_event_source_disable_unref(cl->io);
                close(cl->fd);
                cl->fd = -1;
                client_free(cl);
        } else if (r != 2) {
                if (!cl->out)
                        refuse(cl, EXIT_UNREACHABLE, "dockd: out of memory");
                sd_event_source_set_enabled(cl->io, SD_EVENT_ON);
                sd_event_source_set_io_events(cl->io, EPOLLOUT);
        }
}

/* 1: a reply is queued; 2: the request is whole; 0: more to come; -1: the
 * peer left without a request. */
static int read_request(struct client *cl)
{
        for (;;) {
                char buf[4096];
                union {
                        struct cmsghdr h;
                        char b[CMSG_SPACE(MAX_FDS * sizeof(int))];
                } cm;
                struct iovec iov = { buf, sizeof(buf) };
                struct msghdr msg = {
                        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof(cm.b)
                };
                ssize_t k = recvmsg(cl->fd, &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        return 0; /* the rest later */
                for (struct cmsghdr *h = CMSG_FIRSTHDR(&msg); h; h = CMSG_NXTHDR(&msg, h))
                        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
                                size_t nf = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                                for (size_t i = 0; i < nf; i++) {
                                        int fd;
                                        memcpy(&fd, CMSG_DATA(h) + i * sizeof(int), sizeof(int));
                                        if (cl->n_fds < MAX_FDS)
                                                cl->fds[cl->n_fds++] = fd;
                                        else
                                                close(fd);
                                }
                        }
                if (k < 0 || (k == 0 && cl->got == 0))
                        return -1;
                if (k == 0) {
                        refuse(cl, EXIT_USAGE, "dockd: the request ended before its end frame");
                        return 1;
                }
                if (msg.msg_flags & MSG_CTRUNC) {
                        refuse(cl, EXIT_USAGE, "dockd: more than %d descriptors in one message", MAX_FDS);
                        return 1;
                }
                cl->got += (size_t)k;
                if (cl->got > CTL_MAX_REQUEST) {
                        refuse(cl, EXIT_USAGE, "dockd: request larger than %d bytes", CTL_MAX_REQUEST);
                        return 1;
                }
                if (ctl_feed(&cl->rd, buf, (size_t)k) < 0)
                        return -1;
                int r = take_frames(cl);
                if (r < 0)
                        return 1;
                if (r > 0)
                        return 2;
        }
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
        struct client *cl = ud;
        (void)s;
        if (!cl->out) {
                int r = read_request(cl);
                if (r == 0)
                        return 0;
                if (r < 0) {
                        client_free(cl);
                        return 0;
                }
                if (r == 2) {
                        hand_over(cl); /* the reply, if any, is written when the socket takes it */
                        return 0;
                }
                sd_event_source_set_io_events(cl->io, EPOLLOUT);
                revents = EPOLLOUT;
        }
        if (revents & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
                while (cl->done < cl->len) {
                        ssize_t k = send(fd, cl->out + cl->done, cl->len - cl->done, MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                                return 0;
                        if (k <= 0)
                                break;
                        cl->done += (size_t)k;
                }
                client_free(cl);
        }
        return 0;
}

static int on_client_timeout(sd_event_source *s, uint64_t usec, void *ud)
{
        (void)s;
        (void)usec;
        struct client *cl = ud;
        log_debug("control: dropped a client that did not finish its request in time");
        client_free(cl);
        return 0;
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
        struct control *c = ud;
        (void)revents;
        for (;;) {
                int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (cfd < 0)
                        return 0;
                if (c->n_clients >= MAX_CLIENTS) {
                        /* Full: the oldest client that has sent nothing yet makes
                         * room, so idle connections cannot lock the others out. */
                        struct client *idle = NULL;
                        for (struct client *k = c->clients; k; k = k->next)
                                if (k->got == 0 && !k->out)
                                        idle = k; /* the list runs newest first */
                        if (idle) {
                                log_debug("control: dropped an idle client to make room");
                                client_free(idle);
                        } else {
                                static const char busy[] = "E41:dockd: too many clients at once; try again\n,X1:5,";
                                if (send(cfd, busy, sizeof(busy) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
                                        log_debug("control: peer gone");
                                close(cfd);
                                continue;
                        }
                }
                struct client *cl = calloc(1, sizeof(*cl));
                if (!cl) {
                        close(cfd);
                        return 0;
                }
                cl->c = c;
                cl->fd = cfd;
                cl->rd.max = CTL_MAX_ARG;
                c->n_clients++;
                cl->next = c->clients;
                cl->prev = &c->clients;
                if (c->clients)
                        c->clients->prev = &cl->next;
                c->clients = cl;
                sd_event *ev = sd_event_source_get_event(s);
                if (sd_event_add_io(ev, &cl->io, cfd, EPOLLIN, on_client, cl) < 0 ||
                    sd_event_add_time_relative(ev, &cl->timer, CLOCK_MONOTONIC, CLIENT_TIMEOUT_US, 0, on_client_timeout,
                                               cl) < 0) {
                        client_free(cl);
                        continue;
                }
        }
}

int control_new(const struct config *cfg, const char *self, int config_fd, sd_event *ev, struct bays *bays,
                struct control **out)
{
        const char *path = cfg->socket_path;
        struct sockaddr_un sa;
        int r = make_addr(path, &sa);
        if (r < 0)
                return r;
        struct control *c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->cfg = cfg;
        c->self = self;
        c->config_fd = config_fd;
        c->ev = ev;
        c->path = xstrdup(path);
        c->bays = bays;
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (c->fd < 0) {
                r = -errno;
                goto fail;
        }
        unlink(path); /* a stale socket of a dockd that died */
        /* Anyone may connect: what a caller may do is decided per request from
         * its credentials, and a caller with no role is refused by name. */
        if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0666) < 0 || listen(c->fd, 64) < 0) {
                r = -errno;
                goto fail;
        }
        if ((r = sd_event_add_io(ev, &c->src, c->fd, EPOLLIN, on_accept, c)) < 0)
                goto fail;
        *out = c;
        return 0;
fail:
        control_free(c);
        return r;
}

void control_free(struct control *c)
{
        if (!c)
                return;
        while (c->clients)
                client_free(c->clients);
        while (c->workers) /* they finish on their own; their ends go unlogged */
                worker_free(c->workers);
        sd_event_source_unref(c->src);
        if (c->fd >= 0) {
                close(c->fd);
                unlink(c->path);
        }
        catalog_close(c->cat);
        free(c->path);
        free(c);
}
