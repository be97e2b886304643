/*
 * LOF (novelty) against scikit-learn 1.2 on the committed fixtures
 * (tests/fixtures/gen_outliers.py): scores of current rows and the reference
 * rows' own LOF within 1e-9 relative, with duplicated rows, k larger than the
 * number of distinct points, k >= n/2, missing values and standardisation.
 * Also: the blocked k-NN search against a naive scan (both kernels, data at
 * several scales), the same fitted model on any number of threads, the
 * serialisation round trip (bit-identical), corrupted bytes, bad input with
 * clear errors, explanations, and scoring from several threads at once.
 */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "runners.h"
#include "monitor/outlier_int.h"

static mw_table *read_fixture(const char *rel) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", MW_FIXTURE_DIR, rel);
    mw_read_options ro = {0};
    mw_table *t = NULL;
    mw_error err;
    mw_error_clear(&err);
    if (mw_table_read(path, &ro, &t, &err) != MW_OK) fail_msg("%s", err.message);
    return t;
}

static mw_table *read_text(const char *text) {
    mw_read_options ro = {0};
    mw_table *t = NULL;
    mw_error err;
    mw_error_clear(&err);
    if (mw_table_read_mem("mem.csv", text, strlen(text), &ro, &t, &err) != MW_OK)
        fail_msg("%s", err.message);
    return t;
}

static void test_lof_matches_sklearn(void **state) {
    (void)state;
    mw_fx_file *fx = mw_fx_load("outliers.txt");
    size_t cases = 0;
    for (size_t c = 0; c < mw_fx_count(fx); c++) {
        const mw_fx_case *fc = mw_fx_case_at(fx, c);
        const char *method = mw_fx_text(fc, "method");
        if (!method || strcmp(method, "lof")) continue;
        const char *name = mw_fx_name(fc);
        mw_table *ref = read_fixture(mw_fx_text(fc, "ref"));
        mw_table *cur = read_fixture(mw_fx_text(fc, "cur"));
        mw_outlier_options o = {0};
        o.method = MW_OUTLIER_LOF;
        o.n_neighbors = (uint32_t)mw_fx_need(fc, "k");
        o.standardize = (int)mw_fx_need(fc, "standardize");
        mw_outlier_model *m;
        mw_error err;
        mw_error_clear(&err);
        if (mw_outlier_fit(ref, &o, &m, &err) != MW_OK) fail_msg("%s: %s", name, err.message);
        size_t n, nref;
        const double *want = mw_fx_array(fc, "score", &n);
        const double *want_ref = mw_fx_array(fc, "ref_score", &nref);
        assert_int_equal(n, cur->nrows);
        assert_int_equal(nref, ref->nrows);
        double *got = malloc(n * sizeof *got);
        assert_int_equal(mw_outlier_score_table(m, cur, 0, cur->nrows, got, NULL, &err), MW_OK);
        for (size_t i = 0; i < n; i++) mw_assert_close(got[i], want[i], MW_TOL_STAT, 0, name, "score");
        /* reference LOF (leave-one-out), through the matrix-level fit */
        double *x = malloc(ref->nrows * m->nfeat * sizeof *x);
        double *rs = malloc(ref->nrows * sizeof *rs);
        assert_int_equal(mw_outlier_encode_table(m, ref, 0, ref->nrows, x, NULL, NULL, &err), MW_OK);
        mw_lof *l;
        assert_int_equal(mw_lof_fit(x, ref->nrows, m->nfeat, o.n_neighbors, NULL, &l, rs), MW_OK);
        for (size_t i = 0; i < nref; i++)
            mw_assert_close(rs[i], want_ref[i], MW_TOL_STAT, 0, name, "ref_score");
        /* the portable kernel gives the same exact neighbours */
        m->lof->portable = 1;
        double *got2 = malloc(n * sizeof *got2);
        assert_int_equal(mw_outlier_score_table(m, cur, 0, cur->nrows, got2, NULL, &err), MW_OK);
        assert_memory_equal(got, got2, n * sizeof *got);
        mw_lof_free(l);
        free(x);
        free(rs);
        free(got);
        free(got2);
        mw_outlier_free(m);
        mw_table_free(ref);
        mw_table_free(cur);
        cases++;
    }
    assert_true(cases >= 5);
    mw_fx_free(fx);
}

/* Blocked exact k-NN against a naive scan, with duplicates and ties, for
 * both kernels (with AVX-512: the single-precision filter on the centred
 * data; portable: double precision) and data at several scales: an offset
 * far larger than the spread, tiny values (float underflow: the filter's
 * absolute slack), large ones near the 2^40 limit of the float filter, and
 * beyond it (the portable kernel then). */
static void test_knn_exact(void **state) {
    (void)state;
    const size_t n = 1500, d = 20, m = 300;
    const uint32_t k = 7;
    const double scale[] = {1, 1e-30, 1e11, 1, 1e13}, offset[] = {1000, 0, 0, 1e13, 0};
    for (size_t sc = 0; sc < sizeof scale / sizeof *scale; sc++) {
        mw_rng rng;
        mw_rng_seed(&rng, 42);
        double *x = malloc(n * d * sizeof *x), *q = malloc(m * d * sizeof *q);
        for (size_t i = 0; i < n * d; i++)
            x[i] = (mw_rng_unit(&rng) - 0.5) * 10 * scale[sc] + offset[sc];
        for (size_t i = 0; i < 200; i++) /* duplicated rows */
            memcpy(x + (i + 1000) * d, x + (i % 20) * d, d * sizeof *x);
        for (size_t i = 0; i < m * d; i++)
            q[i] = x[(i * 7) % (n * d)] + (i % 3 ? 0 : 0.01 * scale[sc]);
        for (int portable = 0; portable < 2; portable++) {
            mw_lof *l;
            assert_int_equal(mw_lof_fit(x, n, d, k, NULL, &l, NULL), MW_OK);
            if (sc == 4) assert_null(l->blkf); /* beyond 2^40: no float filter */
            if (!portable && sc < 4 && mw_test_cpu_avx512()) assert_non_null(l->blkf);
            l->portable = portable;
            double *dist = malloc(m * k * sizeof *dist);
            uint32_t *idx = malloc(m * k * sizeof *idx);
            assert_int_equal(mw_lof_knn(l, q, m, 0, dist, idx), MW_OK);
            double *all = malloc(n * sizeof *all);
            for (size_t i = 0; i < m; i++) {
                for (size_t j = 0; j < n; j++) {
                    double s = 0;
                    for (size_t f = 0; f < d; f++) {
                        double t = q[i * d + f] - x[j * d + f];
                        s += t * t;
                    }
                    all[j] = sqrt(s);
                }
                for (uint32_t r = 0; r < k; r++) { /* r-th smallest, ties by index */
                    size_t best = SIZE_MAX;
                    for (size_t j = 0; j < n; j++) {
                        int used = 0;
                        for (uint32_t p = 0; p < r; p++)
                            used |= idx[i * k + p] == j;
                        if (!used && (best == SIZE_MAX || all[j] < all[best])) best = j;
                    }
                    assert_true(dist[i * k + r] == all[best]);
                    assert_true(all[idx[i * k + r]] == all[best]);
                }
            }
            free(all);
            free(dist);
            free(idx);
            mw_lof_free(l);
        }
        free(x);
        free(q);
    }
}

/* The fit's neighbour search runs in blocks on the caller's runner: the same
 * model (saved bytes: k-distances, densities, threshold, percentiles) on 1,
 * 2, 3 and 8 threads and in reverse order, over several blocks of rows. */
static void test_fit_any_threads(void **state) {
    (void)state;
    size_t n = 3000, d = 5, len;
    double *x = malloc(n * d * sizeof *x);
    mw_rng rng;
    mw_rng_seed(&rng, 3);
    for (size_t i = 0; i < n * d; i++)
        x[i] = i % 11 == 0 ? NAN : mw_rng_unit(&rng) * (double)(i % d + 1);
    mw_outlier_options o = {.method = MW_OUTLIER_LOF, .n_neighbors = 10, .standardize = 1};
    free(mw_test_fit_any_runner(NULL, x, n, d, o, &len));
    free(x);
}

static void test_serialise_roundtrip_and_corruption(void **state) {
    (void)state;
    mw_table *ref = read_fixture("outliers/lof_std_missing_ref.csv");
    mw_table *cur = read_fixture("outliers/lof_std_missing_cur.csv");
    mw_outlier_options o = {.method = MW_OUTLIER_LOF, .n_neighbors = 15, .standardize = 1};
    mw_outlier_model *m, *m2;
    mw_error err;
    mw_error_clear(&err);
    assert_int_equal(mw_outlier_fit(ref, &o, &m, &err), MW_OK);
    unsigned char *buf, *buf2;
    size_t len, len2;
    assert_int_equal(mw_outlier_save(m, &buf, &len), MW_OK);
    assert_int_equal(mw_outlier_load(buf, len, &m2, &err), MW_OK);
    assert_int_equal(mw_outlier_save(m2, &buf2, &len2), MW_OK);
    assert_int_equal(len, len2);
    assert_memory_equal(buf, buf2, len);
    double *s1 = malloc(cur->nrows * sizeof *s1), *s2 = malloc(cur->nrows * sizeof *s2);
    assert_int_equal(mw_outlier_score_table(m, cur, 0, cur->nrows, s1, NULL, &err), MW_OK);
    assert_int_equal(mw_outlier_score_table(m2, cur, 0, cur->nrows, s2, NULL, &err), MW_OK);
    assert_memory_equal(s1, s2, cur->nrows * sizeof *s1);
    mw_outlier_info a, b;
    mw_outlier_get_info(m, &a);
    mw_outlier_get_info(m2, &b);
    assert_true(a.threshold == b.threshold && a.n_neighbors == 15 && b.n_features == 4);
    /* truncations and flipped bytes: rejected by the checks or the checksum */
    mw_outlier_model *bad;
    for (size_t cut = 0; cut < len; cut += 1 + cut / 4) {
        assert_int_equal(mw_outlier_load(buf, cut, &bad, &err), MW_ECORRUPT);
        assert_null(bad);
    }
    for (size_t i = 0; i < len; i += 1 + i / 8) {
        buf[i] ^= 0x5a;
        assert_int_equal(mw_outlier_load(buf, len, &bad, &err), MW_ECORRUPT);
        assert_non_null(strstr(err.message, "corrupt") ? err.message : strstr(err.message, "version"));
        buf[i] ^= 0x5a;
    }
    /* damaged payload with a valid checksum: the structural checks must hold */
    size_t plen = len - 24;
    for (size_t i = 16; i < 16 + plen; i += 1 + i / 16) {
        for (int v = 0; v < 3; v++) {
            unsigned char keep = buf[i];
            buf[i] = v == 0 ? 0xff : v == 1 ? 0x00 : (unsigned char)(keep + 1);
            uint64_t h = mw_hash64(buf + 16, plen, 0x6d774f44u);
            unsigned char save[8];
            memcpy(save, buf + len - 8, 8);
            for (int j = 0; j < 8; j++) buf[len - 8 + j] = (unsigned char)(h >> (8 * j));
            mw_status st = mw_outlier_load(buf, len, &bad, &err);
            assert_true(st == MW_OK || st == MW_ECORRUPT);
            if (st == MW_OK) { /* still well-formed: it must score without crashing */
                double s;
                double num[4] = {0, 1000, 0, -3};
                mw_outlier_score_row(bad, num, NULL, &s, &err);
                mw_outlier_free(bad);
            }
            buf[i] = keep;
            memcpy(buf + len - 8, save, 8);
        }
    }
    free(buf);
    free(buf2);
    free(s1);
    free(s2);
    mw_outlier_free(m);
    mw_outlier_free(m2);
    mw_table_free(ref);
    mw_table_free(cur);
}

static void test_bad_input(void **state) {
    (void)state;
    mw_error err;
    mw_outlier_model *m;
    mw_outlier_options o = {.method = MW_OUTLIER_LOF, .n_neighbors = 5};
    mw_table *t = read_text("a,b\n1,2\n2,3\n3,5\n4,1\n5,0\n");
    mw_error_clear(&err);
    assert_int_equal(mw_outlier_fit(t, &o, &m, &err), MW_EINVAL); /* 5 rows, k = 5 */
    assert_non_null(strstr(err.message, "more than 5 reference rows"));
    assert_null(m);
    mw_table_free(t);

    t = read_text("a,b,c,d\n1,7,,x\n2,7,,y\n3,7,,x\n4,7,,y\n5,7,,x\n6,7,,x\n7,7,,y\n");
    o.n_neighbors = 3;
    assert_int_equal(mw_outlier_fit(t, &o, &m, &err), MW_OK);
    assert_int_equal(mw_outlier_nnotes(m), 2); /* b constant, c all missing; d not used */
    assert_non_null(strstr(mw_outlier_note(m, 0), "\"b\" is constant"));
    assert_non_null(strstr(mw_outlier_note(m, 1), "\"c\" is missing in every"));
    mw_outlier_info info;
    mw_outlier_get_info(m, &info);
    assert_int_equal(info.n_features, 1);
    /* current without a: named */
    mw_table *cur = read_text("b,d\n1,x\n");
    assert_int_equal(mw_outlier_check_table(m, cur, &err), MW_ENOTFOUND);
    assert_non_null(strstr(err.message, "\"a\""));
    mw_table_free(cur);
    mw_outlier_free(m);
    /* nothing usable left */
    o.columns = (const char *const[]){"b", "c"};
    o.ncolumns = 2;
    assert_int_equal(mw_outlier_fit(t, &o, &m, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "no usable column"));
    /* categorical without an encoding, unknown column */
    o.columns = (const char *const[]){"d"};
    o.ncolumns = 1;
    assert_int_equal(mw_outlier_fit(t, &o, &m, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "--encode"));
    o.columns = (const char *const[]){"zz"};
    assert_int_equal(mw_outlier_fit(t, &o, &m, &err), MW_ENOTFOUND);
    assert_non_null(strstr(err.message, "\"zz\""));
    mw_table_free(t);
    /* infinities: column and row named */
    t = read_text("a,b\n1,2\n2,inf\n3,5\n4,1\n5,0\n6,1\n");
    o.columns = NULL;
    o.ncolumns = 0;
    o.n_neighbors = 2;
    assert_int_equal(mw_outlier_fit(t, &o, &m, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "\"b\", data row 2: infinite"));
    mw_table_free(t);
}

static void test_categorical_and_explain(void **state) {
    (void)state;
    char text[8192] = "x,y,color\n";
    for (int i = 0; i < 200; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%d,%d,%s\n", i % 10,
                 (i * 7) % 10, i % 3 ? "red" : "blue");
    mw_table *t = read_text(text);
    mw_outlier_options o = {.method = MW_OUTLIER_LOF, .n_neighbors = 10,
                            .encode = MW_OUTLIER_ENCODE_ONEHOT, .standardize = 1};
    mw_outlier_model *m;
    mw_error err;
    mw_error_clear(&err);
    assert_int_equal(mw_outlier_fit(t, &o, &m, &err), MW_OK);
    mw_outlier_info info;
    mw_outlier_get_info(m, &info);
    assert_int_equal(info.n_features, 4);
    assert_string_equal(mw_outlier_feature_name(m, 2), "color=blue");
    assert_string_equal(mw_outlier_feature_name(m, 3), "color=red");
    /* a row far out in y: y explains it */
    double num[3] = {5, 40, NAN};
    const char *cat[3] = {NULL, NULL, "red"};
    double f[4], s, s_ok;
    assert_int_equal(mw_outlier_encode_row(m, num, cat, f, NULL, NULL, &err), MW_OK);
    mw_outlier_reason r[3];
    size_t nr = mw_outlier_explain(m, f, r, 3);
    assert_true(nr >= 1);
    assert_string_equal(mw_outlier_feature_name(m, r[0].feature), "y");
    assert_int_equal(mw_outlier_score_row(m, num, cat, &s, &err), MW_OK);
    num[1] = 4;
    assert_int_equal(mw_outlier_score_row(m, num, cat, &s_ok, &err), MW_OK);
    assert_true(s > 3 * s_ok);
    assert_true(mw_outlier_is_outlier(m, s));
    /* unseen category and missing values are counted */
    uint64_t imp = 0, unseen = 0;
    cat[2] = "green";
    num[0] = NAN;
    assert_int_equal(mw_outlier_encode_row(m, num, cat, f, &imp, &unseen, &err), MW_OK);
    assert_int_equal(imp, 1);
    assert_int_equal(unseen, 1);
    mw_outlier_free(m);
    /* ordinal: one feature, categories ranked */
    o.encode = MW_OUTLIER_ENCODE_ORDINAL;
    assert_int_equal(mw_outlier_fit(t, &o, &m, &err), MW_OK);
    mw_outlier_get_info(m, &info);
    assert_int_equal(info.n_features, 3);
    mw_outlier_free(m);
    mw_table_free(t);
}

typedef struct thread_job {
    const mw_outlier_model *m;
    const mw_table *t;
    double *out;
    int rc;
} thread_job;

static void *score_thread(void *arg) {
    thread_job *j = arg;
    mw_error err;
    j->rc = 0;
    for (int rep = 0; rep < 5; rep++)
        j->rc |= mw_outlier_score_table(j->m, j->t, 0, j->t->nrows, j->out, NULL, &err);
    return NULL;
}

static void test_threads(void **state) {
    (void)state;
    mw_table *ref = read_fixture("outliers/lof_basic_ref.csv");
    mw_table *cur = read_fixture("outliers/lof_basic_cur.csv");
    mw_outlier_options o = {.method = MW_OUTLIER_LOF};
    mw_outlier_model *m;
    mw_error err;
    assert_int_equal(mw_outlier_fit(ref, &o, &m, &err), MW_OK);
    double *want = malloc(cur->nrows * sizeof *want);
    assert_int_equal(mw_outlier_score_table(m, cur, 0, cur->nrows, want, NULL, &err), MW_OK);
    pthread_t th[4];
    thread_job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (thread_job){m, cur, malloc(cur->nrows * sizeof(double)), 0};
        assert_int_equal(pthread_create(&th[i], NULL, score_thread, &jobs[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(jobs[i].rc, 0);
        assert_memory_equal(jobs[i].out, want, cur->nrows * sizeof *want);
        free(jobs[i].out);
    }
    free(want);
    mw_outlier_free(m);
    mw_table_free(ref);
    mw_table_free(cur);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lof_matches_sklearn),
        cmocka_unit_test(test_knn_exact),
        cmocka_unit_test(test_serialise_roundtrip_and_corruption),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_categorical_and_explain),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_fit_any_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
