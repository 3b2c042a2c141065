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

/* The driver for the model: the clock request only where [recorders] clock says it is answered. */
static const struct driver_ops *driver_for(const struct config *cfg, const struct dock_info *d)
{
        return config_has_clock(cfg, (unsigned)strtoul(d->vendor_id, NULL, 16),
                                (unsigned)strtoul(d->product_id, NULL, 16))
                       ? &driver_msc_clock
                       : &driver_msc;
}

/* The device's clock against the station's, at dock time: recording times
 * are corrected by it. */
static void read_clock(const struct driver_ops *drv, const struct dock_info *d, const char *serial,
                       struct ingest_opts *o)
{
        struct timespec device_time;
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
static void wipe(const struct dock_session *s, const struct driver_ops *drv, struct catalog *cat,
                 const struct recorder_identity *id, int r, const struct ingest_result *res, const struct dock_hooks *h)
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
                wiped = drv->wipe(s->dock, what, sizeof(what)) == 0;
        _cleanup_free_ char *object = xasprintf("device %s session %lld", id->serial, (long long)res->session_id);
        if (catalog_session_set_wipe(cat, res->session_id, what, wiped) < 0 ||
            audit_append(cat, "dockd", "station", wiped ? "wipe" : "wipe.skipped", object, what) < 0)
                log_error("bay %s: cannot record the wipe: %s", s->dock->bay, catalog_errmsg(cat));
        log_event(wiped ? LOG_LEVEL_INFO : LOG_LEVEL_WARN, LOG_MID_WIPE, NULL, "bay %s: %s: %s", s->dock->bay,
                  id->serial, what);
        if (h->wiped)
                h->wiped(h->ud, what);
}

void dock_run(const struct dock_session *s, const struct dock_hooks *h, struct dock_result *out)
{
        memset(out, 0, sizeof(*out));
        out->state = "failed";
        struct ingest_result res = { 0 };
        struct catalog *cat = NULL;
        struct recorder_identity id;
        const struct driver_ops *drv = driver_for(s->cfg, s->dock);
        int r = drv->identify(s->dock, &id, out->error, sizeof(out->error));
        if (r < 0) {
                log_error("bay %s: cannot identify %s: %s", s->dock->bay, s->dock->devnode, out->error);
                goto done;
        }
        log_context_device(id.serial, 0);
        if (h->identified)
                h->identified(h->ud, &id);
        log_info("bay %s: %s %s serial %s%s%s docked (%s)", s->dock->bay, id.vendor, id.model, id.serial,
                 id.flag[0] ? ", flagged " : "", id.flag, s->dock->devnode);
        if ((r = catalog_open_in(s->cfg->state_dir, &cat, out->error, sizeof(out->error))) < 0) {
                log_error("bay %s: %s", s->dock->bay, out->error);
                goto done;
        }
        char officer[64] = "";
        if (catalog_officer_assigned_at(cat, id.serial, s->docked_at, officer, sizeof(officer)) == 0 && officer[0] &&
            h->officer)
                h->officer(h->ud, officer);
        struct ingest_opts o = {
                .source = s->dock->devnode,
                .serial = id.serial,
                .identity = &id,
                .cancel = s->cancel,
                .on_progress = h->progress,
                .ud = h->ud,
        };
        read_clock(drv, s->dock, id.serial, &o);
        r = ingest_run(s->ingest_cfg, cat, &o, &res);
        out->state = res.state;
        if (s->cfg->wipe_verified && res.session_id)
                wipe(s, drv, cat, &id, r, &res, h);
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
        /* Safe to remove: the session is complete, so every entry of every
         * filesystem on it is accounted for with its verified copies. An
         * incomplete one keeps the bay's warning: the recorder goes to the
         * custodian, not back into service. */
        out->safe_to_remove = r >= 0 && res.n.files_under_copied == 0 && strcmp(out->state, "complete") == 0;
}
