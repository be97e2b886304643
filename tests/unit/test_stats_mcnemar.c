/*
 * McNemar's exact test (src/stats/binom.c) against
 * statsmodels.stats.contingency_tables.mcnemar(table, exact=True)
 * (tests/fixtures/mcnemar.txt, made by gen_compare.py): statistic exactly,
 * p-value within 1e-12 relative, over discordant counts b and c from 0/0 and
 * ties to tens of thousands; the concordant counts a and d of the table must
 * not matter. Also the binomial CDF's edge cases (scipy.stats.binom.cdf).
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

static void test_against_statsmodels(void **state) {
    (void)state;
    mw_fx_file *fx = mw_fx_load("mcnemar.txt");
    size_t seen = 0, zero = 0, ties = 0, large = 0;
    for (size_t i = 0; i < mw_fx_count(fx); i++) {
        const mw_fx_case *c = mw_fx_case_at(fx, i);
        const char *name = mw_fx_name(c);
        if (strncmp(name, "mcnemar_", 8)) continue;
        seen++;
        uint64_t b = (uint64_t)mw_fx_need(c, "b"), cc = (uint64_t)mw_fx_need(c, "c");
        zero += b + cc == 0;
        ties += b == cc;
        large += b + cc > 10000;
        mw_test_result r;
        assert_int_equal(mw_mcnemar_exact(b, cc, &r), MW_OK);
        mw_assert_close(r.statistic, mw_fx_need(c, "statistic"), 0, 0, name, "statistic");
        mw_assert_close(r.p_value, mw_fx_need(c, "pvalue"), 1e-12, 0, name, "p-value");
        /* symmetric in b and c */
        mw_test_result s;
        assert_int_equal(mw_mcnemar_exact(cc, b, &s), MW_OK);
        assert_true(s.statistic == r.statistic && s.p_value == r.p_value);
    }
    mw_fx_free(fx);
    assert_true(seen >= 30);
    assert_true(zero == 1 && ties >= 4 && large >= 2);
}

static void test_edges(void **state) {
    (void)state;
    mw_test_result r;
    assert_int_equal(mw_mcnemar_exact(0, 0, &r), MW_OK);
    assert_true(r.statistic == 0 && r.p_value == 1);
    assert_int_equal(mw_mcnemar_exact(0, 1, &r), MW_OK); /* 2 * 0.5, capped */
    assert_true(r.statistic == 0 && r.p_value == 1);
    assert_int_equal(mw_mcnemar_exact(0, 5, &r), MW_OK); /* 2 / 32 */
    assert_true(r.p_value == 0.0625);
    assert_int_equal(mw_mcnemar_exact(UINT64_MAX, 1, &r), MW_EINVAL);
    assert_true(isnan(r.p_value));
    assert_int_equal(mw_mcnemar_exact(1, 1, NULL), MW_EINVAL);
    assert_true(mw_binom_cdf(3, 3, 0.5) == 1 && mw_binom_cdf(5, 3, 0.2) == 1);
    assert_true(mw_binom_cdf(0, 4, 0.5) == 0.0625);
    assert_true(mw_binom_cdf(2, 4, 0) == 1 && mw_binom_cdf(2, 4, 1) == 0);
    assert_true(isnan(mw_binom_cdf(1, 4, -0.1)) && isnan(mw_binom_cdf(1, 4, NAN)));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_statsmodels),
        cmocka_unit_test(test_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
