/*
 * Sorting of doubles and keys: order equals qsort's on random data, negatives,
 * infinities, duplicates and both zeros; short arrays use the insertion path.
 * Every test runs twice: with the AVX-512 quicksort (where the CPU has it) and
 * with the portable radix sorts; test_vector_quicksort checks the quicksort's
 * own edge cases (every size up to 300, presorted and adversarial shapes, its
 * way out to the radix sort).
 * Order statistics by selection (mw_select_ranks, mw_quantiles_select) and
 * medians (mw_median_scan, mw_median_inplace) against sorting.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modelwatch/stats.h"
#include "stats/sort_int.h"

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void check(double *v, size_t n) {
    double *ref = malloc(n * sizeof *v), *scratch = malloc(n * sizeof *v);
    memcpy(ref, v, n * sizeof *v);
    qsort(ref, n, sizeof *ref, cmp);
    mw_sort_doubles(v, n, scratch);
    for (size_t i = 0; i < n; i++)
        assert_true(v[i] == ref[i]);
    for (size_t i = 1; i < n; i++)
        assert_true(v[i - 1] <= v[i]);
    free(ref);
    free(scratch);
}

static void test_random(void **state) {
    (void)state;
    size_t n = 100000;
    double *v = malloc(n * sizeof *v);
    srand(42);
    for (size_t i = 0; i < n; i++)
        v[i] = ((double)rand() / RAND_MAX - 0.5) * 1e6;
    v[10] = INFINITY;
    v[11] = -INFINITY;
    v[12] = 0.0;
    v[13] = -0.0;
    v[14] = 5e-324;
    v[15] = -1.7976931348623157e308;
    check(v, n);
    free(v);
}

/* Large arrays take the MSD path (n >= 2^17): several distributions. */
static void test_large_distributions(void **state) {
    (void)state;
    size_t n = 300000;
    double *v = malloc(n * sizeof *v);
    srand(7);
    for (int dist = 0; dist < 5; dist++) {
        for (size_t i = 0; i < n; i++) {
            double u = ((double)rand() + 1) / ((double)RAND_MAX + 2);
            switch (dist) {
            case 0:
                v[i] = 3 + 1.2 * log(u / (1 - u));
                break; /* both signs */
            case 1:
                v[i] = exp(40 * (u - 0.5));
                break; /* many magnitudes */
            case 2:
                v[i] = (double)(rand() % 7);
                break; /* heavy ties */
            case 3:
                v[i] = i % 1000 == 0 ? 1e300 * (u - 0.5) : u;
                break; /* far outliers */
            default:
                v[i] = 1.0 + (double)(rand() % 16) * 0x1p-52;
                break; /* last bits only */
            }
        }
        check(v, n);
    }
    /* one far value puts the rest in a single first-pass bucket larger than a
     * cache tile, which is split again (with and without ties inside) */
    for (int dist = 0; dist < 3; dist++) {
        for (size_t i = 0; i < n; i++) {
            double u = ((double)rand() + 1) / ((double)RAND_MAX + 2);
            if (dist == 0)
                v[i] = 1.0 + u * 1e-9;
            else if (dist == 1)
                v[i] = 2.0 + (double)(rand() % 5000) * 0x1p-40;
            else
                v[i] = -3.0 - u * 1e-12;
        }
        v[n / 2] = dist == 2 ? 1e300 : -1e300;
        check(v, n);
    }
    /* sizes around the tile (65536 keys) and the insertion-sort cut-offs */
    size_t sizes[] = {23, 24, 25, 64, 65, 1000, 65535, 65536, 65537, 131073};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        for (size_t i = 0; i < sizes[k]; i++)
            v[i] = (double)(rand() % 100000) / 7.0 - 5000.0;
        check(v, sizes[k]);
    }
    free(v);
}

/* mw_sort_finite: the finite values in order, NaN and infinities counted,
 * for short arrays (insertion path) and long ones. */
static void test_sort_finite(void **state) {
    (void)state;
    size_t sizes[] = {0, 1, 7, 8, 9, 10, 15, 17, 63, 64, 70, 5000, 200000};
    srand(3);
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        double *v = malloc((n + 1) * sizeof *v), *want = malloc((n + 1) * sizeof *v);
        double *scratch = malloc((n + 1) * sizeof *v);
        uint64_t nan_want = 0, inf_want = 0, nan_got = 0, inf_got = 0;
        size_t nw = 0;
        for (size_t i = 0; i < n; i++) {
            int r = rand() % 10;
            /* NaNs of both signs, infinities, subnormals and zeros of both signs */
            v[i] = r == 0   ? (rand() % 2 ? NAN : -NAN)
                   : r == 1 ? (rand() % 2 ? INFINITY : -INFINITY)
                   : r == 2 ? (rand() % 2 ? 5e-324 : -0.0)
                            : ((double)rand() / RAND_MAX - 0.3) * 1e3;
            if (isnan(v[i]))
                nan_want++;
            else if (isinf(v[i]))
                inf_want++;
            else
                want[nw++] = v[i];
        }
        qsort(want, nw, sizeof *want, cmp);
        size_t got = mw_sort_finite(v, n, scratch, &nan_got, &inf_got);
        assert_int_equal(got, nw);
        assert_int_equal(nan_got, nan_want);
        assert_int_equal(inf_got, inf_want);
        for (size_t i = 0; i < nw; i++)
            assert_true(v[i] == want[i]);
        free(v);
        free(want);
        free(scratch);
    }
}

static void test_inplace_u64(void **state) {
    (void)state;
    size_t sizes[] = {0, 1, 63, 64, 1000, 200000};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        uint64_t *a = malloc((n + 1) * sizeof *a), *b = malloc((n + 1) * sizeof *b);
        uint64_t *scratch = malloc((n + 1) * sizeof *a);
        for (size_t i = 0; i < n; i++)
            a[i] = i % 3 ? ((uint64_t)rand() << 33) ^ (uint64_t)rand() : (uint64_t)(i % 17);
        memcpy(b, a, n * sizeof *a);
        mw_sort_u64_inplace(a, n);
        mw_sort_u64(b, n, scratch);
        for (size_t i = 0; i < n; i++)
            assert_true(a[i] == b[i]);
        for (size_t i = 1; i < n; i++)
            assert_true(a[i - 1] <= a[i]);
        free(a);
        free(b);
        free(scratch);
    }
}

/* mw_sort_u64 at every level of its MSD recursion (small arrays, in-cache
 * buckets, the wide first pass from 2^17 keys on) and on key sets that skip
 * digits: equal high bits, a few distinct values, clusters, only low bits. */
static void test_u64_sizes_and_shapes(void **state) {
    (void)state;
    size_t sizes[] = {2, 16, 17, 33, 100, 1000, 5000, 70000, 140000};
    uint64_t seed = 3;
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        uint64_t *a = malloc(n * sizeof *a), *ref = malloc(n * sizeof *a);
        uint64_t *scratch = malloc(n * sizeof *a);
        for (int shape = 0; shape < 6; shape++) {
            for (size_t i = 0; i < n; i++) {
                seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
                uint64_t r = seed ^ (seed >> 29);
                switch (shape) {
                case 0:
                    a[i] = r;
                    break; /* all bits */
                case 1:
                    a[i] = 0xBFE0000000000000ULL | (r >> 20);
                    break; /* common prefix */
                case 2:
                    a[i] = 0x8000000000000000ULL + (r % 5) * 12345;
                    break; /* heavy ties */
                case 3:
                    a[i] = (r % 3) << 50 | (r & 0xff);
                    break; /* clusters */
                case 4:
                    a[i] = r & 0xf;
                    break; /* low bits only */
                default:
                    a[i] = i % 7 ? r >> 40 : UINT64_MAX;
                    break; /* extremes */
                }
            }
            memcpy(ref, a, n * sizeof *a);
            qsort(ref, n, sizeof *ref, cmp_u64);
            mw_sort_u64(a, n, scratch);
            assert_memory_equal(a, ref, n * sizeof *a);
        }
        free(a);
        free(ref);
        free(scratch);
    }
}

/* Keys of one of several shapes that stress a quicksort's pivot choice. */
static void fill_shape(uint64_t *a, size_t n, int shape, uint64_t *seed) {
    for (size_t i = 0; i < n; i++) {
        *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t r = *seed ^ (*seed >> 29);
        switch (shape) {
        case 0:
            a[i] = r;
            break; /* random */
        case 1:
            a[i] = i;
            break; /* sorted */
        case 2:
            a[i] = n - i;
            break; /* reversed */
        case 3:
            a[i] = i < n / 2 ? i : n - i;
            break; /* organ pipe */
        case 4:
            a[i] = 42;
            break; /* all equal */
        case 5:
            a[i] = r % 3 ? UINT64_MAX : r % 4;
            break; /* mostly the largest key */
        case 6:
            a[i] = i % 2 ? i : 0;
            break; /* sawtooth with zeros */
        default:
            a[i] = i % 9 == 4 ? UINT64_MAX - (r % 2) : r;
            break; /* pivot spots extreme */
        }
    }
}

/* The vector quicksort against qsort: every size to 300 (the register network,
 * the partition's tail and held vectors), larger sizes and shapes, and with a
 * recursion budget of 0-3 levels so that ranges go to the radix sort. */
static void test_vector_quicksort(void **state) {
    (void)state;
    if (!mw_sort_keys_vector()) {
        skip();
        return;
    }
    size_t nmax = 100000;
    uint64_t *a = malloc(nmax * sizeof *a), *ref = malloc(nmax * sizeof *a), seed = 11;
    for (size_t n = 0; n <= 300; n++)
        for (int shape = 0; shape < 8; shape++) {
            fill_shape(a, n, shape, &seed);
            memcpy(ref, a, n * sizeof *a);
            qsort(ref, n, sizeof *ref, cmp_u64);
            mw_sort_keys_vector()(a, n);
            assert_memory_equal(a, ref, n * sizeof *a);
        }
    size_t sizes[] = {1000, 4097, 65536, 100000};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++)
        for (int shape = 0; shape < 8; shape++)
            for (int depth = -1; depth <= 3; depth++) {
                size_t n = sizes[k];
                fill_shape(a, n, shape, &seed);
                memcpy(ref, a, n * sizeof *a);
                qsort(ref, n, sizeof *ref, cmp_u64);
                if (depth < 0)
                    mw_sort_keys_vector()(a, n);
                else
                    mw_sort_keys_vector_budget(a, n, depth);
                assert_memory_equal(a, ref, n * sizeof *a);
            }
    free(a);
    free(ref);
}

static void test_small_and_ties(void **state) {
    (void)state;
    double a[] = {3, 1, 2, 2, -1, 0, 3, 3};
    check(a, 8);
    double b[200];
    for (int i = 0; i < 200; i++)
        b[i] = (double)((i * 7) % 5);
    check(b, 200);
    check(b, 0);
}

/* numpy.median of the non-NaN values, by sorting a copy. */
static double median_by_sort(const double *x, size_t n, size_t stride, size_t *nv) {
    double *c = malloc((n + 1) * sizeof *c);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (!isnan(x[i * stride])) c[m++] = x[i * stride];
    qsort(c, m, sizeof *c, cmp);
    double med = !m ? NAN : m % 2 ? c[m / 2] : (c[m / 2 - 1] + c[m / 2]) / 2.0;
    free(c);
    *nv = m;
    return med;
}

/* mw_median_scan (strided, one pass, several columns at once) and
 * mw_median_inplace give numpy.median for sizes below and above the sampled
 * bracket (16384): the 7 columns of a row-major matrix at once, one at a
 * time, and each copied out (stride 1); missing values (a few, and more than
 * half: no bracket), ties across the middle, sorted data, a sample that
 * misses the middle (the fallback), a constant column; and report the first
 * infinite value. */
static void test_median_scan(void **state) {
    (void)state;
    enum { D = 7 };
    size_t sizes[] = {1, 2, 5, 4096, 16383, 16384, 20001, 100000};
    srand(5);
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        double *x = malloc(n * D * sizeof *x), *col = malloc(n * sizeof *col);
        for (size_t i = 0; i < n; i++)
            for (int c = 0; c < D; c++) {
                double u = ((double)rand() + 1) / ((double)RAND_MAX + 2), v;
                switch (c) {
                case 0:
                    v = u;
                    break;
                case 1:
                    v = i % 9 == 4 ? NAN : u * u;
                    break; /* some missing */
                case 2:
                    v = i % 3 ? NAN : u - 0.5;
                    break; /* mostly missing */
                case 3:
                    v = floor(u * 3);
                    break; /* ties in the middle */
                case 4:
                    v = (double)i;
                    break; /* sorted */
                case 5:
                    v = n >= 4096 && i % (n / 4096) == 0 ? -1.0 : u;
                    break; /* sample misses */
                default:
                    v = 3.25;
                    break; /* constant */
                }
                x[i * D + c] = v;
            }
        mw_median_scan_result all[D], one, flat;
        assert_int_equal(mw_median_scan(x, n, D, D, all), MW_OK);
        for (int c = 0; c < D; c++) {
            size_t nv;
            double want = median_by_sort(x + c, n, D, &nv);
            for (size_t i = 0; i < n; i++)
                col[i] = x[i * D + c];
            assert_int_equal(mw_median_scan(x + c, n, D, 1, &one), MW_OK);
            assert_int_equal(mw_median_scan(col, n, 1, 1, &flat), MW_OK);
            const mw_median_scan_result *rs[3] = {&all[c], &one, &flat};
            double mn = INFINITY, mx = -INFINITY;
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                if (!isnan(col[i])) {
                    mn = fmin(mn, col[i]);
                    mx = fmax(mx, col[i]);
                    col[m++] = col[i];
                }
            for (int v = 0; v < 3; v++) {
                assert_int_equal(rs[v]->n_values, nv);
                assert_int_equal(rs[v]->first_inf, 0);
                assert_true(nv ? rs[v]->median == want : isnan(rs[v]->median));
                assert_true(rs[v]->min == mn && rs[v]->max == mx);
            }
            if (m) assert_true(mw_median_inplace(col, m) == want);
        }
        if (n > 2) { /* infinities: the first is reported, other columns unaffected */
            x[(n / 2) * D + 1] = -INFINITY;
            x[(n - 1) * D + 1] = INFINITY;
            x[(n - 1) * D + 6] = INFINITY;
            assert_int_equal(mw_median_scan(x, n, D, D, all), MW_OK);
            assert_int_equal(all[1].first_inf, n / 2 + 1);
            assert_int_equal(all[6].first_inf, n);
            assert_int_equal(all[0].first_inf, 0);
            size_t nv;
            assert_true(all[0].median == median_by_sort(x, n, D, &nv));
        }
        free(x);
        free(col);
    }
}

/* mw_select_ranks and mw_quantiles_select give what the sort gives, bit for
 * bit: every position of short arrays, the 101 percentiles and odd levels of
 * long ones; ties across bucket and quantile boundaries, one value, both
 * zeros, many magnitudes, one far value (a single crowded bucket). */
static void test_select_equals_sort(void **state) {
    (void)state;
    size_t sizes[] = {1, 2, 7, 100, 4095, 4096, 4097, 20000, 100000, 300001};
    double q[110];
    for (int i = 0; i <= 100; i++)
        q[i] = i / 100.0;
    double extra[] = {0.99, 0.999, 1 - 1e-9, 1e-9, 0.5 + 1e-12, 0.123456789, 0.875, 0.995, 0.01};
    memcpy(q + 101, extra, sizeof extra);
    size_t nq = 101 + sizeof extra / sizeof *extra;
    srand(11);
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        size_t n = sizes[k];
        double *v = malloc(n * sizeof *v), *c = malloc(n * sizeof *v), *sc = malloc(n * sizeof *v);
        size_t *rank = malloc(n * sizeof *rank);
        double *got = malloc(n * sizeof *got);
        for (int shape = 0; shape < 7; shape++) {
            for (size_t i = 0; i < n; i++) {
                double u = ((double)rand() + 1) / ((double)RAND_MAX + 2);
                switch (shape) {
                case 0:
                    v[i] = 0.3 + 0.4 * u;
                    break; /* like forest scores */
                case 1:
                    v[i] = (double)(rand() % 5);
                    break; /* heavy ties */
                case 2:
                    v[i] = 2.5;
                    break; /* one value */
                case 3:
                    v[i] = rand() % 2 ? 0.0 : -0.0;
                    break; /* both zeros */
                case 4:
                    v[i] = (u - 0.5) * exp(30 * u);
                    break; /* both signs, magnitudes */
                case 5:
                    v[i] = i == n / 2 ? 1e300 : 1.0 + u * 1e-9;
                    break; /* one crowded bucket */
                default:
                    v[i] = 1.0 + (double)(rand() % 64) * 0x1p-52;
                    break; /* last bits */
                }
            }
            memcpy(c, v, n * sizeof *v);
            mw_sort_doubles(c, n, sc);
            size_t nr = n <= 5000 ? n : 300;
            for (size_t j = 0; j < nr; j++) /* all, or a spread incl. both ends, unsorted */
                rank[j] = n <= 5000 ? (j * 7919) % n : (j * 104729 + j * j) % n;
            if (nr == 300) rank[0] = 0, rank[1] = n - 1, rank[2] = n / 2;
            double *before = malloc(n * sizeof *v);
            memcpy(before, v, n * sizeof *v);
            assert_int_equal(mw_select_ranks(v, n, rank, nr, got), MW_OK);
            assert_memory_equal(before, v, n * sizeof *v); /* not modified */
            for (size_t j = 0; j < nr; j++)
                assert_memory_equal(&got[j], &c[rank[j]], sizeof *got);
            double qs[110], qw;
            assert_int_equal(mw_quantiles_select(v, n, q, nq, qs), MW_OK);
            for (size_t j = 0; j < nq; j++) {
                qw = mw_quantile_sorted(c, n, q[j]);
                assert_memory_equal(&qs[j], &qw, sizeof qw);
            }
            free(before);
        }
        size_t bad = n;
        assert_int_equal(mw_select_ranks(v, n, &bad, 1, got), MW_EINVAL);
        free(v);
        free(c);
        free(sc);
        free(rank);
        free(got);
    }
    double one = 1.0, out, badq = 1.5;
    assert_int_equal(mw_quantiles_select(&one, 0, &one, 1, &out), MW_EINVAL);
    assert_int_equal(mw_quantiles_select(&one, 1, &badq, 1, &out), MW_EINVAL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_random),
        cmocka_unit_test(test_small_and_ties),
        cmocka_unit_test(test_large_distributions),
        cmocka_unit_test(test_inplace_u64),
        cmocka_unit_test(test_u64_sizes_and_shapes),
        cmocka_unit_test(test_sort_finite),
        cmocka_unit_test(test_select_equals_sort),
        cmocka_unit_test(test_median_scan),
        cmocka_unit_test(test_vector_quicksort),
    };
    int failed = cmocka_run_group_tests_name("vector where the CPU has it", tests, NULL, NULL);
    mw_sort_allow_vector(0);
    failed += cmocka_run_group_tests_name("portable radix sorts", tests, NULL, NULL);
    return failed;
}
