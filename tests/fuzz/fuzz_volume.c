/* libFuzzer: a recorder's volume on any bytes, through dockd's reader
 * (libtsk, raw images only): it opens and lists, or refuses with a message. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "volume.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char path[64];
        int fd = fuzz_memfd("volume.img", data, size, path);
        if (fd < 0)
                return 0;
        struct volume *v = NULL;
        char err[512] = "";
        if (volume_open(path, NULL, "CP936", &v, err, sizeof(err)) == 0) {
                struct volume_listing l = { 0 };
                if (volume_list(v, &l, err, sizeof(err)) == 0)
                        volume_listing_free(&l);
                else if (!err[0])
                        abort();
                volume_close(v);
        } else if (!err[0])
                abort();
        close(fd);
        return 0;
}
