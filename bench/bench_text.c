/*
 * Text descriptors throughput (issue #9 target: at least 200 MB/s per core):
 * describes every line of a file (one text value per line) on one thread,
 * five times, and prints the median MB/s and a checksum of the descriptors
 * (so that bench_text.sh can show both implementations saw the same data).
 *
 * usage: build/bench/bench_text FILE
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modelwatch/text.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: bench_text FILE\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)size + 1);
    if (!buf || fread(buf, 1, (size_t)size, f) != (size_t)size) return 1;
    fclose(f);
    double runs[5];
    unsigned long long lines = 0, emails = 0, words = 0, refusals = 0, json = 0;
    for (int r = 0; r < 5; r++) {
        lines = emails = words = refusals = json = 0;
        double t0 = now();
        for (char *p = buf, *end = buf + size; p < end;) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
            mw_text_descriptors d;
            mw_text_describe(p, n, NULL, &d);
            lines++;
            emails += d.emails;
            words += d.words;
            refusals += (unsigned)d.refusal;
            json += (unsigned)d.json_valid;
            p += n + 1;
        }
        runs[r] = (double)size / 1e6 / (now() - t0);
    }
    qsort(runs, 5, sizeof runs[0], cmp);
    printf("%.0f MB/s (runs %.0f-%.0f), %llu texts, %llu words, %llu emails, %llu refusals, "
           "%llu json\n",
           runs[2], runs[0], runs[4], lines, words, emails, refusals, json);
    free(buf);
    return 0;
}
