/*
 * The canary comparison of two windows of the same period (canary_int.h): a
 * baseline version (the registry's production alias) against a canary, side
 * by side, and the verdict "canary_worse" with its reasons.
 *
 * Checks, each at significance level alpha (default 0.05):
 *   errors       error rate (records with "error" / records), Fisher's exact
 *                test on the 2x2 table [[canary errors, canary ok], [baseline
 *                errors, baseline ok]] = scipy.stats.fisher_exact, two-sided.
 *                Fisher rather than chi-square because errors are rare: a
 *                canary window often has expected error counts below 5, where
 *                the chi-square approximation is poor, and the exact test
 *                costs O(records) at most. Worse: p < alpha and the canary's
 *                rate is higher.
 *   latency      the windows' latency samples (serving.c keeps a uniform
 *                sample per window), Mann-Whitney U =
 *                scipy.stats.mannwhitneyu(canary, baseline), two-sided; medians
 *                as numpy.median. Worse: p < alpha and the canary's median is
 *                above the baseline's by more than latency_margin (10 %).
 *   predictions  class predictions: scipy.stats.chi2_contingency([baseline
 *                counts, canary counts]) over the classes of either (Yates when
 *                2 classes); numeric predictions: scipy.stats.ks_2samp(baseline,
 *                canary) on the windows' samples. Reported, not a reason: a new
 *                version is expected to predict differently.
 *   drift        each version's drift share against its own reference. Worse:
 *                the canary's share exceeds the baseline's by at least drift_margin
 *                (0.25).
 *   performance  from delayed labels, the newest window of the pair with
 *                labels on both sides: accuracy by Fisher's exact test on
 *                [[canary correct, canary wrong], [baseline correct, baseline
 *                wrong]]; a regressor's absolute errors by Welch's t-test from
 *                their moments (mean |e| = MAE, variance n/(n-1) (MSE - MAE^2))
 *                = scipy.stats.ttest_ind(|e canary|, |e baseline|,
 *                equal_var=False). Worse: p < alpha and the canary is worse.
 */
#include "monitor/canary_int.h"

#include "modelwatch/stats.h"
#include "monitor/labels_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mw_canary_snap_free(mw_canary_snap *s) {
    if (!s) return;
    free(s->model);
    free(s->version);
    free(s->latency);
    for (size_t i = 0; i < s->ndrifted; i++)
        free(s->drifted[i]);
    free(s->drifted);
    for (size_t i = 0; i < s->nclasses; i++)
        free(s->classes[i]);
    free(s->classes);
    free(s->class_counts);
    free(s->pred_values);
    memset(s, 0, sizeof *s);
}

/* A number, or null when not finite (JSON has no NaN). */
static json_t *num(double x) {
    return isfinite(x) ? json_real(x) : json_null();
}

static double ratio(uint64_t a, uint64_t b) {
    return b ? (double)a / (double)b : NAN;
}

static double median(const double *sorted, size_t n) {
    return n ? mw_quantile_sorted(sorted, n, 0.5) : NAN;
}

/* One version's side: counts, latency and drift summary. */
static json_t *side_json(const mw_canary_snap *s) {
    json_t *drifted = json_array();
    for (size_t i = 0; i < s->ndrifted; i++)
        json_array_append_new(drifted, json_string(s->drifted[i]));
    json_t *o = json_object();
    json_object_set_new(o, "version", json_string(s->version));
    json_object_set_new(o, "records", json_integer((json_int_t)s->records));
    json_object_set_new(o, "errors", json_integer((json_int_t)s->errors));
    json_object_set_new(o, "error_rate", num(ratio(s->errors, s->records)));
    json_object_set_new(o, "latency_samples", json_integer((json_int_t)s->nlatency));
    json_object_set_new(o, "latency_p50_ms", num(median(s->latency, s->nlatency)));
    json_object_set_new(o, "latency_p95_ms",
                        num(s->nlatency ? mw_quantile_sorted(s->latency, s->nlatency, 0.95) : NAN));
    json_object_set_new(o, "drift_share", num(s->drift_share));
    json_object_set_new(o, "drifted_features", drifted);
    json_object_set_new(o, "dataset_drift", json_boolean(s->dataset_drift));
    return o;
}

typedef struct verdict_ctx {
    json_t *reasons;
    mw_canary_verdict *v;
} verdict_ctx;

__attribute__((format(printf, 2, 3))) static void reason(verdict_ctx *c, const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_array_append_new(c->reasons, json_string(buf));
    c->v->worse = 1;
}

static json_t *check_errors(const mw_canary_snap *b, const mw_canary_snap *c,
                            const mw_canary_options *opt, verdict_ctx *vc) {
    double rb = ratio(b->errors, b->records), rc = ratio(c->errors, c->records);
    mw_test_result r = {NAN, NAN};
    if (b->records && c->records)
        mw_fisher_exact(c->errors, c->records - c->errors, b->errors, b->records - b->errors, &r);
    int worse = r.p_value < opt->alpha && rc > rb;
    vc->v->error_rate_difference = rc - rb;
    vc->v->p_errors = r.p_value;
    if (worse)
        reason(vc, "error rate %.4g%% vs %.4g%% (Fisher exact p=%.3g)", 100 * rc, 100 * rb,
               r.p_value);
    json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:b}", "test", "fisher", "baseline_rate",
                          num(rb), "canary_rate", num(rc), "difference", num(rc - rb), "odds_ratio",
                          num(r.statistic), "p_value", num(r.p_value), "worse", worse);
    return o;
}

static json_t *check_latency(const mw_canary_snap *b, const mw_canary_snap *c,
                             const mw_canary_options *opt, verdict_ctx *vc) {
    double mb = median(b->latency, b->nlatency), mc = median(c->latency, c->nlatency);
    mw_test_result r = {NAN, NAN};
    if (b->nlatency && c->nlatency)
        mw_mannwhitneyu(c->latency, c->nlatency, b->latency, b->nlatency, &r);
    int slower = mc > mb * (1 + opt->latency_margin);
    int worse = r.p_value < opt->alpha && slower;
    vc->v->latency_p50_difference = (mc - mb) / 1000.0;
    vc->v->p_latency = r.p_value;
    if (worse)
        reason(vc, "median latency %.4g ms vs %.4g ms (Mann-Whitney p=%.3g)", mc, mb, r.p_value);
    return json_pack("{s:s, s:o, s:o, s:o, s:o, s:o, s:b}", "test", "mannwhitney",
                     "baseline_p50_ms", num(mb), "canary_p50_ms", num(mc), "median_ratio",
                     num(mb > 0 ? mc / mb : NAN), "statistic", num(r.statistic), "p_value",
                     num(r.p_value), "worse", worse);
}

/* Class counts of both sides over the union of their classes (baseline's
 * order, then the canary's new ones). */
static mw_status class_union(const mw_canary_snap *b, const mw_canary_snap *c, double **bc,
                             double **cc, size_t *k) {
    size_t n = b->nclasses + c->nclasses;
    *bc = calloc(n ? n : 1, sizeof **bc);
    *cc = calloc(n ? n : 1, sizeof **cc);
    if (!*bc || !*cc) return MW_ENOMEM;
    memcpy(*bc, b->class_counts, b->nclasses * sizeof **bc);
    *k = b->nclasses;
    for (size_t j = 0; j < c->nclasses; j++) {
        size_t i = 0;
        while (i < b->nclasses && strcmp(b->classes[i], c->classes[j]))
            i++;
        if (i == b->nclasses) i = (*k)++;
        (*cc)[i] += c->class_counts[j];
    }
    return MW_OK;
}

static mw_status check_predictions(const mw_canary_snap *b, const mw_canary_snap *c,
                                   const mw_canary_options *opt, verdict_ctx *vc, json_t **out) {
    *out = json_null();
    mw_test_result r = {NAN, NAN};
    const char *test = NULL;
    if (b->pred_kind == MW_CANARY_PRED_CLASSES && c->pred_kind == MW_CANARY_PRED_CLASSES) {
        double *bc, *cc;
        size_t k = 0;
        mw_status st = class_union(b, c, &bc, &cc, &k);
        if (!st && mw_chi2_contingency(bc, cc, k, 0, &r) != MW_OK) r.statistic = r.p_value = NAN;
        free(bc);
        free(cc);
        if (st) return st;
        test = "chi2";
    } else if (b->pred_kind == MW_CANARY_PRED_NUMERIC && c->pred_kind == MW_CANARY_PRED_NUMERIC) {
        if (b->npred && c->npred)
            mw_ks_2samp(b->pred_values, b->npred, c->pred_values, c->npred, &r);
        test = "ks";
    }
    vc->v->p_predictions = r.p_value;
    if (test)
        *out = json_pack("{s:s, s:o, s:o, s:b}", "test", test, "statistic", num(r.statistic),
                         "p_value", num(r.p_value), "different", r.p_value < opt->alpha);
    return MW_OK;
}

static json_t *check_drift(const mw_canary_snap *b, const mw_canary_snap *c,
                           const mw_canary_options *opt, verdict_ctx *vc) {
    double d = c->drift_share - b->drift_share;
    int worse = d > 0 && d >= opt->drift_margin;
    vc->v->drift_share_difference = d;
    if (worse)
        reason(vc, "drift share %.3g vs %.3g against their references", c->drift_share,
               b->drift_share);
    return json_pack("{s:o, s:o, s:o, s:b}", "baseline_share", num(b->drift_share), "canary_share",
                     num(c->drift_share), "difference", num(d), "worse", worse);
}

static json_t *check_performance(const mw_canary_perf *b, const mw_canary_perf *c,
                                 const mw_canary_options *opt, verdict_ctx *vc) {
    if (!b || !c || !b->task || b->task != c->task || !b->labelled || !c->labelled)
        return json_null();
    mw_test_result r = {NAN, NAN};
    double vb, vcn;
    int worse;
    const char *metric, *test;
    if (b->task == MW_TASK_CLASSIFICATION) {
        metric = "accuracy";
        test = "fisher";
        vb = ratio(b->correct, b->labelled);
        vcn = ratio(c->correct, c->labelled);
        mw_fisher_exact(c->correct, c->labelled - c->correct, b->correct, b->labelled - b->correct,
                        &r);
        worse = r.p_value < opt->alpha && vcn < vb;
    } else {
        metric = "mae";
        test = "ttest";
        vb = b->mae;
        vcn = c->mae;
        if (b->labelled >= 2 && c->labelled >= 2) {
            double nb = (double)b->labelled, nc = (double)c->labelled;
            double varb = nb / (nb - 1) * fmax(0, b->mse - b->mae * b->mae);
            double varc = nc / (nc - 1) * fmax(0, c->mse - c->mae * c->mae);
            if (mw_ttest_welch(c->mae, varc, nc, b->mae, varb, nb, &r) != MW_OK)
                r.statistic = r.p_value = NAN;
        }
        worse = r.p_value < opt->alpha && vcn > vb;
    }
    vc->v->performance_metric = metric;
    vc->v->performance_difference = vcn - vb;
    vc->v->p_performance = r.p_value;
    if (worse)
        reason(vc, "%s %.4g vs %.4g (%s p=%.3g)", metric, vcn, vb,
               b->task == MW_TASK_CLASSIFICATION ? "Fisher exact" : "Welch t-test", r.p_value);
    return json_pack("{s:f, s:s, s:I, s:I, s:o, s:o, s:o, s:s, s:o, s:b}", "window_start", b->start,
                     "metric", metric, "baseline_labelled", (json_int_t)b->labelled,
                     "canary_labelled", (json_int_t)c->labelled, "baseline", num(vb), "canary",
                     num(vcn), "difference", num(vcn - vb), "test", test, "p_value", num(r.p_value),
                     "worse", worse);
}

mw_status mw_canary_compare(const mw_canary_snap *base, const mw_canary_snap *canary,
                            const mw_canary_perf *perf_base, const mw_canary_perf *perf_canary,
                            const mw_canary_options *opt, json_t **out, mw_canary_verdict *v) {
    *out = NULL;
    memset(v, 0, sizeof *v);
    v->error_rate_difference = v->latency_p50_difference = v->drift_share_difference = NAN;
    v->performance_difference = v->p_errors = v->p_latency = v->p_predictions = v->p_performance =
        NAN;
    verdict_ctx vc = {json_array(), v};
    json_t *checks = json_object(), *pred = NULL;
    if (!vc.reasons || !checks) {
        json_decref(vc.reasons);
        json_decref(checks);
        return MW_ENOMEM;
    }
    json_object_set_new(checks, "errors", check_errors(base, canary, opt, &vc));
    json_object_set_new(checks, "latency", check_latency(base, canary, opt, &vc));
    mw_status st = check_predictions(base, canary, opt, &vc, &pred);
    json_object_set_new(checks, "predictions", pred);
    json_object_set_new(checks, "drift", check_drift(base, canary, opt, &vc));
    json_object_set_new(checks, "performance", check_performance(perf_base, perf_canary, opt, &vc));
    json_t *o = json_object();
    if (st || !o) {
        json_decref(o);
        json_decref(vc.reasons);
        json_decref(checks);
        return MW_ENOMEM;
    }
    json_object_set_new(o, "model", json_string(base->model));
    json_object_set_new(o, "start", json_real(base->start));
    json_object_set_new(o, "end", json_real(base->end));
    json_object_set_new(o, "baseline", side_json(base));
    json_object_set_new(o, "canary", side_json(canary));
    json_object_set_new(o, "alpha", json_real(opt->alpha));
    json_object_set_new(o, "checks", checks);
    json_object_set_new(o, "canary_worse", json_boolean(v->worse));
    json_object_set_new(o, "reasons", vc.reasons);
    *out = o;
    return MW_OK;
}
