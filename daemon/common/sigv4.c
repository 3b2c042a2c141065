/* sigv4.c — AWS Signature Version 4 (see sigv4.h). */
#include "sigv4.h"

#include <ctype.h>
#include <stdbool.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util.h"

/* A growing string; the signer's few kilobytes. */
struct buf {
        char *s;
        size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                b->cap = (b->len + n + 1) * 2;
                b->s = xrealloc(b->s, b->cap);
        }
        memcpy(b->s + b->len, s, n);
        b->len += n;
        b->s[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s) { put(b, s, strlen(s)); }

char *sigv4_uri_encode(const char *s, int keep_slash)
{
        struct buf b = { 0 };
        puts_(&b, "");
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' || (keep_slash && *p == '/')) {
                        put(&b, (const char *)p, 1);
                } else {
                        char h[4];
                        snprintf(h, sizeof(h), "%%%02X", *p);
                        put(&b, h, 3);
                }
        }
        return b.s;
}

void sigv4_amz_date(int64_t t, char buf[17])
{
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        strftime(buf, 17, "%Y%m%dT%H%M%SZ", &tm);
}

static void sha256_hex(const char *s, size_t n, char out[65])
{
        unsigned char d[32];
        unsigned dl;
        EVP_Digest(s, n, d, &dl, EVP_sha256(), NULL);
        hex_encode(d, 32, out);
}

static void hmac(const unsigned char *key, size_t keylen, const char *msg, unsigned char out[32])
{
        unsigned ol = 32;
        HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg), out, &ol);
}

struct pair {
        char *k, *v; /* encoded */
};

static int cmp_pair(const void *a, const void *b)
{
        const struct pair *x = a, *y = b;
        int c = strcmp(x->k, y->k);
        return c ? c : strcmp(x->v, y->v);
}

/* "b=2&a&c=" → "a=&b=2&c=": each name and value encoded, sorted by name then
 * value, a valueless parameter given an empty value. */
static void canonical_query(struct buf *out, const char *query)
{
        if (!query || !*query)
                return;
        char *q = xstrdup(query);
        size_t n = 1;
        for (char *p = q; *p; p++)
                n += *p == '&';
        struct pair *pairs = xmalloc(n * sizeof(*pairs));
        size_t k = 0;
        char *save = NULL;
        for (char *tok = strtok_r(q, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
                char *eq = strchr(tok, '=');
                if (eq)
                        *eq = '\0';
                pairs[k].k = sigv4_uri_encode(tok, 0);
                pairs[k].v = sigv4_uri_encode(eq ? eq + 1 : "", 0);
                k++;
        }
        qsort(pairs, k, sizeof(*pairs), cmp_pair);
        for (size_t i = 0; i < k; i++) {
                if (i)
                        puts_(out, "&");
                puts_(out, pairs[i].k);
                puts_(out, "=");
                puts_(out, pairs[i].v);
                free(pairs[i].k);
                free(pairs[i].v);
        }
        free(pairs);
        free(q);
}

struct hdr {
        char *name;        /* lower case */
        const char *value; /* trimmed when written */
};

static int cmp_hdr(const void *a, const void *b)
{
        return strcmp(((const struct hdr *)a)->name, ((const struct hdr *)b)->name);
}

/* The value with leading and trailing blanks cut and inner runs of blanks as one. */
static void put_trimmed(struct buf *b, const char *v)
{
        while (*v == ' ' || *v == '\t')
                v++;
        bool space = false;
        for (; *v; v++) {
                if (*v == ' ' || *v == '\t') {
                        space = true;
                        continue;
                }
                if (space)
                        puts_(b, " ");
                space = false;
                put(b, v, 1);
        }
}

/* The key of the request's day, region and service. */
static void signing_key(const struct sigv4_request *rq, unsigned char k[32])
{
        char date[9];
        snprintf(date, sizeof(date), "%.8s", rq->amz_date);
        _cleanup_free_ char *k0 = xasprintf("AWS4%s", rq->secret_key);
        hmac((const unsigned char *)k0, strlen(k0), date, k);
        hmac(k, 32, rq->region, k);
        hmac(k, 32, rq->service, k);
        hmac(k, 32, "aws4_request", k);
        OPENSSL_cleanse(k0, strlen(k0));
}

int sigv4_sign(const struct sigv4_request *rq, char **authorization, char **canonical)
{
        struct hdr *h = xmalloc((rq->n_headers + 1) * sizeof(*h));
        for (size_t i = 0; i < rq->n_headers; i++) {
                if (!rq->headers[i].value) {
                        for (size_t j = 0; j < i; j++)
                                free(h[j].name);
                        free(h);
                        return -EINVAL;
                }
                h[i].name = xstrdup(rq->headers[i].name);
                for (char *p = h[i].name; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
                h[i].value = rq->headers[i].value;
        }
        qsort(h, rq->n_headers, sizeof(*h), cmp_hdr);

        struct buf c = { 0 }, signed_headers = { 0 };
        puts_(&c, rq->method);
        puts_(&c, "\n");
        char *path = sigv4_uri_encode(rq->path && *rq->path ? rq->path : "/", 1);
        puts_(&c, path);
        free(path);
        puts_(&c, "\n");
        canonical_query(&c, rq->query);
        puts_(&c, "\n");
        puts_(&signed_headers, "");
        for (size_t i = 0; i < rq->n_headers; i++) {
                puts_(&c, h[i].name);
                puts_(&c, ":");
                put_trimmed(&c, h[i].value);
                puts_(&c, "\n");
                if (i)
                        puts_(&signed_headers, ";");
                puts_(&signed_headers, h[i].name);
                free(h[i].name);
        }
        free(h);
        puts_(&c, "\n");
        puts_(&c, signed_headers.s);
        puts_(&c, "\n");
        puts_(&c, rq->payload_sha256);

        char date[9];
        snprintf(date, sizeof(date), "%.8s", rq->amz_date);
        _cleanup_free_ char *scope = xasprintf("%s/%s/%s/aws4_request", date, rq->region, rq->service);
        char creq_hash[65];
        sha256_hex(c.s, c.len, creq_hash);
        _cleanup_free_ char *sts = xasprintf("AWS4-HMAC-SHA256\n%s\n%s\n%s", rq->amz_date, scope, creq_hash);

        unsigned char k[32];
        signing_key(rq, k);
        unsigned char sig[32];
        hmac(k, 32, sts, sig);
        char sig_hex[65];
        hex_encode(sig, 32, sig_hex);
        OPENSSL_cleanse(k, sizeof(k));

        *authorization = xasprintf("AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s", rq->access_key,
                                   scope, signed_headers.s, sig_hex);
        free(signed_headers.s);
        if (canonical)
                *canonical = c.s;
        else
                free(c.s);
        return 0;
}

int sigv4_chunks_begin(struct sigv4_chunks *c, const struct sigv4_request *rq, const char *authorization)
{
        const char *sig = strstr(authorization, "Signature=");
        if (!sig || strlen(sig + 10) != 64)
                return -EINVAL;
        signing_key(rq, c->key);
        snprintf(c->amz_date, sizeof(c->amz_date), "%s", rq->amz_date);
        snprintf(c->scope, sizeof(c->scope), "%.8s/%s/%s/aws4_request", rq->amz_date, rq->region, rq->service);
        snprintf(c->prev, sizeof(c->prev), "%s", sig + 10);
        return 0;
}

void sigv4_chunk_sign(struct sigv4_chunks *c, const void *data, size_t n, char sig[65])
{
        char data_hex[65];
        sha256_hex((const char *)data, n, data_hex);
        _cleanup_free_ char *sts = xasprintf("AWS4-HMAC-SHA256-PAYLOAD\n%s\n%s\n%s\n%s\n%s", c->amz_date, c->scope,
                                             c->prev, EMPTY_SHA256 /* the chunk's headers: none */, data_hex);
        unsigned char d[32];
        hmac(c->key, sizeof(c->key), sts, d);
        hex_encode(d, 32, sig);
        memcpy(c->prev, sig, 65);
}

void sigv4_chunks_end(struct sigv4_chunks *c) { OPENSSL_cleanse(c->key, sizeof(c->key)); }

/* Each chunk is "<hex size>;chunk-signature=<64 hex>\r\n<data>\r\n", and
 * the last one has no data. */
static int64_t chunk_frame(int64_t n)
{
        int digits = 1;
        for (int64_t v = n; v >= 16; v /= 16)
                digits++;
        return digits + (int64_t)strlen(";chunk-signature=") + 64 + 2 + n + 2;
}

int64_t sigv4_chunked_length(int64_t len, size_t chunk)
{
        int64_t full = len / (int64_t)chunk, rest = len % (int64_t)chunk;
        return full * chunk_frame((int64_t)chunk) + (rest ? chunk_frame(rest) : 0) + chunk_frame(0);
}
