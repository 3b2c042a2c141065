/* gat947.c — see gat947.h. */
#include "gat947.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define OP_WRITE 0xfb /* ISD_TOOL_WRITE */
#define OP_READ 0xfd  /* ISD_TOOL_READ */
#define USER_WRITE 0x82
#define USER_READ 0x81

struct cmd_def {
        enum gat947_cmd cmd;
        const char *name;
        bool in;
        size_t len; /* 0 with in: ZFY_INFO, the model's layout */
};

/* The whitelist: what dockd sends, nothing else. Left out on purpose:
 * WRITE_DEV_INFO (4), WRITE_ALL_DEV_INFO (9), SET_PASSWORD (10),
 * SET_ID_CODE (11) and READ_DEV_RES (7, not needed). */
static const struct cmd_def cmds[] = {
        { GAT947_INIT_USB_DEVICE, "INIT_USB_DEVICE", false, 0 },
        { GAT947_GET_ID_CODE, "GET_ID_CODE", true, GAT947_ID_CODE_LEN },
        { GAT947_GET_DEV_INFO, "GET_DEV_INFO", true, 0 },
        { GAT947_SYNC_DEV_TIME, "SYNC_DEV_TIME", false, GAT947_TIME_LEN },
        { GAT947_SET_MSDC, "SET_MSDC", false, 0 },
        { GAT947_READ_BATTERY_VAL, "READ_BATTERY_VAL", true, GAT947_WORD_LEN },
        { GAT947_GET_SD_STATUS, "GET_SD_STATUS", true, GAT947_WORD_LEN },
        { GAT947_GET_JL_PASSWORD, "GET_JL_PASSWORD", true, GAT947_PASSWORD_LEN },
        { GAT947_GET_RETURN_STATUS, "GET_RETURN_STATUS", true, GAT947_WORD_LEN },
};

static const struct cmd_def *find(unsigned cmd)
{
        for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
                if ((unsigned)cmds[i].cmd == cmd)
                        return &cmds[i];
        return NULL;
}

int gat947_cdb(enum gat947_cmd cmd, unsigned info_layout, uint8_t cdb[GAT947_CDB_LEN], size_t *data_len, bool *data_in)
{
        const struct cmd_def *d = find((unsigned)cmd);
        if (!d)
                return -EINVAL;
        size_t len = d->len;
        if (cmd == GAT947_GET_DEV_INFO) {
                if (info_layout != 89 && info_layout != 94)
                        return -EINVAL;
                len = info_layout;
        }
        memset(cdb, 0, GAT947_CDB_LEN);
        cdb[0] = d->in ? OP_READ : OP_WRITE;
        cdb[1] = d->in ? USER_READ : USER_WRITE;
        cdb[5] = (uint8_t)cmd; /* cdb[2..5]: big-endian command */
        cdb[6] = (uint8_t)(len >> 8);
        cdb[7] = (uint8_t)len;
        *data_len = len;
        *data_in = d->in;
        return 0;
}

void gat947_inquiry_cdb(uint8_t cdb[GAT947_INQUIRY_CDB_LEN])
{
        static const uint8_t inquiry[GAT947_INQUIRY_CDB_LEN] = { 0x12, 0, 0, 0, GAT947_INQUIRY_LEN, 0 };
        memcpy(cdb, inquiry, sizeof(inquiry));
}

bool gat947_cdb_allowed(const uint8_t *cdb, size_t cdb_len, size_t data_len, bool data_in)
{
        if (cdb_len == GAT947_INQUIRY_CDB_LEN) {
                uint8_t want[GAT947_INQUIRY_CDB_LEN];
                gat947_inquiry_cdb(want);
                return memcmp(cdb, want, sizeof(want)) == 0 && data_in && data_len == GAT947_INQUIRY_LEN;
        }
        if (cdb_len != GAT947_CDB_LEN || cdb[2] || cdb[3] || cdb[4])
                return false;
        for (size_t i = 8; i < GAT947_CDB_LEN; i++)
                if (cdb[i])
                        return false;
        const struct cmd_def *d = find(cdb[5]);
        if (!d || d->in != data_in)
                return false;
        if (cdb[0] != (d->in ? OP_READ : OP_WRITE) || cdb[1] != (d->in ? USER_READ : USER_WRITE))
                return false;
        size_t len = (size_t)cdb[6] << 8 | cdb[7];
        if (len != data_len)
                return false;
        return d->cmd == GAT947_GET_DEV_INFO ? len == 89 || len == 94 : len == d->len;
}

const char *gat947_cmd_name(const uint8_t *cdb, size_t cdb_len)
{
        if (cdb_len == GAT947_INQUIRY_CDB_LEN && cdb[0] == 0x12)
                return "INQUIRY";
        const struct cmd_def *d = cdb_len == GAT947_CDB_LEN ? find(cdb[5]) : NULL;
        return d ? d->name : "unknown command";
}

static void ascii_field(const uint8_t *p, size_t n, char *out, size_t size)
{
        size_t j = 0;
        for (size_t i = 0; i < n && j + 1 < size; i++)
                out[j++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
        out[j] = '\0';
        while (j && out[j - 1] == ' ')
                out[--j] = '\0';
}

bool gat947_inquiry_parse(const uint8_t *buf, size_t n, char vendor[9], char product[17])
{
        if (n < 32)
                return false;
        ascii_field(buf + 8, 8, vendor, 9);
        ascii_field(buf + 16, 16, product, 17);
        return true;
}

bool gat947_is_loader(const char *product) { return strncasecmp(product, "UBOOT", 5) == 0; }

/* A field's length: up to its first NUL, without trailing spaces or 0xFF. */
static size_t field_len(const uint8_t *p, size_t n)
{
        size_t k = 0;
        while (k < n && p[k])
                k++;
        while (k && (p[k - 1] == ' ' || p[k - 1] == 0xff))
                k--;
        return k;
}

static int ascii_strict(const char *what, const uint8_t *p, size_t n, char *out, size_t size, char *why,
                        size_t why_size)
{
        size_t k = field_len(p, n);
        for (size_t i = 0; i < k; i++)
                if (p[i] <= 0x20 || p[i] >= 0x7f || p[i] == '/') {
                        snprintf(why, why_size, "its %s holds byte 0x%02x at %zu: not printable ASCII", what, p[i], i);
                        return -EINVAL;
                }
        snprintf(out, size, "%.*s", (int)k, (const char *)p);
        return 0;
}

static int gbk_field(const char *what, const uint8_t *p, size_t n, char *out, size_t size, char *why, size_t why_size)
{
        size_t k = field_len(p, n);
        out[0] = '\0';
        if (!k)
                return 0;
        iconv_t cd = iconv_open("UTF-8", "GBK");
        if (cd == (iconv_t)-1) {
                snprintf(why, why_size, "cannot decode GBK: %s", strerror(errno));
                return -EINVAL;
        }
        char in[64];
        memcpy(in, p, k);
        char *ip = in, *op = out;
        size_t il = k, ol = size - 1;
        size_t r = iconv(cd, &ip, &il, &op, &ol);
        iconv_close(cd);
        if (r == (size_t)-1) {
                snprintf(why, why_size, "its %s is not valid GBK (at byte %zu)", what, (size_t)(ip - in));
                out[0] = '\0';
                return -EINVAL;
        }
        *op = '\0';
        for (const char *c = out; *c; c++)
                if ((unsigned char)*c < 0x20 || *c == 0x7f) {
                        snprintf(why, why_size, "its %s holds a control character", what);
                        out[0] = '\0';
                        return -EINVAL;
                }
        return 0;
}

int gat947_info_parse(const uint8_t *buf, size_t n, unsigned layout, struct gat947_info *out, char *why,
                      size_t why_size)
{
        static const size_t l89[5] = { 7, 6, 32, 12, 32 }, l94[5] = { 8, 7, 33, 13, 33 };
        memset(out, 0, sizeof(*out));
        if (layout != 89 && layout != 94) {
                snprintf(why, why_size, "ZFY_INFO layout %u is not 89 or 94", layout);
                return -EINVAL;
        }
        if (n != layout) {
                snprintf(why, why_size, "ZFY_INFO is %zu bytes, not the %u of this model's layout", n, layout);
                return -EINVAL;
        }
        const size_t *l = layout == 89 ? l89 : l94;
        const uint8_t *p = buf;
        int r;
        if ((r = ascii_strict("serial", p, l[0], out->serial, sizeof(out->serial), why, why_size)) < 0)
                return r;
        p += l[0];
        if ((r = ascii_strict("police number (警号)", p, l[1], out->badge, sizeof(out->badge), why, why_size)) < 0)
                return r;
        p += l[1];
        if ((r = gbk_field("officer name", p, l[2], out->name, sizeof(out->name), why, why_size)) < 0)
                return r;
        p += l[2];
        if ((r = gbk_field("unit number", p, l[3], out->unit_no, sizeof(out->unit_no), why, why_size)) < 0)
                return r;
        p += l[3];
        if ((r = gbk_field("unit name", p, l[4], out->unit_name, sizeof(out->unit_name), why, why_size)) < 0)
                return r;
        if (!out->serial[0]) {
                snprintf(why, why_size, "its serial is empty");
                return -EINVAL;
        }
        return 0;
}

void gat947_time_encode(const struct tm *tm, uint8_t out[GAT947_TIME_LEN])
{
        unsigned year = (unsigned)(tm->tm_year + 1900);
        out[0] = (uint8_t)year;
        out[1] = (uint8_t)(year >> 8);
        out[2] = (uint8_t)(tm->tm_mon + 1);
        out[3] = (uint8_t)tm->tm_mday;
        out[4] = (uint8_t)tm->tm_hour;
        out[5] = (uint8_t)tm->tm_min;
        out[6] = (uint8_t)tm->tm_sec;
}

uint32_t gat947_word(const uint8_t b[GAT947_WORD_LEN])
{
        return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}
