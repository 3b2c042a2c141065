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
#include "target.h"
#include "util.h"

struct run {
        const struct config *cfg;
        struct catalog *cat;
        const struct scrub_opts *o;
        struct scrub_result *res;
        double started;
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

/* Copies src to dst (created, fsynced). */
static int copy_file(const char *src, const char *dst)
{
        _cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
        if (in < 0)
                return -errno;
        _cleanup_close_ int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        if (out < 0)
                return -errno;
        _cleanup_free_ char *buf = xmalloc(4u << 20);
        off_t off = 0;
        for (;;) {
                ssize_t k = pread_full(in, buf, 4u << 20, off);
                if (k < 0)
                        return (int)k;
                if (k == 0)
                        break;
                int r = pwrite_full(out, buf, (size_t)k, off);
                if (r < 0)
                        return r;
                off += k;
        }
        return fsync(out) < 0 ? -errno : 0;
}

/* Restores the copy at dst (a target's root + rel) from the good copy at src:
 * the bad one, if any, goes to ROOT/.quarantine; the new one is written under
 * ROOT/.partial, read back past the cache and must hash to sha before it is
 * renamed into place (never over a file). */
static int restore(const struct scrub_copy *k, const char *src, const char *sha, int64_t size, int64_t rec_id,
                   char *why, size_t why_size)
{
        _cleanup_free_ char *dst = xasprintf("%s/%s", k->root, k->path);
        _cleanup_free_ char *partial = xasprintf("%s/.partial/scrub-%lld.part", k->root, (long long)rec_id);
        _cleanup_free_ char *pdir = xasprintf("%s/.partial", k->root);
        int r;
        struct stat st;
        if (lstat(dst, &st) == 0) {
                _cleanup_free_ char *qdir = xasprintf("%s/.quarantine", k->root);
                _cleanup_free_ char *q = xasprintf("%s/rec-%lld-%lld", qdir, (long long)rec_id, (long long)clock_now());
                if ((r = mkdir_p(qdir, 0750)) < 0 || rename(dst, q) < 0 || fsync_parent(dst) < 0) {
                        snprintf(why, why_size, "cannot quarantine the bad copy: %s", strerror(r < 0 ? -r : errno));
                        return r < 0 ? r : -errno;
                }
        }
        unlink(partial); /* a restore a killed scrub left behind */
        char got[65];
        const char *method;
        if ((r = mkdir_p(pdir, 0750)) < 0 || (r = copy_file(src, partial)) < 0 ||
            (r = target_hash_file(partial, size, got, &method)) < 0) {
                snprintf(why, why_size, "cannot write the new copy: %s", strerror(-r));
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
            (r = fsync_dir(parent)) < 0 || (r = fsync_dir(pdir)) < 0) {
                snprintf(why, why_size, "cannot place the new copy: %s", strerror(-r));
                unlink(partial);
                return r;
        }
        snprintf(why, why_size, "restored (%s read-back)", method);
        return 0;
}

static int scrub_one(const struct scrub_item *it, void *ud)
{
        struct run *run = ud;
        struct scrub_result *res = run->res;
        const char *state[8];
        int good = -1;
        char detail[8][300];
        res->recordings++;
        bool present[8];
        for (size_t i = 0; i < it->n_copies; i++) {
                const struct scrub_copy *k = &it->copies[i];
                _cleanup_free_ char *abs = xasprintf("%s/%s", k->root, k->path);
                char got[65];
                const char *method;
                res->copies++;
                detail[i][0] = '\0';
                /* A target whose filesystem is not mounted shows an empty
                 * directory: its copies are not missing, and nothing may be
                 * restored onto the disk below it. */
                present[i] = target_root_check(k->root, k->target, detail[i], sizeof(detail[i])) == 0;
                if (!present[i]) {
                        state[i] = "target-unavailable";
                        res->unavailable++;
                        continue;
                }
                throttle(run);
                int r = target_hash_file(abs, it->size, got, &method);
                res->bytes += it->size;
                if (r == -ENOENT) {
                        state[i] = "missing";
                        res->missing++;
                } else if (r < 0) {
                        state[i] = "unreadable";
                        snprintf(detail[i], sizeof(detail[i]), "%s", strerror(-r));
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
                _cleanup_free_ char *src = xasprintf("%s/%s", g->root, g->path);
                char why[400];
                if (restore(k, src, it->sha256, it->size, it->id, why, sizeof(why)) == 0) {
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
        struct run run = { .cfg = cfg, .cat = cat, .o = o, .res = res, .started = time_mono() };
        res->started = run.started;
        int r = catalog_scrub_totals(cat, o->since, &res->total_recordings, &res->total_bytes);
        if (r < 0)
                return r;
        r = catalog_scrub_items(cat, o->since, scrub_next, &run);
        return r == -ECANCELED && res->stopped ? 0 : r;
}
