-- dockd catalog, migration 010: retention and legal holds (issue #7).
-- A recording is kept its class's period from its recorded end ([retention]
-- in dockd.conf: default 6 months) and never becomes due while any active
-- hold covers it: the recording itself, its officer, its device, or a case
-- it belongs to.
ALTER TABLE recordings ADD COLUMN retention_class TEXT NOT NULL DEFAULT 'default';

CREATE TABLE holds (
        id              INTEGER PRIMARY KEY,
        scope           TEXT NOT NULL CHECK (scope IN ('recording', 'officer', 'device', 'case')),
        value           TEXT NOT NULL,          -- recording id, officer ID, device serial, case number
        reason          TEXT NOT NULL CHECK (length(reason) > 0),
        placed_by       TEXT NOT NULL,
        placed_at       TEXT NOT NULL,
        released_by     TEXT,
        released_at     TEXT,
        release_reason  TEXT
);
CREATE INDEX holds_active ON holds(scope, value) WHERE released_at IS NULL;

CREATE TABLE case_recordings (
        case_no         TEXT NOT NULL,
        recording_id    INTEGER NOT NULL REFERENCES recordings(id),
        PRIMARY KEY (case_no, recording_id)
);
CREATE INDEX case_recordings_recording ON case_recordings(recording_id);
