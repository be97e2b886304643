/*
 * Internal interface of the per-column drift runner: what the tests need of a
 * column, already prepared (sorted finite values, category counts over the
 * union of categories, counts on the reference's quantile bins). The batch
 * path prepares it from tables; the daemon will prepare it from window
 * profiles and baselines.
 */
#ifndef MW_MONITOR_DRIFT_INT_H
#define MW_MONITOR_DRIFT_INT_H

#include "core/util.h"
#include "modelwatch/drift.h"

#define MW_DISCRETE_MAX_DISTINCT 5 /* <= this many distinct reference values: categories */
#define MW_AUTO_SMALL_N 1000       /* <= this many reference values: p-value tests */
#define MW_QUANTILE_BINS 10

typedef struct mw_drift_data {
    mw_coltype type;
    int discrete;            /* numeric column treated as categories */
    const double *ref, *cur; /* numeric: sorted finite values */
    size_t nref, ncur;
    const double *ref_counts, *cur_counts; /* categories (categorical or discrete numeric) */
    size_t ncat;
    const double *ref_bins, *cur_bins; /* numeric: counts on reference quantile bins */
    size_t nbins;
    uint64_t ref_values; /* non-missing values on the reference side */
    int have_ref_ss;     /* ref_ss is known (else tests compute it) */
    double ref_ss;       /* sum of (x - mean)^2 over ref, summed in index order */
} mw_drift_data;

/* Runs the selected tests and fills out->computed, tests, tested, skip_reason,
 * drift_test, statistic, p_value, p_adjusted, threshold and drifted. */
void mw_drift_run_tests(const mw_drift_data *d, const mw_drift_options *opt, double threshold,
                        mw_column_report *out);

/* 1 when the options may run a histogram measure (psi, kl, jensenshannon,
 * hellinger, tvd) on a continuous numeric column, which needs the counts on
 * the reference's quantile bins; auto never does. */
int mw_drift_needs_bins(const mw_drift_options *opt);

/* The threshold that applies to a column: per-column override, else the
 * global one, else NAN (the deciding test's default). */
double mw_drift_column_threshold(const mw_drift_options *opt, const char *column);

/* Applies the correction to the deciding p-values of the tested columns, then
 * sets n_tested, n_drifted, drift_share and dataset_drift. */
mw_status mw_drift_report_finish(mw_drift_report *r);

/* ---- column operations (column_ops.c) ---- */

/* Moves the finite values of v to its front and returns their count; adds the
 * NaNs (missing) to *missing and the infinities to *inf. */
size_t mw_col_compact_finite(double *v, size_t n, uint64_t *missing, uint64_t *inf);
/* Distinct values of a sorted array. */
uint64_t mw_col_count_distinct(const double *v, size_t n);
/* Mean and sample standard deviation (ddof 1; NaN when n < 2; both NaN when n == 0). */
void mw_col_moments(const double *v, size_t n, double *mean, double *sd);
/* Mean and sd as mw_col_moments, the sum of squared deviations from the mean
 * (NaN when n == 0) and the distinct count of a sorted array. */
typedef struct mw_col_summary {
    double mean, sd, ss;
    uint64_t distinct;
} mw_col_summary;
/* The summaries of two sorted arrays in two passes over both (same results as
 * mw_col_moments and mw_col_count_distinct on each). */
void mw_col_summary2(const double *a, size_t na, const double *b, size_t nb, mw_col_summary *sa,
                     mw_col_summary *sb);
/* Values of a sorted array below x / above x. */
size_t mw_col_count_below(const double *v, size_t n, double x);
size_t mw_col_count_above(const double *v, size_t n, double x);
/* Counts of each distinct value over the union of two sorted arrays (at most
 * max categories); returns the number of categories. */
size_t mw_col_value_categories(const double *a, size_t na, const double *b, size_t nb, double *ca,
                               double *cb, size_t max);
/* Counts of sorted values on the bins that edges define (numpy.searchsorted,
 * side='right'); counts holds nedges + 1. */
void mw_col_bin_counts(const double *v, size_t n, const double *edges, size_t nedges,
                       double *counts);

/* ---- embedding groups of a batch (batch_embedding.c) ---- */
typedef struct mw_emb_batch mw_emb_batch;
/* Finds the embedding groups of opt in the tables, fills r->embeddings (names
 * owned by *out), takes the groups' valid rows out and marks their columns
 * ignored. Call before planning the columns. *out is set even on failure (free it). */
mw_status mw_emb_batch_plan(mw_table *ref, mw_table *cur, const mw_drift_options *opt,
                            mw_emb_batch **out, mw_drift_report *r, mw_error *err);
/* Runs the tests of every group; a group that cannot be tested gets its skip_reason. */
mw_status mw_emb_batch_run(mw_emb_batch *e, const mw_embedding_options *opt, mw_drift_report *r);
void mw_emb_batch_free(mw_emb_batch *e);
/* One table alone (the daemon's reference): the valid rows of group prefix
 * (caller frees *rows; er gets the dimension, counts or a skip_reason), its
 * columns marked ignored. */
mw_status mw_emb_table_rows(mw_table *t, const char *prefix, mw_embedding_report *er, double **rows,
                            size_t *n, mw_error *err);
/* Marks ignored every column named KEY[i] (NDJSON arrays expanded by the
 * reader) that no embedding group took: other arrays stay skipped. */
void mw_emb_ignore_arrays(mw_table *t);
/* A uniform subset of at most cap rows of v (n x dim) into out, in row order
 * (embedding.c). */
mw_status mw_emb_sample_rows(const double *v, size_t n, size_t dim, size_t cap, mw_rng *rng,
                             double *out, size_t *kept);

#endif
