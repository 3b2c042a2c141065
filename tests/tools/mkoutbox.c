/* mkoutbox — fills a station's outbox with N finished dock sessions and their
 * signed manifests, through the daemon's own catalog and manifest code, as a
 * station would hold them after a long outage (scripts/bench-archive).
 *
 *   mkoutbox [-c FILE] --state DIR N
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "manifest.h"

int main(int argc, char **argv)
{
        const char *conf = NULL, *state = NULL;
        long n = -1;
        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "-c") == 0 && i + 1 < argc)
                        conf = argv[++i];
                else if (strcmp(argv[i], "--state") == 0 && i + 1 < argc)
                        state = argv[++i];
                else
                        n = strtol(argv[i], NULL, 10);
        }
        if (!state || n <= 0) {
                fprintf(stderr, "usage: mkoutbox [-c FILE] --state DIR N\n");
                return 2;
        }
        struct config cfg;
        struct catalog *cat = NULL;
        char err[512];
        if (config_load(&cfg, conf, state, err, sizeof(err)) < 0 ||
            catalog_open_in(cfg.state_dir, &cat, err, sizeof(err)) < 0 ||
            manifest_key_ensure(&cfg, err, sizeof(err)) < 0) {
                fprintf(stderr, "mkoutbox: %s\n", err);
                return 1;
        }
        int r = 0;
        for (long i = 0; r == 0 && i < n; i++) {
                char serial[32];
                snprintf(serial, sizeof(serial), "BENCH-%03ld", i % 64);
                int64_t dev, sid;
                struct session_counts none = { 0 };
                if (i % 100 == 0 && (r = catalog_begin(cat)) < 0)
                        break;
                if ((r = catalog_device_ensure(cat, serial, &dev)) < 0 ||
                    (r = catalog_session_start(cat, dev, "bench", &sid)) < 0 ||
                    (r = catalog_session_finish(cat, sid, "complete", &none, NULL)) < 0 ||
                    (r = manifest_write(&cfg, cat, sid, err, sizeof(err))) < 0)
                        break;
                if ((i % 100 == 99 || i == n - 1) && (r = catalog_commit(cat)) < 0)
                        break;
        }
        if (r < 0)
                fprintf(stderr, "mkoutbox: %s\n", err[0] ? err : catalog_errmsg(cat));
        catalog_close(cat);
        config_free(&cfg);
        return r < 0 ? 1 : 0;
}
