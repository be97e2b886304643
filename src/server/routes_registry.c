/*
 * The registry's HTTP API (registry.h), kept small: reading, registering a
 * version and moving an alias (with promote's checks). Writes drop the
 * monitor's registry cache, so the next record batch sees them.
 *
 *   GET /api/v1/registry/models                          models, versions, aliases
 *   GET /api/v1/registry/models/{model}
 *   GET /api/v1/registry/models/{model}/versions/{v}     v may be @ALIAS
 *   PUT /api/v1/registry/models/{model}/versions/{v}     {"description", "artifact_uri",
 *                                  "sha256", "signature": {...}, "tags": {...}}  -> 201
 *   GET /api/v1/registry/models/{model}/aliases/{alias}  {"model", "alias", "version"}
 *   PUT /api/v1/registry/models/{model}/aliases/{alias}  {"version", "who", "reason",
 *                                  "require_gate", "force"}: promote; 409 when refused
 *   GET /api/v1/registry/audit?model=M&alias=A&limit=N
 */
#include "server/daemon.h"

#include "modelwatch/registry.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REG "/api/v1/registry/models"

static void fail(mw_http_response *resp, mw_status st, const mw_error *err) {
    const char *msg = err->message[0] ? err->message : mw_status_str(st);
    if (st == MW_ENOTFOUND)
        mw_http_set_error(resp, 404, "not_found", msg, 0);
    else if (st == MW_EINVAL || st == MW_EPARSE)
        mw_http_set_error(resp, 400, "invalid_request", msg, 0);
    else
        mw_http_set_error(resp, 500, "internal_error", msg, 0);
}

static void reply(mw_http_response *resp, int status, mw_status st, const mw_error *err,
                  char *json) {
    if (st) return fail(resp, st, err);
    mw_http_set_json(resp, status, json);
    free(json);
}

static int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static json_t *body_object(const mw_http_request *req, mw_http_response *resp) {
    json_error_t je;
    json_t *o = json_loadb(req->body ? req->body : "", req->body_len, 0, &je);
    if (json_is_object(o)) return o;
    json_decref(o);
    char msg[256];
    snprintf(msg, sizeof msg, "the body must be a JSON object%s%s", o ? "" : ": ",
             o ? "" : je.text);
    mw_http_set_error(resp, 400, "invalid_json", msg, 0);
    return NULL;
}

static const char *text(const json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

static void put_version(mw_daemon *d, mw_store *s, const mw_http_request *req,
                        mw_http_response *resp, const char *model, const char *version) {
    json_t *b = body_object(req, resp);
    if (!b) return;
    char *sig = json_is_object(json_object_get(b, "signature"))
                    ? json_dumps(json_object_get(b, "signature"), JSON_COMPACT)
                    : NULL;
    char *tags =
        json_object_get(b, "tags") ? json_dumps(json_object_get(b, "tags"), JSON_COMPACT) : NULL;
    mw_registry_version_spec spec = {.description = text(b, "description"),
                                     .artifact_uri = text(b, "artifact_uri"),
                                     .sha256 = text(b, "sha256"),
                                     .signature_json = sig,
                                     .tags_json = tags};
    mw_error err;
    mw_status st = mw_registry_put_version(s, model, version, &spec, now_ms(), &err);
    free(sig);
    free(tags);
    json_decref(b);
    char *json = NULL;
    if (!st) {
        mw_monitor_registry_changed(d->monitor);
        st = mw_registry_get_version(s, model, version, &json, &err);
    }
    reply(resp, 201, st, &err, json);
}

static void put_alias(mw_daemon *d, mw_store *s, const mw_http_request *req, mw_http_response *resp,
                      const char *model, const char *alias) {
    json_t *b = body_object(req, resp);
    if (!b) return;
    const char *version = text(b, "version");
    if (!version) {
        json_decref(b);
        return mw_http_set_error(resp, 400, "invalid_request",
                                 "the body needs \"version\" (the alias's new version)", 0);
    }
    mw_promote_options po = {.require_gate = json_is_true(json_object_get(b, "require_gate")),
                             .force = json_is_true(json_object_get(b, "force")),
                             .who = text(b, "who") ? text(b, "who") : "api",
                             .why = text(b, "reason") ? text(b, "reason") : "",
                             .now_ms = now_ms()};
    mw_promote_result r;
    mw_error err;
    mw_status st = mw_registry_promote(s, model, version, alias, &po, &r, &err);
    if (st) {
        mw_promote_result_free(&r);
        json_decref(b);
        return fail(resp, st, &err);
    }
    if (r.refused) {
        mw_http_set_error(resp, 409, "promotion_refused", r.message, 0);
    } else {
        mw_monitor_registry_changed(d->monitor);
        json_t *o = json_pack("{s:s, s:s, s:s, s:o, s:s}", "model", model, "alias", alias,
                              "version", version, "from",
                              r.from ? json_string(r.from) : json_null(), "message", r.message);
        char *json = json_dumps(o, JSON_COMPACT);
        json_decref(o);
        mw_http_set_json(resp, 200, json);
        free(json);
    }
    mw_promote_result_free(&r);
    json_decref(b); /* version, who and why were borrowed from it */
}

/* {model}[/versions/{v} | /aliases/{a}] after REG "/" */
static void model_route(mw_daemon *d, mw_store *s, const mw_http_request *req,
                        mw_http_response *resp, const char *p) {
    char model[300], kind[16], name[300];
    const char *slash = strchr(p, '/');
    size_t ml = slash ? (size_t)(slash - p) : strlen(p);
    if (ml == 0 || ml >= sizeof model)
        return mw_http_set_error(resp, 400, "invalid_request", "model name is 1 to 256 bytes", 0);
    memcpy(model, p, ml);
    model[ml] = 0;
    mw_error err;
    char *json = NULL;
    if (!slash) {
        resp->route = REG "/{model}";
        if (strcmp(req->method, "GET"))
            return mw_http_set_error(resp, 405, "method_not_allowed", "use GET", 0);
        mw_status st = mw_registry_list(s, model, &json, &err);
        return reply(resp, 200, st, &err, json);
    }
    if (sscanf(slash, "/%15[a-z]/%299[^/]", kind, name) != 2 ||
        strchr(slash + 1 + strlen(kind) + 1, '/'))
        return mw_http_set_error(resp, 404, "not_found",
                                 "expected " REG "/{model}/versions/{version} or /aliases/{alias}",
                                 0);
    int get = !strcmp(req->method, "GET"), put = !strcmp(req->method, "PUT");
    if (!get && !put)
        return mw_http_set_error(resp, 405, "method_not_allowed", "use GET or PUT", 0);
    if (!strcmp(kind, "versions")) {
        resp->route = REG "/{model}/versions/{version}";
        if (put) return put_version(d, s, req, resp, model, name);
        char *v = NULL;
        mw_status st = name[0] == '@' ? mw_registry_get_alias(s, model, name + 1, &v, &err) : MW_OK;
        if (!st) st = mw_registry_get_version(s, model, v ? v : name, &json, &err);
        free(v);
        return reply(resp, 200, st, &err, json);
    }
    if (!strcmp(kind, "aliases")) {
        resp->route = REG "/{model}/aliases/{alias}";
        if (put) return put_alias(d, s, req, resp, model, name);
        char *v = NULL;
        mw_status st = mw_registry_get_alias(s, model, name, &v, &err);
        if (!st) {
            json_t *o = json_pack("{s:s, s:s, s:s}", "model", model, "alias", name, "version", v);
            json = json_dumps(o, JSON_COMPACT);
            json_decref(o);
        }
        free(v);
        return reply(resp, 200, st, &err, json);
    }
    mw_http_set_error(resp, 404, "not_found", "expected versions or aliases", 0);
}

void mw_registry_route(mw_daemon *d, const mw_http_request *req, mw_http_response *resp) {
    mw_store *s = mw_monitor_store(d->monitor);
    resp->route = "/api/v1/registry";
    if (!s)
        return mw_http_set_error(resp, 503, "no_registry",
                                 "the daemon runs without a database, so without a registry", 0);
    const char *path = req->path;
    mw_error err;
    char *json = NULL;
    if (!strcmp(path, "/api/v1/registry/audit")) {
        resp->route = "/api/v1/registry/audit";
        if (strcmp(req->method, "GET"))
            return mw_http_set_error(resp, 405, "method_not_allowed", "use GET", 0);
        char model[300], alias[80], lim[16];
        int hm = mw_http_query_param(req, "model", model, sizeof model);
        int ha = mw_http_query_param(req, "alias", alias, sizeof alias);
        long limit =
            mw_http_query_param(req, "limit", lim, sizeof lim) ? strtol(lim, NULL, 10) : 100;
        if (limit < 0) limit = 100;
        mw_status st =
            mw_registry_audit(s, hm ? model : NULL, ha ? alias : NULL, (size_t)limit, &json, &err);
        return reply(resp, 200, st, &err, json);
    }
    if (!strcmp(path, REG) || !strcmp(path, REG "/")) {
        resp->route = REG;
        if (strcmp(req->method, "GET"))
            return mw_http_set_error(resp, 405, "method_not_allowed", "use GET", 0);
        mw_status st = mw_registry_list(s, NULL, &json, &err);
        return reply(resp, 200, st, &err, json);
    }
    if (!strncmp(path, REG "/", strlen(REG "/")))
        return model_route(d, s, req, resp, path + strlen(REG "/"));
    mw_http_set_error(resp, 404, "not_found", "no such registry endpoint", 0);
}
