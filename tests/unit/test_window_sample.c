/*
 * A window's numeric samples once full (window.c): the replacements are held
 * back and written later (store_later, mw_window_settle), and the settled
 * sample must be exactly what algorithm R with the window's generator gives
 * (mw_reservoir_add with the same seed, the same draws in the same order),
 * for two columns drawing in turn, whatever the number of values past the
 * capacity (fewer than the held-back stores, many more, a slot replaced
 * twice while held back).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/util.h"
#include "monitor/live_int.h"
#include "stats/sketch.h"

enum { CAP = 8, SEED = 42 };

static mw_baseline *two_numeric_columns(void) {
    const char *csv = "a,b\n1,10\n2,20\n3,30\n4,40\n5,50\n";
    mw_read_options ro = {0};
    mw_table *t = NULL;
    mw_error err;
    assert_int_equal(mw_table_read_mem("r.csv", csv, strlen(csv), &ro, &t, &err), MW_OK);
    mw_baseline *b = NULL;
    assert_int_equal(mw_baseline_from_table(t, NULL, 1, &b, &err), MW_OK);
    mw_table_free(t);
    assert_int_equal(b->ncols, 2);
    return b;
}

/* One record with a = av and b = bv into the window. */
static void observe_pair(mw_window *w, const mw_baseline *b, double av, double bv) {
    mw_feature f[2] = {{.name = "a", .name_len = 1, .kind = MW_VALUE_NUMBER, .number = av},
                       {.name = "b", .name_len = 1, .kind = MW_VALUE_NUMBER, .number = bv}};
    mw_record rec = {.features = f,
                     .nfeatures = 2,
                     .ts = NAN,
                     .latency_ms = NAN,
                     .input_tokens = NAN,
                     .output_tokens = NAN,
                     .ttft_ms = NAN};
    assert_int_equal(mw_window_observe(w, b, &rec, NULL), MW_OK);
}

/* n records (a = i + 0.5, b = -i) through the window, and the same values
 * through two plain reservoirs drawing from one generator in the same order. */
static void check_after(const mw_baseline *b, size_t n) {
    mw_window w;
    assert_int_equal(mw_window_init(&w, b, CAP, SEED), MW_OK);
    mw_reservoir ra, rb;
    mw_rng rng;
    mw_rng_seed(&rng, SEED);
    assert_int_equal(mw_reservoir_init(&ra, CAP), MW_OK);
    assert_int_equal(mw_reservoir_init(&rb, CAP), MW_OK);
    for (size_t i = 0; i < n; i++) {
        double av = (double)i + 0.5, bv = -(double)i;
        observe_pair(&w, b, av, bv);
        assert_int_equal(mw_reservoir_add(&ra, av, &rng), MW_OK);
        assert_int_equal(mw_reservoir_add(&rb, bv, &rng), MW_OK);
    }
    mw_window_settle(&w);
    assert_int_equal(w.cols[0].sample.len, ra.len);
    assert_int_equal(w.cols[0].sample.seen, ra.seen);
    assert_memory_equal(w.cols[0].sample.values, ra.values, ra.len * sizeof(double));
    assert_memory_equal(w.cols[1].sample.values, rb.values, rb.len * sizeof(double));
    mw_reservoir_free(&ra);
    mw_reservoir_free(&rb);
    mw_window_free(&w);
}

static void test_settled_sample_is_algorithm_r(void **state) {
    (void)state;
    mw_baseline *b = two_numeric_columns();
    /* up to the capacity, a few past it, about the held-back stores, many more */
    static const size_t ns[] = {0,    5,    CAP, CAP + 1, CAP + 3, CAP + 2 * MW_WINDOW_STORES,
                                1000, 20000};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        check_after(b, ns[i]);
    mw_baseline_free(b);
}

/* A reset window holds nothing back from the window before it. */
static void test_reset_forgets_held_back_stores(void **state) {
    (void)state;
    mw_baseline *b = two_numeric_columns();
    mw_window w;
    assert_int_equal(mw_window_init(&w, b, CAP, SEED), MW_OK);
    for (size_t i = 0; i < 100; i++) {
        observe_pair(&w, b, 1, 2);
    }
    assert_true(w.nstores > 0);
    mw_window_reset(&w, SEED);
    assert_int_equal(w.nstores, 0);
    mw_window_free(&w);
    mw_baseline_free(b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settled_sample_is_algorithm_r),
        cmocka_unit_test(test_reset_forgets_held_back_stores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
