/* station.c — see station.h. The targets' markers hold the catalog's
 * identity, the catalog holds the targets' copies: this file checks the one
 * against the other; target.c knows only the filesystem, the catalog only SQL. */
#include "station.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "forward.h"
#include "log.h"
#include "s3.h"
#include "util.h"

int station_target_check(const struct target_conf *tc, struct catalog *cat, char *err, size_t err_size)
{
        char id[33], name[128], mine[33];
        bool fresh;
        int r = target_marker_read(tc, name, sizeof(name), id);
        if (r < 0)
                return 0; /* no marker: station_target_open decides (new, or not mounted) */
        if ((r = catalog_identity(cat, mine, &fresh)) < 0) {
                snprintf(err, err_size, "catalog: %s", catalog_errmsg(cat));
                return r;
        }
        if (id[0] && strcmp(id, mine) != 0) {
                snprintf(err, err_size,
                         "target %s (%s) keeps the copies of catalog %s, but this catalog is %s%s: the "
                         "ledger of those copies is not here. Restore the station's catalog from its backup, or, to "
                         "start a new ledger on purpose, see \"Starting over\" in the README (dockctl catalog "
                         "accept-new)",
                         tc->name, tc->path, id, mine, fresh ? " (new and empty)" : "");
                return -ESTALE;
        }
        if (id[0] || strcmp(name, tc->name) != 0)
                return 0; /* ours; or another target's marker, which station_target_open refuses */
        /* A marker from before catalogs had an identity: it joins this catalog
         * if the catalog knows its copies or it holds none. */
        int64_t n = 0;
        if ((r = catalog_target_copies_by_name(cat, tc->name, &n)) < 0) {
                snprintf(err, err_size, "catalog: %s", catalog_errmsg(cat));
                return r;
        }
        if (n == 0 && target_holds_copies(tc)) {
                snprintf(err, err_size,
                         "target %s (%s) holds copies, but this catalog records none there: it is not the "
                         "ledger of those copies. Restore the station's catalog from its backup, or see \"Starting "
                         "over\" in the README (dockctl catalog accept-new)",
                         tc->name, tc->path);
                return -ESTALE;
        }
        if ((tc->type == TARGET_S3 || access(tc->path, W_OK) == 0) && (r = target_marker_write(tc, mine)) < 0) {
                snprintf(err, err_size, "target %s: cannot write its marker: %s", tc->name, strerror(-r));
                return r;
        }
        return 0;
}

int station_target_adopt(const struct target_conf *tc, struct catalog *cat, char *old_id, size_t old_size, char *err,
                         size_t err_size)
{
        char id[33], name[128], mine[33];
        bool fresh;
        int r = target_marker_read(tc, name, sizeof(name), id);
        snprintf(old_id, old_size, "%s", r == 0 && id[0] ? id : "none");
        if (r < 0)
                return 0;
        if (strcmp(name, tc->name) != 0) {
                snprintf(err, err_size, "target %s: %s belongs to target '%s'", tc->name, tc->path, name);
                return -EXDEV;
        }
        if ((r = catalog_identity(cat, mine, &fresh)) < 0 || (r = target_marker_write(tc, mine)) < 0) {
                snprintf(err, err_size, "target %s: cannot write its marker: %s", tc->name, strerror(-r));
                return r;
        }
        return 0;
}

int station_encryption_required(const struct target_conf *tc, char *err, size_t err_size)
{
        if (!tc->require_encryption)
                return 0;
        char what[400];
        int r = target_encryption(tc, what, sizeof(what));
        if (r > 0)
                return 0;
        snprintf(err, err_size,
                 "target %s (%s) is %s; [policy] require_encryption = yes refuses it: put it on an encrypted volume, "
                 "set an fscrypt policy on its directory, or give an S3 target an sse_c_key",
                 tc->name, tc->path, what);
        return -EPERM;
}

int station_target_open(struct target *t, const struct target_conf *tc, struct catalog *cat, char *err, size_t err_size)
{
        if (station_encryption_required(tc, err, err_size) < 0)
                return -EPERM;
        int r = tc->type == TARGET_S3 ? target_s3_open(t, tc, err, err_size) : target_open_dir(t, tc, 0, err, err_size);
        return r < 0 ? r : station_target_join(t, tc, cat, err, err_size);
}

int station_target_join(struct target *t, const struct target_conf *tc, struct catalog *cat, char *err, size_t err_size)
{
        int64_t id = 0;
        bool s3 = tc->type == TARGET_S3;
        int r;
        if ((r = catalog_target_ensure(cat, tc->name, s3 ? "s3" : "fs", tc->path, &id)) < 0) {
                snprintf(err, err_size, "target %s: cannot register in catalog: %s", tc->name, catalog_errmsg(cat));
                goto fail;
        }
        t->id = id;
        if ((r = station_target_check(tc, cat, err, err_size)) < 0)
                goto fail;
        char name[256], marked[33];
        r = target_marker_read(tc, name, sizeof(name), marked);
        if (r == -ENOENT) {
                int64_t n = 0;
                if ((r = catalog_target_copy_count(cat, id, &n)) < 0) {
                        snprintf(err, err_size, "target %s: catalog: %s", tc->name, catalog_errmsg(cat));
                        goto fail;
                }
                if (n > 0) {
                        snprintf(err, err_size,
                                 "target %s: %s holds no .dockd-target marker but the catalog records %lld copies "
                                 "there; %s",
                                 tc->name, tc->path, (long long)n,
                                 s3 ? "is it the right endpoint, bucket and prefix?" : "is its filesystem mounted?");
                        r = -ENODEV;
                        goto fail;
                }
                char mine[33];
                bool fresh;
                if ((r = catalog_identity(cat, mine, &fresh)) < 0 || (r = target_marker_write(tc, mine)) < 0) {
                        snprintf(err, err_size, "target %s: cannot write its marker: %s", tc->name, strerror(-r));
                        goto fail;
                }
        } else if (r < 0) {
                snprintf(err, err_size, "target %s: cannot read its marker: %s", tc->name, strerror(-r));
                goto fail;
        } else if (strcmp(name, tc->name) != 0) {
                snprintf(err, err_size, "target %s: %s belongs to target '%s'; refusing to mix copies", tc->name,
                         tc->path, name);
                r = -EEXIST;
                goto fail;
        }
        if (!s3 && (r = target_ready(t, err, err_size)) < 0)
                goto fail;
        return 0;
fail:
        target_close(t);
        return r;
}

int station_check(const struct config *cfg, struct catalog *cat, char *err, size_t err_size)
{
        for (size_t i = 0; i < cfg->n_targets; i++) {
                /* A bucket is checked when it is opened to take copies, not on
                 * every listing: its endpoint may be far, or down. */
                if (cfg->targets[i].type == TARGET_S3)
                        continue;
                int r = station_target_check(&cfg->targets[i], cat, err, err_size);
                if (r == -EROFS)
                        continue; /* a reader without write access: dockd itself checks at start */
                if (r < 0)
                        return r;
        }
        return forward_archive_check(cfg, cat, err, err_size);
}

struct hold_list {
        struct object_hold *v;
        size_t n;
};

static int keep_hold(const struct object_hold *o, void *ud)
{
        struct hold_list *l = ud;
        l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
        l->v[l->n] = *o;
        l->v[l->n].target = xstrdup(o->target);
        l->v[l->n].key = xstrdup(o->key);
        l->v[l->n].version_id = xstrdup(o->version_id);
        l->n++;
        return 0;
}

int station_sync_legal_holds(const struct config *cfg, struct catalog *cat, size_t *failed)
{
        struct hold_list l = { 0 };
        *failed = 0;
        int r = catalog_object_holds_due(cat, keep_hold, &l);
        struct target_set ts = { .cfg = cfg };
        for (size_t i = 0; r >= 0 && i < l.n; i++) {
                const struct object_hold *o = &l.v[i];
                char err[600];
                struct s3_reply rep;
                struct target *t = target_set_get(&ts, o->target, err, sizeof(err));
                _cleanup_free_ char *key = t && t->s3 ? s3_key(t->s3, o->key) : NULL;
                int rh = !t       ? -ENODEV
                         : !t->s3 ? (snprintf(err, sizeof(err), "target %s is no longer an S3 target", o->target),
                                     -EXDEV)
                                  : s3_legal_hold(t->s3, key, o->version_id, o->held, &rep, err, sizeof(err));
                if (rh < 0) {
                        log_error("recording %lld: cannot %s the legal hold on target %s: %s; retried at the next "
                                  "change",
                                  (long long)o->rec_id, o->held ? "set" : "release", o->target, err);
                        (*failed)++;
                        continue;
                }
                r = catalog_object_hold_set(cat, o->rec_id, o->target_id, o->held);
                log_info("recording %lld: legal hold %s on %s version %s (target %s)", (long long)o->rec_id,
                         o->held ? "set" : "released", key, o->version_id, o->target);
        }
        target_set_close(&ts);
        for (size_t i = 0; i < l.n; i++) {
                free((char *)l.v[i].target);
                free((char *)l.v[i].key);
                free((char *)l.v[i].version_id);
        }
        free(l.v);
        return r;
}

struct retention_work {
        const struct config *cfg;
        struct object_retention *v;
        char (*until)[32];
        size_t n;
};

/* The lock an object copy should have: its retention class's months from when
 * it was written (the default's when it has none). */
static int want_retention(const struct object_retention *o, void *ud)
{
        struct retention_work *w = ud;
        int64_t written = time_parse_iso(o->written_at);
        unsigned months = config_retention_months(w->cfg, o->retention_class ? o->retention_class : "default");
        if (written < 0 || !months)
                return 0;
        time_t t = (time_t)written;
        struct tm tm;
        gmtime_r(&t, &tm);
        tm.tm_mon += (int)months;
        t = timegm(&tm);
        char until[32];
        gmtime_r(&t, &tm);
        strftime(until, sizeof(until), "%Y-%m-%dT%H:%M:%SZ", &tm);
        if (strncmp(until, o->retain_until, 10) <= 0)
                return 0; /* as long already, to the day: a lock is never shortened */
        w->v = xrealloc(w->v, (w->n + 1) * sizeof(*w->v));
        w->until = xrealloc(w->until, (w->n + 1) * sizeof(*w->until));
        w->v[w->n] = (struct object_retention){ .rec_id = o->rec_id,
                                                .target_id = o->target_id,
                                                .target = xstrdup(o->target),
                                                .key = xstrdup(o->key),
                                                .version_id = xstrdup(o->version_id) };
        snprintf(w->until[w->n++], sizeof(w->until[0]), "%s", until);
        return 0;
}

int station_sync_retention(const struct config *cfg, struct catalog *cat, size_t *failed)
{
        struct retention_work w = { .cfg = cfg };
        *failed = 0;
        int r = catalog_object_retention(cat, want_retention, &w);
        struct target_set ts = { .cfg = cfg };
        for (size_t i = 0; r >= 0 && i < w.n; i++) {
                const struct object_retention *o = &w.v[i];
                char err[600];
                struct s3_reply rep;
                struct target *t = target_set_get(&ts, o->target, err, sizeof(err));
                _cleanup_free_ char *key = t && t->s3 ? s3_key(t->s3, o->key) : NULL;
                int re = !t       ? -ENODEV
                         : !t->s3 ? (snprintf(err, sizeof(err), "target %s is no longer an S3 target", o->target),
                                     -EXDEV)
                                  : s3_extend_retention(t->s3, key, o->version_id, w.until[i], &rep, err, sizeof(err));
                if (re < 0) {
                        log_error(
                                "recording %lld: cannot lengthen the lock on target %s to %s: %s; retried at the next "
                                "change",
                                (long long)o->rec_id, o->target, w.until[i], err);
                        (*failed)++;
                        continue;
                }
                r = catalog_object_retention_set(cat, o->rec_id, o->target_id, w.until[i]);
                log_info("recording %lld: %s version %s locked until %s (target %s)", (long long)o->rec_id, key,
                         o->version_id, w.until[i], o->target);
        }
        target_set_close(&ts);
        for (size_t i = 0; i < w.n; i++) {
                free((char *)w.v[i].target);
                free((char *)w.v[i].key);
                free((char *)w.v[i].version_id);
        }
        free(w.v);
        free(w.until);
        return r;
}
