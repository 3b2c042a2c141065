/* libFuzzer: a recording's media metadata, as dockd reads it from a verified
 * copy (libavformat through media_probe_here, as dockd-probe runs it): any bytes are flagged or described,
 * never a crash, a hang or a leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "media.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char path[64];
        int fd = fuzz_memfd("clip.mp4", data, size, path);
        if (fd < 0)
                return 0;
        struct media_info m;
        media_probe_here(path, &m);
        if (m.flag[0] && strcmp(m.flag, "truncated") != 0 && strcmp(m.flag, "unplayable") != 0)
                abort();
        if (m.width < 0 || m.height < 0)
                abort();
        close(fd);
        return 0;
}
