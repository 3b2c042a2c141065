/* volume.h — read-only access to a recorder's volume through The Sleuth Kit.
 * Opens an image file or block device O_RDONLY, never mounts it, lists the
 * recordings and the entries deleted on the device, and reads file bytes. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "catalog.h"

struct volume;
struct volume_file;

struct volume_entry {
        char *path;             /* "/DCIM/clip 0001.mp4", UTF-8 as libtsk decodes it */
        int64_t size;
        uint64_t inum;
        struct file_times times;   /* device clock, no zone */
        int64_t mtime;          /* seconds, for the target layout */
};

struct volume_listing {
        struct volume_entry *files;
        size_t n_files;
        struct volume_entry *deleted;
        size_t n_deleted;
        size_t n_skipped;       /* filesystem-internal entries left out */
};

int volume_open(const char *source, struct volume **out, char *err, size_t err_size);
void volume_close(struct volume *v);
const char *volume_fs_type(struct volume *v);
int volume_list(struct volume *v, struct volume_listing *out, char *err, size_t err_size);
void volume_listing_free(struct volume_listing *l);

int volume_file_open(struct volume *v, const struct volume_entry *e, struct volume_file **out,
                     char *err, size_t err_size);
/* Reads up to n bytes at off; returns bytes read (0 at end), or -EIO with the
 * reason in err. */
ssize_t volume_file_read(struct volume_file *f, int64_t off, void *buf, size_t n, char *err, size_t err_size);
void volume_file_close(struct volume_file *f);
