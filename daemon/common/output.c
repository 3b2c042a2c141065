/* output.c — JSON string escaping and CSV cells. */
#include "output.h"

#include <errno.h>
#include <wchar.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libsmartcols.h>

#include "log.h"
#include "util.h"

void json_str(FILE *f, const char *s)
{
        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                uint32_t cp;
                size_t n = *p >= 0x80 ? utf8_seq(p, &cp) : 1;
                if (n == 0) {
                        /* Not UTF-8: the byte as the text \xHH, as dockd shows such
                         * bytes everywhere, so the document stays valid JSON. */
                        fprintf(f, "\\\\x%02X", *p);
                        continue;
                }
                if (n > 1) {
                        if (cp == 0x2028 || cp == 0x2029)
                                fprintf(f, "\\u%04x", cp); /* line separators a JavaScript reader would break on */
                        else
                                fwrite(p, 1, n, f);
                        p += n - 1;
                        continue;
                }
                switch (*p) {
                case '"': fputs("\\\"", f); break;
                case '\\': fputs("\\\\", f); break;
                case '\n': fputs("\\n", f); break;
                case '\r': fputs("\\r", f); break;
                case '\t': fputs("\\t", f); break;
                default:
                        if (*p < 0x20 || *p == 0x7f)
                                fprintf(f, "\\u%04x", *p);
                        else
                                fputc(*p, f);
                }
        }
        fputc('"', f);
}

/* s as valid UTF-8: each byte that is not becomes the text \xHH (json_str's rule). */
static char *utf8_text(const char *s)
{
        size_t n = strlen(s);
        char *out = xmalloc(4 * n + 1), *o = out;
        for (const unsigned char *p = (const unsigned char *)s; *p;) {
                uint32_t cp;
                size_t k = *p >= 0x80 ? utf8_seq(p, &cp) : 1;
                if (k == 0) {
                        o += sprintf(o, "\\x%02X", *p);
                        p++;
                        continue;
                }
                memcpy(o, p, k);
                o += k;
                p += k;
        }
        *o = '\0';
        return out;
}

json_t *json_text(const char *s)
{
        if (!s)
                return json_null();
        _cleanup_free_ char *t = utf8_text(s);
        json_t *j = json_string(t);
        return j ? j : json_null();
}

json_t *json_text_lines(const char *s)
{
        json_t *a = json_array();
        for (const char *p = s; p && *p;) {
                size_t n = strcspn(p, "\n");
                _cleanup_free_ char *line = strndup(p, n);
                json_array_append_new(a, json_text(line ? line : ""));
                p += n + (p[n] == '\n');
        }
        return a;
}

int json_emit(FILE *f, json_t *j)
{
        int r = json_dumpf(j, f, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
        json_decref(j);
        return r < 0 ? -EIO : 0;
}

void json_lines(FILE *f, const char *s)
{
        fputc('[', f);
        for (const char *p = s; p && *p;) {
                size_t n = strcspn(p, "\n");
                char *line = strndup(p, n);
                if (p != s)
                        fputc(',', f);
                json_str(f, line ? line : "");
                free(line);
                p += n + (p[n] == '\n');
        }
        fputc(']', f);
}

void json_kv(FILE *f, const char *prefix, const char *s)
{
        fputs(prefix, f);
        json_str(f, s);
}

void csv_cell(FILE *f, const char *s)
{
        if (!s)
                s = "";
        /* A leading = + - @ (or tab/CR) makes spreadsheet apps evaluate the cell:
         * an evidence ledger must never execute a file name. Prefix a quote. */
        bool formula = strchr("=+-@\t\r", s[0]) != NULL && s[0] != '\0';
        bool quote = formula || strpbrk(s, ",\"\r\n") != NULL || s[0] == ' ';
        if (!quote) {
                fputs(s, f);
                return;
        }
        fputc('"', f);
        if (formula)
                fputc('\'', f);
        for (const char *p = s; *p; p++) {
                if (*p == '"')
                        fputc('"', f);
                fputc(*p, f);
        }
        fputc('"', f);
}

void table_begin(struct table *t)
{
        t->rows = 0;
        if (t->fmt == OUT_JSON) {
                fputc('[', t->f);
                return;
        }
        if (t->fmt == OUT_CSV) {
                for (size_t i = 0; i < t->n_cols; i++)
                        fprintf(t->f, "%s%s", i ? "," : "", t->cols[i].name);
                fputs("\r\n", t->f);
                return;
        }
        /* Text: libsmartcols aligns by display width (Chinese names, accents). */
        t->sc = scols_new_table();
        if (!t->sc)
                return;
        scols_table_set_column_separator(t->sc, "  ");
        for (size_t i = 0; i < t->n_cols; i++) {
                char head[64];
                size_t k = 0;
                for (const char *p = t->cols[i].name; *p && k + 1 < sizeof(head); p++)
                        head[k++] = *p == '_' ? ' ' : (*p >= 'a' && *p <= 'z') ? (char)(*p - 32) : *p;
                head[k] = '\0';
                /* the configured width is a minimum: no cell is ever cut */
                scols_table_new_column(t->sc, head, t->cols[i].width > 0 ? t->cols[i].width : 1, 0);
        }
}

static void cell_text(FILE *f, const struct cell *c, char *buf, size_t size)
{
        (void)f;
        switch (c->kind) {
        case CELL_NULL: snprintf(buf, size, "-"); break;
        case CELL_TEXT: snprintf(buf, size, "%s", c->s); break;
        case CELL_INT: snprintf(buf, size, "%lld", (long long)c->i); break;
        case CELL_REAL: snprintf(buf, size, "%.3f", c->d); break;
        case CELL_BOOL: snprintf(buf, size, "%s", c->i ? "yes" : "no"); break;
        }
}

void table_row(struct table *t, const struct cell *cells)
{
        FILE *f = t->f;
        json_t *row = NULL;
        struct libscols_line *line = NULL;
        for (size_t i = 0; i < t->n_cols; i++) {
                const struct cell *c = &cells[i];
                if (t->fmt == OUT_JSON) {
                        json_t *v = c->kind == CELL_TEXT  ? json_text(c->s)
                                    : c->kind == CELL_INT ? json_integer(c->i)
                                    : c->kind == CELL_REAL
                                            ? json_real((double)(int64_t)(c->d * 1000 + (c->d < 0 ? -0.5 : 0.5)) / 1000)
                                    : c->kind == CELL_BOOL ? json_boolean(c->i)
                                                           : json_null();
                        json_object_set_new(row ? row : (row = json_object()), t->cols[i].name, v);
                        continue;
                }
                char buf[64];
                if (t->fmt == OUT_CSV) {
                        if (i)
                                fputc(',', f);
                        if (c->kind == CELL_TEXT)
                                csv_cell(f, c->s);
                        else if (c->kind != CELL_NULL) {
                                cell_text(f, c, buf, sizeof(buf));
                                fputs(c->kind == CELL_BOOL ? (c->i ? "true" : "false") : buf, f);
                        }
                        continue;
                }
                const char *s = buf;
                char esc[2048];
                if (c->kind == CELL_TEXT)
                        s = text_escape(c->s, esc, sizeof(esc));
                else
                        cell_text(f, c, buf, sizeof(buf));
                if (!line && t->sc)
                        line = scols_table_new_line(t->sc, NULL);
                if (line)
                        scols_line_set_data(line, i, s);
        }
        if (t->fmt == OUT_JSON) {
                /* a row at a time, so a listing of millions never sits in memory */
                fputs(t->rows ? ",\n  " : "\n  ", f);
                json_emit(f, row ? row : json_object());
        } else if (t->fmt == OUT_CSV)
                fputs("\r\n", f);
        t->rows++;
}

void table_end(struct table *t)
{
        if (t->fmt == OUT_JSON)
                fputs(t->rows ? "\n]\n" : "]\n", t->f);
        else if (t->sc) {
                scols_table_set_stream(t->sc, t->f);
                scols_print_table(t->sc);
                scols_unref_table(t->sc);
                t->sc = NULL;
        }
}

/* Display columns of the UTF-8 string s (LC_CTYPE must be a UTF-8 locale). */
static size_t columns(const char *s)
{
        size_t w = 0;
        mbstate_t st = { 0 };
        for (const char *p = s; *p;) {
                wchar_t wc;
                size_t k = mbrtowc(&wc, p, MB_CUR_MAX, &st);
                if (k == 0 || k > 4) {
                        memset(&st, 0, sizeof(st));
                        k = 1;
                        wc = L'?';
                }
                int cw = wcwidth(wc);
                w += cw > 0 ? (size_t)cw : 0;
                p += k;
        }
        return w;
}

void fput_cols(FILE *f, const char *s, size_t width, bool cut)
{
        char esc[1024];
        text_escape(s ? s : "", esc, sizeof(esc));
        size_t n = strlen(esc);
        if (cut)
                while (n > 0 && columns(esc) > width) {
                        do
                                n--;
                        while (n > 0 && (esc[n] & 0xC0) == 0x80);
                        esc[n] = '\0';
                }
        fputs(esc, f);
        for (size_t w = columns(esc); w < width; w++)
                fputc(' ', f);
}

void progress_show(FILE *f, unsigned width, const char *head, const char *name, bool done)
{
        if (width < 20)
                width = 80;
        char esc[1024] = "";
        if (name)
                text_escape(name, esc, sizeof(esc));
        /* head first; the name gets what is left, its end kept (the file's own
         * name is at the end of its path) and its start marked cut with "…" */
        size_t room = width - 1 > columns(head) + 2 ? width - 1 - columns(head) - 2 : 0;
        const char *tail = esc;
        bool cut = columns(esc) > room;
        while (cut && *tail && columns(tail) > (room ? room - 1 : 0)) { /* room for the "…" */
                tail++;
                while ((*tail & 0xC0) == 0x80)
                        tail++;
        }
        fprintf(f, "\r\033[K%s%s%s%s", head, *esc && room ? "  " : "", cut && room ? "…" : "", room ? tail : "");
        if (done)
                fputc('\n', f);
        log_progress_shown(!done);
        fflush(f);
}
