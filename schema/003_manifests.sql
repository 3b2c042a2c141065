-- dockd catalog, migration 003: one signed manifest per dock session, chained
-- per station, written in the transaction that ends the session. The columns
-- after `signature` are the outbox: delivery to the archive (issue #5).
CREATE TABLE manifests (
        id              INTEGER PRIMARY KEY,
        session_id      INTEGER NOT NULL UNIQUE REFERENCES dock_sessions(id),
        station         TEXT NOT NULL,
        seq             INTEGER NOT NULL,
        prev_sha256     TEXT,                   -- NULL for the station's first
        sha256          TEXT NOT NULL,          -- of body, the canonical bytes
        body            BLOB NOT NULL,
        signature       BLOB NOT NULL,          -- Ed25519 over body, 64 bytes
        created_at      TEXT NOT NULL,
        deadline        TEXT NOT NULL,          -- docked + 24 h
        delivered_at    TEXT,
        attempts        INTEGER NOT NULL DEFAULT 0,
        last_error      TEXT,
        UNIQUE (station, seq)
);
