/*
 * Isolation Forest: the exact path-length formulas (c(n) against sklearn's
 * _average_path_length, depth + c(leaf size) on hand-built trees, the score
 * 2^(-E[h]/c(psi))); behaviour against sklearn 1.2 where randomness averages
 * out (1000 trees, max_samples 256, planted anomalies: ROC AUC within 0.005,
 * Spearman >= 0.98, mean score within 0.005); determinism by seed; the live
 * single-row path equal to the batch path bit for bit; contamination
 * thresholds; serialisation round trip and corrupted bytes; the same model
 * whatever the number of threads; and the one-sided binomial test against
 * scipy.
 */
#include <math.h>
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

static void test_c_matches_sklearn(void **state) {
    (void)state;
    mw_fx_file *fx = mw_fx_load("outliers.txt");
    for (size_t c = 0; c < mw_fx_count(fx); c++) {
        const mw_fx_case *fc = mw_fx_case_at(fx, c);
        if (strcmp(mw_fx_name(fc), "path_length")) continue;
        size_t n;
        const double *ns = mw_fx_array(fc, "n", &n), *cs = mw_fx_array(fc, "c", &n);
        for (size_t i = 0; i < n; i++) mw_assert_close(mw_iforest_c(ns[i]), cs[i], 1e-15, 0, "c", "c(n)");
    }
    /* against the harmonic-number definition for large n: 2 H(n-1) - 2 (n-1)/n */
    double h = 0;
    for (int i = 1; i < 100000; i++) h += 1.0 / i;
    assert_true(fabs(mw_iforest_c(100000) - (2 * h - 2 * 99999.0 / 100000)) < 1e-4);
    mw_fx_free(fx);
}

/* Two hand-built trees over 2 features, psi = 8:
 *   tree 0: x0 <= 0.5 ? leaf(3 rows, depth 1) : (x1 <= 2 ? leaf(1, d2) : leaf(4, d2))
 *   tree 1: a single leaf holding all 8 rows (all features constant). */
static void test_hand_built_trees(void **state) {
    (void)state;
    mw_if_node nodes[6] = {
        {0.5, 0, 1},       {INFINITY, 0, 1},  {2.0, 1, 3},
        {INFINITY, 0, 3},  {INFINITY, 0, 4},  {INFINITY, 0, 5},
    };
    double value[6] = {0, 1 + mw_iforest_c(3), 0, 2 + mw_iforest_c(1), 2 + mw_iforest_c(4),
                       0 + mw_iforest_c(8)};
    uint32_t root[3] = {0, 5, 6};
    mw_iforest *f;
    assert_int_equal(mw_iforest_from_nodes(2, 2, 8, root, nodes, 6, value, &f), MW_OK);
    assert_int_equal(f->max_depth, 3);
    assert_int_equal(f->steps[0], 2);
    assert_int_equal(f->steps[1], 0);
    double c3 = 2 * (log(2.0) + 0.5772156649015329) - 2 * 2.0 / 3;
    double c4 = 2 * (log(3.0) + 0.5772156649015329) - 2 * 3.0 / 4;
    double c8 = 2 * (log(7.0) + 0.5772156649015329) - 2 * 7.0 / 8;
    double rows[3][2] = {{0.2, 9}, {0.9, 1}, {0.9, 5}};
    double h[3] = {(1 + c3 + c8) / 2, (2 + 0 + c8) / 2, (2 + c4 + c8) / 2};
    double s[3];
    mw_iforest_score(f, &rows[0][0], 3, s);
    for (int i = 0; i < 3; i++) {
        assert_true(fabs(mw_iforest_path_length(f, rows[i]) - h[i]) < 1e-14);
        assert_true(fabs(s[i] - pow(2.0, -h[i] / c8)) < 1e-14);
    }
    /* explanation: row 1 (isolated alone at depth 2 by x1) */
    double w[2];
    mw_iforest_explain(f, rows[1], w);
    assert_true(w[1] == 0.5 && w[0] == 0.0);
    mw_iforest_free(f);
    /* malformed trees are rejected */
    nodes[2].left = 1; /* child before parent */
    assert_int_equal(mw_iforest_from_nodes(2, 2, 8, root, nodes, 6, value, &f), MW_ECORRUPT);
    nodes[2].left = 3;
    nodes[2].feat = 2; /* feature out of range */
    assert_int_equal(mw_iforest_from_nodes(2, 2, 8, root, nodes, 6, value, &f), MW_ECORRUPT);
    nodes[2].feat = 1;
    nodes[2].left = 4; /* right child outside its tree */
    assert_int_equal(mw_iforest_from_nodes(2, 2, 8, root, nodes, 6, value, &f), MW_ECORRUPT);
    assert_null(f);
}

/* ROC AUC by average ranks (Mann-Whitney). */
static double *ranks(const double *v, size_t n) {
    size_t *o = malloc(n * sizeof *o);
    double *r = malloc(n * sizeof *r);
    for (size_t i = 0; i < n; i++) o[i] = i;
    for (size_t i = 1; i < n; i++) /* insertion sort: n is small */
        for (size_t j = i; j > 0 && v[o[j - 1]] > v[o[j]]; j--) {
            size_t t = o[j];
            o[j] = o[j - 1];
            o[j - 1] = t;
        }
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && v[o[j + 1]] == v[o[i]]) j++;
        for (size_t k = i; k <= j; k++) r[o[k]] = (i + j) / 2.0 + 1;
        i = j + 1;
    }
    free(o);
    return r;
}

static double auc(const double *s, const double *label, size_t n) {
    double *r = ranks(s, n), sum = 0, npos = 0;
    for (size_t i = 0; i < n; i++)
        if (label[i] > 0.5) {
            sum += r[i];
            npos++;
        }
    free(r);
    return (sum - npos * (npos + 1) / 2) / (npos * ((double)n - npos));
}

static double spearman(const double *a, const double *b, size_t n) {
    double *ra = ranks(a, n), *rb = ranks(b, n), ma = 0, mb = 0, sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        ma += ra[i] / n;
        mb += rb[i] / n;
    }
    for (size_t i = 0; i < n; i++) {
        sab += (ra[i] - ma) * (rb[i] - mb);
        saa += (ra[i] - ma) * (ra[i] - ma);
        sbb += (rb[i] - mb) * (rb[i] - mb);
    }
    free(ra);
    free(rb);
    return sab / sqrt(saa * sbb);
}

static void test_behaviour_matches_sklearn(void **state) {
    (void)state;
    mw_fx_file *fx = mw_fx_load("outliers.txt");
    size_t cases = 0;
    for (size_t c = 0; c < mw_fx_count(fx); c++) {
        const mw_fx_case *fc = mw_fx_case_at(fx, c);
        const char *method = mw_fx_text(fc, "method");
        if (!method || strcmp(method, "iforest")) continue;
        const char *name = mw_fx_name(fc);
        mw_table *ref = read_fixture(mw_fx_text(fc, "ref"));
        mw_table *cur = read_fixture(mw_fx_text(fc, "cur"));
        size_t n;
        const double *want = mw_fx_array(fc, "score", &n), *label = mw_fx_array(fc, "label", &n);
        assert_int_equal(n, cur->nrows);
        double *got = malloc(n * sizeof *got);
        for (uint64_t seed = 1; seed <= 2; seed++) {
            mw_outlier_options o = {.method = MW_OUTLIER_IFOREST, .n_trees = 1000,
                                    .max_samples = 256, .seed = seed};
            mw_outlier_model *m;
            mw_error err;
            mw_error_clear(&err);
            if (mw_outlier_fit(ref, &o, &m, &err) != MW_OK) fail_msg("%s", err.message);
            assert_int_equal(mw_outlier_score_table(m, cur, 0, n, got, NULL, &err), MW_OK);
            double a = auc(got, label, n), rho = spearman(got, want, n), mean = 0;
            for (size_t i = 0; i < n; i++) mean += got[i] / n;
            print_message("%s seed %d: auc %.4f (sklearn %.4f) spearman %.4f mean %.4f (%.4f)\n",
                          name, (int)seed, a, mw_fx_need(fc, "auc"), rho, mean,
                          mw_fx_need(fc, "mean"));
            assert_true(fabs(a - mw_fx_need(fc, "auc")) <= 0.005);
            assert_true(rho >= 0.98);
            assert_true(fabs(mean - mw_fx_need(fc, "mean")) <= 0.005);
            mw_outlier_free(m);
        }
        free(got);
        mw_table_free(ref);
        mw_table_free(cur);
        cases++;
    }
    assert_int_equal(cases, 2);
    mw_fx_free(fx);
}

static void test_determinism_live_path_threshold(void **state) {
    (void)state;
    mw_table *ref = read_fixture("outliers/if_blobs_ref.csv");
    mw_table *cur = read_fixture("outliers/if_blobs_cur.csv");
    mw_outlier_options o = {.method = MW_OUTLIER_IFOREST, .seed = 3, .contamination = 0.1};
    mw_outlier_model *a, *b, *c;
    mw_error err;
    mw_error_clear(&err);
    assert_int_equal(mw_outlier_fit(ref, &o, &a, &err), MW_OK);
    assert_int_equal(mw_outlier_fit(ref, &o, &b, &err), MW_OK);
    o.seed = 4;
    assert_int_equal(mw_outlier_fit(ref, &o, &c, &err), MW_OK);
    size_t n = cur->nrows;
    double *sa = malloc(n * sizeof *sa), *sb = malloc(n * sizeof *sb), *sc = malloc(n * sizeof *sc);
    assert_int_equal(mw_outlier_score_table(a, cur, 0, n, sa, NULL, &err), MW_OK);
    assert_int_equal(mw_outlier_score_table(b, cur, 0, n, sb, NULL, &err), MW_OK);
    assert_int_equal(mw_outlier_score_table(c, cur, 0, n, sc, NULL, &err), MW_OK);
    assert_memory_equal(sa, sb, n * sizeof *sa);
    assert_memory_not_equal(sa, sc, n * sizeof *sa);
    /* the live path (one row through 16 trees at a time) equals the batch path */
    for (size_t i = 0; i < n; i += 37) {
        double num[6], s;
        for (int j = 0; j < 6; j++) num[j] = cur->cols[j].num[i];
        assert_int_equal(mw_outlier_score_row(a, num, NULL, &s, &err), MW_OK);
        assert_true(s == sa[i]);
    }
    /* contamination 0.1: about 10% of the reference above the threshold */
    mw_outlier_info info;
    mw_outlier_get_info(a, &info);
    assert_int_equal(info.n_trees, 100);
    assert_int_equal(info.max_samples, 256);
    assert_int_equal(info.max_depth, 8);
    assert_true(fabs(info.expected_share - 0.1) < 0.002);
    assert_true(info.threshold == info.ref_quantiles[90]);
    /* explicit threshold */
    o.has_threshold = 1;
    o.threshold = 0.6;
    mw_outlier_model *d;
    assert_int_equal(mw_outlier_fit(ref, &o, &d, &err), MW_OK);
    mw_outlier_get_info(d, &info);
    assert_true(info.threshold == 0.6 && isnan(info.contamination));
    /* explanations name a feature for an obvious outlier */
    double far[6] = {0, 0, 0, 0, 0, 40}, f[6];
    mw_outlier_reason r[2];
    assert_int_equal(mw_outlier_encode_row(a, far, NULL, f, NULL, NULL, &err), MW_OK);
    assert_true(mw_outlier_explain(a, f, r, 2) >= 1);
    assert_string_equal(mw_outlier_feature_name(a, r[0].feature), "f5");
    mw_outlier_free(a);
    mw_outlier_free(b);
    mw_outlier_free(c);
    mw_outlier_free(d);
    free(sa);
    free(sb);
    free(sc);
    mw_table_free(ref);
    mw_table_free(cur);
}

static void test_serialise(void **state) {
    (void)state;
    mw_table *ref = read_fixture("outliers/if_corr_ref.csv");
    mw_table *cur = read_fixture("outliers/if_corr_cur.csv");
    mw_outlier_options o = {.method = MW_OUTLIER_IFOREST, .seed = 9, .standardize = 1,
                            .max_features = 0.5};
    mw_outlier_model *m, *m2, *bad;
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
    size_t n = cur->nrows;
    double *s1 = malloc(n * sizeof *s1), *s2 = malloc(n * sizeof *s2);
    assert_int_equal(mw_outlier_score_table(m, cur, 0, n, s1, NULL, &err), MW_OK);
    assert_int_equal(mw_outlier_score_table(m2, cur, 0, n, s2, NULL, &err), MW_OK);
    assert_memory_equal(s1, s2, n * sizeof *s1);
    for (size_t cut = 0; cut < len; cut += 1 + cut / 3)
        assert_int_equal(mw_outlier_load(buf, cut, &bad, &err), MW_ECORRUPT);
    for (size_t i = 0; i < len; i += 1 + i / 16) {
        buf[i] ^= 0x01;
        assert_int_equal(mw_outlier_load(buf, len, &bad, &err), MW_ECORRUPT);
        buf[i] ^= 0x01;
    }
    /* wrong version */
    buf[4] = 2;
    assert_int_equal(mw_outlier_load(buf, len, &bad, &err), MW_ECORRUPT);
    assert_non_null(strstr(err.message, "version 2"));
    free(buf);
    free(buf2);
    free(s1);
    free(s2);
    mw_outlier_free(m);
    mw_outlier_free(m2);
    mw_table_free(ref);
    mw_table_free(cur);
}

/* The AVX-512 rank-space kernel (when the CPU has it) gives the portable
 * path's bits: every batch size around the 16-row blocks and 256-row chunks,
 * NaN and values equal to thresholds included. */
static void test_fast_path_equals_portable(void **state) {
    (void)state;
    mw_table *ref = read_fixture("outliers/if_corr_ref.csv");
    mw_outlier_options o = {.method = MW_OUTLIER_IFOREST, .seed = 5, .n_trees = 37};
    mw_outlier_model *m;
    mw_error err;
    mw_error_clear(&err);
    assert_int_equal(mw_outlier_fit(ref, &o, &m, &err), MW_OK);
    mw_iforest *f = m->forest;
    size_t d = f->d, n = 600;
    double *x = malloc(n * d * sizeof *x), *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < d; j++)
            x[i * d + j] = ref->cols[j].num[(i * 7 + j) % ref->nrows];
    for (size_t i = 0; i < f->n_nodes; i += 3) /* rows sitting exactly on thresholds */
        if (f->nodes[i].left != i) x[(i % n) * d + f->nodes[i].feat] = f->nodes[i].thr;
    x[5 * d] = NAN;
    x[300 * d + d - 1] = NAN;
    size_t sizes[] = {16, 17, 31, 64, 255, 256, 257, 600};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        f->portable = 1;
        mw_iforest_score(f, x, sizes[k], a);
        f->portable = 0;
        mw_iforest_score(f, x, sizes[k], b);
        assert_memory_equal(a, b, sizes[k] * sizeof *a);
    }
    print_message("fast path %s\n", f->fast ? "used" : "not available on this CPU");
    free(x);
    free(a);
    free(b);
    mw_outlier_free(m);
    mw_table_free(ref);
}

/* The fast path's threshold search by cells on awkward thresholds: crowded
 * in one cell (most values within 1e-9, a few far away), spread over 600
 * orders of magnitude, few of them (3 distinct values), and rows at, just
 * below and just above every threshold, infinities, NaN and huge values:
 * the portable path's bits. */
static void test_fast_path_extremes(void **state) {
    (void)state;
    size_t n = 4000, d = 4;
    double *x = malloc(n * d * sizeof *x);
    uint64_t r = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        double u = (double)(r >> 11) / 9007199254740992.0;
        x[i * d + 0] = i % 100 == 7 ? 1e6 * u : u * 1e-9;      /* crowded */
        x[i * d + 1] = (u - 0.5) * pow(10.0, (double)(i % 600) - 300); /* magnitudes */
        x[i * d + 2] = (double)(i % 3);                          /* few values */
        x[i * d + 3] = u;
    }
    mw_outlier_options o = {.method = MW_OUTLIER_IFOREST, .seed = 2, .n_trees = 60};
    mw_outlier_model *m;
    mw_error err;
    mw_error_clear(&err);
    assert_int_equal(mw_outlier_fit_matrix(x, n, d, NULL, &o, &m, &err), MW_OK);
    mw_iforest *f = m->forest;
    if (mw_test_cpu_avx512()) {
        assert_non_null(f->fast);
        print_message("cells' search steps: %u %u %u %u\n", f->fast->cell_steps[0],
                      f->fast->cell_steps[1], f->fast->cell_steps[2], f->fast->cell_steps[3]);
    }
    size_t nq = 3 * f->n_nodes + 64;
    double *q = malloc(nq * d * sizeof *q), *a = malloc(nq * sizeof *a), *b = malloc(nq * sizeof *b);
    for (size_t i = 0; i < nq; i++)
        for (size_t j = 0; j < d; j++) q[i * d + j] = x[((i * 13) % n) * d + j];
    for (size_t i = 0; i < f->n_nodes; i++) /* at, below and above each threshold */
        if (f->nodes[i].left != i) {
            double t = f->nodes[i].thr;
            uint32_t j = f->nodes[i].feat;
            q[(3 * i) * d + j] = t;
            q[(3 * i + 1) * d + j] = nextafter(t, -INFINITY);
            q[(3 * i + 2) * d + j] = nextafter(t, INFINITY);
        }
    const double odd[] = {INFINITY, -INFINITY, NAN, 1e308, -1e308, 0.0, -0.0, 5e-324};
    for (size_t i = 0; i < 64; i++) q[(nq - 64 + i) * d + i % d] = odd[i % 8];
    f->portable = 1;
    mw_iforest_score(f, q, nq, a);
    f->portable = 0;
    mw_iforest_score(f, q, nq, b);
    assert_memory_equal(a, b, nq * sizeof *a);
    free(q);
    free(a);
    free(b);
    free(x);
    mw_outlier_free(m);
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The imputation fill is numpy.median of the reference column for every
 * shape the bracketed selection sees: odd and even counts, ties across the
 * middle, sorted and reversed columns, a few missing values. */
static void test_median_fill(void **state) {
    (void)state;
    const size_t sizes[] = {5, 4096, 4097, 20000, 20001};
    for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++) {
        size_t n = sizes[si], d = 5;
        double *x = malloc(n * d * sizeof *x), *col = malloc(n * sizeof *col);
        uint64_t s = 88172645463325252ull;
        for (size_t i = 0; i < n; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            double u = (double)(s >> 11) / 9007199254740992.0;
            x[i * d + 0] = u;                        /* uniform */
            x[i * d + 1] = floor(u * 3);             /* three values: ties in the middle */
            x[i * d + 2] = (double)i;                /* sorted */
            x[i * d + 3] = -(double)i * 0.5;         /* reversed */
            x[i * d + 4] = i % 7 == 3 ? NAN : u * u; /* missing values */
        }
        mw_outlier_options o = {.method = MW_OUTLIER_IFOREST, .n_trees = 2};
        mw_outlier_model *m;
        mw_error err;
        mw_error_clear(&err);
        assert_int_equal(mw_outlier_fit_matrix(x, n, d, NULL, &o, &m, &err), MW_OK);
        for (size_t j = 0; j < d; j++) {
            size_t nv = 0;
            for (size_t i = 0; i < n; i++)
                if (!isnan(x[i * d + j])) col[nv++] = x[i * d + j];
            qsort(col, nv, sizeof *col, cmp_dbl);
            double want = nv % 2 ? col[nv / 2] : (col[nv / 2 - 1] + col[nv / 2]) / 2.0;
            assert_true(m->in[j].fill == want);
        }
        mw_outlier_free(m);
        free(x);
        free(col);
    }
}

/* fit_matrix uses the caller's matrix as the encoded reference when encoding
 * would copy it unchanged; with a constant column added (dropped, so encoded)
 * the model is the same: threshold, reference quantiles and scores. */
static void test_matrix_as_is(void **state) {
    (void)state;
    size_t n = 3000, d = 4;
    double *x = malloc(n * d * sizeof *x), *x5 = malloc(n * (d + 1) * sizeof *x5);
    uint64_t s = 0x9E3779B97F4A7C15ull;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            x[i * d + j] = x5[i * (d + 1) + j] = (double)(s >> 11) / 9007199254740992.0 * (j + 1);
        }
        x5[i * (d + 1) + d] = 7.0;
    }
    mw_outlier_options o = {.method = MW_OUTLIER_IFOREST, .seed = 11, .contamination = 0.05};
    mw_outlier_model *a, *b;
    mw_error err;
    mw_error_clear(&err);
    assert_int_equal(mw_outlier_fit_matrix(x, n, d, NULL, &o, &a, &err), MW_OK);
    assert_int_equal(mw_outlier_fit_matrix(x5, n, d + 1, NULL, &o, &b, &err), MW_OK);
    assert_int_equal(mw_outlier_nnotes(b), 1);
    mw_outlier_info ia, ib;
    mw_outlier_get_info(a, &ia);
    mw_outlier_get_info(b, &ib);
    assert_true(ia.threshold == ib.threshold && ia.expected_share == ib.expected_share);
    assert_memory_equal(ia.ref_quantiles, ib.ref_quantiles, sizeof ia.ref_quantiles);
    double sa[64], sb[64];
    assert_int_equal(mw_outlier_score_features(a, x, 64, sa), MW_OK);
    assert_int_equal(mw_outlier_score_features(b, x, 64, sb), MW_OK);
    assert_memory_equal(sa, sb, sizeof sa);
    mw_outlier_free(a);
    mw_outlier_free(b);
    free(x);
    free(x5);
}

/* Trees are grown in parallel from per-tree streams: the fitted model (its
 * saved bytes: trees, threshold, percentiles) is the same for a given seed on
 * 1, 2, 3 and 8 threads and in reverse task order, for the table and the
 * matrix entry points, with max_features < 1, missing values (imputed) and
 * standardisation too; another seed gives another model. */
static void test_same_model_any_threads(void **state) {
    (void)state;
    mw_table *ref = read_fixture("outliers/if_corr_ref.csv");
    size_t n = 20000, d = 6; /* three blocks of rows for the moments and the encoding */
    double *x = malloc(n * d * sizeof *x);
    uint64_t r = 0x2545F4914F6CDD1Dull;
    for (size_t i = 0; i < n * d; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        x[i] = i % 97 == 5 ? NAN : (double)(r >> 11) / 9007199254740992.0 * (double)(i % d + 1);
    }
    for (int variant = 0; variant < 4; variant++) {
        const mw_table *t = variant == 2 ? NULL : ref;
        mw_outlier_options o = {.method = MW_OUTLIER_IFOREST, .seed = 7, .n_trees = 50,
                                .max_features = variant == 1 ? 0.5 : 0,
                                .standardize = variant >= 2};
        size_t len, other_len;
        unsigned char *want = mw_test_fit_any_runner(t, x, n, d, o, &len);
        o.seed = 8;
        unsigned char *other = mw_test_fit_any_runner(t, x, n, d, o, &other_len);
        assert_true(other_len != len || memcmp(other, want, len) != 0);
        free(want);
        free(other);
    }
    free(x);
    mw_table_free(ref);
}

static void test_binomial(void **state) {
    (void)state;
    mw_fx_file *fx = mw_fx_load("outliers.txt");
    for (size_t c = 0; c < mw_fx_count(fx); c++) {
        const mw_fx_case *fc = mw_fx_case_at(fx, c);
        if (strcmp(mw_fx_name(fc), "binom")) continue;
        size_t n;
        const double *x = mw_fx_array(fc, "x", &n), *nn = mw_fx_array(fc, "n", &n);
        const double *p = mw_fx_array(fc, "p", &n), *pv = mw_fx_array(fc, "pvalue", &n);
        for (size_t i = 0; i < n; i++)
            mw_assert_close(mw_binom_test_greater((uint64_t)x[i], (uint64_t)nn[i], p[i]), pv[i],
                            MW_TOL_P_REL, MW_TOL_P_ABS, "binom", "p-value");
    }
    mw_fx_free(fx);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_c_matches_sklearn),
        cmocka_unit_test(test_hand_built_trees),
        cmocka_unit_test(test_behaviour_matches_sklearn),
        cmocka_unit_test(test_determinism_live_path_threshold),
        cmocka_unit_test(test_serialise),
        cmocka_unit_test(test_fast_path_equals_portable),
        cmocka_unit_test(test_fast_path_extremes),
        cmocka_unit_test(test_median_fill),
        cmocka_unit_test(test_matrix_as_is),
        cmocka_unit_test(test_same_model_any_threads),
        cmocka_unit_test(test_binomial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
