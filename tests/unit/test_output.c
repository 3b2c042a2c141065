/* Listings: CSV cells safe for spreadsheets, JSON strings escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <locale.h>
#include <stdlib.h>

#include "output.h"
#include "util.h"

static char *render(void (*fn)(FILE *, const char *), const char *in)
{
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);
        fn(f, in);
        fclose(f);
        return buf;
}

static void check(void (*fn)(FILE *, const char *), const char *in, const char *want)
{
        char *got = render(fn, in);
        assert_string_equal(got, want);
        free(got);
}

static void test_csv_defuses_formulas(void **state)
{
        check(csv_cell, "=HYPERLINK(\"http://x\")", "\"'=HYPERLINK(\"\"http://x\"\")\"");
        check(csv_cell, "+1", "\"'+1\"");
        check(csv_cell, "@SUM(A1)", "\"'@SUM(A1)\"");
        check(csv_cell, "-2", "\"'-2\"");
}

static void test_csv_quotes_rfc4180(void **state)
{
        check(csv_cell, "plain.mp4", "plain.mp4");
        check(csv_cell, "a,b", "\"a,b\"");
        check(csv_cell, "say \"hi\"", "\"say \"\"hi\"\"\"");
        check(csv_cell, "two\nlines", "\"two\nlines\"");
        check(csv_cell, NULL, "");
}

static void test_json_escapes(void **state)
{
        check(json_str, "a\"b\\c\n\x01", "\"a\\\"b\\\\c\\n\\u0001\"");
        check(json_str, "Straße ü", "\"Straße ü\"");
        check(json_str, NULL, "null");
}

/* Invalid UTF-8 (a GBK name, a stray byte, an overlong form, a surrogate)
 * never makes invalid JSON: each such byte is the text \xHH. */
static void test_json_never_invalid_utf8(void **state)
{
        check(json_str, "\xd5\xc5\xc8\xfd", "\"\\\\xD5\\\\xC5\\\\xC8\\\\xFD\""); /* 张三 in GBK */
        check(json_str, "ok\xff!", "\"ok\\\\xFF!\"");
        check(json_str, "\xc0\xaf", "\"\\\\xC0\\\\xAF\"");            /* overlong '/' */
        check(json_str, "\xed\xa0\x80", "\"\\\\xED\\\\xA0\\\\x80\""); /* a surrogate */
        check(json_str, "张三 \xe2\x80\xa8", "\"张三 \\u2028\"");
        check(json_str, "\xe5\xbc", "\"\\\\xE5\\\\xBC\""); /* cut short */
}

static void test_text_escape_never_prints_control_characters(void **state)
{
        char out[128];
        assert_string_equal(text_escape("a\nb\x1b[2Jc\t", out, sizeof(out)), "a\\x0Ab\\x1B[2Jc\\x09");
        assert_string_equal(text_escape("\xff\xc3(", out, sizeof(out)), "\\xFF\\xC3("); /* not UTF-8 */
        assert_string_equal(text_escape("\xc2\x85 \xe2\x80\xa8", out, sizeof(out)), "\\u0085 \\u2028");
        assert_string_equal(text_escape("录像 ok", out, sizeof(out)), "录像 ok");
        assert_string_equal(text_escape(NULL, out, sizeof(out)), "");
        assert_string_equal(text_escape("\n\n\n", out, 9), "\\x0A\\x0A"); /* cut on a whole escape */
}

/* A name from a device on a terminal: escaped, padded by display width, cut
 * on a character (the dock status table). */
static void test_columns(void **state)
{
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);
        fput_cols(f, "CAM\x1b[2J", 12, true);
        fputc('|', f);
        fput_cols(f, "张三", 6, false);
        fputc('|', f);
        fput_cols(f, "张三丰张三丰", 5, true);
        fputc('|', f);
        fclose(f);
        assert_string_equal(buf, "CAM\\x1B[2J  |张三  |张三 |");
        free(buf);
}

int main(void)
{
        setlocale(LC_CTYPE, "C.UTF-8"); /* as dockd and dockctl run */
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_text_escape_never_prints_control_characters),
                cmocka_unit_test(test_csv_defuses_formulas),
                cmocka_unit_test(test_csv_quotes_rfc4180),
                cmocka_unit_test(test_json_escapes),
                cmocka_unit_test(test_json_never_invalid_utf8),
                cmocka_unit_test(test_columns),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
