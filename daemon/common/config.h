/* config.h — the station's configuration: INI file (inih) → struct config,
 * with embedded defaults so a bare machine runs the whole path. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "recorders.h"

#define DOCKD_DEFAULT_CONFIG "/etc/dockd/dockd.conf"
#define DOCKD_DEFAULT_STATE "/var/lib/dockd"
#define DOCKD_MAX_WRITERS 8 /* [ingest] writers: writes in flight per target */
#define DOCKD_MAX_TARGETS 8
#define DOCKD_MAX_ALLOW 64

/* [target.NAME] type = s3: one bucket (and key prefix) of an S3 service. */
struct s3_conf {
        char *endpoint; /* "https://rgw.example:443"; http only to a loopback address */
        char *bucket;
        char *region;      /* default us-east-1 */
        char *prefix;      /* key prefix: "" or ending in '/' */
        char *credentials; /* file: access_key_id = ..., secret_access_key = ... */
        char *ca_file;
        char *object_lock; /* "compliance", "governance" (default) or "off" */
        char *sse_c_key;   /* file of 32 random bytes: objects encrypted by the server with it (SSE-C) */
};

enum target_type { TARGET_FS, TARGET_S3 };

struct target_conf {
        char *name;
        enum target_type type;
        char *path;  /* fs: the directory; s3: "s3://BUCKET/PREFIX" at ENDPOINT, for people and the ledger */
        bool create; /* embedded default: make the directory; configured: must exist */
        bool require_encryption; /* [policy] require_encryption, for the code that opens it */
        struct s3_conf s3;
};

struct config {
        char *source_file; /* NULL: embedded defaults */
        char *station_id;
        char *state_dir;
        int copies; /* verified copies a recording needs */
        struct target_conf targets[DOCKD_MAX_TARGETS];
        size_t n_targets;
        size_t chunk_size;       /* bytes per pipeline buffer */
        unsigned chunks;         /* buffers in flight per ingest: memory = chunk_size * chunks */
        unsigned writers;        /* writes in flight per target */
        unsigned checkpoint_mb;  /* durable resume point every this many MiB */
        unsigned bay_memory_mib; /* dockd: pipeline memory shared by all bays ingesting at once */
        char *archive_url;
        char *archive_ca, *archive_cert, *archive_key, *archive_token;
        struct s3_conf archive_s3; /* url = s3://BUCKET/PREFIX: the bucket's endpoint, credentials, lock */
        unsigned archive_timeout_s, archive_retry_cap_s;
        unsigned archive_deadline_h;              /* a manifest is due at the archive this long after docking */
        unsigned archive_warn_margin_h;           /* alarm when an undelivered manifest has less than this left */
        char *socket_path;                        /* control socket; default STATE/dockd.sock */
        char *metrics_listen;                     /* [metrics] listen: IPv4:PORT or [IPv6]:PORT, or "off" */
        char *metrics_tls_cert, *metrics_tls_key; /* [metrics] tls_cert, tls_key: HTTPS (PEM files) */
        char *metrics_token_file; /* [metrics] token_file: /metrics, /admin and the alarms need this token */
        unsigned max_parallel;    /* bays ingesting at once; the rest wait in dock order */
        struct usb_id {
                unsigned vendor, product;
        } allow[DOCKD_MAX_ALLOW];
        size_t n_allow; /* [recorders] allow: only these USB devices are recorders */
        struct usb_id clock[DOCKD_MAX_ALLOW];
        size_t n_clock; /* [recorders] clock: models that answer the clock request */
        /* The recorder models and their drivers: [recorder.VID:PID] sections,
         * and the allow / clock lists read into the same table. */
        struct recorder_model models[DOCKD_MAX_ALLOW];
        size_t n_models;
        char *timezone; /* [station] timezone: the zone recorders keep local time in; NULL: the host's */
        char *language; /* [station] language: the status page's, "en" or "zh_CN"; NULL: the browser's */
        /* [bays] LABEL = USB port path: the physical bays, as the status page shows them */
        struct bay_slot {
                char label[17];
                char *port;
        } slots[DOCKD_MAX_ALLOW];
        size_t n_slots;
        char *name_pattern;         /* [recorders] name_pattern: tags in file names (tags.h); NULL: none */
        bool allow_same_filesystem; /* [station]: two targets on one filesystem (demos, tests) */
        char *codepage;             /* [recorders] codepage: 8.3 names' OEM codepage (default CP936, GBK) */
        unsigned late_h;            /* [policy] late_h: the 24-hour rule's threshold */
        bool wipe_verified;         /* [policy] wipe = verified: wipe a recorder once all of it is verified twice */
        bool require_encryption;    /* [policy] require_encryption = yes: refuse a target not encrypted at rest */
        char *operator_group, *custodian_group, *admin_group; /* [roles]: Unix groups granting each role */
        unsigned retention_months;                            /* [retention] default_months */
        struct retention_class {
                char name[33];
                unsigned months;
        } retention[16];
        size_t n_retention;            /* [retention] class.NAME = MONTHS */
        unsigned alarm_min_free_gib;   /* [alarms] target_min_free_gib */
        unsigned alarm_clock_offset_s; /* [alarms] clock_offset_max_s */
};

/* The model a USB vendor:product docks as, or NULL: not a recorder, never read. */
const struct recorder_model *config_model(const struct config *cfg, unsigned vendor, unsigned product);
/* Months a recording of this retention class is kept; 0 if the class is unknown. */
unsigned config_retention_months(const struct config *cfg, const char *cls);

/* Loads `path` (NULL: the default path if it exists, else embedded defaults;
 * "": the embedded defaults),
 * then applies `state_dir` if non-NULL. On failure returns -EINVAL (or -errno)
 * and writes a message naming file, line and problem into err. */
int config_load(struct config *cfg, const char *path, const char *state_dir, char *err, size_t err_size);
void config_free(struct config *cfg);
