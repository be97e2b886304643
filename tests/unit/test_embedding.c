/*
 * Embedding drift (src/stats/mmd.c, src/stats/logreg.c,
 * src/monitor/embedding.c) against numpy/scikit-learn values in
 * tests/fixtures/embedding.txt (gen_embedding.py): the unbiased MMD^2 and the
 * median bandwidth within 1e-9 relative; the permutation p-value the same for
 * the same seed and within its bounds; the domain classifier's AUC equal to
 * sklearn's on the same folds (1e-6: the fits stop at different tolerances,
 * the ranking agrees) and near sklearn's own 5-fold AUC (0.05: other folds); AUC near 0.5
 * on same-distribution data and high on shifted data; the shift summary;
 * bad input; and the time of a 1000 x 1000 x 384 run (printed).
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
#include "fixture.h"
#include "modelwatch/embedding.h"
#include "modelwatch/monitor.h"
#include "monitor/live_int.h"

typedef struct fx_data {
    const double *x, *y;
    size_t n, m, dim;
} fx_data;

static fx_data data_of(const mw_fx_case *c) {
    fx_data d;
    size_t nx, ny;
    d.dim = (size_t)mw_fx_need(c, "dim");
    d.x = mw_fx_array(c, "x", &nx);
    d.y = mw_fx_array(c, "y", &ny);
    assert_non_null(d.x);
    assert_non_null(d.y);
    d.n = nx / d.dim;
    d.m = ny / d.dim;
    return d;
}

static void test_mmd_matches_numpy(void **state) {
    (void)state;
    mw_fx_file *fx = mw_fx_load("embedding.txt");
    size_t cases = 0;
    for (size_t i = 0; i < mw_fx_count(fx); i++) {
        const mw_fx_case *c = mw_fx_case_at(fx, i);
        const char *name = mw_fx_name(c);
        if (strncmp(name, "mmd_", 4)) continue;
        fx_data d = data_of(c);
        mw_mmd_result r, r2;
        assert_int_equal(mw_mmd_rbf(d.x, d.n, d.y, d.m, d.dim, 200, 7, &r), MW_OK);
        mw_assert_close(r.statistic, mw_fx_need(c, "mmd2"), MW_TOL_STAT, 1e-15, name, "mmd2");
        mw_assert_close(r.bandwidth, mw_fx_need(c, "sigma"), MW_TOL_STAT, 0, name, "sigma");
        /* p-value: reproducible for a seed, in [1/(P+1), 1] */
        assert_int_equal(mw_mmd_rbf(d.x, d.n, d.y, d.m, d.dim, 200, 7, &r2), MW_OK);
        assert_true(r.p_value == r2.p_value);
        assert_true(r.statistic == r2.statistic);
        assert_true(r.p_value >= 1.0 / 201 && r.p_value <= 1.0);
        cases++;
    }
    assert_int_equal(cases, 5);
    mw_fx_free(fx);
}

static void test_mmd_p_values(void **state) {
    (void)state;
    mw_fx_file *fx = mw_fx_load("embedding.txt");
    int seen = 0;
    for (size_t i = 0; i < mw_fx_count(fx); i++) {
        const mw_fx_case *c = mw_fx_case_at(fx, i);
        const char *name = mw_fx_name(c);
        fx_data d;
        mw_mmd_result r;
        if (!strcmp(name, "mmd_dim32_scale")) {
            d = data_of(c); /* clearly different: no permutation reaches the statistic */
            assert_int_equal(mw_mmd_rbf(d.x, d.n, d.y, d.m, d.dim, 100, 1, &r), MW_OK);
            mw_assert_close(r.p_value, 1.0 / 101, 1e-15, 0, name, "p");
            seen++;
        } else if (!strcmp(name, "mmd_small_shift")) {
            d = data_of(c); /* a mean shift of 0.5 sd with 40 and 50 rows */
            assert_int_equal(mw_mmd_rbf(d.x, d.n, d.y, d.m, d.dim, 100, 1, &r), MW_OK);
            assert_true(r.p_value < 0.05);
            seen++;
        } else if (!strcmp(name, "mmd_same")) {
            d = data_of(c);
            double p[3];
            for (int s = 0; s < 3; s++) {
                assert_int_equal(mw_mmd_rbf(d.x, d.n, d.y, d.m, d.dim, 100, (uint64_t)s, &r),
                                 MW_OK);
                p[s] = r.p_value;
                assert_true(p[s] > 0.2); /* MMD^2 < 0: most permutations exceed it */
            }
            assert_true(p[0] != p[1] || p[1] != p[2]); /* the seed matters */
            assert_int_equal(mw_mmd_rbf(d.x, d.n, d.y, d.m, d.dim, 0, 1, &r), MW_OK);
            assert_true(isnan(r.p_value));
            seen++;
        }
    }
    assert_int_equal(seen, 3);
    mw_fx_free(fx);
}

static void test_classifier_matches_sklearn(void **state) {
    (void)state;
    mw_fx_file *fx = mw_fx_load("embedding.txt");
    size_t cases = 0;
    for (size_t i = 0; i < mw_fx_count(fx); i++) {
        const mw_fx_case *c = mw_fx_case_at(fx, i);
        const char *name = mw_fx_name(c);
        if (strncmp(name, "clf_", 4)) continue;
        fx_data d = data_of(c);
        mw_embedding_options o = {.seed = 3};
        mw_embedding_result r;
        mw_error err;
        mw_error_clear(&err);
        assert_int_equal(mw_embedding_drift(d.x, d.n, d.y, d.m, d.dim, &o, &r, &err), MW_OK);
        assert_int_equal(r.folds, 5);
        assert_int_equal(r.n_ref_used, d.n);
        mw_assert_close(r.auc, mw_fx_need(c, "auc_folds"), 0, 1e-6, name, "auc (same folds)");
        mw_assert_close(r.auc, mw_fx_need(c, "auc_default"), 0, 0.05, name, "auc (sklearn cv=5)");
        size_t nd, ns;
        const double *dims = mw_fx_array(c, "top_dims", &nd);
        const double *sh = mw_fx_array(c, "top_shifts", &ns);
        assert_int_equal(r.ntop, nd);
        for (size_t k = 0; k < nd; k++) {
            assert_int_equal(r.top[k].dim, (size_t)dims[k]);
            mw_assert_close(r.top[k].shift, sh[k], MW_TOL_STAT, 1e-12, name, "shift");
        }
        if (!strcmp(name, "clf_same")) {
            assert_true(r.auc < 0.55 && r.auc > 0.4);
            assert_false(r.classifier_drifted);
            assert_false(r.mmd_drifted);
            assert_false(r.drifted);
        } else {
            assert_true(r.auc > 0.65);
            assert_true(r.classifier_drifted);
            assert_true(r.drifted);
        }
        cases++;
    }
    assert_int_equal(cases, 2);
    mw_fx_free(fx);
}

static double normal(mw_rng *rng) { /* Box-Muller */
    double u = mw_rng_unit(rng), v = mw_rng_unit(rng);
    return sqrt(-2.0 * log(1.0 - u)) * cos(2 * M_PI * v);
}

static double *gaussian(mw_rng *rng, size_t n, size_t dim, double shift) {
    double *v = malloc(n * dim * sizeof *v);
    assert_non_null(v);
    for (size_t i = 0; i < n * dim; i++)
        v[i] = normal(rng) + (i % dim < 4 ? shift : 0);
    return v;
}

/* Sampling beyond the bound, the default path, and the cost at the documented size. */
static void test_bounded_and_timed(void **state) {
    (void)state;
    mw_rng rng;
    mw_rng_seed(&rng, 11);
    size_t dim = 384;
    double *a = gaussian(&rng, 1500, dim, 0), *b = gaussian(&rng, 1200, dim, 0.4);
    mw_embedding_options o = {.seed = 5};
    mw_embedding_result r, r2;
    mw_error err;
    mw_error_clear(&err);
    assert_int_equal(mw_embedding_drift(a, 1500, b, 1200, dim, &o, &r, &err), MW_OK);
    assert_int_equal(r.n_ref, 1500);
    assert_int_equal(r.n_ref_used, 1000);
    assert_int_equal(r.n_cur_used, 1000);
    assert_true(r.mmd_drifted);
    assert_true(r.auc > 0.55);
    assert_true(r.drifted);
    assert_int_equal(r.ntop, 5);
    for (size_t k = 0; k < 4; k++) /* the four shifted dimensions lead */
        assert_true(r.top[k].dim < 4 && r.top[k].shift > 0.3);
    fprintf(stderr, "embedding drift 1000 x 1000 x 384: %.2f s (mmd2 %.5f, p %.4f, auc %.4f)\n",
            r.seconds, r.mmd.statistic, r.mmd.p_value, r.auc);
    o.max_samples = 300;
    assert_int_equal(mw_embedding_drift(a, 1500, b, 1200, dim, &o, &r, &err), MW_OK);
    assert_int_equal(mw_embedding_drift(a, 1500, b, 1200, dim, &o, &r2, &err), MW_OK);
    assert_int_equal(r.n_cur_used, 300);
    assert_true(r.mmd.statistic == r2.mmd.statistic && r.mmd.p_value == r2.mmd.p_value &&
                r.auc == r2.auc);
    free(a);
    free(b);
}

static void test_bad_input(void **state) {
    (void)state;
    double x[8] = {0, 1, 2, 3, 4, 5, 6, 7}, y[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    mw_embedding_result r;
    mw_error err;
    mw_error_clear(&err);
    assert_int_equal(mw_embedding_drift(x, 1, y, 4, 2, NULL, &r, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "at least 2 vectors"));
    assert_int_equal(mw_embedding_drift(x, 4, y, 4, 0, NULL, &r, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "dimension 0"));
    y[5] = NAN;
    assert_int_equal(mw_embedding_drift(x, 4, y, 4, 2, NULL, &r, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "current row 3, dimension 1"));
    y[5] = 6;
    mw_embedding_options o = {.max_samples = 1};
    assert_int_equal(mw_embedding_drift(x, 4, y, 4, 2, &o, &r, &err), MW_EINVAL);
    /* two rows a side: 2 folds; identical sides: p = 1, MMD^2 <= 0, AUC 0.5 or less */
    assert_int_equal(mw_embedding_drift(x, 4, x, 4, 2, NULL, &r, &err), MW_OK);
    assert_true(r.mmd.p_value > 0.5);
    assert_int_equal(r.folds, 4);
    assert_false(r.classifier_drifted);
    mw_mmd_result m;
    assert_int_equal(mw_mmd_rbf(x, 1, y, 4, 2, 10, 1, &m), MW_EINVAL);
    assert_true(isnan(m.statistic));
    /* constant data: bandwidth falls back to 1, statistic 0 */
    double z[6] = {1, 1, 1, 1, 1, 1};
    assert_int_equal(mw_mmd_rbf(z, 3, z + 3, 3, 1, 10, 1, &m), MW_OK);
    assert_true(m.bandwidth == 1.0);
    assert_true(fabs(m.statistic) < 1e-15);
    double coef[3];
    unsigned char lab[2] = {0, 1};
    assert_int_equal(mw_logreg_fit(x, lab, 2, 2, 0.0, 1e-6, 10, coef, NULL), MW_EINVAL);
}

typedef struct emb_status {
    int has;
    uint64_t rejected[2], records;
} emb_status;

static void collect(const mw_version_status *s, void *ctx) {
    emb_status *e = ctx;
    e->has = s->has_embedding;
    e->rejected[0] = s->embeddings_rejected[0];
    e->rejected[1] = s->embeddings_rejected[1];
    e->records = s->records_total;
}

/* The C API path (mw_monitor_observe): a non-finite value (JSON cannot carry
 * one, a C caller can) and a wrong dimension reject the embedding only; the
 * window result has the test; the baseline sample survives serialisation. */
static void test_monitor_api(void **state) {
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/embedding/ref.ndjson", MW_FIXTURE_DIR);
    mw_read_options ro = {.expand_arrays = 1};
    mw_table *t = NULL;
    mw_error err;
    mw_error_clear(&err);
    assert_int_equal(mw_table_read(path, &ro, &t, &err), MW_OK);
    assert_true(mw_table_find(t, "embedding[7]") >= 0);
    mw_monitor_options o = {.seed = 1};
    mw_monitor *m;
    assert_int_equal(mw_monitor_open(&o, &m, &err), MW_OK);
    assert_int_equal(mw_monitor_register(m, "m", "1", "{\"embedding\": {\"samples\": 100}}", &err),
                     MW_OK);
    assert_int_equal(mw_monitor_set_reference(m, "m", "1", t, &err), MW_OK);
    mw_table_free(t);
    mw_rng rng;
    mw_rng_seed(&rng, 4);
    double v[9];
    mw_record rec = {.model = "m", .model_len = 1, .version = "1", .version_len = 1, .ts = NAN};
    for (int i = 0; i < 60; i++) {
        for (int k = 0; k < 8; k++)
            v[k] = normal(&rng) + (k == 2 ? 1.5 : 0);
        rec.embedding = v;
        rec.embedding_len = 8;
        if (i == 10) v[3] = NAN;
        if (i == 11) rec.embedding_len = 9;
        if (i == 12) v[0] = INFINITY;
        assert_int_equal(mw_monitor_observe(m, &rec, &err), MW_OK);
    }
    emb_status es = {0};
    mw_monitor_each_version(m, collect, &es);
    assert_true(es.has);
    assert_int_equal(es.records, 60);
    assert_int_equal(es.rejected[0], 1);
    assert_int_equal(es.rejected[1], 2);
    char *json = NULL;
    assert_int_equal(mw_monitor_close_window(m, "m", "1", &json, &err), MW_OK);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"embeddings\":[{\"name\":\"embedding\",\"dim\":8,\"n_ref\":100,"
                                 "\"n_cur\":57,"));
    assert_non_null(strstr(json, "\"cur_invalid\":3"));
    assert_non_null(strstr(json, "\"top_shifts\":[{\"dim\":2,"));
    assert_non_null(strstr(json, "\"embedding_drift\":true"));
    free(json);
    mw_monitor_close(m);
}

/* The baseline's embedding sample: serialised and read back bit for bit; a
 * truncated blob is corrupt, not a crash. */
static void test_baseline_roundtrip(void **state) {
    (void)state;
    const char *csv = "a,emb_0,emb_1,emb_2\n1,0.5,1.5,2\n2,0.25,-1,3\n3,,,\n4,1,nan,2\n5,7,8,9\n";
    mw_read_options ro = {0};
    mw_table *t = NULL;
    mw_error err;
    mw_error_clear(&err);
    assert_int_equal(mw_table_read_mem("r.csv", csv, strlen(csv), &ro, &t, &err), MW_OK);
    mw_base_emb *e = NULL;
    assert_int_equal(mw_base_emb_fit(t, "vec_", 1, 10, 1, &e, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "vec_"));
    assert_int_equal(mw_base_emb_fit(t, "emb_", 1, 10, 1, &e, &err), MW_OK);
    assert_int_equal(e->dim, 3);
    assert_int_equal(e->n, 3);
    assert_int_equal(e->missing, 1);
    assert_int_equal(e->invalid, 1);
    assert_int_equal(t->cols[1].type, MW_TYPE_IGNORE); /* no longer a feature */
    mw_baseline *b = NULL;
    assert_int_equal(mw_baseline_from_table(t, NULL, 1, &b, &err), MW_OK);
    assert_int_equal(b->ncols, 1);
    b->emb = e;
    unsigned char *blob;
    size_t len;
    assert_int_equal(mw_baseline_serialize(b, &blob, &len), MW_OK);
    mw_baseline *b2 = NULL;
    assert_int_equal(mw_baseline_deserialize(blob, len, &b2, &err), MW_OK);
    assert_non_null(b2->emb);
    assert_int_equal(b2->emb->n, 3);
    assert_memory_equal(b2->emb->rows, e->rows, 9 * sizeof(double));
    assert_string_equal(b2->emb->column, "emb_");
    for (size_t cut = len - 80; cut < len; cut += 7) {
        mw_baseline *b3 = NULL;
        assert_int_equal(mw_baseline_deserialize(blob, cut, &b3, &err), MW_ECORRUPT);
    }
    free(blob);
    mw_baseline_free(b);
    mw_baseline_free(b2);
    mw_table_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mmd_matches_numpy),
        cmocka_unit_test(test_mmd_p_values),
        cmocka_unit_test(test_classifier_matches_sklearn),
        cmocka_unit_test(test_bounded_and_timed),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_monitor_api),
        cmocka_unit_test(test_baseline_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
