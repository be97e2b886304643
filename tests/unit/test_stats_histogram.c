/*
 * Histogram distances, quantile binning and multiple-testing corrections against
 * the references in tests/fixtures/stats_basic.txt (gen_stats_basic.py): PSI and
 * KL with zeros replaced by 1e-4 (Evidently, scipy.stats.entropy), Jensen-Shannon
 * (scipy.spatial.distance.jensenshannon), Hellinger, TVD; numpy 1.24 quantiles
 * (compared bit for bit) and searchsorted(side='right'); statsmodels
 * multipletests 'bonferroni' and 'fdr_bh' with NaN entries skipped.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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

static void test_distances(void **state) {
    (void)state;
    size_t seen = 0;
    double mx = 0;
    for (size_t i = 0; i < mw_fx_count(fx); i++) {
        const mw_fx_case *c = mw_fx_case_at(fx, i);
        const char *name = mw_fx_name(c);
        if (!has_prefix(name, "hist_")) continue;
        seen++;
        size_t k, k2;
        const double *ref = mw_fx_array(c, "ref", &k), *cur = mw_fx_array(c, "cur", &k2);
        assert_non_null(ref);
        assert_int_equal(k, k2);
        struct {
            const char *key;
            double got;
        } m[] = {{"psi", mw_psi(ref, cur, k)},
                 {"kl", mw_kl(ref, cur, k)},
                 {"jensenshannon", mw_jensenshannon(ref, cur, k)},
                 {"hellinger", mw_hellinger(ref, cur, k)},
                 {"tvd", mw_tvd(ref, cur, k)}};
        for (size_t j = 0; j < sizeof m / sizeof m[0]; j++) {
            double want = mw_fx_need(c, m[j].key);
            /* abs 1e-15: identical histograms give 0 up to rounding */
            mw_assert_close(m[j].got, want, MW_TOL_STAT, 1e-15, name, m[j].key);
            if (want != 0 && fabs(m[j].got - want) / fabs(want) > mx)
                mx = fabs(m[j].got - want) / fabs(want);
        }
    }
    assert_true(seen >= 8);
    print_message("    distances: max relative error %.3g\n", mx);

    double z[] = {0, 0}, a[] = {1, 2}, neg[] = {-1, 2};
    assert_true(isnan(mw_psi(z, a, 2)) && isnan(mw_kl(a, z, 2)));
    assert_true(isnan(mw_jensenshannon(neg, a, 2)) && isnan(mw_hellinger(a, a, 0)));
    assert_true(isnan(mw_tvd(NULL, a, 2)));
    assert_true(mw_jensenshannon(a, a, 2) == 0.0 && mw_tvd(a, a, 2) == 0.0);
}

static void test_quantiles(void **state) {
    (void)state;
    size_t seen = 0;
    const size_t bins_list[] = {10, 4, 7, 3, 2};
    for (size_t i = 0; i < mw_fx_count(fx); i++) {
        const mw_fx_case *c = mw_fx_case_at(fx, i);
        const char *name = mw_fx_name(c);
        if (!has_prefix(name, "quantile_")) continue;
        seen++;
        size_t n, nq, nv;
        const double *s = mw_fx_array(c, "sorted", &n);
        assert_non_null(s);
        for (size_t b = 0; b < sizeof bins_list / sizeof bins_list[0]; b++) {
            char key[32];
            snprintf(key, sizeof key, "edges%zu", bins_list[b]);
            size_t ne;
            const double *want = mw_fx_array(c, key, &ne);
            assert_non_null(want);
            assert_int_equal(ne, bins_list[b] - 1);
            double got[16];
            mw_quantile_edges(s, n, bins_list[b], got);
            for (size_t j = 0; j < ne; j++)
                mw_assert_close(got[j], want[j], 0, 0, name, key);
        }
        const double *q = mw_fx_array(c, "q", &nq), *qv = mw_fx_array(c, "qval", &nv);
        assert_int_equal(nq, nv);
        for (size_t j = 0; j < nq; j++)
            mw_assert_close(mw_quantile_sorted(s, n, q[j]), qv[j], 0, 0, name, "quantile");
    }
    assert_true(seen >= 8);
    double one = 1.0;
    assert_true(isnan(mw_quantile_sorted(&one, 0, 0.5)) && isnan(mw_quantile_sorted(&one, 1, 1.5)));
    assert_true(isnan(mw_quantile_sorted(&one, 1, NAN)));
}

static void test_bins(void **state) {
    (void)state;
    size_t seen = 0;
    for (size_t i = 0; i < mw_fx_count(fx); i++) {
        const mw_fx_case *c = mw_fx_case_at(fx, i);
        const char *name = mw_fx_name(c);
        if (!has_prefix(name, "bins_")) continue;
        seen++;
        size_t ne, nx, ni;
        const double *e = mw_fx_array(c, "edges", &ne), *x = mw_fx_array(c, "x", &nx),
                     *idx = mw_fx_array(c, "index", &ni);
        assert_int_equal(nx, ni);
        for (size_t j = 0; j < nx; j++) {
            char what[64];
            snprintf(what, sizeof what, "bin of %.17g", x[j]);
            mw_assert_close((double)mw_bin_index(e, ne, x[j]), idx[j], 0, 0, name, what);
        }
    }
    assert_int_equal(seen, 3);
    double e[] = {1, 2};
    assert_int_equal(mw_bin_index(e, 2, NAN), 2);
    assert_int_equal(mw_bin_index(e, 0, 5), 0);
}

static void test_corrections(void **state) {
    (void)state;
    size_t seen = 0;
    for (size_t i = 0; i < mw_fx_count(fx); i++) {
        const mw_fx_case *c = mw_fx_case_at(fx, i);
        const char *name = mw_fx_name(c);
        if (!has_prefix(name, "correct_")) continue;
        seen++;
        size_t n, nb, nh;
        const double *p = mw_fx_array(c, "p", &n), *bonf = mw_fx_array(c, "bonferroni", &nb),
                     *bh = mw_fx_array(c, "bh", &nh);
        assert_int_equal(n, nb);
        assert_int_equal(n, nh);
        double *w = malloc((n ? n : 1) * sizeof *w);
        memcpy(w, p, n * sizeof *w);
        mw_correct_bonferroni(w, n);
        for (size_t j = 0; j < n; j++)
            mw_assert_close(w[j], bonf[j], MW_TOL_P_REL, MW_TOL_P_ABS, name, "bonferroni");
        memcpy(w, p, n * sizeof *w);
        mw_correct_bh(w, n);
        for (size_t j = 0; j < n; j++)
            mw_assert_close(w[j], bh[j], MW_TOL_P_REL, MW_TOL_P_ABS, name, "bh");
        free(w);
    }
    assert_true(seen >= 8);
    mw_correct_bh(NULL, 3);
    mw_correct_bonferroni(NULL, 3);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_distances),
        cmocka_unit_test(test_quantiles),
        cmocka_unit_test(test_bins),
        cmocka_unit_test(test_corrections),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
