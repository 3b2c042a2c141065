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

static void serve(struct control *c, int fd)
{
        char req[256];
        size_t n = 0;
        struct timeval tv = { .tv_sec = 1 };
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        while (n < sizeof(req) - 1) {
                ssize_t k = read(fd, req + n, sizeof(req) - 1 - n);
                if (k <= 0)
                        break;
                n += (size_t)k;
                if (memchr(req, '\n', n))
                        break;
        }
        req[n] = '\0';
        req[strcspn(req, "\r\n")] = '\0';
        struct ucred cred = { .uid = (uid_t)-1 };
        socklen_t cl = sizeof(cred);
        enum role role = getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == 0 ? role_of(c->cfg, cred.uid, cred.gid)
                                                                                : ROLE_NONE;
        if (role < ROLE_OPERATOR) {
                char line[256];
                int k = snprintf(line, sizeof(line), "{\"error\":\"status needs the operator role (group %s)\"}\n",
                                 role_group(c->cfg, ROLE_OPERATOR));
                if (write(fd, line, (size_t)k) < 0)
                        log_debug("control: peer gone");
                log_warn("control: refused '%s' to uid %u: not an operator", req, (unsigned)cred.uid);
                return;
        }
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        if (!f)
                return;
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
        for (size_t done = 0; done < len;) {
                ssize_t k = write(fd, out + done, len - done);
                if (k <= 0)
                        break;
                done += (size_t)k;
        }
        free(out);
}

static int on_accept(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
        struct control *c = ud;
        int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
        if (cfd < 0)
                return 0;
        serve(c, cfd);
        close(cfd);
        return 0;
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
        if (bind(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0660) < 0 || listen(c->fd, 16) < 0) {
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
