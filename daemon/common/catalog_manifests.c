/* catalog_manifests.c — signed manifests and the outbox that delivers them.
 * Part of the catalog module. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"
#include "util.h"

int catalog_manifest_last(struct catalog *c, const char *station, int64_t *seq, char prev_sha256[65])
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "SELECT seq, sha256 FROM manifests WHERE station = ? ORDER BY seq DESC LIMIT 1", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, station);
        *seq = 0;
        prev_sha256[0] = '\0';
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *seq = sqlite3_column_int64(st, 0);
                copy_col(st, 1, prev_sha256, 65, NULL);
                return 0;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_manifest_add(struct catalog *c, int64_t session_id, const char *station, int64_t seq,
                         const char *prev_sha256, const char *sha256, const void *body, size_t len, const void *sig,
                         size_t sig_len, const char *deadline)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c,
                        "INSERT INTO manifests(session_id, station, seq, prev_sha256, sha256, body, signature,"
                        " created_at, deadline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, session_id);
        bind_text(st, 2, station);
        sqlite3_bind_int64(st, 3, seq);
        bind_text(st, 4, prev_sha256 && *prev_sha256 ? prev_sha256 : NULL);
        bind_text(st, 5, sha256);
        sqlite3_bind_blob(st, 6, body, (int)len, SQLITE_TRANSIENT);
        sqlite3_bind_blob(st, 7, sig, (int)sig_len, SQLITE_TRANSIENT);
        bind_text(st, 8, now);
        bind_text(st, 9, deadline);
        return step_done(c, st);
}

int catalog_manifest_get(struct catalog *c, int64_t session_id, void **body, size_t *len, void **sig, size_t *sig_len)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "SELECT body, signature FROM manifests WHERE session_id = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, session_id);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return -ENOENT;
        if (rc != SQLITE_ROW)
                return sql_err(c, rc);
        *body = blob_dup(st, 0, len);
        *sig = blob_dup(st, 1, sig_len);
        return 0;
}

static int manifests_each(struct catalog *c, const char *where, int64_t limit, manifest_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char sql[400];
        snprintf(sql, sizeof(sql),
                 "SELECT seq, session_id, attempts, station, sha256, prev_sha256, created_at, deadline,"
                 " delivered_at, last_error, rejected FROM manifests %s LIMIT ?",
                 where);
        int r = prepare(c, sql, &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, limit);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct manifest_info m = {
                        .seq = sqlite3_column_int64(st, 0),
                        .session_id = sqlite3_column_int64(st, 1),
                        .attempts = sqlite3_column_int64(st, 2),
                        .station = col(st, 3),
                        .sha256 = col(st, 4),
                        .prev_sha256 = col(st, 5),
                        .created_at = col(st, 6),
                        .deadline = col(st, 7),
                        .delivered_at = col(st, 8),
                        .last_error = col(st, 9),
                        .rejected = col(st, 10),
                };
                if ((r = cb(&m, userdata)) < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_manifests_foreach(struct catalog *c, manifest_cb cb, void *userdata)
{
        return manifests_each(c, "ORDER BY station, seq", -1, cb, userdata);
}

int catalog_manifests_last_delivered(struct catalog *c, size_t n, manifest_cb cb, void *userdata)
{
        /* newest first, from the table's end: only the outbox lies between */
        return manifests_each(c, "WHERE delivered_at IS NOT NULL ORDER BY id DESC", (int64_t)n, cb, userdata);
}

int catalog_outbox_due(struct catalog *c, int64_t now, struct outbox_item *items, size_t max, size_t *n)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        *n = 0;
        int r = prepare(c,
                        "SELECT id, seq, attempts, station, body, signature FROM manifests INDEXED BY manifests_outbox"
                        " WHERE delivered_at IS NULL AND rejected IS NULL AND next_attempt_at <= ?"
                        " ORDER BY deadline, seq LIMIT ?",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, now);
        sqlite3_bind_int64(st, 2, (int64_t)max);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct outbox_item *it = &items[(*n)++];
                memset(it, 0, sizeof(*it));
                it->id = sqlite3_column_int64(st, 0);
                it->seq = sqlite3_column_int64(st, 1);
                it->attempts = sqlite3_column_int64(st, 2);
                copy_col(st, 3, it->station, sizeof(it->station), NULL);
                it->body = blob_dup(st, 4, &it->len);
                it->sig = blob_dup(st, 5, &it->sig_len);
        }
        if (rc != SQLITE_DONE) {
                for (size_t i = 0; i < *n; i++)
                        catalog_outbox_item_free(&items[i]);
                *n = 0;
                return sql_err(c, rc);
        }
        return 0;
}

void catalog_outbox_item_free(struct outbox_item *it)
{
        free(it->body);
        free(it->sig);
        it->body = it->sig = NULL;
}

int catalog_outbox_delivered(struct catalog *c, int64_t id, const char *receipt)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c,
                        "UPDATE manifests SET delivered_at = ?, receipt = ?, attempts = attempts + 1,"
                        " last_error = NULL WHERE id = ?",
                        &st);
        if (r < 0)
                return r;
        bind_text(st, 1, now);
        bind_text(st, 2, receipt);
        sqlite3_bind_int64(st, 3, id);
        return step_done(c, st);
}

int catalog_outbox_failed(struct catalog *c, int64_t id, const char *error, int64_t next_attempt, const char *rejected)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "UPDATE manifests SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?,"
                        " rejected = ? WHERE id = ?",
                        &st);
        if (r < 0)
                return r;
        bind_text(st, 1, error);
        sqlite3_bind_int64(st, 2, next_attempt);
        bind_text(st, 3, rejected);
        sqlite3_bind_int64(st, 4, id);
        return step_done(c, st);
}

int catalog_outbox_retry_now(struct catalog *c)
{
        /* Refused ones too: the operator has fixed the cause (certificate, token). */
        return exec(c, "UPDATE manifests SET next_attempt_at = 0, rejected = NULL WHERE delivered_at IS NULL");
}

int catalog_outbox_status(struct catalog *c, const char *now, const char *warn_until, struct outbox_status *o)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        memset(o, 0, sizeof(*o));
        int r = prepare(
                c,
                "SELECT"
                " (SELECT count(*) FROM manifests WHERE delivered_at IS NULL AND rejected IS NULL),"
                " (SELECT count(*) FROM manifests WHERE rejected IS NOT NULL AND delivered_at IS NULL),"
                " coalesce((SELECT n FROM count_manifests WHERE delivered = 1), 0),"
                " (SELECT min(created_at) FROM manifests WHERE delivered_at IS NULL AND rejected IS NULL),"
                " (SELECT min(deadline) FROM manifests WHERE delivered_at IS NULL AND rejected IS NULL),"
                " (SELECT last_error FROM manifests WHERE last_error IS NOT NULL AND delivered_at IS NULL"
                "  ORDER BY id DESC LIMIT 1),"
                " (SELECT count(*) FROM manifests WHERE delivered_at IS NULL AND deadline <= ?1),"
                " (SELECT count(*) FROM manifests WHERE delivered_at IS NULL AND deadline > ?1 AND deadline <= ?2),"
                " (SELECT count(*) FROM manifests WHERE delivered_at IS NULL AND rejected LIKE 'INTEGRITY%')",
                &st);
        if (r < 0)
                return r;
        bind_text(st, 1, now);
        bind_text(st, 2, warn_until);
        if (sqlite3_step(st) != SQLITE_ROW)
                return -EPROTO;
        o->queued = sqlite3_column_int64(st, 0);
        o->rejected = sqlite3_column_int64(st, 1);
        o->delivered = sqlite3_column_int64(st, 2);
        copy_col(st, 3, o->oldest_created, sizeof(o->oldest_created), NULL);
        copy_col(st, 4, o->next_deadline, sizeof(o->next_deadline), NULL);
        copy_col(st, 5, o->last_error, sizeof(o->last_error), NULL);
        o->overdue = sqlite3_column_int64(st, 6);
        o->near = sqlite3_column_int64(st, 7);
        o->integrity = sqlite3_column_int64(st, 8);
        return 0;
}
