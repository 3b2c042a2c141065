-- dockd catalog, migration 009: the audit chain (issue #7). Every state
-- change and every export is a row carrying the SHA-256 of the row before it;
-- `dockctl audit verify` walks the chain and names the first row that was
-- altered, inserted or deleted, and the head goes into every manifest so the
-- archive can tell a rewritten local history. The triggers stop an honest
-- mistake; the chain catches the rest.
CREATE TABLE audit (
        id              INTEGER PRIMARY KEY,
        at              TEXT NOT NULL,
        who             TEXT NOT NULL,          -- login name of the uid
        role            TEXT NOT NULL,          -- operator / custodian / admin / station
        action          TEXT NOT NULL,          -- e.g. assign, reattribute, export, session.end
        object          TEXT NOT NULL,          -- e.g. "device CAM-1", "recording 42"
        why             TEXT,
        prev_sha256     TEXT,                   -- NULL only for the first row
        sha256          TEXT NOT NULL
);
CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;
CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit chain is append-only'); END;
