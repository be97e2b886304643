/*
 * Profiles: moments, quantiles and distinct counts against values computed by
 * hand / numpy; merging two halves equals profiling the whole; serialisation
 * round-trips exactly; every truncation and corrupted byte of a serialised
 * profile is rejected or read safely (never a crash).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modelwatch/profile.h"

static mw_profile *numbers(size_t from, size_t to, size_t cap) {
    mw_profile_options opt = {.sample_capacity = cap, .seed = 7};
    mw_profile *p;
    size_t x, c;
    assert_int_equal(mw_profile_new(&opt, &p), MW_OK);
    assert_int_equal(mw_profile_column_index(p, "x", MW_TYPE_NUMERIC, &x), MW_OK);
    assert_int_equal(mw_profile_column_index(p, "c", MW_TYPE_CATEGORICAL, &c), MW_OK);
    for (size_t i = from; i <= to; i++) {
        assert_int_equal(mw_profile_add_number(p, x, (double)i), MW_OK);
        const char *cat = i % 3 == 0 ? "a" : (i % 3 == 1 ? "bb" : NULL);
        assert_int_equal(mw_profile_add_category(p, c, cat, cat ? strlen(cat) : 0), MW_OK);
    }
    assert_int_equal(mw_profile_add_number(p, x, NAN), MW_OK);
    assert_int_equal(mw_profile_add_number(p, x, INFINITY), MW_OK);
    return p;
}

static void test_moments_and_quantiles(void **state) {
    (void)state;
    mw_profile *p = numbers(1, 10, 1000);
    mw_column_summary s;
    assert_int_equal(mw_profile_summary(p, 0, &s), MW_OK);
    assert_int_equal(s.count, 12);
    assert_int_equal(s.missing, 1);
    assert_int_equal(s.pos_inf, 1);
    assert_int_equal(s.n, 10);
    assert_true(s.min == 1 && s.max == 10);
    assert_true(fabs(s.mean - 5.5) < 1e-15);
    assert_true(fabs(s.stddev - 3.0276503540974917) < 1e-15); /* numpy.std(ddof=1) */
    assert_true(s.quantiles_exact);
    assert_true(fabs(s.quantiles[3] - 5.5) < 1e-15);  /* median */
    assert_true(fabs(s.quantiles[2] - 3.25) < 1e-15); /* numpy.quantile(1..10, 0.25) */
    assert_int_equal(s.distinct, 10);
    assert_true(s.distinct_exact);
    assert_int_equal(mw_profile_summary(p, 1, &s), MW_OK);
    assert_int_equal(s.missing, 3);
    assert_int_equal(s.distinct, 2);
    assert_int_equal(s.ntop, 2);
    assert_string_equal(s.top[0], "bb"); /* bb: 1, 4, 7, 10; a: 3, 6, 9 */
    mw_profile_free(p);
    p = numbers(1, 10, 1000);
    assert_int_equal(mw_profile_summary(p, 1, &s), MW_OK);
    assert_int_equal(s.top_count[0], 4);
    assert_string_equal(s.top[0], "bb");
    mw_profile_free(p);
}

static void test_merge_equals_whole(void **state) {
    (void)state;
    mw_profile *whole = numbers(1, 5000, 100000);
    mw_profile *a = numbers(1, 2000, 100000), *b = numbers(2001, 5000, 100000);
    mw_error err;
    assert_int_equal(mw_profile_merge(a, b, &err), MW_OK);
    mw_column_summary sw, sm;
    assert_int_equal(mw_profile_summary(whole, 0, &sw), MW_OK);
    assert_int_equal(mw_profile_summary(a, 0, &sm), MW_OK);
    assert_int_equal(sm.count, sw.count + 2); /* each part added one NaN and one inf */
    assert_int_equal(sm.n, sw.n);
    assert_true(fabs(sm.mean - sw.mean) <= 1e-12 * sw.mean);
    assert_true(fabs(sm.stddev - sw.stddev) <= 1e-12 * sw.stddev);
    for (int q = 0; q < MW_PROFILE_NQUANTILES; q++) assert_true(sm.quantiles[q] == sw.quantiles[q]);
    assert_false(sm.distinct_exact); /* past 1024: HyperLogLog */
    assert_true(fabs((double)sm.distinct - 5000) < 5000 * 0.05);
    assert_int_equal(mw_profile_summary(a, 1, &sm), MW_OK);
    assert_int_equal(mw_profile_summary(whole, 1, &sw), MW_OK);
    assert_int_equal(sm.top_count[0], sw.top_count[0]);
    /* type clash */
    mw_profile *bad;
    size_t idx;
    assert_int_equal(mw_profile_new(NULL, &bad), MW_OK);
    assert_int_equal(mw_profile_column_index(bad, "x", MW_TYPE_CATEGORICAL, &idx), MW_OK);
    assert_int_equal(mw_profile_merge(a, bad, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "\"x\""));
    mw_profile_free(bad);
    mw_profile_free(whole);
    mw_profile_free(a);
    mw_profile_free(b);
}

static void test_sample_bounded(void **state) {
    (void)state;
    mw_profile *p = numbers(1, 20000, 1000);
    double *v;
    size_t n;
    assert_int_equal(mw_profile_sample(p, 0, &v, &n), MW_OK);
    assert_int_equal(n, 1000);
    for (size_t i = 1; i < n; i++) assert_true(v[i - 1] <= v[i]);
    mw_column_summary s;
    assert_int_equal(mw_profile_summary(p, 0, &s), MW_OK);
    assert_false(s.quantiles_exact);
    assert_true(fabs(s.quantiles[3] - 10000) < 1500); /* a uniform sample's median */
    free(v);
    mw_profile_free(p);
}

static void test_serialize_roundtrip_and_corruption(void **state) {
    (void)state;
    mw_profile *p = numbers(1, 3000, 500);
    unsigned char *buf;
    size_t len;
    assert_int_equal(mw_profile_serialize(p, &buf, &len), MW_OK);
    mw_profile *q;
    mw_error err;
    assert_int_equal(mw_profile_deserialize(buf, len, &q, &err), MW_OK);
    unsigned char *buf2;
    size_t len2;
    assert_int_equal(mw_profile_serialize(q, &buf2, &len2), MW_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    free(buf2);
    mw_profile_free(q);
    /* every truncation is rejected */
    for (size_t cut = 0; cut < len; cut += (cut < 200 ? 1 : 97)) {
        assert_int_equal(mw_profile_deserialize(buf, cut, &q, &err), MW_ECORRUPT);
        assert_null(q);
    }
    /* flipping any byte never crashes; a reading that succeeds is a valid profile */
    for (size_t i = 0; i < len; i += (i < 300 ? 1 : 13)) {
        unsigned char *copy = malloc(len);
        memcpy(copy, buf, len);
        copy[i] ^= 0x5a;
        if (mw_profile_deserialize(copy, len, &q, &err) == MW_OK) {
            mw_column_summary s;
            for (size_t c = 0; c < mw_profile_ncols(q); c++) mw_profile_summary(q, c, &s);
            mw_profile_free(q);
        }
        free(copy);
    }
    free(buf);
    mw_profile_free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_moments_and_quantiles),
        cmocka_unit_test(test_merge_equals_whole),
        cmocka_unit_test(test_sample_bounded),
        cmocka_unit_test(test_serialize_roundtrip_and_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
