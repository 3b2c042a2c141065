/* fatwalk.h — the FAT12/16/32 and exFAT on-disk formats, read strictly: every
 * directory entry is walked and reported (in use or deleted), every cluster
 * marked allocated is owned by a walked file or directory or reported as
 * unaccounted, and every read error or inconsistency is reported with the
 * object it concerns. It owns no descriptor: bytes come through a callback. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads exactly len bytes at off of the device (not of the filesystem);
 * returns 0, or -errno with the reason in err. */
typedef int (*fatwalk_read_fn)(void *ud, uint64_t off, void *buf, size_t len, char *err, size_t err_size);

struct fatwalk;

/* One entry as the walk found it. Strings live until the callback returns. */
struct fatwalk_entry {
        const char *path;        /* "/DCIM/A.MP4": names decoded, odd bytes escaped (fatwalk_escape) */
        const uint8_t *raw_name; /* the name's bytes on disk: 11-byte 8.3 name, then any long name (UTF-16LE) */
        size_t raw_name_len;
        char key[80]; /* where the entry lives on disk: distinct for distinct entries */
        bool is_dir, deleted;
        uint32_t first_cluster;
        uint64_t size;               /* bytes */
        uint64_t valid_size;         /* exFAT ValidDataLength; = size on FAT */
        bool contiguous;             /* exFAT NoFatChain: clusters first..first+n-1 */
        int64_t mtime, ctime, atime; /* device clock as seconds (no zone) */
        const char *unreadable;      /* in use, but its data cannot be read whole: why (NULL: readable) */
};

struct fatwalk_walk_ops {
        void (*entry)(void *ud, const struct fatwalk_entry *e);
        /* blocking: the session cannot be complete (something is unread or
         * could not be told apart); otherwise a warning worth recording. */
        void (*issue)(void *ud, bool blocking, const char *msg);
        void *ud;
};

/* Probes a FAT or exFAT boot sector at byte offset `base` of a device of
 * `dev_size` bytes. Returns 0 and a filesystem, -EMEDIUMTYPE when there is
 * none there (err says what was found), or -errno. */
int fatwalk_open(fatwalk_read_fn read, void *ud, uint64_t base, uint64_t dev_size, const char *codepage,
                 struct fatwalk **out, char *err, size_t err_size);
void fatwalk_close(struct fatwalk *fs);
const char *fatwalk_type(const struct fatwalk *fs); /* "FAT12", "FAT16", "FAT32", "exFAT" */

/* Walks the whole tree once: entries and issues through ops. Then checks
 * that every allocated cluster is owned; *unaccounted gets the bytes that
 * are not (each such run is also an issue). Returns 0 or -errno (a failure
 * to walk at all, e.g. the root cannot be read; err says why). */
int fatwalk_walk(struct fatwalk *fs, const struct fatwalk_walk_ops *ops, uint64_t *unaccounted, char *err,
                 size_t err_size);

/* A file's extents on the device, from its first cluster and size. */
struct fatwalk_extent {
        uint64_t dev_off, len;
};
struct fatwalk_file {
        struct fatwalk_extent *ext;
        size_t n_ext;
        uint64_t size, valid_size;
};
/* Returns 0, or -EIO/-EUCLEAN with the reason (a broken chain) in err. */
int fatwalk_file_map(struct fatwalk *fs, uint32_t first_cluster, uint64_t size, uint64_t valid_size, bool contiguous,
                     struct fatwalk_file *out, char *err, size_t err_size);
void fatwalk_file_unmap(struct fatwalk_file *f);

/* A name for people and paths from code points: control characters, '/',
 * '\\' and ':' become \xHH, unpaired UTF-16 surrogates \uDXXX, and the names
 * "." and ".." have their dots escaped, so that two different names never
 * print alike and no name is a path of its own. Code points < 0 are raw
 * bytes that did not decode (-1 - byte): printed \xHH. Returns malloc'd UTF-8. */
char *fatwalk_escape(const int32_t *cp, size_t n);
