/* catalog_report.c — one recording's chain of custody, as `dockctl custody`
 * reports it: the sessions that touched it, the audit rows that name it or
 * them, its scrub findings, the holds that cover it, its retention. Part of
 * the catalog module. */
#include "catalog_internal.h"
#include "util.h"

int catalog_custody_sessions(struct catalog *c, int64_t rec_id, int64_t *ids, size_t max, size_t *n)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "SELECT first_session_id FROM recordings WHERE id = ?1 AND first_session_id IS NOT NULL"
                        " UNION SELECT session_id FROM copies WHERE recording_id = ?1 ORDER BY 1",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, rec_id);
        *n = 0;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                if (*n < max)
                        ids[(*n)++] = sqlite3_column_int64(st, 0);
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_custody_audit(struct catalog *c, int64_t rec_id, audit_cb cb, void *ud)
{
        /* the rows naming the recording, its sessions (the session's end, its
         * wipe) and the custody reports read of it, in the chain's order */
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "SELECT a.id, a.at, a.who, a.role, a.action, a.object, a.why FROM audit a"
                        " WHERE a.object = 'recording ' || ?1"
                        " OR (a.action = 'read' AND a.object = 'custody' AND (a.why = ?1 OR a.why GLOB ?1 || ' *'))"
                        " OR EXISTS (SELECT 1 FROM (SELECT first_session_id AS sid FROM recordings WHERE id = ?1"
                        "   UNION SELECT session_id FROM copies WHERE recording_id = ?1) s"
                        "   WHERE a.object GLOB 'session ' || s.sid || ' device *'"
                        "   OR a.object GLOB 'device * session ' || s.sid)"
                        " ORDER BY a.id",
                        &st);
        if (r < 0)
                return r;
        _cleanup_free_ char *idtext = xasprintf("%lld", (long long)rec_id);
        bind_text(st, 1, idtext);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct audit_row row = { .id = sqlite3_column_int64(st, 0),
                                         .at = col(st, 1),
                                         .who = col(st, 2),
                                         .role = col(st, 3),
                                         .action = col(st, 4),
                                         .object = col(st, 5),
                                         .why = col(st, 6) };
                if ((r = cb(&row, ud)) != 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_custody_scrubs(struct catalog *c, int64_t rec_id, custody_scrub_cb cb, void *ud)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "SELECT f.at, t.name, f.path, f.finding, f.detail FROM scrub_findings f"
                        " LEFT JOIN targets t ON t.id = f.target_id WHERE f.recording_id = ? ORDER BY f.id",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, rec_id);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                if ((r = cb(col(st, 0), col(st, 1), col(st, 2), col(st, 3), col(st, 4), ud)) != 0)
                        return r;
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_custody_holds(struct catalog *c, int64_t rec_id, hold_cb cb, void *ud)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(
                c,
                "SELECT h.id, h.scope, h.value, h.reason, h.placed_by, h.placed_at, h.released_by, h.released_at,"
                " h.release_reason FROM holds h, recordings r JOIN devices d ON d.id = r.device_id"
                " LEFT JOIN officers o ON o.id = r.officer_id WHERE r.id = ?1 AND"
                " ((h.scope = 'recording' AND h.value = CAST(r.id AS TEXT)) OR (h.scope = 'device' AND h.value = "
                "d.serial)"
                " OR (h.scope = 'officer' AND h.value = o.badge) OR (h.scope = 'case' AND h.value IN"
                " (SELECT case_no FROM case_recordings WHERE recording_id = r.id))) ORDER BY h.id",
                &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, rec_id);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct hold_info h = hold_row(st);
                h.recordings = 1;
                if ((r = cb(&h, ud)) != 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_custody_retention(struct catalog *c, int64_t rec_id, char *cls, size_t cls_size, char *scrubbed,
                              size_t scrubbed_size)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "SELECT coalesce(r.retention_class, 'default'), (SELECT max(scrubbed_at) FROM copies"
                        " WHERE recording_id = r.id) FROM recordings r WHERE r.id = ?",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, rec_id);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                return rc == SQLITE_DONE ? -ENOENT : sql_err(c, rc);
        copy_col(st, 0, cls, cls_size, NULL);
        copy_col(st, 1, scrubbed, scrubbed_size, NULL);
        return 0;
}
