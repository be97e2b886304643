/*
 * ECDF distances between two samples, from the merged sorted samples in one
 * O(n + m) pass (p_value is NAN: these are distances, not tests).
 *
 *   wasserstein = integral |F_x(t) - F_y(t)| dt          (scipy.stats.wasserstein_distance)
 *   energy      = sqrt(2) * sqrt(integral (F_x(t) - F_y(t))^2 dt)
 *                                                          (scipy.stats.energy_distance)
 *
 * Both integrands are step functions that change only at sample values, so
 * with z_1 < ... < z_k the distinct merged values and F evaluated as i/n and
 * j/m on [z_l, z_{l+1}) (scipy's _cdf_distance with unit weights),
 *   integral g(F_x - F_y) = sum_l g(F_x(z_l) - F_y(z_l)) (z_{l+1} - z_l).
 * Energy distance in 1-D equals this sqrt(2 * L2) form (Szekely & Rizzo 2013,
 * "Energy statistics", J. Stat. Plann. Inference 143(8); scipy's docstring).
 * The sums are Neumaier-compensated, so the result is within a few ulps of the
 * exact sum whatever order numpy summed in.
 *
 * Wasserstein is computed from the quantile functions instead (quantile_l1):
 * the area between the two ECDFs is the same read along the other axis,
 *   integral |F_x(t) - F_y(t)| dt = integral_0^1 |Qx(u) - Qy(u)| du,
 * and the quantile functions step at u = i/n and j/m, points that do not
 * depend on the data, so that walk has no data-dependent branch.
 */
#include <math.h>

#include "modelwatch/stats.h"
#include "rank_int.h"

/*
 * power 1: integral of |F - G|; power 2: integral of (F - G)^2, over the merged
 * sorted samples. Between consecutive merged values F - G is constant and
 * equals (i*m - j*n) / (n*m), where i and j count the values of x and y read so
 * far: the numerator is an exact integer (|i*m - j*n| <= n*m < 2^53 for the
 * sizes the daemon and CLI handle), so the loop needs no division and the
 * single division by n*m (or its square) happens at the end. Ties need no
 * grouping: a step between equal values has zero width. The sum is exact
 * within a block of 4096 steps up to ordinary rounding and the block sums are
 * added with Neumaier's compensation, which keeps the result within 1e-15
 * relative of a fully compensated sum while the loop stays branch-light
 * (this walk was 9-13 % of the 1M-row drift benchmark with a division and a
 * compensated add per step).
 */
#define ECDF_BLOCK 4096

static inline double step_weight(int64_t num, int power) {
    double d = (double)num;
    return power == 1 ? fabs(d) : d * d;
}

/* Inputs checked by the caller (mw_rank_begin). */
static mw_status ecdf_integral(const double *x, size_t n, const double *y, size_t m, int power,
                               double *res) {
    mw_ksum total = {0, 0};
    double block = 0, prev = x[0] < y[0] ? x[0] : y[0];
    int64_t num = 0; /* i*m - j*n */
    const int64_t dn = (int64_t)n, dm = (int64_t)m;
    size_t i = 0, j = 0, steps = 0;
    while (i < n && j < m) {
        double xv = x[i], yv = y[j];
        int take_x = xv <= yv;
        double v = take_x ? xv : yv;
        block += step_weight(num, power) * (v - prev);
        prev = v;
        num += take_x ? dm : -dn;
        i += (size_t)take_x;
        j += (size_t)!take_x;
        if (++steps == ECDF_BLOCK) {
            mw_ksum_add(&total, block);
            block = 0;
            steps = 0;
        }
    }
    for (; i < n; i++) { /* only x left: F rises to 1 */
        block += step_weight(num, power) * (x[i] - prev);
        prev = x[i];
        num += dm;
    }
    for (; j < m; j++) {
        block += step_weight(num, power) * (y[j] - prev);
        prev = y[j];
        num -= dn;
    }
    mw_ksum_add(&total, block);
    double scale = (double)n * (double)m;
    *res = mw_ksum_value(&total) / (power == 1 ? scale : scale * scale);
    return MW_OK;
}

/*
 * integral_0^1 |Qx(u) - Qy(u)| du for sorted x (n) and y (m): on each piece
 * between consecutive steps (i+1)/n and (j+1)/m the quantiles are x[i] and
 * y[j]. In units of 1/(n*m) the steps are the integers (i+1)*m and (j+1)*n,
 * so piece widths are exact and the walk's control flow depends on n and m
 * only: no mispredicted branch and no chain from a loaded value to the next
 * index, which made the ECDF walk 5-10x slower on a million values. With
 * n == m every piece has width m: the mean of |x[i] - y[i]|. Blocks of
 * ECDF_BLOCK terms are summed plainly (all terms are >= 0: no cancellation)
 * and added with compensation.
 */
static double quantile_l1(const double *x, size_t n, const double *y, size_t m) {
    mw_ksum total = {0, 0};
    double block = 0;
    if (n == m) {
        for (size_t i = 0; i < n; i++) {
            block += fabs(x[i] - y[i]);
            if ((i + 1) % ECDF_BLOCK == 0) {
                mw_ksum_add(&total, block);
                block = 0;
            }
        }
        mw_ksum_add(&total, block);
        return mw_ksum_value(&total) / (double)n;
    }
    const uint64_t dm = m, dn = n;
    uint64_t next_x = dm, next_y = dn, prev = 0; /* (i+1)*m, (j+1)*n, last step */
    size_t i = 0, j = 0, steps = 0;
    while (i < n && j < m) {
        uint64_t end = next_x < next_y ? next_x : next_y;
        block += (double)(end - prev) * fabs(x[i] - y[j]);
        prev = end;
        int step_x = next_x <= next_y, step_y = next_y <= next_x; /* both at a common step */
        i += (size_t)step_x;
        next_x += step_x ? dm : 0;
        j += (size_t)step_y;
        next_y += step_y ? dn : 0;
        if (++steps == ECDF_BLOCK) {
            mw_ksum_add(&total, block);
            block = 0;
            steps = 0;
        }
    }
    mw_ksum_add(&total, block);
    return mw_ksum_value(&total) / ((double)n * (double)m);
}

mw_status mw_wasserstein_distance(const double *x, size_t n, const double *y, size_t m,
                                  mw_test_result *out) {
    mw_status st = mw_rank_begin(x, n, y, m, out);
    if (st != MW_OK) return st;
    out->statistic = quantile_l1(x, n, y, m);
    return MW_OK;
}

mw_status mw_energy_distance(const double *x, size_t n, const double *y, size_t m,
                             mw_test_result *out) {
    mw_status st = mw_rank_begin(x, n, y, m, out);
    double v;
    if (st == MW_OK) st = ecdf_integral(x, n, y, m, 2, &v);
    if (st != MW_OK) return st;
    out->statistic = sqrt(2.0) * sqrt(v);
    return MW_OK;
}
