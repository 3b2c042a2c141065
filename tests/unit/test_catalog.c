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

static void expect_counts(struct fixture *f, int64_t complete, int64_t interrupted, int64_t recordings,
                          int64_t under_copied, int64_t on_a, int64_t on_b)
{
        struct catalog_metrics m;
        char what[300];
        assert_int_equal(catalog_metrics_get(f->cat, 2, &m), 0);
        assert_int_equal(m.sessions[1], complete);
        assert_int_equal(m.sessions[3], interrupted);
        assert_int_equal(m.recordings, recordings);
        assert_int_equal(m.under_copied, under_copied);
        assert_int_equal(m.n_targets, 2);
        assert_int_equal(m.targets[0].copies, on_a);
        assert_int_equal(m.targets[1].copies, on_b);
        assert_int_equal(catalog_counts_check(f->cat, what, sizeof(what)), 0);
}

/* /metrics reads counts the catalog keeps as rows change; they equal the rows
 * counted whole through every change a station makes: a session ending or
 * interrupted, recordings and their copies, a destruction, a manifest
 * delivered. A count made to differ is found by the check. */
static void test_counts_kept_with_the_rows(void **state)
{
        struct fixture *f = *state;
        int64_t dev, s1, s2, ta, tb;
        struct recording r[3];
        char what[300];
        struct file_times ft = { "2026-11-25T08:00:00", "2026-11-25T08:00:00", "2026-11-25T00:00:00" };
        assert_int_equal(catalog_device_ensure(f->cat, "CAM3", &dev), 0);
        assert_int_equal(catalog_target_ensure(f->cat, "a", "fs", "/t/a", &ta), 0);
        assert_int_equal(catalog_target_ensure(f->cat, "b", "fs", "/t/b", &tb), 0);
        expect_counts(f, 0, 0, 0, 0, 0, 0);
        assert_int_equal(catalog_session_start(f->cat, dev, "img", &s1), 0);
        const char *keys[3] = { "0:d2:3:c10", "0:d2:4:c11", "0:d2:5:c12" };
        for (int i = 0; i < 3; i++) {
                char path[32];
                snprintf(path, sizeof(path), "/DCIM/%d.mp4", i);
                struct recording_entry e = { .path = path, .key = keys[i], .size = 100 + i, .times = &ft };
                assert_int_equal(catalog_recording_get_or_add(f->cat, dev, &e, s1, &r[i]), 0);
        }
        expect_counts(f, 0, 0, 3, 3, 0, 0);
        assert_int_equal(catalog_copy_add(f->cat, r[0].id, ta, "0.mp4", "o_direct", s1), 0);
        assert_int_equal(catalog_copy_add(f->cat, r[0].id, tb, "0.mp4", "o_direct", s1), 0);
        assert_int_equal(catalog_copy_add(f->cat, r[1].id, ta, "1.mp4", "o_direct", s1), 0);
        expect_counts(f, 0, 0, 3, 2, 2, 1);
        struct session_counts n = { .files_seen = 3, .files_copied = 1 };
        assert_int_equal(catalog_session_finish(f->cat, s1, "complete", &n, NULL), 0);
        assert_int_equal(catalog_session_start(f->cat, dev, "img", &s2), 0);
        int k = 0;
        assert_int_equal(catalog_sessions_mark_interrupted(f->cat, dev, &k), 0);
        expect_counts(f, 1, 1, 3, 2, 2, 1);
        /* a refused copy (the same target twice) leaves the counts as they were */
        assert_true(catalog_copy_add(f->cat, r[1].id, ta, "1b.mp4", "o_direct", s1) < 0);
        assert_int_equal(catalog_copy_add(f->cat, r[1].id, tb, "1.mp4", "o_direct", s1), 0);
        expect_counts(f, 1, 1, 3, 1, 2, 2);
        /* destroyed: its copies go, and it is no longer a recording held */
        assert_string_equal(sql1(f->db, "INSERT INTO destruction_requests (id, reason, requested_by, requested_at)"
                                        " VALUES (7, 'past retention', 'a', 'now'); SELECT 'ok'"),
                            "ok");
        assert_int_equal(catalog_recording_destroyed(f->cat, r[0].id, 7, "overwrite"), 0);
        expect_counts(f, 1, 1, 2, 1, 1, 1);
        /* a copy is never moved to another recording or target */
        assert_string_equal(sql1(f->db, "UPDATE copies SET target_id = 1 WHERE target_id = 2; SELECT 'moved'"), "");
        expect_counts(f, 1, 1, 2, 1, 1, 1);
        /* manifests, delivered or not */
        char ins[600];
        snprintf(ins, sizeof(ins),
                 "INSERT INTO manifests (session_id, station, seq, sha256, body, signature, created_at, deadline)"
                 " VALUES (%lld, 'st', 1, 'x', x'00', x'00', 'c', 'd'); UPDATE manifests SET delivered_at = 'now';"
                 " SELECT count(*) FROM manifests",
                 (long long)s1);
        assert_string_equal(sql1(f->db, ins), "1");
        struct outbox_status o;
        assert_int_equal(catalog_outbox_status(f->cat, "z", "z", &o), 0);
        assert_int_equal(o.delivered, 1);
        assert_int_equal(o.queued, 0);
        assert_int_equal(catalog_counts_check(f->cat, what, sizeof(what)), 0);
        /* the check finds a count that differs from the rows */
        sql1(f->db, "UPDATE count_live SET n = n + 1 WHERE copies = 2");
        assert_int_equal(catalog_counts_check(f->cat, what, sizeof(what)), 1);
        assert_string_equal(what, "live recordings with 2 copies: kept 2, counted 1");
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
                cmocka_unit_test_setup_teardown(test_counts_kept_with_the_rows, setup, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
