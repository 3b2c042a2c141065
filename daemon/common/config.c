/* config.c — INI → struct config via inih, with precise messages. */
#include "config.h"

#include <errno.h>
#include <iconv.h>
#include <ini.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tags.h"
#include "util.h"

struct parse_state {
        struct config *cfg;
        char *err;
        size_t err_size;
        const char *file;
        FILE *f;
        int line;
        int fail_line; /* line of the first semantic error, 0: none */
        bool allow_set, clock_set;
        bool at_line_start; /* the last chunk read ended a line */
        int long_line;      /* first line longer than the reader's buffer, 0: none */
        int long_max;
        struct {
                char *key;
                int line;
        } seen[256]; /* "section\nkey" given so far */
        size_t n_seen;
};

static bool valid_name(const char *s)
{
        if (!*s || strlen(s) > 32)
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' ||
                      *s == '_'))
                        return false;
        return true;
}

static int parse_uint(const char *v, unsigned long min, unsigned long max, unsigned long *out)
{
        char *end;
        errno = 0;
        unsigned long n = strtoul(v, &end, 10);
        if (errno || end == v || *end || v[0] == '-' || n < min || n > max)
                return -EINVAL;
        *out = n;
        return 0;
}

/* An S3 target's keys complete and its place its own: returns 1 for an S3
 * target (its path becomes "s3://BUCKET/PREFIX"), 0 for a filesystem
 * target without S3 keys, or -EINVAL naming what is wrong. */
static int target_s3_settle(struct config *cfg, struct target_conf *t, char *err, size_t err_size)
{
        const char *f = cfg->source_file ? cfg->source_file : "defaults";
        struct s3_conf *s = &t->s3;
        if (t->type == TARGET_FS) {
                if (s->endpoint || s->bucket || s->region || s->prefix || s->credentials || s->ca_file ||
                    s->object_lock || s->sse_c_key) {
                        snprintf(err, err_size, "%s: [target.%s] has S3 keys but no 'type = s3'", f, t->name);
                        return -EINVAL;
                }
                return 0;
        }
        const char *missing = !s->endpoint      ? "endpoint"
                              : !s->bucket      ? "bucket"
                              : !s->credentials ? "credentials"
                                                : NULL;
        if (missing || t->path) {
                snprintf(err, err_size, "%s: [target.%s] type = s3 %s", f, t->name,
                         missing ? "needs " : "takes no path (its place is endpoint, bucket and prefix)");
                if (missing)
                        snprintf(err + strlen(err), err_size - strlen(err), "%s", missing);
                return -EINVAL;
        }
        size_t bl = strlen(s->bucket);
        if (bl < 3 || bl > 63 || strspn(s->bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") != bl) {
                snprintf(err, err_size, "%s: [target.%s] bucket '%s' must be 3-63 of a-z 0-9 . -", f, t->name,
                         s->bucket);
                return -EINVAL;
        }
        /* "evidence" and "evidence/" are one prefix; "/x" is "x" */
        const char *p = s->prefix ? s->prefix : "";
        while (*p == '/')
                p++;
        char *prefix = xasprintf("%s%s", p, *p && p[strlen(p) - 1] != '/' ? "/" : "");
        free(s->prefix);
        s->prefix = prefix;
        t->path =
                xasprintf("s3://%s%s%.*s", s->bucket, *s->prefix ? "/" : "", (int)strlen(s->prefix) - (*s->prefix != 0),
                          s->prefix); /* a copy is PATH/its key under the prefix */
        for (struct target_conf *o = cfg->targets; o < t; o++)
                if (o->type == TARGET_S3 && strcmp(o->s3.endpoint, s->endpoint) == 0 && strcmp(o->path, t->path) == 0) {
                        snprintf(err, err_size,
                                 "%s: targets %s and %s are one place (%s at %s); two copies need two "
                                 "places",
                                 f, o->name, t->name, t->path, s->endpoint);
                        return -EINVAL;
                }
        return 1;
}

/* url = s3://BUCKET/PREFIX: the bucket and prefix from the URL, the
 * endpoint and credentials required; S3 keys without an s3:// URL refused. */
static int archive_s3_settle(struct config *cfg, char *err, size_t err_size)
{
        const char *f = cfg->source_file ? cfg->source_file : "defaults";
        struct s3_conf *s = &cfg->archive_s3;
        if (strncmp(cfg->archive_url, "s3://", 5) != 0) {
                if (s->endpoint || s->region || s->credentials || s->ca_file || s->object_lock) {
                        snprintf(err, err_size, "%s: [archive] has S3 keys but its url is not s3://BUCKET/PREFIX", f);
                        return -EINVAL;
                }
                return 0;
        }
        const char *b = cfg->archive_url + 5, *slash = strchr(b, '/');
        s->bucket = xasprintf("%.*s", (int)(slash ? (size_t)(slash - b) : strlen(b)), b);
        const char *p = slash ? slash + 1 : "";
        s->prefix = xasprintf("%s%s", p, *p && p[strlen(p) - 1] != '/' ? "/" : "");
        size_t bl = strlen(s->bucket);
        if (bl < 3 || bl > 63 || strspn(s->bucket, "abcdefghijklmnopqrstuvwxyz0123456789.-") != bl) {
                snprintf(err, err_size, "%s: [archive] url: bucket '%s' must be 3-63 of a-z 0-9 . -", f, s->bucket);
                return -EINVAL;
        }
        if (!s->endpoint || !s->credentials) {
                snprintf(err, err_size, "%s: [archive] url = %s needs endpoint and credentials", f, cfg->archive_url);
                return -EINVAL;
        }
        return 0;
}

static struct target_conf *target_get(struct config *cfg, const char *name)
{
        for (size_t i = 0; i < cfg->n_targets; i++)
                if (strcmp(cfg->targets[i].name, name) == 0)
                        return &cfg->targets[i];
        if (cfg->n_targets == DOCKD_MAX_TARGETS)
                return NULL;
        struct target_conf *t = &cfg->targets[cfg->n_targets++];
        t->name = xstrdup(name);
        return t;
}

#define FAIL(...)                                                                                                      \
        do {                                                                                                           \
                if (!ps->fail_line) {                                                                                  \
                        snprintf(ps->err, ps->err_size, __VA_ARGS__);                                                  \
                        ps->fail_line = lineno;                                                                        \
                }                                                                                                      \
                return 0;                                                                                              \
        } while (0)

/* inih (Debian's build) does not pass line numbers; count them in the reader. */
static char *read_line(char *str, int num, void *stream)
{
        struct parse_state *ps = stream;
        char *r = fgets(str, num, ps->f);
        if (!r)
                return NULL;
        if (ps->at_line_start)
                ps->line++;
        size_t n = strlen(str);
        ps->at_line_start = n > 0 && str[n - 1] == '\n';
        if (!ps->at_line_start && !feof(ps->f) && !ps->long_line) {
                ps->long_line = ps->line; /* inih would take the rest as a line of its own */
                ps->long_max = num - 2;
        }
        return r;
}

/* "key = value   # why": a '#' or ';' after white space starts a comment,
 * as in the README's examples; one inside a value (name_pattern) does not. */
static char *strip_comment(const char *value)
{
        char *v = xstrdup(value);
        for (char *p = v; *p; p++)
                if ((*p == '#' || *p == ';') && (p == v || p[-1] == ' ' || p[-1] == '\t')) {
                        *p = '\0';
                        break;
                }
        size_t n = strlen(v);
        while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
                v[--n] = '\0';
        return v;
}

static int on_entry_value(struct parse_state *ps, const char *section, const char *key, const char *value);

static int on_entry(void *user, const char *section, const char *key, const char *value)
{
        struct parse_state *ps = user;
        if (!key)
                return 1;
        _cleanup_free_ char *id = xasprintf("%s\n%s", section, key);
        for (size_t i = 0; i < ps->n_seen; i++)
                if (strcmp(ps->seen[i].key, id) == 0) {
                        int lineno = ps->line;
                        const char *f = ps->file;
                        FAIL("%s:%d: [%s] %s is given twice (first on line %d); give it once%s", f, lineno, section,
                             key, ps->seen[i].line,
                             strcmp(key, "allow") == 0 || strcmp(key, "clock") == 0
                                     ? ", listing every model on that line, comma-separated"
                                     : "");
                }
        if (ps->n_seen < ELEMENTSOF(ps->seen)) {
                ps->seen[ps->n_seen].key = id;
                ps->seen[ps->n_seen++].line = ps->line;
                id = NULL;
        }
        _cleanup_free_ char *v = strip_comment(value);
        return on_entry_value(ps, section, key, v);
}

static int on_entry_value(struct parse_state *ps, const char *section, const char *key, const char *value)
{
        int lineno = ps->line;
        struct config *cfg = ps->cfg;
        const char *f = ps->file;
        unsigned long n;

        if (!key) /* a bare [section] line: validated by its keys, or below */
                return 1;
        if (!*section)
                FAIL("%s:%d: '%s' is outside any [section]", f, lineno, key);
        if (strcmp(section, "station") == 0) {
                if (strcmp(key, "id") == 0) {
                        if (!valid_name(value))
                                FAIL("%s:%d: [station] id '%s' must be 1-32 of A-Z a-z 0-9 - _", f, lineno, value);
                        free(cfg->station_id);
                        cfg->station_id = xstrdup(value);
                } else if (strcmp(key, "state_dir") == 0) {
                        if (value[0] != '/')
                                FAIL("%s:%d: [station] state_dir '%s' must be an absolute path", f, lineno, value);
                        free(cfg->state_dir);
                        cfg->state_dir = xstrdup(value);
                } else if (strcmp(key, "max_parallel") == 0) {
                        if (parse_uint(value, 1, 64, &n) < 0)
                                FAIL("%s:%d: [station] max_parallel '%s' must be a number from 1 to 64", f, lineno,
                                     value);
                        cfg->max_parallel = (unsigned)n;
                } else if (strcmp(key, "socket") == 0) {
                        if (value[0] != '/')
                                FAIL("%s:%d: [station] socket '%s' must be an absolute path", f, lineno, value);
                        free(cfg->socket_path);
                        cfg->socket_path = xstrdup(value);
                } else if (strcmp(key, "copies") == 0) {
                        if (parse_uint(value, 1, DOCKD_MAX_TARGETS, &n) < 0)
                                FAIL("%s:%d: [station] copies '%s' must be a number from 1 to %d", f, lineno, value,
                                     DOCKD_MAX_TARGETS);
                        cfg->copies = (int)n;
                } else if (strcmp(key, "timezone") == 0) {
                        /* An IANA zone: recorders keep local time without a zone, and
                         * clock = sync sets them to the station's time in it. */
                        _cleanup_free_ char *zf = xasprintf("/usr/share/zoneinfo/%s", value);
                        struct stat st;
                        if (!value[0] || value[0] == '/' || strstr(value, "..") || stat(zf, &st) < 0 ||
                            !S_ISREG(st.st_mode))
                                FAIL("%s:%d: [station] timezone '%s' is not a zone in /usr/share/zoneinfo (e.g. "
                                     "Asia/Shanghai, UTC)",
                                     f, lineno, value);
                        free(cfg->timezone);
                        cfg->timezone = xstrdup(value);
                } else if (strcmp(key, "language") == 0) {
                        if (strcmp(value, "en") != 0 && strcmp(value, "zh_CN") != 0)
                                FAIL("%s:%d: [station] language '%s' must be en or zh_CN", f, lineno, value);
                        free(cfg->language);
                        cfg->language = xstrdup(value);
                } else if (strcmp(key, "allow_same_filesystem") == 0) {
                        if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
                                FAIL("%s:%d: [station] allow_same_filesystem '%s' must be yes or no", f, lineno, value);
                        cfg->allow_same_filesystem = value[0] == 'y';
                } else
                        FAIL("%s:%d: unknown key '%s' in [station] (known: id, state_dir, copies, max_parallel, "
                             "socket, "
                             "timezone, language, allow_same_filesystem)",
                             f, lineno, key);
        } else if (strncmp(section, "target.", 7) == 0) {
                const char *name = section + 7;
                if (!valid_name(name))
                        FAIL("%s:%d: target name '%s' must be 1-32 of A-Z a-z 0-9 - _", f, lineno, name);
                struct target_conf *t = target_get(cfg, name);
                if (!t)
                        FAIL("%s:%d: more than %d targets", f, lineno, DOCKD_MAX_TARGETS);
                char **s3key = strcmp(key, "endpoint") == 0      ? &t->s3.endpoint
                               : strcmp(key, "bucket") == 0      ? &t->s3.bucket
                               : strcmp(key, "region") == 0      ? &t->s3.region
                               : strcmp(key, "prefix") == 0      ? &t->s3.prefix
                               : strcmp(key, "credentials") == 0 ? &t->s3.credentials
                               : strcmp(key, "ca_file") == 0     ? &t->s3.ca_file
                               : strcmp(key, "object_lock") == 0 ? &t->s3.object_lock
                               : strcmp(key, "sse_c_key") == 0   ? &t->s3.sse_c_key
                                                                 : NULL;
                if (strcmp(key, "path") == 0) {
                        if (value[0] != '/')
                                FAIL("%s:%d: [%s] path '%s' must be an absolute path", f, lineno, section, value);
                        free(t->path);
                        t->path = xstrdup(value);
                } else if (strcmp(key, "type") == 0) {
                        if (strcmp(value, "fs") != 0 && strcmp(value, "s3") != 0)
                                FAIL("%s:%d: [%s] type '%s' must be fs or s3", f, lineno, section, value);
                        t->type = strcmp(value, "s3") == 0 ? TARGET_S3 : TARGET_FS;
                } else if (s3key) {
                        if ((strcmp(key, "credentials") == 0 || strcmp(key, "ca_file") == 0 ||
                             strcmp(key, "sse_c_key") == 0) &&
                            value[0] != '/')
                                FAIL("%s:%d: [%s] %s '%s' must be an absolute path", f, lineno, section, key, value);
                        if (strcmp(key, "object_lock") == 0 && strcmp(value, "compliance") != 0 &&
                            strcmp(value, "governance") != 0 && strcmp(value, "off") != 0)
                                FAIL("%s:%d: [%s] object_lock '%s' must be compliance, governance or off", f, lineno,
                                     section, value);
                        if (strcmp(key, "endpoint") == 0 && strncmp(value, "https://", 8) != 0 &&
                            strncmp(value, "http://127.", 11) != 0 && strncmp(value, "http://localhost", 16) != 0 &&
                            strncmp(value, "http://[::1]", 12) != 0)
                                FAIL("%s:%d: [%s] endpoint '%s' must be an https:// URL (http:// only to a loopback "
                                     "address)",
                                     f, lineno, section, value);
                        free(*s3key);
                        *s3key = xstrdup(value);
                } else
                        FAIL("%s:%d: unknown key '%s' in [%s] (known: type, path, endpoint, bucket, region, prefix, "
                             "credentials, ca_file, object_lock, sse_c_key)",
                             f, lineno, key, section);
        } else if (strcmp(section, "ingest") == 0) {
                if (strcmp(key, "chunk_kib") == 0) {
                        if (parse_uint(value, 64, 65536, &n) < 0 || n % 4)
                                FAIL("%s:%d: [ingest] chunk_kib '%s' must be a multiple of 4 from 64 to 65536", f,
                                     lineno, value);
                        cfg->chunk_size = n * 1024;
                } else if (strcmp(key, "chunks") == 0) {
                        if (parse_uint(value, 2, 256, &n) < 0)
                                FAIL("%s:%d: [ingest] chunks '%s' must be a number from 2 to 256", f, lineno, value);
                        cfg->chunks = (unsigned)n;
                } else if (strcmp(key, "writers") == 0) {
                        if (parse_uint(value, 1, DOCKD_MAX_WRITERS, &n) < 0)
                                FAIL("%s:%d: [ingest] writers '%s' must be a number from 1 to %d", f, lineno, value,
                                     DOCKD_MAX_WRITERS);
                        cfg->writers = (unsigned)n;
                } else if (strcmp(key, "checkpoint_mib") == 0) {
                        if (parse_uint(value, 1, 1 << 20, &n) < 0)
                                FAIL("%s:%d: [ingest] checkpoint_mib '%s' must be a positive number", f, lineno, value);
                        cfg->checkpoint_mb = (unsigned)n;
                } else if (strcmp(key, "bay_memory_mib") == 0) {
                        if (parse_uint(value, 1, 65536, &n) < 0)
                                FAIL("%s:%d: [ingest] bay_memory_mib '%s' must be a positive number", f, lineno, value);
                        cfg->bay_memory_mib = (unsigned)n;
                } else
                        FAIL("%s:%d: unknown key '%s' in [ingest] (known: chunk_kib, chunks, writers, checkpoint_mib, "
                             "bay_memory_mib)",
                             f, lineno, key);
        } else if (strcmp(section, "archive") == 0) {
                char **slot = strcmp(key, "url") == 0           ? &cfg->archive_url
                              : strcmp(key, "ca") == 0          ? &cfg->archive_ca
                              : strcmp(key, "cert") == 0        ? &cfg->archive_cert
                              : strcmp(key, "key") == 0         ? &cfg->archive_key
                              : strcmp(key, "token") == 0       ? &cfg->archive_token
                              : strcmp(key, "endpoint") == 0    ? &cfg->archive_s3.endpoint
                              : strcmp(key, "region") == 0      ? &cfg->archive_s3.region
                              : strcmp(key, "credentials") == 0 ? &cfg->archive_s3.credentials
                              : strcmp(key, "ca_file") == 0     ? &cfg->archive_s3.ca_file
                              : strcmp(key, "object_lock") == 0 ? &cfg->archive_s3.object_lock
                                                                : NULL;
                if (slot) {
                        if (slot == &cfg->archive_url && strncmp(value, "https://", 8) != 0 &&
                            strncmp(value, "file://", 7) != 0 && strncmp(value, "http://127.", 11) != 0 &&
                            strncmp(value, "s3://", 5) != 0)
                                FAIL("%s:%d: [archive] url '%s' must be https://, s3://BUCKET/PREFIX (or file://)", f,
                                     lineno, value);
                        if (slot == &cfg->archive_s3.object_lock && strcmp(value, "compliance") != 0 &&
                            strcmp(value, "governance") != 0 && strcmp(value, "off") != 0)
                                FAIL("%s:%d: [archive] object_lock '%s' must be compliance, governance or off", f,
                                     lineno, value);
                        free(*slot);
                        *slot = xstrdup(value);
                } else if (strcmp(key, "timeout_s") == 0 || strcmp(key, "retry_cap_s") == 0) {
                        if (parse_uint(value, 1, 86400, &n) < 0)
                                FAIL("%s:%d: [archive] %s '%s' must be 1 to 86400 seconds", f, lineno, key, value);
                        *(key[0] == 't' ? &cfg->archive_timeout_s : &cfg->archive_retry_cap_s) = (unsigned)n;
                } else if (strcmp(key, "deadline_h") == 0 || strcmp(key, "warn_margin_h") == 0) {
                        if (parse_uint(value, key[0] == 'd' ? 1 : 0, 24 * 30, &n) < 0)
                                FAIL("%s:%d: [archive] %s '%s' must be a number of hours up to 720", f, lineno, key,
                                     value);
                        *(key[0] == 'd' ? &cfg->archive_deadline_h : &cfg->archive_warn_margin_h) = (unsigned)n;
                } else
                        FAIL("%s:%d: unknown key '%s' in [archive] (known: url, ca, cert, key, token, timeout_s, "
                             "retry_cap_s, deadline_h, warn_margin_h, endpoint, region, credentials, ca_file, "
                             "object_lock)",
                             f, lineno, key);
        } else if (strncmp(section, "recorder.", 9) == 0) {
                unsigned v, p;
                if (!recorder_parse_usb_id(section + 9, &v, &p))
                        FAIL("%s:%d: [%s]: '%s' is not a USB vendor:product pair like [recorder.1d6b:0104]", f, lineno,
                             section, section + 9);
                struct recorder_model *m = NULL;
                for (size_t i = 0; i < cfg->n_models && !m; i++)
                        if (cfg->models[i].vendor == v && cfg->models[i].product == p)
                                m = &cfg->models[i];
                if (!m) {
                        if (cfg->n_models == DOCKD_MAX_ALLOW)
                                FAIL("%s:%d: more than %d [recorder.VID:PID] sections", f, lineno, DOCKD_MAX_ALLOW);
                        m = &cfg->models[cfg->n_models++];
                        m->vendor = v;
                        m->product = p;
                        snprintf(m->origin, sizeof(m->origin), "[recorder.%04x:%04x]", v, p);
                }
                char why[400];
                if (recorder_model_key(m, key, value, why, sizeof(why)) < 0)
                        FAIL("%s:%d: [%s] %s", f, lineno, section, why);
        } else if (strcmp(section, "recorders") == 0) {
                if (strcmp(key, "name_pattern") == 0) {
                        char why[200];
                        if (name_pattern_check(value, why, sizeof(why)) < 0)
                                FAIL("%s:%d: [recorders] name_pattern: %s", f, lineno, why);
                        free(cfg->name_pattern);
                        cfg->name_pattern = xstrdup(value);
                        return 1;
                }
                if (strcmp(key, "codepage") == 0) {
                        /* how 8.3 names' bytes >= 0x80 decode; the rest of the name is ASCII */
                        iconv_t cd = iconv_open("UTF-32LE", value);
                        if (cd == (iconv_t)-1)
                                FAIL("%s:%d: [recorders] codepage '%s' is not known to iconv (e.g. CP936, CP950, "
                                     "CP932, CP437)",
                                     f, lineno, value);
                        iconv_close(cd);
                        free(cfg->codepage);
                        cfg->codepage = xstrdup(value);
                        return 1;
                }
                if (strcmp(key, "allow") != 0 && strcmp(key, "clock") != 0)
                        FAIL("%s:%d: unknown key '%s' in [recorders] (known: allow, clock, name_pattern, codepage)", f,
                             lineno, key);
                /* "allow = 1234:5678, abcd:ef01" (hex USB vendor:product pairs);
                 * a configured list replaces the embedded one. "clock = ..." lists
                 * the models that answer dockd's clock request (driver_msc.c). */
                bool clock = key[0] == 'c';
                struct usb_id *ids = clock ? cfg->clock : cfg->allow;
                size_t *n_ids = clock ? &cfg->n_clock : &cfg->n_allow;
                bool *set = clock ? &ps->clock_set : &ps->allow_set;
                if (!*set) {
                        *n_ids = 0;
                        *set = true;
                }
                _cleanup_free_ char *list = xstrdup(value);
                char *save = NULL;
                for (char *tok = strtok_r(list, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
                        unsigned v, p;
                        int used = 0;
                        if (sscanf(tok, "%4x:%4x%n", &v, &p, &used) != 2 || tok[used] != '\0')
                                FAIL("%s:%d: [recorders] %s: '%s' is not a USB vendor:product pair like 1d6b:0104", f,
                                     lineno, key, tok);
                        if (*n_ids == DOCKD_MAX_ALLOW)
                                FAIL("%s:%d: [recorders] %s: more than %d pairs", f, lineno, key, DOCKD_MAX_ALLOW);
                        ids[(*n_ids)++] = (struct usb_id){ v, p };
                }
        } else if (strcmp(section, "policy") == 0 && strcmp(key, "late_h") == 0) {
                if (parse_uint(value, 1, 24 * 365, &n) < 0)
                        FAIL("%s:%d: [policy] late_h '%s' must be a number of hours from 1 to 8760", f, lineno, value);
                cfg->late_h = (unsigned)n;
        } else if (strcmp(section, "bays") == 0) {
                /* "3 = pci-0000:00:14.0-usb-0:3:1.0": bay 3 is that USB port */
                if (!valid_name(key) || strlen(key) > 16)
                        FAIL("%s:%d: [bays] '%s': a bay's label must be 1-16 of A-Z a-z 0-9 - _", f, lineno, key);
                if (!*value || strchr(value, ' ') || strchr(value, '"'))
                        FAIL("%s:%d: [bays] %s: '%s' is not a USB port path (as dockctl status shows it, e.g. "
                             "pci-0000:00:14.0-usb-0:3:1.0)",
                             f, lineno, key, value);
                for (size_t i = 0; i < cfg->n_slots; i++)
                        if (strcmp(cfg->slots[i].port, value) == 0)
                                FAIL("%s:%d: [bays] %s and %s are the same port %s", f, lineno, cfg->slots[i].label,
                                     key, value);
                if (cfg->n_slots == DOCKD_MAX_ALLOW)
                        FAIL("%s:%d: [bays]: more than %d bays", f, lineno, DOCKD_MAX_ALLOW);
                snprintf(cfg->slots[cfg->n_slots].label, sizeof(cfg->slots[0].label), "%s", key);
                cfg->slots[cfg->n_slots++].port = xstrdup(value);
        } else if (strcmp(section, "metrics") == 0) {
                char **slot = strcmp(key, "listen") == 0       ? &cfg->metrics_listen
                              : strcmp(key, "tls_cert") == 0   ? &cfg->metrics_tls_cert
                              : strcmp(key, "tls_key") == 0    ? &cfg->metrics_tls_key
                              : strcmp(key, "token_file") == 0 ? &cfg->metrics_token_file
                                                               : NULL;
                if (!slot)
                        FAIL("%s:%d: unknown key '%s' in [metrics] (known: listen, tls_cert, tls_key, token_file)", f,
                             lineno, key);
                if (slot != &cfg->metrics_listen && value[0] != '/')
                        FAIL("%s:%d: [metrics] %s '%s' must be an absolute path", f, lineno, key, value);
                struct stat st;
                if ((slot == &cfg->metrics_token_file || slot == &cfg->metrics_tls_key) && stat(value, &st) == 0 &&
                    (st.st_mode & 0027))
                        FAIL("%s:%d: [metrics] %s %s is mode %04o: a secret for root and dockd only (chmod 0640, "
                             "group dockd)",
                             f, lineno, key, value, (unsigned)(st.st_mode & 07777));
                free(*slot);
                *slot = xstrdup(value);
        } else if (strcmp(section, "roles") == 0) {
                char **slot = strcmp(key, "operator_group") == 0    ? &cfg->operator_group
                              : strcmp(key, "custodian_group") == 0 ? &cfg->custodian_group
                              : strcmp(key, "admin_group") == 0     ? &cfg->admin_group
                                                                    : NULL;
                if (!slot)
                        FAIL("%s:%d: unknown key '%s' in [roles] (known: operator_group, custodian_group, admin_group)",
                             f, lineno, key);
                free(*slot);
                *slot = xstrdup(value);
        } else if (strcmp(section, "alarms") == 0) {
                if (strcmp(key, "target_min_free_gib") == 0) {
                        if (parse_uint(value, 0, 1 << 20, &n) < 0)
                                FAIL("%s:%d: [alarms] target_min_free_gib '%s' must be a number of GiB", f, lineno,
                                     value);
                        cfg->alarm_min_free_gib = (unsigned)n;
                } else if (strcmp(key, "clock_offset_max_s") == 0) {
                        if (parse_uint(value, 1, 86400 * 365, &n) < 0)
                                FAIL("%s:%d: [alarms] clock_offset_max_s '%s' must be a number of seconds", f, lineno,
                                     value);
                        cfg->alarm_clock_offset_s = (unsigned)n;
                } else
                        FAIL("%s:%d: unknown key '%s' in [alarms] (known: target_min_free_gib, clock_offset_max_s)", f,
                             lineno, key);
        } else if (strcmp(section, "retention") == 0) {
                if (parse_uint(value, 1, 1200, &n) < 0)
                        FAIL("%s:%d: [retention] %s '%s' must be a number of months from 1 to 1200", f, lineno, key,
                             value);
                if (strcmp(key, "default_months") == 0)
                        cfg->retention_months = (unsigned)n;
                else if (strncmp(key, "class.", 6) == 0 && valid_name(key + 6) && strcmp(key + 6, "default") != 0) {
                        if (cfg->n_retention == sizeof(cfg->retention) / sizeof(cfg->retention[0]))
                                FAIL("%s:%d: [retention] more than 16 classes", f, lineno);
                        snprintf(cfg->retention[cfg->n_retention].name, sizeof(cfg->retention[0].name), "%s", key + 6);
                        cfg->retention[cfg->n_retention++].months = (unsigned)n;
                } else
                        FAIL("%s:%d: unknown key '%s' in [retention] (known: default_months, class.NAME)", f, lineno,
                             key);
        } else if (strcmp(section, "policy") == 0) {
                if (strcmp(key, "require_encryption") == 0) {
                        if (strcmp(value, "yes") != 0 && strcmp(value, "no") != 0)
                                FAIL("%s:%d: [policy] require_encryption '%s' must be yes or no", f, lineno, value);
                        cfg->require_encryption = strcmp(value, "yes") == 0;
                        return 1;
                }
                if (strcmp(key, "wipe") != 0)
                        FAIL("%s:%d: unknown key '%s' in [policy] (known: late_h, wipe, require_encryption)", f, lineno,
                             key);
                if (strcmp(value, "never") != 0 && strcmp(value, "verified") != 0)
                        FAIL("%s:%d: [policy] wipe '%s' must be never or verified", f, lineno, value);
                cfg->wipe_verified = strcmp(value, "verified") == 0;
        } else
                FAIL("%s:%d: unknown section [%s] (known: station, target.NAME, ingest, archive, recorders, "
                     "recorder.VID:PID, bays, metrics, "
                     "roles, alarms, retention, policy)",
                     f, lineno, section);
        return 1;
}

/* Targets that are one directory (two spellings, symlinks, bind mounts)
 * are refused; two on one filesystem are the target module's to judge when
 * they are opened (a target whose disk is not mounted looks like one). */
static int targets_apart(struct config *cfg, char *err, size_t err_size)
{
        struct stat st[DOCKD_MAX_TARGETS];
        bool ok[DOCKD_MAX_TARGETS];
        for (size_t i = 0; i < cfg->n_targets; i++)
                ok[i] = cfg->targets[i].type == TARGET_FS && stat(cfg->targets[i].path, &st[i]) == 0;
        for (size_t i = 0; i < cfg->n_targets; i++)
                for (size_t j = 0; j < i; j++)
                        if (ok[i] && ok[j] && st[i].st_dev == st[j].st_dev && st[i].st_ino == st[j].st_ino) {
                                snprintf(err, err_size,
                                         "%s: targets %s (%s) and %s (%s) are one directory; two copies need "
                                         "two places",
                                         cfg->source_file ? cfg->source_file : "defaults", cfg->targets[j].name,
                                         cfg->targets[j].path, cfg->targets[i].name, cfg->targets[i].path);
                                return -EINVAL;
                        }
        return 0;
}

static void set_defaults(struct config *cfg)
{
        cfg->station_id = xstrdup("station");
        cfg->state_dir = xstrdup(DOCKD_DEFAULT_STATE);
        cfg->copies = 2;
        cfg->codepage = xstrdup("CP936"); /* GBK: what Chinese-market recorders write in 8.3 names */
        cfg->chunk_size = 4u << 20;
        cfg->chunks = 8;
        cfg->writers = 2;
        cfg->checkpoint_mb = 256;
        cfg->max_parallel = 8;
        cfg->bay_memory_mib = 32;
        cfg->archive_timeout_s = 30;
        cfg->archive_retry_cap_s = 3600;
        cfg->archive_deadline_h = 24;
        cfg->late_h = 24;
        cfg->retention_months = 6;
        cfg->metrics_listen = xstrdup("127.0.0.1:9477");
        cfg->operator_group = xstrdup("dockd-operator");
        cfg->custodian_group = xstrdup("dockd-custodian");
        cfg->admin_group = xstrdup("dockd-admin");
        cfg->alarm_min_free_gib = 10;
        cfg->alarm_clock_offset_s = 120;
        cfg->archive_warn_margin_h = 4;
        /* Embedded default: only the simulated recorder of the demo and the
         * tests; a real station lists its recorder models in [recorders]. */
        cfg->allow[cfg->n_allow++] = (struct usb_id){ 0xf055, 0xd0c0 };
        cfg->clock[cfg->n_clock++] = (struct usb_id){ 0xf055, 0xd0c0 };
}

static bool listed(const struct usb_id *ids, size_t n, unsigned vendor, unsigned product)
{
        for (size_t i = 0; i < n; i++)
                if (ids[i].vendor == vendor && ids[i].product == product)
                        return true;
        return false;
}

const struct recorder_model *config_model(const struct config *cfg, unsigned vendor, unsigned product)
{
        for (size_t i = 0; i < cfg->n_models; i++)
                if (cfg->models[i].vendor == vendor && cfg->models[i].product == product)
                        return &cfg->models[i];
        return NULL;
}

/* The models table complete: each section checked and given its defaults;
 * the [recorders] allow and clock lists read in as msc models (a section for
 * the same model wins); the embedded models when nothing is configured. */
static int settle_models(struct config *cfg, bool allow_set, char *err, size_t err_size)
{
        const char *file = cfg->source_file ? cfg->source_file : "defaults";
        bool sections = cfg->n_models > 0;
        for (size_t i = 0; i < cfg->n_models; i++) {
                struct recorder_model *m = &cfg->models[i];
                char why[400];
                if (recorder_model_check(m, why, sizeof(why)) < 0) {
                        snprintf(err, err_size, "%s: %s %s", file, m->origin, why);
                        return -EINVAL;
                }
        }
        if (sections && !allow_set)
                cfg->n_allow = 0; /* the embedded simulated recorder is not a configured station's */
        for (size_t i = 0; i < cfg->n_allow; i++) {
                unsigned v = cfg->allow[i].vendor, p = cfg->allow[i].product;
                if (config_model(cfg, v, p) || cfg->n_models == DOCKD_MAX_ALLOW)
                        continue;
                struct recorder_model *m = &cfg->models[cfg->n_models++];
                *m = (struct recorder_model){ .vendor = v, .product = p, .driver = RECORDER_DRIVER_MSC };
                m->clock = listed(cfg->clock, cfg->n_clock, v, p) ? RECORDER_CLOCK_READ : RECORDER_CLOCK_OFF;
                snprintf(m->origin, sizeof(m->origin), allow_set ? "[recorders] allow" : "embedded");
        }
        if (!sections && !allow_set) {
                /* The demo's and the tests' simulated 行标 recorder. */
                struct recorder_model *m = &cfg->models[cfg->n_models++];
                *m = (struct recorder_model){ .vendor = 0xf055,
                                              .product = 0xd0c1,
                                              .driver = RECORDER_DRIVER_GAT947_JL };
                m->clock = RECORDER_CLOCK_SYNC;
                m->clock_set = true;
                snprintf(m->origin, sizeof(m->origin), "embedded");
        }
        for (size_t i = 0; i < cfg->n_models; i++) {
                struct recorder_model *m = &cfg->models[i];
                if (!m->clock_set)
                        m->clock = m->driver == RECORDER_DRIVER_GAT947_JL ? RECORDER_CLOCK_SYNC : m->clock;
                if (m->driver == RECORDER_DRIVER_GAT947_JL && !m->info_layout)
                        m->info_layout = 89;
                if (!m->unlock_timeout_s)
                        m->unlock_timeout_s = 30;
        }
        return 0;
}

unsigned config_retention_months(const struct config *cfg, const char *cls)
{
        if (!cls || strcmp(cls, "default") == 0)
                return cfg->retention_months;
        for (size_t i = 0; i < cfg->n_retention; i++)
                if (strcmp(cfg->retention[i].name, cls) == 0)
                        return cfg->retention[i].months;
        return 0;
}

static int load(struct config *cfg, const char *path, const char *state_dir, char *err, size_t err_size)
{
        memset(cfg, 0, sizeof(*cfg));
        set_defaults(cfg);
        err[0] = '\0';

        bool explicit = path != NULL, allow_set = false;
        if (path && !*path)
                path = NULL; /* "": the embedded defaults, whatever /etc holds */
        else if (!path && access(DOCKD_DEFAULT_CONFIG, F_OK) == 0)
                path = DOCKD_DEFAULT_CONFIG;
        if (path) {
                _cleanup_fclose_ FILE *f = fopen(path, "re");
                if (!f) {
                        int e = errno;
                        snprintf(err, err_size, "%s: cannot open config file: %s%s", path, strerror(e),
                                 explicit ? "" : " (remove it to run on embedded defaults)");
                        return -e;
                }
                struct parse_state ps = {
                        .cfg = cfg, .err = err, .err_size = err_size, .file = path, .f = f, .at_line_start = true
                };
                int r = ini_parse_stream(read_line, &ps, on_entry, &ps);
                allow_set = ps.allow_set;
                for (size_t i = 0; i < ps.n_seen; i++)
                        free(ps.seen[i].key);
                if (ps.long_line && (!ps.fail_line || ps.long_line <= ps.fail_line) && (r == 0 || r >= ps.long_line)) {
                        snprintf(err, err_size, "%s:%d: line longer than %d characters", path, ps.long_line,
                                 ps.long_max);
                        config_free(cfg);
                        return -EINVAL;
                }
                if (r != 0) {
                        /* inih returns the first failing line, ours or its own syntax error. */
                        if (r > 0 && (!ps.fail_line || r < ps.fail_line))
                                snprintf(err, err_size, "%s:%d: syntax error (expected [section] or key = value)", path,
                                         r);
                        else if (r < 0)
                                snprintf(err, err_size, "%s: cannot read config file", path);
                        config_free(cfg);
                        return -EINVAL;
                }
                cfg->source_file = xstrdup(path);
        }
        if (state_dir) {
                if (state_dir[0] != '/') {
                        char cwd[4096];
                        if (!getcwd(cwd, sizeof(cwd)))
                                return -errno;
                        free(cfg->state_dir);
                        cfg->state_dir = xasprintf("%s/%s", cwd, state_dir);
                } else {
                        free(cfg->state_dir);
                        cfg->state_dir = xstrdup(state_dir);
                }
        }
        if (cfg->n_targets == 0) {
                const char *names[] = { "a", "b" };
                for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                        struct target_conf *t = &cfg->targets[cfg->n_targets++];
                        t->name = xstrdup(names[i]);
                        t->path = xasprintf("%s/targets/%s", cfg->state_dir, names[i]);
                        t->create = true;
                }
        }
        for (size_t i = 0; i < cfg->n_targets; i++) {
                int r = target_s3_settle(cfg, &cfg->targets[i], err, err_size);
                if (r < 0)
                        return r;
                if (r > 0)
                        continue; /* an S3 target: no directory to compare */
                if (!cfg->targets[i].path) {
                        snprintf(err, err_size, "%s: [target.%s] has no path", cfg->source_file, cfg->targets[i].name);
                        return -EINVAL;
                }
                /* "/x/a/" is "/x/a" */
                char *tp = cfg->targets[i].path;
                for (size_t n = strlen(tp); n > 1 && tp[n - 1] == '/'; n--)
                        tp[n - 1] = '\0';
                for (size_t j = 0; j < i; j++)
                        if (cfg->targets[j].type == TARGET_FS &&
                            strcmp(cfg->targets[i].path, cfg->targets[j].path) == 0) {
                                snprintf(err, err_size,
                                         "%s: targets %s and %s share the path %s; two copies need two places",
                                         cfg->source_file, cfg->targets[j].name, cfg->targets[i].name,
                                         cfg->targets[i].path);
                                return -EINVAL;
                        }
        }
        if (!cfg->metrics_tls_cert != !cfg->metrics_tls_key) {
                snprintf(err, err_size, "%s: [metrics] tls_cert and tls_key come together: give both, or neither",
                         cfg->source_file ? cfg->source_file : "defaults");
                return -EINVAL;
        }
        int rm = settle_models(cfg, allow_set, err, err_size);
        if (rm < 0)
                return rm;
        int ra = targets_apart(cfg, err, err_size);
        if (ra < 0)
                return ra;
        if ((size_t)cfg->copies > cfg->n_targets) {
                snprintf(err, err_size, "%s: [station] copies = %d but only %zu target(s) configured",
                         cfg->source_file ? cfg->source_file : "defaults", cfg->copies, cfg->n_targets);
                return -EINVAL;
        }
        if (cfg->archive_warn_margin_h >= cfg->archive_deadline_h) {
                snprintf(err, err_size, "%s: [archive] warn_margin_h = %u must be less than deadline_h = %u",
                         cfg->source_file ? cfg->source_file : "defaults", cfg->archive_warn_margin_h,
                         cfg->archive_deadline_h);
                return -EINVAL;
        }
        if (!cfg->archive_url)
                cfg->archive_url = xasprintf("file://%s/archive", cfg->state_dir);
        for (size_t i = 0; i < cfg->n_targets; i++)
                cfg->targets[i].require_encryption = cfg->require_encryption;
        int ra3 = archive_s3_settle(cfg, err, err_size);
        if (ra3 < 0)
                return ra3;
        if (!cfg->socket_path)
                cfg->socket_path = xasprintf("%s/dockd.sock", cfg->state_dir);
        return 0;
}

int config_load(struct config *cfg, const char *path, const char *state_dir, char *err, size_t err_size)
{
        int r = load(cfg, path, state_dir, err, err_size);
        if (r < 0)
                config_free(cfg);
        return r;
}

static void s3_conf_free(struct s3_conf *s)
{
        free(s->endpoint);
        free(s->bucket);
        free(s->region);
        free(s->prefix);
        free(s->credentials);
        free(s->ca_file);
        free(s->object_lock);
        free(s->sse_c_key);
}

void config_free(struct config *cfg)
{
        free(cfg->source_file);
        free(cfg->station_id);
        free(cfg->state_dir);
        free(cfg->archive_url);
        free(cfg->socket_path);
        free(cfg->archive_ca);
        free(cfg->archive_cert);
        free(cfg->archive_key);
        free(cfg->archive_token);
        s3_conf_free(&cfg->archive_s3);
        free(cfg->name_pattern);
        free(cfg->codepage);
        free(cfg->timezone);
        free(cfg->language);
        for (size_t i = 0; i < cfg->n_slots; i++)
                free(cfg->slots[i].port);
        for (size_t i = 0; i < cfg->n_models; i++)
                recorder_model_free(&cfg->models[i]);
        free(cfg->metrics_listen);
        free(cfg->metrics_tls_cert);
        free(cfg->metrics_tls_key);
        free(cfg->metrics_token_file);
        free(cfg->operator_group);
        free(cfg->custodian_group);
        free(cfg->admin_group);
        for (size_t i = 0; i < cfg->n_targets; i++) {
                struct target_conf *t = &cfg->targets[i];
                free(t->name);
                free(t->path);
                s3_conf_free(&t->s3);
        }
        memset(cfg, 0, sizeof(*cfg));
}
