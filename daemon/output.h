/* output.h — listings for people and programs: aligned text, JSON, CSV
 * (RFC 4180, with cells that a spreadsheet would run as a formula defused). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum out_format { OUT_TEXT, OUT_JSON, OUT_CSV };

void json_string(FILE *f, const char *s);       /* "..." with escapes; null for NULL */
/* prefix (e.g. ",\"model\":") then the value as json_string() writes it. */
void json_kv(FILE *f, const char *prefix, const char *s);
void csv_cell(FILE *f, const char *s);          /* quoted when needed, formula-safe */
