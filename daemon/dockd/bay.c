/* bay.c — see bay.h. Each ingest runs on a thread of its own with its own
 * catalog connection (SQLite WAL serialises the writers); the event loop
 * thread owns the list and everything else. */
#include "bay.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "audit.h"
#include "catalog.h"
#include "ingest.h"
#include "log.h"
#include "output.h"
#include "util.h"

enum bay_state { BAY_DOCKED, BAY_IDENTIFYING, BAY_INGESTING, BAY_DONE };

struct bay {
        struct bays *owner;
        struct dock_info dock;
        struct recorder_identity id;
        uint64_t order;                 /* dock order */
        char docked_at[32];
        char officer[64];               /* checked out to, when it docked ("" none) */
        char wipe[320];                 /* [policy] wipe: what was done, or why not ("" not asked) */
        enum bay_state phase;
        const char *result;             /* when BAY_DONE: complete / incomplete / interrupted / failed */
        int64_t session_id;
        struct ingest_progress prog;
        int64_t files_under_copied, files_seen;
        bool safe_to_remove;
        char error[640];
        volatile sig_atomic_t cancel;
        bool undocked, started, finished, joined;
        pthread_t thread;
        struct bay *next;
};

struct bays {
        const struct config *cfg;
        pthread_mutex_t mu;             /* guards the fields bay threads write */
        struct bay *list;
        uint64_t next_order;
        unsigned running;
        size_t chunk_size;              /* per-bay pipeline block: the budget split over max_parallel bays */
        unsigned chunks;                /* per-bay blocks in flight */
        bool stopping;          /* shutting down: start nothing new */
        int notify_fd;
        int64_t bytes_copied, files_copied;     /* since start, for the metrics */
};

static const char *phase_name(const struct bay *b)
{
        switch (b->phase) {
        case BAY_DOCKED: return "docked";
        case BAY_IDENTIFYING: return "identifying";
        case BAY_INGESTING: return "ingesting";
        default: return b->result ? b->result : "failed";
        }
}

int bays_new(const struct config *cfg, struct bays **out)
{
        struct bays *b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->cfg = cfg;
        /* A USB link fills 4 blocks as well as 8; fewer, larger blocks keep
         * the targets' writes efficient when many bays share a disk. */
        b->chunks = cfg->chunks < 4 ? cfg->chunks : 4;
        size_t per_bay = ((size_t)cfg->bay_memory_mib << 20) / cfg->max_parallel;
        size_t chunk = per_bay / (b->chunks + cfg->n_targets) / (64 << 10) * (64 << 10);
        b->chunk_size = chunk < (64 << 10) ? (64 << 10) : chunk > cfg->chunk_size ? cfg->chunk_size : chunk;
        log_info("bays: up to %u ingesting at once, %u x %zu KiB pipeline blocks each", cfg->max_parallel, b->chunks,
                 b->chunk_size >> 10);
        pthread_mutex_init(&b->mu, NULL);
        b->notify_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (b->notify_fd < 0) {
                free(b);
                return -errno;
        }
        *out = b;
        return 0;
}

int bays_notify_fd(struct bays *b) { return b->notify_fd; }

static void on_progress(const struct ingest_progress *p, void *ud)
{
        struct bay *bay = ud;
        pthread_mutex_lock(&bay->owner->mu);
        bay->prog = *p;
        bay->prog.device_path = NULL;   /* points into the ingest's listing */
        pthread_mutex_unlock(&bay->owner->mu);
}

/* Two recorders docked at once that claim the same serial are two devices. */
static void check_collision(struct bay *bay)
{
        struct bays *b = bay->owner;
        pthread_mutex_lock(&b->mu);
        for (struct bay *o = b->list; o; o = o->next)
                if (o != bay && !o->undocked && o->phase >= BAY_INGESTING && o->phase != BAY_DONE &&
                    strcmp(o->id.serial, bay->id.serial) == 0) {
                        log_warn("bay %s: serial %s is already docked in bay %s; recorded apart, flagged",
                                 bay->dock.bay, bay->id.serial, o->dock.bay);
                        size_t n = strlen(bay->id.serial);
                        snprintf(bay->id.serial + n, sizeof(bay->id.serial) - n, "~%.16s", bay->dock.bay);
                        snprintf(bay->id.flag, sizeof(bay->id.flag), "serial-collision");
                        break;
                }
        bay->phase = BAY_INGESTING;
        pthread_mutex_unlock(&b->mu);
}

static void *bay_main(void *arg)
{
        struct bay *bay = arg;
        struct bays *b = bay->owner;
        char err[640] = "";
        const char *result = "failed";
        struct ingest_result res = { 0 };
        struct catalog *cat = NULL;

        pthread_mutex_lock(&b->mu);
        bay->phase = BAY_IDENTIFYING;
        pthread_mutex_unlock(&b->mu);
        struct recorder_identity id;
        int r = driver_msc.identify(&bay->dock, &id, err, sizeof(err));
        if (r < 0) {
                log_error("bay %s: cannot identify %s: %s", bay->dock.bay, bay->dock.devnode, err);
                goto done;
        }
        pthread_mutex_lock(&b->mu);
        bay->id = id;
        pthread_mutex_unlock(&b->mu);
        log_context_device(bay->id.serial, 0);
        check_collision(bay);
        log_info("bay %s: %s %s serial %s%s%s docked (%s)", bay->dock.bay, id.vendor, id.model, bay->id.serial,
                 bay->id.flag[0] ? ", flagged " : "", bay->id.flag, bay->dock.devnode);

        if ((r = catalog_open_in(b->cfg->state_dir, &cat, err, sizeof(err))) < 0) {
                log_error("bay %s: %s", bay->dock.bay, err);
                goto done;
        }
        char officer[64] = "";
        if (catalog_officer_assigned_at(cat, bay->id.serial, bay->docked_at, officer, sizeof(officer)) == 0) {
                pthread_mutex_lock(&b->mu);
                memcpy(bay->officer, officer, sizeof(officer));
                pthread_mutex_unlock(&b->mu);
        }
        /* A recorder's link (USB 2.0) is slow: bays share one memory budget
         * rather than each taking what a single `dockctl ingest` may use. */
        struct config bay_cfg = *b->cfg;
        bay_cfg.chunk_size = b->chunk_size;
        bay_cfg.chunks = b->chunks;
        struct ingest_opts o = {
                .source = bay->dock.devnode, .serial = bay->id.serial, .identity = &bay->id,
                .cancel = &bay->cancel, .on_progress = on_progress, .ud = bay,
        };
        /* The device's clock against the station's, at dock time: recording
         * times are corrected by it. */
        const struct driver_ops *drv = config_has_clock(b->cfg, (unsigned)strtoul(bay->dock.vendor_id, NULL, 16),
                                                        (unsigned)strtoul(bay->dock.product_id, NULL, 16))
                                               ? &driver_msc_clock : &driver_msc;
        struct timespec device_time;
        int cr = drv->read_clock(&bay->dock, &device_time);
        if (cr == 0) {
                o.has_clock_offset = true;
                o.clock_offset_s = (int64_t)device_time.tv_sec - clock_now();
                log_info("bay %s: %s clock is %+llds off the station's", bay->dock.bay, bay->id.serial,
                         (long long)o.clock_offset_s);
        } else if (cr != -EOPNOTSUPP)
                log_warn("bay %s: cannot read the clock of %s: %s; times are taken as UTC", bay->dock.bay,
                         bay->id.serial, strerror(-cr));
        r = ingest_run(&bay_cfg, cat, &o, &res);
        result = res.state;
        /* [policy] wipe = verified: only once every recording on the recorder
         * has its verified copies, and before "safe to remove". */
        if (b->cfg->wipe_verified && res.session_id) {
                char wipe[320] = "";
                bool wiped = false;
                if (r < 0 || bay->cancel || strcmp(res.state, "complete") != 0)
                        snprintf(wipe, sizeof(wipe), "not wiped: the session ended %s", res.state ? res.state : "failed");
                else if (res.n.files_under_copied)
                        snprintf(wipe, sizeof(wipe), "not wiped: %lld recording(s) lack their %d verified copies",
                                 (long long)res.n.files_under_copied, b->cfg->copies);
                else if (res.n_errors)
                        snprintf(wipe, sizeof(wipe), "not wiped: errors during the ingest (%.200s)", res.error);
                else
                        wiped = drv->wipe(&bay->dock, wipe, sizeof(wipe)) == 0;
                _cleanup_free_ char *object = xasprintf("device %s session %lld", bay->id.serial,
                                                        (long long)res.session_id);
                if (catalog_session_set_wipe(cat, res.session_id, wipe, wiped) < 0 ||
                    audit_append(cat, "dockd", "station", wiped ? "wipe" : "wipe.skipped", object, wipe) < 0)
                        log_error("bay %s: cannot record the wipe: %s", bay->dock.bay, catalog_errmsg(cat));
                log_event(wiped ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, LOG_MID_WIPE, NULL, "bay %s: %s: %s", bay->dock.bay,
                          bay->id.serial, wipe);
                pthread_mutex_lock(&b->mu);
                snprintf(bay->wipe, sizeof(bay->wipe), "%s", wipe);
                pthread_mutex_unlock(&b->mu);
        }
        if (r < 0 || res.n_errors)
                memcpy(err, res.error, sizeof(err));
        else if (res.n_unread)
                snprintf(err, sizeof(err), "not all of the device was read (%zu finding(s)): %.560s", res.n_unread, res.unread);
done:
        catalog_close(cat);
        pthread_mutex_lock(&b->mu);
        bay->phase = BAY_DONE;
        bay->result = result;
        bay->session_id = res.session_id;
        bay->files_seen = res.n.files_seen;
        bay->files_under_copied = res.n.files_under_copied;
        b->bytes_copied += res.n.bytes_copied;
        b->files_copied += res.n.files_copied;
        snprintf(bay->error, sizeof(bay->error), "%s", err);
        /* Safe to remove: the session is complete, so every entry of every
         * filesystem on it is accounted for with its verified copies. An
         * incomplete one keeps the bay's warning: the recorder goes to the
         * custodian, not back into service. */
        bay->safe_to_remove = r >= 0 && res.n.files_under_copied == 0 && strcmp(result, "complete") == 0;
        bay->finished = true;
        pthread_mutex_unlock(&b->mu);
        log_event(bay->safe_to_remove ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, LOG_MID_SESSION_END, NULL, "bay %s: %s: %s%s%s%s",
                  bay->dock.bay, bay->id.serial, result, bay->safe_to_remove ? ", safe to remove" : ", NOT safe to remove",
                  err[0] ? "; " : "", err);
        uint64_t one = 1;
        if (write(b->notify_fd, &one, sizeof(one)) < 0)
                log_warn("cannot wake the event loop: %m");
        return NULL;
}

static void start_waiting(struct bays *b)
{
        while (!b->stopping && b->running < b->cfg->max_parallel) {
                struct bay *next = NULL;
                for (struct bay *bay = b->list; bay; bay = bay->next)
                        if (!bay->started && !bay->undocked && (!next || bay->order < next->order))
                                next = bay;
                if (!next)
                        return;
                next->started = true;
                log_info("bay %s: ingest starting (%s, dock #%llu, %u running)", next->dock.bay, next->dock.udev_serial,
                         (unsigned long long)next->order + 1, b->running + 1);
                if (pthread_create(&next->thread, NULL, bay_main, next) != 0) {
                        log_error("bay %s: cannot start an ingest thread", next->dock.bay);
                        next->phase = BAY_DONE;
                        next->result = "failed";
                        next->finished = next->joined = true;
                        continue;
                }
                b->running++;
        }
}

void bays_dock(struct bays *b, const struct dock_info *d)
{
        for (struct bay *bay = b->list; bay; bay = bay->next)
                if (strcmp(bay->dock.syspath, d->syspath) == 0 && !bay->undocked)
                        return;         /* coldplug and an add event for the same device */
        struct bay *bay = calloc(1, sizeof(*bay));
        if (!bay)
                return;
        bay->owner = b;
        bay->dock = *d;
        bay->order = b->next_order++;
        time_now_iso(bay->docked_at, sizeof(bay->docked_at));
        snprintf(bay->id.serial, sizeof(bay->id.serial), "%s", d->udev_serial);
        pthread_mutex_lock(&b->mu);
        struct bay **tail = &b->list;
        while (*tail)
                tail = &(*tail)->next;
        *tail = bay;
        pthread_mutex_unlock(&b->mu);
        log_info("bay %s: recorder docked (%s, USB %s:%s)", d->bay, d->devnode, d->vendor_id, d->product_id);
        start_waiting(b);
}

static void record_undocked(struct bays *b, struct bay *bay)
{
        if (!bay->session_id)
                return;
        char err[256];
        struct catalog *cat = NULL;
        if (catalog_open_in(b->cfg->state_dir, &cat, err, sizeof(err)) == 0)
                catalog_session_set_undocked(cat, bay->session_id);
        catalog_close(cat);
}

static void unlink_bay(struct bays *b, struct bay *bay)
{
        pthread_mutex_lock(&b->mu);
        for (struct bay **p = &b->list; *p; p = &(*p)->next)
                if (*p == bay) {
                        *p = bay->next;
                        break;
                }
        pthread_mutex_unlock(&b->mu);
        free(bay);
}

void bays_undock(struct bays *b, const char *syspath)
{
        for (struct bay *bay = b->list; bay; bay = bay->next) {
                if (bay->undocked || (strcmp(bay->dock.syspath, syspath) != 0 && strcmp(bay->dock.usb_syspath, syspath) != 0))
                        continue;
                pthread_mutex_lock(&b->mu);     /* check_collision() reads it on a bay thread */
                bay->undocked = true;
                bool safe = bay->safe_to_remove;
                pthread_mutex_unlock(&b->mu);
                bay->cancel = 1;
                if (bay->started && !bay->joined) {
                        /* the ingest thread ends at its next block; bays_reap() finishes up */
                        log_warn("bay %s: recorder pulled while ingesting; the session is interrupted and resumes on re-dock",
                                 bay->dock.bay);
                        return;
                }
                log_info("bay %s: recorder removed%s", bay->dock.bay,
                         !bay->started ? " before its ingest began" : safe ? "" : " before it was safe to remove");
                record_undocked(b, bay);
                unlink_bay(b, bay);
                return;
        }
}

void bays_reap(struct bays *b)
{
        uint64_t n;
        while (read(b->notify_fd, &n, sizeof(n)) > 0)
                ;
        for (struct bay *bay = b->list, *next; bay; bay = next) {
                next = bay->next;
                pthread_mutex_lock(&b->mu);
                bool finished = bay->finished;
                pthread_mutex_unlock(&b->mu);
                if (!finished || bay->joined || !bay->started)
                        continue;
                pthread_join(bay->thread, NULL);
                bay->joined = true;
                b->running--;
                if (bay->undocked) {
                        record_undocked(b, bay);
                        unlink_bay(b, bay);
                }
                /* a finished bay still docked stays listed: its state, "safe to remove" */
        }
        start_waiting(b);
}

unsigned bays_active(struct bays *b) { return b->running; }

void bays_shutdown(struct bays *b)
{
        b->stopping = true;
        for (struct bay *bay = b->list; bay; bay = bay->next)
                bay->cancel = 1;
        /* Each running ingest stops at its next block and records the session. */
        bays_reap(b);
        while (b->running > 0) {
                usleep(20000);
                bays_reap(b);
        }
}

void bays_free(struct bays *b)
{
        if (!b)
                return;
        for (struct bay *bay = b->list, *next; bay; bay = next) {
                next = bay->next;
                free(bay);
        }
        close(b->notify_fd);
        pthread_mutex_destroy(&b->mu);
        free(b);
}

void bays_status_json(struct bays *b, FILE *f)
{
        pthread_mutex_lock(&b->mu);
        json_kv(f, "{\"station\":", b->cfg->station_id);
        fprintf(f, ",\"max_parallel\":%u,\"bays\":[", b->cfg->max_parallel);
        double now = time_mono();
        bool first = true;
        for (struct bay *bay = b->list; bay; bay = bay->next) {
                if (bay->undocked)
                        continue;
                const struct ingest_progress *p = &bay->prog;
                double eta;
                double rate = ingest_progress_rate(p, now, &eta);
                if (eta < 0)
                        eta = 0;
                fprintf(f, "%s{\"bay\":", first ? "" : ",");
                first = false;
                json_string(f, bay->dock.bay);
                json_kv(f, ",\"devnode\":", bay->dock.devnode);
                json_kv(f, ",\"serial\":", bay->id.serial);
                json_kv(f, ",\"identity_flag\":", bay->id.flag[0] ? bay->id.flag : NULL);
                json_kv(f, ",\"vendor\":", bay->dock.vendor);
                json_kv(f, ",\"model\":", bay->dock.model);
                json_kv(f, ",\"officer\":", bay->officer[0] ? bay->officer : NULL);
                json_kv(f, ",\"docked_at\":", bay->docked_at);
                json_kv(f, ",\"wipe\":", bay->wipe[0] ? bay->wipe : NULL);
                json_kv(f, ",\"state\":", phase_name(bay));
                fprintf(f, ",\"queued\":%s,\"session\":%lld,\"files_done\":%zu,\"files_total\":%zu,"
                           "\"bytes_done\":%lld,\"bytes_total\":%lld,\"rate_bps\":%.0f,\"eta_s\":%.0f,"
                           "\"files_under_copied\":%lld,\"safe_to_remove\":%s,\"error\":",
                        !bay->started && bay->phase == BAY_DOCKED ? "true" : "false", (long long)bay->session_id,
                        p->file_index < p->n_files ? p->file_index : p->n_files, p->n_files,
                        (long long)p->bytes_done, (long long)p->bytes_total, rate, eta,
                        (long long)bay->files_under_copied, bay->safe_to_remove ? "true" : "false");
                json_string(f, bay->error[0] ? bay->error : NULL);
                fputc('}', f);
        }
        fputc(']', f);
        pthread_mutex_unlock(&b->mu);
}

void bays_metrics(struct bays *b, struct bay_metrics *m)
{
        memset(m, 0, sizeof(*m));
        pthread_mutex_lock(&b->mu);
        double now = time_mono();
        for (struct bay *bay = b->list; bay; bay = bay->next) {
                if (bay->undocked)
                        continue;
                m->docked++;
                if (bay->phase == BAY_INGESTING) {
                        double eta;
                        m->ingesting++;
                        m->rate_bps += ingest_progress_rate(&bay->prog, now, &eta);
                        m->bytes_in_flight += bay->prog.bytes_done;
                } else if (bay->phase == BAY_DONE && bay->safe_to_remove)
                        m->safe_to_remove++;
        }
        m->bytes_copied = b->bytes_copied;
        m->files_copied = b->files_copied;
        pthread_mutex_unlock(&b->mu);
}

void bays_status_text(struct bays *b, FILE *f)
{
        pthread_mutex_lock(&b->mu);
        double now = time_mono();
        size_t n = 0;
        fprintf(f, "%-28s %-18s %-10s %-12s %-24s %10s %7s  %s\n", "BAY", "DEVICE", "OFFICER", "STATE", "PROGRESS",
                "RATE", "ETA", "SAFE TO REMOVE");
        for (struct bay *bay = b->list; bay; bay = bay->next) {
                if (bay->undocked)
                        continue;
                n++;
                const struct ingest_progress *p = &bay->prog;
                double eta_s;
                double rate = ingest_progress_rate(p, now, &eta_s);
                double frac = p->bytes_total > 0 ? (double)p->bytes_done / p->bytes_total : (bay->phase == BAY_DONE);
                if (frac > 1)
                        frac = 1;
                char bar[32], r[32] = "-", eta[48] = "-";
                int fill = (int)(frac * 12 + 0.5);
                snprintf(bar, sizeof(bar), "[%.*s%.*s] %3d%%", fill, "############", 12 - fill, "............",
                         (int)(frac * 100 + 0.5));
                if (bay->phase == BAY_INGESTING && rate > 0) {
                        format_bytes(rate, r, sizeof(r));
                        strcat(r, "/s");
                        if (eta_s >= 0)
                                snprintf(eta, sizeof(eta), "%ld:%02ld", (long)eta_s / 60, (long)eta_s % 60);
                }
                const char *safe = bay->phase != BAY_DONE ? "no, wait"
                                   : bay->safe_to_remove ? "YES" : "NO: see error";
                fprintf(f, "%-28.28s %-18.18s %-10s %-12s %-24s %10s %7s  %s\n", bay->dock.bay,
                        bay->id.serial[0] ? bay->id.serial : "?", bay->officer[0] ? bay->officer : "-",
                        !bay->started && bay->phase == BAY_DOCKED ? "waiting" : phase_name(bay), bar, r, eta, safe);
                if (bay->error[0])
                        fprintf(f, "    ! %s\n", bay->error);
                if (bay->wipe[0])
                        fprintf(f, "    %s\n", bay->wipe);
        }
        if (!n)
                fprintf(f, "no recorder docked\n");
        pthread_mutex_unlock(&b->mu);
}
