/*
 * POST /v1/traces: OpenTelemetry traces over OTLP/HTTP, JSON or protobuf
 * encoding (OTLP specification, "OTLP/HTTP"), and their counters in /metrics.
 *
 * The body (gunzipped and size-limited by http.c) is mapped to NDJSON record
 * lines by mw_otlp_map_body (src/data/otlp_map.c: GenAI spans only, model
 * names mapped by the `otlp:` configuration), which then go through
 * mw_monitor_ingest exactly as a POST /api/v1/records body: same checks,
 * aliases, windows, journal and serving telemetry.
 *
 * Answers, as the OTLP specification asks:
 *   200 {} when every span was taken (non-GenAI spans are taken and ignored);
 *   200 {"partialSuccess": {"rejectedSpans": n, "errorMessage": "..."}} when
 *       GenAI spans were unmapped, invalid or refused by the monitor (unknown
 *       version, no baseline, ...); a "modelwatch" member adds the counts;
 *   400 with a google.rpc.Status-shaped body {"code": 3, "message": ...}
 *       (plus our "error" object) when the body is not a well-formed request:
 *       then nothing of it is ingested;
 *   415 for a content type other than application/json and
 *       application/x-protobuf; 503 when the journal cannot be written
 *       (retryable).
 * Answers to protobuf requests are protobuf (Content-Type application/x-protobuf),
 * as the specification asks and as exporters that decode them expect:
 * ExportTraceServiceResponse {1: partial_success {1: rejected_spans, 2:
 * error_message}} (empty on full success) and google.rpc.Status {1: code,
 * 2: message} for errors.
 */
#include "core/util.h"
#include "modelwatch/otlp.h"
#include "server/daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum { REQ_OK, REQ_PARTIAL, REQ_MALFORMED, REQ_UNSUPPORTED, REQ_ERROR, REQ_COUNT };
static const char *const req_names[REQ_COUNT] = {"ok", "partial", "malformed",
                                                 "unsupported_media_type", "error"};
/* span results: the mapper's, then "accepted" and "rejected" by the monitor */
enum { SPAN_ACCEPTED = MW_OTLP_RESULTS, SPAN_REJECTED, SPAN_COUNT };

struct mw_otlp_state {
    mw_otlp_map *map;
    atomic_uint_fast64_t spans[SPAN_COUNT];
    atomic_uint_fast64_t requests[REQ_COUNT];
};

mw_status mw_otlp_state_new(const char *config_json, mw_otlp_state **out, mw_error *err) {
    *out = calloc(1, sizeof **out);
    if (!*out) return MW_ENOMEM;
    mw_status st = mw_otlp_map_new(config_json, &(*out)->map, err);
    if (st) {
        free(*out);
        *out = NULL;
    }
    return st;
}

void mw_otlp_state_free(mw_otlp_state *s) {
    if (!s) return;
    mw_otlp_map_free(s->map);
    free(s);
}

/* The media type without parameters is `type`. */
static int media_is(const char *ct, const char *type) {
    size_t n = strcspn(ct, ";");
    while (n && (ct[n - 1] == ' ' || ct[n - 1] == '\t'))
        n--;
    return n == strlen(type) && !strncasecmp(ct, type, n);
}

static void pb_varint(mw_buf *b, uint64_t v) {
    do {
        mw_buf_u8(b, (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0)));
        v >>= 7;
    } while (v);
}

/* A message {1: varint, 2: string} (google.rpc.Status, ExportTracePartialSuccess). */
static void pb_pair(mw_buf *b, uint64_t one, const char *two) {
    pb_varint(b, 1 << 3);
    pb_varint(b, one);
    pb_varint(b, 2 << 3 | 2);
    pb_varint(b, strlen(two));
    mw_buf_put(b, two, strlen(two));
}

/* Takes a protobuf answer (b) as the body. */
static void pb_answer(mw_http_response *resp, int status, mw_buf *b) {
    if (b->failed) {
        free(b->data);
        return mw_http_set_error(resp, 500, "internal_error", "out of memory", 0);
    }
    resp->status = status;
    resp->content_type = "application/x-protobuf";
    resp->body = (char *)b->data;
    resp->body_len = b->len;
}

static void fail(mw_otlp_state *s, mw_http_response *resp, mw_otlp_encoding enc, int req,
                 int status, int grpc, const char *code, const char *msg) {
    atomic_fetch_add(&s->requests[req], 1);
    if (enc == MW_OTLP_PROTOBUF) {
        mw_buf b = {0};
        pb_pair(&b, (uint64_t)grpc, msg);
        return pb_answer(resp, status, &b);
    }
    json_t *o = json_pack("{s:i,s:s,s:{s:s,s:s}}", "code", grpc, "message", msg, "error", "code",
                          code, "message", msg);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (!body) return mw_http_set_error(resp, 500, "internal_error", "out of memory", 0);
    resp->status = status;
    resp->body = body;
    resp->body_len = strlen(body);
}

void mw_otlp_route(mw_daemon *d, const mw_http_request *req, mw_http_response *resp) {
    resp->route = "/v1/traces";
    mw_otlp_state *s = d->otlp;
    if (strcmp(req->method, "POST")) {
        mw_http_add_header(resp, "Allow", "POST");
        return mw_http_set_error(resp, 405, "method_not_allowed",
                                 "method not allowed here; use POST", 0);
    }
    mw_otlp_encoding enc = MW_OTLP_JSON;
    if (media_is(req->content_type, "application/x-protobuf")) {
        enc = MW_OTLP_PROTOBUF;
    } else if (!media_is(req->content_type, "application/json")) {
        char msg[200];
        snprintf(msg, sizeof msg,
                 "Content-Type \"%.60s\" is not supported: send OTLP/HTTP as "
                 "application/x-protobuf or application/json",
                 req->content_type);
        return fail(s, resp, MW_OTLP_JSON, REQ_UNSUPPORTED, 415, 3, "unsupported_media_type", msg);
    }
    atomic_fetch_add(&d->ingested_bytes, req->body_len);
    mw_otlp_batch b;
    mw_error err;
    mw_error_clear(&err);
    mw_status st = mw_otlp_map_body(s->map, enc, req->body, req->body_len, &b, &err);
    if (st == MW_EPARSE || st == MW_ERANGE)
        return fail(s, resp, enc, REQ_MALFORMED, 400, 3, "invalid_otlp", err.message);
    if (st) return fail(s, resp, enc, REQ_ERROR, 500, 13, "internal_error", err.message);
    mw_ingest_result res;
    memset(&res, 0, sizeof res);
    if (b.nlines) st = mw_monitor_ingest(d->monitor, b.ndjson, b.ndjson_len, &res, &err);
    if (st) {
        mw_otlp_batch_free(&b);
        return fail(s, resp, enc, REQ_ERROR, 503, 14, "storage_error",
                    err.message[0] ? err.message : mw_status_str(st));
    }
    for (int r = 0; r < MW_OTLP_RESULTS; r++)
        if (r != MW_OTLP_MAPPED) atomic_fetch_add(&s->spans[r], b.counts[r]);
    atomic_fetch_add(&s->spans[MW_OTLP_MAPPED], b.counts[MW_OTLP_MAPPED]);
    atomic_fetch_add(&s->spans[SPAN_ACCEPTED], res.accepted);
    atomic_fetch_add(&s->spans[SPAN_REJECTED], res.rejected);
    uint64_t rejected = b.counts[MW_OTLP_UNMAPPED] + b.counts[MW_OTLP_INVALID] + res.rejected;
    /* the first reason: the mapper's, or the monitor's with its line turned into the span */
    char first[320] = "";
    if (b.nerrors)
        snprintf(first, sizeof first, "%s", b.errors[0].message);
    else if (res.nerrors && res.errors[0].line >= 1 && res.errors[0].line <= b.nlines)
        snprintf(first, sizeof first, "span %llu: %s",
                 (unsigned long long)b.line_span[res.errors[0].line - 1], res.errors[0].message);
    char msg[400];
    snprintf(msg, sizeof msg, "%llu of %llu spans rejected; first: %s",
             (unsigned long long)rejected, (unsigned long long)b.spans, first);
    if (enc == MW_OTLP_PROTOBUF) {
        atomic_fetch_add(&s->requests[rejected ? REQ_PARTIAL : REQ_OK], 1);
        mw_otlp_batch_free(&b);
        mw_buf inner = {0}, out = {0};
        if (rejected) {
            pb_pair(&inner, rejected, msg);
            pb_varint(&out, 1 << 3 | 2);
            pb_varint(&out, inner.len);
            mw_buf_put(&out, inner.data, inner.len);
            out.failed |= inner.failed;
        }
        free(inner.data);
        return pb_answer(resp, 200, &out);
    }
    json_t *o = json_object();
    if (rejected) {
        json_object_set_new(
            o, "partialSuccess",
            json_pack("{s:I,s:s}", "rejectedSpans", (json_int_t)rejected, "errorMessage", msg));
    }
    json_object_set_new(
        o, "modelwatch",
        json_pack("{s:I,s:I,s:I,s:I,s:I,s:I}", "spans", (json_int_t)b.spans, "accepted",
                  (json_int_t)res.accepted, "not_genai", (json_int_t)b.counts[MW_OTLP_NOT_GENAI],
                  "unmapped", (json_int_t)b.counts[MW_OTLP_UNMAPPED], "invalid",
                  (json_int_t)b.counts[MW_OTLP_INVALID], "rejected", (json_int_t)res.rejected));
    mw_otlp_batch_free(&b);
    atomic_fetch_add(&s->requests[rejected ? REQ_PARTIAL : REQ_OK], 1);
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (!body) return mw_http_set_error(resp, 500, "internal_error", "out of memory", 0);
    resp->status = 200;
    resp->body = body;
    resp->body_len = strlen(body);
}

mw_status mw_otlp_write_metrics(mw_daemon *d, mw_expo *e) {
    mw_otlp_state *s = d->otlp;
    if (!s) return MW_OK;
    static const char *const span_names[SPAN_COUNT] = {"mapped",  "not_genai", "unmapped",
                                                       "invalid", "accepted",  "rejected"};
    mw_status st = mw_expo_family(
        e, "modelwatch_otlp_spans_total", MW_EXPO_COUNTER,
        "Spans received on POST /v1/traces by result: not_genai (ignored), unmapped (no "
        "otlp.models rule), invalid (malformed GenAI attributes), mapped to a record, and of "
        "those accepted or rejected by the monitor (see modelwatch_records_rejected_total).");
    const char *n[1] = {"result"};
    for (int i = 0; i < SPAN_COUNT && !st; i++) {
        const char *v[1] = {span_names[i]};
        st = mw_expo_sample_u64(e, NULL, n, v, 1, atomic_load(&s->spans[i]));
    }
    if (!st)
        st = mw_expo_family(e, "modelwatch_otlp_requests_total", MW_EXPO_COUNTER,
                            "OTLP export requests by result: ok, partial (some spans rejected), "
                            "malformed (400), unsupported_media_type (415), error (5xx).");
    for (int i = 0; i < REQ_COUNT && !st; i++) {
        const char *v[1] = {req_names[i]};
        st = mw_expo_sample_u64(e, NULL, n, v, 1, atomic_load(&s->requests[i]));
    }
    return st;
}
