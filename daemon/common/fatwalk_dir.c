/* fatwalk_dir.c — FAT directories (8.3 and long names, deleted entries) and
 * exFAT entry sets, walked strictly: see fatwalk.h. */
#include "fatwalk_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* ---- directories ---- */

struct dirbuf {
        uint8_t *b;
        size_t len;
        bool *bad; /* per unit (cluster, or sector of a fixed root): could not be read */
        size_t unit;
};

static bool dir_bad(const struct dirbuf *db, size_t off) { return db->bad[off / db->unit]; }

/* Reads a directory's clusters in order. One that cannot be read is
 * reported against the directory's path and skipped: the entries in the
 * others are still walked. */
static void dir_read(struct fatwalk *fs, const char *path, const struct chain *ch, struct dirbuf *db)
{
        db->b = xmalloc(ch->n * fs->cluster_size + 1);
        db->bad = calloc(ch->n + 1, sizeof(*db->bad));
        if (!db->bad)
                abort();
        db->unit = fs->cluster_size;
        db->len = ch->n * fs->cluster_size;
        for (size_t i = 0; i < ch->n; i++)
                if (fw_dev_read(fs, fw_cluster_off(fs, ch->c[i]), db->b + i * fs->cluster_size, fs->cluster_size) < 0) {
                        fw_issue(fs, true,
                                 "%s: directory cluster %u (%zu of %zu) cannot be read: %s; the entries in it are "
                                 "not known",
                                 path[0] ? path : "/", ch->c[i], i + 1, ch->n, fs->io_err);
                        db->bad[i] = true;
                        memset(db->b + i * fs->cluster_size, 0, fs->cluster_size);
                }
}

struct names {
        char **v;
        size_t n, cap;
};

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static void names_check(struct fatwalk *fs, const char *dir, struct names *nm)
{
        if (nm->n > 1)
                qsort(nm->v, nm->n, sizeof(*nm->v), cmp_str);
        for (size_t i = 1; i < nm->n; i++)
                if (strcmp(nm->v[i], nm->v[i - 1]) == 0 && (i < 2 || strcmp(nm->v[i], nm->v[i - 2]) != 0))
                        fw_issue(fs, false,
                                 "%s/%s: more than one entry has this name; each is kept apart by its place on disk",
                                 dir, nm->v[i]);
        for (size_t i = 0; i < nm->n; i++)
                free(nm->v[i]);
        free(nm->v);
}

static void names_add(struct names *nm, const char *s)
{
        if (nm->n == nm->cap) {
                nm->cap = nm->cap ? nm->cap * 2 : 16;
                nm->v = realloc(nm->v, nm->cap * sizeof(*nm->v));
                if (!nm->v)
                        abort();
        }
        nm->v[nm->n++] = xstrdup(s);
}

void fw_emit(struct fatwalk *fs, const struct fatwalk_entry *e)
{
        if (fs->ops && fs->ops->entry)
                fs->ops->entry(fs->ops->ud, e);
}

/* The data clusters of an in-use file: checks its chain against its size,
 * owns them, and says why it cannot be read if it cannot. */
static const char *file_clusters(struct fatwalk *fs, const char *path, uint32_t first, uint64_t size, bool contiguous,
                                 char *why, size_t why_size)
{
        uint64_t need = (size + fs->cluster_size - 1) / fs->cluster_size;
        if (need == 0) {
                if (first != 0 && fs->type != EXFAT)
                        fw_issue(fs, false, "%s: empty file with a first cluster (%u)", path, first);
                return NULL;
        }
        if (!fw_valid_cluster(fs, first)) {
                snprintf(why, why_size, "its first cluster %u is outside the volume (size %llu bytes)", first,
                         (unsigned long long)size);
                return why;
        }
        struct chain ch = { 0 };
        const char *ret = NULL;
        if (contiguous) {
                if (need > fs->n_clusters || first - 2 + need > fs->n_clusters) {
                        snprintf(why, why_size, "its %llu clusters from %u run past the end of the volume",
                                 (unsigned long long)need, first);
                        return why;
                }
                for (uint64_t i = 0; i < need; i++)
                        fw_chain_push(&ch, first + (uint32_t)i);
        } else {
                enum link l = fw_chain_follow(fs, first, need > fs->n_clusters ? fs->n_clusters + 1ull : need, &ch);
                if (ch.n < need) {
                        snprintf(why, why_size, "its cluster chain ends after %zu of %llu clusters at %s", ch.n,
                                 (unsigned long long)need, fw_link_why(l));
                        ret = why;
                } else if (l == L_NEXT) {
                        uint32_t next;
                        enum link t = fw_fat_next(fs, ch.c[ch.n - 1], &next);
                        if (t == L_NEXT)
                                fw_issue(fs, false,
                                         "%s: its cluster chain goes on past its size (%llu bytes) from cluster %u",
                                         path, (unsigned long long)size, next);
                        else if (t != L_EOC)
                                fw_issue(fs, false, "%s: its last cluster is followed by %s", path, fw_link_why(t));
                }
        }
        if (!fw_own(fs, path, ch.c, ch.n) && !ret) {
                snprintf(why, why_size, "its clusters are also used by another file or directory");
                ret = why;
        }
        free(ch.c);
        return ret;
}

void fw_walk_dir(struct fatwalk *fs, const struct dirref *d, const struct chain *ch, uint64_t fixed_off,
                 uint64_t fixed_len);

/* A deleted entry: a file is reported (and recorded), a directory said. */
static void deleted_entry(struct fatwalk *fs, const struct fatwalk_entry *fe)
{
        if (fe->is_dir)
                fw_issue(fs, false, "%s: a directory deleted on the device; what it held is not listed", fe->path);
        else
                fw_emit(fs, fe);
}

static void descend(struct fatwalk *fs, const struct dirref *parent, const char *path, uint32_t first, uint64_t size,
                    bool contiguous)
{
        if (parent->depth + 1 > MAX_DEPTH) {
                fw_issue(fs, true, "%s: the directory tree is deeper than %d levels here; nothing below is walked",
                         path, MAX_DEPTH);
                return;
        }
        if (!fw_valid_cluster(fs, first)) {
                fw_issue(fs, true,
                         "%s: directory whose first cluster %u is outside the volume; its entries are not known", path,
                         first);
                return;
        }
        struct chain ch = { 0 };
        uint64_t max = (size ? size : MAX_DIR_BYTES) / fs->cluster_size;
        if (!max)
                max = 1;
        enum link l = L_EOC;
        if (contiguous && fs->type == EXFAT) {
                if (first - 2 + max > fs->n_clusters) {
                        fw_issue(fs, true, "%s: directory runs past the end of the volume; its entries are not known",
                                 path);
                        return;
                }
                for (uint64_t i = 0; i < max; i++)
                        fw_chain_push(&ch, first + (uint32_t)i);
        } else {
                l = fw_chain_follow(fs, first, max + (size ? 0 : 1), &ch);
                if (!size && ch.n > max) {
                        fw_issue(fs, true,
                                 "%s: directory chain is longer than a directory can be; only the first %llu "
                                 "clusters are walked",
                                 path, (unsigned long long)max);
                        ch.n = max;
                } else if (l != L_EOC && l != L_NEXT) {
                        fw_issue(fs, true,
                                 "%s: directory cluster chain breaks after %zu cluster(s) at %s; entries after "
                                 "it are not known",
                                 path, ch.n, fw_link_why(l));
                } else if (size && ch.n < max) {
                        fw_issue(fs, true,
                                 "%s: directory chain ends after %zu of %llu clusters; entries after it are not known",
                                 path, ch.n, (unsigned long long)max);
                }
        }
        size_t n_own = ch.n;
        for (size_t i = 0; i < ch.n; i++)
                if (bit(fs->owned, ch.c[i] - 2)) {
                        n_own = i;
                        break;
                }
        if (n_own < ch.n) {
                fw_issue(fs, true,
                         "%s: directory reaches cluster %u, which already belongs to another file or directory "
                         "(a loop or cross-link); it is walked only up to there",
                         path, ch.c[n_own]);
                ch.n = n_own;
        }
        fw_own(fs, path, ch.c, ch.n);
        char id[24];
        snprintf(id, sizeof(id), "d%u", first);
        struct dirref sub = { .path = path, .id = id, .depth = parent->depth + 1 };
        if (ch.n)
                fw_walk_dir(fs, &sub, &ch, 0, 0);
        free(ch.c);
}

/* ---- FAT directories ---- */

struct lfn {
        uint16_t u[20 * 13];
        unsigned n, expect;
        uint8_t cks;
        bool on;
        /* deleted long-name entries just before a deleted 8.3 entry */
        uint8_t del[20][32];
        unsigned n_del;
};

static size_t lfn_units(const uint8_t *d, uint16_t *u)
{
        static const uint8_t at[13] = { 1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30 };
        for (int i = 0; i < 13; i++)
                u[i] = le16(d + at[i]);
        return 13;
}

static size_t lfn_len(const uint16_t *u, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (u[i] == 0)
                        return i;
        return n;
}

static void fat_walk_entries(struct fatwalk *fs, const struct dirref *d, const struct dirbuf *db)
{
        const uint8_t *b = db->b;
        size_t len = db->len;
        struct lfn L = { 0 };
        struct names nm = { 0 };
        bool ended = false;
        unsigned orphans = 0, after_end = 0;
        char dirpath[4096];
        snprintf(dirpath, sizeof(dirpath), "%s", d->path);
        for (size_t i = 0; i * 32 + 32 <= len; i++) {
                const uint8_t *e = b + i * 32;
                uint8_t attr = e[11];
                if (dir_bad(db, i * 32)) {
                        L.on = false;
                        L.n_del = 0;
                        continue;
                }
                if (e[0] == 0x00) {
                        ended = true;
                        L.on = false;
                        L.n_del = 0;
                        continue;
                }
                bool is_lfn = (attr & 0x3F) == 0x0F;
                if (e[0] == 0xE5) {
                        if (is_lfn) {
                                if (L.n_del < 20)
                                        memcpy(L.del[L.n_del++], e, 32);
                                continue;
                        }
                } else if (ended) {
                        after_end++;
                }
                if (is_lfn) {
                        L.n_del = 0;
                        unsigned seq = e[0] & 0x1F;
                        if (e[0] & 0x40) {
                                if (L.on)
                                        orphans++;
                                L.on = seq >= 1 && seq <= 20;
                                if (!L.on) {
                                        orphans++;
                                        continue;
                                }
                                L.n = seq;
                                L.cks = e[13];
                                memset(L.u, 0xFF, sizeof(L.u));
                                lfn_units(e, L.u + (seq - 1) * 13);
                                L.expect = seq - 1;
                        } else if (L.on && seq == L.expect && seq >= 1 && e[13] == L.cks) {
                                lfn_units(e, L.u + (seq - 1) * 13);
                                L.expect = seq - 1;
                        } else {
                                orphans++;
                                L.on = false;
                        }
                        continue;
                }
                bool deleted = e[0] == 0xE5;
                if ((attr & 0x08) && !(attr & 0x10)) {
                        /* a volume label: its cluster fields must be empty */
                        if (le16(e + 26) || le16(e + 20) || le32(e + 28))
                                fw_issue(fs, false, "%s: a volume-label entry (index %zu) has a cluster or a size",
                                         dirpath[0] ? dirpath : "/", i);
                        L.on = false;
                        L.n_del = 0;
                        continue;
                }
                if (d->depth > 0 && i < 2 && !deleted && (attr & 0x10) &&
                    (memcmp(e, ".          ", 11) == 0 || memcmp(e, "..         ", 11) == 0)) {
                        L.on = false;
                        continue;
                }
                /* the name */
                uint16_t units[20 * 13];
                size_t nu = 0;
                uint8_t cks = fw_sfn_checksum(e);
                if (!deleted && L.on) {
                        if (L.expect == 0 && L.cks == cks) {
                                nu = lfn_len(L.u, L.n * 13);
                                memcpy(units, L.u, nu * sizeof(*units));
                                if (nu == 0)
                                        fw_issue(fs, false,
                                                 "%s: entry %zu has an empty long name; its 8.3 name is used",
                                                 dirpath[0] ? dirpath : "/", i);
                        } else {
                                orphans++;
                        }
                } else if (deleted && L.n_del) {
                        /* Deleted long-name entries sit last part first, right before.
                         * The deletion overwrote the 8.3 name's first byte, so their
                         * checksum is only checked against each other. */
                        size_t k = 0;
                        uint8_t want = L.del[L.n_del - 1][13];
                        for (unsigned j = L.n_del; j-- > 0;) {
                                if (L.del[j][13] != want || (L.del[j][11] & 0x3F) != 0x0F)
                                        break;
                                lfn_units(L.del[j], units + k);
                                k += 13;
                        }
                        nu = lfn_len(units, k);
                }
                L.on = false;
                L.n_del = 0;
                uint8_t raw[11 + 2 * 20 * 13];
                memcpy(raw, e, 11);
                for (size_t k = 0; k < nu; k++) {
                        raw[11 + 2 * k] = (uint8_t)units[k];
                        raw[12 + 2 * k] = (uint8_t)(units[k] >> 8);
                }
                _cleanup_free_ char *name = NULL;
                if (nu) {
                        int32_t cp[20 * 13];
                        size_t n = fw_utf16_decode(units, nu, cp);
                        name = fatwalk_escape(cp, n);
                } else {
                        name = fw_sfn_name(fs, e, deleted);
                }
                char path[4096];
                int pl = snprintf(path, sizeof(path), "%s/%s", d->path, name);
                if (pl < 0 || (size_t)pl >= sizeof(path)) {
                        fw_issue(fs, true, "%s: entry %zu: its path is longer than %zu bytes; not walked",
                                 dirpath[0] ? dirpath : "/", i, sizeof(path));
                        continue;
                }
                uint32_t first = (fs->type == 32 ? (uint32_t)le16(e + 20) << 16 : 0) | le16(e + 26);
                uint64_t size = le32(e + 28);
                char why[256];
                struct fatwalk_entry fe = {
                        .path = path,
                        .raw_name = raw,
                        .raw_name_len = 11 + 2 * nu,
                        .is_dir = (attr & 0x10) != 0,
                        .deleted = deleted,
                        .first_cluster = first,
                        .size = (attr & 0x10) ? 0 : size,
                        .valid_size = (attr & 0x10) ? 0 : size,
                        .mtime = fw_dos_time(le16(e + 24), le16(e + 22), 0),
                        .ctime = fw_dos_time(le16(e + 16), le16(e + 14), e[13]),
                        .atime = fw_dos_time(le16(e + 18), 0, 0),
                };
                snprintf(fe.key, sizeof(fe.key), "%llx:%s:%zu:c%u", (unsigned long long)fs->base, d->id, i, first);
                if (deleted) {
                        deleted_entry(fs, &fe);
                        continue;
                }
                names_add(&nm, name);
                if (fe.is_dir) {
                        fw_emit(fs, &fe);
                        descend(fs, d, path, first, 0, false);
                        continue;
                }
                fe.unreadable = file_clusters(fs, path, first, size, false, why, sizeof(why));
                if (fe.unreadable)
                        fw_issue(fs, true, "%s: cannot be read: %s", path, fe.unreadable);
                fw_emit(fs, &fe);
        }
        if (orphans)
                fw_issue(fs, false, "%s: %u long-name entr%s belong to no file (left by a deletion or damage)",
                         dirpath[0] ? dirpath : "/", orphans, orphans == 1 ? "y" : "ies");
        if (after_end)
                fw_issue(fs, false, "%s: %u entr%s after the end-of-directory mark; walked anyway",
                         dirpath[0] ? dirpath : "/", after_end, after_end == 1 ? "y lies" : "ies lie");
        names_check(fs, dirpath, &nm);
}

/* ---- exFAT directories ---- */

static uint16_t set_checksum(const uint8_t *b, size_t n)
{
        uint16_t s = 0;
        for (size_t i = 0; i < n; i++) {
                if (i == 2 || i == 3)
                        continue;
                s = (uint16_t)(((s & 1) ? 0x8000 : 0) + (s >> 1) + b[i]);
        }
        return s;
}

static int64_t exfat_time(const uint8_t *ts, unsigned centis)
{
        uint32_t t = le32(ts);
        return fw_dos_time((uint16_t)(t >> 16), (uint16_t)t, centis);
}

static void exfat_walk_entries(struct fatwalk *fs, const struct dirref *d, const struct dirbuf *db)
{
        const uint8_t *b = db->b;
        size_t n = db->len / 32;
        struct names nm = { 0 };
        unsigned stray = 0, after_end = 0;
        bool ended = false;
        const char *dp = d->path[0] ? d->path : "/";
        for (size_t i = 0; i < n; i++) {
                const uint8_t *e = b + i * 32;
                uint8_t type = e[0];
                if (dir_bad(db, i * 32))
                        continue;
                if (type == 0x00) {
                        ended = true;
                        continue;
                }
                if (ended && (type & 0x80))
                        after_end++;
                if (type == 0x81 || type == 0x82 || type == 0x83 || type == 0xA0 || type == 0xA1 || type == 0xA2)
                        continue; /* bitmap, up-case table, label, GUID, padding, ACT: never recordings */
                if (type != 0x85 && type != 0x05) {
                        if (type & 0x80) {
                                if (!(type & 0x40) && !(type & 0x20))
                                        fw_issue(fs, true,
                                                 "%s: entry %zu has an unknown critical type 0x%02X; what it "
                                                 "describes cannot be read",
                                                 dp, i, type);
                                else if (type >= 0xC0)
                                        stray++;
                        }
                        continue;
                }
                bool deleted = type == 0x05;
                unsigned sec = e[1];
                bool torn = false;
                for (unsigned k = 1; k <= sec && i + k < n; k++)
                        torn |= dir_bad(db, (i + k) * 32);
                if (torn)
                        continue; /* its unreadable part is reported with the cluster */
                if (sec < 2 || sec > 18 || i + sec >= n) {
                        if (!deleted)
                                fw_issue(fs, true,
                                         "%s: entry set %zu claims %u secondary entries (%s); it cannot be read", dp, i,
                                         sec, i + sec >= n ? "past the end of the directory" : "out of range");
                        continue;
                }
                const uint8_t *s = e + 32;
                uint8_t want = deleted ? 0x40 : 0xC0, want_name = deleted ? 0x41 : 0xC1;
                bool ok = s[0] == want;
                unsigned name_len = s[3];
                unsigned name_ents = (name_len + 14) / 15;
                if (ok && (name_len == 0 || name_ents > sec - 1))
                        ok = false;
                for (unsigned k = 0; ok && k < name_ents; k++)
                        ok = e[32 * (2 + k)] == want_name;
                if (!deleted && ok && set_checksum(e, 32 * ((size_t)sec + 1)) != le16(e + 2))
                        ok = false;
                if (!ok) {
                        if (!deleted)
                                fw_issue(fs, true,
                                         "%s: entry set %zu is damaged (bad checksum or malformed); the file or "
                                         "directory it describes cannot be read",
                                         dp, i);
                        continue;
                }
                uint16_t units[256];
                for (unsigned k = 0; k < name_len; k++)
                        units[k] = le16(e + 32 * (2 + k / 15) + 2 + 2 * (k % 15));
                int32_t cp[256];
                size_t ncp = fw_utf16_decode(units, name_len, cp);
                _cleanup_free_ char *name = fatwalk_escape(cp, ncp);
                char path[4096];
                int pl = snprintf(path, sizeof(path), "%s/%s", d->path, name);
                if (pl < 0 || (size_t)pl >= sizeof(path)) {
                        fw_issue(fs, true, "%s: entry %zu: its path is longer than %zu bytes; not walked", dp, i,
                                 sizeof(path));
                        i += sec;
                        continue;
                }
                uint8_t raw[11 + 512];
                memset(raw, ' ', 11);
                for (unsigned k = 0; k < name_len; k++) {
                        raw[11 + 2 * k] = (uint8_t)units[k];
                        raw[12 + 2 * k] = (uint8_t)(units[k] >> 8);
                }
                uint16_t attr = le16(e + 4);
                uint8_t flags = s[1];
                uint32_t first = le32(s + 20);
                uint64_t size = le64(s + 24), valid = le64(s + 8);
                bool contiguous = flags & 2;
                char why[256];
                struct fatwalk_entry fe = {
                        .path = path,
                        .raw_name = raw,
                        .raw_name_len = 11 + 2 * (size_t)name_len,
                        .is_dir = (attr & 0x10) != 0,
                        .deleted = deleted,
                        .first_cluster = first,
                        .size = (attr & 0x10) ? 0 : size,
                        .valid_size = (attr & 0x10) ? 0 : valid,
                        .contiguous = contiguous,
                        .mtime = exfat_time(e + 12, e[21]),
                        .ctime = exfat_time(e + 8, e[20]),
                        .atime = exfat_time(e + 16, 0),
                };
                snprintf(fe.key, sizeof(fe.key), "%llx:%s:%zu:c%u", (unsigned long long)fs->base, d->id, i, first);
                i += sec;
                if (deleted) {
                        deleted_entry(fs, &fe);
                        continue;
                }
                names_add(&nm, name);
                if (!(flags & 1) && (first || size)) {
                        fe.unreadable = "its entry says it has no clusters, yet gives a first cluster or a size";
                        fw_issue(fs, true, "%s: cannot be read: %s", path, fe.unreadable);
                        fw_emit(fs, &fe);
                        continue;
                }
                if (fe.is_dir) {
                        fw_emit(fs, &fe);
                        if (size % fs->cluster_size || !size)
                                fw_issue(fs, true,
                                         "%s: directory size %llu is not a whole number of clusters; its entries "
                                         "are not known",
                                         path, (unsigned long long)size);
                        else if (size > MAX_DIR_BYTES)
                                fw_issue(fs, true,
                                         "%s: directory size %llu is larger than exFAT allows; its entries are "
                                         "not known",
                                         path, (unsigned long long)size);
                        else
                                descend(fs, d, path, first, size, contiguous);
                        continue;
                }
                if (valid > size) {
                        fe.unreadable = "its valid data length is larger than its size";
                } else {
                        fe.unreadable = file_clusters(fs, path, first, size, contiguous, why, sizeof(why));
                }
                if (fe.unreadable)
                        fw_issue(fs, true, "%s: cannot be read: %s", path, fe.unreadable);
                else if (valid < size)
                        fw_issue(fs, false,
                                 "%s: only %llu of its %llu bytes were written (valid data length); the rest "
                                 "reads as zeros",
                                 path, (unsigned long long)valid, (unsigned long long)size);
                fw_emit(fs, &fe);
        }
        if (stray)
                fw_issue(fs, false, "%s: %u secondary entr%s belong to no entry set", dp, stray,
                         stray == 1 ? "y" : "ies");
        if (after_end)
                fw_issue(fs, false, "%s: %u entr%s after the end-of-directory mark; walked anyway", dp, after_end,
                         after_end == 1 ? "y lies" : "ies lie");
        names_check(fs, dp, &nm);
}

void fw_walk_dir(struct fatwalk *fs, const struct dirref *d, const struct chain *ch, uint64_t fixed_off,
                 uint64_t fixed_len)
{
        struct dirbuf db = { 0 };
        if (ch) {
                dir_read(fs, d->path, ch, &db);
        } else {
                size_t units = (size_t)((fixed_len + fs->sector - 1) / fs->sector);
                db.b = xmalloc(units * fs->sector + 1);
                db.bad = calloc(units + 1, sizeof(*db.bad));
                if (!db.bad)
                        abort();
                db.unit = fs->sector;
                db.len = fixed_len;
                for (size_t u = 0; u < units; u++)
                        if (fw_dev_read(fs, fixed_off + (uint64_t)u * fs->sector, db.b + u * fs->sector, fs->sector) <
                            0) {
                                fw_issue(fs, true,
                                         "/: root directory sector %zu cannot be read: %s; the entries in it are "
                                         "not known",
                                         u, fs->io_err);
                                db.bad[u] = true;
                                memset(db.b + u * fs->sector, 0, fs->sector);
                        }
        }
        if (fs->type == EXFAT)
                exfat_walk_entries(fs, d, &db);
        else
                fat_walk_entries(fs, d, &db);
        free(db.b);
        free(db.bad);
}

/* exFAT's bitmap and up-case table: clusters owned by the volume itself.
 * Returns false when there is no allocation bitmap to check against. */