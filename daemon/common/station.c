/* station.c — see station.h. */
#include "station.h"

#include <errno.h>

#include "forward.h"
#include "target.h"

int station_check(const struct config *cfg, struct catalog *cat, char *err, size_t err_size)
{
        for (size_t i = 0; i < cfg->n_targets; i++) {
                int r = target_catalog_check(&cfg->targets[i], cat, err, err_size);
                if (r == -EROFS)
                        continue; /* a reader without write access: dockd itself checks at start */
                if (r < 0)
                        return r;
        }
        return forward_archive_check(cfg, cat, err, err_size);
}
