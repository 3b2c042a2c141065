/* alarms.h — conditions a person must act on, computed from the catalog (the
 * truth), not remembered: the same list feeds `dockctl status`, `dockctl
 * archive status`, the journal (on each change) and, later, the metrics. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "catalog.h"
#include "config.h"

#define ALARMS_MAX 16

struct alarm {
        char name[64];  /* stable identifier, e.g. "archive-overdue", "target-unavailable:ssd" */
        bool warning;   /* a warning comes before an alarm (deadline near) */
        int64_t count;  /* how many objects are in this state */
        char text[400]; /* what is wrong and what to do, for a person */
};

struct alarm_list {
        struct alarm a[ALARMS_MAX];
        size_t n;
};

/* The archive's view: the outbox status at `now`, with its derived ages. */
struct archive_view {
        struct outbox_status o;
        int64_t now;
        int64_t oldest_age_s;       /* -1: nothing queued */
        int64_t next_deadline_in_s; /* negative: overdue; INT64_MIN when nothing queued */
};
int archive_view_get(const struct config *cfg, struct catalog *cat, struct archive_view *v);

/* Every active alarm. Returns 0 or -errno (the catalog could not be read). */
int alarms_collect(const struct config *cfg, struct catalog *cat, struct alarm_list *out);
void alarms_json(const struct alarm_list *l, FILE *f); /* a JSON array */
void alarms_text(const struct alarm_list *l, FILE *f); /* one line each */
/* Logs each alarm that is new or grew since `prev`, and each that cleared;
 * then prev = now. */
void alarms_log_changes(struct alarm_list *prev, const struct alarm_list *now);
