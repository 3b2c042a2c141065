/* verbs.h — dockctl's verbs, run inside dockd for the caller (or by dockctl
 * itself in the offline field kit): one table of verb, role and usage that
 * the dispatcher, `dockctl --help`, the man page test and the role tests
 * read; and what the verb files share. */
#pragma once
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "audit.h"
#include "catalog.h"
#include "config.h"
#include "output.h"

#define EXIT_USAGE 2
#define EXIT_INCOMPLETE 3
#define EXIT_ALARM 3 /* `alarms`: at least one is active */
/* The caller lacks the role the verb needs ([roles] of dockd's config). */
#define EXIT_DENIED 4
/* dockctl could not reach dockd, or dockd could not run the request. */
#define EXIT_UNREACHABLE 5

#define VERB_MAX_INPUTS 2

/* A file the caller named and opened (dockd reads it through the caller's
 * descriptors, never by its name): [0] plain, [1] O_DIRECT or -1. */
struct verb_input {
        const char *name;
        int fds[2];
};

struct ctx {
        struct config cfg;
        struct catalog *cat;
        enum role role;                /* of the caller (audit.h) */
        char caller[64];               /* the caller's login name, for the ledger's "who" */
        bool offline;                  /* the field kit: the caller's own state, roles do not apply */
        bool accept_new;               /* `catalog accept-new`: skip the station check */
        bool progress;                 /* the caller watches a terminal: progress lines on stderr */
        unsigned width;                /* its columns */
        bool audit_written;            /* the verb appended its own audit row (a change, an export) */
        volatile sig_atomic_t *cancel; /* set when the caller asks the work to stop */
        struct verb_input inputs[VERB_MAX_INPUTS];
        size_t n_inputs;
};

enum {
        VERB_IN_DAEMON = 1 << 0,  /* answered by dockd's own process (the bays' state) */
        VERB_LONG = 1 << 1,       /* long work: Ctrl-C stops it at its next safe point */
        VERB_TO_THE_END = 1 << 2, /* long work that Ctrl-C does not stop (a destruction) */
        VERB_READS = 1 << 3,      /* reads evidence data: a "read" row unless it wrote its own */
};

struct verb {
        const char *name; /* "hold add": a verb and its subverb, or one word */
        enum role role;   /* the least role that may run it */
        const char *args; /* usage after the name */
        const char *summary;
        int (*run)(struct ctx *c, int argc, char **argv); /* argv[0] is the first word of name */
        unsigned flags;
        const char *input; /* the option ("--image") or position ("2") naming a file the caller opens */
};

extern const struct verb VERBS[];
/* The entry for argv (the longest name that matches: "hold add" before
 * "hold"), or NULL. */
const struct verb *verb_find(int argc, char *const *argv);
/* Is v's first word the n bytes at word ("hold" of "hold add")? */
bool verb_word_is(const struct verb *v, const char *word, size_t n);
/* The refusal of `name` to a caller with role `have`, naming the role and
 * group it needs (dockd and its workers say it alike). */
void role_refusal(char *buf, size_t size, const struct config *cfg, const char *name, enum role need,
                  const char *caller, enum role have);
/* The entry by its name ("device --status"), for checks inside a verb. */
const struct verb *verb_named(const char *name);
/* `dockctl --help`: every verb with its role, from the table. */
void verbs_usage(FILE *f);
/* VERB --help: that verb's lines of the table. */
void verb_usage(FILE *f, const char *first_word);
/* Checks the role (unless offline) and runs the verb; returns its exit status. */
int verbs_run(struct ctx *c, int argc, char **argv);
/* The caller's descriptors of a file named on the command line (NULL: the
 * verb opens name itself, the offline field kit). */
const struct verb_input *verb_input(const struct ctx *c, const char *name);

/* The caller's role as the audit chain records it ("field kit" offline). */
const char *caller_role(const struct ctx *c);
/* 0 if the caller holds the role the table gives `name` (or more, or is
 * offline); else says which role and group it needs and returns EXIT_DENIED. */
int require_role(struct ctx *c, const char *name);
/* A change and its audit row in one transaction: begin, then the change,
 * then audited() commits with the row (or rolls back). */
int change_begin(struct ctx *c);
int audited(struct ctx *c, int r, const char *action, const char *object, const char *why);
/* An export of the ledger (--json/--csv) is audited too. */
void audit_export(struct ctx *c, const char *what, const char *filter);

int open_catalog(struct ctx *c);
/* A listing being printed: its format, the rows so far, the copies required. */
struct list_ctx {
        enum out_format fmt;
        size_t n;
        int copies;
};
int parse_format(const char *opt, enum out_format *fmt);
/* "2026-11-25", "2026-11-25T08:00[:00][Z]" (UTC) to the catalog's time form;
 * -EINVAL with a message naming the option otherwise. */
int parse_when(const char *opt, const char *s, char out[32]);

/* --from / --to (getopt codes 'f' and 't'): parses optarg into bufs and
 * points *from or *to at it. Returns 1 when ch was one of them, 0 when not,
 * -1 on a time that does not parse (the message is printed). */
int period_opt(int ch, char bufs[2][32], const char **from, const char **to);

/* verbs_records.c */
int cmd_ingest(struct ctx *c, int argc, char **argv);
int cmd_catalog(struct ctx *c, int argc, char **argv);
int cmd_list(struct ctx *c, int argc, char **argv);
int cmd_alarms(struct ctx *c, int argc, char **argv);

/* verbs_archive.c */
int cmd_manifests(struct ctx *c, int argc, char **argv);
int cmd_manifest(struct ctx *c, int argc, char **argv);
int cmd_key(struct ctx *c, int argc, char **argv);
int cmd_archive(struct ctx *c, int argc, char **argv);
int cmd_audit(struct ctx *c, int argc, char **argv);

/* verbs_ledger.c */
/* ID (a positive number) as the first of `positional` arguments and a
 * non-empty --reason; else prints usage_text and returns EXIT_USAGE. */
int recording_and_reason(int argc, char **argv, const char *usage_text, int64_t *id, const char **reason,
                         int positional);
int cmd_officers(struct ctx *c, int argc, char **argv);
int cmd_devices(struct ctx *c, int argc, char **argv);
int cmd_device(struct ctx *c, int argc, char **argv);
int cmd_assign(struct ctx *c, int argc, char **argv);
int cmd_unassign(struct ctx *c, int argc, char **argv);
int cmd_assignments(struct ctx *c, int argc, char **argv);
int cmd_compliance(struct ctx *c, int argc, char **argv);
int cmd_justify(struct ctx *c, int argc, char **argv);
int cmd_reattribute(struct ctx *c, int argc, char **argv);

/* verbs_report.c */
int cmd_custody(struct ctx *c, int argc, char **argv);

/* verbs_mhl.c */
int cmd_mhl(struct ctx *c, int argc, char **argv);

/* verbs_custody.c */
int cmd_hold(struct ctx *c, int argc, char **argv);
int cmd_retention(struct ctx *c, int argc, char **argv);
int cmd_scrub(struct ctx *c, int argc, char **argv);
int cmd_destroy(struct ctx *c, int argc, char **argv);
