/* driver_msc.c — generic USB mass-storage recorders: identity from udev and
 * from the device's own descriptors (libusb); no clock, battery or wipe. */
#include <errno.h>
#include <libusb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "driver.h"
#include "log.h"

/* Reads the serial-number string descriptor of the device at bus/address.
 * Returns 1 if read, 0 if the device has none, -errno if it cannot be asked. */
static int usb_serial(int busnum, int devnum, char *out, size_t size)
{
        libusb_context *ctx = NULL;
        libusb_device **list = NULL;
        int r = libusb_init(&ctx);
        if (r < 0)
                return -EIO;
        ssize_t n = libusb_get_device_list(ctx, &list);
        r = -ENODEV;
        for (ssize_t i = 0; i < n; i++) {
                libusb_device *dev = list[i];
                if (libusb_get_bus_number(dev) != busnum || libusb_get_device_address(dev) != devnum)
                        continue;
                struct libusb_device_descriptor desc;
                if (libusb_get_device_descriptor(dev, &desc) < 0) {
                        r = -EIO;
                        break;
                }
                if (desc.iSerialNumber == 0) {
                        r = 0;
                        break;
                }
                libusb_device_handle *h = NULL;
                int o = libusb_open(dev, &h);
                if (o < 0) {
                        r = o == LIBUSB_ERROR_ACCESS ? -EACCES : -EIO;
                        break;
                }
                unsigned char buf[128];
                int k = libusb_get_string_descriptor_ascii(h, desc.iSerialNumber, buf, sizeof(buf));
                libusb_close(h);
                if (k < 0) {
                        r = -EIO;
                        break;
                }
                snprintf(out, size, "%.*s", k, (const char *)buf);
                r = 1;
                break;
        }
        if (list)
                libusb_free_device_list(list, 1);
        libusb_exit(ctx);
        return r;
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
static int not_supported_set_clock(const struct dock_info *d, const struct timespec *t) { (void)d; (void)t; return -EOPNOTSUPP; }
static int not_supported_battery(const struct dock_info *d, int *p) { (void)d; (void)p; return -EOPNOTSUPP; }
static int not_supported_wipe(const struct dock_info *d) { (void)d; return -EOPNOTSUPP; }

const struct driver_ops driver_msc = {
        .name = "msc",
        .identify = msc_identify,
        .read_clock = not_supported_clock,
        .set_clock = not_supported_set_clock,
        .battery = not_supported_battery,
        .wipe = not_supported_wipe,
};
