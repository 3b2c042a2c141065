/* catalog_tags.c — what a recording is tagged with, as the catalog stores it:
 * officer, times and their sources, flags, the session's clock offset and
 * wipe, re-attributions, justifications, sequence gaps. Part of the catalog
 * module (all SQL is in catalog*.c); tags.c decides, this stores. */
#include "catalog_internal.h"
#include "util.h"

static int set_lag(struct catalog *c, int64_t rec_id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(
                c,
                "UPDATE recordings SET lag_s = CAST(round((julianday(ingested_at) - julianday(recorded_end_utc))"
                " * 86400) AS INTEGER) WHERE id = ? AND ingested_at IS NOT NULL AND recorded_end_utc IS NOT NULL",
                &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, rec_id);
        return step_done(c, st);
}

int catalog_recording_tag_facts(struct catalog *c, int64_t rec_id, const char *when, const char *badge, bool *tagged,
                                int64_t *assigned_id, int64_t *reported_id)
{
        *tagged = false;
        *assigned_id = *reported_id = 0;
        _cleanup_stmt_ sqlite3_stmt *q = NULL;
        int r = prepare(c, "SELECT device_id, time_source FROM recordings WHERE id = ?", &q);
        if (r < 0)
                return r;
        sqlite3_bind_int64(q, 1, rec_id);
        int rc = sqlite3_step(q);
        if (rc != SQLITE_ROW)
                return rc == SQLITE_DONE ? -ENOENT : sql_err(c, rc);
        *tagged = sqlite3_column_type(q, 1) != SQLITE_NULL;
        int64_t dev = sqlite3_column_int64(q, 0);
        /* End the read before the caller's write: a statement left on its row
         * holds a read snapshot, and a write after it fails at once (no busy
         * wait) if another process wrote since (two ingests of one state). */
        sqlite3_reset(q);
        if (*tagged)
                return 0;
        if (when) {
                _cleanup_stmt_ sqlite3_stmt *a = NULL;
                if ((r = prepare(c,
                                 "SELECT officer_id FROM assignments WHERE device_id = ?1 AND start_at <= ?2"
                                 " AND (end_at IS NULL OR end_at > ?2) LIMIT 1",
                                 &a)) < 0)
                        return r;
                sqlite3_bind_int64(a, 1, dev);
                bind_text(a, 2, when);
                if (sqlite3_step(a) == SQLITE_ROW)
                        *assigned_id = sqlite3_column_int64(a, 0);
        }
        if (badge && (r = officer_id(c, badge, reported_id, NULL, 0)) < 0 && r != -ENOENT)
                return r;
        if (r == -ENOENT)
                *reported_id = 0;
        return 0;
}

int catalog_recording_tag(struct catalog *c, int64_t rec_id, const struct recording_tags *t)
{
        int r;
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if ((r = prepare(
                     c,
                     "UPDATE recordings SET recorded_start_device = ?, recorded_end_device = ?, recorded_start_utc = ?,"
                     " recorded_end_utc = ?, time_source = ?, duration_s = ?, codec = ?, width = ?, height = ?,"
                     " media_flag = ?, media_error = ?, name_seq = ?, officer_id = ?, officer_source = ?,"
                     " device_officer = ?, assigned_officer_id = ?, attribution_flag = ? WHERE id = ?",
                     &st)) < 0)
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
        if (t->officer_id)
                sqlite3_bind_int64(st, 13, t->officer_id);
        bind_text(st, 14, t->officer_source);
        bind_text(st, 15, t->device_officer);
        if (t->assigned_officer_id)
                sqlite3_bind_int64(st, 16, t->assigned_officer_id);
        bind_text(st, 17, t->attribution_flag);
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

int catalog_reattribute(struct catalog *c, int64_t rec_id, const char *badge, const char *reason, const char *by,
                        char *err, size_t err_size)
{
        int64_t off = 0;
        int r;
        if ((r = recording_exists(c, rec_id, err, err_size)) < 0 || (r = officer_id(c, badge, &off, err, err_size)) < 0)
                return r;
        char now[32];
        time_now_iso(now, sizeof(now));
        bool own = !sqlite3_get_autocommit(c->db) ? false : true; /* join the caller's transaction */
        if (own && (r = catalog_begin(c)) < 0)
                return r;
        _cleanup_stmt_ sqlite3_stmt *ins = NULL, *up = NULL;
        if ((r = prepare(
                     c,
                     "INSERT INTO reattributions (recording_id, old_officer_id, new_officer_id, reason, by_user, at)"
                     " SELECT id, officer_id, ?, ?, ?, ? FROM recordings WHERE id = ?",
                     &ins)) < 0)
                goto fail;
        sqlite3_bind_int64(ins, 1, off);
        bind_text(ins, 2, reason);
        bind_text(ins, 3, by);
        bind_text(ins, 4, now);
        sqlite3_bind_int64(ins, 5, rec_id);
        if ((r = step_done(c, ins)) < 0)
                goto fail;
        if ((r = prepare(c,
                         "UPDATE recordings SET officer_id = ?, officer_source = 'custodian', attribution_flag = NULL"
                         " WHERE id = ?",
                         &up)) < 0)
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
        if ((r = prepare(c, "INSERT INTO justifications (recording_id, reason, by_user, at) VALUES (?, ?, ?, ?)",
                         &st)) < 0)
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
        int r = prepare(c,
                        "SELECT r.first_session_id, r.name_seq FROM recordings r INDEXED BY recordings_device_seq"
                        " WHERE r.device_id = (SELECT id FROM devices WHERE serial = ?) AND r.name_seq IS NOT NULL"
                        " ORDER BY r.first_session_id, r.name_seq",
                        &st);
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
                                high = seq - 1; /* the device's first numbers: nothing before */
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
