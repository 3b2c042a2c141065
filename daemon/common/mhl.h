/* mhl.h — ASC MHL v2.0 receipts, a renderer of what the catalog holds: for
 * each dock session, one generation on each filesystem target that took
 * copies in it (TARGET/ascmhl/NNNN_STATION_DATE.mhl and the chain file
 * ascmhl_chain.xml), listing those copies with XXH128 (computed in the same
 * read as the SHA-256) and the SHA-256 in each entry's metadata (ASC MHL has
 * no SHA-256 element). And the check of a tree against its receipts. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"

#define MHL_DIR "ascmhl"
#define MHL_CHAIN "ascmhl_chain.xml"
#define MHL_NS_DOCKD "urn:dockd:mhl:1" /* the metadata's namespace: <d:sha256> */

/* Writes the generation of session_id on the filesystem target name at root
 * (nothing when the session placed no copy there). Returns the number of
 * entries written, or -errno with the reason in err. */
int mhl_write_generation(struct catalog *cat, int64_t session_id, const char *target_name, const char *root,
                         const char *station, char *err, size_t err_size);

/* C4 ID (SHA-512 in base58, "c4" + 88 characters) of a buffer. */
void mhl_c4(const void *data, size_t len, char out[91]);

struct mhl_report {
        unsigned generations;     /* listed in the chain */
        unsigned bad_generations; /* missing, or not the C4 the chain records, or not valid */
        unsigned files_ok;        /* every listed file whose size, XXH128 and SHA-256 match */
        unsigned files_missing, files_changed;
};
/* The chain file's generations: (sequence number, file, C4), in order. */
struct mhl_chain_entry {
        unsigned seq;
        char path[256], c4[91];
        bool whole; /* false: the path or C4 did not fit (and is cut short) */
};
/* Parses a chain file's bytes: 0 with *out (free it) and *n, or -EBADMSG
 * when it is not an ASC MHL chain file. */
int mhl_parse_chain(const char *data, size_t len, struct mhl_chain_entry **out, size_t *n);
/* Checks every entry of one generation's bytes (its C4 already checked)
 * against the tree open at rootfd: each entry is counted once in rep as ok,
 * missing or changed (an entry naming nothing within the tree is changed),
 * or the generation as bad when it is not a hash list. */
void mhl_check_generation(int rootfd, const char *name, unsigned seq, const char *data, size_t len,
                          void (*on_problem)(void *ud, const char *line), void *ud, struct mhl_report *rep);
/* Re-hashes the tree at root against every generation of its receipts.
 * Each problem is told to on_problem (a line naming the file or generation).
 * 0 when the receipts could be read (the report says what matched), or
 * -errno with err. */
int mhl_verify(const char *root, void (*on_problem)(void *ud, const char *line), void *ud, struct mhl_report *rep,
               char *err, size_t err_size);
