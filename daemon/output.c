/* output.c — JSON string escaping and CSV cells. */
#include "output.h"

#include <string.h>

void json_string(FILE *f, const char *s)
{
        if (!s) {
                fputs("null", f);
                return;
        }
        fputc('"', f);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
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

void json_kv(FILE *f, const char *prefix, const char *s)
{
        fputs(prefix, f);
        json_string(f, s);
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
