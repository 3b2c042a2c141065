/* archive_audit.c — see archive_audit.h. */
#include "archive_audit.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdlib.h>
#include <string.h>

#include "s3.h"
#include "util.h"

#define MANIFEST_MAX (64u << 20)

struct entry {
        char station[40];
        int64_t seq;
        bool json, sig;
};

struct walk {
        const char *prefix; /* PREFIX/manifests/ */
        struct entry *v;
        size_t n;
        int64_t odd; /* keys that are not STATION/N.json[.sig] */
};

static struct entry *entry_of(struct walk *w, const char *station, int64_t seq)
{
        for (size_t i = 0; i < w->n; i++)
                if (w->v[i].seq == seq && strcmp(w->v[i].station, station) == 0)
                        return &w->v[i];
        w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
        struct entry *e = &w->v[w->n++];
        memset(e, 0, sizeof(*e));
        snprintf(e->station, sizeof(e->station), "%s", station);
        e->seq = seq;
        return e;
}

static int on_key(const char *key, int64_t size, void *ud)
{
        (void)size;
        struct walk *w = ud;
        const char *rest = key + strlen(w->prefix);
        const char *slash = strchr(rest, '/');
        char *end = NULL;
        if (!slash || slash == rest || (size_t)(slash - rest) >= sizeof(((struct entry *)0)->station)) {
                w->odd++;
                return 0;
        }
        long long seq = strtoll(slash + 1, &end, 10);
        bool json = end && strcmp(end, ".json") == 0, sig = end && strcmp(end, ".json.sig") == 0;
        if (seq <= 0 || (!json && !sig)) {
                w->odd++;
                return 0;
        }
        char station[40];
        snprintf(station, sizeof(station), "%.*s", (int)(slash - rest), rest);
        struct entry *e = entry_of(w, station, seq);
        e->json |= json;
        e->sig |= sig;
        return 0;
}

static int cmp_entry(const void *a, const void *b)
{
        const struct entry *x = a, *y = b;
        int c = strcmp(x->station, y->station);
        return c ? c : (x->seq > y->seq) - (x->seq < y->seq);
}

/* "what SEQ" (seq 0: "what") appended to what a person reads first. */
static void note(struct station_audit *sa, const char *what, long long seq)
{
        size_t k = strlen(sa->detail);
        if (k >= sizeof(sa->detail) - 80)
                return;
        if (seq)
                snprintf(sa->detail + k, sizeof(sa->detail) - k, "%s%s %lld", k ? "; " : "", what, seq);
        else
                snprintf(sa->detail + k, sizeof(sa->detail) - k, "%s%s", k ? "; " : "", what);
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
        unsigned char d[32];
        unsigned dl;
        EVP_Digest(p, n, d, &dl, EVP_sha256(), NULL);
        hex_encode(d, 32, out);
}

static bool verify(EVP_PKEY *k, const char *body, size_t len, const char *sig, size_t sig_len)
{
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        bool ok = md && EVP_DigestVerifyInit(md, NULL, NULL, NULL, k) > 0 &&
                  EVP_DigestVerify(md, (const unsigned char *)sig, sig_len, (const unsigned char *)body, len) == 1;
        EVP_MD_CTX_free(md);
        return ok;
}

/* Each object copy a manifest names ("object": s3://BUCKET/KEY and its
 * version) must be in its bucket, asked of the same service with the same
 * credentials: a 404 is a missing object; any other answer (an SSE-C object
 * answers 400 to a HEAD without its key) says it is there. */
static void check_objects(const struct s3_conf *base, json_t *m, struct station_audit *sa)
{
        size_t i, k;
        json_t *r, *c;
        json_array_foreach(json_object_get(m, "recordings"), i, r)
                json_array_foreach(json_object_get(r, "copies"), k, c)
        {
                const char *obj = json_string_value(json_object_get(c, "object"));
                const char *ver = json_string_value(json_object_get(c, "version_id"));
                if (!obj || strncmp(obj, "s3://", 5) != 0 || !strchr(obj + 5, '/'))
                        continue;
                sa->objects++;
                const char *slash = strchr(obj + 5, '/');
                _cleanup_free_ char *bucket = xasprintf("%.*s", (int)(slash - obj - 5), obj + 5);
                struct s3_conf c3 = *base;
                c3.bucket = bucket;
                c3.prefix = "";
                c3.object_lock = "off";
                c3.sse_c_key = NULL;
                struct s3 s3;
                struct s3_reply rep;
                char err[400];
                if (s3_open(&s3, &c3, err, sizeof(err)) < 0)
                        continue;
                if (s3_head(&s3, slash + 1, ver, &rep, err, sizeof(err)) == -ENOENT) {
                        sa->missing_objects++;
                        _cleanup_free_ char *what = xasprintf("object missing: %s version %s", obj, ver ? ver : "-");
                        note(sa, what, 0);
                }
                s3_close(&s3);
        }
}

/* One station's manifests, in sequence order (v[0..n)). */
static void audit_station(struct s3 *s3, const struct s3_conf *base, const char *prefix, const struct entry *v,
                          size_t n, struct station_audit *sa)
{
        memset(sa, 0, sizeof(*sa));
        snprintf(sa->station, sizeof(sa->station), "%s", v[0].station);
        char err[512];
        struct s3_reply rep;
        _cleanup_free_ char *keyname = xasprintf("%sstations/%s.pub", prefix, sa->station);
        char *pem = NULL;
        size_t pem_len = 0;
        EVP_PKEY *k = NULL;
        if (s3_get_mem(s3, keyname, NULL, 64 << 10, &pem, &pem_len, &rep, err, sizeof(err)) == 0) {
                sha256_hex(pem, pem_len, sa->key_sha256);
                BIO *b = BIO_new_mem_buf(pem, (int)pem_len);
                k = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
                BIO_free(b);
        }
        free(pem);
        if (!k)
                note(sa, "no readable public key in the archive", 0);
        char prev_sha[65] = "";
        int64_t prev_seq = 0;
        for (size_t i = 0; i < n; i++) {
                const struct entry *e = &v[i];
                if (e->seq != prev_seq + 1) {
                        sa->gaps += e->seq - prev_seq - 1;
                        note(sa, "missing before", (long long)e->seq);
                }
                if (!e->json) {
                        sa->unreadable++;
                        note(sa, "a signature without its manifest:", (long long)e->seq);
                        prev_seq = e->seq, prev_sha[0] = '\0';
                        continue;
                }
                sa->manifests++;
                if (!sa->first_seq)
                        sa->first_seq = e->seq;
                sa->last_seq = e->seq;
                _cleanup_free_ char *mkey =
                        xasprintf("%smanifests/%s/%lld.json", prefix, e->station, (long long)e->seq);
                _cleanup_free_ char *skey = xasprintf("%s.sig", mkey);
                char *body = NULL, *sig = NULL;
                size_t len = 0, sig_len = 0;
                if (s3_get_mem(s3, mkey, NULL, MANIFEST_MAX, &body, &len, &rep, err, sizeof(err)) < 0) {
                        sa->unreadable++;
                        note(sa, "unreadable:", (long long)e->seq);
                        prev_seq = e->seq, prev_sha[0] = '\0';
                        continue;
                }
                if (!e->sig || s3_get_mem(s3, skey, NULL, 4096, &sig, &sig_len, &rep, err, sizeof(err)) < 0 || !k ||
                    !verify(k, body, len, sig, sig_len)) {
                        sa->bad_signatures++;
                        note(sa, e->sig ? "bad signature:" : "no signature:", (long long)e->seq);
                }
                json_error_t je;
                json_t *m = json_loadb(body, len, 0, &je);
                const char *prev = m ? json_string_value(json_object_get(m, "prev_sha256")) : NULL;
                json_int_t seq = m ? json_integer_value(json_object_get(m, "seq")) : 0;
                const char *station = m ? json_string_value(json_object_get(m, "station")) : NULL;
                const char *at =
                        m ? json_string_value(json_object_get(json_object_get(m, "session"), "docked_at")) : NULL;
                if (!m || seq != e->seq || !station || strcmp(station, e->station) != 0) {
                        sa->broken_links++;
                        note(sa, "a manifest whose own station or seq is not its name:", (long long)e->seq);
                } else if (prev_seq == e->seq - 1 && prev_sha[0] && (!prev || strcmp(prev, prev_sha) != 0)) {
                        sa->broken_links++;
                        note(sa, "chain broken at", (long long)e->seq);
                }
                if (m)
                        check_objects(base, m, sa);
                if (at) {
                        if (!sa->first_at[0])
                                snprintf(sa->first_at, sizeof(sa->first_at), "%s", at);
                        snprintf(sa->last_at, sizeof(sa->last_at), "%s", at);
                }
                json_decref(m);
                sha256_hex(body, len, prev_sha);
                prev_seq = e->seq;
                free(body);
                free(sig);
        }
        EVP_PKEY_free(k);
}

int archive_audit_run(const struct config *cfg, const char *url, struct archive_audit *out, char *err, size_t err_size)
{
        memset(out, 0, sizeof(*out));
        struct s3_conf c = cfg->archive_s3;
        _cleanup_free_ char *bucket = NULL, *prefix = NULL;
        if (url) {
                if (strncmp(url, "s3://", 5) != 0 || !url[5]) {
                        snprintf(err, err_size, "'%s' is not s3://BUCKET/PREFIX", url);
                        return -EINVAL;
                }
                const char *b = url + 5, *slash = strchr(b, '/');
                bucket = xasprintf("%.*s", (int)(slash ? (size_t)(slash - b) : strlen(b)), b);
                const char *p = slash ? slash + 1 : "";
                prefix = xasprintf("%s%s", p, *p && p[strlen(p) - 1] != '/' ? "/" : "");
                c.bucket = bucket;
                c.prefix = prefix;
        }
        if (!c.endpoint || !c.credentials || !c.bucket) {
                snprintf(err, err_size,
                         "the archive audit needs an S3 archive: [archive] url = s3://BUCKET/PREFIX with endpoint "
                         "and credentials");
                return -EINVAL;
        }
        c.object_lock = "off"; /* an auditor writes nothing */
        struct s3 s3;
        int r = s3_open(&s3, &c, err, err_size);
        if (r < 0)
                return r;
        _cleanup_free_ char *mprefix = xasprintf("%smanifests/", s3.prefix);
        struct walk w = { .prefix = mprefix };
        if ((r = s3_list(&s3, mprefix, on_key, &w, err, err_size)) == 0) {
                qsort(w.v, w.n, sizeof(*w.v), cmp_entry);
                for (size_t i = 0; i < w.n;) {
                        size_t j = i;
                        while (j < w.n && strcmp(w.v[j].station, w.v[i].station) == 0)
                                j++;
                        out->st = xrealloc(out->st, (out->n + 1) * sizeof(*out->st));
                        audit_station(&s3, &c, s3.prefix, &w.v[i], j - i, &out->st[out->n++]);
                        i = j;
                }
        }
        free(w.v);
        s3_close(&s3);
        return r;
}

void archive_audit_free(struct archive_audit *a)
{
        free(a->st);
        memset(a, 0, sizeof(*a));
}

bool archive_audit_clean(const struct archive_audit *a)
{
        for (size_t i = 0; i < a->n; i++) {
                const struct station_audit *s = &a->st[i];
                if (s->gaps || s->broken_links || s->bad_signatures || s->unreadable || s->missing_objects ||
                    !s->key_sha256[0])
                        return false;
        }
        return true;
}
