-- dockd catalog, migration 016: a station never forgets silently (issue #12).
-- Each catalog has an identity, written into every target's marker. A
-- catalog that finds a target marked by another catalog (or full of copies
-- it does not know) refuses to run: it is not the ledger of those copies, and
-- an empty catalog must not start the station over in silence.
CREATE TABLE catalog_identity (
        id              TEXT NOT NULL,          -- 32 hex digits, random
        created_at      TEXT NOT NULL
);
