/*
 * The HTTP API of the daemon (DESIGN.md "Interfaces"): JSON in and out, errors
 * as {"error":{"code","message","line"}} with a 4xx status.
 *
 *   GET  /healthz, /readyz, /metrics
 *   GET  /api/v1/models
 *   PUT  /api/v1/models/{model}/versions/{version}             register / reconfigure
 *   GET  /api/v1/models/{model}/versions/{version}
 *   PUT  /api/v1/models/{model}/versions/{version}/reference   CSV or NDJSON body
 *   POST /api/v1/models/{model}/versions/{version}/windows/close
 *   GET  /api/v1/models/{model}/versions/{version}/windows?limit=N
 *   GET  /api/v1/models/{model}/versions/{version}/samples?window=START&limit=N
 *                                                              redacted text examples
 *   POST /api/v1/records                                       NDJSON or JSON array
 *   POST /api/v1/labels                                        NDJSON of delayed labels
 *   GET  /api/v1/models/{model}/versions/{version}/performance?limit=N
 *   GET  /api/v1/models/{model}/canary?limit=N                 canary comparisons
 *   GET  /api/v1/rules, PUT /api/v1/rules                      alert rules (YAML or JSON)
 *   GET  /api/v1/alerts?history=N                              alerts and their history
 *   /api/v1/probes[/{set}[/runs|/run]]                         golden-prompt probes (probes_api.c)
 *   /api/v1/registry/...                                       model registry (routes_registry.c)
 *   POST /v1/traces                                            OTLP/HTTP traces (routes_otlp.c)
 */
#include "server/daemon.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX "/api/v1/models/"

static int is(const mw_http_request *r, const char *method) {
    return !strcmp(r->method, method);
}

void mw_route_method_not_allowed(mw_http_response *resp, const char *allow) {
    mw_http_add_header(resp, "Allow", allow);
    char msg[128];
    snprintf(msg, sizeof msg, "method not allowed here; use %s", allow);
    mw_http_set_error(resp, 405, "method_not_allowed", msg, 0);
}

static void from_status(mw_http_response *resp, mw_status st, const mw_error *err) {
    const char *msg = err->message[0] ? err->message : mw_status_str(st);
    switch (st) {
    case MW_ENOTFOUND:
        mw_http_set_error(resp, 404, "not_found", msg, 0);
        break;
    case MW_EINVAL:
        mw_http_set_error(resp, 400, "invalid_request", msg, 0);
        break;
    case MW_EPARSE:
        mw_http_set_error(resp, 400, "invalid_json", msg, err->line);
        break;
    case MW_ERANGE:
        mw_http_set_error(resp, 413, "too_large", msg, 0);
        break;
    default:
        mw_http_set_error(resp, 500, "internal_error", msg, 0);
        break;
    }
}

static void take_json(mw_http_response *resp, int status, char *json) {
    if (!json) {
        mw_http_set_error(resp, 500, "internal_error", "out of memory", 0);
        return;
    }
    resp->status = status;
    resp->body = json;
    resp->body_len = strlen(json);
}

static void records(mw_daemon *d, const mw_http_request *req, mw_http_response *resp) {
    resp->route = "/api/v1/records";
    if (!is(req, "POST")) return mw_route_method_not_allowed(resp, "POST");
    atomic_fetch_add(&d->ingested_bytes, req->body_len);
    mw_ingest_result res;
    mw_error err;
    mw_error_clear(&err);
    mw_status st = mw_monitor_ingest(d->monitor, req->body, req->body_len, &res, &err);
    if (st) {
        mw_http_set_error(resp, 503, "storage_error",
                          err.message[0] ? err.message : mw_status_str(st), 0);
        return;
    }
    json_t *o = json_object(), *errs = json_array();
    json_object_set_new(o, "accepted", json_integer((json_int_t)res.accepted));
    json_object_set_new(o, "rejected", json_integer((json_int_t)res.rejected));
    for (size_t i = 0; i < res.nerrors; i++)
        json_array_append_new(errs, json_pack("{s:I,s:s}", "line", (json_int_t)res.errors[i].line,
                                              "message", res.errors[i].message));
    json_object_set_new(o, "errors", errs);
    if (res.embeddings_rejected) { /* accepted records whose embedding was left out */
        json_t *w = json_array();
        for (size_t i = 0; i < res.nwarnings; i++)
            json_array_append_new(w,
                                  json_pack("{s:I,s:s}", "line", (json_int_t)res.warnings[i].line,
                                            "message", res.warnings[i].message));
        json_object_set_new(o, "embeddings_rejected",
                            json_integer((json_int_t)res.embeddings_rejected));
        json_object_set_new(o, "warnings", w);
    }
    int status = 200;
    if (res.accepted == 0 && res.rejected > 0) {
        /* nothing accepted: a client error, with the first reason on top */
        status = 400;
        json_object_set_new(o, "error",
                            json_pack("{s:s,s:s,s:I}", "code", "invalid_record", "message",
                                      res.errors[0].message, "line",
                                      (json_int_t)res.errors[0].line));
    }
    take_json(resp, status, json_dumps(o, JSON_COMPACT));
    json_decref(o);
}

static void alerting_route(mw_daemon *d, const mw_http_request *req, mw_http_response *resp) {
    int rules = !strcmp(req->path, "/api/v1/rules");
    resp->route = rules ? "/api/v1/rules" : "/api/v1/alerts";
    if (!d->alerting)
        return mw_http_set_error(resp, 503, "not_ready", "alerting is starting", 0);
    if (rules && is(req, "PUT")) return mw_alerting_put_rules(d->alerting, d, req, resp);
    if (!is(req, "GET")) return mw_route_method_not_allowed(resp, rules ? "GET, PUT" : "GET");
    if (rules) mw_alerting_get_rules(d->alerting, resp);
    else mw_alerting_get_alerts(d->alerting, req, resp);
}

static void labels(mw_daemon *d, const mw_http_request *req, mw_http_response *resp) {
    resp->route = "/api/v1/labels";
    if (!is(req, "POST")) return mw_route_method_not_allowed(resp, "POST");
    mw_labels_result res;
    mw_error err;
    mw_error_clear(&err);
    mw_status st = mw_monitor_labels(d->monitor, req->body, req->body_len, &res, &err);
    if (st) {
        mw_http_set_error(resp, 503, "storage_error",
                          err.message[0] ? err.message : mw_status_str(st), 0);
        return;
    }
    json_t *o = json_pack("{s:I, s:I, s:I, s:I}", "matched", (json_int_t)res.matched, "unmatched",
                          (json_int_t)res.unmatched, "duplicate", (json_int_t)res.duplicate,
                          "rejected", (json_int_t)res.rejected);
    json_t *errs = json_array();
    for (size_t i = 0; i < res.nerrors; i++)
        json_array_append_new(errs, json_pack("{s:I,s:s}", "line", (json_int_t)res.errors[i].line,
                                              "message", res.errors[i].message));
    json_object_set_new(o, "errors", errs);
    int status = 200;
    if (res.rejected > 0 && res.matched + res.unmatched + res.duplicate == 0) {
        status = 400; /* nothing usable: a client error, with the first reason on top */
        json_object_set_new(o, "error",
                            json_pack("{s:s,s:s,s:I}", "code", "invalid_label", "message",
                                      res.errors[0].message, "line",
                                      (json_int_t)res.errors[0].line));
    }
    take_json(resp, status, json_dumps(o, JSON_COMPACT));
    json_decref(o);
}

static mw_format reference_format(const mw_http_request *req) {
    const char *ct = req->content_type;
    if (strstr(ct, "ndjson") || strstr(ct, "jsonl") || strstr(ct, "json")) return MW_FMT_NDJSON;
    if (strstr(ct, "csv")) return MW_FMT_CSV;
    return MW_FMT_AUTO;
}

int mw_route_query_limit(const mw_http_request *req, mw_http_response *resp, size_t *limit) {
    char lim[32];
    *limit = 20;
    if (!mw_http_query_param(req, "limit", lim, sizeof lim)) return 1;
    char *end;
    long v = strtol(lim, &end, 10);
    if (*end || v < 1 || v > 10000) {
        mw_http_set_error(resp, 400, "invalid_request",
                          "limit must be a whole number from 1 to 10000", 0);
        return 0;
    }
    *limit = (size_t)v;
    return 1;
}

static void version_route(mw_daemon *d, const mw_http_request *req, mw_http_response *resp,
                          const char *model, const char *version, const char *rest) {
    mw_error err;
    mw_error_clear(&err);
    mw_status st;
    char *json = NULL;
    if (!*rest) {
        resp->route = PREFIX "{model}/versions/{version}";
        if (is(req, "PUT")) {
            char *existing = NULL;
            int existed = mw_monitor_describe(d->monitor, model, version, &existing, &err) == MW_OK;
            free(existing);
            mw_error_clear(&err);
            if ((st = mw_monitor_register(d->monitor, model, version, req->body, &err)))
                return from_status(resp, st, &err);
            st = mw_monitor_describe(d->monitor, model, version, &json, &err);
            return st ? from_status(resp, st, &err) : take_json(resp, existed ? 200 : 201, json);
        }
        if (!is(req, "GET")) return mw_route_method_not_allowed(resp, "GET, PUT");
        st = mw_monitor_describe(d->monitor, model, version, &json, &err);
        return st ? from_status(resp, st, &err) : take_json(resp, 200, json);
    }
    if (!strcmp(rest, "/reference")) {
        resp->route = PREFIX "{model}/versions/{version}/reference";
        if (!is(req, "PUT")) return mw_route_method_not_allowed(resp, "PUT");
        /* text columns are expanded with the version's column types and
         * refusal phrases by mw_monitor_set_reference */
        mw_read_options ro = {.format = reference_format(req), .no_text_inference = 1};
        ro.expand_arrays = 1; /* NDJSON "embedding" arrays (window_embedding.c) */
        mw_table *t = NULL;
        char name[340];
        snprintf(name, sizeof name, "reference of %s/%s", model, version);
        if ((st = mw_table_read_mem(name, req->body, req->body_len, &ro, &t, &err))) {
            mw_http_set_error(resp, 400, "invalid_reference", err.message, err.line);
            return;
        }
        st = mw_monitor_set_reference(d->monitor, model, version, t, &err);
        mw_table_free(t);
        if (st) return from_status(resp, st, &err);
        st = mw_monitor_describe(d->monitor, model, version, &json, &err);
        return st ? from_status(resp, st, &err) : take_json(resp, 200, json);
    }
    if (!strcmp(rest, "/windows/close")) {
        resp->route = PREFIX "{model}/versions/{version}/windows/close";
        if (!is(req, "POST")) return mw_route_method_not_allowed(resp, "POST");
        if ((st = mw_monitor_close_window(d->monitor, model, version, &json, &err)))
            return from_status(resp, st, &err);
        if (!json) {
            mw_http_set_error(resp, 409, "empty_window", "the open window has no records", 0);
            return;
        }
        return take_json(resp, 200, json);
    }
    if (!strcmp(rest, "/performance")) {
        resp->route = PREFIX "{model}/versions/{version}/performance";
        if (!is(req, "GET")) return mw_route_method_not_allowed(resp, "GET");
        size_t limit;
        if (!mw_route_query_limit(req, resp, &limit)) return;
        if ((st = mw_monitor_performance(d->monitor, model, version, limit, &json, &err)))
            return from_status(resp, st, &err);
        size_t n = strlen(json);
        char *out = malloc(n + 20);
        if (out) sprintf(out, "{\"windows\":%s}", json);
        free(json);
        return take_json(resp, 200, out);
    }
    if (!strcmp(rest, "/samples")) {
        resp->route = PREFIX "{model}/versions/{version}/samples";
        if (!is(req, "GET")) return mw_route_method_not_allowed(resp, "GET");
        size_t limit;
        if (!mw_route_query_limit(req, resp, &limit)) return;
        char win[64];
        double start = NAN;
        if (mw_http_query_param(req, "window", win, sizeof win) &&
            !mw_parse_double(win, strlen(win), &start)) {
            mw_http_set_error(resp, 400, "invalid_request",
                              "window must be a window start in seconds since the epoch", 0);
            return;
        }
        if ((st = mw_monitor_text_samples(d->monitor, model, version, start, limit, &json, &err)))
            return from_status(resp, st, &err);
        char *out = malloc(strlen(json) + 20);
        if (out) sprintf(out, "{\"windows\":%s}", json);
        free(json);
        return take_json(resp, 200, out);
    }
    if (!strcmp(rest, "/windows")) {
        resp->route = PREFIX "{model}/versions/{version}/windows";
        if (!is(req, "GET")) return mw_route_method_not_allowed(resp, "GET");
        size_t limit;
        if (!mw_route_query_limit(req, resp, &limit)) return;
        char **rows;
        size_t n;
        if ((st = mw_monitor_windows(d->monitor, model, version, limit, &rows, &n, &err)))
            return from_status(resp, st, &err);
        /* stored results are JSON text already: splice them into an array */
        size_t total = 16;
        for (size_t i = 0; i < n; i++)
            total += strlen(rows[i]) + 1;
        char *out = malloc(total);
        if (out) {
            size_t k = (size_t)sprintf(out, "{\"windows\":[");
            for (size_t i = 0; i < n; i++)
                k += (size_t)sprintf(out + k, "%s%s", i ? "," : "", rows[i]);
            sprintf(out + k, "]}");
        }
        for (size_t i = 0; i < n; i++)
            free(rows[i]);
        free(rows);
        return take_json(resp, 200, out);
    }
    mw_http_set_error(resp, 404, "not_found", "no such endpoint", 0);
}

/* GET /api/v1/models/{model}/canary?limit=N */
static void canary_route(mw_daemon *d, const mw_http_request *req, mw_http_response *resp,
                         const char *model) {
    resp->route = PREFIX "{model}/canary";
    if (!is(req, "GET")) return mw_route_method_not_allowed(resp, "GET");
    size_t limit;
    if (!mw_route_query_limit(req, resp, &limit)) return;
    mw_error err;
    mw_error_clear(&err);
    char *json = NULL;
    mw_status st = mw_monitor_canary(d->monitor, model, limit, &json, &err);
    if (st) return from_status(resp, st, &err);
    char *out = malloc(strlen(json) + 20);
    if (out) sprintf(out, "{\"comparisons\":%s}", json);
    free(json);
    take_json(resp, 200, out);
}

/* /api/v1/models/{model}/versions/{version}[/...] and /api/v1/models/{model}/canary */
static void models_route(mw_daemon *d, const mw_http_request *req, mw_http_response *resp) {
    const char *p = req->path + strlen(PREFIX);
    const char *slash = strchr(p, '/');
    if (slash && !strcmp(slash, "/canary") && slash - p > 0 && slash - p <= 128) {
        char model[160];
        memcpy(model, p, (size_t)(slash - p));
        model[slash - p] = 0;
        return canary_route(d, req, resp, model);
    }
    if (!slash || strncmp(slash, "/versions/", 10)) {
        mw_http_set_error(resp, 404, "not_found",
                          "expected /api/v1/models/{model}/versions/{version}", 0);
        return;
    }
    char model[160], version[160];
    size_t ml = (size_t)(slash - p);
    const char *vp = slash + 10;
    const char *vend = strchr(vp, '/');
    size_t vl = vend ? (size_t)(vend - vp) : strlen(vp);
    if (ml == 0 || ml >= sizeof model || vl == 0 || vl >= sizeof version) {
        mw_http_set_error(resp, 400, "invalid_request",
                          "model and version names are 1 to 128 characters", 0);
        return;
    }
    memcpy(model, p, ml);
    model[ml] = 0;
    memcpy(version, vp, vl);
    version[vl] = 0;
    version_route(d, req, resp, model, version, vend ? vend : "");
}

void mw_daemon_handle(const mw_http_request *req, mw_http_response *resp, void *ctx) {
    mw_daemon *d = ctx;
    const char *path = req->path;
    if (!strcmp(path, "/healthz")) {
        resp->route = "/healthz";
        mw_http_set_json(resp, 200, "{\"status\":\"ok\"}");
    } else if (!strcmp(path, "/readyz")) {
        resp->route = "/readyz";
        if (d->ready)
            mw_http_set_json(resp, 200, "{\"status\":\"ready\"}");
        else
            mw_http_set_error(resp, 503, "not_ready", "starting up", 0);
    } else if (!strcmp(path, "/metrics")) {
        resp->route = "/metrics";
        if (!is(req, "GET")) return mw_route_method_not_allowed(resp, "GET");
        int om = mw_expo_wants_openmetrics(req->accept);
        mw_expo e;
        mw_expo_init(&e, om);
        mw_status st = mw_daemon_write_metrics(d, &e);
        if (!st) st = mw_http_write_metrics(d->http, &e);
        if (!st) st = mw_expo_finish(&e);
        if (st || e.failed) {
            mw_expo_free(&e);
            mw_http_set_error(resp, 500, "internal_error", "writing metrics failed", 0);
            return;
        }
        resp->content_type = mw_expo_content_type(om);
        resp->body = mw_expo_take(&e, &resp->body_len);
    } else if (!strcmp(path, "/api/v1/records")) {
        records(d, req, resp);
    } else if (!strcmp(path, "/v1/traces")) {
        mw_otlp_route(d, req, resp);
    } else if (!strcmp(path, "/api/v1/labels")) {
        labels(d, req, resp);
    } else if (!strcmp(path, "/api/v1/rules") || !strcmp(path, "/api/v1/alerts")) {
        alerting_route(d, req, resp);
    } else if (!strcmp(path, "/api/v1/models") || !strcmp(path, "/api/v1/models/")) {
        resp->route = "/api/v1/models";
        if (!is(req, "GET")) return mw_route_method_not_allowed(resp, "GET");
        char *json;
        if (mw_monitor_describe_all(d->monitor, &json)) json = NULL;
        take_json(resp, 200, json);
    } else if (!strncmp(path, PREFIX, strlen(PREFIX))) {
        models_route(d, req, resp);
    } else if (!strcmp(path, "/api/v1/probes") || !strncmp(path, "/api/v1/probes/", 15)) {
        mw_probes_route(d->probes, req, resp);
    } else if (!strncmp(path, "/api/v1/registry/", strlen("/api/v1/registry/"))) {
        mw_registry_route(d, req, resp);
    } else {
        mw_http_set_error(resp, 404, "not_found", "no such endpoint; the API lives under /api/v1/",
                          0);
    }
}
