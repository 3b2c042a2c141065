-- dockd catalog, migration 013: wiping recorders ([policy] wipe = verified,
-- issue #7): what happened at the end of each dock session — wiped, or why not.
ALTER TABLE dock_sessions ADD COLUMN wipe TEXT;
ALTER TABLE dock_sessions ADD COLUMN wiped_at TEXT;
