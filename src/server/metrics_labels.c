/*
 * /metrics for delayed labels and live performance: the CBPE estimate of the
 * last closed window (before labels), each version's metrics of
 * the newest window that has labels (they change as that window's labels
 * arrive, and move to a newer window once it has labels), its label coverage,
 * and the label and prediction counters. Labels: model, version, metric (a
 * fixed set of scikit-learn names); never record ids.
 */
#include "server/daemon.h"

#include <math.h>

enum {
    L_ESTIMATED,
    L_METRIC,
    L_METRIC_WINDOW,
    L_COVERAGE,
    L_LABELS,
    L_DUPLICATE,
    L_PENDING,
    L_EXPIRED,
    L_UNTRACKED,
    L_COUNT
};

static const struct {
    const char *name;
    mw_expo_type type;
    const char *help;
} families[L_COUNT] = {
    {"modelwatch_model_metric_estimated", MW_EXPO_GAUGE,
     "Performance of the last closed window estimated from its scores before labels arrive "
     "(CBPE, calibrated on the labelled reference)."},
    {"modelwatch_model_metric", MW_EXPO_GAUGE,
     "Performance of the newest window that has labels (accuracy, f1_macro, ..., or mae, rmse, "
     "... for a regressor), over the labels received so far."},
    {"modelwatch_model_metric_window_start_timestamp_seconds", MW_EXPO_GAUGE,
     "Start of the window modelwatch_model_metric describes."},
    {"modelwatch_label_coverage_ratio", MW_EXPO_GAUGE,
     "Share of that window's predictions (with an id) that have their label."},
    {"modelwatch_labels_total", MW_EXPO_COUNTER, "Labels joined to their prediction."},
    {"modelwatch_labels_duplicate_total", MW_EXPO_COUNTER,
     "Labels for a prediction that had its label already (ignored)."},
    {"modelwatch_predictions_pending", MW_EXPO_GAUGE,
     "Predictions with an id waiting for their label."},
    {"modelwatch_predictions_expired_total", MW_EXPO_COUNTER,
     "Predictions whose label did not come within the TTL."},
    {"modelwatch_predictions_untracked_total", MW_EXPO_COUNTER,
     "Predictions with an id not kept for labels: a repeated id, the pending bound reached, or "
     "a non-numeric prediction of a regressor."},
};

typedef struct pass {
    mw_expo *e;
    int family;
    mw_status st;
} pass;

static void write_version(const mw_version_status *s, void *ctx) {
    pass *p = ctx;
    if (p->st) return;
    const char *n[3] = {"model", "version", "metric"};
    const char *v[3] = {s->model, s->version, NULL};
    switch (p->family) {
    case L_ESTIMATED:
        for (size_t i = 0; i < s->nest && !p->st; i++) {
            v[2] = s->est_names[i];
            p->st = mw_expo_sample(p->e, NULL, n, v, 3, s->est_values[i]);
        }
        break;
    case L_METRIC:
        for (size_t i = 0; i < s->nperf && !p->st; i++) {
            v[2] = s->perf_names[i];
            p->st = mw_expo_sample(p->e, NULL, n, v, 3, s->perf_values[i]);
        }
        break;
    case L_METRIC_WINDOW:
        if (s->nperf) p->st = mw_expo_sample(p->e, NULL, n, v, 2, s->perf_window_start);
        break;
    case L_COVERAGE:
        if (!isnan(s->label_coverage))
            p->st = mw_expo_sample(p->e, NULL, n, v, 2, s->label_coverage);
        break;
    case L_LABELS:
        p->st = mw_expo_sample_u64(p->e, NULL, n, v, 2, s->labels_total);
        break;
    case L_DUPLICATE:
        p->st = mw_expo_sample_u64(p->e, NULL, n, v, 2, s->labels_duplicate);
        break;
    case L_PENDING:
        p->st = mw_expo_sample_u64(p->e, NULL, n, v, 2, s->predictions_pending);
        break;
    case L_EXPIRED:
        p->st = mw_expo_sample_u64(p->e, NULL, n, v, 2, s->predictions_expired);
        break;
    default:
        p->st = mw_expo_sample_u64(p->e, NULL, n, v, 2, s->predictions_untracked);
        break;
    }
}

mw_status mw_labels_write_metrics(mw_daemon *d, mw_expo *e) {
    mw_status st = MW_OK;
    for (int f = 0; f < L_COUNT && !st; f++) {
        st = mw_expo_family(e, families[f].name, families[f].type, families[f].help);
        pass p = {e, f, MW_OK};
        if (!st) mw_monitor_each_version(d->monitor, write_version, &p);
        if (!st) st = p.st;
    }
    if (!st)
        st = mw_expo_family(e, "modelwatch_labels_unmatched_total", MW_EXPO_COUNTER,
                            "Labels that matched no pending prediction (unknown id, or expired).");
    if (!st)
        st = mw_expo_sample_u64(e, NULL, NULL, NULL, 0, mw_monitor_labels_unmatched(d->monitor));
    if (!st)
        st = mw_expo_family(e, "modelwatch_labels_rejected_total", MW_EXPO_COUNTER,
                            "Label lines rejected: malformed, no id or label, wrong label type.");
    if (!st)
        st = mw_expo_sample_u64(e, NULL, NULL, NULL, 0, mw_monitor_labels_rejected(d->monitor));
    return st;
}
