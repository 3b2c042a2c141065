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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_answer_round_trips),
                cmocka_unit_test(test_nonsense_is_refused),
                cmocka_unit_test(test_crashing_helper_flags_unplayable),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
