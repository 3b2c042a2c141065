/* s3.c — the S3 client's core (see s3.h): credentials, signed requests over
 * libcurl, answers and errors. One request at a time per client; each
 * request is signed over its real payload SHA-256. The operations are in
 * s3_ops.c. */
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

#include "s3_internal.h"
#include "sigv4.h"
#include "util.h"

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

/* The next chunk of a streamed body: read whole from src, hashed, shown to
 * the tap, signed; after the last, the empty chunk. Returns -errno or 0. */
static int stream_next(struct xfer *x)
{
        struct s3_stream *st = x->stream;
        int64_t left = x->len - x->sent;
        size_t n = left < (int64_t)st->chunk ? (size_t)left : st->chunk;
        for (size_t got = 0; got < n;) {
                ssize_t k = x->src(x->src_ud, st->data + got, n - got, x->base + x->sent + (int64_t)got);
                if (k <= 0)
                        return k < 0 ? (int)k : -EIO; /* a short source is an error, never a short object */
                got += (size_t)k;
        }
        EVP_DigestUpdate(st->whole, st->data, n);
        if (st->tap && n)
                st->tap(st->tap_ud, x->base + x->sent, st->data, n);
        x->sent += (int64_t)n;
        char sig[65];
        sigv4_chunk_sign(&st->sig, st->data, n, sig);
        st->head_len = (size_t)snprintf(st->head, sizeof(st->head), "%zx;chunk-signature=%s\r\n", n, sig);
        st->data_len = n;
        st->pos = 0;
        return 0;
}

static size_t stream_read(struct xfer *x, char *buf, size_t want)
{
        struct s3_stream *st = x->stream;
        size_t out = 0;
        while (out < want) {
                size_t frame = st->head_len + st->data_len + 2;
                if (st->head_len && st->pos == frame) {
                        if (st->data_len == 0)
                                break; /* the empty chunk went: the body ends */
                        st->head_len = 0;
                }
                if (!st->head_len) {
                        int r = stream_next(x);
                        if (r < 0) {
                                x->src_err = r;
                                return CURL_READFUNC_ABORT;
                        }
                        frame = st->head_len + st->data_len + 2;
                }
                while (out < want && st->pos < frame) { /* head, data, then "\r\n" */
                        size_t p = st->pos, data_end = st->head_len + st->data_len, n;
                        const char *from;
                        if (p < st->head_len)
                                from = st->head + p, n = st->head_len - p;
                        else if (p < data_end)
                                from = st->data + (p - st->head_len), n = data_end - p;
                        else
                                from = &"\r\n"[p - data_end], n = frame - p;
                        if (n > want - out)
                                n = want - out;
                        memcpy(buf + out, from, n);
                        out += n;
                        st->pos += n;
                }
        }
        return out;
}

static size_t read_cb(char *buf, size_t size, size_t nitems, void *ud)
{
        struct xfer *x = ud;
        size_t want = size * nitems;
        if (x->stream)
                return stream_read(x, buf, want);
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
bool s3_xml_text(const char *xml, const char *tag, char *out, size_t out_size)
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
int s3_perform(struct s3 *s, const struct request *rq, struct xfer *x, struct s3_reply *rep, char *err, size_t err_size)
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
        if (r == 0 && x->stream)
                r = sigv4_chunks_begin(&x->stream->sig, &sr, auth); /* its signature seeds the chunks' */
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

        char curl_err[CURL_ERROR_SIZE] = "";
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err);
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
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE,
                                 (curl_off_t)(x->stream ? sigv4_chunked_length(x->len, x->stream->chunk) : x->len));
                if (rq->method[1] == 'O')
                        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "POST");
        } else if (strcmp(rq->method, "GET") != 0) {
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
        }
        CURLcode rc = curl_easy_perform(h);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL); /* curl_err is this call's */
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
                /* what to do about it, where curl's words do not say */
                const char *hint = rc == CURLE_COULDNT_RESOLVE_HOST ? " (DNS: the endpoint's host name does not "
                                                                      "resolve; check endpoint and the resolver)"
                                   : rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR
                                           ? " (TLS: the server's certificate is not trusted or not for this "
                                             "name; set ca_file to the CA that signed it)"
                                           : "";
                snprintf(rep->message, sizeof(rep->message), "%s%s%s%s", curl_easy_strerror(rc),
                         curl_err[0] ? " (" : "", curl_err, curl_err[0] ? ")" : "");
                snprintf(err, err_size, "%s %s%s: %s%s", rq->method, s->endpoint, path, rep->message, hint);
                r = rc == CURLE_COULDNT_CONNECT                                             ? -ECONNREFUSED
                    : rc == CURLE_OPERATION_TIMEDOUT                                        ? -ETIMEDOUT
                    : rc == CURLE_COULDNT_RESOLVE_HOST                                      ? -EHOSTUNREACH
                    : rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CONNECT_ERROR ? -EPROTO
                                                                                            : -EIO;
        } else if (rep->status < 200 || rep->status >= 300) {
                s3_xml_text(x->body, "Code", rep->code, sizeof(rep->code));
                s3_xml_text(x->body, "Message", rep->message, sizeof(rep->message));
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

void s3_xfer_free(struct xfer *x) { free(x->body); }

void s3_b64(const unsigned char *in, size_t n, char *out, size_t out_size)
{
        if (out_size >= 4 * ((n + 2) / 3) + 1)
                EVP_EncodeBlock((unsigned char *)out, in, (int)n);
        else if (out_size)
                out[0] = '\0';
}
