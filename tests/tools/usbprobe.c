/*
 * usbprobe: checks what a preloaded process sees in a bayharness testbed,
 * using the same APIs as dockd (libudev enumerate + monitor, libusb string
 * descriptors, open()+read() of the block device node).
 *
 *   usbprobe SECONDS
 *
 * Prints, for every block partition present at start:
 *   part DEVNODE fs=ID_FS_TYPE usb=VID:PID udev_serial=S libusb_serial=S bay=ID_PATH first_bytes=HEX
 * then, for SECONDS, every monitor event on "block" and "usb":
 *   uevent ACTION SUBSYSTEM DEVNAME
 * and for a partition that is added meanwhile, a "hotpart ..." line with the
 * same fields as "part".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <libudev.h>
#include <libusb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static libusb_context *usb;

static const char *nz(const char *s) { return s && *s ? s : "-"; }

static void first_bytes(const char *node, char *hex, size_t hexlen)
{
        unsigned char buf[16];
        int fd = open(node, O_RDONLY | O_CLOEXEC);
        snprintf(hex, hexlen, "-");
        if (fd < 0) {
                snprintf(hex, hexlen, "open-error:%s", strerror(errno));
                return;
        }
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0)
                snprintf(hex, hexlen, "read-error:%s", strerror(errno));
        for (ssize_t i = 0; i < n && (size_t)(2 * i + 2) < hexlen; i++)
                sprintf(hex + 2 * i, "%02x", buf[i]);
        close(fd);
}

/* serial number read over libusb (string descriptor via usbfs ioctls) */
static void libusb_serial(int busnum, int devnum, char *out, size_t outlen)
{
        libusb_device **list;
        snprintf(out, outlen, "?");
        ssize_t n = libusb_get_device_list(usb, &list);
        if (n < 0) {
                snprintf(out, outlen, "list-error:%s", libusb_error_name((int)n));
                return;
        }
        for (ssize_t i = 0; i < n; i++) {
                if (libusb_get_bus_number(list[i]) != busnum || libusb_get_device_address(list[i]) != devnum)
                        continue;
                struct libusb_device_descriptor dd;
                libusb_device_handle *h;
                int r = libusb_get_device_descriptor(list[i], &dd);
                if (r == 0 && dd.iSerialNumber == 0) {
                        snprintf(out, outlen, "-");
                        break;
                }
                if (r == 0)
                        r = libusb_open(list[i], &h);
                if (r != 0) {
                        snprintf(out, outlen, "open-error:%s", libusb_error_name(r));
                        break;
                }
                unsigned char s[256];
                r = libusb_get_string_descriptor_ascii(h, dd.iSerialNumber, s, sizeof s);
                if (r < 0)
                        snprintf(out, outlen, "string-error:%s", libusb_error_name(r));
                else
                        snprintf(out, outlen, "%s", s);
                libusb_close(h);
                break;
        }
        libusb_free_device_list(list, 1);
}

static void print_part(const char *tag, struct udev_device *d)
{
        const char *node = udev_device_get_devnode(d);
        struct udev_device *u = udev_device_get_parent_with_subsystem_devtype(d, "usb", "usb_device");
        char hex[64], lserial[300];
        const char *vid = NULL, *pid = NULL, *serial = NULL, *bay = NULL;

        snprintf(lserial, sizeof lserial, "-");
        if (u) {
                vid = udev_device_get_sysattr_value(u, "idVendor");
                pid = udev_device_get_sysattr_value(u, "idProduct");
                serial = udev_device_get_property_value(u, "ID_SERIAL_SHORT");
                bay = udev_device_get_property_value(u, "ID_PATH");
                const char *b = udev_device_get_sysattr_value(u, "busnum");
                const char *n = udev_device_get_sysattr_value(u, "devnum");
                if (b && n)
                        libusb_serial(atoi(b), atoi(n), lserial, sizeof lserial);
        }
        first_bytes(nz(node), hex, sizeof hex);
        printf("%s %s fs=%s usb=%s:%s udev_serial=%s libusb_serial=%s bay=%s first_bytes=%s\n", tag, nz(node),
               nz(udev_device_get_property_value(d, "ID_FS_TYPE")), nz(vid), nz(pid), nz(serial), lserial, nz(bay),
               hex);
}

static double now(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
        double secs = argc > 1 ? atof(argv[1]) : 0;
        setvbuf(stdout, NULL, _IOLBF, 0);

        struct udev *udev = udev_new();
        if (!udev) {
                fprintf(stderr, "usbprobe: udev_new failed\n");
                return 1;
        }
        int r = libusb_init(&usb);
        if (r != 0) {
                fprintf(stderr, "usbprobe: libusb_init: %s\n", libusb_error_name(r));
                return 1;
        }

        /* monitor first, so nothing between enumeration and monitoring is lost */
        struct udev_monitor *mon = udev_monitor_new_from_netlink(udev, "udev");
        if (!mon || udev_monitor_filter_add_match_subsystem_devtype(mon, "block", NULL) < 0 ||
            udev_monitor_filter_add_match_subsystem_devtype(mon, "usb", NULL) < 0 ||
            udev_monitor_enable_receiving(mon) < 0) {
                fprintf(stderr, "usbprobe: cannot set up udev monitor\n");
                return 1;
        }

        struct udev_enumerate *en = udev_enumerate_new(udev);
        udev_enumerate_add_match_subsystem(en, "block");
        udev_enumerate_add_match_property(en, "DEVTYPE", "partition");
        udev_enumerate_scan_devices(en);
        struct udev_list_entry *e;
        udev_list_entry_foreach(e, udev_enumerate_get_list_entry(en))
        {
                struct udev_device *d = udev_device_new_from_syspath(udev, udev_list_entry_get_name(e));
                if (!d)
                        continue;
                print_part("part", d);
                udev_device_unref(d);
        }
        udev_enumerate_unref(en);
        printf("enumerated\n");

        double end = now() + secs;
        struct pollfd pfd = { .fd = udev_monitor_get_fd(mon), .events = POLLIN };
        for (double left; (left = end - now()) > 0;) {
                int pr = poll(&pfd, 1, (int)(left * 1000) + 1);
                if (pr < 0 && errno != EINTR)
                        break;
                if (pr <= 0)
                        continue;
                struct udev_device *d = udev_monitor_receive_device(mon);
                if (!d)
                        continue;
                const char *action = udev_device_get_action(d);
                printf("uevent %s %s %s\n", nz(action), nz(udev_device_get_subsystem(d)),
                       nz(udev_device_get_devnode(d)));
                if (action && strcmp(action, "add") == 0 && strcmp(nz(udev_device_get_devtype(d)), "partition") == 0)
                        print_part("hotpart", d);
                udev_device_unref(d);
        }
        printf("done\n");
        udev_monitor_unref(mon);
        udev_unref(udev);
        libusb_exit(usb);
        return 0;
}
