/* control.c — see control.h. Each request is answered only for a peer whose
 * credentials (SO_PEERCRED) carry the role it needs: operator for status. */
#include "control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "alarms.h"
#include "audit.h"
#include "catalog.h"
#include "log.h"
#include "util.h"

struct control {
        const struct config *cfg;
        struct catalog *cat;    /* opened on first use: alarms come from the catalog */
        char *path;
        int fd;
        sd_event_source *src;
        struct bays *bays;
        unsigned n_clients;
        struct client *clients;         /* the open ones, freed with the control socket */
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

/* One client: the request is read and the reply written as the socket
 * allows, from the event loop, never blocking it. A client that sends
 * slowly, never ends its line, sends too much or reads slowly is dropped
 * after CLIENT_TIMEOUT_US; at most MAX_CLIENTS at once. */
#define MAX_REQUEST 256
#define MAX_CLIENTS 64
#define CLIENT_TIMEOUT_US (2 * 1000000ULL)

struct client {
        struct control *c;
        struct client *next, **prev;
        int fd;
        sd_event_source *io, *timer;
        char req[MAX_REQUEST];
        size_t n;
        char *out;
        size_t len, done;
};

static void client_free(struct client *cl)
{
        sd_event_source_disable_unref(cl->io);
        sd_event_source_disable_unref(cl->timer);
        close(cl->fd);
        free(cl->out);
        cl->c->n_clients--;
        *cl->prev = cl->next;
        if (cl->next)
                cl->next->prev = cl->prev;
        free(cl);
}

/* The reply to a whole request line, from the peer's role. */
static void answer(struct client *cl)
{
        struct control *c = cl->c;
        char *req = cl->req;
        req[cl->n < sizeof(cl->req) ? cl->n : sizeof(cl->req) - 1] = '\0';
        req[strcspn(req, "\r\n")] = '\0';
        struct ucred cred = { .uid = (uid_t)-1 };
        socklen_t len = sizeof(cred);
        enum role role = getsockopt(cl->fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 ? role_of(c->cfg, cred.uid, cred.gid)
                                                                                      : ROLE_NONE;
        FILE *f = open_memstream(&cl->out, &cl->len);
        if (!f)
                return;
        if (role < ROLE_OPERATOR) {
                fprintf(f, "{\"error\":\"status needs the operator role (group %s)\"}\n", role_group(c->cfg, ROLE_OPERATOR));
                char shown[MAX_REQUEST * 4];
                log_warn("control: refused '%s' to uid %u: not an operator", text_escape(req, shown, sizeof(shown)),
                         (unsigned)cred.uid);
                fclose(f);
                return;
        }
        struct alarm_list al = { .n = 0 };
        char err[512];
        if (!c->cat && catalog_open_in(c->cfg->state_dir, &c->cat, err, sizeof(err)) < 0)
                log_error("control: %s", err);
        if (c->cat && alarms_collect(c->cfg, c->cat, &al) < 0)
                log_error("control: cannot read alarms: %s", catalog_errmsg(c->cat));
        if (strcmp(req, "status") == 0) {
                bays_status_json(c->bays, f);
                fputs(",\"alarms\":", f);
                alarms_json(&al, f);
                fputs("}\n", f);
        } else if (strcmp(req, "status text") == 0) {
                bays_status_text(c->bays, f);
                alarms_text(&al, f);
        } else
                fprintf(f, "{\"error\":\"unknown request; known: status, status text\"}\n");
        fclose(f);
}

static void reply_now(struct client *cl, const char *msg)
{
        free(cl->out);
        cl->out = xstrdup(msg);
        cl->len = strlen(msg);
}

static int on_client(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
        struct client *cl = ud;
        (void)s;
        if (!cl->out) {
                for (;;) {
                        if (cl->n == sizeof(cl->req)) {
                                reply_now(cl, "{\"error\":\"request too long\"}\n");
                                break;
                        }
                        ssize_t k = read(fd, cl->req + cl->n, sizeof(cl->req) - cl->n);
                        if (k < 0 && errno == EINTR)
                                continue;
                        if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                                return 0;       /* the rest of the line later */
                        if (k <= 0) {
                                if (cl->n == 0 || k < 0) {
                                        client_free(cl);
                                        return 0;
                                }
                                answer(cl);     /* the peer closed its side after a request without newline */
                                break;
                        }
                        cl->n += (size_t)k;
                        if (memchr(cl->req, '\n', cl->n)) {
                                answer(cl);
                                break;
                        }
                }
                if (!cl->out) {
                        client_free(cl);
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
                                if (k->n == 0 && !k->out)
                                        idle = k;       /* the list runs newest first */
                        if (idle) {
                                log_debug("control: dropped an idle client to make room");
                                client_free(idle);
                        } else {
                                static const char busy[] = "{\"error\":\"too many clients at once; try again\"}\n";
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

int control_new(const struct config *cfg, sd_event *ev, struct bays *bays, struct control **out)
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
        c->path = xstrdup(path);
        c->bays = bays;
        c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (c->fd < 0) {
                r = -errno;
                goto fail;
        }
        unlink(path);   /* a stale socket of a dockd that died */
        if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0660) < 0 || listen(c->fd, 64) < 0) {
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
        sd_event_source_unref(c->src);
        if (c->fd >= 0) {
                close(c->fd);
                unlink(c->path);
        }
        catalog_close(c->cat);
        free(c->path);
        free(c);
}

int control_call(const char *path, const char *request, char **reply)
{
        struct sockaddr_un sa;
        int r = make_addr(path, &sa);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return -errno;
        _cleanup_free_ char *line = xasprintf("%s\n", request);
        if (write(fd, line, strlen(line)) != (ssize_t)strlen(line))
                return -EIO;
        size_t cap = 4096, n = 0;
        char *buf = xmalloc(cap);
        for (;;) {
                if (n + 1 >= cap) {
                        cap *= 2;
                        char *p = realloc(buf, cap);
                        if (!p) {
                                free(buf);
                                return -ENOMEM;
                        }
                        buf = p;
                }
                ssize_t k = read(fd, buf + n, cap - 1 - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t)k;
        }
        buf[n] = '\0';
        *reply = buf;
        return 0;
}
