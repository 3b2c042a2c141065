/* station.h — what the station remembers: the catalog must be the ledger of
 * the copies on its targets and of the manifests at its archive. */
#pragma once
#include <stddef.h>

#include "catalog.h"
#include "config.h"
#include "target.h"

/* Opens a configured target against the ledger: its directory (created for
 * the embedded defaults), registered in the catalog, its identity marker
 * checked or written. A configured target whose marker is missing while the
 * catalog records copies on it is refused (its filesystem is probably not
 * mounted), and so is one whose marker names another target. */
int station_target_open(struct target *t, const struct target_conf *tc, struct catalog *cat, char *err,
                        size_t err_size);
/* station_target_open's second half, for a target already opened (an S3
 * target's bucket checked by target_s3_open in another thread): the catalog
 * and marker checks. Closes t on failure. */
int station_target_join(struct target *t, const struct target_conf *tc, struct catalog *cat, char *err,
                        size_t err_size);
/* The station never forgets silently: a target whose marker names another
 * catalog, or that holds copies this catalog does not know, is refused with
 * what to do (-ESTALE). A marker from before catalogs had identities joins
 * this catalog. Called by station_target_open and at every start. */
int station_target_check(const struct target_conf *tc, struct catalog *cat, char *err, size_t err_size);
/* `dockctl catalog accept-new`: the target's marker names this catalog from
 * now on; *old_id gets the catalog it named before ("none"). */
int station_target_adopt(const struct target_conf *tc, struct catalog *cat, char *old_id, size_t old_size, char *err,
                         size_t err_size);

/* Refuses (-ESTALE, err says what to do) a catalog that is empty, new or
 * another station's while the targets or the file:// archive show that this
 * station has had a ledger: a lost catalog must never start over silently. */
int station_check(const struct config *cfg, struct catalog *cat, char *err, size_t err_size);

/* The S3 legal hold of every object copy follows the holds in force: set on
 * the versions of held recordings, released when no hold covers them (a
 * permanent hold is a legal hold, never a far-future retain-until). One that
 * cannot be changed now is logged, counted in *failed, and retried at the
 * next call (after each hold change and each ingest). */
int station_sync_legal_holds(const struct config *cfg, struct catalog *cat, size_t *failed);

/* With [policy] require_encryption = yes, a target whose copies are not
 * encrypted at rest (target_encryption) is refused: -EPERM, err says why and
 * what to do. Checked whenever a target is opened to take copies. */
int station_encryption_required(const struct target_conf *tc, char *err, size_t err_size);

/* An object copy's lock follows its recording's retention class: when a
 * class asks for longer than the lock the version has, the lock is
 * lengthened (never shortened). Called after each class change; one that
 * fails is logged, counted in *failed and retried at the next call. */
int station_sync_retention(const struct config *cfg, struct catalog *cat, size_t *failed);
