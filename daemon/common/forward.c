/* forward.c — see forward.h. Same name and same body may be PUT again: the
 * name makes delivery idempotent, so at-least-once is safe. */
#include "forward.h"

#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "manifest.h"
#include "s3.h"
#include "util.h"

struct reader {
        const char *data;
        size_t len, off;
};

static size_t read_cb(char *buf, size_t size, size_t n, void *ud)
{
        struct reader *r = ud;
        size_t want = size * n, left = r->len - r->off;
        if (want > left)
                want = left;
        memcpy(buf, r->data + r->off, want);
        r->off += want;
        return want;
}

static size_t write_cb(char *buf, size_t size, size_t n, void *ud)
{
        char *receipt = ud; /* keep the first bytes of the archive's answer */
        size_t have = strlen(receipt), k = size * n;
        if (have < 200)
                snprintf(receipt + have, 201 - have, "%.*s", (int)(k < 200 - have ? k : 200 - have), buf);
        return size * n;
}

/* Is the file at path exactly these bytes? 1 yes, 0 no, -errno. */
static int same_bytes(const char *path, const void *data, size_t len)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return -errno;
        if ((size_t)st.st_size != len)
                return 0;
        _cleanup_free_ char *buf = xmalloc(len + 1);
        ssize_t k = pread_full(fd, buf, len, 0);
        if (k < 0)
                return (int)k;
        return (size_t)k == len && memcmp(buf, data, len) == 0;
}

/* file://: written beside, fsynced, then linked into place, which never
 * replaces a manifest that is there: the same bytes again count as
 * delivered, other bytes are an INTEGRITY error (409). */
static int put_file(const char *path, const void *data, size_t len, char *err, size_t err_size)
{
        _cleanup_free_ char *dir = xstrdup(path);
        *strrchr(dir, '/') = '\0';
        int r = mkdir_p(dir, 0750);
        if (r < 0) {
                snprintf(err, err_size, "cannot create %s: %s", dir, strerror(-r));
                return r;
        }
        _cleanup_free_ char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (fd < 0 || (r = pwrite_full(fd, data, len, 0)) < 0 || fsync(fd) < 0) {
                r = r < 0 ? r : -errno;
                snprintf(err, err_size, "%s: %s", tmp, strerror(-r));
                unlink(tmp);
                return r;
        }
        if (link(tmp, path) < 0) {
                r = -errno;
                unlink(tmp);
                if (r != -EEXIST) {
                        snprintf(err, err_size, "%s: %s", path, strerror(-r));
                        return r;
                }
                int same = same_bytes(path, data, len);
                if (same == 1)
                        return 0;
                snprintf(err, err_size, "%s: the archive already holds other bytes under this name; not replaced",
                         path);
                return same < 0 ? same : 409;
        }
        unlink(tmp);
        return fsync_dir(dir);
}

/* What every request to the archive shares: the URL, timeouts, and TLS
 * with the server always verified and the station's client certificate. */
static void curl_common(CURL *h, const struct config *cfg, const char *url, const char *protocols)
{
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, (long)cfg->archive_timeout_s);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, protocols);
        if (cfg->archive_ca)
                curl_easy_setopt(h, CURLOPT_CAINFO, cfg->archive_ca);
        if (cfg->archive_cert)
                curl_easy_setopt(h, CURLOPT_SSLCERT, cfg->archive_cert);
        if (cfg->archive_key)
                curl_easy_setopt(h, CURLOPT_SSLKEY, cfg->archive_key);
}

static size_t collect_cb(char *buf, size_t size, size_t n, void *ud)
{
        FILE *f = ud;
        return fwrite(buf, size, n, f);
}

/* After a 412 (a manifest is there under this name): GET it and compare. */
static int compare_remote(CURL *h, const struct config *cfg, const char *url, const void *data, size_t len, char *err,
                          size_t err_size)
{
        char *got = NULL;
        size_t got_len = 0;
        FILE *f = open_memstream(&got, &got_len);
        curl_common(h, cfg, url, "https,http");
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, f);
        _cleanup_free_ char *auth =
                cfg->archive_token ? xasprintf("Authorization: Bearer %s", cfg->archive_token) : NULL;
        struct curl_slist *hdr = auth ? curl_slist_append(NULL, auth) : NULL;
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        CURLcode rc = curl_easy_perform(h);
        curl_slist_free_all(hdr);
        fclose(f);
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        int r;
        if (rc != CURLE_OK) {
                snprintf(err, err_size, "%s: %s", url, curl_easy_strerror(rc));
                r = -EIO;
        } else if (code == 200 && got_len == len && memcmp(got, data, len) == 0) {
                r = 0;
        } else if (code == 200) {
                snprintf(err, err_size, "%s: the archive already holds other bytes under this name; not replaced", url);
                r = 409;
        } else {
                snprintf(err, err_size, "%s: HTTP %ld reading back the manifest the archive says it has", url, code);
                r = (int)code;
        }
        free(got);
        return r;
}

static ssize_t mem_read(void *ud, void *buf, size_t n, int64_t off)
{
        const struct reader *r = ud;
        size_t left = (size_t)off < r->len ? r->len - (size_t)off : 0;
        if (n > left)
                n = left;
        memcpy(buf, r->data + off, n);
        return (ssize_t)n;
}

/* An S3 archive: the object under the name is never replaced (a versioned
 * bucket takes a second PUT as a new version, so the name is looked up
 * first): the same bytes there count as delivered, other bytes are an
 * INTEGRITY error (409). A new manifest is PUT signed over its SHA-256, locked
 * for the default retention, and counts only when its version reads back
 * with that SHA-256 and length. */
static int put_s3(struct s3 *s3, const struct config *cfg, const char *url, const void *data, size_t len, char *receipt,
                  char *err, size_t err_size)
{
        const char *key = strchr(url + 5, '/') + 1; /* s3://BUCKET/KEY */
        unsigned char d[32];
        unsigned dl;
        char sha[65], got[65], until[32];
        EVP_Digest(data, len, d, &dl, EVP_sha256(), NULL);
        hex_encode(d, 32, sha);
        struct s3_reply rep;
        int64_t n = 0;
        int r = s3_head(s3, key, NULL, &rep, err, err_size);
        if (r == 0) {
                if ((r = s3_get_sha256(s3, key, rep.version_id, got, &n, &rep, err, err_size)) < 0)
                        return r;
                if (n == (int64_t)len && strcmp(got, sha) == 0)
                        return 0;
                snprintf(err, err_size, "%s: the archive already holds other bytes under this name; not replaced", url);
                return 409;
        }
        if (r != -ENOENT)
                return r == -EACCES ? 403 : r;
        s3_retain_until(cfg->retention_months, until, sizeof(until));
        struct reader rd = { data, len, 0 };
        if ((r = s3_put(s3, key, mem_read, &rd, (int64_t)len, sha, until, &rep, err, err_size)) < 0)
                return r == -EACCES ? 403 : r == -EEXIST ? put_s3(s3, cfg, url, data, len, receipt, err, err_size) : r;
        char version[128];
        snprintf(version, sizeof(version), "%s", rep.version_id);
        if ((r = s3_get_sha256(s3, key, version, got, &n, &rep, err, err_size)) < 0)
                return r;
        if (n != (int64_t)len || strcmp(got, sha) != 0) {
                snprintf(err, err_size, "%s version %s read back as %lld bytes with SHA-256 %s, not what was sent", url,
                         version, (long long)n, got);
                return -EIO;
        }
        snprintf(receipt, 201, "s3 version %s", version);
        return 0;
}

/* One PUT. Returns 0 (2xx, or a file:// write), or the HTTP code, or -errno.
 * A manifest that is there is never replaced: If-None-Match: * asks the
 * archive to refuse (412), and then its bytes are compared. */
static int put(CURL *h, struct s3 *s3, const struct config *cfg, const char *url, const void *data, size_t len,
               char *receipt, char *err, size_t err_size)
{
        if (strncmp(url, "file://", 7) == 0)
                return put_file(url + 7, data, len, err, err_size);
        if (strncmp(url, "s3://", 5) == 0)
                return put_s3(s3, cfg, url, data, len, receipt, err, err_size);
        struct reader rd = { data, len, 0 };
        curl_common(h, cfg, url, "https,http");
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, read_cb);
        curl_easy_setopt(h, CURLOPT_READDATA, &rd);
        curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, write_cb);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, receipt);
        struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
        hdr = curl_slist_append(hdr, "If-None-Match: *");
        _cleanup_free_ char *auth =
                cfg->archive_token ? xasprintf("Authorization: Bearer %s", cfg->archive_token) : NULL;
        if (auth)
                hdr = curl_slist_append(hdr, auth);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
        CURLcode rc = curl_easy_perform(h);
        curl_slist_free_all(hdr);
        if (rc != CURLE_OK) {
                snprintf(err, err_size, "%s: %s", url, curl_easy_strerror(rc));
                return -EIO;
        }
        long code = 0;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        if (code == 0 || (code >= 200 && code < 300))
                return 0;
        if (code == 412)
                return compare_remote(h, cfg, url, data, len, err, err_size);
        snprintf(err, err_size, "%s: HTTP %ld", url, code);
        return (int)code;
}

static int64_t backoff(const struct config *cfg, int64_t attempts)
{
        double s = 5.0;
        for (int64_t i = 0; i < attempts && s < cfg->archive_retry_cap_s; i++)
                s *= 2;
        if (s > cfg->archive_retry_cap_s)
                s = cfg->archive_retry_cap_s;
        return (int64_t)(s * (0.5 + (double)rand() / RAND_MAX / 2)); /* jitter: stations must not retry in step */
}

/* What became of one manifest in a batch, applied to the catalog afterwards. */
struct outcome {
        int code; /* 0 delivered, HTTP code, or -errno */
        char receipt[256], why[512];
};

static int record(const struct config *cfg, struct catalog *cat, const struct outbox_item *it, const struct outcome *o,
                  char *err, size_t err_size)
{
        if (o->code == 0)
                return catalog_outbox_delivered(cat, it->id, o->receipt[0] ? o->receipt : "ok");
        if (o->code >= 400 && o->code < 500 && o->code != 408 && o->code != 429) {
                const char *what = o->code == 409 ? "INTEGRITY: the archive holds a different manifest under this name"
                                                  : "refused by the archive";
                log_error("manifest %s/%lld %s (%s); held until `dockctl archive retry`", it->station,
                          (long long)it->seq, what, o->why);
                return catalog_outbox_failed(cat, it->id, o->why, 0, what);
        }
        int64_t wait = backoff(cfg, it->attempts);
        log_warn("manifest %s/%lld not delivered (%s); retrying in %llds", it->station, (long long)it->seq, o->why,
                 (long long)wait);
        if (!err[0])
                snprintf(err, err_size, "%s", o->why);
        return catalog_outbox_failed(cat, it->id, o->why, clock_now() + wait, NULL);
}

/* Manifests are sent a batch at a time and the batch's outcomes recorded in
 * one transaction: one fsync per batch, not per manifest. A crash before that
 * commit sends the batch again, which the name makes harmless. */
#define BATCH 64

/* A session that ended while its manifest could not be written (a full
 * state disk) gets it now, so that it is delivered once space returns. */
static void backfill(const struct config *cfg, struct catalog *cat)
{
        int64_t ids[16];
        size_t n = 0;
        if (catalog_sessions_unmanifested(cat, ids, ELEMENTSOF(ids), &n) < 0)
                return;
        for (size_t i = 0; i < n; i++) {
                char merr[256] = "";
                if (manifest_key_ensure(cfg, merr, sizeof(merr)) < 0 || catalog_begin(cat) < 0 ||
                    manifest_write(cfg, cat, ids[i], merr, sizeof(merr)) < 0 || catalog_commit(cat) < 0) {
                        catalog_rollback(cat);
                        log_error("session %lld still has no manifest: %s", (long long)ids[i],
                                  merr[0] ? merr : catalog_errmsg(cat));
                        return;
                }
                log_info("session %lld: its manifest, which could not be written when it ended, is written now",
                         (long long)ids[i]);
        }
}

int forward_due(const struct config *cfg, struct catalog *cat, char *err, size_t err_size)
{
        backfill(cfg, cat);
        CURL *h = curl_easy_init();
        if (!h) {
                snprintf(err, err_size, "cannot start libcurl");
                return -ENOMEM;
        }
        int delivered = 0, r = 0;
        err[0] = '\0';
        /* an S3 archive: one client for the round */
        struct s3 s3 = { 0 };
        char s3_why[512] = "";
        int s3_err =
                strncmp(cfg->archive_url, "s3://", 5) == 0 ? s3_open(&s3, &cfg->archive_s3, s3_why, sizeof(s3_why)) : 0;
        struct outbox_item items[BATCH];
        struct outcome *out = xmalloc(sizeof(*out) * BATCH);
        bool key_published = false;
        for (;;) {
                size_t n = 0;
                if ((r = catalog_outbox_due(cat, clock_now(), items, BATCH, &n)) < 0 || n == 0)
                        break;
                /* An S3 archive that stations share also holds each station's
                 * public key, for `dockctl archive audit` (never replaced). */
                if (!s3_err && s3.curl && !key_published) {
                        _cleanup_free_ char *pem = NULL;
                        size_t pem_len = 0;
                        char kr[201] = "";
                        _cleanup_free_ char *kurl = xasprintf("%s/stations/%s.pub", cfg->archive_url, cfg->station_id);
                        if (manifest_public_key(cfg, &pem, &pem_len) == 0 &&
                            put_s3(&s3, cfg, kurl, pem, pem_len, kr, s3_why, sizeof(s3_why)) != 0)
                                log_warn("the station's public key is not in the archive yet: %s", s3_why);
                        key_published = true;
                }
                bool transient = false;
                size_t sent = 0;
                for (size_t i = 0; i < n && !transient; i++, sent++) {
                        struct outbox_item *it = &items[i];
                        struct outcome *o = &out[i];
                        _cleanup_free_ char *url = xasprintf("%s/manifests/%s/%lld.json", cfg->archive_url, it->station,
                                                             (long long)it->seq);
                        _cleanup_free_ char *sig_url = xasprintf("%s.sig", url);
                        o->receipt[0] = o->why[0] = '\0';
                        o->code = s3_err ? -EIO : 0;
                        if (s3_err)
                                snprintf(o->why, sizeof(o->why), "%s", s3_why);
                        if (o->code == 0)
                                o->code = put(h, &s3, cfg, sig_url, it->sig, it->sig_len, o->receipt, o->why,
                                              sizeof(o->why));
                        if (o->code == 0) {
                                o->receipt[0] = '\0';
                                o->code = put(h, &s3, cfg, url, it->body, it->len, o->receipt, o->why, sizeof(o->why));
                        }
                        if (o->code == 0) {
                                crashpoint("forward-after-put"); /* at the archive, not yet recorded: sent again */
                                log_event(LOG_LEVEL_INFO, LOG_MID_MANIFEST, NULL, "manifest %s/%lld delivered to %s",
                                          it->station, (long long)it->seq, url);
                                delivered++;
                        }
                        /* Unreachable, timing out or failing: the rest would fare the
                         * same; they wait for the next round rather than each
                         * spending a timeout now. */
                        transient = o->code < 0 || o->code >= 500 || o->code == 408 || o->code == 429;
                }
                if ((r = catalog_begin(cat)) == 0) {
                        for (size_t i = 0; r >= 0 && i < sent; i++)
                                r = record(cfg, cat, &items[i], &out[i], err, err_size);
                        if (r >= 0)
                                r = catalog_commit(cat);
                        else
                                catalog_rollback(cat);
                }
                for (size_t i = 0; i < n; i++)
                        catalog_outbox_item_free(&items[i]);
                if (r < 0 || transient)
                        break;
        }
        free(out);
        curl_easy_cleanup(h);
        if (s3.curl)
                s3_close(&s3);
        return r < 0 ? r : delivered;
}

int forward_archive_check(const struct config *cfg, struct catalog *cat, char *err, size_t err_size)
{
        if (strncmp(cfg->archive_url, "file://", 7) != 0)
                return 0; /* an HTTPS archive refuses a second manifest under a name (If-None-Match, 409) */
        int64_t mine = 0;
        int r = catalog_manifest_count(cat, &mine);
        if (r < 0) {
                snprintf(err, err_size, "catalog: %s", catalog_errmsg(cat));
                return r;
        }
        if (mine > 0)
                return 0;
        _cleanup_free_ char *dir = xasprintf("%s/manifests/%s", cfg->archive_url + 7, cfg->station_id);
        DIR *d = opendir(dir);
        if (!d)
                return 0;
        struct dirent *e;
        long n = 0;
        while ((e = readdir(d)))
                n += strlen(e->d_name) > 5 && strcmp(e->d_name + strlen(e->d_name) - 5, ".json") == 0;
        closedir(d);
        if (n == 0)
                return 0;
        snprintf(err, err_size,
                 "the archive %s already holds %ld manifest(s) of station %s, but this catalog has sent "
                 "none: it is not the station's ledger. Restore the station's catalog from its backup; a new ledger "
                 "needs a new [station] id",
                 cfg->archive_url, n, cfg->station_id);
        return -ESTALE;
}
