/* gat947.h — the 行标 recorder functions (GA/T 947-style: Init_Device,
 * GetIDCode, GetZFYInfo, SyncDevTime, SetMSDC, battery) as the JieLi family
 * carries them: SCSI vendor commands over USB mass storage (16-byte CDBs
 * 0xFB/0xFD, byte 1 0x82/0x81, a big-endian command and data length).
 * Builds the only CDBs dockd may send and parses what comes back; sending is
 * the driver's (driver_gat947.c). The same opcodes erase and write flash in
 * the chip's loader mode, so every CDB passes gat947_cdb_allowed() before it
 * leaves, and nothing that formats, writes the device's info, its ID code or
 * its password is in the list. Facts: shared/notes/recorder-protocols.md. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

enum gat947_cmd {
        GAT947_INIT_USB_DEVICE = 1,    /* write, no data */
        GAT947_GET_ID_CODE = 2,        /* read 6 */
        GAT947_GET_DEV_INFO = 3,       /* read ZFY_INFO (89 or 94) */
        GAT947_SYNC_DEV_TIME = 5,      /* write 7: the device's local time */
        GAT947_SET_MSDC = 6,           /* write, no data: show the card as a disk */
        GAT947_READ_BATTERY_VAL = 8,   /* read 4: percent */
        GAT947_GET_SD_STATUS = 12,     /* read 4: 0 = no card */
        GAT947_GET_JL_PASSWORD = 13,   /* read 16: the admin password, compared on the host */
        GAT947_GET_RETURN_STATUS = 14, /* read 4: first byte 0 = the last command succeeded */
};

#define GAT947_CDB_LEN 16
#define GAT947_INQUIRY_CDB_LEN 6
#define GAT947_INQUIRY_LEN 36
#define GAT947_ID_CODE_LEN 6
#define GAT947_TIME_LEN 7
#define GAT947_PASSWORD_LEN 16
#define GAT947_WORD_LEN 4

/* The CDB of one whitelisted command, the exact data length it moves and its
 * direction. -EINVAL for a command dockd never sends, or a ZFY_INFO layout
 * other than 89 or 94. */
int gat947_cdb(enum gat947_cmd cmd, unsigned info_layout, uint8_t cdb[GAT947_CDB_LEN], size_t *data_len, bool *data_in);
/* The standard INQUIRY (6 bytes, 36 bytes back). */
void gat947_inquiry_cdb(uint8_t cdb[GAT947_INQUIRY_CDB_LEN]);
/* The one gate every CDB passes before it is sent: the INQUIRY above, or a
 * whitelisted vendor command with its exact length and direction and zeros
 * everywhere else. */
bool gat947_cdb_allowed(const uint8_t *cdb, size_t cdb_len, size_t data_len, bool data_in);
/* The command a CDB carries ("SET_MSDC"), for messages. */
const char *gat947_cmd_name(const uint8_t *cdb, size_t cdb_len);

/* The INQUIRY answer's vendor (8) and product (16), trailing spaces dropped,
 * other bytes than printable ASCII as '?'. false if shorter than 32 bytes. */
bool gat947_inquiry_parse(const uint8_t *buf, size_t n, char vendor[9], char product[17]);
/* The chip's loader (UBOOT) mode: never sent anything. */
bool gat947_is_loader(const char *product);

/* ZFY_INFO, the device's own record of who carries it (GBK on the wire). */
struct gat947_info {
        char serial[16];     /* printable ASCII */
        char badge[32];      /* 警号 */
        char name[128];      /* UTF-8 */
        char unit_no[64];    /* UTF-8 */
        char unit_name[128]; /* UTF-8 */
};
/* Packed ZFY_INFO of layout 89 (serial 7, badge 6, name 32, unit number 12,
 * unit name 32, no terminators) or 94 (8/7/33/13/33 with NULs). A field ends
 * at its first NUL; trailing spaces and 0xFF padding are dropped. The serial
 * and badge must be printable ASCII, the rest valid GBK. 0, or -EINVAL with
 * what is wrong in why. */
int gat947_info_parse(const uint8_t *buf, size_t n, unsigned layout, struct gat947_info *out, char *why,
                      size_t why_size);
/* The 7 bytes of SYNC_DEV_TIME: year (little-endian u16), month, day, hour,
 * minute, second of a broken-down local time. */
void gat947_time_encode(const struct tm *tm, uint8_t out[GAT947_TIME_LEN]);
/* A 4-byte little-endian word of an answer (battery, card status). */
uint32_t gat947_word(const uint8_t b[GAT947_WORD_LEN]);
