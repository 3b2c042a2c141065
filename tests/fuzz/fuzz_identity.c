/* libFuzzer: a recorder's USB serial string descriptor, as a broken or
 * hostile device could send it, and the serial made safe for file names.
 * The first byte picks the buffer size. Oracles: a refused descriptor is one
 * whose header is wrong; an accepted one decodes to exactly its code units
 * (decoded here again, independently: each valid character, each lone
 * surrogate or U+0000 a U+FFFD), cut only at a whole character that would not
 * fit; the safe serial is valid UTF-8 without controls, space or '/', and
 * equals its input when that already was, and fit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity.h"

/* Valid UTF-8 (no overlong form, surrogate or C1 control) without a byte
 * under 0x21, 0x7f or '/': 1, or 0. */
static int safe_utf8(const unsigned char *p)
{
        while (*p) {
                uint32_t c;
                int n;
                if (*p < 0x80)
                        c = *p, n = 1;
                else if ((*p & 0xe0) == 0xc0)
                        c = *p & 0x1fu, n = 2;
                else if ((*p & 0xf0) == 0xe0)
                        c = *p & 0x0fu, n = 3;
                else if ((*p & 0xf8) == 0xf0)
                        c = *p & 0x07u, n = 4;
                else
                        return 0;
                for (int i = 1; i < n; i++) {
                        if ((p[i] & 0xc0) != 0x80)
                                return 0;
                        c = c << 6 | (p[i] & 0x3fu);
                }
                static const uint32_t least[] = { 0, 0, 0x80, 0x800, 0x10000 };
                if (c < least[n] || c > 0x10ffff || (c >= 0xd800 && c < 0xe000) || (c >= 0x80 && c < 0xa0))
                        return 0;
                if (c <= 0x20 || c == 0x7f || c == '/')
                        return 0;
                p += n;
        }
        return 1;
}

/* The UTF-8 the descriptor's code units stand for, whole, into want. */
static size_t expected(const uint8_t *u, size_t units, char *want)
{
        size_t j = 0;
        for (size_t i = 0; i < units; i++) {
                uint32_t c = (uint32_t)u[2 * i] | (uint32_t)u[2 * i + 1] << 8;
                if (c >= 0xd800 && c <= 0xdbff && i + 1 < units) {
                        uint32_t lo = (uint32_t)u[2 * i + 2] | (uint32_t)u[2 * i + 3] << 8;
                        if (lo >= 0xdc00 && lo <= 0xdfff) {
                                c = 0x10000 + (c - 0xd800) * 0x400 + (lo - 0xdc00);
                                i++;
                        }
                }
                if (c == 0 || (c >= 0xd800 && c <= 0xdfff))
                        c = 0xfffd;
                if (c < 0x80) {
                        want[j++] = (char)c;
                } else if (c < 0x800) {
                        want[j++] = (char)(0xc0 + c / 64);
                        want[j++] = (char)(0x80 + c % 64);
                } else if (c < 0x10000) {
                        want[j++] = (char)(0xe0 + c / 4096);
                        want[j++] = (char)(0x80 + c / 64 % 64);
                        want[j++] = (char)(0x80 + c % 64);
                } else {
                        want[j++] = (char)(0xf0 + c / 262144);
                        want[j++] = (char)(0x80 + c / 4096 % 64);
                        want[j++] = (char)(0x80 + c / 64 % 64);
                        want[j++] = (char)(0x80 + c % 64);
                }
        }
        want[j] = '\0';
        return j;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        size_t cap = (size_t)data[0] % 200 + 1;
        data++, size--;
        char *out = malloc(cap);
        char want[4 * 128 + 1];

        int r = identity_usb_string(data, size, out, cap);
        int bad_header = size < 2 || data[1] != 3 || data[0] > size;
        if ((r < 0) != bad_header)
                abort(); /* refused a good header, or took a bad one */
        if (r == 0) {
                size_t units = data[0] < 2 ? 0 : (size_t)(data[0] - 2) / 2;
                size_t n = expected(data + 2, units, want), got = strlen(out);
                if (got >= cap || got > n || memcmp(out, want, got) != 0)
                        abort(); /* something made up, or past the buffer */
                if (got < n) {
                        /* cut short: only where the next whole character did not fit */
                        size_t next = got + 1;
                        while (next < n && ((unsigned char)want[next] & 0xc0) == 0x80)
                                next++;
                        if (next < cap)
                                abort(); /* something lost that fit */
                }
        }

        /* identity_safe_serial, on the same bytes as a C string */
        char *src = malloc(size + 1);
        memcpy(src, data, size);
        src[size] = '\0';
        identity_safe_serial(out, cap, src);
        if (strlen(out) >= cap || !safe_utf8((const unsigned char *)out))
                abort();
        if (safe_utf8((const unsigned char *)src) && strlen(src) < cap && strcmp(out, src) != 0)
                abort(); /* a serial that was already safe was changed */
        size_t k = strlen(out);
        if (k > strlen(src))
                abort();
        if (strlen(src) >= cap && cap > 18) {
                /* cut: what fit, then "~" and 16 hex digits of the whole's SHA-256 */
                if (k < 17 || out[k - 17] != '~' || strspn(out + k - 16, "0123456789abcdef") != 16)
                        abort();
                char *again = malloc(cap);
                identity_safe_serial(again, cap, src);
                if (strcmp(again, out) != 0)
                        abort(); /* one serial, one name */
                free(again);
        }
        free(src);
        free(out);
        return 0;
}
