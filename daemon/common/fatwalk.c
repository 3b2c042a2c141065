/* fatwalk.c — FAT12/16/32 and exFAT, walked strictly (see fatwalk.h).
 * References: Microsoft's FAT specification (fatgen103) and exFAT
 * specification; the layouts are cited by field offset below. */
#include "fatwalk_internal.h"

#include <errno.h>
#include <iconv.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void fw_issue(struct fatwalk *fs, bool blocking, const char *fmt, ...)
{
        char msg[768];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (fs->ops && fs->ops->issue)
                fs->ops->issue(fs->ops->ud, blocking, msg);
}

int fw_dev_read(struct fatwalk *fs, uint64_t off, void *buf, size_t len)
{
        if (off > fs->dev_size || len > fs->dev_size - off) {
                snprintf(fs->io_err, sizeof(fs->io_err), "bytes %llu-%llu are past the end of the device (%llu bytes)",
                         (unsigned long long)off, (unsigned long long)(off + len), (unsigned long long)fs->dev_size);
                return -EIO;
        }
        return fs->read(fs->ud, off, buf, len, fs->io_err, sizeof(fs->io_err));
}

const char *fatwalk_type(const struct fatwalk *fs)
{
        switch (fs->type) {
        case 12: return "FAT12";
        case 16: return "FAT16";
        case 32: return "FAT32";
        default: return "exFAT";
        }
}

uint64_t fw_cluster_off(const struct fatwalk *fs, uint32_t c)
{
        return fs->heap_off + (uint64_t)(c - 2) * fs->cluster_size;
}

bool fw_valid_cluster(const struct fatwalk *fs, uint32_t c) { return c >= 2 && c - 2 < fs->n_clusters; }

/* ---- the FAT ---- */

static uint64_t fat_entry_off(const struct fatwalk *fs, uint32_t c)
{
        switch (fs->type) {
        case 12: return (uint64_t)c + c / 2;
        case 16: return (uint64_t)c * 2;
        default: return (uint64_t)c * 4;
        }
}

/* Loads the window of the FAT holding byte o: from the active copy, sector
 * by sector from the other where the active one cannot be read. */
static int fat_load(struct fatwalk *fs, uint64_t o)
{
        uint64_t start = o / FAT_WINDOW * FAT_WINDOW;
        uint64_t len = FAT_WINDOW + fs->sector;
        if (len > fs->fat_len - start)
                len = fs->fat_len - start;
        fs->win_valid = false;
        if (fw_dev_read(fs, fs->fat_off[fs->active] + start, fs->win, len) < 0) {
                for (uint64_t s = 0; s < len; s += fs->sector) {
                        uint64_t n = len - s < fs->sector ? len - s : fs->sector;
                        bool ok = false;
                        for (unsigned k = 0; k < fs->n_fats && !ok; k++)
                                ok = fw_dev_read(fs, fs->fat_off[(fs->active + k) % fs->n_fats] + start + s,
                                                 fs->win + s, n) == 0;
                        if (!ok)
                                return -EIO;
                }
        }
        fs->win_start = start;
        fs->win_len = len;
        fs->win_valid = true;
        return 0;
}

enum link fw_fat_next(struct fatwalk *fs, uint32_t c, uint32_t *next)
{
        uint64_t o = fat_entry_off(fs, c);
        unsigned w = fs->type == 12 ? 2 : fs->type == 16 ? 2 : 4;
        if (o + w > fs->fat_len)
                return L_INVALID;
        if (!fs->win_valid || o < fs->win_start || o + w > fs->win_start + fs->win_len)
                if (fat_load(fs, o) < 0)
                        return L_UNREADABLE;
        const uint8_t *p = fs->win + (o - fs->win_start);
        uint32_t v;
        switch (fs->type) {
        case 12:
                v = le16(p);
                v = c & 1 ? v >> 4 : v & 0xFFF;
                if (v >= 0xFF8)
                        return L_EOC;
                if (v == 0xFF7)
                        return L_BAD;
                break;
        case 16:
                v = le16(p);
                if (v >= 0xFFF8)
                        return L_EOC;
                if (v == 0xFFF7)
                        return L_BAD;
                break;
        case 32:
                v = le32(p) & 0x0FFFFFFF;
                if (v >= 0x0FFFFFF8)
                        return L_EOC;
                if (v == 0x0FFFFFF7)
                        return L_BAD;
                break;
        default:
                v = le32(p);
                if (v >= 0xFFFFFFF8)
                        return L_EOC;
                if (v == 0xFFFFFFF7)
                        return L_BAD;
                break;
        }
        if (v == 0)
                return L_FREE;
        if (!fw_valid_cluster(fs, v))
                return L_INVALID;
        *next = v;
        return L_NEXT;
}

const char *fw_link_why(enum link l)
{
        switch (l) {
        case L_FREE: return "a cluster marked free";
        case L_BAD: return "a cluster marked bad";
        case L_INVALID: return "a cluster number outside the volume";
        case L_UNREADABLE: return "a FAT sector that cannot be read in any copy";
        case L_EOC: return "the end of the chain";
        default: return "?";
        }
}

/* Reads every copy of the FAT once: where the active copy cannot be read,
 * the other must supply it; where both read and disagree, the walk cannot
 * be trusted. On FAT, builds the allocation bitmap from the entries. */
/* Reads len bytes of FAT copy k at off: whole, or sector by sector where
 * that fails; ok[i] says whether sector i could be read. */
static void read_fat_copy(struct fatwalk *fs, unsigned k, uint64_t off, uint8_t *buf, uint64_t len, bool *ok)
{
        size_t n_sec = (size_t)((len + fs->sector - 1) / fs->sector);
        bool whole = fw_dev_read(fs, fs->fat_off[k] + off, buf, len) == 0;
        for (size_t i = 0; i < n_sec; i++) {
                uint64_t s = (uint64_t)i * fs->sector, n = len - s < fs->sector ? len - s : fs->sector;
                ok[i] = whole || fw_dev_read(fs, fs->fat_off[k] + off + s, buf + s, n) == 0;
        }
}

static int fat_scan(struct fatwalk *fs)
{
        uint64_t chunk = FAT_WINDOW;
        _cleanup_free_ uint8_t *a = xmalloc(chunk), *b = xmalloc(chunk);
        bool ok_a[FAT_WINDOW / 512], ok_b[FAT_WINDOW / 512];
        uint64_t bad_first = 0, bad_n = 0, lost_n = 0, lost_first = 0, diff_n = 0, diff_first = 0;
        for (uint64_t off = 0; off < fs->fat_len; off += chunk) {
                uint64_t len = fs->fat_len - off < chunk ? fs->fat_len - off : chunk;
                read_fat_copy(fs, fs->active, off, a, len, ok_a);
                if (fs->n_fats == 2)
                        read_fat_copy(fs, 1 - fs->active, off, b, len, ok_b);
                for (uint64_t s = 0; s < len; s += fs->sector) {
                        uint64_t n = len - s < fs->sector ? len - s : fs->sector;
                        /* with a single copy, a sector it cannot read is lost */
                        bool ok0 = ok_a[s / fs->sector], ok1 = fs->n_fats == 2 && ok_b[s / fs->sector];
                        uint64_t sec = (off + s) / fs->sector;
                        if (!ok0 && !bad_n++)
                                bad_first = sec;
                        if (!ok0 && !ok1 && !lost_n++)
                                lost_first = sec;
                        if (ok0 && ok1 && fs->n_fats == 2 && memcmp(a + s, b + s, n) != 0 && !diff_n++)
                                diff_first = sec;
                }
        }
        if (lost_n) {
                fw_issue(fs, true,
                         "the FAT cannot be read in any copy at %llu sector(s) (first: sector %llu of the FAT): "
                         "files whose clusters it maps cannot be read",
                         (unsigned long long)lost_n, (unsigned long long)lost_first);
        }
        if (bad_n > lost_n)
                fw_issue(fs, true,
                         "FAT copy %u cannot be read at %llu sector(s) (first: sector %llu of the FAT); "
                         "those sectors were read from copy %u",
                         fs->active + 1, (unsigned long long)(bad_n - lost_n), (unsigned long long)bad_first,
                         2 - fs->active);
        if (diff_n)
                fw_issue(fs, true,
                         "FAT copies 1 and 2 differ in %llu sector(s) (first: sector %llu of the FAT); "
                         "the walk used copy %u, and files mapped differently by the other may be missing or wrong",
                         (unsigned long long)diff_n, (unsigned long long)diff_first, fs->active + 1);
        if (fs->type == EXFAT)
                return 0;
        for (uint32_t c = 2; c - 2 < fs->n_clusters; c++) {
                uint32_t next;
                enum link l = fw_fat_next(fs, c, &next);
                if (l != L_FREE && l != L_BAD)
                        set_bit(fs->alloc, c - 2);
        }
        return 0;
}

/* ---- opening ---- */

static int open_fat(struct fatwalk *fs, const uint8_t *bs, char *err, size_t err_size)
{
        uint32_t bps = le16(bs + 11), spc = bs[13], reserved = le16(bs + 14), nfats = bs[16];
        uint32_t root_entries = le16(bs + 17), total = le16(bs + 19), fatsz = le16(bs + 22);
        if (!total)
                total = le32(bs + 32);
        bool fat32_layout = fatsz == 0;
        if (fat32_layout)
                fatsz = le32(bs + 36);
        if ((bps != 512 && bps != 1024 && bps != 2048 && bps != 4096) || !spc || (spc & (spc - 1)) || !reserved ||
            !nfats || !fatsz || !total) {
                snprintf(err, err_size, "no FAT32 or exFAT filesystem found (boot sector fields out of range)");
                return -EMEDIUMTYPE;
        }
        fs->sector = bps;
        fs->cluster_size = (uint64_t)bps * spc;
        uint64_t root_sectors = ((uint64_t)root_entries * 32 + bps - 1) / bps;
        uint64_t meta = reserved + (uint64_t)nfats * fatsz + root_sectors;
        if (meta >= total) {
                snprintf(err, err_size, "no FAT32 or exFAT filesystem found (FAT larger than the volume)");
                return -EMEDIUMTYPE;
        }
        uint64_t clusters = (total - meta) / spc;
        fs->type = fat32_layout ? 32 : clusters < 4085 ? 12 : 16;
        /* The FAT must map every cluster it claims. */
        uint64_t mappable = fs->type == 12 ? (uint64_t)fatsz * bps * 2 / 3 : (uint64_t)fatsz * bps / (fs->type / 8);
        if (mappable < 2) {
                snprintf(err, err_size, "no FAT32 or exFAT filesystem found (empty FAT)");
                return -EMEDIUMTYPE;
        }
        if (clusters > mappable - 2)
                clusters = mappable - 2;
        if (clusters > 0x0FFFFFF5)
                clusters = 0x0FFFFFF5;
        fs->n_clusters = (uint32_t)clusters;
        fs->fat_len = (uint64_t)fatsz * bps;
        fs->n_fats = nfats >= 2 ? 2 : 1;
        fs->active = 0;
        fs->mirrored = true;
        if (fs->type == 32) {
                uint16_t flags = le16(bs + 40);
                if (flags & 0x80) { /* mirroring off: only the active FAT is valid */
                        fs->active = flags & 0xF;
                        if (fs->active >= nfats) {
                                snprintf(err, err_size, "corrupt FAT32 boot sector: active FAT %u of %u",
                                         fs->active + 1, nfats);
                                return -EUCLEAN;
                        }
                        fs->mirrored = false;
                }
                fs->root_cluster = le32(bs + 44);
        }
        for (unsigned k = 0; k < 2; k++)
                fs->fat_off[k] = fs->base + ((uint64_t)reserved + (uint64_t)k * fatsz) * bps;
        if (!fs->mirrored) {
                fs->fat_off[0] = fs->base + ((uint64_t)reserved + (uint64_t)fs->active * fatsz) * bps;
                fs->active = 0;
                fs->n_fats = 1;
        }
        fs->root_off = fs->base + ((uint64_t)reserved + (uint64_t)nfats * fatsz) * bps;
        fs->root_len = (uint64_t)root_entries * 32;
        fs->heap_off = fs->base + meta * bps;
        if (fs->type == 32 && !fw_valid_cluster(fs, fs->root_cluster)) {
                snprintf(err, err_size, "corrupt FAT32 boot sector: root directory cluster %u is outside the volume",
                         fs->root_cluster);
                return -EUCLEAN;
        }
        return 0;
}

static int open_exfat(struct fatwalk *fs, const uint8_t *bs, char *err, size_t err_size)
{
        unsigned bps_shift = bs[108], spc_shift = bs[109], nfats = bs[110];
        uint32_t fat_off = le32(bs + 80), fat_len = le32(bs + 84), heap = le32(bs + 88);
        uint64_t vol_len = le64(bs + 72);
        if (bps_shift < 9 || bps_shift > 12 || spc_shift > 25 - bps_shift || nfats < 1 || nfats > 2 || !fat_len ||
            fat_off < 24 || heap < fat_off + (uint64_t)fat_len * nfats) {
                snprintf(err, err_size, "corrupt exFAT boot sector (fields out of range)");
                return -EUCLEAN;
        }
        fs->type = EXFAT;
        fs->sector = 1u << bps_shift;
        fs->cluster_size = (uint64_t)fs->sector << spc_shift;
        fs->n_clusters = le32(bs + 92);
        fs->root_cluster = le32(bs + 96);
        fs->fat_len = (uint64_t)fat_len * fs->sector;
        if (fs->n_clusters > fs->fat_len / 4 - 2)
                fs->n_clusters = (uint32_t)(fs->fat_len / 4 - 2);
        fs->n_fats = nfats;
        fs->active = nfats == 2 ? (le16(bs + 106) & 1) : 0;
        fs->mirrored = false; /* TexFAT's second FAT is not a mirror */
        fs->fat_off[0] = fs->base + (uint64_t)fat_off * fs->sector;
        fs->fat_off[1] = fs->fat_off[0] + fs->fat_len;
        fs->fat_off[0] += (uint64_t)fs->active * fs->fat_len;
        fs->active = 0;
        fs->n_fats = 1;
        fs->heap_off = fs->base + (uint64_t)heap * fs->sector;
        if (vol_len && vol_len < heap + ((uint64_t)fs->n_clusters << spc_shift))
                fw_issue(fs, false, "exFAT volume length (%llu sectors) is smaller than its cluster heap",
                         (unsigned long long)vol_len);
        if (!fw_valid_cluster(fs, fs->root_cluster)) {
                snprintf(err, err_size, "corrupt exFAT boot sector: root directory cluster %u is outside the volume",
                         fs->root_cluster);
                return -EUCLEAN;
        }
        return 0;
}

int fatwalk_open(fatwalk_read_fn read, void *ud, uint64_t base, uint64_t dev_size, const char *codepage,
                 struct fatwalk **out, char *err, size_t err_size)
{
        uint8_t bs[512];
        struct fatwalk *fs = calloc(1, sizeof(*fs));
        if (!fs)
                return -ENOMEM;
        fs->read = read;
        fs->ud = ud;
        fs->base = base;
        fs->dev_size = dev_size;
        fs->cd = (iconv_t)-1;
        int r = fw_dev_read(fs, base, bs, sizeof(bs));
        if (r < 0) {
                snprintf(err, err_size, "cannot read the boot sector: %s", fs->io_err);
                free(fs);
                return r;
        }
        if (memcmp(bs + 3, "EXFAT   ", 8) == 0)
                r = open_exfat(fs, bs, err, err_size);
        else if (bs[510] == 0x55 && bs[511] == 0xAA && (bs[0] == 0xEB || bs[0] == 0xE9 || bs[0] == 0xE8))
                r = open_fat(fs, bs, err, err_size);
        else {
                snprintf(err, err_size, "no FAT32 or exFAT filesystem found");
                r = -EMEDIUMTYPE;
        }
        if (r == 0 && fs->heap_off - base >= dev_size - base) {
                snprintf(err, err_size, "the %s volume's data area starts past the end of the device",
                         fatwalk_type(fs));
                r = -EUCLEAN;
        }
        if (r == 0 && codepage && fs->type != EXFAT) {
                fs->cd = iconv_open("UTF-32LE", codepage);
                if (fs->cd == (iconv_t)-1) {
                        snprintf(err, err_size, "codepage %s is not known to iconv", codepage);
                        r = -EINVAL;
                }
        }
        if (r < 0) {
                fatwalk_close(fs);
                return r;
        }
        size_t map = ((size_t)fs->n_clusters + 7) / 8;
        fs->alloc = calloc(1, map ? map : 1);
        fs->owned = calloc(1, map ? map : 1);
        fs->win = malloc(FAT_WINDOW + fs->sector);
        if (!fs->alloc || !fs->owned || !fs->win) {
                fatwalk_close(fs);
                return -ENOMEM;
        }
        *out = fs;
        return 0;
}

void fatwalk_close(struct fatwalk *fs)
{
        if (!fs)
                return;
        if (fs->cd != (iconv_t)-1)
                iconv_close(fs->cd);
        free(fs->alloc);
        free(fs->owned);
        free(fs->win);
        free(fs);
}

/* ---- names ---- */

char *fatwalk_escape(const int32_t *cp, size_t n)
{
        char *out = xmalloc(n * 6 + 8), *o = out;
        bool dots = (n == 1 || n == 2) && cp[0] == '.' && cp[n - 1] == '.';
        if (n == 0) {
                strcpy(out, "\\0"); /* no name at all: still a name of its own */
                return out;
        }
        for (size_t i = 0; i < n; i++) {
                int32_t c = cp[i];
                if (c < 0)
                        o += sprintf(o, "\\x%02X", (unsigned)(-1 - c) & 0xFF);
                else if (c < 0x20 || c == 0x7F || c == '/' || c == '\\' || c == ':' || (dots && c == '.'))
                        o += sprintf(o, "\\x%02X", (unsigned)c);
                else if ((c >= 0x80 && c < 0xA0) || c == 0x2028 || c == 0x2029 || (c >= 0xD800 && c <= 0xDFFF) ||
                         c > 0x10FFFF)
                        o += sprintf(o, "\\u%04X", (unsigned)c & 0xFFFF);
                else
                        o += utf8_put(o, (uint32_t)c);
        }
        *o = '\0';
        return out;
}

/* UTF-16 units → code points; an unpaired surrogate stays itself (escaped later). */
size_t fw_utf16_decode(const uint16_t *u, size_t n, int32_t *cp)
{
        size_t k = 0;
        for (size_t i = 0; i < n; i++) {
                uint32_t c = u[i];
                if (c >= 0xD800 && c < 0xDC00 && i + 1 < n && u[i + 1] >= 0xDC00 && u[i + 1] < 0xE000) {
                        c = 0x10000 + ((c - 0xD800) << 10) + (u[i + 1] - 0xDC00u);
                        i++;
                }
                cp[k++] = (int32_t)c;
        }
        return k;
}

/* Bytes of an 8.3 name in the OEM codepage → code points; undecodable bytes
 * become -1 - byte. */
static size_t oem_decode(struct fatwalk *fs, const uint8_t *b, size_t n, int32_t *cp)
{
        size_t k = 0, i = 0;
        while (i < n) {
                if (b[i] < 0x80 || fs->cd == (iconv_t)-1) {
                        cp[k++] = b[i] < 0x80 ? b[i] : -1 - (int32_t)b[i];
                        i++;
                        continue;
                }
                char *in = (char *)b + i;
                size_t inl = n - i >= 2 ? 2 : 1, inl0 = inl;
                uint32_t u[2];
                char *o = (char *)u;
                size_t ol = sizeof(u);
                iconv(fs->cd, NULL, NULL, NULL, NULL);
                size_t r = iconv(fs->cd, &in, &inl, &o, &ol);
                size_t used = inl0 - inl;
                if (r == (size_t)-1 && used == 0 && inl0 == 2) {
                        /* a lone byte that decodes by itself? */
                        in = (char *)b + i;
                        inl = 1;
                        o = (char *)u;
                        ol = sizeof(u);
                        iconv(fs->cd, NULL, NULL, NULL, NULL);
                        r = iconv(fs->cd, &in, &inl, &o, &ol);
                        used = 1 - inl;
                }
                size_t got = (sizeof(u) - ol) / 4;
                if (used == 0 || got == 0) {
                        cp[k++] = -1 - (int32_t)b[i];
                        i++;
                        continue;
                }
                for (size_t j = 0; j < got; j++)
                        cp[k++] = (int32_t)u[j];
                i += used;
        }
        return k;
}

char *fw_sfn_name(struct fatwalk *fs, const uint8_t *d, bool deleted)
{
        uint8_t raw[11];
        memcpy(raw, d, 11);
        if (raw[0] == 0x05)
                raw[0] = 0xE5; /* a name starting with byte 0xE5 (a lead byte in some codepages) */
        size_t bl = 8, el = 3;
        while (bl && raw[bl - 1] == ' ')
                bl--;
        while (el && raw[8 + el - 1] == ' ')
                el--;
        int32_t cp[24];
        size_t n = 0;
        if (deleted && bl) {
                cp[n++] = '_'; /* the first byte was overwritten by the deletion mark */
                n += oem_decode(fs, raw + 1, bl - 1, cp + n);
        } else {
                n = oem_decode(fs, raw, bl, cp);
        }
        bool lower_base = d[12] & 0x08, lower_ext = d[12] & 0x10;
        for (size_t i = 0; i < n; i++)
                if (lower_base && cp[i] >= 'A' && cp[i] <= 'Z')
                        cp[i] += 32;
        if (el) {
                cp[n++] = '.';
                size_t s = n;
                n += oem_decode(fs, raw + 8, el, cp + n);
                for (size_t i = s; i < n; i++)
                        if (lower_ext && cp[i] >= 'A' && cp[i] <= 'Z')
                                cp[i] += 32;
        }
        return fatwalk_escape(cp, n);
}

uint8_t fw_sfn_checksum(const uint8_t *d)
{
        uint8_t s = 0;
        for (int i = 0; i < 11; i++)
                s = (uint8_t)(((s & 1) << 7) + (s >> 1) + d[i]);
        return s;
}

/* ---- time ---- */

static int64_t days_from_civil(int y, unsigned m, unsigned d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        unsigned yoe = (unsigned)(y - era * 400);
        unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int64_t)doe - 719468;
}

int64_t fw_dos_time(uint16_t date, uint16_t time, unsigned centis)
{
        if (date == 0)
                return 0;
        unsigned y = 1980 + (date >> 9), m = date >> 5 & 0xF, d = date & 0x1F;
        if (m < 1)
                m = 1;
        if (m > 12)
                m = 12;
        if (d < 1)
                d = 1;
        unsigned hh = time >> 11, mm = time >> 5 & 0x3F, ss = (time & 0x1F) * 2 + centis / 100;
        return days_from_civil((int)y, m, d) * 86400 + hh * 3600 + mm * 60 + ss;
}

/* ---- clusters ---- */

void fw_chain_push(struct chain *ch, uint32_t c)
{
        if (ch->n == ch->cap) {
                ch->cap = ch->cap ? ch->cap * 2 : 16;
                ch->c = realloc(ch->c, ch->cap * sizeof(*ch->c));
                if (!ch->c)
                        abort();
        }
        ch->c[ch->n++] = c;
}

/* Follows a chain for at most max clusters (0: to its end). Returns how it
 * ended: L_EOC (or L_NEXT when max was reached), else the broken link. */
enum link fw_chain_follow(struct fatwalk *fs, uint32_t first, uint64_t max, struct chain *ch)
{
        uint32_t c = first;
        if (!fw_valid_cluster(fs, c))
                return L_INVALID;
        for (;;) {
                fw_chain_push(ch, c);
                if (max && ch->n >= max)
                        return L_NEXT;
                if (ch->n > fs->n_clusters)
                        return L_INVALID; /* a loop */
                uint32_t next;
                enum link l = fw_fat_next(fs, c, &next);
                if (l != L_NEXT)
                        return l;
                c = next;
        }
}

/* Marks clusters as owned by what is at path; a cluster owned twice is a
 * cross-link or a loop: returns false after reporting it. */
bool fw_own(struct fatwalk *fs, const char *path, const uint32_t *c, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                if (bit(fs->owned, c[i] - 2)) {
                        fw_issue(fs, true,
                                 "%s: cluster %u is also used by another file or directory (cross-linked or looping "
                                 "chain); it is not walked twice",
                                 path[0] ? path : "/", c[i]);
                        return false; /* the ones before stay owned: they are this entry's */
                }
                set_bit(fs->owned, c[i] - 2);
        }
        return true;
}

static bool exfat_system(struct fatwalk *fs, const struct chain *root)
{
        _cleanup_free_ uint8_t *b = xmalloc(fs->cluster_size);
        bool have_bitmap = false;
        for (size_t ci = 0; ci < root->n; ci++) {
                if (fw_dev_read(fs, fw_cluster_off(fs, root->c[ci]), b, fs->cluster_size) < 0)
                        break; /* reported by the walk */
                for (size_t i = 0; i < fs->cluster_size / 32; i++) {
                        const uint8_t *e = b + i * 32;
                        if (e[0] != 0x81 && e[0] != 0x82)
                                continue;
                        uint32_t first = le32(e + 20);
                        uint64_t len = le64(e + 24);
                        uint64_t need = (len + fs->cluster_size - 1) / fs->cluster_size;
                        const char *what = e[0] == 0x81 ? "the allocation bitmap" : "the up-case table";
                        struct chain ch = { 0 };
                        uint32_t next;
                        if (!fw_valid_cluster(fs, first) || need > fs->n_clusters ||
                            first - 2 + need > fs->n_clusters) {
                                fw_issue(fs, true, "%s lies outside the volume (cluster %u, %llu bytes)", what, first,
                                         (unsigned long long)len);
                                continue;
                        }
                        /* contiguous where the FAT does not chain it */
                        if (need == 1 || fw_fat_next(fs, first, &next) != L_NEXT || next != first + 1) {
                                for (uint64_t k = 0; k < need; k++)
                                        fw_chain_push(&ch, first + (uint32_t)k);
                        } else if (fw_chain_follow(fs, first, need, &ch), ch.n < need) {
                                fw_issue(fs, true, "%s: its cluster chain is broken after %zu of %llu clusters", what,
                                         ch.n, (unsigned long long)need);
                        }
                        fw_own(fs, what, ch.c, ch.n);
                        if (e[0] == 0x81 && !have_bitmap && ch.n == need) {
                                uint64_t bytes = ((uint64_t)fs->n_clusters + 7) / 8, got = 0;
                                if (len < bytes) {
                                        fw_issue(fs, true,
                                                 "the allocation bitmap is shorter than the volume's clusters");
                                        free(ch.c);
                                        continue;
                                }
                                for (size_t k = 0; k < ch.n && got < bytes; k++) {
                                        uint64_t n = bytes - got < fs->cluster_size ? bytes - got : fs->cluster_size;
                                        if (fw_dev_read(fs, fw_cluster_off(fs, ch.c[k]), fs->alloc + got, n) < 0) {
                                                fw_issue(fs, true, "the allocation bitmap cannot be read: %s",
                                                         fs->io_err);
                                                break;
                                        }
                                        got += n;
                                }
                                if (got == bytes) {
                                        have_bitmap = true;
                                        if (fs->n_clusters % 8)
                                                fs->alloc[bytes - 1] &= (uint8_t)((1u << (fs->n_clusters % 8)) - 1);
                                }
                        }
                        free(ch.c);
                }
        }
        if (!have_bitmap)
                fw_issue(fs, true,
                         "no readable allocation bitmap: data outside the walked files cannot be accounted for");
        return have_bitmap;
}

static void unaccounted_check(struct fatwalk *fs, uint64_t *bytes)
{
        uint64_t total = 0;
        unsigned runs = 0;
        for (uint32_t i = 0; i < fs->n_clusters;) {
                if (!bit(fs->alloc, i) || bit(fs->owned, i)) {
                        i++;
                        continue;
                }
                uint32_t s = i;
                while (i < fs->n_clusters && bit(fs->alloc, i) && !bit(fs->owned, i))
                        i++;
                total += (uint64_t)(i - s) * fs->cluster_size;
                if (runs++ < MAX_ISSUE_RUNS)
                        fw_issue(fs, true,
                                 "clusters %u-%u (%llu bytes) are marked in use but belong to no file or directory "
                                 "that could be walked (data the walk cannot account for)",
                                 s + 2, i + 1, (unsigned long long)(i - s) * fs->cluster_size);
        }
        if (runs > MAX_ISSUE_RUNS)
                fw_issue(fs, true, "%u more runs of clusters marked in use belong to no file or directory",
                         runs - MAX_ISSUE_RUNS);
        *bytes = total;
}

int fatwalk_walk(struct fatwalk *fs, const struct fatwalk_walk_ops *ops, uint64_t *unaccounted, char *err,
                 size_t err_size)
{
        fs->ops = ops;
        *unaccounted = 0;
        memset(fs->owned, 0, ((size_t)fs->n_clusters + 7) / 8);
        int r = fat_scan(fs);
        if (r < 0)
                return r;
        struct dirref root = { .path = "", .id = "r", .depth = 0 };
        if (fs->type == 12 || fs->type == 16) {
                fw_walk_dir(fs, &root, NULL, fs->root_off, fs->root_len);
        } else {
                struct chain ch = { 0 };
                enum link l = fw_chain_follow(fs, fs->root_cluster, MAX_DIR_BYTES / fs->cluster_size + 1, &ch);
                if (ch.n == 0) {
                        snprintf(err, err_size, "the root directory cannot be read (%s)", fw_link_why(l));
                        free(ch.c);
                        return -EIO;
                }
                if (l != L_EOC)
                        fw_issue(fs, true,
                                 "/: the root directory's cluster chain breaks after %zu cluster(s) at %s; "
                                 "entries after it are not known",
                                 ch.n, fw_link_why(l));
                fw_own(fs, "/", ch.c, ch.n);
                if (fs->type == EXFAT && !exfat_system(fs, &ch))
                        memset(fs->alloc, 0, ((size_t)fs->n_clusters + 7) / 8);
                char id[24];
                snprintf(id, sizeof(id), "d%u", fs->root_cluster);
                root.id = id;
                fw_walk_dir(fs, &root, &ch, 0, 0);
                free(ch.c);
        }
        unaccounted_check(fs, unaccounted);
        fs->ops = NULL;
        return 0;
}

int fatwalk_file_map(struct fatwalk *fs, uint32_t first, uint64_t size, uint64_t valid_size, bool contiguous,
                     struct fatwalk_file *out, char *err, size_t err_size)
{
        memset(out, 0, sizeof(*out));
        out->size = size;
        out->valid_size = valid_size > size ? size : valid_size;
        uint64_t need = (size + fs->cluster_size - 1) / fs->cluster_size;
        if (need == 0)
                return 0;
        struct chain ch = { 0 };
        if (contiguous) {
                if (!fw_valid_cluster(fs, first) || first - 2 + need > fs->n_clusters) {
                        snprintf(err, err_size, "its clusters run past the end of the volume");
                        return -EUCLEAN;
                }
                out->ext = xmalloc(sizeof(*out->ext));
                out->ext[0] = (struct fatwalk_extent){ fw_cluster_off(fs, first), size };
                out->n_ext = 1;
                return 0;
        }
        enum link l = fw_chain_follow(fs, first, need, &ch);
        if (ch.n < need) {
                snprintf(err, err_size, "its cluster chain ends after %zu of %llu clusters at %s", ch.n,
                         (unsigned long long)need, fw_link_why(l));
                free(ch.c);
                return l == L_UNREADABLE ? -EIO : -EUCLEAN;
        }
        out->ext = xmalloc(ch.n * sizeof(*out->ext));
        uint64_t left = size;
        for (size_t i = 0; i < ch.n; i++) {
                uint64_t len = left < fs->cluster_size ? left : fs->cluster_size;
                left -= len;
                if (out->n_ext &&
                    out->ext[out->n_ext - 1].dev_off + out->ext[out->n_ext - 1].len == fw_cluster_off(fs, ch.c[i]))
                        out->ext[out->n_ext - 1].len += len;
                else
                        out->ext[out->n_ext++] = (struct fatwalk_extent){ fw_cluster_off(fs, ch.c[i]), len };
        }
        free(ch.c);
        return 0;
}

void fatwalk_file_unmap(struct fatwalk_file *f)
{
        free(f->ext);
        memset(f, 0, sizeof(*f));
}
