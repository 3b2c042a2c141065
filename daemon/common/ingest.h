/* ingest.h — one pull of one recorder volume: plan the files against the
 * catalog, copy what is new or under-copied through the copy pipeline, resume
 * unfinished files, and record exactly what was verified. */
#pragma once
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "config.h"
#include "identity.h"

struct ingest_progress {
        size_t file_index, n_files;
        const char *device_path;
        int64_t bytes_done, bytes_total; /* over the files that need copying */
        double started;                  /* time_mono() at start */
};

struct ingest_opts {
        const char *source; /* image file or block device */
        bool source_passed; /* read source_fds, the caller's descriptors of it (volume_open) */
        int source_fds[2];
        const char *serial;
        const struct recorder_identity *identity; /* docked: USB identity and bay; NULL for an image */
        const char *actor, *actor_role;           /* who runs it, for the audit chain (NULL: "dockd", "station") */
        const struct session_report *report;      /* what the device said of itself (NULL: nothing) */
        const char *device_officer;               /* the badge the device names, for recordings whose name has none */
        bool has_clock_offset;                    /* measured at dock time */
        int64_t clock_offset_s;                   /* device clock − station clock */
        /* Probe each copy in a thread while the next file copies: for a lone
         * session (dockctl ingest), whose disk would idle meanwhile. A
         * station's bays probe in line: other bays keep the disk busy, and
         * sixteen probes beside sixteen copies took the cores from the bays
         * still docking (the slowest first byte 0.6-2.0 s against 0.2-0.6). */
        bool probe_behind;
        volatile sig_atomic_t *cancel;
        void (*on_progress)(const struct ingest_progress *p, void *ud);
        void *ud;
};

struct ingest_result {
        int64_t session_id;
        char serial[192];  /* as recorded: a flagged identity gets a suffix */
        const char *state; /* complete / incomplete / interrupted / failed */
        struct session_counts n;
        int64_t files_resumed, deleted_new, deleted_seen, bytes_total;
        char error[640]; /* first error, for the summary */
        size_t n_errors;
        char unread[900];            /* the first blocking finding: what was not read, walked or told apart */
        size_t n_unread;             /* blocking findings: the session cannot be complete */
        int64_t unaccounted_bytes;   /* allocated on the device, owned by no walked entry */
        int64_t resume_bytes_reread; /* source bytes read again to check resume points */
        int64_t readback_mismatches; /* copies whose read-back differed from what was written */
};

/* Bytes per second so far, and *eta_s the seconds left (-1: unknown). */
double ingest_progress_rate(const struct ingest_progress *p, double now, double *eta_s);

/* Returns 0 when the session ran to its end (see res->state), or -errno when it
 * could not start or the volume could not be read (res->error names why). */
int ingest_run(const struct config *cfg, struct catalog *cat, const struct ingest_opts *o, struct ingest_result *res);
