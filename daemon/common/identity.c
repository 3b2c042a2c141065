/* identity.c — see identity.h. */
#include "identity.h"

#include <stdio.h>
#include <string.h>

void identity_set_apart(char *serial, size_t serial_size, char *flag, size_t flag_size, const char *tell)
{
        size_t n = strlen(serial);
        snprintf(serial + n, serial_size - n, "~%.16s", tell);
        snprintf(flag, flag_size, "%s", IDENTITY_SERIAL_COLLISION);
}
