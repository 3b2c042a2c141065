/* catalog.h — the SQLite ledger (WAL, foreign keys, numbered migrations).
 * Every SQL statement of dockd lives in catalog.c; all of it parameterised. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct migration {
        int version;
        const char *name;
        const char *sql;
};
extern const struct migration catalog_migrations[];
extern const size_t catalog_n_migrations;

struct catalog;

/* Opens (creating if needed) the catalog at path and applies pending
 * migrations in one transaction each. err gets a message on failure. */
int catalog_open(const char *path, struct catalog **out, char *err, size_t err_size);
/* The same for STATE_DIR/catalog.sqlite, creating the state directory. */
int catalog_open_in(const char *state_dir, struct catalog **out, char *err, size_t err_size);
void catalog_close(struct catalog *c);
/* The migrations this catalog_open applied ("001_initial, 002_docking"), or
 * "": the caller that opens the station's catalog first says so. */
const char *catalog_migrated(struct catalog *c);
const char *catalog_errmsg(struct catalog *c);
int catalog_schema_version(struct catalog *c);

/* The catalog's own identity (created on first use; *fresh then). */
int catalog_identity(struct catalog *c, char id[33], bool *fresh);
int catalog_manifest_count(struct catalog *c, int64_t *n);
/* Verified copies recorded on the target of that name (0 if it is unknown). */
int catalog_target_copies_by_name(struct catalog *c, const char *name, int64_t *n);

int catalog_begin(struct catalog *c);
int catalog_commit(struct catalog *c);
void catalog_rollback(struct catalog *c);

int catalog_device_ensure(struct catalog *c, const char *serial, int64_t *id);
/* Registers a docked device. A serial already known with a different USB
 * vendor:product is another device claiming it: *collision is set and nothing
 * is changed (the caller registers it apart, flagged). */
int catalog_device_register(struct catalog *c, const char *serial, const char *vendor, const char *model,
                            const char *vendor_id, const char *product_id, const char *flag, int64_t *id,
                            bool *collision);
int catalog_session_set_bay(struct catalog *c, int64_t session_id, const char *bay);
/* What the recorder said of itself when it docked (its 行标 functions). */
struct session_report {
        const char *badge, *officer_name, *unit_no, *unit_name, *id_code;
        int battery_pct; /* -1 unknown */
        const char *clock_set_at, *clock_set_to, *info_error;
};
int catalog_session_set_report(struct catalog *c, int64_t session_id, const struct session_report *rep);
/* A device is bound to the first USB serial and volume label seen with its
 * serial; *mismatch says which one differs now ("" none). A serial not yet
 * registered has nothing to compare (bound when called after its ingest). */
int catalog_device_bind(struct catalog *c, const char *serial, const char *usb_serial, const char *label,
                        char *mismatch, size_t mismatch_size);
int catalog_session_set_undocked(struct catalog *c, int64_t session_id);
/* Registers target name (type "fs" or "s3") or finds it; a target recorded
 * as another type is refused (-EXDEV, catalog_errmsg says why). */
int catalog_target_ensure(struct catalog *c, const char *name, const char *type, const char *path, int64_t *id);
/* Number of verified copies recorded on a target (to notice a target that vanished). */
int catalog_target_copy_count(struct catalog *c, int64_t target_id, int64_t *n);

int catalog_session_start(struct catalog *c, int64_t device_id, const char *source, int64_t *id);
int catalog_session_set_fs(struct catalog *c, int64_t session_id, const char *fs_type);
struct session_counts {
        int64_t files_seen, files_copied, files_already, bytes_copied, files_under_copied;
};
int catalog_session_finish(struct catalog *c, int64_t session_id, const char *state, const struct session_counts *n,
                           const char *error);
/* Up to max ended sessions with no manifest (their end could not write one:
 * the state directory's disk was full, say). */
int catalog_sessions_unmanifested(struct catalog *c, int64_t *ids, size_t max, size_t *n);
/* Sessions of this device left 'ingesting' by a process that died become 'interrupted'. */
int catalog_sessions_mark_interrupted(struct catalog *c, int64_t device_id, int *n);
/* Up to max sessions of the device still 'ingesting' (left by a process that died). */
int catalog_sessions_stale(struct catalog *c, int64_t device_id, int64_t *ids, size_t max, size_t *n);

struct recording {
        int64_t id;
        bool has_sha256;
        char sha256[SHA256_HEX_LEN + 1];
        int64_t resume_offset;
        char resume_sha256[SHA256_HEX_LEN + 1];
        bool created;   /* first seen in this call */
        bool destroyed; /* destroyed by approval: never taken again */
};
/* A device entry as the catalog identifies it: where it lives on disk (key)
 * and its name's raw bytes besides its printed path, size and times. */
struct recording_entry {
        const char *path, *key; /* key NULL: an entry from before keys */
        const uint8_t *raw_name;
        size_t raw_name_len;
        int64_t size;
        const struct file_times *times;
};
/* The recording of this device entry, created if new. A row recorded
 * before entries had keys (same path, size, mtime) takes the entry's key. */
int catalog_recording_get_or_add(struct catalog *c, int64_t device_id, const struct recording_entry *e,
                                 int64_t session_id, struct recording *out);
int catalog_recording_checkpoint(struct catalog *c, int64_t rec_id, int64_t offset, const char *sha256);
/* The copies a session placed on a target, by path: what its ASC MHL
 * generation lists (mhl.c). */
struct session_copy {
        const char *path, *device_mtime, *sha256, *xxh128, *verified_at;
        int64_t size;
};
typedef int (*session_copy_cb)(const struct session_copy *c, void *ud);
int catalog_session_copies(struct catalog *c, int64_t session_id, const char *target_name, session_copy_cb cb,
                           void *ud);
/* The recording's XXH128 (hex), if it has none yet (ASC MHL receipts). */
int catalog_recording_set_xxh128(struct catalog *c, int64_t rec_id, const char *xxh128);
int catalog_recording_set_sha256(struct catalog *c, int64_t rec_id, const char *sha256);
/* Sets has[i] for each target id that holds a verified copy of rec_id. */
/* Verified copies recorded for rec_id, on any target (reachable now or not). */
int catalog_recording_copy_count(struct catalog *c, int64_t rec_id, int *n);
int catalog_recording_has_copy(struct catalog *c, int64_t rec_id, int64_t target_id, bool *has);
/* The path of its copy on that target (free it), or -ENOENT. */
int catalog_recording_copy_path(struct catalog *c, int64_t rec_id, int64_t target_id, char **relpath);

int catalog_copy_add(struct catalog *c, int64_t rec_id, int64_t target_id, const char *relpath, const char *method,
                     int64_t session_id);
/* Whether the target proved write-once at dockd's start (why: the refusal). */
int catalog_target_set_write_once(struct catalog *c, int64_t target_id, bool proven, const char *why);
/* *state: 1 proven, 0 not, -1 never checked; why: the reason it was not. */
int catalog_target_write_once(struct catalog *c, const char *name, int *state, char *why, size_t why_size);
/* A copy that is one object version on an S3 target. */
struct object_copy {
        const char *key, *method, *version_id, *etag, *lock_mode, *retain_until;
};
int catalog_copy_add_object(struct catalog *c, int64_t rec_id, int64_t target_id, const struct object_copy *o,
                            int64_t session_id);
int catalog_copy_path_taken(struct catalog *c, int64_t target_id, const char *relpath, bool *taken);
int catalog_copy_failure_add(struct catalog *c, int64_t rec_id, int64_t target_id /* 0: source */, int64_t session_id,
                             const char *error);

int catalog_deleted_add(struct catalog *c, int64_t device_id, int64_t session_id, const struct recording_entry *e,
                        bool *added);
/* What the session could not read, walk or tell apart (blocking), or a warning. */
int catalog_session_finding_add(struct catalog *c, int64_t session_id, bool blocking, const char *kind,
                                const char *message);
int catalog_session_set_unaccounted(struct catalog *c, int64_t session_id, int64_t bytes);

/* ---- listings, for dockctl ---- */
struct copy_info {
        const char *target, *target_root, *path, *verified_at, *method;
        const char *version_id, *retain_until; /* an object copy's version and lock; NULL on a filesystem */
};
struct recording_info {
        int64_t id;
        const char *device, *device_path, *device_mtime, *sha256, *hashed_at;
        const char *xxh128; /* for the ASC MHL receipts; NULL: not computed */
        int64_t size, first_session_id;
        size_t n_copies;
        struct copy_info copies[8];
        const char *last_failure;
        /* tags (issue #4); NULL where unknown */
        const char *recorded_start_device, *recorded_end_device, *recorded_start_utc, *recorded_end_utc, *time_source;
        double duration_s; /* < 0: unknown */
        const char *codec, *media_flag, *media_error;
        int width, height;
        bool has_seq;
        int64_t seq;
        const char *officer, *officer_name, *officer_source, *device_officer, *assigned_officer, *attribution_flag;
        const char *ingested_at;
        bool has_lag;
        int64_t lag_s; /* ingested − recorded end (corrected UTC) */
        const char *justification, *justified_by, *justified_at;
        const char *destroyed_at; /* destroyed by approval; its copies are gone on purpose */
        int64_t destruction_request;
};
typedef int (*recording_cb)(const struct recording_info *r, void *userdata);
/* Filters: serial NULL = every device; session > 0 = the recordings that
 * session saw first or copied. */
int catalog_recordings_foreach(struct catalog *c, const char *serial /* NULL: all */, int64_t session, recording_cb cb,
                               void *userdata);

enum {
        REC_LATE = 1 << 0, /* lag over late_s */
        REC_UNATTRIBUTED = 1 << 1,
        REC_CONFLICT = 1 << 2,    /* device and assignment disagree */
        REC_TRUNCATED = 1 << 3,   /* truncated or unplayable footage */
        REC_UNJUSTIFIED = 1 << 4, /* with REC_LATE: no justification yet */
};
struct recording_filter {
        int64_t id;                   /* one recording (0: any) */
        const char *serial, *officer; /* device serial, officer badge */
        const char *from, *to;        /* recorded end (UTC) in [from, to) */
        int64_t session;
        unsigned flags; /* every flag set must hold */
        int64_t late_s;
};
int catalog_recordings_query(struct catalog *c, const struct recording_filter *f, recording_cb cb, void *userdata);

struct session_info {
        int64_t id, files_seen, files_copied, files_already, bytes_copied, deleted_entries;
        int64_t files_under_copied;
        const char *device, *source, *fs_type, *started_at, *ended_at, *state, *error, *bay, *undocked_at;
        const char *vendor, *model, *vendor_id, *product_id, *identity_flag;
        bool has_clock_offset;
        int64_t clock_offset_s; /* device − station at dock time */
        const char *wipe, *wiped_at;
        const char *unread;   /* blocking findings, one per line; NULL: none */
        const char *warnings; /* the other findings, one per line */
        int64_t unaccounted_bytes;
        /* what the recorder said of itself (its 行标 functions); NULL / -1: nothing */
        const char *reported_badge, *reported_officer_name, *reported_unit_no, *reported_unit_name, *device_id_code;
        int battery_pct;
        const char *clock_set_at, *clock_set_to, *device_info_error;
};
typedef int (*session_cb)(const struct session_info *s, void *userdata);
int catalog_sessions_foreach(struct catalog *c, const char *serial, int64_t session, session_cb cb, void *userdata);

struct deleted_info {
        int64_t id, session_id, size;
        const char *device, *device_path, *device_mtime;
};
typedef int (*deleted_cb)(const struct deleted_info *d, void *userdata);
int catalog_deleted_foreach(struct catalog *c, const char *serial, int64_t session, deleted_cb cb, void *userdata);

/* ---- manifests ---- */
/* The station's newest manifest: *seq 0 and prev[0] = 0 when there is none. */
int catalog_manifest_last(struct catalog *c, const char *station, int64_t *seq, char prev_sha256[65]);
int catalog_manifest_add(struct catalog *c, int64_t session_id, const char *station, int64_t seq,
                         const char *prev_sha256, const char *sha256, const void *body, size_t len, const void *sig,
                         size_t sig_len, const char *deadline);
/* Body and signature of the manifest of a session (malloc'd). -ENOENT if none. */
int catalog_manifest_get(struct catalog *c, int64_t session_id, void **body, size_t *len, void **sig, size_t *sig_len);
struct manifest_info {
        int64_t seq, session_id, attempts;
        const char *station, *sha256, *prev_sha256, *created_at, *deadline, *delivered_at, *last_error, *rejected;
};
typedef int (*manifest_cb)(const struct manifest_info *m, void *userdata);
int catalog_manifests_foreach(struct catalog *c, manifest_cb cb, void *userdata);
/* The last n manifests the archive took, newest first. */
int catalog_manifests_last_delivered(struct catalog *c, size_t n, manifest_cb cb, void *userdata);

/* The outbox: up to max undelivered manifests due by now, earliest deadline
 * first (bodies malloc'd; catalog_outbox_item_free). */
struct outbox_item {
        int64_t id, seq, attempts;
        char station[40];
        void *body, *sig;
        size_t len, sig_len;
};
int catalog_outbox_due(struct catalog *c, int64_t now, struct outbox_item *items, size_t max, size_t *n);
void catalog_outbox_item_free(struct outbox_item *it);
int catalog_outbox_delivered(struct catalog *c, int64_t id, const char *receipt);
int catalog_outbox_failed(struct catalog *c, int64_t id, const char *error, int64_t next_attempt, const char *rejected);
int catalog_outbox_retry_now(struct catalog *c);
struct outbox_status {
        int64_t queued, rejected, delivered;
        int64_t overdue;   /* undelivered, deadline passed */
        int64_t near;      /* undelivered, deadline within the warning margin */
        int64_t integrity; /* refused with 409: the archive holds a different body */
        char oldest_created[32], next_deadline[32], last_error[256];
};
/* now and warn_until are times in the catalog's form (time_iso). */
int catalog_outbox_status(struct catalog *c, const char *now, const char *warn_until, struct outbox_status *st);

/* ---- the custodian's ledger (catalog_ledger.c) ---- */
int catalog_officer_add(struct catalog *c, const char *badge, const char *name, const char *unit, const char *by,
                        char *err, size_t err_size);
struct officer_info {
        int64_t id;
        const char *badge, *name, *unit, *created_at, *devices_now;
};
typedef int (*officer_cb)(const struct officer_info *o, void *userdata);
int catalog_officers_foreach(struct catalog *c, officer_cb cb, void *userdata);

/* Registers a device before it first docks (checked out new from stores). */
int catalog_device_add(struct catalog *c, const char *serial, const char *model, const char *notes, char *err,
                       size_t err_size);
/* status: in-service / repair / lost / retired; NULL leaves a field as is. */
int catalog_device_update(struct catalog *c, const char *serial, const char *status, const char *notes, char *err,
                          size_t err_size);
struct device_info {
        const char *serial, *vendor, *model, *status, *notes, *first_seen, *identity_flag;
        const char *officer_now, *last_docked;
        bool has_clock_offset;
        int64_t clock_offset_s, recordings, sessions;
};
typedef int (*device_cb)(const struct device_info *d, void *userdata);
int catalog_devices_foreach(struct catalog *c, const char *serial /* NULL: all */, device_cb cb, void *userdata);

/* Check-out at `at` (catalog time form) / check-in. An overlap with another
 * assignment of the device is refused with a message naming it (-EEXIST). */
int catalog_assign(struct catalog *c, const char *serial, const char *badge, const char *at, const char *by, char *err,
                   size_t err_size);
int catalog_unassign(struct catalog *c, const char *serial, const char *at, const char *by, char *err, size_t err_size);
struct assignment_info {
        int64_t id;
        const char *serial, *badge, *name, *start_at, *end_at, *created_by;
};
typedef int (*assignment_cb)(const struct assignment_info *a, void *userdata);
int catalog_assignments_foreach(struct catalog *c, const char *serial, const char *badge, assignment_cb cb,
                                void *userdata);

/* What the ledger alarms count: devices whose latest dock measured a clock
 * offset over clock_max_s; recordings tagged but unattributed; entries
 * deleted on devices found at docks since `since`. */
struct ledger_counts {
        int64_t clock_devices, unattributed, deleted_recent, lost;
        char clock_example[64];  /* one such device, for the message */
        int64_t unread_sessions; /* sessions since `since` that could not read all of a device */
        char unread_example[64];
};
int catalog_ledger_counts(struct catalog *c, int64_t clock_max_s, const char *since, struct ledger_counts *out);

/* Catalog-wide figures for the metrics endpoint. */
struct catalog_metrics {
        int64_t sessions[5]; /* ingesting, complete, incomplete, interrupted, failed */
        int64_t recordings, under_copied;
        size_t n_targets;
        struct {
                char name[40];
                int64_t copies;
        } targets[8];
};
extern const char *const catalog_session_states[5];
int catalog_metrics_get(struct catalog *c, int copies_required, struct catalog_metrics *m);
/* Compares the kept counts of catalog_metrics_get with the rows counted
 * whole: 0 equal, 1 not (`what` names the first difference), < 0 error. */
int catalog_counts_check(struct catalog *c, char *what, size_t size);

/* The badge of the officer the device was checked out to at `at` ("" none). */
int catalog_officer_assigned_at(struct catalog *c, const char *serial, const char *at, char *badge, size_t size);

/* What ingest learned about a recording; the catalog adds the attribution. */
struct recording_tags {
        char start_device[32], end_device[32], start_utc[32], end_utc[32]; /* "" unknown */
        const char *time_source;                                           /* media / filename / mtime */
        double duration_s;                                                 /* < 0: unknown */
        char codec[32];
        int width, height;
        const char *media_flag, *media_error; /* NULL: whole */
        bool has_seq;
        int64_t seq;
        const char *device_officer; /* badge the device reported, NULL: none */
        /* decided by tags.c (tags_attribute) */
        int64_t officer_id, assigned_officer_id; /* 0: none */
        const char *officer_source;              /* device / assignment, NULL: none */
        const char *attribution_flag;            /* conflict / unknown-officer, NULL: none */
};
/* What attribution needs to know of a recording: whether it is tagged
 * already (then nothing changes: later attribution is a custodian's), the
 * officer assigned to its device at `when` (0: none; `when` NULL: not asked)
 * and the registry's id of the badge the device reported (0: unknown). */
int catalog_recording_tag_facts(struct catalog *c, int64_t rec_id, const char *when, const char *badge, bool *tagged,
                                int64_t *assigned_id, int64_t *reported_id);
/* Stores the tags as decided. */
int catalog_recording_tag(struct catalog *c, int64_t rec_id, const struct recording_tags *t);
/* The recording has its required copies now: ingested_at, if not yet set. */
int catalog_recording_ingested(struct catalog *c, int64_t rec_id);
int catalog_session_set_clock_offset(struct catalog *c, int64_t session_id, int64_t offset_s);
/* The wipe at the end of a session: "wiped (…)" with wiped_at, or why not. */
int catalog_session_set_wipe(struct catalog *c, int64_t session_id, const char *wipe, bool wiped);
int catalog_reattribute(struct catalog *c, int64_t rec_id, const char *badge, const char *reason, const char *by,
                        char *err, size_t err_size);
int catalog_justify(struct catalog *c, int64_t rec_id, const char *reason, const char *by, char *err, size_t err_size);
/* Sequence numbers (from file names) missing from a device's recordings,
 * per session: the numbers skipped between the highest number seen before
 * the session and the session's own. One pass over the device's recordings;
 * cb gets up to CATALOG_GAPS_SHOWN numbers and the total count. */
#define CATALOG_GAPS_SHOWN 16
typedef int (*gaps_cb)(int64_t session_id, const int64_t *gaps, size_t n_total, void *userdata);
int catalog_device_seq_gaps(struct catalog *c, const char *serial, gaps_cb cb, void *userdata);

/* ---- the audit chain's rows (audit.c computes the hashes) ---- */
struct audit_row {
        int64_t id;
        const char *at, *who, *role, *action, *object, *why, *prev_sha256, *sha256;
};
int catalog_audit_last(struct catalog *c, int64_t *id, char sha256[65]); /* id 0: empty */
int catalog_audit_insert(struct catalog *c, const struct audit_row *row);
typedef int (*audit_cb)(const struct audit_row *row, void *userdata);
struct audit_filter {
        const char *who, *action, *from, *to;
};
int catalog_audit_foreach(struct catalog *c, const struct audit_filter *f /* NULL: all */, audit_cb cb, void *userdata);
bool catalog_in_transaction(struct catalog *c);

/* ---- retention and legal holds (catalog_ledger.c) ---- */
/* scope: recording / officer / device / case; for a case, recs[] (n) are
 * linked to it first. Returns the hold's id in *id. */
int catalog_hold_add(struct catalog *c, const char *scope, const char *value, const int64_t *recs, size_t n,
                     const char *reason, const char *by, int64_t *id, char *err, size_t err_size);
int catalog_hold_release(struct catalog *c, int64_t id, const char *reason, const char *by, char *err, size_t err_size);
struct hold_info {
        int64_t id, recordings; /* recordings it covers now */
        const char *scope, *value, *reason, *placed_by, *placed_at, *released_by, *released_at, *release_reason;
};
typedef int (*hold_cb)(const struct hold_info *h, void *userdata);
int catalog_holds_foreach(struct catalog *c, bool active_only, hold_cb cb, void *userdata);
int catalog_recording_set_class(struct catalog *c, int64_t rec_id, const char *cls, char *err, size_t err_size);
/* Recordings whose class's period from the recorded end has passed by `now`
 * and that no active hold covers. months_of(class) gives each class's period. */
struct due_info {
        int64_t id, size;
        const char *device, *device_path, *officer, *recorded_end_utc, *retention_class, *due_at;
};
typedef int (*due_cb)(const struct due_info *d, void *userdata);
struct retention_classes {
        size_t n;
        struct {
                const char *name;
                unsigned months;
        } c[17];
};
int catalog_retention_due(struct catalog *c, const struct retention_classes *classes, const char *now, due_cb cb,
                          void *userdata);
/* Whether an active hold covers the recording (and the first such hold). */
int catalog_recording_held(struct catalog *c, int64_t rec_id, bool *held, int64_t *hold_id);
/* Object copies whose S3 legal hold differs from the holds in force. */
struct object_hold {
        int64_t rec_id, target_id;
        const char *target, *key, *version_id;
        bool held; /* what it should be */
};
typedef int (*object_hold_cb)(const struct object_hold *o, void *userdata);
int catalog_object_holds_due(struct catalog *c, object_hold_cb cb, void *userdata);
int catalog_object_hold_set(struct catalog *c, int64_t rec_id, int64_t target_id, bool on);
/* Every object copy with its lock and its recording's retention class. */
struct object_retention {
        int64_t rec_id, target_id;
        const char *target, *key, *version_id, *retain_until, *written_at, *retention_class;
};
typedef int (*object_retention_cb)(const struct object_retention *o, void *userdata);
int catalog_object_retention(struct catalog *c, object_retention_cb cb, void *userdata);
int catalog_object_retention_set(struct catalog *c, int64_t rec_id, int64_t target_id, const char *retain_until);

/* ---- scrub (catalog_ledger.c) ---- */
/* A copy as the ledger names it: on target `target` (recorded at `root`), at
 * `path` (relative to a filesystem target's root; a key under an S3 target's
 * prefix), and for an object copy the version that was read back. */
struct scrub_copy {
        int64_t target_id;
        const char *target, *root, *path;
        const char *version_id; /* NULL on a filesystem */
};
struct scrub_item {
        int64_t id, size;
        const char *sha256, *device, *device_path, *device_mtime;
        size_t n_copies;
        struct scrub_copy copies[8];
};
typedef int (*scrub_cb)(const struct scrub_item *it, void *userdata);
/* Every hashed recording (ingested at or after since, if given) with its copies. */
int catalog_scrub_items(struct catalog *c, const char *since, scrub_cb cb, void *userdata);
/* What a scrub of the same recordings reads: recordings, and bytes over all their copies. */
int catalog_scrub_totals(struct catalog *c, const char *since, int64_t *recordings, int64_t *bytes);
int catalog_scrub_finding(struct catalog *c, int64_t rec_id, int64_t target_id /* 0: none */, const char *path,
                          const char *finding, const char *detail);
int catalog_copy_scrubbed(struct catalog *c, int64_t rec_id, int64_t target_id);
/* A repaired object copy is a new object version: the ledger follows it. */
int catalog_copy_moved(struct catalog *c, int64_t rec_id, int64_t target_id, const struct object_copy *o);
int catalog_recording_set_lost(struct catalog *c, int64_t rec_id, bool lost);

/* ---- approved destruction (catalog_ledger.c) ---- */
int catalog_destruction_request(struct catalog *c, const int64_t *recs, size_t n, const char *reason, const char *by,
                                int64_t *id);
struct destruction_info {
        int64_t id, recordings;
        const char *reason, *requested_by, *requested_at, *approved_by, *approved_at, *state, *detail;
};
typedef int (*destruction_cb)(const struct destruction_info *d, void *userdata);
int catalog_destructions_foreach(struct catalog *c, int64_t id /* 0: all */, destruction_cb cb, void *userdata);
/* The recordings of a request, with their copies (scrub_item form). */
int catalog_destruction_items(struct catalog *c, int64_t request_id, scrub_cb cb, void *userdata);
/* The copies are gone: drop their rows, mark the recording destroyed. */
int catalog_recording_destroyed(struct catalog *c, int64_t rec_id, int64_t request_id, const char *method);
int catalog_destruction_finish(struct catalog *c, int64_t id, const char *approved_by, const char *state,
                               const char *detail);

/* ---- one recording's chain of custody (catalog_report.c) ---- */
/* The sessions that saw or copied it, in order. */
int catalog_custody_sessions(struct catalog *c, int64_t rec_id, int64_t *ids, size_t max, size_t *n);
/* The audit rows naming it or its sessions, and the custody reports read of it. */
int catalog_custody_audit(struct catalog *c, int64_t rec_id, audit_cb cb, void *ud);
typedef int (*custody_scrub_cb)(const char *at, const char *target, const char *path, const char *finding,
                                const char *detail, void *ud);
int catalog_custody_scrubs(struct catalog *c, int64_t rec_id, custody_scrub_cb cb, void *ud);
/* The holds, in force or released, that cover it (by recording, device, officer or case). */
int catalog_custody_holds(struct catalog *c, int64_t rec_id, hold_cb cb, void *ud);
/* Its retention class, and when a copy of it was last scrubbed ("" never). -ENOENT: no such recording. */
int catalog_custody_retention(struct catalog *c, int64_t rec_id, char *cls, size_t cls_size, char *scrubbed,
                              size_t scrubbed_size);
