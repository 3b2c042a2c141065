/* s3.c — the S3 client (see s3.h). One request at a time per client; each
 * request is signed over its real payload SHA-256. */
#include "s3.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sigv4.h"
#include "util.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define ERRBODY_MAX 8192

static void trim(char *s)
{
        char *e = s + strlen(s);
        while (e > s && isspace((unsigned char)e[-1]))
                *--e = '\0';
        char *b = s;
        while (isspace((unsigned char)*b))
                b++;
        memmove(s, b, strlen(b) + 1);
}

static int read_credentials(const char *path, char **key, char **secret, char *err, size_t err_size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0) {
                snprintf(err, err_size, "credentials %s: %s", path, strerror(errno));
                return -errno;
        }
        if (st.st_mode & 0044) {
                snprintf(err, err_size,
                         "credentials %s can be read by others than its owner (mode %04o): chmod 0600 it, owned by "
                         "the dockd user",
                         path, (unsigned)(st.st_mode & 07777));
                return -EPERM;
        }
        FILE *f = fdopen(fd, "r");
        if (!f) {
                snprintf(err, err_size, "credentials %s: %s", path, strerror(errno));
                return -errno;
        }
        fd = -1;
        char line[512];
        int lineno = 0, r = 0;
        while (fgets(line, sizeof(line), f)) {
                lineno++;
                trim(line);
                if (!line[0] || line[0] == '#' || line[0] == ';')
                        continue;
                char *eq = strchr(line, '=');
                if (!eq) {
                        snprintf(err, err_size, "credentials %s:%d: expected 'name = value'", path, lineno);
                        r = -EINVAL;
                        break;
                }
                *eq = '\0';
                char *v = eq + 1;
                trim(line);
                trim(v);
                char **dst = strcmp(line, "access_key_id") == 0       ? key
                             : strcmp(line, "secret_access_key") == 0 ? secret
                                                                      : NULL;
                if (!dst) {
                        snprintf(err, err_size,
                                 "credentials %s:%d: unknown key '%s' (known: access_key_id, secret_access_key)", path,
                                 lineno, line);
                        r = -EINVAL;
                        break;
                }
                free(*dst);
                *dst = xstrdup(v);
        }
        fclose(f);
        if (r == 0 && (!*key || !*secret || !**key || !**secret)) {
                snprintf(err, err_size, "credentials %s: needs access_key_id and secret_access_key", path);
                r = -EINVAL;
        }
        return r;
}

/* The SSE-C key: exactly 32 bytes in a file only its owner may read. */
static int read_sse_key(struct s3 *s, const char *path, char *err, size_t err_size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        struct stat st;
        unsigned char key[33], md5[16];
        if (fd < 0 || fstat(fd, &st) < 0) {
                snprintf(err, err_size, "sse_c_key %s: %s", path, strerror(errno));
                return -errno;
        }
        if (st.st_mode & 0044) {
                snprintf(err, err_size, "sse_c_key %s can be read by others than its owner (mode %04o): chmod 0600 it",
                         path, (unsigned)(st.st_mode & 07777));
                return -EPERM;
        }
        ssize_t k = pread_full(fd, key, sizeof(key), 0);
        if (k != 32) {
                snprintf(err, err_size, "sse_c_key %s must hold exactly 32 bytes (head -c 32 /dev/urandom), not %zd",
                         path, k);
                OPENSSL_cleanse(key, sizeof(key));
                return -EINVAL;
        }
        unsigned ml;
        EVP_Digest(key, 32, md5, &ml, EVP_md5(), NULL);
        EVP_EncodeBlock((unsigned char *)s->sse_key, key, 32);
        EVP_EncodeBlock((unsigned char *)s->sse_key_md5, md5, 16);
        OPENSSL_cleanse(key, sizeof(key));
        return 0;
}

int s3_open(struct s3 *s, const struct s3_conf *c, char *err, size_t err_size)
{
        memset(s, 0, sizeof(*s));
        const char *p = c->endpoint;
        size_t scheme = strncmp(p, "https://", 8) == 0 ? 8 : strncmp(p, "http://", 7) == 0 ? 7 : 0;
        if (!scheme) {
                snprintf(err, err_size, "endpoint '%s' must start with https:// (or http:// to a loopback address)", p);
                return -EINVAL;
        }
        s->endpoint = xstrdup(p);
        size_t n = strlen(s->endpoint);
        while (n > scheme && s->endpoint[n - 1] == '/')
                s->endpoint[--n] = '\0';
        s->host = xstrdup(s->endpoint + scheme);
        if (strchr(s->host, '/')) {
                snprintf(err, err_size, "endpoint '%s' must be scheme://host[:port], without a path", p);
                s3_close(s);
                return -EINVAL;
        }
        if (scheme == 7 && strncmp(s->host, "127.", 4) != 0 && strncmp(s->host, "localhost", 9) != 0 &&
            strncmp(s->host, "[::1]", 5) != 0) {
                snprintf(err, err_size, "endpoint '%s': plain http only to a loopback address; use https", p);
                s3_close(s);
                return -EINVAL;
        }
        s->bucket = xstrdup(c->bucket);
        s->region = xstrdup(c->region && *c->region ? c->region : "us-east-1");
        s->prefix = xstrdup(c->prefix ? c->prefix : "");
        s->ca_file = c->ca_file ? xstrdup(c->ca_file) : NULL;
        const char *mode = c->object_lock ? c->object_lock : "governance";
        snprintf(s->lock_mode, sizeof(s->lock_mode), "%s",
                 strcmp(mode, "compliance") == 0   ? "COMPLIANCE"
                 : strcmp(mode, "governance") == 0 ? "GOVERNANCE"
                                                   : "");
        s->timeout_s = 30; /* seconds without a byte moving: the server is taken for gone */
#ifdef DOCKD_TEST_HOOKS
        if (getenv("DOCKD_TEST_S3_TIMEOUT_S") && atoi(getenv("DOCKD_TEST_S3_TIMEOUT_S")) > 0)
                s->timeout_s = atoi(getenv("DOCKD_TEST_S3_TIMEOUT_S"));
#endif
        int r = read_credentials(c->credentials, &s->access_key, &s->secret_key, err, err_size);
        if (r == 0 && c->sse_c_key)
                r = read_sse_key(s, c->sse_c_key, err, err_size);
        if (r < 0) {
                s3_close(s);
                return r;
        }
        s->curl = curl_easy_init();
        return 0;
}

void s3_close(struct s3 *s)
{
        if (s->curl)
                curl_easy_cleanup(s->curl);
        if (s->secret_key)
                OPENSSL_cleanse(s->secret_key, strlen(s->secret_key));
        OPENSSL_cleanse(s->sse_key, sizeof(s->sse_key));
        free(s->endpoint);
        free(s->host);
        free(s->bucket);
        free(s->region);
        free(s->prefix);
        free(s->ca_file);
        free(s->access_key);
        free(s->secret_key);
        memset(s, 0, sizeof(*s));
}

char *s3_key(const struct s3 *s, const char *rel) { return xasprintf("%s%s", s->prefix, rel); }

/* One request's body source and where its answer goes. */
struct xfer {
        /* body: a reader, or bytes in memory */
        s3_read_fn src;
        void *src_ud;
        const char *mem;
        int64_t base, len, sent; /* the body is [base, base + len) of src */
        int src_err;
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

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
        struct xfer *x = ud;
        size_t want = size * nitems;
        if ((int64_t)want > x->len - x->sent)
                want = (size_t)(x->len - x->sent);
        if (want == 0)
                return 0;
        if (x->mem) {
                memcpy(buf, x->mem + x->sent, want);
                x->sent += (int64_t)want;
                return want;
        }
        ssize_t k = x->src(x->src_ud, buf, want, x->base + x->sent);
        if (k <= 0) {
                x->src_err = k < 0 ? (int)k : -EIO; /* a short source is an error, never a short object */
                return CURL_READFUNC_ABORT;
        }
        x->sent += k;
        return (size_t)k;
}

static size_t write_cb(char *buf, size_t size, size_t nmemb, void *ud)
{
        struct xfer *x = ud;
        size_t n = size * nmemb;
        long code = 0;
        curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
        if (code >= 200 && code < 300 && (x->md || x->fd >= 0)) {
                if (x->md)
                        EVP_DigestUpdate(x->md, buf, n);
                if (x->fd >= 0 && pwrite_full(x->fd, buf, n, x->received) < 0) {
                        x->fd_err = -errno;
                        return 0;
                }
                x->received += (int64_t)n;
                return n;
        }
        size_t max = x->body_max ? x->body_max : ERRBODY_MAX;
        size_t room = x->body_len < max ? max - x->body_len : 0;
        size_t take = n < room ? n : room;
        x->body = xrealloc(x->body, x->body_len + take + 1);
        memcpy(x->body + x->body_len, buf, take);
        x->body_len += take;
        x->body[x->body_len] = '\0';
        return n;
}

static void header_value(const char *line, size_t n, const char *name, char *out, size_t out_size)
{
        size_t nl = strlen(name);
        if (n <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
                return;
        const char *v = line + nl + 1;
        size_t vn = n - nl - 1;
        while (vn && (*v == ' ' || *v == '\t'))
                v++, vn--;
        while (vn && (v[vn - 1] == '\r' || v[vn - 1] == '\n' || v[vn - 1] == ' '))
                vn--;
        if (vn && *v == '"' && v[vn - 1] == '"' && vn >= 2) /* ETag: "..." */
                v++, vn -= 2;
        snprintf(out, out_size, "%.*s", (int)vn, v);
}

static size_t header_cb(char *buf, size_t size, size_t nitems, void *ud)
{
        struct xfer *x = ud;
        size_t n = size * nitems;
        struct s3_reply *r = x->rep;
        header_value(buf, n, "x-amz-version-id", r->version_id, sizeof(r->version_id));
        header_value(buf, n, "ETag", r->etag, sizeof(r->etag));
        header_value(buf, n, "x-amz-meta-sha256", r->sha256_meta, sizeof(r->sha256_meta));
        header_value(buf, n, "x-amz-object-lock-mode", r->lock_mode, sizeof(r->lock_mode));
        header_value(buf, n, "x-amz-object-lock-retain-until-date", r->retain_until, sizeof(r->retain_until));
        header_value(buf, n, "x-amz-object-lock-legal-hold", r->legal_hold, sizeof(r->legal_hold));
        char len[32] = "";
        header_value(buf, n, "Content-Length", len, sizeof(len));
        if (len[0])
                r->length = strtoll(len, NULL, 10);
        return n;
}

/* <Tag>text</Tag> out of a small XML answer. */
static bool xml_text(const char *xml, const char *tag, char *out, size_t out_size)
{
        if (!xml)
                return false;
        _cleanup_free_ char *open_tag = xasprintf("<%s>", tag);
        _cleanup_free_ char *close_tag = xasprintf("</%s>", tag);
        const char *b = strstr(xml, open_tag);
        if (!b)
                return false;
        b += strlen(open_tag);
        const char *e = strstr(b, close_tag);
        if (!e)
                return false;
        snprintf(out, out_size, "%.*s", (int)(e - b), b);
        return true;
}

static int status_errno(long status, const char *code)
{
        if (status == 404)
                return -ENOENT;
        if (status == 403 || status == 401)
                return -EACCES;
        if (status == 412)
                return -EEXIST;
        if (status == 400 && strcmp(code, "XAmzContentSHA256Mismatch") == 0)
                return -EBADMSG;
        if (status == 400 && strcmp(code, "BadDigest") == 0)
                return -EBADMSG;
        if (status == 409)
                return -EBUSY;
        return -EIO;
}

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

static char *query_for_url(const char *query)
{
        /* each name and value encoded as the signer encodes them */
        _cleanup_free_ char *q = xstrdup(query);
        char *out = xstrdup("");
        char *save = NULL;
        for (char *tok = strtok_r(q, "&", &save); tok; tok = strtok_r(NULL, "&", &save)) {
                char *eq = strchr(tok, '=');
                if (eq)
                        *eq = '\0';
                _cleanup_free_ char *k = sigv4_uri_encode(tok, 0);
                _cleanup_free_ char *v = eq ? sigv4_uri_encode(eq + 1, 0) : NULL;
                char *next = xasprintf("%s%s%s%s%s", out, out[0] ? "&" : "", k, v ? "=" : "", v ? v : "");
                free(out);
                out = next;
        }
        return out;
}

/* Performs one signed request; fills rep; err says what failed, naming the
 * method and object. Returns 0 for a 2xx, else -errno. */
static int perform(struct s3 *s, const struct request *rq, struct xfer *x, struct s3_reply *rep, char *err,
                   size_t err_size)
{
        memset(rep, 0, sizeof(*rep));
        rep->length = -1;
        CURL *h = s->curl;
        x->h = h;
        x->rep = rep;
        _cleanup_free_ char *path = rq->key ? xasprintf("/%s/%s", s->bucket, rq->key) : xasprintf("/%s", s->bucket);
        _cleanup_free_ char *epath = sigv4_uri_encode(path, 1);
        _cleanup_free_ char *q = rq->query ? query_for_url(rq->query) : NULL;
        _cleanup_free_ char *url = xasprintf("%s%s%s%s", s->endpoint, epath, q ? "?" : "", q ? q : "");
        char amz_date[17];
        sigv4_amz_date((int64_t)time(NULL), amz_date); /* the real clock: the server checks it */
        const char *payload = rq->payload_sha256 ? rq->payload_sha256 : EMPTY_SHA256;

        struct sigv4_header hs[20];
        size_t n = 0;
        hs[n++] = (struct sigv4_header){ "host", s->host };
        hs[n++] = (struct sigv4_header){ "x-amz-date", amz_date };
        hs[n++] = (struct sigv4_header){ "x-amz-content-sha256", payload };
        for (size_t i = 0; i < rq->n_headers; i++)
                hs[n++] = (struct sigv4_header){ rq->headers[i][0], rq->headers[i][1] };
        if (rq->object_data && s->sse_key[0]) {
                hs[n++] = (struct sigv4_header){ "x-amz-server-side-encryption-customer-algorithm", "AES256" };
                hs[n++] = (struct sigv4_header){ "x-amz-server-side-encryption-customer-key", s->sse_key };
                hs[n++] = (struct sigv4_header){ "x-amz-server-side-encryption-customer-key-MD5", s->sse_key_md5 };
        }
        struct sigv4_request sr = {
                .method = rq->method,
                .path = path,
                .query = rq->query,
                .headers = hs,
                .n_headers = n,
                .payload_sha256 = payload,
                .region = s->region,
                .service = "s3",
                .access_key = s->access_key,
                .secret_key = s->secret_key,
                .amz_date = amz_date,
        };
        _cleanup_free_ char *auth = NULL;
        int r = sigv4_sign(&sr, &auth, NULL);
        if (r < 0) {
                snprintf(err, err_size, "%s %s: cannot sign the request", rq->method, path);
                return r;
        }
        struct curl_slist *hdr = NULL;
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *line = xasprintf("%s: %s", hs[i].name, hs[i].value);
                hdr = curl_slist_append(hdr, line);
        }
        _cleanup_free_ char *auth_line = xasprintf("Authorization: %s", auth);
        hdr = curl_slist_append(hdr, auth_line);
        hdr = curl_slist_append(hdr, "Content-Type:"); /* curl adds none of its own to sign */

        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https,http");
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
        /* a stalled transfer fails; a long one at any steady speed does not */
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, s->timeout_s);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        if (s->ca_file)
                curl_easy_setopt(h, CURLOPT_CAINFO, s->ca_file);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, header_cb);
        curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
        if (rq->head) {
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (strcmp(rq->method, "PUT") == 0 || strcmp(rq->method, "POST") == 0) {
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
                curl_easy_setopt(h, CURLOPT_READDATA, x);
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->len);
                if (rq->method[1] == 'O')
                        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "POST");
        } else if (strcmp(rq->method, "GET") != 0) {
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
        }
        CURLcode rc = curl_easy_perform(h);
        curl_slist_free_all(hdr);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rep->status);
        if (x->src_err) {
                snprintf(err, err_size, "%s %s: reading what to upload failed: %s", rq->method, path,
                         strerror(-x->src_err));
                r = x->src_err;
        } else if (x->fd_err) {
                snprintf(err, err_size, "%s %s: writing what came failed: %s", rq->method, path, strerror(-x->fd_err));
                r = x->fd_err;
        } else if (rc != CURLE_OK && !(rep->status >= 300 && rc == CURLE_SEND_ERROR)) {
                snprintf(rep->message, sizeof(rep->message), "%s", curl_easy_strerror(rc));
                snprintf(err, err_size, "%s %s%s: %s", rq->method, s->endpoint, path, curl_easy_strerror(rc));
                r = rc == CURLE_COULDNT_CONNECT                                             ? -ECONNREFUSED
                    : rc == CURLE_OPERATION_TIMEDOUT                                        ? -ETIMEDOUT
                    : rc == CURLE_COULDNT_RESOLVE_HOST                                      ? -EHOSTUNREACH
                    : rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ? -EPROTO
                                                                                            : -EIO;
        } else if (rep->status < 200 || rep->status >= 300) {
                xml_text(x->body, "Code", rep->code, sizeof(rep->code));
                xml_text(x->body, "Message", rep->message, sizeof(rep->message));
                if (!rep->code[0]) /* a HEAD has no body: name the status */
                        snprintf(rep->code, sizeof(rep->code), "%s",
                                 rep->status == 404   ? "NotFound"
                                 : rep->status == 403 ? "Forbidden"
                                                      : "HTTP error");
                snprintf(err, err_size, "%s %s: %ld %s%s%s", rq->method, path, rep->status, rep->code,
                         rep->message[0] ? ": " : "", rep->message);
                r = status_errno(rep->status, rep->code);
        }
        return r;
}

static void xfer_free(struct xfer *x) { free(x->body); }

static void b64(const unsigned char *in, size_t n, char *out, size_t out_size)
{
        if (out_size >= 4 * ((n + 2) / 3) + 1)
                EVP_EncodeBlock((unsigned char *)out, in, (int)n);
        else if (out_size)
                out[0] = '\0';
}

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
        int r = perform(s, &rq, &x, rep, err, err_size);
        char upload[256] = "";
        if (r == 0 && !xml_text(x.body, "UploadId", upload, sizeof(upload))) {
                snprintf(err, err_size, "POST %s?uploads: the server named no upload id", create->key);
                r = -EPROTO;
        }
        xfer_free(&x);
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
                r = perform(s, &pr, &px, rep, err, err_size);
                snprintf(etags[i], sizeof(etags[i]), "%s", rep->etag);
                xfer_free(&px);
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
                r = perform(s, &cr, &cx, rep, err, err_size);
                char code[64];
                if (r == 0 && xml_text(cx.body, "Code", code, sizeof(code))) { /* a 200 that is an error */
                        snprintf(err, err_size, "POST %s?uploadId: %s", create->key, code);
                        r = -EIO;
                }
                xfer_free(&cx);
        }
        free(etags);
        if (r < 0) { /* no partial upload left behind */
                _cleanup_free_ char *q = xasprintf("uploadId=%s", upload);
                struct request ar = { .method = "DELETE", .key = create->key, .query = q };
                struct xfer ax = { .fd = -1 };
                struct s3_reply arep;
                char aerr[256];
                perform(s, &ar, &ax, &arep, aerr, sizeof(aerr));
                xfer_free(&ax);
        }
        return r;
}

int s3_put(struct s3 *s, const char *key, s3_read_fn src, void *ud, int64_t len, const char *sha256_hex,
           const char *retain_until, struct s3_reply *rep, char *err, size_t err_size)
{
        unsigned char d[32];
        for (int i = 0; i < 32; i++)
                sscanf(sha256_hex + 2 * i, "%2hhx", &d[i]);
        char sha_b64[48];
        b64(d, 32, sha_b64, sizeof(sha_b64));
        struct request rq = { .method = "PUT", .key = key, .payload_sha256 = sha256_hex, .object_data = true };
        size_t k = 0;
        rq.headers[k][0] = "If-None-Match", rq.headers[k++][1] = "*";
        rq.headers[k][0] = "x-amz-meta-sha256", rq.headers[k++][1] = sha256_hex;
        /* AWS wants a checksum header on a PUT with lock parameters; RGW
         * (Pacific) ignores it and checks x-amz-content-sha256 */
        rq.headers[k][0] = "x-amz-checksum-sha256", rq.headers[k++][1] = sha_b64;
        rq.headers[k][0] = "Content-Type", rq.headers[k++][1] = "application/octet-stream";
        if (s->lock_mode[0] && retain_until) {
                rq.headers[k][0] = "x-amz-object-lock-mode", rq.headers[k++][1] = s->lock_mode;
                rq.headers[k][0] = "x-amz-object-lock-retain-until-date", rq.headers[k++][1] = retain_until;
        }
        rq.n_headers = k;
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
                if (s->lock_mode[0] && retain_until) {
                        mp.headers[m][0] = "x-amz-object-lock-mode", mp.headers[m++][1] = s->lock_mode;
                        mp.headers[m][0] = "x-amz-object-lock-retain-until-date", mp.headers[m++][1] = retain_until;
                }
                mp.n_headers = m;
                r = put_multipart(s, &mp, src, ud, len, part_size, rep, err, err_size);
        } else {
                struct xfer x = { .src = src, .src_ud = ud, .len = len, .fd = -1 };
                r = perform(s, &rq, &x, rep, err, err_size);
                xfer_free(&x);
        }
        if (r == 0 && !rep->version_id[0] && s->lock_mode[0]) {
                snprintf(err, err_size, "PUT %s: the server named no version: is the bucket versioned?", key);
                return -EPROTO;
        }
        return r;
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
        int r = perform(s, &rq, &x, rep, err, err_size);
        unsigned char d[32];
        unsigned dl;
        EVP_DigestFinal_ex(x.md, d, &dl);
        EVP_MD_CTX_free(x.md);
        hex_encode(d, 32, out_hex);
        *bytes = x.received;
        xfer_free(&x);
        return r;
}

int s3_get_to_fd(struct s3 *s, const char *key, const char *version, int fd, struct s3_reply *rep, char *err,
                 size_t err_size)
{
        _cleanup_free_ char *q = version_query(NULL, version);
        struct request rq = { .method = "GET", .key = key, .query = q, .object_data = true };
        struct xfer x = { .fd = fd };
        int r = perform(s, &rq, &x, rep, err, err_size);
        xfer_free(&x);
        return r;
}

int s3_head(struct s3 *s, const char *key, const char *version, struct s3_reply *rep, char *err, size_t err_size)
{
        _cleanup_free_ char *q = version_query(NULL, version);
        struct request rq = { .method = "HEAD", .key = key, .query = q, .head = true, .object_data = true };
        struct xfer x = { .fd = -1 };
        int r = perform(s, &rq, &x, rep, err, err_size);
        xfer_free(&x);
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
        int r = perform(s, &rq, &x, rep, err, err_size);
        xfer_free(&x);
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
        b64(m, 16, md5, sizeof(md5));
        struct request rq = { .method = "PUT", .key = key, .query = query, .payload_sha256 = sha };
        rq.headers[0][0] = "Content-MD5", rq.headers[0][1] = md5;
        rq.headers[1][0] = "Content-Type", rq.headers[1][1] = "application/xml";
        rq.n_headers = 2;
        struct xfer x = { .mem = body, .len = (int64_t)strlen(body), .fd = -1 };
        int r = perform(s, &rq, &x, rep, err, err_size);
        xfer_free(&x);
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

/* GET of a bucket subresource (?versioning, ?object-lock) into memory. */
static int get_small(struct s3 *s, const char *query, char **body, struct s3_reply *rep, char *err, size_t err_size)
{
        struct request rq = { .method = "GET", .query = query };
        struct xfer x = { .fd = -1 };
        int r = perform(s, &rq, &x, rep, err, err_size);
        *body = x.body;
        return r;
}

int s3_bucket_check(struct s3 *s, char *err, size_t err_size)
{
        struct s3_reply rep;
        struct request rq = { .method = "HEAD", .head = true };
        struct xfer x = { .fd = -1 };
        int r = perform(s, &rq, &x, &rep, err, err_size);
        xfer_free(&x);
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
        if (!xml_text(body, "Status", v, sizeof(v)) || strcmp(v, "Enabled") != 0) {
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
            (r == 0 && (!xml_text(body, "ObjectLockEnabled", v, sizeof(v)) || strcmp(v, "Enabled") != 0))) {
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

static ssize_t mem_read(void *ud, void *buf, size_t n, int64_t off)
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
        int r = s3_put(s, key, mem_read, body, (int64_t)strlen(body), sha, until, &rep, err, err_size);
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
        int r = perform(s, &rq, &x, rep, err, err_size);
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
                int r = perform(s, &rq, &x, &rep, err, err_size);
                if (r < 0) {
                        xfer_free(&x);
                        return r;
                }
                const char *p = x.body ? x.body : "";
                while ((p = strstr(p, "<Contents>"))) {
                        const char *end = strstr(p, "</Contents>");
                        if (!end)
                                break;
                        _cleanup_free_ char *item = xasprintf("%.*s", (int)(end - p), p);
                        char key[1100], size[32] = "0";
                        if (xml_text(item, "Key", key, sizeof(key))) {
                                xml_text(item, "Size", size, sizeof(size));
                                xml_unescape(key);
                                if ((r = cb(key, strtoll(size, NULL, 10), ud)) != 0) {
                                        xfer_free(&x);
                                        return r;
                                }
                        }
                        p = end;
                }
                char truncated[8] = "", next[1024] = "";
                xml_text(x.body, "IsTruncated", truncated, sizeof(truncated));
                xml_text(x.body, "NextContinuationToken", next, sizeof(next));
                xfer_free(&x);
                if (strcmp(truncated, "true") != 0 || !next[0])
                        return 0;
                xml_unescape(next);
                free(token);
                token = xstrdup(next);
        }
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
