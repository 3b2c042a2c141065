/* media.h — what the footage itself says (libavformat): creation time,
 * duration, codec, resolution, and whether it is whole. Read from a verified
 * copy on a target, never from the recorder (the device is read once). */
#pragma once
#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>

struct media_info {
        bool has_creation;
        int64_t creation;  /* seconds since the epoch, as the device wrote it */
        double duration_s; /* < 0: unknown */
        char codec[32];
        int width, height;
        /* "unplayable" (no container or stream could be read), "truncated"
         * (the index points past the end of the file) or "" */
        char flag[16];
        char error[160];
};

/* Probes path in the dockd-probe helper, a process of its own: libavformat,
 * the biggest parser of outside input, never runs inside dockd (a crash or
 * exploit there cannot reach the catalog or the station key), and its
 * libraries never weigh on dockd's memory. Never fails: what cannot be read
 * is flagged; a helper that crashes or hangs flags the footage unplayable. */
void media_probe(const char *path, struct media_info *m);
/* Starts the helper's fork server now, so that it loads its libraries while
 * the first recording copies rather than after it (about 0.1-0.2 s of a
 * session's critical path); the first probe starts it otherwise. */
void media_prestart(void);

/* The same for a recording read through rd (on an S3-only station, the
 * device's file, checked with media_ranges below): the helper asks over a socket for the
 * byte ranges libavformat needs (MEDIA_RANGE_MAX at most each), and dockd
 * answers them from rd; nothing else of the recording is read. */
typedef ssize_t (*media_read_fn)(void *ud, void *buf, size_t n, int64_t off);
#define MEDIA_RANGE_MAX (1 << 20)
void media_probe_stream(int64_t size, media_read_fn rd, void *ud, struct media_info *m);

/* The ranges a stream probe is served, each kept with its SHA-256, checked
 * against the one sequential pass over the recording that is hashed (and so
 * stored): facts read from bytes that pass did not see are not used. A
 * hostile device could otherwise give the probe one recording's bytes and
 * the hash another's. media_ranges_serve is a media_read_fn (ud: the list)
 * that reads through rd; media_ranges_pass takes each chunk of the pass, in
 * order from 0; the verdict is 0, or -EBADMSG with the first range's offset
 * that differed or was not seen whole. media_distrust replaces the facts by
 * the flag "unverified" and says why. */
struct media_ranges;
struct media_ranges *media_ranges_new(media_read_fn rd, void *ud);
ssize_t media_ranges_serve(void *ud, void *buf, size_t n, int64_t off);
void media_ranges_pass(struct media_ranges *l, int64_t off, const void *buf, size_t n);
int media_ranges_verdict(const struct media_ranges *l, int64_t *bad_off);
/* Forgets what a pass gave (one that stopped part way): the next starts over. */
void media_ranges_restart(struct media_ranges *l);
void media_ranges_free(struct media_ranges *l);
void media_distrust(struct media_info *m, int64_t bad_off);

/* Where media_probe finds dockd-probe: 0 if it can run it, else -errno. */
int media_helper(char *out, size_t size);

/* The probe itself, in this process (dockd-probe and the fuzzer). */
void media_probe_here(const char *path, struct media_info *m);
/* The same for a recording of size bytes served over the socket fd
 * (media_probe_stream's helper side). */
void media_probe_here_stream(int fd, int64_t size, struct media_info *m);

/* The helper's output for m, and its parser: "key=value" lines. */
void media_info_write(FILE *f, const struct media_info *m);
int media_info_parse(const char *text, struct media_info *m);
