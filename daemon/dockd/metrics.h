/* metrics.h — dockd's HTTP endpoint (libmicrohttpd, 127.0.0.1 by default):
 * /metrics in Prometheus text, /status.json, and / — the per-bay status page
 * for the screen at the dock, updating itself once a second. */
#pragma once
#include "bay.h"
#include "config.h"

struct metrics;

/* Starts serving on cfg->metrics_listen (NULL/"off": not at all, *out NULL). */
int metrics_start(const struct config *cfg, struct bays *bays, struct metrics **out, char *err, size_t err_size);
void metrics_stop(struct metrics *m);
