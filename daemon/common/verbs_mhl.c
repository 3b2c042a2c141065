/* verbs_mhl.c — `mhl verify`: a target tree (or a copy of one, an archive
 * drive) re-hashed against its ASC MHL receipts (mhl.c). */
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "mhl.h"
#include "output.h"
#include "util.h"
#include "verbs.h"

struct problems {
        bool json;
        unsigned n;
};

static void on_problem(void *ud, const char *line)
{
        struct problems *p = ud;
        if (p->json) {
                fputs(p->n ? "," : "", stdout);
                json_str(stdout, line);
        } else {
                char esc[1400];
                printf("%s\n", text_escape(line, esc, sizeof(esc)));
        }
        p->n++;
}

int cmd_mhl(struct ctx *c, int argc, char **argv)
{
        const char *path = NULL;
        struct problems p = { 0 };
        for (int i = 2; i < argc; i++)
                if (strcmp(argv[i], "--json") == 0)
                        p.json = true;
                else if (!path && argv[i][0] != '-')
                        path = argv[i];
                else
                        path = NULL, i = argc;
        if (argc < 3 || strcmp(argv[1], "verify") != 0 || !path) {
                fprintf(stderr, "usage: dockctl mhl verify PATH [--json]\n");
                return EXIT_USAGE;
        }
        if (path[0] != '/') {
                fprintf(stderr, "dockctl mhl verify: give PATH as an absolute path (dockd reads it): %s\n", path);
                return EXIT_USAGE;
        }
        (void)c;
        struct mhl_report rep;
        char err[512];
        if (p.json)
                fputs("{\"problems\":[", stdout);
        int r = mhl_verify(path, on_problem, &p, &rep, err, sizeof(err));
        if (r < 0) {
                if (p.json)
                        fputs("]}\n", stdout);
                log_error("mhl verify: %s", err);
                return 1;
        }
        bool ok = !rep.bad_generations && !rep.files_missing && !rep.files_changed;
        if (p.json)
                printf("],\"generations\":%u,\"bad_generations\":%u,\"files_ok\":%u,\"files_missing\":%u,"
                       "\"files_changed\":%u,\"ok\":%s}\n",
                       rep.generations, rep.bad_generations, rep.files_ok, rep.files_missing, rep.files_changed,
                       ok ? "true" : "false");
        else
                printf("%s: %u generation(s)%s; %u file(s) match their receipts, %u missing, %u changed\n",
                       ok ? "OK" : "NOT OK", rep.generations, rep.bad_generations ? " (some altered or missing)" : "",
                       rep.files_ok, rep.files_missing, rep.files_changed);
        return ok ? 0 : EXIT_INCOMPLETE;
}
