/*
 * Welch's unequal-variances t-test from sufficient statistics.
 *
 *   t  = (m1 - m2) / sqrt(v1/n1 + v2/n2)
 *   df = (v1/n1 + v2/n2)^2 / ((v1/n1)^2/(n1-1) + (v2/n2)^2/(n2-1))   (Welch-Satterthwaite)
 *   p  = 2 * t_sf(|t|, df)                                              (two-sided)
 *
 * Agrees with scipy.stats.ttest_ind(x, y, equal_var=False) (scipy 1.10,
 * _unequal_var_ttest_denom + _ttest_ind_from_stats + _ttest_finish) when given
 * numpy.mean and numpy.var(ddof=1) of the samples. Reference: B. L. Welch (1947),
 * "The generalization of Student's problem when several different population
 * variances are involved", Biometrika 34.
 *
 * Zero variance on both sides, as scipy does it: df is undefined (0/0) and is set
 * to 1 (it does not matter); the statistic is (m1 - m2) / 0, i.e. +-inf with
 * p = 0 when the means differ, and NaN with p = NaN when they are equal. Both are
 * returned with MW_OK, as scipy returns them without raising.
 */
#include <math.h>

#include "modelwatch/stats.h"

mw_status mw_ttest_welch(double mean1, double var1, double n1, double mean2, double var2, double n2,
                         mw_test_result *out) {
    if (!out) return MW_EINVAL;
    out->statistic = NAN;
    out->p_value = NAN;
    if (!isfinite(mean1) || !isfinite(mean2) || !isfinite(var1) || !isfinite(var2) ||
        !isfinite(n1) || !isfinite(n2) || var1 < 0 || var2 < 0 || n1 < 2 || n2 < 2)
        return MW_EINVAL;

    double vn1 = var1 / n1, vn2 = var2 / n2;
    double df = (vn1 + vn2) * (vn1 + vn2) / (vn1 * vn1 / (n1 - 1) + vn2 * vn2 / (n2 - 1));
    if (isnan(df)) df = 1.0; /* both variances zero, as scipy */
    double denom = sqrt(vn1 + vn2);
    double t = (mean1 - mean2) / denom;
    out->statistic = t;
    out->p_value = isnan(t) ? NAN : 2.0 * mw_t_sf(fabs(t), df);
    return MW_OK;
}
