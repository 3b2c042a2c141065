/* catalog_retention.c — legal holds, retention classes and what is due.
 * Part of the catalog module. */
#include "catalog_internal.h"
#include "util.h"

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
                    (r = prepare(c, "INSERT OR IGNORE INTO case_recordings (case_no, recording_id) VALUES (?, ?)",
                                 &st)) < 0)
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
        if ((r = prepare(c, "INSERT INTO holds (scope, value, reason, placed_by, placed_at) VALUES (?, ?, ?, ?, ?)",
                         &st)) < 0)
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
        int r = prepare(c,
                        "UPDATE holds SET released_by = ?, released_at = ?, release_reason = ?"
                        " WHERE id = ? AND released_at IS NULL",
                        &st);
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
#define HOLD_COVERS                                                                                                    \
        "((h.scope = 'recording' AND h.value = CAST(r.id AS TEXT))"                                                    \
        " OR (h.scope = 'officer' AND h.value = (SELECT badge FROM officers WHERE id = r.officer_id))"                 \
        " OR (h.scope = 'device' AND h.value = (SELECT serial FROM devices WHERE id = r.device_id))"                   \
        " OR (h.scope = 'case' AND EXISTS (SELECT 1 FROM case_recordings k WHERE k.case_no = h.value"                  \
        "  AND k.recording_id = r.id)))"

int catalog_holds_foreach(struct catalog *c, bool active_only, hold_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "SELECT h.id, h.scope, h.value, h.reason, h.placed_by, h.placed_at, h.released_by,"
                        " h.released_at, h.release_reason,"
                        " (SELECT count(*) FROM recordings r WHERE " HOLD_COVERS ")"
                        " FROM holds h WHERE ?1 = 0 OR h.released_at IS NULL ORDER BY h.id",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int(st, 1, active_only);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct hold_info h = hold_row(st);
                h.recordings = sqlite3_column_int64(st, 9);
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
        int r = prepare(
                c,
                "SELECT h.id FROM recordings r, holds h WHERE r.id = ? AND h.released_at IS NULL AND " HOLD_COVERS
                " ORDER BY h.id LIMIT 1",
                &st);
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
                int r = prepare(
                        c,
                        "SELECT r.id, r.size, d.serial, r.device_path, o.badge,"
                        " coalesce(r.recorded_end_utc, r.ingested_at, r.hashed_at), r.retention_class,"
                        " strftime('%Y-%m-%dT%H:%M:%S.000Z', coalesce(r.recorded_end_utc, r.ingested_at, r.hashed_at),"
                        "  printf('+%d months', ?2))"
                        " FROM recordings r JOIN devices d ON d.id = r.device_id"
                        " LEFT JOIN officers o ON o.id = r.officer_id"
                        " WHERE r.retention_class = ?1 AND r.destroyed_at IS NULL"
                        " AND strftime('%Y-%m-%dT%H:%M:%S.000Z', coalesce(r.recorded_end_utc, r.ingested_at, "
                        "r.hashed_at),"
                        "  printf('+%d months', ?2)) <= ?3"
                        " AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.released_at IS NULL AND " HOLD_COVERS ")"
                        " ORDER BY r.id",
                        &st);
                if (r < 0)
                        return r;
                bind_text(st, 1, classes->c[k].name);
                sqlite3_bind_int(st, 2, (int)classes->c[k].months);
                bind_text(st, 3, now);
                int rc;
                while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                        struct due_info d = { .id = sqlite3_column_int64(st, 0),
                                              .size = sqlite3_column_int64(st, 1),
                                              .device = col(st, 2),
                                              .device_path = col(st, 3),
                                              .officer = col(st, 4),
                                              .recorded_end_utc = col(st, 5),
                                              .retention_class = col(st, 6),
                                              .due_at = col(st, 7) };
                        if ((r = cb(&d, userdata)) < 0)
                                return r;
                }
                if (rc != SQLITE_DONE)
                        return sql_err(c, rc);
        }
        return 0;
}

int catalog_object_holds_due(struct catalog *c, object_hold_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "SELECT recording_id, target_id, name, path, version_id, held FROM ("
                        " SELECT k.recording_id, k.target_id, t.name, k.path, k.version_id,"
                        "  coalesce(k.legal_hold, 0) AS was,"
                        "  EXISTS (SELECT 1 FROM recordings r, holds h WHERE r.id = k.recording_id"
                        "   AND h.released_at IS NULL AND " HOLD_COVERS ") AS held"
                        " FROM copies k JOIN targets t ON t.id = k.target_id"
                        " WHERE t.type = 's3' AND k.version_id IS NOT NULL)"
                        " WHERE held <> was ORDER BY recording_id",
                        &st);
        if (r < 0)
                return r;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct object_hold o = { .rec_id = sqlite3_column_int64(st, 0),
                                         .target_id = sqlite3_column_int64(st, 1),
                                         .target = col(st, 2),
                                         .key = col(st, 3),
                                         .version_id = col(st, 4),
                                         .held = sqlite3_column_int(st, 5) != 0 };
                if ((r = cb(&o, userdata)) < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_object_hold_set(struct catalog *c, int64_t rec_id, int64_t target_id, bool on)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "UPDATE copies SET legal_hold = ? WHERE recording_id = ? AND target_id = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int(st, 1, on);
        sqlite3_bind_int64(st, 2, rec_id);
        sqlite3_bind_int64(st, 3, target_id);
        return step_done(c, st);
}

int catalog_object_retention(struct catalog *c, object_retention_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "SELECT k.recording_id, k.target_id, t.name, k.path, k.version_id, k.retain_until,"
                        " k.verified_at, r.retention_class FROM copies k JOIN targets t ON t.id = k.target_id"
                        " JOIN recordings r ON r.id = k.recording_id"
                        " WHERE t.type = 's3' AND k.version_id IS NOT NULL AND k.retain_until IS NOT NULL"
                        " ORDER BY k.recording_id",
                        &st);
        if (r < 0)
                return r;
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct object_retention o = { .rec_id = sqlite3_column_int64(st, 0),
                                              .target_id = sqlite3_column_int64(st, 1),
                                              .target = col(st, 2),
                                              .key = col(st, 3),
                                              .version_id = col(st, 4),
                                              .retain_until = col(st, 5),
                                              .written_at = col(st, 6),
                                              .retention_class = col(st, 7) };
                if ((r = cb(&o, userdata)) < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_object_retention_set(struct catalog *c, int64_t rec_id, int64_t target_id, const char *retain_until)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "UPDATE copies SET retain_until = ? WHERE recording_id = ? AND target_id = ?", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, retain_until);
        sqlite3_bind_int64(st, 2, rec_id);
        sqlite3_bind_int64(st, 3, target_id);
        return step_done(c, st);
}
