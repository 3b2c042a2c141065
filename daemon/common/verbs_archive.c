/* verbs_archive.c — the verbs of the signed record: the manifests and the
 * station key that signs them, the archive outbox and its audit, the audit
 * chain. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alarms.h"
#include "archive_audit.h"
#include "catalog.h"
#include "config.h"
#include "forward.h"
#include "log.h"
#include "manifest.h"
#include "output.h"
#include "util.h"
#include "verbs.h"

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
