/* identity.h — who a docked recorder is, as its driver found it: what the
 * dock hands to the ingest and the catalog keeps. */
#pragma once
#include <stddef.h>

struct recorder_identity {
        char serial[160]; /* what the catalog will know it by */
        char vendor[128], model[128];
        char vendor_id[8], product_id[8];
        char bay[256];
        /* One of the IDENTITY_* flags below, or "": flagged identities are
         * kept apart, never merged. */
        char flag[32];
};

/* Why an identity cannot be trusted as it stands: the one list. */
#define IDENTITY_SERIAL_MISSING "serial-missing"     /* the device reports no serial */
#define IDENTITY_SERIAL_MISMATCH "serial-mismatch"   /* udev, the device, its 行标 info or its label disagree */
#define IDENTITY_INFO_UNREADABLE "info-unreadable"   /* the device's 行标 info (ZFY_INFO) could not be read */
#define IDENTITY_SERIAL_COLLISION "serial-collision" /* another device already holds the serial */

/* Sets the identity apart from another that holds its serial: the serial
 * becomes "SERIAL~TELL" (TELL: what tells them apart, the bay or the USB
 * vendor:product) and the flag IDENTITY_SERIAL_COLLISION. The one place a
 * colliding serial is made. */
void identity_set_apart(char *serial, size_t serial_size, char *flag, size_t flag_size, const char *tell);
