/* catalog.c — the SQLite catalog: opening and migrating it, its identity,
 * devices, targets, sessions, recordings and their copies. Every SQL
 * statement of dockd is in catalog*.c: catalog_ledger.c (officers, devices,
 * assignments), catalog_tags.c, catalog_recordings.c, catalog_audit.c,
 * catalog_retention.c, catalog_custody.c (scrub, destruction),
 * catalog_manifests.c (manifests and the outbox). */
#include "catalog.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "catalog_internal.h"

const char *catalog_migrated(struct catalog *c) { return c->migrated; }

const char *catalog_errmsg(struct catalog *c)
{
        if (!c)
                return "the catalog is not open";
        int rc = sqlite3_errcode(c->db);
        return rc != SQLITE_OK && rc != SQLITE_ROW && rc != SQLITE_DONE ? sqlite3_errmsg(c->db)
               : c->err[0]                                              ? c->err
                                                                        : "no error recorded";
}

int catalog_identity(struct catalog *c, char id[33], bool *fresh)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        *fresh = false;
        int r = prepare(c, "SELECT id FROM catalog_identity LIMIT 1", &st);
        if (r < 0)
                return r;
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                copy_col(st, 0, id, 33, NULL);
                return 0;
        }
        if (rc != SQLITE_DONE)
                return sql_err(c, rc);
        /* End the read before writing: a read snapshot upgraded to a write
         * fails at once (SQLITE_BUSY_SNAPSHOT) if another process wrote
         * meanwhile, where a fresh write waits for the lock. */
        sqlite3_finalize(st);
        st = NULL;
        unsigned char raw[16];
        if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw))
                return -EIO;
        hex_encode(raw, sizeof(raw), id);
        char now[32];
        time_now_iso(now, sizeof(now));
        _cleanup_stmt_ sqlite3_stmt *ins = NULL;
        if ((r = prepare(c,
                         "INSERT INTO catalog_identity(id, created_at) SELECT ?1, ?2"
                         " WHERE NOT EXISTS (SELECT 1 FROM catalog_identity)",
                         &ins)) < 0)
                return r;
        bind_text(ins, 1, id);
        bind_text(ins, 2, now);
        if ((r = step_done(c, ins)) < 0)
                return r;
        if (sqlite3_changes(c->db) == 0)
                return catalog_identity(c, id, fresh); /* another process made it first */
        *fresh = true;
        return 0;
}

int catalog_manifest_count(struct catalog *c, int64_t *n)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "SELECT count(*) FROM manifests", &st);
        if (r < 0)
                return r;
        if (sqlite3_step(st) != SQLITE_ROW)
                return sql_err(c, sqlite3_errcode(c->db));
        *n = sqlite3_column_int64(st, 0);
        return 0;
}

int catalog_begin(struct catalog *c) { return exec(c, "BEGIN IMMEDIATE"); }
int catalog_commit(struct catalog *c) { return exec(c, "COMMIT"); }
void catalog_rollback(struct catalog *c)
{
        if (!sqlite3_get_autocommit(c->db))
                sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

int catalog_schema_version(struct catalog *c)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        if (prepare(c, "SELECT coalesce(max(version), 0) FROM schema_migrations", &st) < 0)
                return -1;
        return sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
}

static int migrate(struct catalog *c, char *err, size_t err_size)
{
        int r = exec(c, "CREATE TABLE IF NOT EXISTS schema_migrations ("
                        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)");
        if (r < 0)
                return r;
        int have = catalog_schema_version(c);
        if (have < 0)
                return -EPROTO;
        int newest = catalog_n_migrations ? catalog_migrations[catalog_n_migrations - 1].version : 0;
        if (have > newest) {
                snprintf(err, err_size,
                         "catalog schema version %d is newer than this dockd knows (%d); refusing to touch it", have,
                         newest);
                return -EPROTO;
        }
        /* Foreign keys off while a migration rebuilds a table (SQLite cannot
         * drop a constraint in place), checked before each commit. */
        if ((r = exec(c, "PRAGMA foreign_keys=OFF")) < 0)
                return r;
        for (size_t i = 0; i < catalog_n_migrations; i++) {
                const struct migration *m = &catalog_migrations[i];
                if (m->version <= have)
                        continue;
                if ((r = catalog_begin(c)) < 0)
                        return r;
                /* Another process may have applied it while we waited for the
                 * write lock: two ingests of one state directory at once. */
                if ((have = catalog_schema_version(c)) < 0) {
                        catalog_rollback(c);
                        return -EPROTO;
                }
                if (m->version <= have) {
                        catalog_rollback(c);
                        continue;
                }
                char *msg = NULL;
                int rc = sqlite3_exec(c->db, m->sql, NULL, NULL, &msg);
                if (rc == SQLITE_OK) {
                        _cleanup_stmt_ sqlite3_stmt *fk = NULL;
                        if (prepare(c, "PRAGMA foreign_key_check", &fk) < 0 || sqlite3_step(fk) != SQLITE_DONE) {
                                rc = SQLITE_CONSTRAINT;
                                msg = sqlite3_mprintf("it would leave rows whose references point nowhere");
                        }
                }
                if (rc != SQLITE_OK) {
                        snprintf(err, err_size, "catalog migration %s failed: %s", m->name,
                                 msg ? msg : sqlite3_errstr(rc));
                        sqlite3_free(msg);
                        catalog_rollback(c);
                        return -EPROTO;
                }
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                char now[32];
                time_now_iso(now, sizeof(now));
                if ((r = prepare(c, "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)", &st)) <
                            0 ||
                    (sqlite3_bind_int(st, 1, m->version), bind_text(st, 2, m->name), bind_text(st, 3, now),
                     (r = step_done(c, st)) < 0) ||
                    (r = catalog_commit(c)) < 0) {
                        catalog_rollback(c);
                        snprintf(err, err_size, "catalog migration %s could not be recorded: %s", m->name,
                                 sqlite3_errmsg(c->db));
                        return r;
                }
                size_t k = strlen(c->migrated);
                snprintf(c->migrated + k, sizeof(c->migrated) - k, "%s%s", k ? ", " : "", m->name);
        }
        if ((r = exec(c, "PRAGMA foreign_keys=ON")) < 0)
                return r;
        return 0;
}

/* SQLite maps the WAL index (PATH-shm) into memory and grows it as the
 * WAL does; on a full disk a write to a page of it that has no block raises
 * SIGBUS and takes the process down. Its blocks are allocated now, for more
 * than the index of a WAL that checkpoints every 1000 pages ever needs, so
 * that a full state disk is an error (SQLITE_FULL, named) and not a crash.
 * The descriptor is never closed: closing any descriptor of a file drops
 * every POSIX lock this process holds on it, SQLite's included, and another
 * process would then take the index for abandoned and truncate it under our
 * mapping (SIGBUS again). One per process and WAL index file; a new file
 * (the old one removed with its last connection) gets a new descriptor. */
#define SHM_RESERVE (1u << 20)
static pthread_mutex_t shm_mu = PTHREAD_MUTEX_INITIALIZER;
static struct {
        dev_t dev;
        ino_t ino;
} shm_kept[8];
static size_t shm_n_kept;

static int shm_reserve(const char *path, char *err, size_t err_size)
{
        _cleanup_free_ char *shm = xasprintf("%s-shm", path);
        struct stat st;
        if (stat(shm, &st) < 0)
                return 0; /* no WAL index (another journal mode): nothing to protect */
        pthread_mutex_lock(&shm_mu);
        for (size_t i = 0; i < shm_n_kept; i++)
                if (shm_kept[i].dev == st.st_dev && shm_kept[i].ino == st.st_ino) {
                        pthread_mutex_unlock(&shm_mu);
                        return 0; /* reserved by an earlier connection of ours */
                }
        int r = 0;
        int fd = open(shm, O_RDWR | O_CLOEXEC);
        if (fd >= 0) {
                r = posix_fallocate(fd, 0, SHM_RESERVE);
                if (shm_n_kept < ELEMENTSOF(shm_kept))
                        shm_kept[shm_n_kept++].dev = st.st_dev, shm_kept[shm_n_kept - 1].ino = st.st_ino;
                /* fd stays open on purpose (see above) */
        }
        pthread_mutex_unlock(&shm_mu);
        if (r == ENOSPC) {
                snprintf(err, err_size,
                         "%s: the state directory's filesystem is full (no room for the catalog's "
                         "WAL index): free space there",
                         path);
                return -ENOSPC;
        }
        return 0; /* EOPNOTSUPP and the like: the filesystem allocates as it writes */
}

/* Two processes preparing one fresh catalog at once (two field kits on a new
 * state directory) race to switch it to WAL, and SQLite answers the loser
 * "database is locked" at once, without its busy handler. The catalog's
 * directory is flocked while a connection is prepared, so one process does
 * it at a time. flock on the directory: a descriptor of the catalog file
 * itself must never be closed (see shm_reserve). -1 where there is no
 * directory to lock (":memory:") or it cannot be opened: SQLite's own
 * locking still holds, only the race is not excluded. */
static int prepare_lock(const char *path)
{
        if (path[0] == ':')
                return -1;
        _cleanup_free_ char *copy = xstrdup(path);
        int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

int catalog_open(const char *path, struct catalog **out, char *err, size_t err_size)
{
        _cleanup_close_ int dirlock = prepare_lock(path); /* held until return */
        (void)dirlock;
        struct catalog *c = xmalloc(sizeof(*c));
        c->err[0] = c->migrated[0] = '\0';
        if (err_size)
                err[0] = '\0'; /* "if (!err[0])" below: the caller's buffer may be fresh stack */
        int rc = sqlite3_open_v2(path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
        if (rc != SQLITE_OK) {
                snprintf(err, err_size, "%s: cannot open catalog: %s", path,
                         c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(rc));
                sqlite3_close(c->db);
                free(c);
                return -EIO;
        }
        sqlite3_busy_timeout(c->db, 10000);
        sqlite3_extended_result_codes(c->db, 0);
        /* WAL: readers (dockctl listings) never block the ingest. synchronous=FULL:
         * a committed "verified" row survives power loss, like the copy it names. */
        int r;
        const char *step = "WAL mode";
        if ((r = exec(c, "PRAGMA journal_mode=WAL")) < 0 || (r = shm_reserve(path, err, err_size)) < 0 ||
            (step = "synchronous", r = exec(c, "PRAGMA synchronous=FULL")) < 0 ||
            /* small: one connection per bay, and the ledger's hot set is tiny */
            (r = exec(c, "PRAGMA cache_size=-512")) < 0 || (step = "migrations", r = migrate(c, err, err_size)) < 0) {
                if (!err[0])
                        snprintf(err, err_size, "%s: cannot prepare catalog (%s): %s", path, step, catalog_errmsg(c));
                catalog_close(c);
                return r;
        }
        *out = c;
        return 0;
}

int catalog_open_in(const char *state_dir, struct catalog **out, char *err, size_t err_size)
{
        int r = mkdir_p(state_dir, 0750);
        if (r < 0) {
                snprintf(err, err_size, "cannot create state directory %s: %s", state_dir, strerror(-r));
                return r;
        }
        _cleanup_free_ char *path = xasprintf("%s/catalog.sqlite", state_dir);
        return catalog_open(path, out, err, err_size);
}

void catalog_close(struct catalog *c)
{
        if (!c)
                return;
        sqlite3_close(c->db);
        free(c);
}

int catalog_device_ensure(struct catalog *c, const char *serial, int64_t *id)
{
        bool collision; /* never: no USB ids to disagree with */
        return catalog_device_register(c, serial, NULL, NULL, NULL, NULL, NULL, id, &collision);
}

int catalog_device_register(struct catalog *c, const char *serial, const char *vendor, const char *model,
                            const char *vendor_id, const char *product_id, const char *flag, int64_t *id,
                            bool *collision)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        *collision = false;
        int r = prepare(c, "SELECT id, vendor_id, product_id FROM devices WHERE serial = ?", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, serial);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
                *id = sqlite3_column_int64(st, 0);
                const char *v = col(st, 1), *p = col(st, 2);
                if (v && p && vendor_id && product_id && (strcmp(v, vendor_id) != 0 || strcmp(p, product_id) != 0)) {
                        *collision = true;
                        return 0;
                }
                if (v || !vendor_id)
                        return 0;
                sqlite3_reset(st); /* no read snapshot held into the write */
                /* First seen through `dockctl ingest`, which knows no USB ids:
                 * fill them in once; a recorded identity never changes. */
                _cleanup_stmt_ sqlite3_stmt *up = NULL;
                if ((r = prepare(c,
                                 "UPDATE devices SET vendor = ?, model = ?, vendor_id = ?, product_id = ?"
                                 " WHERE id = ? AND vendor_id IS NULL",
                                 &up)) < 0)
                        return r;
                bind_text(up, 1, vendor);
                bind_text(up, 2, model);
                bind_text(up, 3, vendor_id);
                bind_text(up, 4, product_id);
                sqlite3_bind_int64(up, 5, *id);
                return step_done(c, up);
        }
        if (rc != SQLITE_DONE)
                return sql_err(c, rc);
        sqlite3_reset(st);
        _cleanup_stmt_ sqlite3_stmt *ins = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        /* Two processes may register one serial at once: the second finds the first's row. */
        if ((r = prepare(c,
                         "INSERT INTO devices(serial, vendor, model, vendor_id, product_id, identity_flag, first_seen)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(serial) DO NOTHING",
                         &ins)) < 0)
                return r;
        bind_text(ins, 1, serial);
        bind_text(ins, 2, vendor);
        bind_text(ins, 3, model);
        bind_text(ins, 4, vendor_id);
        bind_text(ins, 5, product_id);
        bind_text(ins, 6, flag && *flag ? flag : NULL);
        bind_text(ins, 7, now);
        if ((r = step_done(c, ins)) < 0)
                return r;
        if (sqlite3_changes(c->db) == 0)
                return catalog_device_register(c, serial, vendor, model, vendor_id, product_id, flag, id, collision);
        *id = sqlite3_last_insert_rowid(c->db);
        return 0;
}

static int session_set_text(struct catalog *c, const char *sql, int64_t session_id, const char *value)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, sql, &st);
        if (r < 0)
                return r;
        bind_text(st, 1, value);
        sqlite3_bind_int64(st, 2, session_id);
        return step_done(c, st);
}

int catalog_session_set_bay(struct catalog *c, int64_t session_id, const char *bay)
{
        return session_set_text(c, "UPDATE dock_sessions SET bay = ? WHERE id = ?", session_id, bay);
}

int catalog_session_set_undocked(struct catalog *c, int64_t session_id)
{
        char now[32];
        time_now_iso(now, sizeof(now));
        return session_set_text(c, "UPDATE dock_sessions SET undocked_at = ? WHERE id = ?", session_id, now);
}

int catalog_session_start(struct catalog *c, int64_t device_id, const char *source, int64_t *id)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c,
                        "INSERT INTO dock_sessions(device_id, source, started_at, state) VALUES (?, ?, ?, 'ingesting')",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, device_id);
        bind_text(st, 2, source);
        bind_text(st, 3, now);
        if ((r = step_done(c, st)) < 0)
                return r;
        *id = sqlite3_last_insert_rowid(c->db);
        return 0;
}

int catalog_session_set_fs(struct catalog *c, int64_t session_id, const char *fs_type)
{
        return session_set_text(c, "UPDATE dock_sessions SET fs_type = ? WHERE id = ?", session_id, fs_type);
}

int catalog_session_finish(struct catalog *c, int64_t session_id, const char *state, const struct session_counts *n,
                           const char *error)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        int r = prepare(c,
                        "UPDATE dock_sessions SET ended_at = ?, state = ?, files_seen = ?, files_copied = ?,"
                        " files_already = ?, bytes_copied = ?, files_under_copied = ?, error = ? WHERE id = ?",
                        &st);
        if (r < 0)
                return r;
        bind_text(st, 1, now);
        bind_text(st, 2, state);
        sqlite3_bind_int64(st, 3, n->files_seen);
        sqlite3_bind_int64(st, 4, n->files_copied);
        sqlite3_bind_int64(st, 5, n->files_already);
        sqlite3_bind_int64(st, 6, n->bytes_copied);
        sqlite3_bind_int64(st, 7, n->files_under_copied);
        bind_text(st, 8, error);
        sqlite3_bind_int64(st, 9, session_id);
        return step_done(c, st);
}

/* Up to max ids from the first column of st's rows. */
static int collect_ids(struct catalog *c, sqlite3_stmt *st, int64_t *ids, size_t max, size_t *n)
{
        *n = 0;
        int rc = SQLITE_DONE;
        while (*n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
                ids[(*n)++] = sqlite3_column_int64(st, 0);
        return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_sessions_stale(struct catalog *c, int64_t device_id, int64_t *ids, size_t max, size_t *n)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "SELECT id FROM dock_sessions WHERE device_id = ? AND state = 'ingesting' ORDER BY id", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, device_id);
        return collect_ids(c, st, ids, max, n);
}

int catalog_sessions_unmanifested(struct catalog *c, int64_t *ids, size_t max, size_t *n)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "SELECT s.id FROM dock_sessions s WHERE s.state != 'ingesting'"
                        " AND NOT EXISTS (SELECT 1 FROM manifests m WHERE m.session_id = s.id) ORDER BY s.id",
                        &st);
        if (r < 0)
                return r;
        return collect_ids(c, st, ids, max, n);
}

int catalog_sessions_mark_interrupted(struct catalog *c, int64_t device_id, int *n)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "UPDATE dock_sessions SET state = 'interrupted',"
                        " error = coalesce(error, 'the ingesting process stopped before the session ended')"
                        " WHERE device_id = ? AND state = 'ingesting'",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, device_id);
        if ((r = step_done(c, st)) < 0)
                return r;
        *n = sqlite3_changes(c->db);
        return 0;
}

static int recording_row(struct catalog *c, sqlite3_stmt *st, struct recording *out, bool *found)
{
        int rc = sqlite3_step(st);
        *found = rc == SQLITE_ROW;
        if (rc == SQLITE_ROW) {
                out->id = sqlite3_column_int64(st, 0);
                copy_col(st, 1, out->sha256, sizeof(out->sha256), &out->has_sha256);
                out->resume_offset = sqlite3_column_int64(st, 2);
                copy_col(st, 3, out->resume_sha256, sizeof(out->resume_sha256), NULL);
                out->destroyed = sqlite3_column_int(st, 4) != 0;
                return 0;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_recording_get_or_add(struct catalog *c, int64_t device_id, const struct recording_entry *e,
                                 int64_t session_id, struct recording *out)
{
        memset(out, 0, sizeof(*out));
#define REC_COLS "SELECT id, sha256, resume_offset, resume_sha256, destroyed_at IS NOT NULL FROM recordings"
        for (int attempt = 0; attempt < 2; attempt++) {
                _cleanup_stmt_ sqlite3_stmt *st = NULL;
                bool found = false;
                int r = prepare(c,
                                REC_COLS " WHERE device_id = ? AND entry_key IS ? AND device_path = ? AND size = ?"
                                         " AND device_mtime = ?",
                                &st);
                if (r < 0)
                        return r;
                sqlite3_bind_int64(st, 1, device_id);
                bind_text(st, 2, e->key);
                bind_text(st, 3, e->path);
                sqlite3_bind_int64(st, 4, e->size);
                bind_text(st, 5, e->times->mtime);
                if ((r = recording_row(c, st, out, &found)) < 0 || found)
                        return r;
                if (attempt)
                        break;
                if (e->key) {
                        /* A row from before entries had keys: the same path, size and
                         * mtime on this device. It takes this entry's key, once. */
                        _cleanup_stmt_ sqlite3_stmt *old = NULL, *upd = NULL;
                        if ((r = prepare(c,
                                         REC_COLS " WHERE device_id = ? AND entry_key IS NULL AND device_path = ?"
                                                  " AND size = ? AND device_mtime = ? LIMIT 1",
                                         &old)) < 0)
                                return r;
                        sqlite3_bind_int64(old, 1, device_id);
                        bind_text(old, 2, e->path);
                        sqlite3_bind_int64(old, 3, e->size);
                        bind_text(old, 4, e->times->mtime);
                        if ((r = recording_row(c, old, out, &found)) < 0)
                                return r;
                        sqlite3_reset(old); /* no read snapshot held into the write */
                        if (found) {
                                if ((r = prepare(c, "UPDATE recordings SET entry_key = ?, raw_name = ? WHERE id = ?",
                                                 &upd)) < 0)
                                        return r;
                                bind_text(upd, 1, e->key);
                                sqlite3_bind_blob(upd, 2, e->raw_name, (int)e->raw_name_len, SQLITE_TRANSIENT);
                                sqlite3_bind_int64(upd, 3, out->id);
                                return step_done(c, upd);
                        }
                }
                _cleanup_stmt_ sqlite3_stmt *ins = NULL;
                if ((r = prepare(
                             c,
                             "INSERT INTO recordings(device_id, device_path, size, device_mtime, device_ctime,"
                             " device_atime, first_session_id, entry_key, raw_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             &ins)) < 0)
                        return r;
                sqlite3_bind_int64(ins, 1, device_id);
                bind_text(ins, 2, e->path);
                sqlite3_bind_int64(ins, 3, e->size);
                bind_text(ins, 4, e->times->mtime);
                bind_text(ins, 5, e->times->ctime);
                bind_text(ins, 6, e->times->atime);
                sqlite3_bind_int64(ins, 7, session_id);
                bind_text(ins, 8, e->key);
                if (e->raw_name)
                        sqlite3_bind_blob(ins, 9, e->raw_name, (int)e->raw_name_len, SQLITE_TRANSIENT);
                else
                        sqlite3_bind_null(ins, 9);
                if ((r = step_done(c, ins)) < 0)
                        return r;
                out->created = true;
        }
        return -EPROTO;
}

int catalog_recording_checkpoint(struct catalog *c, int64_t rec_id, int64_t offset, const char *sha256)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "UPDATE recordings SET resume_offset = ?, resume_sha256 = ? WHERE id = ?", &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, offset);
        bind_text(st, 2, sha256);
        sqlite3_bind_int64(st, 3, rec_id);
        return step_done(c, st);
}

int catalog_recording_set_xxh128(struct catalog *c, int64_t rec_id, const char *xxh128)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "UPDATE recordings SET xxh128 = ? WHERE id = ? AND xxh128 IS NULL", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, xxh128);
        sqlite3_bind_int64(st, 2, rec_id);
        return step_done(c, st);
}

int catalog_recording_set_sha256(struct catalog *c, int64_t rec_id, const char *sha256)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        char now[32];
        time_now_iso(now, sizeof(now));
        /* Never overwrite a known hash: a different one means the source changed,
         * which the caller must have caught before getting here. */
        int r = prepare(c,
                        "UPDATE recordings SET sha256 = ?, hashed_at = ?, resume_offset = 0, resume_sha256 = NULL"
                        " WHERE id = ? AND (sha256 IS NULL OR sha256 = ?)",
                        &st);
        if (r < 0)
                return r;
        bind_text(st, 1, sha256);
        bind_text(st, 2, now);
        sqlite3_bind_int64(st, 3, rec_id);
        bind_text(st, 4, sha256);
        if ((r = step_done(c, st)) < 0)
                return r;
        return sqlite3_changes(c->db) == 1 ? 0 : -EEXIST;
}

int catalog_deleted_add(struct catalog *c, int64_t device_id, int64_t session_id, const struct recording_entry *e,
                        bool *added)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "INSERT OR IGNORE INTO deleted_entries(device_id, session_id, device_path, size,"
                        " device_mtime, device_ctime, device_atime, entry_key, raw_name)"
                        " SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE NOT EXISTS (SELECT 1 FROM deleted_entries"
                        "  WHERE device_id = ?1 AND entry_key IS ?8 AND device_path = ?3 AND size = ?4"
                        "  AND device_mtime = ?5)",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, device_id);
        sqlite3_bind_int64(st, 2, session_id);
        bind_text(st, 3, e->path);
        sqlite3_bind_int64(st, 4, e->size);
        bind_text(st, 5, e->times->mtime);
        bind_text(st, 6, e->times->ctime);
        bind_text(st, 7, e->times->atime);
        bind_text(st, 8, e->key);
        if (e->raw_name)
                sqlite3_bind_blob(st, 9, e->raw_name, (int)e->raw_name_len, SQLITE_TRANSIENT);
        else
                sqlite3_bind_null(st, 9);
        if ((r = step_done(c, st)) < 0)
                return r;
        *added = sqlite3_changes(c->db) > 0;
        return 0;
}

int catalog_session_finding_add(struct catalog *c, int64_t session_id, bool blocking, const char *kind,
                                const char *message)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "INSERT INTO session_findings(session_id, blocking, kind, message) VALUES (?, ?, ?, ?)",
                        &st);
        if (r < 0)
                return r;
        sqlite3_bind_int64(st, 1, session_id);
        sqlite3_bind_int(st, 2, blocking);
        bind_text(st, 3, kind);
        bind_text(st, 4, message);
        return step_done(c, st);
}

int catalog_session_set_unaccounted(struct catalog *c, int64_t session_id, int64_t bytes)
{
        return session_set_int(c, "UPDATE dock_sessions SET unaccounted_bytes = ? WHERE id = ?", session_id, bytes);
}

int catalog_sessions_foreach(struct catalog *c, const char *serial, int64_t session, session_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
#define SESSION_SELECT                                                                                                 \
        "SELECT s.id, d.serial, s.source, s.fs_type, s.started_at, s.ended_at, s.state,"                               \
        " s.files_seen, s.files_copied, s.files_already, s.bytes_copied, s.files_under_copied, s.error,"               \
        " (SELECT count(*) FROM deleted_entries e WHERE e.session_id = s.id), s.bay, s.undocked_at,"                   \
        " d.vendor, d.model, d.vendor_id, d.product_id, d.identity_flag, s.clock_offset_s, s.wipe, s.wiped_at,"        \
        " (SELECT group_concat(message, char(10)) FROM session_findings f WHERE f.session_id = s.id AND f.blocking),"  \
        " (SELECT group_concat(message, char(10)) FROM session_findings f WHERE f.session_id = s.id AND NOT "          \
        "f.blocking),"                                                                                                 \
        " s.unaccounted_bytes, s.reported_badge, s.reported_officer_name, s.reported_unit_no, s.reported_unit_name,"   \
        " s.device_id_code, s.battery_pct, s.clock_set_at, s.clock_set_to, s.device_info_error"                        \
        " FROM dock_sessions s JOIN devices d ON d.id = s.device_id"
        /* One statement per filter shape: an OR with a NULL parameter would
         * keep SQLite from the index (a device's history at 365,000 sessions). */
        int r = prepare(c,
                        session  ? SESSION_SELECT " WHERE s.id = ?2 AND (?1 IS NULL OR d.serial = ?1)"
                        : serial ? SESSION_SELECT " WHERE s.device_id = (SELECT id FROM devices WHERE serial = ?1)"
                                                  " ORDER BY s.id"
                                 : SESSION_SELECT " ORDER BY s.id",
                        &st);
        if (r < 0)
                return r;
        bind_text(st, 1, serial);
        sqlite3_bind_int64(st, 2, session);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct session_info si = {
                        .id = sqlite3_column_int64(st, 0),
                        .device = col(st, 1),
                        .source = col(st, 2),
                        .fs_type = col(st, 3),
                        .started_at = col(st, 4),
                        .ended_at = col(st, 5),
                        .state = col(st, 6),
                        .files_seen = sqlite3_column_int64(st, 7),
                        .files_copied = sqlite3_column_int64(st, 8),
                        .files_already = sqlite3_column_int64(st, 9),
                        .bytes_copied = sqlite3_column_int64(st, 10),
                        .files_under_copied = sqlite3_column_int64(st, 11),
                        .error = col(st, 12),
                        .deleted_entries = sqlite3_column_int64(st, 13),
                        .bay = col(st, 14),
                        .undocked_at = col(st, 15),
                        .vendor = col(st, 16),
                        .model = col(st, 17),
                        .vendor_id = col(st, 18),
                        .product_id = col(st, 19),
                        .identity_flag = col(st, 20),
                        .has_clock_offset = sqlite3_column_type(st, 21) != SQLITE_NULL,
                        .clock_offset_s = sqlite3_column_int64(st, 21),
                        .wipe = col(st, 22),
                        .wiped_at = col(st, 23),
                        .unread = col(st, 24),
                        .warnings = col(st, 25),
                        .unaccounted_bytes = sqlite3_column_int64(st, 26),
                        .reported_badge = col(st, 27),
                        .reported_officer_name = col(st, 28),
                        .reported_unit_no = col(st, 29),
                        .reported_unit_name = col(st, 30),
                        .device_id_code = col(st, 31),
                        .battery_pct = sqlite3_column_type(st, 32) == SQLITE_NULL ? -1 : sqlite3_column_int(st, 32),
                        .clock_set_at = col(st, 33),
                        .clock_set_to = col(st, 34),
                        .device_info_error = col(st, 35),
                };
                if ((r = cb(&si, userdata)) < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}

int catalog_deleted_foreach(struct catalog *c, const char *serial, int64_t session, deleted_cb cb, void *userdata)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
#define DELETED_SELECT                                                                                                 \
        "SELECT e.id, e.session_id, e.size, d.serial, e.device_path, e.device_mtime"                                   \
        " FROM deleted_entries e JOIN devices d ON d.id = e.device_id"
        int r = prepare(c,
                        session ? DELETED_SELECT
                                " WHERE e.session_id = ?2 AND (?1 IS NULL OR d.serial = ?1) ORDER BY e.id"
                        : serial ? DELETED_SELECT " WHERE e.device_id = (SELECT id FROM devices WHERE serial = ?1)"
                                                  " ORDER BY e.id"
                                 : DELETED_SELECT " ORDER BY e.id",
                        &st);
        if (r < 0)
                return r;
        bind_text(st, 1, serial);
        sqlite3_bind_int64(st, 2, session);
        int rc;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                struct deleted_info di = {
                        .id = sqlite3_column_int64(st, 0),
                        .session_id = sqlite3_column_int64(st, 1),
                        .size = sqlite3_column_int64(st, 2),
                        .device = col(st, 3),
                        .device_path = col(st, 4),
                        .device_mtime = col(st, 5),
                };
                if ((r = cb(&di, userdata)) < 0)
                        return r;
        }
        return rc == SQLITE_DONE ? 0 : sql_err(c, rc);
}
