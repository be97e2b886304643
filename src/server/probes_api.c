/*
 * The probes' views: the /metrics families and the HTTP API.
 *
 * Metrics (label probe_set: configured names; prompt: configured ids;
 * reason: the fixed set of mw_probe_reason; type: input, output; stat: mean,
 * max; so every label is bounded by the configuration):
 *   modelwatch_probe_runs_total{probe_set}                 counter
 *   modelwatch_probe_requests_total{probe_set,prompt}      counter
 *   modelwatch_probe_failures_total{probe_set,prompt,reason} counter (from the first failure)
 *   modelwatch_probe_tokens_total{probe_set,type}          counter (from usage)
 *   modelwatch_probe_latency_seconds{probe_set}            histogram
 *   modelwatch_probe_ttft_seconds{probe_set}               histogram (streaming)
 *   and gauges of the last run (after the first):
 *   modelwatch_probe_pass_ratio{probe_set}, modelwatch_probe_passed{probe_set,prompt},
 *   modelwatch_probe_last_run_timestamp_seconds{probe_set},
 *   modelwatch_probe_run_latency_seconds{probe_set,stat}, modelwatch_probe_run_ttft_seconds{...}
 * The gauges are what alert rules use (the rule language has no rate()).
 *
 * API: GET /api/v1/probes, GET /api/v1/probes/{set}, GET
 * /api/v1/probes/{set}/runs?limit=N (stored runs, newest first), POST
 * /api/v1/probes/{set}/run (a run now; 202).
 */
#include "monitor/serving.h"
#include "server/daemon.h"
#include "server/probes_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    P_RUNS,
    P_REQUESTS,
    P_FAILURES,
    P_TOKENS,
    P_LATENCY,
    P_TTFT,
    P_RATIO,
    P_PASSED,
    P_LAST_RUN,
    P_RUN_LATENCY,
    P_RUN_TTFT,
    P_COUNT
};

static const struct {
    const char *name;
    mw_expo_type type;
    const char *help;
} families[P_COUNT] = {
    {"modelwatch_probe_runs_total", MW_EXPO_COUNTER, "Completed runs of a probe set."},
    {"modelwatch_probe_requests_total", MW_EXPO_COUNTER, "Probe prompts sent."},
    {"modelwatch_probe_failures_total", MW_EXPO_COUNTER,
     "Probe prompts that failed, by reason (mismatch, timeout, connect, http_status, "
     "invalid_response, truncated, too_large, error)."},
    {"modelwatch_probe_tokens_total", MW_EXPO_COUNTER,
     "Tokens of probe requests from the endpoint's usage, by type (input, output)."},
    {"modelwatch_probe_latency_seconds", MW_EXPO_HISTOGRAM,
     "Probe request duration, from sending to the last byte of the answer."},
    {"modelwatch_probe_ttft_seconds", MW_EXPO_HISTOGRAM,
     "Probe time to first token (streaming sets): from sending to the first content text."},
    {"modelwatch_probe_pass_ratio", MW_EXPO_GAUGE,
     "Share of the probe set's prompts that passed in its last run."},
    {"modelwatch_probe_passed", MW_EXPO_GAUGE, "1 when the prompt passed in the last run."},
    {"modelwatch_probe_last_run_timestamp_seconds", MW_EXPO_GAUGE,
     "End of the probe set's last run, seconds since the epoch."},
    {"modelwatch_probe_run_latency_seconds", MW_EXPO_GAUGE,
     "Mean and max request duration of the last run."},
    {"modelwatch_probe_run_ttft_seconds", MW_EXPO_GAUGE,
     "Mean and max time to first token of the last run (streaming sets)."},
};

/* One set's samples of family f; s->mu held. */
static mw_status set_samples(mw_expo *e, int f, const mw_probe_state *s) {
    const mw_probe_set_config *c = &s->cfg;
    const char *n[3] = {"probe_set", "prompt", "reason"};
    const char *v[3] = {c->name, NULL, NULL};
    mw_status st = MW_OK;
    switch (f) {
    case P_RUNS:
        return mw_expo_sample_u64(e, NULL, n, v, 1, s->runs);
    case P_REQUESTS:
    case P_PASSED:
    case P_FAILURES:
        for (size_t i = 0; i < c->nprompts && !st; i++) {
            v[1] = c->prompts[i].id;
            if (f == P_REQUESTS) st = mw_expo_sample_u64(e, NULL, n, v, 2, s->requests[i]);
            if (f == P_PASSED && s->last_passed[i] >= 0)
                st = mw_expo_sample(e, NULL, n, v, 2, s->last_passed[i]);
            for (int k = 0; f == P_FAILURES && k < MW_PROBE_REASONS && !st; k++) {
                uint64_t count = s->failures[i * MW_PROBE_REASONS + (size_t)k];
                v[2] = mw_probe_reason_name((mw_probe_reason)k);
                if (count) st = mw_expo_sample_u64(e, NULL, n, v, 3, count);
            }
        }
        return st;
    case P_TOKENS: {
        const char *tn[2] = {"probe_set", "type"}, *tv[2] = {c->name, "input"};
        st = mw_expo_sample(e, NULL, tn, tv, 2, s->tokens[0]);
        tv[1] = "output";
        return st ? st : mw_expo_sample(e, NULL, tn, tv, 2, s->tokens[1]);
    }
    case P_LATENCY:
        return mw_expo_histo(e, n, v, 1, s->latency);
    case P_TTFT:
        return c->stream ? mw_expo_histo(e, n, v, 1, s->ttft) : MW_OK;
    default:
        break;
    }
    if (!s->has_last) return MW_OK;
    if (f == P_RATIO) return mw_expo_sample(e, NULL, n, v, 1, s->last_ratio);
    if (f == P_LAST_RUN) return mw_expo_sample(e, NULL, n, v, 1, s->last_end);
    const double *mm = f == P_RUN_LATENCY ? s->last_latency : s->last_ttft;
    const char *sn[2] = {"probe_set", "stat"}, *sv[2] = {c->name, "mean"};
    if (isfinite(mm[0])) st = mw_expo_sample(e, NULL, sn, sv, 2, mm[0]);
    sv[1] = "max";
    if (!st && isfinite(mm[1])) st = mw_expo_sample(e, NULL, sn, sv, 2, mm[1]);
    return st;
}

mw_status mw_probes_write_metrics(mw_probes *p, mw_expo *e) {
    mw_status st = MW_OK;
    for (int f = 0; f < P_COUNT && !st; f++) {
        st = mw_expo_family(e, families[f].name, families[f].type, families[f].help);
        for (size_t i = 0; p && i < p->n && !st; i++) {
            mw_probe_state *s = &p->sets[i];
            pthread_mutex_lock(&s->mu);
            st = set_samples(e, f, s);
            pthread_mutex_unlock(&s->mu);
        }
    }
    return st;
}

/* ---- the API ---- */

static json_t *set_view(mw_probe_state *s) {
    json_t *o = mw_probe_set_json(&s->cfg);
    pthread_mutex_lock(&s->mu);
    json_t *last = s->last_json ? json_loads(s->last_json, 0, NULL) : NULL;
    json_object_set_new(o, "runs", json_integer((json_int_t)s->runs));
    pthread_mutex_unlock(&s->mu);
    json_object_set_new(o, "last_run", last ? last : json_null());
    return o;
}

static void answer(mw_http_response *resp, int status, json_t *o) {
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!text) return mw_http_set_error(resp, 500, "internal_error", "out of memory", 0);
    resp->status = status;
    resp->body = text;
    resp->body_len = strlen(text);
}

static void runs(mw_probes *p, mw_probe_state *s, const mw_http_request *req,
                 mw_http_response *resp) {
    size_t limit;
    if (!mw_route_query_limit(req, resp, &limit)) return;
    char *json = NULL;
    mw_error err;
    mw_error_clear(&err);
    if (mw_store_probe_runs(p->store, s->cfg.name, limit, &json, &err))
        return mw_http_set_error(resp, 500, "storage_error", err.message, 0);
    size_t n = strlen(json);
    char *out = malloc(n + 16);
    if (out) snprintf(out, n + 16, "{\"runs\":%s}", json);
    free(json);
    if (!out) return mw_http_set_error(resp, 500, "internal_error", "out of memory", 0);
    resp->body = out;
    resp->body_len = strlen(out);
}

void mw_probes_route(mw_probes *p, const mw_http_request *req, mw_http_response *resp) {
    const char *rest = req->path + strlen("/api/v1/probes");
    int get = !strcmp(req->method, "GET");
    if (!*rest || !strcmp(rest, "/")) {
        resp->route = "/api/v1/probes";
        if (!get) return mw_route_method_not_allowed(resp, "GET");
        json_t *arr = json_array();
        for (size_t i = 0; p && i < p->n; i++)
            json_array_append_new(arr, set_view(&p->sets[i]));
        return answer(resp, 200, json_pack("{s:o}", "probe_sets", arr));
    }
    char name[MW_PROBE_MAX_NAME + 1];
    const char *end = strchr(rest + 1, '/');
    size_t len = end ? (size_t)(end - rest - 1) : strlen(rest + 1);
    const char *tail = end ? end : "";
    resp->route = !*tail                   ? "/api/v1/probes/{set}"
                  : !strcmp(tail, "/runs") ? "/api/v1/probes/{set}/runs"
                  : !strcmp(tail, "/run")  ? "/api/v1/probes/{set}/run"
                                           : "other";
    mw_probe_state *s = NULL;
    if (len && len < sizeof name) {
        memcpy(name, rest + 1, len);
        name[len] = 0;
        s = mw_probes_find(p, name);
    }
    if (!s) return mw_http_set_error(resp, 404, "not_found", "no probe set of that name", 0);
    if (!*tail) {
        if (!get) return mw_route_method_not_allowed(resp, "GET");
        return answer(resp, 200, set_view(s));
    }
    if (!strcmp(tail, "/runs")) {
        if (!get) return mw_route_method_not_allowed(resp, "GET");
        return runs(p, s, req, resp);
    }
    if (!strcmp(tail, "/run")) {
        if (strcmp(req->method, "POST")) return mw_route_method_not_allowed(resp, "POST");
        mw_probes_trigger(s);
        return answer(resp, 202,
                      json_pack("{s:s, s:s}", "probe_set", s->cfg.name, "status", "scheduled"));
    }
    mw_http_set_error(resp, 404, "not_found", "no such endpoint under /api/v1/probes/{set}", 0);
}
