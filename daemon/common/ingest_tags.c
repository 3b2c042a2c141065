/* ingest_tags.c — a copied recording's media probe and tags, off the copy's
 * path. See ingest_internal.h.
 *
 * The probe reads the copy just placed (dockd-probe parses its container).
 * Done in line, it held a lone session's next file back by 90-360 ms a
 * recording with the device and both targets idle. There (probe_behind) a
 * thread of the session's now probes while the next file copies (a
 * station's bays still probe in line: ingest.h says why); what it found is
 * written to the catalog by the session's own thread (the catalog is one
 * thread's), in the order the copies were made, and the session waits for
 * every probe before it is judged. A kill between a copy's commit and its
 * tags leaves a recording with copies and no tags: the next session of that
 * device tags it (ingest_tag_unfinished). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ingest_internal.h"
#include "log.h"
#include "media.h"
#include "util.h"

struct tag_job {
        struct tag_job *next;
        const struct volume_entry *e; /* in the session's listing, which outlives its jobs */
        int64_t rec_id;
        char *local;
        struct media_info m;
        bool probed; /* m is the probe's answer; set under the lock */
};

struct tagger {
        pthread_mutex_t mu;
        pthread_cond_t work_cv; /* a job was queued, or stop */
        pthread_cond_t done_cv; /* a job was probed */
        struct tag_job *head, **tail;
        bool stop, threaded;
        pthread_t thread;
};

static void *probe_main(void *arg)
{
        struct tagger *t = arg;
        pthread_mutex_lock(&t->mu);
        for (;;) {
                struct tag_job *j = t->head;
                while (j && j->probed)
                        j = j->next;
                if (!j) {
                        if (t->stop)
                                break;
                        pthread_cond_wait(&t->work_cv, &t->mu);
                        continue;
                }
                pthread_mutex_unlock(&t->mu);
                /* j stays: the session's thread frees a job only once it is probed */
                media_probe(j->local, &j->m);
                pthread_mutex_lock(&t->mu);
                j->probed = true;
                pthread_cond_signal(&t->done_cv);
        }
        pthread_mutex_unlock(&t->mu);
        return NULL;
}

static void apply(struct run *run, struct tag_job *j)
{
        tag_recording(run, j->e, j->rec_id, &j->m);
        free(j->local);
        free(j);
}

void ingest_tag_later(struct run *run, const struct volume_entry *e, int64_t rec_id, const char *local)
{
        struct tag_job *j = xmalloc(sizeof(*j));
        *j = (struct tag_job){ .e = e, .rec_id = rec_id, .local = xstrdup(local) };
        struct tagger *t = run->tags;
        if (!t && run->o->probe_behind) {
                t = run->tags = xmalloc(sizeof(*t));
                *t = (struct tagger){ .stop = false };
                pthread_mutex_init(&t->mu, NULL);
                pthread_cond_init(&t->work_cv, NULL);
                pthread_cond_init(&t->done_cv, NULL);
                t->tail = &t->head;
                t->threaded = pthread_create(&t->thread, NULL, probe_main, t) == 0;
        }
        if (!t || !t->threaded) { /* in line: a station's bay, or no thread to be had */
                media_probe(j->local, &j->m);
                apply(run, j);
                return;
        }
        pthread_mutex_lock(&t->mu);
        *t->tail = j;
        t->tail = &j->next;
        pthread_cond_signal(&t->work_cv);
        pthread_mutex_unlock(&t->mu);
}

void ingest_collect_tags(struct run *run, bool wait)
{
        struct tagger *t = run->tags;
        if (!t)
                return;
        for (;;) {
                pthread_mutex_lock(&t->mu);
                while (wait && t->head && !t->head->probed)
                        pthread_cond_wait(&t->done_cv, &t->mu);
                struct tag_job *j = t->head;
                if (!j || !j->probed) {
                        pthread_mutex_unlock(&t->mu);
                        return;
                }
                t->head = j->next;
                if (!t->head)
                        t->tail = &t->head;
                pthread_mutex_unlock(&t->mu);
                /* between files: no recording is this thread's context */
                log_context_recording(j->rec_id);
                apply(run, j);
                log_context_recording(0);
        }
}

void ingest_tags_stop(struct run *run)
{
        struct tagger *t = run->tags;
        if (!t)
                return;
        ingest_collect_tags(run, true);
        if (t->threaded) {
                pthread_mutex_lock(&t->mu);
                t->stop = true;
                pthread_cond_signal(&t->work_cv);
                pthread_mutex_unlock(&t->mu);
                pthread_join(t->thread, NULL);
        }
        pthread_mutex_destroy(&t->mu);
        pthread_cond_destroy(&t->work_cv);
        pthread_cond_destroy(&t->done_cv);
        free(t);
        run->tags = NULL;
}

void ingest_tag_unfinished(struct run *run, const struct volume_entry *e, int64_t rec_id)
{
        bool tagged = true;
        int64_t assigned, reported;
        int n = 0;
        if (catalog_recording_tag_facts(run->cat, rec_id, NULL, NULL, &tagged, &assigned, &reported) < 0 || tagged ||
            catalog_recording_copy_count(run->cat, rec_id, &n) < 0 || n == 0)
                return;
        log_context_recording(rec_id);
        struct media_info m = { .duration_s = -1 };
        bool probed = false, missing = false;
        for (size_t i = 0; i < run->cfg->n_targets && !probed; i++) {
                _cleanup_free_ char *rel = NULL;
                if (!run->target_ok[i] || run->targets[i].type != TARGET_FS ||
                    catalog_recording_copy_path(run->cat, rec_id, run->targets[i].id, &rel) < 0)
                        continue;
                _cleanup_free_ char *local = xasprintf("%s/%s", run->targets[i].root, rel);
                /* A copy the catalog counts but the target no longer holds says
                 * nothing about the footage (probing it would flag the
                 * recording unplayable), and it makes "complete" false: the
                 * session says so, scrub restores the copy; try the next. */
                struct stat st;
                int err = stat(local, &st) < 0 ? errno : 0;
                if (err || !S_ISREG(st.st_mode)) {
                        note_error(run,
                                   "%s: %s: its verified copy %s is missing (%s); run 'dockctl scrub' to restore it "
                                   "from the other copy",
                                   run->serial, e->path, local, err ? strerror(err) : "not a regular file");
                        missing = true;
                        continue;
                }
                media_probe(local, &m);
                probed = true;
        }
        if (!probed) {
                snprintf(m.flag, sizeof(m.flag), "unprobed");
                snprintf(m.error, sizeof(m.error), "%s",
                         missing ? "no media probe was recorded, and its filesystem copies were missing when it "
                                   "was tagged"
                                 : "no media probe was recorded, and no filesystem target holds a copy to probe");
        }
        /* an ingest killed between the two, or one from before tags */
        log_warn("%s: %s: has verified copies but no tags; tagged now%s", run->serial, e->path,
                 probed ? " from its copy" : ", without media facts");
        tag_recording(run, e, rec_id, &m);
        note_ingested(run, rec_id, e);
        log_context_recording(0);
}
