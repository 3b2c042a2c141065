/* bay_internal.h — a bay's state, shared by bay.c (scheduling) and
 * bay_status.c (what the station shows of it). */
#pragma once
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "bay.h"
#include "ingest.h"

enum bay_state { BAY_DOCKED, BAY_IDENTIFYING, BAY_UNLOCKING, BAY_INGESTING, BAY_DONE };

struct bay {
        struct bays *owner;
        struct dock_info dock;
        struct recorder_identity id;
        uint64_t order; /* dock order */
        char docked_at[32];
        char officer[64];                            /* checked out to, when it docked ("" none) */
        char wipe[320];                              /* [policy] wipe: what was done, or why not ("" not asked) */
        char step[32];                               /* BAY_UNLOCKING: "unlocking", "waiting for the card" */
        int battery_pct;                             /* as the recorder reported it; -1 unknown */
        char reported_badge[32], reported_name[128]; /* the officer the recorder names */
        /* A locked recorder's card, handed over by bays_dock() when its volume
         * appears on the same USB device (card_ready), to the waiting thread. */
        struct dock_info card;
        bool card_ready;
        pthread_cond_t card_cond;
        enum bay_state phase;
        const char *result; /* when BAY_DONE: complete / incomplete / interrupted / failed */
        const char *reason; /* when BAY_DONE and not safe: why, one word (dock.h) */
        int64_t session_id;
        struct ingest_progress prog;
        int64_t files_under_copied, files_seen;
        bool safe_to_remove;
        char error[640];
        volatile sig_atomic_t cancel;
        bool undocked, started, finished, joined;
        pthread_t thread;
        struct bay *next;
};

/* A USB storage device docked that is no recorder: shown, never read. */
struct not_recorder {
        char syspath[512], port[256], what[300], why[200];
        struct not_recorder *next;
};

struct bays {
        const struct config *cfg;
        struct not_recorder *others;
        pthread_mutex_t mu; /* guards the fields bay threads write */
        struct bay *list;
        uint64_t next_order;
        unsigned running;
        size_t chunk_size; /* per-bay pipeline block: the budget split over max_parallel bays */
        unsigned chunks;   /* per-bay blocks in flight */
        bool stopping;     /* shutting down: start nothing new */
        int notify_fd;
        int64_t bytes_copied, files_copied; /* since start, for the metrics */
        int64_t errors, readback_mismatches;
};

/* "docked", "identifying", "ingesting", or the session's result. */
const char *bay_phase_name(const struct bay *b);
