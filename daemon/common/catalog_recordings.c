/* catalog_recordings.c — the recordings listing and its filters (device,
 * officer, period, session, flags). Part of the catalog module. */
#include "catalog_internal.h"
#include "util.h"

int catalog_recordings_foreach(struct catalog *c, const char *serial, int64_t session, recording_cb cb, void *userdata)
{
        struct recording_filter f = { .serial = serial, .session = session };
        return catalog_recordings_query(c, &f, cb, userdata);
}

#define REC_SELECT                                                                                                     \
        "SELECT r.id, d.serial, r.device_path, r.size, r.device_mtime, r.sha256, r.hashed_at,"                         \
        " r.first_session_id, r.recorded_start_device, r.recorded_end_device, r.recorded_start_utc, "                  \
        "r.recorded_end_utc,"                                                                                          \
        " r.time_source, r.duration_s, r.codec, r.width, r.height, r.media_flag, r.media_error,"                       \
        " r.name_seq, o.badge, o.name, r.officer_source, r.device_officer, ao.badge,"                                  \
        " r.attribution_flag, r.ingested_at, r.lag_s, j.reason, j.by_user, j.at, r.destroyed_at,"                      \
        " r.destruction_request_id, r.xxh128 FROM recordings r"
#define REC_JOINS                                                                                                      \
        " JOIN devices d ON d.id = r.device_id LEFT JOIN officers o ON o.id = r.officer_id"                            \
        " LEFT JOIN officers ao ON ao.id = r.assigned_officer_id"                                                      \
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
        if (f->id)
                fputs(" AND r.id = ?7", q);
        if (f->officer)
                fputs(" AND r.officer_id = (SELECT id FROM officers WHERE badge = ?2)", q);
        if (f->from)
                fputs(" AND r.recorded_end_utc >= ?3", q);
        if (f->to)
                fputs(" AND r.recorded_end_utc < ?4", q);
        if (f->session && late)
                fputs(" AND r.first_session_id = ?5", q);
        else if (f->session)
                fputs(" AND (r.first_session_id = ?5 OR"
                      " EXISTS (SELECT 1 FROM copies k WHERE k.recording_id = r.id AND k.session_id = ?5))",
                      q);
        if (late24) /* the literal bound is what lets SQLite use the partial index */
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
        fputs(f->officer || f->from || f->to || late ? " ORDER BY r.recorded_end_utc, r.id" : " ORDER BY r.id", q);
        fclose(q);
        int r = prepare(c, sql, &st);
        free(sql);
        if (r < 0 ||
            (r = prepare(c,
                         "SELECT t.name, t.path, c.path, c.verified_at, c.method, c.version_id, c.retain_until FROM "
                         "copies c"
                         " JOIN targets t ON t.id = c.target_id WHERE c.recording_id = ? ORDER BY t.name",
                         &cst)) < 0 ||
            (r = prepare(
                     c,
                     "SELECT coalesce(t.name, 'source') || ': ' || f.error FROM copy_failures f"
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
        if (np >= 7)
                sqlite3_bind_int64(st, 7, f->id);
        if (np >= 6)
                sqlite3_bind_int64(st, 6, f->late_s);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct recording_info ri = {
                        .id = sqlite3_column_int64(st, 0),
                        .device = col(st, 1),
                        .device_path = col(st, 2),
                        .size = sqlite3_column_int64(st, 3),
                        .device_mtime = col(st, 4),
                        .sha256 = col(st, 5),
                        .hashed_at = col(st, 6),
                        .first_session_id = sqlite3_column_int64(st, 7),
                        .recorded_start_device = col(st, 8),
                        .recorded_end_device = col(st, 9),
                        .recorded_start_utc = col(st, 10),
                        .recorded_end_utc = col(st, 11),
                        .time_source = col(st, 12),
                        .duration_s = sqlite3_column_type(st, 13) == SQLITE_NULL ? -1 : sqlite3_column_double(st, 13),
                        .codec = col(st, 14),
                        .width = sqlite3_column_int(st, 15),
                        .height = sqlite3_column_int(st, 16),
                        .media_flag = col(st, 17),
                        .media_error = col(st, 18),
                        .has_seq = sqlite3_column_type(st, 19) != SQLITE_NULL,
                        .seq = sqlite3_column_int64(st, 19),
                        .officer = col(st, 20),
                        .officer_name = col(st, 21),
                        .officer_source = col(st, 22),
                        .device_officer = col(st, 23),
                        .assigned_officer = col(st, 24),
                        .attribution_flag = col(st, 25),
                        .ingested_at = col(st, 26),
                        .has_lag = sqlite3_column_type(st, 27) != SQLITE_NULL,
                        .lag_s = sqlite3_column_int64(st, 27),
                        .justification = col(st, 28),
                        .justified_by = col(st, 29),
                        .justified_at = col(st, 30),
                        .destroyed_at = col(st, 31),
                        .destruction_request = sqlite3_column_int64(st, 32),
                        .xxh128 = col(st, 33),
                };
                if (late && !(ri.has_lag && ri.lag_s > f->late_s))
                        continue;
                sqlite3_reset(cst);
                sqlite3_bind_int64(cst, 1, ri.id);
                /* Text of an earlier row dies at the next step: keep our own. */
                while (ri.n_copies < ELEMENTSOF(ri.copies) && sqlite3_step(cst) == SQLITE_ROW)
                        ri.copies[ri.n_copies++] = (struct copy_info){
                                .target = xstrdup(col(cst, 0)),
                                .target_root = xstrdup(col(cst, 1)),
                                .path = xstrdup(col(cst, 2)),
                                .verified_at = xstrdup(col(cst, 3)),
                                .method = xstrdup(col(cst, 4)),
                                .version_id = col(cst, 5) ? xstrdup(col(cst, 5)) : NULL,
                                .retain_until = col(cst, 6) ? xstrdup(col(cst, 6)) : NULL,
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
                        free((char *)ci->version_id);
                        free((char *)ci->retain_until);
                }
                if (r < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}
