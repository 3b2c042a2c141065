/* dockd-probe — reads one recording's media facts with libavformat and
 * prints them as "key=value" lines (media_info_write). dockd runs it for
 * each verified copy (a file, or with --stream an object version whose
 * ranges it asks dockd for over fd 3), so the parser of untrusted footage lives in a short
 * process of its own, with bounded memory and CPU, never in the daemon. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "media.h"

int main(int argc, char **argv)
{
        bool stream = argc == 3 && strcmp(argv[1], "--stream") == 0;
        if (argc != 2 && !stream) {
                fprintf(stderr, "usage: dockd-probe FILE | --stream SIZE (the recording's ranges asked of fd 3)\n");
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
        if (stream)
                media_probe_here_stream(3, strtoll(argv[2], NULL, 10), &m);
        else
                media_probe_here(argv[1], &m);
        media_info_write(stdout, &m);
        return fflush(stdout) == 0 ? 0 : 1;
}
