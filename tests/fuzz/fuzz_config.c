/* libFuzzer: dockd.conf on any bytes: load succeeds or names file and line;
 * nothing leaks either way. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        int fd = memfd_create("dockd.conf", 0);
        if (fd < 0)
                return 0;
        if (write(fd, data, size) != (ssize_t)size) {
                close(fd);
                return 0;
        }
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        struct config cfg;
        char err[512] = "";
        if (config_load(&cfg, path, "/nonexistent-state", err, sizeof(err)) == 0)
                config_free(&cfg);
        else if (!err[0])
                abort();        /* a refusal must say why */
        close(fd);
        return 0;
}
