/*
 * Binomial distribution and the exact tests built on it.
 *
 *   P(X <= k) = I_{1-p}(n - k, k + 1)          X ~ Binomial(n, p), 0 <= k < n
 *   P(X >= x) = I_p(x, n - x + 1)              1 <= x <= n
 *
 * with I the regularized incomplete beta function (special.c), the identities
 * scipy uses (scipy.stats.binom.cdf is cephes bdtr = incbet(n-k, k+1, 1-p)).
 *
 * McNemar's exact test for two paired classifiers on the same rows: with b the
 * rows the first gets right and the second wrong and c the reverse (the
 * discordant pairs; rows both get right or both wrong carry no information),
 * under H0 (equal accuracy) b ~ Binomial(b + c, 1/2), and
 *
 *   statistic = min(b, c)
 *   p         = min(1, 2 * P(Binomial(b + c, 1/2) <= min(b, c)))
 *
 * exactly as statsmodels.stats.contingency_tables.mcnemar(table, exact=True)
 * (statsmodels 0.13/0.14: stats.binom.cdf(min, n1 + n2, 0.5) * 2, capped at 1).
 * With b + c = 0, binom.cdf(0, 0, 0.5) = 1 and p = 1. Reference: Q. McNemar
 * (1947), "Note on the sampling error of the difference between correlated
 * proportions or percentages", Psychometrika 12; T. G. Dietterich (1998),
 * "Approximate statistical tests for comparing supervised classification
 * learning algorithms", Neural Computation 10 (its use for classifiers).
 */
#include <math.h>

#include "modelwatch/stats.h"

double mw_binom_cdf(uint64_t k, uint64_t n, double p) {
    if (isnan(p) || p < 0 || p > 1) return NAN;
    if (k >= n) return 1.0;
    if (p == 0) return 1.0;
    if (p == 1) return 0.0;
    return mw_betainc((double)(n - k), (double)k + 1.0, 1.0 - p);
}

double mw_binom_test_greater(uint64_t x, uint64_t n, double p) {
    if (x == 0) return 1.0;
    if (x > n) return 0.0;
    if (!(p > 0)) return 0.0;
    if (p >= 1) return 1.0;
    return mw_betainc((double)x, (double)(n - x) + 1.0, p);
}

mw_status mw_mcnemar_exact(uint64_t b, uint64_t c, mw_test_result *out) {
    if (!out) return MW_EINVAL;
    out->statistic = out->p_value = NAN;
    if (b > UINT64_MAX - c) return MW_EINVAL;
    uint64_t m = b < c ? b : c;
    double p = 2.0 * mw_binom_cdf(m, b + c, 0.5);
    out->statistic = (double)m;
    out->p_value = p < 1.0 ? p : 1.0;
    return MW_OK;
}
