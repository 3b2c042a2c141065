/* sigv4.h — AWS Signature Version 4 for S3 requests, on OpenSSL: the
 * canonical request, the string to sign and the Authorization header. Our
 * own because libcurl 7.88's CURLOPT_AWS_SIGV4 mis-canonicalises valueless
 * query parameters (?object-lock, ?uploads) and adds no payload hash. */
#pragma once
#include <stddef.h>
#include <stdint.h>

/* The SHA-256 of nothing: the payload hash of a request without a body. */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

struct sigv4_header {
        const char *name; /* any case; signed lower-cased */
        const char *value;
};

struct sigv4_request {
        const char *method;                 /* "PUT" */
        const char *path;                   /* unencoded, from the root: "/bucket/2026/11/clip 1.mp4" */
        const char *query;                  /* unencoded "versionId=abc&legal-hold" or NULL; pairs in any order */
        const struct sigv4_header *headers; /* must include host and x-amz-date; all are signed */
        size_t n_headers;
        const char *payload_sha256; /* hex, or "UNSIGNED-PAYLOAD" */
        const char *region, *service;
        const char *access_key, *secret_key;
        const char *amz_date; /* "20130524T000000Z", the x-amz-date header's value */
};

/* URI-encodes s as SigV4 wants it (unreserved A-Z a-z 0-9 - . _ ~ kept, every
 * other byte %XX upper case); '/' is kept when keep_slash. Returns malloc'd. */
char *sigv4_uri_encode(const char *s, int keep_slash);
/* The canonical request and the "Authorization: ..." value. Both malloc'd;
 * canonical may be NULL. Returns 0 or -EINVAL (a header without a value). */
int sigv4_sign(const struct sigv4_request *rq, char **authorization, char **canonical);
/* "20130524T000000Z" for t, UTC. buf needs 17 bytes. */
void sigv4_amz_date(int64_t t, char buf[17]);

/* Chunked upload (the request's payload hash is SIGV4_STREAMING): the body
 * goes in chunks, each signed over its own SHA-256 and chained on the
 * signature before it, starting from the request's own (the seed), so the
 * server checks every chunk as it comes and no hash of the whole body is
 * needed before it is sent. */
#define SIGV4_STREAMING "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
struct sigv4_chunks {
        unsigned char key[32]; /* the signing key of the request's day, region and service */
        char amz_date[17];
        char scope[96];
        char prev[65]; /* the last signature: the seed, then each chunk's */
};
/* From the request as signed and its Authorization value. Returns 0 or
 * -EINVAL (no signature in it). */
int sigv4_chunks_begin(struct sigv4_chunks *c, const struct sigv4_request *rq, const char *authorization);
/* The next chunk's signature (n = 0: the last, empty chunk). */
void sigv4_chunk_sign(struct sigv4_chunks *c, const void *data, size_t n, char sig[65]);
void sigv4_chunks_end(struct sigv4_chunks *c);
/* Bytes on the wire for a body of len bytes in chunks of chunk bytes (the
 * last one shorter), with the empty chunk that ends it. */
int64_t sigv4_chunked_length(int64_t len, size_t chunk);
