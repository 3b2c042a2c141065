/* target_s3.c — a storage target that is a bucket and key prefix of an S3
 * service (see target.h). The layout is the filesystem target's, as keys
 * under the prefix; a copy is one object version, never replaced. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "s3.h"
#include "target.h"
#include "util.h"

int target_s3_open(struct target *t, const struct target_conf *tc, char *err, size_t err_size)
{
        memset(t, 0, sizeof(*t));
        t->ops = &target_s3_ops;
        t->name = xstrdup(tc->name);
        t->type = TARGET_S3;
        t->root = xstrdup(tc->path);
        t->s3 = xmalloc(sizeof(*t->s3));
        char why[512] = "";
        int r = s3_open(t->s3, &tc->s3, why, sizeof(why));
        if (r == 0)
                r = s3_bucket_check(t->s3, why, sizeof(why));
        if (r < 0) {
                snprintf(err, err_size, "target %s (%s at %s): %s", tc->name, tc->path, tc->s3.endpoint, why);
                target_close(t);
        }
        return r;
}

int target_s3_prove_lock(struct target *t, const char *station, char *err, size_t err_size)
{
        char why[512] = "";
        int r = s3_lock_probe(t->s3, station, why, sizeof(why));
        if (r < 0)
                snprintf(err, err_size, "target %s: not write-once: %s", t->name, why);
        return r;
}

void target_object_free(struct target_object *o)
{
        free(o->key);
        free(o->version_id);
        free(o->etag);
        free(o->lock_mode);
        free(o->retain_until);
        memset(o, 0, sizeof(*o));
}

/* GET of the version just written must give back exactly what was hashed. */
static int read_back(struct target *t, const char *key, const char *version, const char *sha256, int64_t len, char *err,
                     size_t err_size)
{
        char got[65];
        int64_t n = 0;
        struct s3_reply rep;
        int r = s3_get_sha256(t->s3, key, version, got, &n, &rep, err, err_size);
        if (r < 0)
                return r;
        if (n != len || strcmp(got, sha256) != 0) {
                snprintf(err, err_size,
                         "read back %s version %s: %lld bytes with SHA-256 %s, but %lld bytes with %s were written",
                         key, version, (long long)n, got, (long long)len, sha256);
                return -EIO;
        }
        return 0;
}

/* target_s3_put_copy, or (sha256 NULL) target_s3_stream_copy. */
static int put_copy(struct target *t, target_read_fn src, void *ud, int64_t len, const char *sha256, target_tap_fn tap,
                    void *tap_ud, char sha256_out[65], const char *serial, int64_t device_mtime,
                    const char *device_path, const char *retain_until,
                    int (*taken)(void *ud, const struct target *t, const char *rel, bool *taken), void *taken_ud,
                    struct target_object *out, bool *adopted, char *err, size_t err_size)
{
        memset(out, 0, sizeof(*out));
        *adopted = false;
        for (unsigned attempt = 0; attempt < TARGET_NAME_ATTEMPTS; attempt++) {
                _cleanup_free_ char *rel = target_layout_relpath(serial, device_mtime, device_path, attempt);
                bool in_ledger = false;
                int r = taken(taken_ud, t, rel, &in_ledger);
                if (r < 0) {
                        snprintf(err, err_size, "catalog: cannot check %s", rel);
                        return r;
                }
                if (in_ledger)
                        continue;
                _cleanup_free_ char *key = s3_key(t->s3, rel);
                struct s3_reply rep;
                r = s3_head(t->s3, key, NULL, &rep, err, err_size);
                if (r == 0 && !sha256) {
                        snprintf(err, err_size, "%s is in the bucket already: hash the source to compare", key);
                        return -EAGAIN;
                }
                if (r == 0) {
                        /* Left by a run killed before recording it: adopted only
                         * when it reads back as this recording (a streamed one
                         * has its SHA-256 as a tag, if it got that far, and no
                         * metadata). A versioned bucket may accept a PUT over
                         * it, but a second version under one key is never what
                         * we write. */
                        if ((rep.sha256_meta[0] && strcmp(rep.sha256_meta, sha256) != 0) || rep.length != len ||
                            read_back(t, key, rep.version_id, sha256, len, err, err_size) < 0)
                                continue;
                        struct s3_reply trep;
                        if (!rep.sha256_meta[0] &&
                            (r = s3_tag_sha256(t->s3, key, rep.version_id, sha256, &trep, err, err_size)) < 0)
                                return r;
                        *adopted = true;
                } else if (r != -ENOENT) {
                        return r;
                } else if ((r = sha256 ? s3_put(t->s3, key, src, ud, len, sha256, retain_until, &rep, err, err_size)
                                       : s3_put_stream(t->s3, key, src, ud, len, tap, tap_ud, retain_until, sha256_out,
                                                       &rep, err, err_size)) < 0) {
                        if (r == -EEXIST)
                                continue; /* another writer took the name just now */
                        return r;
                } else if ((r = read_back(t, key, rep.version_id, sha256 ? sha256 : sha256_out, len, err, err_size)) <
                           0) {
                        return r;
                }
                out->key = xstrdup(rel);
                out->version_id = xstrdup(rep.version_id);
                out->etag = xstrdup(rep.etag);
                out->lock_mode = xstrdup(t->s3->lock_mode);
                out->retain_until = xstrdup(*adopted ? rep.retain_until : retain_until ? retain_until : "");
                return 0;
        }
        snprintf(err, err_size, "no free name for %s after %d attempts", device_path, TARGET_NAME_ATTEMPTS);
        return -EEXIST;
}

int target_s3_put_copy(struct target *t, target_read_fn src, void *ud, int64_t len, const char *sha256,
                       const char *serial, int64_t device_mtime, const char *device_path, const char *retain_until,
                       int (*taken)(void *ud, const struct target *t, const char *rel, bool *taken), void *taken_ud,
                       struct target_object *out, bool *adopted, char *err, size_t err_size)
{
        return put_copy(t, src, ud, len, sha256, NULL, NULL, NULL, serial, device_mtime, device_path, retain_until,
                        taken, taken_ud, out, adopted, err, err_size);
}

int target_s3_stream_copy(struct target *t, target_read_fn src, void *ud, int64_t len, target_tap_fn tap, void *tap_ud,
                          char sha256_out[65], const char *serial, int64_t device_mtime, const char *device_path,
                          const char *retain_until,
                          int (*taken)(void *ud, const struct target *t, const char *rel, bool *taken), void *taken_ud,
                          struct target_object *out, char *err, size_t err_size)
{
        bool adopted;
        return put_copy(t, src, ud, len, NULL, tap, tap_ud, sha256_out, serial, device_mtime, device_path, retain_until,
                        taken, taken_ud, out, &adopted, err, err_size);
}

int target_s3_hash(struct target *t, const char *key, const char *version_id, char out_hex[65], int64_t *bytes,
                   char *err, size_t err_size)
{
        _cleanup_free_ char *k = s3_key(t->s3, key);
        struct s3_reply rep;
        return s3_get_sha256(t->s3, k, version_id, out_hex, bytes, &rep, err, err_size);
}

/* The S3 target's operations on copies it holds: each names one version. */
static int s3_check(struct target *t, char *err, size_t err_size) { return s3_bucket_check(t->s3, err, err_size); }

static int s3_hash(struct target *t, const struct copy_ref *k, int64_t size, char out_hex[65], const char **method,
                   char *err, size_t err_size)
{
        int64_t n = 0;
        *method = "s3-get";
        int r = target_s3_hash(t, k->path, k->version_id, out_hex, &n, err, err_size);
        if (r == 0 && n != size)
                snprintf(out_hex, 65, "%s", "size-differs"); /* never the recorded SHA-256 */
        return r;
}

static int s3_fetch(struct target *t, const struct copy_ref *k, int fd, char *err, size_t err_size)
{
        _cleanup_free_ char *key = s3_key(t->s3, k->path);
        struct s3_reply rep;
        return s3_get_to_fd(t->s3, key, k->version_id, fd, &rep, err, err_size);
}

static int s3_destroyable(struct target *t, const struct copy_ref *k, char *err, size_t err_size)
{
        _cleanup_free_ char *key = s3_key(t->s3, k->path);
        struct s3_reply h;
        int r = s3_head(t->s3, key, k->version_id, &h, err, err_size);
        if (r == -ENOENT)
                return 0; /* already gone: destroy says so */
        if (r < 0)
                return r;
        time_t now = time(NULL); /* the server's lock runs on real time */
        struct tm tm = { 0 };
        bool locked = h.retain_until[0] && strptime(h.retain_until, "%Y-%m-%dT%H:%M:%S", &tm) && timegm(&tm) > now;
        bool held = strcmp(h.legal_hold, "ON") == 0;
        if (locked || held) {
                snprintf(err, err_size,
                         "target %s: %s version %s is %s%s%s%s: the bucket refuses its deletion until then", t->name,
                         key, k->version_id, locked ? "locked in " : "", locked ? h.lock_mode : "",
                         locked ? " mode until " : "", locked ? h.retain_until : "under a legal hold");
                return -EPERM;
        }
        return 0;
}

/* Deletes the one version the ledger names, without bypassing the lock: a
 * version still under retention or a legal hold is refused by the server,
 * and the refusal says until when. */
static int s3_destroy(struct target *t, const struct copy_ref *k, char *err, size_t err_size)
{
        _cleanup_free_ char *key = s3_key(t->s3, k->path);
        struct s3_reply head, rep;
        int r = s3_head(t->s3, key, k->version_id, &head, err, err_size);
        if (r < 0)
                return r;
        char why[400];
        r = s3_delete_version(t->s3, key, k->version_id, false, &rep, why, sizeof(why));
        if (r == -EACCES) {
                snprintf(err, err_size,
                         "target %s: %s version %s is locked (%s until %s%s): refused by the bucket; destroy it "
                         "after that date%s",
                         t->name, key, k->version_id, head.lock_mode[0] ? head.lock_mode : "no retention",
                         head.retain_until[0] ? head.retain_until : "-",
                         strcmp(head.legal_hold, "ON") == 0 ? ", legal hold ON" : "",
                         strcmp(head.legal_hold, "ON") == 0 ? " and once the legal hold is released" : "");
                return -EPERM;
        }
        if (r < 0)
                snprintf(err, err_size, "target %s: %s", t->name, why);
        return r;
}

const struct target_ops target_s3_ops = { .type = "s3",
                                          .check = s3_check,
                                          .hash = s3_hash,
                                          .fetch = s3_fetch,
                                          .destroyable = s3_destroyable,
                                          .destroy = s3_destroy };

/* A client for marker work: the bucket's, without its checks. */
static int marker_client(const struct target_conf *tc, struct s3 *s3, char **key)
{
        char err[400];
        int r = s3_open(s3, &tc->s3, err, sizeof(err));
        if (r == 0)
                *key = s3_key(s3, ".dockd-target");
        return r;
}

int target_s3_marker_read(const struct target_conf *tc, char *name, size_t size, char catalog_id[33])
{
        struct s3 s3;
        _cleanup_free_ char *key = NULL;
        int r = marker_client(tc, &s3, &key);
        if (r < 0)
                return r;
        char *body = NULL, err[400];
        size_t len = 0;
        struct s3_reply rep;
        if ((r = s3_get_mem(&s3, key, NULL, 1024, &body, &len, &rep, err, sizeof(err))) == 0)
                r = target_marker_parse(body, name, size, catalog_id);
        free(body);
        s3_close(&s3);
        return r;
}

int target_s3_marker_write(const struct target_conf *tc, const char *catalog_id)
{
        struct s3 s3;
        _cleanup_free_ char *key = NULL;
        int r = marker_client(tc, &s3, &key);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = target_marker_text(tc->name, catalog_id);
        unsigned char d[32];
        unsigned dl;
        char sha[65], err[400];
        EVP_Digest(text, strlen(text), d, &dl, EVP_sha256(), NULL);
        hex_encode(d, 32, sha);
        struct s3_reply rep;
        /* not locked by dockd: a later adoption writes a new version of it */
        r = s3_put(&s3, key, s3_read_string, text, (int64_t)strlen(text), sha, NULL, &rep, err, sizeof(err));
        s3_close(&s3);
        return r == -EPROTO ? 0 : r; /* no version named is fine for the marker */
}

static int any_copy(const char *key, int64_t size, void *ud)
{
        (void)size;
        const char *prefix = ud;
        const char *rest = key + strlen(prefix);
        if (strcmp(rest, ".dockd-target") == 0 || strncmp(rest, ".dockd/", 7) == 0)
                return 0;
        return 1; /* stops the walk: one is enough */
}

bool target_s3_holds_copies(const struct target_conf *tc)
{
        struct s3 s3;
        _cleanup_free_ char *key = NULL;
        if (marker_client(tc, &s3, &key) < 0)
                return false;
        char err[400];
        int r = s3_list(&s3, s3.prefix, any_copy, s3.prefix, err, sizeof(err));
        s3_close(&s3);
        return r > 0;
}
