/* Tags from file names: the pattern language, and a hostile name against a
 * pattern of many {*} (exponential backtracking before; found by fuzzing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <time.h>

#include "tags.h"

static const char *P = "{serial}_{officer}_{YYYY}{MM}{DD}{hh}{mm}{ss}_{seq}";

static void test_vendor_name(void **state)
{
        struct name_tags t;
        assert_true(name_pattern_match(P, "/DCIM/CAM-1_A100_20261124090000_0042.MP4", &t));
        assert_string_equal(t.serial, "CAM-1");
        assert_string_equal(t.officer, "A100");
        assert_true(t.has_time);
        struct tm tm = { .tm_year = 126, .tm_mon = 10, .tm_mday = 24, .tm_hour = 9 };
        assert_int_equal(t.time, timegm(&tm));
        assert_true(t.has_seq);
        assert_int_equal(t.seq, 42);
}

static void test_names_that_do_not_fit(void **state)
{
        struct name_tags t;
        assert_false(name_pattern_match(P, "/DCIM/VID_0001.MP4", &t));
        assert_false(name_pattern_match(P, "/DCIM/CAM-1_A100_2026112409000_0042.MP4", &t));  /* 13 digits */
        assert_false(name_pattern_match(P, "/DCIM/CAM 1_A100_20261124090000_0042.MP4", &t)); /* space in serial */
        assert_false(name_pattern_match(NULL, "/DCIM/x.MP4", &t));
        /* a time that is not a time is not taken */
        assert_true(name_pattern_match(P, "/DCIM/CAM-1_A100_20261399990000_0042.MP4", &t));
        assert_false(t.has_time);
}

static void test_pattern_errors(void **state)
{
        char err[200];
        assert_int_equal(name_pattern_check(P, err, sizeof(err)), 0);
        assert_true(name_pattern_check("{serial}_{badge}", err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "{badge}"));
        char long_pattern[400];
        memset(long_pattern, 'x', sizeof(long_pattern) - 1);
        long_pattern[sizeof(long_pattern) - 1] = '\0';
        assert_true(name_pattern_check(long_pattern, err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "longer than"));
}

static void test_many_stars_against_a_hostile_name(void **state)
{
        /* 40 {*} then a character the name never has: every way of splitting
         * the name fails; without memoisation that is C(295, 40) tries. */
        char pattern[200] = "", name[256];
        for (int i = 0; i < 40; i++)
                strcat(pattern, "{*}");
        strcat(pattern, "Z");
        memset(name, 'a', 255);
        name[255] = '\0';
        struct name_tags t;
        assert_int_equal(name_pattern_check(pattern, name, sizeof(name)), 0);
        memset(name, 'a', 255);
        name[255] = '\0';
        assert_false(name_pattern_match(pattern, name, &t));
}

/* Times: footage first (if its clock was set), then the name, then the
 * file's mtime as the end; unknown duration ends where it starts; the clock
 * offset turns device time into UTC. */
static void test_times_policy(void **state)
{
        struct tag_times t;
        const int64_t T = 1764057600; /* 2025-11-25T08:00:00 */
        tags_times(&(struct tag_times_in){ .has_media_time = true,
                                           .media_time = T,
                                           .has_name_time = true,
                                           .name_time = T + 99,
                                           .mtime = T + 999,
                                           .duration_s = 59.6,
                                           .clock_offset_s = 300 },
                   &t);
        assert_string_equal(t.source, "media");
        assert_true(t.has_start && t.has_end);
        assert_int_equal(t.start_device, T);
        assert_int_equal(t.end_device, T + 60);
        assert_int_equal(t.start_utc, T - 300); /* the device ran 5 minutes fast */
        /* a 1970 media clock is unset: the name wins */
        tags_times(&(struct tag_times_in){ .has_media_time = true,
                                           .media_time = 0,
                                           .has_name_time = true,
                                           .name_time = T,
                                           .mtime = T + 999,
                                           .duration_s = -1 },
                   &t);
        assert_string_equal(t.source, "filename");
        assert_int_equal(t.end_device, T); /* unplayable: ends where it starts */
        /* nothing but the mtime: it is the end */
        tags_times(&(struct tag_times_in){ .mtime = T, .duration_s = 30 }, &t);
        assert_string_equal(t.source, "mtime");
        assert_int_equal(t.end_device, T);
        assert_int_equal(t.start_device, T - 30);
        tags_times(&(struct tag_times_in){ .mtime = T, .duration_s = -1 }, &t);
        assert_true(t.has_end && !t.has_start);
}

/* Attribution: the device's officer if the registry knows the badge, else
 * the assignment; disagreement and unknown badges are flagged, never guessed. */
static void test_attribution_policy(void **state)
{
        struct attribution a;
        tags_attribute(true, 7, 7, &a);
        assert_int_equal(a.officer_id, 7);
        assert_string_equal(a.source, "device");
        assert_null(a.flag);
        tags_attribute(true, 7, 9, &a);
        assert_int_equal(a.officer_id, 7);
        assert_string_equal(a.flag, "conflict");
        tags_attribute(false, 0, 9, &a);
        assert_int_equal(a.officer_id, 9);
        assert_string_equal(a.source, "assignment");
        assert_null(a.flag);
        tags_attribute(true, 0, 9, &a); /* a badge the registry does not know */
        assert_int_equal(a.officer_id, 9);
        assert_string_equal(a.source, "assignment");
        assert_string_equal(a.flag, "unknown-officer");
        tags_attribute(false, 0, 0, &a);
        assert_int_equal(a.officer_id, 0);
        assert_null(a.source);
        assert_null(a.flag);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vendor_name),    cmocka_unit_test(test_names_that_do_not_fit),
                cmocka_unit_test(test_pattern_errors), cmocka_unit_test(test_many_stars_against_a_hostile_name),
                cmocka_unit_test(test_times_policy),   cmocka_unit_test(test_attribution_policy),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
