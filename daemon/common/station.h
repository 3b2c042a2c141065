/* station.h — what the station remembers: the catalog must be the ledger of
 * the copies on its targets and of the manifests at its archive. */
#pragma once
#include <stddef.h>

#include "catalog.h"
#include "config.h"

/* Refuses (-ESTALE, err says what to do) a catalog that is empty, new or
 * another station's while the targets or the file:// archive show that this
 * station has had a ledger: a lost catalog must never start over silently. */
int station_check(const struct config *cfg, struct catalog *cat, char *err, size_t err_size);
