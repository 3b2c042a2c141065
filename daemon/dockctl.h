/* dockctl.h — what the dockctl command files share. */
#pragma once
#include "catalog.h"
#include "config.h"
#include "output.h"

#define EXIT_USAGE 2
#define EXIT_INCOMPLETE 3

struct ctx {
        struct config cfg;
        struct catalog *cat;
};

int open_catalog(struct ctx *c);
int parse_format(const char *opt, enum out_format *fmt);
/* The person at the keyboard, for the ledger's "who" (login name of the real uid). */
const char *who(void);
/* "2026-11-25", "2026-11-25T08:00[:00][Z]" (UTC) to the catalog's time form;
 * -EINVAL with a message naming the option otherwise. */
int parse_when(const char *opt, const char *s, char out[32]);

/* dockctl_ledger.c */
int cmd_officers(struct ctx *c, int argc, char **argv);
int cmd_devices(struct ctx *c, int argc, char **argv);
int cmd_device(struct ctx *c, int argc, char **argv);
int cmd_assign(struct ctx *c, int argc, char **argv);
int cmd_unassign(struct ctx *c, int argc, char **argv);
int cmd_assignments(struct ctx *c, int argc, char **argv);
int cmd_compliance(struct ctx *c, int argc, char **argv);
int cmd_justify(struct ctx *c, int argc, char **argv);
int cmd_reattribute(struct ctx *c, int argc, char **argv);
