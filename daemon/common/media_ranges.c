/* media_ranges.c — the byte ranges a stream probe was served, checked
 * against the one pass over the recording that is hashed and stored. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "media.h"
#include "util.h"

struct media_range {
        int64_t off;
        size_t n, fed; /* fed: bytes of it the pass has given so far */
        unsigned char served[32];
        EVP_MD_CTX *md; /* while the pass is inside the range */
        bool bad;
};

struct media_ranges {
        media_read_fn rd;
        void *ud;
        struct media_range *r;
        size_t n, cap;
};

struct media_ranges *media_ranges_new(media_read_fn rd, void *ud)
{
        struct media_ranges *l = xmalloc(sizeof(*l));
        *l = (struct media_ranges){ .rd = rd, .ud = ud };
        return l;
}

void media_ranges_free(struct media_ranges *l)
{
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                EVP_MD_CTX_free(l->r[i].md);
        free(l->r);
        free(l);
}

ssize_t media_ranges_serve(void *ud, void *buf, size_t n, int64_t off)
{
        struct media_ranges *l = ud;
        ssize_t k = l->rd(l->ud, buf, n, off);
        if (k <= 0)
                return k;
        if (l->n == l->cap) {
                l->cap = l->cap ? 2 * l->cap : 16;
                l->r = xrealloc(l->r, l->cap * sizeof(*l->r));
        }
        struct media_range *r = &l->r[l->n++];
        *r = (struct media_range){ .off = off, .n = (size_t)k };
        unsigned len = 0;
        EVP_Digest(buf, (size_t)k, r->served, &len, EVP_sha256(), NULL);
        return k;
}

void media_ranges_pass(struct media_ranges *l, int64_t off, const void *buf, size_t n)
{
        int64_t end = off + (int64_t)n;
        for (size_t i = 0; i < l->n; i++) {
                struct media_range *r = &l->r[i];
                int64_t from = r->off + (int64_t)r->fed, to = r->off + (int64_t)r->n;
                if (r->fed == r->n || from >= end || to <= off)
                        continue;
                if (from < off) { /* the pass skipped bytes of it: it cannot be checked */
                        r->bad = true;
                        r->fed = r->n;
                        continue;
                }
                if (!r->md) {
                        r->md = EVP_MD_CTX_new();
                        EVP_DigestInit_ex(r->md, EVP_sha256(), NULL);
                }
                int64_t stop = to < end ? to : end;
                EVP_DigestUpdate(r->md, (const unsigned char *)buf + (from - off), (size_t)(stop - from));
                r->fed += (size_t)(stop - from);
                if (r->fed == r->n) {
                        unsigned char d[32];
                        unsigned len = 0;
                        EVP_DigestFinal_ex(r->md, d, &len);
                        EVP_MD_CTX_free(r->md);
                        r->md = NULL;
                        r->bad = memcmp(d, r->served, sizeof(d)) != 0;
                }
        }
}

void media_ranges_restart(struct media_ranges *l)
{
        for (size_t i = 0; l && i < l->n; i++) {
                EVP_MD_CTX_free(l->r[i].md);
                l->r[i].md = NULL;
                l->r[i].fed = 0;
                l->r[i].bad = false;
        }
}

int media_ranges_verdict(const struct media_ranges *l, int64_t *bad_off)
{
        for (size_t i = 0; i < l->n; i++)
                if (l->r[i].bad || l->r[i].fed != l->r[i].n) {
                        *bad_off = l->r[i].off;
                        return -EBADMSG;
                }
        return 0;
}

void media_distrust(struct media_info *m, int64_t bad_off)
{
        *m = (struct media_info){ .duration_s = -1 };
        snprintf(m->flag, sizeof(m->flag), "unverified");
        snprintf(m->error, sizeof(m->error),
                 "INTEGRITY: the media probe was given other bytes at offset %lld than the hashed read; its facts "
                 "are not used",
                 (long long)bad_off);
}
