-- One vocabulary (issue #14): the same word in the schema, the C, the
-- command line, the JSON and the docs.
-- A recording's times are recorded_*, as in every listing and manifest.
ALTER TABLE recordings RENAME COLUMN rec_start_device TO recorded_start_device;
ALTER TABLE recordings RENAME COLUMN rec_end_device TO recorded_end_device;
ALTER TABLE recordings RENAME COLUMN rec_start_utc TO recorded_start_utc;
ALTER TABLE recordings RENAME COLUMN rec_end_utc TO recorded_end_utc;

-- A device's status is 'in-service', as on the command line: the CHECK
-- changes, so the table is rebuilt (foreign keys are off during migrations).
CREATE TABLE devices_new (
        id              INTEGER PRIMARY KEY,
        serial          TEXT NOT NULL UNIQUE,
        vendor          TEXT,
        model           TEXT,
        first_seen      TEXT NOT NULL,
        notes           TEXT,
        vendor_id       TEXT,
        product_id      TEXT,
        identity_flag   TEXT,
        status          TEXT NOT NULL DEFAULT 'in-service'
                        CHECK (status IN ('in-service', 'repair', 'lost', 'retired'))
);
INSERT INTO devices_new (id, serial, vendor, model, first_seen, notes, vendor_id, product_id, identity_flag, status)
        SELECT id, serial, vendor, model, first_seen, notes, vendor_id, product_id, identity_flag,
               CASE status WHEN 'in service' THEN 'in-service' ELSE status END FROM devices;
DROP TABLE devices;
ALTER TABLE devices_new RENAME TO devices;
