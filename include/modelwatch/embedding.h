/*
 * modelwatch embeddings: drift between a reference and a current set of
 * embedding vectors (issue #9), for the batch CLI and the daemon's windows.
 *
 * Two tests on bounded samples (at most max_samples vectors per side, a
 * uniform subset drawn with the seed):
 *  - mmd: the unbiased estimator of the squared maximum mean discrepancy
 *    (Gretton et al., "A Kernel Two-Sample Test", JMLR 2012, eq. 3) with the
 *    RBF kernel k(x, y) = exp(-||x - y||^2 / (2 sigma^2)), where sigma is the
 *    median heuristic: the median (numpy.median) of the Euclidean distances
 *    between all pairs of distinct rows of the pooled sample
 *    (scipy.spatial.distance.pdist), and 1 when that median is 0. Its p-value
 *    comes from a permutation test: P random relabellings of the pooled
 *    sample, p = (1 + #{permuted statistic >= observed}) / (1 + P); the same
 *    seed gives the same p-value. Drift when p < p_threshold (0.05).
 *  - classifier: a domain classifier (reference = 0, current = 1),
 *    L2-regularised logistic regression (C = 1, as scikit-learn's default) on
 *    features standardised with the training fold's mean and sd, scored by
 *    stratified k-fold (k = 5) cross-validated ROC AUC: the mean of the folds'
 *    AUCs, as cross_val_score(..., scoring='roc_auc').mean(). Folds: within
 *    each class, the i-th row of the sample goes to fold i mod k (no random
 *    shuffling, so sklearn reproduces them with PredefinedSplit). Drift when
 *    AUC > auc_threshold (0.55, Evidently's default).
 * The embedding drifts when either test says so. A per-dimension summary
 * lists the top_k dimensions by |shift|, shift = (mean_cur - mean_ref) /
 * pooled sd, pooled sd = sqrt(((n-1) s_ref^2 + (m-1) s_cur^2) / (n + m - 2))
 * (Cohen's d), over every row passed in (not only the sample); a dimension
 * whose pooled sd is 0 has shift 0 when the means agree, else +-inf.
 *
 * Inputs are row-major matrices of finite doubles (rows x dim), borrowed.
 */
#ifndef MODELWATCH_EMBEDDING_H
#define MODELWATCH_EMBEDDING_H

#include "modelwatch/core.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MW_EMBEDDING_MAX_DIM 65536
#define MW_EMBEDDING_DEFAULT_SAMPLES 1000
#define MW_EMBEDDING_MAX_SAMPLES 10000 /* per side: the pooled kernel matrix is O(n^2) */
#define MW_EMBEDDING_DEFAULT_PERMUTATIONS 100
#define MW_EMBEDDING_MAX_PERMUTATIONS 10000
#define MW_EMBEDDING_TOP_MAX 20

/* ---- the kernel two-sample test (src/stats/mmd.c) ---------------------- */

typedef struct mw_mmd_result {
    double statistic; /* unbiased MMD^2 (may be slightly negative) */
    double p_value;   /* NAN with 0 permutations */
    double bandwidth; /* sigma */
} mw_mmd_result;

/* MMD^2 between x (n x dim) and y (m x dim), n, m >= 2, with the median
 * bandwidth and a permutation p-value from `permutations` relabellings drawn
 * with seed. Memory: about 8 (n + m)^2 bytes (the pooled kernel matrix, packed
 * upper triangle, and the distances for the median). MW_EINVAL for too few
 * rows or non-finite values, MW_ENOMEM. */
mw_status mw_mmd_rbf(const double *x, size_t n, const double *y, size_t m, size_t dim,
                     size_t permutations, uint64_t seed, mw_mmd_result *out);

/* ---- logistic regression (src/stats/logreg.c) ------------------------- */

/*
 * Fits L2-regularised logistic regression: minimises
 *   C * sum_i log(1 + exp(-s_i (w . x_i + b))) + ||w||^2 / 2,  s_i = +-1 for y_i = 1/0,
 * (scikit-learn's LogisticRegression(C=C) objective; the intercept is not
 * penalised) by L-BFGS (10 corrections, backtracking line search) until the
 * largest gradient component is below tol * max(1, |f|) or after max_iter
 * iterations. x is n x dim row-major, y 0/1; coef gets dim + 1 values (w,
 * then b). Returns the iterations used through *iters (may be NULL).
 */
mw_status mw_logreg_fit(const double *x, const unsigned char *y, size_t n, size_t dim, double c,
                        double tol, size_t max_iter, double *coef, size_t *iters);

/* ---- embedding drift (src/monitor/embedding.c) -------------------------- */

typedef struct mw_embedding_options {
    size_t max_samples;   /* per side; 0 = MW_EMBEDDING_DEFAULT_SAMPLES */
    size_t permutations;  /* 0 = MW_EMBEDDING_DEFAULT_PERMUTATIONS */
    uint64_t seed;        /* sampling and permutations */
    double p_threshold;   /* mmd: drift when p < this; 0 = 0.05 */
    double auc_threshold; /* classifier: drift when AUC > this; 0 = 0.55 */
    size_t folds;         /* 0 = 5 */
    size_t top_k;         /* dimensions in the shift summary; 0 = 5, at most MW_EMBEDDING_TOP_MAX */
} mw_embedding_options;

typedef struct mw_embedding_shift {
    size_t dim;
    double ref_mean, cur_mean, shift;
} mw_embedding_shift;

typedef struct mw_embedding_result {
    size_t dim;
    size_t n_ref, n_cur;           /* rows given */
    size_t n_ref_used, n_cur_used; /* rows in the tests' samples */
    mw_mmd_result mmd;
    size_t permutations;
    int mmd_drifted;
    double auc; /* cross-validated ROC AUC; NAN when fewer than 2 rows a side */
    size_t folds;
    int classifier_drifted;
    size_t ntop;
    mw_embedding_shift top[MW_EMBEDDING_TOP_MAX];
    int drifted; /* mmd_drifted || classifier_drifted */
    double p_threshold, auc_threshold;
    double seconds; /* wall time of the tests */
} mw_embedding_result;

/* Runs both tests and the shift summary. MW_EINVAL (err naming the side and
 * row) for fewer than 2 rows a side, a dim of 0 or above MW_EMBEDDING_MAX_DIM,
 * or a non-finite value; MW_ENOMEM. */
mw_status mw_embedding_drift(const double *ref, size_t n_ref, const double *cur, size_t n_cur,
                             size_t dim, const mw_embedding_options *opt, mw_embedding_result *out,
                             mw_error *err);

#ifdef __cplusplus
}
#endif
#endif
