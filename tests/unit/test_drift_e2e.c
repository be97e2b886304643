/*
 * End to end through the library: read tests/fixtures/drift/{ref,cur}.csv with
 * the CSV reader, run the batch comparison with every test, and compare each
 * column's statistics and p-values with what scipy/numpy computed on the same
 * files as pandas reads them (tests/fixtures/gen_drift_e2e.py). Also checks the
 * auto selection, quality findings and the data set decision.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "modelwatch/drift.h"

typedef struct loaded {
    mw_table *ref, *cur;
    mw_batch *batch;
} loaded;

static void load(loaded *l, const mw_drift_options *opt) {
    mw_error err;
    mw_error_clear(&err);
    mw_read_options ropt = {0};
    assert_int_equal(mw_table_read(MW_FIXTURE_DIR "/drift/ref.csv", &ropt, &l->ref, &err), MW_OK);
    assert_int_equal(mw_table_read(MW_FIXTURE_DIR "/drift/cur.csv", &ropt, &l->cur, &err), MW_OK);
    assert_int_equal(mw_batch_new(l->ref, l->cur, opt, &l->batch, &err), MW_OK);
    for (size_t i = 0; i < mw_batch_ncolumns(l->batch); i++)
        assert_int_equal(mw_batch_run_column(l->batch, i, &err), MW_OK);
    assert_int_equal(mw_batch_finish(l->batch), MW_OK);
}

static void unload(loaded *l) {
    mw_batch_free(l->batch);
    mw_table_free(l->ref);
    mw_table_free(l->cur);
}

static const mw_column_report *column(const mw_drift_report *r, const char *name) {
    for (size_t i = 0; i < r->ncols; i++)
        if (!strcmp(r->cols[i].name, name)) return &r->cols[i];
    fail_msg("column %s not in report", name);
    return NULL;
}

static void test_all_tests_match_scipy(void **state) {
    (void)state;
    mw_drift_options opt = {.selection = MW_TESTS_ALL, .threshold = NAN};
    loaded l;
    load(&l, &opt);
    const mw_drift_report *r = mw_batch_report(l.batch);
    mw_fx_file *fx = mw_fx_load("drift_e2e.txt");
    size_t checked = 0;
    for (size_t k = 0; k < mw_fx_count(fx); k++) {
        const mw_fx_case *fc = mw_fx_case_at(fx, k);
        const mw_column_report *c = column(r, mw_fx_name(fc));
        assert_string_equal(mw_coltype_name(c->type), mw_fx_text(fc, "type"));
        assert_int_equal(c->ref_values, (uint64_t)mw_fx_need(fc, "ref_values"));
        assert_int_equal(c->cur_values, (uint64_t)mw_fx_need(fc, "cur_values"));
        for (int t = 0; t < MW_TEST_COUNT; t++) {
            char key[64];
            const char *tn = mw_test_name((mw_test_id)t);
            snprintf(key, sizeof key, "%s.statistic", tn);
            double expect;
            int has = mw_fx_value(fc, key, &expect);
            int computed = (c->computed >> t) & 1;
            if (has != computed)
                fail_msg("column %s test %s: scipy %s it, modelwatch %s it", c->name, tn,
                         has ? "computed" : "did not compute", computed ? "computed" : "did not compute");
            if (!has) continue;
            mw_assert_close(c->tests[t].statistic, expect, MW_TOL_STAT, 1e-12, c->name, key);
            snprintf(key, sizeof key, "%s.p_value", tn);
            if (mw_fx_value(fc, key, &expect))
                mw_assert_close(c->tests[t].p_value, expect, MW_TOL_P_REL, MW_TOL_P_ABS, c->name, key);
            checked++;
        }
        /* the deciding test under "all" is the one auto picks */
        assert_true(c->tested);
        assert_string_equal(mw_test_name(c->drift_test), mw_fx_text(fc, "auto"));
    }
    assert_true(checked > 60);
    mw_fx_free(fx);
    unload(&l);
}

static void test_auto_decisions_and_quality(void **state) {
    (void)state;
    mw_drift_options opt = {.threshold = NAN};
    loaded l;
    load(&l, &opt);
    const mw_drift_report *r = mw_batch_report(l.batch);
    /* only_ref is on one side only and not tested */
    assert_int_equal(r->n_only_ref, 1);
    assert_string_equal(r->only_ref[0], "only_ref");
    assert_int_equal(r->ncols, 7);
    const mw_column_report *shifted = column(r, "shifted");
    assert_int_equal(shifted->drift_test, MW_TEST_KS);
    assert_true(shifted->drifted);
    assert_int_equal(shifted->computed, 1u << MW_TEST_KS); /* auto computes the decider only */
    const mw_column_report *ties = column(r, "ties");
    assert_true(ties->discrete);
    assert_int_equal(ties->drift_test, MW_TEST_CHI2);
    const mw_column_report *constant = column(r, "constant");
    assert_true(constant->ref_constant && constant->cur_constant);
    assert_int_equal(constant->drift_test, MW_TEST_CHI2);
    assert_false(constant->drifted);
    const mw_column_report *color = column(r, "color");
    assert_true(color->drifted);
    assert_int_equal(color->unseen_distinct, 1);
    assert_string_equal(color->unseen_example[0], "violet");
    assert_true(color->unseen_values > 0);
    const mw_column_report *wm = column(r, "with_missing");
    assert_int_equal(wm->ref_missing, 3);
    assert_int_equal(wm->cur_missing, 5);
    /* the share is over the 7 tested columns */
    assert_int_equal(r->n_tested, 7);
    assert_true(fabs(r->drift_share - (double)r->n_drifted / 7.0) < 1e-15);
    assert_int_equal(r->dataset_drift, r->drift_share >= 0.5);
    unload(&l);
}

static void test_list_threshold_and_correction(void **state) {
    (void)state;
    /* psi first: numeric and categorical columns are decided by psi >= 0.2 */
    mw_drift_options opt = {.selection = MW_TESTS_LIST,
                            .list = {MW_TEST_PSI, MW_TEST_KS},
                            .nlist = 2,
                            .threshold = 0.2,
                            .correction = MW_CORRECTION_BONFERRONI};
    loaded l;
    load(&l, &opt);
    const mw_drift_report *r = mw_batch_report(l.batch);
    for (size_t i = 0; i < r->ncols; i++) {
        const mw_column_report *c = &r->cols[i];
        assert_int_equal(c->drift_test, MW_TEST_PSI);
        assert_true(c->threshold == 0.2);
        assert_int_equal(c->drifted, c->statistic >= 0.2);
    }
    unload(&l);

    /* Bonferroni on KS p-values: adjusted = min(1, p * tested) */
    mw_drift_options o2 = {.selection = MW_TESTS_LIST, .list = {MW_TEST_KS}, .nlist = 1,
                           .threshold = NAN, .correction = MW_CORRECTION_BONFERRONI};
    load(&l, &o2);
    r = mw_batch_report(l.batch);
    assert_int_equal(r->n_tested, 5); /* the numeric columns */
    for (size_t i = 0; i < r->ncols; i++) {
        const mw_column_report *c = &r->cols[i];
        if (!c->tested) {
            assert_int_equal(c->type, MW_TYPE_CATEGORICAL);
            continue;
        }
        double want = fmin(1.0, c->p_value * 5);
        assert_true(fabs(c->p_adjusted - want) <= 1e-15 * fmax(1, want));
        assert_int_equal(c->drifted, c->p_adjusted < 0.05);
    }
    unload(&l);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_tests_match_scipy),
        cmocka_unit_test(test_auto_decisions_and_quality),
        cmocka_unit_test(test_list_threshold_and_correction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
