/*
 * Outlier detection benchmark (run by bench/bench_outliers.sh next to
 * scikit-learn on the same data): Isolation Forest fit and scoring, the live
 * single-record path, and exact LOF fit and scoring, on 1 thread and on
 * THREADS threads (rows split evenly; scoring is thread-safe).
 *
 * usage: bench_outliers DIR THREADS
 *   DIR holds if_ref.f64, if_cur.f64, lof_ref.f64, lof_cur.f64: each a header
 *   of two little-endian u64 (rows, columns) then the row-major doubles.
 * Writes DIR/lof_scores.f64 (raw doubles) for the exactness check and prints
 * one "key value" line per measurement.
 */
#include "modelwatch/outlier.h"
#include "monitor/outlier_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double *load(const char *dir, const char *name, size_t *n, size_t *d) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    uint64_t h[2];
    if (!f || fread(h, 8, 2, f) != 2) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    *n = (size_t)h[0];
    *d = (size_t)h[1];
    double *x = malloc(*n * *d * sizeof *x);
    if (!x || fread(x, sizeof *x, *n * *d, f) != *n * *d) {
        fprintf(stderr, "short file %s\n", path);
        exit(1);
    }
    fclose(f);
    return x;
}

typedef struct job {
    const mw_outlier_model *m;
    const double *x;
    size_t n, d;
    double *out;
} job;

static void *run_job(void *arg) {
    job *j = arg;
    if (mw_outlier_score_features(j->m, j->x, j->n, j->out) != MW_OK) abort();
    return NULL;
}

/* Scores n rows on `threads` threads; returns seconds. */
static double score_par(const mw_outlier_model *m, const double *x, size_t n, size_t d,
                        double *out, unsigned threads) {
    pthread_t th[64];
    job jobs[64];
    double t0 = now();
    for (unsigned i = 0; i < threads; i++) {
        size_t b = n * i / threads, e = n * (i + 1) / threads;
        jobs[i] = (job){m, x + b * d, e - b, d, out + b};
        if (i + 1 < threads) pthread_create(&th[i], NULL, run_job, &jobs[i]);
    }
    run_job(&jobs[threads - 1]);
    for (unsigned i = 0; i + 1 < threads; i++) pthread_join(th[i], NULL);
    return now() - t0;
}

static double best3(double a, double b, double c) {
    double m = a < b ? a : b;
    return m < c ? m : c;
}

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: bench_outliers DIR THREADS\n");
        return 2;
    }
    const char *dir = argv[1];
    unsigned threads = (unsigned)atoi(argv[2]);
    if (threads < 1 || threads > 64) threads = 1;
    size_t n, d, m, d2;
    mw_error err;
    mw_error_clear(&err);

    /* ---- Isolation Forest ---- */
    double *ref = load(dir, "if_ref.f64", &n, &d), *cur = load(dir, "if_cur.f64", &m, &d2);
    mw_runner runner = mw_runner_threads(threads); /* the fit's reference scoring too */
    mw_outlier_options o = {.method = MW_OUTLIER_IFOREST, .seed = 1, .runner = &runner};
    mw_outlier_model *mod = NULL;
    double fit[9];
    for (int r = 0; r < 9; r++) {
        mw_outlier_free(mod);
        double t0 = now();
        if (mw_outlier_fit_matrix(ref, n, d, NULL, &o, &mod, &err) != MW_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        fit[r] = now() - t0;
    }
    /* the trees alone (what sklearn's fit does with contamination="auto");
     * the pipeline fit above also takes medians and scores every reference
     * row for the contamination threshold */
    double trees[3], trees1[3];
    mw_runner serial = {NULL, NULL};
    for (int r = 0; r < 6; r++) {
        mw_iforest *forest;
        mw_iforest_params ip = {100, 256, 1.0, (uint64_t)r / 2 + 1, r % 2 ? &runner : &serial};
        double t0 = now();
        if (mw_iforest_fit(ref, n, d, &ip, &forest) != MW_OK) return 1;
        (r % 2 ? trees : trees1)[r / 2] = now() - t0;
        mw_iforest_free(forest);
    }
    double *s = malloc(m * sizeof *s);
    double t1 = best3(score_par(mod, cur, m, d, s, 1), score_par(mod, cur, m, d, s, 1),
                      score_par(mod, cur, m, d, s, 1));
    double tn = best3(score_par(mod, cur, m, d, s, threads), score_par(mod, cur, m, d, s, threads),
                      score_par(mod, cur, m, d, s, threads));
    /* live path: one record at a time through the public row API */
    size_t live_n = m < 100000 ? m : 100000;
    double t0 = now(), sink = 0;
    for (size_t i = 0; i < live_n; i++) {
        double sc;
        mw_outlier_score_row(mod, cur + i * d, NULL, &sc, &err);
        sink += sc;
    }
    double live = (now() - t0) / (double)live_n;
    printf("iforest_rows %zu\niforest_features %zu\n", m, d);
    printf("iforest_fit_s %.6f\n", best3(trees[0], trees[1], trees[2]));
    printf("iforest_fit_s_1thread %.6f\n", best3(trees1[0], trees1[1], trees1[2]));
    double fit_best = fit[0];
    for (int r = 1; r < 9; r++)
        fit_best = fit[r] < fit_best ? fit[r] : fit_best;
    printf("iforest_pipeline_fit_s %.6f\n", fit_best);
    printf("iforest_score_s_1thread %.6f\niforest_rows_per_s_1thread %.0f\n", t1, m / t1);
    printf("iforest_score_s_%uthreads %.6f\niforest_rows_per_s_%uthreads %.0f\n", threads, tn,
           threads, m / tn);
    printf("iforest_live_us_per_record %.3f\n", live * 1e6);
    printf("iforest_mean_score %.6f\n", sink / (double)live_n);
    mw_outlier_free(mod);
    free(ref);
    free(cur);
    free(s);

    /* ---- LOF ---- */
    ref = load(dir, "lof_ref.f64", &n, &d);
    cur = load(dir, "lof_cur.f64", &m, &d2);
    /* the fit (the reference rows' own neighbours, k-distances, densities)
     * on one thread, then on THREADS through the runner as the CLI does */
    double lfit[2];
    for (int r = 0; r < 2; r++) {
        o = (mw_outlier_options){.method = MW_OUTLIER_LOF, .n_neighbors = 20,
                                 .runner = r ? &runner : NULL};
        if (r) mw_outlier_free(mod);
        t0 = now();
        if (mw_outlier_fit_matrix(ref, n, d, NULL, &o, &mod, &err) != MW_OK) {
            fprintf(stderr, "%s\n", err.message);
            return 1;
        }
        lfit[r] = now() - t0;
    }
    s = malloc(m * sizeof *s);
    t1 = score_par(mod, cur, m, d, s, 1);
    tn = score_par(mod, cur, m, d, s, threads);
    printf("lof_reference_rows %zu\nlof_rows %zu\nlof_features %zu\n", n, m, d);
    printf("lof_fit_s_1thread %.6f\nlof_fit_s_%uthreads %.6f\n", lfit[0], threads, lfit[1]);
    printf("lof_score_s_1thread %.6f\nlof_score_s_%uthreads %.6f\n", t1, threads, tn);
    char path[1024];
    snprintf(path, sizeof path, "%s/lof_scores.f64", dir);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(s, sizeof *s, m, f) != m || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    mw_outlier_free(mod);
    free(ref);
    free(cur);
    free(s);
    return 0;
}
