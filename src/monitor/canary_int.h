/*
 * Canary comparison inside the monitor (monitor.h "canary comparison"):
 *
 *   canary.c       the comparison of two closed windows, a pure function over
 *                  snapshots (unit-tested against scipy)
 *   canary_live.c  pairing by registry aliases, snapshots taken at window
 *                  close, the labelled performance of both versions, storing
 *                  the results and the metrics' view
 *
 * A snapshot is what a closed window leaves for the comparison: its counts,
 * its latency sample, its drift summary and its prediction distribution, all
 * copied so that it outlives the window's buffers (reused by the next window).
 */
#ifndef MW_MONITOR_CANARY_INT_H
#define MW_MONITOR_CANARY_INT_H

#include "modelwatch/monitor.h"

#include <jansson.h>

#define MW_CANARY_MAX_DRIFTED 64 /* drifted feature names kept per snapshot */

enum { MW_CANARY_PRED_NONE = 0, MW_CANARY_PRED_CLASSES, MW_CANARY_PRED_NUMERIC };

typedef struct mw_canary_snap {
    char *model, *version;
    double start, end;
    uint64_t records, errors;
    double *latency; /* milliseconds, sorted ascending (the window's latency sample) */
    size_t nlatency;
    size_t n_tested, n_drifted;
    double drift_share;
    int dataset_drift;
    char **drifted; /* names of drifted columns, at most MW_CANARY_MAX_DRIFTED */
    size_t ndrifted;
    int pred_kind; /* MW_CANARY_PRED_*: the window's prediction column */
    char **classes; /* PRED_CLASSES: class names and counts */
    double *class_counts;
    size_t nclasses;
    double *pred_values; /* PRED_NUMERIC: sorted sample of the predictions */
    size_t npred;
} mw_canary_snap;

void mw_canary_snap_free(mw_canary_snap *s); /* the contents; NULL-safe */

/* The labelled performance of one window of a version. */
typedef struct mw_canary_perf {
    int task; /* 0 none, MW_TASK_CLASSIFICATION or MW_TASK_REGRESSION (labels_int.h) */
    double start;
    uint64_t labelled;
    uint64_t correct;          /* classification */
    double mae, mse;           /* regression: mean |e| and mean e^2 */
} mw_canary_perf;

typedef struct mw_canary_options {
    double alpha;          /* significance level of every test (default 0.05) */
    double latency_margin; /* canary median latency worse by more than this share (0.10) */
    double drift_margin;   /* canary drift share higher by at least this (0.25) */
} mw_canary_options;

/* The comparison's headline numbers (NAN where a check could not run). */
typedef struct mw_canary_verdict {
    int worse;
    double error_rate_difference;   /* canary - baseline */
    double latency_p50_difference;  /* seconds, canary - baseline */
    double drift_share_difference;  /* canary - baseline */
    double performance_difference;  /* canary - baseline: accuracy, or MAE */
    const char *performance_metric; /* "accuracy", "mae" or NULL */
    double p_errors, p_latency, p_predictions, p_performance;
} mw_canary_verdict;

/*
 * Compares the canary's window with the baseline's (same period). perf_base
 * and perf_canary may be NULL (no window of the pair has labels on both
 * sides). *out gets the result object (caller decrefs), v the headline.
 * MW_ENOMEM only.
 */
mw_status mw_canary_compare(const mw_canary_snap *base, const mw_canary_snap *canary,
                            const mw_canary_perf *perf_base, const mw_canary_perf *perf_canary,
                            const mw_canary_options *opt, json_t **out, mw_canary_verdict *v);

#endif
