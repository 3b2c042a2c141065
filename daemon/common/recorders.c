/* recorders.c — see recorders.h. */
#include "recorders.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "tags.h"
#include "util.h"

const char *recorder_driver_name(enum recorder_driver d)
{
        return d == RECORDER_DRIVER_GAT947_JL ? "gat947-jl" : "msc";
}

const char *recorder_clock_name(enum recorder_clock c)
{
        return c == RECORDER_CLOCK_READ ? "read" : c == RECORDER_CLOCK_SYNC ? "sync" : "off";
}

bool recorder_parse_usb_id(const char *s, unsigned *vendor, unsigned *product)
{
        int used = 0;
        return sscanf(s, "%4x:%4x%n", vendor, product, &used) == 2 && s[used] == '\0' && used == 9;
}

/* INQUIRY strings are printable ASCII; one with anything else is nobody's. */
static int inquiry_value(const char *key, const char *value, size_t max, char **out, char *why, size_t why_size)
{
        size_t n = strlen(value);
        bool ok = n > 0 && n <= max;
        for (size_t i = 0; ok && i < n; i++)
                ok = value[i] >= 0x20 && value[i] < 0x7f;
        if (!ok) {
                snprintf(why, why_size,
                         "%s '%s' must be 1-%zu printable ASCII characters, as the SCSI INQUIRY gives it", key, value,
                         max);
                return -EINVAL;
        }
        free(*out);
        *out = xstrdup(value);
        return 0;
}

int recorder_model_key(struct recorder_model *m, const char *key, const char *value, char *why, size_t why_size)
{
        if (strcmp(key, "driver") == 0) {
                if (strcmp(value, "msc") == 0)
                        m->driver = RECORDER_DRIVER_MSC;
                else if (strcmp(value, "gat947-jl") == 0)
                        m->driver = RECORDER_DRIVER_GAT947_JL;
                else {
                        snprintf(why, why_size, "driver '%s' must be msc or gat947-jl", value);
                        return -EINVAL;
                }
                m->driver_set = true;
        } else if (strcmp(key, "clock") == 0) {
                if (strcmp(value, "off") == 0)
                        m->clock = RECORDER_CLOCK_OFF;
                else if (strcmp(value, "read") == 0)
                        m->clock = RECORDER_CLOCK_READ;
                else if (strcmp(value, "sync") == 0)
                        m->clock = RECORDER_CLOCK_SYNC;
                else {
                        snprintf(why, why_size, "clock '%s' must be read, sync or off", value);
                        return -EINVAL;
                }
                m->clock_set = true;
        } else if (strcmp(key, "password_file") == 0) {
                /* The path only: the password is read when a recorder docks,
                 * and is never logged. Who may read it is checked now. */
                struct stat st;
                if (value[0] != '/') {
                        snprintf(why, why_size, "password_file '%s' must be an absolute path", value);
                        return -EINVAL;
                }
                if (stat(value, &st) < 0) {
                        snprintf(why, why_size, "password_file %s: %s", value, strerror(errno));
                        return -EINVAL;
                }
                if (!S_ISREG(st.st_mode)) {
                        snprintf(why, why_size, "password_file %s is not a regular file", value);
                        return -EINVAL;
                }
                if (st.st_mode & 0027) {
                        snprintf(why, why_size,
                                 "password_file %s is mode %04o: a recorder password is for root and dockd only "
                                 "(chmod 0640, owner root, group dockd)",
                                 value, (unsigned)(st.st_mode & 07777));
                        return -EINVAL;
                }
                free(m->password_file);
                m->password_file = xstrdup(value);
        } else if (strcmp(key, "info_layout") == 0) {
                if (strcmp(value, "89") != 0 && strcmp(value, "94") != 0) {
                        snprintf(why, why_size,
                                 "info_layout '%s' must be 89 (JieLi: fields without terminators) or 94 "
                                 "(with NUL terminators)",
                                 value);
                        return -EINVAL;
                }
                m->info_layout = (unsigned)atoi(value);
        } else if (strcmp(key, "name_pattern") == 0) {
                char pwhy[200];
                if (name_pattern_check(value, pwhy, sizeof(pwhy)) < 0) {
                        snprintf(why, why_size, "name_pattern: %s", pwhy);
                        return -EINVAL;
                }
                free(m->name_pattern);
                m->name_pattern = xstrdup(value);
        } else if (strcmp(key, "inquiry_vendor") == 0) {
                return inquiry_value(key, value, 8, &m->inquiry_vendor, why, why_size);
        } else if (strcmp(key, "inquiry_product") == 0) {
                return inquiry_value(key, value, 16, &m->inquiry_product, why, why_size);
        } else if (strcmp(key, "unlock_timeout_s") == 0) {
                char *end;
                long n = strtol(value, &end, 10);
                if (end == value || *end || n < 1 || n > 600) {
                        snprintf(why, why_size, "unlock_timeout_s '%s' must be a number of seconds from 1 to 600",
                                 value);
                        return -EINVAL;
                }
                m->unlock_timeout_s = (unsigned)n;
        } else {
                snprintf(why, why_size,
                         "unknown key '%s' (known: driver, clock, password_file, info_layout, name_pattern, "
                         "inquiry_vendor, inquiry_product, unlock_timeout_s)",
                         key);
                return -EINVAL;
        }
        return 0;
}

int recorder_model_check(const struct recorder_model *m, char *why, size_t why_size)
{
        if (!m->driver_set) {
                snprintf(why, why_size, "names no driver: add driver = msc or driver = gat947-jl");
                return -EINVAL;
        }
        if (m->driver == RECORDER_DRIVER_MSC && (m->password_file || m->info_layout)) {
                snprintf(why, why_size, "%s is for driver = gat947-jl; a mass-storage recorder has none",
                         m->password_file ? "password_file" : "info_layout");
                return -EINVAL;
        }
        if (m->driver == RECORDER_DRIVER_GAT947_JL && m->clock == RECORDER_CLOCK_READ) {
                snprintf(why, why_size,
                         "clock = read: the gat947-jl protocol can only set the clock (sync) or leave it (off)");
                return -EINVAL;
        }
        if (m->driver == RECORDER_DRIVER_MSC && m->clock == RECORDER_CLOCK_SYNC) {
                snprintf(why, why_size,
                         "clock = sync: a mass-storage recorder's clock can only be read (read) or "
                         "left alone (off)");
                return -EINVAL;
        }
        return 0;
}

/* "DV16    " against "DV16": trailing spaces are the INQUIRY's padding. */
static bool field_matches(const char *want, const char *got, bool prefix)
{
        size_t n = strlen(got);
        while (n && got[n - 1] == ' ')
                n--;
        size_t w = strlen(want);
        return prefix ? n >= w && strncasecmp(got, want, w) == 0 : n == w && strncasecmp(got, want, w) == 0;
}

bool recorder_inquiry_matches(const struct recorder_model *m, const char *vendor, const char *product)
{
        return (!m->inquiry_vendor || field_matches(m->inquiry_vendor, vendor, false)) &&
               (!m->inquiry_product || field_matches(m->inquiry_product, product, true));
}

void recorder_model_free(struct recorder_model *m)
{
        free(m->password_file);
        free(m->name_pattern);
        free(m->inquiry_vendor);
        free(m->inquiry_product);
        memset(m, 0, sizeof(*m));
}
