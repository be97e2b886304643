/*
 * modelwatch statistics: distribution functions, two-sample drift tests and
 * histogram distances. Pure computation over caller-owned memory: no I/O, no
 * allocation visible to the caller, no global state.
 *
 * Every test agrees with the scipy function named beside it (scipy 1.10) within
 * DESIGN.md's tolerances: relative 1e-9 for statistics, relative 1e-6 or absolute
 * 1e-12 for p-values. Unless a comment says otherwise, numeric sample arrays are
 * SORTED ascending, contain only finite values (missing values and infinities are
 * removed by the caller), and hold at least one value each; a violated
 * precondition returns MW_EINVAL, never a wrong number.
 */
#ifndef MODELWATCH_STATS_H
#define MODELWATCH_STATS_H

#include "modelwatch/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One test's outcome. p_value is NAN for distance measures that have none. */
typedef struct mw_test_result {
    double statistic;
    double p_value;
} mw_test_result;

/* ---- sorting ------------------------------------------------------------ */

/*
 * Sorts n doubles ascending in place (MSD radix sort on the IEEE bit pattern,
 * O(n)). scratch must hold n doubles. NaNs must have been removed; -0.0 sorts
 * before +0.0, which no test below can observe.
 */
void mw_sort_doubles(double *v, size_t n, double *scratch);
/* Moves the finite values of v[0..n) to its front, sorted ascending (as
 * mw_sort_doubles), and returns their count; adds the NaNs to *nan_count and
 * the infinities to *inf_count. One pass fewer than compacting, then sorting. */
size_t mw_sort_finite(double *v, size_t n, double *scratch, uint64_t *nan_count,
                      uint64_t *inf_count);
/* Sorts n unsigned 64-bit integers ascending in place; scratch holds n. */
void mw_sort_u64(uint64_t *v, size_t n, uint64_t *scratch);
/* The same without scratch memory (in-place MSD radix sort; somewhat slower). */
void mw_sort_u64_inplace(uint64_t *v, size_t n);
/* numpy.median of v[0..n) (finite values, n >= 1), rearranging v: the middle
 * value, or the mean of the two middle ones (src/stats/median.c). */
double mw_median_inplace(double *v, size_t n);
/* ncol adjacent columns read in place, column c being x[c + i * stride] for
 * i < n (NaN = missing): out[c] gets the count of non-NaN values, their min
 * and max, numpy.median of them (NaN when there are none), or first_inf, the
 * 1-based i of the first infinite value (then no median). One pass over x
 * for every 4 columns (a row-major matrix is read a row at a time), x not
 * modified. MW_ENOMEM only. */
typedef struct mw_median_scan_result {
    size_t n_values, first_inf;
    double min, max, median;
} mw_median_scan_result;
mw_status mw_median_scan(const double *x, size_t n, size_t stride, size_t ncol,
                         mw_median_scan_result *out);
/* The values at positions rank[0..nr) of v[0..n) sorted ascending (as
 * mw_sort_doubles orders them; v NaN-free, not modified), without sorting all
 * of v (src/stats/select.c). MW_EINVAL for a rank >= n, MW_ENOMEM. */
mw_status mw_select_ranks(const double *v, size_t n, const size_t *rank, size_t nr, double *out);
/* numpy.quantile(v, q[j]) (linear) for j < nq, by mw_select_ranks: the same
 * bits as mw_quantile_sorted on the sorted v. MW_EINVAL for n = 0 or q outside
 * [0, 1], MW_ENOMEM. */
mw_status mw_quantiles_select(const double *v, size_t n, const double *q, size_t nq, double *out);

/* ---- distribution functions (src/stats/special.c) ---------------------- */

double mw_norm_cdf(double z);
double mw_norm_sf(double z);                     /* 1 - cdf, accurate in the upper tail */
double mw_gammainc_lower(double a, double x);    /* regularized P(a, x), scipy.special.gammainc */
double mw_gammainc_upper(double a, double x);    /* regularized Q(a, x), scipy.special.gammaincc */
double mw_betainc(double a, double b, double x); /* regularized I_x(a, b), scipy.special.betainc */
double mw_chi2_sf(double x, double df);          /* scipy.stats.chi2.sf */
double mw_t_sf(double t, double df);             /* scipy.stats.t.sf, df may be non-integer */
/* scipy.stats.kstwo.sf(d, n): exact one-sample Kolmogorov distribution (src/stats/kolmogorov.c) */
double mw_kstwo_sf(double d, double n);

/* ---- rank / ECDF two-sample tests (sorted inputs) ---------------------- */

/* scipy.stats.ks_2samp(x, y), two-sided, method 'auto' (exact when max(n,m) <= 10000). */
mw_status mw_ks_2samp(const double *x, size_t n, const double *y, size_t m, mw_test_result *out);
/* scipy.stats.cramervonmises_2samp(x, y), method 'auto'. */
mw_status mw_cvm_2samp(const double *x, size_t n, const double *y, size_t m, mw_test_result *out);
/* scipy.stats.anderson_ksamp([x, y]) (midrank): statistic and significance_level
 * (which scipy caps to [0.001, 0.25]) as p_value. */
mw_status mw_anderson_ksamp(const double *x, size_t n, const double *y, size_t m,
                            mw_test_result *out);
/* scipy.stats.mannwhitneyu(x, y, alternative='two-sided'), method 'auto'
 * (exact when n, m < 8 and no ties); statistic is U of x. */
mw_status mw_mannwhitneyu(const double *x, size_t n, const double *y, size_t m,
                          mw_test_result *out);
/* scipy.stats.energy_distance(x, y); p_value NAN. */
mw_status mw_energy_distance(const double *x, size_t n, const double *y, size_t m,
                             mw_test_result *out);
/* scipy.stats.wasserstein_distance(x, y); p_value NAN. */
mw_status mw_wasserstein_distance(const double *x, size_t n, const double *y, size_t m,
                                  mw_test_result *out);

/* ---- moment-based tests ------------------------------------------------- */

/* scipy.stats.ttest_ind(x, y, equal_var=False) from sufficient statistics:
 * means, sample variances (ddof = 1) and counts (each >= 2). */
mw_status mw_ttest_welch(double mean1, double var1, double n1, double mean2, double var2, double n2,
                         mw_test_result *out);

/* ---- categorical tests on counts --------------------------------------- */

/*
 * scipy.stats.chi2_contingency([ref, cur]) with default correction (Yates when
 * dof == 1). log_likelihood != 0 gives lambda_="log-likelihood" (G-test).
 * Categories whose count is zero on both sides are skipped. Needs at least two
 * remaining categories and a non-zero total on each side, else MW_EINVAL.
 */
mw_status mw_chi2_contingency(const double *ref, const double *cur, size_t k, int log_likelihood,
                              mw_test_result *out);
/* scipy.stats.fisher_exact([[a, b], [c, d]]) two-sided; statistic is the sample
 * odds ratio a*d/(b*c) (inf or nan as scipy gives). */
mw_status mw_fisher_exact(uint64_t a, uint64_t b, uint64_t c, uint64_t d, mw_test_result *out);

/* ---- binomial tests (src/stats/binom.c) -------------------------------- */

/* scipy.stats.binom.cdf(k, n, p): P(X <= k) for X ~ Binomial(n, p). NAN for p
 * outside [0, 1]. */
double mw_binom_cdf(uint64_t k, uint64_t n, double p);
/* One-sided binomial test P(X >= x) for X ~ Binomial(n, p):
 * scipy.stats.binomtest(x, n, p, alternative='greater').pvalue. */
double mw_binom_test_greater(uint64_t x, uint64_t n, double p);
/*
 * McNemar's exact test of two paired classifiers:
 * statsmodels.stats.contingency_tables.mcnemar([[a, b], [c, d]], exact=True)
 * from the discordant counts b (first right, second wrong) and c (first wrong,
 * second right): statistic = min(b, c), p = min(1, 2 * binom.cdf(min(b, c),
 * b + c, 0.5)); b = c = 0 gives statistic 0 and p 1.
 */
mw_status mw_mcnemar_exact(uint64_t b, uint64_t c, mw_test_result *out);

/* ---- histogram distances on counts (reference ref, current cur) -------- */
/* p = ref/sum(ref), q = cur/sum(cur); both sums must be > 0. */

double mw_psi(const double *ref, const double *cur, size_t k); /* zeros -> 1e-4 */
double mw_kl(const double *ref, const double *cur, size_t k);  /* entropy(p, q), zeros -> 1e-4 */
double mw_jensenshannon(const double *ref, const double *cur, size_t k); /* natural log */
double mw_hellinger(const double *ref, const double *cur, size_t k);
double mw_tvd(const double *ref, const double *cur, size_t k);

/* ---- binning ------------------------------------------------------------ */

/* numpy.quantile(sorted, [1/bins, ..., (bins-1)/bins]) with linear interpolation;
 * writes bins-1 edges. n >= 1, bins >= 2. */
void mw_quantile_edges(const double *sorted, size_t n, size_t bins, double *edges);
/* numpy.quantile(sorted, q), linear interpolation. */
double mw_quantile_sorted(const double *sorted, size_t n, double q);
/* numpy.searchsorted(edges, x, side='right'): index in [0, nedges]. */
size_t mw_bin_index(const double *edges, size_t nedges, double x);

/* ---- multiple-testing corrections --------------------------------------- */

/* Bonferroni: min(1, p*m). Benjamini-Hochberg: the adjusted p-values of
 * statsmodels' multipletests(method='fdr_bh'). NAN entries are left alone and
 * not counted in m. In place. */
void mw_correct_bonferroni(double *p, size_t m);
void mw_correct_bh(double *p, size_t m);

#ifdef __cplusplus
}
#endif
#endif
