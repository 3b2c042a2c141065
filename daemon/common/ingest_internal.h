/* ingest_internal.h — what ingest.c and ingest_objects.c share: one run's
 * state and the helpers both call. Not for other rooms. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "catalog.h"
#include "config.h"
#include "copy.h"
#include "ingest.h"
#include "media.h"
#include "target.h"
#include "volume.h"

struct uploader;
struct run {
        const struct config *cfg;
        struct catalog *cat;
        const struct ingest_opts *o;
        const char *serial; /* the device as recorded (res->serial) */
        struct ingest_result *res;
        struct target targets[DOCKD_MAX_TARGETS];
        bool target_ok[DOCKD_MAX_TARGETS];
        struct volume *vol;
        int64_t device_id;
        struct ingest_progress prog;
        int64_t rec_id;      /* for checkpoints */
        int64_t ckpt_offset; /* the current file's last recorded resume point */
        struct copy_pool pool;
        double last_progress;
        struct uploader *up; /* object copies in the background, started when first needed */
        struct tagger *tags; /* copies' media probes in the background, started when first needed */
        char retain_until[32];
};

void note_error(struct run *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Is rel taken on target t in the ledger (a taken callback of target.h)? */
int path_taken(void *ud, const struct target *t, const char *rel, bool *taken);
/* Tags a recording once its copies are recorded; copy: a local copy to probe, or NULL. */
void tag_recording(struct run *run, const struct volume_entry *e, int64_t rec_id, const struct media_info *m);
/* Records its ingest time once it has as many verified copies as the policy asks. */
void note_ingested(struct run *run, int64_t rec_id, const struct volume_entry *e);

/* ingest_objects.c: the copies on S3 targets of one file (local: the verified
 * filesystem copy made now, or NULL), and the background uploads' results. */
int ingest_objects(struct run *run, const struct volume_entry *e, struct recording *rec, const char *local,
                   bool *copied);
void ingest_collect_uploads(struct run *run, bool wait);

/* ingest_tags.c: a recording's media probe (of local, a verified copy placed
 * now) and its tags, while the next file copies; collected into the catalog
 * by this thread (wait: all of them). ingest_tags_stop waits for every one.
 * ingest_tag_unfinished tags a recording that has copies but no tags (a kill
 * came between the two), probing one of its filesystem copies. */
void ingest_tag_later(struct run *run, const struct volume_entry *e, int64_t rec_id, const char *local);
void ingest_collect_tags(struct run *run, bool wait);
void ingest_tags_stop(struct run *run);
void ingest_tag_unfinished(struct run *run, const struct volume_entry *e, int64_t rec_id);
