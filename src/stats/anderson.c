/*
 * Two-sample Anderson-Darling test: mw_anderson_ksamp agrees with
 * scipy.stats.anderson_ksamp([x, y], midrank=True) of scipy 1.10: statistic and
 * significance_level (returned as p_value).
 *
 * Statistic (Scholz & Stephens 1987, JASA 82(399), eq. 7 "A2akN", midranks for
 * ties): over the distinct merged values z_j with multiplicity l_j,
 *   B_j  = #{Z < z_j} + l_j / 2,
 *   M_ij = #{sample i <= z_j} - f_ij / 2   (f_ij copies of z_j in sample i),
 *   A2akN = (N-1)/N sum_i 1/n_i sum_j l_j/N (N M_ij - B_j n_i)^2 / (B_j (N - B_j) - N l_j / 4),
 * standardised with the exact variance of their eq. 4 (coefficients a, b, c, d
 * from H = sum 1/n_i, h = sum_{i<N} 1/i, g = sum_{i<j<N} 1/((N-i) j)), k = 2:
 *   A2 = (A2akN - (k-1)) / sigma_N.
 *
 * Significance level (scipy's interpolation): critical values
 *   c_s = b0_s + b1_s / sqrt(k-1) + b2_s / (k-1)   (Table 2 of the paper)
 * for s in {0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001}; below the smallest the
 * level is capped at 0.25, above the largest floored at 0.001, in between
 * p = exp(q(A2)) with q the least-squares quadratic through (c_s, log s)
 * (numpy.polyfit: columns scaled to unit norm, then solved here by Householder
 * QR rather than LAPACK's SVD; both give the least-squares solution of this
 * well-conditioned 7x3 system to ~1e-15).
 *
 * Errors: all values identical (scipy raises "needs more than one distinct
 * observation") and N = n + m < 4 (scipy raises for N = 2 and returns NaN for
 * N = 3 because the variance divides by (N-1)(N-2)(N-3)) give MW_EINVAL.
 */
#include <math.h>

#include "modelwatch/stats.h"
#include "rank_int.h"

/* Least-squares quadratic coefficients (c[0] x^2 + c[1] x + c[2]) through
 * (x[i], y[i]), i < 7, as numpy.polyfit(x, y, 2). */
static void polyfit2(const double *x, const double *y, double c[3]) {
    double A[7][3], b[7], scale[3];
    for (int i = 0; i < 7; i++) {
        A[i][0] = x[i] * x[i];
        A[i][1] = x[i];
        A[i][2] = 1.0;
        b[i] = y[i];
    }
    for (int j = 0; j < 3; j++) {
        double s = 0.0;
        for (int i = 0; i < 7; i++)
            s += A[i][j] * A[i][j];
        scale[j] = sqrt(s);
        for (int i = 0; i < 7; i++)
            A[i][j] /= scale[j];
    }
    /* Householder QR, applying each reflection to b as well */
    for (int j = 0; j < 3; j++) {
        double norm = 0.0;
        for (int i = j; i < 7; i++)
            norm += A[i][j] * A[i][j];
        norm = sqrt(norm);
        double alpha = A[j][j] > 0 ? -norm : norm;
        double v[7] = {0};
        for (int i = j; i < 7; i++)
            v[i] = A[i][j];
        v[j] -= alpha;
        double vv = 0.0;
        for (int i = j; i < 7; i++)
            vv += v[i] * v[i];
        if (vv == 0.0) continue;
        for (int col = j; col < 3; col++) {
            double dot = 0.0;
            for (int i = j; i < 7; i++)
                dot += v[i] * A[i][col];
            double f = 2 * dot / vv;
            for (int i = j; i < 7; i++)
                A[i][col] -= f * v[i];
        }
        double dot = 0.0;
        for (int i = j; i < 7; i++)
            dot += v[i] * b[i];
        double f = 2 * dot / vv;
        for (int i = j; i < 7; i++)
            b[i] -= f * v[i];
    }
    for (int j = 2; j >= 0; j--) {
        double s = b[j];
        for (int col = j + 1; col < 3; col++)
            s -= A[j][col] * c[col];
        c[j] = s / A[j][j];
    }
    for (int j = 0; j < 3; j++)
        c[j] /= scale[j];
}

mw_status mw_anderson_ksamp(const double *x, size_t n, const double *y, size_t m,
                            mw_test_result *out) {
    mw_status st = mw_rank_begin(x, n, y, m, out);
    if (st != MW_OK) return st;
    if (x[0] == x[n - 1] && y[0] == y[m - 1] && x[0] == y[0]) return MW_EINVAL;
    if (n + m < 4) return MW_EINVAL;

    const double N = (double)(n + m), nx = (double)n, ny = (double)m;
    mw_ksum sx = {0, 0}, sy = {0, 0};
    mw_tie_walk w;
    mw_tie_init(&w, x, n, y, m);
    while (mw_tie_next(&w)) {
        double lj = (double)(w.cx + w.cy);
        double Bj = (double)(w.below_x + w.below_y) + lj / 2.;
        double den = Bj * (N - Bj) - N * lj / 4.;
        double Mx = (double)(w.below_x + w.cx) - (double)w.cx / 2.;
        double My = (double)(w.below_y + w.cy) - (double)w.cy / 2.;
        double dx = N * Mx - Bj * nx, dy = N * My - Bj * ny;
        mw_ksum_add(&sx, lj / N * (dx * dx) / den);
        mw_ksum_add(&sy, lj / N * (dy * dy) / den);
    }
    double A2kN = mw_ksum_value(&sx) / nx + mw_ksum_value(&sy) / ny;
    A2kN *= (N - 1.) / N;

    /* variance (Scholz & Stephens eq. 4) */
    const double k = 2.0;
    double H = 1. / nx + 1. / ny;
    double hs = 0.0; /* running hs_cs[i] = sum_{t=N-1}^{N-1-i} 1/t */
    mw_ksum gsum = {0, 0};
    size_t Nn = n + m;
    for (size_t i = 0; i + 2 < Nn; i++) {
        hs += 1. / (double)(Nn - 1 - i);
        mw_ksum_add(&gsum, hs / (double)(i + 2));
    }
    double h = hs + 1, g = mw_ksum_value(&gsum);
    double a = (4 * g - 6) * (k - 1) + (10 - 6 * g) * H;
    double b = (2 * g - 4) * k * k + 8 * h * k + (2 * g - 14 * h - 4) * H - 8 * h + 4 * g - 6;
    double c = (6 * h + 2 * g - 2) * k * k + (4 * h - 4 * g + 6) * k + (2 * h - 6) * H + 4 * h;
    double d = (2 * h + 6) * k * k - 4 * h * k;
    double sigmasq = (a * N * N * N + b * N * N + c * N + d) / ((N - 1.) * (N - 2.) * (N - 3.));
    if (!(sigmasq > 0)) return MW_EINVAL;
    double mm = k - 1;
    double A2 = (A2kN - mm) / sqrt(sigmasq);

    static const double b0[7] = {0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085};
    static const double b1[7] = {-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615};
    static const double b2[7] = {-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154};
    static const double sig[7] = {0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001};
    double crit[7], lsig[7], cmin = INFINITY, cmax = -INFINITY;
    for (int i = 0; i < 7; i++) {
        crit[i] = b0[i] + b1[i] / sqrt(mm) + b2[i] / mm;
        lsig[i] = log(sig[i]);
        if (crit[i] < cmin) cmin = crit[i];
        if (crit[i] > cmax) cmax = crit[i];
    }
    double p;
    if (A2 < cmin) {
        p = 0.25;
    } else if (A2 > cmax) {
        p = 0.001;
    } else {
        double cf[3];
        polyfit2(crit, lsig, cf);
        p = exp((cf[0] * A2 + cf[1]) * A2 + cf[2]);
    }
    out->statistic = A2;
    out->p_value = p;
    return MW_OK;
}
