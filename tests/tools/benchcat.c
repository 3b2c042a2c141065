/* benchcat — times the custodian's common questions against a catalog,
 * through the same catalog calls dockctl makes (scripts/bench-catalog):
 *
 *   officer_month   dockctl recordings --officer ID --from M --to M+1
 *   device_history  dockctl device SERIAL (device, assignments, docks, gaps)
 *   compliance_month dockctl compliance --from M --to M+1
 *
 *   benchcat --state DIR --officers N --devices N --months N [--runs N]
 * Prints one JSON object: rows and p50/p95 milliseconds per query.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "util.h"

static int count_rec(const struct recording_info *r, void *ud)
{
        (void)r;
        ++*(long *)ud;
        return 0;
}
static int count_dev(const struct device_info *d, void *ud)
{
        (void)d;
        ++*(long *)ud;
        return 0;
}
static int count_asg(const struct assignment_info *a, void *ud)
{
        (void)a;
        ++*(long *)ud;
        return 0;
}
static int count_ses(const struct session_info *s, void *ud)
{
        (void)s;
        ++*(long *)ud;
        return 0;
}
static int count_gap(int64_t s, const int64_t *g, size_t n, void *ud)
{
        (void)s, (void)g, (void)n;
        ++*(long *)ud;
        return 0;
}

static int cmp(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return x < y ? -1 : x > y;
}

static void month(int m, char from[32], char to[32])
{
        /* months from 2025-01 */
        snprintf(from, 32, "%04d-%02d-01T00:00:00.000Z", 2025 + m / 12, m % 12 + 1);
        snprintf(to, 32, "%04d-%02d-01T00:00:00.000Z", 2025 + (m + 1) / 12, (m + 1) % 12 + 1);
}

int main(int argc, char **argv)
{
        const char *state = NULL;
        int officers = 1000, devices = 500, months = 24, runs = 40;
        for (int i = 1; i + 1 < argc; i += 2) {
                if (strcmp(argv[i], "--state") == 0)
                        state = argv[i + 1];
                else if (strcmp(argv[i], "--officers") == 0)
                        officers = atoi(argv[i + 1]);
                else if (strcmp(argv[i], "--devices") == 0)
                        devices = atoi(argv[i + 1]);
                else if (strcmp(argv[i], "--months") == 0)
                        months = atoi(argv[i + 1]);
                else if (strcmp(argv[i], "--runs") == 0)
                        runs = atoi(argv[i + 1]);
        }
        struct catalog *cat = NULL;
        char err[512];
        if (!state || catalog_open_in(state, &cat, err, sizeof(err)) < 0) {
                fprintf(stderr, "benchcat: %s\n", state ? err : "--state DIR required");
                return 1;
        }
        srand(42);
        static const char *names[] = { "officer_month", "device_history", "compliance_month" };
        printf("{");
        for (int q = 0; q < 3; q++) {
                double *ms = calloc((size_t)runs, sizeof(double));
                long rows = 0;
                for (int i = 0; i < runs; i++) {
                        char from[32], to[32], who[32];
                        month(rand() % months, from, to);
                        long n = 0;
                        double t0 = time_mono();
                        int r = 0;
                        if (q == 0) {
                                snprintf(who, sizeof(who), "P%05d", rand() % officers + 1);
                                struct recording_filter f = { .officer = who, .from = from, .to = to };
                                r = catalog_recordings_query(cat, &f, count_rec, &n);
                        } else if (q == 1) {
                                snprintf(who, sizeof(who), "CAM-%04d", rand() % devices + 1);
                                if ((r = catalog_devices_foreach(cat, who, count_dev, &n)) >= 0 &&
                                    (r = catalog_assignments_foreach(cat, who, NULL, count_asg, &n)) >= 0 &&
                                    (r = catalog_device_seq_gaps(cat, who, count_gap, &n)) >= 0)
                                        r = catalog_sessions_foreach(cat, who, 0, count_ses, &n);
                        } else {
                                struct recording_filter f = {
                                        .from = from, .to = to, .flags = REC_LATE, .late_s = 24 * 3600
                                };
                                r = catalog_recordings_query(cat, &f, count_rec, &n);
                        }
                        ms[i] = (time_mono() - t0) * 1000;
                        if (r < 0) {
                                fprintf(stderr, "benchcat: %s: %s\n", names[q], catalog_errmsg(cat));
                                return 1;
                        }
                        rows += n;
                }
                qsort(ms, (size_t)runs, sizeof(double), cmp);
                printf("%s\"%s\":{\"rows_avg\":%ld,\"p50_ms\":%.2f,\"p95_ms\":%.2f}", q ? "," : "", names[q],
                       rows / runs, ms[runs / 2], ms[(runs * 95 + 99) / 100 - 1]);
                free(ms);
        }
        printf("}\n");
        catalog_close(cat);
        return 0;
}
