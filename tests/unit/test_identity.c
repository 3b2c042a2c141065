/* Who a recorder is, from what it says: its USB serial string descriptor
 * decoded (UTF-16LE, surrogate pairs, hostile lengths), and a serial made
 * safe for file names without making two recorders one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "identity.h"

/* desc: a string descriptor of the UTF-16 code units given (bLength right). */
static size_t descriptor(unsigned char *desc, const uint16_t *units, size_t n)
{
        desc[0] = (unsigned char)(2 + 2 * n), desc[1] = 3;
        for (size_t i = 0; i < n; i++)
                desc[2 + 2 * i] = (unsigned char)(units[i] & 0xff), desc[3 + 2 * i] = (unsigned char)(units[i] >> 8);
        return 2 + 2 * n;
}

static void test_serials_as_devices_send_them(void **state)
{
        unsigned char d[256];
        char out[160];
        static const uint16_t ascii[] = { 'C', 'A', 'M', '-', '0', '0', '4', '2' };
        assert_int_equal(identity_usb_string(d, descriptor(d, ascii, 8), out, sizeof(out)), 0);
        assert_string_equal(out, "CAM-0042");
        /* 执法记录仪01: UTF-8 as udev and the kernel's sysfs give it */
        static const uint16_t zh[] = { 0x6267, 0x6cd5, 0x8bb0, 0x5f55, 0x4eea, '0', '1' };
        assert_int_equal(identity_usb_string(d, descriptor(d, zh, 7), out, sizeof(out)), 0);
        assert_string_equal(out, "执法记录仪01");
        /* a character beyond the BMP, as a surrogate pair: U+1F4F7 */
        static const uint16_t pair[] = { 'A', 0xd83d, 0xdcf7, 'B' };
        assert_int_equal(identity_usb_string(d, descriptor(d, pair, 4), out, sizeof(out)), 0);
        assert_string_equal(out, "A\xf0\x9f\x93\xb7"
                                 "B");
}

static void test_hostile_descriptors(void **state)
{
        unsigned char d[256];
        char out[160];
        /* lone surrogates and U+0000 are not dropped (that would make two
         * serials one) but shown as U+FFFD */
        static const uint16_t lone[] = { 0xdc00, 'X', 0xd800, 0, 0xd801 };
        assert_int_equal(identity_usb_string(d, descriptor(d, lone, 5), out, sizeof(out)), 0);
        assert_string_equal(out, "\xef\xbf\xbdX\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
        /* bLength past what was received, another type, too short */
        static const uint16_t ab[] = { 'A', 'B' };
        size_t n = descriptor(d, ab, 2);
        assert_int_equal(identity_usb_string(d, n - 1, out, sizeof(out)), -EINVAL);
        assert_string_equal(out, "");
        d[1] = 2;
        assert_int_equal(identity_usb_string(d, n, out, sizeof(out)), -EINVAL);
        d[1] = 3;
        assert_int_equal(identity_usb_string(d, 1, out, sizeof(out)), -EINVAL);
        /* an odd bLength: the last byte is half a code unit, ignored; bLength
         * under 2: no characters; more bytes received than bLength: ignored */
        d[0] = 5;
        assert_int_equal(identity_usb_string(d, n, out, sizeof(out)), 0);
        assert_string_equal(out, "A");
        d[0] = 0;
        assert_int_equal(identity_usb_string(d, n, out, sizeof(out)), 0);
        assert_string_equal(out, "");
        d[0] = 4;
        assert_int_equal(identity_usb_string(d, n, out, sizeof(out)), 0);
        assert_string_equal(out, "A");
        /* a small buffer ends at a whole character */
        static const uint16_t zh[] = { 0x6267, 0x6cd5 };
        assert_int_equal(identity_usb_string(d, descriptor(d, zh, 2), out, 6), 0);
        assert_string_equal(out, "执");
}

static void test_safe_serials(void **state)
{
        char out[32];
        identity_safe_serial(out, sizeof(out), "执法记录仪01");
        assert_string_equal(out, "执法记录仪01");
        identity_safe_serial(out, sizeof(out), "CAM-0042");
        assert_string_equal(out, "CAM-0042");
        /* what a path or a listing must not hold: each byte a '_' */
        identity_safe_serial(out, sizeof(out), "A B/C\n\x7f");
        assert_string_equal(out, "A_B_C__");
        /* not UTF-8: a stray byte, a cut sequence, an overlong '/', a
         * surrogate, a C1 control, past U+10FFFF */
        identity_safe_serial(out, sizeof(out), "\xff\xe6\x89");
        assert_string_equal(out, "___");
        identity_safe_serial(out, sizeof(out), "\xc0\xaf|\xed\xa0\x80|\xc2\x85|\xf4\x90\x80\x80");
        assert_string_equal(out, "__|___|__|____");
        /* a small buffer ends at a whole character */
        identity_safe_serial(out, 6, "执法记录仪");
        assert_string_equal(out, "执");
        identity_safe_serial(out, 1, "CAM");
        assert_string_equal(out, "");
}

/* A serial longer than the room for it keeps a digest of the whole: two
 * recorders whose serials differ only past the cut stay two devices. */
static void test_long_serials_stay_apart(void **state)
{
        (void)state;
        char a[200], b[200], oa[160], ob[160], ok[160];
        memset(a, 'A', sizeof(a) - 2);
        a[sizeof(a) - 2] = '1', a[sizeof(a) - 1] = '\0';
        memcpy(b, a, sizeof(b));
        b[sizeof(b) - 2] = '2';
        identity_safe_serial(oa, sizeof(oa), a);
        identity_safe_serial(ob, sizeof(ob), b);
        assert_int_equal(strlen(oa), sizeof(oa) - 1);
        assert_string_not_equal(oa, ob);
        /* the cut, then "~" and 16 hex digits of SHA-256("AAA...A1") */
        assert_memory_equal(oa, a, sizeof(oa) - 18);
        assert_int_equal(oa[sizeof(oa) - 18], '~');
        assert_int_equal(strspn(oa + sizeof(oa) - 17, "0123456789abcdef"), 16);
        /* the same serial always gives the same name */
        identity_safe_serial(ok, sizeof(ok), a);
        assert_string_equal(ok, oa);
        /* in Chinese (3 bytes a character), the cut falls between characters */
        char zh[61 * 3 + 1] = "";
        for (int i = 0; i < 61; i++)
                strcat(zh, i == 60 ? "二" : "执");
        identity_safe_serial(oa, sizeof(oa), zh);
        zh[60 * 3] = '\0';
        strcat(zh, "三");
        identity_safe_serial(ob, sizeof(ob), zh);
        assert_string_not_equal(oa, ob);
        char *tilde = strchr(oa, '~');
        assert_non_null(tilde);
        assert_int_equal((tilde - oa) % 3, 0);
        assert_true(strlen(oa) < sizeof(oa));
        /* one that fits is kept as it is, with no digest */
        identity_safe_serial(ok, sizeof(ok), "执法记录仪01");
        assert_string_equal(ok, "执法记录仪01");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_serials_as_devices_send_them),
                cmocka_unit_test(test_hostile_descriptors),
                cmocka_unit_test(test_safe_serials),
                cmocka_unit_test(test_long_serials_stay_apart),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
