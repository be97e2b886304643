/*
 * The drift test catalogue and the per-column runner: which tests apply to a
 * column, which one decides (see drift.h for the auto rules, which follow
 * Evidently's defaults), and the call into src/stats for each.
 *
 * Histogram measures (psi, kl, jensenshannon, hellinger, tvd) use the counts
 * on 10 reference-quantile bins for continuous numeric columns and the
 * category counts for categorical and discrete numeric columns.
 */
#include "monitor/drift_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const test_names[MW_TEST_COUNT] = {
    "ks",    "cvm",           "anderson",    "mannwhitney",
    "ttest", "energy",        "wasserstein", "wasserstein_norm",
    "chi2",  "gtest",         "fisher",      "psi",
    "kl",    "jensenshannon", "hellinger",   "tvd"};

const char *mw_test_name(mw_test_id t) {
    return (unsigned)t < MW_TEST_COUNT ? test_names[t] : "?";
}

int mw_test_from_name(const char *name, mw_test_id *t) {
    for (int i = 0; i < MW_TEST_COUNT; i++)
        if (!strcmp(name, test_names[i])) {
            *t = (mw_test_id)i;
            return 1;
        }
    return 0;
}

int mw_test_has_p_value(mw_test_id t) {
    switch (t) {
    case MW_TEST_KS:
    case MW_TEST_CVM:
    case MW_TEST_ANDERSON:
    case MW_TEST_MANNWHITNEY:
    case MW_TEST_TTEST:
    case MW_TEST_CHI2:
    case MW_TEST_GTEST:
    case MW_TEST_FISHER:
        return 1;
    default:
        return 0;
    }
}

double mw_test_default_threshold(mw_test_id t) {
    return mw_test_has_p_value(t) ? 0.05 : 0.1;
}

const char *mw_correction_name(mw_correction c) {
    switch (c) {
    case MW_CORRECTION_BONFERRONI:
        return "bonferroni";
    case MW_CORRECTION_BH:
        return "bh";
    default:
        return "none";
    }
}

double mw_drift_column_threshold(const mw_drift_options *opt, const char *column) {
    for (size_t i = 0; i < opt->ncolumn_thresholds; i++)
        if (!strcmp(opt->column_thresholds[i].column, column))
            return opt->column_thresholds[i].threshold;
    return opt->threshold;
}

static int is_histogram_measure(mw_test_id t) {
    return t == MW_TEST_PSI || t == MW_TEST_KL || t == MW_TEST_JENSENSHANNON ||
           t == MW_TEST_HELLINGER || t == MW_TEST_TVD;
}

int mw_drift_needs_bins(const mw_drift_options *opt) {
    if (opt->quality_only || opt->selection == MW_TESTS_AUTO) return 0;
    if (opt->selection == MW_TESTS_ALL) return 1;
    for (size_t i = 0; i < opt->nlist; i++)
        if (is_histogram_measure(opt->list[i])) return 1;
    return 0;
}

static int uses_categories(const mw_drift_data *d) {
    return d->type == MW_TYPE_CATEGORICAL || d->discrete;
}

/* Whether test t can run on this column at all. */
static int applies(const mw_drift_data *d, mw_test_id t) {
    switch (t) {
    case MW_TEST_CHI2:
    case MW_TEST_GTEST:
        return uses_categories(d);
    case MW_TEST_FISHER:
        return uses_categories(d) && d->ncat == 2;
    case MW_TEST_PSI:
    case MW_TEST_KL:
    case MW_TEST_JENSENSHANNON:
    case MW_TEST_HELLINGER:
    case MW_TEST_TVD:
        return 1;
    default: /* the numeric tests */
        return d->type == MW_TYPE_NUMERIC;
    }
}

static mw_test_id auto_test(const mw_drift_data *d) {
    int small = d->ref_values <= MW_AUTO_SMALL_N;
    if (uses_categories(d)) return small ? MW_TEST_CHI2 : MW_TEST_JENSENSHANNON;
    return small ? MW_TEST_KS : MW_TEST_WASSERSTEIN_NORM;
}

/* Population standard deviation (ddof 0) of sorted values, two-pass. */
static double std_ddof0(const double *v, size_t n) {
    double mean = 0;
    for (size_t i = 0; i < n; i++)
        mean += v[i];
    mean /= (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    return sqrt(ss / (double)n);
}

static void sample_moments(const double *v, size_t n, double *mean, double *var) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m += v[i];
    m /= (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - m) * (v[i] - m);
    *mean = m;
    *var = n > 1 ? ss / (double)(n - 1) : NAN;
}

static mw_status run_one(const mw_drift_data *d, mw_test_id t, mw_test_result *r) {
    const double *hr = uses_categories(d) ? d->ref_counts : d->ref_bins;
    const double *hc = uses_categories(d) ? d->cur_counts : d->cur_bins;
    size_t hk = uses_categories(d) ? d->ncat : d->nbins;
    r->p_value = NAN;
    switch (t) {
    case MW_TEST_KS:
        return mw_ks_2samp(d->ref, d->nref, d->cur, d->ncur, r);
    case MW_TEST_CVM:
        return mw_cvm_2samp(d->ref, d->nref, d->cur, d->ncur, r);
    case MW_TEST_ANDERSON:
        return mw_anderson_ksamp(d->ref, d->nref, d->cur, d->ncur, r);
    case MW_TEST_MANNWHITNEY:
        return mw_mannwhitneyu(d->ref, d->nref, d->cur, d->ncur, r);
    case MW_TEST_ENERGY:
        return mw_energy_distance(d->ref, d->nref, d->cur, d->ncur, r);
    case MW_TEST_WASSERSTEIN:
        return mw_wasserstein_distance(d->ref, d->nref, d->cur, d->ncur, r);
    case MW_TEST_WASSERSTEIN_NORM: {
        mw_status st = mw_wasserstein_distance(d->ref, d->nref, d->cur, d->ncur, r);
        if (st) return st;
        /* the batch path summed the squared deviations already (same order) */
        double sd = d->have_ref_ss ? sqrt(d->ref_ss / (double)d->nref) : std_ddof0(d->ref, d->nref);
        r->statistic = sd > 0 ? r->statistic / sd : (r->statistic == 0 ? 0 : INFINITY);
        return MW_OK;
    }
    case MW_TEST_TTEST: {
        if (d->nref < 2 || d->ncur < 2) return MW_EINVAL;
        double m1, v1, m2, v2;
        sample_moments(d->ref, d->nref, &m1, &v1);
        sample_moments(d->cur, d->ncur, &m2, &v2);
        mw_status st = mw_ttest_welch(m1, v1, (double)d->nref, m2, v2, (double)d->ncur, r);
        /* both sides constant: scipy gives nan; report the test as not computable */
        return st == MW_OK && isnan(r->statistic) ? MW_EINVAL : st;
    }
    case MW_TEST_CHI2:
    case MW_TEST_GTEST: {
        size_t nonzero = 0;
        for (size_t i = 0; i < d->ncat; i++)
            nonzero += d->ref_counts[i] + d->cur_counts[i] > 0;
        if (nonzero < 2) { /* one category overall: scipy's dof = 0 answer */
            r->statistic = 0;
            r->p_value = 1;
            return MW_OK;
        }
        return mw_chi2_contingency(d->ref_counts, d->cur_counts, d->ncat, t == MW_TEST_GTEST, r);
    }
    case MW_TEST_FISHER:
        return mw_fisher_exact((uint64_t)d->ref_counts[0], (uint64_t)d->ref_counts[1],
                               (uint64_t)d->cur_counts[0], (uint64_t)d->cur_counts[1], r);
    case MW_TEST_PSI:
        r->statistic = mw_psi(hr, hc, hk);
        return MW_OK;
    case MW_TEST_KL:
        r->statistic = mw_kl(hr, hc, hk);
        return MW_OK;
    case MW_TEST_JENSENSHANNON:
        r->statistic = mw_jensenshannon(hr, hc, hk);
        return MW_OK;
    case MW_TEST_HELLINGER:
        r->statistic = mw_hellinger(hr, hc, hk);
        return MW_OK;
    case MW_TEST_TVD:
        r->statistic = mw_tvd(hr, hc, hk);
        return MW_OK;
    default:
        return MW_EINVAL;
    }
}

void mw_drift_run_tests(const mw_drift_data *d, const mw_drift_options *opt, double threshold,
                        mw_column_report *out) {
    out->computed = 0;
    out->tested = 0;
    out->drifted = 0;
    out->statistic = out->p_value = out->p_adjusted = out->threshold = NAN;
    if (d->nref == 0 && d->ncur == 0 && !uses_categories(d)) {
        snprintf(out->skip_reason, sizeof out->skip_reason, "no values on either side");
        return;
    }
    size_t ref_total = 0, cur_total = 0;
    if (uses_categories(d))
        for (size_t i = 0; i < d->ncat; i++) {
            ref_total += (size_t)d->ref_counts[i];
            cur_total += (size_t)d->cur_counts[i];
        }
    else {
        ref_total = d->nref;
        cur_total = d->ncur;
    }
    if (ref_total == 0 || cur_total == 0) {
        snprintf(out->skip_reason, sizeof out->skip_reason, "no values in the %s data",
                 ref_total == 0 ? "reference" : "current");
        return;
    }
    /* which tests to compute, and which decides */
    int want[MW_TEST_COUNT] = {0};
    mw_test_id decider = auto_test(d);
    int have_decider = 1;
    if (opt->selection == MW_TESTS_AUTO) {
        want[decider] = 1;
    } else if (opt->selection == MW_TESTS_ALL) {
        for (int t = 0; t < MW_TEST_COUNT; t++)
            want[t] = applies(d, (mw_test_id)t);
    } else {
        have_decider = 0;
        for (size_t i = 0; i < opt->nlist; i++)
            if (applies(d, opt->list[i])) {
                want[opt->list[i]] = 1;
                if (!have_decider) {
                    decider = opt->list[i];
                    have_decider = 1;
                }
            }
        if (!have_decider) {
            snprintf(out->skip_reason, sizeof out->skip_reason,
                     "none of the requested tests applies to a %s column",
                     d->discrete ? "discrete numeric" : mw_coltype_name(d->type));
            return;
        }
    }
    char failed_reason[160] = "";
    for (int t = 0; t < MW_TEST_COUNT; t++) {
        if (!want[t]) continue;
        mw_test_result r = {NAN, NAN};
        mw_status st = run_one(d, (mw_test_id)t, &r);
        if (st == MW_OK) {
            out->tests[t] = r;
            out->computed |= 1u << t;
        } else if ((mw_test_id)t == decider) {
            snprintf(failed_reason, sizeof failed_reason, "%s could not run: %s",
                     mw_test_name((mw_test_id)t), mw_status_str(st));
        }
    }
    if (!(out->computed & (1u << decider))) {
        snprintf(out->skip_reason, sizeof out->skip_reason, "%s",
                 failed_reason[0] ? failed_reason : "the deciding test could not run");
        return;
    }
    out->tested = 1;
    out->skip_reason[0] = 0;
    out->drift_test = decider;
    out->statistic = out->tests[decider].statistic;
    out->p_value = mw_test_has_p_value(decider) ? out->tests[decider].p_value : NAN;
    out->p_adjusted = out->p_value;
    out->threshold = isnan(threshold) ? mw_test_default_threshold(decider) : threshold;
    if (mw_test_has_p_value(decider))
        out->drifted = out->p_value < out->threshold;
    else
        out->drifted = out->statistic >= out->threshold;
}

mw_status mw_drift_report_finish(mw_drift_report *r) {
    /* the correction covers the deciding tests that have p-values */
    double *p = malloc((r->ncols + 1) * sizeof *p);
    if (!p) return MW_ENOMEM;
    for (size_t i = 0; i < r->ncols; i++)
        p[i] = r->cols[i].tested ? r->cols[i].p_value : NAN;
    if (r->correction == MW_CORRECTION_BONFERRONI)
        mw_correct_bonferroni(p, r->ncols);
    else if (r->correction == MW_CORRECTION_BH)
        mw_correct_bh(p, r->ncols);
    r->n_tested = r->n_drifted = 0;
    for (size_t i = 0; i < r->ncols; i++) {
        mw_column_report *c = &r->cols[i];
        if (!c->tested) continue;
        r->n_tested++;
        if (mw_test_has_p_value(c->drift_test)) {
            c->p_adjusted = p[i];
            c->drifted = c->p_adjusted < c->threshold;
        }
        r->n_drifted += c->drifted != 0;
    }
    free(p);
    r->drift_share = r->n_tested ? (double)r->n_drifted / (double)r->n_tested : 0;
    r->dataset_drift = r->n_tested > 0 && r->drift_share >= r->drift_share_threshold;
    return MW_OK;
}
