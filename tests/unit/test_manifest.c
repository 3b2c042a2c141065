/* Manifests: the canonical renderer against golden files (both valid
 * against schema/manifest.schema.json). The bytes an
 * archive verifies must not change by accident: a model with every field set
 * (names in Chinese, a quote, a backslash, a control byte, two copies, a
 * deleted entry, findings) and one with nothing known render exactly as
 * tests/unit/golden/ holds them. DOCKD_GOLDEN_UPDATE=1 rewrites them (then
 * read the diff). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"

static char *s(const char *v) { return v ? strdup(v) : NULL; }

static void check_golden(const struct manifest *m, const char *name)
{
        char *body = NULL;
        size_t len = 0;
        assert_int_equal(manifest_render_json(m, &body, &len), 0);
        char path[1024];
        snprintf(path, sizeof(path), "%s/tests/unit/golden/%s", DOCKD_SOURCE_DIR, name);
        if (getenv("DOCKD_GOLDEN_UPDATE")) {
                FILE *f = fopen(path, "wb");
                assert_non_null(f);
                fwrite(body, 1, len, f);
                fclose(f);
        }
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        char *want = calloc(1, len + 2);
        size_t n = fread(want, 1, len + 1, f);
        fclose(f);
        if (n != len || memcmp(want, body, len) != 0)
                fail_msg("%s differs from the renderer's bytes:\n got: %.*s\nwant: %.*s", name, (int)len, body, (int)n,
                         want);
        free(want);
        free(body);
}

static void test_full_manifest_is_golden(void **state)
{
        (void)state;
        struct manifest m = { 0 };
        m.station = s("station-01");
        m.prev_sha256 = s("9f2c1e0d4b7a6f5e3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a291807");
        m.seq = 42;
        m.audit_id = 17;
        snprintf(m.audit_sha256, sizeof(m.audit_sha256), "%s",
                 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        m.session = (struct manifest_session){
                .found = true,
                .has_clock_offset = true,
                .id = 7,
                .clock_offset_s = -95,
                .unaccounted_bytes = 12288,
                .serial = s("CAM-0042"),
                .source = s("/dev/sdb1"),
                .docked_at = s("2026-11-25T18:02:03.004Z"),
                .ended_at = s("2026-11-25T18:05:00.120Z"),
                .state = s("incomplete"),
                .bay = s("pci-0000:00:14.0-usb-0:1:1.0"),
                .vendor = s("Acme \"Pro\""),
                .model = s("BodyCam\\2"),
                .vendor_id = s("f055"),
                .product_id = s("d0c0"),
                .identity_flag = s("serial-mismatch"),
                .unread = s("/DCIM/bad dir: cluster 1234 unreadable\nunaccounted data: 12288 bytes"),
                .officer = s("P-1042"),
                .officer_source = s("assignment"),
        };
        m.n_recordings = 2;
        m.recordings = calloc(2, sizeof(*m.recordings));
        m.recordings[0] = (struct manifest_recording){
                .attribution_flag = NULL,
                .device_mtime = s("2026-11-25T08:00:00"),
                .device_path = s("/DCIM/执法 0001.MP4"),
                .media_flag = NULL,
                .officer = s("P-1042"),
                .officer_source = s("assignment"),
                .recorded_end_device = s("2026-11-25T08:10:00"),
                .recorded_end_utc = s("2026-11-25T08:11:35.000Z"),
                .recorded_start_device = s("2026-11-25T08:00:00"),
                .recorded_start_utc = s("2026-11-25T08:01:35.000Z"),
                .sha256 = s("a3f1c2e4b5d6978812345678901234567890abcdefabcdefabcdefabcdefabcd"),
                .size = 104857600,
                .n_copies = 2,
        };
        m.recordings[0].copies[0] = (struct manifest_copy){ .path = s("2026/11/25/CAM-0042/DCIM/执法 0001.MP4"),
                                                            .target = s("ssd"),
                                                            .verified_at = s("2026-11-25T18:03:00.500Z") };
        /* an object copy names the version that was read back, and where it is */
        m.recordings[0].copies[1] = (struct manifest_copy){
                .path = s("2026/11/25/CAM-0042/DCIM/执法 0001.MP4"),
                .target = s("vault"),
                .verified_at = s("2026-11-25T18:03:01.250Z"),
                .version_id = s("3sA3CsJUnSiMLZIAePqqgzVOJxPBIh0"),
                .object = s("s3://evidence/station-01/2026/11/25/CAM-0042/DCIM/执法 0001.MP4"),
        };
        m.recordings[1] = (struct manifest_recording){
                .attribution_flag = s("conflict"),
                .device_mtime = s("2026-11-25T09:00:00"),
                .device_path = s("/DCIM/ctl\x01name.MP4"),
                .media_flag = s("truncated"),
                .officer = NULL,
                .officer_source = NULL,
                .sha256 = s("ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
                .size = 0,
                .n_copies = 0,
        };
        m.n_deleted = 1;
        m.deleted = calloc(1, sizeof(*m.deleted));
        m.deleted[0] = (struct manifest_deleted){ s("2026-11-24T07:00:00"), s("/DCIM/_LIP0009.MP4"), 2048 };
        check_golden(&m, "manifest-full.json");
        manifest_free(&m);
}

static void test_empty_manifest_is_golden(void **state)
{
        (void)state;
        struct manifest m = { 0 };
        m.station = s("station");
        m.seq = 1;
        m.session = (struct manifest_session){ .found = true,
                                               .id = 1,
                                               .serial = s("CAM-1"),
                                               .source = s("img"),
                                               .docked_at = s("2026-11-25T18:00:00.000Z"),
                                               .state = s("failed") };
        check_golden(&m, "manifest-empty.json");
        manifest_free(&m);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_full_manifest_is_golden),
                cmocka_unit_test(test_empty_manifest_is_golden),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
