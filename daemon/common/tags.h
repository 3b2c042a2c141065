/* tags.h — a recording's device / officer / time tags from its file name.
 * Vendors encode them in names; `[recorders] name_pattern` says how, e.g.
 *
 *     {serial}_{officer}_{YYYY}{MM}{DD}{hh}{mm}{ss}_{seq}
 *
 * matched against the base name without its extension. Tokens: {serial},
 * {officer} (1+ of A-Z a-z 0-9 -), {YYYY} {MM} {DD} {hh} {mm} {ss} (digits,
 * the device clock), {seq} (1-9 digits), {*} (anything); other characters
 * match themselves. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct name_tags {
        char serial[64], officer[64];
        bool has_time;
        int64_t time;           /* device clock as seconds since the epoch */
        bool has_seq;
        int64_t seq;
};

#define NAME_PATTERN_MAX 200

/* 0, or -EINVAL with a message naming the bad token (or the length). */
int name_pattern_check(const char *pattern, char *err, size_t err_size);
/* Matches the base name of path (extension dropped); false if it does not fit. */
bool name_pattern_match(const char *pattern, const char *path, struct name_tags *t);
