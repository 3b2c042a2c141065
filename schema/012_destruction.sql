-- dockd catalog, migration 012: approved destruction (issue #7). An admin
-- requests it for recordings past retention and under no hold; a different
-- admin approves; then every copy is overwritten, unlinked and fsynced, and
-- the recording row keeps its hashes and gains the destruction record. A
-- destroyed recording seen again on a recorder is not taken again.
CREATE TABLE destruction_requests (
        id              INTEGER PRIMARY KEY,
        reason          TEXT NOT NULL CHECK (length(reason) > 0),
        requested_by    TEXT NOT NULL,
        requested_at    TEXT NOT NULL,
        approved_by     TEXT,
        approved_at     TEXT,
        state           TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'incomplete')),
        detail          TEXT
);
CREATE TABLE destruction_items (
        request_id      INTEGER NOT NULL REFERENCES destruction_requests(id),
        recording_id    INTEGER NOT NULL REFERENCES recordings(id),
        PRIMARY KEY (request_id, recording_id)
);
ALTER TABLE recordings ADD COLUMN destroyed_at TEXT;
ALTER TABLE recordings ADD COLUMN destruction_request_id INTEGER REFERENCES destruction_requests(id);
ALTER TABLE recordings ADD COLUMN destruction_method TEXT;
