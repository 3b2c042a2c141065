/* identity.c — see identity.h. */
#include "identity.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void identity_set_apart(char *serial, size_t serial_size, char *flag, size_t flag_size, const char *tell)
{
        size_t n = strlen(serial);
        snprintf(serial + n, serial_size - n, "~%.16s", tell);
        snprintf(flag, flag_size, "%s", IDENTITY_SERIAL_COLLISION);
}

/* Code point c as UTF-8 at out[*j] if it fits with a NUL after it: 1, or 0. */
static int put_utf8(char *out, size_t size, size_t *j, uint32_t c)
{
        char b[4];
        size_t n = utf8_put(b, c);
        if (*j + n >= size)
                return 0;
        memcpy(out + *j, b, n);
        *j += n;
        return 1;
}

int identity_usb_string(const unsigned char *desc, size_t len, char *out, size_t size)
{
        if (size)
                out[0] = '\0';
        if (len < 2 || desc[1] != 3 || desc[0] > len)
                return -EINVAL;
        size_t j = 0, units = desc[0] < 2 ? 0 : (size_t)(desc[0] - 2) / 2;
        const unsigned char *u = desc + 2;
        for (size_t i = 0; i < units && size; i++) {
                uint32_t c = (uint32_t)(u[2 * i] | u[2 * i + 1] << 8);
                if (c >= 0xd800 && c < 0xdc00 && i + 1 < units) {
                        uint32_t lo = (uint32_t)(u[2 * i + 2] | u[2 * i + 3] << 8);
                        if (lo >= 0xdc00 && lo < 0xe000) {
                                c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
                                i++;
                        }
                }
                if (c == 0 || (c >= 0xd800 && c < 0xe000))
                        c = 0xfffd;
                if (!put_utf8(out, size, &j, c))
                        break;
        }
        if (size)
                out[j] = '\0';
        return 0;
}

/* The safe form of s into dst, limit bytes with its NUL: true if all of s fit. */
static bool safe_into(char *dst, size_t limit, const unsigned char *s)
{
        size_t j = 0;
        while (*s) {
                uint32_t c = 0;
                size_t n = *s >= 0x80 ? utf8_seq(s, &c) : 1;
                if (n > 1 && c >= 0xa0) { /* a character past the C1 controls */
                        if (j + n >= limit)
                                break;
                        memcpy(dst + j, s, n);
                        j += n, s += n;
                        continue;
                }
                if (j + 1 >= limit)
                        break;
                dst[j++] = *s > 0x20 && *s < 0x7f && *s != '/' ? (char)*s : '_';
                s++;
        }
        dst[j] = '\0';
        return *s == '\0';
}

#define DIGEST_TAIL 17 /* "~" and 16 hex digits */

void identity_safe_serial(char *dst, size_t size, const char *src)
{
        if (!size || safe_into(dst, size, (const unsigned char *)src) || size <= DIGEST_TAIL + 1)
                return;
        /* Too long to keep whole: what fits, then a digest of the whole, so
         * two serials that differ only past the cut stay two devices. */
        safe_into(dst, size - DIGEST_TAIL, (const unsigned char *)src);
        unsigned char md[32];
        char hex[65];
        if (EVP_Digest(src, strlen(src), md, NULL, EVP_sha256(), NULL) != 1)
                abort();
        hex_encode(md, sizeof(md), hex);
        size_t j = strlen(dst);
        snprintf(dst + j, size - j, "~%.16s", hex);
}
