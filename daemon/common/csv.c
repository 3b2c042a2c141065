/* csv.c — see csv.h. */
#include "csv.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void csv_record_free(struct csv_record *rec)
{
        for (size_t i = 0; i < rec->n; i++)
                free(rec->field[i]);
        rec->n = 0;
}

int csv_read(FILE *f, int *line, struct csv_record *rec, char *err, size_t err_size)
{
        rec->n = 0;
        rec->line = *line + 1;
        char buf[CSV_MAX_FIELD + 1];
        size_t len = 0;
        bool quoted = false, was_quoted = false, any = false;
        int ch;
        for (;;) {
                ch = fgetc(f);
                if (ch == EOF && quoted) {
                        snprintf(err, err_size, "line %d: a quoted field is not closed", rec->line);
                        goto bad;
                }
                if (quoted) {
                        if (ch == '"') {
                                int next = fgetc(f);
                                if (next == '"')
                                        goto add;
                                quoted = false;
                                if (next != EOF)
                                        ungetc(next, f);
                                continue;
                        }
                        if (ch == '\n')
                                (*line)++;
                        goto add;
                }
                if (ch == EOF && !any)
                        return 0;
                any = true;
                if (ch == '"' && len == 0 && !was_quoted) {
                        quoted = was_quoted = true;
                        continue;
                }
                if (ch == ',' || ch == '\n' || ch == EOF || ch == '\r') {
                        if (ch == '\r') {
                                int next = fgetc(f);
                                if (next != '\n') {
                                        if (next != EOF)
                                                ungetc(next, f);
                                }
                                ch = '\n';
                        }
                        if (rec->n == CSV_MAX_FIELDS) {
                                snprintf(err, err_size, "line %d: more than %d fields", rec->line, CSV_MAX_FIELDS);
                                goto bad;
                        }
                        buf[len] = '\0';
                        rec->field[rec->n++] = strdup(buf);
                        len = 0;
                        was_quoted = false;
                        if (ch == ',')
                                continue;
                        (*line)++;
                        return 1;
                }
                if (was_quoted) {
                        snprintf(err, err_size, "line %d: text after a closing quote", rec->line);
                        goto bad;
                }
        add:
                if (ch == '\0') {
                        snprintf(err, err_size, "line %d: a NUL byte", rec->line);
                        goto bad;
                }
                if (len == CSV_MAX_FIELD) {
                        snprintf(err, err_size, "line %d: a field longer than %d bytes", rec->line, CSV_MAX_FIELD);
                        goto bad;
                }
                buf[len++] = (char)ch;
        }
bad:
        csv_record_free(rec);
        /* skip to the end of the line so the caller can go on with the next */
        while (ch != EOF && ch != '\n')
                ch = fgetc(f);
        (*line)++;
        return -EINVAL;
}
