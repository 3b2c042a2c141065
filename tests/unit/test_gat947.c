/* The 行标 protocol of the JieLi family (gat947.c): the CDBs dockd builds,
 * the whitelist every CDB passes, and ZFY_INFO as the devices send it. */
#include <setjmp.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gat947.h"

static void test_cdbs_are_the_documented_layout(void **state)
{
        uint8_t cdb[GAT947_CDB_LEN];
        size_t len;
        bool in;
        assert_int_equal(gat947_cdb(GAT947_GET_DEV_INFO, 89, cdb, &len, &in), 0);
        const uint8_t want[GAT947_CDB_LEN] = { 0xfd, 0x81, 0, 0, 0, 3, 0, 89 };
        assert_memory_equal(cdb, want, sizeof(want));
        assert_int_equal(len, 89);
        assert_true(in);
        assert_int_equal(gat947_cdb(GAT947_SET_MSDC, 0, cdb, &len, &in), 0);
        const uint8_t msdc[GAT947_CDB_LEN] = { 0xfb, 0x82, 0, 0, 0, 6, 0, 0 };
        assert_memory_equal(cdb, msdc, sizeof(msdc));
        assert_false(in);
        assert_int_equal(gat947_cdb(GAT947_SYNC_DEV_TIME, 0, cdb, &len, &in), 0);
        assert_int_equal(len, 7);
        assert_int_equal(cdb[7], 7);
        /* what dockd never sends has no CDB: write info, password, ID code */
        for (unsigned c = 0; c < 256; c++) {
                bool sent = c == 1 || c == 2 || c == 3 || c == 5 || c == 6 || c == 8 || c == 12 || c == 13 || c == 14;
                int r = gat947_cdb((enum gat947_cmd)c, 89, cdb, &len, &in);
                if ((r == 0) != sent)
                        fail_msg("command %u: gat947_cdb says %d", c, r);
        }
        assert_int_equal(gat947_cdb(GAT947_GET_DEV_INFO, 90, cdb, &len, &in), -EINVAL);
}

static void test_whitelist_refuses_all_else(void **state)
{
        uint8_t cdb[GAT947_CDB_LEN];
        size_t len;
        bool in;
        gat947_cdb(GAT947_GET_ID_CODE, 0, cdb, &len, &in);
        assert_true(gat947_cdb_allowed(cdb, sizeof(cdb), len, in));
        assert_false(gat947_cdb_allowed(cdb, sizeof(cdb), len + 1, in)); /* the length is the command's */
        assert_false(gat947_cdb_allowed(cdb, sizeof(cdb), len, !in));
        cdb[12] = 1; /* anything past the length */
        assert_false(gat947_cdb_allowed(cdb, sizeof(cdb), len, in));
        /* the loader's flash commands share the opcode: FB 00/01/02/04 erase and write */
        for (uint8_t sub = 0; sub < 8; sub++) {
                uint8_t loader[GAT947_CDB_LEN] = { 0xfb, sub, 0, 0, 0, 0, 0, 0 };
                assert_false(gat947_cdb_allowed(loader, sizeof(loader), 0, false));
        }
        /* of the 16-byte CDBs around FB/FD, the only ones allowed are the
         * nine, with zeros where the protocol has none */
        static const uint8_t ops[] = { 0x00, 0x12, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff };
        size_t allowed = 0;
        for (size_t o = 0; o < sizeof(ops); o++)
                for (unsigned sub = 0; sub < 256; sub++)
                        for (unsigned c = 0; c < 16; c++) {
                                uint8_t x[GAT947_CDB_LEN] = { ops[o], (uint8_t)sub, 0, 0, 0, (uint8_t)c };
                                for (size_t l = 0; l <= 94; l++) {
                                        x[7] = (uint8_t)l;
                                        allowed += gat947_cdb_allowed(x, sizeof(x), l, true) +
                                                   gat947_cdb_allowed(x, sizeof(x), l, false);
                                }
                        }
        assert_int_equal(allowed, 10); /* 9 commands, GET_DEV_INFO at 89 and 94 */
        uint8_t inq[GAT947_INQUIRY_CDB_LEN];
        gat947_inquiry_cdb(inq);
        assert_true(gat947_cdb_allowed(inq, sizeof(inq), GAT947_INQUIRY_LEN, true));
        inq[1] = 1; /* EVPD pages are not asked */
        assert_false(gat947_cdb_allowed(inq, sizeof(inq), GAT947_INQUIRY_LEN, true));
}

static void put(uint8_t *p, const char *s, size_t n) { memcpy(p, s, strlen(s) < n ? strlen(s) : n); }

static void test_zfy_info_both_layouts_gbk(void **state)
{
        uint8_t b[94] = { 0 };
        struct gat947_info gi;
        char why[200];
        /* 89: 7/6/32/12/32, no terminators; 张三 and 城关派出所 in GBK */
        put(b, "A123456", 7);
        put(b + 7, "012345", 6);
        put(b + 13, "\xd5\xc5\xc8\xfd", 32);
        put(b + 45, "330100000001", 12);
        put(b + 57, "\xb3\xc7\xb9\xd8\xc5\xc9\xb3\xf6\xcb\xf9   ", 32);
        assert_int_equal(gat947_info_parse(b, 89, 89, &gi, why, sizeof(why)), 0);
        assert_string_equal(gi.serial, "A123456");
        assert_string_equal(gi.badge, "012345");
        assert_string_equal(gi.name, "张三");
        assert_string_equal(gi.unit_no, "330100000001");
        assert_string_equal(gi.unit_name, "城关派出所");
        /* the same fields in 94's places (8/7/33/13/33, NUL-terminated) */
        memset(b, 0, sizeof(b));
        put(b, "A123456", 8);
        put(b + 8, "012345", 7);
        put(b + 15, "\xd5\xc5\xc8\xfd", 33);
        assert_int_equal(gat947_info_parse(b, 94, 94, &gi, why, sizeof(why)), 0);
        assert_string_equal(gi.serial, "A123456");
        assert_string_equal(gi.name, "张三");
        /* a wrong length, an empty serial, a bad serial byte, broken GBK */
        assert_int_equal(gat947_info_parse(b, 93, 94, &gi, why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "93 bytes, not the 94"));
        memset(b, 0, sizeof(b));
        assert_int_equal(gat947_info_parse(b, 89, 89, &gi, why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "serial is empty"));
        put(b, "A1/3456", 7);
        assert_int_equal(gat947_info_parse(b, 89, 89, &gi, why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "serial holds byte 0x2f"));
        put(b, "A123456", 7);
        put(b + 13, "\xd5", 32); /* half a character */
        assert_int_equal(gat947_info_parse(b, 89, 89, &gi, why, sizeof(why)), -EINVAL);
        assert_non_null(strstr(why, "officer name is not valid GBK"));
}

static void test_inquiry_and_loader(void **state)
{
        uint8_t b[36] = { 0 };
        char v[9], p[17];
        memcpy(b + 8, "JL      ", 8);
        memcpy(b + 16, "UBOOT1.00       ", 16);
        assert_true(gat947_inquiry_parse(b, 36, v, p));
        assert_string_equal(v, "JL");
        assert_string_equal(p, "UBOOT1.00");
        assert_true(gat947_is_loader(p));
        assert_false(gat947_is_loader("DV16 DEVICE V1.0"));
        assert_false(gat947_inquiry_parse(b, 20, v, p));
}

static void test_time_is_little_endian_local(void **state)
{
        struct tm tm = { .tm_year = 2026 - 1900, .tm_mon = 11, .tm_mday = 5, .tm_hour = 18, .tm_min = 7, .tm_sec = 9 };
        uint8_t t[GAT947_TIME_LEN];
        gat947_time_encode(&tm, t);
        const uint8_t want[GAT947_TIME_LEN] = { 0xea, 0x07, 12, 5, 18, 7, 9 };
        assert_memory_equal(t, want, sizeof(want));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_cdbs_are_the_documented_layout),
                cmocka_unit_test(test_whitelist_refuses_all_else),
                cmocka_unit_test(test_zfy_info_both_layouts_gbk),
                cmocka_unit_test(test_inquiry_and_loader),
                cmocka_unit_test(test_time_is_little_endian_local),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
