/*
 * The performance of each window as its labels arrive (labels_int.h): one
 * mergeable state per window that saw predictions with ids (a confusion
 * matrix for a classifier, regression sums for a regressor, from perf.h, so
 * the numbers are the ones `modelwatch eval` and scikit-learn give), kept
 * until the labels' TTL passes. Every function runs with vl->lock held.
 */
#include "monitor/labels_int.h"
#include "monitor/monitor_int.h"

#include <jansson.h>

/* (score, label) pairs kept per window for exact ROC AUC and average
 * precision; beyond, the rank accumulator's histogram (perf.h, with a bound). */
#define RANK_EXACT_PAIRS 10000

#include <math.h>
#include <stdlib.h>
#include <string.h>

mw_wperf *mw_wperf_get(mw_vlabels *vl, double start, int create) {
    size_t lo = 0, hi = vl->nw; /* windows by start: binary search */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (vl->w[mid].start < start) lo = mid + 1;
        else hi = mid;
    }
    if (lo < vl->nw && vl->w[lo].start == start) return &vl->w[lo];
    if (!create) return NULL;
    if (vl->nw == vl->capw) {
        size_t cap = vl->capw ? vl->capw * 2 : 8;
        mw_wperf *grown = realloc(vl->w, cap * sizeof *grown);
        if (!grown) return NULL;
        vl->w = grown;
        vl->capw = cap;
    }
    memmove(&vl->w[lo + 1], &vl->w[lo], (vl->nw - lo) * sizeof *vl->w);
    vl->nw++;
    mw_wperf *w = &vl->w[lo];
    memset(w, 0, sizeof *w);
    w->start = start;
    mw_reg_init(&w->reg);
    mw_calibration_init(&w->cal);
    return w;
}

/* A binary classifier's score: ranking metrics, and calibration when in [0, 1]. */
static mw_status credit_score(mw_wperf *w, const mw_pending *p, uint32_t label_code) {
    int is_pos = label_code == p->pos_code;
    mw_status st = MW_OK;
    if (!w->rank && (st = mw_rank_acc_new(RANK_EXACT_PAIRS, &w->rank))) return st;
    if ((st = mw_rank_acc_add(w->rank, p->pos_score, is_pos))) return st;
    if (p->pos_score >= 0 && p->pos_score <= 1)
        mw_calibration_add_binary(&w->cal, is_pos, p->pos_score, MW_LOG_LOSS_EPS);
    return MW_OK;
}

mw_status mw_wperf_credit(mw_vlabels *vl, mw_wperf *w, const mw_pending *p, uint32_t label_code,
                          double label_value) {
    mw_status st;
    if (vl->task == MW_TASK_REGRESSION) {
        st = mw_reg_add(&w->reg, label_value, p->value);
    } else {
        if (!w->cm && (st = mw_confusion_new(mw_dict_size(vl->classes), &w->cm))) return st;
        st = mw_confusion_add(w->cm, label_code, p->code, 1);
        if (!st && p->pos_code != MW_PERF_MISSING) st = credit_score(w, p, label_code);
    }
    if (!st) w->labelled++;
    return st;
}

void mw_wperf_drop_before(mw_vlabels *vl, double cutoff) {
    size_t k = 0;
    while (k < vl->nw && vl->w[k].start < cutoff) {
        vl->predictions_expired += vl->w[k].predictions - vl->w[k].labelled;
        mw_confusion_free(vl->w[k].cm);
        mw_rank_acc_free(vl->w[k].rank);
        k++;
    }
    if (k == 0) return; /* also: w may be NULL, and NULL + 0 is undefined */
    memmove(vl->w, vl->w + k, (vl->nw - k) * sizeof *vl->w);
    vl->nw -= k;
}

const mw_wperf *mw_wperf_newest_labelled(const mw_vlabels *vl) {
    for (size_t i = vl->nw; i-- > 0;)
        if (vl->w[i].labelled) return &vl->w[i];
    return NULL;
}

static size_t add(const char **names, double *values, size_t n, size_t max, const char *name,
                  double v) {
    if (n < max && !isnan(v)) {
        names[n] = name;
        values[n++] = v;
    }
    return n;
}

size_t mw_wperf_metrics(const mw_vlabels *vl, const mw_wperf *w, const char **names,
                        double *values, size_t max) {
    size_t n = 0;
    if (vl->task == MW_TASK_REGRESSION) {
        mw_reg_metrics r;
        if (!w->reg.n) return 0;
        mw_reg_state_metrics(&w->reg, &r);
        n = add(names, values, n, max, "mae", r.mae);
        n = add(names, values, n, max, "mse", r.mse);
        n = add(names, values, n, max, "rmse", r.rmse);
        n = add(names, values, n, max, "mape", r.mape);
        n = add(names, values, n, max, "r2", r.r2);
        return add(names, values, n, max, "max_error", r.max_error);
    }
    mw_class_metrics c;
    if (!w->cm || mw_confusion_metrics(w->cm, &c, NULL)) return 0;
    n = add(names, values, n, max, "accuracy", c.accuracy);
    n = add(names, values, n, max, "balanced_accuracy", c.balanced_accuracy);
    n = add(names, values, n, max, "precision_macro", c.precision_macro);
    n = add(names, values, n, max, "recall_macro", c.recall_macro);
    n = add(names, values, n, max, "f1_macro", c.f1_macro);
    n = add(names, values, n, max, "precision_weighted", c.precision_weighted);
    n = add(names, values, n, max, "recall_weighted", c.recall_weighted);
    n = add(names, values, n, max, "f1_weighted", c.f1_weighted);
    mw_class_metrics_free(&c);
    double auc = NAN, ap = NAN, bound;
    int exact;
    if (w->rank && mw_rank_acc_roc_auc(w->rank, &auc, &exact, &bound) != MW_OK) auc = NAN;
    if (w->rank && mw_rank_acc_average_precision(w->rank, &ap, &exact) != MW_OK) ap = NAN;
    n = add(names, values, n, max, "roc_auc", auc);
    n = add(names, values, n, max, "average_precision", ap);
    n = add(names, values, n, max, "log_loss", mw_calibration_log_loss(&w->cal));
    return add(names, values, n, max, "brier", mw_calibration_brier(&w->cal));
}

void mw_vlabels_status(mw_vlabels *vl, mw_version_status *s) {
    pthread_mutex_lock(&vl->lock);
    s->labels_total = vl->labels_total;
    s->labels_duplicate = vl->labels_duplicate;
    s->labels_invalid = vl->labels_invalid;
    s->predictions_expired = vl->predictions_expired;
    s->predictions_untracked = vl->predictions_untracked;
    s->predictions_pending = 0;
    for (size_t i = 0; i < vl->nw; i++)
        s->predictions_pending += vl->w[i].predictions - vl->w[i].labelled;
    const mw_wperf *w = mw_wperf_newest_labelled(vl);
    s->nperf = 0;
    s->perf_window_start = s->label_coverage = NAN;
    if (w) {
        s->perf_window_start = w->start;
        s->label_coverage = (double)w->labelled / (double)w->predictions;
        s->nperf = mw_wperf_metrics(vl, w, s->perf_names, s->perf_values, 16);
    }
    pthread_mutex_unlock(&vl->lock);
}

static json_t *window_json(const mw_vlabels *vl, const mw_wperf *w) {
    json_t *o = json_pack("{s:f, s:I, s:I, s:s}", "start", w->start, "predictions",
                          (json_int_t)w->predictions, "labelled", (json_int_t)w->labelled, "task",
                          vl->task == MW_TASK_REGRESSION ? "regression" : "classification");
    if (!o) return NULL;
    if (w->predictions)
        json_object_set_new(o, "coverage",
                            json_real((double)w->labelled / (double)w->predictions));
    const char *names[16];
    double values[16];
    size_t n = mw_wperf_metrics(vl, w, names, values, 16);
    for (size_t i = 0; i < n; i++)
        json_object_set_new(o, names[i], json_real(values[i]));
    return o;
}

mw_status mw_monitor_performance(mw_monitor *m, const char *model, const char *version,
                                 size_t limit, char **json, mw_error *err) {
    *json = NULL;
    mw_vstate *v = mw_monitor_find(m, model, strlen(model), version, strlen(version));
    if (!v)
        return mw_error_set(err, MW_ENOTFOUND, NULL, 0, 0,
                            "model \"%s\" version \"%s\" is not registered", model, version);
    json_t *arr = json_array();
    mw_vlabels *vl = &v->labels;
    pthread_mutex_lock(&vl->lock);
    for (size_t i = vl->nw; arr && i-- > 0 && (!limit || json_array_size(arr) < limit);)
        json_array_append_new(arr, window_json(vl, &vl->w[i]));
    pthread_mutex_unlock(&vl->lock);
    *json = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return *json ? MW_OK : mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
}
