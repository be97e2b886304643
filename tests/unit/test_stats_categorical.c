/*
 * Moment and categorical tests against scipy 1.10 (tests/fixtures/stats_basic.txt,
 * made by gen_stats_basic.py): Welch's t-test (scipy.stats.ttest_ind with
 * equal_var=False) from numpy's mean and var(ddof=1); chi-square and G-test
 * (scipy.stats.chi2_contingency([ref, cur]), Yates when dof == 1); Fisher's exact
 * test (scipy.stats.fisher_exact, two-sided).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "modelwatch/stats.h"

static mw_fx_file *fx;

static int setup(void **state) {
    (void)state;
    fx = mw_fx_load("stats_basic.txt");
    return fx ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    mw_fx_free(fx);
    return 0;
}

static int has_prefix(const char *s, const char *p) {
    return strncmp(s, p, strlen(p)) == 0;
}

static double relerr(double got, double want) {
    if (!isfinite(want) || fabs(want) < 1e-300)
        return got == want || (isnan(got) && isnan(want)) ? 0 : fabs(got - want);
    return fabs(got - want) / fabs(want);
}

static void test_welch(void **state) {
    (void)state;
    size_t seen = 0;
    double ms = 0, mp = 0;
    for (size_t i = 0; i < mw_fx_count(fx); i++) {
        const mw_fx_case *c = mw_fx_case_at(fx, i);
        const char *name = mw_fx_name(c);
        if (!has_prefix(name, "welch_")) continue;
        seen++;
        mw_test_result r;
        mw_status st =
            mw_ttest_welch(mw_fx_need(c, "mean1"), mw_fx_need(c, "var1"), mw_fx_need(c, "n1"),
                           mw_fx_need(c, "mean2"), mw_fx_need(c, "var2"), mw_fx_need(c, "n2"), &r);
        assert_int_equal(st, MW_OK);
        double es = mw_fx_need(c, "statistic"), ep = mw_fx_need(c, "pvalue");
        mw_assert_close(r.statistic, es, MW_TOL_STAT, 0, name, "statistic");
        mw_assert_close(r.p_value, ep, MW_TOL_P_REL, MW_TOL_P_ABS, name, "p-value");
        if (relerr(r.statistic, es) > ms) ms = relerr(r.statistic, es);
        if (relerr(r.p_value, ep) > mp) mp = relerr(r.p_value, ep);
    }
    assert_true(seen >= 10);
    print_message("    welch: max relative error statistic %.3g, p %.3g\n", ms, mp);

    mw_test_result r = {1, 1};
    assert_int_equal(mw_ttest_welch(0, 1, 1, 0, 1, 5, &r), MW_EINVAL); /* n < 2 */
    assert_true(isnan(r.statistic) && isnan(r.p_value));
    assert_int_equal(mw_ttest_welch(0, -1, 3, 0, 1, 5, &r), MW_EINVAL);
    assert_int_equal(mw_ttest_welch(NAN, 1, 3, 0, 1, 5, &r), MW_EINVAL);
    assert_int_equal(mw_ttest_welch(0, 1, 3, 0, 1, 5, NULL), MW_EINVAL);
}

static void test_chi2(void **state) {
    (void)state;
    size_t seen = 0;
    double ms = 0, mp = 0;
    for (size_t i = 0; i < mw_fx_count(fx); i++) {
        const mw_fx_case *c = mw_fx_case_at(fx, i);
        const char *name = mw_fx_name(c);
        if (!has_prefix(name, "chi2_") || !strcmp(name, "chi2_sf")) continue;
        seen++;
        size_t k, k2;
        const double *ref = mw_fx_array(c, "ref", &k), *cur = mw_fx_array(c, "cur", &k2);
        assert_non_null(ref);
        assert_int_equal(k, k2);
        for (int g = 0; g < 2; g++) {
            mw_test_result r;
            assert_int_equal(mw_chi2_contingency(ref, cur, k, g, &r), MW_OK);
            double es = mw_fx_need(c, g ? "g" : "chi2"), ep = mw_fx_need(c, g ? "g_p" : "chi2_p");
            mw_assert_close(r.statistic, es, MW_TOL_STAT, 1e-300, name, g ? "G" : "chi2");
            mw_assert_close(r.p_value, ep, MW_TOL_P_REL, MW_TOL_P_ABS, name, g ? "G p" : "chi2 p");
            if (relerr(r.statistic, es) > ms) ms = relerr(r.statistic, es);
            if (relerr(r.p_value, ep) > mp) mp = relerr(r.p_value, ep);
        }
    }
    assert_true(seen >= 10);
    print_message("    chi2/G: max relative error statistic %.3g, p %.3g\n", ms, mp);

    mw_test_result r;
    double one[] = {5, 0}, two[] = {3, 0};
    assert_int_equal(mw_chi2_contingency(one, two, 2, 0, &r), MW_EINVAL); /* one category */
    double z[] = {0, 0}, a[] = {1, 2};
    assert_int_equal(mw_chi2_contingency(z, a, 2, 0, &r), MW_EINVAL); /* empty side */
    double neg[] = {-1, 2};
    assert_int_equal(mw_chi2_contingency(neg, a, 2, 1, &r), MW_EINVAL);
    assert_true(isnan(r.statistic) && isnan(r.p_value));
}

static void test_fisher(void **state) {
    (void)state;
    size_t seen = 0;
    double mp = 0;
    for (size_t i = 0; i < mw_fx_count(fx); i++) {
        const mw_fx_case *c = mw_fx_case_at(fx, i);
        const char *name = mw_fx_name(c);
        if (!has_prefix(name, "fisher_")) continue;
        seen++;
        size_t n;
        const double *t = mw_fx_array(c, "table", &n);
        assert_int_equal(n, 4);
        mw_test_result r;
        assert_int_equal(
            mw_fisher_exact((uint64_t)t[0], (uint64_t)t[1], (uint64_t)t[2], (uint64_t)t[3], &r),
            MW_OK);
        double es = mw_fx_need(c, "statistic"), ep = mw_fx_need(c, "pvalue");
        mw_assert_close(r.statistic, es, MW_TOL_STAT, 0, name, "odds ratio");
        mw_assert_close(r.p_value, ep, MW_TOL_P_REL, MW_TOL_P_ABS, name, "p-value");
        if (relerr(r.p_value, ep) > mp) mp = relerr(r.p_value, ep);
    }
    assert_true(seen >= 20);
    print_message("    fisher: max relative error p %.3g\n", mp);
    mw_test_result r;
    assert_int_equal(mw_fisher_exact(1, 2, 3, 4, NULL), MW_EINVAL);
    assert_int_equal(mw_fisher_exact(UINT64_C(1) << 40, 2, 3, 4, &r), MW_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_welch),
        cmocka_unit_test(test_chi2),
        cmocka_unit_test(test_fisher),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
