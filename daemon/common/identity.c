/* identity.c — see identity.h. */
#include "identity.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
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

void identity_safe_serial(char *dst, size_t size, const char *src)
{
        const unsigned char *s = (const unsigned char *)src;
        size_t j = 0;
        if (!size)
                return;
        while (*s) {
                uint32_t c = 0;
                size_t n = *s >= 0x80 ? utf8_seq(s, &c) : 1;
                if (n > 1 && c >= 0xa0) { /* a character past the C1 controls */
                        if (j + n >= size)
                                break;
                        memcpy(dst + j, s, n);
                        j += n, s += n;
                        continue;
                }
                if (j + 1 >= size)
                        break;
                dst[j++] = *s > 0x20 && *s < 0x7f && *s != '/' ? (char)*s : '_';
                s++;
        }
        dst[j] = '\0';
}
