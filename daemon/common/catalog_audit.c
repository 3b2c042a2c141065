/* catalog_audit.c — the audit chain's rows in the catalog (audit.c computes
 * and checks the chain). Part of the catalog module. */
#include "catalog_internal.h"
#include "util.h"

bool catalog_in_transaction(struct catalog *c) { return !sqlite3_get_autocommit(c->db); }

int catalog_audit_last(struct catalog *c, int64_t *id, char sha256[65])
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        *id = 0;
        sha256[0] = '\0';
        int r = prepare(c, "SELECT id, sha256 FROM audit ORDER BY id DESC LIMIT 1", &st);
        if (r < 0)
                return r;
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *id = sqlite3_column_int64(st, 0);
                copy_col(st, 1, sha256, 65, NULL);
        }
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_audit_insert(struct catalog *c, const struct audit_row *a)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "INSERT INTO audit (id, at, who, role, action, object, why, prev_sha256, sha256)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, a->id);
        bind_text(st, 2, a->at);
        bind_text(st, 3, a->who);
        bind_text(st, 4, a->role);
        bind_text(st, 5, a->action);
        bind_text(st, 6, a->object);
        bind_text(st, 7, a->why);
        bind_text(st, 8, a->prev_sha256);
        bind_text(st, 9, a->sha256);
        return step_done(c, st);
}

int catalog_audit_foreach(struct catalog *c, const struct audit_filter *f, audit_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "SELECT id, at, who, role, action, object, why, prev_sha256, sha256 FROM audit"
                        " WHERE (?1 IS NULL OR who = ?1) AND (?2 IS NULL OR action = ?2)"
                        " AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4) ORDER BY id",
                        &st);
        if (r < 0)
                return r;
        if (f) {
                bind_text(st, 1, f->who);
                bind_text(st, 2, f->action);
                bind_text(st, 3, f->from);
                bind_text(st, 4, f->to);
        }
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct audit_row a = { .id = sqlite3_column_int64(st, 0),
                                       .at = col(st, 1),
                                       .who = col(st, 2),
                                       .role = col(st, 3),
                                       .action = col(st, 4),
                                       .object = col(st, 5),
                                       .why = col(st, 6),
                                       .prev_sha256 = col(st, 7),
                                       .sha256 = col(st, 8) };
                if ((r = cb(&a, userdata)) < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}
