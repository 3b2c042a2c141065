/* dock.h — one dock session's lifecycle: the model's driver (the config's
 * table) asks the recorder who it is and who carries it, sets or reads its
 * clock, unlocks a locked one and waits for its card; then the identity
 * (bound to what the catalog first saw), the officer it is checked out to,
 * the ingest, the wipe ([policy] wipe = verified), and whether it is safe to
 * remove. The bay that runs it (bay.c: scheduling) hears of each step through
 * hooks; drivers plug in here (driver.h). */
#pragma once
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "driver.h"
#include "ingest.h"

struct dock_hooks {
        void *ud;
        /* Identified; the bay may set the identity apart (one serial docked twice at once). */
        void (*identified)(void *ud, struct recorder_identity *id);
        /* A step before the ingest, in words: "unlocking", "waiting for the card". */
        void (*step)(void *ud, const char *what);
        /* What the device said of itself (battery, officer). */
        void (*reported)(void *ud, const struct device_report *rep);
        /* Waits up to timeout_s for the card of a locked recorder to appear on
         * the same USB port: 0 with its volume in card, -ETIMEDOUT, or
         * -ECANCELED (pulled, shutting down). */
        int (*wait_card)(void *ud, unsigned timeout_s, struct dock_info *card);
        void (*officer)(void *ud, const char *badge);
        void (*progress)(const struct ingest_progress *p, void *ud);
        void (*wiped)(void *ud, const char *what);
};

struct dock_session {
        const struct config *cfg;
        const struct config *ingest_cfg; /* cfg with the bay's share of the memory budget */
        const struct dock_info *dock;
        const char *docked_at;
        volatile sig_atomic_t *cancel;
};

struct dock_result {
        const char *state; /* complete / incomplete / interrupted / failed */
        int64_t session_id, files_seen, files_under_copied, files_copied, bytes_copied;
        int64_t errors, readback_mismatches;
        bool safe_to_remove; /* complete: every entry accounted for with its verified copies */
        char error[640];
        /* why not safe, in one word for the status page ("" safe): no-card,
         * loader, password, card-timeout, no-answer, device-error,
         * station-error, not-all-read, copies-missing, interrupted, error */
        const char *reason;
};

void dock_run(const struct dock_session *s, const struct dock_hooks *h, struct dock_result *out);
