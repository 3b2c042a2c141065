/* log.c — see log.h. Under systemd (JOURNAL_STREAM set) each message goes to
 * journald through sd_journal_sendv, with the thread's context as fields
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

#include <sys/uio.h>
#define SD_JOURNAL_SUPPRESS_LOCATION 1 /* the location would always be log.c */
#include <systemd/sd-journal.h>

#include "util.h"

static int max_level = LOG_LEVEL_INFO;
static const char *ident = "dockd";

void log_set_level(int level) { max_level = level; }
static bool stderr_only, progress_shown;

void log_progress_shown(bool shown) { progress_shown = shown; }

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

/* Sends the message to journald; false if it cannot (then stderr takes it). */
static bool to_journal(int level, const char *msg, const char *message_id, const char *alarm)
{
        /* A request worker's lines are the caller's; its key events the station's too. */
        if ((stderr_only && !message_id) || !getenv("JOURNAL_STREAM"))
                return false;
        /* Each field its own buffer; a field only when it means something
         * now, so no device, session or recording leaks onto a line about
         * something else. */
        char f[9][200];
        struct iovec iov[10];
        size_t n = 0;
        _cleanup_free_ char *m = xasprintf("MESSAGE=%s", msg);
        iov[n++] = (struct iovec){ m, strlen(m) };
#define FIELD(...)                                                                                                     \
        do {                                                                                                           \
                int k_ = snprintf(f[n - 1], sizeof(f[0]), __VA_ARGS__);                                                \
                iov[n] = (struct iovec){ f[n - 1], (size_t)(k_ < (int)sizeof(f[0]) ? k_ : (int)sizeof(f[0]) - 1) };    \
                n++;                                                                                                   \
        } while (0)
        FIELD("PRIORITY=%d", level);
        FIELD("SYSLOG_IDENTIFIER=%s", ident);
        if (message_id)
                FIELD("MESSAGE_ID=%s", message_id);
        if (alarm)
                FIELD("DOCKD_ALARM=%s", alarm);
        if (ctx.device[0])
                FIELD("DOCKD_DEVICE=%s", ctx.device);
        if (ctx.session)
                FIELD("DOCKD_SESSION=%lld", ctx.session);
        if (ctx.recording)
                FIELD("DOCKD_RECORDING=%lld", ctx.recording);
        if (ctx.target[0])
                FIELD("DOCKD_TARGET=%s", ctx.target);
#undef FIELD
        return sd_journal_sendv(iov, (int)n) >= 0;
}

__attribute__((format(printf, 4, 0))) static void vlog(int level, const char *message_id, const char *alarm,
                                                       const char *fmt, va_list ap)
{
        if (level > max_level)
                return;
        char raw[2048], msg[4096];
        vsnprintf(raw, sizeof(raw), fmt, ap);
        text_escape(raw, msg, sizeof(msg)); /* a name with a newline must not forge a log line */
        if (to_journal(level, msg, message_id, alarm))
                return; /* a worker's event: the verb's own output tells the caller */
        if (progress_shown) {
                fputs("\r\033[K", stderr); /* never a warning printed onto a progress line */
                progress_shown = false;
        }
        if (!stderr_only && getenv("JOURNAL_STREAM"))
                fprintf(stderr, "<%d>%s\n", level, msg); /* stderr goes to the journal, which understands <N> */
        else
                fprintf(stderr, "%s: %s\n", ident, msg);
}

void log_event(int level, const char *message_id, const char *alarm, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vlog(level, message_id, alarm, fmt, ap);
        va_end(ap);
}

void log_msg(int level, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vlog(level, NULL, NULL, fmt, ap);
        va_end(ap);
}

int log_errno(int level, int err, const char *fmt, ...)
{
        va_list ap;
        int saved = errno;
        errno = err < 0 ? -err : err; /* so that %m names this error */
        va_start(ap, fmt);
        vlog(level, NULL, NULL, fmt, ap);
        va_end(ap);
        errno = saved;
        return err < 0 ? err : -err;
}
