/*
 * The alert state machine (alert.h): Prometheus' inactive -> pending ->
 * firing -> resolved, one alert per distinct label set, with the clock given
 * by the caller. Alerts are found by their canonical label JSON through a
 * small open-addressing alert_index rebuilt at each evaluation, so an evaluation
 * costs O(results + alerts).
 */
#include "alert/alert.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *mw_alert_state_name(mw_alert_state s) {
    static const char *const names[] = {"inactive", "pending", "firing", "resolved"};
    return s <= MW_ALERT_RESOLVED ? names[s] : "unknown";
}

void mw_alert_engine_init(mw_alert_engine *e) {
    memset(e, 0, sizeof *e);
    e->resolved_retention_s = 900;
}

static void labels_free(mw_label *l, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(l[i].name);
        free(l[i].value);
    }
    free(l);
}

static void alert_free(mw_alert *a) {
    free(a->rule);
    free(a->key);
    labels_free(a->labels, a->nlabels);
    labels_free(a->annotations, a->nannotations);
    memset(a, 0, sizeof *a);
}

void mw_alert_engine_free(mw_alert_engine *e) {
    for (size_t i = 0; i < e->n; i++)
        alert_free(&e->alerts[i]);
    free(e->alerts);
    free(e->no_data);
    mw_rules_free(&e->rules);
    memset(e, 0, sizeof *e);
}

void mw_alert_engine_set_rules(mw_alert_engine *e, mw_rule_set *rules) {
    mw_rules_free(&e->rules);
    e->rules = *rules;
    memset(rules, 0, sizeof *rules);
}

void mw_alert_transitions_free(mw_alert_transitions *tr) {
    for (size_t i = 0; i < tr->n; i++) {
        free(tr->t[i].rule);
        free(tr->t[i].key);
    }
    free(tr->t);
    memset(tr, 0, sizeof *tr);
}

static int add_transition(mw_alert_transitions *tr, const mw_alert *a, mw_alert_state from,
                          mw_alert_state to, double at) {
    if (tr->n == tr->cap) {
        size_t cap = tr->cap ? tr->cap * 2 : 16;
        mw_alert_transition *grown = realloc(tr->t, cap * sizeof *grown);
        if (!grown) return 0;
        tr->t = grown;
        tr->cap = cap;
    }
    mw_alert_transition *t = &tr->t[tr->n];
    t->rule = strdup(a->rule);
    t->key = strdup(a->key);
    if (!t->rule || !t->key) {
        free(t->rule);
        free(t->key);
        return 0;
    }
    t->from = from;
    t->to = to;
    t->at = at;
    t->value = a->value;
    tr->n++;
    return 1;
}

/* ---- the index: alert keys -> positions ---- */

typedef struct alert_index {
    size_t *slot; /* position + 1; 0 = empty */
    size_t mask;
} alert_index;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int index_build(alert_index *ix, const mw_alert_engine *e, size_t room) {
    size_t size = 64;
    while (size < 2 * (e->n + room))
        size *= 2;
    ix->slot = calloc(size, sizeof *ix->slot);
    ix->mask = size - 1;
    if (!ix->slot) return 0;
    for (size_t i = 0; i < e->n; i++) {
        size_t h = hash_str(e->alerts[i].key) & ix->mask;
        while (ix->slot[h])
            h = (h + 1) & ix->mask;
        ix->slot[h] = i + 1;
    }
    return 1;
}

/* The alert with this key, or the empty slot where it would go (*slot). */
static mw_alert *index_find(alert_index *ix, mw_alert_engine *e, const char *key, size_t *slot) {
    size_t h = hash_str(key) & ix->mask;
    for (; ix->slot[h]; h = (h + 1) & ix->mask)
        if (!strcmp(e->alerts[ix->slot[h] - 1].key, key)) break;
    *slot = h;
    return ix->slot[h] ? &e->alerts[ix->slot[h] - 1] : NULL;
}

/* ---- one result -> alert labels ---- */

static int label_cmp(const void *x, const void *y) {
    return strcmp(((const mw_label *)x)->name, ((const mw_label *)y)->name);
}

/* Sets name=value in l (n entries, room for more): replaces or appends. */
static int set_label(mw_label *l, size_t *n, const char *name, const char *value) {
    size_t i = 0;
    while (i < *n && strcmp(l[i].name, name))
        i++;
    char *v = strdup(value);
    if (!v) return 0;
    if (i == *n) {
        if (!(l[i].name = strdup(name))) {
            free(v);
            return 0;
        }
        (*n)++;
    } else {
        free(l[i].value);
    }
    l[i].value = v;
    return 1;
}

/* Result labels, overridden by the rule's, plus alertname; sorted. */
static mw_label *alert_labels(const mw_rule *r, const mw_sample *s, size_t *n) {
    mw_label *l = calloc(s->nlabels + r->nlabels + 1, sizeof *l);
    *n = 0;
    int ok = l != NULL;
    for (size_t i = 0; ok && i < s->nlabels; i++)
        ok = set_label(l, n, s->labels[i].name, s->labels[i].value);
    for (size_t i = 0; ok && i < r->nlabels; i++)
        ok = set_label(l, n, r->labels[i].name, r->labels[i].value);
    if (ok) ok = set_label(l, n, "alertname", r->name);
    if (!ok) {
        if (l) labels_free(l, *n);
        return NULL;
    }
    qsort(l, *n, sizeof *l, label_cmp);
    return l;
}

static char *labels_key(const mw_label *l, size_t n) {
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        json_object_set_new(o, l[i].name, json_string(l[i].value));
    char *key = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return key;
}

/* The annotations of a for result s. $labels is the result's labels, not the
 * alert's: Prometheus gives templates the sample's labels (without the rule's
 * labels or alertname), and an exported rule must render the same text. */
static int render_annotations(mw_alert *a, const mw_rule *r, const mw_sample *s) {
    mw_label *ann = calloc(r->nannotations + 1, sizeof *ann);
    if (!ann) return 0;
    for (size_t i = 0; i < r->nannotations; i++) {
        ann[i].name = strdup(r->annotations[i].name);
        ann[i].value = mw_template_render(r->annotations[i].value, s->labels, s->nlabels, a->value);
        if (!ann[i].name || !ann[i].value) {
            labels_free(ann, i + 1);
            return 0;
        }
    }
    labels_free(a->annotations, a->nannotations);
    a->annotations = ann;
    a->nannotations = r->nannotations;
    return 1;
}

static const mw_rule *find_rule(const mw_alert_engine *e, const char *name) {
    for (size_t i = 0; i < e->rules.n; i++)
        if (!strcmp(e->rules.r[i].name, name)) return &e->rules.r[i];
    return NULL;
}

/* A result of rule r at now: updates its alert or starts one. */
static mw_status on_result(mw_alert_engine *e, alert_index *ix, const mw_rule *r,
                           const mw_sample *s, double now, unsigned char *seen,
                           mw_alert_transitions *tr) {
    size_t n;
    mw_label *labels = alert_labels(r, s, &n);
    char *key = labels ? labels_key(labels, n) : NULL;
    if (!key) {
        if (labels) labels_free(labels, n);
        return MW_ENOMEM;
    }
    size_t slot;
    mw_alert *a = index_find(ix, e, key, &slot);
    mw_alert_state from = a ? a->state : MW_ALERT_INACTIVE;
    if (a && a->state == MW_ALERT_RESOLVED) { /* back after resolving: a new alert */
        labels_free(a->labels, a->nlabels);
        labels_free(a->annotations, a->nannotations);
        free(a->key);
        free(a->rule);
        memset(a, 0, sizeof *a);
        from = MW_ALERT_INACTIVE;
    } else if (a) {
        labels_free(labels, n);
        free(key);
    }
    if (!a) {
        if (e->n >= MW_ALERTS_MAX) {
            e->overflow++;
            labels_free(labels, n);
            free(key);
            return MW_OK;
        }
        a = &e->alerts[e->n]; /* room reserved by the caller */
        memset(a, 0, sizeof *a);
        ix->slot[slot] = ++e->n;
    }
    if (from == MW_ALERT_INACTIVE) {
        a->rule = strdup(r->name);
        a->key = key;
        a->labels = labels;
        a->nlabels = n;
        a->state = MW_ALERT_PENDING;
        a->active_at = now;
        if (!a->rule) return MW_ENOMEM;
    }
    seen[a - e->alerts] = 1;
    a->value = s->value;
    a->last_seen = now;
    a->missing_since = 0;
    if (!render_annotations(a, r, s)) return MW_ENOMEM;
    if (a->state == MW_ALERT_PENDING && now - a->active_at >= r->for_s) {
        a->state = MW_ALERT_FIRING;
        a->fired_at = now;
    }
    if (a->state != from && !add_transition(tr, a, from, a->state, now)) return MW_ENOMEM;
    return MW_OK;
}

/* An alert its rule did not return at now; 1 when it is to be forgotten. */
static int on_absent(mw_alert_engine *e, mw_alert *a, double now, mw_alert_transitions *tr,
                     mw_status *st) {
    const mw_rule *r = find_rule(e, a->rule);
    switch (a->state) {
    case MW_ALERT_PENDING:
        if (!add_transition(tr, a, MW_ALERT_PENDING, MW_ALERT_INACTIVE, now)) *st = MW_ENOMEM;
        return 1;
    case MW_ALERT_FIRING:
        if (a->missing_since == 0) a->missing_since = now;
        if (r && now - a->missing_since < r->keep_firing_for_s) return 0;
        a->state = MW_ALERT_RESOLVED;
        a->resolved_at = now;
        if (!add_transition(tr, a, MW_ALERT_FIRING, MW_ALERT_RESOLVED, now)) *st = MW_ENOMEM;
        return 0;
    default:
        return now - a->resolved_at >= e->resolved_retention_s;
    }
}

/* 1 when every metric the rule reads has at least one sample. */
static int has_data(const mw_rule *r, const mw_sample_set *samples) {
    const char *names[16];
    size_t n = mw_expr_metrics(r->expr, names, 16);
    for (size_t i = 0; i < n && i < 16; i++)
        if (!mw_samples_has_metric(samples, names[i])) return 0;
    return 1;
}

/* 1 when the alert's rule was skipped for lack of data. */
static int held(const mw_alert_engine *e, const mw_alert *a) {
    for (size_t i = 0; i < e->rules.n; i++)
        if (!strcmp(e->rules.r[i].name, a->rule)) return e->no_data[i];
    return 0;
}

mw_status mw_alert_engine_eval(mw_alert_engine *e, const mw_sample_set *samples, double now,
                               mw_alert_transitions *tr, mw_error *err) {
    e->evaluations++;
    mw_sample_set *results = calloc(e->rules.n + 1, sizeof *results);
    free(e->no_data);
    e->no_data = calloc(e->rules.n + 1, 1);
    size_t total = 0;
    mw_status st = results && e->no_data ? MW_OK : MW_ENOMEM;
    for (size_t i = 0; !st && i < e->rules.n; i++) {
        if ((e->no_data[i] = !has_data(&e->rules.r[i], samples))) continue;
        st = mw_expr_eval(e->rules.r[i].expr, samples, &results[i], err);
        total += results[i].n;
    }
    size_t room = total < MW_ALERTS_MAX ? total : MW_ALERTS_MAX;
    alert_index ix = {0};
    unsigned char *seen = NULL;
    if (!st && e->cap < e->n + room) {
        mw_alert *grown = realloc(e->alerts, (e->n + room) * sizeof *grown);
        if (grown)
            e->alerts = grown, e->cap = e->n + room;
        else
            st = MW_ENOMEM;
    }
    if (!st && (!(seen = calloc(e->n + room + 1, 1)) || !index_build(&ix, e, room))) st = MW_ENOMEM;
    for (size_t i = 0; !st && i < e->rules.n; i++)
        for (size_t j = 0; !st && j < results[i].n; j++)
            st = on_result(e, &ix, &e->rules.r[i], &results[i].s[j], now, seen, tr);
    size_t kept = 0;
    for (size_t i = 0; i < e->n; i++) {
        if (!st && !seen[i] && !held(e, &e->alerts[i]) &&
            on_absent(e, &e->alerts[i], now, tr, &st)) {
            alert_free(&e->alerts[i]);
            continue;
        }
        if (kept != i) e->alerts[kept] = e->alerts[i];
        kept++;
    }
    e->n = kept;
    for (size_t i = 0; results && i < e->rules.n; i++)
        mw_samples_free(&results[i]);
    free(results);
    free(seen);
    free(ix.slot);
    if (st == MW_ENOMEM)
        return mw_error_set(err, st, NULL, 0, 0, "out of memory evaluating alerts");
    return st;
}

/* ---- JSON: the API view and the stored state ---- */

void mw_format_rfc3339(double unix_s, char *buf, size_t size) {
    double whole = floor(unix_s);
    time_t t = (time_t)whole;
    int ms = (int)llround((unix_s - whole) * 1000);
    if (ms == 1000) t++, ms = 0;
    struct tm tm;
    gmtime_r(&t, &tm);
    snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

static json_t *map_json(const mw_label *l, size_t n) {
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        json_object_set_new(o, l[i].name, json_string(l[i].value));
    return o;
}

static void set_time(json_t *o, const char *key, double t) {
    if (t > 0) json_object_set_new(o, key, json_real(t));
}

/* JSON has no NaN or infinities: they are written as strings, as Prometheus does. */
static json_t *value_json(double v) {
    if (isfinite(v)) return json_real(v);
    return json_string(isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
}

json_t *mw_alert_engine_to_json(const mw_alert_engine *e) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < e->n; i++) {
        const mw_alert *a = &e->alerts[i];
        json_t *o = json_pack(
            "{s:s, s:s, s:o, s:o, s:o}", "rule", a->rule, "state", mw_alert_state_name(a->state),
            "labels", map_json(a->labels, a->nlabels), "annotations",
            map_json(a->annotations, a->nannotations), "value", value_json(a->value));
        if (!o) continue;
        set_time(o, "activeAt", a->active_at);
        set_time(o, "firedAt", a->fired_at);
        set_time(o, "resolvedAt", a->resolved_at);
        set_time(o, "lastSeen", a->last_seen);
        set_time(o, "missingSince", a->missing_since);
        set_time(o, "lastSent", a->last_sent);
        json_array_append_new(arr, o);
    }
    return arr;
}

static mw_label *labels_from_json(const json_t *o, size_t *n) {
    size_t cnt = json_is_object(o) ? json_object_size(o) : 0;
    mw_label *l = calloc(cnt + 1, sizeof *l);
    const char *k;
    json_t *v;
    *n = 0;
    if (!l) return NULL;
    json_object_foreach((json_t *)o, k, v) {
        l[*n].name = strdup(k);
        l[*n].value = strdup(json_is_string(v) ? json_string_value(v) : "");
        (*n)++;
    }
    return l; /* jansson keeps insertion order; the saved objects were written sorted */
}

static double number_or(const json_t *o, const char *key, double dflt) {
    const json_t *v = json_object_get(o, key);
    if (json_is_number(v)) return json_number_value(v);
    if (json_is_string(v)) return strtod(json_string_value(v), NULL); /* "NaN", "+Inf" */
    return dflt;
}

mw_status mw_alert_engine_restore(mw_alert_engine *e, const json_t *arr, mw_error *err) {
    size_t n = json_is_array(arr) ? json_array_size(arr) : 0;
    if (n > MW_ALERTS_MAX) n = MW_ALERTS_MAX;
    mw_alert *grown = realloc(e->alerts, (e->n + n + 1) * sizeof *grown);
    if (!grown) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory restoring alerts");
    e->alerts = grown;
    e->cap = e->n + n + 1;
    for (size_t i = 0; i < n; i++) {
        const json_t *o = json_array_get(arr, i);
        const char *rule = json_string_value(json_object_get(o, "rule"));
        const char *state = json_string_value(json_object_get(o, "state"));
        if (!rule || !state) continue;
        mw_alert *a = &e->alerts[e->n];
        memset(a, 0, sizeof *a);
        a->state = !strcmp(state, "firing")    ? MW_ALERT_FIRING
                   : !strcmp(state, "pending") ? MW_ALERT_PENDING
                                               : MW_ALERT_RESOLVED;
        a->rule = strdup(rule);
        a->labels = labels_from_json(json_object_get(o, "labels"), &a->nlabels);
        a->annotations = labels_from_json(json_object_get(o, "annotations"), &a->nannotations);
        a->key = a->labels ? labels_key(a->labels, a->nlabels) : NULL;
        a->value = number_or(o, "value", NAN);
        a->active_at = number_or(o, "activeAt", 0);
        a->fired_at = number_or(o, "firedAt", 0);
        a->resolved_at = number_or(o, "resolvedAt", 0);
        a->last_seen = number_or(o, "lastSeen", 0);
        a->missing_since = number_or(o, "missingSince", 0);
        a->last_sent = number_or(o, "lastSent", 0);
        e->n++;
        if (!a->rule || !a->labels || !a->annotations || !a->key) {
            mw_alert_engine_free(e);
            return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory restoring alerts");
        }
    }
    return MW_OK;
}

json_t *mw_alert_notice(const mw_alert *a, double valid_until, const char *generator_url) {
    char starts[40], ends[40];
    /* startsAt is when it started firing, as Prometheus sends it (FiredAt) */
    mw_format_rfc3339(a->fired_at > 0 ? a->fired_at : a->active_at, starts, sizeof starts);
    double end = a->state == MW_ALERT_RESOLVED ? a->resolved_at : valid_until;
    mw_format_rfc3339(end, ends, sizeof ends);
    json_t *o = json_pack("{s:s, s:o, s:o, s:s, s:s, s:o}", "status",
                          a->state == MW_ALERT_RESOLVED ? "resolved" : "firing", "labels",
                          map_json(a->labels, a->nlabels), "annotations",
                          map_json(a->annotations, a->nannotations), "startsAt", starts, "endsAt",
                          ends, "value", value_json(a->value));
    if (o && generator_url) json_object_set_new(o, "generatorURL", json_string(generator_url));
    return o;
}
