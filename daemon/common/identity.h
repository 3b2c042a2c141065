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

/* A USB string descriptor as received (bLength, bDescriptorType 3, then
 * UTF-16LE code units) into out as UTF-8: 0, or -EINVAL if the bytes are not
 * one (fewer than 2, another type, a bLength past what was received). A lone
 * surrogate or U+0000 becomes U+FFFD, an odd last byte is ignored, and out
 * ends at the last whole character that fits. */
int identity_usb_string(const unsigned char *desc, size_t len, char *out, size_t size);
/* Room for any string descriptor as UTF-8: 126 code units of at most 3 bytes. */
#define IDENTITY_USB_STRING_MAX 384

/* A serial as file names, object keys and listings may hold it: valid UTF-8
 * with no control character, space or '/'; each other byte becomes '_'.
 * Serials in Chinese stay as they are (udev keeps them too), so two
 * recorders are not made one. One too long for dst keeps the whole
 * characters that fit with "~" and the first 16 hex digits of the SHA-256
 * of all of src after them (in a dst of 18 bytes or fewer, only what fits):
 * two serials that differ past the cut are still two. */
void identity_safe_serial(char *dst, size_t size, const char *src);
