/* catalog_ledger.c — the custodian's ledger in the catalog: officers,
 * devices and their status, assignments, the ledger's counts. Part of the
 * catalog module: all SQL of dockd is in catalog*.c. */
#include "catalog_internal.h"
#include "util.h"

int catalog_officer_add(struct catalog *c, const char *badge, const char *name, const char *unit, const char *by,
                        char *err, size_t err_size)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c, "INSERT INTO officers (badge, name, unit, created_at, created_by) VALUES (?, ?, ?, ?, ?)",
                        &st);
        if (r < 0)
                return r;
        bind_text(st, 1, badge);
        bind_text(st, 2, name);
        bind_text(st, 3, unit && *unit ? unit : NULL);
        bind_text(st, 4, now);
        bind_text(st, 5, by);
        r = step_done(c, st);
        if (r == -EEXIST)
                snprintf(err, err_size, "officer badge '%s' is already registered", badge);
        else if (r < 0)
                snprintf(err, err_size, "%s", sqlite3_errmsg(c->db));
        return r;
}

int catalog_officers_foreach(struct catalog *c, officer_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "SELECT o.id, o.badge, o.name, o.unit, o.created_at,"
                        " (SELECT group_concat(d.serial, ' ') FROM assignments a JOIN devices d ON d.id = a.device_id"
                        "  WHERE a.officer_id = o.id AND a.end_at IS NULL)"
                        " FROM officers o ORDER BY o.badge",
                        &st);
        if (r < 0)
                return r;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct officer_info o = { .id = sqlite3_column_int64(st, 0),
                                          .badge = col(st, 1),
                                          .name = col(st, 2),
                                          .unit = col(st, 3),
                                          .created_at = col(st, 4),
                                          .devices_now = col(st, 5) };
                if ((r = cb(&o, userdata)) < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_device_add(struct catalog *c, const char *serial, const char *model, const char *notes, char *err,
                       size_t err_size)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c, "INSERT INTO devices (serial, model, notes, first_seen) VALUES (?, ?, ?, ?)", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, serial);
        bind_text(st, 2, model);
        bind_text(st, 3, notes);
        bind_text(st, 4, now);
        r = step_done(c, st);
        if (r == -EEXIST)
                snprintf(err, err_size, "device '%s' is already registered", serial);
        return r;
}

int catalog_device_update(struct catalog *c, const char *serial, const char *status, const char *notes, char *err,
                          size_t err_size)
{
        static const char *const states[] = { "in-service", "repair", "lost", "retired" };
        bool known = !status;
        for (size_t i = 0; i < ELEMENTSOF(states) && !known; i++)
                known = strcmp(status, states[i]) == 0;
        if (!known) {
                snprintf(err, err_size, "status '%s' is not one of: in-service, repair, lost, retired", status);
                return -EINVAL;
        }
        int64_t id = 0;
        int r = device_id(c, serial, &id, err, err_size);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if ((r = prepare(c, "UPDATE devices SET status = coalesce(?, status), notes = coalesce(?, notes) WHERE id = ?",
                         &st)) < 0)
                return r;
        bind_text(st, 1, status);
        bind_text(st, 2, notes);
        sqlite3_bind_int64(st, 3, id);
        return step_done(c, st);
}

int catalog_devices_foreach(struct catalog *c, const char *serial, device_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "SELECT d.serial, d.vendor, d.model, d.status, d.notes, d.first_seen, d.identity_flag,"
                        " (SELECT o.badge FROM assignments a JOIN officers o ON o.id = a.officer_id"
                        "  WHERE a.device_id = d.id AND a.end_at IS NULL),"
                        " (SELECT max(s.started_at) FROM dock_sessions s WHERE s.device_id = d.id),"
                        " (SELECT s.clock_offset_s FROM dock_sessions s WHERE s.device_id = d.id"
                        "  AND s.clock_offset_s IS NOT NULL ORDER BY s.id DESC LIMIT 1),"
                        " (SELECT count(*) FROM recordings x WHERE x.device_id = d.id),"
                        " (SELECT count(*) FROM dock_sessions s WHERE s.device_id = d.id)"
                        " FROM devices d WHERE d.serial = ?1 OR ?1 IS NULL ORDER BY d.serial",
                        &st);
        if (r < 0)
                return r;
        bind_text(st, 1, serial);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct device_info d = {
                        .serial = col(st, 0),
                        .vendor = col(st, 1),
                        .model = col(st, 2),
                        .status = col(st, 3),
                        .notes = col(st, 4),
                        .first_seen = col(st, 5),
                        .identity_flag = col(st, 6),
                        .officer_now = col(st, 7),
                        .last_docked = col(st, 8),
                        .has_clock_offset = sqlite3_column_type(st, 9) != SQLITE_NULL,
                        .clock_offset_s = sqlite3_column_int64(st, 9),
                        .recordings = sqlite3_column_int64(st, 10),
                        .sessions = sqlite3_column_int64(st, 11),
                };
                if ((r = cb(&d, userdata)) < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

/* The assignment of the device that overlaps [start, end) (end NULL: open). */
static int overlapping(struct catalog *c, int64_t dev, const char *start, const char *end, char *err, size_t err_size)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "SELECT o.badge, o.name, a.start_at, a.end_at FROM assignments a"
                        " JOIN officers o ON o.id = a.officer_id WHERE a.device_id = ?1"
                        " AND (a.end_at IS NULL OR a.end_at > ?2) AND (?3 IS NULL OR a.start_at < ?3)"
                        " ORDER BY a.start_at LIMIT 1",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, dev);
        bind_text(st, 2, start);
        bind_text(st, 3, end);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return 0;
        if (rc != SQLITE_ROW)
                return sql_err(c, rc);
        snprintf(err, err_size, "overlaps the assignment to %s (%s) from %s %s%s", col(st, 0), col(st, 1), col(st, 2),
                 col(st, 3) ? "to " : "with no check-in yet", col(st, 3) ? col(st, 3) : "");
        return -EEXIST;
}

int catalog_assign(struct catalog *c, const char *serial, const char *badge, const char *at, const char *by, char *err,
                   size_t err_size)
{
        int64_t dev = 0, off = 0;
        int r;
        if ((r = device_id(c, serial, &dev, err, err_size)) < 0 || (r = officer_id(c, badge, &off, err, err_size)) < 0)
                return r;
        /* A check-out in the past must end before the next one began. */
        _cleanup_stmt_ sqlite3_stmt *nx = NULL;
        if ((r = prepare(c, "SELECT min(start_at) FROM assignments WHERE device_id = ? AND start_at > ?", &nx)) < 0)
                return r;
        sqlite3_bind_int64(nx, 1, dev);
        bind_text(nx, 2, at);
        if (sqlite3_step(nx) == SQLITE_ROW && col(nx, 0)) {
                snprintf(err, err_size, "%s: a later assignment starts at %s; an open check-out at %s would overlap it",
                         serial, col(nx, 0), at);
                return -EEXIST;
        }
        char why[400];
        if ((r = overlapping(c, dev, at, NULL, why, sizeof(why))) < 0) {
                if (r == -EEXIST)
                        snprintf(err, err_size, "%s to %s at %s refused: %s", serial, badge, at, why);
                return r;
        }
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        if ((r = prepare(c,
                         "INSERT INTO assignments (device_id, officer_id, start_at, created_by, created_at)"
                         " VALUES (?, ?, ?, ?, ?)",
                         &st)) < 0)
                return r;
        sqlite3_bind_int64(st, 1, dev);
        sqlite3_bind_int64(st, 2, off);
        bind_text(st, 3, at);
        bind_text(st, 4, by);
        bind_text(st, 5, now);
        return step_done(c, st);
}

int catalog_unassign(struct catalog *c, const char *serial, const char *at, const char *by, char *err, size_t err_size)
{
        int64_t dev = 0;
        int r = device_id(c, serial, &dev, err, err_size);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        if ((r = prepare(c, "SELECT id, start_at FROM assignments WHERE device_id = ? AND end_at IS NULL", &q)) < 0)
                return r;
        sqlite3_bind_int64(q, 1, dev);
        if (sqlite3_step(q) != SQLITE_ROW) {
                snprintf(err, err_size, "%s is not checked out to anyone", serial);
                return -ENOENT;
        }
        int64_t id = sqlite3_column_int64(q, 0);
        if (strcmp(at, col(q, 1)) <= 0) {
                snprintf(err, err_size, "%s: check-in at %s is not after its check-out at %s", serial, at, col(q, 1));
                return -EINVAL;
        }
        (void)by; /* who checks in is in the audit chain (custody issue) */
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if ((r = prepare(c, "UPDATE assignments SET end_at = ? WHERE id = ?", &st)) < 0)
                return r;
        bind_text(st, 1, at);
        sqlite3_bind_int64(st, 2, id);
        return step_done(c, st);
}

int catalog_assignments_foreach(struct catalog *c, const char *serial, const char *badge, assignment_cb cb,
                                void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
#define ASSIGNMENT_SELECT                                                                                              \
        "SELECT a.id, d.serial, o.badge, o.name, a.start_at, a.end_at, a.created_by FROM assignments a"                \
        " JOIN devices d ON d.id = a.device_id JOIN officers o ON o.id = a.officer_id"
        int r = prepare(c,
                        serial  ? ASSIGNMENT_SELECT " WHERE a.device_id = (SELECT id FROM devices WHERE serial = ?1)"
                                                    " AND (?2 IS NULL OR o.badge = ?2) ORDER BY a.start_at, a.id"
                        : badge ? ASSIGNMENT_SELECT " WHERE a.officer_id = (SELECT id FROM officers WHERE badge = ?2)"
                                                    " ORDER BY a.start_at, a.id"
                                : ASSIGNMENT_SELECT " ORDER BY a.start_at, a.id",
                        &st);
        if (r < 0)
                return r;
        bind_text(st, 1, serial);
        bind_text(st, 2, badge);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct assignment_info a = { .id = sqlite3_column_int64(st, 0),
                                             .serial = col(st, 1),
                                             .badge = col(st, 2),
                                             .name = col(st, 3),
                                             .start_at = col(st, 4),
                                             .end_at = col(st, 5),
                                             .created_by = col(st, 6) };
                if ((r = cb(&a, userdata)) < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_ledger_counts(struct catalog *c, int64_t clock_max_s, const char *since, struct ledger_counts *out)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        memset(out, 0, sizeof(*out));
        int r = prepare(c,
                        "WITH latest AS (SELECT d.id AS device_id, (SELECT s.clock_offset_s FROM dock_sessions s"
                        "  WHERE s.device_id = d.id AND s.clock_offset_s IS NOT NULL ORDER BY s.id DESC LIMIT 1)"
                        "  AS clock_offset_s FROM devices d)"
                        " SELECT (SELECT count(*) FROM latest WHERE abs(clock_offset_s) > ?1),"
                        " (SELECT d.serial FROM latest l JOIN devices d ON d.id = l.device_id"
                        "  WHERE abs(l.clock_offset_s) > ?1 LIMIT 1),"
                        " (SELECT count(*) FROM recordings WHERE officer_id IS NULL AND time_source IS NOT NULL),"
                        " (SELECT count(*) FROM deleted_entries e JOIN dock_sessions s ON s.id = e.session_id"
                        "  WHERE s.started_at >= ?2),"
                        " (SELECT count(*) FROM recordings WHERE lost_at IS NOT NULL),"
                        " (SELECT count(DISTINCT f.session_id) FROM session_findings f JOIN dock_sessions s"
                        "  ON s.id = f.session_id WHERE f.blocking AND s.started_at >= ?2),"
                        " (SELECT d.serial FROM session_findings f JOIN dock_sessions s ON s.id = f.session_id"
                        "  JOIN devices d ON d.id = s.device_id WHERE f.blocking AND s.started_at >= ?2"
                        "  ORDER BY f.id DESC LIMIT 1)",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, clock_max_s);
        bind_text(st, 2, since);
        if (sqlite3_step(st) != SQLITE_ROW)
                return sql_err(c, sqlite3_errcode(c->db));
        out->clock_devices = sqlite3_column_int64(st, 0);
        copy_col(st, 1, out->clock_example, sizeof(out->clock_example), NULL);
        out->unattributed = sqlite3_column_int64(st, 2);
        out->deleted_recent = sqlite3_column_int64(st, 3);
        out->lost = sqlite3_column_int64(st, 4);
        out->unread_sessions = sqlite3_column_int64(st, 5);
        copy_col(st, 6, out->unread_example, sizeof(out->unread_example), NULL);
        return 0;
}

const char *const catalog_session_states[5] = { "ingesting", "complete", "incomplete", "interrupted", "failed" };

/* From the counts the triggers of migration 021 keep in the same transaction
 * as each change: a scrape costs the same at 5 M recordings as at 5. */
int catalog_metrics_get(struct catalog *c, int copies_required, struct catalog_metrics *m)
{
        memset(m, 0, sizeof(*m));
        _cleanup_stmt_ sqlite3_stmt *s = NULL, *t = NULL, *n = NULL;
        int r;
        if ((r = prepare(c, "SELECT state, n FROM count_sessions", &s)) < 0 ||
            (r = prepare(c,
                         "SELECT t.name, coalesce((SELECT k.n FROM count_copies k WHERE k.target_id = t.id), 0)"
                         " FROM targets t ORDER BY t.name",
                         &t)) < 0 ||
            (r = prepare(
                     c, "SELECT coalesce(sum(n), 0), coalesce(sum(CASE WHEN copies < ? THEN n END), 0) FROM count_live",
                     &n)) < 0)
                return r;
        while (sqlite3_step(s) == SQLITE_ROW)
                for (size_t i = 0; i < 5; i++)
                        if (col(s, 0) && strcmp(col(s, 0), catalog_session_states[i]) == 0)
                                m->sessions[i] = sqlite3_column_int64(s, 1);
        while (m->n_targets < ELEMENTSOF(m->targets) && sqlite3_step(t) == SQLITE_ROW) {
                copy_col(t, 0, m->targets[m->n_targets].name, sizeof(m->targets[0].name), NULL);
                m->targets[m->n_targets++].copies = sqlite3_column_int64(t, 1);
        }
        sqlite3_bind_int(n, 1, copies_required);
        if (sqlite3_step(n) != SQLITE_ROW)
                return sql_err(c, sqlite3_errcode(c->db));
        m->recordings = sqlite3_column_int64(n, 0);
        m->under_copied = sqlite3_column_int64(n, 1);
        return 0;
}

int catalog_counts_check(struct catalog *c, char *what, size_t size)
{
        /* each row: a kept count and the same counted from the rows, each
         * counted once; a key on one side only is 0 on the other */
        static const char *const sql =
                "WITH sessions AS (SELECT state, count(*) AS n FROM dock_sessions GROUP BY state),"
                " copies_by AS (SELECT target_id, count(*) AS n FROM copies GROUP BY target_id),"
                " live AS (SELECT k, count(*) AS n FROM (SELECT (SELECT count(*) FROM copies c"
                "  WHERE c.recording_id = r.id) AS k FROM recordings r WHERE r.destroyed_at IS NULL) GROUP BY k),"
                " delivered AS (SELECT delivered_at IS NOT NULL AS d, count(*) AS n FROM manifests GROUP BY d)"
                " SELECT 'sessions ' || coalesce(k.state, x.state), coalesce(k.n, 0), coalesce(x.n, 0)"
                "  FROM count_sessions k FULL JOIN sessions x ON x.state = k.state"
                " UNION ALL SELECT 'copies on target ' || t.id, coalesce(k.n, 0), coalesce(x.n, 0)"
                "  FROM targets t LEFT JOIN count_copies k ON k.target_id = t.id"
                "  LEFT JOIN copies_by x ON x.target_id = t.id"
                " UNION ALL SELECT 'live recordings with ' || coalesce(k.copies, x.k) || ' copies', coalesce(k.n, 0),"
                "  coalesce(x.n, 0) FROM count_live k FULL JOIN live x ON x.k = k.copies"
                " UNION ALL SELECT 'manifests delivered=' || coalesce(k.delivered, x.d), coalesce(k.n, 0),"
                "  coalesce(x.n, 0) FROM count_manifests k FULL JOIN delivered x ON x.d = k.delivered";
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, sql, &st), rc;
        if (r < 0)
                return r;
        what[0] = '\0';
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
                if (sqlite3_column_int64(st, 1) != sqlite3_column_int64(st, 2)) {
                        snprintf(what, size, "%s: kept %lld, counted %lld", col(st, 0) ? col(st, 0) : "?",
                                 (long long)sqlite3_column_int64(st, 1), (long long)sqlite3_column_int64(st, 2));
                        return 1;
                }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_officer_assigned_at(struct catalog *c, const char *serial, const char *at, char *badge, size_t size)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        badge[0] = '\0';
        int r = prepare(c,
                        "SELECT o.badge FROM assignments a JOIN devices d ON d.id = a.device_id"
                        " JOIN officers o ON o.id = a.officer_id WHERE d.serial = ?1 AND a.start_at <= ?2"
                        " AND (a.end_at IS NULL OR a.end_at > ?2) LIMIT 1",
                        &st);
        if (r < 0)
                return r;
        bind_text(st, 1, serial);
        bind_text(st, 2, at);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                copy_col(st, 0, badge, size, NULL);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}
