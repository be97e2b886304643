/*
 * Alert rules (src/alert/rules.h): loading a rule set from JSON with every
 * field checked and every error message naming its place; durations (parse
 * and Prometheus' format); Go's %v of a float64 as annotations print $value;
 * annotation templates ($value, $labels.X, humanize, printf); and the export
 * of the starter set as Prometheus alerting rules, checked with
 * `promtool check rules` when promtool is installed.
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

#include "alert/rules.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static json_t *parse_json(const char *text) {
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j) fail_msg("bad test JSON: %s: %s", je.text, text);
    return j;
}

/* Loads text as a rule set; fails the test when it does not load. */
static void load_ok(const char *text, mw_rule_set *set) {
    json_t *arr = parse_json(text);
    mw_error err = {0};
    mw_status st = mw_rules_from_json(arr, "rules", set, &err);
    json_decref(arr);
    if (st != MW_OK) fail_msg("rules did not load: %s", err.message);
}

/* Loads text, expecting status want; the error message goes to msg. */
static void load_bad(const char *text, mw_status want, char *msg, size_t size) {
    json_t *arr = parse_json(text);
    mw_error err = {0};
    mw_rule_set set;
    memset(&set, 0xff, sizeof set); /* must be cleared */
    mw_status st = mw_rules_from_json(arr, "rules", &set, &err);
    json_decref(arr);
    if (st != want) fail_msg("status %d (want %d) for %s: %s", st, want, text, err.message);
    assert_int_equal(err.status, want);
    assert_null(set.r);
    assert_int_equal(set.n, 0);
    snprintf(msg, size, "%s", err.message);
}

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        if (!strstr((hay), (needle))) fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
    } while (0)

/* A good first rule, so that the bad one is rules[1]. */
#define GOOD0 "{\"name\": \"Good\", \"expr\": \"up == 0\"}, "

/* ---- loading ---------------------------------------------------------------------------- */

static void test_load_valid_rule(void **state) {
    (void)state;
    mw_rule_set set;
    load_ok("[" GOOD0 "{\"name\": \"FeatureDrift\","
            " \"expr\": \"modelwatch_feature_drifted{feature=~\\\"age|income\\\"} == 1\","
            " \"for\": \"1h30m\", \"keep_firing_for\": 90,"
            " \"labels\": {\"team\": \"ml\", \"severity\": \"warning\", \"priority\": 1,"
            "             \"paging\": true},"
            " \"annotations\": {\"summary\": \"{{ $labels.feature }} drifted\","
            "                   \"description\": \"p={{ $value }}\"}}]",
            &set);
    assert_int_equal(set.n, 2);

    const mw_rule *g = &set.r[0];
    assert_string_equal(g->name, "Good");
    assert_string_equal(g->expr_text, "up == 0");
    assert_non_null(g->expr);
    assert_true(g->for_s == 0);
    assert_true(g->keep_firing_for_s == 0);
    assert_int_equal(g->nlabels, 0);
    assert_int_equal(g->nannotations, 0);

    const mw_rule *r = &set.r[1];
    assert_string_equal(r->name, "FeatureDrift");
    assert_string_equal(r->expr_text, "modelwatch_feature_drifted{feature=~\"age|income\"} == 1");
    assert_non_null(r->expr);
    const char *metrics[4];
    assert_int_equal(mw_expr_metrics(r->expr, metrics, 4), 1);
    assert_string_equal(metrics[0], "modelwatch_feature_drifted");
    assert_true(r->for_s == 5400);
    assert_true(r->keep_firing_for_s == 90);
    /* labels sorted by name; numbers and booleans taken as written */
    assert_int_equal(r->nlabels, 4);
    assert_string_equal(r->labels[0].name, "paging");
    assert_string_equal(r->labels[0].value, "true");
    assert_string_equal(r->labels[1].name, "priority");
    assert_string_equal(r->labels[1].value, "1");
    assert_string_equal(r->labels[2].name, "severity");
    assert_string_equal(r->labels[2].value, "warning");
    assert_string_equal(r->labels[3].name, "team");
    assert_string_equal(r->labels[3].value, "ml");
    assert_int_equal(r->nannotations, 2);
    assert_string_equal(r->annotations[0].name, "description");
    assert_string_equal(r->annotations[0].value, "p={{ $value }}");
    assert_string_equal(r->annotations[1].name, "summary");
    assert_string_equal(r->annotations[1].value, "{{ $labels.feature }} drifted");

    /* back to JSON with canonical durations */
    json_t *back = mw_rules_to_json(&set);
    assert_int_equal(json_array_size(back), 2);
    json_t *b1 = json_array_get(back, 1);
    assert_string_equal(json_string_value(json_object_get(b1, "name")), "FeatureDrift");
    assert_string_equal(json_string_value(json_object_get(b1, "for")), "1h30m");
    assert_string_equal(json_string_value(json_object_get(b1, "keep_firing_for")), "1m30s");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(b1, "labels"), "priority")), "1");
    json_decref(back);
    mw_rules_free(&set);
    assert_int_equal(set.n, 0);
    assert_null(set.r);

    /* null and an empty list are empty sets */
    mw_error err = {0};
    assert_int_equal(mw_rules_from_json(NULL, "rules", &set, &err), MW_OK);
    assert_int_equal(set.n, 0);
    load_ok("[]", &set);
    assert_int_equal(set.n, 0);
    mw_rules_free(&set);
}

static void test_load_alert_synonym(void **state) {
    (void)state;
    mw_rule_set set;
    load_ok("[{\"alert\": \"InstanceDown\", \"expr\": \"up == 0\", \"for\": \"5m\"}]", &set);
    assert_int_equal(set.n, 1);
    assert_string_equal(set.r[0].name, "InstanceDown");
    assert_true(set.r[0].for_s == 300);
    mw_rules_free(&set);
}

static void test_load_errors(void **state) {
    (void)state;
    char m[512];

    load_bad("[" GOOD0 "{\"expr\": \"up\"}]", MW_EINVAL, m, sizeof m);
    assert_string_equal(m, "rules[1]: name: expected a string");

    load_bad("[" GOOD0 "{\"name\": \"1bad\", \"expr\": \"up\"}]", MW_EINVAL, m, sizeof m);
    assert_contains(m, "rules[1] (1bad): name: expected [A-Za-z_][A-Za-z0-9_]*");

    load_bad("[" GOOD0 "{\"name\": \"Good\", \"expr\": \"up\"}]", MW_EINVAL, m, sizeof m);
    assert_string_equal(m, "rules[1] (Good): name: a rule of this name is already rules[0]");

    load_bad("[" GOOD0 "{\"name\": \"B\"}]", MW_EINVAL, m, sizeof m);
    assert_string_equal(m, "rules[1] (B): expr: expected a string");

    load_bad("[" GOOD0 "{\"name\": \"B\", \"expr\": \"up <<\"}]", MW_EINVAL, m, sizeof m);
    assert_contains(m, "rules[1] (B): expr: column 4: expected ");
    assert_contains(m, "found \"<<\"");

    load_bad("[" GOOD0 "{\"name\": \"B\", \"expr\": \"up\", \"for\": \"5x\"}]", MW_EINVAL, m,
             sizeof m);
    assert_contains(m, "rules[1] (B): for: \"5x\" is not a duration (e.g. ");

    load_bad("[" GOOD0 "{\"name\": \"B\", \"expr\": \"up\", \"keep_firing_for\": -1}]", MW_EINVAL,
             m, sizeof m);
    assert_contains(m, "rules[1] (B): keep_firing_for: -1 is not a duration");

    load_bad("[" GOOD0 "{\"name\": \"B\", \"expr\": \"up\", \"severity\": \"x\"}]", MW_EINVAL, m,
             sizeof m);
    assert_contains(m, "rules[1] (B): unknown key \"severity\" (expected name, expr, ");

    load_bad("[" GOOD0 "{\"name\": \"B\", \"expr\": \"up\", \"labels\": [\"a\"]}]", MW_EINVAL, m,
             sizeof m);
    assert_string_equal(m, "rules[1] (B): labels: expected a mapping of names to strings");

    load_bad("[" GOOD0 "{\"name\": \"B\", \"expr\": \"up\", \"labels\": {\"alertname\": \"x\"}}]",
             MW_EINVAL, m, sizeof m);
    assert_string_equal(m, "rules[1] (B): labels: alertname is the rule's name and cannot be set");

    load_bad("[" GOOD0 "{\"name\": \"B\", \"expr\": \"up\", \"labels\": {\"__x\": \"y\"}}]",
             MW_EINVAL, m, sizeof m);
    assert_contains(m, "rules[1] (B): labels: \"__x\" is not a valid name");

    load_bad("[" GOOD0 "{\"name\": \"B\", \"expr\": \"up\", \"labels\": {\"a\": [1]}}]", MW_EINVAL,
             m, sizeof m);
    assert_string_equal(m, "rules[1] (B): labels.a: expected a string");

    load_bad("[" GOOD0 "{\"name\": \"B\", \"expr\": \"up\","
             " \"annotations\": {\"summary\": \"value {{ $foo }} here\"}}]",
             MW_EINVAL, m, sizeof m);
    assert_contains(m, "rules[1] (B): annotations.summary: column 7: unknown template action "
                       "\"{{ $foo }}\"");

    load_bad("[" GOOD0 "{\"name\": \"B\", \"expr\": \"up\","
             " \"annotations\": {\"summary\": \"v={{ $value\"}}]",
             MW_EINVAL, m, sizeof m);
    assert_contains(m, "rules[1] (B): annotations.summary: column 3: unclosed template action "
                       "\"{{ $value\"");

    load_bad("[" GOOD0 "42]", MW_EINVAL, m, sizeof m);
    assert_string_equal(m, "rules[1]: expected a mapping with name and expr");

    load_bad("{\"name\": \"A\"}", MW_EINVAL, m, sizeof m);
    assert_string_equal(m, "rules: expected a list of rules");

    /* more than MW_RULES_MAX rules */
    json_t *arr = json_array();
    for (int i = 0; i <= MW_RULES_MAX; i++) {
        char name[32];
        snprintf(name, sizeof name, "R%d", i);
        json_array_append_new(arr, json_pack("{s:s, s:s}", "name", name, "expr", "up == 0"));
    }
    mw_rule_set set;
    mw_error err = {0};
    assert_int_equal(mw_rules_from_json(arr, "rules", &set, &err), MW_ERANGE);
    assert_string_equal(err.message, "rules: 1001 rules, at most 1000");
    assert_int_equal(set.n, 0);
    json_array_remove(arr, 0); /* exactly MW_RULES_MAX load */
    assert_int_equal(mw_rules_from_json(arr, "rules", &set, &err), MW_OK);
    assert_int_equal(set.n, MW_RULES_MAX);
    mw_rules_free(&set);
    json_decref(arr);
}

/* ---- durations ---------------------------------------------------------------------------- */

static double dur_str(const char *s) {
    json_t *j = json_string(s);
    double v = -1;
    if (!mw_duration_parse(j, &v)) fail_msg("\"%s\" rejected", s);
    json_decref(j);
    return v;
}

static int dur_rejects(json_t *j) {
    double v = 12345;
    int ok = mw_duration_parse(j, &v);
    json_decref(j);
    return !ok && v == 12345;
}

static void test_durations(void **state) {
    (void)state;
    assert_true(dur_str("0s") == 0);
    assert_true(dur_str("90s") == 90);
    assert_true(dur_str("5m") == 300);
    assert_true(dur_str("1h30m") == 5400);
    assert_true(dur_str("500ms") == 0.5);
    assert_true(dur_str("1m500ms") == 60.5);
    assert_true(dur_str("1d") == 86400);
    assert_true(dur_str("2w") == 1209600);
    assert_true(dur_str("1y") == 31536000);
    assert_true(dur_str("1w2d3h4m5s") == 604800 + 2 * 86400 + 3 * 3600 + 4 * 60 + 5);
    double v = -1;
    json_t *j = json_integer(30);
    assert_true(mw_duration_parse(j, &v) && v == 30);
    json_decref(j);
    j = json_real(1.5);
    assert_true(mw_duration_parse(j, &v) && v == 1.5);
    json_decref(j);
    j = json_integer(0);
    assert_true(mw_duration_parse(j, &v) && v == 0);
    json_decref(j);

    assert_true(dur_rejects(json_string("")));
    assert_true(dur_rejects(json_string("5x")));
    assert_true(dur_rejects(json_string("1m1h"))); /* units out of order */
    assert_true(dur_rejects(json_string("1s1s"))); /* a unit twice */
    assert_true(dur_rejects(json_string("-1s")));
    assert_true(dur_rejects(json_string("1.5s")));
    assert_true(dur_rejects(json_string("5")));
    assert_true(dur_rejects(json_string("s")));
    assert_true(dur_rejects(json_string(" 5s")));
    assert_true(dur_rejects(json_integer(-1)));
    assert_true(dur_rejects(json_real(-0.5)));
    assert_true(dur_rejects(json_true()));
    assert_true(dur_rejects(json_null()));

    static const struct {
        double s;
        const char *want;
    } fmt[] = {{0, "0s"},        {90, "1m30s"},  {5400, "1h30m"}, {1.5, "1500ms"},
               {0.5, "500ms"},   {86400, "1d"},  {604800, "1w"},  {300, "5m"},
               {31536000, "1y"}, {3601, "1h1s"}, {90000, "1d1h"}, {1, "1s"}};
    for (size_t i = 0; i < sizeof fmt / sizeof *fmt; i++) {
        char buf[64];
        mw_duration_format(fmt[i].s, buf, sizeof buf);
        if (strcmp(buf, fmt[i].want))
            fail_msg("duration %g formatted \"%s\", want \"%s\"", fmt[i].s, buf, fmt[i].want);
        /* and it reads back */
        assert_true(dur_str(buf) == fmt[i].s);
    }
}

/* ---- Go's %v of a float64 ------------------------------------------------------------------ */

static void go_float_is(double v, const char *want) {
    char buf[64];
    mw_format_go_float(v, buf, sizeof buf);
    if (strcmp(buf, want)) fail_msg("%.17g printed \"%s\", Go prints \"%s\"", v, buf, want);
}

static void test_go_float(void **state) {
    (void)state;
    go_float_is(0.001, "0.001");
    go_float_is(1e-05, "1e-05");
    go_float_is(0.0001, "0.0001");
    go_float_is(0.00012, "0.00012");
    go_float_is(1234567.0, "1.234567e+06");
    go_float_is(123456.0, "123456");
    go_float_is(123456.7, "123456.7");
    go_float_is(100.0, "100");
    go_float_is(1e6, "1e+06");
    go_float_is(0.1 + 0.2, "0.30000000000000004");
    go_float_is(-2.5, "-2.5");
    go_float_is(1e21, "1e+21");
    go_float_is(1e100, "1e+100");
    go_float_is(1.5e-300, "1.5e-300");
    go_float_is(0, "0");
    go_float_is(-0.0, "-0");
    go_float_is(1, "1");
    go_float_is(0.5, "0.5");
    go_float_is(123456789.0, "1.23456789e+08");
    go_float_is(5e-324, "5e-324");
    go_float_is(1.7976931348623157e308, "1.7976931348623157e+308");
    go_float_is(NAN, "NaN");
    go_float_is(INFINITY, "+Inf");
    go_float_is(-INFINITY, "-Inf");
    /* Powers of two, whose rounding interval is narrower below than above: Go's
     * shortest digits may lie above the nearest ones (strconv.FormatFloat). */
    go_float_is(ldexp(1, -24), "5.960464477539063e-08");
    go_float_is(ldexp(1, 89), "6.189700196426902e+26");
    go_float_is(ldexp(1, -1017), "7.120236347223045e-307");
    go_float_is(ldexp(1, 10), "1024");
    go_float_is(ldexp(1, -10), "0.0009765625");
}

/* ---- templates ---------------------------------------------------------------------------- */

static void render_is(const char *tmpl, const mw_label *l, size_t n, double value,
                      const char *want) {
    mw_error err = {0};
    if (mw_template_check(tmpl, &err)) fail_msg("template \"%s\": %s", tmpl, err.message);
    char *out = mw_template_render(tmpl, l, n, value);
    assert_non_null(out);
    if (strcmp(out, want))
        fail_msg("\"%s\" with %g rendered \"%s\", want \"%s\"", tmpl, value, out, want);
    free(out);
}

static void test_templates(void **state) {
    (void)state;
    mw_label l[] = {{"feature", "age"}, {"model", "fraud"}};
    render_is("{{ $labels.feature }} drifted: p={{ $value }}", l, 2, 0.00012,
              "age drifted: p=0.00012");
    render_is("[{{ $labels.missing }}]", l, 2, 1, "[]");
    render_is("{{$labels.model}}/{{$value}}", l, 2, 3, "fraud/3");
    render_is("{{ $value }}", NULL, 0, NAN, "NaN");
    render_is("{{ $value }}", NULL, 0, -INFINITY, "-Inf");

    static const struct {
        double v;
        const char *want;
    } hum[] = {{1234, "1.234k"},      {0.012, "12m"}, {0, "0"},
               {1e-7, "100n"},        {2e9, "2G"},    {1, "1"},
               {999, "999"},          {1000, "1k"},   {-1500, "-1.5k"},
               {123456789, "123.5M"}, {NAN, "NaN"},   {INFINITY, "+Inf"}};
    for (size_t i = 0; i < sizeof hum / sizeof *hum; i++) {
        render_is("{{ humanize $value }}", NULL, 0, hum[i].v, hum[i].want);
        render_is("{{ $value | humanize }}", NULL, 0, hum[i].v, hum[i].want);
    }

    render_is("{{ printf \"%.3f\" $value }}", NULL, 0, 0.12345, "0.123");
    render_is("{{ printf \"%.0f\" $value }}", NULL, 0, 2.5, "2");
    render_is("{{ printf \"%.2f\" $value }}", NULL, 0, 1e6, "1000000.00");
    render_is("{{ printf \"%.2f\" $value }}", NULL, 0, NAN, "NaN");
    render_is("no actions at all, {not one} }}", l, 2, 1, "no actions at all, {not one} }}");
    render_is("", l, 2, 1, "");
    render_is("{{ $labels.model }}: {{ $labels.feature }} at {{ humanize $value }} "
              "({{ printf \"%.1f\" $value }}, {{ $value }})",
              l, 2, 1234.5, "fraud: age at 1.234k (1234.5, 1234.5)");

    /* check errors carry the column of the action */
    mw_error err = {0};
    assert_int_equal(mw_template_check("ab {{ .Value }}", &err), MW_EINVAL);
    assert_int_equal(err.column, 4);
    assert_contains(err.message, "column 4: unknown template action \"{{ .Value }}\"");
    assert_int_equal(mw_template_check("{{ printf \"%d\" $value }}", &err), MW_EINVAL);
    assert_int_equal(mw_template_check("{{ $labels.1a }}", &err), MW_EINVAL);
    assert_int_equal(mw_template_check("x {{ $value }} {{", &err), MW_EINVAL);
    assert_int_equal(err.column, 16);
    assert_contains(err.message, "unclosed template action");
}

/* ---- export ------------------------------------------------------------------------------- */

/* The text of the rule named name in an export (up to the next "- alert:"). */
static char *rule_block(const char *yaml, const char *name) {
    char head[200];
    snprintf(head, sizeof head, "- alert: %s\n", name);
    const char *at = strstr(yaml, head);
    if (!at) fail_msg("no \"%s\" in the export:\n%s", head, yaml);
    const char *end = strstr(at + 1, "- alert: ");
    size_t n = end ? (size_t)(end - at) : strlen(at);
    char *b = malloc(n + 1);
    assert_non_null(b);
    memcpy(b, at, n);
    b[n] = '\0';
    return b;
}

static void test_export_starter(void **state) {
    (void)state;
    mw_rule_set set;
    mw_error err = {0};
    assert_int_equal(mw_rules_starter(&set, &err), MW_OK);
    assert_int_equal(set.n, 7);
    char *y = mw_rules_export_prometheus(&set, "modelwatch");
    assert_non_null(y);
    assert_contains(y, "groups:\n  - name: \"modelwatch\"\n    rules:\n");
    char *b = rule_block(y, "ModelDatasetDrift");
    assert_contains(b, "expr: \"modelwatch_dataset_drifted == 1\"\n");
    assert_contains(b, "for: 0s\n");
    assert_contains(b, "severity: \"warning\"\n");
    assert_contains(b, "summary: \"{{ $labels.model }}/{{ $labels.version }}: dataset drift in "
                       "the last window\"\n");
    assert_null(strstr(b, "keep_firing_for"));
    free(b);
    b = rule_block(y, "GPUMemoryHigh");
    assert_contains(b, "for: 5m\n");
    assert_contains(b, "severity: \"critical\"\n");
    free(b);
    b = rule_block(y, "ProbePassRatioLow");
    assert_contains(b, "expr: \"modelwatch_probe_pass_ratio < 0.9\"\n");
    assert_contains(b, "severity: \"warning\"\n");
    free(b);
    b = rule_block(y, "ModelAccuracyDrop");
    assert_contains(b, "expr: \"modelwatch_model_metric{metric=\\\"accuracy\\\"} < 0.9\"\n");
    assert_contains(b, "{{ printf \\\"%.3f\\\" $value }}");
    free(b);
    assert_null(strstr(y, "keep_firing_for")); /* 0 everywhere: not written */
    free(y);

    /* keep_firing_for only when > 0; an empty set */
    mw_rule_set more;
    load_ok(
        "[{\"name\": \"Kept\", \"expr\": \"x > 1\", \"for\": 90, \"keep_firing_for\": \"10m\"}]",
        &more);
    y = mw_rules_export_prometheus(&more, "g");
    assert_contains(y, "      - alert: Kept\n        expr: \"x > 1\"\n        for: 1m30s\n"
                       "        keep_firing_for: 10m\n");
    free(y);
    mw_rules_free(&more);
    mw_rule_set none = {0};
    y = mw_rules_export_prometheus(&none, "empty");
    assert_contains(y, "  - name: \"empty\"\n    rules: []\n");
    free(y);
    mw_rules_free(&set);
}

/* rollback: {model, alias}: read, checked, kept in the JSON form, exported
 * as an annotation (Prometheus has no such field). */
static void test_rollback(void **state) {
    (void)state;
    mw_rule_set set;
    load_ok("[{\"name\": \"Bad\", \"expr\": \"modelwatch_canary_worse == 1\", "
            "\"annotations\": {\"summary\": \"x\"}, "
            "\"rollback\": {\"model\": \"{{ $labels.model }}\", \"alias\": \"canary\"}}, "
            "{\"name\": \"Plain\", \"expr\": \"up == 0\"}]",
            &set);
    assert_string_equal(set.r[0].rollback_model, "{{ $labels.model }}");
    assert_string_equal(set.r[0].rollback_alias, "canary");
    assert_null(set.r[1].rollback_model); /* off by default */
    json_t *j = mw_rules_to_json(&set);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(j, 0), "rollback"), "alias")),
                        "canary");
    assert_null(json_object_get(json_array_get(j, 1), "rollback"));
    mw_rule_set again; /* round trip (PUT /api/v1/rules stores this form) */
    mw_error err = {0};
    assert_int_equal(mw_rules_from_json(j, "stored rules", &again, &err), MW_OK);
    assert_string_equal(again.r[0].rollback_model, "{{ $labels.model }}");
    mw_rules_free(&again);
    json_decref(j);
    char *y = mw_rules_export_prometheus(&set, "g");
    char *b = rule_block(y, "Bad");
    assert_contains(b,
                    "        annotations:\n          summary: \"x\"\n"
                    "          modelwatch_rollback: \"model={{ $labels.model }} alias=canary\"\n");
    assert_null(strstr(b, "\n        rollback:")); /* no such field in Prometheus */
    free(b);
    b = rule_block(y, "Plain");
    assert_null(strstr(b, "annotations"));
    free(b);
    free(y);
    mw_rules_free(&set);

    char m[512];
    load_bad("[{\"name\": \"R\", \"expr\": \"up\", \"rollback\": \"production\"}]", MW_EINVAL, m,
             sizeof m);
    assert_string_equal(m, "rules[0] (R): rollback: expected a mapping with model and alias");
    load_bad("[{\"name\": \"R\", \"expr\": \"up\", \"rollback\": {\"model\": \"m\"}}]", MW_EINVAL,
             m, sizeof m);
    assert_contains(m, "rules[0] (R): rollback.alias: expected a name or template");
    load_bad("[{\"name\": \"R\", \"expr\": \"up\", \"rollback\": {\"model\": \"m\", "
             "\"alias\": \"a\", \"version\": \"1\"}}]",
             MW_EINVAL, m, sizeof m);
    assert_contains(m, "rollback: unknown key \"version\" (expected model, alias)");
    load_bad("[{\"name\": \"R\", \"expr\": \"up\", \"rollback\": {\"model\": \"{{ $foo }}\", "
             "\"alias\": \"a\"}}]",
             MW_EINVAL, m, sizeof m);
    assert_contains(m, "rules[0] (R): rollback.model: column");
}

static void test_export_promtool(void **state) {
    (void)state;
    if (access("/usr/bin/promtool", X_OK) != 0) {
        printf("promtool not installed: skipping promtool check rules\n");
        return;
    }
    mw_rule_set set, more;
    mw_error err = {0};
    assert_int_equal(mw_rules_starter(&set, &err), MW_OK);
    load_ok("[{\"name\": \"FeatureDriftKept\","
            " \"expr\": \"modelwatch_feature_drifted{feature=~\\\"age|inc.*\\\", model!=\\\"x\\\"}"
            " == 1 and modelwatch_window_records > 100 unless modelwatch_paused == 1\","
            " \"for\": \"1500ms\", \"keep_firing_for\": \"10m\","
            " \"labels\": {\"severity\": \"page\", \"priority\": 2},"
            " \"annotations\": {\"summary\": \"{{ $labels.feature }}: \\\"{{ $value }}\\\"\\n"
            "line two: {{ $value | humanize }}\"}}]",
            &more);
    assert_int_equal(mw_rules_merge(&set, &more), MW_OK);
    assert_int_equal(set.n, 8);
    char *y = mw_rules_export_prometheus(&set, "modelwatch: starter");
    assert_non_null(y);
    assert_contains(y, "keep_firing_for: 10m\n");
    char path[] = "/tmp/mw_rules_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs(y, f);
    fclose(f);
    char cmd[256];
    snprintf(cmd, sizeof cmd, "/usr/bin/promtool check rules %s > %s.out 2>&1", path, path);
    int rc = system(cmd);
    if (rc != 0) {
        char out[4096] = "";
        snprintf(cmd, sizeof cmd, "%s.out", path);
        FILE *o = fopen(cmd, "r");
        if (o) {
            size_t n = fread(out, 1, sizeof out - 1, o);
            out[n] = '\0';
            fclose(o);
        }
        fail_msg("promtool check rules exit %d:\n%s\n--- file:\n%s", rc, out, y);
    }
    snprintf(cmd, sizeof cmd, "%s.out", path);
    unlink(cmd);
    unlink(path);
    free(y);
    mw_rules_free(&set);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_load_valid_rule), cmocka_unit_test(test_load_alert_synonym),
        cmocka_unit_test(test_load_errors),     cmocka_unit_test(test_durations),
        cmocka_unit_test(test_go_float),        cmocka_unit_test(test_templates),
        cmocka_unit_test(test_export_starter),  cmocka_unit_test(test_export_promtool),
        cmocka_unit_test(test_rollback),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
