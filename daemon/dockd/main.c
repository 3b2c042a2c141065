/* main.c — the dockd daemon: configuration, catalog, targets, the event loop
 * (udev, control socket, finished ingests, signals, watchdog), sd_notify. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>
#include <curl/curl.h>

#include "alarms.h"
#include "bay.h"
#include "catalog.h"
#include "config.h"
#include "control.h"
#include "forward.h"
#include "hotplug.h"
#include "log.h"
#include "media.h"
#include "metrics.h"
#include "request.h"
#include "s3.h"
#include "station.h"
#include "target.h"
#include "util.h"

struct daemon {
        struct config cfg;
        pthread_t forwarder;
        pthread_mutex_t fmu;
        pthread_cond_t fcv;
        bool stopping;
        sd_event *ev;
        struct hotplug *hp;
        struct bays *bays;
        struct control *ctl;
        struct metrics *metrics;
};

/* The forwarder runs on a thread of its own: a slow or unreachable archive
 * must never hold up the event loop (docking, status, watchdog). */
static void *forwarder_main(void *arg)
{
        struct daemon *d = arg;
        struct catalog *cat = NULL;
        char err[512];
        if (catalog_open_in(d->cfg.state_dir, &cat, err, sizeof(err)) < 0) {
                log_error("forwarder: %s", err);
                return NULL;
        }
        struct alarm_list seen = { .n = 0 }, now;
        pthread_mutex_lock(&d->fmu);
        while (!d->stopping) {
                pthread_mutex_unlock(&d->fmu);
                if (forward_due(&d->cfg, cat, err, sizeof(err)) < 0)
                        log_error("forwarder: %s", err[0] ? err : catalog_errmsg(cat));
                if (alarms_collect(&d->cfg, cat, &now) == 0)
                        alarms_log_changes(&seen, &now); /* the journal hears of each alarm once */
                pthread_mutex_lock(&d->fmu);
                if (d->stopping)
                        break;
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                ts.tv_sec += 5; /* the outbox is polled; a finished session or a retry wakes it sooner */
                pthread_cond_timedwait(&d->fcv, &d->fmu, &ts);
        }
        pthread_mutex_unlock(&d->fmu);
        catalog_close(cat);
        return NULL;
}

static void kick_forwarder(struct daemon *d)
{
        pthread_mutex_lock(&d->fmu);
        pthread_cond_signal(&d->fcv);
        pthread_mutex_unlock(&d->fmu);
}

static void on_dock(void *ud, const struct dock_info *d) { bays_dock(((struct daemon *)ud)->bays, d); }
static void on_undock(void *ud, const char *syspath) { bays_undock(((struct daemon *)ud)->bays, syspath); }
static void on_not_recorder(void *ud, const char *syspath, const char *port, const char *what, const char *why)
{
        bays_not_recorder(((struct daemon *)ud)->bays, syspath, port, what, why);
}

static int on_udev(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
        hotplug_process(((struct daemon *)ud)->hp);
        return 0;
}

static int on_bay_done(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
        bays_reap(((struct daemon *)ud)->bays);
        kick_forwarder(ud); /* a finished session left a manifest in the outbox */
        return 0;
}

static int on_hup(sd_event_source *s, const struct signalfd_siginfo *si, void *ud)
{
        log_info("SIGHUP ignored: dockd reads its configuration at start only; restart it to apply a change "
                 "(`systemctl restart dockd`: ingests stop at a safe point and resume)");
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
/* CAP_SYS_RAWIO in the effective set (/proc/self/status CapEff, bit 17). */
static bool has_rawio(void)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/status", "re");
        char line[256];
        unsigned long long eff = 0;
        while (f && fgets(line, sizeof(line), f))
                if (sscanf(line, "CapEff: %llx", &eff) == 1)
                        break;
        return eff & (1ULL << 17);
}

static long check_targets(const struct config *cfg)
{
        char err[512];
        struct catalog *cat = NULL;
        if (catalog_open_in(cfg->state_dir, &cat, err, sizeof(err)) < 0) {
                log_error("%s", err);
                return 0;
        }
        if (catalog_migrated(cat)[0])
                log_info("catalog: applied migrations %s", catalog_migrated(cat));
        if (station_check(cfg, cat, err, sizeof(err)) < 0) {
                log_error("refusing to start: %s", err);
                catalog_close(cat);
                return -1;
        }
        long up = 0;
        bool opened[DOCKD_MAX_TARGETS] = { false };
        for (size_t i = 0; i < cfg->n_targets; i++) {
                struct target t;
                char warn[512];
                int ra = target_apart(cfg, i, opened, warn, sizeof(warn), err, sizeof(err));
                if (warn[0])
                        log_warn("%s", warn);
                if (ra < 0 || station_target_open(&t, &cfg->targets[i], cat, err, sizeof(err)) < 0) {
                        log_error("%s", err); /* a target down is an alarm, not a reason to stop */
                        continue;
                }
                opened[i] = true;
                char enc[400];
                target_encryption(&cfg->targets[i], enc, sizeof(enc));
                log_info("target %s: %s; encryption at rest: %s", t.name, t.root, enc);
                if (t.type == TARGET_S3) {
                        /* Proven, not trusted: a locked version's delete must be refused. */
                        int rl = target_s3_prove_lock(&t, cfg->station_id, err, sizeof(err));
                        if (rl < 0)
                                log_error("%s", err);
                        else
                                log_info("target %s: write-once (Object Lock %s proven)", t.name, t.s3->lock_mode);
                        if (catalog_target_set_write_once(cat, t.id, rl == 0, err) < 0)
                                log_warn("target %s: cannot record its lock check: %s", t.name, catalog_errmsg(cat));
                }
                target_close(&t);
                up++;
        }
        log_info("station %s: catalog in %s (schema %d), %ld of %zu targets up, %d copies required, %zu recorder "
                 "model(s)",
                 cfg->station_id, cfg->state_dir, catalog_schema_version(cat), up, cfg->n_targets, cfg->copies,
                 cfg->n_models);
        for (size_t i = 0; i < cfg->n_models; i++) {
                const struct recorder_model *m = &cfg->models[i];
                char inq[48] = "";
                if (m->inquiry_vendor || m->inquiry_product)
                        snprintf(inq, sizeof(inq), ", INQUIRY %s%s%s", m->inquiry_vendor ? m->inquiry_vendor : "",
                                 m->inquiry_vendor && m->inquiry_product ? " " : "",
                                 m->inquiry_product ? m->inquiry_product : "");
                log_info("recorder %04x:%04x: driver %s, clock %s%s%s%s%s (%s)", m->vendor, m->product,
                         recorder_driver_name(m->driver), recorder_clock_name(m->clock),
                         m->driver == RECORDER_DRIVER_GAT947_JL ? (m->info_layout == 94 ? ", info 94" : ", info 89")
                                                                : "",
                         m->password_file ? ", password from " : "", m->password_file ? m->password_file : "", inq,
                         m->origin);
                if (m->driver == RECORDER_DRIVER_GAT947_JL && !has_rawio())
                        log_warn("recorder %04x:%04x: its vendor commands need CAP_SYS_RAWIO, which dockd lacks: "
                                 "install /usr/share/dockd/dockd-rawio.conf as "
                                 "/etc/systemd/system/dockd.service.d/rawio.conf (its bays will say so until then)",
                                 m->vendor, m->product);
        }
        catalog_close(cat);
        return up;
}

/* The udev rules come from the same parser as the daemon's allow-list, so the
 * two cannot drift apart: scripts/render-udev-rules writes this output. */
static void print_udev_rules(const struct config *cfg, const char *config_path)
{
        printf("# dockd: allow-listed recorders only. Generated by `dockd --udev-rules` from %s;\n"
               "# regenerate with scripts/render-udev-rules after changing the recorder models.\n"
               "ACTION==\"remove\", GOTO=\"dockd_end\"\n",
               config_path        ? config_path
               : cfg->source_file ? cfg->source_file
                                  : "the embedded defaults");
        for (size_t i = 0; i < cfg->n_models; i++) {
                unsigned v = cfg->models[i].vendor, p = cfg->models[i].product;
                printf("\n# recorder %04x:%04x: the USB device node for identification (usbfs), read-write\n"
                       "SUBSYSTEM==\"usb\", ENV{DEVTYPE}==\"usb_device\", ATTR{idVendor}==\"%04x\", "
                       "ATTR{idProduct}==\"%04x\", "
                       "TAG+=\"dockd\", GROUP=\"dockd\", MODE=\"0660\"\n"
                       "# its block devices: %s for dockd, and never automounted by desktop tools\n"
                       "SUBSYSTEM==\"block\", SUBSYSTEMS==\"usb\", ATTRS{idVendor}==\"%04x\", "
                       "ATTRS{idProduct}==\"%04x\", "
                       "TAG+=\"dockd\", GROUP=\"dockd\", MODE=\"%s\", ENV{UDISKS_IGNORE}=\"1\", "
                       "ENV{UDISKS_AUTO}=\"0\"\n",
                       v, p, v, p, cfg->wipe_verified ? "read-write ([policy] wipe = verified)" : "read-only", v, p,
                       cfg->wipe_verified ? "0660" : "0640");
        }
        printf("\nLABEL=\"dockd_end\"\n");
}

/* The config as dockd read it, in memory, for the request workers: a file
 * edited later cannot give a verb other rules than the daemon's. -1 when
 * dockd runs on the embedded defaults. */
static int config_snapshot(const struct config *cfg)
{
        if (!cfg->source_file)
                return -1;
        _cleanup_close_ int in = open(cfg->source_file, O_RDONLY | O_CLOEXEC);
        int fd = memfd_create("dockd.conf", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (in < 0 || fd < 0) {
                if (fd >= 0)
                        close(fd);
                return -errno;
        }
        char buf[8192];
        ssize_t k;
        while ((k = read(in, buf, sizeof(buf))) > 0)
                if (write(fd, buf, (size_t)k) != k) {
                        close(fd);
                        return -EIO;
                }
        fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
        return fd;
}

/* STATE/dockd.lock, held for dockd's life: one dockd per state directory,
 * and no dockctl field kit on a state a dockd owns. It names dockd's pid and
 * socket, so `dockctl --state DIR` can find the dockd to ask. */
static int state_lock(const struct config *cfg)
{
        _cleanup_free_ char *path = xasprintf("%s/dockd.lock", cfg->state_dir);
        int r = mkdir_p(cfg->state_dir, 0750); /* -errno: errno itself may be another call's */
        if (r < 0)
                return log_error_errno(r, "%s: cannot create the state directory: %m", cfg->state_dir);
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0)
                return log_error_errno(-errno, "%s: %m", path);
        /* A dockctl field kit holds the lock while it reads (a listing takes a
         * moment): wait for it, up to 10 s, rather than fail to start. */
        int tries = 0;
        while ((r = flock(fd, LOCK_EX | LOCK_NB)) < 0 && errno == EWOULDBLOCK && tries++ < 100) {
                if (tries == 1)
                        log_info("%s is in use (a dockctl field kit?); waiting for it", cfg->state_dir);
                usleep(100 * 1000);
        }
        if (r < 0) {
                char who[128] = "";
                ssize_t k = pread(fd, who, sizeof(who) - 1, 0);
                who[k > 0 ? k : 0] = '\0';
                who[strcspn(who, "\n")] = '\0';
                close(fd);
                return log_error_errno(-EBUSY,
                                       "%s is in use by %s: one dockd per state directory, and no dockctl "
                                       "field kit while dockd runs on it",
                                       cfg->state_dir, who[0] ? who : "a dockctl field kit");
        }
        char line[512];
        int n = snprintf(line, sizeof(line), "dockd pid %d\n%s\n", (int)getpid(), cfg->socket_path);
        if (ftruncate(fd, 0) < 0 || pwrite(fd, line, (size_t)n, 0) != n)
                log_warn("%s: cannot record dockd's pid: %m", path);
        return fd;
}

int main(int argc, char **argv)
{
        static const struct option opts[] = {
                { "config", required_argument, NULL, 'c' }, { "state", required_argument, NULL, 'S' },
                { "check", no_argument, NULL, 'k' },        { "udev-rules", no_argument, NULL, 'u' },
                { "verbose", no_argument, NULL, 'v' },      { "version", no_argument, NULL, 'V' },
                { "help", no_argument, NULL, 'h' },         {}
        };
        const char *config_path = NULL, *state = NULL;
        bool check_only = false, rules = false;
        int ch;
        setenv("TZ", "UTC", 1);
        tzset();
        setlocale(LC_CTYPE, "C.UTF-8"); /* the status table measures names by display width */
        log_set_ident("dockd");
        if (argc > 1 && strcmp(argv[1], "--serve-request") == 0)
                return request_serve(argc - 2, argv + 2);
        while ((ch = getopt_long(argc, argv, "c:vh", opts, NULL)) != -1)
                switch (ch) {
                case 'c': config_path = optarg; break;
                case 'S': state = optarg; break;
                case 'k': check_only = true; break;
                case 'u': rules = true; break;
                case 'v': log_set_level(LOG_LEVEL_DEBUG); break;
                case 'V': printf("dockd %s\n", DOCKD_VERSION); return 0;
                case 'h':
                        printf("usage: dockd [-c FILE] [--state DIR] [--check] [--udev-rules] [-v] [--version]\n"
                               "  --check        validate config, catalog and targets, then exit\n"
                               "  --udev-rules   print the udev rules for the configured recorder models\n");
                        return 0;
                default: return 2;
                }
        struct daemon d = { 0 };
        curl_global_init(CURL_GLOBAL_DEFAULT);
        char err[512];
        if (config_load(&d.cfg, config_path, state, err, sizeof(err)) < 0) {
                log_error("%s", err);
                return 1;
        }
        if (rules) {
                print_udev_rules(&d.cfg, config_path);
                config_free(&d.cfg);
                return 0;
        }
        long up = check_targets(&d.cfg);
        char probe[4096];
        int pr = media_helper(probe, sizeof(probe));
        if (pr < 0)
                log_warn("media probe %s: %s: recordings will be tagged from their names and times only", probe,
                         strerror(-pr));
        else if (check_only)
                log_info("media probe: %s", probe);
        if (check_only || up <= 0) {
                config_free(&d.cfg);
                return up > 0 ? 0 : 1;
        }

        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGHUP);
        sigaddset(&set, SIGCHLD); /* request workers are reaped by the event loop */
        sigprocmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        struct hotplug_handlers h = { .dock = on_dock, .undock = on_undock, .not_recorder = on_not_recorder, .ud = &d };
        int r;
        _cleanup_close_ int lock = state_lock(&d.cfg);
        _cleanup_close_ int config_fd = config_snapshot(&d.cfg);
        char self[4096];
        ssize_t sn = readlink("/proc/self/exe", self, sizeof(self) - 1);
        self[sn > 0 ? sn : 0] = '\0';
        if (lock < 0 || (d.cfg.source_file && config_fd < 0)) {
                if (lock >= 0)
                        log_error_errno(config_fd, "%s: cannot keep the configuration for requests: %m",
                                        d.cfg.source_file);
                r = -1;
                goto out;
        }
        if ((r = sd_event_default(&d.ev)) < 0 || (r = bays_new(&d.cfg, &d.bays)) < 0 ||
            (r = hotplug_new(&d.cfg, &h, &d.hp)) < 0) {
                log_error_errno(r, "cannot start: %m");
                goto out;
        }
        if ((r = control_new(&d.cfg, self, config_fd, d.ev, d.bays, &d.ctl)) < 0) {
                log_error_errno(r, "control socket %s: %m", d.cfg.socket_path);
                goto out;
        }
        char merr[256];
        if ((r = metrics_start(&d.cfg, d.bays, &d.metrics, merr, sizeof(merr))) < 0) {
                log_error("%s", merr); /* the station ingests without its metrics; say so, do not stop */
                r = 0;
        } else if (d.metrics)
                log_info("metrics and status page: %s://%s/%s", d.cfg.metrics_tls_cert ? "https" : "http",
                         d.cfg.metrics_listen, d.cfg.metrics_token_file ? " (/metrics and /admin need the token)" : "");
        if ((r = sd_event_add_io(d.ev, NULL, hotplug_fd(d.hp), EPOLLIN, on_udev, &d)) < 0 ||
            (r = sd_event_add_io(d.ev, NULL, bays_notify_fd(d.bays), EPOLLIN, on_bay_done, &d)) < 0 ||
            (r = sd_event_add_signal(d.ev, NULL, SIGTERM, on_signal, &d)) < 0 ||
            (r = sd_event_add_signal(d.ev, NULL, SIGINT, on_signal, &d)) < 0 ||
            (r = sd_event_add_signal(d.ev, NULL, SIGHUP, on_hup, &d)) < 0 ||
            (r = sd_event_set_watchdog(d.ev, true)) < 0) {
                log_error_errno(r, "cannot set up the event loop: %m");
                goto out;
        }
        /* Monitor first, then enumerate: a recorder docked in between is seen
         * twice rather than never (bays_dock ignores the second). */
        if ((r = hotplug_coldplug(d.hp)) < 0)
                log_error_errno(r, "coldplug enumeration failed: %m");
        pthread_mutex_init(&d.fmu, NULL);
        pthread_cond_init(&d.fcv, NULL);
        bool forwarding = pthread_create(&d.forwarder, NULL, forwarder_main, &d) == 0;
        if (!forwarding)
                log_error("cannot start the archive forwarder thread");
        sd_notify(0, "READY=1\nSTATUS=Waiting for recorders");
        log_event(LOG_LEVEL_INFO, LOG_MID_READY, NULL, "ready: control socket %s", d.cfg.socket_path);
        r = sd_event_loop(d.ev);
        if (forwarding) {
                pthread_mutex_lock(&d.fmu);
                d.stopping = true;
                pthread_cond_signal(&d.fcv);
                pthread_mutex_unlock(&d.fmu);
                pthread_join(d.forwarder, NULL);
        }
out:
        metrics_stop(d.metrics);
        control_free(d.ctl);
        hotplug_free(d.hp);
        bays_free(d.bays);
        sd_event_unref(d.ev);
        config_free(&d.cfg);
        return r < 0 ? 1 : 0;
}
