/* recorders.h — the recorder models a station takes and the driver each one
 * gets: the config's [recorder.VID:PID] table (the older [recorders] allow and
 * clock lists are read into it). Drivers are chosen by this data, never by
 * code; a USB device that matches no model is never read. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

enum recorder_driver {
        RECORDER_DRIVER_MSC,       /* generic USB mass storage (driver_msc.c) */
        RECORDER_DRIVER_GAT947_JL, /* 行标 functions as SCSI vendor commands, JieLi family (driver_gat947.c) */
};

enum recorder_clock {
        RECORDER_CLOCK_OFF,  /* never asked */
        RECORDER_CLOCK_READ, /* read before the ingest: recording times corrected by the offset */
        RECORDER_CLOCK_SYNC, /* set to the station's time in its zone (where only setting is possible) */
};

struct recorder_model {
        unsigned vendor, product;
        enum recorder_driver driver;
        enum recorder_clock clock;
        char *password_file;        /* gat947-jl: the device's admin password, checked before unlocking */
        unsigned info_layout;       /* gat947-jl: ZFY_INFO size on the wire, 89 or 94 */
        char *name_pattern;         /* NULL: [recorders] name_pattern */
        char *inquiry_vendor;       /* NULL: any; else the SCSI INQUIRY vendor must be this */
        char *inquiry_product;      /* NULL: any; else the SCSI INQUIRY product must start with this */
        unsigned unlock_timeout_s;  /* gat947-jl: how long the card may take to appear after unlocking */
        char origin[40];            /* where it was configured, for `dockd --check` */
        bool driver_set, clock_set; /* parsing: the section named them */
};

const char *recorder_driver_name(enum recorder_driver d);
const char *recorder_clock_name(enum recorder_clock c);

/* One key of a [recorder.VID:PID] section into m. 0, or -EINVAL with the
 * reason in why (without file and line: the caller has them). */
int recorder_model_key(struct recorder_model *m, const char *key, const char *value, char *why, size_t why_size);
/* A section complete and coherent: 0, or -EINVAL with the reason. */
int recorder_model_check(const struct recorder_model *m, char *why, size_t why_size);
/* "f055:d0c0" -> vendor, product; false if it is not one. */
bool recorder_parse_usb_id(const char *s, unsigned *vendor, unsigned *product);
/* The INQUIRY strings (space-padded as the device sends them) fit the model. */
bool recorder_inquiry_matches(const struct recorder_model *m, const char *vendor, const char *product);
void recorder_model_free(struct recorder_model *m);
