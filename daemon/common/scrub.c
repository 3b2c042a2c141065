/* scrub.c — see scrub.h. */
#include "scrub.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "s3.h"
#include "target.h"
#include "util.h"

struct run {
        const struct config *cfg;
        struct catalog *cat;
        const struct scrub_opts *o;
        struct scrub_result *res;
        double started;
        struct target_set targets; /* the configured targets, opened when first needed */
};

/* Sleeps as long as needed to keep the bytes read so far under the cap. */
static void throttle(struct run *run)
{
        if (run->o->limit_bps <= 0)
                return;
        double ahead = (double)run->res->bytes / run->o->limit_bps - (time_mono() - run->started);
        if (ahead > 0) {
                struct timespec ts = { (time_t)ahead, (long)((ahead - (time_t)ahead) * 1e9) };
                nanosleep(&ts, NULL);
        }
}

static struct copy_ref ref_of(const struct scrub_copy *k) { return (struct copy_ref){ k->path, k->version_id }; }

/* The good copy's bytes into a new file at path, fsynced. */
static int fetch_to(struct target *g, const struct scrub_copy *gk, const char *path, char *why, size_t why_size)
{
        _cleanup_close_ int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (fd < 0) {
                snprintf(why, why_size, "cannot create %s: %s", path, strerror(errno));
                return -errno;
        }
        struct copy_ref gr = ref_of(gk);
        char err[400];
        int r = g->ops->fetch(g, &gr, fd, err, sizeof(err));
        if (r == 0 && fsync(fd) < 0)
                r = -errno, snprintf(err, sizeof(err), "%s", strerror(errno));
        if (r < 0)
                snprintf(why, why_size, "cannot read the good copy on %.32s: %.300s", g->name, err);
        return r;
}

/* Restores the copy k on filesystem target t from the good copy: the bad one,
 * if any, goes to ROOT/.quarantine; the new one is written under
 * ROOT/.partial, read back past the cache and must hash to sha before it is
 * renamed into place (never over a file). */
static int restore_file(struct target *t, const struct scrub_copy *k, struct target *g, const struct scrub_copy *gk,
                        const char *sha, int64_t size, int64_t rec_id, char *why, size_t why_size)
{
        _cleanup_free_ char *dst = xasprintf("%s/%s", t->root, k->path);
        _cleanup_free_ char *partial = xasprintf("%s/scrub-%lld.part", t->partial_dir, (long long)rec_id);
        int r;
        struct stat st;
        if (lstat(dst, &st) == 0) {
                _cleanup_free_ char *qdir = xasprintf("%s/.quarantine", t->root);
                _cleanup_free_ char *q = xasprintf("%s/rec-%lld-%lld", qdir, (long long)rec_id, (long long)clock_now());
                if ((r = mkdir_p(qdir, 0750)) < 0 || rename(dst, q) < 0 || fsync_parent(dst) < 0) {
                        snprintf(why, why_size, "cannot quarantine the bad copy: %s", strerror(r < 0 ? -r : errno));
                        return r < 0 ? r : -errno;
                }
        }
        unlink(partial); /* a restore a killed scrub left behind */
        char got[65];
        const char *method;
        if ((r = mkdir_p(t->partial_dir, 0750)) < 0) {
                snprintf(why, why_size, "cannot create %s: %s", t->partial_dir, strerror(-r));
                return r;
        }
        if ((r = fetch_to(g, gk, partial, why, why_size)) < 0 ||
            ((r = target_hash_file(partial, size, got, &method)) < 0 &&
             snprintf(why, why_size, "cannot read the new copy back: %s", strerror(-r)))) {
                unlink(partial);
                return r;
        }
        if (strcmp(got, sha) != 0) {
                snprintf(why, why_size, "the new copy read back as %s", got);
                unlink(partial);
                return -EIO;
        }
        _cleanup_free_ char *parent = xstrdup(dst);
        *strrchr(parent, '/') = '\0';
        if ((r = mkdir_p(parent, 0750)) < 0 ||
            (renameat2(AT_FDCWD, partial, AT_FDCWD, dst, RENAME_NOREPLACE) < 0 && (r = -errno)) ||
            (r = fsync_dir(parent)) < 0 || (r = fsync_dir(t->partial_dir)) < 0) {
                snprintf(why, why_size, "cannot place the new copy: %s", strerror(-r));
                unlink(partial);
                return r;
        }
        snprintf(why, why_size, "restored (%s read-back)", method);
        return 0;
}

static ssize_t file_read(void *ud, void *buf, size_t n, int64_t off) { return pread_full(*(int *)ud, buf, n, off); }

static int ledger_taken(void *ud, const struct target *t, const char *rel, bool *taken)
{
        struct run *run = ud;
        return catalog_copy_path_taken(run->cat, t->id, rel, taken);
}

/* Restores the object copy k on S3 target t: the good copy's bytes, staged in
 * the state directory, become a new object version under a new key (a bad
 * version stays as it is: it may be locked), read back by GET; the ledger
 * then names the new version. */
static int restore_object(struct run *run, struct target *t, const struct scrub_item *it, const struct scrub_copy *k,
                          struct target *g, const struct scrub_copy *gk, char *why, size_t why_size)
{
        _cleanup_free_ char *stage = xasprintf("%s/scrub-%lld.stage", run->cfg->state_dir, (long long)it->id);
        unlink(stage);
        int r = fetch_to(g, gk, stage, why, why_size);
        _cleanup_close_ int fd = r < 0 ? -1 : open(stage, O_RDONLY | O_CLOEXEC);
        unlink(stage); /* gone with the descriptor */
        if (r < 0)
                return r;
        t->id = k->target_id;
        struct tm mt = { 0 };
        const char *end = it->device_mtime ? strptime(it->device_mtime, "%Y-%m-%dT%H:%M:%S", &mt) : NULL;
        int64_t mtime = end ? (int64_t)timegm(&mt) : 0; /* the layout's date directory */
        char until[32];
        s3_retain_until(run->cfg->retention_months, until, sizeof(until));
        struct target_object o;
        bool adopted;
        char err[600];
        r = target_s3_put_copy(t, file_read, &fd, it->size, it->sha256, it->device, mtime, it->device_path, until,
                               ledger_taken, run, &o, &adopted, err, sizeof(err));
        if (r < 0) {
                snprintf(why, why_size, "cannot upload a new version: %.340s", err);
                return r;
        }
        struct object_copy oc = { .key = o.key,
                                  .method = "s3-get",
                                  .version_id = o.version_id,
                                  .etag = o.etag,
                                  .lock_mode = o.lock_mode,
                                  .retain_until = o.retain_until };
        r = catalog_copy_moved(run->cat, it->id, k->target_id, &oc);
        snprintf(why, why_size, "restored as %s version %s (s3-get read-back)", o.key, o.version_id);
        if (r < 0)
                snprintf(why, why_size, "restored as %s version %s, but the ledger could not record it: %s", o.key,
                         o.version_id, catalog_errmsg(run->cat));
        target_object_free(&o);
        return r;
}

static int scrub_one(const struct scrub_item *it, void *ud)
{
        struct run *run = ud;
        struct scrub_result *res = run->res;
        const char *state[8];
        int good = -1;
        char detail[8][300];
        struct target *ts[8];
        res->recordings++;
        bool present[8];
        for (size_t i = 0; i < it->n_copies; i++) {
                const struct scrub_copy *k = &it->copies[i];
                struct copy_ref ref = ref_of(k);
                char got[65], err[300];
                const char *method;
                res->copies++;
                detail[i][0] = '\0';
                /* A target whose filesystem is not mounted shows an empty
                 * directory, a bucket that does not answer shows nothing: its
                 * copies are not missing, and nothing may be restored there. */
                ts[i] = target_set_get(&run->targets, k->target, detail[i], sizeof(detail[i]));
                present[i] = ts[i] && ts[i]->ops->check(ts[i], detail[i], sizeof(detail[i])) == 0;
                if (!present[i]) {
                        state[i] = "target-unavailable";
                        res->unavailable++;
                        continue;
                }
                throttle(run);
                int r = ts[i]->ops->hash(ts[i], &ref, it->size, got, &method, err, sizeof(err));
                res->bytes += it->size;
                if (r == -ENOENT) {
                        state[i] = "missing";
                        res->missing++;
                } else if (r < 0) {
                        state[i] = "unreadable";
                        snprintf(detail[i], sizeof(detail[i]), "%s", err);
                        res->unreadable++;
                } else if (strcmp(got, it->sha256) != 0) {
                        state[i] = "mismatch";
                        snprintf(detail[i], sizeof(detail[i]), "hashes to %s, recorded %s", got, it->sha256);
                        res->mismatch++;
                } else {
                        state[i] = NULL;
                        res->ok++;
                        if (good < 0)
                                good = (int)i;
                }
        }
        for (size_t i = 0; i < it->n_copies; i++) {
                const struct scrub_copy *k = &it->copies[i];
                if (!state[i]) {
                        catalog_copy_scrubbed(run->cat, it->id, k->target_id);
                        continue;
                }
                log_error("scrub: recording %lld (%s %s): copy on %s is %s%s%s", (long long)it->id, it->device,
                          it->device_path, k->target, state[i], detail[i][0] ? ": " : "", detail[i]);
                catalog_scrub_finding(run->cat, it->id, k->target_id, k->path, state[i],
                                      detail[i][0] ? detail[i] : NULL);
                if (good < 0 || !present[i])
                        continue;
                const struct scrub_copy *g = &it->copies[good];
                char why[400];
                int rr = ts[i]->type == TARGET_S3
                                 ? restore_object(run, ts[i], it, k, ts[good], g, why, sizeof(why))
                                 : restore_file(ts[i], k, ts[good], g, it->sha256, it->size, it->id, why, sizeof(why));
                if (rr == 0) {
                        _cleanup_free_ char *d = xasprintf("from target %s, %s", g->target, why);
                        catalog_scrub_finding(run->cat, it->id, k->target_id, k->path, "repaired", d);
                        catalog_copy_scrubbed(run->cat, it->id, k->target_id);
                        log_info("scrub: recording %lld: copy on %s %s", (long long)it->id, k->target, d);
                        res->repaired++;
                } else
                        log_error("scrub: recording %lld: copy on %s not repaired: %s", (long long)it->id, k->target,
                                  why);
        }
        bool unknown = false;
        for (size_t i = 0; i < it->n_copies; i++)
                unknown |= !present[i];
        if (good < 0 && unknown) {
                /* not lost: a copy sits on a target that is not there to be read */
                log_error("scrub: recording %lld (%s %s): no good copy on the targets that are there; the others "
                          "are unavailable",
                          (long long)it->id, it->device, it->device_path);
                return 0;
        }
        if (good < 0) {
                res->lost++;
                log_event(LOG_LEVEL_ERR, LOG_MID_ALARM, "recording-lost",
                          "ALARM recording-lost: recording %lld (%s %s): no good copy left", (long long)it->id,
                          it->device, it->device_path);
                catalog_scrub_finding(run->cat, it->id, 0, NULL, "lost", "no copy hashes to the recorded SHA-256");
        }
        return catalog_recording_set_lost(run->cat, it->id, good < 0);
}

/* Each recording, then progress, until asked to stop. */
static int scrub_next(const struct scrub_item *it, void *ud)
{
        struct run *run = ud;
        if (run->o->cancel && *run->o->cancel) {
                run->res->stopped = true;
                return -ECANCELED;
        }
        int r = scrub_one(it, ud);
        if (r >= 0 && run->o->on_progress)
                run->o->on_progress(run->res, run->o->ud);
        return r;
}

int scrub_run(const struct config *cfg, struct catalog *cat, const struct scrub_opts *o, struct scrub_result *res)
{
        memset(res, 0, sizeof(*res));
        struct run run = { .cfg = cfg, .cat = cat, .o = o, .res = res, .started = time_mono(), .targets.cfg = cfg };
        res->started = run.started;
        int r = catalog_scrub_totals(cat, o->since, &res->total_recordings, &res->total_bytes);
        if (r < 0)
                return r;
        r = catalog_scrub_items(cat, o->since, scrub_next, &run);
        target_set_close(&run.targets);
        return r == -ECANCELED && res->stopped ? 0 : r;
}
