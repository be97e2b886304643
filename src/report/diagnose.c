/*
 * Diagnosis findings and their scores (see diagnose.h for the definitions).
 */
#include "report/diagnose.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mw_findings_add(mw_findings *fs, double time, const char *kind, const char *version,
                    const char *feature, double score, const char *fmt, ...) {
    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? 2 * fs->cap : 16;
        mw_finding *f = realloc(fs->f, cap * sizeof *f);
        if (!f) return 0;
        fs->f = f;
        fs->cap = cap;
    }
    mw_finding *f = &fs->f[fs->n];
    memset(f, 0, sizeof *f);
    f->time = time;
    f->kind = kind;
    f->score = score < 0 ? 0 : score > 1 ? 1 : score;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    f->what = len >= 0 ? malloc((size_t)len + 1) : NULL;
    f->version = version ? strdup(version) : NULL;
    f->feature = feature ? strdup(feature) : NULL;
    if (!f->what || (version && !f->version) || (feature && !f->feature)) {
        free(f->what);
        free(f->version);
        free(f->feature);
        return 0;
    }
    va_start(ap, fmt);
    vsnprintf(f->what, (size_t)len + 1, fmt, ap);
    va_end(ap);
    fs->n++;
    return 1;
}

void mw_findings_free(mw_findings *fs) {
    for (size_t i = 0; i < fs->n; i++) {
        free(fs->f[i].what);
        free(fs->f[i].version);
        free(fs->f[i].feature);
    }
    free(fs->f);
    memset(fs, 0, sizeof *fs);
}

/* A number member, NaN when absent or not a number. */
static double num(const json_t *o, const char *key) {
    const json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static double unbounded(double s) { return s / (1 + s); }

/* The effect size of test `name` with this statistic, NaN when the test has
 * none (then 1 - p stands in); n is the non-missing values of reference and
 * window together. */
static double test_effect(const json_t *column, const char *name, double stat, double n,
                          char *measure, size_t size) {
    if (!strcmp(name, "ks") || !strcmp(name, "tvd") || !strcmp(name, "hellinger") ||
        !strcmp(name, "jensenshannon")) {
        snprintf(measure, size, "%s", name);
        return stat;
    }
    if (!strcmp(name, "wasserstein_norm") || !strcmp(name, "psi") || !strcmp(name, "kl")) {
        snprintf(measure, size, "%s/(1+%s)", name, name);
        return unbounded(stat);
    }
    if (!strcmp(name, "wasserstein") || !strcmp(name, "energy")) {
        double sd = num(json_object_get(column, "quality"), "reference_std");
        if (!(sd > 0)) return NAN;
        snprintf(measure, size, "%s in reference std, s/(1+s)", name);
        return unbounded(stat / sd);
    }
    if (!strcmp(name, "chi2") || !strcmp(name, "gtest")) {
        if (!(n > 0)) return NAN;
        snprintf(measure, size, "Cramer's V of %s", name);
        return sqrt(stat / n);
    }
    return NAN;
}

static double clamp01(double x) { return x < 0 ? 0 : x > 1 ? 1 : x; }

double mw_diag_effect_size(const json_t *column, double ref_rows, double cur_rows, char *measure,
                           size_t size) {
    char dummy[64];
    if (!measure || !size) {
        measure = dummy;
        size = sizeof dummy;
    }
    measure[0] = 0;
    const json_t *drift = json_object_get(column, "drift");
    const json_t *q = json_object_get(column, "quality");
    const char *decider = json_string_value(json_object_get(drift, "test"));
    if (!decider) return NAN;
    double rm = num(q, "reference_missing"), cm = num(q, "current_missing");
    double n = ref_rows - (isfinite(rm) ? rm : 0) + cur_rows - (isfinite(cm) ? cm : 0);
    double e = test_effect(column, decider, num(drift, "statistic"), n, measure, size);
    if (isfinite(e)) return clamp01(e);
    const char *name;
    json_t *t;
    json_object_foreach(json_object_get(column, "tests"), name, t) {
        if (!strcmp(name, decider)) continue;
        e = test_effect(column, name, num(t, "statistic"), n, measure, size);
        if (isfinite(e)) return clamp01(e);
    }
    double p = num(drift, "p_value");
    if (!isfinite(p)) return NAN;
    snprintf(measure, size, "1-p(%s)", decider);
    return clamp01(1 - p);
}

/* ---- window findings ------------------------------------------------------------------ */

static const json_t *find_column(const json_t *window, const char *name) {
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(window, "columns"), i, c) {
        const char *n = json_string_value(json_object_get(c, "name"));
        if (n && !strcmp(n, name)) return c;
    }
    return NULL;
}

typedef double (*window_value_fn)(const json_t *window, const char *feature);

static double missing_share(const json_t *w, const char *feature) {
    return num(json_object_get(find_column(w, feature), "quality"), "current_missing_share");
}
static double latency_p99(const json_t *w, const char *feature) {
    (void)feature;
    return num(json_object_get(json_object_get(w, "serving"), "latency_ms"), "p99");
}
static double error_ratio(const json_t *w, const char *feature) {
    (void)feature;
    return num(json_object_get(w, "serving"), "error_ratio");
}
static double accuracy(const json_t *w, const char *feature) {
    (void)feature;
    return num(json_object_get(w, "estimated_performance"), "accuracy");
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of get() over windows[i - MW_DIAG_BASELINE_WINDOWS .. i - 1] (finite
 * values only); NaN when there are none. */
static double baseline(json_t *const *windows, size_t i, window_value_fn get,
                       const char *feature) {
    double v[MW_DIAG_BASELINE_WINDOWS];
    size_t k = 0;
    for (size_t j = i > MW_DIAG_BASELINE_WINDOWS ? i - MW_DIAG_BASELINE_WINDOWS : 0; j < i; j++) {
        double x = get(windows[j], feature);
        if (isfinite(x)) v[k++] = x;
    }
    if (!k) return NAN;
    qsort(v, k, sizeof *v, cmp_double);
    return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

static int column_findings(const char *version, json_t *const *windows, size_t i, double t,
                           mw_findings *out) {
    const json_t *w = windows[i];
    double ref_rows = num(json_object_get(w, "reference"), "rows");
    double cur_rows = num(json_object_get(w, "current"), "rows");
    size_t k;
    json_t *c;
    json_array_foreach(json_object_get(w, "columns"), k, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        if (!name) continue;
        const json_t *d = json_object_get(c, "drift");
        if (json_is_true(json_object_get(d, "drifted"))) {
            char measure[64];
            double e = mw_diag_effect_size(c, ref_rows, cur_rows, measure, sizeof measure);
            if (!mw_findings_add(out, t, "drift", version, name, isfinite(e) ? e : 0,
                                 "feature %s drifted: %s statistic %.4g, p %.3g (effect %.3f, %s)",
                                 name, json_string_value(json_object_get(d, "test")),
                                 num(d, "statistic"), num(d, "p_value"), e, measure))
                return 0;
        }
        const json_t *q = json_object_get(c, "quality");
        double cur = num(q, "current_missing_share");
        double base = baseline(windows, i, missing_share, name);
        if (!isfinite(base)) base = num(q, "reference_missing_share");
        if (!isfinite(base)) base = 0;
        if (isfinite(cur) && cur - base >= 0.05 && cur >= 2 * base &&
            !mw_findings_add(out, t, "quality", version, name, cur - base,
                             "feature %s missing in %.1f%% of records (baseline %.1f%%)", name,
                             100 * cur, 100 * base))
            return 0;
    }
    return 1;
}

static int window_findings(const char *version, json_t *const *windows, size_t i,
                           mw_findings *out) {
    const json_t *w = windows[i];
    double t = num(w, "end");
    if (!isfinite(t)) return 1;
    if (!column_findings(version, windows, i, t, out)) return 0;
    const json_t *o = json_object_get(w, "outliers");
    double p = num(o, "p_value"), share = num(o, "share"), expect = num(o, "expected_share");
    if (p < 0.001 && isfinite(share) && isfinite(expect) && expect < 1 &&
        !mw_findings_add(out, t, "outliers", version, NULL, (share - expect) / (1 - expect),
                         "outlier share %.2f%% (expected %.2f%%, binomial p %.3g)", 100 * share,
                         100 * expect, p))
        return 0;
    double p99 = latency_p99(w, NULL), base = baseline(windows, i, latency_p99, NULL);
    if (isfinite(p99) && base > 0 && p99 >= 2 * base &&
        !mw_findings_add(out, t, "latency", version, NULL, 1 - base / p99,
                         "p99 latency %.4g ms, %.1fx the baseline %.4g ms", p99, p99 / base, base))
        return 0;
    double er = error_ratio(w, NULL);
    base = baseline(windows, i, error_ratio, NULL);
    if (!isfinite(base)) base = 0;
    if (isfinite(er) && er - base >= 0.05 && er >= 2 * base &&
        !mw_findings_add(out, t, "errors", version, NULL, er - base,
                         "error ratio %.1f%% (baseline %.1f%%)", 100 * er, 100 * base))
        return 0;
    double acc = accuracy(w, NULL);
    base = baseline(windows, i, accuracy, NULL);
    if (isfinite(acc) && base > 0 && base - acc >= 0.02 &&
        !mw_findings_add(out, t, "performance", version, NULL, (base - acc) / base,
                         "estimated accuracy %.3f, down from %.3f", acc, base))
        return 0;
    return 1;
}

int mw_diag_windows(const char *version, json_t *const *windows, size_t n, size_t first,
                    mw_findings *out) {
    for (size_t i = first; i < n; i++)
        if (!window_findings(version, windows, i, out)) return 0;
    return 1;
}

/* ---- linking and ordering ---------------------------------------------------------------- */

static int is_change(const mw_finding *f) {
    return !strcmp(f->kind, "alias_move") || !strcmp(f->kind, "version_registered");
}

void mw_diag_link_changes(mw_findings *fs) {
    for (size_t i = 0; i < fs->n; i++) {
        mw_finding *c = &fs->f[i];
        if (!is_change(c) || !c->version) continue;
        for (size_t j = 0; j < fs->n; j++) {
            const mw_finding *s = &fs->f[j];
            if (!is_change(s) && s->version && !strcmp(s->version, c->version) &&
                s->time >= c->time && s->score > c->score)
                c->score = s->score;
        }
    }
}

static int strcmp_null(const char *a, const char *b) {
    return a && b ? strcmp(a, b) : (a != NULL) - (b != NULL);
}

static int cmp_time(const void *pa, const void *pb) {
    const mw_finding *a = pa, *b = pb;
    if (a->time != b->time) return a->time < b->time ? -1 : 1;
    int c = strcmp(a->kind, b->kind);
    if (!c) c = strcmp_null(a->version, b->version);
    if (!c) c = strcmp_null(a->feature, b->feature);
    return c;
}

void mw_findings_sort_time(mw_findings *fs) {
    if (fs->n) qsort(fs->f, fs->n, sizeof *fs->f, cmp_time);
}

static int cmp_rank(const void *pa, const void *pb) {
    const mw_finding *a = *(const mw_finding *const *)pa, *b = *(const mw_finding *const *)pb;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->time != b->time) return a->time > b->time ? -1 : 1;
    return (a > b) - (a < b);
}

void mw_findings_rank(const mw_findings *fs, const mw_finding **order) {
    for (size_t i = 0; i < fs->n; i++) order[i] = &fs->f[i];
    if (fs->n) qsort(order, fs->n, sizeof *order, cmp_rank);
}
