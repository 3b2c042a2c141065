/* libFuzzer: what a recorder answers to the 行标 commands (ZFY_INFO in either
 * layout, INQUIRY), as a broken or hostile device could. Oracles: a parse
 * that succeeds holds exactly what the bytes say (the serial and badge are
 * the field's bytes up to the first NUL, less padding, printable ASCII; the
 * other fields valid UTF-8 without control characters); one that fails says
 * why; the INQUIRY strings are printable and never longer than their fields. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gat947.h"

static void check_ascii(const char *s, const uint8_t *field, size_t n)
{
        size_t k = 0;
        while (k < n && field[k])
                k++;
        while (k && (field[k - 1] == ' ' || field[k - 1] == 0xff))
                k--;
        if (strlen(s) != k || memcmp(s, field, k) != 0)
                abort(); /* not the field's bytes: something lost or made up */
        for (const char *c = s; *c; c++)
                if ((unsigned char)*c <= 0x20 || (unsigned char)*c >= 0x7f || *c == '/')
                        abort();
}

static void check_utf8(const char *s)
{
        const unsigned char *p = (const unsigned char *)s;
        while (*p) {
                int n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3 : (*p & 0xf8) == 0xf0 ? 4 : 0;
                if (!n || (n == 1 && (*p < 0x20 || *p == 0x7f)))
                        abort();
                for (int i = 1; i < n; i++)
                        if ((p[i] & 0xc0) != 0x80)
                                abort();
                p += n;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct gat947_info gi;
        char why[200];
        for (unsigned layout = 89; layout <= 94; layout += 5) {
                why[0] = '\0';
                int r = gat947_info_parse(data, size, layout, &gi, why, sizeof(why));
                if (r < 0) {
                        if (!why[0])
                                abort(); /* a refusal that does not say why */
                        continue;
                }
                if (size != layout || !gi.serial[0])
                        abort();
                check_ascii(gi.serial, data, layout == 89 ? 7 : 8);
                check_ascii(gi.badge, data + (layout == 89 ? 7 : 8), layout == 89 ? 6 : 7);
                check_utf8(gi.name);
                check_utf8(gi.unit_no);
                check_utf8(gi.unit_name);
        }
        char v[9], p[17];
        if (gat947_inquiry_parse(data, size, v, p)) {
                if (size < 32 || strlen(v) > 8 || strlen(p) > 16)
                        abort();
                for (const char *c = v; *c; c++)
                        if (*c < 0x20 || *c >= 0x7f)
                                abort();
        } else if (size >= 32) {
                abort();
        }
        return 0;
}
