/* log.c — stderr logging with syslog-style <N> prefixes when run by systemd. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int max_level = LOG_LEVEL_INFO;
static const char *ident = "dockd";

void log_set_level(int level) { max_level = level; }
void log_set_ident(const char *id) { ident = id; }

__attribute__((format(printf, 2, 0))) static void vlog(int level, const char *fmt, va_list ap)
{
        if (level > max_level)
                return;
        /* Under systemd, stderr goes to the journal, which understands <N>. */
        if (getenv("JOURNAL_STREAM"))
                fprintf(stderr, "<%d>", level);
        else
                fprintf(stderr, "%s: ", ident);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
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
