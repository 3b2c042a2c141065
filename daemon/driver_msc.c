/* driver_msc.c — generic USB mass-storage recorders: identity from udev and
 * from the device's own descriptors (libusb); no battery or wipe. The clock is
 * read with a vendor control request from the models configured for it
 * (driver_msc_clock). */
#include <errno.h>
#include <libusb.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "driver.h"
#include "log.h"

/* Opens the device at bus/address and runs fn on it. Returns fn's result, or
 * -errno if the device cannot be found or opened. */
typedef int (*usb_fn)(libusb_device_handle *h, const struct libusb_device_descriptor *desc, void *ud);
static int with_usb_device(int busnum, int devnum, usb_fn fn, void *ud)
{
        libusb_context *ctx = NULL;
        libusb_device **list = NULL;
        if (libusb_init(&ctx) < 0)
                return -EIO;
        ssize_t n = libusb_get_device_list(ctx, &list);
        int r = -ENODEV;
        for (ssize_t i = 0; i < n; i++) {
                libusb_device *dev = list[i];
                if (libusb_get_bus_number(dev) != busnum || libusb_get_device_address(dev) != devnum)
                        continue;
                struct libusb_device_descriptor desc;
                libusb_device_handle *h = NULL;
                if (libusb_get_device_descriptor(dev, &desc) < 0) {
                        r = -EIO;
                        break;
                }
                int o = libusb_open(dev, &h);
                if (o < 0) {
                        r = o == LIBUSB_ERROR_ACCESS ? -EACCES : -EIO;
                        break;
                }
                r = fn(h, &desc, ud);
                libusb_close(h);
                break;
        }
        if (list)
                libusb_free_device_list(list, 1);
        libusb_exit(ctx);
        return r;
}

struct serial_buf {
        char *out;
        size_t size;
};

static int read_serial(libusb_device_handle *h, const struct libusb_device_descriptor *desc, void *ud)
{
        struct serial_buf *b = ud;
        if (desc->iSerialNumber == 0)
                return 0;
        unsigned char buf[128];
        int k = libusb_get_string_descriptor_ascii(h, desc->iSerialNumber, buf, sizeof(buf));
        if (k < 0)
                return -EIO;
        snprintf(b->out, b->size, "%.*s", k, (const char *)buf);
        return 1;
}

/* Reads the serial-number string descriptor of the device at bus/address.
 * Returns 1 if read, 0 if the device has none, -errno if it cannot be asked. */
static int usb_serial(int busnum, int devnum, char *out, size_t size)
{
        struct serial_buf b = { out, size };
        return with_usb_device(busnum, devnum, read_serial, &b);
}

static void safe_copy(char *dst, size_t size, const char *src)
{
        /* A serial names files and paths: printable ASCII only. */
        size_t j = 0;
        for (size_t i = 0; src[i] && j + 1 < size; i++) {
                unsigned char c = (unsigned char)src[i];
                dst[j++] = (c > 0x20 && c < 0x7f && c != '/') ? (char)c : '_';
        }
        dst[j] = '\0';
}

static int msc_identify(const struct dock_info *d, struct recorder_identity *id, char *err, size_t err_size)
{
        memset(id, 0, sizeof(*id));
        snprintf(id->vendor, sizeof(id->vendor), "%s", d->vendor);
        snprintf(id->model, sizeof(id->model), "%s", d->model);
        snprintf(id->vendor_id, sizeof(id->vendor_id), "%s", d->vendor_id);
        snprintf(id->product_id, sizeof(id->product_id), "%s", d->product_id);
        snprintf(id->bay, sizeof(id->bay), "%s", d->bay);

        char from_usb[128] = "";
        int r = usb_serial(d->busnum, d->devnum, from_usb, sizeof(from_usb));
        if (r < 0)
                log_warn("%s: cannot read the serial from the device itself (%s); using udev's",
                         d->devnode, strerror(-r));
        char serial[128] = "";
        if (r > 0 && d->udev_serial[0] && strcmp(from_usb, d->udev_serial) != 0) {
                /* Two answers to "who are you": keep the device's, flag it. */
                safe_copy(serial, sizeof(serial), from_usb);
                snprintf(id->flag, sizeof(id->flag), "serial-mismatch");
                log_warn("%s: udev says serial '%s', the device says '%s'; flagged", d->devnode, d->udev_serial,
                         from_usb);
        } else if (r > 0) {
                safe_copy(serial, sizeof(serial), from_usb);
        } else {
                safe_copy(serial, sizeof(serial), d->udev_serial);
        }
        if (!serial[0]) {
                /* No serial: a device of its own for this dock, flagged, never
                 * merged with another serial-less recorder. */
                char bay[64];
                safe_copy(bay, sizeof(bay), d->bay);
                snprintf(id->serial, sizeof(id->serial), "NOSERIAL-%s%s-%.40s-%lld", d->vendor_id, d->product_id, bay,
                         (long long)time(NULL));
                snprintf(id->flag, sizeof(id->flag), "serial-missing");
                return 0;
        }
        snprintf(id->serial, sizeof(id->serial), "%s", serial);
        (void)err;
        (void)err_size;
        return 0;
}

static int not_supported_clock(const struct dock_info *d, struct timespec *t) { (void)d; (void)t; return -EOPNOTSUPP; }

/* The clock request: a vendor IN control transfer (bmRequestType 0xC0,
 * bRequest 0x44, wValue 0, wIndex 0, wLength 8) answered with the device's
 * clock as little-endian seconds since the epoch. Only asked of models listed
 * in [recorders] clock; a stall means the device does not support it. */
static int read_clock_request(libusb_device_handle *h, const struct libusb_device_descriptor *desc, void *ud)
{
        (void)desc;
        unsigned char buf[8];
        int k = libusb_control_transfer(h, 0xc0, 0x44, 0, 0, buf, sizeof(buf), 1000);
        if (k == LIBUSB_ERROR_PIPE)
                return -EOPNOTSUPP;
        if (k != (int)sizeof(buf))
                return -EIO;
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = v << 8 | buf[i];
        ((struct timespec *)ud)->tv_sec = (time_t)(int64_t)v;
        ((struct timespec *)ud)->tv_nsec = 0;
        return 0;
}

static int clock_request(const struct dock_info *d, struct timespec *t)
{
        return with_usb_device(d->busnum, d->devnum, read_clock_request, t);
}
static int not_supported_set_clock(const struct dock_info *d, const struct timespec *t) { (void)d; (void)t; return -EOPNOTSUPP; }
static int not_supported_battery(const struct dock_info *d, int *p) { (void)d; (void)p; return -EOPNOTSUPP; }
static int not_supported_wipe(const struct dock_info *d) { (void)d; return -EOPNOTSUPP; }

const struct driver_ops driver_msc_clock = {
        .name = "msc+clock",
        .identify = msc_identify,
        .read_clock = clock_request,
        .set_clock = not_supported_set_clock,
        .battery = not_supported_battery,
        .wipe = not_supported_wipe,
};

const struct driver_ops driver_msc = {
        .name = "msc",
        .identify = msc_identify,
        .read_clock = not_supported_clock,
        .set_clock = not_supported_set_clock,
        .battery = not_supported_battery,
        .wipe = not_supported_wipe,
};
