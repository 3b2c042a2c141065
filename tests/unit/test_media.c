/* The media probe runs in the dockd-probe helper: its answer survives the
 * trip through a pipe exactly, nonsense is refused, and a helper that crashes
 * flags the footage unplayable instead of taking dockd down. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <errno.h>

#include "media.h"

static void test_answer_round_trips(void **state)
{
        (void)state;
        struct media_info m = { .has_creation = true,
                                .creation = 1795593600,
                                .duration_s = 12.345678901234567,
                                .codec = "h264",
                                .width = 1920,
                                .height = 1080,
                                .flag = "truncated",
                                .error = "stream 0: samples\nto byte 99" };
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        media_info_write(f, &m);
        fclose(f);
        struct media_info back;
        assert_int_equal(media_info_parse(buf, &back), 0);
        assert_true(back.has_creation);
        assert_int_equal(back.creation, 1795593600);
        assert_true(back.duration_s == m.duration_s);
        assert_string_equal(back.codec, "h264");
        assert_int_equal(back.width, 1920);
        assert_int_equal(back.height, 1080);
        assert_string_equal(back.flag, "truncated");
        assert_string_equal(back.error, "stream 0: samples to byte 99"); /* one line */
        free(buf);
}

static void test_nonsense_is_refused(void **state)
{
        (void)state;
        struct media_info m;
        assert_true(media_info_parse("", &m) < 0);
        assert_true(media_info_parse("has_creation=1\ncreation=5\n", &m) < 0); /* keys missing */
        assert_true(media_info_parse("garbage without equals", &m) < 0);
        assert_true(media_info_parse("has_creation=0\ncreation=0\nduration_s=-1\ncodec=\nwidth=-5\nheight=0\nflag=\n"
                                     "error=\n",
                                     &m) < 0);
}

/* media_probe runs the dockd-probe next to its own binary: put a crashing
 * one there for the length of the test. */
static void test_crashing_helper_flags_unplayable(void **state)
{
        (void)state;
        char self[PATH_MAX], helper[PATH_MAX + 16];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        assert_true(n > 0);
        self[n] = '\0';
        *strrchr(self, '/') = '\0';
        snprintf(helper, sizeof(helper), "%s/dockd-probe", self);
        unlink(helper); /* a link to the real one, left by a failed test, is not written through */
        FILE *f = fopen(helper, "w");
        assert_non_null(f);
        fputs("#!/bin/sh\necho has_creation=1\nkill -SEGV $$\n", f);
        fclose(f);
        chmod(helper, 0755);
        struct media_info m;
        media_probe("/nonexistent.mp4", &m);
        unlink(helper);
        assert_string_equal(m.flag, "unplayable");
        assert_string_equal(m.error, "media probe crashed (signal 11)");
        assert_false(m.has_creation);
}

#ifdef DOCKD_TEST_HOOKS
/* A probe that dies under a healthy server: the server's child is killed
 * (crashpoint probe-served-child) and the server reports its death over
 * that probe's own socket. The footage is flagged with the death named; the
 * direct spawn that follows a server's silence never reaches that point, so
 * "signal 9" is the server's report. A copy of the real helper, not a link,
 * so a server of its own starts with the crashpoint in its environment. */
/* A copy of the real helper beside this test binary, its path in helper:
 * a new file, so the next probe starts a server of its own, with this
 * process's environment as it is now. */
static void own_helper(char *helper, size_t size)
{
        char self[PATH_MAX], real[PATH_MAX + 32];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        assert_true(n > 0);
        self[n] = '\0';
        *strrchr(self, '/') = '\0';
        snprintf(helper, size, "%s/dockd-probe", self);
        snprintf(real, sizeof(real), "%s/../dockd-probe", self);
        unlink(helper);
        FILE *in = fopen(real, "rb"), *out = fopen(helper, "wb");
        assert_non_null(in);
        assert_non_null(out);
        char buf[65536];
        size_t k;
        while ((k = fread(buf, 1, sizeof(buf), in)) > 0)
                assert_int_equal(fwrite(buf, 1, k, out), k);
        fclose(in);
        assert_int_equal(fclose(out), 0);
        chmod(helper, 0755);
}

static void test_served_probe_killed_flags_unplayable(void **state)
{
        (void)state;
        char helper[PATH_MAX + 16];
        setenv("DOCKD_CRASHPOINT", "probe-served-child", 1);
        own_helper(helper, sizeof(helper));
        struct media_info m;
        media_probe("/nonexistent.mp4", &m);
        unsetenv("DOCKD_CRASHPOINT");
        unlink(helper);
        assert_string_equal(m.flag, "unplayable");
        assert_string_equal(m.error, "media probe crashed (signal 9)");
        assert_false(m.has_creation);
}

/* A probe that never answers under a healthy server: dockd stops waiting
 * at the deadline (60 s; 1 s here) and flags the footage; it hangs up, so
 * the server kills the probe. */
static void test_served_probe_hung_flags_unplayable(void **state)
{
        (void)state;
        char helper[PATH_MAX + 16];
        setenv("DOCKD_TEST_PROBE_HANG", "1", 1);
        setenv("DOCKD_TEST_PROBE_TIMEOUT_MS", "1000", 1);
        own_helper(helper, sizeof(helper));
        struct media_info m;
        media_probe("/nonexistent.mp4", &m);
        unsetenv("DOCKD_TEST_PROBE_HANG");
        unsetenv("DOCKD_TEST_PROBE_TIMEOUT_MS");
        unlink(helper);
        assert_string_equal(m.flag, "unplayable");
        assert_string_equal(m.error, "media probe gave no answer in 1 s");
        assert_false(m.has_creation);
}
#endif

/* The real dockd-probe beside this test binary for the length of a test
 * (media_probe finds it there); the path of the link in out. */
static void real_helper(char *out, size_t size)
{
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        assert_true(n > 0);
        self[n] = '\0';
        *strrchr(self, '/') = '\0';
        snprintf(out, size, "%s/dockd-probe", self);
        char real[PATH_MAX + 32];
        snprintf(real, sizeof(real), "%s/../dockd-probe", self);
        unlink(out);
        assert_int_equal(symlink(real, out), 0);
}

struct served {
        const unsigned char *data;
        size_t size, bytes, calls;
        int64_t fail_from; /* a read at or past this offset fails (-1: none) */
        int64_t lie_at;    /* a read over this offset gives it flipped (0: never) */
};

static ssize_t serve(void *ud, void *buf, size_t n, int64_t off)
{
        struct served *s = ud;
        s->calls++;
        if (n > MEDIA_RANGE_MAX || off < 0 || (size_t)off + n > s->size)
                return -EINVAL; /* asked for what the recording does not hold */
        if (s->fail_from >= 0 && off + (int64_t)n > s->fail_from)
                return -EIO;
        memcpy(buf, s->data + off, n);
        if (s->lie_at > 0 && off <= s->lie_at && s->lie_at < off + (int64_t)n)
                ((unsigned char *)buf)[s->lie_at - off] ^= 0x01;
        s->bytes += n;
        return (ssize_t)n;
}

/* A 10 s H.264 clip in a directory of its own, its bytes in memory, and the
 * real helper beside the test binary: the fixture of the stream tests. */
struct clip {
        char dir[64], path[300], helper[PATH_MAX + 16];
        unsigned char *data;
        size_t size;
};

static int clip_setup(void **state)
{
        struct clip *c = calloc(1, sizeof(*c));
        char cmd[1200];
        snprintf(c->dir, sizeof(c->dir), "/tmp/dockd-unit-media-XXXXXX");
        assert_non_null(mkdtemp(c->dir));
        snprintf(c->path, sizeof(c->path), "%s/clip.mp4", c->dir);
        snprintf(cmd, sizeof(cmd),
                 "ffmpeg -nostdin -hide_banner -loglevel error -y -f lavfi -i testsrc=duration=10:size=640x480:rate=25"
                 " -c:v libx264 -preset ultrafast -pix_fmt yuv420p -metadata creation_time=2026-11-25T08:00:00Z '%s'",
                 c->path);
        assert_int_equal(system(cmd), 0); /* its index (moov) after the frames, as a recorder writes it */
        FILE *f = fopen(c->path, "rb");
        assert_non_null(f);
        fseek(f, 0, SEEK_END);
        c->size = (size_t)ftell(f);
        rewind(f);
        c->data = malloc(c->size);
        assert_int_equal(fread(c->data, 1, c->size, f), c->size);
        fclose(f);
        real_helper(c->helper, sizeof(c->helper));
        *state = c;
        return 0;
}

static int clip_teardown(void **state)
{
        struct clip *c = *state;
        char cmd[200];
        unlink(c->helper);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
        int rc = system(cmd);
        free(c->data);
        free(c);
        return rc;
}

/* A recording probed by ranges (an S3-only station's device) tells what the
 * same bytes as a file tell, reading a part of them; a source that fails
 * mid-way leaves the footage flagged, not dockd waiting. */
static void test_stream_probe_as_file(void **state)
{
        const struct clip *c = *state;
        const unsigned char *data = c->data;
        size_t size = c->size;
        struct media_info file, stream, broken;
        media_probe(c->path, &file);
        struct served s = { .data = data, .size = size, .fail_from = -1 };
        media_probe_stream((int64_t)size, serve, &s, &stream);
        assert_true(file.has_creation);
        assert_true(stream.has_creation);
        assert_int_equal(stream.creation, file.creation);
        assert_true(stream.duration_s == file.duration_s);
        assert_string_equal(stream.codec, "h264");
        assert_int_equal(stream.width, 640);
        assert_int_equal(stream.height, 480);
        assert_string_equal(stream.flag, file.flag);
        assert_true(s.calls > 0);
        assert_true(s.bytes < size); /* not the whole recording */

        struct served bad = { .data = data, .size = size, .fail_from = 4096 };
        media_probe_stream((int64_t)size, serve, &bad, &broken);
        assert_false(broken.has_creation);
        assert_string_equal(broken.flag, "unplayable");
}

/* On an S3-only station the probe reads the device by ranges before the pass
 * that hashes it. A device that gives the probe other bytes than it gives
 * that pass (here: one bit of the first range) must not have its facts used. */
static int64_t probe_then_pass(const unsigned char *data, size_t size, int64_t lie_at, struct media_info *m)
{
        struct served s = { .data = data, .size = size, .fail_from = -1, .lie_at = lie_at };
        struct media_ranges *l = media_ranges_new(serve, &s);
        media_probe_stream((int64_t)size, media_ranges_serve, l, m);
        assert_true(s.calls > 0);
        for (size_t off = 0; off < size; off += 65543) /* the hashed pass, in chunks across the ranges */
                media_ranges_pass(l, (int64_t)off, data + off, size - off < 65543 ? size - off : 65543);
        int64_t bad = -1;
        if (media_ranges_verdict(l, &bad) < 0)
                media_distrust(m, bad);
        media_ranges_free(l);
        return bad;
}

static void test_probe_ranges_checked_against_the_hash(void **state)
{
        const struct clip *c = *state;
        const unsigned char *data = c->data;
        size_t size = c->size;
        struct media_info honest, lied;
        assert_int_equal(probe_then_pass(data, size, 0, &honest), -1);
        assert_true(honest.has_creation);
        assert_string_equal(honest.codec, "h264");
        assert_string_equal(honest.flag, "");

        assert_int_equal(probe_then_pass(data, size, 9, &lied), 0); /* inside 'ftyp', which every probe reads */
        assert_false(lied.has_creation);
        assert_true(lied.duration_s < 0);
        assert_string_equal(lied.codec, "");
        assert_string_equal(lied.flag, "unverified");
        assert_non_null(strstr(lied.error, "other bytes at offset 0"));

        /* A pass that skips bytes of a range cannot vouch for it. */
        struct served s = { .data = data, .size = size, .fail_from = -1 };
        struct media_ranges *l = media_ranges_new(serve, &s);
        struct media_info m;
        media_probe_stream((int64_t)size, media_ranges_serve, l, &m);
        media_ranges_pass(l, 0, data, 4);
        media_ranges_pass(l, 8, data + 8, size - 8);
        int64_t bad = -1;
        assert_int_equal(media_ranges_verdict(l, &bad), -EBADMSG);
        assert_int_equal(bad, 0);
        media_ranges_free(l);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_answer_round_trips),
                cmocka_unit_test(test_nonsense_is_refused),
                cmocka_unit_test(test_crashing_helper_flags_unplayable),
#ifdef DOCKD_TEST_HOOKS
                cmocka_unit_test(test_served_probe_killed_flags_unplayable),
                cmocka_unit_test(test_served_probe_hung_flags_unplayable),
#endif
                cmocka_unit_test_setup_teardown(test_stream_probe_as_file, clip_setup, clip_teardown),
                cmocka_unit_test_setup_teardown(test_probe_ranges_checked_against_the_hash, clip_setup, clip_teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
