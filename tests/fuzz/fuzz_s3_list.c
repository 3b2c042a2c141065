/* libFuzzer: a ListObjectsV2 page as an S3 service (or whatever answers in
 * its place) could send it (s3_list_page). Oracle, against a reference parse
 * written here: every key handed on is exactly the next <Contents> entry's
 * <Key>, unescaped, with its <Size>; a page that parses lists every entry
 * that has a key (none skipped); one that stops says so (-EPROTO). A key is
 * never cut short: a wrong key would make an archive audit miss an object. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_internal.h"

struct seen {
        char keys[64][S3_KEY_MAX + 1];
        long long sizes[64];
        size_t n;
};

static int take(const char *key, int64_t size, void *ud)
{
        struct seen *s = ud;
        if (strlen(key) > S3_KEY_MAX)
                abort();
        if (s->n == 64)
                return 1; /* enough: stop here, as a callback may */
        snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", key);
        s->sizes[s->n++] = size;
        return 0;
}

/* The reference: the text between the first <tag> and the next </tag>. */
static char *text(const char *from, const char *to, const char *tag)
{
        char o[40], c[40];
        snprintf(o, sizeof(o), "<%s>", tag);
        snprintf(c, sizeof(c), "</%s>", tag);
        const char *b = strstr(from, o);
        if (!b || b >= to)
                return NULL;
        b += strlen(o);
        const char *e = strstr(b, c);
        if (!e || e > to)
                return NULL;
        char *t = strndup(b, (size_t)(e - b));
        /* unescape */
        static const char *ent[][2] = {
                { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" }, { "&apos;", "'" }
        };
        char *w = t;
        for (const char *p = t; *p;) {
                size_t i;
                for (i = 0; i < 5; i++)
                        if (strncmp(p, ent[i][0], strlen(ent[i][0])) == 0)
                                break;
                if (i < 5) {
                        *w++ = ent[i][1][0];
                        p += strlen(ent[i][0]);
                } else {
                        *w++ = *p++;
                }
        }
        *w = '\0';
        return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 200000)
                return 0;
        char *body = malloc(size + 1);
        memcpy(body, data, size);
        body[size] = '\0';
        struct seen s = { .n = 0 };
        char next[1024];
        int r = s3_list_page(body, take, &s, next, sizeof(next));
        /* walk the entries as the reference does */
        size_t i = 0;
        const char *p = body;
        while (i < s.n && (p = strstr(p, "<Contents>"))) {
                const char *end = strstr(p, "</Contents>");
                if (!end)
                        abort(); /* an entry handed on from a cut page */
                char *k = text(p, end, "Key");
                if (k) {
                        char *z = text(p, end, "Size");
                        if (!z || strcmp(k, s.keys[i]) != 0 || strtoll(z, NULL, 10) != s.sizes[i])
                                abort(); /* not the entry's key or size */
                        free(z);
                        i++;
                }
                free(k);
                p = end;
        }
        if (i != s.n)
                abort(); /* handed on more than the page holds */
        if (r == 0 && s.n < 64) {
                /* parsed: no entry with a key was skipped */
                size_t want = 0;
                for (p = body; (p = strstr(p, "<Contents>"));) {
                        const char *end = strstr(p, "</Contents>");
                        char *k = end ? text(p, end, "Key") : NULL;
                        want += k != NULL;
                        free(k);
                        if (!end)
                                break;
                        p = end;
                }
                if (want != s.n)
                        abort();
        }
        free(body);
        return 0;
}
