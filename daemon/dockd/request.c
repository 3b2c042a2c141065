/* request.c — see request.h. */
#include "request.h"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ctlproto.h"
#include "log.h"
#include "util.h"
#include "verbs.h"

#define SOCK 3

static volatile sig_atomic_t stop_asked;

/* The caller's Ctrl-C arrives as a C frame, or as the end of its socket. */
static void on_sigio(int sig)
{
        (void)sig;
        int saved = errno;
        char b[64];
        ssize_t k;
        while ((k = recv(SOCK, b, sizeof(b), MSG_DONTWAIT)) > 0)
                if (memchr(b, 'C', (size_t)k))
                        stop_asked = 1;
        if (k == 0)
                stop_asked = 1;
        errno = saved;
}

static void on_term(int sig)
{
        (void)sig;
        stop_asked = 1; /* dockd stops: the work ends at its next safe point */
}

struct stream {
        char type;
        bool broken;
};

static ssize_t stream_write(void *cookie, const char *buf, size_t n)
{
        struct stream *s = cookie;
        if (s->broken)
                return (ssize_t)n; /* the caller left; the work's own result still counts */
        for (size_t off = 0; off < n;) {
                size_t k = n - off < CTL_MAX_FRAME ? n - off : CTL_MAX_FRAME;
                if (ctl_send(SOCK, s->type, buf + off, k, -1) < 0) {
                        s->broken = true;
                        break;
                }
                off += k;
        }
        return (ssize_t)n;
}

static FILE *frame_stream(struct stream *s, int buffering)
{
        FILE *f = fopencookie(s, "w", (cookie_io_functions_t){ .write = stream_write });
        if (f)
                setvbuf(f, NULL, buffering, 16384);
        return f;
}

int request_serve(int argc, char **argv)
{
        static struct stream out = { 'O', false }, err = { 'E', false };
        signal(SIGPIPE, SIG_IGN);
        struct sigaction sa = { .sa_handler = on_term };
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        FILE *fo = frame_stream(&out, _IOFBF), *fe = frame_stream(&err, _IOLBF);
        if (!fo || !fe)
                return 1;
        stdout = fo;
        stderr = fe;
        log_set_ident("dockctl");       /* the caller's words: what they ran said it */
        setlocale(LC_CTYPE, "C.UTF-8"); /* tables measure UTF-8 text by display width */
        log_to_stderr();

        const char *state = NULL;
        struct ctx c = { .cancel = &stop_asked };
        int i = 0;
        for (; i < argc && strcmp(argv[i], "--") != 0; i++) {
                if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
                        state = argv[++i];
                else if (strcmp(argv[i], "--terminal") == 0 && i + 1 < argc) {
                        c.progress = true;
                        c.width = (unsigned)atoi(argv[++i]);
                } else if (strcmp(argv[i], "--input") == 0 && i + 3 < argc && c.n_inputs < VERB_MAX_INPUTS) {
                        struct verb_input *in = &c.inputs[c.n_inputs++];
                        in->name = argv[i + 1];
                        in->fds[0] = atoi(argv[i + 2]);
                        in->fds[1] = atoi(argv[i + 3]);
                        i += 3;
                }
        }
        int rc = 1;
        char e[512];
        /* The config dockd read at start, handed over as fd 4 (closed: none). */
        char cfgpath[32];
        snprintf(cfgpath, sizeof(cfgpath), "/proc/self/fd/%d", SOCK + 1);
        const char *cfgfile = fcntl(SOCK + 1, F_GETFD) >= 0 ? cfgpath : "";
        if (i >= argc) {
                fprintf(stderr, "dockd --serve-request is started by dockd for a dockctl request\n");
        } else if (config_load(&c.cfg, cfgfile, state, e, sizeof(e)) < 0) {
                log_error("dockd's configuration: %s", e);
        } else {
                c.role = peer_role(&c.cfg, SOCK, c.caller, sizeof(c.caller), NULL);
                struct sigaction io = { .sa_handler = on_sigio };
                sigaction(SIGIO, &io, NULL);
                fcntl(SOCK, F_SETOWN, getpid());
                fcntl(SOCK, F_SETFL, fcntl(SOCK, F_GETFL) | O_ASYNC);
                rc = verbs_run(&c, argc - i - 1, argv + i + 1);
                if (stop_asked && !out.broken)
                        fprintf(stderr,
                                "dockctl: stopped at a safe point, as asked; what was verified stays recorded\n");
                catalog_close(c.cat);
                config_free(&c.cfg);
        }
        fflush(stdout);
        fflush(stderr);
        char x[16];
        snprintf(x, sizeof(x), "%d", rc);
        ctl_send(SOCK, 'X', x, strlen(x), -1);
        return rc;
}
