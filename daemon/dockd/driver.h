/* driver.h — the recorder driver interface. A driver identifies a docked
 * recorder and offers what its protocol can: what the device reports of
 * itself (officer, battery, ID code), setting or reading its clock, making a
 * locked card appear, a wipe. Which driver a model gets is the config's
 * table (recorders.h); dock.c runs the lifecycle they plug into. An
 * operation a device cannot do is NULL or returns -EOPNOTSUPP. */
#pragma once
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "identity.h"

/* What udev told us at dock time, copied out so a bay thread can use it. */
struct dock_info {
        char syspath[512]; /* the block device (partition) */
        char devnode[256]; /* /dev/sdX1: what ingest reads */
        char fs_type[32];
        char usb_syspath[512];
        char bay[256]; /* USB port path (ID_PATH): which bay */
        char vendor_id[8], product_id[8];
        char udev_serial[IDENTITY_USB_STRING_MAX], vendor[128], model[128];
        char fs_label[64];                    /* the volume label, "" none */
        char disk_node[256];                  /* /dev/sdX: the SCSI disk the partition is on */
        char scsi_vendor[16], scsi_model[32]; /* the kernel's INQUIRY strings of that disk */
        int busnum, devnum;
        bool locked; /* no card yet: a disk without medium or volume, for a driver that can unlock */
};

/* What a recorder said of itself through its protocol (the 行标 functions). */
struct device_report {
        bool has_info;
        char info_serial[16], badge[32], officer_name[128], unit_no[64], unit_name[128];
        char id_code[16];                        /* hex */
        int battery_pct;                         /* -1: unknown */
        bool clock_set;                          /* the station set the device's clock */
        char clock_set_at[32], clock_set_to[80]; /* station UTC; the device's local time given, and its zone */
        char info_error[200];                    /* ZFY_INFO unreadable: why ("" read, or not asked) */
};

struct recorder_model;

/* One conversation with a docked recorder. */
struct driver_call {
        const struct dock_info *dock;
        const struct recorder_model *model;
        const char *timezone; /* for clock = sync: the zone's name, for the record */
        /* A failing call names its cause here for the bay, in a word
         * (dock.h: "loader", "no-card", "password"); NULL: not asked. */
        const char **reason;
        volatile sig_atomic_t *cancel;
};

struct driver_ops {
        const char *name;
        /* Asks the device who it is and who carries it, and sets its clock
         * (clock = sync); rep filled as far as it answered. -errno with the
         * reason for the bay in err. */
        int (*query)(const struct driver_call *c, struct device_report *rep, char *err, size_t err_size);
        /* A locked recorder: checks its card and makes it appear as a disk. */
        int (*unlock)(const struct driver_call *c, char *err, size_t err_size);
        /* The identity, from udev and the device (rep: what query heard, or NULL). */
        int (*identify)(const struct dock_info *d, const struct device_report *rep, struct recorder_identity *id,
                        char *err, size_t err_size);
        int (*read_clock)(const struct dock_info *d, struct timespec *device_time);
        /* Erases the recorder's recordings; what was done (or why not) in what. */
        int (*wipe)(const struct dock_info *d, char *what, size_t what_size);
};

extern const struct driver_ops driver_msc;       /* generic USB mass storage */
extern const struct driver_ops driver_msc_clock; /* ... that answers the clock request (clock = read) */
extern const struct driver_ops driver_gat947_jl; /* 行标 functions over SCSI vendor commands (JieLi) */

/* The driver for a model and its clock setting. */
const struct driver_ops *driver_for(const struct recorder_model *m);

/* The serial-number string descriptor of the device at bus/address (usbfs):
 * 1 read, 0 the device has none, -errno if it cannot be asked. */
int driver_usb_serial(int busnum, int devnum, char *out, size_t size);
/* Runs argv (exec, no shell); its output (stdout and stderr) into out. */
int driver_run(char *const argv[], char *out, size_t out_size);
/* Reformats the recorder's volume as its maker did (driver_msc.c). */
int driver_reformat(const struct dock_info *d, char *what, size_t what_size);
