/* alarms.c — see alarms.h. */
#include "alarms.h"

#include <errno.h>
#include <string.h>

#include "log.h"
#include "output.h"
#include "target.h"
#include "util.h"

int archive_view_get(const struct config *cfg, struct catalog *cat, struct archive_view *v)
{
        char now[32], warn[32];
        v->now = clock_now();
        time_iso(v->now, now, sizeof(now));
        time_iso(v->now + (int64_t)cfg->archive_warn_margin_h * 3600, warn, sizeof(warn));
        int r = catalog_outbox_status(cat, now, warn, &v->o);
        if (r < 0)
                return r;
        int64_t oldest = time_parse_iso(v->o.oldest_created), next = time_parse_iso(v->o.next_deadline);
        v->oldest_age_s = oldest < 0 ? -1 : v->now - oldest;
        v->next_deadline_in_s = next < 0 ? INT64_MIN : next - v->now;
        return 0;
}

static struct alarm *add(struct alarm_list *l, const char *name, bool warning, int64_t count)
{
        if (l->n == ALARMS_MAX)
                return NULL;
        struct alarm *a = &l->a[l->n++];
        snprintf(a->name, sizeof(a->name), "%s", name);
        a->warning = warning;
        a->count = count;
        a->text[0] = '\0';
        return a;
}

static void archive_alarms(const struct config *cfg, const struct archive_view *v, struct alarm_list *l)
{
        const struct outbox_status *o = &v->o;
        const char *why = o->last_error[0] ? o->last_error : "no attempt yet";
        struct alarm *a;
        if (o->overdue && (a = add(l, "archive-overdue", false, o->overdue)))
                snprintf(a->text, sizeof(a->text),
                         "%lld manifest(s) past their %u h delivery deadline (earliest %s); last error: %s",
                         (long long)o->overdue, cfg->archive_deadline_h, o->next_deadline, why);
        if (o->near && (a = add(l, "archive-deadline-near", true, o->near)))
                snprintf(a->text, sizeof(a->text),
                         "%lld manifest(s) undelivered with less than %u h to their deadline (next %s); last error: %s",
                         (long long)o->near, cfg->archive_warn_margin_h, o->next_deadline, why);
        if (o->integrity && (a = add(l, "archive-integrity", false, o->integrity)))
                snprintf(a->text, sizeof(a->text),
                         "%lld manifest(s) conflict with a different manifest of the same name at the archive: "
                         "compare both before anything else",
                         (long long)o->integrity);
        if (o->rejected > o->integrity && (a = add(l, "archive-rejected", false, o->rejected - o->integrity)))
                snprintf(a->text, sizeof(a->text),
                         "%lld manifest(s) refused by the archive (%s); fix the cause, then `dockctl archive retry`",
                         (long long)(o->rejected - o->integrity), why);
}

static void target_alarms(const struct config *cfg, struct catalog *cat, struct alarm_list *l)
{
        for (size_t i = 0; i < cfg->n_targets; i++) {
                const struct target_conf *tc = &cfg->targets[i];
                char why[300], name[64];
                int64_t free_bytes;
                struct alarm *a;
                int write_once = -1;
                if (tc->type == TARGET_S3 &&
                    catalog_target_write_once(cat, tc->name, &write_once, why, sizeof(why)) == 0 && write_once == 0) {
                        snprintf(name, sizeof(name), "target-not-write-once:%.32s", tc->name);
                        if ((a = add(l, name, false, 1)))
                                snprintf(a->text, sizeof(a->text),
                                         "target %s did not prove write-once at start (%.200s): its copies could be "
                                         "deleted or replaced; enable Object Lock on the bucket",
                                         tc->name, why);
                }
                if (target_probe(tc, &free_bytes, why, sizeof(why)) < 0) {
                        snprintf(name, sizeof(name), "target-unavailable:%.32s", tc->name);
                        if ((a = add(l, name, false, 1)))
                                snprintf(a->text, sizeof(a->text),
                                         "target %s cannot take copies (%s); recordings stay under-copied until it is "
                                         "back",
                                         tc->name, why);
                } else if (free_bytes >= 0 && free_bytes < (int64_t)cfg->alarm_min_free_gib << 30) {
                        char b[32];
                        format_bytes((double)free_bytes, b, sizeof(b));
                        snprintf(name, sizeof(name), "target-low-space:%.32s", tc->name);
                        if ((a = add(l, name, true, 1)))
                                snprintf(a->text, sizeof(a->text),
                                         "target %s has %s free (alarm below %u GiB): add storage "
                                         "or move old copies per the retention policy",
                                         tc->name, b, cfg->alarm_min_free_gib);
                }
        }
}

static void archive_unreachable(const struct archive_view *v, struct alarm_list *l)
{
        const struct outbox_status *o = &v->o;
        struct alarm *a;
        /* Queued with a failure on record: the archive did not take the last attempt. */
        if (o->queued && o->last_error[0] && !o->overdue && (a = add(l, "archive-unreachable", true, o->queued)))
                snprintf(a->text, sizeof(a->text),
                         "%lld manifest(s) waiting; the archive did not take the last attempt (%s)",
                         (long long)o->queued, o->last_error);
}

static void ledger_alarms(const struct config *cfg, const struct ledger_counts *k, struct alarm_list *l)
{
        struct alarm *a;
        if (k->clock_devices && (a = add(l, "device-clock-offset", true, k->clock_devices)))
                snprintf(a->text, sizeof(a->text),
                         "%lld device(s) docked with a clock more than %u s off (e.g. %s); "
                         "times are corrected, but set the device's clock",
                         (long long)k->clock_devices, cfg->alarm_clock_offset_s, k->clock_example);
        if (k->unattributed && (a = add(l, "unattributed-recordings", true, k->unattributed)))
                snprintf(a->text, sizeof(a->text),
                         "%lld recording(s) have no officer: `dockctl recordings --flag "
                         "unattributed`, then `dockctl reattribute`",
                         (long long)k->unattributed);
        if (k->lost && (a = add(l, "recording-lost", false, k->lost)))
                snprintf(a->text, sizeof(a->text),
                         "%lld recording(s) have no good copy left (scrub): `dockctl scrub` "
                         "findings; restore from the archive's or a backup's copy",
                         (long long)k->lost);
        if (k->unread_sessions && (a = add(l, "device-not-fully-read", false, k->unread_sessions)))
                snprintf(a->text, sizeof(a->text),
                         "%lld dock session(s) in the last 24 h could not read, walk or tell "
                         "apart everything on the device (latest: %s); those recorders are not safe to wipe or reuse: "
                         "`dockctl sessions --device SERIAL` names what",
                         (long long)k->unread_sessions, k->unread_example);
        if (k->deleted_recent && (a = add(l, "deleted-on-device", true, k->deleted_recent)))
                snprintf(a->text, sizeof(a->text),
                         "%lld file(s) deleted on recorders before docking in the last 24 h: "
                         "`dockctl recordings --flag deleted-on-device`",
                         (long long)k->deleted_recent);
}

int alarms_collect(const struct config *cfg, struct catalog *cat, struct alarm_list *out)
{
        out->n = 0;
        struct archive_view v;
        struct ledger_counts k;
        char since[32];
        int r = archive_view_get(cfg, cat, &v);
        if (r < 0)
                return r;
        time_iso(v.now - 86400, since, sizeof(since));
        if ((r = catalog_ledger_counts(cat, cfg->alarm_clock_offset_s, since, &k)) < 0)
                return r;
        archive_alarms(cfg, &v, out);
        archive_unreachable(&v, out);
        target_alarms(cfg, cat, out);
        ledger_alarms(cfg, &k, out);
        return 0;
}

void alarms_json(const struct alarm_list *l, FILE *f)
{
        fputc('[', f);
        for (size_t i = 0; i < l->n; i++) {
                json_kv(f, i ? ",{\"name\":" : "{\"name\":", l->a[i].name);
                fprintf(f, ",\"severity\":\"%s\",\"count\":%lld", l->a[i].warning ? "warning" : "alarm",
                        (long long)l->a[i].count);
                json_kv(f, ",\"text\":", l->a[i].text);
                fputc('}', f);
        }
        fputc(']', f);
}

void alarms_text(const struct alarm_list *l, FILE *f)
{
        for (size_t i = 0; i < l->n; i++)
                fprintf(f, "%s %s: %s\n", l->a[i].warning ? "WARNING" : "ALARM", l->a[i].name, l->a[i].text);
}

static const struct alarm *find(const struct alarm_list *l, const char *name)
{
        for (size_t i = 0; i < l->n; i++)
                if (strcmp(l->a[i].name, name) == 0)
                        return &l->a[i];
        return NULL;
}

void alarms_log_changes(struct alarm_list *prev, const struct alarm_list *now)
{
        for (size_t i = 0; i < now->n; i++) {
                const struct alarm *a = &now->a[i], *p = find(prev, a->name);
                if (p && p->count >= a->count)
                        continue;
                log_event(a->warning ? LOG_LEVEL_WARN : LOG_LEVEL_ERR, LOG_MID_ALARM, a->name, "%s %s: %s",
                          a->warning ? "WARNING" : "ALARM", a->name, a->text);
        }
        for (size_t i = 0; i < prev->n; i++)
                if (!find(now, prev->a[i].name))
                        log_event(LOG_LEVEL_INFO, LOG_MID_ALARM_CLEARED, prev->a[i].name, "cleared %s (was: %s)",
                                  prev->a[i].name, prev->a[i].text);
        *prev = *now;
}
