/* s3_ops.c — the S3 operations dockd uses (see s3.h): uploads (single and
 * multipart), reads of exact versions, Object Lock, bucket checks, listings. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "s3.h"
#include "s3_internal.h"
#include "util.h"

/* S3 takes one PUT of at most 5 GiB; a larger copy goes up in parts, each
 * signed over its own SHA-256 (read once to hash it, once to send it). */
#define SINGLE_PUT_MAX (5LL << 30)
#define PART_SIZE (256LL << 20)

static void part_limits(int64_t *single_max, int64_t *part_size)
{
        *single_max = SINGLE_PUT_MAX;
        *part_size = PART_SIZE;
#ifdef DOCKD_TEST_HOOKS
        /* DOCKD_TEST_S3_MULTIPART=THRESHOLD,PART: small parts in tests (RGW's least part is 5 MiB) */
        const char *e = getenv("DOCKD_TEST_S3_MULTIPART");
        long long a, b;
        if (e && sscanf(e, "%lld,%lld", &a, &b) == 2 && a > 0 && b >= 5 << 20)
                *single_max = a, *part_size = b;
#endif
}

static int hash_range(s3_read_fn src, void *ud, int64_t off, int64_t n, char out[65])
{
        _cleanup_free_ char *buf = xmalloc(1 << 20);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        EVP_DigestInit_ex(md, EVP_sha256(), NULL);
        int r = 0;
        for (int64_t done = 0; done < n;) {
                size_t want = n - done < (1 << 20) ? (size_t)(n - done) : (size_t)(1 << 20);
                ssize_t k = src(ud, buf, want, off + done);
                if (k <= 0) {
                        r = k < 0 ? (int)k : -EIO;
                        break;
                }
                EVP_DigestUpdate(md, buf, (size_t)k);
                done += k;
        }
        unsigned char d[32];
        unsigned dl;
        EVP_DigestFinal_ex(md, d, &dl);
        EVP_MD_CTX_free(md);
        hex_encode(d, 32, out);
        return r;
}

static void sha256_of(const char *p, size_t n, char out[65])
{
        unsigned char d[32];
        unsigned dl;
        EVP_Digest(p, n, d, &dl, EVP_sha256(), NULL);
        hex_encode(d, 32, out);
}

static int put_multipart(struct s3 *s, const struct request *create, s3_read_fn src, void *ud, int64_t len,
                         int64_t part_size, struct s3_reply *rep, char *err, size_t err_size)
{
        struct request rq = *create;
        rq.method = "POST";
        rq.query = "uploads";
        rq.payload_sha256 = NULL;
        struct xfer x = { .fd = -1, .mem = "", .len = 0 };
        int r = s3_perform(s, &rq, &x, rep, err, err_size);
        char upload[256] = "";
        if (r == 0 && !s3_xml_text(x.body, "UploadId", upload, sizeof(upload))) {
                snprintf(err, err_size, "POST %s?uploads: the server named no upload id", create->key);
                r = -EPROTO;
        }
        s3_xfer_free(&x);
        if (r < 0)
                return r;
        size_t n_parts = (size_t)((len + part_size - 1) / part_size);
        char(*etags)[80] = calloc(n_parts ? n_parts : 1, sizeof(*etags));
        for (size_t i = 0; r == 0 && i < n_parts; i++) {
                int64_t off = (int64_t)i * part_size, n = len - off < part_size ? len - off : part_size;
                char sha[65];
                if ((r = hash_range(src, ud, off, n, sha)) < 0) {
                        snprintf(err, err_size, "%s: reading part %zu to hash it failed: %s", create->key, i + 1,
                                 strerror(-r));
                        break;
                }
                _cleanup_free_ char *q = xasprintf("partNumber=%zu&uploadId=%s", i + 1, upload);
                struct request pr = {
                        .method = "PUT", .key = create->key, .query = q, .payload_sha256 = sha, .object_data = true
                };
                struct xfer px = { .src = src, .src_ud = ud, .base = off, .len = n, .fd = -1 };
                r = s3_perform(s, &pr, &px, rep, err, err_size);
                snprintf(etags[i], sizeof(etags[i]), "%s", rep->etag);
                s3_xfer_free(&px);
        }
        if (r == 0) {
                size_t cap = 128 + n_parts * 140;
                _cleanup_free_ char *body = xmalloc(cap);
                size_t k = (size_t)snprintf(body, cap, "<CompleteMultipartUpload>");
                for (size_t i = 0; i < n_parts; i++)
                        k += (size_t)snprintf(body + k, cap - k,
                                              "<Part><PartNumber>%zu</PartNumber><ETag>\"%s\"</ETag></Part>", i + 1,
                                              etags[i]);
                k += (size_t)snprintf(body + k, cap - k, "</CompleteMultipartUpload>");
                char sha[65];
                sha256_of(body, k, sha);
                _cleanup_free_ char *q = xasprintf("uploadId=%s", upload);
                struct request cr = { .method = "POST", .key = create->key, .query = q, .payload_sha256 = sha };
                cr.headers[0][0] = "Content-Type", cr.headers[0][1] = "application/xml";
                cr.n_headers = 1;
                struct xfer cx = { .mem = body, .len = (int64_t)k, .fd = -1 };
                r = s3_perform(s, &cr, &cx, rep, err, err_size);
                char code[64];
                if (r == 0 && s3_xml_text(cx.body, "Code", code, sizeof(code))) { /* a 200 that is an error */
                        snprintf(err, err_size, "POST %s?uploadId: %s", create->key, code);
                        r = -EIO;
                }
                s3_xfer_free(&cx);
        }
        free(etags);
        if (r < 0) { /* no partial upload left behind */
                _cleanup_free_ char *q = xasprintf("uploadId=%s", upload);
                struct request ar = { .method = "DELETE", .key = create->key, .query = q };
                struct xfer ax = { .fd = -1 };
                struct s3_reply arep;
                char aerr[256];
                s3_perform(s, &ar, &ax, &arep, aerr, sizeof(aerr));
                s3_xfer_free(&ax);
        }
        return r;
}

/* The lock a new object gets: the client's mode until retain_until. */
static void add_lock(const struct s3 *s, struct request *rq, const char *retain_until)
{
        if (!s->lock_mode[0] || !retain_until)
                return;
        rq->headers[rq->n_headers][0] = "x-amz-object-lock-mode";
        rq->headers[rq->n_headers++][1] = s->lock_mode;
        rq->headers[rq->n_headers][0] = "x-amz-object-lock-retain-until-date";
        rq->headers[rq->n_headers++][1] = retain_until;
}

int s3_put(struct s3 *s, const char *key, s3_read_fn src, void *ud, int64_t len, const char *sha256_hex,
           const char *retain_until, struct s3_reply *rep, char *err, size_t err_size)
{
        unsigned char d[32];
        for (int i = 0; i < 32; i++)
                sscanf(sha256_hex + 2 * i, "%2hhx", &d[i]);
        char sha_b64[48];
        s3_b64(d, 32, sha_b64, sizeof(sha_b64));
        struct request rq = { .method = "PUT", .key = key, .payload_sha256 = sha256_hex, .object_data = true };
        size_t k = 0;
        rq.headers[k][0] = "If-None-Match", rq.headers[k++][1] = "*";
        rq.headers[k][0] = "x-amz-meta-sha256", rq.headers[k++][1] = sha256_hex;
        /* AWS wants a checksum header on a PUT with lock parameters; RGW
         * (Pacific) ignores it and checks x-amz-content-sha256 */
        rq.headers[k][0] = "x-amz-checksum-sha256", rq.headers[k++][1] = sha_b64;
        rq.headers[k][0] = "Content-Type", rq.headers[k++][1] = "application/octet-stream";
        rq.n_headers = k;
        add_lock(s, &rq, retain_until);
        int64_t single_max, part_size;
        part_limits(&single_max, &part_size);
        int r;
        if (len > single_max) {
                /* Each part is signed over its own SHA-256 (what the server
                 * checks); the whole file's is in the metadata, and the
                 * read-back compares it. No whole-object checksum header: for
                 * parts S3 only has composite ones. */
                struct request mp = { .method = "POST", .key = key, .object_data = true };
                size_t m = 0;
                mp.headers[m][0] = "x-amz-meta-sha256", mp.headers[m++][1] = sha256_hex;
                mp.headers[m][0] = "Content-Type", mp.headers[m++][1] = "application/octet-stream";
                mp.n_headers = m;
                add_lock(s, &mp, retain_until);
                r = put_multipart(s, &mp, src, ud, len, part_size, rep, err, err_size);
        } else {
                struct xfer x = { .src = src, .src_ud = ud, .len = len, .fd = -1 };
                r = s3_perform(s, &rq, &x, rep, err, err_size);
                s3_xfer_free(&x);
        }
        if (r == 0 && !rep->version_id[0] && s->lock_mode[0]) {
                snprintf(err, err_size, "PUT %s: the server named no version: is the bucket versioned?", key);
                return -EPROTO;
        }
        return r;
}

/* A chunk of a streamed upload: the server checks each one's signature as
 * it comes, so a chunk is what is held in memory. */
#define STREAM_CHUNK (256 << 10)

int s3_put_stream(struct s3 *s, const char *key, s3_read_fn src, void *ud, int64_t len, s3_tap_fn tap, void *tap_ud,
                  const char *retain_until, char sha256_out[65], struct s3_reply *rep, char *err, size_t err_size)
{
        int64_t single_max, part_size;
        part_limits(&single_max, &part_size);
        if (len > single_max) {
                snprintf(err, err_size, "PUT %s: %lld bytes is more than one PUT takes", key, (long long)len);
                return -EFBIG;
        }
        if (s->no_streaming) {
                snprintf(err, err_size, "PUT %s: the server takes no chunk-signed upload", key);
                return -EOPNOTSUPP;
        }
        if (len == 0) { /* RGW 16.2 refuses an aws-chunked body of nothing; its SHA-256 is known */
                snprintf(sha256_out, 65, "%s", EMPTY_SHA256);
                return s3_put(s, key, src, ud, 0, EMPTY_SHA256, retain_until, rep, err, err_size);
        }
        char decoded[24];
        snprintf(decoded, sizeof(decoded), "%lld", (long long)len);
        struct request rq = { .method = "PUT", .key = key, .payload_sha256 = SIGV4_STREAMING, .object_data = true };
        size_t k = 0;
        rq.headers[k][0] = "If-None-Match", rq.headers[k++][1] = "*";
        rq.headers[k][0] = "Content-Encoding", rq.headers[k++][1] = "aws-chunked";
        rq.headers[k][0] = "x-amz-decoded-content-length", rq.headers[k++][1] = decoded;
        rq.headers[k][0] = "Content-Type", rq.headers[k++][1] = "application/octet-stream";
        rq.n_headers = k;
        add_lock(s, &rq, retain_until);
        /* aligned: the device's reads of it go O_DIRECT, past the page cache */
        void *data = NULL;
        if (posix_memalign(&data, 4096, STREAM_CHUNK) != 0)
                abort();
        struct s3_stream st = {
                .chunk = STREAM_CHUNK, .data = data, .whole = EVP_MD_CTX_new(), .tap = tap, .tap_ud = tap_ud
        };
        EVP_DigestInit_ex(st.whole, EVP_sha256(), NULL);
        struct xfer x = { .src = src, .src_ud = ud, .len = len, .fd = -1, .stream = &st };
        int r = s3_perform(s, &rq, &x, rep, err, err_size);
        unsigned char d[32];
        unsigned dl;
        EVP_DigestFinal_ex(st.whole, d, &dl);
        EVP_MD_CTX_free(st.whole);
        sigv4_chunks_end(&st.sig);
        free(st.data);
        s3_xfer_free(&x);
        if (r < 0 && (rep->status == 400 || rep->status == 501) &&
            (strcmp(rep->code, "InvalidRequest") == 0 || strcmp(rep->code, "NotImplemented") == 0 ||
             strcmp(rep->code, "InvalidArgument") == 0)) {
                s->no_streaming = true; /* said once in the log, by the caller */
                snprintf(err + strlen(err), err_size - strlen(err), " (the server takes no chunk-signed upload)");
                return -EOPNOTSUPP;
        }
        if (r == 0 && x.sent != len) { /* never: curl took the whole body */
                snprintf(err, err_size, "PUT %s: %lld of %lld bytes sent", key, (long long)x.sent, (long long)len);
                r = -EIO;
        }
        if (r < 0)
                return r;
        hex_encode(d, 32, sha256_out);
        if (!rep->version_id[0] && s->lock_mode[0]) {
                snprintf(err, err_size, "PUT %s: the server named no version: is the bucket versioned?", key);
                return -EPROTO;
        }
        struct s3_reply trep;
        return s3_tag_sha256(s, key, rep->version_id, sha256_out, &trep, err, err_size);
}

static char *version_query(const char *prefix, const char *version)
{
        if (!version || !*version)
                return prefix ? xstrdup(prefix) : NULL;
        return xasprintf("%s%sversionId=%s", prefix ? prefix : "", prefix ? "&" : "", version);
}

int s3_get_sha256(struct s3 *s, const char *key, const char *version, char out_hex[65], int64_t *bytes,
                  struct s3_reply *rep, char *err, size_t err_size)
{
        _cleanup_free_ char *q = version_query(NULL, version);
        struct request rq = { .method = "GET", .key = key, .query = q, .object_data = true };
        struct xfer x = { .fd = -1, .md = EVP_MD_CTX_new() };
        EVP_DigestInit_ex(x.md, EVP_sha256(), NULL);
        int r = s3_perform(s, &rq, &x, rep, err, err_size);
        unsigned char d[32];
        unsigned dl;
        EVP_DigestFinal_ex(x.md, d, &dl);
        EVP_MD_CTX_free(x.md);
        hex_encode(d, 32, out_hex);
        *bytes = x.received;
        s3_xfer_free(&x);
        return r;
}

int s3_get_to_fd(struct s3 *s, const char *key, const char *version, int fd, struct s3_reply *rep, char *err,
                 size_t err_size)
{
        _cleanup_free_ char *q = version_query(NULL, version);
        struct request rq = { .method = "GET", .key = key, .query = q, .object_data = true };
        struct xfer x = { .fd = fd };
        int r = s3_perform(s, &rq, &x, rep, err, err_size);
        s3_xfer_free(&x);
        return r;
}

int s3_head(struct s3 *s, const char *key, const char *version, struct s3_reply *rep, char *err, size_t err_size)
{
        _cleanup_free_ char *q = version_query(NULL, version);
        struct request rq = { .method = "HEAD", .key = key, .query = q, .head = true, .object_data = true };
        struct xfer x = { .fd = -1 };
        int r = s3_perform(s, &rq, &x, rep, err, err_size);
        s3_xfer_free(&x);
        return r;
}

int s3_delete_version(struct s3 *s, const char *key, const char *version, bool bypass, struct s3_reply *rep, char *err,
                      size_t err_size)
{
        if (!version || !*version) {
                snprintf(err, err_size, "DELETE %s: no version given (a delete marker would hide, not destroy)", key);
                return -EINVAL;
        }
        _cleanup_free_ char *q = version_query(NULL, version);
        struct request rq = { .method = "DELETE", .key = key, .query = q };
        if (bypass)
                rq.headers[rq.n_headers][0] = "x-amz-bypass-governance-retention",
                rq.headers[rq.n_headers++][1] = "true";
        struct xfer x = { .fd = -1 };
        int r = s3_perform(s, &rq, &x, rep, err, err_size);
        s3_xfer_free(&x);
        return r;
}

/* PUT of a small XML body on a subresource (legal hold), with its MD5. */
static int put_small(struct s3 *s, const char *key, const char *query, const char *body, struct s3_reply *rep,
                     char *err, size_t err_size)
{
        unsigned char d[32], m[16];
        unsigned dl;
        char sha[65], md5[32];
        EVP_Digest(body, strlen(body), d, &dl, EVP_sha256(), NULL);
        hex_encode(d, 32, sha);
        EVP_Digest(body, strlen(body), m, &dl, EVP_md5(), NULL);
        s3_b64(m, 16, md5, sizeof(md5));
        struct request rq = { .method = "PUT", .key = key, .query = query, .payload_sha256 = sha };
        rq.headers[0][0] = "Content-MD5", rq.headers[0][1] = md5;
        rq.headers[1][0] = "Content-Type", rq.headers[1][1] = "application/xml";
        rq.n_headers = 2;
        struct xfer x = { .mem = body, .len = (int64_t)strlen(body), .fd = -1 };
        int r = s3_perform(s, &rq, &x, rep, err, err_size);
        s3_xfer_free(&x);
        return r;
}

int s3_legal_hold(struct s3 *s, const char *key, const char *version, bool on, struct s3_reply *rep, char *err,
                  size_t err_size)
{
        _cleanup_free_ char *q = version_query("legal-hold", version);
        _cleanup_free_ char *body = xasprintf("<LegalHold xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                                              "<Status>%s</Status></LegalHold>",
                                              on ? "ON" : "OFF");
        return put_small(s, key, q, body, rep, err, err_size);
}

int s3_tag_sha256(struct s3 *s, const char *key, const char *version, const char *sha256_hex, struct s3_reply *rep,
                  char *err, size_t err_size)
{
        _cleanup_free_ char *q = version_query("tagging", version);
        _cleanup_free_ char *body = xasprintf("<Tagging xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><TagSet><Tag>"
                                              "<Key>sha256</Key><Value>%s</Value></Tag></TagSet></Tagging>",
                                              sha256_hex);
        return put_small(s, key, q, body, rep, err, err_size);
}

/* GET of a bucket subresource (?versioning, ?object-lock) into memory. */
static int get_small(struct s3 *s, const char *query, char **body, struct s3_reply *rep, char *err, size_t err_size)
{
        struct request rq = { .method = "GET", .query = query };
        struct xfer x = { .fd = -1 };
        int r = s3_perform(s, &rq, &x, rep, err, err_size);
        *body = x.body;
        return r;
}

int s3_bucket_check(struct s3 *s, char *err, size_t err_size)
{
        struct s3_reply rep;
        struct request rq = { .method = "HEAD", .head = true };
        struct xfer x = { .fd = -1 };
        int r = s3_perform(s, &rq, &x, &rep, err, err_size);
        s3_xfer_free(&x);
        if (r == -ENOENT) {
                snprintf(err, err_size, "bucket %s: no such bucket at %s: create it with Object Lock enabled",
                         s->bucket, s->endpoint);
                return r;
        }
        if (r == -EACCES) {
                snprintf(err, err_size,
                         "bucket %s at %s: access denied (403): check the credentials' keys and their rights on the "
                         "bucket",
                         s->bucket, s->endpoint);
                return r;
        }
        if (r < 0)
                return r;
        if (!s->lock_mode[0])
                return 0;
        _cleanup_free_ char *body = NULL;
        char v[32] = "";
        if ((r = get_small(s, "versioning", &body, &rep, err, err_size)) < 0)
                return r;
        if (!s3_xml_text(body, "Status", v, sizeof(v)) || strcmp(v, "Enabled") != 0) {
                snprintf(err, err_size,
                         "bucket %s: versioning is %s; Object Lock needs a versioned bucket created with Object Lock "
                         "enabled (or set [target] object_lock = off)",
                         s->bucket, v[0] ? v : "off");
                return -EPROTO;
        }
        free(body);
        body = NULL;
        r = get_small(s, "object-lock", &body, &rep, err, err_size);
        if ((r < 0 && r != -ENOENT) ||
            (r == 0 && (!s3_xml_text(body, "ObjectLockEnabled", v, sizeof(v)) || strcmp(v, "Enabled") != 0))) {
                if (r == 0 || r == -ENOENT)
                        snprintf(err, err_size,
                                 "bucket %s: Object Lock is not enabled on it: create the bucket with Object Lock "
                                 "enabled (or set [target] object_lock = off)",
                                 s->bucket);
                return r < 0 ? r : -EPROTO;
        }
        if (r == -ENOENT) {
                snprintf(err, err_size,
                         "bucket %s: Object Lock is not enabled on it: create the bucket with Object Lock enabled (or "
                         "set [target] object_lock = off)",
                         s->bucket);
                return -EPROTO;
        }
        return 0;
}

ssize_t s3_read_string(void *ud, void *buf, size_t n, int64_t off)
{
        const char *s = ud;
        size_t len = strlen(s);
        if ((size_t)off >= len)
                return 0;
        if (n > len - (size_t)off)
                n = len - (size_t)off;
        memcpy(buf, s + off, n);
        return (ssize_t)n;
}

int s3_lock_probe(struct s3 *s, const char *station, char *err, size_t err_size)
{
        if (!s->lock_mode[0]) {
                snprintf(err, err_size, "object_lock = off");
                return -EPERM;
        }
        char body[128], sha[65], until[40], now[32];
        time_now_iso(now, sizeof(now));
        snprintf(body, sizeof(body), "dockd lock probe of station %s at %s\n", station, now);
        unsigned char d[32];
        unsigned dl;
        EVP_Digest(body, strlen(body), d, &dl, EVP_sha256(), NULL);
        hex_encode(d, 32, sha);
        time_t t = time(NULL) + 86400;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm);
        unsigned rnd = 0;
        if (getentropy(&rnd, sizeof(rnd)) < 0)
                rnd = (unsigned)getpid();
        _cleanup_free_ char *rel = xasprintf(".dockd/lock-probe/%s-%lld-%08x", station, (long long)time(NULL), rnd);
        _cleanup_free_ char *key = s3_key(s, rel);
        struct s3_reply rep;
        int r = s3_put(s, key, s3_read_string, body, (int64_t)strlen(body), sha, until, &rep, err, err_size);
        if (r < 0)
                return r;
        char derr[512];
        r = s3_delete_version(s, key, rep.version_id, false, &rep, derr, sizeof(derr));
        if (r == -EACCES)
                return 0; /* refused: the lock holds */
        if (r == 0) {
                snprintf(err, err_size,
                         "bucket %s: a version locked in %s mode until %s was deleted: the server does not enforce "
                         "Object Lock, so copies there are not write-once",
                         s->bucket, s->lock_mode, until);
                return -EPERM;
        }
        snprintf(err, err_size, "bucket %s: the lock probe's delete failed otherwise: %s", s->bucket, derr);
        return r;
}

int s3_get_mem(struct s3 *s, const char *key, const char *version, size_t max, char **body, size_t *len,
               struct s3_reply *rep, char *err, size_t err_size)
{
        _cleanup_free_ char *q = version_query(NULL, version);
        struct request rq = { .method = "GET", .key = key, .query = q, .object_data = true };
        struct xfer x = { .fd = -1, .body_max = max };
        int r = s3_perform(s, &rq, &x, rep, err, err_size);
        if (r == 0 && rep->length > (int64_t)max) {
                snprintf(err, err_size, "GET %s: %lld bytes, more than the %zu expected", key, (long long)rep->length,
                         max);
                r = -EFBIG;
        }
        *body = x.body ? x.body : xstrdup("");
        *len = x.body_len;
        if (r < 0) {
                free(*body);
                *body = NULL;
        }
        return r;
}

/* &amp; and its kin back to the bytes they stand for, in place. */
static void xml_unescape(char *s)
{
        static const struct {
                const char *ent, c;
        } ents[] = { { "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&apos;", '\'' } };
        char *w = s;
        for (const char *p = s; *p;) {
                bool done = false;
                for (size_t i = 0; *p == '&' && i < sizeof(ents) / sizeof(ents[0]); i++)
                        if (strncmp(p, ents[i].ent, strlen(ents[i].ent)) == 0) {
                                *w++ = ents[i].c;
                                p += strlen(ents[i].ent);
                                done = true;
                                break;
                        }
                if (!done)
                        *w++ = *p++;
        }
        *w = '\0';
}

int s3_list(struct s3 *s, const char *prefix, int (*cb)(const char *key, int64_t size, void *ud), void *ud, char *err,
            size_t err_size)
{
        _cleanup_free_ char *token = NULL;
        for (;;) {
                _cleanup_free_ char *q = token ? xasprintf("list-type=2&prefix=%s&continuation-token=%s", prefix, token)
                                               : xasprintf("list-type=2&prefix=%s", prefix);
                struct request rq = { .method = "GET", .query = q };
                struct xfer x = { .fd = -1, .body_max = 8u << 20 };
                struct s3_reply rep;
                int r = s3_perform(s, &rq, &x, &rep, err, err_size);
                if (r < 0) {
                        s3_xfer_free(&x);
                        return r;
                }
                char next[1024];
                r = s3_list_page(x.body ? x.body : "", cb, ud, next, sizeof(next));
                s3_xfer_free(&x);
                if (r == -EPROTO)
                        snprintf(err, err_size, "a listing of %s holds an entry that cannot be read whole", prefix);
                if (r != 0 || !next[0])
                        return r;
                free(token);
                token = xstrdup(next);
        }
}

int s3_list_page(const char *body, int (*cb)(const char *key, int64_t size, void *ud), void *ud, char *next,
                 size_t next_size)
{
        const char *p = body;
        next[0] = '\0';
        while ((p = strstr(p, "<Contents>"))) {
                const char *end = strstr(p, "</Contents>");
                if (!end)
                        return -EPROTO; /* cut short: what it held is unknown */
                _cleanup_free_ char *item = xasprintf("%.*s", (int)(end - p), p);
                /* room for the longest key escaped (6 bytes a character) and
                 * one more: a text that fills it was cut, never taken */
                char key[S3_KEY_MAX * 6 + 2], size[32];
                if (s3_xml_text(item, "Key", key, sizeof(key))) {
                        char *e;
                        if (!s3_xml_text(item, "Size", size, sizeof(size)) || !size[0] || size[0] == '-' ||
                            strlen(size) == sizeof(size) - 1)
                                return -EPROTO; /* a size cut short would be another size */
                        errno = 0;
                        long long n = strtoll(size, &e, 10);
                        if (*e || errno)
                                return -EPROTO;
                        if (strlen(key) == sizeof(key) - 1)
                                return -EPROTO; /* never a key cut short */
                        xml_unescape(key);
                        if (strlen(key) > S3_KEY_MAX)
                                return -EPROTO;
                        int r = cb(key, n, ud);
                        if (r != 0)
                                return r;
                }
                p = end;
        }
        char truncated[8] = "";
        s3_xml_text(body, "IsTruncated", truncated, sizeof(truncated));
        if (strcmp(truncated, "true") != 0)
                return 0;
        char tok[4096];
        if (!s3_xml_text(body, "NextContinuationToken", tok, sizeof(tok)) || !tok[0] || strlen(tok) >= next_size ||
            strlen(tok) == sizeof(tok) - 1)
                return -EPROTO; /* truncated, and no way on: the rest would be missed */
        xml_unescape(tok);
        snprintf(next, next_size, "%s", tok);
        return 0;
}

void s3_retain_until(unsigned months, char *buf, size_t size)
{
        time_t t = (time_t)clock_now();
        struct tm tm;
        gmtime_r(&t, &tm);
        tm.tm_mon += (int)months;
        t = timegm(&tm);
#ifdef DOCKD_TEST_HOOKS
        /* DOCKD_TEST_S3_RETAIN_S=N: locked for N seconds, so a test sees the lock pass */
        const char *e = getenv("DOCKD_TEST_S3_RETAIN_S");
        if (e && atoi(e) > 0)
                t = time(NULL) + atoi(e);
#endif
        gmtime_r(&t, &tm);
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int s3_extend_retention(struct s3 *s, const char *key, const char *version, const char *retain_until,
                        struct s3_reply *rep, char *err, size_t err_size)
{
        if (!s->lock_mode[0]) {
                snprintf(err, err_size, "object_lock = off");
                return -EPERM;
        }
        _cleanup_free_ char *q = version_query("retention", version);
        _cleanup_free_ char *body = xasprintf("<Retention xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                                              "<Mode>%s</Mode><RetainUntilDate>%s</RetainUntilDate></Retention>",
                                              s->lock_mode, retain_until);
        return put_small(s, key, q, body, rep, err, err_size);
}
