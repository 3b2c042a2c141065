-- dockd catalog, migration 021: the counts that /metrics and /status.json
-- show, kept by triggers in the same transaction as the change they count, so
-- a scrape costs the same at 5 M recordings as at 5 (issue #17; measured by
-- scripts/bench-catalog). Triggers, not the daemon's memory: dockctl and a
-- restored catalog change the tables too, and a count kept in the database
-- cannot drift from the rows. `catalog_counts_check` compares them with a
-- full count (the unit tests).

-- Dock sessions by state.
CREATE TABLE count_sessions (
        state   TEXT PRIMARY KEY,
        n       INTEGER NOT NULL
) WITHOUT ROWID;
-- Verified copies by target.
CREATE TABLE count_copies (
        target_id INTEGER PRIMARY KEY,
        n       INTEGER NOT NULL
);
-- Recordings not destroyed, by how many verified copies each has: the number
-- of recordings is the sum, the under-copied are the rows below the
-- configured number of copies (which the configuration may change).
CREATE TABLE count_live (
        copies  INTEGER PRIMARY KEY,
        n       INTEGER NOT NULL
);
-- Manifests by delivered (1) or not (0).
CREATE TABLE count_manifests (
        delivered INTEGER PRIMARY KEY,
        n       INTEGER NOT NULL
);

INSERT INTO count_sessions (state, n) SELECT state, count(*) FROM dock_sessions GROUP BY state;
INSERT INTO count_copies (target_id, n) SELECT target_id, count(*) FROM copies GROUP BY target_id;
INSERT INTO count_live (copies, n)
        SELECT k, count(*) FROM (SELECT (SELECT count(*) FROM copies c WHERE c.recording_id = r.id) AS k
                                 FROM recordings r WHERE r.destroyed_at IS NULL) GROUP BY k;
INSERT INTO count_manifests (delivered, n)
        SELECT delivered_at IS NOT NULL, count(*) FROM manifests GROUP BY delivered_at IS NOT NULL;

CREATE TRIGGER count_sessions_insert AFTER INSERT ON dock_sessions BEGIN
        INSERT INTO count_sessions (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER count_sessions_update AFTER UPDATE OF state ON dock_sessions WHEN OLD.state IS NOT NEW.state BEGIN
        UPDATE count_sessions SET n = n - 1 WHERE state = OLD.state;
        INSERT INTO count_sessions (state, n) VALUES (NEW.state, 1) ON CONFLICT (state) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER count_sessions_delete AFTER DELETE ON dock_sessions BEGIN
        UPDATE count_sessions SET n = n - 1 WHERE state = OLD.state;
END;

-- A copy is a recording's on one target: it is added, re-placed (path,
-- version, lock) or removed, never moved to another recording or target.
CREATE TRIGGER copies_never_move BEFORE UPDATE OF recording_id, target_id ON copies
WHEN OLD.recording_id IS NOT NEW.recording_id OR OLD.target_id IS NOT NEW.target_id BEGIN
        SELECT RAISE(ABORT, 'a copy belongs to one recording on one target: delete it and add the new one');
END;
CREATE TRIGGER count_copies_insert AFTER INSERT ON copies BEGIN
        INSERT INTO count_copies (target_id, n) VALUES (NEW.target_id, 1)
                ON CONFLICT (target_id) DO UPDATE SET n = n + 1;
        UPDATE count_live SET n = n - 1
                WHERE copies = (SELECT count(*) - 1 FROM copies WHERE recording_id = NEW.recording_id)
                AND (SELECT destroyed_at IS NULL FROM recordings WHERE id = NEW.recording_id);
        INSERT INTO count_live (copies, n)
                SELECT (SELECT count(*) FROM copies WHERE recording_id = NEW.recording_id), 1
                WHERE (SELECT destroyed_at IS NULL FROM recordings WHERE id = NEW.recording_id)
                ON CONFLICT (copies) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER count_copies_delete AFTER DELETE ON copies BEGIN
        UPDATE count_copies SET n = n - 1 WHERE target_id = OLD.target_id;
        UPDATE count_live SET n = n - 1
                WHERE copies = (SELECT count(*) + 1 FROM copies WHERE recording_id = OLD.recording_id)
                AND (SELECT destroyed_at IS NULL FROM recordings WHERE id = OLD.recording_id);
        INSERT INTO count_live (copies, n)
                SELECT (SELECT count(*) FROM copies WHERE recording_id = OLD.recording_id), 1
                WHERE (SELECT destroyed_at IS NULL FROM recordings WHERE id = OLD.recording_id)
                ON CONFLICT (copies) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER count_live_insert AFTER INSERT ON recordings WHEN NEW.destroyed_at IS NULL BEGIN
        INSERT INTO count_live (copies, n)
                SELECT (SELECT count(*) FROM copies WHERE recording_id = NEW.id), 1
                WHERE 1 ON CONFLICT (copies) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER count_live_destroyed AFTER UPDATE OF destroyed_at ON recordings
WHEN (OLD.destroyed_at IS NULL) <> (NEW.destroyed_at IS NULL) BEGIN
        UPDATE count_live SET n = n - 1
                WHERE NEW.destroyed_at IS NOT NULL AND copies = (SELECT count(*) FROM copies WHERE recording_id = NEW.id);
        INSERT INTO count_live (copies, n)
                SELECT (SELECT count(*) FROM copies WHERE recording_id = NEW.id), 1
                WHERE NEW.destroyed_at IS NULL ON CONFLICT (copies) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER count_live_delete AFTER DELETE ON recordings WHEN OLD.destroyed_at IS NULL BEGIN
        UPDATE count_live SET n = n - 1 WHERE copies = (SELECT count(*) FROM copies WHERE recording_id = OLD.id);
END;

CREATE TRIGGER count_manifests_insert AFTER INSERT ON manifests BEGIN
        INSERT INTO count_manifests (delivered, n) VALUES (NEW.delivered_at IS NOT NULL, 1)
                ON CONFLICT (delivered) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER count_manifests_update AFTER UPDATE OF delivered_at ON manifests
WHEN (OLD.delivered_at IS NULL) <> (NEW.delivered_at IS NULL) BEGIN
        UPDATE count_manifests SET n = n - 1 WHERE delivered = (OLD.delivered_at IS NOT NULL);
        INSERT INTO count_manifests (delivered, n) VALUES (NEW.delivered_at IS NOT NULL, 1)
                ON CONFLICT (delivered) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER count_manifests_delete AFTER DELETE ON manifests BEGIN
        UPDATE count_manifests SET n = n - 1 WHERE delivered = (OLD.delivered_at IS NOT NULL);
END;

-- The alarms' questions, answered from the few rows they concern: recordings
-- with no good copy left, the sessions of the last 24 hours, and each
-- device's latest clock reading.
CREATE INDEX recordings_lost ON recordings(id) WHERE lost_at IS NOT NULL;
CREATE INDEX dock_sessions_started ON dock_sessions(started_at);
CREATE INDEX dock_sessions_clock ON dock_sessions(device_id, id) WHERE clock_offset_s IS NOT NULL;
