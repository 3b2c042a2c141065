/* verbs.c — see verbs.h: the verb table, the dispatcher, and the helpers the
 * verb files share (roles, audited changes, times). */
#include "verbs.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "station.h"
#include "util.h"

/* Reading the ledger takes the operator role, changing it the custodian's;
 * what decides about evidence as a whole (retention classes, destruction,
 * the audit chain, a new catalog, the archive) the admin's. */
const struct verb VERBS[] = {
        { "status", ROLE_OPERATOR, "[--watch] [--json]",
          "every docked recorder: state, progress, rate, ETA, safe to remove", NULL, VERB_IN_DAEMON, NULL },
        { "alarms", ROLE_OPERATOR, "[--json]", "what needs a person (exit 3 while any alarm is active)", cmd_alarms, 0,
          NULL },
        { "ingest", ROLE_CUSTODIAN, "--image PATH --serial SERIAL [--device-clock TIME] [--json]",
          "pull every new recording from a volume image or block device (read-only), verify two copies", cmd_ingest,
          VERB_LONG, "--image" },
        { "recordings", ROLE_OPERATOR,
          "[--device SERIAL] [--officer BADGE] [--from T] [--to T] [--session N]\n"
          "      [--flag late|unattributed|conflict|truncated|deleted-on-device] [--json|--csv]",
          "recordings: SHA-256, verified copies, time, officer, flags", cmd_list, VERB_READS, NULL },
        { "sessions", ROLE_OPERATOR, "[--device SERIAL] [--session N] [--json|--csv]",
          "dock and ingest sessions, what each could not read", cmd_list, VERB_READS, NULL },
        { "deleted", ROLE_OPERATOR, "[--device SERIAL] [--json|--csv]", "entries deleted on devices before they docked",
          cmd_list, VERB_READS, NULL },
        { "manifests", ROLE_OPERATOR, "[--json]", "signed session manifests, their chain and delivery", cmd_manifests,
          VERB_READS, NULL },
        { "manifest show", ROLE_OPERATOR, "SESSION [--signature]",
          "the manifest's canonical bytes (or its raw Ed25519 signature)", cmd_manifest, VERB_READS, NULL },
        { "key show", ROLE_OPERATOR, "", "the station's public key (PEM), to verify manifests with openssl", cmd_key, 0,
          NULL },
        { "archive status", ROLE_OPERATOR, "[--json]",
          "the manifest outbox: queued, delivered, next deadline, last error", cmd_archive, 0, NULL },
        { "archive retry", ROLE_ADMIN, "", "deliver the queued manifests now", cmd_archive, VERB_LONG, NULL },
        { "archive audit", ROLE_CUSTODIAN, "[s3://BUCKET/PREFIX] [--json]",
          "every station's manifests in an S3 archive: signatures, chain links, gaps", cmd_archive, VERB_LONG, NULL },
        { "custody", ROLE_CUSTODIAN, "RECORDING [--json | --pdf FILE] | --session SESSION [--pdf FILE]",
          "a recording's chain of custody: device, officer and its source, times, hashes, copies, scrubs, "
          "every audit row, manifests, holds, retention; or a dock session's report",
          cmd_custody, VERB_READS, NULL },
        { "mhl verify", ROLE_CUSTODIAN, "PATH [--json]",
          "re-hash a target's tree (or a copy of it) against its ASC MHL receipts (exit 3 when anything differs)",
          cmd_mhl, VERB_LONG, NULL },
        { "officers", ROLE_OPERATOR, "[--json|--csv]", "the officers the ledger knows", cmd_officers, VERB_READS,
          NULL },
        { "officers add", ROLE_CUSTODIAN, "BADGE --name NAME [--unit UNIT]", "add an officer", cmd_officers, 0, NULL },
        { "officers import", ROLE_CUSTODIAN, "FILE.csv", "add officers from a CSV file (header: badge,name,unit)",
          cmd_officers, 0, "2" },
        { "devices", ROLE_OPERATOR, "[--json|--csv]", "the recorders the ledger knows", cmd_devices, VERB_READS, NULL },
        { "devices add", ROLE_CUSTODIAN, "SERIAL [--model M] [--notes TEXT]", "add a recorder", cmd_devices, 0, NULL },
        { "device", ROLE_OPERATOR, "SERIAL [--json]",
          "a recorder's assignments, docks, clock offsets and sequence gaps", cmd_device, VERB_READS, NULL },
        { "device --status", ROLE_CUSTODIAN, "SERIAL [--status in-service|repair|lost|retired] [--notes TEXT]",
          "change a recorder's status or notes", cmd_device, 0, NULL },
        { "assign", ROLE_CUSTODIAN, "SERIAL BADGE [--at TIME]", "check a recorder out to an officer", cmd_assign, 0,
          NULL },
        { "unassign", ROLE_CUSTODIAN, "SERIAL [--at TIME]", "check a recorder back in", cmd_unassign, 0, NULL },
        { "assignments", ROLE_OPERATOR, "[--device SERIAL] [--officer BADGE] [--json|--csv]",
          "who had which recorder when", cmd_assignments, VERB_READS, NULL },
        { "compliance", ROLE_OPERATOR,
          "[--from T] [--to T] [--officer BADGE] [--device SERIAL] [--threshold-h H] [--unjustified] [--json|--csv]",
          "recordings ingested later than the 24-hour rule", cmd_compliance, VERB_READS, NULL },
        { "justify", ROLE_CUSTODIAN, "RECORDING --reason TEXT", "record why a recording came in late", cmd_justify, 0,
          NULL },
        { "reattribute", ROLE_CUSTODIAN, "RECORDING BADGE --reason TEXT", "correct a recording's officer",
          cmd_reattribute, 0, NULL },
        { "hold add", ROLE_CUSTODIAN,
          "RECORDING... | --officer BADGE | --device SERIAL | --case CASE [RECORDING...] --reason TEXT",
          "keep recordings past their retention (legal hold)", cmd_hold, 0, NULL },
        { "hold remove", ROLE_CUSTODIAN, "HOLD --reason TEXT", "release a hold", cmd_hold, 0, NULL },
        { "hold list", ROLE_OPERATOR, "[--all] [--json|--csv]", "holds in force (--all: released too)", cmd_hold,
          VERB_READS, NULL },
        { "retention due", ROLE_OPERATOR, "[--json|--csv]", "recordings past their retention and not held",
          cmd_retention, VERB_READS, NULL },
        { "retention class", ROLE_ADMIN, "RECORDING CLASS --reason TEXT", "change a recording's retention class",
          cmd_retention, 0, NULL },
        { "destroy request", ROLE_ADMIN, "RECORDING... --reason TEXT",
          "ask for recordings past retention to be destroyed", cmd_destroy, 0, NULL },
        { "destroy approve", ROLE_ADMIN, "REQUEST", "a second admin approves: every copy is overwritten and removed",
          cmd_destroy, VERB_TO_THE_END, NULL },
        { "destroy list", ROLE_OPERATOR, "[--json|--csv]", "destruction requests and what became of them", cmd_destroy,
          VERB_READS, NULL },
        { "scrub", ROLE_CUSTODIAN, "[--since TIME] [--limit-mbps N] [--json]",
          "re-read every copy, compare with its SHA-256, restore bad or missing ones", cmd_scrub, VERB_LONG, NULL },
        { "audit", ROLE_ADMIN, "[--who U] [--action A] [--from T] [--to T] [--json|--csv]",
          "the tamper-evident audit chain of every change and export", cmd_audit, VERB_READS, NULL },
        { "audit verify", ROLE_ADMIN, "", "check the chain; names the first row altered, deleted or inserted",
          cmd_audit, VERB_READS, NULL },
        { "catalog accept-new", ROLE_ADMIN, "--reason TEXT",
          "let an empty or new catalog keep the ledger of targets that name another", cmd_catalog, 0, NULL },
        {},
};

static bool name_is(const char *name, int argc, char *const *argv)
{
        const char *sp = strchr(name, ' ');
        size_t n = sp ? (size_t)(sp - name) : strlen(name);
        if (argc < 1 || strlen(argv[0]) != n || strncmp(argv[0], name, n) != 0)
                return false;
        return !sp || (argc >= 2 && strcmp(argv[1], sp + 1) == 0);
}

const struct verb *verb_find(int argc, char *const *argv)
{
        const struct verb *best = NULL;
        for (const struct verb *v = VERBS; v->name; v++)
                if (strstr(v->name, " --"))
                        continue; /* "device --status": an option's role, found by name only */
                else if (name_is(v->name, argc, argv) && (!best || strlen(v->name) > strlen(best->name)))
                        best = v;
        return best;
}

const struct verb *verb_named(const char *name)
{
        for (const struct verb *v = VERBS; v->name; v++)
                if (strcmp(v->name, name) == 0)
                        return v;
        return NULL;
}

static void verb_line(FILE *f, const struct verb *v)
{
        fprintf(f, "  %s%s%s\n      %s [%s]\n", v->name, v->args[0] ? " " : "", v->args, v->summary,
                role_name(v->role));
}

void verbs_usage(FILE *f)
{
        fputs("usage: dockctl [-c FILE] [--state DIR] [-v] VERB [ARGS]   (dockctl VERB --help for one)\n"
              "\nEvery verb is a request to dockd, which runs it with the caller's role [in brackets]\n"
              "from its own [roles]; times are UTC (2026-11-25 or 2026-11-25T08:00).\n\n",
              f);
        for (const struct verb *v = VERBS; v->name; v++)
                verb_line(f, v);
        fputs("\n  -c FILE       which dockd to ask (its socket); default " DOCKD_DEFAULT_CONFIG "\n"
              "  --state DIR   a state directory: the dockd running on it, or, if none runs and DIR is\n"
              "                yours, the offline field kit (dockctl itself, no roles)\n"
              "  --version     dockctl's version\n"
              "\nexit status: 0 done; 1 error; 2 usage; 3 ingest incomplete (a recording lacks its verified\n"
              "             copies), or an alarm is active; 4 the role the verb needs is not yours;\n"
              "             5 dockd cannot be reached\n",
              f);
}

bool verb_word_is(const struct verb *v, const char *word, size_t n)
{
        return strncmp(v->name, word, n) == 0 && (v->name[n] == ' ' || !v->name[n]);
}

void verb_usage(FILE *f, const char *first_word)
{
        fprintf(f, "usage: dockctl %s ...\n", first_word);
        for (const struct verb *v = VERBS; v->name; v++)
                if (verb_word_is(v, first_word, strlen(first_word)))
                        verb_line(f, v);
}

const struct verb_input *verb_input(const struct ctx *c, const char *name)
{
        for (size_t i = 0; i < c->n_inputs; i++)
                if (strcmp(c->inputs[i].name, name) == 0)
                        return &c->inputs[i];
        return NULL;
}

const char *caller_role(const struct ctx *c) { return c->offline ? "field kit" : role_name(c->role); }

int require_role(struct ctx *c, const char *name)
{
        const struct verb *v = verb_named(name);
        enum role need = v ? v->role : ROLE_ADMIN; /* a name missing from the table: the most it could need */
        if (c->offline || c->role >= need)
                return 0;
        char msg[512];
        role_refusal(msg, sizeof(msg), &c->cfg, name, need, c->caller, c->role);
        fprintf(stderr, "%s\n", msg);
        return EXIT_DENIED;
}

void role_refusal(char *buf, size_t size, const struct config *cfg, const char *name, enum role need,
                  const char *caller, enum role have)
{
        snprintf(buf, size, "dockctl %s: needs the %s role (group %s); %s has %s", name, role_name(need),
                 role_group(cfg, need), caller, role_name(have));
}

int verbs_run(struct ctx *c, int argc, char **argv)
{
        const struct verb *v = verb_find(argc, argv);
        if (!v && argc > 0 && verb_named(argv[0]) == NULL) {
                for (const struct verb *k = VERBS; k->name; k++)
                        if (verb_word_is(k, argv[0], strlen(argv[0])) && k->name[strlen(argv[0])] == ' ') {
                                verb_usage(stderr, argv[0]); /* "hold" alone, or "hold frobnicate" */
                                return EXIT_USAGE;
                        }
        }
        if (!v || !v->run) {
                fprintf(stderr, "dockctl: unknown verb '%s'; `dockctl --help` lists them\n", argc ? argv[0] : "");
                return EXIT_USAGE;
        }
        int r = require_role(c, v->name);
        if (r)
                return r;
        optind = 0; /* each verb parses its own options */
        r = v->run(c, argc, argv);
        if ((v->flags & VERB_READS) && c->cat && !c->audit_written) {
                /* who read what: the verb and its words */
                char words[400] = "";
                size_t n = 0;
                for (int i = 1; i < argc && n < sizeof(words) - 1; i++)
                        n += (size_t)snprintf(words + n, sizeof(words) - n, "%s%s", i > 1 ? " " : "", argv[i]);
                if (audit_append(c->cat, c->caller, caller_role(c), "read", v->name, words[0] ? words : NULL) < 0)
                        log_error("cannot record the read in the audit chain: %s", catalog_errmsg(c->cat));
        }
        return r;
}

int open_catalog(struct ctx *c)
{
        char err[1024];
        int r = catalog_open_in(c->cfg.state_dir, &c->cat, err, sizeof(err));
        if (r < 0) {
                log_error("%s", err);
                return r;
        }
        if (catalog_migrated(c->cat)[0])
                log_info("catalog: applied migrations %s", catalog_migrated(c->cat));
        /* An empty or foreign catalog must not answer for the station. */
        if (!c->accept_new && (r = station_check(&c->cfg, c->cat, err, sizeof(err))) < 0) {
                log_error("%s", err);
                catalog_close(c->cat);
                c->cat = NULL;
        }
        return r;
}

int parse_format(const char *opt, enum out_format *fmt)
{
        if (strcmp(opt, "json") == 0)
                *fmt = OUT_JSON;
        else if (strcmp(opt, "csv") == 0)
                *fmt = OUT_CSV;
        else
                return -EINVAL;
        return 0;
}

int change_begin(struct ctx *c)
{
        if (open_catalog(c) < 0)
                return -1;
        return catalog_begin(c->cat);
}

int audited(struct ctx *c, int r, const char *action, const char *object, const char *why)
{
        if (r >= 0)
                r = audit_append(c->cat, c->caller, caller_role(c), action, object, why);
        if (r >= 0)
                r = catalog_commit(c->cat);
        if (r >= 0)
                c->audit_written = true;
        if (r < 0)
                catalog_rollback(c->cat);
        return r;
}

void audit_export(struct ctx *c, const char *what, const char *filter)
{
        if (audit_append(c->cat, c->caller, caller_role(c), "export", what, filter) < 0)
                log_error("cannot record the export in the audit chain: %s", catalog_errmsg(c->cat));
        else
                c->audit_written = true;
}

int parse_when(const char *opt, const char *s, char out[32])
{
        char buf[32];
        size_t n = strlen(s);
        if (n == 10)
                snprintf(buf, sizeof(buf), "%sT00:00:00", s);
        else if (n == 16 || (n == 17 && s[16] == 'Z'))
                snprintf(buf, sizeof(buf), "%.16s:00", s);
        else
                snprintf(buf, sizeof(buf), "%.19s", s);
        int64_t t = (n == 10 || n == 16 || n == 17 || n == 19 || (n == 20 && s[19] == 'Z')) ? time_parse_iso(buf) : -1;
        if (t < 0) {
                fprintf(stderr, "dockctl: %s '%s' is not a time like 2026-11-25 or 2026-11-25T08:00 (UTC)\n", opt, s);
                return -EINVAL;
        }
        time_iso(t, out, 32);
        return 0;
}

int period_opt(int ch, char bufs[2][32], const char **from, const char **to)
{
        if (ch != 'f' && ch != 't')
                return 0;
        int i = ch == 't';
        if (parse_when(i ? "--to" : "--from", optarg, bufs[i]) < 0)
                return -1;
        *(i ? to : from) = bufs[i];
        return 1;
}
