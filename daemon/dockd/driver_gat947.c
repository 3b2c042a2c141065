/* driver_gat947.c — recorders that speak the 行标 functions as SCSI vendor
 * commands over USB mass storage (JieLi family, gat947.h): INQUIRY first (a
 * chip in loader mode is never sent anything), then INIT, the ID code,
 * ZFY_INFO (serial and officer), the battery, the clock (clock = sync), and
 * for a locked recorder the card check and SET_MSDC. The transport is SG_IO
 * on the SCSI disk; vendor opcodes need CAP_SYS_RAWIO. Every CDB passes
 * gat947_cdb_allowed() in sg_send(), the one place that sends. */
#include <errno.h>
#include <fcntl.h>
#include <scsi/sg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "driver.h"
#include "gat947.h"
#include "log.h"
#include "recorders.h"
#include "util.h"

#define READ_TIMEOUT_MS 2000 /* as the vendor's DLL: 2 s to read, 10 s to write */
#define WRITE_TIMEOUT_MS 10000

/* Sends one CDB. Returns the bytes moved (data in: what the device
 * answered), or -errno with what went wrong in err. */
static int sg_send(int fd, const uint8_t *cdb, size_t cdb_len, uint8_t *data, size_t len, bool in, char *err,
                   size_t err_size)
{
        const char *name = gat947_cmd_name(cdb, cdb_len);
        if (!gat947_cdb_allowed(cdb, cdb_len, len, in)) {
                snprintf(err, err_size, "refused to send %s: not on the whitelist", name);
                return -EPERM;
        }
        uint8_t sense[32] = { 0 };
        struct sg_io_hdr h = {
                .interface_id = 'S',
                .cmd_len = (unsigned char)cdb_len,
                .cmdp = (unsigned char *)cdb,
                .dxfer_direction = !len ? SG_DXFER_NONE
                                   : in ? SG_DXFER_FROM_DEV
                                        : SG_DXFER_TO_DEV,
                .dxferp = data,
                .dxfer_len = (unsigned)len,
                .sbp = sense,
                .mx_sb_len = sizeof(sense),
                .timeout = in ? READ_TIMEOUT_MS : WRITE_TIMEOUT_MS,
        };
        if (ioctl(fd, SG_IO, &h) < 0) {
                int e = errno;
                snprintf(err, err_size, "%s: %s%s", name, strerror(e),
                         e == EPERM ? " (vendor commands need CAP_SYS_RAWIO: see the dockd unit)" : "");
                return -e;
        }
        if (h.host_status == 0x03 /* DID_TIME_OUT */) {
                snprintf(err, err_size, "%s: the recorder did not answer within %u ms", name, h.timeout);
                return -ETIMEDOUT;
        }
        if (h.status || h.host_status || h.driver_status || (h.info & SG_INFO_OK_MASK) != SG_INFO_OK) {
                unsigned key = 0, asc = 0, ascq = 0;
                if (h.sb_len_wr >= 14 && (sense[0] & 0x7f) >= 0x70) {
                        key = sense[2] & 0x0f;
                        asc = sense[12];
                        ascq = sense[13];
                }
                snprintf(err, err_size,
                         "%s: the recorder refused it (SCSI status 0x%02x, sense key 0x%x, ASC/ASCQ 0x%02x/0x%02x)",
                         name, h.status, key, asc, ascq);
                return -EIO;
        }
        return (int)len - (in ? h.resid : 0);
}

/* One vendor command with its exact data length: a short answer is an error. */
static int cmd(int fd, enum gat947_cmd c, unsigned layout, uint8_t *data, size_t size, char *err, size_t err_size)
{
        uint8_t cdb[GAT947_CDB_LEN];
        size_t len;
        bool in;
        if (gat947_cdb(c, layout, cdb, &len, &in) < 0 || len > size) {
                snprintf(err, err_size, "internal: command %d has no CDB", (int)c);
                return -EINVAL;
        }
        int n = sg_send(fd, cdb, sizeof(cdb), data, len, in, err, err_size);
        if (n >= 0 && (size_t)n != len) {
                snprintf(err, err_size, "%s: the recorder answered %d bytes, not %zu",
                         gat947_cmd_name(cdb, sizeof(cdb)), n, len);
                return -EPROTO;
        }
        return n;
}

/* The last command succeeded (GET_RETURN_STATUS: first byte 0). */
static int check_status(int fd, const char *after, char *err, size_t err_size)
{
        uint8_t w[GAT947_WORD_LEN];
        int r = cmd(fd, GAT947_GET_RETURN_STATUS, 0, w, sizeof(w), err, err_size);
        if (r < 0)
                return r;
        if (w[0] != 0) {
                snprintf(err, err_size, "the recorder reports %s failed (return status %u)", after, w[0]);
                return -EIO;
        }
        return 0;
}

static int open_disk(const struct dock_info *d, char *err, size_t err_size)
{
        const char *node = d->disk_node[0] ? d->disk_node : d->devnode;
        /* O_NONBLOCK: a disk with no medium (the card still locked) opens. */
        int fd = open(node, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0)
                snprintf(err, err_size, "cannot open %s to talk to the recorder: %s", node, strerror(errno));
        return fd < 0 ? -errno : fd;
}

/* The cause of a failing call, for the bay. */
static int because(const struct driver_call *c, const char *reason, int r)
{
        if (c->reason)
                *c->reason = reason;
        return r;
}

/* A chip in its loader, where the same opcodes erase flash: nothing is sent. */
static int loader(const struct driver_call *c, const char *product, char *err, size_t err_size)
{
        snprintf(err, err_size,
                 "the recorder is in its loader (firmware update) mode (INQUIRY '%s'): nothing was sent to it; "
                 "restart it normally and dock it again",
                 product);
        return because(c, "loader", -EPERM);
}

/* INQUIRY: which chip answers, and whether it is in its loader. */
static int inquiry(int fd, const struct driver_call *c, char *err, size_t err_size)
{
        uint8_t cdb[GAT947_INQUIRY_CDB_LEN], buf[GAT947_INQUIRY_LEN];
        char vendor[9], product[17];
        gat947_inquiry_cdb(cdb);
        int n = sg_send(fd, cdb, sizeof(cdb), buf, sizeof(buf), true, err, err_size);
        if (n < 0)
                return n;
        if (!gat947_inquiry_parse(buf, (size_t)n, vendor, product)) {
                snprintf(err, err_size, "INQUIRY: the recorder answered %d bytes, too few to name it", n);
                return -EPROTO;
        }
        if (gat947_is_loader(product)) {
                return loader(c, product, err, err_size);
        }
        if (!recorder_inquiry_matches(c->model, vendor, product)) {
                snprintf(err, err_size,
                         "INQUIRY says '%s' '%s', not the %s '%s' this model is configured for: nothing more sent",
                         vendor, product, c->model->inquiry_vendor ? c->model->inquiry_vendor : "",
                         c->model->inquiry_product ? c->model->inquiry_product : "");
                return -EPERM;
        }
        return 0;
}

/* The recorder's admin password against password_file: compared here, as
 * the protocol has it (the device hands it out; it is no security boundary,
 * but a recorder of another unit is told apart). Never logged. */
static int check_password(int fd, const struct driver_call *c, char *err, size_t err_size)
{
        if (!c->model->password_file)
                return 0;
        char want[GAT947_PASSWORD_LEN + 2] = "";
        _cleanup_fclose_ FILE *f = fopen(c->model->password_file, "re");
        if (!f || !fgets(want, sizeof(want), f)) {
                snprintf(err, err_size, "cannot read password_file %s: %s", c->model->password_file,
                         f ? "empty" : strerror(errno));
                return -EACCES;
        }
        want[strcspn(want, "\r\n")] = '\0';
        uint8_t got[GAT947_PASSWORD_LEN];
        int r = cmd(fd, GAT947_GET_JL_PASSWORD, 0, got, sizeof(got), err, err_size);
        if (r < 0)
                return r;
        /* Both as 16 bytes, NUL-padded, compared in full. */
        uint8_t w16[GAT947_PASSWORD_LEN] = { 0 };
        size_t wl = strlen(want);
        memcpy(w16, want, wl < sizeof(w16) ? wl : sizeof(w16));
        unsigned diff = wl > sizeof(w16);
        for (size_t i = 0; i < sizeof(got); i++)
                diff |= got[i] ^ w16[i];
        explicit_bzero(w16, sizeof(w16));
        explicit_bzero(got, sizeof(got));
        explicit_bzero(want, sizeof(want));
        if (diff) {
                snprintf(err, err_size,
                         "the recorder's password is not the one in password_file %s: not unlocked; a recorder of "
                         "another station or unit?",
                         c->model->password_file);
                return because(c, "password", -EACCES);
        }
        return 0;
}

/* clock = sync: the station's time in its zone, to the second. */
static int sync_clock(int fd, const struct driver_call *c, struct device_report *rep, char *err, size_t err_size)
{
        int r = check_password(fd, c, err, err_size);
        if (r < 0)
                return r;
        /* The zone's local time, from date(1) in a process of its own: dockd
         * keeps TZ=UTC for the FAT times libtsk converts, and changing it in
         * a threaded process is not safe. */
        time_t now = time(NULL);
        char at[32], tzenv[96], out[128];
        snprintf(at, sizeof(at), "@%lld", (long long)now);
        snprintf(tzenv, sizeof(tzenv), "TZ=%s%s", c->timezone ? "" : ":", c->timezone ? c->timezone : "/etc/localtime");
        char *argv[] = { "env", tzenv, "date", "-d", at, "+%Y %m %d %H %M %S %Z", NULL };
        struct tm tm = { 0 };
        char zone[32] = "";
        if (driver_run(argv, out, sizeof(out)) < 0 ||
            sscanf(out, "%d %d %d %d %d %d %31s", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                   &tm.tm_sec, zone) < 6) {
                snprintf(err, err_size, "cannot tell the local time in %s: %.100s",
                         c->timezone ? c->timezone : "the host's zone", out);
                return -EIO;
        }
        tm.tm_year -= 1900;
        tm.tm_mon -= 1;
        uint8_t t[GAT947_TIME_LEN];
        gat947_time_encode(&tm, t);
        uint8_t cdb[GAT947_CDB_LEN];
        size_t len;
        bool in;
        gat947_cdb(GAT947_SYNC_DEV_TIME, 0, cdb, &len, &in);
        if ((r = sg_send(fd, cdb, sizeof(cdb), t, len, in, err, err_size)) < 0)
                return r;
        if ((r = check_status(fd, "setting its clock", err, err_size)) < 0)
                return r;
        rep->clock_set = true;
        time_iso((int64_t)now, rep->clock_set_at, sizeof(rep->clock_set_at));
        snprintf(rep->clock_set_to, sizeof(rep->clock_set_to), "%04d-%02d-%02dT%02d:%02d:%02d %s", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, c->timezone ? c->timezone : zone);
        return 0;
}

static int jl_query(const struct driver_call *c, struct device_report *rep, char *err, size_t err_size)
{
        memset(rep, 0, sizeof(*rep));
        rep->battery_pct = -1;
        /* The kernel asked INQUIRY when the disk appeared: a loader is known
         * before anything is sent. */
        if (gat947_is_loader(c->dock->scsi_model)) {
                return loader(c, c->dock->scsi_model, err, err_size);
        }
        _cleanup_close_ int fd = open_disk(c->dock, err, err_size);
        if (fd < 0)
                return fd;
        int r;
        if ((r = inquiry(fd, c, err, err_size)) < 0)
                return r;
        uint8_t none[1];
        if ((r = cmd(fd, GAT947_INIT_USB_DEVICE, 0, none, 0, err, err_size)) < 0 ||
            (r = check_status(fd, "INIT", err, err_size)) < 0)
                return r;
        uint8_t idc[GAT947_ID_CODE_LEN];
        if ((r = cmd(fd, GAT947_GET_ID_CODE, 0, idc, sizeof(idc), err, err_size)) < 0)
                return r;
        hex_encode(idc, sizeof(idc), rep->id_code); /* 6 bytes: 13 of id_code's 16 */
        /* ZFY_INFO: who the device says it is and who carries it. Unreadable
         * is not fatal: the card is still taken, under a flagged identity. */
        uint8_t info[94];
        struct gat947_info gi;
        r = cmd(fd, GAT947_GET_DEV_INFO, c->model->info_layout, info, sizeof(info), rep->info_error,
                sizeof(rep->info_error));
        if (r >= 0)
                r = gat947_info_parse(info, (size_t)r, c->model->info_layout, &gi, rep->info_error,
                                      sizeof(rep->info_error));
        if (r >= 0) {
                rep->has_info = true;
                snprintf(rep->info_serial, sizeof(rep->info_serial), "%s", gi.serial);
                snprintf(rep->badge, sizeof(rep->badge), "%s", gi.badge);
                snprintf(rep->officer_name, sizeof(rep->officer_name), "%s", gi.name);
                snprintf(rep->unit_no, sizeof(rep->unit_no), "%s", gi.unit_no);
                snprintf(rep->unit_name, sizeof(rep->unit_name), "%s", gi.unit_name);
        } else {
                log_warn("bay %s: the recorder's ZFY_INFO cannot be read: %s", c->dock->bay, rep->info_error);
        }
        uint8_t w[GAT947_WORD_LEN];
        char why[200];
        if (cmd(fd, GAT947_READ_BATTERY_VAL, 0, w, sizeof(w), why, sizeof(why)) >= 0 && gat947_word(w) <= 100)
                rep->battery_pct = (int)gat947_word(w);
        if (c->model->clock == RECORDER_CLOCK_SYNC && (r = sync_clock(fd, c, rep, why, sizeof(why))) < 0)
                /* The recordings are taken all the same: their times stay as the device wrote them. */
                log_warn("bay %s: cannot set the recorder's clock: %s", c->dock->bay, why);
        return 0;
}

static int jl_unlock(const struct driver_call *c, char *err, size_t err_size)
{
        _cleanup_close_ int fd = open_disk(c->dock, err, err_size);
        if (fd < 0)
                return fd;
        uint8_t w[GAT947_WORD_LEN];
        int r = cmd(fd, GAT947_GET_SD_STATUS, 0, w, sizeof(w), err, err_size);
        if (r < 0)
                return r;
        if (gat947_word(w) == 0) {
                snprintf(err, err_size, "the recorder reports no memory card: nothing to take");
                return because(c, "no-card", -ENOMEDIUM);
        }
        if ((r = check_password(fd, c, err, err_size)) < 0)
                return r;
        uint8_t none[1];
        if ((r = cmd(fd, GAT947_SET_MSDC, 0, none, 0, err, err_size)) < 0)
                return r;
        return check_status(fd, "SET_MSDC (showing its card)", err, err_size);
}

/* The serial is ZFY_INFO's; the USB serial and the volume label are checked
 * against what the catalog bound to it (dock.c). Unreadable info: the USB
 * identity, flagged. */
static int jl_identify(const struct dock_info *d, const struct device_report *rep, struct recorder_identity *id,
                       char *err, size_t err_size)
{
        int r = driver_msc.identify(d, NULL, id, err, err_size);
        if (r < 0 || !rep)
                return r;
        if (rep->has_info) {
                identity_safe_serial(id->serial, sizeof(id->serial), rep->info_serial);
                if (!strcmp(id->flag, IDENTITY_SERIAL_MISSING))
                        id->flag[0] = '\0'; /* no USB serial, but the device named itself */
        } else if (!id->flag[0]) {
                snprintf(id->flag, sizeof(id->flag), "%s", IDENTITY_INFO_UNREADABLE);
        }
        return 0;
}

const struct driver_ops driver_gat947_jl = {
        .name = "gat947-jl",
        .query = jl_query,
        .unlock = jl_unlock,
        .identify = jl_identify,
        .wipe = driver_reformat,
};
