/* hotplug.h — libudev monitor and coldplug enumeration: turns kernel block
 * device events under allow-listed USB recorders into dock and undock. */
#pragma once
#include "config.h"
#include "driver.h"

struct hotplug;

struct hotplug_handlers {
        void (*dock)(void *ud, const struct dock_info *d);
        void (*undock)(void *ud, const char *syspath);
        /* USB storage that is no recorder (or not one to read): never read, shown as such */
        void (*not_recorder)(void *ud, const char *syspath, const char *port, const char *what, const char *why);
        void *ud;
};

int hotplug_new(const struct config *cfg, const struct hotplug_handlers *h, struct hotplug **out);
void hotplug_free(struct hotplug *hp);
int hotplug_fd(struct hotplug *hp);
/* Every recorder already docked, in the order udev lists them. */
int hotplug_coldplug(struct hotplug *hp);
/* Handles the events waiting on hotplug_fd(). */
void hotplug_process(struct hotplug *hp);
