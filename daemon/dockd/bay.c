/* bay.c — see bay.h: scheduling. Each bay's dock session (dock.c) runs on a
 * thread of its own with its own catalog connection (SQLite WAL serialises
 * the writers); the event loop thread owns the list and everything else.
 * What the station shows of the bays is bay_status.c. */
#include "bay.h"
#include "bay_internal.h"
#include "dock.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "ingest.h"
#include "log.h"
#include "util.h"

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
        bay->prog.device_path = NULL; /* points into the ingest's listing */
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
                        identity_set_apart(bay->id.serial, sizeof(bay->id.serial), bay->id.flag, sizeof(bay->id.flag),
                                           bay->dock.bay);
                        break;
                }
        bay->phase = BAY_INGESTING;
        pthread_mutex_unlock(&b->mu);
}

static void on_identified(void *ud, struct recorder_identity *id)
{
        struct bay *bay = ud;
        pthread_mutex_lock(&bay->owner->mu);
        bay->id = *id;
        pthread_mutex_unlock(&bay->owner->mu);
        check_collision(bay);
        *id = bay->id; /* set apart, if it was */
}

static void on_officer(void *ud, const char *badge)
{
        struct bay *bay = ud;
        pthread_mutex_lock(&bay->owner->mu);
        snprintf(bay->officer, sizeof(bay->officer), "%s", badge);
        pthread_mutex_unlock(&bay->owner->mu);
}

static void on_step(void *ud, const char *what)
{
        struct bay *bay = ud;
        pthread_mutex_lock(&bay->owner->mu);
        bay->phase = BAY_UNLOCKING;
        snprintf(bay->step, sizeof(bay->step), "%s", what);
        pthread_mutex_unlock(&bay->owner->mu);
}

static void on_reported(void *ud, const struct device_report *rep)
{
        struct bay *bay = ud;
        pthread_mutex_lock(&bay->owner->mu);
        bay->battery_pct = rep->battery_pct;
        snprintf(bay->reported_badge, sizeof(bay->reported_badge), "%s", rep->badge);
        snprintf(bay->reported_name, sizeof(bay->reported_name), "%s", rep->officer_name);
        pthread_mutex_unlock(&bay->owner->mu);
}

static int wait_card(void *ud, unsigned timeout_s, struct dock_info *card)
{
        struct bay *bay = ud;
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += timeout_s;
        int r = 0;
        pthread_mutex_lock(&bay->owner->mu);
        /* Woken by bays_dock() (the card) or, for a pull or shutdown, checked
         * every 200 ms: the cancel flag is set without the lock. */
        while (!bay->card_ready && !bay->cancel && r == 0) {
                struct timespec now, step;
                clock_gettime(CLOCK_MONOTONIC, &now);
                if (now.tv_sec > until.tv_sec || (now.tv_sec == until.tv_sec && now.tv_nsec >= until.tv_nsec)) {
                        r = -ETIMEDOUT;
                        break;
                }
                step = now;
                step.tv_nsec += 200 * 1000000L;
                if (step.tv_nsec >= 1000000000L) {
                        step.tv_sec++;
                        step.tv_nsec -= 1000000000L;
                }
                pthread_cond_timedwait(&bay->card_cond, &bay->owner->mu, &step);
        }
        if (bay->card_ready)
                *card = bay->card, r = 0;
        else if (bay->cancel)
                r = -ECANCELED;
        pthread_mutex_unlock(&bay->owner->mu);
        return r;
}

static void on_wiped(void *ud, const char *what)
{
        struct bay *bay = ud;
        pthread_mutex_lock(&bay->owner->mu);
        snprintf(bay->wipe, sizeof(bay->wipe), "%s", what);
        pthread_mutex_unlock(&bay->owner->mu);
}

/* The bay's thread: the dock session's lifecycle (dock.c), then its result. */
static void *bay_main(void *arg)
{
        struct bay *bay = arg;
        struct bays *b = bay->owner;
        pthread_mutex_lock(&b->mu);
        bay->phase = BAY_IDENTIFYING;
        pthread_mutex_unlock(&b->mu);
        /* A recorder's link (USB 2.0) is slow: bays share one memory budget
         * rather than each taking what a single `dockctl ingest` may use. */
        struct config bay_cfg = *b->cfg;
        bay_cfg.chunk_size = b->chunk_size;
        bay_cfg.chunks = b->chunks;
        struct dock_session s = { .cfg = b->cfg,
                                  .ingest_cfg = &bay_cfg,
                                  .dock = &bay->dock,
                                  .docked_at = bay->docked_at,
                                  .cancel = &bay->cancel };
        struct dock_hooks h = { .ud = bay,
                                .identified = on_identified,
                                .officer = on_officer,
                                .progress = on_progress,
                                .wiped = on_wiped,
                                .step = on_step,
                                .reported = on_reported,
                                .wait_card = wait_card };
        struct dock_result res;
        dock_run(&s, &h, &res);
        pthread_mutex_lock(&b->mu);
        bay->phase = BAY_DONE;
        bay->result = res.state;
        bay->reason = res.reason;
        bay->session_id = res.session_id;
        bay->files_seen = res.files_seen;
        bay->files_under_copied = res.files_under_copied;
        b->bytes_copied += res.bytes_copied;
        b->files_copied += res.files_copied;
        b->errors += res.errors;
        b->readback_mismatches += res.readback_mismatches;
        snprintf(bay->error, sizeof(bay->error), "%s", res.error);
        bay->safe_to_remove = res.safe_to_remove;
        bay->finished = true;
        pthread_mutex_unlock(&b->mu);
        log_event(bay->safe_to_remove ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, LOG_MID_SESSION_END, NULL,
                  "bay %s: %s: %s%s%s%s", bay->dock.bay, bay->id.serial, res.state,
                  bay->safe_to_remove ? ", safe to remove" : ", NOT safe to remove", res.error[0] ? "; " : "",
                  res.error);
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

/* The card of a locked recorder this bay unlocks, appearing on its USB
 * device: handed to the bay's thread. */
static bool hand_over_card(struct bays *b, const struct dock_info *d)
{
        for (struct bay *bay = b->list; bay; bay = bay->next) {
                if (bay->undocked || !bay->dock.locked || strcmp(bay->dock.usb_syspath, d->usb_syspath) != 0)
                        continue;
                pthread_mutex_lock(&b->mu);
                bool taken = bay->card_ready || bay->phase == BAY_DONE;
                if (!taken) {
                        bay->card = *d;
                        bay->card_ready = true;
                        pthread_cond_signal(&bay->card_cond);
                }
                pthread_mutex_unlock(&b->mu);
                if (taken)
                        return strcmp(bay->card.syspath, d->syspath) == 0; /* the same card told twice */
                log_info("bay %s: the card appeared (%s)", d->bay, d->devnode);
                return true;
        }
        return false;
}

void bays_dock(struct bays *b, const struct dock_info *d)
{
        for (struct bay *bay = b->list; bay; bay = bay->next)
                if (strcmp(bay->dock.syspath, d->syspath) == 0 && !bay->undocked)
                        return; /* coldplug and an add event for the same device */
        if (!d->locked && hand_over_card(b, d))
                return;
        struct bay *bay = calloc(1, sizeof(*bay));
        if (!bay)
                return;
        bay->owner = b;
        bay->battery_pct = -1;
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC); /* wait_card() counts on the monotonic clock */
        pthread_cond_init(&bay->card_cond, &ca);
        pthread_condattr_destroy(&ca);
        bay->dock = *d;
        bay->order = b->next_order++;
        time_now_iso(bay->docked_at, sizeof(bay->docked_at));
        identity_safe_serial(bay->id.serial, sizeof(bay->id.serial), d->udev_serial); /* until identified */
        pthread_mutex_lock(&b->mu);
        struct bay **tail = &b->list;
        while (*tail)
                tail = &(*tail)->next;
        *tail = bay;
        pthread_mutex_unlock(&b->mu);
        log_info("bay %s: recorder docked (%s, USB %s:%s%s)", d->bay, d->devnode, d->vendor_id, d->product_id,
                 d->locked ? ", locked: no card yet" : "");
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
        pthread_cond_destroy(&bay->card_cond);
        free(bay);
}

void bays_not_recorder(struct bays *b, const char *syspath, const char *port, const char *what, const char *why)
{
        struct not_recorder *n = calloc(1, sizeof(*n));
        if (!n)
                return;
        snprintf(n->syspath, sizeof(n->syspath), "%s", syspath);
        snprintf(n->port, sizeof(n->port), "%s", port);
        snprintf(n->what, sizeof(n->what), "%s", what);
        snprintf(n->why, sizeof(n->why), "%s", why);
        pthread_mutex_lock(&b->mu);
        n->next = b->others;
        b->others = n;
        pthread_mutex_unlock(&b->mu);
}

static void forget_not_recorder(struct bays *b, const char *syspath)
{
        pthread_mutex_lock(&b->mu);
        for (struct not_recorder **p = &b->others; *p;)
                if (strcmp((*p)->syspath, syspath) == 0) {
                        struct not_recorder *n = *p;
                        *p = n->next;
                        free(n);
                } else {
                        p = &(*p)->next;
                }
        pthread_mutex_unlock(&b->mu);
}

void bays_undock(struct bays *b, const char *syspath)
{
        forget_not_recorder(b, syspath);
        for (struct bay *bay = b->list; bay; bay = bay->next) {
                if (bay->undocked ||
                    (strcmp(bay->dock.syspath, syspath) != 0 && strcmp(bay->dock.usb_syspath, syspath) != 0))
                        continue;
                pthread_mutex_lock(&b->mu); /* check_collision() reads it on a bay thread */
                bay->undocked = true;
                bool safe = bay->safe_to_remove;
                pthread_mutex_unlock(&b->mu);
                bay->cancel = 1;
                if (bay->started && !bay->joined) {
                        /* the ingest thread ends at its next block; bays_reap() finishes up */
                        log_warn("bay %s: recorder pulled while ingesting; the session is interrupted and resumes on "
                                 "re-dock",
                                 bay->dock.bay);
                        return;
                }
                log_info("bay %s: recorder removed%s", bay->dock.bay,
                         !bay->started ? " before its ingest began"
                         : safe        ? ""
                                       : " before it was safe to remove");
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
                pthread_cond_destroy(&bay->card_cond);
                free(bay);
        }
        for (struct not_recorder *n = b->others, *next; n; n = next) {
                next = n->next;
                free(n);
        }
        close(b->notify_fd);
        pthread_mutex_destroy(&b->mu);
        free(b);
}
