/* s3.h — an S3 client for one bucket (path-style, SigV4 on every request):
 * uploads whose every byte the server checks against a SHA-256 dockd
 * computed (x-amz-content-sha256), reads of exact object versions, Object
 * Lock (retention, legal hold) and the bucket checks dockd makes at start.
 * libcurl carries HTTP and TLS; sigv4.c signs. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

struct s3 {
        char *endpoint, *host, *bucket, *region, *prefix, *ca_file;
        char *access_key, *secret_key;
        char lock_mode[16];                /* "COMPLIANCE", "GOVERNANCE" or "" (off) */
        char sse_key[48], sse_key_md5[32]; /* SSE-C: base64 of the key and of its MD5; "" when off */
        long timeout_s;
        bool no_streaming; /* the server refused a chunk-signed PUT: sign over the whole from then on */
        void *curl;
};

/* What the server answered. */
struct s3_reply {
        long status;       /* HTTP status, 0 when no answer */
        char code[64];     /* S3 error code ("AccessDenied"), "" on success */
        char message[256]; /* the server's message, or the transport's */
        char version_id[128];
        char etag[80];
        char sha256_meta[65]; /* x-amz-meta-sha256 */
        char lock_mode[16];
        char retain_until[40];
        char legal_hold[8]; /* "ON" / "OFF" */
        int64_t length;     /* Content-Length of a HEAD */
};

/* Reads the credentials file (refused when others than its owner may read
 * it) and prepares a client. err names the file or key that is wrong. */
int s3_open(struct s3 *s, const struct s3_conf *c, char *err, size_t err_size);
void s3_close(struct s3 *s);

/* The object's key under the configured prefix: prefix + rel. malloc'd. */
char *s3_key(const struct s3 *s, const char *rel);

/* Source of an upload body: read(ud, buf, n, off) returns bytes or -errno. */
typedef ssize_t (*s3_read_fn)(void *ud, void *buf, size_t n, int64_t off);
/* Sees each part of a streamed body as it is sent: n bytes at off. */
typedef void (*s3_tap_fn)(void *ud, int64_t off, const void *buf, size_t n);
/* An s3_read_fn over a NUL-terminated string (ud): small bodies such as markers. */
ssize_t s3_read_string(void *ud, void *buf, size_t n, int64_t off);

/* PUT key from src (len bytes), signed over sha256_hex, with If-None-Match: *,
 * x-amz-meta-sha256, and the lock in the client's mode until retain_until
 * ("2027-06-05T00:00:00Z"; NULL or lock off: none). rep gets the version id
 * and ETag. Returns 0 or -errno (err: the request and the server's words). */
int s3_put(struct s3 *s, const char *key, s3_read_fn src, void *ud, int64_t len, const char *sha256_hex,
           const char *retain_until, struct s3_reply *rep, char *err, size_t err_size);
/* PUT key from src (len bytes) as s3_put does, for a body whose SHA-256 is
 * not known yet: sent in chunks each signed over its own SHA-256, which the
 * server checks as each comes, while the whole body is hashed (sha256_out)
 * and each chunk is shown to tap (may be NULL). src is read once. The
 * SHA-256 then goes on the version as its tag sha256. At most 5 GiB
 * (-EFBIG). -EOPNOTSUPP: the server does not take such a PUT (AWS S3 wants
 * a checksum header before a body with lock parameters; a server may lack
 * aws-chunked), and from then on this client does not try: hash first and
 * use s3_put. */
int s3_put_stream(struct s3 *s, const char *key, s3_read_fn src, void *ud, int64_t len, s3_tap_fn tap, void *tap_ud,
                  const char *retain_until, char sha256_out[65], struct s3_reply *rep, char *err, size_t err_size);
/* The tag sha256 = sha256_hex on one version (replacing its tags). */
int s3_tag_sha256(struct s3 *s, const char *key, const char *version, const char *sha256_hex, struct s3_reply *rep,
                  char *err, size_t err_size);
/* GET key (version: that version; NULL: the newest) streamed through SHA-256:
 * out_hex and *bytes. The copy's read-back. */
int s3_get_sha256(struct s3 *s, const char *key, const char *version, char out_hex[65], int64_t *bytes,
                  struct s3_reply *rep, char *err, size_t err_size);
/* GET key into fd (a restore from this target). */
int s3_get_to_fd(struct s3 *s, const char *key, const char *version, int fd, struct s3_reply *rep, char *err,
                 size_t err_size);
/* HEAD: -ENOENT when there is no such object (or version). */
int s3_head(struct s3 *s, const char *key, const char *version, struct s3_reply *rep, char *err, size_t err_size);
/* DELETE one version (never a delete marker): bypass sends
 * x-amz-bypass-governance-retention. -EACCES when the lock refuses. */
int s3_delete_version(struct s3 *s, const char *key, const char *version, bool bypass, struct s3_reply *rep, char *err,
                      size_t err_size);
/* Legal hold on one version: on or off. */
int s3_legal_hold(struct s3 *s, const char *key, const char *version, bool on, struct s3_reply *rep, char *err,
                  size_t err_size);
/* The bucket is there, reachable with these credentials, versioned, and has
 * Object Lock enabled (unless the client's mode is off). */
int s3_bucket_check(struct s3 *s, char *err, size_t err_size);
/* Proves the lock: writes a probe object under PREFIX.dockd/lock-probe/ locked
 * for a day and checks that deleting that version is refused. 0: refused
 * (write-once); -EPERM: the server deleted it (not write-once). */
int s3_lock_probe(struct s3 *s, const char *station, char *err, size_t err_size);
/* GET key into memory (at most max bytes; more is -EFBIG). *body malloc'd. */
int s3_get_mem(struct s3 *s, const char *key, const char *version, size_t max, char **body, size_t *len,
               struct s3_reply *rep, char *err, size_t err_size);
/* Every key under prefix (ListObjectsV2, page by page): cb(key, size, ud);
 * a non-zero return from cb stops the walk and is returned. */
int s3_list(struct s3 *s, const char *prefix, int (*cb)(const char *key, int64_t size, void *ud), void *ud, char *err,
            size_t err_size);
/* The retain-until of an object written now: months of retention from the
 * station's clock, as "2027-06-05T08:00:00Z". buf needs 32 bytes. */
void s3_retain_until(unsigned months, char *buf, size_t size);
/* Moves one version's retain-until later, in the client's lock mode (S3
 * lets anyone with the right lengthen a lock, never shorten it). */
int s3_extend_retention(struct s3 *s, const char *key, const char *version, const char *retain_until,
                        struct s3_reply *rep, char *err, size_t err_size);
