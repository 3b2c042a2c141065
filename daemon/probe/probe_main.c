/* dockd-probe — reads one recording's media facts with libavformat and
 * prints them as "key=value" lines (media_info_write). dockd runs it for
 * each verified copy, so the parser of untrusted footage lives in a short
 * process of its own, with bounded memory and CPU, never in the daemon. */
#include <stdio.h>
#include <sys/resource.h>

#include "media.h"

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: dockd-probe FILE\n");
                return 2;
        }
        /* A hostile file gets a gigabyte and half a minute, no more (the
         * sanitizer build's shadow memory needs terabytes of address space). */
        struct rlimit cpu = { 30, 30 };
        setrlimit(RLIMIT_CPU, &cpu);
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__) && !defined(DOCKD_SANITIZE)
        struct rlimit mem = { 1ul << 30, 1ul << 30 };
        setrlimit(RLIMIT_AS, &mem);
#endif
        struct media_info m;
        media_probe_here(argv[1], &m);
        media_info_write(stdout, &m);
        return fflush(stdout) == 0 ? 0 : 1;
}
