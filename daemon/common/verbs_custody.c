/* dockctl_custody.c — retention and legal holds: which recordings are due
 * for destruction under the retention policy, and the holds that keep them. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "verbs.h"
#include "log.h"
#include "scrub.h"
#include "station.h"
#include "target.h"
#include "util.h"

static const struct column HOLD_COLS[] = {
        { "id", 4 },         { "scope", 9 },      { "value", 14 },       { "recordings", 10 },  { "reason", 28 },
        { "placed_by", 10 }, { "placed_at", 24 }, { "released_by", 11 }, { "released_at", 24 }, { "release_reason", 0 },
};

static int hold_row(const struct hold_info *h, void *ud)
{
        table_row(ud, (struct cell[]){ CELL_I(h->id), CELL_S(h->scope), CELL_S(h->value), CELL_I(h->recordings),
                                       CELL_S(h->reason), CELL_S(h->placed_by), CELL_S(h->placed_at),
                                       CELL_S(h->released_by), CELL_S(h->released_at), CELL_S(h->release_reason) });
        return 0;
}

/* After a hold changes, the object copies' legal holds follow it. */
static int sync_object_holds(struct ctx *c)
{
        size_t failed = 0;
        int r = station_sync_legal_holds(&c->cfg, c->cat, &failed);
        if (r < 0 || failed) {
                log_error("the hold is recorded, but %zu object copies' legal holds could not be changed yet%s%s",
                          failed, r < 0 ? ": " : "", r < 0 ? catalog_errmsg(c->cat) : "");
                return 1;
        }
        return 0;
}

static int hold_add(struct ctx *c, int argc, char **argv)
{
        static const struct option opts[] = { { "officer", required_argument, NULL, 'o' },
                                              { "device", required_argument, NULL, 'd' },
                                              { "case", required_argument, NULL, 'k' },
                                              { "reason", required_argument, NULL, 'r' },
                                              {} };
        static const char usage_text[] = "usage: dockctl hold add RECORDING --reason TEXT\n"
                                         "       dockctl hold add --officer BADGE | --device SERIAL --reason TEXT\n"
                                         "       dockctl hold add --case CASE [RECORDING...] --reason TEXT   (links "
                                         "the recordings to the case)\n";
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
        if (!value && n == 1) { /* a single recording */
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
        if (require_role(c, "hold add")) {
                free(recs);
                return EXIT_DENIED;
        }
        char err[512] = "";
        int64_t id = 0;
        if (change_begin(c) < 0) {
                free(recs);
                return 1;
        }
        int r = catalog_hold_add(c->cat, scope, value, recs, n, reason, c->caller, &id, err, sizeof(err));
        free(recs);
        _cleanup_free_ char *object = xasprintf("%s %s", scope, value);
        if (audited(c, r, "hold.add", object, reason) < 0) {
                log_error("%s", err[0] ? err : catalog_errmsg(c->cat));
                return 1;
        }
        printf("hold %lld placed on %s %s\n", (long long)id, scope, value);
        return sync_object_holds(c);
}

int cmd_hold(struct ctx *c, int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "add") == 0)
                return hold_add(c, argc - 1, argv + 1);
        if (argc >= 2 && strcmp(argv[1], "remove") == 0) {
                int64_t id;
                const char *reason;
                int u = recording_and_reason(argc - 1, argv + 1, "usage: dockctl hold remove HOLD --reason TEXT\n", &id,
                                             &reason, 1);
                if (u)
                        return u;
                if (require_role(c, "hold remove"))
                        return EXIT_DENIED;
                char err[512] = "";
                if (change_begin(c) < 0)
                        return 1;
                _cleanup_free_ char *object = xasprintf("hold %lld", (long long)id);
                if (audited(c, catalog_hold_release(c->cat, id, reason, c->caller, err, sizeof(err)), "hold.remove",
                            object, reason) < 0) {
                        log_error("%s", err[0] ? err : catalog_errmsg(c->cat));
                        return 1;
                }
                printf("hold %lld released\n", (long long)id);
                return sync_object_holds(c);
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
                fputs("usage: dockctl hold add ... | hold remove HOLD --reason TEXT | hold list [--all] "
                      "[--json|--csv]\n",
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

/* The default class and every configured one, with their periods. */
static void retention_classes_of(const struct config *cfg, struct retention_classes *classes)
{
        classes->n = 0;
        classes->c[classes->n].name = "default";
        classes->c[classes->n++].months = cfg->retention_months;
        for (size_t i = 0; i < cfg->n_retention; i++) {
                classes->c[classes->n].name = cfg->retention[i].name;
                classes->c[classes->n++].months = cfg->retention[i].months;
        }
}

static const struct column DUE_COLS[] = {
        { "recording", 9 },         { "device", 14 }, { "officer", 8 }, { "retention_class", 15 },
        { "recorded_end_utc", 24 }, { "due_at", 24 }, { "size", 10 },   { "device_path", 0 },
};

static int due_row(const struct due_info *d, void *ud)
{
        table_row(ud, (struct cell[]){ CELL_I(d->id), CELL_S(d->device), CELL_S(d->officer), CELL_S(d->retention_class),
                                       CELL_S(d->recorded_end_utc), CELL_S(d->due_at), CELL_I(d->size),
                                       CELL_S(d->device_path) });
        return 0;
}

int cmd_retention(struct ctx *c, int argc, char **argv)
{
        if (argc >= 2 && strcmp(argv[1], "class") == 0) {
                int64_t id;
                const char *reason;
                int u = recording_and_reason(argc - 1, argv + 1,
                                             "usage: dockctl retention class RECORDING CLASS --reason TEXT\n", &id,
                                             &reason, 2);
                if (u)
                        return u;
                const char *cls = (argv + 1)[optind + 1]; /* after RECORDING, as parsed from "class" on */
                if (!config_retention_months(&c->cfg, cls)) {
                        fprintf(stderr,
                                "dockctl: retention class '%s' is not configured ([retention] class.%s = MONTHS)\n",
                                cls, cls);
                        return EXIT_USAGE;
                }
                if (require_role(c, "retention class"))
                        return EXIT_DENIED;
                char err[512] = "";
                if (change_begin(c) < 0)
                        return 1;
                _cleanup_free_ char *object = xasprintf("recording %lld", (long long)id);
                _cleanup_free_ char *what = xasprintf("class %s: %s", cls, reason);
                if (audited(c, catalog_recording_set_class(c->cat, id, cls, err, sizeof(err)), "retention.class",
                            object, what) < 0) {
                        log_error("%s", err[0] ? err : catalog_errmsg(c->cat));
                        return 1;
                }
                printf("recording %lld: retention class %s (%u months)\n", (long long)id, cls,
                       config_retention_months(&c->cfg, cls));
                size_t failed = 0;
                if (station_sync_retention(&c->cfg, c->cat, &failed) < 0 || failed) {
                        log_error("the class is recorded, but %zu object copies' locks could not be lengthened yet",
                                  failed);
                        return 1;
                }
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
        struct retention_classes classes;
        retention_classes_of(&c->cfg, &classes);
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

static void scrub_progress(const struct scrub_result *r, void *ud)
{
        const struct ctx *c = ud;
        double secs = time_mono() - r->started, rate = secs > 0 ? (double)r->bytes / secs : 0;
        char done[32], total[32], eta[32], head[200];
        format_bytes((double)r->bytes, done, sizeof(done));
        format_bytes((double)r->total_bytes, total, sizeof(total));
        format_eta(rate > 0 && r->total_bytes >= r->bytes ? (double)(r->total_bytes - r->bytes) / rate : -1, eta,
                   sizeof(eta));
        snprintf(head, sizeof(head), "[%lld/%lld recordings] %s / %s  %.1f MB/s  ETA %s  %lld bad",
                 (long long)r->recordings, (long long)r->total_recordings, done, total, rate / 1e6, eta,
                 (long long)(r->missing + r->mismatch + r->unreadable));
        progress_show(stderr, c->width, head, NULL, r->recordings >= r->total_recordings);
}

int cmd_scrub(struct ctx *c, int argc, char **argv)
{
        static const struct option opts[] = { { "since", required_argument, NULL, 'f' },
                                              { "limit-mbps", required_argument, NULL, 'l' },
                                              { "json", no_argument, NULL, 'j' },
                                              {} };
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
        o.cancel = c->cancel;
        o.on_progress = c->progress ? scrub_progress : NULL;
        o.ud = c;
        int r = scrub_run(&c->cfg, c->cat, &o, &res);
        if (c->progress && res.recordings < res.total_recordings)
                fputc('\n', stderr);
        if (r < 0) {
                log_error("scrub: %s", catalog_errmsg(c->cat));
                return 1;
        }
        int64_t unrepaired = res.missing + res.mismatch + res.unreadable - res.repaired;
        _cleanup_free_ char *what =
                xasprintf("%s%lld copies of %lld recordings: %lld ok, %lld missing, %lld mismatched, "
                          "%lld unreadable, %lld repaired, %lld lost, %lld on unavailable targets "
                          "(not checked)",
                          res.stopped ? "stopped as asked; " : "", (long long)res.copies, (long long)res.recordings,
                          (long long)res.ok, (long long)res.missing, (long long)res.mismatch, (long long)res.unreadable,
                          (long long)res.repaired, (long long)res.lost, (long long)res.unavailable);
        if (audit_append(c->cat, c->caller, caller_role(c), "scrub", o.since ? o.since : "all recordings", what) < 0)
                log_error("cannot record the scrub in the audit chain: %s", catalog_errmsg(c->cat));
        double secs = time_mono() - t0;
        if (json)
                printf("{\"recordings\":%lld,\"copies\":%lld,\"ok\":%lld,\"missing\":%lld,\"mismatch\":%lld,"
                       "\"unreadable\":%lld,\"repaired\":%lld,\"lost\":%lld,\"unavailable\":%lld,\"bytes\":%lld,"
                       "\"stopped\":%s,\"seconds\":%.2f}\n",
                       (long long)res.recordings, (long long)res.copies, (long long)res.ok, (long long)res.missing,
                       (long long)res.mismatch, (long long)res.unreadable, (long long)res.repaired, (long long)res.lost,
                       (long long)res.unavailable, (long long)res.bytes, res.stopped ? "true" : "false", secs);
        else
                printf("scrub: %s (%.1f s)\n", what, secs);
        if (unrepaired > 0 || res.lost > 0 || res.unavailable > 0)
                return 1;
        return res.stopped ? EXIT_INCOMPLETE : 0; /* the rest keep their last check */
}

/* ---- approved destruction ---- */

struct id_set {
        int64_t *v;
        size_t n, cap;
};

static int collect_due(const struct due_info *d, void *ud)
{
        struct id_set *s = ud;
        if (s->n == s->cap) {
                s->cap = s->cap ? s->cap * 2 : 64;
                int64_t *v = realloc(s->v, s->cap * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                s->v = v;
        }
        s->v[s->n++] = d->id;
        return 0;
}

/* The recordings due under retention now (and under no hold). */
static int due_set(struct ctx *c, struct id_set *s)
{
        struct retention_classes classes;
        retention_classes_of(&c->cfg, &classes);
        char now[32];
        time_iso(clock_now(), now, sizeof(now));
        return catalog_retention_due(c->cat, &classes, now, collect_due, s);
}

/* Refuses (with the reason) any recording that is not due now. */
static int check_due(struct ctx *c, const int64_t *recs, size_t n)
{
        struct id_set due = { 0 };
        int r = due_set(c, &due), bad = 0;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                bool ok = false;
                for (size_t k = 0; k < due.n && !ok; k++)
                        ok = due.v[k] == recs[i];
                if (ok)
                        continue;
                bool held = false;
                int64_t hold = 0;
                catalog_recording_held(c->cat, recs[i], &held, &hold);
                if (held)
                        fprintf(stderr,
                                "dockctl destroy: recording %lld is under hold %lld; a held recording is never "
                                "destroyed\n",
                                (long long)recs[i], (long long)hold);
                else
                        fprintf(stderr,
                                "dockctl destroy: recording %lld is not due under the retention policy "
                                "(see `dockctl retention due`), or is already destroyed\n",
                                (long long)recs[i]);
                bad++;
        }
        free(due.v);
        return r < 0 ? r : bad ? -EPERM : 0;
}

struct approval {
        struct ctx *c;
        int64_t request;
        int64_t destroyed, failed;
        struct target_set targets;
};

static int destroy_one(const struct scrub_item *it, void *ud)
{
        struct approval *a = ud;
        int failed = 0;
        char done[8][200];
        for (size_t i = 0; i < it->n_copies; i++) {
                const struct scrub_copy *k = &it->copies[i];
                char err[600];
                struct copy_ref ref = { k->path, k->version_id };
                struct target *t = target_set_get(&a->targets, k->target, err, sizeof(err));
                int r = t ? t->ops->destroy(t, &ref, err, sizeof(err)) : -ENODEV;
                if (r == 0) {
                        snprintf(done[i], sizeof(done[i]), "%s: %s", k->target,
                                 t->type == TARGET_S3 ? "object version deleted"
                                                      : "overwritten with zeros, unlinked, fsynced");
                } else if (r == -ENOENT) {
                        /* the target is there (its marker checked) and the copy is not */
                        snprintf(done[i], sizeof(done[i]), "%s: already missing (nothing to overwrite)", k->target);
                        log_warn("destroy: recording %lld: copy on %s was already missing", (long long)it->id,
                                 k->target);
                } else {
                        log_error("destroy: recording %lld: %s; the recording is NOT marked destroyed",
                                  (long long)it->id, err);
                        failed++;
                }
        }
        if (failed) {
                a->failed++;
                return 0;
        }
        _cleanup_free_ char *object = xasprintf("recording %lld", (long long)it->id);
        char copies[1200] = "";
        size_t n = 0;
        for (size_t i = 0; i < it->n_copies && n < sizeof(copies); i++)
                n += (size_t)snprintf(copies + n, sizeof(copies) - n, "%s%s", i ? "; " : "", done[i]);
        _cleanup_free_ char *what =
                xasprintf("request %lld: %s; sha256 %s kept", (long long)a->request, copies, it->sha256);
        int r = catalog_begin(a->c->cat);
        if (r >= 0)
                r = catalog_recording_destroyed(a->c->cat, it->id, a->request, "overwrite-zero+unlink+fsync");
        if (audited(a->c, r, "destroy", object, what) < 0) {
                a->failed++;
                return 0;
        }
        a->destroyed++;
        return 0;
}

static const struct column DESTROY_COLS[] = {
        { "id", 4 },           { "state", 10 },        { "recordings", 10 },
        { "reason", 28 },      { "requested_by", 12 }, { "requested_at", 24 },
        { "approved_by", 11 }, { "approved_at", 24 },  { "detail", 0 },
};

static int destroy_row(const struct destruction_info *d, void *ud)
{
        table_row(ud, (struct cell[]){ CELL_I(d->id), CELL_S(d->state), CELL_I(d->recordings), CELL_S(d->reason),
                                       CELL_S(d->requested_by), CELL_S(d->requested_at), CELL_S(d->approved_by),
                                       CELL_S(d->approved_at), CELL_S(d->detail) });
        return 0;
}

static int grab_request(const struct destruction_info *d, void *ud)
{
        struct destruction_info *out = ud;
        *out = *d;
        out->requested_by = xstrdup(d->requested_by);
        out->state = xstrdup(d->state);
        return 0;
}

static int collect_item(const struct scrub_item *it, void *ud)
{
        struct due_info d = { .id = it->id };
        return collect_due(&d, ud);
}

/* The request's recordings with their copies, copied out of the catalog so
 * the copies can be removed from it while we go through them. */
struct held_items {
        struct scrub_item *v;
        size_t n;
};

static char *dup_str(const char *s) { return s ? xstrdup(s) : NULL; }

static int keep_item(const struct scrub_item *it, void *ud)
{
        struct held_items *h = ud;
        struct scrub_item *v = realloc(h->v, (h->n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        h->v = v;
        struct scrub_item *k = &h->v[h->n++];
        *k = *it;
        k->sha256 = dup_str(it->sha256);
        k->device = dup_str(it->device);
        k->device_path = dup_str(it->device_path);
        for (size_t i = 0; i < it->n_copies; i++) {
                k->copies[i].target = dup_str(it->copies[i].target);
                k->copies[i].root = dup_str(it->copies[i].root);
                k->copies[i].path = dup_str(it->copies[i].path);
                k->copies[i].version_id = it->copies[i].version_id ? dup_str(it->copies[i].version_id) : NULL;
        }
        return 0;
}

static void held_items_free(struct held_items *h)
{
        for (size_t j = 0; j < h->n; j++) {
                struct scrub_item *k = &h->v[j];
                free((char *)k->sha256);
                free((char *)k->device);
                free((char *)k->device_path);
                for (size_t i = 0; i < k->n_copies; i++) {
                        free((char *)k->copies[i].target);
                        free((char *)k->copies[i].root);
                        free((char *)k->copies[i].path);
                        free((char *)k->copies[i].version_id);
                }
        }
        free(h->v);
}

static int destroy_approve(struct ctx *c, int64_t id)
{
        struct destruction_info q = { 0 };
        if (catalog_destructions_foreach(c->cat, id, grab_request, &q) < 0 || !q.id) {
                fprintf(stderr, "dockctl destroy approve: no request %lld (see `dockctl destroy list`)\n",
                        (long long)id);
                return 1;
        }
        _cleanup_free_ char *requester = (char *)q.requested_by, *state = (char *)q.state;
        if (strcmp(state, "pending") != 0) {
                fprintf(stderr, "dockctl destroy approve: request %lld is %s, not pending\n", (long long)id, state);
                return 1;
        }
        if (strcmp(requester, c->caller) == 0) {
                fprintf(stderr, "dockctl destroy approve: %s made request %lld; a different admin must approve it\n",
                        requester, (long long)id);
                return EXIT_DENIED;
        }
        /* The policy is checked again now: a hold placed since the request wins. */
        struct id_set items = { 0 };
        int r = catalog_destruction_items(c->cat, id, collect_item, &items);
        if (r >= 0)
                r = check_due(c, items.v, items.n);
        free(items.v);
        if (r < 0) {
                fprintf(stderr, "dockctl destroy approve: request %lld not approved; nothing destroyed\n",
                        (long long)id);
                return 1;
        }
        struct approval a = { .c = c, .request = id, .targets.cfg = &c->cfg };
        struct held_items all = { 0 };
        if ((r = catalog_destruction_items(c->cat, id, keep_item, &all)) < 0) {
                held_items_free(&all);
                log_error("destroy: %s", catalog_errmsg(c->cat));
                return 1;
        }
        /* Every copy must be destroyable before anything is overwritten: its
         * filesystem mounted, its marker naming it (an unmounted target's
         * empty mount point would otherwise count as "destroyed" while its
         * copy survives); an object version past its lock and under no legal
         * hold (a request must never end half done). The request stays pending. */
        for (size_t i = 0; i < all.n; i++)
                for (size_t k = 0; k < all.v[i].n_copies; k++) {
                        char err[600];
                        const struct scrub_copy *cp = &all.v[i].copies[k];
                        struct copy_ref ref = { cp->path, cp->version_id };
                        struct target *t = target_set_get(&a.targets, cp->target, err, sizeof(err));
                        if (!t || t->ops->destroyable(t, &ref, err, sizeof(err)) < 0) {
                                fprintf(stderr,
                                        "dockctl destroy approve: request %lld not approved: %s; nothing destroyed, "
                                        "the request stays pending\n",
                                        (long long)id, err);
                                held_items_free(&all);
                                target_set_close(&a.targets);
                                return 1;
                        }
                }
        for (size_t i = 0; i < all.n; i++) {
                /* Once begun it goes to its end (VERB_TO_THE_END): a destruction
                 * is never left half done because the caller left. */
                if (c->progress) {
                        char head[120];
                        snprintf(head, sizeof(head), "[%zu/%zu recordings] overwriting and removing their copies",
                                 i + 1, all.n);
                        progress_show(stderr, c->width, head, NULL, false);
                }
                destroy_one(&all.v[i], &a);
        }
        if (c->progress && all.n)
                fputc('\n', stderr);
        held_items_free(&all);
        target_set_close(&a.targets);
        _cleanup_free_ char *detail =
                xasprintf("%lld destroyed, %lld failed", (long long)a.destroyed, (long long)a.failed);
        _cleanup_free_ char *object = xasprintf("destruction request %lld", (long long)id);
        if (catalog_begin(c->cat) < 0 ||
            audited(c, catalog_destruction_finish(c->cat, id, c->caller, a.failed ? "incomplete" : "done", detail),
                    "destroy.approve", object, detail) < 0) {
                log_error("destroy: %s", catalog_errmsg(c->cat));
                return 1;
        }
        log_event(a.failed ? LOG_LEVEL_WARN : LOG_LEVEL_INFO, LOG_MID_DESTROYED, NULL,
                  "destruction request %lld approved by %s (requested by %s): %s", (long long)id, c->caller, requester,
                  detail);
        printf("request %lld approved by %s: %s\n", (long long)id, c->caller, detail);
        return a.failed ? 1 : 0;
}

int cmd_destroy(struct ctx *c, int argc, char **argv)
{
        static const char usage_text[] = "usage: dockctl destroy request RECORDING... --reason TEXT\n"
                                         "       dockctl destroy approve REQUEST\n"
                                         "       dockctl destroy list [--json|--csv]\n";
        if (argc >= 2 && strcmp(argv[1], "list") == 0) {
                enum out_format fmt = OUT_TEXT;
                if (argc > 3 ||
                    (argc == 3 && (strncmp(argv[2], "--", 2) != 0 || parse_format(argv[2] + 2, &fmt) < 0))) {
                        fputs(usage_text, stderr);
                        return EXIT_USAGE;
                }
                if (open_catalog(c) < 0)
                        return 1;
                struct table t = { .fmt = fmt, .cols = DESTROY_COLS, .n_cols = ELEMENTSOF(DESTROY_COLS), .f = stdout };
                table_begin(&t);
                int r = catalog_destructions_foreach(c->cat, 0, destroy_row, &t);
                table_end(&t);
                return r < 0 ? 1 : 0;
        }
        if (argc == 3 && strcmp(argv[1], "approve") == 0) {
                char *end;
                int64_t id = strtoll(argv[2], &end, 10);
                if (*end || id <= 0) {
                        fputs(usage_text, stderr);
                        return EXIT_USAGE;
                }
                if (open_catalog(c) < 0)
                        return 1;
                return destroy_approve(c, id);
        }
        if (argc < 2 || strcmp(argv[1], "request") != 0) {
                fputs(usage_text, stderr);
                return EXIT_USAGE;
        }
        static const struct option opts[] = { { "reason", required_argument, NULL, 'r' }, {} };
        const char *reason = NULL;
        int ch;
        argc--, argv++;
        while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1)
                if (ch == 'r')
                        reason = optarg;
                else
                        return EXIT_USAGE;
        size_t n = (size_t)(argc - optind);
        if (!n || !reason || !reason[0]) {
                fputs(usage_text, stderr);
                return EXIT_USAGE;
        }
        _cleanup_free_ int64_t *recs = calloc(n, sizeof(*recs));
        for (size_t i = 0; i < n; i++) {
                char *end;
                recs[i] = strtoll(argv[optind + (int)i], &end, 10);
                if (*end || recs[i] <= 0) {
                        fputs(usage_text, stderr);
                        return EXIT_USAGE;
                }
        }
        if (open_catalog(c) < 0)
                return 1;
        if (check_due(c, recs, n) < 0)
                return 1;
        int64_t id = 0;
        if (catalog_begin(c->cat) < 0)
                return 1;
        int r = catalog_destruction_request(c->cat, recs, n, reason, c->caller, &id);
        _cleanup_free_ char *object = xasprintf("destruction request %lld", (long long)id);
        _cleanup_free_ char *what = xasprintf("%zu recording(s): %s", n, reason);
        if (audited(c, r, "destroy.request", object, what) < 0) {
                log_error("destroy: %s", catalog_errmsg(c->cat));
                return 1;
        }
        printf("destruction request %lld for %zu recording(s); another admin approves it with `dockctl destroy approve "
               "%lld`\n",
               (long long)id, n, (long long)id);
        return 0;
}
