/* Targets: human-browsable, collision-safe layout; placement never overwrites;
 * a target that is not the filesystem dockd initialised is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <sys/stat.h>

#include "catalog.h"
#include "station.h"
#include "target.h"
#include "testutil.h"

#define T_2026_11_25_0800 1795593600 /* 2026-11-25T08:00:00 */

static void test_layout_is_date_serial_then_device_path(void **state)
{
        char *p = target_layout_relpath("CAM-001", T_2026_11_25_0800, "/DCIM/100MEDIA/clip 1.mp4", 0);
        assert_string_equal(p, "2026/11/25/CAM-001/DCIM/100MEDIA/clip 1.mp4");
        free(p);
        p = target_layout_relpath("CAM-001", T_2026_11_25_0800, "/DCIM/clip.mp4", 2);
        assert_string_equal(p, "2026/11/25/CAM-001/DCIM/clip ~3.mp4");
        free(p);
}

static void test_layout_neutralises_hostile_names(void **state)
{
        char *p = target_layout_relpath("../../etc", 0, "/../x\n\x01y.mp4", 0);
        assert_string_equal(p, "undated/.._.._etc/_/x__y.mp4");
        free(p);
}

static void test_layout_cuts_long_utf8_names_on_a_boundary_keeping_extension(void **state)
{
        char name[1024] = "/";
        for (int i = 0; i < 130; i++)
                strcat(name, "ü"); /* 260 bytes of two-byte characters: over NAME_MAX */
        strcat(name, ".mp4");
        char *p = target_layout_relpath("S", T_2026_11_25_0800, name, 5);
        const char *base = strrchr(p, '/') + 1;
        assert_true(strlen(base) <= 255);
        assert_true(strlen(base) >= 250); /* cut only as much as needed */
        assert_non_null(strstr(base, " ~6.mp4"));
        /* every byte before the suffix is whole two-byte characters */
        size_t stem = strstr(base, " ~6.mp4") - base;
        assert_int_equal(stem % 2, 0);
        for (size_t i = 0; i < stem; i += 2)
                assert_memory_equal(base + i, "ü", 2);
        free(p);
}

static void test_place_never_overwrites(void **state)
{
        char *dir = scratch_dir();
        char path[4200];
        struct target t = { .name = "a", .root = dir };
        char partial_dir[4200];
        snprintf(partial_dir, sizeof(partial_dir), "%s/.partial", dir);
        mkdir(partial_dir, 0700);
        t.partial_dir = partial_dir;
        snprintf(path, sizeof(path), "%s/.partial/rec-1.part", dir);
        write_file(path, "new");
        char existing[4200];
        snprintf(existing, sizeof(existing), "%s/2026/11/25/S", dir);
        char cmd[8500];
        snprintf(cmd, sizeof(cmd), "mkdir -p '%s' && printf old > '%s/x.mp4'", existing, existing);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(target_place(&t, path, "2026/11/25/S/x.mp4"), -EEXIST);
        snprintf(cmd, sizeof(cmd), "grep -qx old '%s/x.mp4'", existing);
        assert_int_equal(system(cmd), 0);
        assert_int_equal(target_place(&t, path, "2026/11/25/S/y.mp4"), 0);
        snprintf(cmd, sizeof(cmd), "grep -qx new '%s/y.mp4' && test ! -e '%s'", existing, path);
        assert_int_equal(system(cmd), 0);
        rm_rf(dir);
        free(dir);
}

static void test_target_without_marker_but_with_copies_is_refused(void **state)
{
        char *dir = scratch_dir();
        char db[4200], tdir[4200], err[512];
        snprintf(db, sizeof(db), "%s/catalog.sqlite", dir);
        snprintf(tdir, sizeof(tdir), "%s/t", dir);
        struct catalog *cat;
        assert_int_equal(catalog_open(db, &cat, err, sizeof(err)), 0);
        struct target_conf tc = { .name = "a", .path = tdir, .create = false };
        struct target t;
        /* configured target that does not exist: refused, not created */
        assert_true(station_target_open(&t, &tc, cat, err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "No such file"));
        tc.create = true;
        assert_int_equal(station_target_open(&t, &tc, cat, err, sizeof(err)), 0);
        /* a copy recorded there, then the marker vanishes (an unmounted disk) */
        int64_t dev, sess;
        struct recording rec;
        struct file_times ft = { "2026-11-25T08:00:00", "", "" };
        assert_int_equal(catalog_device_ensure(cat, "S", &dev), 0);
        assert_int_equal(catalog_session_start(cat, dev, "img", &sess), 0);
        struct recording_entry e = { .path = "/x", .key = "k", .size = 1, .times = &ft };
        assert_int_equal(catalog_recording_get_or_add(cat, dev, &e, sess, &rec), 0);
        assert_int_equal(catalog_copy_add(cat, rec.id, t.id, "x", "o_direct", sess), 0);
        target_close(&t);
        char marker[4300];
        snprintf(marker, sizeof(marker), "%s/.dockd-target", tdir);
        assert_int_equal(unlink(marker), 0);
        assert_true(station_target_open(&t, &tc, cat, err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "is its filesystem mounted?"));
        /* a marker of another target is refused too */
        write_file(marker, "dockd storage target\nname=b\n");
        assert_true(station_target_open(&t, &tc, cat, err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "belongs to target 'b'"));
        catalog_close(cat);
        rm_rf(dir);
        free(dir);
}

static void test_layout_keeps_a_255_byte_name_whole(void **state)
{
        char name[300] = "/";
        for (int i = 0; i < 125; i++)
                strcat(name, "ü");
        strcat(name, "x.mp4"); /* 255 bytes */
        char *p = target_layout_relpath("S", T_2026_11_25_0800, name, 0);
        assert_string_equal(strrchr(p, '/'), name);
        free(p);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_layout_is_date_serial_then_device_path),
                cmocka_unit_test(test_layout_neutralises_hostile_names),
                cmocka_unit_test(test_layout_cuts_long_utf8_names_on_a_boundary_keeping_extension),
                cmocka_unit_test(test_layout_keeps_a_255_byte_name_whole),
                cmocka_unit_test(test_place_never_overwrites),
                cmocka_unit_test(test_target_without_marker_but_with_copies_is_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
