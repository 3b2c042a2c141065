-- dockd catalog, migration 005: the forwarder's question ("what is due next,
-- earliest deadline first?") answered from an index of the undelivered only,
-- so catching up after an outage costs the same per manifest at 10 or 10,000
-- queued (measured by scripts/bench-archive).
CREATE INDEX manifests_outbox ON manifests(deadline, seq) WHERE delivered_at IS NULL;
