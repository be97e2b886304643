/*
 * bench_read: reads a CSV/NDJSON file with mw_table_read and prints the time,
 * rows/s, MB/s and peak RSS; `--gen N FILE` writes the benchmark CSV (N rows x 12
 * columns: 10 numeric as repr()-like 17-digit doubles, 2 short categorical).
 *
 * Not built by default. Build (from the repository root, after building the
 * library in build-d):
 *   cc -O2 -Iinclude bench/bench_read.c build-d/libmodelwatch.a -lz -lyaml -lm -o bench_read
 *   ./bench_read --gen 1000000 /tmp/bench.csv && ./bench_read /tmp/bench.csv
 */
#include "modelwatch/data.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* user + system CPU seconds of this process: robust on a shared machine */
static double cpu(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static unsigned long long rng = 88172645463325252ULL;
static unsigned long long xs(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int gen(long n, const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) return 1;
    fprintf(f, "f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,country,segment\n");
    const char *cc[] = {"DE", "FR", "US", "GB", "JP", "BR", "IN"};
    const char *sg[] = {"retail", "corp", "smb", "gov"};
    for (long i = 0; i < n; i++) {
        for (int j = 0; j < 10; j++) {
            double u = (double)(xs() >> 11) / 9007199254740992.0;
            double v = j % 3 == 0 ? u : (j % 3 == 1 ? (u - 0.5) * 2000.0 : u * 1e5);
            char buf[32];
            mw_format_double(v, buf);
            fputs(buf, f);
            fputc(',', f);
        }
        fprintf(f, "%s,%s\n", cc[xs() % 7], sg[xs() % 4]);
    }
    return fclose(f) != 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "--gen")) return gen(atol(argv[2]), argv[3]);
    if (argc != 2) {
        fprintf(stderr, "usage: bench_read FILE | bench_read --gen N FILE\n");
        return 2;
    }
    struct stat st;
    if (stat(argv[1], &st) != 0) {
        perror(argv[1]);
        return 1;
    }
    mw_table *t;
    mw_error err;
    double t0 = now(), c0 = cpu();
    mw_status s = mw_table_read(argv[1], NULL, &t, &err);
    double dt = now() - t0, dc = cpu() - c0;
    if (s != MW_OK) {
        fprintf(stderr, "%s\n", err.message);
        return 1;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%zu rows x %zu cols in %.3f s wall, %.3f s CPU: %.0f rows/s, %.0f MB/s (CPU time), "
           "peak RSS %.1f MiB\n",
           t->nrows, t->ncols, dt, dc, t->nrows / dc, st.st_size / dc / 1e6, ru.ru_maxrss / 1024.0);
    double sum = 0;
    for (size_t j = 0; j < t->ncols; j++)
        if (t->cols[j].type == MW_TYPE_NUMERIC)
            for (size_t i = 0; i < t->nrows; i++) sum += t->cols[j].num[i];
    printf("checksum %.17g\n", sum);
    mw_table_free(t);
    return 0;
}
