/*
 * Diagnosis (`modelwatch diagnose`): findings drawn from stored window results
 * and from the registry and alert history, each with a score in [0, 1], and
 * their ranking. Pure functions over jansson trees; the CLI does the reading.
 *
 * Scores (README "`modelwatch diagnose`" documents the same):
 *   drift        the drifted feature's effect size (mw_diag_effect_size)
 *   quality      current missing share minus the baseline missing share
 *   outliers     (share - expected) / (1 - expected), when binomial p < 0.001
 *   latency      1 - baseline p99 / window p99, when p99 >= 2 x baseline
 *   errors       error ratio minus the baseline error ratio
 *   performance  (baseline accuracy - accuracy) / baseline accuracy
 *   alert        1 critical, 0.75 warning, 0.5 any other severity
 *   alias_move   0.5, version_registered 0.25, each raised to the highest
 *                score of a later symptom on the version it brought in
 * The baseline of a window is the median of the same quantity over the up to
 * MW_DIAG_BASELINE_WINDOWS windows of the same version that precede it
 * (for missing shares, the reference's share when there are none).
 */
#ifndef MW_REPORT_DIAGNOSE_H
#define MW_REPORT_DIAGNOSE_H

#include <jansson.h>
#include <stddef.h>

#define MW_DIAG_BASELINE_WINDOWS 24

typedef struct mw_finding {
    double time;    /* unix seconds */
    const char *kind; /* static string: "drift", "alias_move", ... */
    char *version;  /* NULL when none */
    char *feature;  /* drift and quality findings; else NULL */
    char *what;     /* one sentence */
    double score;   /* [0, 1] */
} mw_finding;

typedef struct mw_findings {
    mw_finding *f;
    size_t n, cap;
} mw_findings;

/* Appends a finding (version and feature may be NULL); 0 when out of memory. */
int mw_findings_add(mw_findings *fs, double time, const char *kind, const char *version,
                    const char *feature, double score, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
void mw_findings_free(mw_findings *fs);

/*
 * Effect size in [0, 1] of one column of a window result (the drift report's
 * column object), from its deciding test, else from the first other computed
 * test that has one, else 1 - p-value of the deciding test:
 *   ks, tvd, hellinger, jensenshannon   the statistic itself (bounded by 1)
 *   wasserstein_norm, psi, kl           s / (1 + s)  (unbounded divergences)
 *   wasserstein, energy                 s / std(reference), then s / (1 + s)
 *   chi2, gtest                         Cramér's V of the 2 x k table:
 *                                       sqrt(statistic / non-missing values
 *                                       of reference and window together)
 *   anything else                       1 - p-value
 * ref_rows and cur_rows are the rows of reference and window
 * (the result's "reference"/"current" rows; the column's missing counts are
 * taken off). measure (may be NULL) gets what was used, e.g. "ks",
 * "Cramer's V of chi2", "1-p(cvm)". NaN when the column has no usable test.
 */
double mw_diag_effect_size(const json_t *column, double ref_rows, double cur_rows, char *measure,
                           size_t size);

/*
 * Findings of one version's windows (results oldest first): drift, quality,
 * outliers, latency, errors and performance of windows[first..n-1]; windows
 * before `first` serve only as baselines. 0 when out of memory.
 */
int mw_diag_windows(const char *version, json_t *const *windows, size_t n, size_t first,
                    mw_findings *out);

/* Raises alias_move and version_registered scores to the highest score of a
 * later non-change finding of the version they brought in. */
void mw_diag_link_changes(mw_findings *fs);

/* Sorts by time, then kind, then version, then feature (the timeline). */
void mw_findings_sort_time(mw_findings *fs);
/* Fills order[0..n-1] with the findings by score (highest first), ties by
 * the newer time first, then their order in fs. */
void mw_findings_rank(const mw_findings *fs, const mw_finding **order);

#endif
