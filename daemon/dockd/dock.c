/* dock.c — see dock.h. Runs on the bay's thread with a catalog connection
 * of its own. */
#include "dock.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "catalog.h"
#include "log.h"
#include "util.h"

/* The device's clock against the station's, at dock time: recording times
 * are corrected by it. */
static void read_clock(const struct driver_ops *drv, const struct dock_info *d, const char *serial,
                       struct ingest_opts *o)
{
        struct timespec device_time;
        if (!drv->read_clock)
                return;
        int r = drv->read_clock(d, &device_time);
        if (r == 0) {
                o->has_clock_offset = true;
                o->clock_offset_s = (int64_t)device_time.tv_sec - clock_now();
                log_info("bay %s: %s clock is %+llds off the station's", d->bay, serial, (long long)o->clock_offset_s);
        } else if (r != -EOPNOTSUPP)
                log_warn("bay %s: cannot read the clock of %s: %s; times are taken as UTC", d->bay, serial,
                         strerror(-r));
}

/* [policy] wipe = verified: only once every recording on the recorder has
 * its verified copies, and before "safe to remove". Recorded and audited. */
static void wipe(const struct dock_session *s, const struct driver_ops *drv, const struct dock_info *vol,
                 struct catalog *cat, const struct recorder_identity *id, int r, const struct ingest_result *res,
                 const struct dock_hooks *h)
{
        char what[320] = "";
        bool wiped = false;
        if (r < 0 || (s->cancel && *s->cancel) || strcmp(res->state, "complete") != 0)
                snprintf(what, sizeof(what), "not wiped: the session ended %s", res->state ? res->state : "failed");
        else if (res->n.files_under_copied)
                snprintf(what, sizeof(what), "not wiped: %lld recording(s) lack their %d verified copies",
                         (long long)res->n.files_under_copied, s->cfg->copies);
        else if (res->n_errors)
                snprintf(what, sizeof(what), "not wiped: errors during the ingest (%.200s)", res->error);
        else
                wiped = drv->wipe(vol, what, sizeof(what)) == 0;
        _cleanup_free_ char *object = xasprintf("device %s session %lld", id->serial, (long long)res->session_id);
        if (catalog_session_set_wipe(cat, res->session_id, what, wiped) < 0 ||
            audit_append(cat, "dockd", "station", wiped ? "wipe" : "wipe.skipped", object, what) < 0)
                log_error("bay %s: cannot record the wipe: %s", s->dock->bay, catalog_errmsg(cat));
        log_event(wiped ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, LOG_MID_WIPE, NULL, "bay %s: %s: %s", s->dock->bay,
                  id->serial, what);
        if (h->wiped)
                h->wiped(h->ud, what);
}

/* The driver's part before the ingest: what the device says of itself, its
 * clock, and for a locked recorder the unlock and the wait for its card
 * (*vol: the volume to ingest then). -errno with the bay's reason in err. */
static int talk(const struct dock_session *s, const struct driver_ops *drv, const struct recorder_model *m,
                const struct dock_hooks *h, struct device_report *rep, struct dock_info *vol, const char **reason,
                char *err, size_t err_size)
{
        struct driver_call c = {
                .dock = s->dock, .model = m, .timezone = s->cfg->timezone, .cancel = s->cancel, .reason = reason
        };
        int r;
        *vol = *s->dock;
        if (!drv->query)
                return 0;
        if (s->dock->locked && h->step)
                h->step(h->ud, "unlocking");
        if ((r = drv->query(&c, rep, err, err_size)) < 0)
                return r;
        *reason = NULL; /* a step that failed without failing the query (the clock) is no reason */
        if (h->reported)
                h->reported(h->ud, rep);
        if (!s->dock->locked)
                return 0; /* its card is already a disk */
        if ((r = drv->unlock(&c, err, err_size)) < 0)
                return r;
        if (h->step)
                h->step(h->ud, "waiting for the card");
        log_info("bay %s: recorder unlocked; waiting up to %u s for its card", s->dock->bay, m->unlock_timeout_s);
        r = h->wait_card ? h->wait_card(h->ud, m->unlock_timeout_s, vol) : -ETIMEDOUT;
        if (r < 0)
                *reason = r == -ETIMEDOUT ? "card-timeout" : "interrupted";
        if (r == -ETIMEDOUT)
                snprintf(err, err_size,
                         "the recorder was unlocked but its card did not appear within %u s: undock it and dock it "
                         "again; if it repeats, hand it to the custodian",
                         m->unlock_timeout_s);
        else if (r < 0)
                snprintf(err, err_size, "pulled or stopped while waiting for the card");
        return r;
}

/* The identity the device shows now against the one its serial is bound to
 * (USB serial, volume label): a recorder that disagrees is kept apart,
 * flagged, never merged with the bound one. */
static void check_binding(struct catalog *cat, const struct dock_info *vol, struct recorder_identity *id)
{
        char mismatch[256];
        if (catalog_device_bind(cat, id->serial, vol->udev_serial, vol->fs_label, mismatch, sizeof(mismatch)) < 0 ||
            !mismatch[0])
                return;
        log_warn("bay %s: %s: %s; recorded apart, flagged", vol->bay, id->serial, mismatch);
        /* SERIAL~TELL, TELL cut to fit at a whole character (it may be UTF-8) */
        char tell[64] = "";
        size_t n = strnlen(id->serial, sizeof(id->serial)), room = sizeof(id->serial) - n - 1;
        identity_safe_serial(tell, room < sizeof(tell) ? room : sizeof(tell),
                             vol->udev_serial[0] ? vol->udev_serial : vol->fs_label);
        snprintf(id->serial + n, sizeof(id->serial) - n, "~%s", tell);
        snprintf(id->flag, sizeof(id->flag), "%s", IDENTITY_SERIAL_MISMATCH);
}

void dock_run(const struct dock_session *s, const struct dock_hooks *h, struct dock_result *out)
{
        memset(out, 0, sizeof(*out));
        out->reason = NULL;
        out->state = "failed";
        struct ingest_result res = { 0 };
        struct catalog *cat = NULL;
        struct recorder_identity id;
        struct device_report rep = { .battery_pct = -1 };
        struct dock_info vol;
        int r = -EINVAL;
        const struct recorder_model *m = config_model(s->cfg, (unsigned)strtoul(s->dock->vendor_id, NULL, 16),
                                                      (unsigned)strtoul(s->dock->product_id, NULL, 16));
        if (!m) {
                snprintf(out->error, sizeof(out->error), "USB %s:%s is no configured recorder model",
                         s->dock->vendor_id, s->dock->product_id);
                goto done;
        }
        const struct driver_ops *drv = driver_for(m);
        r = talk(s, drv, m, h, &rep, &vol, &out->reason, out->error, sizeof(out->error));
        if (r < 0) {
                log_error("bay %s: %s", s->dock->bay, out->error);
                if (!out->reason) /* a command that timed out, or any other failure */
                        out->reason = r == -ETIMEDOUT ? "no-answer" : "device-error";
                goto done;
        }
        r = drv->identify(&vol, drv->query ? &rep : NULL, &id, out->error, sizeof(out->error));
        if (r < 0) {
                log_error("bay %s: cannot identify %s: %s", s->dock->bay, vol.devnode, out->error);
                out->reason = "device-error";
                goto done;
        }
        if ((r = catalog_open_in(s->cfg->state_dir, &cat, out->error, sizeof(out->error))) < 0) {
                log_error("bay %s: %s", s->dock->bay, out->error);
                out->reason = "station-error";
                goto done;
        }
        if (drv->query && !id.flag[0])
                check_binding(cat, &vol, &id);
        log_context_device(id.serial, 0);
        if (h->identified)
                h->identified(h->ud, &id);
        log_info("bay %s: %s %s serial %s%s%s docked (%s, driver %s)", s->dock->bay, id.vendor, id.model, id.serial,
                 id.flag[0] ? ", flagged " : "", id.flag, vol.devnode, drv->name);
        char officer[64] = "";
        if (catalog_officer_assigned_at(cat, id.serial, s->docked_at, officer, sizeof(officer)) == 0 && officer[0] &&
            h->officer)
                h->officer(h->ud, officer);
        struct session_report srep = {
                .badge = rep.badge,
                .officer_name = rep.officer_name,
                .unit_no = rep.unit_no,
                .unit_name = rep.unit_name,
                .id_code = rep.id_code,
                .battery_pct = rep.battery_pct,
                .clock_set_at = rep.clock_set_at,
                .clock_set_to = rep.clock_set_to,
                .info_error = rep.info_error,
        };
        /* The recorder's own name pattern, where its model has one. */
        struct config icfg = *s->ingest_cfg;
        if (m->name_pattern)
                icfg.name_pattern = m->name_pattern;
        struct ingest_opts o = {
                .source = vol.devnode,
                .report = drv->query ? &srep : NULL,
                .device_officer = rep.badge,
                .serial = id.serial,
                .identity = &id,
                .cancel = s->cancel,
                .on_progress = h->progress,
                .ud = h->ud,
        };
        if (m->clock == RECORDER_CLOCK_READ)
                read_clock(drv, &vol, id.serial, &o);
        r = ingest_run(&icfg, cat, &o, &res);
        out->state = res.state;
        if (drv->query && !id.flag[0]) {
                char mismatch[256];
                catalog_device_bind(cat, id.serial, vol.udev_serial, vol.fs_label, mismatch, sizeof(mismatch));
        }
        if (s->cfg->wipe_verified && res.session_id)
                wipe(s, drv, &vol, cat, &id, r, &res, h);
        if (r < 0 || res.n_errors)
                memcpy(out->error, res.error, sizeof(out->error));
        else if (res.n_unread)
                snprintf(out->error, sizeof(out->error), "not all of the device was read (%zu finding(s)): %.560s",
                         res.n_unread, res.unread);
done:
        catalog_close(cat);
        out->session_id = res.session_id;
        out->files_seen = res.n.files_seen;
        out->files_under_copied = res.n.files_under_copied;
        out->files_copied = res.n.files_copied;
        out->bytes_copied = res.n.bytes_copied;
        out->errors = (int64_t)res.n_errors;
        out->readback_mismatches = res.readback_mismatches;
        /* Safe to remove: the session is complete, so every entry of every
         * filesystem on it is accounted for with its verified copies. An
         * incomplete one keeps the bay's warning: the recorder goes to the
         * custodian, not back into service. */
        out->safe_to_remove = r >= 0 && res.n.files_under_copied == 0 && strcmp(out->state, "complete") == 0;
        if (!out->reason && !out->safe_to_remove)
                out->reason = !strcmp(out->state, "interrupted")                  ? "interrupted"
                              : res.n.files_under_copied                          ? "copies-missing"
                              : res.n_unread || !strcmp(out->state, "incomplete") ? "not-all-read"
                                                                                  : "error";
}
