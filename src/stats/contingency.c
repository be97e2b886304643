/*
 * Categorical two-sample tests on counts: chi-square / G-test of homogeneity on
 * the 2 x k table [ref; cur], and Fisher's exact test on a 2 x 2 table.
 *
 * mw_chi2_contingency agrees with scipy.stats.chi2_contingency([ref, cur]) with
 * default correction=True (scipy 1.10), after dropping categories that are zero in
 * both rows (scipy would reject their zero expected frequency):
 *   E[i][j] = R_i * C_j / N                        (expected_freq)
 *   dof     = k - 1
 *   Yates (dof == 1 only): O += sign(E - O) * min(0.5, |E - O|), applied before
 *            either statistic, as scipy does
 *   Pearson:  X2 = sum (O - E)^2 / E
 *   G-test:   G  = sum 2 O ln(O / E)   (0 ln 0 = 0; lambda_="log-likelihood")
 *   p       = chi2_sf(statistic, dof)
 *
 * mw_fisher_exact agrees with scipy.stats.fisher_exact([[a, b], [c, d]]) two-sided
 * (scipy 1.10). Statistic: the sample odds ratio a*d/(b*c), inf when b or c is 0,
 * NaN (with p = 1) when a row or column sums to 0. p-value: under the
 * hypergeometric law of the top-left cell X (population M = a+b+c+d, n1 = a+b
 * successes, n = a+c draws) scipy sums the probabilities of all tables no more
 * likely than the observed one, with a relative tolerance of 1e-14:
 *   mode = floor((n+1)(n1+1)/(M+2)); if pmf(a) equals pmf(mode) within 1e-14: p = 1;
 *   if a < mode: p = cdf(a) + sf(g), g the largest x in [mode, n] with
 *                pmf(x) >= pmf(a)(1+1e-14) (found with scipy's binary search);
 *   else:        p = sf(a-1) + cdf(g), g the largest x in [0, mode] with
 *                pmf(x) <= pmf(a)(1+1e-14);
 *   p = min(p, 1).
 * The probability comparisons are made on log-probability differences computed
 * from exact factorial ratios (identical factorials cancel exactly, short runs are
 * multiplied out, long ones use long double lgammal_r), so tables whose
 * probabilities tie by symmetry are recognised as ties, as scipy's Boost pmf does.
 * Tail sums start from an lgamma-based pmf in long double and walk outward with
 * the pmf ratio recurrence; counts up to ~1e9 neither overflow nor lose accuracy.
 * Reference: R. A. Fisher (1922); A. Agresti, Categorical Data Analysis, 3.5.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "modelwatch/stats.h"

/* ---- chi-square / G-test ------------------------------------------------ */

mw_status mw_chi2_contingency(const double *ref, const double *cur, size_t k, int log_likelihood,
                              mw_test_result *out) {
    if (!out) return MW_EINVAL;
    out->statistic = NAN;
    out->p_value = NAN;
    if (!ref || !cur) return MW_EINVAL;

    /* Row totals and the number of categories present on at least one side. */
    double rsum[2] = {0, 0};
    size_t kk = 0;
    for (size_t j = 0; j < k; j++) {
        if (!isfinite(ref[j]) || !isfinite(cur[j]) || ref[j] < 0 || cur[j] < 0) return MW_EINVAL;
        if (ref[j] == 0 && cur[j] == 0) continue;
        rsum[0] += ref[j];
        rsum[1] += cur[j];
        kk++;
    }
    if (kk < 2 || rsum[0] <= 0 || rsum[1] <= 0) return MW_EINVAL;
    double total = rsum[0] + rsum[1];
    size_t dof = kk - 1;

    double stat = 0.0;
    for (int i = 0; i < 2; i++) {
        const double *row = i == 0 ? ref : cur;
        for (size_t j = 0; j < k; j++) {
            if (ref[j] == 0 && cur[j] == 0) continue;
            double obs = row[j];
            double exp_ = rsum[i] * (ref[j] + cur[j]) / total;
            if (dof == 1) {
                double diff = exp_ - obs;
                double mag = fabs(diff) < 0.5 ? fabs(diff) : 0.5;
                obs += diff > 0 ? mag : (diff < 0 ? -mag : 0.0);
            }
            if (log_likelihood) {
                if (obs > 0) stat += 2.0 * (obs * log(obs / exp_));
            } else {
                double dd = obs - exp_;
                stat += dd * dd / exp_;
            }
        }
    }
    out->statistic = stat;
    out->p_value = mw_chi2_sf(stat, (double)dof);
    return MW_OK;
}

/* ---- Fisher's exact test ------------------------------------------------- */

/* Hypergeometric law of the top-left cell: population M, n1 successes, n draws. */
typedef struct hyper {
    uint64_t M, n1, n2, n;
    uint64_t lo, hi;      /* support */
    uint64_t ref;         /* the observed cell a */
    uint64_t ref_fact[4]; /* factorial arguments of pmf(a)'s denominator */
    long double log_c;    /* log(n1! n2! n! (M-n)! / M!) */
} hyper;

static long double lfact(uint64_t v) {
    int sign;
    return lgammal_r((long double)v + 1.0L, &sign);
}

/* pmf(x) = n1! n2! n! (M-n)! / (M! x! (n1-x)! (n-x)! (n2-n+x)!) */
static void fact_args(const hyper *h, uint64_t x, uint64_t f[4]) {
    f[0] = x;
    f[1] = h->n1 - x;
    f[2] = h->n - x;
    f[3] = h->n2 - h->n + x;
}

/* log(u! / v!) with good absolute accuracy when u and v are close. */
static long double log_fact_ratio(uint64_t u, uint64_t v) {
    if (u == v) return 0.0L;
    int neg = u < v;
    uint64_t hi = neg ? v : u, lo = neg ? u : v;
    long double r;
    if (hi - lo <= 512) {
        long double prod = 1.0L, acc = 0.0L;
        for (uint64_t j = lo + 1; j <= hi; j++) {
            prod *= (long double)j;
            if (prod > 1e300L) {
                acc += logl(prod);
                prod = 1.0L;
            }
        }
        r = acc + logl(prod);
    } else {
        r = lfact(hi) - lfact(lo);
    }
    return neg ? -r : r;
}

static void sort4(uint64_t v[4]) {
    for (int i = 1; i < 4; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
}

/* log(pmf(x) / pmf(a)); -inf outside the support. Identical factorials on both
 * sides cancel exactly, so probabilities equal by symmetry compare equal. */
static long double log_rel(const hyper *h, uint64_t x) {
    if (x < h->lo || x > h->hi) return -INFINITY;
    uint64_t u[4], v[4];
    memcpy(u, h->ref_fact, sizeof u);
    fact_args(h, x, v);
    sort4(u);
    sort4(v);
    /* remove common elements (merge of two sorted lists) */
    uint64_t ru[4], rv[4];
    int nu = 0, nv = 0, i = 0, j = 0;
    while (i < 4 && j < 4) {
        if (u[i] == v[j]) {
            i++;
            j++;
        } else if (u[i] < v[j]) {
            ru[nu++] = u[i++];
        } else {
            rv[nv++] = v[j++];
        }
    }
    while (i < 4)
        ru[nu++] = u[i++];
    while (j < 4)
        rv[nv++] = v[j++];
    /* pmf(x)/pmf(a) = prod u! / prod v!; nu == nv since both had 4 */
    long double s = 0.0L;
    for (int t = 0; t < nu; t++)
        s += log_fact_ratio(ru[t], rv[t]);
    return s;
}

static long double log_pmf(const hyper *h, uint64_t x) {
    uint64_t f[4];
    fact_args(h, x, f);
    return h->log_c - lfact(f[0]) - lfact(f[1]) - lfact(f[2]) - lfact(f[3]);
}

/* Sum of pmf over [from, lo] walking down (down != 0) or [from, hi] walking up,
 * starting from pmf(from); the terms decrease in the walking direction. */
static long double tail_sum(const hyper *h, uint64_t from, int down) {
    if (from < h->lo || from > h->hi) return 0.0L;
    long double term = expl(log_pmf(h, from)), sum = term;
    long double n1 = (long double)h->n1, n = (long double)h->n,
                n2n = (long double)h->n2 - (long double)h->n;
    uint64_t x = from;
    while (term > 0 && term >= sum * 1e-21L) {
        long double xf = (long double)x;
        if (down) {
            if (x == h->lo) break;
            term *= xf * (n2n + xf) / ((n1 - xf + 1.0L) * (n - xf + 1.0L));
            x--;
        } else {
            if (x == h->hi) break;
            term *= (n1 - xf) * (n - xf) / ((xf + 1.0L) * (n2n + xf + 1.0L));
            x++;
        }
        sum += term;
    }
    return sum;
}

/* Sign of pmf(x) - pmf(a) * (1 + 1e-14), the comparison scipy's search makes. */
static int cmp_gamma(const hyper *h, uint64_t x, long double lgam) {
    long double d = log_rel(h, x);
    return (d > lgam) - (d < lgam);
}

mw_status mw_fisher_exact(uint64_t a, uint64_t b, uint64_t c, uint64_t d, mw_test_result *out) {
    if (!out) return MW_EINVAL;
    out->statistic = NAN;
    out->p_value = NAN;
    /* keep all sums and the mode's product well inside 64 bits */
    const uint64_t cap = UINT64_C(1) << 30;
    if (a > cap || b > cap || c > cap || d > cap) return MW_EINVAL;

    if (a + b == 0 || c + d == 0 || a + c == 0 || b + d == 0) {
        out->p_value = 1.0;
        return MW_OK;
    }
    if (b > 0 && c > 0)
        out->statistic =
            (double)((long double)a * (long double)d) / (double)((long double)b * (long double)c);
    else
        out->statistic = INFINITY;

    hyper h;
    h.n1 = a + b;
    h.n2 = c + d;
    h.n = a + c;
    h.M = h.n1 + h.n2;
    h.lo = h.n > h.n2 ? h.n - h.n2 : 0;
    h.hi = h.n1 < h.n ? h.n1 : h.n;
    h.ref = a;
    fact_args(&h, a, h.ref_fact);
    h.log_c = lfact(h.n1) + lfact(h.n2) + lfact(h.n) + lfact(h.M - h.n) - lfact(h.M);

    uint64_t mode = (uint64_t)((double)((h.n + 1) * (h.n1 + 1)) / (double)(h.M + 2));
    const long double eps = 1e-14L;
    const long double lgam = log1pl(eps);

    /* |pexact - pmode| / max(pexact, pmode) <= eps */
    long double dm = log_rel(&h, mode);
    if (-expm1l(-fabsl(dm)) <= eps) {
        out->p_value = 1.0;
        return MW_OK;
    }

    long double p;
    if (a < mode) {
        long double plower = tail_sum(&h, a, 1);
        if (cmp_gamma(&h, h.n, lgam) > 0) {
            out->p_value = (double)(plower < 1.0L ? plower : 1.0L);
            return MW_OK;
        }
        /* scipy's _binary_search on -pmf over [mode, n] for -pexact*gamma:
         * -pmf(x) < -pexact*gamma  <=>  pmf(x) > pexact*gamma */
        int64_t lo = (int64_t)mode, hi = (int64_t)h.n, guess = 0;
        int found = 0;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            int s = cmp_gamma(&h, (uint64_t)mid, lgam);
            if (s > 0) {
                lo = mid + 1;
            } else if (s < 0) {
                hi = mid - 1;
            } else {
                guess = mid;
                found = 1;
                break;
            }
        }
        if (!found) guess = cmp_gamma(&h, (uint64_t)lo, lgam) >= 0 ? lo : lo - 1;
        p = plower + tail_sum(&h, (uint64_t)(guess + 1), 0);
    } else {
        long double pupper = tail_sum(&h, a, 0);
        if (cmp_gamma(&h, 0, lgam) > 0) {
            out->p_value = (double)(pupper < 1.0L ? pupper : 1.0L);
            return MW_OK;
        }
        /* _binary_search on pmf over [0, mode] for pexact*gamma */
        int64_t lo = 0, hi = (int64_t)mode, guess = 0;
        int found = 0;
        while (lo < hi) {
            int64_t mid = lo + (hi - lo) / 2;
            int s = cmp_gamma(&h, (uint64_t)mid, lgam);
            if (s < 0) {
                lo = mid + 1;
            } else if (s > 0) {
                hi = mid - 1;
            } else {
                guess = mid;
                found = 1;
                break;
            }
        }
        if (!found) guess = cmp_gamma(&h, (uint64_t)lo, lgam) <= 0 ? lo : lo - 1;
        p = pupper + (guess >= 0 ? tail_sum(&h, (uint64_t)guess, 1) : 0.0L);
    }
    out->p_value = (double)(p < 1.0L ? p : 1.0L);
    return MW_OK;
}
