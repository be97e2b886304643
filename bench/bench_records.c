/*
 * bench_records: throughput of the record parser (src/data/record.c) on the
 * daemon's hot path. Generates N (default 1,000,000) NDJSON records in memory,
 * ~300 bytes each, shaped like DESIGN.md's example: 10 numeric features (f0..f8
 * with D significant digits, default 9 as in 0.123456789; D = 17 gives Python
 * repr()-like doubles), 2 categorical ones, prediction, two scores, latency:
 *   {"model":"fraud","version":"3","id":"r-123456","ts":1764382800.5,
 *    "features":{"f0":0.123456789,...,"f9":12.5,"country":"DE","device":"ios"},
 *    "prediction":1,"scores":{"0":0.1,"1":0.9},"latency_ms":8.2}
 * then iterates over the whole body with mw_record_iter_next 5 times and prints
 * records/s and MB/s of each run and their median (CPU time of this process, so
 * a busy machine disturbs it less). A checksum over the parsed values keeps the
 * work from being optimised away and checks every record parsed.
 *
 * Not built by default. Build and run (from the repository root, after building
 * the library, e.g. cmake -S . -B build-rec && cmake --build build-rec --target modelwatch):
 *   cc -O2 -Iinclude bench/bench_records.c build-rec/libmodelwatch.a -lz -lyaml -lm \
 *      -o /tmp/bench_records && /tmp/bench_records [N [D]]
 *
 * Measured here (gcc 12 -O2, one core of this 2-core VM, other jobs running;
 * 1M records of 327 bytes): median 1.8-1.9M records/s (~600 MB/s), best run
 * 2.0M/s; with D = 17, 1.36M records/s. The goal is >= 2,000,000 records/s
 * (Python json.loads plus field access: 230-430k records/s on such records).
 */
#include "modelwatch/record.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static unsigned long long rng = 88172645463325252ULL;
static unsigned long long xs(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static double unif(void) {
    return (double)(xs() >> 11) / 9007199254740992.0;
}

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 1000000;
    int digits = argc > 2 ? atoi(argv[2]) : 9; /* significant digits of f0..f8 */
    if (digits < 1 || digits > 17) digits = 9;
    size_t cap = n * 400 + 1024, len = 0;
    char *body = malloc(cap);
    if (!body) return 1;
    static const char *countries[] = {"DE", "FR", "US", "GB", "PL", "ES"};
    static const char *devices[] = {"ios", "android", "web"};
    for (size_t i = 0; i < n; i++) {
        len += (size_t)snprintf(body + len, cap - len,
                                "{\"model\":\"fraud\",\"version\":\"3\",\"id\":\"r-%06zu\","
                                "\"ts\":%.1f,\"features\":{",
                                i % 1000000, 1764382800.5 + (double)i * 0.1);
        for (int f = 0; f < 10; f++) {
            double v = f == 9 ? (double)(xs() % 1000) / 8.0 : unif() * (f + 1);
            len += (size_t)snprintf(body + len, cap - len, "\"f%d\":%.*g,", f,
                                    f == 9 ? 6 : digits, v);
        }
        len += (size_t)snprintf(body + len, cap - len,
                                "\"country\":\"%s\",\"device\":\"%s\"},\"prediction\":%d,"
                                "\"scores\":{\"0\":%.1f,\"1\":%.1f},\"latency_ms\":%.1f}\n",
                                countries[xs() % 6], devices[xs() % 3], (int)(xs() % 2),
                                0.1, 0.9, 1.0 + (double)(xs() % 200) / 10.0);
    }
    printf("%zu records, %.1f MB, %.1f bytes/record\n", n, (double)len / 1e6,
           (double)len / (double)n);
    mw_record_parser *p = mw_record_parser_new();
    double rates[5];
    for (int run = 0; run < 5; run++) {
        mw_record_iter it;
        mw_record rec;
        mw_error err;
        double sum = 0;
        size_t ok = 0, bad = 0;
        double t0 = cpu();
        mw_record_iter_init(&it, body, len);
        int r;
        while ((r = mw_record_iter_next(&it, p, &rec, &err)) != 0) {
            if (r < 0) {
                if (bad++ == 0) fprintf(stderr, "line %llu: %s\n", (unsigned long long)err.line, err.message);
                continue;
            }
            ok++;
            sum += rec.ts + rec.latency_ms + (double)rec.nfeatures + rec.features[0].number +
                   rec.scores[1].number + (double)rec.features[11].str_len;
        }
        double t = cpu() - t0;
        rates[run] = (double)ok / t;
        printf("run %d: %zu ok, %zu bad, %.3f s, %.0f records/s, %.0f MB/s (checksum %.6g)\n", run,
               ok, bad, t, (double)ok / t, (double)len / t / 1e6, sum);
        if (ok != n) return 1;
    }
    qsort(rates, 5, sizeof *rates, cmpd);
    printf("median: %.0f records/s, %.0f MB/s (best %.0f records/s)\n", rates[2],
           rates[2] * (double)len / (double)n / 1e6, rates[4]);
    mw_record_parser_free(p);
    free(body);
    return 0;
}
