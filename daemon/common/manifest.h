/* manifest.h — one canonical JSON document per dock session (what the
 * station took, where its copies are), chained per station by the SHA-256 of
 * the previous manifest and signed with the station's Ed25519 key. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "config.h"

/* STATE/station.key (PKCS#8 PEM, 0600) and STATE/station.pub; created on first use. */
int manifest_key_path(const struct config *cfg, char **key, char **pub);
int manifest_key_ensure(const struct config *cfg, char *err, size_t err_size);
/* STATE/station.pub's bytes (malloc'd), to publish in an S3 archive. */
int manifest_public_key(const struct config *cfg, char **pem, size_t *len);

/* A session's manifest as data: gathered from the catalog once, rendered by
 * each format (the canonical signed JSON here; receipts and custody reports
 * are other renderers of the same model). Strings are owned, NULL where
 * unknown. */
struct manifest_copy {
        char *path, *target, *verified_at;
        char *version_id; /* an object copy's version; NULL on a filesystem */
        char *object;     /* an object copy: "s3://BUCKET/KEY"; NULL on a filesystem */
};
struct manifest_recording {
        char *attribution_flag, *device_mtime, *device_path, *media_flag, *officer, *officer_source;
        char *recorded_end_device, *recorded_end_utc, *recorded_start_device, *recorded_start_utc, *sha256;
        int64_t size;
        struct manifest_copy copies[8];
        size_t n_copies;
};
struct manifest_deleted {
        char *device_mtime, *device_path;
        int64_t size;
};
struct manifest_session {
        bool found, has_clock_offset;
        int64_t id, clock_offset_s, unaccounted_bytes;
        char *serial, *source, *docked_at, *ended_at, *state, *bay, *vendor, *model, *vendor_id, *product_id;
        char *identity_flag, *unread, *officer, *officer_source;
        /* what the recorder said of itself (行标 functions); has_report false: nothing */
        bool has_report;
        int battery_pct;
        char *rep_badge, *rep_name, *rep_unit_no, *rep_unit_name, *rep_id_code, *clock_set_at, *clock_set_to;
        char *info_error;
};
struct manifest {
        char *station, *prev_sha256;
        int64_t seq, audit_id;
        char audit_sha256[65];
        struct manifest_session session;
        struct manifest_recording *recordings;
        size_t n_recordings, cap_recordings;
        struct manifest_deleted *deleted;
        size_t n_deleted;
};
int manifest_gather(const struct config *cfg, struct catalog *cat, int64_t session_id, struct manifest *m, char *err,
                    size_t err_size);
/* The canonical bytes: keys sorted, no white space (malloc'd into *body). */
int manifest_render_json(const struct manifest *m, char **body, size_t *len);
void manifest_free(struct manifest *m);

/* Gathers, renders, signs and records the manifest of a finished session,
 * inside the caller's transaction. */
int manifest_write(const struct config *cfg, struct catalog *cat, int64_t session_id, char *err, size_t err_size);
