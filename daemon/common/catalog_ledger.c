/* catalog_ledger.c — the custodian's ledger in the catalog: officers, device
 * status, assignments, attribution, the recordings query with its filters,
 * re-attributions and justifications. Part of the catalog module: all SQL of
 * dockd is here or in catalog.c. */
#include "catalog_internal.h"
#include "util.h"

static int one_id(struct catalog *c, const char *sql, const char *key, int64_t *id)
{
        int r = get_id(c, sql, key, id);
        return r == 0 ? -ENOENT : r < 0 ? r : 0;
}

static int device_id(struct catalog *c, const char *serial, int64_t *id, char *err, size_t err_size)
{
        int r = one_id(c, "SELECT id FROM devices WHERE serial = ?", serial, id);
        if (r == -ENOENT)
                snprintf(err, err_size, "no device with serial '%s' (devices are registered when first docked; "
                         "see `dockctl devices`)", serial);
        return r;
}

static int officer_id(struct catalog *c, const char *badge, int64_t *id, char *err, size_t err_size)
{
        int r = one_id(c, "SELECT id FROM officers WHERE badge = ?", badge, id);
        if (r == -ENOENT && err)
                snprintf(err, err_size, "no officer with ID '%s' (add with `dockctl officers add`)", badge);
        return r;
}

int catalog_officer_add(struct catalog *c, const char *badge, const char *name, const char *unit, const char *by,
                        char *err, size_t err_size)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c, "INSERT INTO officers (badge, name, unit, created_at, created_by) VALUES (?, ?, ?, ?, ?)", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, badge);
        bind_text(st, 2, name);
        bind_text(st, 3, unit && *unit ? unit : NULL);
        bind_text(st, 4, now);
        bind_text(st, 5, by);
        r = step_done(c, st);
        if (r == -EEXIST)
                snprintf(err, err_size, "officer ID '%s' is already registered", badge);
        else if (r < 0)
                snprintf(err, err_size, "%s", sqlite3_errmsg(c->db));
        return r;
}

int catalog_officers_foreach(struct catalog *c, officer_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "SELECT o.id, o.badge, o.name, o.unit, o.created_at,"
                           " (SELECT group_concat(d.serial, ' ') FROM assignments a JOIN devices d ON d.id = a.device_id"
                           "  WHERE a.officer_id = o.id AND a.end_at IS NULL)"
                           " FROM officers o ORDER BY o.badge", &st);
        if (r < 0)
                return r;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct officer_info o = { .id = sqlite3_column_int64(st, 0), .badge = col(st, 1), .name = col(st, 2),
                                          .unit = col(st, 3), .created_at = col(st, 4), .devices_now = col(st, 5) };
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
        static const char *const states[] = { "in service", "repair", "lost", "retired" };
        bool known = !status;
        for (size_t i = 0; i < ELEMENTSOF(states) && !known; i++)
                known = strcmp(status, states[i]) == 0;
        if (!known) {
                snprintf(err, err_size, "status '%s' is not one of: in service, repair, lost, retired", status);
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
        int r = prepare(c, "SELECT d.serial, d.vendor, d.model, d.status, d.notes, d.first_seen, d.identity_flag,"
                           " (SELECT o.badge FROM assignments a JOIN officers o ON o.id = a.officer_id"
                           "  WHERE a.device_id = d.id AND a.end_at IS NULL),"
                           " (SELECT max(s.started_at) FROM dock_sessions s WHERE s.device_id = d.id),"
                           " (SELECT s.clock_offset_s FROM dock_sessions s WHERE s.device_id = d.id"
                           "  AND s.clock_offset_s IS NOT NULL ORDER BY s.id DESC LIMIT 1),"
                           " (SELECT count(*) FROM recordings x WHERE x.device_id = d.id),"
                           " (SELECT count(*) FROM dock_sessions s WHERE s.device_id = d.id)"
                           " FROM devices d WHERE d.serial = ?1 OR ?1 IS NULL ORDER BY d.serial", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, serial);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct device_info d = {
                        .serial = col(st, 0), .vendor = col(st, 1), .model = col(st, 2), .status = col(st, 3),
                        .notes = col(st, 4), .first_seen = col(st, 5), .identity_flag = col(st, 6),
                        .officer_now = col(st, 7), .last_docked = col(st, 8),
                        .has_clock_offset = sqlite3_column_type(st, 9) != SQLITE_NULL,
                        .clock_offset_s = sqlite3_column_int64(st, 9), .recordings = sqlite3_column_int64(st, 10),
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
        int r = prepare(c, "SELECT o.badge, o.name, a.start_at, a.end_at FROM assignments a"
                           " JOIN officers o ON o.id = a.officer_id WHERE a.device_id = ?1"
                           " AND (a.end_at IS NULL OR a.end_at > ?2) AND (?3 IS NULL OR a.start_at < ?3)"
                           " ORDER BY a.start_at LIMIT 1", &st);
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
        if ((r = prepare(c, "INSERT INTO assignments (device_id, officer_id, start_at, created_by, created_at)"
                            " VALUES (?, ?, ?, ?, ?)", &st)) < 0)
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
        (void)by;       /* who checks in is in the audit chain (custody issue) */
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
#define ASSIGNMENT_SELECT "SELECT a.id, d.serial, o.badge, o.name, a.start_at, a.end_at, a.created_by FROM assignments a" \
                          " JOIN devices d ON d.id = a.device_id JOIN officers o ON o.id = a.officer_id"
        int r = prepare(c, serial ? ASSIGNMENT_SELECT " WHERE a.device_id = (SELECT id FROM devices WHERE serial = ?1)"
                                                      " AND (?2 IS NULL OR o.badge = ?2) ORDER BY a.start_at, a.id"
                           : badge ? ASSIGNMENT_SELECT " WHERE a.officer_id = (SELECT id FROM officers WHERE badge = ?2)"
                                                       " ORDER BY a.start_at, a.id"
                                   : ASSIGNMENT_SELECT " ORDER BY a.start_at, a.id", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, serial);
        bind_text(st, 2, badge);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct assignment_info a = { .id = sqlite3_column_int64(st, 0), .serial = col(st, 1), .badge = col(st, 2),
                                             .name = col(st, 3), .start_at = col(st, 4), .end_at = col(st, 5),
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
        int r = prepare(c, "WITH latest AS (SELECT s.device_id, s.clock_offset_s FROM dock_sessions s"
                           "  WHERE s.id = (SELECT max(x.id) FROM dock_sessions x WHERE x.device_id = s.device_id"
                           "  AND x.clock_offset_s IS NOT NULL))"
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
                           "  ORDER BY f.id DESC LIMIT 1)", &st);
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

int catalog_metrics_get(struct catalog *c, int copies_required, struct catalog_metrics *m)
{
        memset(m, 0, sizeof(*m));
        _cleanup_stmt_ sqlite3_stmt *s = NULL, *t = NULL, *n = NULL;
        int r;
        if ((r = prepare(c, "SELECT state, count(*) FROM dock_sessions GROUP BY state", &s)) < 0 ||
            (r = prepare(c, "SELECT t.name, (SELECT count(*) FROM copies k WHERE k.target_id = t.id) FROM targets t"
                            " ORDER BY t.name", &t)) < 0 ||
            (r = prepare(c, "SELECT count(*), coalesce(sum((SELECT count(*) FROM copies k WHERE k.recording_id = r.id) < ?),"
                            " 0) FROM recordings r WHERE r.destroyed_at IS NULL", &n)) < 0)
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

int catalog_officer_assigned_at(struct catalog *c, const char *serial, const char *at, char *badge, size_t size)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        badge[0] = '\0';
        int r = prepare(c, "SELECT o.badge FROM assignments a JOIN devices d ON d.id = a.device_id"
                           " JOIN officers o ON o.id = a.officer_id WHERE d.serial = ?1 AND a.start_at <= ?2"
                           " AND (a.end_at IS NULL OR a.end_at > ?2) LIMIT 1", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, serial);
        bind_text(st, 2, at);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                copy_col(st, 0, badge, size, NULL);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

static int set_lag(struct catalog *c, int64_t rec_id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "UPDATE recordings SET lag_s = CAST(round((julianday(ingested_at) - julianday(rec_end_utc))"
                           " * 86400) AS INTEGER) WHERE id = ? AND ingested_at IS NOT NULL AND rec_end_utc IS NOT NULL",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, rec_id);
        return step_done(c, st);
}

int catalog_recording_tag(struct catalog *c, int64_t rec_id, const struct recording_tags *t)
{
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r = prepare(c, "SELECT device_id, time_source FROM recordings WHERE id = ?", &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, rec_id);
        if (sqlite3_step(q) != SQLITE_ROW)
                return -ENOENT;
        if (sqlite3_column_type(q, 1) != SQLITE_NULL)
                return 0;       /* tagged when first copied; later attribution is a custodian's, recorded */
        int64_t dev = sqlite3_column_int64(q, 0);
        /* End the read before the write: a statement left on its row holds a
         * read snapshot, and a write from it fails at once (no busy wait) if
         * another process wrote since (two ingests of one state directory). */
        sqlite3_reset(q);

        /* The assignment covering the recording's start (or end) in station time. */
        const char *when = t->start_utc[0] ? t->start_utc : t->end_utc[0] ? t->end_utc : NULL;
        int64_t assigned = 0;
        if (when) {
                _cleanup_stmt_ sqlite3_stmt *a = NULL;
                if ((r = prepare(c, "SELECT officer_id FROM assignments WHERE device_id = ?1 AND start_at <= ?2"
                                    " AND (end_at IS NULL OR end_at > ?2) LIMIT 1", &a)) < 0)
                        return r;
                sqlite3_bind_int64(a, 1, dev);
                bind_text(a, 2, when);
                if (sqlite3_step(a) == SQLITE_ROW)
                        assigned = sqlite3_column_int64(a, 0);
                sqlite3_reset(a);
        }
        int64_t reported = 0, officer = 0;
        const char *source = NULL, *flag = NULL;
        if (t->device_officer && officer_id(c, t->device_officer, &reported, NULL, 0) < 0)
                reported = 0;
        if (t->device_officer && reported) {
                officer = reported;
                source = "device";
                if (assigned && assigned != reported)
                        flag = "conflict";
        } else if (assigned) {
                officer = assigned;
                source = "assignment";
        }
        if (t->device_officer && !reported)
                flag = "unknown-officer";

        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if ((r = prepare(c, "UPDATE recordings SET rec_start_device = ?, rec_end_device = ?, rec_start_utc = ?,"
                            " rec_end_utc = ?, time_source = ?, duration_s = ?, codec = ?, width = ?, height = ?,"
                            " media_flag = ?, media_error = ?, name_seq = ?, officer_id = ?, officer_source = ?,"
                            " device_officer = ?, assigned_officer_id = ?, attribution_flag = ? WHERE id = ?", &st)) < 0)
                return r;
        bind_text(st, 1, t->start_device[0] ? t->start_device : NULL);
        bind_text(st, 2, t->end_device[0] ? t->end_device : NULL);
        bind_text(st, 3, t->start_utc[0] ? t->start_utc : NULL);
        bind_text(st, 4, t->end_utc[0] ? t->end_utc : NULL);
        bind_text(st, 5, t->time_source);
        if (t->duration_s >= 0)
                sqlite3_bind_double(st, 6, t->duration_s);
        bind_text(st, 7, t->codec[0] ? t->codec : NULL);
        if (t->width > 0) {
                sqlite3_bind_int(st, 8, t->width);
                sqlite3_bind_int(st, 9, t->height);
        }
        bind_text(st, 10, t->media_flag);
        bind_text(st, 11, t->media_error);
        if (t->has_seq)
                sqlite3_bind_int64(st, 12, t->seq);
        if (officer)
                sqlite3_bind_int64(st, 13, officer);
        bind_text(st, 14, source);
        bind_text(st, 15, t->device_officer);
        if (assigned)
                sqlite3_bind_int64(st, 16, assigned);
        bind_text(st, 17, flag);
        sqlite3_bind_int64(st, 18, rec_id);
        if ((r = step_done(c, st)) < 0)
                return r;
        return set_lag(c, rec_id);
}

int catalog_recording_ingested(struct catalog *c, int64_t rec_id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c, "UPDATE recordings SET ingested_at = ? WHERE id = ? AND ingested_at IS NULL", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, now);
        sqlite3_bind_int64(st, 2, rec_id);
        if ((r = step_done(c, st)) < 0)
                return r;
        return set_lag(c, rec_id);
}

int catalog_session_set_wipe(struct catalog *c, int64_t session_id, const char *wipe, bool wiped)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c, "UPDATE dock_sessions SET wipe = ?, wiped_at = ? WHERE id = ?", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, wipe);
        bind_text(st, 2, wiped ? now : NULL);
        sqlite3_bind_int64(st, 3, session_id);
        return step_done(c, st);
}

int catalog_session_set_clock_offset(struct catalog *c, int64_t session_id, int64_t offset_s)
{
        return session_set_int(c, "UPDATE dock_sessions SET clock_offset_s = ? WHERE id = ?", session_id, offset_s);
}

static int recording_exists(struct catalog *c, int64_t rec_id, char *err, size_t err_size)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "SELECT 1 FROM recordings WHERE id = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, rec_id);
        if (sqlite3_step(st) == SQLITE_ROW)
                return 0;
        snprintf(err, err_size, "no recording %lld (see `dockctl recordings`)", (long long)rec_id);
        return -ENOENT;
}

int catalog_reattribute(struct catalog *c, int64_t rec_id, const char *badge, const char *reason, const char *by,
                        char *err, size_t err_size)
{
        int64_t off = 0;
        int r;
        if ((r = recording_exists(c, rec_id, err, err_size)) < 0 || (r = officer_id(c, badge, &off, err, err_size)) < 0)
                return r;
        char now[32];
        time_now_iso(now, sizeof(now));
        bool own = !sqlite3_get_autocommit(c->db) ? false : true;     /* join the caller's transaction */
        if (own && (r = catalog_begin(c)) < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *ins = NULL, *up = NULL;
        if ((r = prepare(c, "INSERT INTO reattributions (recording_id, old_officer_id, new_officer_id, reason, by_user, at)"
                            " SELECT id, officer_id, ?, ?, ?, ? FROM recordings WHERE id = ?", &ins)) < 0)
                goto fail;
        sqlite3_bind_int64(ins, 1, off);
        bind_text(ins, 2, reason);
        bind_text(ins, 3, by);
        bind_text(ins, 4, now);
        sqlite3_bind_int64(ins, 5, rec_id);
        if ((r = step_done(c, ins)) < 0)
                goto fail;
        if ((r = prepare(c, "UPDATE recordings SET officer_id = ?, officer_source = 'custodian', attribution_flag = NULL"
                            " WHERE id = ?", &up)) < 0)
                goto fail;
        sqlite3_bind_int64(up, 1, off);
        sqlite3_bind_int64(up, 2, rec_id);
        if ((r = step_done(c, up)) < 0 || (own && (r = catalog_commit(c)) < 0))
                goto fail;
        return 0;
fail:
        snprintf(err, err_size, "%s", sqlite3_errmsg(c->db));
        if (own)
                catalog_rollback(c);
        return r;
}

int catalog_justify(struct catalog *c, int64_t rec_id, const char *reason, const char *by, char *err, size_t err_size)
{
        int r = recording_exists(c, rec_id, err, err_size);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        if ((r = prepare(c, "INSERT INTO justifications (recording_id, reason, by_user, at) VALUES (?, ?, ?, ?)", &st)) < 0)
                return r;
        sqlite3_bind_int64(st, 1, rec_id);
        bind_text(st, 2, reason);
        bind_text(st, 3, by);
        bind_text(st, 4, now);
        if ((r = step_done(c, st)) < 0)
                snprintf(err, err_size, "%s", sqlite3_errmsg(c->db));
        return r;
}

int catalog_device_seq_gaps(struct catalog *c, const char *serial, gaps_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "SELECT r.first_session_id, r.name_seq FROM recordings r INDEXED BY recordings_device_seq"
                           " WHERE r.device_id = (SELECT id FROM devices WHERE serial = ?) AND r.name_seq IS NOT NULL"
                           " ORDER BY r.first_session_id, r.name_seq", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, serial);
        int64_t gaps[CATALOG_GAPS_SHOWN], high = -1, session = 0;
        size_t n = 0;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                int64_t sid = sqlite3_column_int64(st, 0), seq = sqlite3_column_int64(st, 1);
                if (sid != session) {
                        if (n && (r = cb(session, gaps, n, userdata)) < 0)
                                return r;
                        session = sid;
                        n = 0;
                        if (high < 0)
                                high = seq - 1;         /* the device's first numbers: nothing before */
                }
                for (int64_t k = high + 1; k < seq; k++, n++)
                        if (n < CATALOG_GAPS_SHOWN)
                                gaps[n] = k;
                if (seq > high)
                        high = seq;
        }
        if (rc != SQLITE_DONE)
                return sql_err(c, rc);
        return n ? cb(session, gaps, n, userdata) : 0;
}

int catalog_recordings_foreach(struct catalog *c, const char *serial, int64_t session, recording_cb cb, void *userdata)
{
        struct recording_filter f = { .serial = serial, .session = session };
        return catalog_recordings_query(c, &f, cb, userdata);
}

#define REC_SELECT                                                                                         \
        "SELECT r.id, d.serial, r.device_path, r.size, r.device_mtime, r.sha256, r.hashed_at,"                 \
        " r.first_session_id, r.rec_start_device, r.rec_end_device, r.rec_start_utc, r.rec_end_utc,"            \
        " r.time_source, r.duration_s, r.codec, r.width, r.height, r.media_flag, r.media_error,"                \
        " r.name_seq, o.badge, o.name, r.officer_source, r.device_officer, ao.badge,"                          \
        " r.attribution_flag, r.ingested_at, r.lag_s, j.reason, j.by_user, j.at, r.destroyed_at,"               \
        " r.destruction_request_id FROM recordings r"
#define REC_JOINS                                                                                          \
        " JOIN devices d ON d.id = r.device_id LEFT JOIN officers o ON o.id = r.officer_id"                    \
        " LEFT JOIN officers ao ON ao.id = r.assigned_officer_id"                                              \
        " LEFT JOIN justifications j ON j.id = (SELECT max(id) FROM justifications WHERE recording_id = r.id)"
int catalog_recordings_query(struct catalog *c, const struct recording_filter *f, recording_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL, *cst = NULL, *fst = NULL;
        /* Only the filters in use go into the statement, as plain terms, so
         * SQLite can drive the query from the index that fits: the officer's
         * or the device's recordings by end time, the late ones (a partial
         * index of those over 24 h), or the period. */
        bool late = f->flags & REC_LATE;
        char *sql = NULL;
        size_t len = 0;
        FILE *q = open_memstream(&sql, &len);
        if (!q)
                return -ENOMEM;
        fputs(REC_SELECT, q);
        bool late24 = late && f->late_s >= 86400;
        if (late24 && !f->officer && !f->serial)
                fputs(" INDEXED BY recordings_late24", q);
        fputs(REC_JOINS " WHERE 1", q);
        if (f->serial)
                fputs(" AND r.device_id = (SELECT id FROM devices WHERE serial = ?1)", q);
        if (f->officer)
                fputs(" AND r.officer_id = (SELECT id FROM officers WHERE badge = ?2)", q);
        if (f->from)
                fputs(" AND r.rec_end_utc >= ?3", q);
        if (f->to)
                fputs(" AND r.rec_end_utc < ?4", q);
        if (f->session && late)
                fputs(" AND r.first_session_id = ?5", q);
        else if (f->session)
                fputs(" AND (r.first_session_id = ?5 OR"
                      " EXISTS (SELECT 1 FROM copies k WHERE k.recording_id = r.id AND k.session_id = ?5))", q);
        if (late24)     /* the literal bound is what lets SQLite use the partial index */
                fputs(" AND r.lag_s > 86400", q);
        if (late)
                fputs(" AND r.lag_s > ?6", q);
        if (f->flags & REC_UNATTRIBUTED)
                fputs(" AND r.officer_id IS NULL", q);
        if (f->flags & REC_CONFLICT)
                fputs(" AND r.attribution_flag = 'conflict'", q);
        if (f->flags & REC_TRUNCATED)
                fputs(" AND r.media_flag IS NOT NULL", q);
        if (f->flags & REC_UNJUSTIFIED)
                fputs(" AND j.id IS NULL", q);
        fputs(f->officer || f->from || f->to || late ? " ORDER BY r.rec_end_utc, r.id" : " ORDER BY r.id", q);
        fclose(q);
        int r = prepare(c, sql, &st);
        free(sql);
        if (r < 0 ||
            (r = prepare(c, "SELECT t.name, t.path, c.path, c.verified_at, c.method FROM copies c"
                            " JOIN targets t ON t.id = c.target_id WHERE c.recording_id = ? ORDER BY t.name", &cst)) < 0 ||
            (r = prepare(c, "SELECT coalesce(t.name, 'source') || ': ' || f.error FROM copy_failures f"
                            " LEFT JOIN targets t ON t.id = f.target_id WHERE f.recording_id = ? ORDER BY f.id DESC LIMIT 1",
                         &fst)) < 0)
                return r;
        /* Unused numbers are simply not in the statement. */
        int np = sqlite3_bind_parameter_count(st);
        if (np >= 1)
                bind_text(st, 1, f->serial);
        if (np >= 2)
                bind_text(st, 2, f->officer);
        if (np >= 3)
                bind_text(st, 3, f->from);
        if (np >= 4)
                bind_text(st, 4, f->to);
        if (np >= 5)
                sqlite3_bind_int64(st, 5, f->session);
        if (np >= 6)
                sqlite3_bind_int64(st, 6, f->late_s);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct recording_info ri = {
                        .id = sqlite3_column_int64(st, 0), .device = col(st, 1), .device_path = col(st, 2),
                        .size = sqlite3_column_int64(st, 3), .device_mtime = col(st, 4), .sha256 = col(st, 5),
                        .hashed_at = col(st, 6), .first_session_id = sqlite3_column_int64(st, 7),
                        .rec_start_device = col(st, 8), .rec_end_device = col(st, 9), .rec_start_utc = col(st, 10),
                        .rec_end_utc = col(st, 11), .time_source = col(st, 12),
                        .duration_s = sqlite3_column_type(st, 13) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 13),
                        .codec = col(st, 14), .width = sqlite3_column_int(st, 15), .height = sqlite3_column_int(st, 16),
                        .media_flag = col(st, 17), .media_error = col(st, 18),
                        .has_seq = sqlite3_column_type(st, 19) != SQLITE_NULL, .seq = sqlite3_column_int64(st, 19),
                        .officer = col(st, 20), .officer_name = col(st, 21), .officer_source = col(st, 22),
                        .device_officer = col(st, 23), .assigned_officer = col(st, 24), .attribution_flag = col(st, 25),
                        .ingested_at = col(st, 26), .has_lag = sqlite3_column_type(st, 27) != SQLITE_NULL,
                        .lag_s = sqlite3_column_int64(st, 27), .justification = col(st, 28), .justified_by = col(st, 29),
                        .justified_at = col(st, 30), .destroyed_at = col(st, 31),
                        .destruction_request = sqlite3_column_int64(st, 32),
                };
                if (late && !(ri.has_lag && ri.lag_s > f->late_s))
                        continue;
                sqlite3_reset(cst);
                sqlite3_bind_int64(cst, 1, ri.id);
                /* Text of an earlier row dies at the next step: keep our own. */
                while (ri.n_copies < ELEMENTSOF(ri.copies) && sqlite3_step(cst) == SQLITE_ROW)
                        ri.copies[ri.n_copies++] = (struct copy_info){
                                .target = xstrdup(col(cst, 0)), .target_root = xstrdup(col(cst, 1)),
                                .path = xstrdup(col(cst, 2)), .verified_at = xstrdup(col(cst, 3)),
                                .method = xstrdup(col(cst, 4)),
                        };
                sqlite3_reset(fst);
                sqlite3_bind_int64(fst, 1, ri.id);
                if (sqlite3_step(fst) == SQLITE_ROW)
                        ri.last_failure = col(fst, 0);
                r = cb(&ri, userdata);
                for (size_t i = 0; i < ri.n_copies; i++) {
                        struct copy_info *ci = &ri.copies[i];
                        free((char *)ci->target);
                        free((char *)ci->target_root);
                        free((char *)ci->path);
                        free((char *)ci->verified_at);
                        free((char *)ci->method);
                }
                if (r < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

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
        int r = prepare(c, "INSERT INTO audit (id, at, who, role, action, object, why, prev_sha256, sha256)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", &st);
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
        int r = prepare(c, "SELECT id, at, who, role, action, object, why, prev_sha256, sha256 FROM audit"
                           " WHERE (?1 IS NULL OR who = ?1) AND (?2 IS NULL OR action = ?2)"
                           " AND (?3 IS NULL OR at >= ?3) AND (?4 IS NULL OR at < ?4) ORDER BY id", &st);
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
                struct audit_row a = { .id = sqlite3_column_int64(st, 0), .at = col(st, 1), .who = col(st, 2),
                                       .role = col(st, 3), .action = col(st, 4), .object = col(st, 5), .why = col(st, 6),
                                       .prev_sha256 = col(st, 7), .sha256 = col(st, 8) };
                if ((r = cb(&a, userdata)) < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_hold_add(struct catalog *c, const char *scope, const char *value, const int64_t *recs, size_t n,
                     const char *reason, const char *by, int64_t *id, char *err, size_t err_size)
{
        int r = 0;
        int64_t x;
        if (strcmp(scope, "recording") == 0)
                r = recording_exists(c, strtoll(value, NULL, 10), err, err_size);
        else if (strcmp(scope, "officer") == 0)
                r = officer_id(c, value, &x, err, err_size);
        else if (strcmp(scope, "device") == 0)
                r = device_id(c, value, &x, err, err_size);
        for (size_t i = 0; r >= 0 && i < n; i++) {
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                if ((r = recording_exists(c, recs[i], err, err_size)) < 0 ||
                    (r = prepare(c, "INSERT OR IGNORE INTO case_recordings (case_no, recording_id) VALUES (?, ?)", &st)) < 0)
                        break;
                bind_text(st, 1, value);
                sqlite3_bind_int64(st, 2, recs[i]);
                r = step_done(c, st);
        }
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        if ((r = prepare(c, "INSERT INTO holds (scope, value, reason, placed_by, placed_at) VALUES (?, ?, ?, ?, ?)", &st)) < 0)
                return r;
        bind_text(st, 1, scope);
        bind_text(st, 2, value);
        bind_text(st, 3, reason);
        bind_text(st, 4, by);
        bind_text(st, 5, now);
        if ((r = step_done(c, st)) < 0)
                return r;
        *id = sqlite3_last_insert_rowid(c->db);
        return 0;
}

int catalog_hold_release(struct catalog *c, int64_t id, const char *reason, const char *by, char *err, size_t err_size)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c, "UPDATE holds SET released_by = ?, released_at = ?, release_reason = ?"
                           " WHERE id = ? AND released_at IS NULL", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, by);
        bind_text(st, 2, now);
        bind_text(st, 3, reason);
        sqlite3_bind_int64(st, 4, id);
        if ((r = step_done(c, st)) < 0)
                return r;
        if (sqlite3_changes(c->db) == 0) {
                snprintf(err, err_size, "no active hold %lld (see `dockctl hold list`)", (long long)id);
                return -ENOENT;
        }
        return 0;
}

/* The recordings a hold covers, as a condition on recording r. */
#define HOLD_COVERS                                                                                              \
        "((h.scope = 'recording' AND h.value = CAST(r.id AS TEXT))"                                              \
        " OR (h.scope = 'officer' AND h.value = (SELECT badge FROM officers WHERE id = r.officer_id))"           \
        " OR (h.scope = 'device' AND h.value = (SELECT serial FROM devices WHERE id = r.device_id))"             \
        " OR (h.scope = 'case' AND EXISTS (SELECT 1 FROM case_recordings k WHERE k.case_no = h.value"           \
        "  AND k.recording_id = r.id)))"

int catalog_holds_foreach(struct catalog *c, bool active_only, hold_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "SELECT h.id, h.scope, h.value, h.reason, h.placed_by, h.placed_at, h.released_by,"
                           " h.released_at, h.release_reason,"
                           " (SELECT count(*) FROM recordings r WHERE " HOLD_COVERS ")"
                           " FROM holds h WHERE ?1 = 0 OR h.released_at IS NULL ORDER BY h.id", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int(st, 1, active_only);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct hold_info h = { .id = sqlite3_column_int64(st, 0), .scope = col(st, 1), .value = col(st, 2),
                                       .reason = col(st, 3), .placed_by = col(st, 4), .placed_at = col(st, 5),
                                       .released_by = col(st, 6), .released_at = col(st, 7),
                                       .release_reason = col(st, 8), .recordings = sqlite3_column_int64(st, 9) };
                if ((r = cb(&h, userdata)) < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_recording_set_class(struct catalog *c, int64_t rec_id, const char *cls, char *err, size_t err_size)
{
        int r = recording_exists(c, rec_id, err, err_size);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if ((r = prepare(c, "UPDATE recordings SET retention_class = ? WHERE id = ?", &st)) < 0)
                return r;
        bind_text(st, 1, cls);
        sqlite3_bind_int64(st, 2, rec_id);
        return step_done(c, st);
}

int catalog_recording_held(struct catalog *c, int64_t rec_id, bool *held, int64_t *hold_id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        *held = false;
        int r = prepare(c, "SELECT h.id FROM recordings r, holds h WHERE r.id = ? AND h.released_at IS NULL AND " HOLD_COVERS
                           " ORDER BY h.id LIMIT 1", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, rec_id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *held = true;
                *hold_id = sqlite3_column_int64(st, 0);
        }
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_retention_due(struct catalog *c, const struct retention_classes *classes, const char *now, due_cb cb,
                          void *userdata)
{
        /* One pass per class: its period decides the cut-off on recorded end
         * (ingest time where the end is unknown). */
        for (size_t k = 0; k < classes->n; k++) {
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                int r = prepare(c, "SELECT r.id, r.size, d.serial, r.device_path, o.badge,"
                                   " coalesce(r.rec_end_utc, r.ingested_at, r.hashed_at), r.retention_class,"
                                   " strftime('%Y-%m-%dT%H:%M:%S.000Z', coalesce(r.rec_end_utc, r.ingested_at, r.hashed_at),"
                                   "  printf('+%d months', ?2))"
                                   " FROM recordings r JOIN devices d ON d.id = r.device_id"
                                   " LEFT JOIN officers o ON o.id = r.officer_id"
                                   " WHERE r.retention_class = ?1 AND r.destroyed_at IS NULL"
                                   " AND strftime('%Y-%m-%dT%H:%M:%S.000Z', coalesce(r.rec_end_utc, r.ingested_at, r.hashed_at),"
                                   "  printf('+%d months', ?2)) <= ?3"
                                   " AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.released_at IS NULL AND " HOLD_COVERS ")"
                                   " ORDER BY r.id", &st);
                if (r < 0)
                        return r;
                bind_text(st, 1, classes->c[k].name);
                sqlite3_bind_int(st, 2, (int)classes->c[k].months);
                bind_text(st, 3, now);
                int rc;
                while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                        struct due_info d = { .id = sqlite3_column_int64(st, 0), .size = sqlite3_column_int64(st, 1),
                                              .device = col(st, 2), .device_path = col(st, 3), .officer = col(st, 4),
                                              .rec_end_utc = col(st, 5), .retention_class = col(st, 6),
                                              .due_at = col(st, 7) };
                        if ((r = cb(&d, userdata)) < 0)
                                return r;
                }
                if (rc != SQLITE_DONE)
                        return sql_err(c, rc);
        }
        return 0;
}

#define ITEM_SELECT                                                                                        \
        "SELECT r.id, r.size, r.sha256, d.serial, r.device_path, k.target_id, t.name, t.path, k.path"             \
        " FROM recordings r JOIN devices d ON d.id = r.device_id"                                                 \
        " LEFT JOIN copies k ON k.recording_id = r.id LEFT JOIN targets t ON t.id = k.target_id"

static int walk_items(struct catalog *c, sqlite3_stmt *st, scrub_cb cb, void *userdata);

int catalog_scrub_items(struct catalog *c, const char *since, scrub_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, ITEM_SELECT " WHERE r.sha256 IS NOT NULL AND r.destroyed_at IS NULL"
                                       " AND (?1 IS NULL OR r.ingested_at >= ?1) ORDER BY r.id, t.name", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, since);
        return walk_items(c, st, cb, userdata);
}

int catalog_scrub_totals(struct catalog *c, const char *since, int64_t *recordings, int64_t *bytes)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "SELECT COUNT(DISTINCT r.id), COALESCE(SUM(r.size), 0) FROM recordings r"
                           " JOIN copies k ON k.recording_id = r.id WHERE r.sha256 IS NOT NULL AND r.destroyed_at IS NULL"
                           " AND (?1 IS NULL OR r.ingested_at >= ?1)", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, since);
        if (sqlite3_step(st) != SQLITE_ROW)
                return sql_err(c, sqlite3_errcode(c->db));
        *recordings = sqlite3_column_int64(st, 0);
        *bytes = sqlite3_column_int64(st, 1);
        return 0;
}

int catalog_destruction_items(struct catalog *c, int64_t request_id, scrub_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, ITEM_SELECT " WHERE r.id IN (SELECT recording_id FROM destruction_items WHERE request_id = ?1)"
                                       " ORDER BY r.id, t.name", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, request_id);
        return walk_items(c, st, cb, userdata);
}

static int walk_items(struct catalog *c, sqlite3_stmt *st, scrub_cb cb, void *userdata)
{
        int r;
        struct scrub_item it = { 0 };
        char *owned[4 + 8 * 3] = { 0 };
        size_t n_owned = 0;
        int rc;
        for (;;) {
                rc = sqlite3_step(st);
                int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
                if (it.id && id != it.id) {     /* the previous recording is complete */
                        r = cb(&it, userdata);
                        for (size_t i = 0; i < n_owned; i++)
                                free(owned[i]);
                        n_owned = 0;
                        memset(&it, 0, sizeof(it));
                        if (r < 0)
                                return r;
                }
                if (rc != SQLITE_ROW)
                        break;
                if (!it.id) {
                        it.id = id;
                        it.size = sqlite3_column_int64(st, 1);
                        it.sha256 = owned[n_owned++] = xstrdup(col(st, 2));
                        it.device = owned[n_owned++] = xstrdup(col(st, 3));
                        it.device_path = owned[n_owned++] = xstrdup(col(st, 4));
                }
                if (sqlite3_column_type(st, 5) != SQLITE_NULL && it.n_copies < ELEMENTSOF(it.copies)) {
                        struct scrub_copy *k = &it.copies[it.n_copies++];
                        k->target_id = sqlite3_column_int64(st, 5);
                        k->target = owned[n_owned++] = xstrdup(col(st, 6));
                        k->root = owned[n_owned++] = xstrdup(col(st, 7));
                        k->path = owned[n_owned++] = xstrdup(col(st, 8));
                }
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_scrub_finding(struct catalog *c, int64_t rec_id, int64_t target_id, const char *path, const char *finding,
                          const char *detail)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c, "INSERT INTO scrub_findings (at, recording_id, target_id, path, finding, detail)"
                           " VALUES (?, ?, ?, ?, ?, ?)", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, now);
        sqlite3_bind_int64(st, 2, rec_id);
        if (target_id)
                sqlite3_bind_int64(st, 3, target_id);
        bind_text(st, 4, path);
        bind_text(st, 5, finding);
        bind_text(st, 6, detail);
        return step_done(c, st);
}

int catalog_copy_scrubbed(struct catalog *c, int64_t rec_id, int64_t target_id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c, "UPDATE copies SET scrubbed_at = ? WHERE recording_id = ? AND target_id = ?", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, now);
        sqlite3_bind_int64(st, 2, rec_id);
        sqlite3_bind_int64(st, 3, target_id);
        return step_done(c, st);
}

int catalog_recording_set_lost(struct catalog *c, int64_t rec_id, bool lost)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c, "UPDATE recordings SET lost_at = CASE WHEN ?1 THEN coalesce(lost_at, ?2) END WHERE id = ?3", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int(st, 1, lost);
        bind_text(st, 2, now);
        sqlite3_bind_int64(st, 3, rec_id);
        return step_done(c, st);
}

int catalog_destruction_request(struct catalog *c, const int64_t *recs, size_t n, const char *reason, const char *by,
                                int64_t *id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL, *it = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c, "INSERT INTO destruction_requests (reason, requested_by, requested_at) VALUES (?, ?, ?)", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, reason);
        bind_text(st, 2, by);
        bind_text(st, 3, now);
        if ((r = step_done(c, st)) < 0)
                return r;
        *id = sqlite3_last_insert_rowid(c->db);
        if ((r = prepare(c, "INSERT INTO destruction_items (request_id, recording_id) VALUES (?, ?)", &it)) < 0)
                return r;
        for (size_t i = 0; i < n; i++) {
                sqlite3_reset(it);
                sqlite3_bind_int64(it, 1, *id);
                sqlite3_bind_int64(it, 2, recs[i]);
                if ((r = step_done(c, it)) < 0)
                        return r;
        }
        return 0;
}

int catalog_destructions_foreach(struct catalog *c, int64_t id, destruction_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "SELECT q.id, (SELECT count(*) FROM destruction_items i WHERE i.request_id = q.id), q.reason,"
                           " q.requested_by, q.requested_at, q.approved_by, q.approved_at, q.state, q.detail"
                           " FROM destruction_requests q WHERE ?1 = 0 OR q.id = ?1 ORDER BY q.id", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, id);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct destruction_info d = { .id = sqlite3_column_int64(st, 0), .recordings = sqlite3_column_int64(st, 1),
                                              .reason = col(st, 2), .requested_by = col(st, 3),
                                              .requested_at = col(st, 4), .approved_by = col(st, 5),
                                              .approved_at = col(st, 6), .state = col(st, 7), .detail = col(st, 8) };
                if ((r = cb(&d, userdata)) < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_recording_destroyed(struct catalog *c, int64_t rec_id, int64_t request_id, const char *method)
{
        _cleanup_stmt_ sqlite3_stmt *del = NULL, *up = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r;
        if ((r = prepare(c, "DELETE FROM copies WHERE recording_id = ?", &del)) < 0)
                return r;
        sqlite3_bind_int64(del, 1, rec_id);
        if ((r = step_done(c, del)) < 0)
                return r;
        if ((r = prepare(c, "UPDATE recordings SET destroyed_at = ?, destruction_request_id = ?, destruction_method = ?"
                            " WHERE id = ?", &up)) < 0)
                return r;
        bind_text(up, 1, now);
        sqlite3_bind_int64(up, 2, request_id);
        bind_text(up, 3, method);
        sqlite3_bind_int64(up, 4, rec_id);
        return step_done(c, up);
}

int catalog_destruction_finish(struct catalog *c, int64_t id, const char *approved_by, const char *state,
                               const char *detail)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c, "UPDATE destruction_requests SET approved_by = ?, approved_at = ?, state = ?, detail = ?"
                           " WHERE id = ?", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, approved_by);
        bind_text(st, 2, now);
        bind_text(st, 3, state);
        bind_text(st, 4, detail);
        sqlite3_bind_int64(st, 5, id);
        return step_done(c, st);
}
