/* log.h — one place that decides how a message reaches the operator: under
 * systemd, journald with structured fields (the thread's log context); else a
 * readable line on stderr. A failure is logged once, by the caller that
 * decides what to do about it. */
#pragma once
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

enum log_level { LOG_LEVEL_ERR = 3, LOG_LEVEL_WARN = 4, LOG_LEVEL_INFO = 6, LOG_LEVEL_DEBUG = 7 };

void log_set_level(int level);
void log_set_ident(const char *ident);
/* Plain lines on stderr only, never the journal (a request worker: stderr is the caller's). */
void log_to_stderr(void);
/* The thread's context, sent as journal fields with every message: the
 * device and session a bay or ingest works on, the recording, the target. */
void log_context_device(const char *serial, int64_t session);
void log_context_recording(int64_t recording);
void log_context_target(const char *target);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Logs with %m bound to -err, and returns err (negative) so callers can
 * `return log_error_errno(r, ...)`. */
int log_errno(int level, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_error(...)  log_msg(LOG_LEVEL_ERR, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)  log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_error_errno(err, ...) log_errno(LOG_LEVEL_ERR, (err), __VA_ARGS__)
#define log_warn_errno(err, ...)  log_errno(LOG_LEVEL_WARN, (err), __VA_ARGS__)
