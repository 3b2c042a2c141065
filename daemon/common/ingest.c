/* ingest.c — plan + per-file orchestration around copy.c. */
#include "ingest.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit.h"
#include "copy.h"
#include "ingest_internal.h"
#include "log.h"
#include "manifest.h"
#include "mhl.h"
#include "media.h"
#include "tags.h"
#include "s3.h"
#include "station.h"
#include "target.h"
#include "upload.h"
#include "util.h"
#include "volume.h"

void note_error(struct run *run, const char *fmt, ...)
{
        char msg[640];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        log_error("%s", msg);
        if (run->res->n_errors++ == 0)
                snprintf(run->res->error, sizeof(run->res->error), "%s", msg);
}

double ingest_progress_rate(const struct ingest_progress *p, double now, double *eta_s)
{
        double el = p->started > 0 ? now - p->started : 0;
        double rate = el > 0 ? p->bytes_done / el : 0;
        *eta_s = rate > 0 && p->bytes_total >= p->bytes_done ? (p->bytes_total - p->bytes_done) / rate : -1;
        return rate;
}

static int on_checkpoint(void *ud, int64_t offset, const char *sha)
{
        struct run *run = ud;
        crashpoint("before-checkpoint");
        int r = catalog_recording_checkpoint(run->cat, run->rec_id, offset, sha);
        if (r == 0)
                run->ckpt_offset = offset;
        crashpoint("after-checkpoint");
        return r;
}

static void on_bytes(void *ud, int64_t n)
{
        struct run *run = ud;
        run->prog.bytes_done += n;
        double now = time_mono();
        if (run->o->on_progress && now - run->last_progress >= 0.25) {
                run->last_progress = now;
                run->o->on_progress(&run->prog, run->o->ud);
        }
}

/* Records what the session could not read, walk or tell apart (blocking:
 * the session cannot be complete), or a warning worth keeping, and logs it
 * once. */
static void finding(struct run *run, bool blocking, const char *kind, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void finding(struct run *run, bool blocking, const char *kind, const char *fmt, ...)
{
        char msg[900];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (blocking)
                log_error("%s: %s", run->serial, msg);
        else
                log_warn("%s: %s", run->serial, msg);
        if (catalog_session_finding_add(run->cat, run->res->session_id, blocking, kind, msg) < 0)
                log_error("%s: cannot record the finding above: %s", run->serial, catalog_errmsg(run->cat));
        if (blocking && run->res->n_unread++ == 0)
                snprintf(run->res->unread, sizeof(run->res->unread), "%s", msg);
}

/* SHA-256 (and XXH128) of the device file's first off bytes, read now, into md (and xxh). */
static int hash_source_prefix(struct run *run, const struct volume_entry *e, int64_t off, EVP_MD_CTX *md,
                              XXH3_state_t *xxh)
{
        struct volume_file *vf = NULL;
        char err[512];
        /* the pipeline's first buffer: idle until the copy starts */
        size_t bs = run->pool.chunk_size;
        void *buf = run->pool.bufs[0];
        int r = volume_file_open(run->vol, e, &vf, err, sizeof(err));
        for (int64_t got = 0; r == 0 && got < off;) {
                size_t want = off - got < (int64_t)bs ? (size_t)(off - got) : bs;
                ssize_t k = volume_file_read(vf, got, buf, want, err, sizeof(err));
                if (k <= 0) {
                        r = k < 0 ? (int)k : -EIO;
                        break;
                }
                EVP_DigestUpdate(md, buf, (size_t)k);
                XXH3_128bits_update(xxh, buf, (size_t)k);
                got += k;
                run->res->resume_bytes_reread += k;
        }
        volume_file_close(vf);
        return r;
}

/* Decides where a resumed file starts. Every kept partial copy must still
 * hash to the recorded SHA-256 of the prefix, and so must the device's own
 * first bytes, read again now: a device file that changed anywhere since the
 * interrupted pull is never spliced onto the old copies (it is copied anew,
 * and the change is recorded as an INTEGRITY finding). md gets the state of
 * the device's prefix. Returns 0 to start over. */
static int64_t resume_point(struct run *run, const struct recording *rec, const struct volume_entry *e,
                            struct copy_sink *sinks, size_t n, const char **partials, EVP_MD_CTX *md, XXH3_state_t *xxh)
{
        int64_t off = rec->resume_offset;
        if (off <= 0 || off >= e->size || !rec->resume_sha256[0] || rec->has_sha256 || n == 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                struct stat st;
                if (fstat(sinks[i].fd, &st) < 0 || st.st_size < off)
                        return 0;
                EVP_MD_CTX *ctx = EVP_MD_CTX_new();
                const char *method;
                char hex[SHA256_HEX_LEN + 1];
                unsigned char d[32];
                unsigned dl;
                EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
                int r = target_hash_into(partials[i], off, ctx, &method);
                EVP_DigestFinal_ex(ctx, d, &dl);
                EVP_MD_CTX_free(ctx);
                hex_encode(d, 32, hex);
                if (r < 0 || strcmp(hex, rec->resume_sha256) != 0) {
                        log_warn(
                                "%s: %s: kept partial copy on target %s does not match its resume point; starting over",
                                run->serial, e->path, sinks[i].target->name);
                        return 0;
                }
        }
        EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        XXH3_128bits_reset(xxh);
        int r = hash_source_prefix(run, e, off, md, xxh);
        if (r < 0) {
                log_warn("%s: %s: cannot re-read its first %lld bytes to resume; starting over", run->serial, e->path,
                         (long long)off);
                return 0;
        }
        EVP_MD_CTX *tmp = EVP_MD_CTX_new();
        unsigned char d[32];
        unsigned dl;
        char hex[SHA256_HEX_LEN + 1];
        EVP_MD_CTX_copy_ex(tmp, md);
        EVP_DigestFinal_ex(tmp, d, &dl);
        EVP_MD_CTX_free(tmp);
        hex_encode(d, 32, hex);
        if (strcmp(hex, rec->resume_sha256) != 0) {
                finding(run, false, "integrity",
                        "%s: INTEGRITY: its first %lld bytes on the device changed since the interrupted pull (SHA-256 "
                        "%s, "
                        "was %s); the kept partial copies are discarded and the file is copied anew",
                        e->path, (long long)off, hex, rec->resume_sha256);
                return 0;
        }
        return off;
}

/* The ledger's side of placement: a path the catalog already gives a copy. */
int path_taken(void *ud, const struct target *t, const char *rel, bool *taken)
{
        struct run *run = ud;
        return catalog_copy_path_taken(run->cat, t->id, rel, taken);
}

/* Puts a verified partial into the target's layout (target_place_copy). */
static int place(struct run *run, const struct target *t, const char *partial, const struct volume_entry *e,
                 const char *sha, char **relpath_out)
{
        bool adopted = false;
        int r = target_place_copy(t, partial, run->serial, e->mtime, e->path, sha, path_taken, run, relpath_out,
                                  &adopted);
        if (r == 0 && adopted)
                log_info("%s: %s: adopting %s on target %s, left by an interrupted run", run->serial, e->path,
                         *relpath_out, t->name);
        return r;
}

/* An S3 target's opening (its client, and its bucket checked over the
 * network), in a thread of its own while the device's volume is opened and
 * walked: an object store busy with other bays does not hold back the
 * recorder's first byte. The catalog's part (s3_openings_join) waits for it.
 * (libcurl initialises itself thread-safely since 7.84: "threadsafe".) */
struct s3_opening {
        pthread_t thread;
        bool running, joined;
        struct target *t;
        const struct target_conf *tc;
        int r;
        char err[512];
};

static void *s3_open_thread(void *ud)
{
        struct s3_opening *so = ud;
        so->r = target_s3_open(so->t, so->tc, so->err, sizeof(so->err));
        return NULL;
}

/* Waits for every opening still under way, then takes each opened target
 * into the station (station_target_join). Returns how many are ready. */
static size_t s3_openings_join(struct run *run, struct s3_opening *opening, struct catalog *cat)
{
        size_t ok = 0;
        for (size_t i = 0; i < run->cfg->n_targets; i++) {
                struct s3_opening *so = &opening[i];
                if (!so->tc || so->joined)
                        continue;
                if (so->running)
                        pthread_join(so->thread, NULL);
                so->joined = true;
                if (so->r < 0 || station_target_join(so->t, so->tc, cat, so->err, sizeof(so->err)) < 0) {
                        note_error(run, "%s", so->err);
                        continue;
                }
                run->target_ok[i] = true;
                ok++;
        }
        return ok;
}

static int verified_copies(struct run *run, int64_t rec_id, int *n)
{
        *n = 0;
        for (size_t i = 0; i < run->cfg->n_targets; i++) {
                bool has = false;
                if (!run->target_ok[i])
                        continue;
                int r = catalog_recording_has_copy(run->cat, rec_id, run->targets[i].id, &has);
                if (r < 0)
                        return r;
                *n += has;
        }
        return 0;
}

/* Tags a recording once its copies are recorded (tags.c decides, the catalog
 * stores): its times, media facts (m: probed from a verified copy, never
 * the recorder), and its officer. A tag that cannot be read is flagged,
 * never a reason to fail the ingest. */
void tag_recording(struct run *run, const struct volume_entry *e, int64_t rec_id, const struct media_info *mi)
{
        const struct media_info m = *mi;
        struct name_tags nt;
        struct recording_tags t = { .duration_s = -1 };
        bool named = name_pattern_match(run->cfg->name_pattern, e->path, &nt);
        struct tag_times_in in = {
                .has_media_time = m.has_creation,
                .media_time = m.creation,
                .has_name_time = named && nt.has_time,
                .name_time = nt.time,
                .mtime = e->mtime,
                .duration_s = m.duration_s,
                .clock_offset_s = run->o->has_clock_offset ? run->o->clock_offset_s : 0,
        };
        struct tag_times tt;
        tags_times(&in, &tt);
        t.time_source = tt.source;
        if (tt.has_start) {
                time_device_iso(tt.start_device, t.start_device, sizeof(t.start_device));
                time_iso(tt.start_utc, t.start_utc, sizeof(t.start_utc));
        }
        if (tt.has_end) {
                time_device_iso(tt.end_device, t.end_device, sizeof(t.end_device));
                time_iso(tt.end_utc, t.end_utc, sizeof(t.end_utc));
        }
        t.duration_s = m.duration_s;
        snprintf(t.codec, sizeof(t.codec), "%s", m.codec);
        t.width = m.width;
        t.height = m.height;
        t.media_flag = m.flag[0] ? m.flag : NULL;
        t.media_error = m.error[0] ? m.error : NULL;
        t.has_seq = named && nt.has_seq;
        t.seq = nt.seq;
        t.device_officer = named && nt.officer[0]                              ? nt.officer
                           : run->o->device_officer && *run->o->device_officer ? run->o->device_officer
                                                                               : NULL;
        if (t.media_flag)
                log_warn("%s: %s: footage %s (%s); ingested and flagged", run->serial, e->path, t.media_flag, m.error);
        /* The assignment covering its start (or end) in station time. */
        const char *when = t.start_utc[0] ? t.start_utc : t.end_utc[0] ? t.end_utc : NULL;
        bool tagged;
        int64_t assigned = 0, reported = 0;
        int r = catalog_recording_tag_facts(run->cat, rec_id, when, t.device_officer, &tagged, &assigned, &reported);
        if (r >= 0 && tagged)
                return; /* tagged when first copied; later attribution is a custodian's, recorded */
        struct attribution a;
        tags_attribute(t.device_officer != NULL, reported, assigned, &a);
        t.officer_id = a.officer_id;
        t.assigned_officer_id = assigned;
        t.officer_source = a.source;
        t.attribution_flag = a.flag;
        if (r < 0 || catalog_recording_tag(run->cat, rec_id, &t) < 0)
                log_warn("%s: %s: cannot record its tags: %s", run->serial, e->path, catalog_errmsg(run->cat));
}

/* The copies on filesystem targets, all from one read of the device (copy.c).
 * *local: a verified copy placed now, for the S3 targets' uploads. */
static int copy_to_filesystems(struct run *run, const struct volume_entry *e, struct recording *rec, bool *copied,
                               char **local, bool *targets_failed)
{
        log_context_recording(rec->id);
        struct copy_sink sinks[DOCKD_MAX_TARGETS];
        char *partials[DOCKD_MAX_TARGETS] = { 0 };
        size_t n = 0;
        int r = 0;
        *copied = false;
        for (size_t i = 0; i < run->cfg->n_targets; i++) {
                bool has = false;
                if (!run->target_ok[i] || run->targets[i].type != TARGET_FS)
                        continue;
                if ((r = catalog_recording_has_copy(run->cat, rec->id, run->targets[i].id, &has)) < 0)
                        return r;
                if (has)
                        continue;
                partials[n] = target_partial_path(&run->targets[i], rec->id);
                r = copy_sink_open(&sinks[n], &run->targets[i], partials[n]);
                if (r < 0) {
                        log_context_target(run->targets[i].name);
                        note_error(run, "%s: %s: target %s: cannot create %s: %s", run->serial, e->path,
                                   run->targets[i].name, partials[n], strerror(-r));
                        log_context_target(NULL);
                        catalog_copy_failure_add(run->cat, rec->id, run->targets[i].id, run->res->session_id,
                                                 strerror(-r));
                        free(partials[n]);
                        partials[n] = NULL;
                        continue;
                }
                n++;
        }
        if (n == 0)
                return 0;

        EVP_MD_CTX *md = EVP_MD_CTX_new();
        EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        /* XXH128 in the same read, for the ASC MHL receipts */
        XXH3_state_t *xxh = XXH3_createState();
        if (!xxh)
                abort();
        XXH3_128bits_reset(xxh);
        int64_t off = resume_point(run, rec, e, sinks, n, (const char **)partials, md, xxh);
        if (off == 0) {
                EVP_DigestInit_ex(md, EVP_sha256(), NULL);
                XXH3_128bits_reset(xxh);
        } else
                run->res->files_resumed++;
        if (off > 0)
                log_info("%s: %s: resuming at byte %lld of %lld", run->serial, e->path, (long long)off,
                         (long long)e->size);

        struct volume_file *vf = NULL;
        char err[512];
        _cleanup_free_ char *src_name = xasprintf("%s:%s", run->serial, e->path);
        r = volume_file_open(run->vol, e, &vf, err, sizeof(err));
        if (r < 0) {
                note_error(run, "%s", err);
                catalog_copy_failure_add(run->cat, rec->id, 0, run->res->session_id, err);
                goto out;
        }
        run->rec_id = rec->id;
        run->ckpt_offset = off;
        run->prog.bytes_done += off;
        struct copy_params p = {
                .src = vf,
                .src_name = src_name,
                .size = e->size,
                .offset = off,
                .md = md,
                .xxh = xxh,
                .sinks = sinks,
                .n_sinks = n,
                .pool = &run->pool,
                /* Only a first pull checkpoints: completing a missing copy re-reads from 0. */
                .checkpoint_bytes = rec->has_sha256 ? 0 : (int64_t)run->cfg->checkpoint_mb << 20,
                .writers = run->cfg->writers,
                .on_checkpoint = on_checkpoint,
                .on_progress = on_bytes,
                .ud = run,
                .cancel = run->o->cancel,
        };
        r = copy_run(&p);
        volume_file_close(vf);
        for (size_t k = 0; k < n; k++)
                if (sinks[k].error) {
                        log_context_target(sinks[k].target->name);
                        note_error(run, "%s: %s: copy to target %s failed: %s", run->serial, e->path,
                                   sinks[k].target->name, sinks[k].errmsg);
                        run->res->readback_mismatches += sinks[k].mismatch;
                        log_context_target(NULL);
                }
        if (r < 0) {
                /* every copy failed, not the device: the object copies may still be made */
                *targets_failed = r != -ECANCELED;
                for (size_t k = 0; k < n; k++)
                        *targets_failed = *targets_failed && sinks[k].error;
                /* Keep the partials and the checkpoint: a later run resumes. */
                if (r != -ECANCELED && p.err[0]) {
                        note_error(run, "%s: %s: %s", run->serial, e->path, p.err);
                        catalog_copy_failure_add(run->cat, rec->id, 0, run->res->session_id, p.err);
                }
                for (size_t k = 0; k < n; k++)
                        if (sinks[k].error) {
                                catalog_copy_failure_add(run->cat, rec->id, sinks[k].target->id, run->res->session_id,
                                                         sinks[k].errmsg);
                                /* A failed copy keeps only what its resume point needs:
                                 * the space reserved for the rest goes back to the target
                                 * (two full targets must not stay full of reservations). */
                                if (ftruncate(sinks[k].fd, run->ckpt_offset) < 0)
                                        log_warn("%s: %s: cannot release the space reserved on target %s: %m",
                                                 run->serial, e->path, sinks[k].target->name);
                        }
                goto out;
        }
        unsigned char d[32];
        unsigned dl;
        char sha[SHA256_HEX_LEN + 1];
        EVP_DigestFinal_ex(md, d, &dl);
        hex_encode(d, 32, sha);
        XXH128_canonical_t xc;
        XXH128_canonicalFromHash(&xc, XXH3_128bits_digest(xxh));
        char xxh_hex[33];
        hex_encode(xc.digest, 16, xxh_hex);
        if (rec->has_sha256 && strcmp(sha, rec->sha256) != 0) {
                note_error(run, "%s: %s: INTEGRITY: source now hashes to %s but was recorded as %s; no copy made",
                           run->serial, e->path, sha, rec->sha256);
                catalog_copy_failure_add(run->cat, rec->id, 0, run->res->session_id,
                                         "source no longer matches recorded SHA-256");
                for (size_t k = 0; k < n; k++)
                        unlink(partials[k]);
                r = 0;
                goto out;
        }

        char *rel[DOCKD_MAX_TARGETS] = { 0 };
        for (size_t k = 0; k < n; k++) {
                if (sinks[k].error) {
                        unlink(partials[k]); /* nothing to resume from a failed copy; free its space */
                        continue;
                }
                copy_sink_close(&sinks[k]);
                int pr = place(run, sinks[k].target, partials[k], e, sha, &rel[k]);
                if (pr < 0) {
                        snprintf(sinks[k].errmsg, sizeof(sinks[k].errmsg), "cannot place the copy: %s", strerror(-pr));
                        sinks[k].error = pr;
                        log_context_target(sinks[k].target->name);
                        note_error(run, "%s: %s: target %s: %s", run->serial, e->path, sinks[k].target->name,
                                   sinks[k].errmsg);
                        log_context_target(NULL);
                }
        }
        crashpoint("after-place");
        if ((r = catalog_begin(run->cat)) < 0)
                goto out_rel;
        if (!rec->has_sha256 && (r = catalog_recording_set_sha256(run->cat, rec->id, sha)) < 0)
                goto out_tx;
        if ((r = catalog_recording_set_xxh128(run->cat, rec->id, xxh_hex)) < 0)
                goto out_tx;
        for (size_t k = 0; k < n; k++) {
                if (rel[k])
                        r = catalog_copy_add(run->cat, rec->id, sinks[k].target->id, rel[k], sinks[k].method,
                                             run->res->session_id);
                else
                        r = catalog_copy_failure_add(run->cat, rec->id, sinks[k].target->id, run->res->session_id,
                                                     sinks[k].errmsg);
                if (r < 0)
                        goto out_tx;
        }
        r = catalog_commit(run->cat);
out_tx:
        if (r < 0) {
                note_error(run, "%s: %s: cannot record the copies in the catalog: %s", run->serial, e->path,
                           catalog_errmsg(run->cat));
                catalog_rollback(run->cat);
        } else {
                rec->has_sha256 = true;
                snprintf(rec->sha256, sizeof(rec->sha256), "%s", sha);
                *copied = true;
                crashpoint("after-commit");
                for (size_t k = 0; k < n; k++)
                        if (rel[k]) {
                                *local = xasprintf("%s/%s", sinks[k].target->root, rel[k]);
                                ingest_tag_later(run, e, rec->id, *local);
                                break;
                        }
                note_ingested(run, rec->id, e);
        }
out_rel:
        for (size_t k = 0; k < n; k++)
                free(rel[k]);
out:
        EVP_MD_CTX_free(md);
        XXH3_freeState(xxh);
        for (size_t k = 0; k < n; k++) {
                copy_sink_close(&sinks[k]);
                free(partials[k]);
        }
        return r;
}

/* Copies one file to every open target that lacks a verified copy. Returns
 * -errno when the source failed (the session cannot go on with this file). */
static int ingest_file(struct run *run, const struct volume_entry *e, struct recording *rec, bool *copied)
{
        _cleanup_free_ char *local = NULL;
        bool targets_failed = false;
        int r = copy_to_filesystems(run, e, rec, copied, &local, &targets_failed);
        if (r < 0 && !targets_failed)
                return r;
        int rb = ingest_objects(run, e, rec, local, copied);
        return r < 0 ? r : rb;
}

static int lock_device(const struct config *cfg, const char *serial, int *fd_out, char *err, size_t err_size)
{
        _cleanup_free_ char *dir = xasprintf("%s/locks", cfg->state_dir);
        int r = mkdir_p(dir, 0750);
        if (r < 0) {
                snprintf(err, err_size, "cannot create %s: %s", dir, strerror(-r));
                return r;
        }
        /* The serial names a file, as on the targets (two serials that make one
         * name only take turns). */
        _cleanup_free_ char *safe = target_serial_component(serial);
        _cleanup_free_ char *path = xasprintf("%s/%s.lock", dir, safe);
        /* flock needs no write access: a lock file that root made by hand
         * (dockctl ingest as root) still locks for the service user. */
        int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0) {
                snprintf(err, err_size, "cannot open %s: %m", path);
                return -errno;
        }
        /* Root working in the service's state directory leaves what it makes
         * to the directory's owner, so the service is never locked out. */
        struct stat st;
        if (geteuid() == 0 && stat(cfg->state_dir, &st) == 0 && st.st_uid != 0) {
                if (chown(dir, st.st_uid, st.st_gid) < 0 || fchown(fd, st.st_uid, st.st_gid) < 0)
                        log_warn("cannot give %s to the state directory's owner: %m", path);
        }
        if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
                r = -errno;
                close(fd);
                snprintf(err, err_size, "device %s is being ingested by another process (lock %s)", serial, path);
                return r == -EWOULDBLOCK ? -EBUSY : r;
        }
        *fd_out = fd;
        return 0;
}

static bool source_gone(const char *source)
{
        struct stat st;
        return stat(source, &st) < 0;
}

int ingest_run(const struct config *cfg, struct catalog *cat, const struct ingest_opts *o, struct ingest_result *res)
{
        memset(res, 0, sizeof(*res));
        res->state = "failed";
        struct run run = { .cfg = cfg, .cat = cat, .o = o, .res = res };
        _cleanup_close_ int lockfd = -1;
        int r;
        if (!o->serial || !*o->serial) {
                snprintf(res->error, sizeof(res->error), "no device serial given");
                return -EINVAL;
        }
        snprintf(res->serial, sizeof(res->serial), "%s", o->serial);
        if ((r = lock_device(cfg, o->serial, &lockfd, res->error, sizeof(res->error))) < 0)
                return r;
        if (o->identity) {
                const struct recorder_identity *id = o->identity;
                bool collision = false;
                r = catalog_device_register(cat, res->serial, id->vendor, id->model, id->vendor_id, id->product_id,
                                            id->flag, &run.device_id, &collision);
                if (r >= 0 && collision) {
                        /* Another kind of device already holds this serial: keep them
                         * apart under a flagged identity, never merge. */
                        log_warn("%s: serial already belongs to a device other than %s:%s; recorded apart, flagged",
                                 o->serial, id->vendor_id, id->product_id);
                        char tell[20], flag[32];
                        snprintf(tell, sizeof(tell), "%s%s", id->vendor_id, id->product_id);
                        identity_set_apart(res->serial, sizeof(res->serial), flag, sizeof(flag), tell);
                        r = catalog_device_register(cat, res->serial, id->vendor, id->model, id->vendor_id,
                                                    id->product_id, flag, &run.device_id, &collision);
                }
        } else {
                r = catalog_device_ensure(cat, o->serial, &run.device_id);
        }
        if (r < 0) {
                snprintf(res->error, sizeof(res->error), "catalog: %s", catalog_errmsg(cat));
                return r;
        }
        run.serial = res->serial;
        /* Sessions a dead process left open end now, each with its manifest
         * (what they took is in the catalog), in one transaction. */
        int64_t stale_ids[64];
        size_t n_stale = 0;
        if ((r = catalog_sessions_stale(cat, run.device_id, stale_ids, ELEMENTSOF(stale_ids), &n_stale)) < 0)
                return r;
        if (n_stale) {
                char merr[256] = "";
                int stale = 0;
                if ((r = manifest_key_ensure(cfg, merr, sizeof(merr))) < 0 || (r = catalog_begin(cat)) < 0) {
                        log_error("%s: %s", run.serial, merr[0] ? merr : catalog_errmsg(cat));
                        return r;
                }
                r = catalog_sessions_mark_interrupted(cat, run.device_id, &stale);
                for (size_t i = 0; r >= 0 && i < n_stale; i++)
                        r = manifest_write(cfg, cat, stale_ids[i], merr, sizeof(merr));
                if (r < 0 || (r = catalog_commit(cat)) < 0) {
                        catalog_rollback(cat);
                        log_error("%s: cannot close the interrupted sessions: %s", run.serial,
                                  merr[0] ? merr : catalog_errmsg(cat));
                        return r;
                }
                log_info("%s: %d earlier session(s) had been interrupted", run.serial, stale);
        }
        /* The session and what the dock learnt of it, in one transaction:
         * one commit (one WAL sync) on the way to the recorder's first byte,
         * where four each waited their turn behind the other bays' writes. */
        if ((r = catalog_begin(cat)) < 0 ||
            (r = catalog_session_start(cat, run.device_id, o->source, &res->session_id)) < 0) {
                snprintf(res->error, sizeof(res->error), "catalog: %s", catalog_errmsg(cat));
                catalog_rollback(cat);
                return r;
        }
        log_context_device(run.serial, res->session_id); /* journal fields of what follows */
        if (o->identity)
                catalog_session_set_bay(cat, res->session_id, o->identity->bay);
        if (o->report && catalog_session_set_report(cat, res->session_id, o->report) < 0)
                log_warn("%s: cannot record what the device reported: %s", run.serial, catalog_errmsg(cat));
        if (o->has_clock_offset)
                catalog_session_set_clock_offset(cat, res->session_id, o->clock_offset_s);
        if ((r = catalog_commit(cat)) < 0) {
                snprintf(res->error, sizeof(res->error), "catalog: cannot start the session: %s", catalog_errmsg(cat));
                catalog_rollback(cat);
                res->session_id = 0; /* rolled back: there is no such session */
                log_context_device(run.serial, 0);
                return r;
        }
        if (o->has_clock_offset && (o->clock_offset_s > 60 || o->clock_offset_s < -60))
                log_warn("%s: device clock is %+llds off the station's; recording times are corrected", run.serial,
                         (long long)o->clock_offset_s);
        crashpoint("session-start");

        s3_retain_until(cfg->retention_months, run.retain_until, sizeof(run.retain_until));
        size_t n_ok = 0, n_opening = 0;
        struct s3_opening opening[DOCKD_MAX_TARGETS] = { 0 };
        for (size_t i = 0; i < cfg->n_targets; i++) {
                char err[512] = "";
                char warn[512]; /* said once, by dockd at start */
                const struct target_conf *tc = &cfg->targets[i];
                if (target_apart(cfg, i, run.target_ok, warn, sizeof(warn), err, sizeof(err)) < 0) {
                        note_error(&run, "%s", err);
                        continue;
                }
                if (tc->type == TARGET_S3) { /* station_target_open's halves, the first in a thread */
                        if (station_encryption_required(tc, err, sizeof(err)) < 0) {
                                note_error(&run, "%s", err);
                                continue;
                        }
                        struct s3_opening *so = &opening[i];
                        so->t = &run.targets[i];
                        so->tc = tc;
                        so->running = pthread_create(&so->thread, NULL, s3_open_thread, so) == 0;
                        if (!so->running) /* no thread to be had: open it here */
                                s3_open_thread(so);
                        n_opening++;
                        continue;
                }
                if (station_target_open(&run.targets[i], tc, cat, err, sizeof(err)) < 0) {
                        note_error(&run, "%s", err);
                        continue;
                }
                run.target_ok[i] = true;
                n_ok++;
        }
        struct volume_listing l = { 0 };
        char err[512];
        if (n_ok + n_opening == 0) {
                r = -ENODEV;
                goto finish;
        }
        if ((r = copy_pool_init(&run.pool, cfg->chunk_size, cfg->chunks, cfg->n_targets)) < 0)
                goto finish;
        if ((r = volume_open(o->source, o->source_passed ? o->source_fds : NULL, cfg->codepage, &run.vol, err,
                             sizeof(err))) < 0 ||
            (r = volume_list(run.vol, &l, err, sizeof(err))) < 0) {
                note_error(&run, "%s (device %s)", err, run.serial);
                goto finish;
        }
        n_ok += s3_openings_join(&run, opening, cat);
        if (n_ok == 0) {
                r = -ENODEV;
                goto finish;
        }
        catalog_session_set_fs(cat, res->session_id, volume_fs_type(run.vol));

        /* Everything the walk could not read, walk or tell apart is named in
         * the session; any of it keeps the session from being complete. */
        for (size_t i = 0; i < l.n_issues; i++)
                finding(&run, l.issues[i].blocking, "volume", "%s", l.issues[i].what);
        if (l.unaccounted_bytes)
                catalog_session_set_unaccounted(cat, res->session_id, (int64_t)l.unaccounted_bytes);
        res->unaccounted_bytes = (int64_t)l.unaccounted_bytes;
        for (size_t i = 0; i < l.n_deleted; i++) {
                bool added = false;
                const struct volume_entry *d = &l.deleted[i];
                struct recording_entry re = { .path = d->path,
                                              .key = d->key,
                                              .raw_name = d->raw_name,
                                              .raw_name_len = d->raw_name_len,
                                              .size = d->size,
                                              .times = &d->times };
                if ((r = catalog_deleted_add(cat, run.device_id, res->session_id, &re, &added)) < 0)
                        goto finish;
                res->deleted_new += added;
                if (added)
                        log_warn("%s: %s (%lld bytes) was deleted on the device before docking; recorded", run.serial,
                                 d->path, (long long)d->size);
        }
        res->deleted_seen = (int64_t)l.n_deleted;

        /* Plan: every file gets its recording row; total bytes still to read. */
        struct recording *recs = calloc(l.n_files ? l.n_files : 1, sizeof(*recs));
        if (!recs) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < l.n_files; i++) {
                const struct volume_entry *f = &l.files[i];
                struct recording_entry re = { .path = f->path,
                                              .key = f->key,
                                              .raw_name = f->raw_name,
                                              .raw_name_len = f->raw_name_len,
                                              .size = f->size,
                                              .times = &f->times };
                if ((r = catalog_recording_get_or_add(cat, run.device_id, &re, res->session_id, &recs[i])) < 0) {
                        note_error(&run, "catalog: %s", catalog_errmsg(cat));
                        free(recs);
                        goto finish;
                }
                int have = 0;
                if ((r = verified_copies(&run, recs[i].id, &have)) < 0) {
                        free(recs);
                        goto finish;
                }
                if ((size_t)have < n_ok && !recs[i].destroyed && !l.files[i].unreadable)
                        res->bytes_total += l.files[i].size;
        }
        res->n.files_seen = (int64_t)l.n_files;
        run.prog = (struct ingest_progress){ .n_files = l.n_files,
                                             .bytes_total = res->bytes_total,
                                             .started = time_mono() };

        bool stopped = false;
        for (size_t i = 0; i < l.n_files && !stopped; i++) {
                const struct volume_entry *e = &l.files[i];
                run.prog.file_index = i;
                run.prog.device_path = e->path;
                int have = 0;
                if (recs[i].destroyed) {
                        /* destroyed by approval: its copies are gone on purpose */
                        log_info("%s: %s was destroyed by approval; not taken again", run.serial, e->path);
                        res->n.files_already++;
                        continue;
                }
                if ((r = verified_copies(&run, recs[i].id, &have)) < 0)
                        break;
                if ((size_t)have < n_ok) {
                        bool copied = false;
                        int64_t before = run.prog.bytes_done;
                        r = ingest_file(&run, e, &recs[i], &copied);
                        log_context_recording(0); /* what follows is not about this recording */
                        ingest_collect_uploads(&run, false);
                        ingest_collect_tags(&run, false);
                        if (copied) {
                                res->n.files_copied++;
                                res->n.bytes_copied += e->size;
                        }
                        run.prog.bytes_done = before + e->size;
                        if (r < 0) {
                                if ((o->cancel && *o->cancel) || (!o->source_passed && source_gone(o->source))) {
                                        stopped = true;
                                        if (!(o->cancel && *o->cancel))
                                                note_error(&run, "%s: source %s vanished", run.serial, o->source);
                                }
                                r = 0;
                        }
                        if ((r = verified_copies(&run, recs[i].id, &have)) < 0)
                                break;
                } else {
                        res->n.files_already++;
                }
        }
        ingest_collect_uploads(&run, true);
        ingest_tags_stop(&run);
        for (size_t i = 0; i < l.n_files; i++)
                if (!recs[i].destroyed)
                        ingest_tag_unfinished(&run, &l.files[i], recs[i].id);
        /* New object copies of recordings under a hold get their legal hold. */
        size_t hold_failed = 0;
        if (station_sync_legal_holds(cfg, cat, &hold_failed) < 0 || hold_failed)
                log_warn("%s: %zu object copies' legal holds not in step with the holds in force; retried later",
                         run.serial, hold_failed);
        /* Under-copied: fewer verified copies than the policy requires. The
         * catalog is the truth: copies on a target that is down right now still
         * count (that target raises its own alarm). */
        for (size_t i = 0; i < l.n_files; i++) {
                int total = 0;
                if (recs[i].destroyed)
                        continue;
                if ((r = catalog_recording_copy_count(cat, recs[i].id, &total)) < 0)
                        break;
                if (total < cfg->copies)
                        res->n.files_under_copied++;
        }
        if (o->on_progress) {
                run.prog.file_index = l.n_files;
                o->on_progress(&run.prog, o->ud);
        }
        free(recs);
        if (r >= 0)
                res->state = stopped                                                         ? "interrupted"
                             : (res->n.files_under_copied || res->n_errors || res->n_unread) ? "incomplete"
                                                                                             : "complete";
finish:
        s3_openings_join(&run, opening, cat); /* a run that stopped before it needed them */
        ingest_collect_uploads(&run, true);   /* what was uploaded is recorded, whatever stopped the run */
        ingest_tags_stop(&run);               /* and what was probed */
        uploader_stop(run.up);
        if (r < 0 && !res->n_errors)
                note_error(&run, "%s: ingest failed: %s", run.serial, strerror(-r));
        /* The session ends and its signed manifest enters the outbox in one
         * transaction: no finished session without its manifest. */
        char merr[256] = "";
        bool recorded = false;
        _cleanup_free_ char *object =
                xasprintf("session %lld device %s", (long long)res->session_id, run.serial ? run.serial : o->serial);
        _cleanup_free_ char *what = xasprintf("%s: %lld of %lld file(s) copied, %lld under-copied, %zu unread",
                                              res->state, (long long)res->n.files_copied, (long long)res->n.files_seen,
                                              (long long)res->n.files_under_copied, res->n_unread);
        if (manifest_key_ensure(cfg, merr, sizeof(merr)) == 0 && catalog_begin(cat) == 0) {
                /* the audit row first: the manifest carries the chain's head with it */
                if (catalog_session_finish(cat, res->session_id, res->state, &res->n,
                                           res->n_errors ? res->error : NULL) == 0 &&
                    audit_append(cat, o->actor ? o->actor : "dockd", o->actor_role ? o->actor_role : "station",
                                 "session.end", object, what) == 0 &&
                    manifest_write(cfg, cat, res->session_id, merr, sizeof(merr)) == 0 && catalog_commit(cat) == 0)
                        recorded = true;
                else
                        catalog_rollback(cat);
        }
        if (!recorded) {
                log_error("%s: session %lld ends without a manifest: %s", run.serial ? run.serial : o->serial,
                          (long long)res->session_id, merr[0] ? merr : catalog_errmsg(cat));
                catalog_session_finish(cat, res->session_id, res->state, &res->n, res->n_errors ? res->error : NULL);
        }
        /* The receipts: one ASC MHL generation per filesystem target that took
         * copies. They add to what the ledger and the manifest prove; one
         * that cannot be written is said, and takes nothing from the session. */
        for (size_t i = 0; i < cfg->n_targets && res->session_id; i++) {
                char mherr[512];
                if (!run.target_ok[i] || run.targets[i].type != TARGET_FS)
                        continue;
                int m = mhl_write_generation(cat, res->session_id, run.targets[i].name, run.targets[i].root,
                                             cfg->station_id, mherr, sizeof(mherr));
                if (m < 0)
                        log_warn("%s: session %lld: no ASC MHL receipt on target %s: %s",
                                 run.serial ? run.serial : o->serial, (long long)res->session_id, run.targets[i].name,
                                 mherr);
        }
        volume_listing_free(&l);
        volume_close(run.vol);
        copy_pool_free(&run.pool);
        for (size_t i = 0; i < cfg->n_targets; i++)
                if (run.target_ok[i])
                        target_close(&run.targets[i]);
        return r < 0 ? r : 0;
}
