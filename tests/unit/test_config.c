/* Config: embedded defaults, overrides, and errors that name file, line and problem. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

static int load_text(struct config *cfg, const char *text, char *err, size_t err_size)
{
        char *dir = scratch_dir();
        char path[4200];
        snprintf(path, sizeof(path), "%s/dockd.conf", dir);
        write_file(path, text);
        int r = config_load(cfg, path, NULL, err, err_size);
        rm_rf(dir);
        free(dir);
        return r;
}

static void test_embedded_defaults_put_two_targets_under_state(void **state)
{
        struct config cfg;
        char err[512];
        assert_int_equal(config_load(&cfg, "/nonexistent-is-not-used", "/srv/st", err, sizeof(err)) < 0, 1);
        config_free(&cfg);
        /* No -c and no /etc file: embedded defaults. */
        if (access(DOCKD_DEFAULT_CONFIG, F_OK) == 0)
                skip();
        assert_int_equal(config_load(&cfg, NULL, "/srv/st", err, sizeof(err)), 0);
        assert_string_equal(cfg.state_dir, "/srv/st");
        assert_int_equal(cfg.n_targets, 2);
        assert_string_equal(cfg.targets[0].path, "/srv/st/targets/a");
        assert_string_equal(cfg.targets[1].path, "/srv/st/targets/b");
        assert_int_equal(cfg.copies, 2);
        assert_string_equal(cfg.archive_url, "file:///srv/st/archive");
        config_free(&cfg);
}

static void test_configured_targets_and_state(void **state)
{
        struct config cfg;
        char err[512];
        assert_int_equal(load_text(&cfg,
                                   "[station]\nid = bay-north\nstate_dir = /var/lib/x\ncopies = 2\n"
                                   "[target.ssd]\npath = /mnt/ssd\n[target.hdd]\npath = /mnt/hdd\n"
                                   "[ingest]\nchunk_kib = 1024\nchunks = 4\nwriters = 3\n",
                                   err, sizeof(err)),
                         0);
        assert_string_equal(cfg.station_id, "bay-north");
        assert_int_equal(cfg.n_targets, 2);
        assert_string_equal(cfg.targets[0].name, "ssd");
        assert_false(cfg.targets[0].create);
        assert_int_equal(cfg.chunk_size, 1024 * 1024);
        assert_int_equal(cfg.chunks, 4);
        assert_int_equal(cfg.writers, 3);
        config_free(&cfg);
        assert_true(load_text(&cfg, "[ingest]\nwriters = 9\n", err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "writers '9' must be a number from 1 to 8"));
        config_free(&cfg);
}

static void test_unknown_key_names_file_line_and_key(void **state)
{
        struct config cfg;
        char err[512];
        assert_true(load_text(&cfg, "[station]\nid = a\n\ncopise = 2\n", err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "dockd.conf:4:"));
        assert_non_null(strstr(err, "'copise'"));
        config_free(&cfg);
}

static void test_more_copies_than_targets_is_refused(void **state)
{
        struct config cfg;
        char err[512];
        assert_true(load_text(&cfg, "[station]\ncopies = 2\n[target.only]\npath = /mnt/one\n", err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "copies = 2 but only 1 target"));
        config_free(&cfg);
}

static void test_two_targets_on_one_path_are_refused(void **state)
{
        struct config cfg;
        char err[512];
        assert_true(load_text(&cfg, "[target.a]\npath = /mnt/x\n[target.b]\npath = /mnt/x\n", err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "share the path"));
        config_free(&cfg);
}

static void test_bad_values_are_named(void **state)
{
        struct config cfg;
        char err[512];
        assert_true(load_text(&cfg, "[target.a]\npath = relative/dir\n", err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "must be an absolute path"));
        config_free(&cfg);
        assert_true(load_text(&cfg, "[ingest]\nchunks = lots\n", err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "chunks 'lots'"));
        config_free(&cfg);
        assert_true(load_text(&cfg, "[stations]\nid = x\n", err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "unknown section [stations]"));
        config_free(&cfg);
        assert_true(load_text(&cfg, "[station\nid = x\n", err, sizeof(err)) < 0);
        assert_non_null(strstr(err, ":1:"));
        config_free(&cfg);
}

static void test_archive_deadline_and_margin(void **state)
{
        struct config cfg;
        char err[512];
        assert_int_equal(load_text(&cfg, "[station]\nid = s\n", err, sizeof(err)), 0);
        assert_int_equal(cfg.archive_deadline_h, 24);
        assert_int_equal(cfg.archive_warn_margin_h, 4);
        config_free(&cfg);
        assert_int_equal(load_text(&cfg, "[archive]\ndeadline_h = 48\nwarn_margin_h = 12\n", err, sizeof(err)), 0);
        assert_int_equal(cfg.archive_deadline_h, 48);
        assert_int_equal(cfg.archive_warn_margin_h, 12);
        config_free(&cfg);
        assert_true(load_text(&cfg, "[archive]\ndeadline_h = 4\n", err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "warn_margin_h = 4 must be less than deadline_h = 4"));
        config_free(&cfg);
        assert_true(load_text(&cfg, "[archive]\ndeadline_h = 0\n", err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "deadline_h '0'"));
        config_free(&cfg);
}

static void test_socket_keeps_archive_credentials(void **state)
{
        struct config cfg;
        char err[512];
        assert_int_equal(load_text(&cfg, "[archive]\nca = /etc/ca.pem\ntoken = t\n[station]\nsocket = /run/d.sock\n",
                                   err, sizeof(err)),
                         0);
        assert_string_equal(cfg.archive_ca, "/etc/ca.pem");
        assert_string_equal(cfg.archive_token, "t");
        assert_string_equal(cfg.socket_path, "/run/d.sock");
        config_free(&cfg);
}

static void test_name_pattern_is_checked(void **state)
{
        struct config cfg;
        char err[512];
        assert_int_equal(load_text(&cfg,
                                   "[recorders]\nname_pattern = {serial}_{officer}_{YYYY}{MM}{DD}{hh}{mm}{ss}_{seq}\n",
                                   err, sizeof(err)),
                         0);
        config_free(&cfg);
        assert_true(load_text(&cfg, "[recorders]\nname_pattern = {serial}_{badge}\n", err, sizeof(err)) < 0);
        assert_non_null(strstr(err, ":2: [recorders] name_pattern: unknown token at '{badge}'"));
        config_free(&cfg);
}

static void test_recorder_allow_list(void **state)
{
        struct config cfg;
        char err[512];
        assert_int_equal(load_text(&cfg, "[recorders]\nallow = 1d6b:0104, ABCD:ef01\n[station]\nmax_parallel = 3\n",
                                   err, sizeof(err)),
                         0);
        assert_non_null(config_model(&cfg, 0x1d6b, 0x0104));
        assert_non_null(config_model(&cfg, 0xabcd, 0xef01));
        assert_null(config_model(&cfg, 0xf055, 0xd0c0)); /* a configured list replaces the default */
        assert_null(config_model(&cfg, 0xf055, 0xd0c1));
        assert_null(config_model(&cfg, 0x1d6b, 0x0105));
        /* the older lists are msc models */
        assert_int_equal(config_model(&cfg, 0x1d6b, 0x0104)->driver, RECORDER_DRIVER_MSC);
        assert_int_equal(config_model(&cfg, 0x1d6b, 0x0104)->clock, RECORDER_CLOCK_OFF);
        assert_int_equal(cfg.max_parallel, 3);
        config_free(&cfg);
        assert_true(load_text(&cfg, "[recorders]\nallow = 1d6b-0104\n", err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "'1d6b-0104' is not a USB vendor:product pair"));
        config_free(&cfg);
}

/* [recorder.VID:PID] sections choose each model's driver; the older lists
 * still work; a bad section is named with its line. */
static void test_recorder_models_table(void **state)
{
        struct config cfg;
        char err[512];
        char *dir = scratch_dir();
        char pw[4200], conf[8600];
        snprintf(pw, sizeof(pw), "%s/pw", dir);
        write_file(pw, "000000\n");
        chmod(pw, 0600);
        snprintf(conf, sizeof(conf),
                 "[recorders]\nallow = 1d6b:0104\nclock = 1d6b:0104\n"
                 "[recorder.2b5f:0001]\ndriver = gat947-jl\npassword_file = %s\ninfo_layout = 94\n"
                 "inquiry_product = DV16 DEVICE\nname_pattern = {serial}_{seq}\n"
                 "[recorder.2b5f:0002]\ndriver = msc\nclock = off\n",
                 pw);
        assert_int_equal(load_text(&cfg, conf, err, sizeof(err)), 0);
        const struct recorder_model *m = config_model(&cfg, 0x2b5f, 0x0001);
        assert_non_null(m);
        assert_int_equal(m->driver, RECORDER_DRIVER_GAT947_JL);
        assert_int_equal(m->clock, RECORDER_CLOCK_SYNC); /* its default: the protocol can only set it */
        assert_int_equal(m->info_layout, 94);
        assert_string_equal(m->password_file, pw);
        assert_true(recorder_inquiry_matches(m, "JL", "DV16 DEVICE V1.00"));
        assert_false(recorder_inquiry_matches(m, "JL", "UBOOT1.00"));
        assert_int_equal(config_model(&cfg, 0x1d6b, 0x0104)->clock, RECORDER_CLOCK_READ);
        assert_int_equal(config_model(&cfg, 0x2b5f, 0x0002)->driver, RECORDER_DRIVER_MSC);
        config_free(&cfg);
        /* a password anyone may read is refused, and its path named */
        chmod(pw, 0644);
        snprintf(conf, sizeof(conf), "[recorder.2b5f:0001]\ndriver = gat947-jl\npassword_file = %s\n", pw);
        assert_true(load_text(&cfg, conf, err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "is for root and dockd only"));
        assert_non_null(strstr(err, ":3:"));
        config_free(&cfg);
        rm_rf(dir);
        free(dir);
        const char *bad[][2] = {
                { "[recorder.2b5f:0001]\ndriver = usb\n", "driver 'usb' must be msc or gat947-jl" },
                { "[recorder.2b5f:0001]\nclock = read\n", "names no driver" },
                { "[recorder.2b5f:0001]\ndriver = gat947-jl\nclock = read\n", "can only set the clock" },
                { "[recorder.2b5f:0001]\ndriver = msc\ninfo_layout = 94\n", "info_layout is for driver = gat947-jl" },
                { "[recorder.2b5f:0001]\ndriver = gat947-jl\ninfo_layout = 90\n", "must be 89" },
                { "[recorder.2b5f]\ndriver = msc\n", "not a USB vendor:product pair" },
                { "[recorder.2b5f:0001]\ndriver = msc\nwipe = yes\n", "unknown key 'wipe'" },
                { "[station]\ntimezone = Mars/Olympus\n", "not a zone in /usr/share/zoneinfo" },
        };
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                assert_true(load_text(&cfg, bad[i][0], err, sizeof(err)) < 0);
                if (!strstr(err, bad[i][1]))
                        fail_msg("config %zu: '%s' does not say '%s'", i, err, bad[i][1]);
                config_free(&cfg);
        }
        /* the embedded defaults: the demo's two simulated recorders */
        if (access(DOCKD_DEFAULT_CONFIG, F_OK) != 0) {
                assert_int_equal(config_load(&cfg, NULL, "/srv/st", err, sizeof(err)), 0);
                assert_int_equal(config_model(&cfg, 0xf055, 0xd0c0)->clock, RECORDER_CLOCK_READ);
                assert_int_equal(config_model(&cfg, 0xf055, 0xd0c1)->driver, RECORDER_DRIVER_GAT947_JL);
                config_free(&cfg);
        }
}

/* The README's example configuration loads as written, inline comments and all. */
static void test_readme_example_loads(void **state)
{
        char readme[4200];
        snprintf(readme, sizeof(readme), "%s/README.md", DOCKD_SOURCE_DIR);
        FILE *f = fopen(readme, "r");
        assert_non_null(f);
        char line[1024], text[16384] = "";
        bool in = false;
        while (fgets(line, sizeof(line), f)) {
                if (!in && strncmp(line, "```ini", 6) == 0) {
                        in = true;
                        continue;
                }
                if (in && strncmp(line, "```", 3) == 0)
                        break;
                if (in)
                        strncat(text, line, sizeof(text) - strlen(text) - 1);
        }
        fclose(f);
        assert_true(strlen(text) > 100);
        struct config cfg;
        char err[512];
        int r = load_text(&cfg, text, err, sizeof(err));
        if (r < 0)
                fail_msg("the README's example config does not load: %s", err);
        assert_string_equal(cfg.station_id, "station-01");
        assert_int_equal(cfg.copies, 2);
        assert_string_equal(cfg.name_pattern, "{serial}_{officer}_{YYYY}{MM}{DD}{hh}{mm}{ss}_{seq}");
        config_free(&cfg);
}

static void test_config_means_what_it_says(void **state)
{
        struct config cfg;
        char err[512];
        /* a '#' inside a value is part of it; after white space it is a comment */
        assert_int_equal(load_text(&cfg, "[recorders]\nname_pattern = {serial}#{seq}   # why\n", err, sizeof(err)), 0);
        assert_string_equal(cfg.name_pattern, "{serial}#{seq}");
        config_free(&cfg);
        /* a key given twice */
        assert_true(load_text(&cfg, "[station]\nid = a\n\nid = b\n", err, sizeof(err)) < 0);
        assert_non_null(strstr(err, ":4: [station] id is given twice (first on line 2)"));
        config_free(&cfg);
        /* a long line is reported on its own line, not later ones */
        char text[2048];
        memset(text, 0, sizeof(text));
        strcat(text, "[station]\nid = a\n# ");
        memset(text + strlen(text), 'x', 1200);
        strcat(text, "\ncopies = 2\n");
        assert_true(load_text(&cfg, text, err, sizeof(err)) < 0);
        assert_non_null(strstr(err, ":3: line longer than"));
        config_free(&cfg);
        /* one directory under two spellings, and two targets on one filesystem */
        char *dir = scratch_dir();
        char conf[8192];
        snprintf(text, sizeof(text), "mkdir -p %s/x/a %s/x/b && ln -s %s/x/a %s/x/link", dir, dir, dir, dir);
        assert_int_equal(system(text), 0);
        snprintf(conf, sizeof(conf), "[target.a]\npath = %s/x/a\n[target.b]\npath = %s/x/a/\n", dir, dir);
        assert_true(load_text(&cfg, conf, err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "share the path"));
        config_free(&cfg);
        snprintf(conf, sizeof(conf), "[target.a]\npath = %s/x/a\n[target.b]\npath = %s/x/link\n", dir, dir);
        assert_true(load_text(&cfg, conf, err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "are one directory"));
        config_free(&cfg);
        snprintf(conf, sizeof(conf), "[station]\nallow_same_filesystem = maybe\n");
        assert_true(load_text(&cfg, conf, err, sizeof(err)) < 0);
        assert_non_null(strstr(err, "must be yes or no"));
        config_free(&cfg);
        rm_rf(dir);
        free(dir);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_embedded_defaults_put_two_targets_under_state),
                cmocka_unit_test(test_configured_targets_and_state),
                cmocka_unit_test(test_unknown_key_names_file_line_and_key),
                cmocka_unit_test(test_more_copies_than_targets_is_refused),
                cmocka_unit_test(test_two_targets_on_one_path_are_refused),
                cmocka_unit_test(test_bad_values_are_named),
                cmocka_unit_test(test_recorder_allow_list),
                cmocka_unit_test(test_archive_deadline_and_margin),
                cmocka_unit_test(test_socket_keeps_archive_credentials),
                cmocka_unit_test(test_name_pattern_is_checked),
                cmocka_unit_test(test_readme_example_loads),
                cmocka_unit_test(test_recorder_models_table),
                cmocka_unit_test(test_config_means_what_it_says),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
