/*
 * Internal interface of the per-column drift runner: what the tests need of a
 * column, already prepared (sorted finite values, category counts over the
 * union of categories, counts on the reference's quantile bins). The batch
 * path prepares it from tables; the daemon will prepare it from window
 * profiles and baselines.
 */
#ifndef MW_MONITOR_DRIFT_INT_H
#define MW_MONITOR_DRIFT_INT_H

#include "modelwatch/drift.h"

#define MW_DISCRETE_MAX_DISTINCT 5 /* <= this many distinct reference values: categories */
#define MW_AUTO_SMALL_N 1000       /* <= this many reference values: p-value tests */
#define MW_QUANTILE_BINS 10

typedef struct mw_drift_data {
    mw_coltype type;
    int discrete;                 /* numeric column treated as categories */
    const double *ref, *cur;      /* numeric: sorted finite values */
    size_t nref, ncur;
    const double *ref_counts, *cur_counts; /* categories (categorical or discrete numeric) */
    size_t ncat;
    const double *ref_bins, *cur_bins;     /* numeric: counts on reference quantile bins */
    size_t nbins;
    uint64_t ref_values;          /* non-missing values on the reference side */
} mw_drift_data;

/* Runs the selected tests and fills out->computed, tests, tested, skip_reason,
 * drift_test, statistic, p_value, p_adjusted, threshold and drifted. */
void mw_drift_run_tests(const mw_drift_data *d, const mw_drift_options *opt, double threshold,
                        mw_column_report *out);

/* The threshold that applies to a column: per-column override, else the
 * global one, else NAN (the deciding test's default). */
double mw_drift_column_threshold(const mw_drift_options *opt, const char *column);

#endif
