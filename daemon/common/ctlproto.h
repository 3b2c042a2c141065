/* ctlproto.h — the control socket's frames (docs/control-protocol.md), shared
 * by dockctl, dockd and the request worker: a type letter, then the payload
 * as a netstring, "O5:hello,". */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#define CTL_VERSION "1"
#define CTL_MAX_ARG 4096      /* request frames */
#define CTL_MAX_REQUEST 65536 /* the whole request */
#define CTL_MAX_ARGS 64
#define CTL_MAX_FRAME 65536 /* reply frames */

/* Request: V (version), A (an argument), F (an argument naming a file; its
 * descriptor rides with the frame), D (the same file opened O_DIRECT), "."
 * (the end). After it: C (stop the work). Reply: O (stdout bytes), E (stderr
 * bytes), X (the exit status, decimal; the last frame). */

/* The client's end: a socket connected to path, or -errno. */
int ctl_connect(const char *path);

/* Writes one frame, all of it (EINTR and short writes handled), with fd
 * (>= 0) attached as SCM_RIGHTS. 0 or -errno. */
int ctl_send(int sock, char type, const void *data, size_t n, int fd);

struct ctl_reader {
        char *buf, *frame;  /* frame: the payload handed out last, NUL-terminated */
        size_t n, cap, max; /* max: the largest frame accepted */
};
/* The next whole frame in r (data is NUL-terminated, valid until the
 * next call): 1 with type, data and len set, 0 if more bytes are needed, -EPROTO on a
 * malformed frame, -EMSGSIZE on one larger than r->max. */
int ctl_next(struct ctl_reader *r, char *type, const char **data, size_t *len);
/* Appends bytes read from the socket. */
int ctl_feed(struct ctl_reader *r, const void *bytes, size_t n);
void ctl_reader_free(struct ctl_reader *r);
