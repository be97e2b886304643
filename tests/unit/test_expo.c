/*
 * Prometheus exposition writer: exact output for each metric type in the text
 * format 0.0.4 and OpenMetrics 1.0.0, HELP and label escaping, number
 * formatting (integers, infinities, NaN, shortest round-trip), cumulative
 * histogram buckets, label and metric name validation, the thread-safe
 * histogram under concurrent observers, content negotiation, promtool's
 * verdict on a sample exposition (when /usr/bin/promtool exists), and the time
 * to write 12,000 samples (printed, not asserted).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/expo.h"

static void fmt_is(double v, const char *want) {
    char b[32];
    size_t n = mw_expo_format_double(v, b);
    assert_string_equal(b, want);
    assert_int_equal(n, strlen(want));
}

static void test_numbers(void **state) {
    (void)state;
    fmt_is(0, "0");
    fmt_is(-0.0, "0");
    fmt_is(1, "1");
    fmt_is(-42, "-42");
    fmt_is(1234567890123.0, "1234567890123");
    fmt_is(9007199254740991.0, "9007199254740991");
    fmt_is(0.1, "0.1");
    fmt_is(0.3, "0.3");
    fmt_is(1.5, "1.5");
    fmt_is(-2.25, "-2.25");
    fmt_is(2.0 / 3.0, "0.6666666666666666");
    fmt_is(0.1 + 0.2, "0.30000000000000004");
    fmt_is(1e-7, "1e-07");
    fmt_is(0.000123, "0.000123");
    fmt_is(1e21, "1e+21");
    fmt_is(1.5e300, "1.5e+300");
    fmt_is(5e-324, "5e-324");
    fmt_is(1.7976931348623157e308, "1.7976931348623157e+308");
    fmt_is(INFINITY, "+Inf");
    fmt_is(-INFINITY, "-Inf");
    fmt_is(NAN, "NaN");
    /* every finite double reads back exactly */
    unsigned long long x = 88172645463325252ULL;
    char b[32];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        if (i % 2) {
            memcpy(&v, &x, sizeof v);
            if (!isfinite(v)) continue;
        } else {
            v = (double)(x >> 11) / 9007199254740992.0 * 1000.0;
        }
        mw_expo_format_double(v, b);
        assert_true(strtod(b, NULL) == v);
    }
}

static void test_counter_both_formats(void **state) {
    (void)state;
    const char *n[] = {"model", "version"}, *v[] = {"fraud", "3"};
    for (int om = 0; om <= 1; om++) {
        mw_expo e;
        mw_expo_init(&e, om);
        assert_int_equal(
            mw_expo_family(&e, "modelwatch_records_total", MW_EXPO_COUNTER, "Records accepted."),
            MW_OK);
        assert_int_equal(mw_expo_sample(&e, NULL, n, v, 2, 42), MW_OK);
        assert_int_equal(mw_expo_sample_u64(&e, NULL, NULL, NULL, 0, 18446744073709551615ULL),
                         MW_OK);
        assert_int_equal(mw_expo_finish(&e), MW_OK);
        if (!om) {
            assert_string_equal(e.buf,
                                "# HELP modelwatch_records_total Records accepted.\n"
                                "# TYPE modelwatch_records_total counter\n"
                                "modelwatch_records_total{model=\"fraud\",version=\"3\"} 42\n"
                                "modelwatch_records_total 18446744073709551615\n");
        } else {
            assert_string_equal(e.buf,
                                "# HELP modelwatch_records Records accepted.\n"
                                "# TYPE modelwatch_records counter\n"
                                "modelwatch_records_total{model=\"fraud\",version=\"3\"} 42\n"
                                "modelwatch_records_total 18446744073709551615\n"
                                "# EOF\n");
        }
        mw_expo_free(&e);
    }
    /* a counter named without _total gets it on the samples */
    mw_expo e;
    mw_expo_init(&e, 0);
    mw_expo_family(&e, "x_errors", MW_EXPO_COUNTER, NULL);
    mw_expo_sample(&e, NULL, NULL, NULL, 0, 1);
    assert_string_equal(e.buf, "# TYPE x_errors_total counter\nx_errors_total 1\n");
    mw_expo_free(&e);
}

static void test_gauge_untyped_info(void **state) {
    (void)state;
    const char *n[] = {"feature"}, *v[] = {"amount"};
    const char *in[] = {"version", "commit"}, *iv[] = {"0.1.0", "abc"};
    const char *want[2] = {
        "# HELP mw_psi PSI.\n"
        "# TYPE mw_psi gauge\n"
        "mw_psi{feature=\"amount\"} 0.125\n"
        "mw_psi{feature=\"amount\"} NaN\n"
        "# TYPE mw_raw untyped\n"
        "mw_raw -Inf\n"
        "# HELP mw_build_info Build.\n"
        "# TYPE mw_build_info gauge\n"
        "mw_build_info{version=\"0.1.0\",commit=\"abc\"} 1\n",
        "# HELP mw_psi PSI.\n"
        "# TYPE mw_psi gauge\n"
        "mw_psi{feature=\"amount\"} 0.125\n"
        "mw_psi{feature=\"amount\"} NaN\n"
        "# TYPE mw_raw unknown\n"
        "mw_raw -Inf\n"
        "# HELP mw_build Build.\n"
        "# TYPE mw_build info\n"
        "mw_build_info{version=\"0.1.0\",commit=\"abc\"} 1\n"
        "# EOF\n",
    };
    for (int om = 0; om <= 1; om++) {
        mw_expo e;
        mw_expo_init(&e, om);
        assert_int_equal(mw_expo_family(&e, "mw_psi", MW_EXPO_GAUGE, "PSI."), MW_OK);
        mw_expo_sample(&e, NULL, n, v, 1, 0.125);
        mw_expo_sample(&e, NULL, n, v, 1, NAN);
        mw_expo_family(&e, "mw_raw", MW_EXPO_UNTYPED, NULL);
        mw_expo_sample(&e, NULL, NULL, NULL, 0, -INFINITY);
        mw_expo_family(&e, "mw_build_info", MW_EXPO_INFO, "Build.");
        mw_expo_sample(&e, NULL, in, iv, 2, 1);
        assert_int_equal(mw_expo_finish(&e), MW_OK);
        assert_string_equal(e.buf, want[om]);
        mw_expo_free(&e);
    }
}

static void test_escaping(void **state) {
    (void)state;
    const char *n[] = {"path"}, *v[] = {"a\\b\"c\nd"};
    mw_expo e;
    mw_expo_init(&e, 0);
    mw_expo_family(&e, "mw_g", MW_EXPO_GAUGE, "Back\\slash, new\nline and \"quotes\".");
    mw_expo_sample(&e, NULL, n, v, 1, 2);
    assert_string_equal(e.buf, "# HELP mw_g Back\\\\slash, new\\nline and \"quotes\".\n"
                               "# TYPE mw_g gauge\n"
                               "mw_g{path=\"a\\\\b\\\"c\\nd\"} 2\n");
    mw_expo_free(&e);
    mw_expo_init(&e, 1);
    mw_expo_family(&e, "mw_g", MW_EXPO_GAUGE, "say \"hi\"\n");
    assert_string_equal(e.buf, "# HELP mw_g say \\\"hi\\\"\\n\n# TYPE mw_g gauge\n");
    mw_expo_free(&e);
}

static void test_histogram(void **state) {
    (void)state;
    const double bounds[] = {0.1, 0.5, 1};
    const uint64_t counts[] = {2, 0, 3, 1};
    const char *n[] = {"route"}, *v[] = {"/x"};
    const char *want = "# HELP mw_lat_seconds Latency.\n"
                       "# TYPE mw_lat_seconds histogram\n"
                       "mw_lat_seconds_bucket{route=\"/x\",le=\"0.1\"} 2\n"
                       "mw_lat_seconds_bucket{route=\"/x\",le=\"0.5\"} 2\n"
                       "mw_lat_seconds_bucket{route=\"/x\",le=\"1\"} 5\n"
                       "mw_lat_seconds_bucket{route=\"/x\",le=\"+Inf\"} 6\n"
                       "mw_lat_seconds_sum{route=\"/x\"} 7.25\n"
                       "mw_lat_seconds_count{route=\"/x\"} 6\n"
                       "mw_lat_seconds_bucket{le=\"+Inf\"} 0\n"
                       "mw_lat_seconds_sum 0\n"
                       "mw_lat_seconds_count 0\n";
    for (int om = 0; om <= 1; om++) {
        mw_expo e;
        mw_expo_init(&e, om);
        mw_expo_family(&e, "mw_lat_seconds", MW_EXPO_HISTOGRAM, "Latency.");
        assert_int_equal(mw_expo_histogram(&e, n, v, 1, bounds, 3, counts, 7.25), MW_OK);
        uint64_t zero = 0;
        assert_int_equal(mw_expo_histogram(&e, NULL, NULL, 0, NULL, 0, &zero, 0), MW_OK);
        mw_expo_finish(&e);
        char full[1024];
        snprintf(full, sizeof full, "%s%s", want, om ? "# EOF\n" : "");
        assert_string_equal(e.buf, full);
        mw_expo_free(&e);
    }
    /* mw_histo: le semantics (v == bound goes in that bucket), NaN ignored */
    mw_histo *h;
    assert_int_equal(mw_histo_new(bounds, 3, &h), MW_OK);
    double obs[] = {0.05, 0.1, 0.3, 1, 2, NAN, -1};
    for (size_t i = 0; i < sizeof obs / sizeof *obs; i++)
        mw_histo_observe(h, obs[i]);
    uint64_t c[4];
    double sum;
    assert_int_equal(mw_histo_snapshot(h, c, &sum), 6);
    assert_int_equal(c[0], 3);
    assert_int_equal(c[1], 1);
    assert_int_equal(c[2], 1);
    assert_int_equal(c[3], 1);
    assert_true(fabs(sum - 2.45) < 1e-12);
    mw_expo e;
    mw_expo_init(&e, 0);
    mw_expo_family(&e, "h", MW_EXPO_HISTOGRAM, NULL);
    assert_int_equal(mw_expo_histo(&e, NULL, NULL, 0, h), MW_OK);
    assert_string_equal(e.buf, "# TYPE h histogram\n"
                               "h_bucket{le=\"0.1\"} 3\n"
                               "h_bucket{le=\"0.5\"} 4\n"
                               "h_bucket{le=\"1\"} 5\n"
                               "h_bucket{le=\"+Inf\"} 6\n"
                               "h_sum 2.45\n"
                               "h_count 6\n");
    mw_expo_free(&e);
    mw_histo_free(h);
    mw_histo_free(NULL);
    const double bad[] = {1, 1};
    assert_int_equal(mw_histo_new(bad, 2, &h), MW_EINVAL);
    assert_null(h);
    const double badinf[] = {1, INFINITY};
    assert_int_equal(mw_histo_new(badinf, 2, &h), MW_EINVAL);
}

static void test_validation(void **state) {
    (void)state;
    assert_true(mw_expo_valid_label_name("a"));
    assert_true(mw_expo_valid_label_name("_x9"));
    assert_false(mw_expo_valid_label_name(""));
    assert_false(mw_expo_valid_label_name("9a"));
    assert_false(mw_expo_valid_label_name("a-b"));
    assert_false(mw_expo_valid_label_name("a:b"));
    assert_false(mw_expo_valid_label_name("__name__"));
    assert_true(mw_expo_valid_metric_name("a:b_c"));
    assert_false(mw_expo_valid_metric_name("1a"));
    assert_false(mw_expo_valid_metric_name("a b"));

    mw_expo e;
    mw_expo_init(&e, 0);
    /* sample before any family */
    assert_int_equal(mw_expo_sample(&e, NULL, NULL, NULL, 0, 1), MW_EINVAL);
    assert_int_equal(mw_expo_family(&e, "bad name", MW_EXPO_GAUGE, NULL), MW_EINVAL);
    assert_int_equal(mw_expo_sample(&e, NULL, NULL, NULL, 0, 1), MW_EINVAL);
    assert_int_equal(e.len, 0);
    mw_expo_family(&e, "g", MW_EXPO_GAUGE, NULL);
    size_t mark = e.len;
    const char *n1[] = {"bad-label"}, *v1[] = {"x"};
    assert_int_equal(mw_expo_sample(&e, NULL, n1, v1, 1, 1), MW_EINVAL);
    const char *n2[] = {"a", "a"}, *v2[] = {"x", "y"};
    assert_int_equal(mw_expo_sample(&e, NULL, n2, v2, 2, 1), MW_EINVAL);
    const char *n3[] = {"a"}, *v3[] = {NULL};
    assert_int_equal(mw_expo_sample(&e, NULL, n3, v3, 1, 1), MW_EINVAL);
    assert_int_equal(mw_expo_sample(&e, "_x y", NULL, NULL, 0, 1), MW_EINVAL);
    assert_int_equal(e.len, mark); /* nothing written */
    assert_int_equal(e.errors, 7); /* 4 bad samples above + 3 before */
    /* histogram: "le" is reserved, bounds must increase, only on histograms */
    uint64_t c[2] = {1, 1};
    double b1 = 1;
    assert_int_equal(mw_expo_histogram(&e, NULL, NULL, 0, &b1, 1, c, 1), MW_EINVAL);
    mw_expo_family(&e, "h", MW_EXPO_HISTOGRAM, NULL);
    const char *nl[] = {"le"}, *vl[] = {"1"};
    assert_int_equal(mw_expo_histogram(&e, nl, vl, 1, &b1, 1, c, 1), MW_EINVAL);
    assert_int_equal(mw_expo_sample(&e, "_bucket", nl, vl, 1, 1), MW_EINVAL);
    double b2[] = {2, 1};
    uint64_t c3[3] = {0};
    assert_int_equal(mw_expo_histogram(&e, NULL, NULL, 0, b2, 2, c3, 0), MW_EINVAL);
    assert_string_equal(e.buf, "# TYPE g gauge\n# TYPE h histogram\n");
    char *p;
    size_t len;
    p = mw_expo_take(&e, &len);
    assert_non_null(p);
    assert_int_equal(len, strlen("# TYPE g gauge\n# TYPE h histogram\n"));
    free(p);
    assert_int_equal(e.len, 0);
    mw_expo_free(&e);
    mw_expo_free(&e); /* twice is fine */
}

static void test_negotiation(void **state) {
    (void)state;
    assert_false(mw_expo_wants_openmetrics(NULL));
    assert_false(mw_expo_wants_openmetrics(""));
    assert_false(mw_expo_wants_openmetrics("text/plain"));
    assert_true(mw_expo_wants_openmetrics("application/openmetrics-text"));
    assert_true(mw_expo_wants_openmetrics(
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
        "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"));
    assert_true(mw_expo_wants_openmetrics("text/plain, Application/OpenMetrics-Text; q=0.3"));
    assert_false(mw_expo_wants_openmetrics("application/openmetrics-text;q=0"));
    assert_false(mw_expo_wants_openmetrics("application/openmetrics-textual"));
    assert_string_equal(mw_expo_content_type(0), "text/plain; version=0.0.4; charset=utf-8");
    assert_string_equal(mw_expo_content_type(1),
                        "application/openmetrics-text; version=1.0.0; charset=utf-8");
}

typedef struct {
    mw_histo *h;
    int id;
} obs_arg;

static void *observer(void *p) {
    obs_arg *a = p;
    for (int i = 0; i < 100000; i++)
        mw_histo_observe(a->h, (double)((i + a->id) % 4) * 0.5);
    return NULL;
}

static void test_histo_threads(void **state) {
    (void)state;
    const double b[] = {0.5, 1};
    mw_histo *h;
    assert_int_equal(mw_histo_new(b, 2, &h), MW_OK);
    pthread_t t[4];
    obs_arg args[4];
    for (int i = 0; i < 4; i++) {
        args[i] = (obs_arg){h, i};
        pthread_create(&t[i], NULL, observer, &args[i]);
    }
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    uint64_t c[3];
    double sum;
    assert_int_equal(mw_histo_snapshot(h, c, &sum), 400000);
    /* values 0, .5, 1, 1.5 equally often */
    assert_int_equal(c[0], 200000);
    assert_int_equal(c[1], 100000);
    assert_int_equal(c[2], 100000);
    assert_true(sum == 300000.0);
    mw_histo_free(h);
}

static char g_models[100][16], g_features[20][16];

/* Writes the 100 models x 20 features x 6 series exposition (label values
 * prepared beforehand, as a caller holding model and feature names would). */
static void write_big(mw_expo *e, mw_histo *h) {
    static const char *fams[6] = {"modelwatch_drift_statistic", "modelwatch_drift_pvalue",
                                  "modelwatch_drift_detected",  "modelwatch_missing_values_total",
                                  "modelwatch_values_total",    "modelwatch_psi"};
    static const mw_expo_type types[6] = {MW_EXPO_GAUGE,   MW_EXPO_GAUGE,   MW_EXPO_GAUGE,
                                          MW_EXPO_COUNTER, MW_EXPO_COUNTER, MW_EXPO_GAUGE};
    if (!g_models[0][0]) {
        for (int m = 0; m < 100; m++)
            snprintf(g_models[m], sizeof g_models[m], "model_%d", m);
        for (int k = 0; k < 20; k++)
            snprintf(g_features[k], sizeof g_features[k], "feature_%d", k);
    }
    const char *names[4] = {"model", "version", "feature", "test"};
    const char *values[4] = {NULL, "3", NULL, "ks"};
    for (int f = 0; f < 6; f++) {
        mw_expo_family(e, fams[f], types[f], "Per-feature drift and quality (test family).");
        for (int m = 0; m < 100; m++) {
            values[0] = g_models[m];
            for (int k = 0; k < 20; k++) {
                values[2] = g_features[k];
                double v = f == 2   ? (double)((m + k) % 2)
                           : f >= 3 ? (double)(m * 1000 + k * 7)
                                    : (double)(m * 20 + k + 1) / 7919.0;
                mw_expo_sample(e, NULL, names, values, 4, v);
            }
        }
    }
    mw_expo_family(e, "modelwatch_request_duration_seconds", MW_EXPO_HISTOGRAM, "Latency.");
    mw_expo_histo(e, NULL, NULL, 0, h);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void test_timing_12000(void **state) {
    (void)state;
    mw_histo *h;
    mw_histo_new(mw_histo_default_seconds, 11, &h);
    for (int i = 0; i < 1000; i++)
        mw_histo_observe(h, i * 0.001);
    for (int om = 0; om <= 1; om++) {
        mw_expo e;
        mw_expo_init(&e, om);
        double best = 1e9;
        size_t len = 0;
        for (int rep = 0; rep < 5; rep++) {
            mw_expo_reset(&e);
            double t0 = now_s();
            write_big(&e, h);
            mw_expo_finish(&e);
            double t = now_s() - t0;
            if (t < best) best = t;
            len = e.len;
        }
        assert_int_equal(e.errors, 0);
        assert_false(e.failed);
        /* count sample lines */
        size_t lines = 0;
        for (size_t i = 0; i < e.len; i++)
            if (e.buf[i] == '\n' && i + 1 < e.len && e.buf[i + 1] != '#') lines++;
        assert_true(lines >= 12000);
        printf("expo timing (%s): 12,000 samples + 1 histogram, %zu bytes in %.3f ms "
               "(best of 5)\n",
               om ? "OpenMetrics" : "text 0.0.4", len, best * 1e3);
        mw_expo_free(&e);
    }
    mw_histo_free(h);
}

static void test_promtool(void **state) {
    (void)state;
    if (access("/usr/bin/promtool", X_OK) != 0) {
        printf("note: /usr/bin/promtool not found, promtool check skipped\n");
        return;
    }
    mw_histo *h;
    mw_histo_new(mw_histo_default_seconds, 11, &h);
    mw_histo_observe(h, 0.02);
    mw_expo e;
    mw_expo_init(&e, 0);
    write_big(&e, h);
    const char *n[] = {"path", "version"}, *v[] = {"a\\b\"c\nd", "1"};
    mw_expo_family(&e, "modelwatch_build_info", MW_EXPO_INFO, "Build \\ info\nsecond line.");
    mw_expo_sample(&e, NULL, n, v, 2, 1);
    mw_expo_family(&e, "modelwatch_special", MW_EXPO_GAUGE, "Special values.");
    const char *sn[] = {"k"};
    const char *sv1[] = {"nan"}, *sv2[] = {"inf"}, *sv3[] = {"ninf"}, *sv4[] = {"tiny"};
    mw_expo_sample(&e, NULL, sn, sv1, 1, NAN);
    mw_expo_sample(&e, NULL, sn, sv2, 1, INFINITY);
    mw_expo_sample(&e, NULL, sn, sv3, 1, -INFINITY);
    mw_expo_sample(&e, NULL, sn, sv4, 1, 1e-300);
    mw_expo_finish(&e);
    char path[] = "/tmp/mw_expo_promtool_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fwrite(e.buf, 1, e.len, f);
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "/usr/bin/promtool check metrics < %s 2>&1", path);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    char out[4096];
    size_t got = fread(out, 1, sizeof out - 1, p);
    out[got] = '\0';
    int rc = pclose(p);
    unlink(path);
    if (rc != 0) printf("promtool said:\n%s\n", out);
    /* promtool exits 0 when the text parses and lints clean, 3 on lint
     * problems only, 1 on parse errors */
    assert_int_equal(rc, 0);
    printf("promtool check metrics: ok (%zu bytes)\n", e.len);
    mw_expo_free(&e);
    mw_histo_free(h);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_counter_both_formats),
        cmocka_unit_test(test_gauge_untyped_info),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_validation),
        cmocka_unit_test(test_negotiation),
        cmocka_unit_test(test_histo_threads),
        cmocka_unit_test(test_timing_12000),
        cmocka_unit_test(test_promtool),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
