/* ASC MHL receipts (mhl.c): the C4 ID the chain file records, against the
 * reference values of the C4 ID standard (SMPTE ST 2114). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <string.h>
#include <cmocka.h>

#include "mhl.h"

static void test_c4_reference_values(void **state)
{
        char c4[91];
        mhl_c4("", 0, c4);
        assert_string_equal(
                c4, "c459dsjfscH38cYeXXYogktxf4Cd9ibshE3BHUo6a58hBXmRQdZrAkZzsWcbWtDg5oQstpDuni4Hirj75GEmTc1sFT");
        mhl_c4("hello", 5, c4);
        assert_string_equal(
                c4, "c447Fm3BJZQ62765jMZJH4m28hrDM7Szbj9CUmj4F4gnvyDYXYz4WfnK2nYRhFvRgYEectEXYBYWLDpLo6XGNAfKdt");
        assert_int_equal(strlen(c4), 90);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_c4_reference_values),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
