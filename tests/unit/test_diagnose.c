/*
 * Diagnosis scores (report/diagnose.c): the effect size per test kind (KS as
 * is, Cramér's V for chi2, s/(1+s) for PSI, Wasserstein in reference standard
 * deviations, 1 - p for a test without one), window findings against the
 * median of earlier windows (drift, missing share, latency, error ratio,
 * estimated accuracy, outliers), change linking, time order and ranking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "report/diagnose.h"

static json_t *parse(const char *text) {
    json_error_t e;
    json_t *j = json_loads(text, 0, &e);
    if (!j) fail_msg("bad JSON in the test: %s", e.text);
    return j;
}

static void test_effect_size(void **state) {
    (void)state;
    char m[64];
    json_t *ks = parse("{\"drift\":{\"test\":\"ks\",\"statistic\":0.216,\"p_value\":1e-6}}");
    assert_float_equal(mw_diag_effect_size(ks, 300, 250, m, sizeof m), 0.216, 1e-12);
    assert_string_equal(m, "ks");
    /* chi2 46.1 over 300 + 250 - 50 missing values: V = sqrt(46.1 / 500) */
    json_t *chi = parse("{\"drift\":{\"test\":\"chi2\",\"statistic\":46.1,\"p_value\":1e-10},"
                        "\"quality\":{\"reference_missing\":20,\"current_missing\":30}}");
    assert_float_equal(mw_diag_effect_size(chi, 300, 250, m, sizeof m), sqrt(46.1 / 500), 1e-12);
    assert_string_equal(m, "Cramer's V of chi2");
    json_t *psi = parse("{\"drift\":{\"test\":\"psi\",\"statistic\":0.25}}");
    assert_float_equal(mw_diag_effect_size(psi, 1, 1, NULL, 0), 0.2, 1e-12);
    json_t *w = parse("{\"drift\":{\"test\":\"wasserstein\",\"statistic\":2},"
                      "\"quality\":{\"reference_std\":2}}");
    assert_float_equal(mw_diag_effect_size(w, 1, 1, NULL, 0), 0.5, 1e-12);
    /* a p-value-only decider takes another computed test's effect size */
    json_t *cvm = parse("{\"drift\":{\"test\":\"cvm\",\"statistic\":3,\"p_value\":0.01},"
                        "\"tests\":{\"cvm\":{\"statistic\":3},\"tvd\":{\"statistic\":0.3}}}");
    assert_float_equal(mw_diag_effect_size(cvm, 1, 1, m, sizeof m), 0.3, 1e-12);
    assert_string_equal(m, "tvd");
    json_t *only_p = parse("{\"drift\":{\"test\":\"cvm\",\"statistic\":3,\"p_value\":0.01}}");
    assert_float_equal(mw_diag_effect_size(only_p, 1, 1, m, sizeof m), 0.99, 1e-12);
    assert_string_equal(m, "1-p(cvm)");
    json_t *skipped = parse("{\"drift\":{\"test\":null,\"drifted\":false}}");
    assert_true(isnan(mw_diag_effect_size(skipped, 1, 1, NULL, 0)));
    json_decref(ks), json_decref(chi), json_decref(psi), json_decref(w), json_decref(cvm);
    json_decref(only_p), json_decref(skipped);
}

/* A window ending at `end` with one column and serving/accuracy figures. */
static json_t *window(double end, int drifted, double stat, double missing, double p99,
                      double errors, double acc) {
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"end\":%g,\"reference\":{\"rows\":100},\"current\":{\"rows\":100},"
             "\"serving\":{\"latency_ms\":{\"p99\":%g},\"error_ratio\":%g},"
             "\"estimated_performance\":{\"accuracy\":%g},"
             "\"columns\":[{\"name\":\"amount\",\"drift\":{\"test\":\"ks\",\"statistic\":%g,"
             "\"p_value\":0.001,\"drifted\":%s},\"quality\":{\"current_missing_share\":%g,"
             "\"reference_missing_share\":0}}]}",
             end, p99, errors, acc, stat, drifted ? "true" : "false", missing);
    return parse(buf);
}

static const mw_finding *find(const mw_findings *fs, const char *kind) {
    for (size_t i = 0; i < fs->n; i++)
        if (!strcmp(fs->f[i].kind, kind)) return &fs->f[i];
    return NULL;
}

static void test_window_findings(void **state) {
    (void)state;
    json_t *w[4] = {window(100, 0, 0.01, 0.01, 10, 0.00, 0.90),
                    window(200, 0, 0.02, 0.01, 12, 0.01, 0.92),
                    window(300, 0, 0.02, 0.02, 11, 0.01, 0.91),
                    window(400, 1, 0.40, 0.30, 44, 0.21, 0.82)};
    mw_findings fs = {0};
    /* windows 0..2 are baselines only: only window 3 yields findings */
    assert_true(mw_diag_windows("3", w, 4, 3, &fs));
    assert_int_equal(fs.n, 5);
    const mw_finding *f = find(&fs, "drift");
    assert_non_null(f);
    assert_string_equal(f->feature, "amount");
    assert_string_equal(f->version, "3");
    assert_float_equal(f->score, 0.4, 1e-12);
    assert_float_equal(f->time, 400, 0);
    assert_float_equal(find(&fs, "quality")->score, 0.29, 1e-12); /* 0.30 - median 0.01 */
    assert_float_equal(find(&fs, "latency")->score, 0.75, 1e-12); /* 1 - 11 / 44 */
    assert_float_equal(find(&fs, "errors")->score, 0.20, 1e-12);  /* 0.21 - 0.01 */
    assert_float_equal(find(&fs, "performance")->score, (0.91 - 0.82) / 0.91, 1e-12);
    mw_findings_free(&fs);
    /* quiet windows give nothing; the first window has no latency baseline */
    assert_true(mw_diag_windows("3", w, 3, 0, &fs));
    assert_int_equal(fs.n, 0);
    for (int i = 0; i < 4; i++) json_decref(w[i]);
    json_t *o = parse("{\"end\":5,\"outliers\":{\"share\":0.1,\"expected_share\":0.01,"
                      "\"p_value\":1e-9}}");
    assert_true(mw_diag_windows("3", &o, 1, 0, &fs));
    assert_int_equal(fs.n, 1);
    assert_float_equal(fs.f[0].score, 0.09 / 0.99, 1e-12);
    mw_findings_free(&fs);
    json_decref(o);
}

static void test_link_sort_rank(void **state) {
    (void)state;
    mw_findings fs = {0};
    assert_true(mw_findings_add(&fs, 300, "drift", "2", "amount", 0.6, "drift"));
    assert_true(mw_findings_add(&fs, 100, "alias_move", "2", NULL, 0.5, "move"));
    assert_true(mw_findings_add(&fs, 50, "version_registered", "1", NULL, 0.25, "reg"));
    assert_true(mw_findings_add(&fs, 200, "latency", "1", NULL, 1.5, "clamped"));
    assert_float_equal(fs.f[3].score, 1, 0);
    mw_diag_link_changes(&fs);
    assert_float_equal(fs.f[1].score, 0.6, 0); /* the move to 2 precedes 2's drift */
    assert_float_equal(fs.f[2].score, 1, 0);   /* 1's registration precedes its latency */
    mw_findings_sort_time(&fs);
    for (size_t i = 1; i < fs.n; i++) assert_true(fs.f[i - 1].time <= fs.f[i].time);
    const mw_finding *order[4];
    mw_findings_rank(&fs, order);
    /* 1.0 (latency, newer) before 1.0 (registration), then 0.6 (drift, newer) */
    assert_string_equal(order[0]->kind, "latency");
    assert_string_equal(order[1]->kind, "version_registered");
    assert_string_equal(order[2]->kind, "drift");
    assert_string_equal(order[3]->kind, "alias_move");
    mw_findings_free(&fs);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_effect_size),
        cmocka_unit_test(test_window_findings),
        cmocka_unit_test(test_link_sort_rank),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
