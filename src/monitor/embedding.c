/*
 * Embedding drift (contract and formulas in modelwatch/embedding.h): bounded
 * uniform samples of both sides, the MMD permutation test (src/stats/mmd.c),
 * the cross-validated domain classifier (logistic regression,
 * src/stats/logreg.c, scored by mw_roc_auc_binary of perf_rank.c) and the
 * per-dimension shift summary.
 *
 * Sampling: a side with more rows than max_samples keeps a uniform subset of
 * max_samples rows (partial Fisher-Yates over the row indices with the seed),
 * in their original order. The permutation test uses seed + 1.
 *
 * Classifier folds: within each class the i-th sampled row goes to fold
 * i mod k, k = min(folds, rows of the smaller side) (at least 2). Each fold's
 * training rows are standardised with their own mean and sd (ddof 0, sd 0 ->
 * 1, as StandardScaler), the test rows with the same; the fit is
 * mw_logreg_fit(C = 1, tol 1e-6, at most 500 iterations) and the fold's AUC
 * that of w . x + b on its test rows. tests/fixtures/gen_embedding.py
 * reproduces the folds with sklearn's PredefinedSplit.
 *
 * Measured on the project machine (2 cores, gcc -O2), 1000 x 1000 rows of
 * dimension 384: see README.md, Embedding drift (bench: test_embedding's
 * timing case prints it).
 */
#include "modelwatch/embedding.h"
#include "modelwatch/perf.h"

#include "core/util.h"
#include "monitor/drift_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define LR_C 1.0
#define LR_TOL 1e-6
#define LR_MAX_ITER 500

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static mw_status check_finite(const double *v, size_t n, size_t dim, const char *side,
                              mw_error *err) {
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < dim; k++)
            if (!isfinite(v[i * dim + k]))
                return mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                                    "embedding drift: %s row %zu, dimension %zu is not a finite "
                                    "number",
                                    side, i + 1, k);
    return MW_OK;
}

/* Copies a uniform subset of at most cap rows of v (n x dim) to out, in row order. */
mw_status mw_emb_sample_rows(const double *v, size_t n, size_t dim, size_t cap, mw_rng *rng,
                             double *out, size_t *kept) {
    if (n <= cap) {
        memcpy(out, v, n * dim * sizeof *out);
        *kept = n;
        return MW_OK;
    }
    size_t *idx = malloc(n * sizeof *idx);
    if (!idx) return MW_ENOMEM;
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    for (size_t i = 0; i < cap; i++) { /* partial Fisher-Yates */
        size_t j = i + (size_t)mw_rng_below(rng, (uint64_t)(n - i));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    /* keep the chosen rows in their original order: mark, then walk */
    unsigned char *take = calloc(n, 1);
    if (!take) {
        free(idx);
        return MW_ENOMEM;
    }
    for (size_t i = 0; i < cap; i++)
        take[idx[i]] = 1;
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (take[i]) memcpy(out + (w++) * dim, v + i * dim, dim * sizeof *out);
    free(take);
    free(idx);
    *kept = w;
    return MW_OK;
}

/* ---- per-dimension shifts --------------------------------------------------- */

static void column_moments(const double *v, size_t n, size_t dim, double *mean, double *var) {
    for (size_t k = 0; k < dim; k++)
        mean[k] = var[k] = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < dim; k++)
            mean[k] += v[i * dim + k];
    for (size_t k = 0; k < dim; k++)
        mean[k] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < dim; k++) {
            double e = v[i * dim + k] - mean[k];
            var[k] += e * e; /* sum of squares until divided below */
        }
}

static int by_shift(const void *a, const void *b) {
    const mw_embedding_shift *x = a, *y = b;
    double ax = fabs(x->shift), ay = fabs(y->shift);
    if (ax != ay) return ax < ay ? 1 : -1;
    return (x->dim > y->dim) - (x->dim < y->dim);
}

static mw_status top_shifts(const double *ref, size_t n, const double *cur, size_t m, size_t dim,
                            size_t top_k, mw_embedding_result *out) {
    double *mem = malloc(4 * dim * sizeof *mem);
    mw_embedding_shift *all = malloc(dim * sizeof *all);
    if (!mem || !all) {
        free(mem);
        free(all);
        return MW_ENOMEM;
    }
    double *mr = mem, *sr = mem + dim, *mc = mem + 2 * dim, *sc = mem + 3 * dim;
    column_moments(ref, n, dim, mr, sr);
    column_moments(cur, m, dim, mc, sc);
    for (size_t k = 0; k < dim; k++) {
        double sd = sqrt((sr[k] + sc[k]) / (double)(n + m - 2)), diff = mc[k] - mr[k];
        double shift = sd > 0 ? diff / sd : diff == 0 ? 0.0 : copysign(INFINITY, diff);
        all[k] =
            (mw_embedding_shift){.dim = k, .ref_mean = mr[k], .cur_mean = mc[k], .shift = shift};
    }
    qsort(all, dim, sizeof *all, by_shift);
    out->ntop = top_k < dim ? top_k : dim;
    memcpy(out->top, all, out->ntop * sizeof *all);
    free(mem);
    free(all);
    return MW_OK;
}

/* ---- domain classifier -------------------------------------------------------- */

/* Mean over the k folds of the test ROC AUC; x holds nr reference rows then nc current rows. */
static mw_status classifier_auc(const double *x, size_t nr, size_t nc, size_t dim, size_t k,
                                double *auc, mw_error *err) {
    size_t N = nr + nc;
    double *z = malloc(N * dim * sizeof *z);
    double *mem = malloc((3 * dim + 1 + N) * sizeof *mem);
    unsigned char *y = malloc(N);
    uint32_t *yt = malloc(N * sizeof *yt);
    mw_status st = (!z || !mem || !y || !yt) ? MW_ENOMEM : MW_OK;
    double *mean = mem, *sd = mem + dim, *coef = mem + 2 * dim, *score = coef + dim + 1;
    double sum = 0;
    for (size_t f = 0; f < k && !st; f++) {
        size_t ntr = 0, nte = 0;
        for (size_t k2 = 0; k2 < dim; k2++)
            mean[k2] = sd[k2] = 0;
        for (size_t i = 0; i < N; i++) { /* training rows first, test rows from the end */
            size_t fold = (i < nr ? i : i - nr) % k;
            size_t at = fold != f ? ntr++ : N - 1 - nte++;
            memcpy(z + at * dim, x + i * dim, dim * sizeof *z);
            y[at] = i >= nr;
        }
        column_moments(z, ntr, dim, mean, sd);
        for (size_t k2 = 0; k2 < dim; k2++) {
            double s = sqrt(sd[k2] / (double)ntr);
            sd[k2] = s > 0 ? s : 1.0;
        }
        for (size_t i = 0; i < N; i++)
            for (size_t k2 = 0; k2 < dim; k2++)
                z[i * dim + k2] = (z[i * dim + k2] - mean[k2]) / sd[k2];
        st = mw_logreg_fit(z, y, ntr, dim, LR_C, LR_TOL, LR_MAX_ITER, coef, NULL);
        if (st) break;
        for (size_t t = 0; t < nte; t++) {
            size_t i = ntr + t;
            double s = coef[dim];
            for (size_t k2 = 0; k2 < dim; k2++)
                s += coef[k2] * z[i * dim + k2];
            score[t] = s;
            yt[t] = y[i];
        }
        double a;
        st = mw_roc_auc_binary(yt, 1, score, nte, &a, err);
        sum += a;
    }
    *auc = st ? NAN : sum / (double)k;
    free(z);
    free(mem);
    free(y);
    free(yt);
    return st;
}

/* ---- entry point --------------------------------------------------------------- */

mw_status mw_embedding_drift(const double *ref, size_t n_ref, const double *cur, size_t n_cur,
                             size_t dim, const mw_embedding_options *opt, mw_embedding_result *out,
                             mw_error *err) {
    memset(out, 0, sizeof *out);
    out->mmd.statistic = out->mmd.p_value = out->mmd.bandwidth = out->auc = NAN;
    mw_embedding_options o = opt ? *opt : (mw_embedding_options){0};
    if (!o.max_samples) o.max_samples = MW_EMBEDDING_DEFAULT_SAMPLES;
    if (!o.permutations) o.permutations = MW_EMBEDDING_DEFAULT_PERMUTATIONS;
    if (!(o.p_threshold > 0)) o.p_threshold = 0.05;
    if (!(o.auc_threshold > 0)) o.auc_threshold = 0.55;
    if (!o.folds) o.folds = 5;
    if (!o.top_k) o.top_k = 5;
    if (o.top_k > MW_EMBEDDING_TOP_MAX) o.top_k = MW_EMBEDDING_TOP_MAX;
    out->dim = dim;
    out->n_ref = n_ref;
    out->n_cur = n_cur;
    out->p_threshold = o.p_threshold;
    out->auc_threshold = o.auc_threshold;
    if (dim == 0 || dim > MW_EMBEDDING_MAX_DIM)
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                            "embedding drift: dimension %zu is outside 1..%d", dim,
                            MW_EMBEDDING_MAX_DIM);
    if (n_ref < 2 || n_cur < 2)
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                            "embedding drift needs at least 2 vectors a side (reference %zu, "
                            "current %zu)",
                            n_ref, n_cur);
    if (o.max_samples < 2 || o.max_samples > MW_EMBEDDING_MAX_SAMPLES ||
        o.permutations > MW_EMBEDDING_MAX_PERMUTATIONS || o.folds < 2)
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                            "embedding drift: samples must be 2..%d, permutations at most %d, "
                            "folds at least 2",
                            MW_EMBEDDING_MAX_SAMPLES, MW_EMBEDDING_MAX_PERMUTATIONS);
    mw_status st;
    if ((st = check_finite(ref, n_ref, dim, "reference", err)) ||
        (st = check_finite(cur, n_cur, dim, "current", err)))
        return st;
    double t0 = now_s();
    if ((st = top_shifts(ref, n_ref, cur, n_cur, dim, o.top_k, out))) goto nomem;
    size_t cr = n_ref < o.max_samples ? n_ref : o.max_samples;
    size_t cc = n_cur < o.max_samples ? n_cur : o.max_samples;
    double *buf = malloc((cr + cc) * dim * sizeof *buf);
    if (!buf) goto nomem;
    mw_rng rng;
    mw_rng_seed(&rng, o.seed);
    if ((st = mw_emb_sample_rows(ref, n_ref, dim, cr, &rng, buf, &out->n_ref_used)) ||
        (st = mw_emb_sample_rows(cur, n_cur, dim, cc, &rng, buf + cr * dim, &out->n_cur_used)) ||
        (st =
             mw_mmd_rbf(buf, cr, buf + cr * dim, cc, dim, o.permutations, o.seed + 1, &out->mmd))) {
        free(buf);
        goto nomem;
    }
    out->permutations = o.permutations;
    out->mmd_drifted = out->mmd.p_value < o.p_threshold;
    size_t k = o.folds < cr ? o.folds : cr;
    k = k < cc ? k : cc;
    out->folds = k;
    st = classifier_auc(buf, cr, cc, dim, k, &out->auc, err);
    free(buf);
    if (st == MW_ENOMEM) goto nomem;
    if (st) return st;
    out->classifier_drifted = out->auc > o.auc_threshold;
    out->drifted = out->mmd_drifted || out->classifier_drifted;
    out->seconds = now_s() - t0;
    return MW_OK;
nomem:
    return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "embedding drift: out of memory");
}
