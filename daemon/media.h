/* media.h — what the footage itself says (libavformat): creation time,
 * duration, codec, resolution, and whether it is whole. Read from a verified
 * copy on a target, never from the recorder (the device is read once). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

struct media_info {
        bool has_creation;
        int64_t creation;       /* seconds since the epoch, as the device wrote it */
        double duration_s;      /* < 0: unknown */
        char codec[32];
        int width, height;
        /* "unplayable" (no container or stream could be read), "truncated"
         * (the index points past the end of the file) or "" */
        char flag[16];
        char error[160];
};

/* Probes path. Never fails: what cannot be read is flagged. */
void media_probe(const char *path, struct media_info *m);
