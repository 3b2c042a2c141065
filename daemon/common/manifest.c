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

/* ---- gathering: the session's data, once, from the catalog ---- */

static char *dup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

static int grab_recording(const struct recording_info *r, void *ud)
{
        struct manifest *m = ud;
        if (m->n_recordings == m->cap_recordings) {
                m->cap_recordings = m->cap_recordings ? 2 * m->cap_recordings : 16;
                m->recordings = xrealloc(m->recordings, m->cap_recordings * sizeof(*m->recordings));
        }
        struct manifest_recording *x = &m->recordings[m->n_recordings++];
        *x = (struct manifest_recording){
                .attribution_flag = dup_or_null(r->attribution_flag),
                .device_mtime = dup_or_null(r->device_mtime),
                .device_path = dup_or_null(r->device_path),
                .media_flag = dup_or_null(r->media_flag),
                .officer = dup_or_null(r->officer),
                .officer_source = dup_or_null(r->officer_source),
                .recorded_end_device = dup_or_null(r->recorded_end_device),
                .recorded_end_utc = dup_or_null(r->recorded_end_utc),
                .recorded_start_device = dup_or_null(r->recorded_start_device),
                .recorded_start_utc = dup_or_null(r->recorded_start_utc),
                .sha256 = dup_or_null(r->sha256),
                .size = r->size,
                .n_copies = r->n_copies,
        };
        for (size_t i = 0; i < r->n_copies && i < ELEMENTSOF(x->copies); i++)
                x->copies[i] = (struct manifest_copy){ .path = dup_or_null(r->copies[i].path),
                                                       .target = dup_or_null(r->copies[i].target),
                                                       .verified_at = dup_or_null(r->copies[i].verified_at),
                                                       .version_id = dup_or_null(r->copies[i].version_id),
                                                       .object = r->copies[i].version_id
                                                                         ? xasprintf("%s/%s", r->copies[i].target_root,
                                                                                     r->copies[i].path)
                                                                         : NULL };
        return 0;
}

static int grab_deleted(const struct deleted_info *d, void *ud)
{
        struct manifest *m = ud;
        m->deleted = xrealloc(m->deleted, (m->n_deleted + 1) * sizeof(*m->deleted));
        m->deleted[m->n_deleted++] = (struct manifest_deleted){ .device_mtime = dup_or_null(d->device_mtime),
                                                                .device_path = dup_or_null(d->device_path),
                                                                .size = d->size };
        return 0;
}

static int grab_session(const struct session_info *s, void *ud)
{
        struct manifest_session *c = ud;
        c->found = true;
        c->id = s->id;
        c->serial = dup_or_null(s->device);
        c->source = dup_or_null(s->source);
        c->docked_at = dup_or_null(s->started_at);
        c->ended_at = dup_or_null(s->ended_at);
        c->state = dup_or_null(s->state);
        c->bay = dup_or_null(s->bay);
        c->vendor = dup_or_null(s->vendor);
        c->model = dup_or_null(s->model);
        c->vendor_id = dup_or_null(s->vendor_id);
        c->product_id = dup_or_null(s->product_id);
        c->identity_flag = dup_or_null(s->identity_flag);
        c->unread = dup_or_null(s->unread);
        c->unaccounted_bytes = s->unaccounted_bytes;
        c->has_clock_offset = s->has_clock_offset;
        c->clock_offset_s = s->clock_offset_s;
        c->has_report = s->reported_badge || s->device_id_code || s->battery_pct >= 0 || s->clock_set_at ||
                        s->device_info_error;
        c->battery_pct = s->battery_pct;
        c->rep_badge = dup_or_null(s->reported_badge);
        c->rep_name = dup_or_null(s->reported_officer_name);
        c->rep_unit_no = dup_or_null(s->reported_unit_no);
        c->rep_unit_name = dup_or_null(s->reported_unit_name);
        c->rep_id_code = dup_or_null(s->device_id_code);
        c->clock_set_at = dup_or_null(s->clock_set_at);
        c->clock_set_to = dup_or_null(s->clock_set_to);
        c->info_error = dup_or_null(s->device_info_error);
        return 0;
}

void manifest_free(struct manifest *m)
{
        struct manifest_session *s = &m->session;
        char *all[] = { s->serial,        s->source,       s->docked_at,    s->ended_at,       s->state,
                        s->bay,           s->vendor,       s->model,        s->vendor_id,      s->product_id,
                        s->identity_flag, s->unread,       s->officer,      s->officer_source, m->station,
                        m->prev_sha256,   s->rep_badge,    s->rep_name,     s->rep_unit_no,    s->rep_unit_name,
                        s->rep_id_code,   s->clock_set_at, s->clock_set_to, s->info_error };
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                free(all[i]);
        for (size_t i = 0; i < m->n_recordings; i++) {
                struct manifest_recording *x = &m->recordings[i];
                char *f[] = { x->attribution_flag,
                              x->device_mtime,
                              x->device_path,
                              x->media_flag,
                              x->officer,
                              x->officer_source,
                              x->recorded_end_device,
                              x->recorded_end_utc,
                              x->recorded_start_device,
                              x->recorded_start_utc,
                              x->sha256 };
                for (size_t k = 0; k < ELEMENTSOF(f); k++)
                        free(f[k]);
                for (size_t k = 0; k < x->n_copies && k < ELEMENTSOF(x->copies); k++) {
                        free(x->copies[k].path);
                        free(x->copies[k].target);
                        free(x->copies[k].verified_at);
                        free(x->copies[k].version_id);
                        free(x->copies[k].object);
                }
        }
        free(m->recordings);
        for (size_t i = 0; i < m->n_deleted; i++) {
                free(m->deleted[i].device_mtime);
                free(m->deleted[i].device_path);
        }
        free(m->deleted);
        memset(m, 0, sizeof(*m));
}

int manifest_gather(const struct config *cfg, struct catalog *cat, int64_t session_id, struct manifest *m, char *err,
                    size_t err_size)
{
        memset(m, 0, sizeof(*m));
        int r = catalog_sessions_foreach(cat, NULL, session_id, grab_session, &m->session);
        if (r < 0 || !m->session.found) {
                snprintf(err, err_size, "manifest: session %lld not found", (long long)session_id);
                return r < 0 ? r : -ENOENT;
        }
        char prev[SHA256_HEX_LEN + 1];
        if ((r = catalog_manifest_last(cat, cfg->station_id, &m->seq, prev)) < 0) {
                snprintf(err, err_size, "manifest: %s", catalog_errmsg(cat));
                return r;
        }
        m->seq++;
        m->prev_sha256 = prev[0] ? xstrdup(prev) : NULL;
        m->station = xstrdup(cfg->station_id);
        /* The audit chain's head: the archive can tell a rewritten local history. */
        if ((r = audit_head(cat, &m->audit_id, m->audit_sha256)) < 0) {
                snprintf(err, err_size, "manifest: cannot read the audit chain: %s", catalog_errmsg(cat));
                return r;
        }
        if ((r = catalog_deleted_foreach(cat, NULL, session_id, grab_deleted, m)) < 0 ||
            (r = catalog_recordings_foreach(cat, NULL, session_id, grab_recording, m)) < 0) {
                snprintf(err, err_size, "manifest: cannot read the session's recordings: %s", catalog_errmsg(cat));
                return r;
        }
        /* The officer the device was checked out to when it docked. */
        char officer[64] = "";
        if (m->session.docked_at && (r = catalog_officer_assigned_at(cat, m->session.serial, m->session.docked_at,
                                                                     officer, sizeof(officer))) < 0) {
                snprintf(err, err_size, "manifest: %s", catalog_errmsg(cat));
                return r;
        }
        if (officer[0]) {
                m->session.officer = xstrdup(officer);
                m->session.officer_source = xstrdup("assignment");
        }
        return 0;
}

/* ---- the canonical renderer: keys sorted, no white space, one way to write each value ---- */

int manifest_render_json(const struct manifest *m, char **body, size_t *len)
{
        FILE *f = open_memstream(body, len);
        if (!f)
                return -ENOMEM;
        if (m->audit_id)
                fprintf(f, "{\"audit_head\":{\"id\":%lld,\"sha256\":\"%s\"},", (long long)m->audit_id, m->audit_sha256);
        else
                fputs("{\"audit_head\":null,", f);
        fputs("\"deleted_on_device\":[", f);
        for (size_t i = 0; i < m->n_deleted; i++) {
                fputs(i ? ",{\"device_mtime\":" : "{\"device_mtime\":", f);
                json_str(f, m->deleted[i].device_mtime);
                json_kv(f, ",\"device_path\":", m->deleted[i].device_path);
                fprintf(f, ",\"size\":%lld}", (long long)m->deleted[i].size);
        }
        json_kv(f, "],\"format\":\"dockd-manifest/1\",\"prev_sha256\":", m->prev_sha256);
        fputs(",\"recordings\":[", f);
        for (size_t i = 0; i < m->n_recordings; i++) {
                const struct manifest_recording *r = &m->recordings[i];
                json_kv(f, i ? ",{\"attribution_flag\":" : "{\"attribution_flag\":", r->attribution_flag);
                fputs(",\"copies\":[", f);
                for (size_t k = 0; k < r->n_copies && k < ELEMENTSOF(r->copies); k++) {
                        fputs(k ? ",{" : "{", f);
                        if (r->copies[k].object) { /* where an auditor finds it */
                                fputs("\"object\":", f);
                                json_str(f, r->copies[k].object);
                                fputc(',', f);
                        }
                        fputs("\"path\":", f);
                        json_str(f, r->copies[k].path);
                        json_kv(f, ",\"target\":", r->copies[k].target);
                        json_kv(f, ",\"verified_at\":", r->copies[k].verified_at);
                        if (r->copies[k].version_id) /* an object copy: the version read back */
                                json_kv(f, ",\"version_id\":", r->copies[k].version_id);
                        fputc('}', f);
                }
                json_kv(f, "],\"device_mtime\":", r->device_mtime);
                json_kv(f, ",\"device_path\":", r->device_path);
                json_kv(f, ",\"media_flag\":", r->media_flag);
                json_kv(f, ",\"officer\":", r->officer);
                json_kv(f, ",\"officer_source\":", r->officer_source);
                json_kv(f, ",\"recorded_end_device\":", r->recorded_end_device);
                json_kv(f, ",\"recorded_end_utc\":", r->recorded_end_utc);
                json_kv(f, ",\"recorded_start_device\":", r->recorded_start_device);
                json_kv(f, ",\"recorded_start_utc\":", r->recorded_start_utc);
                json_kv(f, ",\"sha256\":", r->sha256);
                fprintf(f, ",\"size\":%lld}", (long long)r->size);
        }
        const struct manifest_session *s = &m->session;
        fprintf(f, "],\"seq\":%lld,\"session\":{\"bay\":", (long long)m->seq);
        json_str(f, s->bay);
        if (s->has_clock_offset)
                fprintf(f, ",\"clock_offset_s\":%lld", (long long)s->clock_offset_s);
        else
                fputs(",\"clock_offset_s\":null", f);
        json_kv(f, ",\"device\":{\"identity_flag\":", s->identity_flag);
        json_kv(f, ",\"model\":", s->model);
        json_kv(f, ",\"product_id\":", s->product_id);
        json_kv(f, ",\"serial\":", s->serial);
        json_kv(f, ",\"vendor\":", s->vendor);
        json_kv(f, ",\"vendor_id\":", s->vendor_id);
        fputc('}', f);
        if (s->has_report) { /* keys in order: the canonical form */
                fputs(",\"device_report\":{\"battery_pct\":", f);
                if (s->battery_pct >= 0)
                        fprintf(f, "%d", s->battery_pct);
                else
                        fputs("null", f);
                json_kv(f, ",\"clock_set_at\":", s->clock_set_at);
                json_kv(f, ",\"clock_set_to\":", s->clock_set_to);
                json_kv(f, ",\"id_code\":", s->rep_id_code);
                json_kv(f, ",\"info_error\":", s->info_error);
                json_kv(f, ",\"officer\":{\"badge\":", s->rep_badge);
                json_kv(f, ",\"name\":", s->rep_name);
                json_kv(f, ",\"unit_name\":", s->rep_unit_name);
                json_kv(f, ",\"unit_no\":", s->rep_unit_no);
                fputs("}}", f);
        }
        json_kv(f, ",\"docked_at\":", s->docked_at);
        json_kv(f, ",\"ended_at\":", s->ended_at);
        fprintf(f, ",\"id\":%lld", (long long)s->id);
        json_kv(f, ",\"officer\":", s->officer);
        json_kv(f, ",\"officer_source\":", s->officer_source);
        fputs(",\"source\":", f);
        json_str(f, s->source);
        json_kv(f, ",\"state\":", s->state);
        /* what the session could not read, walk or tell apart: why it is not complete */
        fprintf(f, ",\"unaccounted_bytes\":%lld,\"unread\":", (long long)s->unaccounted_bytes);
        json_lines(f, s->unread);
        json_kv(f, "},\"station\":", m->station);
        fputs("}", f);
        return fclose(f) == 0 ? 0 : -ENOMEM;
}

/* docked + the configured deadline, in the catalog's time form. */
static void deadline_of(const struct config *cfg, const char *docked, char *out, size_t size)
{
        int64_t t = time_parse_iso(docked);
        time_iso((t < 0 ? clock_now() : t) + (int64_t)cfg->archive_deadline_h * 3600, out, size);
}

int manifest_write(const struct config *cfg, struct catalog *cat, int64_t session_id, char *err, size_t err_size)
{
        struct manifest m;
        int r = manifest_gather(cfg, cat, session_id, &m, err, err_size);
        char *body = NULL;
        size_t len = 0;
        if (r >= 0 && (r = manifest_render_json(&m, &body, &len)) < 0)
                snprintf(err, err_size, "manifest: out of memory");
        char deadline[40];
        deadline_of(cfg, m.session.docked_at, deadline, sizeof(deadline));
        int64_t seq = m.seq;
        char prev[SHA256_HEX_LEN + 1];
        snprintf(prev, sizeof(prev), "%s", m.prev_sha256 ? m.prev_sha256 : "");
        manifest_free(&m);
        if (r < 0) {
                free(body);
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

int manifest_public_key(const struct config *cfg, char **pem, size_t *len)
{
        _cleanup_free_ char *key = NULL, *pub = NULL;
        manifest_key_path(cfg, &key, &pub);
        _cleanup_close_ int fd = open(pub, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st) < 0)
                return -errno;
        if (st.st_size <= 0 || st.st_size > 64 << 10)
                return -EINVAL;
        *pem = xmalloc((size_t)st.st_size + 1);
        ssize_t k = pread_full(fd, *pem, (size_t)st.st_size, 0);
        if (k != st.st_size) {
                free(*pem);
                *pem = NULL;
                return k < 0 ? (int)k : -EIO;
        }
        (*pem)[k] = '\0';
        *len = (size_t)k;
        return 0;
}
