/* dockctl_ledger.c — the custodian's commands: officers, devices,
 * assignments (check-out / check-in), compliance with the 24-hour rule,
 * justifications and re-attributions. Every change names who made it. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv.h"
#include "verbs.h"
#include "log.h"
#include "util.h"

/* Options shared by the listings: --json, --csv. Returns 0, or EXIT_USAGE. */
static int format_opt(int ch, enum out_format *fmt)
{
        if (ch == 'j')
                return parse_format("json", fmt), 0;
        if (ch == 'C')
                return parse_format("csv", fmt), 0;
        return EXIT_USAGE;
}

static int fail_catalog(struct ctx *c, const char *err)
{
        if (!c->cat)
                return 1; /* open_catalog said why */
        log_error("%s", err && err[0] ? err : catalog_errmsg(c->cat));
        return 1;
}

/* ---- officers ---- */

static const struct column OFFICER_COLS[] = {
        { "badge", 10 }, { "name", 24 }, { "unit", 14 }, { "devices_now", 16 }, { "created_at", 0 },
};

static int officer_row(const struct officer_info *o, void *ud)
{
        table_row(ud, (struct cell[]){ CELL_S(o->badge), CELL_S(o->name), CELL_S(o->unit), CELL_S(o->devices_now),
                                       CELL_S(o->created_at) });
        return 0;
}

static bool valid_badge(const char *s)
{
        size_t n = strlen(s);
        if (n == 0 || n > 32)
                return false;
        for (const char *p = s; *p; p++)
                if (!((*p >= '0' && *p <= '9') || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '-'))
                        return false;
        return true;
}

/* One officer and its audit row, in one transaction. */
static int add_officer(struct ctx *c, const char *badge, const char *name, const char *unit, char *err, size_t err_size)
{
        int r = catalog_begin(c->cat);
        if (r >= 0)
                r = catalog_officer_add(c->cat, badge, name, unit, c->caller, err, err_size);
        _cleanup_free_ char *object = xasprintf("officer %s", badge);
        return audited(c, r, "officer.add", object, name);
}

static int officers_import(struct ctx *c, const char *path)
{
        const struct verb_input *in = verb_input(c, path);
        int fd = in ? fcntl(in->fds[0], F_DUPFD_CLOEXEC, 3) : open(path, O_RDONLY | O_CLOEXEC);
        FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
        if (!f) {
                if (fd >= 0)
                        close(fd);
                log_error("%s: cannot open: %m", path);
                return 1;
        }
        struct csv_record rec;
        char err[512];
        int line = 0, added = 0, bad = 0, r;
        bool header = true;
        while ((r = csv_read(f, &line, &rec, err, sizeof(err))) != 0) {
                if (r < 0) {
                        fprintf(stderr, "%s: %s\n", path, err);
                        bad++;
                        continue;
                }
                if (header) { /* badge,name[,unit] */
                        header = false;
                        if (rec.n < 2 || strcmp(rec.field[0], "badge") != 0 || strcmp(rec.field[1], "name") != 0 ||
                            (rec.n > 2 && strcmp(rec.field[2], "unit") != 0)) {
                                fprintf(stderr, "%s: line %d: the header must be: badge,name,unit\n", path, rec.line);
                                csv_record_free(&rec);
                                fclose(f);
                                return 1;
                        }
                        csv_record_free(&rec);
                        continue;
                }
                if (rec.n == 1 && !rec.field[0][0]) {
                        csv_record_free(&rec);
                        continue; /* a blank line */
                }
                if (rec.n < 2 || rec.n > 3) {
                        fprintf(stderr, "%s: line %d: expected 2 or 3 fields (badge,name,unit), found %zu\n", path,
                                rec.line, rec.n);
                        bad++;
                } else if (!valid_badge(rec.field[0])) {
                        fprintf(stderr, "%s: line %d: officer badge '%s' must be 1-32 of A-Z a-z 0-9 -\n", path,
                                rec.line, rec.field[0]);
                        bad++;
                } else if (!rec.field[1][0]) {
                        fprintf(stderr, "%s: line %d: officer %s has no name\n", path, rec.line, rec.field[0]);
                        bad++;
                } else if (add_officer(c, rec.field[0], rec.field[1], rec.n > 2 ? rec.field[2] : NULL, err,
                                       sizeof(err)) < 0) {
                        fprintf(stderr, "%s: line %d: %s\n", path, rec.line, err);
                        bad++;
                } else
                        added++;
                csv_record_free(&rec);
        }
        fclose(f);
        printf("%d officer(s) added, %d row(s) refused\n", added, bad);
        return bad ? 1 : 0;
}

int cmd_officers(struct ctx *c, int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "add") == 0) {
                static const struct option opts[] = { { "name", required_argument, NULL, 'n' },
                                                      { "unit", required_argument, NULL, 'u' },
                                                      {} };
                const char *name = NULL, *unit = NULL;
                int ch;
                argc--, argv++; /* parse from "add" on */
                while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
                        switch (ch) {
                        case 'n': name = optarg; break;
                        case 'u': unit = optarg; break;
                        default: return EXIT_USAGE;
                        }
                if (optind + 1 != argc || !name || !name[0]) {
                        fprintf(stderr, "usage: dockctl officers add BADGE --name NAME [--unit UNIT]\n");
                        return EXIT_USAGE;
                }
                if (!valid_badge(argv[optind])) {
                        fprintf(stderr, "dockctl: officer badge '%s' must be 1-32 of A-Z a-z 0-9 -\n", argv[optind]);
                        return EXIT_USAGE;
                }
                char err[512] = "";
                if (require_role(c, "officers add"))
                        return EXIT_DENIED;
                if (open_catalog(c) < 0)
                        return 1;
                if (add_officer(c, argv[optind], name, unit, err, sizeof(err)) < 0)
                        return fail_catalog(c, err);
                printf("officer %s (%s) added\n", argv[optind], name);
                return 0;
        }
        if (argc >= 2 && strcmp(argv[1], "import") == 0) {
                if (argc != 3) {
                        fprintf(stderr, "usage: dockctl officers import FILE.csv   (header: badge,name,unit)\n");
                        return EXIT_USAGE;
                }
                if (require_role(c, "officers import"))
                        return EXIT_DENIED;
                return open_catalog(c) < 0 ? 1 : officers_import(c, argv[2]);
        }
        static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
                                              { "csv", no_argument, NULL, 'C' },
                                              {} };
        enum out_format fmt = OUT_TEXT;
        int ch;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
                if (format_opt(ch, &fmt))
                        return EXIT_USAGE;
        if (optind != argc) {
                fprintf(stderr, "usage: dockctl officers [--json|--csv] | officers add BADGE --name N [--unit U] | "
                                "officers import FILE.csv\n");
                return EXIT_USAGE;
        }
        if (open_catalog(c) < 0)
                return 1;
        if (fmt != OUT_TEXT)
                audit_export(c, "officers", NULL);
        struct table t = { .fmt = fmt, .cols = OFFICER_COLS, .n_cols = ELEMENTSOF(OFFICER_COLS), .f = stdout };
        table_begin(&t);
        int r = catalog_officers_foreach(c->cat, officer_row, &t);
        table_end(&t);
        return r < 0 ? fail_catalog(c, NULL) : 0;
}

/* ---- devices ---- */

static const struct column DEVICE_COLS[] = {
        { "serial", 16 },      { "model", 14 },         { "status", 10 },
        { "officer_now", 11 }, { "last_docked", 24 },   { "clock_offset_s", 14 },
        { "recordings", 10 },  { "identity_flag", 14 }, { "notes", 0 },
};

static int device_row(const struct device_info *d, void *ud)
{
        table_row(ud,
                  (struct cell[]){ CELL_S(d->serial), CELL_S(d->model), CELL_S(d->status), CELL_S(d->officer_now),
                                   CELL_S(d->last_docked), d->has_clock_offset ? CELL_I(d->clock_offset_s) : CELL_NONE,
                                   CELL_I(d->recordings), CELL_S(d->identity_flag), CELL_S(d->notes) });
        return 0;
}

static int devices_add(struct ctx *c, int argc, char **argv)
{
        static const struct option opts[] = { { "model", required_argument, NULL, 'm' },
                                              { "notes", required_argument, NULL, 'n' },
                                              {} };
        const char *model = NULL, *notes = NULL;
        int ch;
        argc--, argv++; /* parse from "add" on */
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
                switch (ch) {
                case 'm': model = optarg; break;
                case 'n': notes = optarg; break;
                default: return EXIT_USAGE;
                }
        if (optind + 1 != argc || !valid_badge(argv[optind])) {
                fprintf(stderr, "usage: dockctl devices add SERIAL [--model M] [--notes TEXT]   "
                                "(serial: 1-32 of A-Z a-z 0-9 -)\n");
                return EXIT_USAGE;
        }
        char err[512] = "";
        if (require_role(c, "devices add"))
                return EXIT_DENIED;
        if (change_begin(c) < 0)
                return fail_catalog(c, NULL);
        _cleanup_free_ char *object = xasprintf("device %s", argv[optind]);
        if (audited(c, catalog_device_add(c->cat, argv[optind], model, notes, err, sizeof(err)), "device.add", object,
                    model) < 0)
                return fail_catalog(c, err);
        printf("device %s registered\n", argv[optind]);
        return 0;
}

int cmd_devices(struct ctx *c, int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "add") == 0)
                return devices_add(c, argc, argv);
        static const struct option opts[] = { { "json", no_argument, NULL, 'j' },
                                              { "csv", no_argument, NULL, 'C' },
                                              {} };
        enum out_format fmt = OUT_TEXT;
        int ch;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
                if (format_opt(ch, &fmt))
                        return EXIT_USAGE;
        if (optind != argc) {
                fprintf(stderr, "usage: dockctl devices [--json|--csv]\n");
                return EXIT_USAGE;
        }
        if (open_catalog(c) < 0)
                return 1;
        if (fmt != OUT_TEXT)
                audit_export(c, "devices", NULL);
        struct table t = { .fmt = fmt, .cols = DEVICE_COLS, .n_cols = ELEMENTSOF(DEVICE_COLS), .f = stdout };
        table_begin(&t);
        int r = catalog_devices_foreach(c->cat, NULL, device_row, &t);
        table_end(&t);
        return r < 0 ? fail_catalog(c, NULL) : 0;
}

static const struct column ASSIGN_COLS[] = {
        { "serial", 16 }, { "badge", 10 }, { "name", 22 }, { "start_at", 24 }, { "end_at", 24 }, { "created_by", 0 },
};

static int assignment_row(const struct assignment_info *a, void *ud)
{
        table_row(ud, (struct cell[]){ CELL_S(a->serial), CELL_S(a->badge), CELL_S(a->name), CELL_S(a->start_at),
                                       CELL_S(a->end_at), CELL_S(a->created_by) });
        return 0;
}

static const struct column DOCK_COLS[] = {
        { "session", 7 },       { "docked_at", 24 },       { "state", 11 },
        { "bay", 20 },          { "clock_offset_s", 14 },  { "files_seen", 10 },
        { "files_copied", 12 }, { "deleted_entries", 15 }, { "seq_gaps", 0 },
};

struct gap_text {
        int64_t session;
        char text[200];
};
struct dock_rows {
        struct table *t;
        struct gap_text *gaps;
        size_t n_gaps;
};

static int collect_gaps(int64_t session_id, const int64_t *gaps, size_t n_total, void *ud)
{
        struct dock_rows *d = ud;
        struct gap_text *g = realloc(d->gaps, (d->n_gaps + 1) * sizeof(*g));
        if (!g)
                return -ENOMEM;
        d->gaps = g;
        g = &d->gaps[d->n_gaps++];
        g->session = session_id;
        size_t k = 0, shown = n_total < CATALOG_GAPS_SHOWN ? n_total : CATALOG_GAPS_SHOWN;
        g->text[0] = '\0';
        for (size_t i = 0; i < shown; i++)
                k += (size_t)snprintf(g->text + k, sizeof(g->text) - k, "%s%lld", i ? " " : "", (long long)gaps[i]);
        if (n_total > shown)
                snprintf(g->text + k, sizeof(g->text) - k, " (+%zu more)", n_total - shown);
        return 0;
}

static int dock_row(const struct session_info *s, void *ud)
{
        struct dock_rows *d = ud;
        const char *gaps = NULL;
        for (size_t i = 0; i < d->n_gaps && !gaps; i++)
                if (d->gaps[i].session == s->id)
                        gaps = d->gaps[i].text;
        table_row(d->t, (struct cell[]){ CELL_I(s->id), CELL_S(s->started_at), CELL_S(s->state), CELL_S(s->bay),
                                         s->has_clock_offset ? CELL_I(s->clock_offset_s) : CELL_NONE,
                                         CELL_I(s->files_seen), CELL_I(s->files_copied), CELL_I(s->deleted_entries),
                                         gaps ? (struct cell){ .kind = CELL_TEXT, .s = gaps } : CELL_NONE });
        return 0;
}

int cmd_device(struct ctx *c, int argc, char **argv)
{
        static const struct option opts[] = { { "status", required_argument, NULL, 's' },
                                              { "notes", required_argument, NULL, 'n' },
                                              { "json", no_argument, NULL, 'j' },
                                              {} };
        const char *status = NULL, *notes = NULL;
        enum out_format fmt = OUT_TEXT;
        int ch;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
                switch (ch) {
                case 's': status = optarg; break;
                case 'n': notes = optarg; break;
                case 'j': fmt = OUT_JSON; break;
                default: return EXIT_USAGE;
                }
        if (optind + 1 != argc) {
                fprintf(stderr,
                        "usage: dockctl device SERIAL [--json]   (history)\n"
                        "       dockctl device SERIAL [--status in-service|repair|lost|retired] [--notes TEXT]\n");
                return EXIT_USAGE;
        }
        const char *serial = argv[optind];
        if (open_catalog(c) < 0)
                return 1;
        char err[512] = "";
        if (status || notes) {
                char st[32];
                if (status)
                        snprintf(st, sizeof(st), "%s", status);
                if (require_role(c, "device --status"))
                        return EXIT_DENIED;
                if (catalog_begin(c->cat) < 0)
                        return fail_catalog(c, NULL);
                _cleanup_free_ char *object = xasprintf("device %s", serial);
                _cleanup_free_ char *what =
                        xasprintf("%s%s%s%s", status ? "status " : "", status ? st : "",
                                  notes ? (status ? "; notes " : "notes ") : "", notes ? notes : "");
                if (audited(c, catalog_device_update(c->cat, serial, status ? st : NULL, notes, err, sizeof(err)),
                            "device.update", object, what) < 0)
                        return fail_catalog(c, err);
                printf("%s updated\n", serial);
                return 0;
        }
        int n = 0;
        struct table t = { .fmt = fmt, .cols = DEVICE_COLS, .n_cols = ELEMENTSOF(DEVICE_COLS), .f = stdout };
        if (fmt == OUT_JSON)
                fputs("{\"device\":", stdout);
        table_begin(&t);
        int r = catalog_devices_foreach(c->cat, serial, device_row, &t);
        n = (int)t.rows;
        table_end(&t);
        if (r < 0)
                return fail_catalog(c, NULL);
        if (!n) {
                if (fmt == OUT_JSON)
                        fputs("}\n", stdout);
                log_error("no device with serial '%s'", serial);
                return 1;
        }
        fputs(fmt == OUT_JSON ? ",\"assignments\":" : "\nassignments:\n", stdout);
        struct table a = { .fmt = fmt, .cols = ASSIGN_COLS, .n_cols = ELEMENTSOF(ASSIGN_COLS), .f = stdout };
        table_begin(&a);
        r = catalog_assignments_foreach(c->cat, serial, NULL, assignment_row, &a);
        table_end(&a);
        fputs(fmt == OUT_JSON ? ",\"docks\":" : "\ndocks:\n", stdout);
        struct table d = { .fmt = fmt, .cols = DOCK_COLS, .n_cols = ELEMENTSOF(DOCK_COLS), .f = stdout };
        struct dock_rows dr = { .t = &d };
        table_begin(&d);
        if (r >= 0)
                r = catalog_device_seq_gaps(c->cat, serial, collect_gaps, &dr);
        if (r >= 0)
                r = catalog_sessions_foreach(c->cat, serial, 0, dock_row, &dr);
        table_end(&d);
        free(dr.gaps);
        if (fmt == OUT_JSON)
                fputs("}\n", stdout);
        return r < 0 ? fail_catalog(c, NULL) : 0;
}

/* ---- assignments ---- */

static int at_option(int argc, char **argv, const char *usage_text, char at[32])
{
        static const struct option opts[] = { { "at", required_argument, NULL, 'a' }, {} };
        const char *when = NULL;
        int ch;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (ch != 'a') {
                        fprintf(stderr, "%s", usage_text);
                        return EXIT_USAGE;
                }
                when = optarg;
        }
        if (!when) {
                time_iso(clock_now(), at, 32);
                return 0;
        }
        return parse_when("--at", when, at) < 0 ? EXIT_USAGE : 0;
}

/* What check-out and check-in share: [--at TIME], nargs operands, the
 * custodian's role, a change begun. 0 to go on, else the exit code. */
static int assignment_change(struct ctx *c, int argc, char **argv, const char *usage_text, int nargs,
                             const char *action, char at[32])
{
        int r = at_option(argc, argv, usage_text, at);
        if (r)
                return r;
        if (optind + nargs != argc) {
                fputs(usage_text, stderr);
                return EXIT_USAGE;
        }
        if (require_role(c, action))
                return EXIT_DENIED;
        if (change_begin(c) < 0)
                return fail_catalog(c, NULL);
        return 0;
}

int cmd_assign(struct ctx *c, int argc, char **argv)
{
        char at[32], err[512] = "";
        int r = assignment_change(c, argc, argv, "usage: dockctl assign SERIAL BADGE [--at TIME]\n", 2, "assign", at);
        if (r)
                return r;
        const char *serial = argv[optind], *officer = argv[optind + 1];
        _cleanup_free_ char *object = xasprintf("device %s", serial);
        _cleanup_free_ char *what = xasprintf("check-out to %s at %s", officer, at);
        if (audited(c, catalog_assign(c->cat, serial, officer, at, c->caller, err, sizeof(err)), "assign", object,
                    what) < 0)
                return fail_catalog(c, err);
        printf("%s checked out to %s at %s\n", serial, officer, at);
        return 0;
}

int cmd_unassign(struct ctx *c, int argc, char **argv)
{
        char at[32], err[512] = "";
        int r = assignment_change(c, argc, argv, "usage: dockctl unassign SERIAL [--at TIME]\n", 1, "unassign", at);
        if (r)
                return r;
        const char *serial = argv[optind];
        _cleanup_free_ char *object = xasprintf("device %s", serial);
        _cleanup_free_ char *what = xasprintf("check-in at %s", at);
        if (audited(c, catalog_unassign(c->cat, serial, at, c->caller, err, sizeof(err)), "unassign", object, what) < 0)
                return fail_catalog(c, err);
        printf("%s checked in at %s\n", serial, at);
        return 0;
}

int cmd_assignments(struct ctx *c, int argc, char **argv)
{
        static const struct option opts[] = { { "device", required_argument, NULL, 'd' },
                                              { "officer", required_argument, NULL, 'o' },
                                              { "json", no_argument, NULL, 'j' },
                                              { "csv", no_argument, NULL, 'C' },
                                              {} };
        const char *serial = NULL, *badge = NULL;
        enum out_format fmt = OUT_TEXT;
        int ch;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
                switch (ch) {
                case 'd': serial = optarg; break;
                case 'o': badge = optarg; break;
                default:
                        if (format_opt(ch, &fmt))
                                return EXIT_USAGE;
                }
        if (optind != argc) {
                fprintf(stderr, "usage: dockctl assignments [--device SERIAL] [--officer BADGE] [--json|--csv]\n");
                return EXIT_USAGE;
        }
        if (open_catalog(c) < 0)
                return 1;
        if (fmt != OUT_TEXT)
                audit_export(c, "assignments", serial ? serial : badge);
        struct table t = { .fmt = fmt, .cols = ASSIGN_COLS, .n_cols = ELEMENTSOF(ASSIGN_COLS), .f = stdout };
        table_begin(&t);
        int r = catalog_assignments_foreach(c->cat, serial, badge, assignment_row, &t);
        table_end(&t);
        return r < 0 ? fail_catalog(c, NULL) : 0;
}

/* ---- the 24-hour rule ---- */

static const struct column LATE_COLS[] = {
        { "recording", 9 },         { "officer", 10 },      { "device", 16 },
        { "recorded_end_utc", 24 }, { "ingested_at", 24 },  { "lag_h", 7 },
        { "justification", 30 },    { "justified_by", 12 }, { "device_path", 0 },
};

static int late_row(const struct recording_info *r, void *ud)
{
        table_row(ud,
                  (struct cell[]){ CELL_I(r->id), CELL_S(r->officer), CELL_S(r->device), CELL_S(r->recorded_end_utc),
                                   CELL_S(r->ingested_at), CELL_R((double)r->lag_s / 3600.0), CELL_S(r->justification),
                                   CELL_S(r->justified_by), CELL_S(r->device_path) });
        return 0;
}

int cmd_compliance(struct ctx *c, int argc, char **argv)
{
        static const struct option opts[] = { { "from", required_argument, NULL, 'f' },
                                              { "to", required_argument, NULL, 't' },
                                              { "officer", required_argument, NULL, 'o' },
                                              { "device", required_argument, NULL, 'd' },
                                              { "threshold-h", required_argument, NULL, 'T' },
                                              { "unjustified", no_argument, NULL, 'u' },
                                              { "json", no_argument, NULL, 'j' },
                                              { "csv", no_argument, NULL, 'C' },
                                              {} };
        struct recording_filter f = { .flags = REC_LATE, .late_s = (int64_t)c->cfg.late_h * 3600 };
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
                case 'o': f.officer = optarg; break;
                case 'd': f.serial = optarg; break;
                case 'T': {
                        char *end;
                        long h = strtol(optarg, &end, 10);
                        if (*end || h < 1 || h > 8760) {
                                fprintf(stderr, "dockctl: --threshold-h '%s' must be hours from 1 to 8760\n", optarg);
                                return EXIT_USAGE;
                        }
                        f.late_s = h * 3600;
                        break;
                }
                case 'u': f.flags |= REC_UNJUSTIFIED; break;
                default:
                        if (format_opt(ch, &fmt))
                                return EXIT_USAGE;
                }
        }
        if (optind != argc) {
                fprintf(stderr,
                        "usage: dockctl compliance [--from TIME] [--to TIME] [--officer BADGE] [--device SERIAL]\n"
                        "                          [--threshold-h H] [--unjustified] [--json|--csv]\n");
                return EXIT_USAGE;
        }
        if (open_catalog(c) < 0)
                return 1;
        if (fmt != OUT_TEXT)
                audit_export(c, "compliance", f.officer ? f.officer : f.serial);
        struct table t = { .fmt = fmt, .cols = LATE_COLS, .n_cols = ELEMENTSOF(LATE_COLS), .f = stdout };
        table_begin(&t);
        int r = catalog_recordings_query(c->cat, &f, late_row, &t);
        table_end(&t);
        if (r < 0)
                return fail_catalog(c, NULL);
        if (fmt == OUT_TEXT)
                printf("%zu recording(s) ingested more than %lld h after they ended\n", t.rows,
                       (long long)(f.late_s / 3600));
        return 0;
}

int recording_and_reason(int argc, char **argv, const char *usage_text, int64_t *id, const char **reason,
                         int positional)
{
        static const struct option opts[] = { { "reason", required_argument, NULL, 'r' }, {} };
        int ch;
        *reason = NULL;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (ch != 'r') {
                        fputs(usage_text, stderr);
                        return EXIT_USAGE;
                }
                *reason = optarg;
        }
        char *end = NULL;
        if (optind + positional != argc || !*reason || !(*reason)[0] || (*id = strtoll(argv[optind], &end, 10)) <= 0 ||
            *end) {
                fputs(usage_text, stderr);
                return EXIT_USAGE;
        }
        return 0;
}

int cmd_justify(struct ctx *c, int argc, char **argv)
{
        int64_t id;
        const char *reason;
        char err[512] = "";
        int r = recording_and_reason(argc, argv, "usage: dockctl justify RECORDING --reason TEXT\n", &id, &reason, 1);
        if (r)
                return r;
        if (require_role(c, "justify"))
                return EXIT_DENIED;
        if (change_begin(c) < 0)
                return fail_catalog(c, NULL);
        _cleanup_free_ char *object = xasprintf("recording %lld", (long long)id);
        if (audited(c, catalog_justify(c->cat, id, reason, c->caller, err, sizeof(err)), "justify", object, reason) < 0)
                return fail_catalog(c, err);
        printf("recording %lld: justification recorded (by %s)\n", (long long)id, c->caller);
        return 0;
}

int cmd_reattribute(struct ctx *c, int argc, char **argv)
{
        int64_t id;
        const char *reason;
        char err[512] = "";
        int r = recording_and_reason(argc, argv, "usage: dockctl reattribute RECORDING BADGE --reason TEXT\n", &id,
                                     &reason, 2);
        if (r)
                return r;
        const char *badge = argv[optind + 1];
        if (require_role(c, "reattribute"))
                return EXIT_DENIED;
        if (change_begin(c) < 0)
                return fail_catalog(c, NULL);
        _cleanup_free_ char *object = xasprintf("recording %lld", (long long)id);
        _cleanup_free_ char *what = xasprintf("to %s: %s", badge, reason);
        if (audited(c, catalog_reattribute(c->cat, id, badge, reason, c->caller, err, sizeof(err)), "reattribute",
                    object, what) < 0)
                return fail_catalog(c, err);
        printf("recording %lld: attributed to %s (by %s)\n", (long long)id, badge, c->caller);
        return 0;
}
