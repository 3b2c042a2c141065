/* tags.c — see tags.h. A small backtracking matcher: patterns are short and
 * names are at most 255 bytes. */
#include "tags.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum tok { T_LIT, T_SERIAL, T_OFFICER, T_YEAR, T_MON, T_DAY, T_HOUR, T_MIN, T_SEC, T_SEQ, T_ANY };
static const struct {
        const char *name;
        enum tok tok;
        int min, max; /* characters matched */
        bool digits;
} TOKENS[] = {
        { "{serial}", T_SERIAL, 1, 63, false }, { "{officer}", T_OFFICER, 1, 63, false },
        { "{YYYY}", T_YEAR, 4, 4, true },       { "{MM}", T_MON, 2, 2, true },
        { "{DD}", T_DAY, 2, 2, true },          { "{hh}", T_HOUR, 2, 2, true },
        { "{mm}", T_MIN, 2, 2, true },          { "{ss}", T_SEC, 2, 2, true },
        { "{seq}", T_SEQ, 1, 9, true },         { "{*}", T_ANY, 0, 255, false },
};

static int token_at(const char *p)
{
        for (size_t i = 0; i < sizeof(TOKENS) / sizeof(TOKENS[0]); i++)
                if (strncmp(p, TOKENS[i].name, strlen(TOKENS[i].name)) == 0)
                        return (int)i;
        return -1;
}

int name_pattern_check(const char *pattern, char *err, size_t err_size)
{
        if (strlen(pattern) > NAME_PATTERN_MAX) {
                snprintf(err, err_size, "longer than %d characters", NAME_PATTERN_MAX);
                return -EINVAL;
        }
        for (const char *p = pattern; *p;) {
                if (*p == '{') {
                        int k = token_at(p);
                        if (k < 0) {
                                snprintf(err, err_size,
                                         "unknown token at '%.20s' (known: {serial} {officer} {YYYY} {MM} {DD} "
                                         "{hh} {mm} {ss} {seq} {*})",
                                         p);
                                return -EINVAL;
                        }
                        p += strlen(TOKENS[k].name);
                } else
                        p++;
        }
        return 0;
}

struct fields {
        int v[T_ANY + 1];
        const char *s[T_ANY + 1];
        int len[T_ANY + 1];
};

static bool ok_char(int k, char c)
{
        if (TOKENS[k].digits)
                return isdigit((unsigned char)c);
        if (TOKENS[k].tok == T_ANY)
                return true;
        return isalnum((unsigned char)c) || c == '-';
}

/* Failed (pattern position, name position) pairs: with them each pair is
 * tried once, so several {*} cannot make matching exponential (a hostile
 * file name against `{*}{*}{*}…` took minutes before; found by fuzz_name_pattern). */
struct memo {
        const char *p0, *s0;
        size_t s_len;
        unsigned char *failed; /* bit per pair */
};

static bool match_at(struct memo *m, const char *p, const char *s, struct fields *f);

static bool match(struct memo *m, const char *p, const char *s, struct fields *f)
{
        size_t key = (size_t)(p - m->p0) * (m->s_len + 1) + (size_t)(s - m->s0);
        if (m->failed[key / 8] & (1u << (key % 8)))
                return false;
        bool ok = match_at(m, p, s, f);
        if (!ok)
                m->failed[key / 8] |= (unsigned char)(1u << (key % 8));
        return ok;
}

static bool match_at(struct memo *m, const char *p, const char *s, struct fields *f)
{
        if (!*p)
                return !*s;
        if (*p != '{')
                return *p == *s && match(m, p + 1, s + 1, f);
        int k = token_at(p);
        if (k < 0)
                return false;
        const char *rest = p + strlen(TOKENS[k].name);
        int n = 0;
        while (n < TOKENS[k].max && s[n] && ok_char(k, s[n]))
                n++;
        for (; n >= TOKENS[k].min; n--) { /* longest first, then give back */
                if (match(m, rest, s + n, f)) {
                        enum tok t = TOKENS[k].tok;
                        f->s[t] = s;
                        f->len[t] = n;
                        if (TOKENS[k].digits) {
                                int v = 0;
                                for (int i = 0; i < n; i++)
                                        v = v * 10 + (s[i] - '0');
                                f->v[t] = v;
                        }
                        return true;
                }
        }
        return false;
}

bool name_pattern_match(const char *pattern, const char *path, struct name_tags *t)
{
        memset(t, 0, sizeof(*t));
        if (!pattern || !*pattern)
                return false;
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        char name[256];
        snprintf(name, sizeof(name), "%s", base);
        char *dot = strrchr(name, '.');
        if (dot && dot != name)
                *dot = '\0';
        struct fields f;
        memset(&f, 0, sizeof(f));
        size_t plen = strlen(pattern), slen = strlen(name);
        struct memo m = {
                .p0 = pattern, .s0 = name, .s_len = slen, .failed = calloc(((plen + 1) * (slen + 1)) / 8 + 1, 1)
        };
        if (!m.failed)
                return false;
        bool ok = match(&m, pattern, name, &f);
        free(m.failed);
        if (!ok)
                return false;
        if (f.s[T_SERIAL])
                snprintf(t->serial, sizeof(t->serial), "%.*s", f.len[T_SERIAL], f.s[T_SERIAL]);
        if (f.s[T_OFFICER])
                snprintf(t->officer, sizeof(t->officer), "%.*s", f.len[T_OFFICER], f.s[T_OFFICER]);
        if (f.s[T_YEAR] && f.s[T_MON] && f.s[T_DAY]) {
                struct tm tm = { .tm_year = f.v[T_YEAR] - 1900,
                                 .tm_mon = f.v[T_MON] - 1,
                                 .tm_mday = f.v[T_DAY],
                                 .tm_hour = f.v[T_HOUR],
                                 .tm_min = f.v[T_MIN],
                                 .tm_sec = f.v[T_SEC] };
                if (f.v[T_MON] >= 1 && f.v[T_MON] <= 12 && f.v[T_DAY] >= 1 && f.v[T_DAY] <= 31 && f.v[T_HOUR] < 24 &&
                    f.v[T_MIN] < 60 && f.v[T_SEC] < 61) {
                        t->time = (int64_t)timegm(&tm);
                        t->has_time = true;
                }
        }
        if (f.s[T_SEQ]) {
                t->seq = f.v[T_SEQ];
                t->has_seq = true;
        }
        return true;
}

void tags_times(const struct tag_times_in *in, struct tag_times *out)
{
        memset(out, 0, sizeof(*out));
        int64_t dur = in->duration_s >= 0 ? (int64_t)(in->duration_s + 0.5) : -1, start = -1, end = -1;
        if (in->has_media_time && in->media_time >= 946684800) { /* unset clocks write 1904 or 1970 */
                start = in->media_time;
                out->source = "media";
        } else if (in->has_name_time) {
                start = in->name_time;
                out->source = "filename";
        }
        if (start >= 0) {
                end = dur >= 0 ? start + dur : start;
        } else {
                end = in->mtime; /* a recorder closes the file when it stops */
                start = dur >= 0 ? end - dur : -1;
                out->source = "mtime";
        }
        if ((out->has_start = start >= 0)) {
                out->start_device = start;
                out->start_utc = start - in->clock_offset_s;
        }
        if ((out->has_end = end >= 0)) {
                out->end_device = end;
                out->end_utc = end - in->clock_offset_s;
        }
}

void tags_attribute(bool device_reported, int64_t reported_id, int64_t assigned_id, struct attribution *out)
{
        *out = (struct attribution){ 0 };
        if (device_reported && reported_id) {
                out->officer_id = reported_id;
                out->source = "device";
                if (assigned_id && assigned_id != reported_id)
                        out->flag = "conflict";
        } else if (assigned_id) {
                out->officer_id = assigned_id;
                out->source = "assignment";
        }
        if (device_reported && !reported_id)
                out->flag = "unknown-officer";
}
