/*
 * Delayed labels in the monitor with an injected clock: joining labels to the
 * windows of their predictions (open and closed), class canonicalisation
 * (1, 1.0, "1"), the auto task, the TTL (expired predictions counted, later
 * labels unmatched), the pending bound, and a reopened database that rebuilds
 * every window's performance from the stored predictions and the label
 * journal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "modelwatch/monitor.h"
#include "monitor/monitor_int.h"

static int64_t fake_now_ms;
static int64_t clock_fn(void *ctx) {
    (void)ctx;
    return fake_now_ms;
}

static const char reference_csv[] = "x\n1\n2\n3\n4\n5\n6\n7\n8\n";

static mw_monitor *open_monitor(const char *db, double ttl, size_t max_pending) {
    mw_monitor_options o = {.db_path = db, .now_ms = clock_fn, .seed = 1,
                            .label_ttl_seconds = ttl, .max_pending = max_pending};
    mw_monitor *m;
    mw_error err;
    assert_int_equal(mw_monitor_open(&o, &m, &err), MW_OK);
    return m;
}

static void setup_version(mw_monitor *m, const char *config) {
    mw_error err;
    assert_int_equal(mw_monitor_register(m, "m", "1", config, &err), MW_OK);
    mw_read_options ro = {0};
    mw_table *t;
    assert_int_equal(mw_table_read_mem("ref", reference_csv, strlen(reference_csv), &ro, &t, &err),
                     MW_OK);
    assert_int_equal(mw_monitor_set_reference(m, "m", "1", t, &err), MW_OK);
    mw_table_free(t);
}

/* One record with id and prediction (prediction is JSON text) at time ts. */
static void predict(mw_monitor *m, double ts, const char *id, const char *prediction) {
    char line[256];
    snprintf(line, sizeof line,
             "{\"model\":\"m\",\"version\":\"1\",\"ts\":%.3f,\"id\":\"%s\",\"features\":{\"x\":1},"
             "\"prediction\":%s}",
             ts, id, prediction);
    mw_ingest_result res;
    mw_error err;
    assert_int_equal(mw_monitor_ingest(m, line, strlen(line), &res, &err), MW_OK);
    assert_int_equal(res.accepted, 1);
}

static mw_labels_result label(mw_monitor *m, const char *id, const char *value) {
    char line[256];
    snprintf(line, sizeof line, "{\"model\":\"m\",\"id\":\"%s\",\"label\":%s}", id, value);
    mw_labels_result res;
    mw_error err;
    assert_int_equal(mw_monitor_labels(m, line, strlen(line), &res, &err), MW_OK);
    return res;
}

static json_t *performance(mw_monitor *m) {
    char *json;
    mw_error err;
    assert_int_equal(mw_monitor_performance(m, "m", "1", 0, &json, &err), MW_OK);
    json_t *arr = json_loads(json, 0, NULL);
    free(json);
    assert_non_null(arr);
    return arr;
}

static double num(json_t *arr, size_t i, const char *key) {
    json_t *v = json_object_get(json_array_get(arr, i), key);
    return v ? json_number_value(v) : NAN;
}

static void grab(const mw_version_status *s, void *ctx) {
    *(mw_version_status *)ctx = *s;
}

static mw_version_status status(mw_monitor *m) {
    mw_version_status s;
    memset(&s, 0, sizeof s);
    mw_monitor_each_version(m, grab, &s);
    return s;
}

static void temp_db(char *dir, char *db, size_t size) {
    assert_non_null(mkdtemp(dir));
    snprintf(db, size, "%s/mw.db", dir);
}

static void remove_db(const char *dir, const char *db) {
    char p[300];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", db, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void test_join_open_and_closed_windows(void **state) {
    (void)state;
    fake_now_ms = 1000000; /* 1000 s */
    mw_monitor *m = open_monitor(NULL, 0, 0);
    setup_version(m, "{\"window_seconds\": 60}");
    predict(m, 960, "a", "1");     /* window [960, 1020) */
    predict(m, 961, "b", "\"1\""); /* the same class as 1 */
    predict(m, 1020, "c", "0");    /* closes the first window; window [1020, 1080) */
    assert_int_equal(label(m, "a", "1.0").matched, 1);
    assert_int_equal(label(m, "b", "0").matched, 1);
    assert_int_equal(label(m, "c", "0").matched, 1);
    mw_labels_result r = label(m, "c", "1");
    assert_int_equal(r.duplicate, 1);
    assert_int_equal(label(m, "zzz", "1").unmatched, 1);
    json_t *p = performance(m); /* newest first */
    assert_int_equal(json_array_size(p), 2);
    assert_true(num(p, 0, "start") == 1020 && num(p, 0, "accuracy") == 1);
    assert_true(num(p, 1, "start") == 960 && num(p, 1, "labelled") == 2);
    assert_true(num(p, 1, "accuracy") == 0.5); /* a right, b wrong */
    json_decref(p);
    mw_version_status s = status(m);
    assert_int_equal(s.labels_total, 3);
    assert_int_equal(s.labels_duplicate, 1);
    assert_true(s.perf_window_start == 1020 && s.label_coverage == 1);
    assert_int_equal(mw_monitor_labels_unmatched(m), 1);
    mw_monitor_close(m);
}

static void test_auto_regression(void **state) {
    (void)state;
    fake_now_ms = 1000000;
    mw_monitor *m = open_monitor(NULL, 0, 0);
    setup_version(m, "{\"window_seconds\": 60}");
    predict(m, 990, "a", "2.5"); /* a fraction: regression */
    predict(m, 991, "b", "1");
    assert_int_equal(label(m, "a", "2").matched, 1);
    assert_int_equal(label(m, "b", "\"x\"").rejected, 1);
    assert_int_equal(label(m, "b", "4").matched, 1);
    json_t *p = performance(m);
    assert_string_equal(json_string_value(json_object_get(json_array_get(p, 0), "task")),
                        "regression");
    assert_true(num(p, 0, "mae") == 1.75 && num(p, 0, "max_error") == 3);
    json_decref(p);
    mw_monitor_close(m);
}

static void test_ttl_and_bound(void **state) {
    (void)state;
    fake_now_ms = 1000000;
    mw_monitor *m = open_monitor(NULL, 100, 3); /* 100 s TTL, 3 pending at most */
    setup_version(m, "{\"window_seconds\": 60, \"task\": \"classification\"}");
    predict(m, 960, "a", "\"x\"");
    predict(m, 961, "b", "\"x\"");
    predict(m, 962, "c", "\"y\"");
    predict(m, 963, "d", "\"y\""); /* over the bound */
    predict(m, 964, "a", "\"y\""); /* a repeated id */
    mw_version_status s = status(m);
    assert_int_equal(s.predictions_untracked, 2);
    assert_int_equal(s.predictions_pending, 3);
    assert_int_equal(label(m, "a", "\"x\"").matched, 1);
    fake_now_ms = (960 + 100 + 61) * 1000; /* past the TTL of the window started at 960 */
    mw_monitor_tick(m);
    s = status(m);
    assert_int_equal(s.predictions_expired, 2); /* b and c, never labelled */
    assert_int_equal(s.predictions_pending, 0);
    assert_int_equal(label(m, "b", "\"x\"").unmatched, 1);
    predict(m, 1121, "e", "\"x\""); /* room again */
    assert_int_equal(status(m).predictions_pending, 1);
    mw_monitor_close(m);
}

static void test_restart_rebuilds_performance(void **state) {
    (void)state;
    char dir[] = "/tmp/mw-labels-XXXXXX", db[256];
    temp_db(dir, db, sizeof db);
    fake_now_ms = 1000000;
    mw_monitor *m = open_monitor(db, 0, 0);
    setup_version(m, "{\"window_seconds\": 60}");
    for (int i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof id, "r%d", i);
        predict(m, i < 10 ? 965 : 1025, id, i % 3 ? "\"cat\"" : "\"dog\""); /* 2 windows */
    }
    for (int i = 0; i < 20; i += 2) {
        char id[16];
        snprintf(id, sizeof id, "r%d", i);
        assert_int_equal(label(m, id, i % 4 ? "\"cat\"" : "\"dog\"").matched, 1);
    }
    json_t *before = performance(m);
    char *b = json_dumps(before, JSON_SORT_KEYS);
    mw_monitor_close(m);
    m = open_monitor(db, 0, 0); /* closed window: stored predictions; open one: journal */
    json_t *after = performance(m);
    char *a = json_dumps(after, JSON_SORT_KEYS);
    assert_string_equal(a, b);
    assert_int_equal(json_array_size(after), 2);
    assert_int_equal(label(m, "r0", "\"dog\"").duplicate, 1); /* labelled before the restart */
    assert_int_equal(label(m, "r1", "\"dog\"").matched, 1);
    free(a);
    free(b);
    json_decref(before);
    json_decref(after);
    mw_monitor_close(m);
    remove_db(dir, db);
}

/* A record with binary scores {"neg": 1 - s, "pos": s} and its prediction. */
static void predict_scored(mw_monitor *m, double ts, const char *id, const char *neg,
                           const char *pos, double s) {
    char line[320];
    snprintf(line, sizeof line,
             "{\"model\":\"m\",\"version\":\"1\",\"ts\":%.3f,\"id\":\"%s\",\"features\":{\"x\":1},"
             "\"prediction\":\"%s\",\"scores\":{\"%s\":%.17g,\"%s\":%.17g}}",
             ts, id, s > 0.5 ? pos : neg, pos, s, neg, 1 - s);
    mw_ingest_result res;
    mw_error err;
    assert_int_equal(mw_monitor_ingest(m, line, strlen(line), &res, &err), MW_OK);
    assert_int_equal(res.accepted, 1);
}

/* Positives scored 0.9, 0.8, 0.4 and negatives 0.7, 0.3 (by hand and by
 * sklearn: roc_auc 5/6, average_precision (1 + 1 + 3/4) / 3, brier 0.99 / 5,
 * log_loss -(ln .9 + ln .8 + ln .4 + ln .7 + ln .3) / 5), with the positive
 * class found as scikit-learn finds it: 10 after 2 (numbers), dog after cat. */
static void check_scores(const char *neg, const char *pos, const char *dbdir) {
    char db[256];
    if (dbdir) snprintf(db, sizeof db, "%s/mw.db", dbdir);
    fake_now_ms = 1000000;
    mw_monitor *m = open_monitor(dbdir ? db : NULL, 0, 0);
    setup_version(m, "{\"window_seconds\": 60, \"task\": \"classification\"}");
    const double s[5] = {0.9, 0.8, 0.4, 0.7, 0.3};
    const char *ids[5] = {"a", "b", "c", "d", "e"};
    for (int i = 0; i < 5; i++) predict_scored(m, 965 + i, ids[i], neg, pos, s[i]);
    char q[64];
    for (int i = 0; i < 5; i++) {
        snprintf(q, sizeof q, "\"%s\"", i < 3 ? pos : neg);
        assert_int_equal(label(m, ids[i], q).matched, 1);
    }
    if (dbdir) { /* the window closes (its blob is stored), then a restart replays all */
        predict_scored(m, 1030, "late", neg, pos, 0.5);
        mw_monitor_close(m);
        m = open_monitor(db, 0, 0);
    }
    json_t *p = performance(m);
    json_t *w = json_array_get(p, json_array_size(p) - 1); /* the window starting at 960 */
    double auc = json_number_value(json_object_get(w, "roc_auc"));
    double ap = json_number_value(json_object_get(w, "average_precision"));
    double brier = json_number_value(json_object_get(w, "brier"));
    double ll = json_number_value(json_object_get(w, "log_loss"));
    assert_true(fabs(auc - 5.0 / 6.0) < 1e-15);
    assert_true(fabs(ap - 2.75 / 3.0) < 1e-15);
    assert_true(fabs(brier - 0.99 / 5.0) < 1e-15);
    double want = -(log(0.9) + log(0.8) + log(0.4) + log(0.7) + log(0.3)) / 5.0;
    assert_true(fabs(ll - want) < 1e-12);
    json_decref(p);
    mw_monitor_close(m);
}

static void test_binary_scores(void **state) {
    (void)state;
    check_scores("0", "1", NULL);
    check_scores("2", "10", NULL);
    check_scores("cat", "dog", NULL);
    char dir[] = "/tmp/mw-labels-XXXXXX", db[256];
    temp_db(dir, db, sizeof db);
    check_scores("0", "1", dir);
    remove_db(dir, db);
}

/* A number's class name: whole numbers as "%.0f" writes them (written by hand
 * on the hot path), others as the shortest text that reads back. */
static void test_class_text(void **state) {
    (void)state;
    const double xs[] = {0,    -0.0, 1,     -1,   9,        10,   99,   100, 1234567890,
                         -42,  1e15 - 1,    -(1e15 - 1), 123456789012345.0, 2, 7e14,
                         0.5,  -2.25, 1e15, 3e20, 0.1};
    char buf[32], want[64];
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        mw_feature f = {.kind = MW_VALUE_NUMBER, .number = xs[i]};
        size_t len;
        const char *t = mw_labels_class_text(&f, buf, &len);
        if (xs[i] == floor(xs[i]) && fabs(xs[i]) < 1e15)
            snprintf(want, sizeof want, "%.0f", xs[i]);
        else
            assert_true(strtod(t, NULL) == xs[i]);
        if (xs[i] == floor(xs[i]) && fabs(xs[i]) < 1e15) {
            assert_int_equal(len, strlen(want));
            assert_memory_equal(t, want, len);
        }
    }
    unsigned long long u = 88172645463325252ULL; /* and many whole numbers, both signs */
    for (int i = 0; i < 100000; i++) {
        u ^= u << 13, u ^= u >> 7, u ^= u << 17;
        double x = (double)(u % 1000000000000000ULL) * (i % 2 ? -1 : 1);
        if (i % 3 == 0) x = (double)(u % 1000);
        mw_feature f = {.kind = MW_VALUE_NUMBER, .number = x};
        size_t len;
        const char *t = mw_labels_class_text(&f, buf, &len);
        snprintf(want, sizeof want, "%.0f", x);
        assert_int_equal(len, strlen(want));
        assert_memory_equal(t, want, len);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_class_text),
        cmocka_unit_test(test_join_open_and_closed_windows),
        cmocka_unit_test(test_auto_regression),
        cmocka_unit_test(test_ttl_and_bound),
        cmocka_unit_test(test_restart_rebuilds_performance),
        cmocka_unit_test(test_binary_scores),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
