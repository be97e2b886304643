/*
 * In-process C API cost (issue #3 target: at most 1 us per 12-feature record):
 * a monitor in memory, a version whose reference has 10 numeric and 2
 * categorical columns (100,000 rows), and 2,000,000 mw_monitor_observe calls
 * with pre-generated records; prints the median ns per record of 5 runs.
 *
 * build: part of the CMake build (build/bench/bench_observe); run it directly.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modelwatch/monitor.h"

#define NREC 2000000
#define NREF 100000

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t state = 88172645463325252ULL;
static double unit(void) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (double)(state >> 11) * 0x1.0p-53;
}
static double normal(void) {
    return sqrt(-2 * log(unit() + 1e-300)) * cos(6.283185307179586 * unit());
}

static const char *const countries[] = {"DE", "FR", "US", "GB", "IT", "ES"};
static const char *const devices[] = {"ios", "android", "web"};
static const char *const names[12] = {"num0", "num1", "num2", "num3", "num4", "num5",
                                      "num6", "num7", "num8", "num9", "country", "device"};

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void) {
    /* reference as CSV in memory */
    size_t cap = (size_t)NREF * 200, len = 0;
    char *csv = malloc(cap);
    len += (size_t)sprintf(csv, "num0,num1,num2,num3,num4,num5,num6,num7,num8,num9,country,device\n");
    for (int i = 0; i < NREF; i++) {
        for (int j = 0; j < 10; j++) len += (size_t)sprintf(csv + len, "%.6f,", j + normal());
        len += (size_t)sprintf(csv + len, "%s,%s\n", countries[i % 6], devices[i % 3]);
    }
    mw_error err;
    mw_table *t;
    mw_read_options ro = {0};
    mw_monitor *m;
    mw_monitor_options mo = {.seed = 1};
    if (mw_table_read_mem("reference", csv, len, &ro, &t, &err) || mw_monitor_open(&mo, &m, &err) ||
        mw_monitor_register(m, "bench", "1", "{\"window_seconds\": 86400}", &err) ||
        mw_monitor_set_reference(m, "bench", "1", t, &err)) {
        fprintf(stderr, "setup failed: %s\n", err.message);
        return 1;
    }
    mw_table_free(t);
    free(csv);
    /* records: 12 features each, arrival time */
    mw_feature *f = malloc((size_t)NREC * 12 * sizeof *f);
    for (size_t i = 0; i < NREC; i++)
        for (int j = 0; j < 12; j++) {
            mw_feature *x = &f[i * 12 + j];
            x->name = names[j];
            x->name_len = strlen(names[j]);
            if (j < 10) {
                x->kind = MW_VALUE_NUMBER;
                x->number = j + normal();
            } else {
                x->kind = MW_VALUE_STRING;
                x->str = j == 10 ? countries[i % 6] : devices[i % 3];
                x->str_len = strlen(x->str);
            }
        }
    double t_ns[5];
    for (int run = 0; run < 5; run++) {
        double t0 = now();
        for (size_t i = 0; i < NREC; i++) {
            mw_record r = {.model = "bench", .model_len = 5, .version = "1", .version_len = 1,
                           .ts = NAN, .features = &f[i * 12], .nfeatures = 12, .latency_ms = NAN};
            if (mw_monitor_observe(m, &r, &err)) {
                fprintf(stderr, "observe failed: %s\n", err.message);
                return 1;
            }
        }
        t_ns[run] = (now() - t0) / NREC * 1e9;
    }
    qsort(t_ns, 5, sizeof *t_ns, cmp);
    printf("mw_monitor_observe, 12 features (10 numeric, 2 categorical), %d records x 5 runs:\n"
           "  median %.0f ns per record (min %.0f, max %.0f); target <= 1000 ns\n",
           NREC, t_ns[2], t_ns[0], t_ns[4]);
    mw_monitor_close(m);
    free(f);
    return 0;
}
