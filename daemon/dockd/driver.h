/* driver.h — the recorder driver interface. A driver identifies a docked
 * recorder and offers what its protocol can: its clock, a wipe. (Setting
 * the clock, the battery and unlocking come with the drivers that can: the
 * vendor-driver issue.) An
 * operation a device cannot do returns -EOPNOTSUPP ("not supported"). */
#pragma once
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
        char udev_serial[128], vendor[128], model[128];
        int busnum, devnum;
};

struct driver_ops {
        const char *name;
        int (*identify)(const struct dock_info *d, struct recorder_identity *id, char *err, size_t err_size);
        int (*read_clock)(const struct dock_info *d, struct timespec *device_time);
        /* Erases the recorder's recordings; what was done (or why not) in what. */
        int (*wipe)(const struct dock_info *d, char *what, size_t what_size);
};

extern const struct driver_ops driver_msc;       /* generic USB mass storage */
extern const struct driver_ops driver_msc_clock; /* ... that answers the clock request ([recorders] clock) */
