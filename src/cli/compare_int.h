/* Internal to `modelwatch compare`: the types its computation (cmd_compare.c)
 * and its report writers (compare_report.c) share. */
#ifndef MW_CLI_COMPARE_INT_H
#define MW_CLI_COMPARE_INT_H

#include <stdint.h>
#include <stdio.h>

#include "cli/cli.h"
#include "cli/labels.h"
#include "modelwatch/stats.h"

/* One --threshold METRIC:key=value,... (MLflow MetricThreshold). */
typedef struct cmp_threshold {
    const char *metric; /* points into the argument */
    double threshold, min_abs, min_rel;
    int has_threshold, has_abs, has_rel;
    int greater_is_better; /* -1: the metric's own direction */
} cmp_threshold;

typedef struct compare_args {
    const char *golden, *target, *baseline, *candidate, *output;
    int task;
    mw_report_format format;
    uint64_t bootstrap, seed;
    double confidence, alpha;
    cmp_threshold *thr;
    size_t nthr;
} compare_args;

/* The most metrics of one task. */
#define CMP_MAX_METRICS 8

typedef struct cmp_metric {
    const char *name;
    int greater_is_better;
    double baseline, candidate, delta;
    double lo, hi; /* confidence interval of the delta; NaN without a bootstrap */
} cmp_metric;

typedef struct cmp_failure {
    const char *metric;
    const char *rule; /* mcnemar, confidence_interval, threshold, min_absolute_change,
                         min_relative_change */
    double baseline, candidate, limit;
    char message[200];
} cmp_failure;

typedef struct compare_result {
    const char *task;
    int classification;
    size_t rows;
    labels L;
    /* classification only */
    double agreement;
    uint64_t lost, gained;   /* rows baseline right / candidate wrong, and the reverse */
    uint64_t *lost_by_class; /* per true class (L.k) */
    uint64_t *gained_by_class;
    mw_test_result mcnemar;
    /* every task */
    size_t nm;
    cmp_metric m[CMP_MAX_METRICS];
    uint64_t resamples, nan_resamples;
    int passed;
    cmp_failure *fail;
    size_t nfail;
} compare_result;

void mw_compare_write_json(FILE *f, const compare_args *a, const compare_result *R);
void mw_compare_write_text(FILE *f, const compare_args *a, const compare_result *R);

#endif
