/* libFuzzer: file names from a recorder against a name pattern. The first
 * line of the input is the pattern (used if it passes the config check, as
 * dockd would), the rest the file name, as a hostile device could write it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tags.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        if (size > 600)
                return 0; /* names are at most 255 bytes, patterns short */
        char buf[601];
        memcpy(buf, data, size);
        buf[size] = '\0';
        char *nl = strchr(buf, '\n');
        const char *pattern = "{serial}_{officer}_{YYYY}{MM}{DD}{hh}{mm}{ss}_{seq}", *name = buf;
        char err[200];
        if (nl) {
                *nl = '\0';
                if (name_pattern_check(buf, err, sizeof(err)) == 0)
                        pattern = buf;
                name = nl + 1;
        }
        struct name_tags t;
        if (name_pattern_match(pattern, name, &t)) {
                if (strlen(t.serial) >= sizeof(t.serial) || strlen(t.officer) >= sizeof(t.officer))
                        abort();
                if (t.has_seq && (t.seq < 0 || t.seq > 999999999))
                        abort();
        }
        return 0;
}
