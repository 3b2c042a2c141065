/* libFuzzer, structure-aware: real FAT12/FAT16/exFAT recorder volumes
 * (made by scripts/fuzz, $DOCKD_FUZZ_SEEDS) damaged byte by byte in their
 * metadata (boot sector, FATs, directories: the first 64 KiB), then walked by
 * dockd's reader. The oracle checks truth, not only the absence of crashes:
 *
 *  - nothing silently missing: a walk that reports nothing blocking (the
 *    session would be "complete", the card wiped) must list, with its size,
 *    every allocated regular file that an independent reader (The Sleuth
 *    Kit, which is lenient) can read whole;
 *  - nothing falsely readable: every file dockd lists as readable reads back
 *    whole, exactly its size, or fails with an error, never short.
 *
 * Input: one byte choosing the seed, then edits of 3 bytes each: a 16-bit
 * offset into the first 64 KiB and the byte to put there. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tsk/libtsk.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "volume.h"

#define MAX_SEEDS 8
static struct {
        uint8_t *data;
        size_t size;
} seeds[MAX_SEEDS];
static size_t n_seeds;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
        (void)argc;
        (void)argv;
        const char *dir = getenv("DOCKD_FUZZ_SEEDS");
        DIR *d = dir ? opendir(dir) : NULL;
        struct dirent *e;
        while (d && n_seeds < MAX_SEEDS && (e = readdir(d))) {
                if (e->d_name[0] == '.')
                        continue;
                char path[4096];
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                FILE *f = fopen(path, "rb");
                if (!f)
                        continue;
                fseek(f, 0, SEEK_END);
                long n = ftell(f);
                rewind(f);
                uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
                if (buf && fread(buf, 1, (size_t)n, f) == (size_t)n) {
                        seeds[n_seeds].data = buf;
                        seeds[n_seeds++].size = (size_t)n;
                } else {
                        free(buf);
                }
                fclose(f);
        }
        if (d)
                closedir(d);
        if (!n_seeds) {
                fprintf(stderr, "fuzz_walk: no seed volumes (set DOCKD_FUZZ_SEEDS to a directory of images)\n");
                exit(1);
        }
        return 0;
}

/* What The Sleuth Kit can read whole: the sizes of allocated regular files. */
struct tsk_seen {
        int64_t sizes[512];
        size_t n;
};

static TSK_WALK_RET_ENUM tsk_cb(TSK_FS_FILE *f, const char *parent, void *ptr)
{
        (void)parent;
        struct tsk_seen *s = ptr;
        if (!f->name || !f->meta || TSK_FS_ISDOT(f->name->name) || f->name->type != TSK_FS_NAME_TYPE_REG ||
            (f->name->flags & TSK_FS_NAME_FLAG_UNALLOC) || f->meta->size <= 0 || f->meta->size > (1 << 22) ||
            s->n == 512)
                return TSK_WALK_CONT;
        if (f->name->name[0] == '$')
                return TSK_WALK_CONT; /* its own views of exFAT's bitmap and up-case table */
        char *buf = malloc((size_t)f->meta->size);
        if (!buf)
                return TSK_WALK_CONT;
        ssize_t k = tsk_fs_file_read(f, 0, buf, (size_t)f->meta->size, TSK_FS_FILE_READ_FLAG_NONE);
        free(buf);
        tsk_error_reset();
        if (k == f->meta->size)
                s->sizes[s->n++] = f->meta->size;
        return TSK_WALK_CONT;
}

static void tsk_list(const char *path, struct tsk_seen *s)
{
        s->n = 0;
        const char *paths[] = { path };
        TSK_IMG_INFO *img = tsk_img_open_utf8(1, paths, TSK_IMG_TYPE_RAW, 0);
        TSK_FS_INFO *fs = img ? tsk_fs_open_img(img, 0, TSK_FS_TYPE_FAT_DETECT) : NULL;
        if (fs && TSK_FS_TYPE_ISFAT(fs->ftype))
                tsk_fs_dir_walk(fs, fs->root_inum,
                                TSK_FS_DIR_WALK_FLAG_RECURSE | TSK_FS_DIR_WALK_FLAG_ALLOC |
                                        TSK_FS_DIR_WALK_FLAG_NOORPHAN,
                                tsk_cb, s);
        if (fs)
                tsk_fs_close(fs);
        if (img)
                tsk_img_close(img);
        tsk_error_reset();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        const uint8_t *seed = seeds[data[0] % n_seeds].data;
        size_t len = seeds[data[0] % n_seeds].size;
        uint8_t *img = malloc(len);
        if (!img)
                return 0;
        memcpy(img, seed, len);
        for (size_t i = 1; i + 3 <= size; i += 3) {
                size_t off = (size_t)(data[i] | data[i + 1] << 8) % (len < 65536 ? len : 65536);
                img[off] = data[i + 2];
        }
        char path[64];
        int fd = fuzz_memfd("walk.img", img, len, path);
        free(img);
        if (fd < 0)
                return 0;
        struct volume *v = NULL;
        char err[512] = "";
        if (volume_open(path, NULL, "CP936", &v, err, sizeof(err)) == 0) {
                struct volume_listing l = { 0 };
                if (volume_list(v, &l, err, sizeof(err)) == 0) {
                        /* nothing falsely readable */
                        for (size_t i = 0; i < l.n_files; i++) {
                                const struct volume_entry *e = &l.files[i];
                                if (e->unreadable || e->size > (1 << 22))
                                        continue;
                                struct volume_file *vf = NULL;
                                if (volume_file_open(v, e, &vf, err, sizeof(err)) < 0)
                                        continue;
                                char *buf = malloc((size_t)e->size + 1);
                                int64_t got = 0;
                                while (buf && got < e->size) {
                                        ssize_t k = volume_file_read(vf, got, buf + got, (size_t)(e->size - got), err,
                                                                     sizeof(err));
                                        if (k < 0)
                                                break;
                                        if (k == 0) {
                                                fprintf(stderr, "ORACLE: %s reads short: %lld of %lld bytes\n", e->path,
                                                        (long long)got, (long long)e->size);
                                                abort();
                                        }
                                        got += k;
                                }
                                free(buf);
                                volume_file_close(vf);
                        }
                        /* nothing silently missing */
                        if (l.n_blocking == 0) {
                                struct tsk_seen seen;
                                tsk_list(path, &seen);
                                for (size_t i = 0; i < seen.n; i++) {
                                        bool found = false;
                                        for (size_t j = 0; j < l.n_files && !found; j++)
                                                found = l.files[j].size == seen.sizes[i];
                                        if (!found) {
                                                fprintf(stderr,
                                                        "ORACLE: The Sleuth Kit reads a %lld-byte file that dockd "
                                                        "does not list, and dockd reports nothing blocking\n",
                                                        (long long)seen.sizes[i]);
                                                abort();
                                        }
                                }
                        }
                        volume_listing_free(&l);
                } else if (!err[0]) {
                        abort();
                }
                volume_close(v);
        } else if (!err[0]) {
                abort();
        }
        close(fd);
        return 0;
}
