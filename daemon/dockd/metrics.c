/* metrics.c — see metrics.h. Requests are served one at a time on
 * libmicrohttpd's thread, which owns its own catalog connection. */
#include "metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <openssl/evp.h>
#include <stdbool.h>

#include "alarms.h"
#include "catalog.h"
#include "log.h"
#include "output.h"
#include "target.h"
#include "util.h"

struct metrics {
        const struct config *cfg;
        struct bays *bays;
        struct catalog *cat;
        struct MHD_Daemon *mhd;
        char *tls_cert, *tls_key; /* PEM, kept while the daemon runs */
        char token[256];          /* [metrics] token_file: "" none */
};

/* The token, as a bearer token (Prometheus) or as the password of Basic
 * authentication (a browser's prompt for /admin); compared in full. */
static bool authorized(const struct metrics *m, struct MHD_Connection *conn)
{
        if (!m->token[0])
                return true;
        const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        char given[300] = "";
        if (h && strncasecmp(h, "Bearer ", 7) == 0) {
                snprintf(given, sizeof(given), "%s", h + 7);
        } else if (h && strncasecmp(h, "Basic ", 6) == 0 && strlen(h + 6) < 380) {
                unsigned char dec[300] = "";
                int n = EVP_DecodeBlock(dec, (const unsigned char *)h + 6, (int)strlen(h + 6));
                const char *colon = n > 0 ? memchr(dec, ':', (size_t)n) : NULL;
                if (colon)
                        snprintf(given, sizeof(given), "%.*s", (int)(n - (colon + 1 - (const char *)dec)), colon + 1);
                given[strcspn(given, "\0")] = '\0';
        }
        size_t a = strlen(given), b = strlen(m->token);
        unsigned diff = a != b;
        for (size_t i = 0; i < b; i++)
                diff |= (unsigned)(given[i < a ? i : 0] ^ m->token[i]);
        explicit_bzero(given, sizeof(given));
        return !diff && a > 0;
}

extern const char dockd_page_dock[], dockd_page_admin[]; /* daemon/dockd/pages, compiled in */

static void metric(FILE *f, const char *name, const char *type, const char *help)
{
        fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void write_metrics(struct metrics *m, FILE *f)
{
        const struct config *cfg = m->cfg;
        struct bay_metrics b;
        bays_metrics(m->bays, &b);
        metric(f, "dockd_ingested_bytes_total", "counter",
               "Bytes copied with verified copies by sessions finished since dockd started.");
        fprintf(f, "dockd_ingested_bytes_total %lld\n", (long long)b.bytes_copied);
        metric(f, "dockd_ingested_files_total", "counter",
               "Recordings copied with verified copies by sessions finished since dockd started.");
        fprintf(f, "dockd_ingested_files_total %lld\n", (long long)b.files_copied);
        metric(f, "dockd_ingest_errors_total", "counter",
               "Errors recorded by sessions finished since dockd started (a copy, a read, a target).");
        fprintf(f, "dockd_ingest_errors_total %lld\n", (long long)b.errors);
        metric(f, "dockd_readback_mismatches_total", "counter",
               "Copies whose read-back differed from what was written (a target altering or losing data).");
        fprintf(f, "dockd_readback_mismatches_total %lld\n", (long long)b.readback_mismatches);
        metric(f, "dockd_ingest_rate_bytes_per_second", "gauge", "Read rate of all ingesting bays together.");
        fprintf(f, "dockd_ingest_rate_bytes_per_second %.0f\n", b.rate_bps);
        metric(f, "dockd_build_info", "gauge", "The running dockd's version (always 1).");
        fprintf(f, "dockd_build_info{version=\"%s\"} 1\n", DOCKD_VERSION);
        metric(f, "dockd_bays", "gauge", "Docked recorders by what they are doing; each bay in one state.");
        const struct {
                const char *state;
                unsigned n;
        } st[] = { { "waiting", b.waiting },     { "identifying", b.identifying },       { "unlocking", b.unlocking },
                   { "ingesting", b.ingesting }, { "safe_to_remove", b.safe_to_remove }, { "not_safe", b.not_safe } };
        for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++)
                fprintf(f, "dockd_bays{state=\"%s\"} %u\n", st[i].state, st[i].n);
        metric(f, "dockd_bay_battery_percent", "gauge",
               "Battery charge a docked recorder reported (recorders whose protocol tells it), by bay.");
        bays_battery_metrics(m->bays, f);

        char err[512];
        if (!m->cat && catalog_open_in(cfg->state_dir, &m->cat, err, sizeof(err)) < 0) {
                log_error("metrics: %s", err);
                return;
        }
        struct catalog_metrics cm;
        if (catalog_metrics_get(m->cat, cfg->copies, &cm) == 0) {
                metric(f, "dockd_sessions", "gauge", "Dock sessions in the catalog by state.");
                for (size_t i = 0; i < 5; i++)
                        fprintf(f, "dockd_sessions{state=\"%s\"} %lld\n", catalog_session_states[i],
                                (long long)cm.sessions[i]);
                metric(f, "dockd_recordings", "gauge", "Recordings in the catalog.");
                fprintf(f, "dockd_recordings %lld\n", (long long)cm.recordings);
                metric(f, "dockd_verified_copies", "gauge", "Verified copies recorded per target.");
                for (size_t i = 0; i < cm.n_targets; i++)
                        fprintf(f, "dockd_verified_copies{target=\"%s\"} %lld\n", cm.targets[i].name,
                                (long long)cm.targets[i].copies);
                metric(f, "dockd_under_copied_recordings", "gauge",
                       "Recordings with fewer verified copies than required.");
                fprintf(f, "dockd_under_copied_recordings %lld\n", (long long)cm.under_copied);
        }
        struct archive_view v;
        if (archive_view_get(cfg, m->cat, &v) == 0) {
                metric(f, "dockd_outbox_depth", "gauge", "Manifests waiting for the archive.");
                fprintf(f, "dockd_outbox_depth %lld\n", (long long)v.o.queued);
                metric(f, "dockd_outbox_rejected", "gauge",
                       "Manifests the archive refused, held for `dockctl archive retry`.");
                fprintf(f, "dockd_outbox_rejected %lld\n", (long long)v.o.rejected);
                metric(f, "dockd_outbox_oldest_age_seconds", "gauge",
                       "Age of the oldest undelivered manifest (0: none).");
                fprintf(f, "dockd_outbox_oldest_age_seconds %lld\n",
                        (long long)(v.oldest_age_s > 0 ? v.oldest_age_s : 0));
                metric(f, "dockd_next_deadline_seconds", "gauge",
                       "Seconds to the earliest undelivered manifest's deadline (negative: overdue; absent: none).");
                if (v.o.queued)
                        fprintf(f, "dockd_next_deadline_seconds %lld\n", (long long)v.next_deadline_in_s);
        }
        metric(f, "dockd_target_encrypted", "gauge",
               "1 when a target's copies are encrypted at rest (fscrypt, dm-crypt, SSE-C), else 0.");
        for (size_t i = 0; i < cfg->n_targets; i++) {
                char what[400];
                int e = target_encryption(&cfg->targets[i], what, sizeof(what));
                if (e >= 0)
                        fprintf(f, "dockd_target_encrypted{target=\"%s\"} %d\n", cfg->targets[i].name, e);
        }
        metric(f, "dockd_target_free_bytes", "gauge", "Free bytes on each storage target.");
        for (size_t i = 0; i < cfg->n_targets; i++) {
                int64_t free_bytes;
                target_probe(&cfg->targets[i], &free_bytes, err, sizeof(err));
                if (free_bytes >= 0)
                        fprintf(f, "dockd_target_free_bytes{target=\"%s\"} %lld\n", cfg->targets[i].name,
                                (long long)free_bytes);
        }
        struct alarm_list al;
        if (alarms_collect(cfg, m->cat, &al) == 0) {
                metric(f, "dockd_alarms_active", "gauge", "Active alarms and warnings.");
                fprintf(f, "dockd_alarms_active %zu\n", al.n);
                metric(f, "dockd_alarm", "gauge", "1 for each active alarm; value of count: objects in that state.");
                for (size_t i = 0; i < al.n; i++)
                        fprintf(f, "dockd_alarm{name=\"%s\",severity=\"%s\"} %lld\n", al.a[i].name,
                                al.a[i].warning ? "warning" : "alarm", (long long)al.a[i].count);
        }
}

/* The last few manifests the archive took, newest first, for the page. */
#define LAST_DELIVERED 5

struct delivered {
        FILE *f;
        size_t n;
};

static int manifest_row(const struct manifest_info *mi, void *ud)
{
        struct delivered *dl = ud;
        fprintf(dl->f, "%s{\"seq\":%lld,\"session\":%lld", dl->n++ ? "," : "", (long long)mi->seq,
                (long long)mi->session_id);
        json_kv(dl->f, ",\"delivered_at\":", mi->delivered_at);
        fputc('}', dl->f);
        return 0;
}

static void write_status(struct metrics *m, FILE *f, bool full)
{
        char err[512];
        bays_status_json(m->bays, f);
        if (!full) { /* the dock's page needs the bays; the alarms are the admin's */
                fputs(",\"alarms\":[],\"delivered\":[],\"restricted\":true}\n", f);
                return;
        }
        struct alarm_list al = { .n = 0 };
        if (m->cat || catalog_open_in(m->cfg->state_dir, &m->cat, err, sizeof(err)) == 0)
                alarms_collect(m->cfg, m->cat, &al);
        fputs(",\"alarms\":", f);
        alarms_json(&al, f);
        fputs(",\"delivered\":[", f);
        struct delivered dl = { .f = f, .n = 0 };
        if (m->cat)
                catalog_manifests_last_delivered(m->cat, LAST_DELIVERED, manifest_row, &dl);
        fputs("]}\n", f);
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
        struct metrics *m = cls;
        (void)version, (void)upload, (void)upload_size, (void)con_cls;
        if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
                return MHD_NO;
        char *body = NULL;
        size_t len = 0;
        const char *type = "text/plain; version=0.0.4; charset=utf-8";
        unsigned status = MHD_HTTP_OK;
        FILE *f = open_memstream(&body, &len);
        if (!f)
                return MHD_NO;
        bool ok = authorized(m, conn), need = strcmp(url, "/metrics") == 0 || strcmp(url, "/admin") == 0;
        if (need && !ok) {
                fputs("401: this path needs the station's token ([metrics] token_file): a bearer token, or the "
                      "password of a browser's login\n",
                      f);
                status = MHD_HTTP_UNAUTHORIZED;
        } else if (strcmp(url, "/metrics") == 0)
                write_metrics(m, f);
        else if (strcmp(url, "/status.json") == 0) {
                write_status(m, f, ok);
                type = "application/json";
        } else if (strcmp(url, "/") == 0) {
                /* the station's language, else the browser's */
                const char *lang = m->cfg->language,
                           *al = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Language");
                if (!lang)
                        lang = al && strncasecmp(al, "zh", 2) == 0 ? "zh_CN" : "en";
                const char *at = strstr(dockd_page_dock, "%LANG%");
                fprintf(f, "%.*s%s%s", (int)(at - dockd_page_dock), dockd_page_dock, lang, at + 6);
                type = "text/html; charset=utf-8";
        } else if (strcmp(url, "/admin") == 0) {
                fputs(dockd_page_admin, f);
                type = "text/html; charset=utf-8";
        } else {
                fputs("not found: /, /admin, /status.json, /metrics\n", f);
                status = MHD_HTTP_NOT_FOUND;
        }
        fclose(f);
        struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
        if (!resp) {
                free(body);
                return MHD_NO;
        }
        MHD_add_response_header(resp, "Content-Type", type);
        if (status == MHD_HTTP_UNAUTHORIZED)
                MHD_add_response_header(resp, "WWW-Authenticate", "Basic realm=\"dockd admin\", charset=\"UTF-8\"");
        MHD_add_response_header(resp, "Cache-Control", "no-store");
        enum MHD_Result r = MHD_queue_response(conn, status, resp);
        MHD_destroy_response(resp);
        return r;
}

/* A PEM or a token, whole. */
static char *slurp(const char *path, char *err, size_t err_size)
{
        char *b = NULL;
        size_t n;
        int r = read_file_all(path, 1 << 20, &b, &n);
        if (r < 0)
                snprintf(err, err_size, "[metrics]: cannot read %s: %s", path, strerror(-r));
        return r < 0 ? NULL : b;
}

int metrics_start(const struct config *cfg, struct bays *bays, struct metrics **out, char *err, size_t err_size)
{
        *out = NULL;
        if (!cfg->metrics_listen || strcmp(cfg->metrics_listen, "off") == 0)
                return 0;
        struct sockaddr_in sa = { .sin_family = AF_INET };
        struct sockaddr_in6 sa6 = { .sin6_family = AF_INET6 };
        char host[64];
        unsigned port, flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
        bool v6 = cfg->metrics_listen[0] == '[';
        int ok = v6 ? sscanf(cfg->metrics_listen, "[%63[^]]]:%u", host, &port) == 2 &&
                                 inet_pton(AF_INET6, host, &sa6.sin6_addr) == 1
                    : sscanf(cfg->metrics_listen, "%63[^:]:%u", host, &port) == 2 &&
                                 inet_pton(AF_INET, host, &sa.sin_addr) == 1;
        if (!ok || port == 0 || port > 65535) {
                snprintf(err, err_size,
                         "[metrics] listen '%s' must be IPv4:PORT or [IPv6]:PORT, e.g. 127.0.0.1:9477 or [::1]:9477",
                         cfg->metrics_listen);
                return -EINVAL;
        }
        if (!cfg->metrics_tls_cert != !cfg->metrics_tls_key) {
                snprintf(err, err_size, "[metrics] tls_cert and tls_key come together: give both, or neither");
                return -EINVAL;
        }
        sa.sin_port = htons((uint16_t)port);
        sa6.sin6_port = htons((uint16_t)port);
        if (v6)
                flags |= MHD_USE_IPv6;
        struct metrics *m = calloc(1, sizeof(*m));
        if (!m)
                return -ENOMEM;
        m->cfg = cfg;
        m->bays = bays;
        if (cfg->metrics_token_file) {
                _cleanup_free_ char *t = slurp(cfg->metrics_token_file, err, err_size);
                if (t)
                        t[strcspn(t, "\r\n")] = '\0';
                if (!t || strlen(t) < 16 || strlen(t) >= sizeof(m->token)) {
                        if (t)
                                snprintf(err, err_size,
                                         "[metrics] token_file %s: the token must be 16 to 255 characters",
                                         cfg->metrics_token_file);
                        free(m);
                        return -EINVAL;
                }
                snprintf(m->token, sizeof(m->token), "%s", t);
                explicit_bzero(t, strlen(t));
        }
        if (cfg->metrics_tls_cert) {
                m->tls_cert = slurp(cfg->metrics_tls_cert, err, err_size);
                m->tls_key = m->tls_cert ? slurp(cfg->metrics_tls_key, err, err_size) : NULL;
                if (!m->tls_key) {
                        free(m->tls_cert);
                        free(m);
                        return -EINVAL;
                }
                flags |= MHD_USE_TLS;
        }
        struct sockaddr *addr = v6 ? (struct sockaddr *)&sa6 : (struct sockaddr *)&sa;
        m->mhd = m->tls_cert
                         ? MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, answer, m, MHD_OPTION_SOCK_ADDR, addr,
                                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_HTTPS_MEM_CERT,
                                            m->tls_cert, MHD_OPTION_HTTPS_MEM_KEY, m->tls_key, MHD_OPTION_END)
                         : MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, answer, m, MHD_OPTION_SOCK_ADDR, addr,
                                            MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10, MHD_OPTION_END);
        if (!m->mhd) {
                snprintf(err, err_size, "cannot listen on %s for /metrics (in use? %s)", cfg->metrics_listen,
                         m->tls_cert ? "or the certificate and key do not load" : "no such address here?");
                free(m->tls_cert);
                free(m->tls_key);
                free(m);
                return -EADDRINUSE;
        }
        *out = m;
        return 0;
}

void metrics_stop(struct metrics *m)
{
        if (!m)
                return;
        MHD_stop_daemon(m->mhd);
        catalog_close(m->cat);
        free(m->tls_cert);
        if (m->tls_key)
                explicit_bzero(m->tls_key, strlen(m->tls_key));
        free(m->tls_key);
        explicit_bzero(m->token, sizeof(m->token));
        free(m);
}
