/* output.h — listings for people and programs: aligned text, JSON, CSV
 * (RFC 4180, with cells that a spreadsheet would run as a formula defused). */
#pragma once
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum out_format { OUT_TEXT, OUT_JSON, OUT_CSV };

void json_string(FILE *f, const char *s);       /* "..." with escapes; null for NULL */
void csv_cell(FILE *f, const char *s);          /* quoted when needed, formula-safe */
