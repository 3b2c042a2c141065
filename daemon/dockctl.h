/* dockctl.h — what the dockctl command files share. */
#pragma once
#include <stdbool.h>

#include "audit.h"
#include "catalog.h"
#include "config.h"
#include "output.h"

#define EXIT_USAGE 2
#define EXIT_INCOMPLETE 3

struct ctx {
        struct config cfg;
        struct catalog *cat;
        enum role role;         /* of the person running dockctl (audit.h) */
        bool accept_new;        /* `catalog accept-new`: skip the station check */
};

/* 0 if the caller holds `need` (or more); else says which role and group
 * `what` needs and returns EXIT_DENIED. */
#define EXIT_DENIED 4
int require_role(struct ctx *c, enum role need, const char *what);
/* A change and its audit row in one transaction: begin, then the change,
 * then audited() commits with the row (or rolls back). */
int change_begin(struct ctx *c);
int audited(struct ctx *c, int r, const char *action, const char *object, const char *why);
/* An export of the ledger (--json/--csv) is audited too. */
void audit_export(struct ctx *c, const char *what, const char *filter);

int open_catalog(struct ctx *c);
int parse_format(const char *opt, enum out_format *fmt);
/* The person at the keyboard, for the ledger's "who" (login name of the real uid). */
const char *who(void);
/* "2026-11-25", "2026-11-25T08:00[:00][Z]" (UTC) to the catalog's time form;
 * -EINVAL with a message naming the option otherwise. */
int parse_when(const char *opt, const char *s, char out[32]);

/* --from / --to (getopt codes 'f' and 't'): parses optarg into bufs and
 * points *from or *to at it. Returns 1 when ch was one of them, 0 when not,
 * -1 on a time that does not parse (the message is printed). */
int period_opt(int ch, char bufs[2][32], const char **from, const char **to);

/* dockctl_ledger.c */
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

/* dockctl_custody.c */
int cmd_hold(struct ctx *c, int argc, char **argv);
int cmd_retention(struct ctx *c, int argc, char **argv);
int cmd_scrub(struct ctx *c, int argc, char **argv);
int cmd_destroy(struct ctx *c, int argc, char **argv);
