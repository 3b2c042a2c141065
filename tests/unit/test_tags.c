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
        assert_false(name_pattern_match(P, "/DCIM/CAM-1_A100_2026112409000_0042.MP4", &t));     /* 13 digits */
        assert_false(name_pattern_match(P, "/DCIM/CAM 1_A100_20261124090000_0042.MP4", &t));    /* space in serial */
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

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vendor_name),
                cmocka_unit_test(test_names_that_do_not_fit),
                cmocka_unit_test(test_pattern_errors),
                cmocka_unit_test(test_many_stars_against_a_hostile_name),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
