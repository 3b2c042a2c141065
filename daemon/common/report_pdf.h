/* report_pdf.h — a report for people as a printable A4 PDF (cairo + pango,
 * a CJK-capable monospace font): the same text the terminal shows, paged,
 * each page footed with what it is and its number. Rendered by the dockd-pdf
 * helper, a process of its own (daemon/pdf). */
#pragma once
#include <stddef.h>
#include <stdio.h>

/* Renders text (UTF-8 lines) to out as PDF; footer names the document on
 * every page. 0, or -EIO with the reason in err. */
int report_pdf(const char *text, const char *footer, FILE *out, char *err, size_t err_size);
/* The renderer itself, in dockd-pdf (daemon/pdf/render_pdf.c). */
int report_pdf_render(const char *text, const char *footer, FILE *out, char *err, size_t err_size);
