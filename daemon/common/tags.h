/* tags.h — what a recording is tagged with, decided in one place: its times
 * (tags_times), its officer (tags_attribute), and the tags its file name
 * carries (name_pattern_match). The catalog stores what this decides.
 *
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
        int64_t time; /* device clock as seconds since the epoch */
        bool has_seq;
        int64_t seq;
};

#define NAME_PATTERN_MAX 200

/* ---- what a recording is tagged with: the policy, in one place ---- */

/* A recording's times: from the footage (media creation time, if the clock
 * was set), else from its name, else its file's mtime as the end; with the
 * duration, the other end. Unknown duration: the end is the start, so the
 * 24-hour rule and retention still apply, erring early. Device times are
 * corrected by the clock offset (device - station) into UTC. */
struct tag_times_in {
        bool has_media_time;
        int64_t media_time; /* device clock */
        bool has_name_time;
        int64_t name_time;
        int64_t mtime;          /* the file's, device clock */
        double duration_s;      /* < 0: unknown */
        int64_t clock_offset_s; /* 0 when not measured: the device clock is taken as UTC */
};
struct tag_times {
        const char *source; /* media / filename / mtime */
        bool has_start, has_end;
        int64_t start_device, end_device, start_utc, end_utc;
};
void tags_times(const struct tag_times_in *in, struct tag_times *out);

/* Who a recording is attributed to: the officer the device reported, if the
 * registry knows that badge, else the officer the device was assigned to.
 * A device officer that disagrees with the assignment is a 'conflict'; a
 * badge the registry does not know is an 'unknown-officer'. Never guessed. */
struct attribution {
        int64_t officer_id; /* 0: none */
        const char *source; /* device / assignment / NULL */
        const char *flag;   /* conflict / unknown-officer / NULL */
};
void tags_attribute(bool device_reported, int64_t reported_id, int64_t assigned_id, struct attribution *out);

/* 0, or -EINVAL with a message naming the bad token (or the length). */
int name_pattern_check(const char *pattern, char *err, size_t err_size);
/* Matches the base name of path (extension dropped); false if it does not fit. */
bool name_pattern_match(const char *pattern, const char *path, struct name_tags *t);
