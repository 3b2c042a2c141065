/* libFuzzer: the control socket's frame reader (ctlproto.c) on any bytes,
 * fed in pieces as a socket delivers them. Truth oracle: the frames it
 * returns, written back as frames, are exactly the bytes it consumed, in
 * order (nothing dropped, altered or invented); a frame is never longer than
 * the reader's limit; after an error, nothing more is read. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size < 1)
                return 0;
        size_t piece = 1 + data[0] % 64; /* how the socket splits the stream */
        const uint8_t *in = data + 1;
        size_t n = size - 1, fed = 0, matched = 0;
        struct ctl_reader rd = { .max = 256 };
        int r = 0;
        while (fed < n && r >= 0) {
                size_t k = n - fed < piece ? n - fed : piece;
                if (ctl_feed(&rd, in + fed, k) < 0)
                        abort();
                fed += k;
                char type;
                const char *payload;
                size_t len;
                while ((r = ctl_next(&rd, &type, &payload, &len)) > 0) {
                        if (len > rd.max || payload[len] != '\0')
                                abort();
                        char head[32];
                        int h = snprintf(head, sizeof(head), "%c%zu:", type, len);
                        if (matched + (size_t)h + len + 1 > fed || memcmp(in + matched, head, (size_t)h) != 0 ||
                            memcmp(in + matched + h, payload, len) != 0 || in[matched + h + len] != ',')
                                abort(); /* a frame that is not what was sent */
                        matched += (size_t)h + len + 1;
                }
        }
        /* What is left unparsed is exactly what follows the last frame. */
        if (r >= 0 && rd.n != fed - matched)
                abort();
        ctl_reader_free(&rd);
        return 0;
}
