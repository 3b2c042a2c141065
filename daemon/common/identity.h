/* identity.h — who a docked recorder is, as its driver found it: what the
 * dock hands to the ingest and the catalog keeps. */
#pragma once

struct recorder_identity {
        char serial[160];       /* what the catalog will know it by */
        char vendor[128], model[128];
        char vendor_id[8], product_id[8];
        char bay[256];
        /* 'serial-missing', 'serial-mismatch' (udev and the device disagree)
         * or "" — flagged identities are kept apart, never merged. */
        char flag[32];
};
