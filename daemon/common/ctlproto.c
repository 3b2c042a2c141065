/* ctlproto.c — see ctlproto.h. */
#include "ctlproto.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int ctl_send(int sock, char type, const void *data, size_t n, int fd)
{
        char head[32];
        int h = snprintf(head, sizeof(head), "%c%zu:", type, n);
        struct iovec iov[3] = {
                { head, (size_t)h },
                { (void *)data, n },
                { (void *)",", 1 },
        };
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } cm;
        struct msghdr msg = { .msg_iov = iov, .msg_iovlen = 3 };
        if (fd >= 0) {
                memset(&cm, 0, sizeof(cm));
                msg.msg_control = cm.buf;
                msg.msg_controllen = sizeof(cm.buf);
                struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
                c->cmsg_level = SOL_SOCKET;
                c->cmsg_type = SCM_RIGHTS;
                c->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(c), &fd, sizeof(int));
        }
        size_t left = (size_t)h + n + 1;
        while (left > 0) {
                ssize_t k = sendmsg(sock, &msg, MSG_NOSIGNAL);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                msg.msg_control = NULL; /* the descriptor went with the first bytes */
                msg.msg_controllen = 0;
                left -= (size_t)k;
                while (k > 0 && msg.msg_iovlen > 0) {
                        size_t take = (size_t)k < msg.msg_iov->iov_len ? (size_t)k : msg.msg_iov->iov_len;
                        msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + take;
                        msg.msg_iov->iov_len -= take;
                        k -= (ssize_t)take;
                        if (msg.msg_iov->iov_len == 0) {
                                msg.msg_iov++;
                                msg.msg_iovlen--;
                        }
                }
        }
        return 0;
}

int ctl_feed(struct ctl_reader *r, const void *bytes, size_t n)
{
        if (r->n + n > r->cap) {
                size_t cap = r->cap ? r->cap : 4096;
                while (cap < r->n + n)
                        cap *= 2;
                char *p = realloc(r->buf, cap);
                if (!p)
                        return -ENOMEM;
                r->buf = p;
                r->cap = cap;
        }
        memcpy(r->buf + r->n, bytes, n);
        r->n += n;
        return 0;
}

int ctl_next(struct ctl_reader *r, char *type, const char **data, size_t *len)
{
        if (r->n == 0)
                return 0;
        size_t i = 1, size = 0;
        if (!((r->buf[0] >= 'A' && r->buf[0] <= 'Z') || r->buf[0] == '.'))
                return -EPROTO;
        for (; i < r->n && r->buf[i] != ':'; i++) {
                if (r->buf[i] < '0' || r->buf[i] > '9' || i > 9)
                        return -EPROTO;
                size = size * 10 + (size_t)(r->buf[i] - '0');
        }
        if (size > r->max)
                return -EMSGSIZE;
        if (i >= r->n)
                return 0;
        if (i == 1 || (r->buf[1] == '0' && i > 2))
                return -EPROTO; /* no digits, or a leading zero */
        size_t end = i + 1 + size;
        if (r->n < end + 1)
                return 0;
        if (r->buf[end] != ',')
                return -EPROTO;
        *type = r->buf[0];
        char *frame = malloc(size + 1);
        if (!frame)
                return -ENOMEM;
        memcpy(frame, r->buf + i + 1, size);
        frame[size] = '\0';
        free(r->frame);
        r->frame = frame;
        r->n -= end + 1;
        memmove(r->buf, r->buf + end + 1, r->n);
        *data = frame;
        *len = size;
        return 1;
}

void ctl_reader_free(struct ctl_reader *r)
{
        free(r->buf);
        free(r->frame);
        r->buf = r->frame = NULL;
        r->n = r->cap = 0;
}

int ctl_connect(const char *path)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path))
                return -ENAMETOOLONG;
        memcpy(sa.sun_path, path, strlen(path));
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}
