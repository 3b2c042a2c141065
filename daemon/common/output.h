/* output.h — listings for people and programs: aligned text, JSON, CSV
 * (RFC 4180, with cells that a spreadsheet would run as a formula defused). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum out_format { OUT_TEXT, OUT_JSON, OUT_CSV };

void json_str(FILE *f, const char *s); /* "..." with escapes; null for NULL */
/* The lines of s as a JSON array of strings ([] for NULL). */
void json_lines(FILE *f, const char *s);
/* prefix (e.g. ",\"model\":") then the value as json_str() writes it. */
void json_kv(FILE *f, const char *prefix, const char *s);
void csv_cell(FILE *f, const char *s); /* quoted when needed, formula-safe */

/* JSON listings are built with jansson: json_text is a string as json_str
 * writes it (NULL: null; bytes that are not UTF-8 as the text \xHH, so the
 * value always exists), json_emit writes a value compactly, keys in the
 * order they were set, and releases it. */
/* A progress line on a terminal of `width` columns: head, then as much of
 * name's end as fits; redrawn in place; done ends it. A log line printed
 * meanwhile clears it first (log_progress_shown). */
void progress_show(FILE *f, unsigned width, const char *head, const char *name, bool done);
/* s made safe for a terminal (text_escape), padded to `width` display
 * columns; cut on a character to fit when `cut`. */
void fput_cols(FILE *f, const char *s, size_t width, bool cut);

typedef struct json_t json_t;
json_t *json_text(const char *s);
json_t *json_text_lines(const char *s); /* the lines of s as an array of json_text ([] for NULL) */
int json_emit(FILE *f, json_t *j);

/* A listing with named columns, written as an aligned text table, a JSON
 * array of objects, or CSV with a header row:
 *
 *     static const struct column cols[] = { { "serial", 14 }, { "status", 10 } };
 *     struct table t = { .fmt = fmt, .cols = cols, .n_cols = 2, .f = stdout };
 *     table_begin(&t);
 *     table_row(&t, (struct cell[]){ CELL_S(serial), CELL_S(status) });
 *     table_end(&t);
 */
struct column {
        const char *name; /* JSON key and CSV header; upper-cased in text */
        int width;        /* text: at least this wide; 0 = last, unpadded */
};
enum cell_kind { CELL_NULL, CELL_TEXT, CELL_INT, CELL_REAL, CELL_BOOL };
struct cell {
        enum cell_kind kind;
        const char *s;
        int64_t i;
        double d;
};
#define CELL_S(x) ((struct cell){ .kind = (x) ? CELL_TEXT : CELL_NULL, .s = (x) })
#define CELL_I(x) ((struct cell){ .kind = CELL_INT, .i = (x) })
#define CELL_R(x) ((struct cell){ .kind = CELL_REAL, .d = (x) })
#define CELL_B(x) ((struct cell){ .kind = CELL_BOOL, .i = (x) })
#define CELL_NONE ((struct cell){ .kind = CELL_NULL })
struct table {
        enum out_format fmt;
        const struct column *cols;
        size_t n_cols;
        FILE *f;
        size_t rows;
        struct libscols_table *sc; /* text: the rows, aligned by display width at table_end */
};
void table_begin(struct table *t);
void table_row(struct table *t, const struct cell *cells);
void table_end(struct table *t);
