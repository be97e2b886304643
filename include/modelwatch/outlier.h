/*
 * modelwatch outliers: Isolation Forest and Local Outlier Factor detectors
 * fitted on reference data and applied to current rows or live records.
 *
 * Scores follow DESIGN.md (higher = more anomalous):
 *   - Isolation Forest (Liu, Ting & Zhou 2008): 2^(-E[h(x)] / c(psi)), which is
 *     -sklearn.ensemble.IsolationForest.score_samples (its own random trees, so
 *     equal in distribution, not bit for bit);
 *   - LOF (Breunig et al. 2000) in novelty mode: the local outlier factor of a
 *     new point against the reference, -LocalOutlierFactor(novelty=True)
 *     .score_samples, exactly (sklearn 1.2 semantics, duplicates included).
 *
 * The feature pipeline is part of the fitted detector: the chosen input columns
 * (numeric by default; categorical ones one-hot or ordinal encoded on request),
 * missing values imputed with the reference median (the most frequent category
 * for categorical columns), optional standardisation with the reference mean
 * and standard deviation (ddof 0). Constant and all-missing reference columns
 * are dropped with a note. The threshold is the (1 - contamination) quantile
 * (numpy linear interpolation) of the reference rows' scores, or set explicitly;
 * a row is an outlier when its score is above the threshold.
 *
 * Ownership: mw_outlier_fit borrows the table and options (columns copied);
 * the model is returned for the caller to free with mw_outlier_free (NULL is a
 * no-op). Strings returned by accessors live as long as the model.
 * Thread safety: a fitted model is immutable; every scoring, encoding and
 * explaining function takes it const and may run on many threads at once.
 */
#ifndef MODELWATCH_OUTLIER_H
#define MODELWATCH_OUTLIER_H

#include "modelwatch/core.h"
#include "modelwatch/data.h"
#include "modelwatch/stats.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mw_outlier_method { MW_OUTLIER_IFOREST = 0, MW_OUTLIER_LOF = 1 } mw_outlier_method;

typedef enum mw_outlier_encode {
    MW_OUTLIER_ENCODE_NONE = 0, /* categorical columns are not used */
    MW_OUTLIER_ENCODE_ONEHOT,   /* one 0/1 feature per reference category */
    MW_OUTLIER_ENCODE_ORDINAL   /* one feature: rank of the category in sorted order */
} mw_outlier_encode;

/* Options; all-zero means the defaults named below. */
typedef struct mw_outlier_options {
    mw_outlier_method method;
    uint32_t n_trees;     /* forest: number of trees (0 = 100) */
    uint32_t max_samples; /* forest: rows per tree (0 = auto = min(256, n); > n means n) */
    double max_features;  /* forest: share of features drawn per tree, (0, 1] (0 = 1.0) */
    uint32_t n_neighbors; /* LOF: k (0 = 20); the reference needs more than k rows */
    uint64_t seed;        /* forest: random seed (no hidden global state) */
    double contamination; /* share of reference rows above the threshold, (0, 0.5] (0 = 0.01) */
    int has_threshold;    /* 1: use threshold below instead of contamination */
    double threshold;
    mw_outlier_encode encode;   /* categorical columns (default: not used) */
    int standardize;            /* 1: scale each feature by the reference mean and sd */
    const char *const *columns; /* input columns (NULL = all usable ones) */
    size_t ncolumns;
    const mw_runner *runner; /* fitting's parallel parts (NULL = this thread); see core.h */
} mw_outlier_options;

typedef struct mw_outlier_model mw_outlier_model;

/* Fits a detector on the reference table. Errors: unknown or unusable columns
 * (named), infinite values (column and row), no usable column left, fewer
 * reference rows than k + 1 (LOF), invalid options. */
mw_status mw_outlier_fit(const mw_table *ref, const mw_outlier_options *opt, mw_outlier_model **out,
                         mw_error *err);
/* Fits on a row-major n x d matrix of finite numbers (NaN = missing, imputed);
 * names may be NULL ("x0", "x1", ... then). Same pipeline as mw_outlier_fit. */
mw_status mw_outlier_fit_matrix(const double *x, size_t n, size_t d, const char *const *names,
                                const mw_outlier_options *opt, mw_outlier_model **out,
                                mw_error *err);
void mw_outlier_free(mw_outlier_model *m);

/* ---- what was fitted ---------------------------------------------------- */

typedef struct mw_outlier_info {
    mw_outlier_method method;
    size_t n_reference;                       /* reference rows */
    size_t n_inputs;                          /* input columns used */
    size_t n_features;                        /* encoded features the detector sees */
    uint32_t n_trees, max_samples, max_depth; /* forest (effective values) */
    uint32_t n_neighbors;                     /* LOF k */
    uint64_t seed;
    mw_outlier_encode encode;
    int standardize;
    double contamination;      /* as used (NaN when the threshold was explicit) */
    double threshold;          /* score above which a row is an outlier */
    double expected_share;     /* share of reference rows above the threshold */
    uint64_t n_imputed;        /* reference values imputed */
    double ref_quantiles[101]; /* reference score percentiles 0..100 (linear) */
} mw_outlier_info;
void mw_outlier_get_info(const mw_outlier_model *m, mw_outlier_info *info);

/* Input column i < n_inputs: name, type, reference values imputed. */
const char *mw_outlier_input_name(const mw_outlier_model *m, size_t i);
mw_coltype mw_outlier_input_type(const mw_outlier_model *m, size_t i);
uint64_t mw_outlier_input_imputed(const mw_outlier_model *m, size_t i);
/* Feature j < n_features: "amount", "country=DE" (one-hot), and the input it comes from. */
const char *mw_outlier_feature_name(const mw_outlier_model *m, size_t j);
size_t mw_outlier_feature_input(const mw_outlier_model *m, size_t j);
/* Notes made while fitting (dropped columns and why), as sentences. */
size_t mw_outlier_nnotes(const mw_outlier_model *m);
const char *mw_outlier_note(const mw_outlier_model *m, size_t i);

/* ---- encoding and scoring (thread-safe) --------------------------------- */

/* Checks that table t has every input column with a usable type; the error
 * names all missing columns. */
mw_status mw_outlier_check_table(const mw_outlier_model *m, const mw_table *t, mw_error *err);
/* Encodes rows [begin, end) of t into (end - begin) x n_features doubles.
 * n_imputed / n_unseen (may be NULL) are incremented by the values imputed and
 * the categories never seen in the reference. Infinite values are errors. */
mw_status mw_outlier_encode_table(const mw_outlier_model *m, const mw_table *t, size_t begin,
                                  size_t end, double *features, uint64_t *n_imputed,
                                  uint64_t *n_unseen, mw_error *err);
/* One record: num[i] for numeric inputs (NaN = missing), cat[i] for categorical
 * inputs (NUL-terminated, NULL = missing); either array may be NULL when no
 * input has that type. features gets n_features doubles. */
mw_status mw_outlier_encode_row(const mw_outlier_model *m, const double *num,
                                const char *const *cat, double *features, uint64_t *n_imputed,
                                uint64_t *n_unseen, mw_error *err);
/* Scores n encoded rows (row-major, n x n_features). */
mw_status mw_outlier_score_features(const mw_outlier_model *m, const double *features, size_t n,
                                    double *scores);
/* Encodes and scores rows [begin, end) of t. */
mw_status mw_outlier_score_table(const mw_outlier_model *m, const mw_table *t, size_t begin,
                                 size_t end, double *scores, uint64_t *n_imputed, mw_error *err);
/* Encodes and scores one record (live path; see mw_outlier_encode_row). */
mw_status mw_outlier_score_row(const mw_outlier_model *m, const double *num, const char *const *cat,
                               double *score, mw_error *err);
/* 1 when score is above the model's threshold. */
int mw_outlier_is_outlier(const mw_outlier_model *m, double score);

/* Why a row is unusual: for the forest, the share of trees in which the
 * feature made the split that isolated the row in a leaf reached at less than
 * the average path length c(psi); for LOF, |x_j - mean of the neighbours' x_j|
 * divided by the reference standard deviation of feature j. */
typedef struct mw_outlier_reason {
    size_t feature; /* feature index (mw_outlier_feature_name) */
    double weight;
} mw_outlier_reason;
/* Writes up to max reasons, largest first; returns how many (0 on failure). */
size_t mw_outlier_explain(const mw_outlier_model *m, const double *features, mw_outlier_reason *out,
                          size_t max);

/* ---- serialisation ------------------------------------------------------ */

/* Serialises to a new buffer (caller frees). Versioned, little-endian, with a
 * checksum; load(save(m)) scores and saves bit-identically. */
mw_status mw_outlier_save(const mw_outlier_model *m, unsigned char **buf, size_t *len);
/* Loads a serialised model; anything malformed is MW_ECORRUPT, never a crash. */
mw_status mw_outlier_load(const void *buf, size_t len, mw_outlier_model **out, mw_error *err);

/* ---- statistics ----------------------------------------------------------- */

/* Average path length of an unsuccessful search in a binary search tree of n
 * points, c(n) = 2 H(n-1) - 2 (n-1)/n with H(i) = ln(i) + Euler's gamma,
 * c(2) = 1, c(n <= 1) = 0 (sklearn's _average_path_length). */
double mw_iforest_c(double n);
/* The binomial test of the outlier share, mw_binom_test_greater, is declared
 * in stats.h (included here). */

#ifdef __cplusplus
}
#endif
#endif
