/* fatwalk_internal.h — what fatwalk.c (the volume, its FAT, chains, names)
 * and fatwalk_dir.c (FAT directories and exFAT entry sets) share. Not for
 * other modules. */
#pragma once
#include <iconv.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fatwalk.h"

#define EXFAT 64
#define MAX_DEPTH 128
#define FAT_WINDOW (64u << 10)
#define MAX_DIR_BYTES (256u << 20) /* exFAT allows 256 MiB directories; FAT 2 MiB */
#define MAX_ISSUE_RUNS 8

enum link { L_NEXT, L_EOC, L_FREE, L_BAD, L_INVALID, L_UNREADABLE };

struct fatwalk {
        fatwalk_read_fn read;
        void *ud;
        uint64_t base, dev_size;
        int type; /* 12, 16, 32 or EXFAT */
        uint32_t sector;
        uint64_t cluster_size;
        uint64_t fat_off[2], fat_len;
        unsigned n_fats, active; /* copies compared; the one walked first */
        bool mirrored;
        uint64_t heap_off;
        uint32_t n_clusters;         /* clusters 2 .. n_clusters + 1 */
        uint64_t root_off, root_len; /* FAT12/16: the fixed root region */
        uint32_t root_cluster;
        uint8_t *win; /* FAT cache: FAT_WINDOW + one sector */
        uint64_t win_start, win_len;
        bool win_valid;
        uint8_t *alloc, *owned; /* a bit per cluster */
        iconv_t cd;
        /* walk */
        const struct fatwalk_walk_ops *ops;
        char io_err[256];
};

static inline uint16_t le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t le32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }
static inline bool bit(const uint8_t *m, uint32_t i) { return m[i >> 3] >> (i & 7) & 1; }
static inline void set_bit(uint8_t *m, uint32_t i) { m[i >> 3] |= (uint8_t)(1u << (i & 7)); }

struct chain {
        uint32_t *c;
        size_t n, cap;
};

struct dirref {
        const char *path; /* "" for the root */
        const char *id;   /* "r" or "d<cluster>" */
        int depth;
};

void fw_issue(struct fatwalk *fs, bool blocking, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int fw_dev_read(struct fatwalk *fs, uint64_t off, void *buf, size_t len);
uint64_t fw_cluster_off(const struct fatwalk *fs, uint32_t c);
bool fw_valid_cluster(const struct fatwalk *fs, uint32_t c);
enum link fw_fat_next(struct fatwalk *fs, uint32_t c, uint32_t *next);
const char *fw_link_why(enum link l);
void fw_chain_push(struct chain *ch, uint32_t c);
/* Follows a chain for at most max clusters (0: to its end). Returns how it
 * ended: L_EOC (or L_NEXT when max was reached), else the broken link. */
enum link fw_chain_follow(struct fatwalk *fs, uint32_t first, uint64_t max, struct chain *ch);
/* Marks clusters as owned by what is at path; a cluster owned twice is a
 * cross-link or a loop: returns false after reporting it. */
bool fw_own(struct fatwalk *fs, const char *path, const uint32_t *c, size_t n);
void fw_emit(struct fatwalk *fs, const struct fatwalk_entry *e);
size_t fw_utf16_decode(const uint16_t *u, size_t n, int32_t *cp);
char *fw_sfn_name(struct fatwalk *fs, const uint8_t *d, bool deleted);
uint8_t fw_sfn_checksum(const uint8_t *d);
int64_t fw_dos_time(uint16_t date, uint16_t time, unsigned centis);
/* Walks one directory: its clusters (ch), or a FAT12/16 fixed root. */
void fw_walk_dir(struct fatwalk *fs, const struct dirref *d, const struct chain *ch, uint64_t fixed_off,
                 uint64_t fixed_len);
