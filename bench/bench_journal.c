/*
 * The daemon's ingestion path without HTTP: mw_monitor_ingest (parse,
 * observe, journal row in SQLite) of NDJSON batches into a monitor with a
 * database, the way POST /api/v1/records runs it. Deterministic (fixed clock
 * and data), so that instruction counts (valgrind --tool=callgrind) compare
 * one build with another:
 *
 *   bench_journal [BATCHES] [plain|text]
 *
 *   plain  version bench/1, reference of 10 numeric + 2 categorical columns
 *          (5,000 rows); records as bench/gen_ingest_data.py writes them
 *          (id, 12 features, prediction, latency_ms)
 *   text   the same plus a feature "review" declared text in the version's
 *          columns, a free text of about 120 bytes in every record (the
 *          reference has its descriptor columns)
 *
 * BATCHES (default 50) bodies of 1,000 records are ingested; prints the
 * records accepted and records/s of CPU time.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "modelwatch/data.h"
#include "modelwatch/monitor.h"

#define NREF 5000
#define NREC 1000

static mw_rng rng; /* the library's generator, seeded in main */
static double unit(void) {
    return mw_rng_unit(&rng);
}
static double normal(void) { /* Box-Muller */
    return sqrt(-2 * log(unit() + 1e-300)) * cos(6.283185307179586 * unit());
}

static const char *const countries[] = {"DE", "FR", "US", "GB", "IT", "ES"};
static const char *const devices[] = {"ios", "android", "web"};
static const char *const words[] = {"great", "product", "arrived", "late",  "but", "works",
                                    "fine",  "would",   "buy",     "again", "not", "happy"};

static int64_t fixed_clock(void *ctx) {
    (void)ctx;
    return 1764000000000LL;
}

static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A review of n words into b (no quotes or escapes needed). */
static size_t review(char *b, int n) {
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)sprintf(b + len, "%s%s", i ? " " : "", words[(size_t)(unit() * 12) % 12]);
    return len;
}

static char *reference(int text, size_t *len) {
    char *csv = malloc((size_t)NREF * 400), *p = csv;
    p += sprintf(p, "f0,f1,f2,f3,f4,f5,f6,f7,f8,f9,country,device%s\n", text ? ",review" : "");
    for (int i = 0; i < NREF; i++) {
        for (int j = 0; j < 10; j++)
            p += sprintf(p, "%.6f,", j + normal());
        p += sprintf(p, "%s,%s", countries[i % 6], devices[i % 3]);
        if (text) {
            *p++ = ',';
            p += review(p, 10 + i % 20);
        }
        *p++ = '\n';
    }
    *len = (size_t)(p - csv);
    return csv;
}

static char *records(int text, int batch, size_t *len) {
    char *body = malloc((size_t)NREC * 600), *p = body;
    for (int r = 0; r < NREC; r++) {
        p += sprintf(
            p, "{\"model\": \"bench\", \"version\": \"1\", \"id\": \"r-%d-%d\", \"features\": {",
            batch, r);
        for (int j = 0; j < 10; j++)
            p += sprintf(p, "\"f%d\": %.17g, ", j, j + 0.1 + normal());
        p +=
            sprintf(p, "\"country\": \"%s\", \"device\": \"%s\"", countries[r % 6], devices[r % 3]);
        if (text) {
            p += sprintf(p, ", \"review\": \"");
            p += review(p, 10 + r % 20);
            *p++ = '"';
        }
        p += sprintf(p, "}, \"prediction\": %d, \"latency_ms\": %.1f}\n", r % 2, 5.0 + r % 7);
    }
    *len = (size_t)(p - body);
    return body;
}

int main(int argc, char **argv) {
    mw_rng_seed(&rng, 7);
    int batches = argc > 1 ? atoi(argv[1]) : 50;
    int text = argc > 2 && !strcmp(argv[2], "text");
    char dir[] = "/tmp/mw-bench-journal-XXXXXX";
    if (batches < 1 || !mkdtemp(dir)) {
        fprintf(stderr, "usage: bench_journal [BATCHES] [plain|text]\n");
        return 2;
    }
    char db[sizeof dir + 16];
    snprintf(db, sizeof db, "%s/mw.db", dir);
    mw_monitor_options mo = {.db_path = db, .seed = 1, .now_ms = fixed_clock};
    mw_monitor *m = NULL;
    mw_table *t = NULL;
    mw_read_options ro = {0};
    mw_error err;
    size_t len;
    char *csv = reference(text, &len);
    const char *cfg = text ? "{\"window_seconds\": 86400, \"columns\": {\"review\": {\"type\": "
                             "\"text\"}}}"
                           : "{\"window_seconds\": 86400}";
    if (mw_monitor_open(&mo, &m, &err) || mw_monitor_register(m, "bench", "1", cfg, &err) ||
        mw_table_read_mem("reference.csv", csv, len, &ro, &t, &err) ||
        mw_monitor_set_reference(m, "bench", "1", t, &err)) {
        fprintf(stderr, "setup failed: %s\n", err.message);
        return 1;
    }
    mw_table_free(t);
    free(csv);
    char **body = malloc((size_t)batches * sizeof *body);
    size_t *blen = malloc((size_t)batches * sizeof *blen);
    for (int b = 0; b < batches; b++)
        body[b] = records(text, b, &blen[b]);
    uint64_t accepted = 0;
    double t0 = cpu_now();
    for (int b = 0; b < batches; b++) {
        mw_ingest_result res;
        if (mw_monitor_ingest(m, body[b], blen[b], &res, &err)) {
            fprintf(stderr, "ingest failed: %s\n", err.message);
            return 1;
        }
        if (res.rejected) {
            fprintf(stderr, "rejected: %s\n", res.nerrors ? res.errors[0].message : "?");
            return 1;
        }
        accepted += res.accepted;
    }
    double secs = cpu_now() - t0;
    printf("%s: %llu records accepted, %.0f records/s (CPU)\n", text ? "text" : "plain",
           (unsigned long long)accepted, (double)accepted / secs);
    mw_monitor_close(m);
    for (int b = 0; b < batches; b++)
        free(body[b]);
    free(body);
    free(blen);
    char cmd[sizeof dir + 16];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) ? 1 : 0;
}
