/* log.h — one place that decides how a message reaches the operator: under
 * systemd (JOURNAL_STREAM), journald through sd_journal_sendv with structured
 * fields (the thread's log context); else a readable line on stderr. A failure is logged once, by the caller that
 * decides what to do about it. */
#pragma once
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LEVEL_ERR = 3, LOG_LEVEL_WARN = 4, LOG_LEVEL_INFO = 6, LOG_LEVEL_DEBUG = 7 };

void log_set_level(int level);
void log_set_ident(const char *ident);
/* A progress line is on stderr without its newline: the next message clears it first. */
void log_progress_shown(bool shown);
/* Plain lines on stderr only, never the journal (a request worker: stderr is the caller's). */
void log_to_stderr(void);
/* The thread's context, sent as journal fields with every message: the
 * device and session a bay or ingest works on, the recording, the target. */
void log_context_device(const char *serial, int64_t session);
void log_context_recording(int64_t recording);
void log_context_target(const char *target);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Key events and alarms carry a MESSAGE_ID (systemd/dockd.catalog explains
 * each: `journalctl -x`, `journalctl MESSAGE_ID=...`) and, for alarms,
 * DOCKD_ALARM=name. */
#define LOG_MID_ALARM "787468ebe5a34dea941d292aed73b46a" /* an alarm or warning is raised */
#define LOG_MID_ALARM_CLEARED "5abf2a323f384026b6605186b7dd85f3"
#define LOG_MID_SESSION_END "eb87f88018d74ce1b8ea6572fa45695d" /* a dock session ended: complete or not */
#define LOG_MID_WIPE "f4c9e50717344d67b3808a9ca3edbee8"        /* a recorder reformatted, or why not */
#define LOG_MID_DESTROYED "c1315747b2784a85985370d1945683eb"   /* copies destroyed on approval */
#define LOG_MID_MANIFEST "4a7479c5c94940518cbee0fc8b8c7fd8"    /* a manifest delivered to the archive */
#define LOG_MID_REQUEST "38755fcf0d394b539ce605738ec6d639"     /* a dockctl request ended */
#define LOG_MID_READY "8ece063d46214a4193ba427c8ced7aa5"       /* dockd is ready */
/* alarm: the alarm's name for DOCKD_ALARM, or NULL. */
void log_event(int level, const char *message_id, const char *alarm, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Logs with %m bound to -err, and returns err (negative) so callers can
 * `return log_error_errno(r, ...)`. */
int log_errno(int level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_error(...) log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_error_errno(err, ...) log_errno(LOG_LEVEL_ERR, (err), __VA_ARGS__)
#define log_warn_errno(err, ...) log_errno(LOG_LEVEL_WARN, (err), __VA_ARGS__)
