/*
 * The reservoir sample (stats/sketch.h, algorithm R): uniform, checked by
 * chi-square on fixed seeds: every value of a short stream is kept
 * equally often, every pair of a tiny one, and every tenth of a stream 1,000
 * times the capacity; the same seed gives the same sample; clear starts a new
 * stream; a merged reservoir goes on with the right counts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "stats/sketch.h"

/* Offers 0 .. n-1 to a fresh reservoir of capacity k seeded with seed. */
static void fill(mw_reservoir *s, size_t k, size_t n, uint64_t seed) {
    mw_rng rng;
    mw_rng_seed(&rng, seed);
    assert_int_equal(mw_reservoir_init(s, k), MW_OK);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(mw_reservoir_add(s, (double)i, &rng), MW_OK);
    assert_int_equal(s->len, n < k ? n : k);
    assert_int_equal(s->seen, n);
}

static double chi2(const double *obs, size_t n, double expected) {
    double x = 0;
    for (size_t i = 0; i < n; i++)
        x += (obs[i] - expected) * (obs[i] - expected) / expected;
    return x;
}

/* 50 values, 5 kept, 40,000 streams: each value kept 4,000 times expected.
 * Chi-square with 49 degrees of freedom: 95 % below 66.3, 99.99 % below 95. */
static void test_uniform_values(void **state) {
    (void)state;
    enum { N = 50, K = 5, T = 40000 };
    double count[N] = {0};
    for (uint64_t t = 0; t < T; t++) {
        mw_reservoir s;
        fill(&s, K, N, 1000 + t);
        for (size_t i = 0; i < s.len; i++)
            count[(size_t)s.values[i]]++;
        for (size_t i = 0; i < s.len; i++) /* no value twice */
            for (size_t j = i + 1; j < s.len; j++)
                assert_true(s.values[i] != s.values[j]);
        mw_reservoir_free(&s);
    }
    double x = chi2(count, N, (double)T * K / N);
    assert_true(x < 95);
}

/* 6 values, 2 kept: the 15 pairs equally likely (chi-square, 14 degrees of
 * freedom: 99.99 % below 43). */
static void test_uniform_pairs(void **state) {
    (void)state;
    enum { N = 6, K = 2, T = 30000 };
    double count[N * N] = {0}, pairs[15];
    for (uint64_t t = 0; t < T; t++) {
        mw_reservoir s;
        fill(&s, K, N, 7 * t + 3);
        size_t a = (size_t)s.values[0], b = (size_t)s.values[1];
        count[a < b ? a * N + b : b * N + a]++;
        mw_reservoir_free(&s);
    }
    size_t np = 0;
    for (size_t a = 0; a < N; a++)
        for (size_t b = a + 1; b < N; b++)
            pairs[np++] = count[a * N + b];
    assert_int_equal(np, 15);
    assert_true(chi2(pairs, 15, (double)T / 15) < 43);
}

/* A long stream (100 kept of 100,000): the kept values fall evenly in its
 * ten tenths (chi-square, 9 degrees of freedom: 99.99 % below 33.7), and
 * after the reservoir fills about K ln(N / K) values enter. */
static void test_uniform_long_stream(void **state) {
    (void)state;
    enum { N = 100000, K = 100, T = 300 };
    double tenth[10] = {0};
    for (uint64_t t = 0; t < T; t++) {
        mw_reservoir s;
        fill(&s, K, N, 99 + t);
        for (size_t i = 0; i < s.len; i++)
            tenth[(size_t)s.values[i] / (N / 10)]++;
        mw_reservoir_free(&s);
    }
    assert_true(chi2(tenth, 10, (double)T * K / 10) < 33.7);
    /* values entering after the fill: about K ln(N/K) = 690, not N - K */
    mw_reservoir s;
    fill(&s, K, K, 5);
    mw_rng rng;
    mw_rng_seed(&rng, 6);
    size_t entered = 0;
    for (size_t i = K; i < N; i++) {
        double before[K];
        memcpy(before, s.values, sizeof before);
        assert_int_equal(mw_reservoir_add(&s, -1.0 - (double)i, &rng), MW_OK);
        entered += memcmp(before, s.values, sizeof before) != 0;
    }
    assert_true(entered > 400 && entered < 1000);
    mw_reservoir_free(&s);
}

static void test_reproducible_and_clear(void **state) {
    (void)state;
    mw_reservoir a, b;
    fill(&a, 10, 5000, 42);
    fill(&b, 10, 5000, 42);
    assert_memory_equal(a.values, b.values, 10 * sizeof(double));
    mw_reservoir c;
    fill(&c, 10, 5000, 43);
    assert_true(memcmp(a.values, c.values, 10 * sizeof(double)) != 0);
    /* cleared, the same stream and seed give the same sample again */
    mw_reservoir_clear(&a);
    assert_int_equal(a.len, 0);
    assert_int_equal(a.seen, 0);
    mw_rng rng;
    mw_rng_seed(&rng, 42);
    for (size_t i = 0; i < 5000; i++)
        assert_int_equal(mw_reservoir_add(&a, (double)i, &rng), MW_OK);
    assert_memory_equal(a.values, b.values, 10 * sizeof(double));
    mw_reservoir_free(&a);
    mw_reservoir_free(&b);
    mw_reservoir_free(&c);
}

/* A merged reservoir keeps its capacity and counts as it goes on. */
static void test_merge_then_add(void **state) {
    (void)state;
    mw_reservoir a, b;
    fill(&a, 20, 1000, 1);
    fill(&b, 20, 3000, 2);
    mw_rng rng;
    mw_rng_seed(&rng, 3);
    assert_int_equal(mw_reservoir_merge(&a, &b, &rng), MW_OK);
    assert_int_equal(a.len, 20);
    assert_int_equal(a.seen, 4000);
    for (size_t i = 0; i < 4000; i++)
        assert_int_equal(mw_reservoir_add(&a, 1e6 + (double)i, &rng), MW_OK);
    assert_int_equal(a.len, 20);
    assert_int_equal(a.seen, 8000);
    size_t late = 0; /* about half the sample is now from the last 4,000 */
    for (size_t i = 0; i < a.len; i++)
        late += a.values[i] >= 1e6;
    assert_true(late >= 3 && late <= 17);
    mw_reservoir_free(&a);
    mw_reservoir_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_uniform_values),       cmocka_unit_test(test_uniform_pairs),
        cmocka_unit_test(test_uniform_long_stream),  cmocka_unit_test(test_reproducible_and_clear),
        cmocka_unit_test(test_merge_then_add),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
