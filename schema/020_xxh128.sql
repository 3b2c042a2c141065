-- ASC MHL receipts (issue #17): the recording's XXH128 (seed 0, canonical
-- big-endian hex), computed in the same read of the device as its SHA-256.
-- ASC MHL has no SHA-256 element; the receipts carry XXH128 and the SHA-256
-- in their metadata. NULL for recordings hashed before this migration and
-- those only ever copied to object targets.
ALTER TABLE recordings ADD COLUMN xxh128 TEXT;
