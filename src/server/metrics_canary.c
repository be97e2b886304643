/*
 * /metrics for the canary comparison (monitor.h "canary comparison"): the
 * last comparison of each model's canary pair since start-up, labelled by
 * model and the two versions (baseline, canary: bounded by the registry's
 * versions), the p-value of each check (check = errors, latency,
 * predictions, performance; absent when the check could not run), and the
 * counters of comparisons made and found worse. Differences are canary minus
 * baseline, in base units (ratio, seconds).
 */
#include "server/daemon.h"

#include <math.h>

enum {
    C_WORSE,
    C_START,
    C_ERRORS,
    C_LATENCY,
    C_DRIFT,
    C_PERF,
    C_P_VALUE,
    C_COMPARISONS,
    C_WORSE_TOTAL,
    C_COUNT
};

static const struct {
    const char *name;
    mw_expo_type type;
    const char *help;
} families[C_COUNT] = {
    {"modelwatch_canary_worse", MW_EXPO_GAUGE,
     "1 when the last comparison found the canary worse than the baseline (error rate, latency, "
     "performance or drift), else 0."},
    {"modelwatch_canary_window_start_timestamp_seconds", MW_EXPO_GAUGE,
     "Start of the window the last comparison describes."},
    {"modelwatch_canary_error_rate_difference", MW_EXPO_GAUGE,
     "Error rate of the canary minus that of the baseline in the last compared window."},
    {"modelwatch_canary_latency_p50_difference_seconds", MW_EXPO_GAUGE,
     "Median latency of the canary minus that of the baseline in the last compared window."},
    {"modelwatch_canary_drift_share_difference", MW_EXPO_GAUGE,
     "Drift share of the canary minus that of the baseline, each against its own reference."},
    {"modelwatch_canary_performance_difference", MW_EXPO_GAUGE,
     "Labelled performance of the canary minus that of the baseline (accuracy, or mae for a "
     "regressor), on the newest window with labels on both sides."},
    {"modelwatch_canary_p_value", MW_EXPO_GAUGE,
     "p-value of each check of the last comparison: errors (Fisher exact), latency "
     "(Mann-Whitney U), predictions (chi-square or KS), performance (Fisher exact or Welch)."},
    {"modelwatch_canary_comparisons_total", MW_EXPO_COUNTER,
     "Canary comparisons made since start-up."},
    {"modelwatch_canary_worse_total", MW_EXPO_COUNTER,
     "Canary comparisons that found the canary worse, since start-up."},
};

typedef struct pass {
    mw_expo *e;
    int family;
    mw_status st;
} pass;

static void sample(pass *p, const char *const *n, const char *const *v, size_t k, double x) {
    if (!p->st && !isnan(x)) p->st = mw_expo_sample(p->e, NULL, n, v, k, x);
}

static void write_pair(const mw_canary_status *s, void *ctx) {
    pass *p = ctx;
    const char *n[4] = {"model", "baseline", "canary", NULL};
    const char *v[4] = {s->model, s->baseline, s->canary, NULL};
    switch (p->family) {
    case C_WORSE:
        sample(p, n, v, 3, s->worse ? 1 : 0);
        break;
    case C_START:
        sample(p, n, v, 3, s->start);
        break;
    case C_ERRORS:
        sample(p, n, v, 3, s->error_rate_difference);
        break;
    case C_LATENCY:
        sample(p, n, v, 3, s->latency_p50_difference_seconds);
        break;
    case C_DRIFT:
        sample(p, n, v, 3, s->drift_share_difference);
        break;
    case C_PERF:
        n[3] = "metric";
        v[3] = s->performance_metric;
        if (v[3]) sample(p, n, v, 4, s->performance_difference);
        break;
    case C_P_VALUE: {
        static const char *const checks[4] = {"errors", "latency", "predictions", "performance"};
        const double ps[4] = {s->p_errors, s->p_latency, s->p_predictions, s->p_performance};
        n[3] = "check";
        for (size_t i = 0; i < 4; i++) {
            v[3] = checks[i];
            sample(p, n, v, 4, ps[i]);
        }
        break;
    }
    case C_COMPARISONS:
        if (!p->st) p->st = mw_expo_sample_u64(p->e, NULL, n, v, 1, s->comparisons);
        break;
    default:
        if (!p->st) p->st = mw_expo_sample_u64(p->e, NULL, n, v, 1, s->worse_total);
        break;
    }
}

mw_status mw_canary_write_metrics(mw_daemon *d, mw_expo *e) {
    mw_status st = MW_OK;
    for (int f = 0; f < C_COUNT && !st; f++) {
        st = mw_expo_family(e, families[f].name, families[f].type, families[f].help);
        pass p = {e, f, MW_OK};
        if (!st) mw_monitor_each_canary(d->monitor, write_pair, &p);
        if (!st) st = p.st;
    }
    if (!st)
        st = mw_expo_family(e, "modelwatch_canary_failures_total", MW_EXPO_COUNTER,
                            "Canary comparisons that could not be made or stored (out of memory, "
                            "database error).");
    if (!st)
        st = mw_expo_sample_u64(e, NULL, NULL, NULL, 0, mw_monitor_canary_failures(d->monitor));
    return st;
}
