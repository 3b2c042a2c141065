/* driver_msc.c — generic USB mass-storage recorders: identity from udev and
 * from the device's own descriptors (usbfs); wipe by reformatting; no
 * battery. The clock is read with a vendor control request from the models
 * configured for it (clock = read: driver_msc_clock). And the table that
 * picks a model's driver. */
#include <errno.h>
#include <fcntl.h>
#include <linux/usb/ch9.h>
#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "driver.h"
#include "log.h"
#include "recorders.h"

/* The device at bus/address, opened in usbfs: its control requests go
 * straight to it. (libusb found it by enumerating every USB device, twice a
 * dock, behind its process-wide locks: with sixteen recorders docked at once,
 * the last waited seconds for its turn.) */
static int usb_open(int busnum, int devnum)
{
        char path[64];
        snprintf(path, sizeof(path), "/dev/bus/usb/%03d/%03d", busnum, devnum);
        int fd = open(path, O_RDWR | O_CLOEXEC);
        return fd >= 0 ? fd : errno == ENOENT ? -ENODEV : -errno;
}

/* An IN control request: the bytes answered, or -errno (-EPIPE: a stall). */
static int usb_control_in(int fd, uint8_t type, uint8_t request, uint16_t value, uint16_t index, void *buf,
                          uint16_t len)
{
        struct usbdevfs_ctrltransfer ct = { .bRequestType = type,
                                            .bRequest = request,
                                            .wValue = value,
                                            .wIndex = index,
                                            .wLength = len,
                                            .timeout = 1000,
                                            .data = buf };
        int k = ioctl(fd, USBDEVFS_CONTROL, &ct);
        return k >= 0 ? k : -errno;
}

/* GET_DESCRIPTOR's wValue: the type in the high byte, the index in the low. */
#define DESCRIPTOR(type, index) ((uint16_t)((type) << 8 | (index)))

/* The serial number string descriptor as UTF-8 (identity_usb_string): 1, or
 * 0 if the device has none, or -errno. */
static int read_serial(int fd, char *out, size_t size)
{
        struct usb_device_descriptor dev;
        unsigned char s[255];
        int k = usb_control_in(fd, USB_DIR_IN, USB_REQ_GET_DESCRIPTOR, DESCRIPTOR(USB_DT_DEVICE, 0), 0, &dev,
                               USB_DT_DEVICE_SIZE);
        if (k < USB_DT_DEVICE_SIZE)
                return -EIO;
        if (dev.iSerialNumber == 0)
                return 0;
        k = usb_control_in(fd, USB_DIR_IN, USB_REQ_GET_DESCRIPTOR, DESCRIPTOR(USB_DT_STRING, 0), 0, s, sizeof(s));
        if (k < 4)
                return -EIO;
        uint16_t langid = (uint16_t)(s[2] | s[3] << 8);
        k = usb_control_in(fd, USB_DIR_IN, USB_REQ_GET_DESCRIPTOR, DESCRIPTOR(USB_DT_STRING, dev.iSerialNumber), langid,
                           s, sizeof(s));
        if (k < 0 || identity_usb_string(s, (size_t)k, out, size) < 0)
                return -EIO;
        return 1;
}

int driver_usb_serial(int busnum, int devnum, char *out, size_t size)
{
        int fd = usb_open(busnum, devnum);
        if (fd < 0)
                return fd;
        int r = read_serial(fd, out, size);
        close(fd);
        return r;
}

static int msc_identify(const struct dock_info *d, const struct device_report *rep, struct recorder_identity *id,
                        char *err, size_t err_size)
{
        (void)rep;
        memset(id, 0, sizeof(*id));
        snprintf(id->vendor, sizeof(id->vendor), "%s", d->vendor);
        snprintf(id->model, sizeof(id->model), "%s", d->model);
        snprintf(id->vendor_id, sizeof(id->vendor_id), "%s", d->vendor_id);
        snprintf(id->product_id, sizeof(id->product_id), "%s", d->product_id);
        snprintf(id->bay, sizeof(id->bay), "%s", d->bay);

        char from_usb[IDENTITY_USB_STRING_MAX] = ""; /* all of it: a cut serial is another serial */
        int r = driver_usb_serial(d->busnum, d->devnum, from_usb, sizeof(from_usb));
        if (r < 0)
                log_warn("%s: cannot read the serial from the device itself (%s); using udev's", d->devnode,
                         strerror(-r));
        char serial[sizeof(id->serial)] = "";
        if (r > 0 && d->udev_serial[0] && strcmp(from_usb, d->udev_serial) != 0) {
                /* Two answers to "who are you": keep the device's, flag it. */
                identity_safe_serial(serial, sizeof(serial), from_usb);
                snprintf(id->flag, sizeof(id->flag), "%s", IDENTITY_SERIAL_MISMATCH);
                log_warn("%s: udev says serial '%s', the device says '%s'; flagged", d->devnode, d->udev_serial,
                         from_usb);
        } else if (r > 0) {
                identity_safe_serial(serial, sizeof(serial), from_usb);
        } else {
                identity_safe_serial(serial, sizeof(serial), d->udev_serial);
        }
        if (!serial[0]) {
                /* No serial: a device of its own for this dock, flagged, never
                 * merged with another serial-less recorder. */
                char bay[64];
                identity_safe_serial(bay, sizeof(bay), d->bay);
                snprintf(id->serial, sizeof(id->serial), "NOSERIAL-%s%s-%.40s-%lld", d->vendor_id, d->product_id, bay,
                         (long long)time(NULL));
                snprintf(id->flag, sizeof(id->flag), "%s", IDENTITY_SERIAL_MISSING);
                return 0;
        }
        snprintf(id->serial, sizeof(id->serial), "%s", serial);
        (void)err;
        (void)err_size;
        return 0;
}

/* The clock request: a vendor IN control transfer (bmRequestType 0xC0,
 * bRequest 0x44, wValue 0, wIndex 0, wLength 8) answered with the device's
 * clock as little-endian seconds since the epoch. Only asked of models listed
 * in [recorders] clock; a stall means the device does not support it. */
static int clock_request(const struct dock_info *d, struct timespec *t)
{
        int fd = usb_open(d->busnum, d->devnum);
        if (fd < 0)
                return fd;
        unsigned char buf[8];
        int k = usb_control_in(fd, USB_DIR_IN | USB_TYPE_VENDOR | USB_RECIP_DEVICE, 0x44, 0, 0, buf, sizeof(buf));
        close(fd);
        if (k == -EPIPE)
                return -EOPNOTSUPP;
        if (k != (int)sizeof(buf))
                return -EIO;
        uint64_t v = 0;
        for (int i = 7; i >= 0; i--)
                v = v << 8 | buf[i];
        t->tv_sec = (time_t)(int64_t)v;
        t->tv_nsec = 0;
        return 0;
}
int driver_run(char *const argv[], char *out, size_t out_size)
{
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return -errno;
        pid_t pid = fork();
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return -errno;
        }
        if (pid == 0) {
                dup2(pipefd[1], STDOUT_FILENO);
                dup2(pipefd[1], STDERR_FILENO);
                execvp(argv[0], argv);
                _exit(127);
        }
        close(pipefd[1]);
        size_t n = 0;
        ssize_t k;
        char buf[4096];
        while ((k = read(pipefd[0], buf, sizeof(buf))) > 0)
                for (ssize_t i = 0; i < k; i++)
                        if (n + 1 < out_size)
                                out[n++] = buf[i];
        if (out_size)
                out[n] = '\0';
        close(pipefd[0]);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -EIO;
}

static void export_value(const char *text, const char *key, char *out, size_t size)
{
        out[0] = '\0';
        size_t len = strlen(key);
        for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
                if (strncmp(p, key, len) == 0 && p[len] == '=') {
                        size_t n = strcspn(p + len + 1, "\n");
                        snprintf(out, size, "%.*s", (int)n, p + len + 1);
                        return;
                }
}

/* Reformats the recorder's volume with its own filesystem type, FAT size and
 * label (blkid reads them first): the recorder comes back empty, as its
 * maker formats it. */
int driver_reformat(const struct dock_info *d, char *what, size_t what_size)
{
        char info[2048], type[32], version[32], label[64];
        char *blkid[] = { "blkid", "-p", "-o", "export", (char *)d->devnode, NULL };
        if (driver_run(blkid, info, sizeof(info)) < 0) {
                snprintf(what, what_size, "blkid cannot read %s: %.200s", d->devnode, info);
                return -EIO;
        }
        export_value(info, "TYPE", type, sizeof(type));
        export_value(info, "VERSION", version, sizeof(version));
        export_value(info, "LABEL", label, sizeof(label));
        char out[2048];
        int r;
        if (strcmp(type, "vfat") == 0) {
                char *fat = strcmp(version, "FAT12") == 0 ? "12" : strcmp(version, "FAT16") == 0 ? "16" : "32";
                char *argv[] = { "mkfs.fat", "-F", fat, "-n", label[0] ? label : "NO NAME", (char *)d->devnode, NULL };
                r = driver_run(argv, out, sizeof(out));
        } else if (strcmp(type, "exfat") == 0) {
                char *argv[] = { "mkfs.exfat", "-L", label[0] ? label : "", (char *)d->devnode, NULL };
                char *argv_nolabel[] = { "mkfs.exfat", (char *)d->devnode, NULL };
                r = driver_run(label[0] ? argv : argv_nolabel, out, sizeof(out));
        } else {
                snprintf(what, what_size, "not wiped: %s holds '%s', not FAT or exFAT", d->devnode, type);
                return -EOPNOTSUPP;
        }
        if (r < 0) {
                snprintf(what, what_size, "wipe failed: formatting %s: %.200s", d->devnode, out);
                return r;
        }
        snprintf(what, what_size, "wiped: %s reformatted %s%s%s, label '%s'", d->devnode, type,
                 strcmp(type, "vfat") == 0 ? " " : "",
                 strcmp(type, "vfat") == 0 ? (version[0] ? version : "FAT32") : "", label);
        return 0;
}

const struct driver_ops driver_msc_clock = {
        .name = "msc+clock",
        .identify = msc_identify,
        .read_clock = clock_request,
        .wipe = driver_reformat,
};

const struct driver_ops driver_msc = {
        .name = "msc",
        .identify = msc_identify,
        .wipe = driver_reformat,
};

const struct driver_ops *driver_for(const struct recorder_model *m)
{
        if (m->driver == RECORDER_DRIVER_GAT947_JL)
                return &driver_gat947_jl;
        return m->clock == RECORDER_CLOCK_READ ? &driver_msc_clock : &driver_msc;
}
