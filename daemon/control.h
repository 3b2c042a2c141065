/* control.h — the AF_UNIX control socket dockctl talks to. One request line
 * per connection ("status"), one JSON reply, then close. */
#pragma once
#include <systemd/sd-event.h>

#include "bay.h"
#include "config.h"

struct control;

int control_new(const struct config *cfg, sd_event *ev, struct bays *bays, struct control **out);
void control_free(struct control *c);

/* Client side, for dockctl: sends `request`, returns the reply (malloc'd). */
int control_call(const char *path, const char *request, char **reply);
