/* report_pdf.h — a report for people as a printable A4 PDF (cairo + pango,
 * a CJK-capable monospace font): the same text the terminal shows, paged,
 * each page footed with what it is and its number. */
#pragma once
#include <stddef.h>
#include <stdio.h>

/* Renders text (UTF-8 lines) to out as PDF; footer names the document on
 * every page. 0, or -EIO with the reason in err. */
int report_pdf(const char *text, const char *footer, FILE *out, char *err, size_t err_size);
