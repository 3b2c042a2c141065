-- dockd catalog, migration 004: the manifest outbox's retry state.
ALTER TABLE manifests ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;   -- unix seconds
ALTER TABLE manifests ADD COLUMN receipt TEXT;          -- what the archive answered on delivery
-- A manifest the archive refused for good (4xx other than 408/429; 409 =
-- same name, different body: an integrity alarm). Not retried by itself.
ALTER TABLE manifests ADD COLUMN rejected TEXT;
