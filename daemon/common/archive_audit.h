/* archive_audit.h — an auditor's look at an S3 archive that many stations
 * share: every station's manifests, each signature checked against that
 * station's public key (PREFIX/stations/STATION.pub), each chain link and
 * sequence number. Reads only; read-only credentials suffice. */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"

struct station_audit {
        char station[40];
        char key_sha256[65]; /* of the public key the archive holds; "" when none */
        int64_t manifests, first_seq, last_seq;
        char first_at[40], last_at[40]; /* the sessions' docked_at */
        int64_t gaps, broken_links, bad_signatures, unreadable;
        int64_t objects, missing_objects; /* object copies the manifests name, and those not in their bucket */
        char detail[600];                 /* the first few problems, for a person */
};

struct archive_audit {
        struct station_audit *st;
        size_t n;
};

/* Audits url (s3://BUCKET/PREFIX; NULL: the configured archive) with the
 * [archive] endpoint and credentials. Returns 0 (the report may still name
 * problems), or -errno and why in err. */
int archive_audit_run(const struct config *cfg, const char *url, struct archive_audit *out, char *err, size_t err_size);
void archive_audit_free(struct archive_audit *a);
bool archive_audit_clean(const struct archive_audit *a);
