/* main.c — the dockd daemon: configuration, catalog, targets, signals.
 * This stage opens and checks everything the ingest path needs and then waits;
 * docking (hotplug, bays, control socket) arrives with issue #3. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "catalog.h"
#include "config.h"
#include "log.h"
#include "target.h"
#include "util.h"

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' },
                { "state", required_argument, NULL, 'S' },
                { "check", no_argument, NULL, 'k' },
                { "verbose", no_argument, NULL, 'v' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *config_path = NULL, *state = NULL;
        bool check_only = false;
        int ch;
        setenv("TZ", "UTC", 1);
        tzset();
        log_set_ident("dockd");
        while ((ch = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1)
                switch (ch) {
                case 'c': config_path = optarg; break;
                case 'S': state = optarg; break;
                case 'k': check_only = true; break;
                case 'v': log_set_level(LOG_LEVEL_DEBUG); break;
                case 'h':
                        printf("usage: dockd [-c FILE] [--state DIR] [--check] [-v]\n"
                               "  --check   validate config, catalog and targets, then exit\n");
                        return 0;
                default: return 2;
                }
        struct config cfg;
        char err[512];
        if (config_load(&cfg, config_path, state, err, sizeof(err)) < 0) {
                log_error("%s", err);
                return 1;
        }
        struct catalog *cat = NULL;
        if (catalog_open_in(cfg.state_dir, &cat, err, sizeof(err)) < 0) {
                log_error("%s", err);
                config_free(&cfg);
                return 1;
        }
        size_t up = 0;
        for (size_t i = 0; i < cfg.n_targets; i++) {
                struct target t;
                if (target_open(&t, &cfg.targets[i], cat, err, sizeof(err)) < 0) {
                        log_error("%s", err);   /* a target down is an alarm, not a reason to stop */
                        continue;
                }
                log_info("target %s: %s", t.name, t.root);
                target_close(&t);
                up++;
        }
        log_info("station %s: catalog in %s (schema %d), %zu of %zu targets up, %d copies required",
                 cfg.station_id, cfg.state_dir, catalog_schema_version(cat), up, cfg.n_targets, cfg.copies);
        int rc = up ? 0 : 1;
        if (!check_only) {
                sigset_t set;
                sigemptyset(&set);
                sigaddset(&set, SIGTERM);
                sigaddset(&set, SIGINT);
                sigprocmask(SIG_BLOCK, &set, NULL);
                int sig;
                sigwait(&set, &sig);
                log_info("stopping on signal %d", sig);
        }
        catalog_close(cat);
        config_free(&cfg);
        return rc;
}
