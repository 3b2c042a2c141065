/* libFuzzer: the officers CSV reader (dockctl officers import) on any bytes.
 * Every record must be bounded and freed; the reader must always end. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        FILE *f = fmemopen((void *)data, size, "r");
        if (!f)
                return 0;
        struct csv_record rec;
        char err[256];
        int line = 0, r;
        size_t records = 0;
        while ((r = csv_read(f, &line, &rec, err, sizeof(err))) != 0) {
                if (r > 0) {
                        if (rec.n == 0 || rec.n > CSV_MAX_FIELDS)
                                abort();
                        for (size_t i = 0; i < rec.n; i++)
                                if (strlen(rec.field[i]) > CSV_MAX_FIELD)
                                        abort();
                        csv_record_free(&rec);
                }
                if (++records > size + 1)
                        abort(); /* no progress: a loop */
        }
        fclose(f);
        return 0;
}
