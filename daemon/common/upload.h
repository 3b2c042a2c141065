/* upload.h — object copies made in the background. While the ingest reads
 * the next file from the recorder, a thread of its own uploads the last
 * file's verified local copy to each S3 target that lacks it and reads it
 * back (target_s3_put_copy). The ingest thread submits jobs and records the
 * results; this thread reads the ledger through a connection of its own and
 * never writes it. What waits in the queue is names, never data. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "target.h"

struct upload_job {
        int64_t rec_id;
        const void *ud; /* the caller's, returned with each result (its file entry) */
        char sha256[65];
        int64_t size;
        char *local; /* the verified local copy to read; the job owns it */
        const char *serial, *device_path;
        int64_t device_mtime;
        struct target *targets[DOCKD_MAX_TARGETS];
        size_t n_targets;
};

struct upload_result {
        int64_t rec_id;
        const void *ud;
        struct target *target;
        int rc; /* 0, or -errno and why in err */
        char err[640];
        struct target_object o;
        bool adopted;
};

struct uploader;
/* catalog_dir: the state directory, for the thread's own reads of the ledger
 * (which names are taken); retain_until: the lock new objects get. */
int uploader_start(struct uploader **out, const char *catalog_dir, const char *retain_until, char *err,
                   size_t err_size);
/* Queues a job (the uploader takes job->local); waits while two are queued. */
void uploader_submit(struct uploader *u, struct upload_job *job);
/* The results ready now, or (wait) once every job submitted is done: *out is
 * an array of them, to free with upload_results_free. */
size_t uploader_collect(struct uploader *u, struct upload_result **out, bool wait);
void upload_results_free(struct upload_result *r, size_t n);
/* Finishes the queued jobs and ends the thread; results not collected are dropped. */
void uploader_stop(struct uploader *u);
