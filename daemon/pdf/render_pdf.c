/* render_pdf.c — the renderer behind report_pdf (report_pdf.h), in the
 * dockd-pdf helper only: cairo, pango and fontconfig never load into dockd,
 * dockctl or a verb's worker. */
#include "report_pdf.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <errno.h>
#include <pango/pangocairo.h>
#include <stdio.h>
#include <string.h>

#define PAGE_W 595.28 /* A4 in points */
#define PAGE_H 841.89
#define MARGIN 50.0
#define FONT "WenQuanYi Micro Hei Mono, Noto Sans Mono CJK SC, monospace 8"

static cairo_status_t write_out(void *closure, const unsigned char *data, unsigned int length)
{
        return fwrite(data, 1, length, closure) == length ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

static void footer_at(cairo_t *cr, PangoLayout *lay, const char *footer, int page)
{
        char line[512];
        snprintf(line, sizeof(line), "%s · page %d", footer, page);
        pango_layout_set_text(lay, line, -1);
        cairo_move_to(cr, MARGIN, PAGE_H - MARGIN + 12);
        pango_cairo_show_layout(cr, lay);
}

int report_pdf_render(const char *text, const char *footer, FILE *out, char *err, size_t err_size)
{
        cairo_surface_t *s = cairo_pdf_surface_create_for_stream(write_out, out, PAGE_W, PAGE_H);
        cairo_t *cr = cairo_create(s);
        PangoLayout *lay = pango_cairo_create_layout(cr);
        PangoFontDescription *fd = pango_font_description_from_string(FONT);
        pango_layout_set_font_description(lay, fd);
        pango_layout_set_width(lay, (int)((PAGE_W - 2 * MARGIN) * PANGO_SCALE));
        pango_layout_set_wrap(lay, PANGO_WRAP_WORD_CHAR);
        double y = MARGIN;
        int page = 1;
        for (const char *p = text; *p;) {
                size_t n = strcspn(p, "\n");
                pango_layout_set_text(lay, n ? p : " ", n ? (int)n : 1);
                int w, h;
                pango_layout_get_pixel_size(lay, &w, &h);
                if (y + h > PAGE_H - MARGIN) {
                        footer_at(cr, lay, footer, page++);
                        cairo_show_page(cr);
                        y = MARGIN;
                        pango_layout_set_text(lay, n ? p : " ", n ? (int)n : 1);
                }
                cairo_move_to(cr, MARGIN, y);
                pango_cairo_show_layout(cr, lay);
                y += h;
                p += n;
                if (*p == '\n')
                        p++;
        }
        footer_at(cr, lay, footer, page);
        cairo_show_page(cr);
        pango_font_description_free(fd);
        g_object_unref(lay);
        cairo_destroy(cr);
        cairo_surface_finish(s);
        cairo_status_t st = cairo_surface_status(s);
        cairo_surface_destroy(s);
        if (st != CAIRO_STATUS_SUCCESS) {
                snprintf(err, err_size, "cannot write the PDF: %s", cairo_status_to_string(st));
                return -EIO;
        }
        return fflush(out) == 0 ? 0 : -EIO;
}
