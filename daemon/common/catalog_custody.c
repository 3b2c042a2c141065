/* catalog_custody.c — scrub's items, findings and lost recordings, and
 * approved destruction: requests, their items, what was destroyed. Part of
 * the catalog module. */
#include "catalog_internal.h"
#include "util.h"

#define ITEM_SELECT                                                                                                    \
        "SELECT r.id, r.size, r.sha256, d.serial, r.device_path, k.target_id, t.name, t.path, k.path, k.version_id,"   \
        " r.device_mtime"                                                                                              \
        " FROM recordings r JOIN devices d ON d.id = r.device_id"                                                      \
        " LEFT JOIN copies k ON k.recording_id = r.id LEFT JOIN targets t ON t.id = k.target_id"

static int walk_items(struct catalog *c, sqlite3_stmt *st, scrub_cb cb, void *userdata);

int catalog_scrub_items(struct catalog *c, const char *since, scrub_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        ITEM_SELECT " WHERE r.sha256 IS NOT NULL AND r.destroyed_at IS NULL"
                                    " AND (?1 IS NULL OR r.ingested_at >= ?1) ORDER BY r.id, t.name",
                        &st);
        if (r < 0)
                return r;
        bind_text(st, 1, since);
        return walk_items(c, st, cb, userdata);
}

int catalog_scrub_totals(struct catalog *c, const char *since, int64_t *recordings, int64_t *bytes)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "SELECT COUNT(DISTINCT r.id), COALESCE(SUM(r.size), 0) FROM recordings r"
                        " JOIN copies k ON k.recording_id = r.id WHERE r.sha256 IS NOT NULL AND r.destroyed_at IS NULL"
                        " AND (?1 IS NULL OR r.ingested_at >= ?1)",
                        &st);
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
        int r = prepare(c,
                        ITEM_SELECT " WHERE r.id IN (SELECT recording_id FROM destruction_items WHERE request_id = ?1)"
                                    " ORDER BY r.id, t.name",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, request_id);
        return walk_items(c, st, cb, userdata);
}

static int walk_items(struct catalog *c, sqlite3_stmt *st, scrub_cb cb, void *userdata)
{
        int r;
        struct scrub_item it = { 0 };
        char *owned[5 + 8 * 4] = { 0 };
        size_t n_owned = 0;
        int rc;
        for (;;) {
                rc = sqlite3_step(st);
                int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
                if (it.id && id != it.id) { /* the previous recording is complete */
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
                        it.device_mtime = owned[n_owned++] = xstrdup(col(st, 10));
                }
                if (sqlite3_column_type(st, 5) != SQLITE_NULL && it.n_copies < ELEMENTSOF(it.copies)) {
                        struct scrub_copy *k = &it.copies[it.n_copies++];
                        k->target_id = sqlite3_column_int64(st, 5);
                        k->target = owned[n_owned++] = xstrdup(col(st, 6));
                        k->root = owned[n_owned++] = xstrdup(col(st, 7));
                        k->path = owned[n_owned++] = xstrdup(col(st, 8));
                        k->version_id = col(st, 9) ? (owned[n_owned++] = xstrdup(col(st, 9))) : NULL;
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
        int r = prepare(c,
                        "INSERT INTO scrub_findings (at, recording_id, target_id, path, finding, detail)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        &st);
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
        int r = prepare(c, "UPDATE recordings SET lost_at = CASE WHEN ?1 THEN coalesce(lost_at, ?2) END WHERE id = ?3",
                        &st);
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
        int r = prepare(c, "INSERT INTO destruction_requests (reason, requested_by, requested_at) VALUES (?, ?, ?)",
                        &st);
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
        int r = prepare(c,
                        "SELECT q.id, (SELECT count(*) FROM destruction_items i WHERE i.request_id = q.id), q.reason,"
                        " q.requested_by, q.requested_at, q.approved_by, q.approved_at, q.state, q.detail"
                        " FROM destruction_requests q WHERE ?1 = 0 OR q.id = ?1 ORDER BY q.id",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, id);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct destruction_info d = { .id = sqlite3_column_int64(st, 0),
                                              .recordings = sqlite3_column_int64(st, 1),
                                              .reason = col(st, 2),
                                              .requested_by = col(st, 3),
                                              .requested_at = col(st, 4),
                                              .approved_by = col(st, 5),
                                              .approved_at = col(st, 6),
                                              .state = col(st, 7),
                                              .detail = col(st, 8) };
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
        if ((r = prepare(c,
                         "UPDATE recordings SET destroyed_at = ?, destruction_request_id = ?, destruction_method = ?"
                         " WHERE id = ?",
                         &up)) < 0)
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
        int r = prepare(c,
                        "UPDATE destruction_requests SET approved_by = ?, approved_at = ?, state = ?, detail = ?"
                        " WHERE id = ?",
                        &st);
        if (r < 0)
                return r;
        bind_text(st, 1, approved_by);
        bind_text(st, 2, now);
        bind_text(st, 3, state);
        bind_text(st, 4, detail);
        sqlite3_bind_int64(st, 5, id);
        return step_done(c, st);
}

int catalog_copy_moved(struct catalog *c, int64_t rec_id, int64_t target_id, const struct object_copy *o)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c,
                        "UPDATE copies SET path = ?, version_id = ?, etag = ?, lock_mode = ?, retain_until = ?,"
                        " verified_at = ?, method = ? WHERE recording_id = ? AND target_id = ?",
                        &st);
        if (r < 0)
                return r;
        bind_text(st, 1, o->key);
        bind_text(st, 2, o->version_id);
        bind_text(st, 3, o->etag);
        bind_text(st, 4, o->lock_mode && *o->lock_mode ? o->lock_mode : NULL);
        bind_text(st, 5, o->retain_until && *o->retain_until ? o->retain_until : NULL);
        bind_text(st, 6, now);
        bind_text(st, 7, o->method);
        sqlite3_bind_int64(st, 8, rec_id);
        sqlite3_bind_int64(st, 9, target_id);
        return step_done(c, st);
}
