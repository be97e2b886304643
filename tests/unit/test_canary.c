/*
 * The canary comparison (src/monitor/canary.c) against scipy
 * (tests/fixtures/canary.txt, made by gen_canary.py): on constructed window
 * snapshots, the error check's Fisher exact p-value and odds ratio, the
 * latency check's Mann-Whitney U and p-value and medians, the prediction
 * check (chi-square over the union of both sides' classes, or KS on numeric
 * predictions), the labelled performance check (Fisher exact on accuracy, or
 * Welch's t-test on absolute errors from their moments), the drift check,
 * and the verdict with its number of reasons; within DESIGN.md's tolerances.
 * Also: checks that cannot run (no latency, no labels) give null and never
 * a reason, and the JSON result carries the headline numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fixture.h"
#include "modelwatch/store.h"
#include "monitor/canary_int.h"
#include "monitor/labels_int.h"

static const mw_canary_options opt = {.alpha = 0.05, .latency_margin = 0.10, .drift_margin = 0.25};

/* Space-separated names of key into a snapshot's classes. */
static void classes(const mw_fx_case *c, const char *key, const char *counts, mw_canary_snap *s) {
    char *text = strdup(mw_fx_text(c, key));
    size_t n;
    const double *cnt = mw_fx_array(c, counts, &n);
    s->classes = calloc(n, sizeof *s->classes);
    s->class_counts = calloc(n, sizeof *s->class_counts);
    char *save = NULL;
    for (char *t = strtok_r(text, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        assert_true(s->nclasses < n);
        s->classes[s->nclasses] = strdup(t);
        s->class_counts[s->nclasses] = cnt[s->nclasses];
        s->nclasses++;
    }
    assert_int_equal(s->nclasses, n);
    s->pred_kind = MW_CANARY_PRED_CLASSES;
    free(text);
}

static double *copy(const double *v, size_t n) {
    double *out = malloc((n ? n : 1) * sizeof *out);
    memcpy(out, v, n * sizeof *out);
    return out;
}

/* One side ("b" or "c") of a case. */
static void side(const mw_fx_case *c, const char *p, const char *version, mw_canary_snap *s) {
    char key[64], key2[64];
    memset(s, 0, sizeof *s);
    s->model = strdup("m");
    s->version = strdup(version);
    s->start = 3600;
    s->end = 7200;
#define K(name) (snprintf(key, sizeof key, "%s_%s", p, name), key)
    s->records = (uint64_t)mw_fx_need(c, K("records"));
    s->errors = (uint64_t)mw_fx_need(c, K("errors"));
    const double *lat = mw_fx_array(c, K("lat"), &s->nlatency);
    s->latency = copy(lat, s->nlatency);
    s->drift_share = mw_fx_need(c, K("drift"));
    if (mw_fx_text(c, K("classes"))) {
        snprintf(key2, sizeof key2, "%s_class_counts", p);
        classes(c, key, key2, s);
    } else {
        const double *pred = mw_fx_array(c, K("pred"), &s->npred);
        s->pred_values = copy(pred, s->npred);
        s->pred_kind = MW_CANARY_PRED_NUMERIC;
    }
}

static void perf(const mw_fx_case *c, const char *p, int task, mw_canary_perf *out) {
    char key[64];
    memset(out, 0, sizeof *out);
    out->task = task;
    out->start = 0;
    out->labelled = (uint64_t)mw_fx_need(c, K("labelled"));
    if (task == MW_TASK_CLASSIFICATION) {
        out->correct = (uint64_t)mw_fx_need(c, K("correct"));
    } else {
        out->mae = mw_fx_need(c, K("mae"));
        out->mse = mw_fx_need(c, K("mse"));
    }
#undef K
}

static double member(const json_t *o, const char *a, const char *b) {
    const json_t *v = json_object_get(json_object_get(o, a), b);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static void test_against_scipy(void **state) {
    (void)state;
    mw_fx_file *fx = mw_fx_load("canary.txt");
    size_t seen = 0, flagged = 0;
    for (size_t i = 0; i < mw_fx_count(fx); i++) {
        const mw_fx_case *c = mw_fx_case_at(fx, i);
        const char *name = mw_fx_name(c);
        mw_canary_snap b, k;
        side(c, "b", "1", &b);
        side(c, "c", "2", &k);
        int task = (int)mw_fx_need(c, "perf_task");
        mw_canary_perf pb, pk;
        if (task) {
            perf(c, "b", task, &pb);
            perf(c, "c", task, &pk);
        }
        json_t *res = NULL;
        mw_canary_verdict v;
        assert_int_equal(
            mw_canary_compare(&b, &k, task ? &pb : NULL, task ? &pk : NULL, &opt, &res, &v), MW_OK);
        const json_t *checks = json_object_get(res, "checks");
        /* errors: Fisher exact */
        mw_assert_close(v.p_errors, mw_fx_need(c, "errors_p"), MW_TOL_P_REL, MW_TOL_P_ABS, name,
                        "errors p");
        mw_assert_close(member(checks, "errors", "odds_ratio"), mw_fx_need(c, "errors_odds"),
                        MW_TOL_STAT, 0, name, "odds ratio");
        double rb = (double)b.errors / (double)b.records, rc = (double)k.errors / (double)k.records;
        mw_assert_close(v.error_rate_difference, rc - rb, 1e-12, 1e-15, name, "error difference");
        assert_int_equal(json_is_true(json_object_get(json_object_get(checks, "errors"), "worse")),
                         (int)mw_fx_need(c, "errors_worse"));
        /* latency: Mann-Whitney U and medians */
        mw_assert_close(v.p_latency, mw_fx_need(c, "lat_p"), MW_TOL_P_REL, MW_TOL_P_ABS, name,
                        "latency p");
        mw_assert_close(member(checks, "latency", "statistic"), mw_fx_need(c, "lat_stat"),
                        MW_TOL_STAT, 0, name, "U");
        mw_assert_close(member(checks, "latency", "baseline_p50_ms"), mw_fx_need(c, "b_p50"),
                        MW_TOL_STAT, 0, name, "baseline median");
        mw_assert_close(member(checks, "latency", "canary_p50_ms"), mw_fx_need(c, "c_p50"),
                        MW_TOL_STAT, 0, name, "canary median");
        mw_assert_close(v.latency_p50_difference,
                        (mw_fx_need(c, "c_p50") - mw_fx_need(c, "b_p50")) / 1000, 1e-9, 1e-15, name,
                        "median difference (s)");
        assert_int_equal(json_is_true(json_object_get(json_object_get(checks, "latency"), "worse")),
                         (int)mw_fx_need(c, "lat_worse"));
        /* predictions: chi2 over the union of classes, or KS */
        mw_assert_close(member(checks, "predictions", "statistic"), mw_fx_need(c, "pred_stat"),
                        MW_TOL_STAT, 0, name, "prediction statistic");
        mw_assert_close(v.p_predictions, mw_fx_need(c, "pred_p"), MW_TOL_P_REL, MW_TOL_P_ABS, name,
                        "prediction p");
        const char *test =
            json_string_value(json_object_get(json_object_get(checks, "predictions"), "test"));
        assert_string_equal(test, b.pred_kind == MW_CANARY_PRED_CLASSES ? "chi2" : "ks");
        /* drift */
        assert_int_equal(json_is_true(json_object_get(json_object_get(checks, "drift"), "worse")),
                         (int)mw_fx_need(c, "drift_worse"));
        /* performance */
        if (task) {
            mw_assert_close(v.p_performance, mw_fx_need(c, "perf_p"), MW_TOL_P_REL, MW_TOL_P_ABS,
                            name, "performance p");
            mw_assert_close(v.performance_difference, mw_fx_need(c, "perf_diff"), 1e-9, 1e-15, name,
                            "performance difference");
            assert_string_equal(v.performance_metric,
                                task == MW_TASK_CLASSIFICATION ? "accuracy" : "mae");
            assert_int_equal(
                json_is_true(json_object_get(json_object_get(checks, "performance"), "worse")),
                (int)mw_fx_need(c, "perf_worse"));
        } else {
            assert_true(json_is_null(json_object_get(checks, "performance")));
            assert_true(isnan(v.p_performance) && v.performance_metric == NULL);
        }
        /* verdict */
        assert_int_equal(v.worse, (int)mw_fx_need(c, "worse"));
        assert_int_equal(json_is_true(json_object_get(res, "canary_worse")), v.worse);
        assert_int_equal(json_array_size(json_object_get(res, "reasons")),
                         (size_t)mw_fx_need(c, "reasons"));
        assert_string_equal(
            json_string_value(json_object_get(json_object_get(res, "canary"), "version")), "2");
        flagged += v.worse;
        seen++;
        json_decref(res);
        mw_canary_snap_free(&b);
        mw_canary_snap_free(&k);
    }
    mw_fx_free(fx);
    assert_int_equal(seen, 5);
    assert_int_equal(flagged, 2);
}

/* Checks that cannot run: no latency samples, no predictions, labels on one
 * side only (or of different tasks): null results, NaN headline, no reason. */
static void test_missing_inputs(void **state) {
    (void)state;
    mw_canary_snap b = {.model = "m", .version = "1", .records = 10, .errors = 0};
    mw_canary_snap k = {.model = "m", .version = "2", .records = 10, .errors = 9};
    mw_canary_perf pb = {.task = MW_TASK_CLASSIFICATION, .labelled = 10, .correct = 10};
    mw_canary_perf pk = {.task = MW_TASK_REGRESSION, .labelled = 10, .mae = 1, .mse = 2};
    json_t *res = NULL;
    mw_canary_verdict v;
    assert_int_equal(mw_canary_compare(&b, &k, &pb, &pk, &opt, &res, &v), MW_OK);
    const json_t *checks = json_object_get(res, "checks");
    assert_true(isnan(v.p_latency) && isnan(v.latency_p50_difference));
    assert_true(json_is_null(json_object_get(json_object_get(checks, "latency"), "p_value")));
    assert_true(json_is_null(json_object_get(checks, "predictions")));
    assert_true(json_is_null(json_object_get(checks, "performance")));
    /* 9 errors in 10 against none in 10: Fisher p = 2 * C(18,9)... < 0.05 */
    assert_true(v.p_errors < 0.05 && v.worse);
    assert_int_equal(json_array_size(json_object_get(res, "reasons")), 1);
    json_decref(res);
}

/* The store: replace on the same pair and start, newest start first, limit,
 * the retention bound, other models apart, bad arguments named. */
static void test_store(void **state) {
    (void)state;
    mw_store *s = NULL;
    mw_error err;
    assert_int_equal(mw_store_open(":memory:", NULL, &s, &err), MW_OK);
    assert_int_equal(mw_store_canary_put(s, "m", "1", "2", 0, 60, 0, 5, "{\"w\":0}", 0, &err),
                     MW_OK);
    assert_int_equal(mw_store_canary_put(s, "m", "1", "2", 60, 120, 1, 6, "{\"w\":1}", 0, &err),
                     MW_OK);
    assert_int_equal(mw_store_canary_put(s, "m", "1", "2", 0, 60, 1, 7, "{\"w\":2}", 0, &err),
                     MW_OK);
    assert_int_equal(mw_store_canary_put(s, "other", "1", "2", 0, 60, 1, 7, "{}", 0, &err), MW_OK);
    char *json = NULL;
    assert_int_equal(mw_store_canary_list(s, "m", 0, &json, &err), MW_OK);
    assert_string_equal(json, "[{\"w\":1},{\"w\":2}]");
    free(json);
    assert_int_equal(mw_store_canary_list(s, "m", 1, &json, &err), MW_OK);
    assert_string_equal(json, "[{\"w\":1}]");
    free(json);
    /* keep 2: the oldest start goes */
    assert_int_equal(mw_store_canary_put(s, "m", "1", "3", 120, 180, 0, 8, "{\"w\":3}", 2, &err),
                     MW_OK);
    assert_int_equal(mw_store_canary_list(s, "m", 0, &json, &err), MW_OK);
    assert_string_equal(json, "[{\"w\":3},{\"w\":1}]");
    free(json);
    assert_int_equal(mw_store_canary_list(s, "other", 0, &json, &err), MW_OK);
    assert_string_equal(json, "[{}]");
    free(json);
    assert_int_equal(mw_store_canary_list(s, "none", 0, &json, &err), MW_OK);
    assert_string_equal(json, "[]");
    free(json);
    assert_int_equal(mw_store_canary_put(s, "m", "1", "", 0, 60, 0, 5, "{}", 0, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "canary version is empty"));
    assert_int_equal(mw_store_canary_put(s, "m", "1", "2", 0, 60, 0, 5, NULL, 0, &err), MW_EINVAL);
    mw_store_close(s);
}

/* The monitor's canary settings: defaults, errors naming the key. */
static void test_configure(void **state) {
    (void)state;
    mw_monitor *m = NULL;
    mw_error err;
    assert_int_equal(mw_monitor_open(NULL, &m, &err), MW_OK);
    assert_int_equal(mw_monitor_canary_configure(m, NULL, &err), MW_OK);
    assert_int_equal(mw_monitor_canary_configure(m, "", &err), MW_OK);
    assert_int_equal(mw_monitor_canary_configure(
                         m,
                         "{\"baseline_alias\":\"prod\",\"canary_alias\":\"beta\",\"alpha\":0.01,"
                         "\"latency_margin\":0,\"drift_margin\":1,\"models\":{\"a\":{\"canary_"
                         "alias\":\"x\"}}}",
                         &err),
                     MW_OK);
    static const struct {
        const char *json, *message;
    } bad[] = {
        {"[1]", "canary: configuration: expected a mapping"},
        {"{\"alpha\":0.7}", "canary: alpha: expected a number from 0 to 0.5"},
        {"{\"alpha\":\"x\"}", "canary: alpha: expected a number from 0 to 0.5"},
        {"{\"latency_margin\":-1}", "canary: latency_margin: expected a number from 0 to 100"},
        {"{\"baseline_alias\":\"a b\"}", "canary: baseline_alias: expected an alias name"},
        {"{\"colour\":1}", "canary: configuration: unknown key \"colour\""},
        {"{\"models\":[]}", "canary: models: expected a mapping of model names"},
        {"{\"models\":{\"a\":1}}", "canary: models.a: expected a mapping"},
        {"{\"models\":{\"a\":{\"alias\":\"x\"}}}", "canary: models.a: unknown key \"alias\""},
        {"{\"models\":{\"a\":{\"canary_alias\":7}}}",
         "canary: models.a.canary_alias: expected an alias name"},
        {"{", "canary: "},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mw_status st = mw_monitor_canary_configure(m, bad[i].json, &err);
        assert_true(st == MW_EINVAL || st == MW_EPARSE);
        if (!strstr(err.message, bad[i].message))
            fail_msg("%s: got \"%s\", expected \"%s\"", bad[i].json, err.message, bad[i].message);
    }
    /* without a database: no comparisons, an empty list; bad model names refused */
    char *json = NULL;
    assert_int_equal(mw_monitor_canary(m, "fraud", 10, &json, &err), MW_OK);
    assert_string_equal(json, "[]");
    free(json);
    assert_int_equal(mw_monitor_canary(m, "a/b", 10, &json, &err), MW_EINVAL);
    assert_int_equal(mw_monitor_canary_failures(m), 0);
    mw_monitor_close(m);
}

/* Full-size windows: 100,000 latencies a side (the default sample capacity),
 * a million records, 50 classes; prints the time a comparison takes (it runs
 * under the closing version's lock). */
static void test_large(void **state) {
    (void)state;
    enum { N = 100000, K = 50 };
    mw_canary_snap side_[2];
    for (int s = 0; s < 2; s++) {
        mw_canary_snap *x = &side_[s];
        memset(x, 0, sizeof *x);
        x->model = strdup("m");
        x->version = strdup(s ? "2" : "1");
        x->records = 1000000;
        x->errors = s ? 1200 : 1000;
        x->nlatency = N;
        x->latency = malloc(N * sizeof *x->latency);
        for (size_t i = 0; i < N; i++) /* sorted, with ties; the canary 2 % slower */
            x->latency[i] = floor((5 + 10.0 * (double)i / N) * (s ? 1.02 : 1) * 100) / 100;
        x->pred_kind = MW_CANARY_PRED_CLASSES;
        x->nclasses = K;
        x->classes = calloc(K, sizeof *x->classes);
        x->class_counts = calloc(K, sizeof *x->class_counts);
        for (size_t k = 0; k < K; k++) {
            char name[16];
            snprintf(name, sizeof name, "c%zu", s ? K - 1 - k : k);
            x->classes[k] = strdup(name);
            x->class_counts[k] = 20000;
        }
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    json_t *res = NULL;
    mw_canary_verdict v;
    assert_int_equal(mw_canary_compare(&side_[0], &side_[1], NULL, NULL, &opt, &res, &v), MW_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("canary comparison of two windows (1,000,000 records, 100,000 latencies, 50 classes "
           "each): %.1f ms\n",
           (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    assert_true(v.p_errors < 1e-4 && v.p_latency < 1e-10);
    assert_true(v.p_predictions > 0.999); /* the same counts in another order */
    /* errors: worse; latency: significant but within the 10 % margin */
    assert_int_equal(json_array_size(json_object_get(res, "reasons")), 1);
    json_decref(res);
    mw_canary_snap_free(&side_[0]);
    mw_canary_snap_free(&side_[1]);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_scipy), cmocka_unit_test(test_missing_inputs),
        cmocka_unit_test(test_store),         cmocka_unit_test(test_configure),
        cmocka_unit_test(test_large),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
