/* ingest_objects.c — an ingest's copies on S3 targets: uploaded in the
 * background from the verified local copy once the read pass has given the
 * SHA-256, else inline from the device (the first upload hashing as it
 * sends), read back, recorded. See ingest.c for the rest of the run. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest_internal.h"
#include "log.h"
#include "s3.h"
#include "upload.h"
#include "util.h"

/* An S3 upload's body: a verified local copy, or the device itself. */
struct upload_src {
        int fd; /* the local copy, or -1 */
        struct volume_file *vf;
        char err[256];
};

static ssize_t upload_read(void *ud, void *buf, size_t n, int64_t off)
{
        struct upload_src *u = ud;
        if (u->fd >= 0)
                return pread_full(u->fd, buf, n, off);
        return volume_file_read(u->vf, off, buf, n, u->err, sizeof(u->err));
}

/* What the media probe reads of the device. With DOCKD_TEST_HOOKS,
 * DOCKD_TEST_PROBE_LIE=OFFSET makes the device a liar to the probe alone: the
 * byte at OFFSET is flipped in what the probe is given. */
static ssize_t probe_read(void *ud, void *buf, size_t n, int64_t off)
{
        ssize_t k = upload_read(ud, buf, n, off);
#ifdef DOCKD_TEST_HOOKS
        const char *e = getenv("DOCKD_TEST_PROBE_LIE");
        long long at = e ? atoll(e) : -1;
        if (k > 0 && at >= off && at < off + k)
                ((unsigned char *)buf)[at - off] ^= 0x01;
#endif
        return k;
}

/* SHA-256 of the device's file, for object copies when no filesystem copy
 * was made from this read (only S3 targets, or every filesystem copy failed),
 * read through vf (the file the upload then reads) or, when NULL, a mapping
 * of its own; the ranges the media probe was given, when it was, are checked
 * in the same pass. */
static int hash_source(struct run *run, const struct volume_entry *e, struct volume_file *vf,
                       struct media_ranges *probed, char sha[SHA256_HEX_LEN + 1], char *err, size_t err_size)
{
        struct volume_file *own = NULL;
        int r = vf ? 0 : volume_file_open(run->vol, e, &own, err, err_size);
        if (r < 0)
                return r;
        if (!vf)
                vf = own;
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        void *buf = run->pool.bufs[0];
        int64_t off = 0;
        while (off < e->size) {
                size_t want = run->pool.chunk_size;
                if ((int64_t)want > e->size - off)
                        want = (size_t)(e->size - off);
                ssize_t k = volume_file_read(vf, off, buf, want, err, err_size);
                if (k <= 0) {
                        if (k == 0)
                                snprintf(err, err_size, "%s: %s: the device's file ends at byte %lld of %lld",
                                         run->serial, e->path, (long long)off, (long long)e->size);
                        r = k < 0 ? (int)k : -EIO;
                        break;
                }
                EVP_DigestUpdate(md, buf, (size_t)k);
                if (probed)
                        media_ranges_pass(probed, off, buf, (size_t)k);
                off += k;
                run->prog.bytes_done += k;
        }
        unsigned char d[32];
        unsigned dl;
        EVP_DigestFinal_ex(md, d, &dl);
        EVP_MD_CTX_free(md);
        volume_file_close(own);
        if (r == 0)
                hex_encode(d, 32, sha);
        return r;
}

/* What a streamed upload's pass over the device feeds besides the server:
 * the probe's ranges to check, and the progress. */
struct stream_tap {
        struct run *run;
        struct media_ranges *probed;
};

static void stream_tap(void *ud, int64_t off, const void *buf, size_t n)
{
        struct stream_tap *tp = ud;
        if (tp->probed)
                media_ranges_pass(tp->probed, off, buf, n);
        tp->run->prog.bytes_done += (int64_t)n;
}

/* One object copy into the ledger (with the recording's SHA-256 when this
 * is its first copy). Returns 0, or -errno once noted. */
static int record_object(struct run *run, int64_t rec_id, const struct volume_entry *e, const struct target *t,
                         const struct target_object *o, bool adopted, const char *first_sha)
{
        if (adopted)
                log_info("%s: %s: adopting %s on target %s, left by an interrupted run", run->serial, e->path, o->key,
                         t->name);
        crashpoint("s3-after-put");
        struct object_copy oc = { .key = o->key,
                                  .method = "s3-get",
                                  .version_id = o->version_id,
                                  .etag = o->etag,
                                  .lock_mode = o->lock_mode,
                                  .retain_until = o->retain_until };
        int r;
        if ((r = catalog_begin(run->cat)) < 0 ||
            (first_sha && (r = catalog_recording_set_sha256(run->cat, rec_id, first_sha)) < 0) ||
            (r = catalog_copy_add_object(run->cat, rec_id, t->id, &oc, run->res->session_id)) < 0 ||
            (r = catalog_commit(run->cat)) < 0) {
                note_error(run, "%s: %s: cannot record the copy on target %s: %s", run->serial, e->path, t->name,
                           catalog_errmsg(run->cat));
                catalog_rollback(run->cat);
                return r;
        }
        return 0;
}

static void object_failed(struct run *run, int64_t rec_id, const struct volume_entry *e, const struct target *t,
                          const char *why)
{
        log_context_target(t->name);
        note_error(run, "%s: %s: copy to target %s failed: %s", run->serial, e->path, t->name, why);
        catalog_copy_failure_add(run->cat, rec_id, t->id, run->res->session_id, why);
        log_context_target(NULL);
}

void note_ingested(struct run *run, int64_t rec_id, const struct volume_entry *e)
{
        int total = 0;
        if (catalog_recording_copy_count(run->cat, rec_id, &total) == 0 && total >= run->cfg->copies &&
            catalog_recording_ingested(run->cat, rec_id) < 0)
                log_warn("%s: %s: cannot record the ingest time: %s", run->serial, e->path, catalog_errmsg(run->cat));
}

/* What the background uploads finished: recorded by this thread (wait: all of
 * them, before the session is judged or the S3 clients are used here). */
void ingest_collect_uploads(struct run *run, bool wait)
{
        if (!run->up)
                return;
        struct upload_result *res;
        size_t n = uploader_collect(run->up, &res, wait);
        for (size_t i = 0; i < n; i++) {
                const struct upload_result *u = &res[i];
                const struct volume_entry *e = u->ud;
                log_context_recording(u->rec_id);
                if (u->rc < 0)
                        object_failed(run, u->rec_id, e, u->target, u->err);
                else if (record_object(run, u->rec_id, e, u->target, &u->o, u->adopted, NULL) == 0)
                        note_ingested(run, u->rec_id, e);
        }
        log_context_recording(0);
        upload_results_free(res, n);
}

/* The copies on S3 targets: from the verified local copy when there is one,
 * signed over its SHA-256; else from the device, the first upload being the
 * pass that hashes it, in chunks each signed over its own. The server checks
 * every byte, and each copy counts only when its version reads back the same. */
int ingest_objects(struct run *run, const struct volume_entry *e, struct recording *rec, const char *local,
                   bool *copied)
{
        size_t need[DOCKD_MAX_TARGETS], n = 0;
        for (size_t i = 0; i < run->cfg->n_targets; i++) {
                bool has = false;
                if (!run->target_ok[i] || run->targets[i].type != TARGET_S3)
                        continue;
                int r = catalog_recording_has_copy(run->cat, rec->id, run->targets[i].id, &has);
                if (r < 0)
                        return r;
                if (!has)
                        need[n++] = i;
        }
        if (n == 0)
                return 0;
        char err[640] = "", sha[SHA256_HEX_LEN + 1];
        if (local && rec->has_sha256) {
                /* From the verified local copy, in the background, while the
                 * next file is read from the device. */
                if (!run->up && uploader_start(&run->up, run->cfg->state_dir, run->retain_until, err, sizeof(err)) < 0)
                        note_error(run, "%s: %s", run->serial, err);
                if (run->up) {
                        struct upload_job j = { .rec_id = rec->id,
                                                .ud = e,
                                                .size = e->size,
                                                .local = xstrdup(local),
                                                .serial = run->serial,
                                                .device_path = e->path,
                                                .device_mtime = e->mtime };
                        snprintf(j.sha256, sizeof(j.sha256), "%s", rec->sha256);
                        for (size_t k = 0; k < n; k++)
                                j.targets[j.n_targets++] = &run->targets[need[k]];
                        uploader_submit(run->up, &j);
                        return 0;
                }
        }
        ingest_collect_uploads(run, true); /* the S3 clients are this thread's again */
        struct upload_src u = { .fd = -1 };
        int r = 0;
        if (local)
                u.fd = open(local, O_RDONLY | O_CLOEXEC);
        if (u.fd < 0 && (r = volume_file_open(run->vol, e, &u.vf, err, sizeof(err))) < 0) {
                note_error(run, "%s", err);
                catalog_copy_failure_add(run->cat, rec->id, 0, run->res->session_id, err);
                return 0;
        }
        /* An S3-only station probes the footage on the device, by the ranges
         * the probe asks for, before the pass that hashes it: the facts are
         * used only if those ranges are the bytes that pass hashed. */
        bool probe = !rec->has_sha256 && !local;
        struct media_info m;
        struct media_ranges *probed = probe ? media_ranges_new(probe_read, &u) : NULL;
        if (probe) {
                media_probe_stream(e->size, media_ranges_serve, probed, &m);
                if (u.err[0])
                        log_warn("%s: %s: media probe: %s", run->serial, e->path, u.err);
                u.err[0] = '\0';
        }
        /* Unhashed yet: the first upload is the pass that hashes it, so the
         * device is read once (the server checks each signed chunk, the
         * read-back the whole). Where that cannot be (an object already at
         * the name, or a copy too large for one PUT), a pass of its own. */
        sha[0] = '\0';
        if (rec->has_sha256)
                snprintf(sha, sizeof(sha), "%s", rec->sha256);
        int64_t progress = run->prog.bytes_done;
        bool judged = false; /* the probe's ranges, against the pass that hashed */
        for (size_t k = 0; k < n; k++) {
                struct target *t = &run->targets[need[k]];
                struct target_object o;
                bool adopted = false;
                err[0] = '\0';
                log_context_target(t->name);
                r = -EAGAIN;
                if (!sha[0] && !t->s3->no_streaming) {
                        media_ranges_restart(probed);
                        run->prog.bytes_done = progress;
                        struct stream_tap tp = { .run = run, .probed = probed };
                        r = target_s3_stream_copy(t, upload_read, &u, e->size, stream_tap, &tp, sha, run->serial,
                                                  e->mtime, e->path, run->retain_until, path_taken, run, &o, err,
                                                  sizeof(err));
                        if (r == -EOPNOTSUPP)
                                log_warn("%s: %s: target %s: %s; hashing each recording on the device before its "
                                         "upload instead",
                                         run->serial, e->path, t->name, err);
                        if (r < 0) /* a stored object whose read-back or tag failed filled it */
                                sha[0] = '\0';
                }
                if (r == -EAGAIN || r == -EFBIG || r == -EOPNOTSUPP) {
                        if (!sha[0]) {
                                media_ranges_restart(probed);
                                run->prog.bytes_done = progress;
                                err[0] = '\0';
                                if (hash_source(run, e, u.vf, probed, sha, err, sizeof(err)) < 0) {
                                        log_context_target(NULL);
                                        note_error(run, "%s", err);
                                        catalog_copy_failure_add(run->cat, rec->id, 0, run->res->session_id, err);
                                        goto out;
                                }
                        }
                        err[0] = '\0';
                        r = target_s3_put_copy(t, upload_read, &u, e->size, sha, run->serial, e->mtime, e->path,
                                               run->retain_until, path_taken, run, &o, &adopted, err, sizeof(err));
                        if (r == -EBADMSG && !local)
                                snprintf(err + strlen(err), sizeof(err) - strlen(err),
                                         " (INTEGRITY: the device gave other bytes than when it was hashed)");
                }
                log_context_target(NULL);
                if (r < 0) {
                        object_failed(run, rec->id, e, t, u.err[0] ? u.err : err);
                        u.err[0] = '\0';
                        continue;
                }
                int64_t bad_off = 0;
                if (probe && !judged && media_ranges_verdict(probed, &bad_off) < 0) {
                        media_distrust(&m, bad_off);
                        note_error(run, "%s: %s: %s", run->serial, e->path, m.error);
                }
                judged = true;
                if (record_object(run, rec->id, e, t, &o, adopted, rec->has_sha256 ? NULL : sha) == 0) {
                        crashpoint("s3-after-record"); /* recorded, not yet tagged */
                        if (probe && !rec->has_sha256)
                                tag_recording(run, e, rec->id, &m);
                        rec->has_sha256 = true;
                        snprintf(rec->sha256, sizeof(rec->sha256), "%s", sha);
                        *copied = true;
                }
                target_object_free(&o);
        }
out:
        media_ranges_free(probed);
        if (u.fd >= 0)
                close(u.fd);
        if (u.vf)
                volume_file_close(u.vf);
        if (*copied)
                note_ingested(run, rec->id, e);
        return 0;
}
