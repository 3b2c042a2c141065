/* bay.h — the docked recorders: one bay per recorder, each with its dock
 * session's state machine (docked → identifying → ingesting → complete /
 * incomplete / interrupted / failed), progress, and the "safe to remove"
 * moment. At most max_parallel bays ingest at once; the rest wait in dock order. */
#pragma once
#include <stdio.h>

#include "config.h"
#include "driver.h"

struct bays;

/* notify_fd: written to (eventfd) when a bay's ingest ends; the event loop
 * then calls bays_reap(). */
int bays_new(const struct config *cfg, struct bays **out);
void bays_free(struct bays *b);
int bays_notify_fd(struct bays *b);

void bays_dock(struct bays *b, const struct dock_info *d);
void bays_undock(struct bays *b, const char *syspath);
/* A USB storage device that is no recorder (or one not to be read), at port:
 * the station shows it as such until it is removed; it is never read. */
void bays_not_recorder(struct bays *b, const char *syspath, const char *port, const char *what, const char *why);
/* Joins finished ingests, forgets undocked bays, starts waiting ones. */
void bays_reap(struct bays *b);
/* SIGTERM: every ingest stops at its next block; returns when all have. */
void bays_shutdown(struct bays *b);
unsigned bays_active(struct bays *b);

/* {"station":..., "bays":[{...}]} */
/* The members {"station":…,"bays":[…] of a JSON object, not closed: the
 * control socket appends the alarms. */
void bays_status_json(struct bays *b, FILE *f);
/* The same as a table for people: progress bar, rate, ETA, safe to remove. */
void bays_status_text(struct bays *b, FILE *f);

struct bay_metrics {
        unsigned docked; /* all of them; the states below are each bay once */
        unsigned waiting, identifying, unlocking, ingesting, safe_to_remove, not_safe;
        double rate_bps;                    /* all bays together */
        int64_t bytes_in_flight;            /* of sessions still running */
        int64_t bytes_copied, files_copied; /* finished sessions since start */
        int64_t errors, readback_mismatches;
};
void bays_metrics(struct bays *b, struct bay_metrics *m);
/* dockd_bay_battery_percent{bay="..."} lines, for the bays whose recorder reported it. */
void bays_battery_metrics(struct bays *b, FILE *f);
