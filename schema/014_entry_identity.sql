-- dockd catalog, migration 014: every claim true (issue #12).
-- A recording's identity includes where its entry lives on disk (entry_key:
-- filesystem, directory, entry index, first cluster) and its name's raw
-- bytes, so two entries of a device can never be taken as one recording,
-- whatever their names print as. Rows from before keep entry_key NULL until a
-- dock finds their entry again (same path, size and mtime) and fills it in.
-- SQLite cannot drop a UNIQUE constraint in place: the table is rebuilt
-- (dockd runs migrations with foreign keys off and checks them before commit).

CREATE TABLE recordings_new (
        id              INTEGER PRIMARY KEY,
        device_id       INTEGER NOT NULL REFERENCES devices(id),
        device_path     TEXT NOT NULL,
        size            INTEGER NOT NULL CHECK (size >= 0),
        device_mtime    TEXT NOT NULL,
        device_ctime    TEXT,
        device_atime    TEXT,
        sha256          TEXT CHECK (sha256 IS NULL OR length(sha256) = 64),
        first_session_id INTEGER NOT NULL REFERENCES dock_sessions(id),
        hashed_at       TEXT,
        -- resume checkpoint: the first resume_offset bytes are durable in every
        -- kept partial copy and hash (SHA-256 of the source prefix) to resume_sha256.
        resume_offset   INTEGER NOT NULL DEFAULT 0,
        resume_sha256   TEXT,
        rec_start_device TEXT, rec_end_device TEXT, rec_start_utc TEXT, rec_end_utc TEXT, time_source TEXT,
        duration_s REAL, codec TEXT, width INTEGER, height INTEGER, media_flag TEXT, media_error TEXT,
        name_seq INTEGER, officer_id INTEGER REFERENCES officers(id), officer_source TEXT, device_officer TEXT,
        assigned_officer_id INTEGER REFERENCES officers(id), attribution_flag TEXT, ingested_at TEXT, lag_s INTEGER,
        retention_class TEXT NOT NULL DEFAULT 'default', lost_at TEXT, destroyed_at TEXT,
        destruction_request_id INTEGER REFERENCES destruction_requests(id), destruction_method TEXT,
        entry_key       TEXT,                   -- NULL: recorded before migration 014
        raw_name        BLOB,                   -- the name's bytes on disk (8.3 entry, then any long name)
        UNIQUE (device_id, entry_key, device_path, size, device_mtime)
);
INSERT INTO recordings_new SELECT *, NULL, NULL FROM recordings;
DROP TABLE recordings;
ALTER TABLE recordings_new RENAME TO recordings;
CREATE INDEX recordings_sha256 ON recordings(sha256);
CREATE INDEX recordings_officer_end ON recordings(officer_id, rec_end_utc);
CREATE INDEX recordings_device_end ON recordings(device_id, rec_end_utc);
CREATE INDEX recordings_end ON recordings(rec_end_utc);
CREATE INDEX recordings_device_seq ON recordings(device_id, first_session_id, name_seq) WHERE name_seq IS NOT NULL;
CREATE INDEX recordings_late24 ON recordings(rec_end_utc) WHERE lag_s > 86400;

CREATE TABLE deleted_entries_new (
        id              INTEGER PRIMARY KEY,
        device_id       INTEGER NOT NULL REFERENCES devices(id),
        session_id      INTEGER NOT NULL REFERENCES dock_sessions(id),
        device_path     TEXT NOT NULL,
        size            INTEGER NOT NULL,
        device_mtime    TEXT NOT NULL,
        device_ctime    TEXT,
        device_atime    TEXT,
        entry_key       TEXT,
        raw_name        BLOB,
        UNIQUE (device_id, entry_key, device_path, size, device_mtime)
);
INSERT INTO deleted_entries_new SELECT *, NULL, NULL FROM deleted_entries;
DROP TABLE deleted_entries;
ALTER TABLE deleted_entries_new RENAME TO deleted_entries;
CREATE INDEX deleted_entries_session ON deleted_entries(session_id);

-- What a session could not read, walk or tell apart (blocking = 1: the
-- session is incomplete because of it, never "complete", never wiped), and
-- warnings worth keeping. Each names the file, directory, region or partition.
CREATE TABLE session_findings (
        id              INTEGER PRIMARY KEY,
        session_id      INTEGER NOT NULL REFERENCES dock_sessions(id),
        blocking        INTEGER NOT NULL CHECK (blocking IN (0, 1)),
        kind            TEXT NOT NULL,          -- volume / integrity / unaccounted
        message         TEXT NOT NULL
);
CREATE INDEX session_findings_session ON session_findings(session_id);
ALTER TABLE dock_sessions ADD COLUMN unaccounted_bytes INTEGER;
