/* log.c — see log.h. Under systemd (JOURNAL_STREAM set) each message goes to
 * journald over its native protocol, with the thread's context as fields
 * (DOCKD_DEVICE, DOCKD_SESSION, DOCKD_RECORDING, DOCKD_TARGET), so an admin
 * can `journalctl DOCKD_DEVICE=CAM-0042`; if the journal cannot be reached,
 * or otherwise, a readable line on stderr. */
#include "log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int max_level = LOG_LEVEL_INFO;
static const char *ident = "dockd";

void log_set_level(int level) { max_level = level; }
static bool stderr_only;

void log_set_ident(const char *id) { ident = id; }
void log_to_stderr(void) { stderr_only = true; }

static __thread struct {
        char device[128], target[64];
        long long session, recording;
} ctx;

void log_context_device(const char *serial, int64_t session)
{
        snprintf(ctx.device, sizeof(ctx.device), "%s", serial ? serial : "");
        ctx.session = session;
        ctx.recording = 0;
        ctx.target[0] = '\0';
}
void log_context_recording(int64_t recording) { ctx.recording = recording; }
void log_context_target(const char *target) { snprintf(ctx.target, sizeof(ctx.target), "%s", target ? target : ""); }

/* One field in the native protocol's binary-safe form: NAME\n, 64-bit LE
 * length, value, \n. */
static void field(FILE *f, const char *name, const char *value)
{
        uint64_t n = strlen(value);
        unsigned char len[8];
        for (int i = 0; i < 8; i++)
                len[i] = (unsigned char)(n >> (8 * i));
        fprintf(f, "%s\n", name);
        fwrite(len, 1, 8, f);
        fwrite(value, 1, n, f);
        fputc('\n', f);
}

/* Sends the message to journald; false if it cannot (then stderr takes it). */
static bool to_journal(int level, const char *msg)
{
        const char *path = getenv("DOCKD_JOURNAL_SOCKET");     /* tests point this at their own listener */
        if (!path) {
                if (!getenv("JOURNAL_STREAM"))
                        return false;
                path = "/run/systemd/journal/socket";
        }
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof(sa.sun_path))
                return false;
        memcpy(sa.sun_path, path, strlen(path));
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return false;
        char num[32];
        snprintf(num, sizeof(num), "%d", level);
        field(f, "PRIORITY", num);
        field(f, "SYSLOG_IDENTIFIER", ident);
        field(f, "MESSAGE", msg);
        if (ctx.device[0])
                field(f, "DOCKD_DEVICE", ctx.device);
        if (ctx.session) {
                snprintf(num, sizeof(num), "%lld", ctx.session);
                field(f, "DOCKD_SESSION", num);
        }
        if (ctx.recording) {
                snprintf(num, sizeof(num), "%lld", ctx.recording);
                field(f, "DOCKD_RECORDING", num);
        }
        if (ctx.target[0])
                field(f, "DOCKD_TARGET", ctx.target);
        fclose(f);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        bool ok = fd >= 0 && sendto(fd, buf, len, MSG_NOSIGNAL, (struct sockaddr *)&sa, sizeof(sa)) == (ssize_t)len;
        if (fd >= 0)
                close(fd);
        free(buf);
        return ok;
}

__attribute__((format(printf, 2, 0))) static void vlog(int level, const char *fmt, va_list ap)
{
        if (level > max_level)
                return;
        char raw[2048], msg[4096];
        vsnprintf(raw, sizeof(raw), fmt, ap);
        text_escape(raw, msg, sizeof(msg));     /* a name with a newline must not forge a log line */
        if (!stderr_only && to_journal(level, msg))
                return;
        if (!stderr_only && getenv("JOURNAL_STREAM"))
                fprintf(stderr, "<%d>%s\n", level, msg);        /* stderr goes to the journal, which understands <N> */
        else
                fprintf(stderr, "%s: %s\n", ident, msg);
}

void log_msg(int level, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vlog(level, fmt, ap);
        va_end(ap);
}

int log_errno(int level, int err, const char *fmt, ...)
{
        va_list ap;
        int saved = errno;
        errno = err < 0 ? -err : err;   /* so that %m names this error */
        va_start(ap, fmt);
        vlog(level, fmt, ap);
        va_end(ap);
        errno = saved;
        return err < 0 ? err : -err;
}
