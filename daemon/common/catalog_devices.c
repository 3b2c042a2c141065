/* catalog_devices.c — what a docked recorder said of itself (the 行标
 * functions: officer, ID code, battery, the clock set), kept with its dock
 * session, and the identity a device is bound to besides its serial (USB
 * serial, volume label). */
#include "catalog_internal.h"
#include "util.h"

int catalog_session_set_report(struct catalog *c, int64_t session_id, const struct session_report *rep)
{
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c,
                        "UPDATE dock_sessions SET reported_badge = ?, reported_officer_name = ?, reported_unit_no = ?,"
                        " reported_unit_name = ?, device_id_code = ?, battery_pct = ?, clock_set_at = ?,"
                        " clock_set_to = ?, device_info_error = ? WHERE id = ?",
                        &st);
        if (r < 0)
                return r;
        const char *texts[] = { rep->badge, rep->officer_name, rep->unit_no, rep->unit_name, rep->id_code };
        for (int i = 0; i < 5; i++)
                bind_text(st, i + 1, texts[i] && *texts[i] ? texts[i] : NULL);
        if (rep->battery_pct >= 0)
                sqlite3_bind_int(st, 6, rep->battery_pct);
        else
                sqlite3_bind_null(st, 6);
        bind_text(st, 7, rep->clock_set_at && *rep->clock_set_at ? rep->clock_set_at : NULL);
        bind_text(st, 8, rep->clock_set_to && *rep->clock_set_to ? rep->clock_set_to : NULL);
        bind_text(st, 9, rep->info_error && *rep->info_error ? rep->info_error : NULL);
        sqlite3_bind_int64(st, 10, session_id);
        return step_done(c, st);
}

/* One bound value against what the device shows now; binds it if unbound. */
static int bind_one(struct catalog *c, int64_t dev, const char *column, const char *bound, const char *now,
                    const char *what, char *mismatch, size_t size)
{
        if (!now || !*now)
                return 0;
        if (bound) {
                if (strcmp(bound, now) != 0 && !*mismatch)
                        snprintf(mismatch, size, "its %s is '%s', not the '%s' it was first seen with", what, now,
                                 bound);
                return 0;
        }
        _cleanup_free_ char *sql = xasprintf("UPDATE devices SET %s = ? WHERE id = ?", column);
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, sql, &st);
        if (r < 0)
                return r;
        bind_text(st, 1, now);
        sqlite3_bind_int64(st, 2, dev);
        return step_done(c, st);
}

int catalog_device_bind(struct catalog *c, const char *serial, const char *usb_serial, const char *label,
                        char *mismatch, size_t mismatch_size)
{
        mismatch[0] = '\0';
        _cleanup_stmt_ sqlite3_stmt *st = NULL;
        int r = prepare(c, "SELECT id, bound_usb_serial, bound_label FROM devices WHERE serial = ?", &st);
        if (r < 0)
                return r;
        bind_text(st, 1, serial);
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
                return 0; /* not registered yet: bound after its first ingest */
        if (rc != SQLITE_ROW)
                return sql_err(c, rc);
        int64_t dev = sqlite3_column_int64(st, 0);
        _cleanup_free_ char *usb = col(st, 1) ? xstrdup(col(st, 1)) : NULL;
        _cleanup_free_ char *lab = col(st, 2) ? xstrdup(col(st, 2)) : NULL;
        sqlite3_reset(st); /* end the read before the writes below */
        if ((r = bind_one(c, dev, "bound_usb_serial", usb, usb_serial, "USB serial", mismatch, mismatch_size)) < 0)
                return r;
        return bind_one(c, dev, "bound_label", lab, label, "volume label", mismatch, mismatch_size);
}
