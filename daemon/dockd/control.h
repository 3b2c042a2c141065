/* control.h — the AF_UNIX control socket dockctl talks to (protocol:
 * ctlproto.h, docs/control-protocol.md). dockd answers status itself and runs
 * every other verb in a worker process of its own (request.h). */
#pragma once
#include <systemd/sd-event.h>

#include "bay.h"
#include "config.h"

struct control;

/* self: dockd's binary, for the workers; config_fd: the config file dockd
 * read at start (-1: embedded defaults), so the workers read the same. */
int control_new(const struct config *cfg, const char *self, int config_fd, sd_event *ev, struct bays *bays,
                struct control **out);
void control_free(struct control *c);
