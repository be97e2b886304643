/*
 * The alert state machine (src/alert/alert.h) driven by an injected clock:
 * samples are small exposition pages parsed with mw_samples_parse, and
 * mw_alert_engine_eval runs at chosen times, so no test sleeps. Covers
 * inactive -> pending -> firing -> resolved with for and keep_firing_for,
 * one alert per label set, no data versus no match, replaced rules, resolved
 * retention, the saved state restored into a fresh engine, and the notice
 * sent to notifiers (RFC 3339 times).
 */
#define _DEFAULT_SOURCE /* timegm */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "alert/alert.h"

/* ---- helpers ---------------------------------------------------------------------------- */

static void rules_from(const char *text, mw_rule_set *set) {
    json_error_t je;
    json_t *arr = json_loads(text, 0, &je);
    if (!arr) fail_msg("bad test JSON: %s", je.text);
    mw_error err = {0};
    mw_status st = mw_rules_from_json(arr, "rules", set, &err);
    json_decref(arr);
    if (st) fail_msg("rules: %s", err.message);
}

static void engine_with(mw_alert_engine *e, const char *rules_json) {
    mw_alert_engine_init(e);
    assert_true(e->resolved_retention_s == 900);
    mw_rule_set set;
    rules_from(rules_json, &set);
    mw_alert_engine_set_rules(e, &set);
    assert_int_equal(set.n, 0); /* taken */
}

/* Evaluates over the exposition text at now; tr is cleared first. */
static void eval_at(mw_alert_engine *e, const char *expo, double now, mw_alert_transitions *tr) {
    mw_sample_set s = {0};
    mw_error err = {0};
    if (mw_samples_parse(expo, strlen(expo), &s, &err)) fail_msg("samples: %s", err.message);
    mw_alert_transitions_free(tr);
    if (mw_alert_engine_eval(e, &s, now, tr, &err)) fail_msg("eval: %s", err.message);
    mw_samples_free(&s);
}

/* The alert of rule whose label name has value value, or NULL. */
static mw_alert *find(mw_alert_engine *e, const char *rule, const char *name, const char *value) {
    for (size_t i = 0; i < e->n; i++) {
        mw_alert *a = &e->alerts[i];
        if (strcmp(a->rule, rule)) continue;
        for (size_t j = 0; j < a->nlabels; j++)
            if (!strcmp(a->labels[j].name, name) && !strcmp(a->labels[j].value, value)) return a;
    }
    return NULL;
}

static const char *annotation(const mw_alert *a, const char *name) {
    for (size_t i = 0; i < a->nannotations; i++)
        if (!strcmp(a->annotations[i].name, name)) return a->annotations[i].value;
    return NULL;
}

static void assert_transition(const mw_alert_transitions *tr, size_t i, const char *rule,
                              mw_alert_state from, mw_alert_state to, double at) {
    assert_true(i < tr->n);
    const mw_alert_transition *t = &tr->t[i];
    assert_string_equal(t->rule, rule);
    if (t->from != from || t->to != to)
        fail_msg("transition %zu: %s -> %s, want %s -> %s", i, mw_alert_state_name(t->from),
                 mw_alert_state_name(t->to), mw_alert_state_name(from), mw_alert_state_name(to));
    assert_true(t->at == at);
}

#define DRIFT_RULE(for_, keep)                                                                     \
    "[{\"name\": \"Drift\", \"expr\": \"drift == 1\", \"for\": \"" for_                            \
    "\", \"keep_firing_for\": \"" keep "\", \"annotations\": {\"summary\": "                       \
    "\"{{ $labels.feature }} drifted ({{ $value }})\"}}]"

/* ---- for = 0 ------------------------------------------------------------------------------ */

static void test_fires_at_once(void **state) {
    (void)state;
    mw_alert_engine e;
    engine_with(&e,
                "[{\"name\": \"Drift\", \"expr\": \"drift > 0.5\","
                " \"labels\": {\"severity\": \"warning\", \"team\": \"ml\"},"
                " \"annotations\": {\"summary\": \"{{ $labels.feature }} drifted: "
                "p={{ $value }}\", \"sev\": \"[{{ $labels.severity }}|{{ $labels.team }}]\"}}]");
    mw_alert_transitions tr = {0};
    eval_at(&e, "drift{model=\"m\",feature=\"age\",severity=\"info\"} 0.75\n", 1000, &tr);
    assert_int_equal(e.evaluations, 1);
    assert_int_equal(e.no_data[0], 0);
    assert_int_equal(tr.n, 1);
    assert_transition(&tr, 0, "Drift", MW_ALERT_INACTIVE, MW_ALERT_FIRING, 1000);
    assert_true(tr.t[0].value == 0.75);
    assert_int_equal(e.n, 1);
    mw_alert *a = &e.alerts[0];
    assert_string_equal(a->rule, "Drift");
    assert_int_equal(a->state, MW_ALERT_FIRING);
    assert_true(a->value == 0.75);
    assert_true(a->active_at == 1000 && a->fired_at == 1000 && a->last_seen == 1000);
    assert_true(a->resolved_at == 0 && a->missing_since == 0);
    /* result labels, rule labels (severity overrides the result's), alertname; sorted */
    static const char *const want[][2] = {{"alertname", "Drift"},
                                          {"feature", "age"},
                                          {"model", "m"},
                                          {"severity", "warning"},
                                          {"team", "ml"}};
    assert_int_equal(a->nlabels, 5);
    for (size_t i = 0; i < 5; i++) {
        assert_string_equal(a->labels[i].name, want[i][0]);
        assert_string_equal(a->labels[i].value, want[i][1]);
    }
    assert_string_equal(a->key, "{\"alertname\":\"Drift\",\"feature\":\"age\",\"model\":\"m\","
                                "\"severity\":\"warning\",\"team\":\"ml\"}");
    assert_string_equal(tr.t[0].key, a->key);
    /* annotations rendered with the value; $labels are the result's, as Prometheus */
    assert_int_equal(a->nannotations, 2);
    assert_string_equal(annotation(a, "summary"), "age drifted: p=0.75");
    assert_string_equal(annotation(a, "sev"), "[info|]");

    /* next evaluation, still true with a new value: no transition, annotation re-rendered */
    eval_at(&e, "drift{model=\"m\",feature=\"age\",severity=\"info\"} 1234567\n", 1060, &tr);
    assert_int_equal(tr.n, 0);
    a = &e.alerts[0];
    assert_int_equal(a->state, MW_ALERT_FIRING);
    assert_true(a->active_at == 1000 && a->fired_at == 1000 && a->last_seen == 1060);
    assert_string_equal(annotation(a, "summary"), "age drifted: p=1.234567e+06");
    assert_string_equal(mw_alert_state_name(MW_ALERT_PENDING), "pending");
    assert_string_equal(mw_alert_state_name(MW_ALERT_RESOLVED), "resolved");
    mw_alert_transitions_free(&tr);
    mw_alert_engine_free(&e);
}

/* ---- for = 60s ---------------------------------------------------------------------------- */

static void test_pending_then_firing(void **state) {
    (void)state;
    mw_alert_engine e;
    engine_with(&e, DRIFT_RULE("60s", "0s"));
    mw_alert_transitions tr = {0};
    const char *on = "drift{feature=\"age\"} 1\n", *off = "drift{feature=\"age\"} 0\n";

    eval_at(&e, on, 0.5, &tr);
    assert_int_equal(tr.n, 1);
    assert_transition(&tr, 0, "Drift", MW_ALERT_INACTIVE, MW_ALERT_PENDING, 0.5);
    assert_int_equal(e.n, 1);
    assert_int_equal(e.alerts[0].state, MW_ALERT_PENDING);
    assert_true(e.alerts[0].active_at == 0.5 && e.alerts[0].fired_at == 0);
    assert_string_equal(annotation(&e.alerts[0], "summary"), "age drifted (1)");

    eval_at(&e, on, 60.4, &tr);
    assert_int_equal(tr.n, 0);
    assert_int_equal(e.alerts[0].state, MW_ALERT_PENDING);

    eval_at(&e, on, 60.5, &tr);
    assert_int_equal(tr.n, 1);
    assert_transition(&tr, 0, "Drift", MW_ALERT_PENDING, MW_ALERT_FIRING, 60.5);
    assert_int_equal(e.alerts[0].state, MW_ALERT_FIRING);
    assert_true(e.alerts[0].active_at == 0.5 && e.alerts[0].fired_at == 60.5);
    mw_alert_engine_free(&e);

    /* disappears while pending: pending -> inactive, and it is gone */
    engine_with(&e, DRIFT_RULE("60s", "0s"));
    eval_at(&e, on, 0, &tr);
    eval_at(&e, on, 30, &tr);
    assert_int_equal(tr.n, 0);
    eval_at(&e, off, 59, &tr);
    assert_int_equal(tr.n, 1);
    assert_transition(&tr, 0, "Drift", MW_ALERT_PENDING, MW_ALERT_INACTIVE, 59);
    assert_int_equal(e.n, 0);
    /* back: pending again from the new time, not firing */
    eval_at(&e, on, 70, &tr);
    assert_int_equal(tr.n, 1);
    assert_transition(&tr, 0, "Drift", MW_ALERT_INACTIVE, MW_ALERT_PENDING, 70);
    assert_true(e.alerts[0].active_at == 70);
    mw_alert_transitions_free(&tr);
    mw_alert_engine_free(&e);
}

/* ---- resolving ---------------------------------------------------------------------------- */

static void test_resolve_retention_return(void **state) {
    (void)state;
    mw_alert_engine e;
    engine_with(&e, DRIFT_RULE("0s", "0s"));
    e.resolved_retention_s = 300;
    mw_alert_transitions tr = {0};
    const char *on = "drift{feature=\"age\"} 1\n", *off = "drift{feature=\"age\"} 0\n";

    eval_at(&e, on, 0, &tr);
    assert_int_equal(e.alerts[0].state, MW_ALERT_FIRING);
    eval_at(&e, off, 10, &tr);
    assert_int_equal(tr.n, 1);
    assert_transition(&tr, 0, "Drift", MW_ALERT_FIRING, MW_ALERT_RESOLVED, 10);
    assert_true(tr.t[0].value == 1); /* the last value seen */
    assert_int_equal(e.n, 1);
    assert_int_equal(e.alerts[0].state, MW_ALERT_RESOLVED);
    assert_true(e.alerts[0].resolved_at == 10);
    /* kept for resolved_retention_s, then forgotten (no transition) */
    eval_at(&e, off, 309, &tr);
    assert_int_equal(tr.n, 0);
    assert_int_equal(e.n, 1);
    eval_at(&e, off, 310, &tr);
    assert_int_equal(tr.n, 0);
    assert_int_equal(e.n, 0);

    /* comes back while still kept resolved: a new alert */
    eval_at(&e, on, 400, &tr);
    eval_at(&e, off, 410, &tr);
    assert_int_equal(e.alerts[0].state, MW_ALERT_RESOLVED);
    eval_at(&e, on, 420, &tr);
    assert_int_equal(tr.n, 1);
    assert_transition(&tr, 0, "Drift", MW_ALERT_INACTIVE, MW_ALERT_FIRING, 420);
    assert_int_equal(e.n, 1);
    mw_alert *a = &e.alerts[0];
    assert_int_equal(a->state, MW_ALERT_FIRING);
    assert_true(a->active_at == 420 && a->fired_at == 420 && a->resolved_at == 0);
    mw_alert_transitions_free(&tr);
    mw_alert_engine_free(&e);
}

static void test_keep_firing_for(void **state) {
    (void)state;
    mw_alert_engine e;
    mw_alert_transitions tr = {0};
    const char *on = "drift{feature=\"age\"} 1\n", *off = "drift{feature=\"age\"} 0\n";

    engine_with(&e, DRIFT_RULE("0s", "2m"));
    eval_at(&e, on, 0, &tr);
    eval_at(&e, off, 10, &tr);
    assert_int_equal(tr.n, 0);
    assert_int_equal(e.alerts[0].state, MW_ALERT_FIRING);
    assert_true(e.alerts[0].missing_since == 10);
    assert_true(e.alerts[0].last_seen == 0);
    eval_at(&e, off, 129.9, &tr);
    assert_int_equal(tr.n, 0);
    assert_int_equal(e.alerts[0].state, MW_ALERT_FIRING);
    assert_true(e.alerts[0].missing_since == 10);
    eval_at(&e, off, 130, &tr);
    assert_int_equal(tr.n, 1);
    assert_transition(&tr, 0, "Drift", MW_ALERT_FIRING, MW_ALERT_RESOLVED, 130);
    assert_true(e.alerts[0].resolved_at == 130);
    mw_alert_engine_free(&e);

    /* back at t=100: missing_since reset, stays firing; the clock restarts */
    engine_with(&e, DRIFT_RULE("0s", "2m"));
    eval_at(&e, on, 0, &tr);
    eval_at(&e, off, 10, &tr);
    eval_at(&e, on, 100, &tr);
    assert_int_equal(tr.n, 0);
    assert_int_equal(e.alerts[0].state, MW_ALERT_FIRING);
    assert_true(e.alerts[0].missing_since == 0);
    assert_true(e.alerts[0].fired_at == 0 && e.alerts[0].active_at == 0);
    eval_at(&e, off, 110, &tr);
    eval_at(&e, off, 229, &tr);
    assert_int_equal(tr.n, 0);
    assert_int_equal(e.alerts[0].state, MW_ALERT_FIRING);
    assert_true(e.alerts[0].missing_since == 110);
    eval_at(&e, off, 230, &tr);
    assert_int_equal(tr.n, 1);
    assert_transition(&tr, 0, "Drift", MW_ALERT_FIRING, MW_ALERT_RESOLVED, 230);
    mw_alert_transitions_free(&tr);
    mw_alert_engine_free(&e);
}

/* ---- label sets, no data, rule changes ------------------------------------------------------ */

static void test_one_alert_per_label_set(void **state) {
    (void)state;
    mw_alert_engine e;
    engine_with(&e, DRIFT_RULE("0s", "0s"));
    mw_alert_transitions tr = {0};
    eval_at(&e, "drift{feature=\"age\"} 1\ndrift{feature=\"income\"} 1\ndrift{feature=\"zip\"} 0\n",
            0, &tr);
    assert_int_equal(tr.n, 2);
    assert_int_equal(e.n, 2);
    mw_alert *age = find(&e, "Drift", "feature", "age");
    mw_alert *inc = find(&e, "Drift", "feature", "income");
    assert_non_null(age);
    assert_non_null(inc);
    assert_null(find(&e, "Drift", "feature", "zip"));
    assert_string_not_equal(age->key, inc->key);
    assert_string_equal(annotation(inc, "summary"), "income drifted (1)");

    eval_at(&e, "drift{feature=\"age\"} 1\ndrift{feature=\"income\"} 0\n", 60, &tr);
    assert_int_equal(tr.n, 1);
    assert_transition(&tr, 0, "Drift", MW_ALERT_FIRING, MW_ALERT_RESOLVED, 60);
    assert_string_equal(tr.t[0].key, "{\"alertname\":\"Drift\",\"feature\":\"income\"}");
    assert_int_equal(find(&e, "Drift", "feature", "age")->state, MW_ALERT_FIRING);
    assert_int_equal(find(&e, "Drift", "feature", "income")->state, MW_ALERT_RESOLVED);
    mw_alert_transitions_free(&tr);
    mw_alert_engine_free(&e);
}

static void test_no_data_versus_no_match(void **state) {
    (void)state;
    mw_alert_engine e;
    engine_with(&e, "[{\"name\": \"Drift\", \"expr\": \"drift == 1\"},"
                    " {\"name\": \"Slow\", \"expr\": \"latency > 1 and up == 1\"}]");
    mw_alert_transitions tr = {0};
    eval_at(&e, "drift{feature=\"age\"} 1\nlatency 2\nup 1\n", 0, &tr);
    assert_int_equal(tr.n, 2);
    assert_int_equal(e.n, 2);

    /* no sample at all of drift, nor of up: both rules skipped, alerts kept firing */
    eval_at(&e, "latency 2\nother 1\n", 60, &tr);
    assert_int_equal(tr.n, 0);
    assert_int_equal(e.no_data[0], 1);
    assert_int_equal(e.no_data[1], 1);
    assert_int_equal(find(&e, "Drift", "feature", "age")->state, MW_ALERT_FIRING);
    assert_int_equal(find(&e, "Slow", "alertname", "Slow")->state, MW_ALERT_FIRING);
    assert_true(find(&e, "Drift", "feature", "age")->last_seen == 0);
    eval_at(&e, "", 120, &tr); /* an empty page too */
    assert_int_equal(tr.n, 0);
    assert_int_equal(e.n, 2);

    /* samples, none matching: resolved */
    eval_at(&e, "drift{feature=\"age\"} 0\nlatency 2\nup 1\n", 180, &tr);
    assert_int_equal(e.no_data[0], 0);
    assert_int_equal(e.no_data[1], 0);
    assert_int_equal(tr.n, 1);
    assert_transition(&tr, 0, "Drift", MW_ALERT_FIRING, MW_ALERT_RESOLVED, 180);
    assert_int_equal(find(&e, "Slow", "alertname", "Slow")->state, MW_ALERT_FIRING);
    mw_alert_transitions_free(&tr);
    mw_alert_engine_free(&e);
}

static void test_rules_replaced(void **state) {
    (void)state;
    mw_alert_engine e;
    engine_with(&e, "[{\"name\": \"A\", \"expr\": \"x == 1\"},"
                    " {\"name\": \"B\", \"expr\": \"x == 1\", \"keep_firing_for\": \"1h\"},"
                    " {\"name\": \"C\", \"expr\": \"x == 1\", \"for\": \"1h\"}]");
    mw_alert_transitions tr = {0};
    const char *on = "x{k=\"1\"} 1\n";
    eval_at(&e, on, 0, &tr);
    assert_int_equal(tr.n, 3);
    assert_int_equal(e.n, 3);
    assert_int_equal(find(&e, "C", "k", "1")->state, MW_ALERT_PENDING);

    mw_rule_set only_a;
    rules_from("[{\"name\": \"A\", \"expr\": \"x == 1\"}]", &only_a);
    mw_alert_engine_set_rules(&e, &only_a);
    assert_int_equal(e.rules.n, 1);
    assert_int_equal(e.n, 3); /* nothing changes before the next evaluation */

    eval_at(&e, on, 60, &tr);
    /* B resolves at once (its keep_firing_for went with it), C goes inactive */
    assert_int_equal(tr.n, 2);
    assert_transition(&tr, 0, "B", MW_ALERT_FIRING, MW_ALERT_RESOLVED, 60);
    assert_transition(&tr, 1, "C", MW_ALERT_PENDING, MW_ALERT_INACTIVE, 60);
    assert_int_equal(e.n, 2);
    assert_int_equal(find(&e, "A", "k", "1")->state, MW_ALERT_FIRING);
    assert_int_equal(find(&e, "B", "k", "1")->state, MW_ALERT_RESOLVED);
    assert_null(find(&e, "C", "k", "1"));
    eval_at(&e, on, 60 + 900, &tr);
    assert_int_equal(tr.n, 0);
    assert_int_equal(e.n, 1);
    assert_non_null(find(&e, "A", "k", "1"));
    mw_alert_transitions_free(&tr);
    mw_alert_engine_free(&e);
}

/* ---- saved state, notices ------------------------------------------------------------------- */

#define RESTORE_RULES                                                                              \
    "[{\"name\": \"F\", \"expr\": \"f == 1\", \"labels\": {\"severity\": \"page\"},"               \
    "  \"annotations\": {\"summary\": \"{{ $labels.feature }} {{ $value }}\"}},"                   \
    " {\"name\": \"P\", \"expr\": \"p > 0\", \"for\": \"1m\"},"                                    \
    " {\"name\": \"R\", \"expr\": \"r == 1\"}]"

static void test_save_restore(void **state) {
    (void)state;
    const double t0 = 1764392400.5;
    mw_alert_engine e;
    engine_with(&e, RESTORE_RULES);
    mw_alert_transitions tr = {0};
    eval_at(&e, "f{feature=\"age\"} 1\np{gpu=\"0\"} 0\nr 1\n", t0, &tr);
    eval_at(&e, "f{feature=\"age\"} 1\np{gpu=\"0\"} 0.25\nr 0\n", t0 + 30, &tr);
    assert_int_equal(e.n, 3);
    assert_int_equal(find(&e, "F", "feature", "age")->state, MW_ALERT_FIRING);
    assert_int_equal(find(&e, "P", "gpu", "0")->state, MW_ALERT_PENDING);
    assert_int_equal(find(&e, "R", "alertname", "R")->state, MW_ALERT_RESOLVED);

    /* through text, as the store keeps it */
    json_t *saved = mw_alert_engine_to_json(&e);
    assert_int_equal(json_array_size(saved), 3);
    char *text = json_dumps(saved, JSON_COMPACT);
    json_decref(saved);
    json_t *loaded = json_loads(text, 0, NULL);
    assert_non_null(loaded);
    json_t *first = json_array_get(loaded, 0);
    assert_string_equal(json_string_value(json_object_get(first, "rule")), "F");
    assert_string_equal(json_string_value(json_object_get(first, "state")), "firing");
    assert_true(json_real_value(json_object_get(first, "activeAt")) == t0);
    assert_null(json_object_get(first, "resolvedAt")); /* 0: not written */
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(first, "labels"), "severity")), "page");

    mw_alert_engine f;
    engine_with(&f, RESTORE_RULES);
    mw_error err = {0};
    assert_int_equal(mw_alert_engine_restore(&f, loaded, &err), MW_OK);
    json_decref(loaded);
    free(text);
    assert_int_equal(f.n, e.n);
    for (size_t i = 0; i < e.n; i++) {
        const mw_alert *a = &e.alerts[i], *b = &f.alerts[i];
        assert_string_equal(a->rule, b->rule);
        assert_string_equal(a->key, b->key);
        assert_int_equal(a->state, b->state);
        assert_true(a->value == b->value);
        assert_true(a->active_at == b->active_at);
        assert_true(a->fired_at == b->fired_at);
        assert_true(a->resolved_at == b->resolved_at);
        assert_true(a->last_seen == b->last_seen);
        assert_true(a->missing_since == b->missing_since);
        assert_int_equal(a->nlabels, b->nlabels);
        for (size_t j = 0; j < a->nlabels; j++) {
            assert_string_equal(a->labels[j].name, b->labels[j].name);
            assert_string_equal(a->labels[j].value, b->labels[j].value);
        }
        assert_int_equal(a->nannotations, b->nannotations);
        for (size_t j = 0; j < a->nannotations; j++) {
            assert_string_equal(a->annotations[j].name, b->annotations[j].name);
            assert_string_equal(a->annotations[j].value, b->annotations[j].value);
        }
    }
    assert_string_equal(annotation(find(&f, "F", "feature", "age"), "summary"), "age 1");

    /* still true after the restart: F stays firing with no transition; P, pending
     * since t0 + 30, is still pending at t0 + 60 and fires at t0 + 90 */
    eval_at(&f, "f{feature=\"age\"} 1\np{gpu=\"0\"} 0.5\nr 0\n", t0 + 60, &tr);
    assert_int_equal(tr.n, 0);
    mw_alert *fa = find(&f, "F", "feature", "age");
    assert_int_equal(fa->state, MW_ALERT_FIRING);
    assert_true(fa->active_at == t0 && fa->fired_at == t0 && fa->last_seen == t0 + 60);
    assert_int_equal(find(&f, "P", "gpu", "0")->state, MW_ALERT_PENDING);
    eval_at(&f, "f{feature=\"age\"} 1\np{gpu=\"0\"} 0.5\nr 0\n", t0 + 90, &tr);
    assert_int_equal(tr.n, 1);
    assert_transition(&tr, 0, "P", MW_ALERT_PENDING, MW_ALERT_FIRING, t0 + 90);
    assert_true(find(&f, "P", "gpu", "0")->active_at == t0 + 30);
    assert_int_equal(find(&f, "F", "feature", "age")->state, MW_ALERT_FIRING);
    assert_int_equal(f.n, 3);

    /* infinite values survive the round trip (as strings in JSON) */
    eval_at(&f, "f{feature=\"age\"} 1\np{gpu=\"0\"} +Inf\nr 0\n", t0 + 120, &tr);
    saved = mw_alert_engine_to_json(&f);
    mw_alert_engine g;
    engine_with(&g, RESTORE_RULES);
    assert_int_equal(mw_alert_engine_restore(&g, saved, &err), MW_OK);
    assert_true(isinf(find(&g, "P", "gpu", "0")->value));
    json_decref(saved);
    mw_alert_engine_free(&g);

    mw_alert_transitions_free(&tr);
    mw_alert_engine_free(&e);
    mw_alert_engine_free(&f);
}

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" from broken-down UTC time, independently of the engine. */
static double unix_of(int y, int mo, int d, int h, int mi, int s) {
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = s};
    return (double)timegm(&tm);
}

static void test_rfc3339_and_notice(void **state) {
    (void)state;
    char buf[40];
    double t0 = unix_of(2025, 11, 29, 5, 0, 0) + 0.5;
    assert_true(t0 == 1764392400.5);
    mw_format_rfc3339(t0, buf, sizeof buf);
    assert_string_equal(buf, "2025-11-29T05:00:00.500Z");
    mw_format_rfc3339(unix_of(2025, 11, 29, 5, 0, 0) + 0.9996, buf, sizeof buf);
    assert_string_equal(buf, "2025-11-29T05:00:01.000Z"); /* rounds into the next second */
    mw_format_rfc3339(unix_of(2024, 2, 29, 23, 59, 59) + 0.001, buf, sizeof buf);
    assert_string_equal(buf, "2024-02-29T23:59:59.001Z");
    mw_format_rfc3339(0, buf, sizeof buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");

    mw_alert_engine e;
    engine_with(&e, "[{\"name\": \"Drift\", \"expr\": \"drift == 1\", \"for\": \"1m\","
                    " \"labels\": {\"severity\": \"warning\"},"
                    " \"annotations\": {\"summary\": \"{{ $labels.feature }} drifted\"}}]");
    mw_alert_transitions tr = {0};
    eval_at(&e, "drift{feature=\"age\"} 1\n", t0, &tr);
    eval_at(&e, "drift{feature=\"age\"} 1\n", t0 + 60, &tr);
    mw_alert *a = &e.alerts[0];
    assert_int_equal(a->state, MW_ALERT_FIRING);
    double until = t0 + 60 + 240;
    json_t *n = mw_alert_notice(a, until, "http://mw:9090/alerts");
    assert_string_equal(json_string_value(json_object_get(n, "status")), "firing");
    json_t *l = json_object_get(n, "labels");
    assert_int_equal(json_object_size(l), 3);
    assert_string_equal(json_string_value(json_object_get(l, "alertname")), "Drift");
    assert_string_equal(json_string_value(json_object_get(l, "feature")), "age");
    assert_string_equal(json_string_value(json_object_get(l, "severity")), "warning");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(n, "annotations"), "summary")),
        "age drifted");
    /* startsAt: when it fired (Prometheus sends FiredAt), not when it became pending */
    assert_string_equal(json_string_value(json_object_get(n, "startsAt")),
                        "2025-11-29T05:01:00.500Z");
    assert_string_equal(json_string_value(json_object_get(n, "endsAt")),
                        "2025-11-29T05:05:00.500Z");
    assert_string_equal(json_string_value(json_object_get(n, "generatorURL")),
                        "http://mw:9090/alerts");
    json_decref(n);

    eval_at(&e, "drift{feature=\"age\"} 0\n", t0 + 120.25, &tr);
    a = &e.alerts[0];
    assert_int_equal(a->state, MW_ALERT_RESOLVED);
    n = mw_alert_notice(a, until + 1000, NULL);
    assert_string_equal(json_string_value(json_object_get(n, "status")), "resolved");
    assert_string_equal(json_string_value(json_object_get(n, "startsAt")),
                        "2025-11-29T05:01:00.500Z");
    assert_string_equal(json_string_value(json_object_get(n, "endsAt")),
                        "2025-11-29T05:02:00.750Z");
    assert_null(json_object_get(n, "generatorURL"));
    json_decref(n);
    mw_alert_transitions_free(&tr);
    mw_alert_engine_free(&e);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fires_at_once),
        cmocka_unit_test(test_pending_then_firing),
        cmocka_unit_test(test_resolve_retention_return),
        cmocka_unit_test(test_keep_firing_for),
        cmocka_unit_test(test_one_alert_per_label_set),
        cmocka_unit_test(test_no_data_versus_no_match),
        cmocka_unit_test(test_rules_replaced),
        cmocka_unit_test(test_save_restore),
        cmocka_unit_test(test_rfc3339_and_notice),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
