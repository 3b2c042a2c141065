/* hotplug.c — see hotplug.h. Only block devices below a USB device whose
 * vendor:product is a configured recorder model are recorders; anything else
 * is ignored and logged once. A model whose driver can unlock it (gat947-jl)
 * docks while its card is still hidden: its disk, without medium or volume. */
#include "hotplug.h"

#include <errno.h>
#include <libudev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "util.h"

struct hotplug {
        const struct config *cfg;
        struct hotplug_handlers h;
        struct udev *udev;
        struct udev_monitor *mon;
        char **ignored; /* syspaths already logged as ignored */
        size_t n_ignored;
};

static const char *prop(struct udev_device *d, const char *name)
{
        const char *v = udev_device_get_property_value(d, name);
        return v ? v : "";
}

static const char *attr(struct udev_device *d, const char *name)
{
        const char *v = udev_device_get_sysattr_value(d, name);
        return v ? v : "";
}

static void copy(char *dst, size_t size, const char *a, const char *b)
{
        /* sysfs attributes end in a newline under umockdev and some kernels */
        snprintf(dst, size, "%s", *a ? a : b);
        dst[strcspn(dst, "\n")] = '\0';
}

static void ignore_once(struct hotplug *hp, const char *syspath, const char *port, const char *why, const char *what)
{
        for (size_t i = 0; i < hp->n_ignored; i++)
                if (strcmp(hp->ignored[i], syspath) == 0)
                        return;
        char **p = realloc(hp->ignored, (hp->n_ignored + 1) * sizeof(*p));
        if (!p)
                return;
        hp->ignored = p;
        hp->ignored[hp->n_ignored++] = xstrdup(syspath);
        log_info("ignoring %s: %s", what, why);
        if (hp->h.not_recorder)
                hp->h.not_recorder(hp->h.ud, syspath, port, what, why);
}

static void forget_ignored(struct hotplug *hp, const char *syspath)
{
        for (size_t i = 0; i < hp->n_ignored; i++)
                if (strcmp(hp->ignored[i], syspath) == 0) {
                        free(hp->ignored[i]);
                        hp->ignored[i] = hp->ignored[--hp->n_ignored];
                        return;
                }
}

/* Fills d if blk is a recorder's volume. */
static bool recorder_volume(struct hotplug *hp, struct udev_device *blk, struct dock_info *d)
{
        const char *devtype = udev_device_get_devtype(blk);
        const char *devnode = udev_device_get_devnode(blk);
        if (!devtype || !devnode)
                return false;
        const char *fs = prop(blk, "ID_FS_TYPE");
        struct udev_device *usb = udev_device_get_parent_with_subsystem_devtype(blk, "usb", "usb_device");
        if (!usb)
                return false; /* not USB: the station's own disks */
        unsigned vid = 0, pid = 0;
        sscanf(attr(usb, "idVendor"), "%x", &vid);
        sscanf(attr(usb, "idProduct"), "%x", &pid);
        const struct recorder_model *m = config_model(hp->cfg, vid, pid);
        bool locked = false;
        if (strcmp(devtype, "disk") == 0) {
                /* A disk with a partition table docks through its partitions;
                 * a "superfloppy" recorder carries its filesystem on the disk;
                 * a recorder whose driver unlocks it docks by its empty disk. */
                if (*prop(blk, "ID_PART_TABLE_TYPE"))
                        return false;
                if (!*fs) {
                        if (!m || !driver_for(m)->unlock)
                                return false;
                        locked = true;
                }
        } else if (strcmp(devtype, "partition") != 0) {
                return false;
        }
        const char *syspath = udev_device_get_syspath(blk);
        char port[256];
        copy(port, sizeof(port), prop(usb, "ID_PATH"), udev_device_get_sysname(usb));
        char what[300];
        snprintf(what, sizeof(what), "%s (USB %04x:%04x %s %s)", devnode, vid, pid, prop(usb, "ID_VENDOR"),
                 prop(usb, "ID_MODEL"));
        if (!m) {
                ignore_once(hp, syspath, port, "not a configured recorder model ([recorder.VID:PID]); never read",
                            what);
                return false;
        }
        if (*fs && strcmp(fs, "vfat") != 0 && strcmp(fs, "exfat") != 0) {
                ignore_once(hp, syspath, port, "its filesystem is not FAT or exFAT", what);
                return false;
        }
        struct udev_device *disk = strcmp(devtype, "disk") == 0
                                           ? blk
                                           : udev_device_get_parent_with_subsystem_devtype(blk, "block", "disk");
        struct udev_device *scsi = udev_device_get_parent_with_subsystem_devtype(blk, "scsi", "scsi_device");
        char sv[16] = "", sm[32] = "";
        if (scsi) {
                copy(sv, sizeof(sv), attr(scsi, "vendor"), "");
                copy(sm, sizeof(sm), attr(scsi, "model"), "");
        }
        if (!recorder_inquiry_matches(m, sv, sm)) {
                char why[200];
                snprintf(why, sizeof(why),
                         "its SCSI INQUIRY '%s' '%s' is not the one [recorder.%04x:%04x] names; never read", sv, sm,
                         vid, pid);
                ignore_once(hp, syspath, port, why, what);
                return false;
        }
        memset(d, 0, sizeof(*d));
        copy(d->syspath, sizeof(d->syspath), syspath, "");
        copy(d->devnode, sizeof(d->devnode), devnode, "");
        copy(d->fs_type, sizeof(d->fs_type), fs, "");
        copy(d->usb_syspath, sizeof(d->usb_syspath), udev_device_get_syspath(usb), "");
        snprintf(d->bay, sizeof(d->bay), "%s", port);
        snprintf(d->vendor_id, sizeof(d->vendor_id), "%04x", vid);
        snprintf(d->product_id, sizeof(d->product_id), "%04x", pid);
        copy(d->udev_serial, sizeof(d->udev_serial), prop(usb, "ID_SERIAL_SHORT"), attr(usb, "serial"));
        copy(d->vendor, sizeof(d->vendor), prop(usb, "ID_VENDOR"), attr(usb, "manufacturer"));
        copy(d->model, sizeof(d->model), prop(usb, "ID_MODEL"), attr(usb, "product"));
        copy(d->fs_label, sizeof(d->fs_label), prop(blk, "ID_FS_LABEL"), "");
        if (disk && udev_device_get_devnode(disk))
                copy(d->disk_node, sizeof(d->disk_node), udev_device_get_devnode(disk), "");
        snprintf(d->scsi_vendor, sizeof(d->scsi_vendor), "%s", sv);
        snprintf(d->scsi_model, sizeof(d->scsi_model), "%s", sm);
        d->locked = locked;
        d->busnum = atoi(attr(usb, "busnum"));
        d->devnum = atoi(attr(usb, "devnum"));
        return true;
}

int hotplug_new(const struct config *cfg, const struct hotplug_handlers *h, struct hotplug **out)
{
        struct hotplug *hp = calloc(1, sizeof(*hp));
        if (!hp)
                return -ENOMEM;
        hp->cfg = cfg;
        hp->h = *h;
        hp->udev = udev_new();
        if (!hp->udev)
                goto fail;
        hp->mon = udev_monitor_new_from_netlink(hp->udev, "udev");
        if (!hp->mon || udev_monitor_filter_add_match_subsystem_devtype(hp->mon, "block", NULL) < 0 ||
            udev_monitor_enable_receiving(hp->mon) < 0)
                goto fail;
        *out = hp;
        return 0;
fail:
        hotplug_free(hp);
        return -EIO;
}

void hotplug_free(struct hotplug *hp)
{
        if (!hp)
                return;
        for (size_t i = 0; i < hp->n_ignored; i++)
                free(hp->ignored[i]);
        free(hp->ignored);
        udev_monitor_unref(hp->mon);
        udev_unref(hp->udev);
        free(hp);
}

int hotplug_fd(struct hotplug *hp) { return udev_monitor_get_fd(hp->mon); }

int hotplug_coldplug(struct hotplug *hp)
{
        struct udev_enumerate *e = udev_enumerate_new(hp->udev);
        if (!e)
                return -ENOMEM;
        udev_enumerate_add_match_subsystem(e, "block");
        if (udev_enumerate_scan_devices(e) < 0) {
                udev_enumerate_unref(e);
                return -EIO;
        }
        struct udev_list_entry *entry;
        udev_list_entry_foreach(entry, udev_enumerate_get_list_entry(e))
        {
                struct udev_device *blk = udev_device_new_from_syspath(hp->udev, udev_list_entry_get_name(entry));
                struct dock_info d;
                if (blk && recorder_volume(hp, blk, &d))
                        hp->h.dock(hp->h.ud, &d);
                udev_device_unref(blk);
        }
        udev_enumerate_unref(e);
        return 0;
}

void hotplug_process(struct hotplug *hp)
{
        struct udev_device *dev;
        while ((dev = udev_monitor_receive_device(hp->mon))) {
                const char *action = udev_device_get_action(dev);
                const char *syspath = udev_device_get_syspath(dev);
                struct dock_info d;
                if (action && strcmp(action, "add") == 0 && recorder_volume(hp, dev, &d))
                        hp->h.dock(hp->h.ud, &d);
                else if (action && strcmp(action, "remove") == 0 && syspath) {
                        forget_ignored(hp, syspath);
                        hp->h.undock(hp->h.ud, syspath);
                }
                udev_device_unref(dev);
        }
}
