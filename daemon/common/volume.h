/* volume.h — read-only access to a recorder's volume. Opens an image file or
 * block device O_RDONLY, never mounts it, finds every FAT/exFAT filesystem on
 * it (superfloppy or partitioned), and accounts for every entry of each:
 * recordings, entries deleted on the device, and what could not be read
 * (issues); reads file bytes. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util.h"

struct volume;
struct volume_file;

struct volume_entry {
        char *path;        /* "/DCIM/clip 0001.mp4"; "p2:/DCIM/…" when the device holds several filesystems */
        char *key;         /* on-disk identity: filesystem, directory, entry index, first cluster */
        uint8_t *raw_name; /* the name's bytes on disk */
        size_t raw_name_len;
        int64_t size;
        struct file_times times; /* device clock, no zone */
        int64_t mtime;           /* seconds, for the target layout */
        char *unreadable;        /* in use but its data cannot be read whole: why (NULL: readable) */
        /* where its bytes are */
        unsigned fs;
        uint32_t first_cluster;
        uint64_t valid_size;
        bool contiguous;
};

struct volume_issue {
        bool blocking; /* the session cannot be complete */
        char *what;    /* names the file, directory, region or partition */
};

struct volume_listing {
        struct volume_entry *files;
        size_t n_files;
        struct volume_entry *deleted;
        size_t n_deleted;
        size_t n_dirs;
        struct volume_issue *issues;
        size_t n_issues, n_blocking;
        uint64_t unaccounted_bytes; /* allocated clusters no walked entry owns */
};

/* codepage: how 8.3 names' bytes >= 0x80 are decoded ("CP936"); NULL: escaped.
 * fds: NULL to open source, or the caller's open descriptors of it, [0] plain
 * and [1] O_DIRECT or -1 (source then only names it in messages). */
int volume_open(const char *source, const int *fds, const char *codepage, struct volume **out, char *err,
                size_t err_size);
void volume_close(struct volume *v);
/* "FAT32", or "FAT32+exFAT" for a device with several filesystems. */
const char *volume_fs_type(struct volume *v);
int volume_list(struct volume *v, struct volume_listing *out, char *err, size_t err_size);
void volume_listing_free(struct volume_listing *l);

int volume_file_open(struct volume *v, const struct volume_entry *e, struct volume_file **out, char *err,
                     size_t err_size);
/* Reads up to n bytes at off; returns bytes read (0 at end), or -EIO with the
 * reason in err. */
ssize_t volume_file_read(struct volume_file *f, int64_t off, void *buf, size_t n, char *err, size_t err_size);
void volume_file_close(struct volume_file *f);
