/* scrub.h — re-reads every verified copy past the page cache, compares it
 * with the recording's SHA-256, and restores a bad or missing copy from a
 * good one (verified again before it takes the copy's place); a bad copy is
 * moved to TARGET/.quarantine, never deleted. Each finding is recorded; a
 * recording with no good copy left is marked lost (an alarm). */
#pragma once
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "config.h"

struct scrub_result {
        int64_t recordings, copies, ok, missing, mismatch, unreadable, repaired, lost, bytes;
        int64_t unavailable;                   /* copies on a target whose filesystem is not there: not checked */
        int64_t total_recordings, total_bytes; /* what the scrub will read, for progress */
        double started;                        /* time_mono() at start */
        bool stopped;                          /* asked to stop: the rest is not checked */
};
struct scrub_opts {
        const char *since;             /* only recordings ingested at or after (catalog time form); NULL: all */
        double limit_bps;              /* read rate cap, bytes/s; 0: none */
        volatile sig_atomic_t *cancel; /* set: stop after the recording being checked */
        void (*on_progress)(const struct scrub_result *r, void *ud); /* after each recording */
        void *ud;
};
int scrub_run(const struct config *cfg, struct catalog *cat, const struct scrub_opts *o, struct scrub_result *res);
