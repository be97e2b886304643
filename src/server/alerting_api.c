/*
 * The alerting views of the daemon: GET/PUT /api/v1/rules, GET
 * /api/v1/alerts, the alerting families of /metrics, and the `alerting:`
 * section of the configuration file.
 */
#include "server/alerting_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- configuration ---- */

void mw_alerting_config_free(mw_alerting_config *c) {
    free(c->alertmanager_url);
    free(c->webhook_url);
    free(c->external_url);
    json_decref(c->rules);
    memset(c, 0, sizeof *c);
}

static mw_status cfg_bad(mw_error *err, const char *file, const char *key, const char *what) {
    return mw_error_set(err, MW_EINVAL, file, 0, 0, "alerting.%s: %s", key, what);
}

static mw_status url_of(const json_t *v, char **out, const char *file, const char *key,
                        mw_error *err) {
    if (!json_is_string(v)) return cfg_bad(err, file, key, "expected a URL (http://host:port)");
    free(*out);
    *out = strdup(json_string_value(v));
    return *out ? MW_OK : MW_ENOMEM;
}

static mw_status webhook_section(mw_alerting_config *c, const json_t *w, const char *file,
                                 mw_error *err) {
    if (json_is_string(w)) return url_of(w, &c->webhook_url, file, "webhook", err);
    if (!json_is_object(w)) return cfg_bad(err, file, "webhook", "expected a URL or a mapping");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)w, k, v) {
        double x;
        mw_status st = MW_OK;
        if (!strcmp(k, "url"))
            st = url_of(v, &c->webhook_url, file, "webhook.url", err);
        else if (!strcmp(k, "timeout") && mw_duration_parse(v, &x) && x > 0 && x <= 600)
            c->webhook_timeout_s = x;
        else if (!strcmp(k, "max_attempts") && json_is_integer(v) && json_integer_value(v) >= 1 &&
                 json_integer_value(v) <= 100)
            c->webhook_max_attempts = (unsigned)json_integer_value(v);
        else
            st = cfg_bad(err, file, "webhook",
                         "bad or unknown key (known: url, timeout (a duration up to 10m), "
                         "max_attempts (1..100))");
        if (st) return st;
    }
    return MW_OK;
}

mw_status mw_alerting_config_read(mw_alerting_config *c, const json_t *section, const char *file,
                                  mw_error *err) {
    if (!json_is_object(section))
        return mw_error_set(err, MW_EINVAL, file, 0, 0, "alerting: expected a mapping");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)section, k, v) {
        mw_status st = MW_OK;
        double x;
        if (!strcmp(k, "alertmanager"))
            st = url_of(v, &c->alertmanager_url, file, k, err);
        else if (!strcmp(k, "webhook"))
            st = webhook_section(c, v, file, err);
        else if (!strcmp(k, "external_url"))
            st = url_of(v, &c->external_url, file, k, err);
        else if (!strcmp(k, "starter_rules") && json_is_boolean(v))
            c->starter_rules = json_is_true(v);
        else if (!strcmp(k, "evaluation_interval") && mw_duration_parse(v, &x) && x >= 0.1)
            c->evaluation_interval_s = x;
        else if (!strcmp(k, "resend_interval") && mw_duration_parse(v, &x) && x >= 0.1)
            c->resend_interval_s = x;
        else
            st = cfg_bad(err, file, k,
                         "bad or unknown key (known: alertmanager, webhook, external_url, "
                         "starter_rules, evaluation_interval, resend_interval)");
        if (st) return st;
    }
    return MW_OK;
}

/* ---- helpers ---- */

static void reply(mw_http_response *resp, int status, json_t *o) {
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!s) {
        mw_http_set_error(resp, 500, "internal_error", "out of memory", 0);
        return;
    }
    resp->status = status;
    resp->body = s;
    resp->body_len = strlen(s);
}

/* 1 when the page has a family (a "# TYPE" line) that name belongs to:
 * itself, or a histogram's _bucket, _sum and _count. */
static int metric_known(const char *text, const char *name) {
    static const char *const suffixes[] = {"", "_bucket", "_sum", "_count"};
    size_t len = strlen(name);
    for (size_t s = 0; s < 4; s++) {
        size_t sl = strlen(suffixes[s]);
        if (len <= sl || strcmp(name + len - sl, suffixes[s])) continue;
        char line[320];
        snprintf(line, sizeof line, "# TYPE %.*s ", (int)(len - sl), name);
        if (strstr(text, line)) return 1;
    }
    return 0;
}

json_t *mw_alerting_warnings(const mw_rule_set *rules, const char *text) {
    json_t *w = json_array();
    for (size_t i = 0; w && text && i < rules->n; i++) {
        const char *names[16];
        size_t n = mw_expr_metrics(rules->r[i].expr, names, 16);
        for (size_t j = 0; j < n && j < 16; j++) {
            if (metric_known(text, names[j])) continue;
            char msg[512];
            snprintf(msg, sizeof msg,
                     "rule %s: modelwatch exports no metric %s here (check the name; GPU "
                     "metrics need a GPU); the rule waits for it",
                     rules->r[i].name, names[j]);
            json_array_append_new(w, json_string(msg));
        }
    }
    return w;
}

/* ---- rules ---- */

static json_t *rules_view(mw_alerting *a) {
    return json_pack("{s:s, s:o}", "source", a->source, "rules",
                     mw_rules_to_json(&a->engine.rules));
}

void mw_alerting_get_rules(mw_alerting *a, mw_http_response *resp) {
    pthread_mutex_lock(&a->mu);
    json_t *o = rules_view(a);
    pthread_mutex_unlock(&a->mu);
    reply(resp, 200, o);
}

void mw_alerting_put_rules(mw_alerting *a, mw_daemon *d, const mw_http_request *req,
                           mw_http_response *resp) {
    mw_error err;
    mw_error_clear(&err);
    json_t *body = mw_yaml_to_json(req->body, req->body_len, "body", &err);
    if (!body) return mw_http_set_error(resp, 400, "invalid_rules", err.message, err.line);
    const json_t *list = json_is_object(body) ? json_object_get(body, "rules") : body;
    mw_rule_set rules;
    if (!list || mw_rules_from_json(list, "rules", &rules, &err)) {
        json_decref(body);
        return mw_http_set_error(
            resp, 400, "invalid_rules",
            list ? err.message : "expected {\"rules\": [...]} or a list of rules", 0);
    }
    json_decref(body);
    json_t *stored = mw_rules_to_json(&rules);
    char *text = stored ? json_dumps(stored, JSON_COMPACT) : NULL;
    json_decref(stored);
    if (!text || mw_store_put_state(a->store, "rules", text, strlen(text), &err)) {
        free(text);
        mw_rules_free(&rules);
        return mw_http_set_error(resp, 503, "storage_error",
                                 err.message[0] ? err.message : "out of memory", 0);
    }
    free(text);
    mw_sample_set samples = {0};
    char *page = NULL;
    json_t *warnings = mw_alerting_samples(d, &samples, &page, &err) == MW_OK
                           ? mw_alerting_warnings(&rules, page)
                           : json_array();
    mw_samples_free(&samples);
    free(page);
    pthread_mutex_lock(&a->mu);
    mw_alert_engine_set_rules(&a->engine, &rules);
    a->warned = 1; /* the answer carries the warnings */
    snprintf(a->source, sizeof a->source, "api");
    json_t *o = rules_view(a);
    pthread_mutex_unlock(&a->mu);
    json_object_set_new(o, "warnings", warnings);
    reply(resp, 200, o);
}

/* ---- alerts ---- */

/* Unix-second times of the API view as RFC 3339 strings. */
static void times_to_rfc3339(json_t *o, const char *const *keys, size_t n) {
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(o, keys[i]);
        if (!json_is_number(v)) continue;
        char buf[40];
        mw_format_rfc3339(json_number_value(v), buf, sizeof buf);
        json_object_set_new(o, keys[i], json_string(buf));
    }
}

void mw_alerting_get_alerts(mw_alerting *a, const mw_http_request *req, mw_http_response *resp) {
    char arg[32];
    long limit = 100;
    if (mw_http_query_param(req, "history", arg, sizeof arg) > 0) {
        char *end;
        limit = strtol(arg, &end, 10);
        if (*end || limit < 0 || limit > 100000)
            return mw_http_set_error(resp, 400, "invalid_request",
                                     "history: expected a number of events, 0..100000", 0);
    }
    static const char *const alert_times[] = {"activeAt", "firedAt",      "resolvedAt",
                                              "lastSeen", "missingSince", "lastSent"};
    static const char *const event_times[] = {"at"};
    pthread_mutex_lock(&a->mu);
    json_t *alerts = mw_alert_engine_to_json(&a->engine);
    pthread_mutex_unlock(&a->mu);
    size_t i;
    json_t *v;
    json_array_foreach(alerts, i, v) times_to_rfc3339(v, alert_times, 6);
    char *hist = NULL;
    mw_error err;
    mw_error_clear(&err);
    json_t *history = NULL;
    if (limit > 0 && mw_store_alert_history(a->store, (size_t)limit, &hist, &err) == MW_OK)
        history = json_loads(hist, 0, NULL);
    free(hist);
    if (!history) history = json_array();
    json_array_foreach(history, i, v) times_to_rfc3339(v, event_times, 1);
    reply(resp, 200, json_pack("{s:o, s:o}", "alerts", alerts, "history", history));
}

/* ---- metrics ---- */

static mw_status notifier_family(mw_alerting *a, mw_expo *e, const char *name, const char *help,
                                 int which) {
    static const struct {
        unsigned target;
        const char *label;
    } targets[] = {{MW_NOTIFY_ALERTMANAGER, "alertmanager"}, {MW_NOTIFY_WEBHOOK, "webhook"}};
    mw_status st = mw_expo_family(e, name, MW_EXPO_COUNTER, help);
    const char *names[1] = {"notifier"};
    for (size_t i = 0; !st && i < 2; i++) {
        if (!(a->targets & targets[i].target)) continue;
        mw_notifier_stats s = mw_notifier_stats_of(a->notifier, targets[i].target);
        uint64_t v = which == 0 ? s.sent : which == 1 ? s.failed : s.dropped;
        st = mw_expo_sample(e, NULL, names, &targets[i].label, 1, (double)v);
    }
    return st;
}

mw_status mw_alerting_write_metrics(mw_alerting *a, mw_expo *e) {
    mw_status st = mw_expo_family(e, "modelwatch_alerts", MW_EXPO_GAUGE,
                                  "Alerts of each rule now pending or firing.");
    const char *names[2] = {"alertname", "alertstate"};
    pthread_mutex_lock(&a->mu);
    for (size_t r = 0; !st && r < a->engine.rules.n; r++) {
        const char *rule = a->engine.rules.r[r].name;
        size_t pending = 0, firing = 0;
        for (size_t i = 0; i < a->engine.n; i++) {
            if (strcmp(a->engine.alerts[i].rule, rule)) continue;
            pending += a->engine.alerts[i].state == MW_ALERT_PENDING;
            firing += a->engine.alerts[i].state == MW_ALERT_FIRING;
        }
        const char *pv[2] = {rule, "pending"}, *fv[2] = {rule, "firing"};
        st = mw_expo_sample(e, NULL, names, pv, 2, (double)pending);
        if (!st) st = mw_expo_sample(e, NULL, names, fv, 2, (double)firing);
    }
    double evaluations = (double)a->engine.evaluations;
    uint64_t rb[2] = {a->rollbacks_done, a->rollbacks_failed};
    pthread_mutex_unlock(&a->mu);
    if (!st)
        st = mw_expo_family(e, "modelwatch_alert_evaluations_total", MW_EXPO_COUNTER,
                            "Evaluations of the alert rules.");
    if (!st) st = mw_expo_sample(e, NULL, NULL, NULL, 0, evaluations);
    if (!st)
        st = mw_expo_family(e, "modelwatch_alert_rollbacks_total", MW_EXPO_COUNTER,
                            "Automatic alias rollbacks of rules with rollback:, by result (done, "
                            "failed: no previous version, unknown alias, database error).");
    const char *rn[1] = {"result"}, *done[1] = {"done"}, *failed[1] = {"failed"};
    if (!st) st = mw_expo_sample_u64(e, NULL, rn, done, 1, rb[0]);
    if (!st) st = mw_expo_sample_u64(e, NULL, rn, failed, 1, rb[1]);
    if (!st && a->targets) {
        st = notifier_family(a, e, "modelwatch_notifications_total",
                             "Alert notification batches delivered, by notifier.", 0);
        if (!st)
            st = notifier_family(a, e, "modelwatch_notifications_failed_total",
                                 "Failed notification attempts (each is retried), by "
                                 "notifier.",
                                 1);
        if (!st)
            st = notifier_family(a, e, "modelwatch_notifications_dropped_total",
                                 "Notification batches given up after every retry or "
                                 "pushed out of a full queue, by notifier.",
                                 2);
    }
    return st;
}
