-- dockd catalog, migration 006: the custodian's ledger (issue #4) — officers,
-- the device registry's status, check-out/check-in, and per recording its
-- time (device clock and corrected UTC), media facts, officer attribution
-- with its source, and the records of every later human decision.
CREATE TABLE officers (
        id              INTEGER PRIMARY KEY,
        badge           TEXT NOT NULL UNIQUE,   -- officer ID / 警号, as printed
        name            TEXT NOT NULL,
        unit            TEXT,
        created_at      TEXT NOT NULL,
        created_by      TEXT NOT NULL
);

ALTER TABLE devices ADD COLUMN status TEXT NOT NULL DEFAULT 'in service'
        CHECK (status IN ('in service', 'repair', 'lost', 'retired'));

-- Check-out (start) to check-in (end, NULL while out). Overlaps are refused
-- by the catalog code before insert; times are UTC in the catalog's form.
CREATE TABLE assignments (
        id              INTEGER PRIMARY KEY,
        device_id       INTEGER NOT NULL REFERENCES devices(id),
        officer_id      INTEGER NOT NULL REFERENCES officers(id),
        start_at        TEXT NOT NULL,
        end_at          TEXT CHECK (end_at IS NULL OR end_at > start_at),
        created_by      TEXT NOT NULL,
        created_at      TEXT NOT NULL
);
CREATE INDEX assignments_device ON assignments(device_id, start_at);
CREATE INDEX assignments_officer ON assignments(officer_id, start_at);

-- Device clock minus station clock at dock time, seconds; NULL: the driver
-- cannot read this device's clock.
ALTER TABLE dock_sessions ADD COLUMN clock_offset_s INTEGER;

ALTER TABLE recordings ADD COLUMN rec_start_device TEXT;   -- device clock, no zone
ALTER TABLE recordings ADD COLUMN rec_end_device TEXT;
ALTER TABLE recordings ADD COLUMN rec_start_utc TEXT;      -- corrected: device − clock offset
ALTER TABLE recordings ADD COLUMN rec_end_utc TEXT;
ALTER TABLE recordings ADD COLUMN time_source TEXT;        -- media / filename / mtime
ALTER TABLE recordings ADD COLUMN duration_s REAL;
ALTER TABLE recordings ADD COLUMN codec TEXT;
ALTER TABLE recordings ADD COLUMN width INTEGER;
ALTER TABLE recordings ADD COLUMN height INTEGER;
ALTER TABLE recordings ADD COLUMN media_flag TEXT;         -- truncated / unplayable / NULL
ALTER TABLE recordings ADD COLUMN media_error TEXT;
ALTER TABLE recordings ADD COLUMN name_seq INTEGER;        -- sequence number from the file name
ALTER TABLE recordings ADD COLUMN officer_id INTEGER REFERENCES officers(id);
ALTER TABLE recordings ADD COLUMN officer_source TEXT;     -- device / assignment / custodian / NULL
ALTER TABLE recordings ADD COLUMN device_officer TEXT;     -- badge the device reported (file name)
ALTER TABLE recordings ADD COLUMN assigned_officer_id INTEGER REFERENCES officers(id);
ALTER TABLE recordings ADD COLUMN attribution_flag TEXT;   -- conflict / unknown-officer / NULL
ALTER TABLE recordings ADD COLUMN ingested_at TEXT;        -- the required verified copies complete
ALTER TABLE recordings ADD COLUMN lag_s INTEGER;           -- ingested_at − rec_end_utc: the 24-hour rule
CREATE INDEX recordings_officer_end ON recordings(officer_id, rec_end_utc);
CREATE INDEX recordings_device_end ON recordings(device_id, rec_end_utc);
CREATE INDEX recordings_end ON recordings(rec_end_utc);
-- Compliance asks for the late ones in a period; late_h is at least 1 h.
CREATE INDEX recordings_late ON recordings(rec_end_utc, lag_s) WHERE lag_s >= 3600;

CREATE TABLE reattributions (
        id              INTEGER PRIMARY KEY,
        recording_id    INTEGER NOT NULL REFERENCES recordings(id),
        old_officer_id  INTEGER REFERENCES officers(id),
        new_officer_id  INTEGER NOT NULL REFERENCES officers(id),
        reason          TEXT NOT NULL CHECK (length(reason) > 0),
        by_user         TEXT NOT NULL,
        at              TEXT NOT NULL
);

CREATE TABLE justifications (
        id              INTEGER PRIMARY KEY,
        recording_id    INTEGER NOT NULL REFERENCES recordings(id),
        reason          TEXT NOT NULL CHECK (length(reason) > 0),
        by_user         TEXT NOT NULL,
        at              TEXT NOT NULL
);
CREATE INDEX justifications_recording ON justifications(recording_id);
