/* s3_internal.h — what the S3 client's core (s3.c) and its operations
 * (s3_ops.c) share. Not for other rooms. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <openssl/evp.h>

#include "s3.h"

#include "sigv4.h"

/* A body sent in signed chunks (aws-chunked, SIGV4_STREAMING): read from
 * the xfer's src a chunk at a time, hashed whole as it passes. */
struct s3_stream {
        size_t chunk; /* data bytes per chunk (the last one fewer) */
        char *data;   /* the chunk on its way */
        size_t data_len;
        char head[96];        /* its "<hex size>;chunk-signature=<sig>\r\n" */
        size_t head_len, pos; /* pos: bytes of head, data and "\r\n" sent */
        struct sigv4_chunks sig;
        EVP_MD_CTX *whole; /* the SHA-256 of the body itself */
        s3_tap_fn tap;     /* sees each chunk's data, in order */
        void *tap_ud;
};

/* One request's body source and where its answer goes. */
struct xfer {
        /* body: a reader, or bytes in memory */
        s3_read_fn src;
        void *src_ud;
        const char *mem;
        int64_t base, len, sent; /* the body is [base, base + len) of src */
        int src_err;
        struct s3_stream *stream; /* or NULL: the body as it is, signed over its SHA-256 */
        /* answer */
        CURL *h;
        EVP_MD_CTX *md; /* GET: hash what comes */
        int fd;         /* GET: write it here (-1: no) */
        int fd_err;
        int64_t received;
        char *body;                /* an error, or a small answer */
        size_t body_len, body_max; /* 0: ERRBODY_MAX */
        struct s3_reply *rep;
};

struct request {
        const char *method;
        const char *key;   /* NULL: the bucket itself */
        const char *query; /* unencoded pairs, or NULL */
        const char *headers[12][2];
        size_t n_headers;
        const char *payload_sha256; /* NULL: no body (the empty SHA-256) */
        bool head;
        bool object_data; /* reads or writes an object's bytes: SSE-C headers go with it */
};

/* Performs one signed request; fills rep; err says what failed, naming the
 * method and object. Returns 0 for a 2xx, else -errno. */
int s3_perform(struct s3 *s, const struct request *rq, struct xfer *x, struct s3_reply *rep, char *err,
               size_t err_size);
void s3_xfer_free(struct xfer *x);
/* <Tag>text</Tag> out of a small XML answer. */
bool s3_xml_text(const char *xml, const char *tag, char *out, size_t out_size);
#define S3_KEY_MAX 1024 /* bytes of an object key */
/* One ListObjectsV2 page: each <Contents> entry's <Key> (unescaped) and
 * <Size> to cb, in order; next: the continuation token when the listing goes
 * on ("" when it ends). -EPROTO when an entry or the way on cannot be read
 * whole (never a key cut short or an entry skipped); cb's non-zero result. */
int s3_list_page(const char *body, int (*cb)(const char *key, int64_t size, void *ud), void *ud, char *next,
                 size_t next_size);
void s3_b64(const unsigned char *in, size_t n, char *out, size_t out_size);
