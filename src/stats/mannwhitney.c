/*
 * Mann-Whitney U test, two-sided: mw_mannwhitneyu agrees with
 * scipy.stats.mannwhitneyu(x, y, alternative='two-sided', method='auto') of
 * scipy 1.10 (use_continuity=True). The statistic is U1, the U of x.
 *
 *   R1 = sum of the midranks of x in the merged sample, U1 = R1 - n(n+1)/2,
 *   U2 = n m - U1, U = max(U1, U2).
 *
 * Method choice (scipy's _mwu_choose_method): asymptotic when both n > 8 and
 * m > 8, or when the merged sample has any tie; exact otherwise.
 *
 * Exact: p = 2 Pr(U' >= U) = 2 Pr(U' <= n m - U) under H0 (the distribution is
 * symmetric), clipped to 1. The counts f(k) of arrangements with U' = k are the
 * coefficients of the Gaussian binomial [s + L choose s]_q (s = min(n, m),
 * L = max(n, m)) = prod_{i=1..s} (1 - q^(L+i)) / (1 - q^i) (Mann & Whitney
 * 1947; Andrews, The Theory of Partitions, 3.3), built factor by factor and
 * truncated at degree n m - U; p = 2 sum_k f(k) / C(n + m, n). Cost O(s (nm - U)).
 * The low coefficients that the tail needs involve no subtraction for
 * k < L + i, so they keep full relative accuracy.
 *
 * Asymptotic: z = (U - n m / 2 - 0.5) / sigma with the tie-corrected
 *   sigma^2 = n m / 12 * ((N + 1) - sum_t (t^3 - t) / (N (N - 1))), N = n + m,
 * p = 2 * norm.sf(z) clipped to [0, 1] (all values tied gives sigma = 0,
 * z = -inf, p = 1, as in scipy).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "modelwatch/stats.h"
#include "rank_int.h"

/* 2 * Pr(U' <= K) for U' the null U of sizes s <= L; -1 when out of memory. */
static double mwu_exact_two_sided(size_t s, size_t L, uint64_t K) {
    double *c = calloc((size_t)K + 1, sizeof *c);
    if (!c) return -1.0;
    c[0] = 1.0;
    for (size_t i = 1; i <= s; i++) {
        /* divide by (1 - q^i): running sums with stride i */
        for (uint64_t k = i; k <= K; k++)
            c[k] += c[k - i];
        /* multiply by (1 - q^(L+i)) */
        uint64_t sh = (uint64_t)L + i;
        if (sh <= K)
            for (uint64_t k = K; k >= sh; k--)
                c[k] -= c[k - sh];
    }
    double binom = 1.0; /* C(L + s, s) */
    for (size_t i = 1; i <= s; i++)
        binom = binom * (double)(L + i) / (double)i;
    mw_ksum acc = {0, 0};
    for (uint64_t k = 0; k <= K; k++)
        mw_ksum_add(&acc, c[k] / binom);
    free(c);
    return 2.0 * mw_ksum_value(&acc);
}

mw_status mw_mannwhitneyu(const double *x, size_t n, const double *y, size_t m,
                          mw_test_result *out) {
    mw_status st = mw_rank_begin(x, n, y, m, out);
    if (st != MW_OK) return st;

    double R1 = 0.0, tie_term = 0.0;
    int ties = 0;
    mw_tie_walk w;
    mw_tie_init(&w, x, n, y, m);
    while (mw_tie_next(&w)) {
        double c = (double)(w.cx + w.cy);
        double below = (double)(w.below_x + w.below_y);
        /* midrank of the group: below + (c + 1) / 2, exact in binary */
        R1 += (double)w.cx * (below + (c + 1.0) / 2.0);
        if (c > 1) {
            ties = 1;
            tie_term += c * c * c - c;
        }
    }
    double n1 = (double)n, n2 = (double)m;
    double U1 = R1 - n1 * (n1 + 1) / 2;
    double U2 = n1 * n2 - U1;
    double U = U1 > U2 ? U1 : U2;
    double p;
    if ((n > 8 && m > 8) || ties) {
        double N = n1 + n2, mu = n1 * n2 / 2;
        double sd = sqrt(n1 * n2 / 12 * ((N + 1) - tie_term / (N * (N - 1))));
        double z = (U - mu - 0.5) / sd;
        p = 2.0 * mw_rank_norm_sf(z);
    } else {
        size_t s = n < m ? n : m, L = n < m ? m : n;
        uint64_t K = (uint64_t)n * (uint64_t)m - (uint64_t)U;
        p = mwu_exact_two_sided(s, L, K);
        if (p < 0) return MW_ENOMEM;
    }
    if (p > 1.0) p = 1.0;
    if (p < 0.0) p = 0.0;
    out->statistic = U1;
    out->p_value = p;
    return MW_OK;
}
