/* main.c — the dockd daemon: configuration, catalog, targets, the event loop
 * (udev, control socket, finished ingests, signals, watchdog), sd_notify. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "bay.h"
#include "catalog.h"
#include "config.h"
#include "control.h"
#include "hotplug.h"
#include "log.h"
#include "target.h"
#include "util.h"

struct daemon {
        struct config cfg;
        sd_event *ev;
        struct hotplug *hp;
        struct bays *bays;
        struct control *ctl;
};

static void on_dock(void *ud, const struct dock_info *d) { bays_dock(((struct daemon *)ud)->bays, d); }
static void on_undock(void *ud, const char *syspath) { bays_undock(((struct daemon *)ud)->bays, syspath); }

static int on_udev(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
        hotplug_process(((struct daemon *)ud)->hp);
        return 0;
}

static int on_bay_done(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
        bays_reap(((struct daemon *)ud)->bays);
        return 0;
}

static int on_signal(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
        struct daemon *d = ud;
        log_info("stopping on signal %u: letting %u ingest(s) reach a safe point", si->ssi_signo, bays_active(d->bays));
        sd_notify(0, "STOPPING=1\nSTATUS=Stopping: ingests end at their next block");
        bays_shutdown(d->bays);
        return sd_event_exit(sd_event_source_get_event(s), 0);
}

/* Checks what the ingest path needs before saying READY. Returns targets up. */
static size_t check_targets(const struct config *cfg)
{
        char err[512];
        struct catalog *cat = NULL;
        if (catalog_open_in(cfg->state_dir, &cat, err, sizeof(err)) < 0) {
                log_error("%s", err);
                return 0;
        }
        size_t up = 0;
        for (size_t i = 0; i < cfg->n_targets; i++) {
                struct target t;
                if (target_open(&t, &cfg->targets[i], cat, err, sizeof(err)) < 0) {
                        log_error("%s", err);   /* a target down is an alarm, not a reason to stop */
                        continue;
                }
                log_info("target %s: %s", t.name, t.root);
                target_close(&t);
                up++;
        }
        log_info("station %s: catalog in %s (schema %d), %zu of %zu targets up, %d copies required, %zu recorder model(s) allowed",
                 cfg->station_id, cfg->state_dir, catalog_schema_version(cat), up, cfg->n_targets, cfg->copies,
                 cfg->n_allow);
        catalog_close(cat);
        return up;
}

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
        struct daemon d = { 0 };
        char err[512];
        if (config_load(&d.cfg, config_path, state, err, sizeof(err)) < 0) {
                log_error("%s", err);
                return 1;
        }
        size_t up = check_targets(&d.cfg);
        if (check_only || up == 0) {
                config_free(&d.cfg);
                return up ? 0 : 1;
        }

        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigprocmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        struct hotplug_handlers h = { .dock = on_dock, .undock = on_undock, .ud = &d };
        int r;
        if ((r = sd_event_default(&d.ev)) < 0 || (r = bays_new(&d.cfg, &d.bays)) < 0 ||
            (r = hotplug_new(&d.cfg, &h, &d.hp)) < 0) {
                log_error_errno(r, "cannot start: %m");
                goto out;
        }
        if ((r = control_new(d.cfg.socket_path, d.ev, d.bays, &d.ctl)) < 0) {
                log_error_errno(r, "control socket %s: %m", d.cfg.socket_path);
                goto out;
        }
        if ((r = sd_event_add_io(d.ev, NULL, hotplug_fd(d.hp), EPOLLIN, on_udev, &d)) < 0 ||
            (r = sd_event_add_io(d.ev, NULL, bays_notify_fd(d.bays), EPOLLIN, on_bay_done, &d)) < 0 ||
            (r = sd_event_add_signal(d.ev, NULL, SIGTERM, on_signal, &d)) < 0 ||
            (r = sd_event_add_signal(d.ev, NULL, SIGINT, on_signal, &d)) < 0 ||
            (r = sd_event_set_watchdog(d.ev, true)) < 0) {
                log_error_errno(r, "cannot set up the event loop: %m");
                goto out;
        }
        /* Monitor first, then enumerate: a recorder docked in between is seen
         * twice rather than never (bays_dock ignores the second). */
        if ((r = hotplug_coldplug(d.hp)) < 0)
                log_error_errno(r, "coldplug enumeration failed: %m");
        sd_notify(0, "READY=1\nSTATUS=Waiting for recorders");
        log_info("ready: control socket %s", d.cfg.socket_path);
        r = sd_event_loop(d.ev);
out:
        control_free(d.ctl);
        hotplug_free(d.hp);
        bays_free(d.bays);
        sd_event_unref(d.ev);
        config_free(&d.cfg);
        return r < 0 ? 1 : 0;
}
