/* verbs_report.c — `custody REC`: one recording's chain of custody, from
 * the ledger: the device and the officer and where that came from, its
 * times on the device and corrected, its hashes, each copy with its
 * verification and scrubs, every audit row that touched it, the manifests
 * that carry it and their delivery, the holds and its retention. Built as one
 * JSON document; the text form prints the same document for people. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "output.h"
#include "report_pdf.h"
#include "util.h"
#include "verbs.h"

#define MAX_SESSIONS 64

static int grab_recording(const struct recording_info *r, void *ud)
{
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(r->id));
        json_object_set_new(o, "device_path", json_text(r->device_path));
        json_object_set_new(o, "size", json_integer(r->size));
        json_object_set_new(o, "sha256", json_text(r->sha256));
        json_object_set_new(o, "xxh128", json_text(r->xxh128));
        json_object_set_new(o, "hashed_at", json_text(r->hashed_at));
        json_object_set_new(o, "device_mtime", json_text(r->device_mtime));
        json_object_set_new(o, "recorded_start_device", json_text(r->recorded_start_device));
        json_object_set_new(o, "recorded_end_device", json_text(r->recorded_end_device));
        json_object_set_new(o, "recorded_start_utc", json_text(r->recorded_start_utc));
        json_object_set_new(o, "recorded_end_utc", json_text(r->recorded_end_utc));
        json_object_set_new(o, "time_source", json_text(r->time_source));
        json_object_set_new(o, "ingested_at", json_text(r->ingested_at));
        json_object_set_new(o, "media_flag", json_text(r->media_flag));
        json_object_set_new(o, "destroyed_at", json_text(r->destroyed_at));
        json_t *of = json_object();
        json_object_set_new(of, "badge", json_text(r->officer));
        json_object_set_new(of, "name", json_text(r->officer_name));
        json_object_set_new(of, "source", json_text(r->officer_source));
        json_object_set_new(of, "device_reported", json_text(r->device_officer));
        json_object_set_new(of, "checked_out_to", json_text(r->assigned_officer));
        json_object_set_new(of, "flag", json_text(r->attribution_flag));
        json_object_set_new(o, "officer", of);
        json_object_set_new(o, "device", json_text(r->device));
        json_t *copies = json_array();
        for (size_t i = 0; i < r->n_copies; i++) {
                const struct copy_info *k = &r->copies[i];
                json_t *c = json_object();
                json_object_set_new(c, "target", json_text(k->target));
                json_object_set_new(c, "path", json_text(k->path));
                json_object_set_new(c, "verified_at", json_text(k->verified_at));
                json_object_set_new(c, "method", json_text(k->method));
                json_object_set_new(c, "version_id", json_text(k->version_id));
                json_object_set_new(c, "retain_until", json_text(k->retain_until));
                json_array_append_new(copies, c);
        }
        json_object_set_new(o, "copies", copies);
        if (*(json_t **)ud)
                json_decref(*(json_t **)ud);
        *(json_t **)ud = o;
        return 0;
}

static int grab_session(const struct session_info *s, void *ud)
{
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(s->id));
        json_object_set_new(o, "bay", json_text(s->bay));
        json_object_set_new(o, "docked_at", json_text(s->started_at));
        json_object_set_new(o, "ended_at", json_text(s->ended_at));
        json_object_set_new(o, "state", json_text(s->state));
        json_object_set_new(o, "vendor", json_text(s->vendor));
        json_object_set_new(o, "model", json_text(s->model));
        json_object_set_new(o, "identity_flag", json_text(s->identity_flag));
        json_object_set_new(o, "clock_offset_s", s->has_clock_offset ? json_integer(s->clock_offset_s) : json_null());
        json_object_set_new(o, "device_reported_officer", json_text(s->reported_badge));
        json_object_set_new(o, "clock_set_at", json_text(s->clock_set_at));
        json_array_append_new(ud, o);
        return 0;
}

static int grab_audit(const struct audit_row *a, void *ud)
{
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(a->id));
        json_object_set_new(o, "at", json_text(a->at));
        json_object_set_new(o, "who", json_text(a->who));
        json_object_set_new(o, "role", json_text(a->role));
        json_object_set_new(o, "action", json_text(a->action));
        json_object_set_new(o, "object", json_text(a->object));
        json_object_set_new(o, "why", json_text(a->why));
        json_array_append_new(ud, o);
        return 0;
}

static int grab_scrub(const char *at, const char *target, const char *path, const char *finding, const char *detail,
                      void *ud)
{
        json_t *o = json_object();
        json_object_set_new(o, "at", json_text(at));
        json_object_set_new(o, "target", json_text(target));
        json_object_set_new(o, "path", json_text(path));
        json_object_set_new(o, "finding", json_text(finding));
        json_object_set_new(o, "detail", json_text(detail));
        json_array_append_new(ud, o);
        return 0;
}

static int grab_hold(const struct hold_info *h, void *ud)
{
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(h->id));
        json_object_set_new(o, "scope", json_text(h->scope));
        json_object_set_new(o, "value", json_text(h->value));
        json_object_set_new(o, "reason", json_text(h->reason));
        json_object_set_new(o, "placed_by", json_text(h->placed_by));
        json_object_set_new(o, "placed_at", json_text(h->placed_at));
        json_object_set_new(o, "released_at", json_text(h->released_at));
        json_object_set_new(o, "release_reason", json_text(h->release_reason));
        json_array_append_new(ud, o);
        return 0;
}

struct manifests {
        const int64_t *sessions;
        size_t n;
        json_t *out;
};

static int grab_manifest(const struct manifest_info *m, void *ud)
{
        struct manifests *ms = ud;
        for (size_t i = 0; i < ms->n; i++)
                if (ms->sessions[i] == m->session_id) {
                        json_t *o = json_object();
                        json_object_set_new(o, "seq", json_integer(m->seq));
                        json_object_set_new(o, "session", json_integer(m->session_id));
                        json_object_set_new(o, "sha256", json_text(m->sha256));
                        json_object_set_new(o, "created_at", json_text(m->created_at));
                        json_object_set_new(o, "deadline", json_text(m->deadline));
                        json_object_set_new(o, "delivered_at", json_text(m->delivered_at));
                        json_object_set_new(o, "last_error", json_text(m->last_error));
                        json_array_append_new(ms->out, o);
                        break;
                }
        return 0;
}

/* Kept until: the recorded end (or the ingest) plus the class's months. */
static void kept_until(const char *end, unsigned months, char *out, size_t size)
{
        out[0] = '\0';
        int64_t t = end ? time_parse_iso(end) : -1;
        if (t < 0 || !months)
                return;
        time_t tt = (time_t)t;
        struct tm tm;
        gmtime_r(&tt, &tm);
        tm.tm_mon += (int)months;
        tt = timegm(&tm);
        gmtime_r(&tt, &tm);
        strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static const char *s(json_t *o, const char *k)
{
        const char *v = json_string_value(json_object_get(o, k));
        return v ? v : "-";
}

static void print_text(FILE *out, json_t *d)
{
        char esc[1400];
        json_t *r = json_object_get(d, "recording"), *of = json_object_get(r, "officer");
        fprintf(out, "CHAIN OF CUSTODY: recording %lld\n\n", (long long)json_integer_value(json_object_get(r, "id")));
        fprintf(out, "device          %s, file %s\n", text_escape(s(r, "device"), esc, sizeof(esc)),
                s(r, "device_path"));
        fprintf(out, "size            %lld bytes\n", (long long)json_integer_value(json_object_get(r, "size")));
        fprintf(out, "SHA-256         %s\nXXH128          %s\n", s(r, "sha256"), s(r, "xxh128"));
        fprintf(out, "recorded        %s .. %s (device clock)\n                %s .. %s UTC (from %s)\n",
                s(r, "recorded_start_device"), s(r, "recorded_end_device"), s(r, "recorded_start_utc"),
                s(r, "recorded_end_utc"), s(r, "time_source"));
        fprintf(out, "officer         %s %s (source: %s; the device named %s; checked out to %s)%s%s\n", s(of, "badge"),
                text_escape(s(of, "name"), esc, sizeof(esc)), s(of, "source"), s(of, "device_reported"),
                s(of, "checked_out_to"), json_is_string(json_object_get(of, "flag")) ? "; FLAGGED " : "",
                json_is_string(json_object_get(of, "flag")) ? s(of, "flag") : "");
        fprintf(out, "ingested        %s\n", s(r, "ingested_at"));
        json_t *ret = json_object_get(d, "retention");
        fprintf(out, "retention       class %s, kept until %s%s\n", s(ret, "class"), s(ret, "kept_until"),
                json_is_true(json_object_get(ret, "held")) ? ", HELD (legal hold)" : "");
        size_t i;
        json_t *x;
        fprintf(out, "\nSESSIONS\n");
        json_array_foreach(json_object_get(d, "sessions"), i, x)
        {
                fprintf(out, "  #%lld  docked %s in bay %s, %s",
                        (long long)json_integer_value(json_object_get(x, "id")), s(x, "docked_at"), s(x, "bay"),
                        s(x, "state"));
                if (json_is_integer(json_object_get(x, "clock_offset_s")))
                        fprintf(out, ", clock %+llds",
                                (long long)json_integer_value(json_object_get(x, "clock_offset_s")));
                if (json_is_string(json_object_get(x, "clock_set_at")))
                        fprintf(out, ", clock set at %s", s(x, "clock_set_at"));
                fprintf(out, "\n");
        }
        fprintf(out, "\nCOPIES\n");
        json_array_foreach(json_object_get(r, "copies"), i, x)
                fprintf(out, "  %-10s %s\n             verified %s (%s)%s%s\n", s(x, "target"),
                        text_escape(s(x, "path"), esc, sizeof(esc)), s(x, "verified_at"), s(x, "method"),
                        json_is_string(json_object_get(x, "version_id")) ? ", version " : "",
                        json_is_string(json_object_get(x, "version_id")) ? s(x, "version_id") : "");
        fprintf(out, "\nSCRUBS\n");
        if (!json_array_size(json_object_get(d, "scrubs")))
                fprintf(out, "  no finding (last scrubbed %s)\n", s(d, "last_scrubbed"));
        json_array_foreach(json_object_get(d, "scrubs"), i, x)
                fprintf(out, "  %s  %s %s: %s\n", s(x, "at"), s(x, "target"), s(x, "finding"), s(x, "detail"));
        fprintf(out, "\nMANIFESTS\n");
        json_array_foreach(json_object_get(d, "manifests"), i, x) fprintf(
                out, "  #%lld (session %lld) SHA-256 %s, %s%s\n",
                (long long)json_integer_value(json_object_get(x, "seq")),
                (long long)json_integer_value(json_object_get(x, "session")), s(x, "sha256"),
                json_is_string(json_object_get(x, "delivered_at")) ? "delivered " : "NOT YET DELIVERED to the archive",
                json_is_string(json_object_get(x, "delivered_at")) ? s(x, "delivered_at") : "");
        fprintf(out, "\nHOLDS\n");
        if (!json_array_size(json_object_get(d, "holds")))
                fprintf(out, "  none\n");
        json_array_foreach(json_object_get(d, "holds"), i, x) fprintf(
                out, "  #%lld %s %s: %s (by %s at %s%s%s)\n", (long long)json_integer_value(json_object_get(x, "id")),
                s(x, "scope"), s(x, "value"), text_escape(s(x, "reason"), esc, sizeof(esc)), s(x, "placed_by"),
                s(x, "placed_at"), json_is_string(json_object_get(x, "released_at")) ? "; released " : "",
                json_is_string(json_object_get(x, "released_at")) ? s(x, "released_at") : "");
        fprintf(out, "\nAUDIT (every row of the chain that names it or its sessions)\n");
        json_array_foreach(json_object_get(d, "audit"), i, x) fprintf(
                out, "  %-6lld %s  %s (%s) %s %s%s%s\n", (long long)json_integer_value(json_object_get(x, "id")),
                s(x, "at"), text_escape(s(x, "who"), esc, sizeof(esc)), s(x, "role"), s(x, "action"), s(x, "object"),
                json_is_string(json_object_get(x, "why")) ? ": " : "",
                json_is_string(json_object_get(x, "why")) ? s(x, "why") : "");
}

/* ---- a dock session's report: what the station took from one dock ---- */

struct session_text {
        FILE *out;
        int64_t n, bytes;
};

static int session_header(const struct session_info *si, void *ud)
{
        FILE *f = ((struct session_text *)ud)->out;
        char esc[1400];
        fprintf(f, "DOCK SESSION REPORT: session %lld\n\n", (long long)si->id);
        fprintf(f, "device          %s (%s %s, USB %s:%s)%s%s\n", text_escape(si->device, esc, sizeof(esc)),
                si->vendor ? si->vendor : "-", si->model ? si->model : "-", si->vendor_id ? si->vendor_id : "-",
                si->product_id ? si->product_id : "-", si->identity_flag ? "; FLAGGED " : "",
                si->identity_flag ? si->identity_flag : "");
        fprintf(f, "bay             %s\n", si->bay ? si->bay : "-");
        fprintf(f, "docked          %s, ended %s, %s\n", si->started_at, si->ended_at ? si->ended_at : "-", si->state);
        if (si->has_clock_offset)
                fprintf(f, "device clock    %+llds off the station's at dock time\n", (long long)si->clock_offset_s);
        if (si->reported_badge || si->battery_pct >= 0 || si->clock_set_at)
                fprintf(f, "device reports  officer %s %s, unit %s; battery %d%%; clock set %s to %s\n",
                        si->reported_badge ? si->reported_badge : "-",
                        si->reported_officer_name ? si->reported_officer_name : "",
                        si->reported_unit_name ? si->reported_unit_name : "-", si->battery_pct,
                        si->clock_set_at ? si->clock_set_at : "-", si->clock_set_to ? si->clock_set_to : "-");
        fprintf(f,
                "files           %lld seen, %lld copied, %lld known already, %lld under-copied, %lld deleted "
                "on the device\n",
                (long long)si->files_seen, (long long)si->files_copied, (long long)si->files_already,
                (long long)si->files_under_copied, (long long)si->deleted_entries);
        if (si->unread)
                fprintf(f, "NOT READ        %s\n", text_escape(si->unread, esc, sizeof(esc)));
        if (si->error)
                fprintf(f, "error           %s\n", text_escape(si->error, esc, sizeof(esc)));
        if (si->wipe)
                fprintf(f, "wipe            %s\n", si->wipe);
        fprintf(f, "\nRECORDINGS\n");
        return 0;
}

static int session_recording(const struct recording_info *r, void *ud)
{
        struct session_text *st = ud;
        char esc[1400];
        fprintf(st->out,
                "  #%-6lld %s\n          %lld bytes, SHA-256 %s\n          officer %s (%s), recorded %s; "
                "%zu verified cop%s\n",
                (long long)r->id, text_escape(r->device_path, esc, sizeof(esc)), (long long)r->size,
                r->sha256 ? r->sha256 : "-", r->officer ? r->officer : "-",
                r->officer_source ? r->officer_source : "none", r->recorded_start_utc ? r->recorded_start_utc : "-",
                r->n_copies, r->n_copies == 1 ? "y" : "ies");
        st->n++;
        st->bytes += r->size;
        return 0;
}

static int session_manifest(const struct manifest_info *m, void *ud)
{
        struct session_text *st = ud;
        if (m->session_id == st->n) /* n holds the session id while manifests are walked */
                fprintf(st->out, "\nMANIFEST\n  #%lld SHA-256 %s, created %s, delivered %s\n", (long long)m->seq,
                        m->sha256, m->created_at, m->delivered_at ? m->delivered_at : "NOT YET");
        return 0;
}

static int session_report(struct ctx *c, int64_t sid, const char *pdf)
{
        if (open_catalog(c) < 0)
                return 1;
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *m = open_memstream(&text, &len);
        if (!m)
                return 1;
        struct session_text st = { .out = m };
        int r = catalog_sessions_foreach(c->cat, NULL, sid, session_header, &st);
        bool found = len > 0 || ftell(m) > 0;
        if (r >= 0 && found)
                r = catalog_recordings_foreach(c->cat, NULL, sid, session_recording, &st);
        int64_t n = st.n, bytes = st.bytes;
        st.n = sid;
        if (r >= 0 && found)
                r = catalog_manifests_foreach(c->cat, session_manifest, &st);
        if (found)
                fprintf(m, "\n%lld recording(s), %lld bytes\n", (long long)n, (long long)bytes);
        fclose(m);
        if (r < 0 || !found) {
                log_error("custody --session: %s", r < 0 ? catalog_errmsg(c->cat) : "no such session");
                return 1;
        }
        if (!pdf) {
                fputs(text, stdout);
                return 0;
        }
        char now[32], err[256];
        time_now_iso(now, sizeof(now));
        _cleanup_free_ char *footer =
                xasprintf("dockd station %s · dock session %lld · %s", c->cfg.station_id, (long long)sid, now);
        if (report_pdf(text, footer, stdout, err, sizeof(err)) < 0) {
                log_error("custody --session: %s", err);
                return 1;
        }
        return 0;
}

int cmd_custody(struct ctx *c, int argc, char **argv)
{
        bool json = false, pdf = false;
        int64_t id = 0, session = 0;
        for (int i = 1; i < argc; i++)
                if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else if (strcmp(argv[i], "--session") == 0 && i + 1 < argc)
                        session = strtoll(argv[++i], NULL, 10), id = session > 0 ? session : -1;
                else if (strcmp(argv[i], "--pdf") == 0 && i + 1 < argc && strcmp(argv[i + 1], "-") == 0)
                        pdf = true, i++; /* dockctl has put the caller's FILE on our stdout */
                else if (!id && argv[i][0] >= '1' && argv[i][0] <= '9')
                        id = strtoll(argv[i], NULL, 10);
                else
                        id = -1;
        if (id <= 0 || (json && (pdf || session))) {
                fprintf(stderr, "usage: dockctl custody RECORDING [--json | --pdf FILE]\n"
                                "       dockctl custody --session SESSION [--pdf FILE]\n");
                return EXIT_USAGE;
        }
        if (session)
                return session_report(c, session, pdf ? "-" : NULL);
        if (open_catalog(c) < 0)
                return 1;
        json_t *rec = NULL;
        struct recording_filter f = { .id = id };
        int r = catalog_recordings_query(c->cat, &f, grab_recording, &rec);
        if (r < 0 || !rec) {
                log_error("custody: %s", r < 0 ? catalog_errmsg(c->cat) : "no such recording");
                if (rec)
                        json_decref(rec);
                return 1;
        }
        json_t *doc = json_object();
        json_object_set_new(doc, "station", json_text(c->cfg.station_id));
        char now[32];
        time_now_iso(now, sizeof(now));
        json_object_set_new(doc, "generated_at", json_text(now));
        json_object_set_new(doc, "recording", rec);
        int64_t sessions[MAX_SESSIONS];
        size_t n = 0;
        json_t *sess = json_array(), *audit = json_array(), *scrubs = json_array(), *holds = json_array();
        struct manifests ms = { .sessions = sessions, .out = json_array() };
        if ((r = catalog_custody_sessions(c->cat, id, sessions, MAX_SESSIONS, &n)) >= 0) {
                ms.n = n;
                for (size_t i = 0; i < n && r >= 0; i++)
                        r = catalog_sessions_foreach(c->cat, NULL, sessions[i], grab_session, sess);
        }
        if (r >= 0)
                r = catalog_custody_audit(c->cat, id, grab_audit, audit);
        if (r >= 0)
                r = catalog_custody_scrubs(c->cat, id, grab_scrub, scrubs);
        if (r >= 0)
                r = catalog_custody_holds(c->cat, id, grab_hold, holds);
        if (r >= 0)
                r = catalog_manifests_foreach(c->cat, grab_manifest, &ms);
        char cls[40] = "", scrubbed[32] = "", until[32] = "";
        if (r >= 0)
                r = catalog_custody_retention(c->cat, id, cls, sizeof(cls), scrubbed, sizeof(scrubbed));
        json_object_set_new(doc, "sessions", sess);
        json_object_set_new(doc, "last_scrubbed", json_text(scrubbed[0] ? scrubbed : NULL));
        json_object_set_new(doc, "scrubs", scrubs);
        json_object_set_new(doc, "manifests", ms.out);
        json_object_set_new(doc, "holds", holds);
        json_object_set_new(doc, "audit", audit);
        bool held = false;
        size_t i;
        json_t *h;
        json_array_foreach(holds, i, h) held |= !json_is_string(json_object_get(h, "released_at"));
        const char *end = json_string_value(json_object_get(rec, "recorded_end_utc"));
        kept_until(end ? end : json_string_value(json_object_get(rec, "ingested_at")),
                   config_retention_months(&c->cfg, cls), until, sizeof(until));
        json_t *ret = json_object();
        json_object_set_new(ret, "class", json_text(cls));
        json_object_set_new(ret, "months", json_integer(config_retention_months(&c->cfg, cls)));
        json_object_set_new(ret, "kept_until", json_text(until[0] ? until : NULL));
        json_object_set_new(ret, "held", json_boolean(held));
        json_object_set_new(doc, "retention", ret);
        if (r < 0) {
                log_error("custody: %s", catalog_errmsg(c->cat));
                json_decref(doc);
                return 1;
        }
        if (json) {
                json_emit(stdout, doc); /* takes doc */
                putchar('\n');
        } else if (pdf) {
                char *text = NULL, err[256];
                size_t len = 0;
                FILE *m = open_memstream(&text, &len);
                if (!m)
                        return 1;
                print_text(m, doc);
                fclose(m);
                _cleanup_free_ char *footer = xasprintf("dockd station %s · chain of custody of recording %lld · %s",
                                                        c->cfg.station_id, (long long)id, now);
                r = report_pdf(text, footer, stdout, err, sizeof(err));
                free(text);
                json_decref(doc);
                if (r < 0) {
                        log_error("custody: %s", err);
                        return 1;
                }
        } else {
                print_text(stdout, doc);
                json_decref(doc);
        }
        return 0;
}
