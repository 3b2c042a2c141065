/* dockctl_custody.c — retention and legal holds: which recordings are due
 * for destruction under the retention policy, and the holds that keep them. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockctl.h"
#include "log.h"
#include "scrub.h"
#include "util.h"

static const struct column HOLD_COLS[] = {
        { "id", 4 }, { "scope", 9 }, { "value", 14 }, { "recordings", 10 }, { "reason", 28 }, { "placed_by", 10 },
        { "placed_at", 24 }, { "released_by", 11 }, { "released_at", 24 }, { "release_reason", 0 },
};

static int hold_row(const struct hold_info *h, void *ud)
{
        table_row(ud, (struct cell[]){ CELL_I(h->id), CELL_S(h->scope), CELL_S(h->value), CELL_I(h->recordings),
                                       CELL_S(h->reason), CELL_S(h->placed_by), CELL_S(h->placed_at),
                                       CELL_S(h->released_by), CELL_S(h->released_at), CELL_S(h->release_reason) });
        return 0;
}

static int hold_add(struct ctx *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "officer", required_argument, NULL, 'o' }, { "device", required_argument, NULL, 'd' },
                { "case", required_argument, NULL, 'k' }, { "reason", required_argument, NULL, 'r' }, {}
        };
        static const char usage_text[] =
                "usage: dockctl hold add RECORDING --reason TEXT\n"
                "       dockctl hold add --officer ID | --device SERIAL --reason TEXT\n"
                "       dockctl hold add --case CASE [RECORDING...] --reason TEXT   (links the recordings to the case)\n";
        const char *scope = "recording", *value = NULL, *reason = NULL;
        int ch;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
                switch (ch) {
                case 'o': scope = "officer", value = optarg; break;
                case 'd': scope = "device", value = optarg; break;
                case 'k': scope = "case", value = optarg; break;
                case 'r': reason = optarg; break;
                default: fputs(usage_text, stderr); return EXIT_USAGE;
                }
        size_t n = (size_t)(argc - optind);
        int64_t *recs = calloc(n ? n : 1, sizeof(*recs));
        bool bad = !reason || !reason[0];
        for (size_t i = 0; i < n && !bad; i++) {
                char *end;
                recs[i] = strtoll(argv[optind + (int)i], &end, 10);
                bad = *end || recs[i] <= 0;
        }
        char one[32];
        if (!value && n == 1) {         /* a single recording */
                snprintf(one, sizeof(one), "%lld", (long long)recs[0]);
                value = one;
                n = 0;
        } else if (!value || (n && strcmp(scope, "case") != 0))
                bad = true;
        if (bad) {
                free(recs);
                fputs(usage_text, stderr);
                return EXIT_USAGE;
        }
        if (require_role(c, ROLE_CUSTODIAN, "hold add")) {
                free(recs);
                return EXIT_DENIED;
        }
        char err[512] = "";
        int64_t id = 0;
        if (change_begin(c) < 0) {
                free(recs);
                return 1;
        }
        int r = catalog_hold_add(c->cat, scope, value, recs, n, reason, who(), &id, err, sizeof(err));
        free(recs);
        _cleanup_free_ char *object = xasprintf("%s %s", scope, value);
        if (audited(c, r, "hold.add", object, reason) < 0) {
                log_error("%s", err[0] ? err : catalog_errmsg(c->cat));
                return 1;
        }
        printf("hold %lld placed on %s %s\n", (long long)id, scope, value);
        return 0;
}

int cmd_hold(struct ctx *c, int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "add") == 0)
                return hold_add(c, argc - 1, argv + 1);
        if (argc >= 2 && strcmp(argv[1], "remove") == 0) {
                static const struct option opts[] = { { "reason", required_argument, NULL, 'r' }, {} };
                const char *reason = NULL;
                int ch;
                argc--, argv++;
                while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
                        if (ch == 'r')
                                reason = optarg;
                        else
                                return EXIT_USAGE;
                char *end = NULL;
                int64_t id = optind + 1 == argc ? strtoll(argv[optind], &end, 10) : 0;
                if (id <= 0 || *end || !reason || !reason[0]) {
                        fputs("usage: dockctl hold remove HOLD --reason TEXT\n", stderr);
                        return EXIT_USAGE;
                }
                if (require_role(c, ROLE_CUSTODIAN, "hold remove"))
                        return EXIT_DENIED;
                char err[512] = "";
                if (change_begin(c) < 0)
                        return 1;
                _cleanup_free_ char *object = xasprintf("hold %lld", (long long)id);
                if (audited(c, catalog_hold_release(c->cat, id, reason, who(), err, sizeof(err)), "hold.remove", object,
                            reason) < 0) {
                        log_error("%s", err[0] ? err : catalog_errmsg(c->cat));
                        return 1;
                }
                printf("hold %lld released\n", (long long)id);
                return 0;
        }
        bool all = false;
        enum out_format fmt = OUT_TEXT;
        for (int i = 2; i < argc; i++) {
                if (strcmp(argv[i], "--all") == 0)
                        all = true;
                else if (parse_format(argv[i][0] == '-' && argv[i][1] == '-' ? argv[i] + 2 : "", &fmt) < 0) {
                        fputs("usage: dockctl hold list [--all] [--json|--csv]\n", stderr);
                        return EXIT_USAGE;
                }
        }
        if (argc < 2 || strcmp(argv[1], "list") != 0) {
                fputs("usage: dockctl hold add ... | hold remove HOLD --reason TEXT | hold list [--all] [--json|--csv]\n",
                      stderr);
                return EXIT_USAGE;
        }
        if (open_catalog(c) < 0)
                return 1;
        struct table t = { .fmt = fmt, .cols = HOLD_COLS, .n_cols = ELEMENTSOF(HOLD_COLS), .f = stdout };
        table_begin(&t);
        int r = catalog_holds_foreach(c->cat, !all, hold_row, &t);
        table_end(&t);
        return r < 0 ? 1 : 0;
}

static const struct column DUE_COLS[] = {
        { "recording", 9 }, { "device", 14 }, { "officer", 8 }, { "retention_class", 15 }, { "recorded_end_utc", 24 },
        { "due_at", 24 }, { "size", 10 }, { "device_path", 0 },
};

static int due_row(const struct due_info *d, void *ud)
{
        table_row(ud, (struct cell[]){ CELL_I(d->id), CELL_S(d->device), CELL_S(d->officer), CELL_S(d->retention_class),
                                       CELL_S(d->rec_end_utc), CELL_S(d->due_at), CELL_I(d->size),
                                       CELL_S(d->device_path) });
        return 0;
}

int cmd_retention(struct ctx *c, int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "class") == 0) {
                static const struct option opts[] = { { "reason", required_argument, NULL, 'r' }, {} };
                const char *reason = NULL;
                int ch;
                argc--, argv++;
                while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
                        if (ch == 'r')
                                reason = optarg;
                        else
                                return EXIT_USAGE;
                char *end = NULL;
                int64_t id = optind + 2 == argc ? strtoll(argv[optind], &end, 10) : 0;
                if (id <= 0 || *end || !reason || !reason[0]) {
                        fputs("usage: dockctl retention class RECORDING CLASS --reason TEXT\n", stderr);
                        return EXIT_USAGE;
                }
                const char *cls = argv[optind + 1];
                if (!config_retention_months(&c->cfg, cls)) {
                        fprintf(stderr, "dockctl: retention class '%s' is not configured ([retention] class.%s = MONTHS)\n",
                                cls, cls);
                        return EXIT_USAGE;
                }
                if (require_role(c, ROLE_ADMIN, "retention class"))
                        return EXIT_DENIED;
                char err[512] = "";
                if (change_begin(c) < 0)
                        return 1;
                _cleanup_free_ char *object = xasprintf("recording %lld", (long long)id);
                _cleanup_free_ char *what = xasprintf("class %s: %s", cls, reason);
                if (audited(c, catalog_recording_set_class(c->cat, id, cls, err, sizeof(err)), "retention.class", object,
                            what) < 0) {
                        log_error("%s", err[0] ? err : catalog_errmsg(c->cat));
                        return 1;
                }
                printf("recording %lld: retention class %s (%u months)\n", (long long)id, cls,
                       config_retention_months(&c->cfg, cls));
                return 0;
        }
        enum out_format fmt = OUT_TEXT;
        bool ok = argc >= 2 && strcmp(argv[1], "due") == 0;
        for (int i = 2; i < argc && ok; i++)
                ok = argv[i][0] == '-' && argv[i][1] == '-' && parse_format(argv[i] + 2, &fmt) == 0;
        if (!ok) {
                fputs("usage: dockctl retention due [--json|--csv] | retention class RECORDING CLASS --reason TEXT\n",
                      stderr);
                return EXIT_USAGE;
        }
        if (open_catalog(c) < 0)
                return 1;
        struct retention_classes classes = { .n = 0 };
        classes.c[classes.n].name = "default";
        classes.c[classes.n++].months = c->cfg.retention_months;
        for (size_t i = 0; i < c->cfg.n_retention; i++) {
                classes.c[classes.n].name = c->cfg.retention[i].name;
                classes.c[classes.n++].months = c->cfg.retention[i].months;
        }
        char now[32];
        time_iso(clock_now(), now, sizeof(now));
        if (fmt != OUT_TEXT)
                audit_export(c, "retention due", NULL);
        struct table t = { .fmt = fmt, .cols = DUE_COLS, .n_cols = ELEMENTSOF(DUE_COLS), .f = stdout };
        table_begin(&t);
        int r = catalog_retention_due(c->cat, &classes, now, due_row, &t);
        table_end(&t);
        if (r < 0) {
                log_error("catalog: %s", catalog_errmsg(c->cat));
                return 1;
        }
        if (fmt == OUT_TEXT)
                printf("%zu recording(s) past their retention period and under no hold\n", t.rows);
        return 0;
}

int cmd_scrub(struct ctx *c, int argc, char **argv)
{
        static const struct option opts[] = {
                { "since", required_argument, NULL, 'f' }, { "limit-mbps", required_argument, NULL, 'l' },
                { "json", no_argument, NULL, 'j' }, {}
        };
        struct scrub_opts o = { 0 };
        char period[2][32];
        const char *unused = NULL;
        bool json = false;
        int ch, k;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if ((k = period_opt(ch, period, &o.since, &unused)) != 0) {
                        if (k < 0)
                                return EXIT_USAGE;
                        continue;
                }
                if (ch == 'j')
                        json = true;
                else if (ch == 'l') {
                        char *end;
                        double mbps = strtod(optarg, &end);
                        if (*end || mbps <= 0) {
                                fprintf(stderr, "dockctl scrub: --limit-mbps '%s' must be a positive number\n", optarg);
                                return EXIT_USAGE;
                        }
                        o.limit_bps = mbps * 1e6;
                } else
                        return EXIT_USAGE;
        }
        if (optind != argc) {
                fputs("usage: dockctl scrub [--since TIME] [--limit-mbps N] [--json]\n", stderr);
                return EXIT_USAGE;
        }
        if (open_catalog(c) < 0)
                return 1;
        struct scrub_result res;
        double t0 = time_mono();
        int r = scrub_run(&c->cfg, c->cat, &o, &res);
        if (r < 0) {
                log_error("scrub: %s", catalog_errmsg(c->cat));
                return 1;
        }
        int64_t unrepaired = res.missing + res.mismatch + res.unreadable - res.repaired;
        _cleanup_free_ char *what = xasprintf("%lld copies of %lld recordings: %lld ok, %lld missing, %lld mismatched, "
                                              "%lld unreadable, %lld repaired, %lld lost",
                                              (long long)res.copies, (long long)res.recordings, (long long)res.ok,
                                              (long long)res.missing, (long long)res.mismatch, (long long)res.unreadable,
                                              (long long)res.repaired, (long long)res.lost);
        if (audit_append(c->cat, who(), role_name(c->role), "scrub", o.since ? o.since : "all recordings", what) < 0)
                log_error("cannot record the scrub in the audit chain: %s", catalog_errmsg(c->cat));
        double secs = time_mono() - t0;
        if (json)
                printf("{\"recordings\":%lld,\"copies\":%lld,\"ok\":%lld,\"missing\":%lld,\"mismatch\":%lld,"
                       "\"unreadable\":%lld,\"repaired\":%lld,\"lost\":%lld,\"bytes\":%lld,\"seconds\":%.2f}\n",
                       (long long)res.recordings, (long long)res.copies, (long long)res.ok, (long long)res.missing,
                       (long long)res.mismatch, (long long)res.unreadable, (long long)res.repaired, (long long)res.lost,
                       (long long)res.bytes, secs);
        else
                printf("scrub: %s (%.1f s)\n", what, secs);
        return unrepaired > 0 || res.lost > 0 ? 1 : 0;
}
