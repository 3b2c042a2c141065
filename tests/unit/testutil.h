/* testutil.h — scratch directories and small file helpers for the unit tests. */
#pragma once
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static inline char *scratch_dir(void)
{
        char tmpl[] = "/tmp/dockd-unit-XXXXXX";
        char *d = mkdtemp(tmpl);
        if (!d)
                abort();
        return strdup(d);
}

static inline void write_file(const char *path, const char *body)
{
        FILE *f = fopen(path, "w");
        if (!f)
                abort();
        fputs(body, f);
        fclose(f);
}

static inline void rm_rf(const char *dir)
{
        char cmd[4200];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                abort();
}
