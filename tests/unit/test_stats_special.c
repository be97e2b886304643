/*
 * Distribution functions against scipy 1.10 (tests/fixtures/stats_basic.txt, made
 * by gen_stats_basic.py): normal cdf/sf, regularized incomplete gamma P and Q,
 * regularized incomplete beta, chi-square and Student t survival functions, on
 * grids that reach far into the tails (values down to ~1e-300; below that
 * underflow to 0 is accepted), large shape parameters and non-integer df.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "modelwatch/stats.h"

/* Against mpmath, special functions are held far tighter than DESIGN.md's
 * p-value tolerance (which is what the comparison with scipy uses: scipy's own
 * cephes betainc is off by 2e-10 in places). */
#define TOL_SPECIAL_REL 1e-10
#define TOL_SPECIAL_ABS 1e-300

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

static const mw_fx_case *find(const char *name) {
    for (size_t i = 0; i < mw_fx_count(fx); i++)
        if (!strcmp(mw_fx_name(mw_fx_case_at(fx, i)), name)) return mw_fx_case_at(fx, i);
    fail_msg("fixture case %s missing", name);
    return NULL;
}

static const double *need_array(const mw_fx_case *c, const char *key, size_t n_expected) {
    size_t n = 0;
    const double *a = mw_fx_array(c, key, &n);
    assert_non_null(a);
    if (n_expected) assert_int_equal(n, n_expected);
    return a;
}

/* Relative error where it is meaningful (both finite, expected normal). */
static double relerr(double got, double want) {
    if (!isfinite(want) || fabs(want) < 1e-300) return 0;
    return fabs(got - want) / fabs(want);
}

/* Worst relative errors of the current test, against scipy and against mpmath. */
static double max_scipy, max_mp;

/* got against scipy (DESIGN.md p-value tolerance) and against the 50-digit mpmath
 * value (tighter; NaN means the generator had no mpmath value there). */
static void check(double got, double scipy_v, double mp_v, const char *case_name,
                  const char *what) {
    mw_assert_close(got, scipy_v, MW_TOL_P_REL, MW_TOL_P_ABS, case_name, what);
    if (!isnan(mp_v)) {
        mw_assert_close(got, mp_v, TOL_SPECIAL_REL, TOL_SPECIAL_ABS, case_name, what);
        if (relerr(got, mp_v) > max_mp) max_mp = relerr(got, mp_v);
    }
    if (relerr(got, scipy_v) > max_scipy) max_scipy = relerr(got, scipy_v);
}

static void report(const char *what) {
    print_message("    %-10s max relative error vs scipy %.3g, vs mpmath %.3g\n", what, max_scipy,
                  max_mp);
    max_scipy = max_mp = 0;
}

static void test_norm(void **state) {
    (void)state;
    const mw_fx_case *c = find("norm");
    size_t n;
    const double *z = mw_fx_array(c, "z", &n);
    const double *cdf = need_array(c, "cdf", n), *sf = need_array(c, "sf", n);
    const double *cdf_mp = need_array(c, "cdf_mp", n), *sf_mp = need_array(c, "sf_mp", n);
    char what[64];
    for (size_t i = 0; i < n; i++) {
        snprintf(what, sizeof what, "cdf(%g)", z[i]);
        check(mw_norm_cdf(z[i]), cdf[i], cdf_mp[i], "norm", what);
        snprintf(what, sizeof what, "sf(%g)", z[i]);
        check(mw_norm_sf(z[i]), sf[i], sf_mp[i], "norm", what);
    }
    report("norm");
    assert_true(isnan(mw_norm_cdf(NAN)));
    assert_true(mw_norm_cdf(INFINITY) == 1.0 && mw_norm_sf(INFINITY) == 0.0);
}

static void test_gammainc(void **state) {
    (void)state;
    const mw_fx_case *c = find("gammainc");
    size_t n;
    const double *a = mw_fx_array(c, "a", &n);
    const double *x = need_array(c, "x", n), *lo = need_array(c, "lower", n),
                 *up = need_array(c, "upper", n);
    const double *lo_mp = need_array(c, "lower_mp", n), *up_mp = need_array(c, "upper_mp", n);
    char what[96];
    for (size_t i = 0; i < n; i++) {
        snprintf(what, sizeof what, "P(%g, %g)", a[i], x[i]);
        check(mw_gammainc_lower(a[i], x[i]), lo[i], lo_mp[i], "gammainc", what);
        snprintf(what, sizeof what, "Q(%g, %g)", a[i], x[i]);
        check(mw_gammainc_upper(a[i], x[i]), up[i], up_mp[i], "gammainc", what);
    }
    report("gammainc");
    assert_true(isnan(mw_gammainc_lower(-1, 1)) && isnan(mw_gammainc_upper(1, -1)));
    assert_true(mw_gammainc_lower(2, 0) == 0.0 && mw_gammainc_upper(2, 0) == 1.0);
}

static void test_betainc(void **state) {
    (void)state;
    const mw_fx_case *c = find("betainc");
    size_t n;
    const double *a = mw_fx_array(c, "a", &n);
    const double *b = need_array(c, "b", n), *x = need_array(c, "x", n),
                 *v = need_array(c, "value", n), *v_mp = need_array(c, "value_mp", n);
    char what[96];
    for (size_t i = 0; i < n; i++) {
        snprintf(what, sizeof what, "I(%g; %g, %g)", x[i], a[i], b[i]);
        check(mw_betainc(a[i], b[i], x[i]), v[i], v_mp[i], "betainc", what);
    }
    report("betainc");
    assert_true(isnan(mw_betainc(1, 1, 1.5)) && isnan(mw_betainc(0, 1, 0.5)));
}

static void test_chi2_sf(void **state) {
    (void)state;
    const mw_fx_case *c = find("chi2_sf");
    size_t n;
    const double *x = mw_fx_array(c, "x", &n);
    const double *df = need_array(c, "df", n), *sf = need_array(c, "sf", n),
                 *sf_mp = need_array(c, "sf_mp", n);
    char what[96];
    for (size_t i = 0; i < n; i++) {
        snprintf(what, sizeof what, "chi2.sf(%g, %g)", x[i], df[i]);
        check(mw_chi2_sf(x[i], df[i]), sf[i], sf_mp[i], "chi2_sf", what);
    }
    report("chi2_sf");
    assert_true(isnan(mw_chi2_sf(1, 0)) && mw_chi2_sf(-1, 3) == 1.0);
}

static void test_t_sf(void **state) {
    (void)state;
    const mw_fx_case *c = find("t_sf");
    size_t n;
    const double *t = mw_fx_array(c, "t", &n);
    const double *df = need_array(c, "df", n), *sf = need_array(c, "sf", n),
                 *sf_mp = need_array(c, "sf_mp", n);
    char what[96];
    for (size_t i = 0; i < n; i++) {
        snprintf(what, sizeof what, "t.sf(%g, %g)", t[i], df[i]);
        check(mw_t_sf(t[i], df[i]), sf[i], sf_mp[i], "t_sf", what);
    }
    report("t_sf");
    assert_true(isnan(mw_t_sf(1, -2)) && mw_t_sf(0, 3.5) == 0.5);
    assert_true(mw_t_sf(INFINITY, 3) == 0.0 && mw_t_sf(-INFINITY, 3) == 1.0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_norm),    cmocka_unit_test(test_gammainc),
        cmocka_unit_test(test_betainc), cmocka_unit_test(test_chi2_sf),
        cmocka_unit_test(test_t_sf),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
