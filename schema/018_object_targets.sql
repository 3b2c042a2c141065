-- Storage targets behind one interface (issue #15): a target is a directory
-- on its own filesystem (fs) or a bucket and key prefix of an S3 service
-- (s3). An S3 copy is one object version: its path is the object's key, and
-- the version id, ETag and the Object Lock it was written with are kept.
ALTER TABLE targets ADD COLUMN type TEXT NOT NULL DEFAULT 'fs' CHECK (type IN ('fs', 's3'));
ALTER TABLE copies ADD COLUMN version_id TEXT;
ALTER TABLE copies ADD COLUMN etag TEXT;
ALTER TABLE copies ADD COLUMN lock_mode TEXT;
ALTER TABLE copies ADD COLUMN retain_until TEXT;
-- Whether the target proved write-once when dockd last started (an S3
-- target's lock probe: a locked version's delete must be refused): NULL not
-- proven (a filesystem target, or not yet), 1 proven, 0 refused with the reason.
ALTER TABLE targets ADD COLUMN write_once INTEGER;
ALTER TABLE targets ADD COLUMN write_once_error TEXT;
-- An object copy's S3 legal hold as last set by dockd (1 on, 0 or NULL off):
-- kept in step with the holds in force (station.c).
ALTER TABLE copies ADD COLUMN legal_hold INTEGER;
