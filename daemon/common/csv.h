/* csv.h — reads RFC 4180 CSV (quoted fields, "" escapes, CRLF or LF, line
 * breaks inside quotes) from outside files: officer lists. Bounded: a field
 * over CSV_MAX_FIELD bytes or a record over CSV_MAX_FIELDS fields is an error. */
#pragma once
#include <stddef.h>
#include <stdio.h>

#define CSV_MAX_FIELDS 32
#define CSV_MAX_FIELD 1024

struct csv_record {
        char *field[CSV_MAX_FIELDS];
        size_t n;
        int line; /* where the record starts, 1-based */
};

/* Reads the next record. Returns 1, 0 at end of input, or -EINVAL with a
 * message naming the line (an unterminated quote, a field too long...). */
int csv_read(FILE *f, int *line, struct csv_record *rec, char *err, size_t err_size);
void csv_record_free(struct csv_record *rec);
