/* catalog_copies.c — the storage targets and the copies on them: a target's
 * registration and write-once proof, each verified copy (a file, or an object
 * version) and each failure to make one. */
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "catalog_internal.h"

int catalog_target_copies_by_name(struct catalog *c, const char *name, int64_t *n)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "SELECT count(*) FROM copies k JOIN targets t ON t.id = k.target_id WHERE t.name = ?", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, name);
        if (sqlite3_step(st) != SQLITE_ROW)
                return sql_err(c, sqlite3_errcode(c->db));
        *n = sqlite3_column_int64(st, 0);
        return 0;
}

int catalog_target_ensure(struct catalog *c, const char *name, const char *type, const char *path, int64_t *id)
{
        int r = get_id(c, "SELECT id FROM targets WHERE name = ?", name, id);
        if (r < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (r > 0) {
                /* Its copies' paths mean something only on its own kind of storage. */
                if ((r = prepare(c, "SELECT type FROM targets WHERE id = ?", &st)) < 0)
                        return r;
                sqlite3_bind_int64(st, 1, *id);
                if (sqlite3_step(st) == SQLITE_ROW && strcmp(col(st, 0), type) != 0) {
                        snprintf(c->err, sizeof(c->err),
                                 "target %s is recorded as type %s, now configured as %s: its copies stay where they "
                                 "are; give the new storage a new target name",
                                 name, col(st, 0), type);
                        return -EXDEV;
                }
                sqlite3_finalize(st);
                st = NULL;
                /* A target may move (new mount point); its copies' paths are relative. */
                if ((r = prepare(c, "UPDATE targets SET path = ? WHERE id = ? AND path <> ?", &st)) < 0)
                        return r;
                bind_text(st, 1, path);
                sqlite3_bind_int64(st, 2, *id);
                bind_text(st, 3, path);
                return step_done(c, st);
        }
        char now[32];
        time_now_iso(now, sizeof(now));
        /* two ingests of one state directory may register it at once */
        if ((r = prepare(c,
                         "INSERT INTO targets(name, type, path, created_at) VALUES (?, ?, ?, ?)"
                         " ON CONFLICT(name) DO NOTHING",
                         &st)) < 0)
                return r;
        bind_text(st, 1, name);
        bind_text(st, 2, type);
        bind_text(st, 3, path);
        bind_text(st, 4, now);
        if ((r = step_done(c, st)) < 0)
                return r;
        if (sqlite3_changes(c->db) == 0)
                return catalog_target_ensure(c, name, type, path, id);
        *id = sqlite3_last_insert_rowid(c->db);
        return 0;
}

/* Runs a "SELECT count(*) ... WHERE x = ?1" query for one id. */
static int count_for(struct catalog *c, const char *sql, int64_t id, int64_t *n)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, sql, &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) != SQLITE_ROW)
                return -EPROTO;
        *n = sqlite3_column_int64(st, 0);
        return 0;
}

int catalog_target_copy_count(struct catalog *c, int64_t target_id, int64_t *n)
{
        return count_for(c, "SELECT coalesce((SELECT n FROM count_copies WHERE target_id = ?1), 0)", target_id, n);
}

int catalog_recording_copy_count(struct catalog *c, int64_t rec_id, int *n)
{
        int64_t k = 0;
        int r = count_for(c, "SELECT count(*) FROM copies WHERE recording_id = ?", rec_id, &k);
        *n = (int)k;
        return r;
}

int catalog_recording_has_copy(struct catalog *c, int64_t rec_id, int64_t target_id, bool *has)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "SELECT 1 FROM copies WHERE recording_id = ? AND target_id = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, rec_id);
        sqlite3_bind_int64(st, 2, target_id);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return sql_err(c, rc);
        *has = rc == SQLITE_ROW;
        return 0;
}

int catalog_recording_copy_path(struct catalog *c, int64_t rec_id, int64_t target_id, char **relpath)
{
        *relpath = NULL;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "SELECT path FROM copies WHERE recording_id = ? AND target_id = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, rec_id);
        sqlite3_bind_int64(st, 2, target_id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return sql_err(c, rc);
        const char *p = (const char *)sqlite3_column_text(st, 0);
        if (!p)
                return -ENOENT;
        *relpath = xstrdup(p);
        return 0;
}

int catalog_copy_add(struct catalog *c, int64_t rec_id, int64_t target_id, const char *relpath, const char *method,
                     int64_t session_id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c,
                        "INSERT INTO copies(recording_id, target_id, path, verified_at, method, session_id)"
                        " VALUES (?, ?, ?, ?, ?, ?)",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, rec_id);
        sqlite3_bind_int64(st, 2, target_id);
        bind_text(st, 3, relpath);
        bind_text(st, 4, now);
        bind_text(st, 5, method);
        sqlite3_bind_int64(st, 6, session_id);
        return step_done(c, st);
}

int catalog_target_set_write_once(struct catalog *c, int64_t target_id, bool proven, const char *why)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "UPDATE targets SET write_once = ?, write_once_error = ? WHERE id = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int(st, 1, proven);
        bind_text(st, 2, proven ? NULL : why);
        sqlite3_bind_int64(st, 3, target_id);
        return step_done(c, st);
}

int catalog_target_write_once(struct catalog *c, const char *name, int *state, char *why, size_t why_size)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        *state = -1;
        int r = prepare(c, "SELECT write_once, write_once_error FROM targets WHERE name = ?", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, name);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL) {
                *state = sqlite3_column_int(st, 0);
                copy_col(st, 1, why, why_size, NULL);
        } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
                return sql_err(c, rc);
        }
        return 0;
}

int catalog_copy_add_object(struct catalog *c, int64_t rec_id, int64_t target_id, const struct object_copy *o,
                            int64_t session_id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c,
                        "INSERT INTO copies(recording_id, target_id, path, verified_at, method, session_id,"
                        " version_id, etag, lock_mode, retain_until) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, rec_id);
        sqlite3_bind_int64(st, 2, target_id);
        bind_text(st, 3, o->key);
        bind_text(st, 4, now);
        bind_text(st, 5, o->method);
        sqlite3_bind_int64(st, 6, session_id);
        bind_text(st, 7, o->version_id);
        bind_text(st, 8, o->etag);
        bind_text(st, 9, o->lock_mode && *o->lock_mode ? o->lock_mode : NULL);
        bind_text(st, 10, o->retain_until && *o->retain_until ? o->retain_until : NULL);
        return step_done(c, st);
}

int catalog_copy_path_taken(struct catalog *c, int64_t target_id, const char *relpath, bool *taken)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "SELECT 1 FROM copies WHERE target_id = ? AND path = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, target_id);
        bind_text(st, 2, relpath);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_ROW && rc != SQLITE_DONE)
                return sql_err(c, rc);
        *taken = rc == SQLITE_ROW;
        return 0;
}

int catalog_copy_failure_add(struct catalog *c, int64_t rec_id, int64_t target_id, int64_t session_id,
                             const char *error)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(
                c, "INSERT INTO copy_failures(recording_id, target_id, session_id, at, error) VALUES (?, ?, ?, ?, ?)",
                &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, rec_id);
        if (target_id > 0)
                sqlite3_bind_int64(st, 2, target_id);
        else
                sqlite3_bind_null(st, 2);
        sqlite3_bind_int64(st, 3, session_id);
        bind_text(st, 4, now);
        bind_text(st, 5, error);
        return step_done(c, st);
}

int catalog_session_copies(struct catalog *c, int64_t session_id, const char *target_name, session_copy_cb cb, void *ud)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "SELECT k.path, r.size, r.device_mtime, r.sha256, r.xxh128, k.verified_at FROM copies k"
                        " JOIN recordings r ON r.id = k.recording_id JOIN targets t ON t.id = k.target_id"
                        " WHERE k.session_id = ? AND t.name = ? ORDER BY k.path",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, session_id);
        bind_text(st, 2, target_name);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct session_copy sc = { .path = col(st, 0),
                                           .size = sqlite3_column_int64(st, 1),
                                           .device_mtime = col(st, 2),
                                           .sha256 = col(st, 3),
                                           .xxh128 = col(st, 4),
                                           .verified_at = col(st, 5) };
                if ((r = cb(&sc, ud)) != 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}
