/* manifest.h — one canonical JSON document per dock session (what the
 * station took, where its copies are), chained per station by the SHA-256 of
 * the previous manifest and signed with the station's Ed25519 key. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "catalog.h"
#include "config.h"

/* STATE/station.key (PKCS#8 PEM, 0600) and STATE/station.pub; created on first use. */
int manifest_key_path(const struct config *cfg, char **key, char **pub);
int manifest_key_ensure(const struct config *cfg, char *err, size_t err_size);

/* Builds, signs and records the manifest of a finished session, inside the
 * caller's transaction. */
int manifest_write(const struct config *cfg, struct catalog *cat, int64_t session_id, char *err, size_t err_size);
