/* target.h — one storage target, holding one verified copy of each
 * recording: a directory tree on its own filesystem (target.c: the on-target
 * layout YYYY/MM/DD/SERIAL/device path, partial files, durable placement),
 * or a bucket and key prefix of an S3 service (target_s3.c: the same layout
 * as keys, object versions under Object Lock). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

struct s3;
struct target_ops;
struct target {
        const struct target_ops *ops; /* what it does with the copies it holds */
        char *name;
        enum target_type type;
        char *root;        /* fs: the directory; s3: "s3://BUCKET/PREFIX" */
        char *partial_dir; /* fs: ROOT/.partial: copies being written, by recording id */
        int64_t id;        /* catalog id */
        struct s3 *s3;     /* s3: the bucket's client */
};

/* The target's identity marker (ROOT/.dockd-target): its name, and the
 * identity of the catalog that keeps the ledger of its copies ("" in
 * markers from before catalogs had one). -ENOENT when there is none. What
 * the marker means to the station is station.c's. */
int target_marker_read(const struct target_conf *tc, char *name, size_t size, char catalog_id[33]);
int target_marker_write(const struct target_conf *tc, const char *catalog_id);
/* Does the tree hold anything but the marker and dockd's own directories? */
bool target_holds_copies(const struct target_conf *tc);
/* Two targets on one filesystem are one disk: -EXDEV (err says why) when
 * target i shares one with a target before it that is opened[], unless
 * [station] allow_same_filesystem = yes or both are the embedded defaults,
 * which leave a warning in warn instead. Checked before target i is opened,
 * so nothing is written under an empty mount point. */
int target_apart(const struct config *cfg, size_t i, const bool *opened, char *warn, size_t warn_size, char *err,
                 size_t err_size);
/* The target's directory (created for the embedded defaults), as target id
 * (the catalog's). station_target_open checks it against the ledger first. */
int target_open_dir(struct target *t, const struct target_conf *tc, int64_t id, char *err, size_t err_size);
/* Makes ROOT/.partial, once the marker says the target is this one. */
int target_ready(struct target *t, char *err, size_t err_size);
void target_close(struct target *t);

/* Read-only look at a configured target, for alarms and metrics: is it there
 * (its marker present and naming it, the directory writable; a bucket
 * reachable, versioned and locked), and how many bytes are free (-1: not
 * known, as for a bucket). Returns 0 if usable; else -errno and why in err. */
int target_probe(const struct target_conf *tc, int64_t *free_bytes, char *err, size_t err_size);

/* Are the target's copies encrypted at rest: 1 (what says how: an fscrypt
 * policy on the directory, dm-crypt below its filesystem, SSE-C), 0 (what
 * says why not), or -errno. */
int target_encryption(const struct target_conf *tc, char *what, size_t what_size);

/* Checks that root is the filesystem of target `name` right now: its marker
 * is there and names it. Every operation on an existing copy (scrub, restore,
 * destruction) checks this first, so that an unmounted target's empty mount
 * point is never taken for a target whose copies are gone. -ENODEV/-EXDEV. */
int target_root_check(const char *root, const char *name, char *err, size_t err_size);
/* Approved destruction of one copy: overwrites it with zeros, fdatasyncs,
 * unlinks it and fsyncs its directory, after target_root_check. Returns 0,
 * -ENOENT when the target is there but the copy is not, or -errno; err says
 * what happened. */
int target_copy_destroy(const char *root, const char *name, const char *relpath, char *err, size_t err_size);

/* A serial as one path component: the one way dockd makes a serial safe for
 * a file name (the target layout's device directory, the device's lock). */
char *target_serial_component(const char *serial);

char *target_partial_path(const struct target *t, int64_t rec_id);
/* "2026/11/25/SERIAL/DCIM/clip.mp4"; attempt > 0 adds " ~N" before the extension. */
char *target_layout_relpath(const char *serial, int64_t device_mtime, const char *device_path, unsigned attempt);
/* Moves partial → ROOT/relpath without ever replacing a file (-EEXIST if one is
 * there), then fsyncs both directories. */
int target_place(const struct target *t, const char *partial, const char *relpath);
/* Places a verified partial copy in the layout under the first name that
 * neither the ledger (taken) nor the disk holds (target_place never
 * replaces); a file already there that hashes to sha256 (left by a run killed
 * between placing and recording it) is adopted instead (*adopted). At most
 * TARGET_NAME_ATTEMPTS names ("name ~2", "name ~3", ...). *relpath_out: the
 * path relative to the target's root. */
#define TARGET_NAME_ATTEMPTS 1000
int target_place_copy(const struct target *t, const char *partial, const char *serial, int64_t device_mtime,
                      const char *device_path, const char *sha256,
                      int (*taken)(void *ud, const struct target *t, const char *rel, bool *taken), void *ud,
                      char **relpath_out, bool *adopted);

/* Re-reads path past the page cache (O_DIRECT; fdatasync + FADV_DONTNEED where
 * the filesystem has no O_DIRECT) and returns SHA-256 of its first len bytes
 * (len < 0: whole file). method gets "o_direct" or "fadvise". */
int target_hash_file(const char *path, int64_t len, char out_hex[65], const char **method);
/* The same, feeding an existing digest context (resume re-hashes a partial copy). */
struct evp_md_ctx_st;
int target_hash_into(const char *path, int64_t len, struct evp_md_ctx_st *ctx, const char **method);

/* S3 targets (target_s3.c). */
/* Opens the client and checks the bucket: reachable with the credentials,
 * versioned, Object Lock enabled (unless object_lock = off). */
int target_s3_open(struct target *t, const struct target_conf *tc, char *err, size_t err_size);
/* Proves the target write-once (s3_lock_probe): 0, or -EPERM and why. */
int target_s3_prove_lock(struct target *t, const char *station, char *err, size_t err_size);
/* Where an S3 copy's bytes come from: a verified local copy or the device. */
typedef ssize_t (*target_read_fn)(void *ud, void *buf, size_t n, int64_t off);
struct target_object {
        char *key, *version_id, *etag, *lock_mode, *retain_until;
};
void target_object_free(struct target_object *o);
/* Uploads len bytes from src under the layout's first key that neither the
 * ledger (taken) nor the bucket holds, signed over sha256 (the server checks
 * every byte), locked until retain_until; then reads that version back by
 * GET and compares its SHA-256 and length. An object already there under
 * the key (left by a run killed before recording it) that reads back as
 * these bytes, and has no other SHA-256 in its metadata, is adopted instead
 * (*adopted). */
int target_s3_put_copy(struct target *t, target_read_fn src, void *ud, int64_t len, const char *sha256,
                       const char *serial, int64_t device_mtime, const char *device_path, const char *retain_until,
                       int (*taken)(void *ud, const struct target *t, const char *rel, bool *taken), void *taken_ud,
                       struct target_object *out, bool *adopted, char *err, size_t err_size);
/* A tap: each chunk of a streamed copy's body, in order, as it is read. */
typedef void (*target_tap_fn)(void *ud, int64_t off, const void *buf, size_t n);
/* As target_s3_put_copy, for bytes whose SHA-256 is not known yet: read
 * once from src, sent in chunks each signed over its own SHA-256 (the
 * server checks each as it comes), the whole hashed as it passes
 * (sha256_out; tap sees every chunk), then read back against it; the
 * SHA-256 goes on the version as its tag. -EAGAIN: the first free key
 * holds an object already (left by a killed run?); -EFBIG: above one PUT;
 * -EOPNOTSUPP: the server takes no chunk-signed PUT. For each, hash the
 * source and call target_s3_put_copy (which adopts an object that is these
 * bytes). */
int target_s3_stream_copy(struct target *t, target_read_fn src, void *ud, int64_t len, target_tap_fn tap, void *tap_ud,
                          char sha256_out[65], const char *serial, int64_t device_mtime, const char *device_path,
                          const char *retain_until,
                          int (*taken)(void *ud, const struct target *t, const char *rel, bool *taken), void *taken_ud,
                          struct target_object *out, char *err, size_t err_size);
/* SHA-256 of one object version, read by GET (scrub). */
int target_s3_hash(struct target *t, const char *key, const char *version_id, char out_hex[65], int64_t *bytes,
                   char *err, size_t err_size);

/* A copy as the ledger names it: at `path` (relative to a filesystem
 * target's root; a key under an S3 target's prefix) and, for an object copy,
 * the version that was read back. */
struct copy_ref {
        const char *path, *version_id;
};

/* What every kind of target does with the copies it already holds (scrub,
 * restore, destruction): one table per kind, as a filesystem's VFS. */
struct target_ops {
        const char *type; /* "fs", "s3" */
        /* Is it there to be read: a filesystem's marker names it (not an empty
         * mount point), a bucket answers with the credentials? */
        int (*check)(struct target *t, char *err, size_t err_size);
        /* SHA-256 of the copy, read past any cache; -ENOENT: it is missing. */
        int (*hash)(struct target *t, const struct copy_ref *k, int64_t size, char out_hex[65], const char **method,
                    char *err, size_t err_size);
        /* The copy's bytes into fd (the source of a restore elsewhere). */
        int (*fetch)(struct target *t, const struct copy_ref *k, int fd, char *err, size_t err_size);
        /* May the copy be destroyed now: 0, or -EPERM and why (an S3 version
         * locked until a later date or under a legal hold). Asked of every
         * copy of a request before any is touched. */
        int (*destroyable)(struct target *t, const struct copy_ref *k, char *err, size_t err_size);
        /* Approved destruction: 0, -ENOENT (already gone), or -errno and why
         * (an S3 version still locked is refused until its retain-until). */
        int (*destroy)(struct target *t, const struct copy_ref *k, char *err, size_t err_size);
};
extern const struct target_ops target_fs_ops, target_s3_ops;

/* A configured target opened for work on the copies it holds: a filesystem
 * target is not created or written; an S3 target's client is opened and its
 * bucket checked. err says why not. */
int target_open_existing(struct target *t, const struct target_conf *tc, char *err, size_t err_size);

/* The station's configured targets, each opened (target_open_existing) when
 * first asked for by name: scrub and destruction meet copies by the name the
 * ledger gives. NULL, and why, when it is not configured or cannot be opened. */
struct target_set {
        const struct config *cfg;
        struct target t[DOCKD_MAX_TARGETS];
        bool opened[DOCKD_MAX_TARGETS];
        int rc[DOCKD_MAX_TARGETS];
        char err[DOCKD_MAX_TARGETS][400];
};
struct target *target_set_get(struct target_set *s, const char *name, char *why, size_t why_size);
void target_set_close(struct target_set *s);

/* The marker's text and its reading, one form for a file and an object. */
char *target_marker_text(const char *name, const char *catalog_id);
int target_marker_parse(const char *text, char *name, size_t size, char catalog_id[33]);
/* An S3 target's marker is the object PREFIX.dockd-target (target_s3.c). */
int target_s3_marker_read(const struct target_conf *tc, char *name, size_t size, char catalog_id[33]);
int target_s3_marker_write(const struct target_conf *tc, const char *catalog_id);
bool target_s3_holds_copies(const struct target_conf *tc);
