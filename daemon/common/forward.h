/* forward.h — the archive forwarder: PUTs each manifest in the outbox to
 * {url}/manifests/{station}/{seq}.json (and its detached signature to
 * ….json.sig) with libcurl, earliest deadline first; 2xx = delivered,
 * 5xx/timeouts/network errors retry with exponential backoff and jitter,
 * other 4xx stop that manifest (409: an integrity alarm). */
#pragma once
#include <stddef.h>

#include "catalog.h"
#include "config.h"

/* Delivers every manifest due now. Returns the number delivered, or -errno. */
int forward_due(const struct config *cfg, struct catalog *cat, char *err, size_t err_size);

/* Refuses (-ESTALE, err says what to do) a catalog that has sent no manifest
 * while the station's file:// archive holds some: an empty catalog must not
 * start the station's chain over. */
int forward_archive_check(const struct config *cfg, struct catalog *cat, char *err, size_t err_size);
