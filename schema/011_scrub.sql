-- dockd catalog, migration 011: scrub (issue #7). Every copy is re-read past
-- the page cache now and then and compared with the recording's SHA-256; a
-- bad or missing copy is restored from a good one (verified again); each
-- finding is kept. A recording with no good copy left is marked lost (an
-- alarm) until a copy is restored.
ALTER TABLE copies ADD COLUMN scrubbed_at TEXT;
ALTER TABLE recordings ADD COLUMN lost_at TEXT;
CREATE TABLE scrub_findings (
        id              INTEGER PRIMARY KEY,
        at              TEXT NOT NULL,
        recording_id    INTEGER NOT NULL REFERENCES recordings(id),
        target_id       INTEGER REFERENCES targets(id),         -- NULL: the recording as a whole
        path            TEXT,
        finding         TEXT NOT NULL CHECK (finding IN ('missing', 'mismatch', 'unreadable', 'repaired', 'lost')),
        detail          TEXT
);
CREATE INDEX scrub_findings_recording ON scrub_findings(recording_id);
