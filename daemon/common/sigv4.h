/* sigv4.h — AWS Signature Version 4 for S3 requests, on OpenSSL: the
 * canonical request, the string to sign and the Authorization header. Our
 * own because libcurl 7.88's CURLOPT_AWS_SIGV4 mis-canonicalises valueless
 * query parameters (?object-lock, ?uploads) and adds no payload hash. */
#pragma once
#include <stddef.h>
#include <stdint.h>

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
