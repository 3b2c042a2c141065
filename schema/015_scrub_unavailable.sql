-- dockd catalog, migration 015: a scrub that finds a target's filesystem not
-- mounted records its copies as 'target-unavailable' (not checked, never
-- "missing", nothing restored onto the disk below the mount point).
CREATE TABLE scrub_findings_new (
        id              INTEGER PRIMARY KEY,
        at              TEXT NOT NULL,
        recording_id    INTEGER NOT NULL REFERENCES recordings(id),
        target_id       INTEGER REFERENCES targets(id),         -- NULL: the recording as a whole
        path            TEXT,
        finding         TEXT NOT NULL CHECK (finding IN ('missing', 'mismatch', 'unreadable', 'repaired', 'lost',
                                                         'target-unavailable')),
        detail          TEXT
);
INSERT INTO scrub_findings_new SELECT * FROM scrub_findings;
DROP TABLE scrub_findings;
ALTER TABLE scrub_findings_new RENAME TO scrub_findings;
CREATE INDEX scrub_findings_recording ON scrub_findings(recording_id);
