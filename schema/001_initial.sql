-- dockd catalog, migration 001: the ledger of what was taken and what is verified.
-- Times are UTC ISO-8601 text ('YYYY-MM-DDTHH:MM:SS.sssZ') unless named device_*:
-- those are the recorder's own clock, as its filesystem reports them, with no zone.

CREATE TABLE devices (
        id              INTEGER PRIMARY KEY,
        serial          TEXT NOT NULL UNIQUE,
        vendor          TEXT,
        model           TEXT,
        first_seen      TEXT NOT NULL,
        notes           TEXT
);

CREATE TABLE targets (
        id              INTEGER PRIMARY KEY,
        name            TEXT NOT NULL UNIQUE,
        path            TEXT NOT NULL,
        created_at      TEXT NOT NULL
);

-- One row per dock (or per `dockctl ingest` run) of a device.
CREATE TABLE dock_sessions (
        id              INTEGER PRIMARY KEY,
        device_id       INTEGER NOT NULL REFERENCES devices(id),
        source          TEXT NOT NULL,          -- image path or block device
        fs_type         TEXT,
        started_at      TEXT NOT NULL,
        ended_at        TEXT,
        state           TEXT NOT NULL CHECK (state IN
                          ('ingesting','complete','incomplete','interrupted','failed')),
        files_seen      INTEGER NOT NULL DEFAULT 0,
        files_copied    INTEGER NOT NULL DEFAULT 0,
        files_already   INTEGER NOT NULL DEFAULT 0,
        bytes_copied    INTEGER NOT NULL DEFAULT 0,
        files_under_copied INTEGER NOT NULL DEFAULT 0,  -- fewer verified copies than required
        error           TEXT
);
CREATE INDEX dock_sessions_device ON dock_sessions(device_id, started_at);

-- A recording exists from the moment dockd starts pulling it; sha256 stays NULL
-- until the whole source file has been read and hashed. A file on the device is
-- the same recording when path, size and modification time all match.
CREATE TABLE recordings (
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
        UNIQUE (device_id, device_path, size, device_mtime)
);
CREATE INDEX recordings_sha256 ON recordings(sha256);

-- A copy row exists only once the copy was read back past the page cache,
-- matched the source byte for byte, and was renamed into place durably.
CREATE TABLE copies (
        id              INTEGER PRIMARY KEY,
        recording_id    INTEGER NOT NULL REFERENCES recordings(id),
        target_id       INTEGER NOT NULL REFERENCES targets(id),
        path            TEXT NOT NULL,          -- relative to the target root
        verified_at     TEXT NOT NULL,
        method          TEXT NOT NULL,          -- how it was read back: o_direct / fadvise
        session_id      INTEGER NOT NULL REFERENCES dock_sessions(id),
        UNIQUE (recording_id, target_id),
        UNIQUE (target_id, path)
);

-- What went wrong, per file and target, so an under-copied recording says why.
CREATE TABLE copy_failures (
        id              INTEGER PRIMARY KEY,
        recording_id    INTEGER NOT NULL REFERENCES recordings(id),
        target_id       INTEGER REFERENCES targets(id),   -- NULL: the source failed
        session_id      INTEGER NOT NULL REFERENCES dock_sessions(id),
        at              TEXT NOT NULL,
        error           TEXT NOT NULL
);

-- Entries deleted on the device before it docked: recorded, never silently lost.
CREATE TABLE deleted_entries (
        id              INTEGER PRIMARY KEY,
        device_id       INTEGER NOT NULL REFERENCES devices(id),
        session_id      INTEGER NOT NULL REFERENCES dock_sessions(id),
        device_path     TEXT NOT NULL,
        size            INTEGER NOT NULL,
        device_mtime    TEXT NOT NULL,
        device_ctime    TEXT,
        device_atime    TEXT,
        UNIQUE (device_id, device_path, size, device_mtime)
);
