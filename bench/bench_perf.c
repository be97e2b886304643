/*
 * Performance-metric benchmark (issue #5): times modelwatch's metrics on arrays
 * written by bench/bench_perf.sh's generator step (the same arrays
 * bench/peer_perf.py times scikit-learn on, file parsing excluded), and prints
 * one line per metric: "name seconds value". Best of RUNS runs.
 * roc_auc_score_threads is ROC AUC with its buckets on every core
 * (mw_roc_auc_binary_run with a thread runner); scikit-learn's is one thread.
 *
 * usage: bench_perf DIR [RUNS]     DIR holds y_true.u32, y_pred.u32 (1M labels,
 *        10 classes), yb.u32 (binary labels), score.f64 (positive-class scores)
 *        bench_perf --write DIR N  writes those arrays (deterministic)
 */
#include "modelwatch/perf.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t rs = 12345;
static double unif(void) {
    uint64_t z = (rs += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}

static void *load(const char *dir, const char *name, size_t elem, size_t *n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "bench_perf: cannot open %s\n", path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = malloc((size_t)len + 1);
    if (!p || fread(p, 1, (size_t)len, f) != (size_t)len) exit(1);
    fclose(f);
    *n = (size_t)len / elem;
    return p;
}

static void save(const char *dir, const char *name, const void *p, size_t bytes) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, bytes, f) != bytes) exit(1);
    fclose(f);
}

static int write_data(const char *dir, size_t n) {
    uint32_t *yt = malloc(n * 4), *yp = malloc(n * 4), *yb = malloc(n * 4);
    double *s = malloc(n * 8);
    for (size_t i = 0; i < n; i++) {
        yt[i] = (uint32_t)(unif() * 10);
        yp[i] = unif() < 0.7 ? yt[i] : (uint32_t)(unif() * 10);
        yb[i] = unif() < 0.3;
        double z = (unif() + unif() + unif() - 1.5) + 0.8 * yb[i];
        s[i] = 1.0 / (1.0 + exp(-2.0 * z));
        if (i % 4 == 0) s[i] = round(s[i] * 1000) / 1000; /* some ties */
    }
    save(dir, "y_true.u32", yt, n * 4);
    save(dir, "y_pred.u32", yp, n * 4);
    save(dir, "yb.u32", yb, n * 4);
    save(dir, "score.f64", s, n * 8);
    free(yt), free(yp), free(yb), free(s);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 4 && !strcmp(argv[1], "--write")) return write_data(argv[2], (size_t)atol(argv[3]));
    if (argc < 2) {
        fprintf(stderr, "usage: bench_perf DIR [RUNS] | bench_perf --write DIR N\n");
        return 2;
    }
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    size_t n, n2, nb, ns;
    uint32_t *yt = load(argv[1], "y_true.u32", 4, &n);
    uint32_t *yp = load(argv[1], "y_pred.u32", 4, &n2);
    uint32_t *yb = load(argv[1], "yb.u32", 4, &nb);
    double *s = load(argv[1], "score.f64", 8, &ns);
    if (n != n2 || nb != ns) return 1;
    enum { NM = 7 };
    double best[NM], val[NM];
    const char *names[NM] = {"precision_recall_fscore_support_macro",
                             "confusion_matrix",
                             "accuracy_score",
                             "roc_auc_score",
                             "average_precision_score",
                             "log_loss",
                             "roc_auc_score_threads"};
    mw_runner threads = mw_runner_threads(0); /* ROC AUC's buckets on every core */
    for (int m = 0; m < NM; m++)
        best[m] = INFINITY;
    for (int r = 0; r < runs; r++) {
        for (int m = 0; m < NM; m++) {
            double t0 = now(), v = NAN;
            mw_error err;
            if (m <= 2) {
                mw_confusion *cm;
                mw_confusion_new(10, &cm);
                mw_confusion_add_codes(cm, yt, yp, n, NULL);
                if (m == 1) {
                    v = (double)mw_confusion_get(cm, 0, 0);
                } else {
                    mw_class_metrics cmx;
                    mw_confusion_metrics(cm, &cmx, &err);
                    v = m == 0 ? cmx.f1_macro : cmx.accuracy;
                    mw_class_metrics_free(&cmx);
                }
                mw_confusion_free(cm);
            } else if (m == 3) {
                mw_roc_auc_binary(yb, 1, s, nb, &v, &err);
            } else if (m == 4) {
                mw_average_precision_binary(yb, 1, s, nb, &v, &err);
            } else if (m == 6) {
                mw_roc_auc_binary_run(yb, 1, s, nb, &threads, &v, &err);
            } else {
                mw_calibration c;
                mw_calibration_init(&c);
                for (size_t i = 0; i < nb; i++)
                    mw_calibration_add_binary(&c, yb[i] == 1, s[i], MW_LOG_LOSS_EPS);
                v = mw_calibration_log_loss(&c);
            }
            double t = now() - t0;
            if (t < best[m]) best[m] = t;
            val[m] = v;
        }
    }
    for (int m = 0; m < NM; m++)
        printf("%s %.6f %.17g\n", names[m], best[m], val[m]);
    free(yt), free(yp), free(yb), free(s);
    return 0;
}
