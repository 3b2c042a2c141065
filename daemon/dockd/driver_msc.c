/* driver_msc.c — generic USB mass-storage recorders: identity from udev and
 * from the device's own descriptors (libusb); wipe by reformatting; no
 * battery. The clock is read with a vendor control request from the models
 * configured for it (clock = read: driver_msc_clock). And the table that
 * picks a model's driver. */
#include <errno.h>
#include <fcntl.h>
#include <libusb.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "driver.h"
#include "log.h"
#include "recorders.h"

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

int driver_usb_serial(int busnum, int devnum, char *out, size_t size)
{
        struct serial_buf b = { out, size };
        return with_usb_device(busnum, devnum, read_serial, &b);
}

void driver_safe_serial(char *dst, size_t size, const char *src)
{
        size_t j = 0;
        for (size_t i = 0; src[i] && j + 1 < size; i++) {
                unsigned char c = (unsigned char)src[i];
                dst[j++] = (c > 0x20 && c < 0x7f && c != '/') ? (char)c : '_';
        }
        dst[j] = '\0';
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

        char from_usb[128] = "";
        int r = driver_usb_serial(d->busnum, d->devnum, from_usb, sizeof(from_usb));
        if (r < 0)
                log_warn("%s: cannot read the serial from the device itself (%s); using udev's", d->devnode,
                         strerror(-r));
        char serial[128] = "";
        if (r > 0 && d->udev_serial[0] && strcmp(from_usb, d->udev_serial) != 0) {
                /* Two answers to "who are you": keep the device's, flag it. */
                driver_safe_serial(serial, sizeof(serial), from_usb);
                snprintf(id->flag, sizeof(id->flag), "%s", IDENTITY_SERIAL_MISMATCH);
                log_warn("%s: udev says serial '%s', the device says '%s'; flagged", d->devnode, d->udev_serial,
                         from_usb);
        } else if (r > 0) {
                driver_safe_serial(serial, sizeof(serial), from_usb);
        } else {
                driver_safe_serial(serial, sizeof(serial), d->udev_serial);
        }
        if (!serial[0]) {
                /* No serial: a device of its own for this dock, flagged, never
                 * merged with another serial-less recorder. */
                char bay[64];
                driver_safe_serial(bay, sizeof(bay), d->bay);
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
