-- dockd catalog, migration 008: the 24-hour rule's question, "which were late
-- in this period", answered from an index of the late ones only. Most
-- recordings arrive within hours, so an index over lag >= 1 h (006) held
-- nearly all of them; measured by scripts/bench-catalog at 5 million rows, a
-- month's compliance took 60 ms at p95 with it. late_h below 24 falls back to
-- the period index. Also: per-session and per-recording lookups that
-- listings make for every row.
DROP INDEX recordings_late;
CREATE INDEX recordings_late24 ON recordings(rec_end_utc) WHERE lag_s > 86400;
CREATE INDEX deleted_entries_session ON deleted_entries(session_id);
CREATE INDEX copy_failures_recording ON copy_failures(recording_id);
