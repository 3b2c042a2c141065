-- dockd catalog, migration 007: the indexes the custodian's questions need
-- at 5 million recordings (measured by scripts/bench-catalog): a device's file
-- sequence in one ordered pass, and a device's sessions in order.
CREATE INDEX recordings_device_seq ON recordings(device_id, first_session_id, name_seq) WHERE name_seq IS NOT NULL;
