/* manifest.c — canonical JSON, chain and Ed25519 signature. Canonical: keys in
 * byte order, no whitespace, UTF-8, integers only, strings escaped as in
 * output.c (schema/manifest.schema.json). The body's bytes are what is signed
 * and hashed; the signature is detached (64 raw bytes). */
#include "manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "audit.h"
#include "log.h"
#include "output.h"
#include "util.h"


int manifest_key_path(const struct config *cfg, char **key, char **pub)
{
        *key = xasprintf("%s/station.key", cfg->state_dir);
        *pub = xasprintf("%s/station.pub", cfg->state_dir);
        return 0;
}

static EVP_PKEY *load_key(const char *path)
{
        FILE *f = fopen(path, "re");
        if (!f)
                return NULL;
        EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
        fclose(f);
        return k;
}

int manifest_key_ensure(const struct config *cfg, char *err, size_t err_size)
{
        _cleanup_free_ char *key = NULL, *pub = NULL;
        manifest_key_path(cfg, &key, &pub);
        if (access(key, F_OK) == 0)
                return 0;
        EVP_PKEY *k = NULL;
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, NULL);
        if (!ctx || EVP_PKEY_keygen_init(ctx) <= 0 || EVP_PKEY_keygen(ctx, &k) <= 0) {
                EVP_PKEY_CTX_free(ctx);
                snprintf(err, err_size, "cannot generate the station's Ed25519 key");
                return -EIO;
        }
        EVP_PKEY_CTX_free(ctx);
        int r = 0;
        _cleanup_free_ char *tmp = xasprintf("%s.tmp", key);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (!f || !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) || fflush(f) || fsync(fileno(f)) < 0) {
                r = -EIO;
                snprintf(err, err_size, "cannot write %s", tmp);
        }
        if (f)
                fclose(f);
        else if (fd >= 0)
                close(fd);
        FILE *p = r == 0 ? fopen(pub, "we") : NULL;
        if (r == 0 && (!p || !PEM_write_PUBKEY(p, k))) {
                r = -EIO;
                snprintf(err, err_size, "cannot write %s", pub);
        }
        if (p)
                fclose(p);
        /* the private key appears under its name only complete, never half-written */
        if (r == 0 && (rename(tmp, key) < 0 || fsync_parent(key) < 0)) {
                r = -errno;
                snprintf(err, err_size, "cannot place %s: %s", key, strerror(errno));
        }
        EVP_PKEY_free(k);
        if (r == 0)
                log_info("created the station key %s (public: %s)", key, pub);
        return r;
}

struct builder {
        FILE *f;
        size_t n;
};

static int emit_recording(const struct recording_info *r, void *ud)
{
        struct builder *b = ud;
        FILE *f = b->f;
        json_kv(f, b->n++ ? ",{\"attribution_flag\":" : "{\"attribution_flag\":", r->attribution_flag);
        fputs(",\"copies\":[", f);
        for (size_t i = 0; i < r->n_copies; i++) {
                fputs(i ? ",{\"path\":" : "{\"path\":", f);
                json_string(f, r->copies[i].path);
                json_kv(f, ",\"target\":", r->copies[i].target);
                json_kv(f, ",\"verified_at\":", r->copies[i].verified_at);
                fputc('}', f);
        }
        json_kv(f, "],\"device_mtime\":", r->device_mtime);
        json_kv(f, ",\"device_path\":", r->device_path);
        json_kv(f, ",\"media_flag\":", r->media_flag);
        json_kv(f, ",\"officer\":", r->officer);
        json_kv(f, ",\"officer_source\":", r->officer_source);
        json_kv(f, ",\"recorded_end_device\":", r->rec_end_device);
        json_kv(f, ",\"recorded_end_utc\":", r->rec_end_utc);
        json_kv(f, ",\"recorded_start_device\":", r->rec_start_device);
        json_kv(f, ",\"recorded_start_utc\":", r->rec_start_utc);
        json_kv(f, ",\"sha256\":", r->sha256);
        fprintf(f, ",\"size\":%lld}", (long long)r->size);
        return 0;
}

static int emit_deleted(const struct deleted_info *d, void *ud)
{
        struct builder *b = ud;
        fputs(b->n++ ? ",{\"device_mtime\":" : "{\"device_mtime\":", b->f);
        json_string(b->f, d->device_mtime);
        json_kv(b->f, ",\"device_path\":", d->device_path);
        fprintf(b->f, ",\"size\":%lld}", (long long)d->size);
        return 0;
}

struct session_copy {
        bool found, has_offset;
        int64_t id, offset;
        char *device, *source, *started_at, *ended_at, *state, *bay, *vendor, *model, *vendor_id, *product_id, *flag;
        char *unread;
        int64_t unaccounted;
};

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

static int grab_session(const struct session_info *s, void *ud)
{
        struct session_copy *c = ud;
        c->found = true;
        c->id = s->id;
        c->device = dup_or_null(s->device);
        c->source = dup_or_null(s->source);
        c->started_at = dup_or_null(s->started_at);
        c->ended_at = dup_or_null(s->ended_at);
        c->state = dup_or_null(s->state);
        c->bay = dup_or_null(s->bay);
        c->vendor = dup_or_null(s->vendor);
        c->model = dup_or_null(s->model);
        c->vendor_id = dup_or_null(s->vendor_id);
        c->product_id = dup_or_null(s->product_id);
        c->flag = dup_or_null(s->identity_flag);
        c->unread = dup_or_null(s->unread);
        c->unaccounted = s->unaccounted_bytes;
        c->has_offset = s->has_clock_offset;
        c->offset = s->clock_offset_s;
        return 0;
}

static void session_copy_free(struct session_copy *c)
{
        char **all[] = { &c->device, &c->source, &c->started_at, &c->ended_at, &c->state, &c->bay,
                         &c->vendor, &c->model, &c->vendor_id, &c->product_id, &c->flag, &c->unread };
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                free(*all[i]);
}

/* docked + the configured deadline, in the catalog's time form. */
static void deadline_of(const struct config *cfg, const char *docked, char *out, size_t size)
{
        int64_t t = time_parse_iso(docked);
        time_iso((t < 0 ? clock_now() : t) + (int64_t)cfg->archive_deadline_h * 3600, out, size);
}

int manifest_write(const struct config *cfg, struct catalog *cat, int64_t session_id, char *err, size_t err_size)
{
        struct session_copy s = { 0 };
        int r = catalog_sessions_foreach(cat, NULL, session_id, grab_session, &s);
        if (r < 0 || !s.found) {
                snprintf(err, err_size, "manifest: session %lld not found", (long long)session_id);
                session_copy_free(&s);
                return r < 0 ? r : -ENOENT;
        }
        int64_t seq = 0;
        char prev[SHA256_HEX_LEN + 1];
        if ((r = catalog_manifest_last(cat, cfg->station_id, &seq, prev)) < 0) {
                session_copy_free(&s);
                return r;
        }
        seq++;

        char *body = NULL;
        size_t len = 0;
        struct builder b = { .f = open_memstream(&body, &len) };
        FILE *f = b.f;
        int64_t audit_id = 0;
        char audit_sha[65] = "";
        if ((r = audit_head(cat, &audit_id, audit_sha)) < 0) {
                fclose(f);
                free(body);
                session_copy_free(&s);
                snprintf(err, err_size, "manifest: cannot read the audit chain: %s", catalog_errmsg(cat));
                return r;
        }
        /* The audit chain's head: the archive can tell a rewritten local history. */
        if (audit_id)
                fprintf(f, "{\"audit_head\":{\"id\":%lld,\"sha256\":\"%s\"},", (long long)audit_id, audit_sha);
        else
                fputs("{\"audit_head\":null,", f);
        fputs("\"deleted_on_device\":[", f);
        r = catalog_deleted_foreach(cat, NULL, session_id, emit_deleted, &b);
        json_kv(f, "],\"format\":\"dockd-manifest/1\",\"prev_sha256\":", prev[0] ? prev : NULL);
        fputs(",\"recordings\":[", f);
        b.n = 0;
        if (r >= 0)
                r = catalog_recordings_foreach(cat, NULL, session_id, emit_recording, &b);
        fprintf(f, "],\"seq\":%lld,\"session\":{\"bay\":", (long long)seq);
        json_string(f, s.bay);
        if (s.has_offset)
                fprintf(f, ",\"clock_offset_s\":%lld", (long long)s.offset);
        else
                fputs(",\"clock_offset_s\":null", f);
        json_kv(f, ",\"device\":{\"identity_flag\":", s.flag);
        json_kv(f, ",\"model\":", s.model);
        json_kv(f, ",\"product_id\":", s.product_id);
        json_kv(f, ",\"serial\":", s.device);
        json_kv(f, ",\"vendor\":", s.vendor);
        json_kv(f, ",\"vendor_id\":", s.vendor_id);
        json_kv(f, "},\"docked_at\":", s.started_at);
        json_kv(f, ",\"ended_at\":", s.ended_at);
        /* The officer the device was checked out to when it docked. */
        char officer[64] = "";
        if (r >= 0 && s.started_at)
                r = catalog_officer_assigned_at(cat, s.device, s.started_at, officer, sizeof(officer));
        fprintf(f, ",\"id\":%lld", (long long)s.id);
        json_kv(f, ",\"officer\":", officer[0] ? officer : NULL);
        json_kv(f, ",\"officer_source\":", officer[0] ? "assignment" : NULL);
        fputs(",\"source\":", f);
        json_string(f, s.source);
        json_kv(f, ",\"state\":", s.state);
        /* what the session could not read, walk or tell apart: why it is not complete */
        fprintf(f, ",\"unaccounted_bytes\":%lld,\"unread\":", (long long)s.unaccounted);
        json_lines(f, s.unread);
        json_kv(f, "},\"station\":", cfg->station_id);
        fputs("}", f);
        fclose(f);
        char deadline[40];
        deadline_of(cfg, s.started_at, deadline, sizeof(deadline));
        session_copy_free(&s);
        if (r < 0) {
                free(body);
                snprintf(err, err_size, "manifest: cannot read the session's recordings: %s", catalog_errmsg(cat));
                return r;
        }

        _cleanup_free_ char *key = NULL, *pub = NULL;
        manifest_key_path(cfg, &key, &pub);
        EVP_PKEY *k = load_key(key);
        unsigned char sig[64];
        size_t sig_len = sizeof(sig);
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        if (!k || !md || EVP_DigestSignInit(md, NULL, NULL, NULL, k) <= 0 ||
            EVP_DigestSign(md, sig, &sig_len, (const unsigned char *)body, len) <= 0) {
                snprintf(err, err_size, "manifest: cannot sign with %s", key);
                r = -EIO;
        }
        EVP_MD_CTX_free(md);
        EVP_PKEY_free(k);
        if (r == 0) {
                unsigned char d[32];
                unsigned dl;
                char sha[SHA256_HEX_LEN + 1];
                EVP_Digest(body, len, d, &dl, EVP_sha256(), NULL);
                hex_encode(d, 32, sha);
                r = catalog_manifest_add(cat, session_id, cfg->station_id, seq, prev, sha, body, len, sig, sig_len,
                                         deadline);
                if (r < 0)
                        snprintf(err, err_size, "manifest: cannot record: %s", catalog_errmsg(cat));
        }
        free(body);
        return r;
}
