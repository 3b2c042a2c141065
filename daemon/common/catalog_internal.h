/* catalog_internal.h — what catalog.c and catalog_ledger.c share: the
 * connection and small statement helpers. Not for other modules. */
#pragma once
#include <errno.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"

struct catalog {
        sqlite3 *db;
        char err[320];      /* the last failure's message, kept past later calls */
        char migrated[512]; /* the migrations this open applied, for the caller to tell */
};

static inline int sql_err(struct catalog *c, int rc)
{
        /* kept now: a rollback or another call would reset sqlite3_errmsg()
         * to "not an error" before the caller logs it */
        snprintf(c->err, sizeof(c->err), "%s%s", sqlite3_errmsg(c->db),
                 rc == SQLITE_FULL ? " (the state directory's filesystem is full: free space there)" : "");
        switch (rc) {
        case SQLITE_CONSTRAINT: {
                /* Only a uniqueness conflict means "already there"; a CHECK,
                 * NOT NULL or foreign key failure is a value the schema refuses. */
                int ext = sqlite3_extended_errcode(c->db);
                return ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY ? -EEXIST : -EINVAL;
        }
        case SQLITE_BUSY:
        case SQLITE_LOCKED: return -EBUSY;
        case SQLITE_FULL: return -ENOSPC;
        case SQLITE_IOERR: return -EIO;
        case SQLITE_CANTOPEN: return -ENOENT;
        case SQLITE_READONLY: return -EROFS;
        default: return -EPROTO;
        }
}

/* Prepared statements are short-lived: the catalog is not the hot path (one
 * statement per file or per checkpoint), so clarity beats a statement cache. */
static inline int prepare(struct catalog *c, const char *sql, sqlite3_stmt **st)
{
        int rc = sqlite3_prepare_v2(c->db, sql, -1, st, NULL);
        if (rc != SQLITE_OK)
                return sql_err(c, rc); /* the caller logs catalog_errmsg() */
        return 0;
}

static inline void stmt_finalize(sqlite3_stmt **st) { sqlite3_finalize(*st); }
#define _cleanup_stmt_ __attribute__((cleanup(stmt_finalize)))

static inline const char *col(sqlite3_stmt *st, int i) { return (const char *)sqlite3_column_text(st, i); }

static inline void bind_text(sqlite3_stmt *st, int i, const char *s)
{
        if (s)
                sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, i);
}

static inline int step_done(struct catalog *c, sqlite3_stmt *st)
{
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE && rc != SQLITE_ROW)
                return sql_err(c, rc);
        return 0;
}

/* "UPDATE dock_sessions SET x = ?1 WHERE id = ?2" with an integer value. */
static inline int session_set_int(struct catalog *c, const char *sql, int64_t session_id, int64_t value)
{
        sqlite3_stmt *st = NULL;
        int r = prepare(c, sql, &st);
        if (r == 0) {
                sqlite3_bind_int64(st, 1, value);
                sqlite3_bind_int64(st, 2, session_id);
                r = step_done(c, st);
        }
        sqlite3_finalize(st);
        return r;
}

static inline int exec(struct catalog *c, const char *sql)
{
        char *msg = NULL;
        int rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
                sqlite3_free(msg);
                return sql_err(c, rc); /* the caller logs catalog_errmsg() */
        }
        return 0;
}

static inline void copy_col(sqlite3_stmt *st, int i, char *buf, size_t size, bool *present)
{
        const unsigned char *s = sqlite3_column_text(st, i);
        if (present)
                *present = s != NULL;
        snprintf(buf, size, "%s", s ? (const char *)s : "");
}

static inline void *blob_dup(sqlite3_stmt *st, int i, size_t *len)
{
        *len = (size_t)sqlite3_column_bytes(st, i);
        void *p = xmalloc(*len);
        if (*len)
                memcpy(p, sqlite3_column_blob(st, i), *len);
        return p;
}

/* The id of the row the one-parameter sql finds for key: 1 found, 0 none, -errno. */
static inline int get_id(struct catalog *c, const char *sql, const char *key, int64_t *id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, sql, &st);
        if (r < 0)
                return r;
        bind_text(st, 1, key);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *id = sqlite3_column_int64(st, 0);
                return 1;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

/* Shared lookups of the catalog files. */
static inline int one_id(struct catalog *c, const char *sql, const char *key, int64_t *id)
{
        int r = get_id(c, sql, key, id);
        return r == 0 ? -ENOENT : r < 0 ? r : 0;
}

static inline int device_id(struct catalog *c, const char *serial, int64_t *id, char *err, size_t err_size)
{
        int r = one_id(c, "SELECT id FROM devices WHERE serial = ?", serial, id);
        if (r == -ENOENT)
                snprintf(err, err_size,
                         "no device with serial '%s' (devices are registered when first docked; "
                         "see `dockctl devices`)",
                         serial);
        return r;
}

static inline int officer_id(struct catalog *c, const char *badge, int64_t *id, char *err, size_t err_size)
{
        int r = one_id(c, "SELECT id FROM officers WHERE badge = ?", badge, id);
        if (r == -ENOENT && err)
                snprintf(err, err_size, "no officer with badge '%s' (add with `dockctl officers add`)", badge);
        return r;
}

static inline int recording_exists(struct catalog *c, int64_t rec_id, char *err, size_t err_size)
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

/* A hold from a row whose first nine columns are h.id, h.scope, h.value,
 * h.reason, h.placed_by, h.placed_at, h.released_by, h.released_at,
 * h.release_reason (catalog_retention.c, catalog_report.c). */
static inline struct hold_info hold_row(sqlite3_stmt *st)
{
        return (struct hold_info){ .id = sqlite3_column_int64(st, 0),
                                   .scope = col(st, 1),
                                   .value = col(st, 2),
                                   .reason = col(st, 3),
                                   .placed_by = col(st, 4),
                                   .placed_at = col(st, 5),
                                   .released_by = col(st, 6),
                                   .released_at = col(st, 7),
                                   .release_reason = col(st, 8) };
}
