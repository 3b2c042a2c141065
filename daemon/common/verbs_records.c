/* verbs_records.c — the verbs of recordings: ingest of an image or device,
 * the listings (recordings, sessions, deleted entries), alarms, and a new
 * catalog on purpose. The signed record (manifests, key, archive, audit
 * chain) is verbs_archive.c. */
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
#include "media.h"
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
        /* One session in this process: the probe's fork server loads its
         * libraries while the first file copies, not after it. (dockd's bays
         * start it at their first probe, outside the docking burst.) */
        media_prestart();
        o.probe_behind = true;
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

/* A recording's media flag, for the text listing. */
static const char *media_flag_text(const char *flag)
{
        if (!flag)
                return "";
        if (strcmp(flag, "truncated") == 0)
                return "; footage TRUNCATED";
        if (strcmp(flag, "unverified") == 0)
                return "; footage facts UNVERIFIED";
        return "; footage UNPLAYABLE";
}

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
                               r->attribution_flag ? r->attribution_flag : "", media_flag_text(r->media_flag));
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
