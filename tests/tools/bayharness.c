/*
 * bayharness: simulated docking-station bays for dockd tests.
 *
 * Creates a umockdev testbed, prints "ready <UMOCKDEV_DIR>", then reads line
 * commands on stdin and answers one line per command on stdout:
 *
 *   add ID VID PID SERIAL IMAGE [FSTYPE] [clock=SKEW] [label=L] [jl.KEY=V ...]
 *                                          -> added ID /dev/sdX1
 *        (SERIAL: one serial, or UDEV/DEVICE: udev's and the device's own,
 *         DEVICE "-" for none or "raw:HEX" for a serial string descriptor of
 *         exactly those bytes, well formed or not;
 *         clock=SKEW: answers dockd's clock request, SKEW seconds off;
 *         label=L: the volume label udev reports;
 *         jl.*: a locked 行标 recorder, see "The 行标 recorder" below)
 *   remove ID                              -> removed ID
 *   docktime ID                            -> docktime ID US  (when its first
 *        device appeared: CLOCK_REALTIME microseconds; for the benchmarks)
 *   spawn CMD [ARGS...]                    -> spawned PID   (shell-style quoting)
 *   signal TERM|KILL|INT|HUP|QUIT|USR1|USR2 -> signalled
 *   wait                                   -> exited RC     (asynchronous)
 *   echo TEXT                              -> TEXT
 *   <EOF>                                  -> SIGTERM child, "exited RC", exit 0
 *   anything failing                       -> error <message>
 *
 * Each bay is a USB mass-storage recorder: a usb_device (with sysfs
 * "descriptors", a /dev/bus/usb/001/NNN node whose ioctls are answered by an
 * in-process handler so libusb can read string descriptors), a usb_interface,
 * a SCSI host/target/device chain, a block disk sdX and a partition sdX1 whose
 * testbed node is a symlink to the caller's image file.
 *
 * "spawn" runs the child with UMOCKDEV_DIR set, libumockdev-preload.so.0
 * prepended to LD_PRELOAD, verify_asan_link_order=0 added to ASAN_OPTIONS (an
 * ASan build refuses to start with another library preloaded before libasan),
 * stdin from /dev/null and stdout/stderr inherited: the child's stdout shares
 * the reply pipe. "wait" does not block other commands.
 *
 * The 行标 recorder (any jl.KEY=V option): the card stays hidden (a disk of
 * size 0, no partition) until the recorder is sent SET_MSDC over SG_IO on
 * /dev/sdX, answered here by an ioctl handler speaking the JieLi family's
 * vendor commands (daemon/common/gat947.h); then the partition is added with
 * its uevent, as the kernel does when a card appears. Keys:
 *   jl.serial, jl.badge, jl.name, jl.unit_no, jl.unit_name  ZFY_INFO fields
 *        (UTF-8 here, GBK on the wire); jl.layout=89|94 (default 89)
 *   jl.password (default 000000), jl.battery (default 87)
 *   jl.log=FILE  every CDB received, one line each: hex CDB [" > " data out]
 *   jl.fault=F   uboot (the chip's loader: sysfs and INQUIRY say UBOOT),
 *        uboot-inquiry (only INQUIRY says so), nocard, short-info (ZFY_INFO
 *        answered 5 bytes short), bad-gbk, timeout:N or sense:N (command N
 *        times out or fails with a sense), never-card (SET_MSDC accepted,
 *        no card), init-fails (GET_RETURN_STATUS 1 after INIT)
 * Anything not in the protocol is answered CHECK CONDITION, ILLEGAL REQUEST.
 *
 * umockdev quirks handled here (0.17.16):
 *  - add_devicev() checks the parent path through the preload library, so
 *    this program re-executes itself under libumockdev-preload.so.0;
 *  - add_devicev() sends the "add" uevent itself, so attributes and nodes a
 *    listener may look at are created before the device is added;
 *  - add_devicev() creates no /dev nodes; remove_device() leaves /sys/block
 *    links behind (re-adding the same name would abort);
 *  - its uevent sender exit()s when a listener has ~10 unread events (see
 *    uevent_gate_begin());
 *  - a /dev node whose inode is a plain file is stat()ed as a char device,
 *    a block device only with the sticky bit (set on the image here).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <linux/fs.h>
#include <linux/loop.h>
#include <sys/ioctl.h>
#include <fcntl.h>
#include <glob.h>
#include <linux/usbdevice_fs.h>
#include <scsi/sg.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/un.h>
#include <unistd.h>

#include <glib.h>
#include <glib-unix.h>
#include <glib-object.h>
#include <umockdev.h>

#define PRELOAD_LIB "libumockdev-preload.so.0"
#define ORIG_PRELOAD_ENV "BAYHARNESS_ORIG_LD_PRELOAD"
#define MAX_BAY 64
#define PCI_PATH "/sys/devices/pci0000:00/0000:00:14.0"
#define PCI_ID_PATH "pci-0000:00:14.0"
#define PCI_ID_PATH_TAG "pci-0000_00_14_0"
#define ROOTHUB_NODE "/dev/bus/usb/001/001"
#define EXIT_GRACE_SECONDS 10
#define UEVENT_DRAIN_SECONDS 5

/* ---------------------------------------------------------------- USB data */

/* Per-device data shared with the ioctl handler thread; only "gone" changes. */
typedef struct {
        guint8 dev_desc[18];
        guint8 cfg_desc[32];
        char *strings[4];   /* 1: manufacturer, 2: product, 3: serial (NULL = none) */
        gint gone;          /* undocked: every ioctl fails with ENODEV, as usbfs does */
        gboolean has_clock; /* answers dockd's clock request (see usb_control) */
        gint64 clock_skew;  /* device clock minus real time, seconds */
} UsbInfo;

static void usb_info_free(gpointer p)
{
        UsbInfo *u = p;
        for (int i = 0; i < 4; i++)
                g_free(u->strings[i]);
        g_free(u);
}

static UsbInfo *usb_info_new(guint16 vid, guint16 pid, const char *serial)
{
        UsbInfo *u = g_new0(UsbInfo, 1);
        const guint8 dev[18] = {
                18,         1,           /* bLength, DEVICE */
                0x00,       0x02,        /* bcdUSB 2.00 */
                0,          0,        0, /* class/subclass/protocol: per interface */
                64,                      /* bMaxPacketSize0 */
                vid & 0xff, vid >> 8, pid & 0xff,
                pid >> 8,   0x00,     0x01,           /* bcdDevice 1.00 */
                1,          2,        serial ? 3 : 0, /* iManufacturer, iProduct, iSerialNumber */
                1,                                    /* bNumConfigurations */
        };
        const guint8 cfg[32] = {
                9, 2, 32,   0,    1,    1,    0,    0x80, 50, /* config: wTotalLength 32, 1 intf, value 1, 100 mA */
                9, 4, 0,    0,    2,    0x08, 0x06, 0x50, 0,  /* interface 0: mass storage, SCSI, bulk-only */
                7, 5, 0x81, 0x02, 0x00, 0x02, 0,              /* EP 1 IN bulk 512 */
                7, 5, 0x02, 0x02, 0x00, 0x02, 0,              /* EP 2 OUT bulk 512 */
        };
        memcpy(u->dev_desc, dev, sizeof dev);
        memcpy(u->cfg_desc, cfg, sizeof cfg);
        u->strings[1] = g_strdup("Acme");
        u->strings[2] = g_strdup("BodyCam");
        u->strings[3] = g_strdup(serial);
        return u;
}

/*
 * Answer one control transfer. Returns the number of data bytes written to
 * out (IN requests) or accepted (OUT requests), or -errno (-EPIPE = stall).
 */
static int usb_control(const UsbInfo *u, const guint8 setup[8], guint8 *out, int outmax)
{
        guint8 rt = setup[0], req = setup[1];
        guint16 wvalue = setup[2] | setup[3] << 8;
        guint16 wlength = setup[6] | setup[7] << 8;
        guint8 buf[256];
        int n = -EPIPE;

        if (!(rt & 0x80)) /* host-to-device: accept and ignore (SET_CONFIGURATION...) */
                return 0;
        if (rt == 0x80 && req == 6) { /* GET_DESCRIPTOR */
                guint8 type = wvalue >> 8, idx = wvalue & 0xff;
                if (type == 1) {
                        memcpy(buf, u->dev_desc, 18);
                        n = 18;
                } else if (type == 2 && idx == 0) {
                        memcpy(buf, u->cfg_desc, sizeof u->cfg_desc);
                        n = sizeof u->cfg_desc;
                } else if (type == 3 && idx == 0) {
                        buf[0] = 4, buf[1] = 3, buf[2] = 0x09, buf[3] = 0x04; /* en-US */
                        n = 4;
                } else if (type == 3 && idx == 3 && u->strings[3] && g_str_has_prefix(u->strings[3], "raw:")) {
                        /* the descriptor as given, byte for byte (checked when added) */
                        const char *h = u->strings[3] + 4;
                        n = 0;
                        while (h[0] && h[1] && n < (int)sizeof buf) {
                                buf[n++] = (guint8)(g_ascii_xdigit_value(h[0]) << 4 | g_ascii_xdigit_value(h[1]));
                                h += 2;
                        }
                } else if (type == 3 && idx < 4 && u->strings[idx]) {
                        /* UTF-16LE, as a device sends it (a serial may be Chinese) */
                        glong len = 0;
                        g_autofree gunichar2 *s = g_utf8_to_utf16(u->strings[idx], -1, NULL, &len, NULL);
                        if (!s)
                                len = 0;
                        if (len > 126)
                                len = 126;
                        buf[0] = (guint8)(2 + 2 * len), buf[1] = 3;
                        for (glong i = 0; i < len; i++)
                                buf[2 + 2 * i] = (guint8)(s[i] & 0xff), buf[3 + 2 * i] = (guint8)(s[i] >> 8);
                        n = buf[0];
                }
        } else if (rt == 0x80 && req == 0) { /* GET_STATUS */
                buf[0] = buf[1] = 0;
                n = 2;
        } else if (rt == 0x80 && req == 8) { /* GET_CONFIGURATION */
                buf[0] = 1;
                n = 1;
        } else if (rt == 0xc0 && req == 0x44 && u->has_clock) {
                /* dockd's clock request (daemon/dockd/driver_msc.c): the device's clock
		 * as 8 bytes, little-endian seconds since the epoch */
                gint64 t = g_get_real_time() / G_USEC_PER_SEC + u->clock_skew;
                for (int i = 0; i < 8; i++)
                        buf[i] = (guint8)((guint64)t >> (8 * i));
                n = 8;
        } else if (rt == 0xa1 && req == 0xfe) { /* mass storage GET_MAX_LUN */
                buf[0] = 0;
                n = 1;
        }
        if (n < 0)
                return n;
        if (n > wlength)
                n = wlength;
        if (n > outmax)
                n = outmax;
        memcpy(out, buf, n);
        return n;
}

/* Completed (not yet reaped) URBs of one client live in a GQueue on the client. */
static void urb_queue_free(gpointer p) { g_queue_free_full(p, g_object_unref); }

/*
 * "handle-ioctl" on the usbfs node. Runs in umockdev's ioctl worker thread.
 * libusb reads string descriptors with asynchronous control URBs
 * (SUBMITURB + REAPURBNDELAY); the synchronous USBDEVFS_CONTROL is handled too.
 */
static gboolean on_usb_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer user_data)
{
        const UsbInfo *u = user_data;
        unsigned int req = (unsigned int)umockdev_ioctl_client_get_request(client);
        UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
        GError *err = NULL;
        (void)handler;

        if (!g_object_get_data(G_OBJECT(client), "bayharness-urbs"))
                g_object_set_data_full(G_OBJECT(client), "bayharness-urbs", g_queue_new(), urb_queue_free);

        if (g_atomic_int_get(&u->gone)) {
                umockdev_ioctl_client_complete(client, -1, ENODEV);
                return TRUE;
        }

        if (req == (unsigned int)USBDEVFS_GET_CAPABILITIES) {
                UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(guint32), &err);
                if (!d)
                        goto fault;
                guint32 caps =
                        USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM;
                memcpy(d->data, &caps, sizeof caps);
                g_object_unref(d);
                umockdev_ioctl_client_complete(client, 0, 0);
        } else if (req == (unsigned int)USBDEVFS_GET_SPEED) {
                umockdev_ioctl_client_complete(client, 3 /* USB_SPEED_HIGH */, 0);
        } else if (req == (unsigned int)USBDEVFS_CONTROL) {
                UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_ctrltransfer), &err);
                if (!d)
                        goto fault;
                struct usbdevfs_ctrltransfer *ct = (void *)d->data;
                guint8 setup[8] = { ct->bRequestType,  ct->bRequest,    ct->wValue & 0xff,  ct->wValue >> 8,
                                    ct->wIndex & 0xff, ct->wIndex >> 8, ct->wLength & 0xff, ct->wLength >> 8 };
                guint16 wlength = ct->wLength;
                int n;
                if ((ct->bRequestType & 0x80) && wlength > 0) {
                        UMockdevIoctlData *buf = umockdev_ioctl_data_resolve(
                                d, offsetof(struct usbdevfs_ctrltransfer, data), wlength, &err);
                        if (!buf) {
                                g_object_unref(d);
                                goto fault;
                        }
                        n = usb_control(u, setup, buf->data, buf->data_len);
                        g_object_unref(buf);
                } else {
                        guint8 scratch[1];
                        n = usb_control(u, setup, scratch, 0);
                }
                g_object_unref(d);
                if (n < 0)
                        umockdev_ioctl_client_complete(client, -1, -n);
                else
                        umockdev_ioctl_client_complete(client, n, 0);
        } else if (req == (unsigned int)USBDEVFS_SUBMITURB) {
                UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(struct usbdevfs_urb), &err);
                if (!d)
                        goto fault;
                struct usbdevfs_urb *urb = (void *)d->data;
                if (urb->type != USBDEVFS_URB_TYPE_CONTROL || urb->buffer_length < 8) {
                        g_object_unref(d);
                        umockdev_ioctl_client_complete(client, -1, EINVAL); /* only control URBs emulated */
                        return TRUE;
                }
                UMockdevIoctlData *buf =
                        umockdev_ioctl_data_resolve(d, offsetof(struct usbdevfs_urb, buffer), urb->buffer_length, &err);
                if (!buf) {
                        g_object_unref(d);
                        goto fault;
                }
                urb = (void *)d->data; /* resolve() rewrote the buffer pointer, re-read */
                int n = usb_control(u, buf->data, buf->data + 8, buf->data_len - 8);
                urb->status = n < 0 ? n : 0;
                urb->actual_length = n < 0 ? 0 : n;
                g_object_unref(buf);
                /* completed immediately; handed back by the next REAPURB(NDELAY) */
                g_queue_push_tail(g_object_get_data(G_OBJECT(client), "bayharness-urbs"), d);
                umockdev_ioctl_client_complete(client, 0, 0);
        } else if (req == (unsigned int)USBDEVFS_REAPURB || req == (unsigned int)USBDEVFS_REAPURBNDELAY) {
                GQueue *q = g_object_get_data(G_OBJECT(client), "bayharness-urbs");
                if (g_queue_is_empty(q)) {
                        umockdev_ioctl_client_complete(client, -1, EAGAIN);
                        return TRUE;
                }
                UMockdevIoctlData *ptr = umockdev_ioctl_data_resolve(arg, 0, sizeof(void *), &err);
                if (!ptr)
                        goto fault;
                UMockdevIoctlData *urbdata = g_queue_pop_head(q);
                /* make the client's "struct usbdevfs_urb *" point at its own URB */
                umockdev_ioctl_data_set_ptr(ptr, 0, urbdata);
                g_object_unref(urbdata);
                g_object_unref(ptr);
                umockdev_ioctl_client_complete(client, 0, 0);
        } else if (req == (unsigned int)USBDEVFS_DISCARDURB) {
                umockdev_ioctl_client_complete(client, -1, EINVAL); /* URBs complete at once */
        } else {
                umockdev_ioctl_client_complete(client, -1, ENOTTY);
        }
        return TRUE;

fault:
        g_printerr("bayharness: ioctl 0x%x on %s: %s\n", req, umockdev_ioctl_client_get_devnode(client),
                   err ? err->message : "cannot resolve argument");
        g_clear_error(&err);
        umockdev_ioctl_client_complete(client, -1, EFAULT);
        return TRUE;
}

/* ---------------------------------------------------------------- 行标 recorder */

typedef struct {
        int bay;
        guint8 info[94];
        guint layout;
        char password[16];
        guint32 battery;
        char *log;
        char *fault;
        gboolean init_failed; /* init-fails: the status after INIT */
        gint unlocked;        /* SET_MSDC received */
} JlInfo;

static void jl_info_free(gpointer p)
{
        JlInfo *j = p;
        g_free(j->log);
        g_free(j->fault);
        g_free(j);
}

static gboolean jl_card_appears(gpointer data); /* below: adds the partition */

/* One ZFY_INFO field, UTF-8 given, GBK on the wire. */
static void jl_put(guint8 *p, size_t n, const char *utf8, gboolean bad_gbk)
{
        gsize len = 0;
        gchar *g = g_convert(utf8, -1, "GBK", "UTF-8", NULL, &len, NULL);
        if (!g)
                g = g_strdup(utf8), len = strlen(utf8);
        memcpy(p, g, len < n ? len : n);
        if (bad_gbk && len < n)
                p[len] = 0xd5; /* half a GBK character */
        g_free(g);
}

static void jl_log(const JlInfo *j, const guint8 *cdb, size_t cdb_len, const guint8 *out, size_t out_len)
{
        if (!j->log)
                return;
        FILE *f = fopen(j->log, "a");
        if (!f)
                return;
        for (size_t i = 0; i < cdb_len; i++)
                fprintf(f, "%02x", cdb[i]);
        if (out_len) {
                fputs(" >", f);
                for (size_t i = 0; i < out_len; i++)
                        fprintf(f, " %02x", out[i]);
        }
        fputc('\n', f);
        fclose(f);
}

static gboolean jl_fault(const JlInfo *j, const char *kind, int cmd)
{
        if (!j->fault)
                return FALSE;
        if (cmd < 0)
                return strcmp(j->fault, kind) == 0;
        char want[32];
        snprintf(want, sizeof want, "%s:%d", kind, cmd);
        return strcmp(j->fault, want) == 0;
}

/*
 * Answers one SCSI command: *status 0 with n bytes in data (IN), or a CHECK
 * CONDITION with a sense key; *host 3 for a timeout.
 */
static int jl_answer(JlInfo *j, const guint8 *cdb, size_t cdb_len, guint8 *data, size_t max, int *status, int *key,
                     int *host)
{
        *status = 0, *key = 0, *host = 0;
        if (cdb_len == 6 && cdb[0] == 0x12) { /* INQUIRY */
                guint8 inq[36] = { 0, 0x80, 2, 2, 31 };
                memcpy(inq + 8, "JL      ", 8);
                memcpy(inq + 16,
                       jl_fault(j, "uboot", -1) || jl_fault(j, "uboot-inquiry", -1) ? "UBOOT1.00       "
                                                                                    : "DV16 DEVICE V1.0",
                       16);
                memcpy(inq + 32, "1.00", 4);
                size_t n = max < sizeof inq ? max : sizeof inq;
                memcpy(data, inq, n);
                return (int)n;
        }
        if (cdb_len != 16 || (cdb[0] != 0xfb && cdb[0] != 0xfd) || (cdb[1] != 0x81 && cdb[1] != 0x82)) {
                *status = 2, *key = 5; /* ILLEGAL REQUEST */
                return 0;
        }
        int cmd = cdb[5];
        size_t len = (size_t)cdb[6] << 8 | cdb[7];
        if (jl_fault(j, "timeout", cmd)) {
                *host = 3;
                return 0;
        }
        if (jl_fault(j, "sense", cmd)) {
                *status = 2, *key = 4; /* HARDWARE ERROR */
                return 0;
        }
        guint8 buf[128] = { 0 };
        size_t n = 0;
        switch (cmd) {
        case 1: j->init_failed = jl_fault(j, "init-fails", -1); return 0;
        case 2: memcpy(buf, "\x4a\x4c\x00\x01\x02\x03", 6), n = 6; break;
        case 3:
                memcpy(buf, j->info, j->layout);
                n = jl_fault(j, "short-info", -1) ? j->layout - 5 : j->layout;
                break;
        case 5: return 0; /* the time: logged */
        case 6:
                if (!g_atomic_int_get(&j->unlocked) && !jl_fault(j, "never-card", -1) && !jl_fault(j, "nocard", -1)) {
                        g_atomic_int_set(&j->unlocked, 1);
                        g_timeout_add(300, jl_card_appears, GINT_TO_POINTER(j->bay));
                }
                return 0;
        case 8: buf[0] = (guint8)j->battery, n = 4; break;
        case 12: buf[0] = jl_fault(j, "nocard", -1) ? 0 : 1, n = 4; break;
        case 13: memcpy(buf, j->password, 16), n = 16; break;
        case 14: buf[0] = j->init_failed ? 1 : 0, n = 4; break;
        default: *status = 2, *key = 5; return 0;
        }
        (void)len;
        if (n > max)
                n = max;
        memcpy(data, buf, n);
        return (int)n;
}

/* "handle-ioctl" on a 行标 recorder's disk node: SG_IO only. */
static gboolean on_sg_ioctl(UMockdevIoctlBase *handler, UMockdevIoctlClient *client, gpointer user_data)
{
        JlInfo *j = user_data;
        unsigned int req = (unsigned int)umockdev_ioctl_client_get_request(client);
        UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg(client);
        GError *err = NULL;
        (void)handler;
        if (req != (unsigned int)SG_IO) {
                umockdev_ioctl_client_complete(client, -1, ENOTTY);
                return TRUE;
        }
        UMockdevIoctlData *d = umockdev_ioctl_data_resolve(arg, 0, sizeof(sg_io_hdr_t), &err);
        if (!d)
                goto fault;
        sg_io_hdr_t *h = (void *)d->data;
        size_t cmd_len = h->cmd_len, dlen = h->dxfer_len, sblen = h->mx_sb_len;
        int dir = h->dxfer_direction;
        UMockdevIoctlData *cdb = umockdev_ioctl_data_resolve(d, offsetof(sg_io_hdr_t, cmdp), cmd_len, &err);
        UMockdevIoctlData *data =
                cdb && dlen ? umockdev_ioctl_data_resolve(d, offsetof(sg_io_hdr_t, dxferp), dlen, &err) : NULL;
        UMockdevIoctlData *sense =
                cdb && sblen ? umockdev_ioctl_data_resolve(d, offsetof(sg_io_hdr_t, sbp), sblen, &err) : NULL;
        if (!cdb || (dlen && !data) || (sblen && !sense)) {
                g_clear_object(&cdb);
                g_clear_object(&data);
                g_clear_object(&sense);
                g_object_unref(d);
                goto fault;
        }
        h = (void *)d->data; /* resolve() rewrote the pointers, re-read */
        jl_log(j, cdb->data, cmd_len, dir == SG_DXFER_TO_DEV && data ? data->data : NULL,
               dir == SG_DXFER_TO_DEV ? dlen : 0);
        int status, key, host;
        guint8 scratch[1];
        int n = jl_answer(j, cdb->data, cmd_len, dir == SG_DXFER_FROM_DEV && data ? data->data : scratch,
                          dir == SG_DXFER_FROM_DEV ? dlen : 0, &status, &key, &host);
        h->status = (unsigned char)status;
        h->masked_status = (unsigned char)(status >> 1);
        h->host_status = (unsigned short)host;
        h->driver_status = status ? 0x08 /* DRIVER_SENSE */ : 0;
        h->resid = dir == SG_DXFER_FROM_DEV ? (int)dlen - n : 0;
        h->info = status || host ? SG_INFO_CHECK : SG_INFO_OK;
        h->duration = 1;
        h->sb_len_wr = 0;
        if (status && sense && sblen >= 14) {
                memset(sense->data, 0, sblen);
                sense->data[0] = 0x70, sense->data[2] = (guint8)key, sense->data[7] = 6;
                sense->data[12] = key == 5 ? 0x20 : 0x44; /* invalid opcode / internal target failure */
                h->sb_len_wr = 14;
        }
        g_clear_object(&cdb);
        g_clear_object(&data);
        g_clear_object(&sense);
        g_object_unref(d);
        umockdev_ioctl_client_complete(client, 0, 0);
        return TRUE;
fault:
        g_printerr("bayharness: SG_IO on %s: %s\n", umockdev_ioctl_client_get_devnode(client),
                   err ? err->message : "cannot resolve argument");
        g_clear_error(&err);
        umockdev_ioctl_client_complete(client, -1, EFAULT);
        return TRUE;
}

/* ---------------------------------------------------------------- bays */

typedef struct {
        bool present;
        int id;
        char sdname[8];
        char usbnode[32];
        char *image;
        /* sysfs paths, parent to child */
        char *paths[7];
        gint64 docked_us; /* g_get_real_time() as its first device was added */
        /* a locked 行标 recorder: its partition, added when it is unlocked */
        char *card_name;
        GPtrArray *card_attrs, *card_props;
} Bay;

static UMockdevTestbed *testbed;
static char *root_dir;
static char *roothub_path;
static Bay bays[MAX_BAY + 1];
/*
 * ioctl handler of each bay's usbfs node. It stays attached after the bay is
 * removed (answering ENODEV) until the bay is re-added: detaching while a
 * client is between open() of the node and connecting to the handler's socket
 * makes the preload exit() that client.
 */
static UMockdevIoctlBase *usb_handlers[MAX_BAY + 1];
static UMockdevIoctlBase *sg_handlers[MAX_BAY + 1]; /* 行标 recorders' disk nodes */

/* Child process state */
static GPid child_pid;
static bool child_running;
static bool child_exited_unreported;
static int child_rc;
static bool wait_pending;
static bool shutting_down;
static GMainLoop *loop;

static void reply(const char *fmt, ...) G_GNUC_PRINTF(1, 2);
static void reply(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stdout, fmt, ap);
        va_end(ap);
        fputc('\n', stdout);
        fflush(stdout);
}

/* kernel sd naming: 0 -> sda, 25 -> sdz, 26 -> sdaa */
static void sd_name(int index, char *out, size_t outlen)
{
        char tmp[8];
        char *p = tmp + sizeof tmp - 1;
        *p = '\0';
        do {
                *--p = (char)('a' + index % 26);
                index = index / 26 - 1;
        } while (index >= 0);
        snprintf(out, outlen, "sd%s", p);
}

static void sd_majmin(int index, int *maj, int *min)
{
        int hi = (index & 0xf0) >> 4;
        *maj = hi == 0 ? 8 : 64 + hi;
        *min = ((index & 0xf) << 4) | ((index & 0xfff00) << 8);
}

/*
 * Uevent flow control.
 *
 * umockdev delivers a uevent by a non-blocking send to each listener's
 * socket ($UMOCKDEV_DIR/eventN, one per preloaded udev monitor) and calls
 * exit() when one fails with EAGAIN, which happens as soon as a listener has
 * net.unix.max_dgram_qlen (often 10) events unread, e.g. a daemon busy
 * elsewhere while several bays dock. So before every uevent, wait until each
 * listener has room (poll(POLLOUT) on a connected datagram socket reports
 * exactly that). A listener that stays full until the command's deadline
 * loses the event, as with a netlink overflow: its socket is renamed out of
 * umockdev's "event[0-9]*" glob for the duration of the send.
 */
static gint64 uevent_deadline;      /* per command, monotonic us */
static GPtrArray *hidden_listeners; /* renamed sockets, restored after the send */

static void uevent_gate_begin(void)
{
        char *pattern = g_strdup_printf("%s/event[0-9]*", root_dir);
        glob_t gl;
        hidden_listeners = g_ptr_array_new_with_free_func(g_free);
        if (glob(pattern, GLOB_NOSORT, NULL, &gl) == 0) {
                for (size_t i = 0; i < gl.gl_pathc; i++) {
                        const char *path = gl.gl_pathv[i];
                        struct sockaddr_un sa = { .sun_family = AF_UNIX };
                        g_strlcpy(sa.sun_path, path, sizeof sa.sun_path);
                        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                        if (fd < 0)
                                continue;
                        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
                                close(fd); /* umockdev unlinks on ECONNREFUSED itself */
                                continue;
                        }
                        struct pollfd pfd = { .fd = fd, .events = POLLOUT };
                        int r;
                        do {
                                gint64 left = (uevent_deadline - g_get_monotonic_time()) / 1000;
                                r = poll(&pfd, 1, left > 0 ? (int)left : 0);
                        } while (r < 0 && errno == EINTR);
                        close(fd);
                        if (r > 0)
                                continue;
                        char *base = g_path_get_basename(path);
                        char *hidden = g_strdup_printf("%s/stalled-%s", root_dir, base);
                        if (rename(path, hidden) == 0) {
                                g_printerr("bayharness: listener %s has not read its uevents for %ds; it misses one\n",
                                           base, UEVENT_DRAIN_SECONDS);
                                g_ptr_array_add(hidden_listeners, hidden);
                        } else {
                                g_free(hidden);
                        }
                        g_free(base);
                }
                globfree(&gl);
        }
        g_free(pattern);
}

static void uevent_gate_end(void)
{
        for (guint i = 0; i < hidden_listeners->len; i++) {
                const char *hidden = hidden_listeners->pdata[i];
                char *orig = g_strdup_printf("%s/%s", root_dir, strrchr(hidden, '/') + 1 + strlen("stalled-"));
                rename(hidden, orig);
                g_free(orig);
        }
        g_clear_pointer(&hidden_listeners, g_ptr_array_unref);
}

static void send_uevent(const char *syspath, const char *action)
{
        uevent_gate_begin();
        umockdev_testbed_uevent(testbed, syspath, action);
        uevent_gate_end();
}

/* add_devicev (which sends the "add" uevent) with vectors built by the caller */
static char *add_dev(const char *subsystem, const char *name, const char *parent, GPtrArray *attrs, GPtrArray *props)
{
        g_ptr_array_add(attrs, NULL);
        g_ptr_array_add(props, NULL);
        uevent_gate_begin();
        char *p = umockdev_testbed_add_devicev(testbed, subsystem, name, parent, (gchar **)attrs->pdata,
                                               (gchar **)props->pdata);
        uevent_gate_end();
        g_ptr_array_unref(attrs);
        g_ptr_array_unref(props);
        return p;
}

static GPtrArray *kv(const char *first, ...) G_GNUC_NULL_TERMINATED;
static GPtrArray *kv(const char *first, ...)
{
        GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
        va_list ap;
        va_start(ap, first);
        for (const char *s = first; s; s = va_arg(ap, const char *))
                g_ptr_array_add(a, g_strdup(s));
        va_end(ap);
        return a;
}

static GPtrArray *kv_new(void) { return g_ptr_array_new_with_free_func(g_free); }

static void kv_add(GPtrArray *a, const char *k, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void kv_add(GPtrArray *a, const char *k, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        g_ptr_array_add(a, g_strdup(k));
        g_ptr_array_add(a, g_strdup_vprintf(fmt, ap));
        va_end(ap);
}

static bool touch(const char *path, mode_t mode)
{
        char *dir = g_path_get_dirname(path);
        g_mkdir_with_parents(dir, 0755);
        g_free(dir);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return false;
        close(fd);
        return chmod(path, mode) == 0;
}

static void setup_static_devices(void)
{
        GPtrArray *a, *p;

        a = kv("vendor", "0x8086\n", "device", "0x9d2f\n", "class", "0x0c0330\n", NULL);
        p = kv("DRIVER", "xhci_hcd", "PCI_CLASS", "C0330", "PCI_ID", "8086:9D2F", "PCI_SLOT_NAME", "0000:00:14.0",
               "ID_PATH", PCI_ID_PATH, "ID_PATH_TAG", PCI_ID_PATH_TAG, NULL);
        char *pci = add_dev("pci", "pci0000:00/0000:00:14.0", NULL, a, p);
        g_assert(pci && strcmp(pci, PCI_PATH) == 0);

        a = kv("dev", "189:0", "idVendor", "1d6b\n", "idProduct", "0002\n", "busnum", "1\n", "devnum", "1\n", "speed",
               "480\n", "bConfigurationValue", "1\n", "bNumConfigurations", "1\n", "bDeviceClass", "09\n", "maxchild",
               "16\n", "manufacturer", "Linux xhci-hcd\n", "product", "xHCI Host Controller\n", "serial",
               "0000:00:14.0\n", "devpath", "0\n", "version", " 2.00\n", NULL);
        p = kv("DEVNAME", ROOTHUB_NODE, "DEVTYPE", "usb_device", "DRIVER", "usb", "PRODUCT", "1d6b/2/606", "TYPE",
               "9/0/1", "BUSNUM", "001", "DEVNUM", "001", "MAJOR", "189", "MINOR", "0", "ID_VENDOR_ID", "1d6b",
               "ID_MODEL_ID", "0002", "ID_PATH", PCI_ID_PATH, "ID_PATH_TAG", PCI_ID_PATH_TAG, "ID_FOR_SEAT",
               "usb-" PCI_ID_PATH_TAG, NULL);
        roothub_path = add_dev("usb", "usb1", pci, a, p);
        g_assert(roothub_path);
        static const guint8 hub_desc[] = {
                18, 1, 0x00, 0x02, 9, 0, 1, 64, 0x6b, 0x1d, 0x02, 0x00, 0x06, 0x06, 3, 2, 1,    1, 9, 2, 25, 0,
                1,  1, 0,    0xe0, 0, 9, 4, 0,  0,    1,    9,    0,    0,    0,    7, 5, 0x81, 3, 4, 0, 12,
        };
        umockdev_testbed_set_attribute_binary(testbed, roothub_path, "descriptors", (guint8 *)hub_desc,
                                              sizeof hub_desc);
        /* libusb's find_usbfs_path() wants something under /dev/bus/usb */
        char *node = g_build_filename(root_dir, ROOTHUB_NODE, NULL);
        touch(node, 0664);
        g_free(node);
        g_free(pci);
}

static bool parse_hex16(const char *s, guint16 *out)
{
        char *end;
        if (g_str_has_prefix(s, "0x") || g_str_has_prefix(s, "0X"))
                s += 2;
        if (!*s || strlen(s) > 4)
                return false;
        unsigned long v = strtoul(s, &end, 16);
        if (*end)
                return false;
        *out = (guint16)v;
        return true;
}

static bool parse_bay(const char *s, int *id)
{
        char *end;
        long v = strtol(s, &end, 10);
        if (!*s || *end || v < 1 || v > MAX_BAY)
                return false;
        *id = (int)v;
        return true;
}

static bool valid_token(const char *s)
{
        for (; *s; s++)
                if (!g_ascii_isgraph(*s) || *s == '=' || *s == '"' || *s == '\\')
                        return false;
        return true;
}

/* A serial as a recorder may report it: valid UTF-8 (Chinese too), no ASCII
 * space or control, no = " \ (the harness's own syntax), at most the 126
 * UTF-16 code units a string descriptor holds. */
static bool valid_serial(const char *s)
{
        if (!g_utf8_validate(s, -1, NULL))
                return false;
        for (const char *p = s; *p; p++)
                if (((unsigned char)*p < 0x80 && !g_ascii_isgraph(*p)) || *p == '=' || *p == '"' || *p == '\\')
                        return false;
        glong n = 0;
        g_autofree gunichar2 *u = g_utf8_to_utf16(s, -1, NULL, &n, NULL);
        return u && n <= 126;
}

static void rmdir_recursive(const char *path)
{
        GDir *d = g_dir_open(path, 0, NULL);
        if (d) {
                const char *n;
                while ((n = g_dir_read_name(d))) {
                        char *c = g_build_filename(path, n, NULL);
                        if (g_file_test(c, G_FILE_TEST_IS_DIR) && !g_file_test(c, G_FILE_TEST_IS_SYMLINK))
                                rmdir_recursive(c);
                        else
                                unlink(c);
                        g_free(c);
                }
                g_dir_close(d);
        }
        rmdir(path);
}

/* Device nodes and links of a bay that umockdev may leave behind. */
static void bay_cleanup_nodes(Bay *b)
{
        const char *dirs[] = { "dev", "sys/block" };
        for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
                char *f = g_strdup_printf("%s/%s/%s1", root_dir, dirs[i], b->sdname);
                unlink(f);
                f[strlen(f) - 1] = '\0';
                unlink(f);
                g_free(f);
        }
        char *f = g_build_filename(root_dir, b->usbnode, NULL);
        unlink(f);
        g_free(f);
}

/* Remove a (possibly partially added) bay, children first. */
static void bay_remove(Bay *b, bool send_events)
{
        if (send_events)
                for (int i = 6; i >= 0; i--)
                        if (b->paths[i])
                                send_uevent(b->paths[i], "remove");
        if (usb_handlers[b->id]) {
                UsbInfo *u = g_object_get_data(G_OBJECT(usb_handlers[b->id]), "usbinfo");
                g_atomic_int_set(&u->gone, 1);
        }
        for (int i = 6; i >= 0; i--) {
                if (b->paths[i])
                        umockdev_testbed_remove_device(testbed, b->paths[i]);
                g_free(b->paths[i]);
        }
        /* umockdev 0.17.16 leaves /sys/block/<name> links behind (and re-adding
	 * the same name then aborts); a failed add may leave the pre-created
	 * usb sysfs dir */
        bay_cleanup_nodes(b);
        g_free(b->card_name);
        if (b->card_attrs)
                g_ptr_array_unref(b->card_attrs);
        if (b->card_props)
                g_ptr_array_unref(b->card_props);
        if (sg_handlers[b->id]) {
                JlInfo *j = g_object_get_data(G_OBJECT(sg_handlers[b->id]), "jlinfo");
                g_atomic_int_set(&j->unlocked, 1); /* a pending card never appears */
        }
        char *usbdir = g_strdup_printf("%s%s/1-%d", root_dir, roothub_path, b->id);
        rmdir_recursive(usbdir);
        g_free(usbdir);
        g_free(b->image);
        memset(b, 0, sizeof *b);
}

/* SET_MSDC took effect: the card's partition appears, with its uevent. */
static gboolean jl_card_appears(gpointer data)
{
        Bay *b = &bays[GPOINTER_TO_INT(data)];
        if (!b->present || !b->card_attrs || !b->paths[5])
                return G_SOURCE_REMOVE;
        uevent_deadline = g_get_monotonic_time() + UEVENT_DRAIN_SECONDS * G_USEC_PER_SEC;
        b->paths[6] = add_dev("block", b->card_name, b->paths[5], b->card_attrs, b->card_props);
        b->card_attrs = b->card_props = NULL; /* add_dev() took them */
        if (!b->paths[6])
                g_printerr("bayharness: bay %d: cannot add the card's partition\n", b->id);
        return G_SOURCE_REMOVE;
}

/* ID_FS_UUID as blkid reports it for FAT/exFAT: the volume serial number. */
static char *fat_volume_id(const char *image, const char *fstype)
{
        guint8 bs[512];
        int off = -1;
        int fd = open(image, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        ssize_t n = read(fd, bs, sizeof bs);
        close(fd);
        if (n != (ssize_t)sizeof bs || bs[510] != 0x55 || bs[511] != 0xaa)
                return NULL;
        if (strcmp(fstype, "exfat") == 0 && memcmp(bs + 3, "EXFAT   ", 8) == 0)
                off = 100;
        else if (strcmp(fstype, "vfat") == 0 && (bs[0] == 0xeb || bs[0] == 0xe9))
                off = (bs[22] | bs[23] << 8) == 0 ? 67 : 39; /* FAT32 when BPB_FATSz16 == 0 */
        if (off < 0)
                return NULL;
        return g_strdup_printf("%02X%02X-%02X%02X", bs[off + 3], bs[off + 2], bs[off + 1], bs[off]);
}

static void cmd_add(char **argv, int argc)
{
        int id;
        guint16 vid, pid;
        /* clock=SKEW, label=L, jl.KEY=V (anywhere after IMAGE): see the top */
        gboolean has_clock = FALSE;
        gint64 clock_skew = 0;
        g_autofree char *label = NULL;
        g_autoptr(GHashTable) jl = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
        for (int i = 6; i < argc;) {
                if (strncmp(argv[i], "clock=", 6) == 0) {
                        has_clock = TRUE;
                        clock_skew = g_ascii_strtoll(argv[i] + 6, NULL, 10);
                } else if (strncmp(argv[i], "label=", 6) == 0) {
                        g_free(label);
                        label = g_strdup(argv[i] + 6);
                } else if (strncmp(argv[i], "jl.", 3) == 0 && strchr(argv[i], '=')) {
                        char *eq = strchr(argv[i], '=');
                        g_hash_table_replace(jl, g_strndup(argv[i] + 3, (gsize)(eq - argv[i] - 3)), g_strdup(eq + 1));
                } else {
                        i++;
                        continue;
                }
                g_free(argv[i]);
                for (int j = i; j < argc; j++)
                        argv[j] = argv[j + 1];
                argc--;
        }
        gboolean locked = g_hash_table_size(jl) > 0;
        if (argc < 6 || argc > 7) {
                reply("error usage: add ID VID PID SERIAL IMAGE [FSTYPE] [clock=SKEW] [label=L] [jl.KEY=V ...]");
                return;
        }
        if (!parse_bay(argv[1], &id)) {
                reply("error bay id must be 1..%d: %s", MAX_BAY, argv[1]);
                return;
        }
        if (bays[id].present) {
                reply("error bay %d is occupied", id);
                return;
        }
        if (!parse_hex16(argv[2], &vid) || !parse_hex16(argv[3], &pid)) {
                reply("error VID/PID must be 1-4 hex digits: %s %s", argv[2], argv[3]);
                return;
        }
        /* SERIAL, or UDEV/DEVICE: udev reports one serial, the device's own
	 * string descriptor another (a relabelled or cloned recorder). */
        g_autofree char *serial_buf = g_strdup(argv[4]);
        char *slash = strchr(serial_buf, '/');
        if (slash)
                *slash = '\0';
        const char *serial = strcmp(serial_buf, "-") == 0 ? NULL : serial_buf;
        const char *usb_serial = slash ? (strcmp(slash + 1, "-") == 0 ? NULL : slash + 1) : serial;
        if (usb_serial && g_str_has_prefix(usb_serial, "raw:")) {
                size_t hl = strlen(usb_serial + 4);
                bool hex = hl % 2 == 0 && hl / 2 <= 255;
                for (const char *h = usb_serial + 4; *h && hex; h++)
                        hex = g_ascii_isxdigit(*h);
                if (!hex) {
                        reply("error raw: takes the descriptor's bytes in hex, at most 255: %s", usb_serial);
                        return;
                }
        } else if (usb_serial && !valid_serial(usb_serial)) {
                reply("error serial must be printable UTF-8 without = \" \\ (max 126 UTF-16 units): %s", argv[4]);
                return;
        }
        if (serial && !valid_serial(serial)) {
                reply("error serial must be printable UTF-8 without = \" \\ (max 126 UTF-16 units): %s", argv[4]);
                return;
        }
        const char *fstype = argc == 7 ? argv[6] : "vfat";
        if (!valid_token(fstype)) {
                reply("error bad FSTYPE: %s", fstype);
                return;
        }
        char *cwd = g_get_current_dir();
        char *image = g_canonicalize_filename(argv[5], cwd);
        g_free(cwd);
        struct stat st;
        g_autofree char *backing = NULL;
        errno = 0;
        if (stat(image, &st) != 0 || (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))) {
                reply("error image %s: %s", image, errno ? g_strerror(errno) : "not a regular file or block device");
                g_free(image);
                return;
        }
        if (S_ISBLK(st.st_mode)) {
                /* a real block device (a loop device over an image in RAM, for the
		 * benchmark): the partition node links to it, and it is already a
		 * block device to stat() */
                int bfd = open(image, O_RDONLY | O_CLOEXEC);
                guint64 bytes = 0;
                if (bfd < 0 || ioctl(bfd, BLKGETSIZE64, &bytes) != 0) {
                        reply("error image %s: %s", image, g_strerror(errno));
                        if (bfd >= 0)
                                close(bfd);
                        g_free(image);
                        return;
                }
                /* Its volume id is read from the loop device's backing file
                 * (when its name is whole), so that the device's read counter
                 * moves first for dockd: the benchmark's "first byte". */
                struct loop_info64 li;
                if (ioctl(bfd, LOOP_GET_STATUS64, &li) == 0 &&
                    strnlen((char *)li.lo_file_name, LO_NAME_SIZE) < LO_NAME_SIZE - 1)
                        backing = g_strdup((char *)li.lo_file_name);
                close(bfd);
                st.st_size = (off_t)bytes;
        }
        /*
	 * The preload reports a /dev node whose (followed) inode is a regular
	 * file as a char device, and as a block device only when the sticky bit
	 * is set. Linux ignores the sticky bit on regular files, so set it on
	 * the image (best effort, never cleared: several bays may share it) so
	 * that stat("/dev/sdX1") gives S_ISBLK like a real partition.
	 */
        if (S_ISREG(st.st_mode) && !(st.st_mode & S_ISVTX) && chmod(image, (st.st_mode & 07777) | S_ISVTX) != 0)
                g_printerr("bayharness: cannot set sticky bit on %s (stat will say char device): %s\n", image,
                           g_strerror(errno));

        Bay *b = &bays[id];
        memset(b, 0, sizeof *b);
        b->id = id;
        b->image = image;
        int devnum = id + 1; /* root hub is 001 */
        int host = id + 5;   /* pretend hosts 0..5 belong to the SATA controller */
        int maj, min;
        sd_name(id, b->sdname, sizeof b->sdname);
        sd_majmin(id, &maj, &min);
        snprintf(b->usbnode, sizeof b->usbnode, "/dev/bus/usb/001/%03d", devnum);
        guint64 part_sectors = (guint64)st.st_size / 512;
        char *id_path = g_strdup_printf(PCI_ID_PATH "-usb-0:%d:1.0", id);
        char *id_path_tag = g_strdup_printf(PCI_ID_PATH_TAG "-usb-0_%d_1_0", id);
        char *scsi_path = g_strdup_printf("%s-scsi-0:0:0:0", id_path);
        char *scsi_path_tag = g_strdup_printf("%s-scsi-0_0_0_0", id_path_tag);
        char *vid_s = g_strdup_printf("%04x", vid), *pid_s = g_strdup_printf("%04x", pid);
        char *id_serial = g_strdup_printf("Acme_BodyCam%s%s", serial ? "_" : "", serial ? serial : "");
        char *fs_uuid = fat_volume_id(backing ? backing : image, fstype);
        if (!fs_uuid)
                fs_uuid = g_strdup_printf("BA%02X-%04X", id, (unsigned)(vid ^ pid));
        GPtrArray *a, *p;

        /*
	 * umockdev_testbed_add_devicev() synthesizes the "add" uevent itself, as
	 * soon as the device's sysfs dir exists. So everything a listener may
	 * look at on that event is put in place first: the binary "descriptors"
	 * attribute (written into the not-yet-added sysfs dir, which umockdev
	 * allows), the usbfs node with its ioctl handler, the disk node and the
	 * partition node symlink.
	 */
        if (usb_handlers[id]) { /* from an earlier docking; its node is gone */
                umockdev_testbed_detach_ioctl(testbed, b->usbnode, NULL);
                g_clear_object(&usb_handlers[id]);
        }
        char *errmsg = NULL;
        bool ok = true;
        char *usbdir = g_strdup_printf("%s%s/1-%d", root_dir, roothub_path, id);
        UsbInfo *u = usb_info_new(vid, pid, usb_serial);
        u->has_clock = has_clock;
        u->clock_skew = clock_skew;
        {
                guint8 desc[18 + 32];
                memcpy(desc, u->dev_desc, 18);
                memcpy(desc + 18, u->cfg_desc, 32);
                char *f = g_build_filename(usbdir, "descriptors", NULL);
                GError *err = NULL;
                if (g_mkdir_with_parents(usbdir, 0755) != 0 ||
                    !g_file_set_contents(f, (const char *)desc, sizeof desc, &err)) {
                        ok = false;
                        errmsg =
                                g_strdup_printf("cannot write descriptors: %s", err ? err->message : g_strerror(errno));
                        g_clear_error(&err);
                }
                g_free(f);
        }
        if (ok) {
                /* usbfs node: regular file, its ioctls go to our handler; disk: empty
		 * sticky file (umockdev's marker for block devices); partition: symlink
		 * to the image so open()+read() returns the image's bytes */
                char *node = g_build_filename(root_dir, b->usbnode, NULL);
                ok = touch(node, 0664);
                g_free(node);
                node = g_strdup_printf("%s/dev/%s", root_dir, b->sdname);
                ok = ok && touch(node, 01660);
                g_free(node);
                node = g_strdup_printf("%s/dev/%s1", root_dir, b->sdname);
                unlink(node);
                ok = ok && symlink(b->image, node) == 0;
                if (!ok)
                        errmsg = g_strdup_printf("cannot create device nodes: %s", g_strerror(errno));
                g_free(node);
        }
        if (ok) {
                GError *err = NULL;
                UMockdevIoctlBase *h = g_object_new(UMOCKDEV_TYPE_IOCTL_BASE, NULL);
                g_object_set_data_full(G_OBJECT(h), "usbinfo", u, usb_info_free);
                g_signal_connect(h, "handle-ioctl", G_CALLBACK(on_usb_ioctl), u);
                u = NULL;
                if (!umockdev_testbed_attach_ioctl(testbed, b->usbnode, h, &err)) {
                        ok = false;
                        errmsg = g_strdup_printf("attach_ioctl %s: %s", b->usbnode, err->message);
                        g_clear_error(&err);
                        g_object_unref(h);
                } else {
                        usb_handlers[id] = h;
                }
        }
        if (ok && locked) {
                GError *err = NULL;
                JlInfo *j = g_new0(JlInfo, 1);
                const char *v;
                j->bay = id;
                j->layout = (v = g_hash_table_lookup(jl, "layout")) && strcmp(v, "94") == 0 ? 94 : 89;
                j->battery = (v = g_hash_table_lookup(jl, "battery")) ? (guint32)atoi(v) : 87;
                g_strlcpy(j->password, (v = g_hash_table_lookup(jl, "password")) ? v : "000000", sizeof j->password);
                j->log = g_strdup(g_hash_table_lookup(jl, "log"));
                j->fault = g_strdup(g_hash_table_lookup(jl, "fault"));
                static const size_t l89[5] = { 7, 6, 32, 12, 32 }, l94[5] = { 8, 7, 33, 13, 33 };
                static const char *keys[5] = { "serial", "badge", "name", "unit_no", "unit_name" };
                size_t off = 0;
                for (int k = 0; k < 5; k++) {
                        size_t n = (j->layout == 89 ? l89 : l94)[k];
                        if ((v = g_hash_table_lookup(jl, keys[k])))
                                jl_put(j->info + off, n, v, k == 2 && j->fault && strcmp(j->fault, "bad-gbk") == 0);
                        off += n;
                }
                char *disk = g_strdup_printf("/dev/%s", b->sdname);
                if (sg_handlers[id]) {
                        umockdev_testbed_detach_ioctl(testbed, disk, NULL);
                        g_clear_object(&sg_handlers[id]);
                }
                UMockdevIoctlBase *h = g_object_new(UMOCKDEV_TYPE_IOCTL_BASE, NULL);
                g_object_set_data_full(G_OBJECT(h), "jlinfo", j, jl_info_free);
                g_signal_connect(h, "handle-ioctl", G_CALLBACK(on_sg_ioctl), j);
                if (!umockdev_testbed_attach_ioctl(testbed, disk, h, &err)) {
                        ok = false;
                        errmsg = g_strdup_printf("attach_ioctl %s: %s", disk, err->message);
                        g_clear_error(&err);
                        g_object_unref(h);
                } else {
                        sg_handlers[id] = h;
                }
                g_free(disk);
        }
        if (u)
                usb_info_free(u);
        if (!ok) {
                bay_cleanup_nodes(b);
                rmdir_recursive(usbdir);
                g_free(usbdir);
                g_free(b->image);
                memset(b, 0, sizeof *b);
                reply("error %s", errmsg);
                g_free(errmsg);
                goto out;
        }
        g_free(usbdir);

        /* usb_device */
        a = kv_new();
        kv_add(a, "dev", "189:%d", devnum - 1);
        kv_add(a, "idVendor", "%s\n", vid_s);
        kv_add(a, "idProduct", "%s\n", pid_s);
        if (serial)
                kv_add(a, "serial", "%s\n", serial);
        kv_add(a, "manufacturer", "Acme\n");
        kv_add(a, "product", "BodyCam\n");
        kv_add(a, "busnum", "1\n");
        kv_add(a, "devnum", "%d\n", devnum);
        kv_add(a, "devpath", "%d\n", id);
        kv_add(a, "speed", "480\n");
        kv_add(a, "version", " 2.00\n");
        kv_add(a, "bcdDevice", "0100\n");
        kv_add(a, "bDeviceClass", "00\n");
        kv_add(a, "bConfigurationValue", "1\n");
        kv_add(a, "bNumConfigurations", "1\n");
        kv_add(a, "bNumInterfaces", " 1\n");
        kv_add(a, "bMaxPower", "100mA\n");
        kv_add(a, "maxchild", "0\n");
        kv_add(a, "removable", "removable\n");
        kv_add(a, "authorized", "1\n");
        p = kv_new();
        kv_add(p, "DEVNAME", "%s", b->usbnode);
        kv_add(p, "DEVTYPE", "usb_device");
        kv_add(p, "DRIVER", "usb");
        kv_add(p, "PRODUCT", "%x/%x/100", vid, pid);
        kv_add(p, "TYPE", "0/0/0");
        kv_add(p, "BUSNUM", "001");
        kv_add(p, "DEVNUM", "%03d", devnum);
        kv_add(p, "MAJOR", "189");
        kv_add(p, "MINOR", "%d", devnum - 1);
        kv_add(p, "ID_VENDOR", "Acme");
        kv_add(p, "ID_VENDOR_ENC", "Acme");
        kv_add(p, "ID_VENDOR_ID", "%s", vid_s);
        kv_add(p, "ID_MODEL", "BodyCam");
        kv_add(p, "ID_MODEL_ENC", "BodyCam");
        kv_add(p, "ID_MODEL_ID", "%s", pid_s);
        kv_add(p, "ID_REVISION", "0100");
        kv_add(p, "ID_SERIAL", "%s", id_serial);
        if (serial)
                kv_add(p, "ID_SERIAL_SHORT", "%s", serial);
        kv_add(p, "ID_BUS", "usb");
        kv_add(p, "ID_USB_INTERFACES", ":080650:");
        kv_add(p, "ID_PATH", "%s", id_path);
        kv_add(p, "ID_PATH_TAG", "%s", id_path_tag);
        char *name = g_strdup_printf("1-%d", id);
        b->docked_us = g_get_real_time();
        b->paths[0] = add_dev("usb", name, roothub_path, a, p);
        g_free(name);

        /* usb_interface */
        a = kv("bInterfaceClass", "08\n", "bInterfaceSubClass", "06\n", "bInterfaceProtocol", "50\n",
               "bInterfaceNumber", "00\n", "bAlternateSetting", " 0\n", "bNumEndpoints", "02\n", NULL);
        p = kv("DEVTYPE", "usb_interface", "DRIVER", "usb-storage", "INTERFACE", "8/6/80", "TYPE", "0/0/0", NULL);
        kv_add(p, "PRODUCT", "%x/%x/100", vid, pid);
        kv_add(p, "MODALIAS", "usb:v%04Xp%04Xd0100dc00dsc00dp00ic08isc06ip50in00", vid, pid);
        name = g_strdup_printf("1-%d:1.0", id);
        b->paths[1] = b->paths[0] ? add_dev("usb", name, b->paths[0], a, p) : NULL;
        g_free(name);

        /* SCSI host / target / device */
        name = g_strdup_printf("host%d", host);
        a = kv_new();
        p = kv("DEVTYPE", "scsi_host", NULL);
        b->paths[2] = b->paths[1] ? add_dev("scsi", name, b->paths[1], a, p) : NULL;
        g_free(name);
        name = g_strdup_printf("target%d:0:0", host);
        a = kv_new();
        p = kv("DEVTYPE", "scsi_target", NULL);
        b->paths[3] = b->paths[2] ? add_dev("scsi", name, b->paths[2], a, p) : NULL;
        g_free(name);
        name = g_strdup_printf("%d:0:0:0", host);
        /* the INQUIRY strings the kernel keeps; a 行标 recorder's are its chip's */
        const char *fault = locked ? g_hash_table_lookup(jl, "fault") : NULL;
        a = kv("vendor", locked ? "JL      \n" : "Acme    \n", "model",
               !locked                            ? "BodyCam         \n"
               : fault && !strcmp(fault, "uboot") ? "UBOOT1.00       \n"
                                                  : "DV16 DEVICE V1.0\n",
               "rev", "0100\n", "type", "0\n", NULL);
        p = kv("DEVTYPE", "scsi_device", "DRIVER", "sd", NULL);
        kv_add(p, "MODALIAS", "scsi:t-0x00");
        b->paths[4] = b->paths[3] ? add_dev("scsi", name, b->paths[3], a, p) : NULL;
        g_free(name);

        /* block disk and partition; common udev properties as usb_id/path_id set them */
        GPtrArray *common = kv("ID_BUS", "usb", "ID_VENDOR", "Acme", "ID_MODEL", "BodyCam", "ID_REVISION", "0100",
                               "ID_TYPE", "disk", "ID_USB_DRIVER", "usb-storage", "ID_USB_INTERFACES",
                               ":080650:", "ID_USB_INTERFACE_NUM", "00", NULL);
        kv_add(common, "ID_VENDOR_ID", "%s", vid_s);
        kv_add(common, "ID_MODEL_ID", "%s", pid_s);
        kv_add(common, "ID_SERIAL", "%s-0:0", id_serial);
        if (serial)
                kv_add(common, "ID_SERIAL_SHORT", "%s", serial);
        kv_add(common, "ID_PATH", "%s", scsi_path);
        kv_add(common, "ID_PATH_TAG", "%s", scsi_path_tag);

        name = g_strdup_printf("block/%s", b->sdname);
        a = kv_new();
        kv_add(a, "dev", "%d:%d", maj, min);
        kv_add(a, "size", "%" G_GUINT64_FORMAT "\n", locked ? 0 : part_sectors + 2048); /* locked: no medium */
        kv_add(a, "removable", "1\n");
        kv_add(a, "ro", "0\n");
        p = kv_new();
        kv_add(p, "DEVNAME", "/dev/%s", b->sdname);
        kv_add(p, "DEVTYPE", "disk");
        kv_add(p, "MAJOR", "%d", maj);
        kv_add(p, "MINOR", "%d", min);
        if (!locked)
                kv_add(p, "ID_PART_TABLE_TYPE", "dos");
        for (guint i = 0; i < common->len; i++)
                g_ptr_array_add(p, g_strdup(common->pdata[i]));
        b->paths[5] = b->paths[4] ? add_dev("block", name, b->paths[4], a, p) : NULL;
        g_free(name);

        name = g_strdup_printf("%s1", b->sdname);
        a = kv_new();
        kv_add(a, "dev", "%d:%d", maj, min + 1);
        kv_add(a, "size", "%" G_GUINT64_FORMAT "\n", part_sectors);
        kv_add(a, "partition", "1\n");
        kv_add(a, "start", "2048\n");
        kv_add(a, "ro", "0\n");
        p = kv_new();
        kv_add(p, "DEVNAME", "/dev/%s1", b->sdname);
        kv_add(p, "DEVTYPE", "partition");
        kv_add(p, "MAJOR", "%d", maj);
        kv_add(p, "MINOR", "%d", min + 1);
        kv_add(p, "PARTN", "1");
        kv_add(p, "ID_FS_TYPE", "%s", fstype);
        kv_add(p, "ID_FS_USAGE", "filesystem");
        kv_add(p, "ID_FS_UUID", "%s", fs_uuid);
        kv_add(p, "ID_FS_UUID_ENC", "%s", fs_uuid);
        kv_add(p, "ID_PART_ENTRY_NUMBER", "1");
        kv_add(p, "ID_PART_ENTRY_TYPE", "0xc");
        if (label)
                kv_add(p, "ID_FS_LABEL", "%s", label);
        for (guint i = 0; i < common->len; i++)
                g_ptr_array_add(p, g_strdup(common->pdata[i]));
        if (locked) { /* the card appears when the recorder is unlocked */
                b->card_name = name, b->card_attrs = a, b->card_props = p;
                name = NULL;
        } else {
                b->paths[6] = b->paths[5] ? add_dev("block", name, b->paths[5], a, p) : NULL;
        }
        g_free(name);
        g_ptr_array_unref(common);

        ok = locked ? b->paths[5] != NULL : b->paths[6] != NULL;
        if (!ok)
                errmsg = g_strdup("umockdev refused to add a device (see stderr)");

        if (ok) {
                b->present = true;
                reply(locked ? "added %d /dev/%s" : "added %d /dev/%s1", id, b->sdname);
        } else {
                bay_remove(b, false);
                reply("error %s", errmsg);
        }
        g_free(errmsg);
out:
        g_free(id_path);
        g_free(id_path_tag);
        g_free(scsi_path);
        g_free(scsi_path_tag);
        g_free(vid_s);
        g_free(pid_s);
        g_free(id_serial);
        g_free(fs_uuid);
}

static void cmd_remove(char **argv, int argc)
{
        int id;
        if (argc != 2 || !parse_bay(argv[1], &id)) {
                reply("error usage: remove ID (1..%d)", MAX_BAY);
                return;
        }
        if (!bays[id].present) {
                reply("error bay %d is empty", id);
                return;
        }
        bay_remove(&bays[id], true);
        reply("removed %d", id);
}

/* ---------------------------------------------------------------- child */

static void on_child_exit(GPid pid, gint status, gpointer data)
{
        (void)data;
        g_spawn_close_pid(pid);
        child_running = false;
        child_exited_unreported = true;
        if (WIFEXITED(status))
                child_rc = WEXITSTATUS(status);
        else if (WIFSIGNALED(status))
                child_rc = 128 + WTERMSIG(status);
        else
                child_rc = 255;
        if (wait_pending || shutting_down) {
                wait_pending = false;
                child_exited_unreported = false;
                reply("exited %d", child_rc);
        }
        if (shutting_down)
                g_main_loop_quit(loop);
}

/*
 * An ASan-instrumented program refuses to start when another library
 * (here libumockdev-preload) precedes libasan in the initial library list:
 * "ASan runtime does not come first in initial library list". Returns
 * ASAN_OPTIONS with verify_asan_link_order=0 added (unless already set).
 */
static char *asan_options_for_preload(const char *cur)
{
        if (cur && strstr(cur, "verify_asan_link_order"))
                return g_strdup(cur);
        if (cur && *cur)
                return g_strconcat(cur, ":verify_asan_link_order=0", NULL);
        return g_strdup("verify_asan_link_order=0");
}

static void cmd_spawn(const char *rest)
{
        if (child_running) {
                reply("error a child is already running (pid %d)", (int)child_pid);
                return;
        }
        int argc;
        char **argv = NULL;
        GError *err = NULL;
        if (!rest || !g_shell_parse_argv(rest, &argc, &argv, &err)) {
                reply("error spawn: %s", err ? err->message : "usage: spawn CMD [ARGS...]");
                g_clear_error(&err);
                return;
        }
        char **envp = g_get_environ();
        const char *orig = g_environ_getenv(envp, ORIG_PRELOAD_ENV);
        char *preload = orig && *orig ? g_strconcat(PRELOAD_LIB ":", orig, NULL) : g_strdup(PRELOAD_LIB);
        envp = g_environ_unsetenv(envp, ORIG_PRELOAD_ENV);
        envp = g_environ_setenv(envp, "LD_PRELOAD", preload, TRUE);
        envp = g_environ_setenv(envp, "UMOCKDEV_DIR", root_dir, TRUE);
        char *asan = asan_options_for_preload(g_environ_getenv(envp, "ASAN_OPTIONS"));
        envp = g_environ_setenv(envp, "ASAN_OPTIONS", asan, TRUE);
        g_free(asan);
        g_free(preload);
        GPid pid;
        fflush(stdout);
        if (!g_spawn_async(NULL, argv, envp, G_SPAWN_SEARCH_PATH_FROM_ENVP | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
                           &pid, &err)) {
                reply("error spawn: %s", err->message);
                g_clear_error(&err);
        } else {
                child_pid = pid;
                child_running = true;
                child_exited_unreported = false;
                wait_pending = false;
                g_child_watch_add(pid, on_child_exit, NULL);
                reply("spawned %d", (int)pid);
        }
        g_strfreev(envp);
        g_strfreev(argv);
}

static void cmd_signal(char **argv, int argc)
{
        static const struct {
                const char *name;
                int sig;
        } sigs[] = { { "TERM", SIGTERM }, { "KILL", SIGKILL }, { "INT", SIGINT },
                     { "HUP", SIGHUP },   { "QUIT", SIGQUIT }, { "USR1", SIGUSR1 },
                     { "USR2", SIGUSR2 }, { "STOP", SIGSTOP }, { "CONT", SIGCONT } };
        if (argc != 2) {
                reply("error usage: signal TERM|KILL|INT|HUP|QUIT|USR1|USR2|STOP|CONT");
                return;
        }
        const char *n = argv[1];
        if (g_str_has_prefix(n, "SIG"))
                n += 3;
        int sig = 0;
        for (size_t i = 0; i < G_N_ELEMENTS(sigs); i++)
                if (g_ascii_strcasecmp(n, sigs[i].name) == 0)
                        sig = sigs[i].sig;
        if (!sig) {
                reply("error unknown signal %s", argv[1]);
                return;
        }
        if (!child_running) {
                reply("error no running child");
                return;
        }
        if (kill(child_pid, sig) != 0)
                reply("error kill: %s", g_strerror(errno));
        else
                reply("signalled");
}

static void cmd_wait(void)
{
        if (child_exited_unreported) {
                child_exited_unreported = false;
                reply("exited %d", child_rc);
        } else if (child_running) {
                wait_pending = true; /* answered by on_child_exit */
        } else {
                reply("error no child to wait for");
        }
}

static gboolean kill_after_grace(gpointer data)
{
        (void)data;
        if (child_running) {
                g_printerr("bayharness: child %d ignored SIGTERM for %ds, sending SIGKILL\n", (int)child_pid,
                           EXIT_GRACE_SECONDS);
                kill(child_pid, SIGKILL);
        }
        return G_SOURCE_REMOVE;
}

static void begin_shutdown(void)
{
        shutting_down = true;
        if (child_running) {
                kill(child_pid, SIGTERM);
                g_timeout_add_seconds(EXIT_GRACE_SECONDS, kill_after_grace, NULL);
        } else {
                g_main_loop_quit(loop);
        }
}

/* SIGTERM/SIGINT/SIGHUP: like EOF, so the testbed directory is removed. */
static gboolean on_signal(gpointer data)
{
        g_printerr("bayharness: got signal %d, shutting down\n", GPOINTER_TO_INT(data));
        if (!shutting_down)
                begin_shutdown();
        return G_SOURCE_CONTINUE;
}

static void cmd_docktime(const char *arg)
{
        int id;
        if (!parse_bay(arg, &id) || !bays[id].present)
                reply("error no recorder in bay %s", arg);
        else
                reply("docktime %d %" G_GINT64_FORMAT, id, bays[id].docked_us);
}

/* ---------------------------------------------------------------- input */

static void handle_line(char *line)
{
        uevent_deadline = g_get_monotonic_time() + UEVENT_DRAIN_SECONDS * G_USEC_PER_SEC;
        g_strchomp(line);
        char *s = line;
        while (*s == ' ' || *s == '\t')
                s++;
        if (!*s)
                return;
        if (strcmp(s, "echo") == 0 || g_str_has_prefix(s, "echo ") || g_str_has_prefix(s, "echo\t")) {
                reply("%s", s[4] ? s + 5 : "");
                return;
        }
        if (g_str_has_prefix(s, "spawn") && (s[5] == '\0' || s[5] == ' ' || s[5] == '\t')) {
                cmd_spawn(s[5] ? s + 6 : NULL);
                return;
        }
        char **argv = g_strsplit_set(s, " \t", -1);
        /* drop empty tokens from repeated blanks */
        int argc = 0;
        for (int i = 0; argv[i]; i++) {
                if (*argv[i])
                        argv[argc++] = argv[i];
                else
                        g_free(argv[i]);
        }
        argv[argc] = NULL;
        if (strcmp(argv[0], "add") == 0)
                cmd_add(argv, argc);
        else if (strcmp(argv[0], "remove") == 0)
                cmd_remove(argv, argc);
        else if (strcmp(argv[0], "docktime") == 0 && argc == 2)
                cmd_docktime(argv[1]);
        else if (strcmp(argv[0], "signal") == 0)
                cmd_signal(argv, argc);
        else if (strcmp(argv[0], "wait") == 0 && argc == 1)
                cmd_wait();
        else
                reply("error unknown command: %s", argv[0]);
        g_strfreev(argv);
}

static gboolean on_stdin(GIOChannel *ch, GIOCondition cond, gpointer data)
{
        (void)cond;
        (void)data;
        for (;;) {
                char *line = NULL;
                gsize len = 0;
                GError *err = NULL;
                GIOStatus st = g_io_channel_read_line(ch, &line, &len, NULL, &err);
                if (st == G_IO_STATUS_NORMAL) {
                        handle_line(line);
                        g_free(line);
                        if (shutting_down)
                                return G_SOURCE_REMOVE;
                        /* keep going only while whole lines are already buffered */
                        if (!(g_io_channel_get_buffer_condition(ch) & G_IO_IN))
                                return G_SOURCE_CONTINUE;
                        continue;
                }
                g_free(line);
                if (st == G_IO_STATUS_AGAIN)
                        return G_SOURCE_CONTINUE;
                if (st == G_IO_STATUS_ERROR) {
                        g_printerr("bayharness: stdin: %s\n", err->message);
                        g_clear_error(&err);
                }
                begin_shutdown(); /* EOF or error */
                return G_SOURCE_REMOVE;
        }
}

/* ---------------------------------------------------------------- main */

static void reexec_under_preload(char **argv)
{
        const char *cur = g_getenv("LD_PRELOAD");
        if (cur && strstr(cur, "libumockdev-preload"))
                return;
        g_setenv(ORIG_PRELOAD_ENV, cur ? cur : "", TRUE);
        char *preload = cur && *cur ? g_strconcat(PRELOAD_LIB ":", cur, NULL) : g_strdup(PRELOAD_LIB);
        g_setenv("LD_PRELOAD", preload, TRUE);
        g_free(preload);
#if defined(__SANITIZE_ADDRESS__)
        char *asan = asan_options_for_preload(g_getenv("ASAN_OPTIONS"));
        g_setenv("ASAN_OPTIONS", asan, TRUE);
        g_free(asan);
#endif
        execv("/proc/self/exe", argv);
        fprintf(stderr, "bayharness: cannot re-exec under %s: %s\n", PRELOAD_LIB, strerror(errno));
        exit(2);
}

int main(int argc, char **argv)
{
        (void)argc;
        reexec_under_preload(argv);
        signal(SIGPIPE, SIG_IGN);
        setvbuf(stdout, NULL, _IOLBF, 0);

        testbed = umockdev_testbed_new();
        root_dir = umockdev_testbed_get_root_dir(testbed);
        setup_static_devices();

        loop = g_main_loop_new(NULL, FALSE);
        GIOChannel *ch = g_io_channel_unix_new(STDIN_FILENO);
        g_io_channel_set_encoding(ch, NULL, NULL);
        g_io_add_watch(ch, G_IO_IN | G_IO_HUP | G_IO_ERR, on_stdin, NULL);
        g_unix_signal_add(SIGTERM, on_signal, GINT_TO_POINTER(SIGTERM));
        g_unix_signal_add(SIGINT, on_signal, GINT_TO_POINTER(SIGINT));
        g_unix_signal_add(SIGHUP, on_signal, GINT_TO_POINTER(SIGHUP));

        reply("ready %s", root_dir);
        g_main_loop_run(loop);

        for (int i = 1; i <= MAX_BAY; i++) {
                if (bays[i].present)
                        bay_remove(&bays[i], false);
                if (usb_handlers[i]) {
                        char *node = g_strdup_printf("/dev/bus/usb/001/%03d", i + 1);
                        umockdev_testbed_detach_ioctl(testbed, node, NULL);
                        g_free(node);
                        g_clear_object(&usb_handlers[i]);
                }
        }
        g_io_channel_unref(ch);
        g_main_loop_unref(loop);
        g_free(roothub_path);
        g_free(root_dir);
        g_object_unref(testbed); /* removes the testbed directory */
        return 0;
}
