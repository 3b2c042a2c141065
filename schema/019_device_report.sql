-- Recorders that speak the 行标 functions (issue #16): what the device said of
-- itself when it docked, kept with the dock session: the officer it names
-- (ZFY_INFO: 警号, name, unit), its ID code, its battery, whether and to what
-- the station set its clock, and why its info could not be read.
ALTER TABLE dock_sessions ADD COLUMN reported_badge TEXT;
ALTER TABLE dock_sessions ADD COLUMN reported_officer_name TEXT;
ALTER TABLE dock_sessions ADD COLUMN reported_unit_no TEXT;
ALTER TABLE dock_sessions ADD COLUMN reported_unit_name TEXT;
ALTER TABLE dock_sessions ADD COLUMN device_id_code TEXT;
ALTER TABLE dock_sessions ADD COLUMN battery_pct INTEGER;
ALTER TABLE dock_sessions ADD COLUMN clock_set_at TEXT;
ALTER TABLE dock_sessions ADD COLUMN clock_set_to TEXT;
ALTER TABLE dock_sessions ADD COLUMN device_info_error TEXT;
-- The identity a device was first seen with, besides its serial: the USB
-- serial and the volume label. A later dock that disagrees is flagged
-- 'serial-mismatch' and kept apart, never merged.
ALTER TABLE devices ADD COLUMN bound_usb_serial TEXT;
ALTER TABLE devices ADD COLUMN bound_label TEXT;
