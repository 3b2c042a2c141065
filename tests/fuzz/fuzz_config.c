/* libFuzzer: dockd.conf on any bytes: load succeeds or names file and line;
 * nothing leaks either way. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char path[64];
        int fd = fuzz_memfd("dockd.conf", data, size, path);
        if (fd < 0)
                return 0;
        struct config cfg;
        char err[512] = "";
        if (config_load(&cfg, path, "/nonexistent-state", err, sizeof(err)) == 0)
                config_free(&cfg);
        else if (!err[0])
                abort(); /* a refusal must say why */
        close(fd);
        return 0;
}
