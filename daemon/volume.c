/* volume.c — libtsk: image/device → filesystem → file list and file bytes. */
#include "volume.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tsk/libtsk.h>

#include "util.h"

struct volume {
        char *source;
        TSK_IMG_INFO *img;
        TSK_VS_INFO *vs;        /* set when the device carries a partition table */
        TSK_FS_INFO *fs;
};

struct volume_file {
        struct volume *v;
        TSK_FS_FILE *file;
};

static void tsk_err(char *err, size_t err_size, const char *source, const char *what)
{
        const char *m = tsk_error_get();
        snprintf(err, err_size, "%s: %s: %s", source, what, m && *m ? m : "unknown libtsk error");
        /* tsk error strings end with a newline and can span lines; keep one line. */
        for (char *p = err; *p; p++)
                if (*p == '\n')
                        *p = (p[1] ? ' ' : '\0');
        tsk_error_reset();
}

static bool fs_supported(TSK_FS_TYPE_ENUM t)
{
        return TSK_FS_TYPE_ISFAT(t);    /* FAT12/16/32 and exFAT: what recorders use */
}

static TSK_WALK_RET_ENUM find_part(TSK_VS_INFO *vs, const TSK_VS_PART_INFO *part, void *ptr)
{
        struct volume *v = ptr;
        TSK_FS_INFO *fs = tsk_fs_open_vol(part, TSK_FS_TYPE_DETECT);
        if (!fs) {
                tsk_error_reset();
                return TSK_WALK_CONT;
        }
        v->fs = fs;
        return TSK_WALK_STOP;
}

int volume_open(const char *source, struct volume **out, char *err, size_t err_size)
{
        struct volume *v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->source = xstrdup(source);
        /* libtsk opens the image O_RDONLY: the station can never write to evidence.
         * RAW only: a recorder is a raw device; no VMDK/VHD/EWF parsers face its bytes. */
        v->img = tsk_img_open_utf8_sing(source, TSK_IMG_TYPE_RAW, 0);
        if (!v->img) {
                tsk_err(err, err_size, source, "cannot open device or image");
                volume_close(v);
                return -ENOENT;
        }
        v->fs = tsk_fs_open_img(v->img, 0, TSK_FS_TYPE_DETECT);
        if (!v->fs) {
                char first[512];
                tsk_err(first, sizeof(first), source, "no FAT32 or exFAT filesystem found (unknown or corrupt volume)");
                /* A whole disk with a partition table: use its first readable filesystem. */
                v->vs = tsk_vs_open(v->img, 0, TSK_VS_TYPE_DETECT);
                if (v->vs)
                        tsk_vs_part_walk(v->vs, 0, v->vs->part_count - 1, TSK_VS_PART_FLAG_ALLOC, find_part, v);
                tsk_error_reset();
                if (!v->fs) {
                        snprintf(err, err_size, "%s", first);
                        volume_close(v);
                        return -EMEDIUMTYPE;
                }
        }
        if (!fs_supported(v->fs->ftype)) {
                snprintf(err, err_size, "%s: filesystem %s is not a recorder filesystem (FAT or exFAT expected)",
                         source, tsk_fs_type_toname(v->fs->ftype));
                volume_close(v);
                return -EMEDIUMTYPE;
        }
        *out = v;
        return 0;
}

void volume_close(struct volume *v)
{
        if (!v)
                return;
        if (v->fs)
                tsk_fs_close(v->fs);
        if (v->vs)
                tsk_vs_close(v->vs);
        if (v->img)
                tsk_img_close(v->img);
        free(v->source);
        free(v);
}

const char *volume_fs_type(struct volume *v)
{
        return tsk_fs_type_toname(v->fs->ftype);
}

struct walk {
        struct volume *v;
        struct volume_listing *l;
        size_t cap_files, cap_deleted;
};

static bool is_fs_internal(const TSK_FS_FILE *f, const char *parent)
{
        const char *name = f->name->name;
        if (f->name->type == TSK_FS_NAME_TYPE_VIRT || f->name->type == TSK_FS_NAME_TYPE_VIRT_DIR)
                return true;    /* $MBR, $FAT1, $OrphanFiles: libtsk's own views */
        if (parent[0] != '\0')
                return false;   /* the entries below exist only in the root directory */
        size_t n = strlen(name);
        static const char label[] = " (Volume Label Entry)";
        if (n >= sizeof(label) - 1 && strcmp(name + n - (sizeof(label) - 1), label) == 0)
                return true;
        /* exFAT's allocation bitmap and up-case table are directory entries of
         * their own type, which libtsk names with a '$'. */
        return strcmp(name, "$ALLOC_BITMAP") == 0 || strcmp(name, "$UPCASE_TABLE") == 0 ||
               strcmp(name, "$TEXFAT") == 0 || strcmp(name, "$ACT") == 0;
}

static void fill_times(struct volume_entry *e, const TSK_FS_META *m)
{
        e->mtime = m ? m->mtime : 0;
        time_device_iso(m ? m->mtime : 0, e->times.mtime, sizeof(e->times.mtime));
        time_device_iso(m ? m->crtime : 0, e->times.ctime, sizeof(e->times.ctime));
        time_device_iso(m ? m->atime : 0, e->times.atime, sizeof(e->times.atime));
}

static TSK_WALK_RET_ENUM walk_cb(TSK_FS_FILE *f, const char *parent, void *ptr)
{
        struct walk *w = ptr;
        if (!f->name || TSK_FS_ISDOT(f->name->name))
                return TSK_WALK_CONT;
        if (is_fs_internal(f, parent)) {
                w->l->n_skipped++;
                return TSK_WALK_CONT;
        }
        bool is_reg = f->name->type == TSK_FS_NAME_TYPE_REG ||
                      (f->name->type == TSK_FS_NAME_TYPE_UNDEF && f->meta && f->meta->type == TSK_FS_META_TYPE_REG);
        if (!is_reg)
                return TSK_WALK_CONT;   /* directories are walked, not recorded */
        bool deleted = (f->name->flags & TSK_FS_NAME_FLAG_UNALLOC) != 0;

        struct volume_entry **arr = deleted ? &w->l->deleted : &w->l->files;
        size_t *n = deleted ? &w->l->n_deleted : &w->l->n_files;
        size_t *cap = deleted ? &w->cap_deleted : &w->cap_files;
        if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 64;
                struct volume_entry *p = realloc(*arr, *cap * sizeof(**arr));
                if (!p)
                        return TSK_WALK_ERROR;
                *arr = p;
        }
        struct volume_entry *e = &(*arr)[(*n)++];
        memset(e, 0, sizeof(*e));
        e->path = xasprintf("/%s%s", parent, f->name->name);
        e->inum = f->name->meta_addr;
        e->size = f->meta ? f->meta->size : 0;
        fill_times(e, f->meta);
        return TSK_WALK_CONT;
}

static int cmp_entry(const void *a, const void *b)
{
        return strcmp(((const struct volume_entry *)a)->path, ((const struct volume_entry *)b)->path);
}

int volume_list(struct volume *v, struct volume_listing *out, char *err, size_t err_size)
{
        memset(out, 0, sizeof(*out));
        struct walk w = { .v = v, .l = out };
        /* NOORPHAN: the orphan hunt scans every inode of the volume; recorders
         * keep their footage in directories, and deleted directory entries are
         * found by walking the directories themselves. */
        if (tsk_fs_dir_walk(v->fs, v->fs->root_inum,
                            TSK_FS_DIR_WALK_FLAG_RECURSE | TSK_FS_DIR_WALK_FLAG_ALLOC |
                            TSK_FS_DIR_WALK_FLAG_UNALLOC | TSK_FS_DIR_WALK_FLAG_NOORPHAN,
                            walk_cb, &w) != 0) {
                tsk_err(err, err_size, v->source, "cannot walk the directory tree (corrupt volume?)");
                volume_listing_free(out);
                return -EIO;
        }
        if (out->n_files)
                qsort(out->files, out->n_files, sizeof(*out->files), cmp_entry);
        if (out->n_deleted)
                qsort(out->deleted, out->n_deleted, sizeof(*out->deleted), cmp_entry);
        return 0;
}

void volume_listing_free(struct volume_listing *l)
{
        for (size_t i = 0; i < l->n_files; i++)
                free(l->files[i].path);
        for (size_t i = 0; i < l->n_deleted; i++)
                free(l->deleted[i].path);
        free(l->files);
        free(l->deleted);
        memset(l, 0, sizeof(*l));
}

int volume_file_open(struct volume *v, const struct volume_entry *e, struct volume_file **out,
                     char *err, size_t err_size)
{
        TSK_FS_FILE *f = tsk_fs_file_open_meta(v->fs, NULL, e->inum);
        if (!f) {
                tsk_err(err, err_size, v->source, "cannot open file entry");
                return -EIO;
        }
        if (!f->meta || f->meta->size != e->size) {
                snprintf(err, err_size, "%s: %s changed on the device since it was listed", v->source, e->path);
                tsk_fs_file_close(f);
                return -ESTALE;
        }
        struct volume_file *vf = xmalloc(sizeof(*vf));
        vf->v = v;
        vf->file = f;
        *out = vf;
        return 0;
}

ssize_t volume_file_read(struct volume_file *f, int64_t off, void *buf, size_t n, char *err, size_t err_size)
{
        if (off >= f->file->meta->size)
                return 0;
        ssize_t k = tsk_fs_file_read(f->file, off, buf, n, TSK_FS_FILE_READ_FLAG_NONE);
        if (k <= 0) {
                tsk_err(err, err_size, f->v->source, "read failed");
                return -EIO;
        }
        return k;
}

void volume_file_close(struct volume_file *f)
{
        if (!f)
                return;
        tsk_fs_file_close(f->file);
        free(f);
}
