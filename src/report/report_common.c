/*
 * What all report formats share: the format dispatch, the drift ordering of
 * columns, and the wording of quality findings, so that text, JSON and HTML
 * agree on what counts as an issue.
 *
 * A column quality issue is: current missing share above the reference's by
 * more than one point (or any missing where the reference had none), type
 * errors, infinities, current values outside the reference range, categories
 * the reference never had, and a column constant on one side only.
 */
#include "report/report_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mw_report_format_from_name(const char *name, mw_report_format *fmt) {
    if (!strcmp(name, "text"))
        *fmt = MW_FORMAT_TEXT;
    else if (!strcmp(name, "json"))
        *fmt = MW_FORMAT_JSON;
    else if (!strcmp(name, "html"))
        *fmt = MW_FORMAT_HTML;
    else
        return 0;
    return 1;
}

static mw_status flush_status(FILE *out) {
    return fflush(out) == 0 && !ferror(out) ? MW_OK : MW_EIO;
}

mw_status mw_report_drift(FILE *out, const mw_drift_report *r, mw_report_format fmt) {
    if (fmt == MW_FORMAT_JSON)
        mw_report_drift_json(out, r);
    else if (fmt == MW_FORMAT_HTML)
        mw_report_drift_html(out, r, 0);
    else
        mw_report_drift_text(out, r);
    return flush_status(out);
}

mw_status mw_report_quality(FILE *out, const mw_drift_report *r, mw_report_format fmt) {
    if (fmt == MW_FORMAT_JSON)
        mw_report_quality_json(out, r);
    else if (fmt == MW_FORMAT_HTML)
        mw_report_drift_html(out, r, 1);
    else
        mw_report_quality_text(out, r);
    return flush_status(out);
}

mw_status mw_report_profile(FILE *out, const mw_profile *p, const char *source, uint64_t rows,
                            mw_report_format fmt) {
    if (fmt == MW_FORMAT_JSON)
        mw_report_profile_json(out, p, source, rows);
    else if (fmt == MW_FORMAT_HTML)
        mw_report_profile_html(out, p, source, rows);
    else
        mw_report_profile_text(out, p, source, rows);
    return flush_status(out);
}

double mw_report_drift_score(const mw_column_report *c) {
    if (!c->tested) return -1;
    if (mw_test_has_p_value(c->drift_test)) {
        double p = c->p_adjusted > 0 ? c->p_adjusted : 1e-300;
        return log(p) / log(c->threshold); /* > 1 when p < threshold */
    }
    if (isinf(c->statistic)) return INFINITY;
    return c->threshold > 0 ? c->statistic / c->threshold : c->statistic;
}

static int by_score(const void *a, const void *b, void *ctx) {
    const mw_drift_report *r = ctx;
    const mw_column_report *x = &r->cols[*(const size_t *)a];
    const mw_column_report *y = &r->cols[*(const size_t *)b];
    if (x->drifted != y->drifted) return y->drifted - x->drifted;
    double sx = mw_report_drift_score(x), sy = mw_report_drift_score(y);
    if (sx != sy) return sx < sy ? 1 : -1;
    return strcmp(x->name, y->name);
}

void mw_report_drift_order(const mw_drift_report *r, size_t *order) {
    for (size_t i = 0; i < r->ncols; i++)
        order[i] = i;
    qsort_r(order, r->ncols, sizeof *order, by_score, (void *)r);
}

static double pct(uint64_t part, uint64_t whole) {
    return whole ? 100.0 * (double)part / (double)whole : 0;
}

size_t mw_report_column_issues(const mw_column_report *c, char out[][96], size_t max) {
    size_t n = 0;
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (n < max) snprintf(out[n++], 96, __VA_ARGS__);                                          \
    } while (0)
    double rm = pct(c->ref_missing, c->ref_count), cm = pct(c->cur_missing, c->cur_count);
    if ((c->cur_missing && !c->ref_missing) || cm - rm > 1.0)
        ADD("missing %.1f%% (reference %.1f%%)", cm, rm);
    if (c->cur_type_errors)
        ADD("%llu values are not %s (e.g. \"%.24s\")", (unsigned long long)c->cur_type_errors,
            c->type == MW_TYPE_NUMERIC ? "numbers" : "valid",
            c->n_type_error_examples ? c->type_error_example[0] : "");
    if (c->cur_inf) ADD("%llu infinite values", (unsigned long long)c->cur_inf);
    uint64_t oor = c->cur_below_range + c->cur_above_range;
    if (c->type == MW_TYPE_NUMERIC && oor)
        ADD("%.1f%% outside reference range [%.6g, %.6g]", pct(oor, c->cur_values), c->ref_min,
            c->ref_max);
    if (c->type == MW_TYPE_CATEGORICAL && c->unseen_values)
        ADD("%.1f%% unseen categories (%llu, e.g. \"%.24s\")", pct(c->unseen_values, c->cur_values),
            (unsigned long long)c->unseen_distinct,
            c->n_unseen_examples ? c->unseen_example[0] : "");
    if (c->cur_constant && !c->ref_constant && c->cur_values) ADD("constant in current data");
    if (c->ref_constant && !c->cur_constant && c->ref_values) ADD("constant in reference data");
    if (!c->cur_values && c->cur_count) ADD("no values in current data");
#undef ADD
    return n;
}

uint64_t mw_report_quality_issue_count(const mw_drift_report *r) {
    uint64_t n =
        r->n_only_ref + r->n_only_cur + (r->cur_duplicate_rows > 0) + (r->cur_empty_rows > 0);
    char buf[8][96];
    for (size_t i = 0; i < r->ncols; i++)
        n += mw_report_column_issues(&r->cols[i], buf, 8);
    return n;
}
