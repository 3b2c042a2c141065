/* dockd-pdf — renders a report for people (the text a verb prints) as a
 * printable A4 PDF: text on stdin, the PDF on stdout, FOOTER on every page.
 * A process of its own, as dockd-probe is for footage: the font and layout
 * libraries stay out of dockd and its workers. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "report_pdf.h"

#define TEXT_MAX (64 << 20) /* a report of every audit row of a recording is far less */

int main(int argc, char **argv)
{
        if (argc != 2) {
                fprintf(stderr, "usage: dockd-pdf FOOTER < TEXT > PDF\n");
                return 2;
        }
        struct rlimit cpu = { 60, 60 };
        setrlimit(RLIMIT_CPU, &cpu);
        char *text = malloc(TEXT_MAX + 1);
        if (!text)
                return 1;
        size_t n = fread(text, 1, TEXT_MAX + 1, stdin);
        if (n > TEXT_MAX || ferror(stdin)) {
                fprintf(stderr, "dockd-pdf: the report is larger than %d bytes, or could not be read\n", TEXT_MAX);
                free(text);
                return 1;
        }
        text[n] = '\0';
        char err[512];
        int r = report_pdf_render(text, argv[1], stdout, err, sizeof(err));
        free(text);
        if (r < 0 || fflush(stdout) != 0) {
                fprintf(stderr, "dockd-pdf: %s\n", r < 0 ? err : "cannot write the PDF");
                return 1;
        }
        return 0;
}
