/*
 * Internals of the outlier detectors shared by outlier_common.c (feature
 * pipeline, thresholds, model, serialisation), iforest.c and lof.c, and used by
 * the unit tests (hand-built trees). Not part of the public API.
 */
#ifndef MW_MONITOR_OUTLIER_INT_H
#define MW_MONITOR_OUTLIER_INT_H

#include "core/util.h"
#include "modelwatch/outlier.h"

/* ---- Isolation Forest over a row-major feature matrix ------------------- */

/* One flattened tree node (16 bytes). Internal: x[feat] <= thr goes to left,
 * else to left + 1 (children are stored side by side, after their parent).
 * Leaf: thr = +inf and left = its own index, so a fixed number of steps from
 * the root always ends on the leaf without a branch. */
typedef struct mw_if_node {
    double thr;
    uint32_t feat;
    uint32_t left;
} mw_if_node;

/* The forest in rank space for the AVX-512 batch kernel (iforest_fast.c),
 * derived from the nodes after fitting and loading, never saved. */
typedef struct mw_if_fast {
    uint32_t depth;    /* D: every tree completed to this depth */
    size_t stride;     /* entries per tree in node (>= 16) and leaf (2^D) */
    size_t dpad;       /* features per block of ranks, d + 1 (4-byte reads stay inside) */
    uint32_t *cut_off; /* d + 1: feature j's thresholds are cut[cut_off[j] .. cut_off[j+1]) */
    double *cut;       /* distinct thresholds of each feature, ascending */
    uint32_t *node;    /* heap order (children of i: 2i+1, 2i+2): feat << 16 | rank of thr */
    double *leaf;      /* per tree 2^D leaf values, in heap order of depth D */
    /* the threshold search (iforest_fast.c): feature j's range of cuts in
     * cells of equal width, cell(x) = min(max((x - cell_lo) cell_scale, 0),
     * cell_max); cell_start[cell_at[j] + c]: cuts in cells below c; the cuts
     * again, each feature's followed by 2^cell_steps[j] of +inf, from
     * padded + pad_at[j] */
    double *cell_lo, *cell_scale;
    uint32_t *cell_max, *cell_at, *cell_start, *pad_at;
    uint8_t *cell_steps;
    double *padded;
} mw_if_fast;

typedef struct mw_iforest {
    size_t d; /* features */
    uint32_t n_trees;
    uint32_t max_samples; /* psi */
    uint32_t max_depth;   /* ceil(log2(max(psi, 2))) */
    double c_psi;         /* c(psi) */
    uint32_t *root;       /* n_trees + 1: tree t owns nodes [root[t], root[t+1]) */
    uint8_t *steps;       /* n_trees: depth of the deepest leaf of the tree */
    size_t n_nodes;
    mw_if_node *nodes;
    double *value;    /* n_nodes: leaf: depth + c(leaf size); internal: 0 */
    mw_if_fast *fast; /* NULL: the portable scoring path (no AVX-512, or limits exceeded) */
    int portable;     /* tests: score with the portable path even when fast is there */
} mw_iforest;

typedef struct mw_iforest_params {
    uint32_t n_trees, max_samples;
    double max_features;
    uint64_t seed;
    const mw_runner *runner; /* trees built in parallel (NULL: on this thread) */
} mw_iforest_params;

mw_status mw_iforest_fit(const double *x, size_t n, size_t d, const mw_iforest_params *p,
                         mw_iforest **out);
/* Builds a forest from given nodes (copied), for tests and loading: checks
 * every index, so a malformed forest is MW_ECORRUPT. */
mw_status mw_iforest_from_nodes(size_t d, uint32_t n_trees, uint32_t max_samples,
                                const uint32_t *root, const mw_if_node *nodes, size_t n_nodes,
                                const double *value, mw_iforest **out);
void mw_iforest_free(mw_iforest *f);
/* Scores n rows (row-major, d columns). */
void mw_iforest_score(const mw_iforest *f, const double *x, size_t n, double *scores);
/* Mean path length E[h(x)] of one row (for tests of the formulas). */
double mw_iforest_path_length(const mw_iforest *f, const double *row);
/* Per-feature isolation counts (d doubles, shares of trees); see outlier.h. */
void mw_iforest_explain(const mw_iforest *f, const double *row, double *weight);
void mw_iforest_save(const mw_iforest *f, mw_buf *b);
/* iforest_fast.c: builds f->fast when the CPU has AVX-512 and the forest fits
 * its limits (leaves it NULL otherwise, or on ENOMEM: scoring stays correct);
 * frees it; scores rows [0, n) with it, the same bits as the portable path. */
void mw_if_fast_build(mw_iforest *f);
void mw_if_fast_free(mw_if_fast *q);
int mw_if_fast_score(const mw_iforest *f, const double *x, size_t n, double *sum_h);
mw_status mw_iforest_load(mw_reader *r, size_t d, mw_iforest **out);

/* ---- LOF (novelty) over a row-major feature matrix ---------------------- */

typedef struct mw_lof {
    size_t n, d;
    uint32_t k;
    double *x;     /* n x d reference rows */
    double *kdist; /* n: distance to the k-th neighbour among the other rows */
    double *lrd;   /* n: local reachability density */
    /* derived, rebuilt on load: reference in blocks of 8 rows, feature-major
     * inside a block (blk[b][f][lane]), and squared norms (padding: +inf) */
    size_t nblk;
    double *blk;
    double *norm2;
    /* derived when the CPU has AVX-512 (lof.c), for its single-precision
     * filter: the reference centred on its mean (center), as floats in blocks
     * of 16 rows (blkf[b][f][lane]), the float rows' squared norms in double
     * (norm2f) and in float (norm2s; padding NaN); NULL otherwise */
    size_t nblkf;
    double *center;
    float *blkf;
    double *norm2f;
    float *norm2s;
    int portable; /* tests: use the portable kernel even when AVX-512 is there */
} mw_lof;

/* Fits on n > k rows, the reference rows' neighbours found in blocks on the
 * runner (NULL: this thread); ref_scores (n, may be NULL) gets the reference
 * rows' leave-one-out LOF (-negative_outlier_factor_). */
mw_status mw_lof_fit(const double *x, size_t n, size_t d, uint32_t k, const mw_runner *runner,
                     mw_lof **out, double *ref_scores);
void mw_lof_free(mw_lof *l);
/* Scores m query rows; nbrs (m x k, may be NULL) gets each row's neighbours,
 * nearest first. MW_ENOMEM is the only failure. */
mw_status mw_lof_score(const mw_lof *l, const double *q, size_t m, double *scores, uint32_t *nbrs);
/* k nearest reference rows of each of m query rows (exact; ties by index).
 * exclude_self: query row i is reference row i, which is skipped. */
mw_status mw_lof_knn(const mw_lof *l, const double *q, size_t m, int exclude_self, double *dist,
                     uint32_t *idx);
void mw_lof_save(const mw_lof *l, mw_buf *b);
mw_status mw_lof_load(mw_reader *r, size_t d, mw_lof **out);

/* ---- the fitted model (outlier_common.c, outlier_io.c) ----------------- */

enum { MW_IN_NUMERIC = 0, MW_IN_ONEHOT = 1, MW_IN_ORDINAL = 2 };

typedef struct mw_outlier_input {
    char *name;
    int kind;    /* MW_IN_* */
    double fill; /* numeric: reference median; categorical: index of the mode */
    size_t ncat; /* categorical: reference categories, sorted by bytes */
    char **cats;
    mw_dict *dict;       /* cats interned in order: code = index */
    size_t feat0, nfeat; /* features it encodes to */
    uint64_t n_imputed;  /* reference values imputed */
} mw_outlier_input;

struct mw_outlier_model {
    mw_outlier_method method;
    mw_outlier_encode encode;
    int standardize, has_threshold;
    uint64_t seed;
    double contamination, threshold, expected_share;
    size_t n_ref;
    uint64_t n_imputed;
    size_t nin;
    mw_outlier_input *in;
    size_t nfeat;
    char **fname;
    size_t *finput;
    double *mean, *scale; /* feature = (encoded - mean) / scale (identity without standardize) */
    double *fsd;          /* sd of each feature as the detector sees it (explanations) */
    size_t nnotes;
    char **notes;
    double q[101]; /* reference score percentiles */
    mw_iforest *forest;
    mw_lof *lof;
};

mw_status mw_outlier_add_note(mw_outlier_model *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
mw_status mw_outlier_layout(mw_outlier_model *m);
mw_status mw_outlier_build_dict(mw_outlier_input *in);

#endif
