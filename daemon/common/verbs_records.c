/* verbs_records.c — the verbs of recordings and their paper trail: ingest of an
 * image or device, listings, manifests, the station key, the archive outbox,
 * the audit chain, alarms, and a new catalog on purpose. */
#include <errno.h>
#include <jansson.h>
#include <getopt.h>
#include <inttypes.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "alarms.h"
#include "archive_audit.h"
#include "catalog.h"
#include "config.h"
#include "verbs.h"
#include "forward.h"
#include "ingest.h"
#include "log.h"
#include "manifest.h"
#include "output.h"
#include "station.h"
#include "target.h"
#include "util.h"

/* dockctl catalog accept-new --reason TEXT: a new ledger on purpose. */
int cmd_catalog(struct ctx *c, int argc, char **argv)
{
        if (argc < 2 || strcmp(argv[1], "accept-new") != 0) {
                fprintf(stderr, "usage: dockctl catalog accept-new --reason TEXT\n");
                return EXIT_USAGE;
        }
        const char *reason = NULL;
        for (int i = 2; i + 1 < argc; i++)
                if (strcmp(argv[i], "--reason") == 0)
                        reason = argv[i + 1];
        if (!reason || !*reason) {
                fprintf(stderr,
                        "dockctl catalog accept-new: --reason TEXT is required (it goes into the audit chain)\n");
                return EXIT_USAGE;
        }
        c->accept_new = true;
        if (open_catalog(c) < 0)
                return 1;
        char what[1400] = "";
        size_t n = 0;
        for (size_t i = 0; i < c->cfg.n_targets; i++) {
                char old[40], err[600];
                if (station_target_adopt(&c->cfg.targets[i], c->cat, old, sizeof(old), err, sizeof(err)) < 0) {
                        log_error("%s", err);
                        return 1;
                }
                n += (size_t)snprintf(what + n, sizeof(what) - n, "%starget %s was catalog %s", i ? "; " : "",
                                      c->cfg.targets[i].name, old);
                if (n >= sizeof(what))
                        n = sizeof(what) - 1;
        }
        _cleanup_free_ char *why = xasprintf("%s (%s)", reason, what);
        if (catalog_begin(c->cat) < 0 || audited(c, 0, "catalog.accept-new", c->cfg.state_dir, why) < 0)
                return 1;
        printf("this catalog now keeps the ledger of the targets: %s\n"
               "copies already on them stay there, unknown to this catalog\n",
               what);
        return 0;
}

static void show_progress(const struct ingest_progress *p, void *ud)
{
        const struct ctx *c = ud;
        double eta_s;
        double rate = ingest_progress_rate(p, time_mono(), &eta_s);
        char done[32], total[32], eta[32];
        format_bytes((double)p->bytes_done, done, sizeof(done));
        format_bytes((double)p->bytes_total, total, sizeof(total));
        format_eta(eta_s, eta, sizeof(eta));
        size_t shown = p->file_index < p->n_files ? p->file_index + 1 : p->n_files;
        char head[160];
        snprintf(head, sizeof(head), "[%zu/%zu files] %s / %s  %.1f MB/s  ETA %s", shown, p->n_files, done, total,
                 rate / 1e6, eta);
        /* the file's own name: its directory is the same for most of a recorder */
        const char *name = p->file_index < p->n_files && p->device_path ? p->device_path : NULL;
        if (name && strrchr(name, '/'))
                name = strrchr(name, '/') + 1;
        progress_show(stderr, c->width, head, name, p->file_index >= p->n_files);
}

int cmd_ingest(struct ctx *c, int argc, char **argv)
{
        static const struct option opts[] = { { "image", required_argument, NULL, 'i' },
                                              { "serial", required_argument, NULL, 's' },
                                              { "device-clock", required_argument, NULL, 'k' },
                                              { "json", no_argument, NULL, 'j' },
                                              { "help", no_argument, NULL, 'h' },
                                              {} };
        const char *image = NULL, *serial = NULL, *device_clock = NULL;
        bool json = false;
        int ch;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
                switch (ch) {
                case 'i': image = optarg; break;
                case 's': serial = optarg; break;
                case 'k': device_clock = optarg; break;
                case 'j': json = true; break;
                default: return EXIT_USAGE;
                }
        if (!image || !serial || optind != argc) {
                fprintf(stderr, "dockctl ingest: --image PATH and --serial SERIAL are required\n");
                return EXIT_USAGE;
        }
        const struct verb_input *in = verb_input(c, image);
        if (!in && access(image, R_OK) < 0) {
                log_error("%s: cannot read: %m", image);
                return 1;
        }
        if (open_catalog(c) < 0)
                return 1;
        struct ingest_opts o = {
                .source = image,
                .serial = serial,
                .cancel = c->cancel,
                .on_progress = c->progress ? show_progress : NULL,
                .ud = c,
                .actor = c->caller,
                .actor_role = caller_role(c),
        };
        if (in) {
                o.source_passed = true;
                o.source_fds[0] = in->fds[0];
                o.source_fds[1] = in->fds[1];
        }
        if (device_clock) { /* read off the recorder's display at dock time */
                char t[32];
                if (parse_when("--device-clock", device_clock, t) < 0)
                        return EXIT_USAGE;
                o.has_clock_offset = true;
                o.clock_offset_s = time_parse_iso(t) - clock_now();
        }
        struct ingest_result res;
        int r = ingest_run(&c->cfg, c->cat, &o, &res);
        if (r < 0 && !res.session_id) {
                log_error("%s", res.error);
                return 1;
        }
        /* Standalone (a field kit): hand the session's manifest to the archive
         * now; if it is unreachable the manifest waits in the outbox. */
        char ferr[512];
        int fr = forward_due(&c->cfg, c->cat, ferr, sizeof(ferr));
        if (fr < 0 || ferr[0])
                log_warn("manifest not yet delivered to %s: %s (queued; `dockctl archive retry`)", c->cfg.archive_url,
                         ferr[0] ? ferr : catalog_errmsg(c->cat));
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        if (json) {
                printf("{\"session\":%" PRId64 ",\"serial\":", res.session_id);
                json_str(stdout, serial);
                printf(",\"state\":\"%s\",\"files_seen\":%" PRId64 ",\"files_copied\":%" PRId64
                       ",\"files_already\":%" PRId64 ",\"files_resumed\":%" PRId64 ",\"files_under_copied\":%" PRId64
                       ",\"bytes_copied\":%" PRId64 ",\"deleted_entries\":%" PRId64 ",\"deleted_new\":%" PRId64
                       ",\"errors\":%zu,\"error\":",
                       res.state, res.n.files_seen, res.n.files_copied, res.n.files_already, res.files_resumed,
                       res.n.files_under_copied, res.n.bytes_copied, res.deleted_seen, res.deleted_new, res.n_errors);
                json_str(stdout, res.n_errors ? res.error : NULL);
                printf(",\"unread\":%zu,\"unread_first\":", res.n_unread);
                json_str(stdout, res.n_unread ? res.unread : NULL);
                printf(",\"unaccounted_bytes\":%" PRId64 ",\"resume_bytes_reread\":%" PRId64
                       ",\"readback_mismatches\":%" PRId64 ",\"errors\":%zu",
                       res.unaccounted_bytes, res.resume_bytes_reread, res.readback_mismatches, res.n_errors);
                printf(",\"cpu_user_s\":%.3f,\"cpu_sys_s\":%.3f", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6,
                       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
                printf(",\"peak_rss_kib\":%ld}\n", ru.ru_maxrss);
        } else {
                char b[32];
                format_bytes((double)res.n.bytes_copied, b, sizeof(b));
                printf("session %" PRId64 ": %s\n", res.session_id, res.state);
                if (res.n.files_copied == 0 && res.n.files_already == res.n.files_seen && res.n.files_under_copied == 0)
                        printf("  nothing new: all %" PRId64 " recording(s) on %s already have %d verified copies\n",
                               res.n.files_seen, serial, c->cfg.copies);
                else
                        printf("  %" PRId64 " file(s) on the volume: %" PRId64 " copied (%s), %" PRId64
                               " already verified, %" PRId64 " resumed, %" PRId64 " under-copied\n",
                               res.n.files_seen, res.n.files_copied, b, res.n.files_already, res.files_resumed,
                               res.n.files_under_copied);
                if (res.deleted_seen)
                        printf("  %" PRId64 " entr%s deleted on the device before docking (%" PRId64
                               " new): see `dockctl deleted`\n",
                               res.deleted_seen, res.deleted_seen == 1 ? "y" : "ies", res.deleted_new);
                if (res.n_errors)
                        printf("  %zu error(s); first: %s\n", res.n_errors, res.error);
                if (res.n_unread)
                        printf("  NOT COMPLETE: %zu thing(s) on the device could not be read, walked or told apart; "
                               "first: %s\n"
                               "  (all of them: `dockctl sessions --session %" PRId64 "`)\n",
                               res.n_unread, res.unread, res.session_id);
        }
        if (strcmp(res.state, "complete") == 0)
                return 0;
        return strcmp(res.state, "failed") == 0 ? 1 : EXIT_INCOMPLETE;
}

struct list_ctx {
        enum out_format fmt;
        size_t n;
        int copies;
};

static int print_recording(const struct recording_info *r, void *ud)
{
        struct list_ctx *l = ud;
        if (l->fmt == OUT_JSON) {
                json_t *o = json_object(), *copies = json_array();
                json_object_set_new(o, "id", json_integer(r->id));
                json_object_set_new(o, "device", json_text(r->device));
                json_object_set_new(o, "device_path", json_text(r->device_path));
                json_object_set_new(o, "size", json_integer(r->size));
                json_object_set_new(o, "device_mtime", json_text(r->device_mtime));
                json_object_set_new(o, "sha256", json_text(r->sha256));
                json_object_set_new(o, "xxh128", json_text(r->xxh128));
                json_object_set_new(o, "hashed_at", json_text(r->hashed_at));
                json_object_set_new(o, "first_session", json_integer(r->first_session_id));
                json_object_set_new(o, "copies_verified", json_integer((json_int_t)r->n_copies));
                json_object_set_new(o, "under_copied", json_boolean(!r->destroyed_at && (int)r->n_copies < l->copies));
                for (size_t i = 0; i < r->n_copies; i++) {
                        _cleanup_free_ char *abs = xasprintf("%s/%s", r->copies[i].target_root, r->copies[i].path);
                        json_t *k = json_object();
                        json_object_set_new(k, "target", json_text(r->copies[i].target));
                        json_object_set_new(k, "path", json_text(abs));
                        json_object_set_new(k, "verified_at", json_text(r->copies[i].verified_at));
                        json_object_set_new(k, "method", json_text(r->copies[i].method));
                        if (r->copies[i].version_id) {
                                json_object_set_new(k, "version_id", json_text(r->copies[i].version_id));
                                json_object_set_new(k, "retain_until", json_text(r->copies[i].retain_until));
                        }
                        json_array_append_new(copies, k);
                }
                json_object_set_new(o, "copies", copies);
                json_object_set_new(o, "last_error", json_text(r->last_failure));
                json_object_set_new(o, "recorded_start_device", json_text(r->recorded_start_device));
                json_object_set_new(o, "recorded_end_device", json_text(r->recorded_end_device));
                json_object_set_new(o, "recorded_start_utc", json_text(r->recorded_start_utc));
                json_object_set_new(o, "recorded_end_utc", json_text(r->recorded_end_utc));
                json_object_set_new(o, "time_source", json_text(r->time_source));
                json_object_set_new(o, "duration_s", r->duration_s >= 0 ? json_real(r->duration_s) : json_null());
                json_object_set_new(o, "codec", json_text(r->codec));
                json_object_set_new(o, "width", r->width > 0 ? json_integer(r->width) : json_null());
                json_object_set_new(o, "height", r->width > 0 ? json_integer(r->height) : json_null());
                json_object_set_new(o, "media_flag", json_text(r->media_flag));
                json_object_set_new(o, "media_error", json_text(r->media_error));
                json_object_set_new(o, "name_seq", r->has_seq ? json_integer(r->seq) : json_null());
                json_object_set_new(o, "officer", json_text(r->officer));
                json_object_set_new(o, "officer_name", json_text(r->officer_name));
                json_object_set_new(o, "officer_source", json_text(r->officer_source));
                json_object_set_new(o, "device_officer", json_text(r->device_officer));
                json_object_set_new(o, "assigned_officer", json_text(r->assigned_officer));
                json_object_set_new(o, "attribution_flag", json_text(r->attribution_flag));
                json_object_set_new(o, "ingested_at", json_text(r->ingested_at));
                json_object_set_new(o, "lag_s", r->has_lag ? json_integer(r->lag_s) : json_null());
                json_object_set_new(o, "justification", json_text(r->justification));
                json_object_set_new(o, "destroyed_at", json_text(r->destroyed_at));
                if (r->destroyed_at)
                        json_object_set_new(o, "destruction_request", json_integer(r->destruction_request));
                fputs(l->n ? ",\n  " : "\n  ", stdout);
                json_emit(stdout, o);
        } else if (l->fmt == OUT_CSV) {
                if (!l->n)
                        printf("id,device,device_path,size,device_mtime,sha256,copies_verified,copies,officer,officer_"
                               "source,"
                               "attribution_flag,recorded_start_utc,recorded_end_utc,time_source,media_flag,lag_s\r\n");
                printf("%" PRId64 ",", r->id);
                csv_cell(stdout, r->device);
                putchar(',');
                csv_cell(stdout, r->device_path);
                printf(",%" PRId64 ",", r->size);
                csv_cell(stdout, r->device_mtime);
                printf(",%s,%zu,", r->sha256 ? r->sha256 : "", r->n_copies);
                size_t cap = 16;
                for (size_t i = 0; i < r->n_copies; i++)
                        cap += strlen(r->copies[i].target) + strlen(r->copies[i].target_root) +
                               strlen(r->copies[i].path) + 4;
                _cleanup_free_ char *all = xmalloc(cap);
                size_t n = 0;
                all[0] = '\0';
                for (size_t i = 0; i < r->n_copies; i++)
                        n += (size_t)snprintf(all + n, cap - n, "%s%s=%s/%s", i ? ";" : "", r->copies[i].target,
                                              r->copies[i].target_root, r->copies[i].path);
                csv_cell(stdout, all);
                const char *more[] = { r->officer,          r->officer_source,
                                       r->attribution_flag, r->recorded_start_utc,
                                       r->recorded_end_utc, r->time_source,
                                       r->media_flag };
                for (size_t i = 0; i < ELEMENTSOF(more); i++) {
                        putchar(',');
                        csv_cell(stdout, more[i]);
                }
                if (r->has_lag)
                        printf(",%" PRId64, r->lag_s);
                else
                        putchar(',');
                printf("\r\n");
        } else {
                char b[32];
                format_bytes((double)r->size, b, sizeof(b));
                if (!l->n)
                        printf("%-6s %-14s %10s  %-12s %-6s %s\n", "ID", "DEVICE", "SIZE", "SHA256", "COPIES",
                               "PATH ON DEVICE");
                /* names come from devices and people: never raw control characters */
                char dev[256], path[2048], why[1024], cp[2048], off[256];
                printf("%-6" PRId64 " %-14s %10s  %-12.12s %zu/%-4d %s%s%s\n", r->id,
                       text_escape(r->device, dev, sizeof(dev)), b, r->sha256 ? r->sha256 : "(not yet)", r->n_copies,
                       l->copies, text_escape(r->device_path, path, sizeof(path)),
                       (int)r->n_copies < l->copies && r->last_failure ? "  ! " : "",
                       (int)r->n_copies < l->copies && r->last_failure ? text_escape(r->last_failure, why, sizeof(why))
                                                                       : "");
                for (size_t i = 0; i < r->n_copies; i++) {
                        _cleanup_free_ char *abs = xasprintf("%s/%s", r->copies[i].target_root, r->copies[i].path);
                        printf("         %s: %s (verified %s)\n", r->copies[i].target, text_escape(abs, cp, sizeof(cp)),
                               r->copies[i].verified_at);
                }
                if (r->officer)
                        text_escape(r->officer, off, sizeof(off));
                if (r->time_source)
                        printf("         recorded %s .. %s UTC (%s); officer %s%s%s%s%s%s\n",
                               r->recorded_start_utc ? r->recorded_start_utc : "?",
                               r->recorded_end_utc ? r->recorded_end_utc : "?", r->time_source,
                               r->officer ? off : "UNATTRIBUTED", r->officer_source ? " via " : "",
                               r->officer_source ? r->officer_source : "", r->attribution_flag ? "; FLAG " : "",
                               r->attribution_flag ? r->attribution_flag : "",
                               r->media_flag ? (strcmp(r->media_flag, "truncated") ? "; footage UNPLAYABLE"
                                                                                   : "; footage TRUNCATED")
                                             : "");
        }
        l->n++;
        return 0;
}

/* What the recorder said of itself when it docked; null when it said nothing. */
static json_t *session_report_json(const struct session_info *s)
{
        if (!s->reported_badge && !s->device_id_code && s->battery_pct < 0 && !s->clock_set_at && !s->device_info_error)
                return json_null();
        json_t *r = json_object();
        json_t *o = json_object();
        json_object_set_new(o, "badge", json_text(s->reported_badge));
        json_object_set_new(o, "name", json_text(s->reported_officer_name));
        json_object_set_new(o, "unit_no", json_text(s->reported_unit_no));
        json_object_set_new(o, "unit_name", json_text(s->reported_unit_name));
        json_object_set_new(r, "officer", o);
        json_object_set_new(r, "id_code", json_text(s->device_id_code));
        json_object_set_new(r, "battery_pct", s->battery_pct >= 0 ? json_integer(s->battery_pct) : json_null());
        json_object_set_new(r, "clock_set_at", json_text(s->clock_set_at));
        json_object_set_new(r, "clock_set_to", json_text(s->clock_set_to));
        json_object_set_new(r, "info_error", json_text(s->device_info_error));
        return r;
}

static int print_session(const struct session_info *s, void *ud)
{
        struct list_ctx *l = ud;
        if (l->fmt == OUT_JSON) {
                json_t *o = json_object();
                json_object_set_new(o, "id", json_integer(s->id));
                json_object_set_new(o, "device", json_text(s->device));
                json_object_set_new(o, "source", json_text(s->source));
                json_object_set_new(o, "fs_type", json_text(s->fs_type));
                json_object_set_new(o, "started_at", json_text(s->started_at));
                json_object_set_new(o, "ended_at", json_text(s->ended_at));
                json_object_set_new(o, "bay", json_text(s->bay));
                json_object_set_new(o, "undocked_at", json_text(s->undocked_at));
                json_object_set_new(o, "state", json_text(s->state));
                json_object_set_new(o, "wipe", json_text(s->wipe));
                json_object_set_new(o, "wiped_at", json_text(s->wiped_at));
                json_object_set_new(o, "files_seen", json_integer(s->files_seen));
                json_object_set_new(o, "files_copied", json_integer(s->files_copied));
                json_object_set_new(o, "files_already", json_integer(s->files_already));
                json_object_set_new(o, "files_under_copied", json_integer(s->files_under_copied));
                json_object_set_new(o, "bytes_copied", json_integer(s->bytes_copied));
                json_object_set_new(o, "deleted_entries", json_integer(s->deleted_entries));
                json_object_set_new(o, "error", json_text(s->error));
                json_object_set_new(o, "unread", json_text_lines(s->unread));
                json_object_set_new(o, "warnings", json_text_lines(s->warnings));
                json_object_set_new(o, "unaccounted_bytes", json_integer(s->unaccounted_bytes));
                json_object_set_new(o, "device_report", session_report_json(s));
                fputs(l->n ? ",\n  " : "\n  ", stdout);
                json_emit(stdout, o);
        } else if (l->fmt == OUT_CSV) {
                if (!l->n)
                        printf("id,device,state,started_at,ended_at,files_seen,files_copied,files_already,"
                               "files_under_copied,bytes_copied,deleted_entries,fs_type,source,error,bay,undocked_"
                               "at\r\n");
                printf("%" PRId64 ",", s->id);
                csv_cell(stdout, s->device);
                printf(",%s,%s,%s,%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",%" PRId64 ",", s->state,
                       s->started_at, s->ended_at ? s->ended_at : "", s->files_seen, s->files_copied, s->files_already,
                       s->files_under_copied, s->bytes_copied, s->deleted_entries);
                csv_cell(stdout, s->fs_type);
                putchar(',');
                csv_cell(stdout, s->source);
                putchar(',');
                csv_cell(stdout, s->error);
                putchar(',');
                csv_cell(stdout, s->bay);
                putchar(',');
                csv_cell(stdout, s->undocked_at);
                printf("\r\n");
        } else {
                if (!l->n)
                        printf("%-5s %-14s %-12s %-24s %6s %6s %6s %6s %7s  %s\n", "ID", "DEVICE", "STATE", "STARTED",
                               "FILES", "COPIED", "KNOWN", "UNDER", "DELETED", "ERROR");
                char dev[256], why[2048];
                printf("%-5" PRId64 " %-14s %-12s %-24s %6" PRId64 " %6" PRId64 " %6" PRId64 " %6" PRId64 " %7" PRId64
                       "  %s\n",
                       s->id, text_escape(s->device, dev, sizeof(dev)), s->state, s->started_at, s->files_seen,
                       s->files_copied, s->files_already, s->files_under_copied, s->deleted_entries,
                       text_escape(s->error, why, sizeof(why)));
                for (const char *p = s->unread; p && *p;) {
                        size_t n = strcspn(p, "\n");
                        _cleanup_free_ char *line = strndup(p, n);
                        printf("      unread: %s\n", text_escape(line, why, sizeof(why)));
                        p += n + (p[n] == '\n');
                }
        }
        l->n++;
        return 0;
}

static int print_deleted(const struct deleted_info *d, void *ud)
{
        struct list_ctx *l = ud;
        if (l->fmt == OUT_JSON) {
                json_t *o = json_object();
                json_object_set_new(o, "id", json_integer(d->id));
                json_object_set_new(o, "device", json_text(d->device));
                json_object_set_new(o, "session", json_integer(d->session_id));
                json_object_set_new(o, "device_path", json_text(d->device_path));
                json_object_set_new(o, "size", json_integer(d->size));
                json_object_set_new(o, "device_mtime", json_text(d->device_mtime));
                fputs(l->n ? ",\n  " : "\n  ", stdout);
                json_emit(stdout, o);
        } else if (l->fmt == OUT_CSV) {
                if (!l->n)
                        printf("id,device,session,device_path,size,device_mtime\r\n");
                printf("%" PRId64 ",", d->id);
                csv_cell(stdout, d->device);
                printf(",%" PRId64 ",", d->session_id);
                csv_cell(stdout, d->device_path);
                printf(",%" PRId64 ",%s\r\n", d->size, d->device_mtime);
        } else {
                if (!l->n)
                        printf("%-5s %-14s %-7s %12s %-20s %s\n", "ID", "DEVICE", "SESSION", "SIZE", "DEVICE MTIME",
                               "PATH ON DEVICE");
                char dev[256], path[2048];
                printf("%-5" PRId64 " %-14s %-7" PRId64 " %12" PRId64 " %-20s %s\n", d->id,
                       text_escape(d->device, dev, sizeof(dev)), d->session_id, d->size, d->device_mtime,
                       text_escape(d->device_path, path, sizeof(path)));
        }
        l->n++;
        return 0;
}

int cmd_list(struct ctx *c, int argc, char **argv)
{
        const char *what = argv[0];
        static const struct option opts[] = {
                { "device", required_argument, NULL, 'd' }, { "officer", required_argument, NULL, 'o' },
                { "from", required_argument, NULL, 'f' },   { "to", required_argument, NULL, 't' },
                { "flag", required_argument, NULL, 'F' },   { "session", required_argument, NULL, 's' },
                { "json", no_argument, NULL, 'j' },         { "csv", no_argument, NULL, 'C' },
                { "help", no_argument, NULL, 'h' },         {}
        };
        struct list_ctx l = { .fmt = OUT_TEXT, .copies = c->cfg.copies };
        const char *serial = NULL;
        struct recording_filter flt = { .late_s = (int64_t)c->cfg.late_h * 3600 };
        char period[2][32];
        bool filtered = false, deleted_flag = false;
        int ch, k;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if ((k = period_opt(ch, period, &flt.from, &flt.to)) != 0) {
                        if (k < 0)
                                return EXIT_USAGE;
                        filtered = true;
                        continue;
                }
                switch (ch) {
                case 'd': serial = optarg; break;
                case 'o':
                        flt.officer = optarg;
                        filtered = true;
                        break;
                case 's':
                        flt.session = strtoll(optarg, NULL, 10);
                        filtered = true;
                        break;
                case 'F': {
                        static const struct {
                                const char *name;
                                unsigned bit;
                        } flags[] = {
                                { "late", REC_LATE },         { "unattributed", REC_UNATTRIBUTED },
                                { "conflict", REC_CONFLICT }, { "truncated", REC_TRUNCATED },
                                { "deleted-on-device", 0 },
                        };
                        size_t i = 0;
                        while (i < ELEMENTSOF(flags) && strcmp(optarg, flags[i].name) != 0)
                                i++;
                        if (i == ELEMENTSOF(flags)) {
                                fprintf(stderr,
                                        "dockctl: --flag '%s' is not one of: late, unattributed, conflict, "
                                        "truncated, deleted-on-device\n",
                                        optarg);
                                return EXIT_USAGE;
                        }
                        flt.flags |= flags[i].bit;
                        deleted_flag |= flags[i].bit == 0;
                        filtered = true;
                        break;
                }
                case 'j': parse_format("json", &l.fmt); break;
                case 'C': parse_format("csv", &l.fmt); break;
                default: return EXIT_USAGE;
                }
        }
        if (optind != argc) {
                fprintf(stderr, "dockctl %s: unexpected argument '%s'\n", what, argv[optind]);
                return EXIT_USAGE;
        }
        if (filtered && strcmp(what, "recordings") != 0) {
                fprintf(stderr, "dockctl %s: only --device (and --json/--csv) apply here\n", what);
                return EXIT_USAGE;
        }
        if (deleted_flag && flt.flags) {
                fprintf(stderr,
                        "dockctl: --flag deleted-on-device lists deleted entries; it combines with no other flag\n");
                return EXIT_USAGE;
        }
        if (open_catalog(c) < 0)
                return 1;
        if (l.fmt == OUT_JSON)
                printf("[");
        int r;
        flt.serial = serial;
        if (l.fmt != OUT_TEXT)
                audit_export(c, what, serial ? serial : flt.officer);
        if (deleted_flag) /* deleted on the device before docking: never ingested */
                r = catalog_deleted_foreach(c->cat, serial, flt.session, print_deleted, &l);
        else if (strcmp(what, "recordings") == 0)
                r = catalog_recordings_query(c->cat, &flt, print_recording, &l);
        else if (strcmp(what, "sessions") == 0)
                r = catalog_sessions_foreach(c->cat, serial, 0, print_session, &l);
        else
                r = catalog_deleted_foreach(c->cat, serial, 0, print_deleted, &l);
        if (l.fmt == OUT_JSON)
                printf("%s]\n", l.n ? "\n" : "");
        else if (l.fmt == OUT_TEXT && l.n == 0)
                printf("no %s%s%s\n", what, serial ? " for device " : "", serial ? serial : "");
        if (r < 0) {
                log_error("catalog: %s", catalog_errmsg(c->cat));
                return 1;
        }
        return 0;
}

static int print_manifest(const struct manifest_info *m, void *ud)
{
        struct list_ctx *l = ud;
        if (l->fmt == OUT_JSON) {
                printf("%s\n  {\"station\":", l->n ? "," : "");
                json_str(stdout, m->station);
                printf(",\"seq\":%lld,\"session\":%lld,\"sha256\":", (long long)m->seq, (long long)m->session_id);
                json_str(stdout, m->sha256);
                json_kv(stdout, ",\"prev_sha256\":", m->prev_sha256);
                json_kv(stdout, ",\"created_at\":", m->created_at);
                json_kv(stdout, ",\"deadline\":", m->deadline);
                json_kv(stdout, ",\"delivered_at\":", m->delivered_at);
                printf(",\"attempts\":%lld}", (long long)m->attempts);
        } else {
                if (!l->n)
                        printf("%-12s %5s %7s  %-16s %-24s %-24s %s\n", "STATION", "SEQ", "SESSION", "SHA256",
                               "CREATED", "DEADLINE", "DELIVERED");
                printf("%-12s %5lld %7lld  %-16.16s %-24s %-24s %s\n", m->station, (long long)m->seq,
                       (long long)m->session_id, m->sha256, m->created_at, m->deadline,
                       m->delivered_at ? m->delivered_at : "not yet (issue #5)");
        }
        l->n++;
        return 0;
}

int cmd_manifests(struct ctx *c, int argc, char **argv)
{
        struct list_ctx l = { .fmt = argc > 1 && strcmp(argv[1], "--json") == 0 ? OUT_JSON : OUT_TEXT };
        if (argc > 2 || (argc == 2 && l.fmt != OUT_JSON)) {
                fprintf(stderr, "usage: dockctl manifests [--json]\n");
                return EXIT_USAGE;
        }
        if (open_catalog(c) < 0)
                return 1;
        if (l.fmt == OUT_JSON)
                printf("[");
        int r = catalog_manifests_foreach(c->cat, print_manifest, &l);
        if (l.fmt == OUT_JSON)
                printf("%s]\n", l.n ? "\n" : "");
        else if (!l.n)
                printf("no manifests\n");
        return r < 0 ? 1 : 0;
}

int cmd_manifest(struct ctx *c, int argc, char **argv)
{
        if (argc < 3 || strcmp(argv[1], "show") != 0 || argc > 4 ||
            (argc == 4 && strcmp(argv[3], "--signature") != 0)) {
                fprintf(stderr, "usage: dockctl manifest show SESSION [--signature]\n");
                return EXIT_USAGE;
        }
        char *end;
        long long sid = strtoll(argv[2], &end, 10);
        if (*end || sid <= 0) {
                fprintf(stderr, "dockctl manifest show: '%s' is not a session number\n", argv[2]);
                return EXIT_USAGE;
        }
        if (open_catalog(c) < 0)
                return 1;
        void *body = NULL, *sig = NULL;
        size_t len = 0, sig_len = 0;
        int r = catalog_manifest_get(c->cat, sid, &body, &len, &sig, &sig_len);
        if (r < 0) {
                log_error("session %lld has no manifest%s", sid, r == -ENOENT ? "" : ": catalog error");
                return 1;
        }
        if (argc == 4)
                fwrite(sig, 1, sig_len, stdout);
        else
                fwrite(body, 1, len, stdout);
        free(body);
        free(sig);
        return 0;
}

int cmd_key(struct ctx *c, int argc, char **argv)
{
        if (argc != 2 || strcmp(argv[1], "show") != 0) {
                fprintf(stderr, "usage: dockctl key show\n");
                return EXIT_USAGE;
        }
        char err[256];
        if (mkdir_p(c->cfg.state_dir, 0750) < 0 || manifest_key_ensure(&c->cfg, err, sizeof(err)) < 0) {
                log_error("%s", err);
                return 1;
        }
        _cleanup_free_ char *key = NULL, *pub = NULL;
        manifest_key_path(&c->cfg, &key, &pub);
        _cleanup_fclose_ FILE *f = fopen(pub, "re");
        if (!f) {
                log_error("%s: %m", pub);
                return 1;
        }
        char buf[512];
        size_t n;
        while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
                fwrite(buf, 1, n, stdout);
        return 0;
}

/* `archive audit`: one row per station; exit 3 when anything is wrong. */
static int archive_audit(struct ctx *c, int argc, char **argv)
{
        const char *url = NULL;
        bool json = false;
        for (int i = 2; i < argc; i++) {
                if (strcmp(argv[i], "--json") == 0)
                        json = true;
                else if (!url && strncmp(argv[i], "s3://", 5) == 0)
                        url = argv[i];
                else {
                        fprintf(stderr, "usage: dockctl archive audit [s3://BUCKET/PREFIX] [--json]\n");
                        return EXIT_USAGE;
                }
        }
        struct archive_audit a;
        char err[600];
        if (archive_audit_run(&c->cfg, url, &a, err, sizeof(err)) < 0) {
                log_error("archive audit: %s", err);
                return 1;
        }
        static const struct column cols[] = {
                { "station", 12 }, { "manifests", 9 },        { "first", 5 },           { "last", 5 },
                { "gaps", 4 },     { "broken_links", 12 },    { "bad_signatures", 14 }, { "unreadable", 10 },
                { "objects", 7 },  { "missing_objects", 15 }, { "key_sha256", 16 },     { "first_at", 24 },
                { "last_at", 24 }, { "problems", 0 }
        };
        struct table t = { .fmt = json ? OUT_JSON : OUT_TEXT, .cols = cols, .n_cols = ELEMENTSOF(cols), .f = stdout };
        table_begin(&t);
        for (size_t i = 0; i < a.n; i++) {
                const struct station_audit *s = &a.st[i];
                table_row(&t,
                          (struct cell[]){ CELL_S(s->station), CELL_I(s->manifests), CELL_I(s->first_seq),
                                           CELL_I(s->last_seq), CELL_I(s->gaps), CELL_I(s->broken_links),
                                           CELL_I(s->bad_signatures), CELL_I(s->unreadable), CELL_I(s->objects),
                                           CELL_I(s->missing_objects), CELL_S(s->key_sha256[0] ? s->key_sha256 : NULL),
                                           CELL_S(s->first_at[0] ? s->first_at : NULL),
                                           CELL_S(s->last_at[0] ? s->last_at : NULL),
                                           CELL_S(s->detail[0] ? s->detail : NULL) });
        }
        table_end(&t);
        int rc = archive_audit_clean(&a) ? 0 : EXIT_INCOMPLETE;
        archive_audit_free(&a);
        return rc;
}

int cmd_archive(struct ctx *c, int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "audit") == 0)
                return archive_audit(c, argc, argv);
        bool json = argc == 3 && strcmp(argv[2], "--json") == 0;
        if (argc < 2 || (strcmp(argv[1], "status") != 0 && strcmp(argv[1], "retry") != 0) || (argc == 3 && !json) ||
            argc > 3) {
                fprintf(stderr, "usage: dockctl archive status [--json] | dockctl archive retry\n");
                return EXIT_USAGE;
        }
        if (open_catalog(c) < 0)
                return 1;
        if (strcmp(argv[1], "retry") == 0) {
                char err[512];
                if (catalog_outbox_retry_now(c->cat) < 0)
                        return 1;
                int n = forward_due(&c->cfg, c->cat, err, sizeof(err));
                if (n < 0) {
                        log_error("%s", err);
                        return 1;
                }
                printf("delivered %d manifest(s)%s%s\n", n, err[0] ? "; still failing: " : "", err);
                return err[0] ? EXIT_INCOMPLETE : 0;
        }
        struct archive_view v;
        struct alarm_list al = { .n = 0 };
        if (archive_view_get(&c->cfg, c->cat, &v) < 0 || alarms_collect(&c->cfg, c->cat, &al) < 0)
                return 1;
        const struct outbox_status *st = &v.o;
        bool queued = st->queued > 0;
        if (json) {
                json_kv(stdout, "{\"archive\":", c->cfg.archive_url);
                printf(",\"queued\":%lld,\"delivered\":%lld,\"rejected\":%lld,\"overdue\":%lld,\"deadline_near\":%lld,"
                       "\"deadline_h\":%u,\"warn_margin_h\":%u,\"oldest_undelivered_created_at\":",
                       (long long)st->queued, (long long)st->delivered, (long long)st->rejected, (long long)st->overdue,
                       (long long)st->near, c->cfg.archive_deadline_h, c->cfg.archive_warn_margin_h);
                json_str(stdout, queued ? st->oldest_created : NULL);
                if (queued)
                        printf(",\"oldest_undelivered_age_s\":%lld,\"next_deadline_in_s\":%lld",
                               (long long)v.oldest_age_s, (long long)v.next_deadline_in_s);
                else
                        printf(",\"oldest_undelivered_age_s\":null,\"next_deadline_in_s\":null");
                json_kv(stdout, ",\"next_deadline\":", queued ? st->next_deadline : NULL);
                json_kv(stdout, ",\"last_error\":", st->last_error[0] ? st->last_error : NULL);
                fputs(",\"alarms\":", stdout);
                alarms_json(&al, stdout);
                printf("}\n");
                return 0;
        }
        printf("archive:       %s\nqueued:        %lld\n", c->cfg.archive_url, (long long)st->queued);
        if (queued) {
                printf("oldest:        created %s, %lldh%02lldm ago\n", st->oldest_created,
                       (long long)(v.oldest_age_s / 3600), (long long)(v.oldest_age_s % 3600 / 60));
                int64_t in = v.next_deadline_in_s, a = in < 0 ? -in : in;
                printf("next deadline: %s (%s%lldh%02lldm%s)\n", st->next_deadline, in < 0 ? "overdue by " : "in ",
                       (long long)(a / 3600), (long long)(a % 3600 / 60), "");
        }
        printf("delivered:     %lld\nrejected:      %lld\nlast error:    %s\n", (long long)st->delivered,
               (long long)st->rejected, st->last_error[0] ? st->last_error : "-");
        alarms_text(&al, stdout);
        return 0;
}

static const struct column AUDIT_COLS[] = {
        { "id", 5 }, { "at", 24 }, { "who", 10 }, { "role", 9 }, { "action", 14 }, { "object", 22 }, { "why", 0 },
};

static int audit_row(const struct audit_row *a, void *ud)
{
        table_row(ud, (struct cell[]){ CELL_I(a->id), CELL_S(a->at), CELL_S(a->who), CELL_S(a->role), CELL_S(a->action),
                                       CELL_S(a->object), CELL_S(a->why) });
        return 0;
}

int cmd_audit(struct ctx *c, int argc, char **argv)
{
        if (argc == 2 && strcmp(argv[1], "verify") == 0) {
                int64_t n = 0;
                char err[512];
                if (open_catalog(c) < 0)
                        return 1;
                int r = audit_verify(c->cat, &n, err, sizeof(err));
                if (r == -EBADMSG) {
                        printf("audit chain BROKEN after %lld good row(s): %s\n", (long long)n, err);
                        return 1;
                }
                if (r < 0) {
                        log_error("catalog: %s", catalog_errmsg(c->cat));
                        return 1;
                }
                int64_t id;
                char head[65];
                audit_head(c->cat, &id, head);
                printf("audit chain intact: %lld row(s), head %lld %s\n", (long long)n, (long long)id,
                       head[0] ? head : "-");
                return 0;
        }
        static const struct option opts[] = { { "who", required_argument, NULL, 'w' },
                                              { "action", required_argument, NULL, 'a' },
                                              { "from", required_argument, NULL, 'f' },
                                              { "to", required_argument, NULL, 't' },
                                              { "json", no_argument, NULL, 'j' },
                                              { "csv", no_argument, NULL, 'C' },
                                              {} };
        struct audit_filter f = { 0 };
        char period[2][32];
        enum out_format fmt = OUT_TEXT;
        int ch, k;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if ((k = period_opt(ch, period, &f.from, &f.to)) != 0) {
                        if (k < 0)
                                return EXIT_USAGE;
                        continue;
                }
                switch (ch) {
                case 'w': f.who = optarg; break;
                case 'a': f.action = optarg; break;
                case 'j': fmt = OUT_JSON; break;
                case 'C': fmt = OUT_CSV; break;
                default: return EXIT_USAGE;
                }
        }
        if (optind != argc) {
                fprintf(stderr, "usage: dockctl audit [--who U] [--action A] [--from T] [--to T] [--json|--csv] | "
                                "audit verify\n");
                return EXIT_USAGE;
        }
        if (open_catalog(c) < 0)
                return 1;
        if (fmt != OUT_TEXT)
                audit_export(c, "audit", f.who ? f.who : f.action);
        struct table t = { .fmt = fmt, .cols = AUDIT_COLS, .n_cols = ELEMENTSOF(AUDIT_COLS), .f = stdout };
        table_begin(&t);
        int r = catalog_audit_foreach(c->cat, &f, audit_row, &t);
        table_end(&t);
        return r < 0 ? 1 : 0;
}

int cmd_alarms(struct ctx *c, int argc, char **argv)
{
        bool json = argc == 2 && strcmp(argv[1], "--json") == 0;
        if (argc > 2 || (argc == 2 && !json)) {
                fprintf(stderr, "usage: dockctl alarms [--json]\n");
                return EXIT_USAGE;
        }
        struct alarm_list al;
        if (open_catalog(c) < 0 || alarms_collect(&c->cfg, c->cat, &al) < 0)
                return 1;
        if (json) {
                alarms_json(&al, stdout);
                putchar('\n');
        } else if (al.n)
                alarms_text(&al, stdout);
        else
                printf("no alarms\n");
        return al.n ? EXIT_ALARM : 0; /* a monitor's check: non-zero while anything needs a person */
}
