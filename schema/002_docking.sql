-- dockd catalog, migration 002: docking. Devices keep the identity they were
-- first seen with; a dock session knows its bay and when the recorder left.

ALTER TABLE devices ADD COLUMN vendor_id TEXT;          -- USB idVendor, hex
ALTER TABLE devices ADD COLUMN product_id TEXT;         -- USB idProduct, hex
-- Set when the identity cannot be trusted: 'serial-missing' (the device
-- reports none), 'serial-collision' (another device already holds it).
ALTER TABLE devices ADD COLUMN identity_flag TEXT;

ALTER TABLE dock_sessions ADD COLUMN bay TEXT;          -- USB port path
ALTER TABLE dock_sessions ADD COLUMN undocked_at TEXT;
