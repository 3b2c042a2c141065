/* Catalog: migrations applied once and recorded, WAL and foreign keys on,
 * recordings identified by path+size+mtime, a known hash never replaced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "catalog.h"
#include "testutil.h"

struct fixture {
        char *dir;
        char db[4200];
        struct catalog *cat;
};

static int setup(void **state)
{
        struct fixture *f = calloc(1, sizeof(*f));
        char err[512];
        f->dir = scratch_dir();
        snprintf(f->db, sizeof(f->db), "%s/catalog.sqlite", f->dir);
        if (catalog_open(f->db, &f->cat, err, sizeof(err)) < 0)
                return -1;
        *state = f;
        return 0;
}

static int teardown(void **state)
{
        struct fixture *f = *state;
        catalog_close(f->cat);
        rm_rf(f->dir);
        free(f->dir);
        free(f);
        return 0;
}

static char *sql1(const char *db, const char *sql)
{
        char cmd[8500];
        snprintf(cmd, sizeof(cmd), "sqlite3 '%s' \"%s\"", db, sql);
        FILE *p = popen(cmd, "r");
        static char out[256];
        out[0] = '\0';
        if (fgets(out, sizeof(out), p))
                out[strcspn(out, "\n")] = '\0';
        pclose(p);
        return out;
}

/* Only a uniqueness conflict is "already registered": a value the schema
 * refuses (NOT NULL, CHECK) is named as what it is. */
static void test_constraint_kinds_told_apart(void **state)
{
        struct fixture *f = *state;
        char err[512] = "";
        assert_int_equal(catalog_officer_add(f->cat, "B1", "Bo", NULL, "t", err, sizeof(err)), 0);
        assert_int_equal(catalog_officer_add(f->cat, "B1", "Bo", NULL, "t", err, sizeof(err)), -EEXIST);
        assert_non_null(strstr(err, "already registered"));
        err[0] = '\0';
        assert_int_equal(catalog_officer_add(f->cat, "B2", NULL, NULL, "t", err, sizeof(err)), -EINVAL);
        assert_null(strstr(err, "already registered"));
        assert_non_null(strstr(err, "NOT NULL"));
        /* the first open tells what it applied; a later one has nothing to tell */
        assert_non_null(strstr(catalog_migrated(f->cat), "001_initial, 002_docking"));
        catalog_close(f->cat);
        assert_int_equal(catalog_open(f->db, &f->cat, err, sizeof(err)), 0);
        assert_string_equal(catalog_migrated(f->cat), "");
}

static void test_migrations_recorded_once_with_wal(void **state)
{
        struct fixture *f = *state;
        char err[512];
        assert_int_equal(catalog_schema_version(f->cat), (int)catalog_migrations[catalog_n_migrations - 1].version);
        catalog_close(f->cat);
        assert_int_equal(catalog_open(f->db, &f->cat, err, sizeof(err)), 0); /* reopen: nothing re-applied */
        char want[16];
        snprintf(want, sizeof(want), "%zu", catalog_n_migrations);
        assert_string_equal(sql1(f->db, "SELECT count(*) FROM schema_migrations"), want);
        assert_string_equal(sql1(f->db, "PRAGMA journal_mode"), "wal");
}

static void test_newer_schema_is_refused(void **state)
{
        struct fixture *f = *state;
        char err[512];
        catalog_close(f->cat);
        f->cat = NULL;
        sql1(f->db, "INSERT INTO schema_migrations VALUES (999, '999_future', 'x')");
        assert_true(catalog_open(f->db, &f->cat, err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "newer than this dockd knows"));
        assert_int_equal(catalog_open(":memory:", &f->cat, err, sizeof(err)), 0);
}

static void test_recording_identity_and_hash(void **state)
{
        struct fixture *f = *state;
        int64_t dev, sess, t;
        struct recording a, b, c;
        struct file_times ft = { "2026-11-25T08:00:00", "2026-11-25T08:00:00", "2026-11-25T00:00:00" };
        assert_int_equal(catalog_device_ensure(f->cat, "CAM1", &dev), 0);
        assert_int_equal(catalog_session_start(f->cat, dev, "/dev/sdb1", &sess), 0);
        struct recording_entry e = { .path = "/DCIM/a.mp4", .key = "0:d2:3:c10", .size = 100, .times = &ft };
        assert_int_equal(catalog_recording_get_or_add(f->cat, dev, &e, sess, &a), 0);
        assert_true(a.created);
        assert_int_equal(catalog_recording_get_or_add(f->cat, dev, &e, sess, &b), 0);
        assert_false(b.created);
        assert_int_equal(a.id, b.id);
        /* same name, new content (size differs): a different recording */
        e.size = 101;
        assert_int_equal(catalog_recording_get_or_add(f->cat, dev, &e, sess, &c), 0);
        assert_true(c.id != a.id);
        /* same name, size and time, another entry on disk (a corrupt card's
         * duplicate): a different recording, never merged */
        struct recording d, legacy, adopted;
        e.size = 100;
        e.key = "0:d2:4:c99";
        assert_int_equal(catalog_recording_get_or_add(f->cat, dev, &e, sess, &d), 0);
        assert_true(d.created && d.id != a.id);
        /* a row from before keys is found by path, size and time once, and takes the key */
        struct recording_entry old = { .path = "/DCIM/old.mp4", .key = NULL, .size = 5, .times = &ft };
        assert_int_equal(catalog_recording_get_or_add(f->cat, dev, &old, sess, &legacy), 0);
        old.key = "0:d2:9:c50";
        assert_int_equal(catalog_recording_get_or_add(f->cat, dev, &old, sess, &adopted), 0);
        assert_false(adopted.created);
        assert_int_equal(adopted.id, legacy.id);
        const char *h1 = "1111111111111111111111111111111111111111111111111111111111111111";
        const char *h2 = "2222222222222222222222222222222222222222222222222222222222222222";
        assert_int_equal(catalog_recording_set_sha256(f->cat, a.id, h1), 0);
        assert_int_equal(catalog_recording_set_sha256(f->cat, a.id, h2), -EEXIST);
        assert_int_equal(catalog_target_ensure(f->cat, "a", "fs", "/t/a", &t), 0);
        assert_int_equal(catalog_copy_add(f->cat, a.id, t, "x.mp4", "o_direct", sess), 0);
        /* one copy per recording and target; one recording per target path */
        assert_true(catalog_copy_add(f->cat, a.id, t, "y.mp4", "o_direct", sess) < 0);
        assert_true(catalog_copy_add(f->cat, c.id, t, "x.mp4", "o_direct", sess) < 0);
        /* foreign keys are enforced */
        assert_true(catalog_copy_add(f->cat, 9999, t, "z.mp4", "o_direct", sess) < 0);
}

static void test_stale_sessions_become_interrupted(void **state)
{
        struct fixture *f = *state;
        int64_t dev, sess;
        int n = 0;
        assert_int_equal(catalog_device_ensure(f->cat, "CAM2", &dev), 0);
        assert_int_equal(catalog_session_start(f->cat, dev, "img", &sess), 0);
        assert_int_equal(catalog_sessions_mark_interrupted(f->cat, dev, &n), 0);
        assert_int_equal(n, 1);
        assert_string_equal(sql1(f->db, "SELECT state FROM dock_sessions"), "interrupted");
}

static void test_device_identity_is_never_merged(void **state)
{
        struct fixture *f = *state;
        int64_t a, b, c;
        bool collision;
        assert_int_equal(catalog_device_register(f->cat, "SN1", "Acme", "Cam", "f055", "d0c0", "", &a, &collision), 0);
        assert_false(collision);
        assert_int_equal(catalog_device_register(f->cat, "SN1", "Acme", "Cam", "f055", "d0c0", "", &b, &collision), 0);
        assert_false(collision);
        assert_int_equal(a, b);
        /* the same serial on another kind of device: a collision, nothing changed */
        assert_int_equal(catalog_device_register(f->cat, "SN1", "Other", "X", "1234", "5678", "", &c, &collision), 0);
        assert_true(collision);
        assert_string_equal(sql1(f->db, "SELECT vendor_id || ':' || product_id FROM devices WHERE serial = 'SN1'"),
                            "f055:d0c0");
        /* a device first seen by `dockctl ingest` learns its USB ids once */
        assert_int_equal(catalog_device_ensure(f->cat, "SN2", &a), 0);
        assert_int_equal(catalog_device_register(f->cat, "SN2", "Acme", "Cam", "f055", "d0c0", "", &b, &collision), 0);
        assert_false(collision);
        assert_int_equal(a, b);
        assert_string_equal(sql1(f->db, "SELECT vendor_id FROM devices WHERE serial = 'SN2'"), "f055");
        assert_int_equal(
                catalog_device_register(f->cat, "NOSERIAL-1", "", "", "f055", "d0c0", "serial-missing", &c, &collision),
                0);
        assert_string_equal(sql1(f->db, "SELECT identity_flag FROM devices WHERE serial = 'NOSERIAL-1'"),
                            "serial-missing");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_migrations_recorded_once_with_wal, setup, teardown),
                cmocka_unit_test_setup_teardown(test_constraint_kinds_told_apart, setup, teardown),
                cmocka_unit_test_setup_teardown(test_newer_schema_is_refused, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recording_identity_and_hash, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stale_sessions_become_interrupted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_device_identity_is_never_merged, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
