/*
 * Kernel two-sample test: unbiased MMD^2 with an RBF kernel, median-heuristic
 * bandwidth and a permutation p-value (contract in modelwatch/embedding.h).
 *
 * Estimator (Gretton et al., JMLR 2012, eq. 3), x = reference (n rows),
 * y = current (m rows):
 *   MMD^2_u = sum_{i != j} k(x_i, x_j) / (n (n-1)) + sum_{i != j} k(y_i, y_j) / (m (m-1))
 *             - 2 sum_{i, j} k(x_i, y_j) / (n m),
 * k(a, b) = exp(-||a - b||^2 / (2 sigma^2)), sigma = numpy.median(pdist(pooled))
 * (1 when that is 0). The numpy reference is tests/fixtures/gen_embedding.py.
 *
 * Work: the squared distances of the N = n + m pooled rows are computed once
 * (direct differences, as pdist, so close points lose no precision), packed
 * as the upper triangle (row i holds j = i+1 .. N-1), then turned into kernel
 * values in place. A labelling a (a_i = 1 for the first group) gives, with
 * v_i = sum_{j>i} K_ij and u_i = sum_{j>i} a_j K_ij (one dot product a row),
 *   AA = sum_i a_i u_i,  BB = sum_i (1-a_i)(v_i - u_i),
 *   AB = sum_i a_i (v_i - u_i) + (1-a_i) u_i,
 *   MMD^2 = 2 AA / (n(n-1)) + 2 BB / (m(m-1)) - 2 AB / (n m).
 * The observed statistic and every permutation (Fisher-Yates shuffles of a
 * with the seeded xoshiro generator) go through the same arithmetic, so an
 * identity permutation ties exactly. Cost: N^2/2 * dim for the distances,
 * N^2/2 per permutation; memory 8 N^2 bytes at the peak (kernel + distances
 * for the median).
 */
#include "modelwatch/embedding.h"
#include "modelwatch/stats.h"

#include "core/util.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Squared Euclidean distance, four accumulators so the loop pipelines. */
static double sqdist(const double *a, const double *b, size_t d) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t k = 0;
    for (; k + 4 <= d; k += 4) {
        double e0 = a[k] - b[k], e1 = a[k + 1] - b[k + 1];
        double e2 = a[k + 2] - b[k + 2], e3 = a[k + 3] - b[k + 3];
        s0 += e0 * e0;
        s1 += e1 * e1;
        s2 += e2 * e2;
        s3 += e3 * e3;
    }
    for (; k < d; k++) {
        double e = a[k] - b[k];
        s0 += e * e;
    }
    return (s0 + s1) + (s2 + s3);
}

static double dot(const double *a, const double *b, size_t len) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t k = 0;
    for (; k + 4 <= len; k += 4) {
        s0 += a[k] * b[k];
        s1 += a[k + 1] * b[k + 1];
        s2 += a[k + 2] * b[k + 2];
        s3 += a[k + 3] * b[k + 3];
    }
    for (; k < len; k++)
        s0 += a[k] * b[k];
    return (s0 + s1) + (s2 + s3);
}

static inline const double *row_of(const double *x, size_t n, const double *y, size_t i,
                                   size_t dim) {
    return i < n ? x + i * dim : y + (i - n) * dim;
}

/* MMD^2 of labelling a (n ones among N) from the packed kernel K and row sums v. */
static double labelled_mmd2(const double *K, const double *v, const double *a, size_t N, size_t n,
                            size_t m) {
    double aa = 0, bb = 0, ab = 0;
    const double *row = K;
    for (size_t i = 0; i < N; i++) {
        size_t len = N - 1 - i;
        double u = dot(row, a + i + 1, len);
        row += len;
        if (a[i] != 0) {
            aa += u;
            ab += v[i] - u;
        } else {
            bb += v[i] - u;
            ab += u;
        }
    }
    double dn = (double)n, dm = (double)m;
    return 2.0 * aa / (dn * (dn - 1)) + 2.0 * bb / (dm * (dm - 1)) - 2.0 * ab / (dn * dm);
}

mw_status mw_mmd_rbf(const double *x, size_t n, const double *y, size_t m, size_t dim,
                     size_t permutations, uint64_t seed, mw_mmd_result *out) {
    out->statistic = out->p_value = out->bandwidth = NAN;
    if (n < 2 || m < 2 || dim == 0 || n > SIZE_MAX / 2 - m) return MW_EINVAL;
    size_t N = n + m;
    size_t npairs = N * (N - 1) / 2;
    for (size_t i = 0; i < N; i++) {
        const double *r = row_of(x, n, y, i, dim);
        for (size_t k = 0; k < dim; k++)
            if (!isfinite(r[k])) return MW_EINVAL;
    }
    double *K = malloc(npairs * sizeof *K);
    double *tmp = malloc(npairs * sizeof *tmp);
    double *v = malloc(N * sizeof *v);
    double *a = malloc(N * sizeof *a);
    if (!K || !tmp || !v || !a) {
        free(K);
        free(tmp);
        free(v);
        free(a);
        return MW_ENOMEM;
    }
    size_t p = 0;
    for (size_t i = 0; i < N; i++) {
        const double *ri = row_of(x, n, y, i, dim);
        for (size_t j = i + 1; j < N; j++, p++) {
            K[p] = sqdist(ri, row_of(x, n, y, j, dim), dim);
            tmp[p] = sqrt(K[p]);
        }
    }
    double sigma = mw_median_inplace(tmp, npairs);
    free(tmp);
    if (!(sigma > 0) || !isfinite(sigma)) sigma = 1.0;
    double scale = -1.0 / (2.0 * sigma * sigma);
    for (size_t q = 0; q < npairs; q++)
        K[q] = exp(K[q] * scale);
    const double *row = K;
    for (size_t i = 0; i < N; i++) {
        size_t len = N - 1 - i;
        double s = 0;
        for (size_t j = 0; j < len; j++)
            s += row[j];
        v[i] = s;
        row += len;
    }
    for (size_t i = 0; i < N; i++)
        a[i] = i < n ? 1.0 : 0.0;
    double observed = labelled_mmd2(K, v, a, N, n, m);
    double pv = NAN;
    if (permutations) {
        mw_rng rng;
        mw_rng_seed(&rng, seed);
        size_t ge = 0;
        for (size_t t = 0; t < permutations; t++) {
            for (size_t i = N - 1; i > 0; i--) { /* Fisher-Yates */
                size_t j = (size_t)mw_rng_below(&rng, (uint64_t)i + 1);
                double s = a[i];
                a[i] = a[j];
                a[j] = s;
            }
            ge += labelled_mmd2(K, v, a, N, n, m) >= observed;
        }
        pv = (1.0 + (double)ge) / (1.0 + (double)permutations);
    }
    free(K);
    free(v);
    free(a);
    out->statistic = observed;
    out->p_value = pv;
    out->bandwidth = sigma;
    return MW_OK;
}
