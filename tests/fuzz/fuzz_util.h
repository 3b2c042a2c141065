/* fuzz_util.h — hands the fuzzer's bytes to code that opens a path. */
#pragma once
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

/* A memfd holding data; its /proc path in path. Returns the fd, or -1. */
static inline int fuzz_memfd(const char *name, const uint8_t *data, size_t size, char path[64])
{
        int fd = memfd_create(name, 0);
        if (fd < 0)
                return -1;
        if (write(fd, data, size) != (ssize_t)size) {
                close(fd);
                return -1;
        }
        snprintf(path, 64, "/proc/self/fd/%d", fd);
        return fd;
}
