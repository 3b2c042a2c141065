/* audit.h — the tamper-evident audit chain and the roles that gate changes.
 *
 * Roles come from Unix groups ([roles] in dockd.conf): operator (status),
 * custodian (ledger changes), admin (retention, destruction, configuration);
 * root is admin. Each audit row's SHA-256 covers its fields and the previous
 * row's SHA-256 (length-prefixed, so no two rows hash alike by shifting text
 * between fields). */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "catalog.h"
#include "config.h"

enum role { ROLE_NONE, ROLE_OPERATOR, ROLE_CUSTODIAN, ROLE_ADMIN };
const char *role_name(enum role r);
/* The highest role of the process at the other end of the AF_UNIX socket,
 * from its credentials (SO_PEERCRED, SO_PEERGROUPS) and cfg's [roles]; name
 * gets its login name, *uid (if uid) its uid ((uid_t)-1 unknown). root and
 * dockd's own user are admin. */
enum role peer_role(const struct config *cfg, int sock, char *name, size_t name_size, uid_t *uid);
/* The group that grants role r, for messages. */
const char *role_group(const struct config *cfg, enum role r);

/* Appends a row; joins the caller's transaction or makes its own. */
int audit_append(struct catalog *cat, const char *who, const char *role, const char *action, const char *object,
                 const char *why);

/* Walks the chain. Returns 0 and *n rows when intact; -EBADMSG with what is
 * wrong, naming the first bad row, in err. */
int audit_verify(struct catalog *cat, int64_t *n, char *err, size_t err_size);
/* The newest row: id and SHA-256 ("" and 0 when the chain is empty). */
int audit_head(struct catalog *cat, int64_t *id, char sha256[65]);
