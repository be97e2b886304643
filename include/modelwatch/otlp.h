/*
 * modelwatch OTLP: OpenTelemetry traces (OTLP/HTTP, JSON encoding) as
 * prediction records.
 *
 * Two layers:
 *  - mw_otlp_parse: a streaming reader of an ExportTraceServiceRequest in the
 *    OTLP JSON mapping (resourceSpans[].scopeSpans[].spans[]; ids hex, 64-bit
 *    integers as JSON strings or numbers, enums as numbers or names), and
 *    mw_otlp_parse_proto for the protobuf encoding. Both hand each span, with
 *    its attributes and events, to a callback. Views are valid during the
 *    callback only.
 *  - mw_otlp_map: GenAI spans (semantic conventions gen_ai.*) to NDJSON record
 *    lines for mw_monitor_ingest, with a configurable mapping of model names
 *    to registered (model, version).
 * Neither does I/O; both are safe to call from many threads on one map.
 */
#ifndef MODELWATCH_OTLP_H
#define MODELWATCH_OTLP_H

#include "modelwatch/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mw_otlp_kind {
    MW_OTLP_NONE = 0, /* no value, or a kvlistValue / bytesValue (not read) */
    MW_OTLP_STRING,
    MW_OTLP_INT, /* number holds it (exact up to 2^53) */
    MW_OTLP_DOUBLE,
    MW_OTLP_BOOL,  /* number is 0 or 1 */
    MW_OTLP_ARRAY, /* str: the first string element (NULL if none); number: element count */
} mw_otlp_kind;

/* One attribute; strings are decoded (not NUL-terminated). */
typedef struct mw_otlp_attr {
    const char *key;
    size_t key_len;
    mw_otlp_kind kind;
    const char *str;
    size_t str_len;
    double number;
} mw_otlp_attr;

typedef struct mw_otlp_event {
    const char *name;
    size_t name_len;
    uint64_t time_ns; /* 0 when absent */
} mw_otlp_event;

typedef struct mw_otlp_span {
    uint64_t index; /* 1-based position of the span in the request */
    const char *name;
    size_t name_len;
    uint64_t start_ns, end_ns; /* 0 when absent */
    int status_code;           /* 0 unset, 1 ok, 2 error */
    const mw_otlp_attr *attrs;
    size_t nattrs;
    const mw_otlp_event *events;
    size_t nevents;
    /* non-NULL when a field has the wrong type or value (a bad intValue, a
     * time that is not a whole number, too many attributes): the span is
     * readable but should be rejected with this message */
    const char *invalid;
} mw_otlp_span;

#define MW_OTLP_MAX_ATTRS 1024    /* per span, and per event */
#define MW_OTLP_MAX_EVENTS 1024   /* per span */
#define MW_OTLP_MAX_DEPTH 64      /* JSON nesting */
#define MW_OTLP_MAX_SPANS 1000000 /* per request */

/* Callback per span; return non-zero to stop (mw_otlp_parse then returns MW_OK). */
typedef int (*mw_otlp_span_fn)(const mw_otlp_span *span, void *ctx);

/*
 * Reads an ExportTraceServiceRequest. Unknown fields are skipped (as the OTLP
 * JSON rules require); both lowerCamelCase and snake_case names of the known
 * fields are read. MW_EPARSE when the body is not well-formed JSON or a known
 * field has the wrong JSON type at the structural level (resourceSpans not an
 * array, ...), with err naming the byte offset and what stood there; spans
 * before the error have been handed to fn already. MW_ERANGE past
 * MW_OTLP_MAX_SPANS spans. An empty body reads as no spans.
 */
mw_status mw_otlp_parse(const char *body, size_t len, mw_otlp_span_fn fn, void *ctx, mw_error *err);

/*
 * The same for the protobuf encoding (application/x-protobuf). MW_EPARSE when
 * a key, length or value runs past its message or a known field has the wrong
 * wire type (err names the byte offset); MW_ERANGE past MW_OTLP_MAX_SPANS.
 */
mw_status mw_otlp_parse_proto(const char *body, size_t len, mw_otlp_span_fn fn, void *ctx,
                              mw_error *err);

typedef enum mw_otlp_encoding { MW_OTLP_JSON = 0, MW_OTLP_PROTOBUF } mw_otlp_encoding;

/* The attribute called key (NUL-terminated), or NULL. */
const mw_otlp_attr *mw_otlp_find(const mw_otlp_span *span, const char *key);

/* ---- mapping spans to records ----------------------------------------------------- */

typedef struct mw_otlp_map mw_otlp_map;

/*
 * The mapping from its JSON configuration (the YAML `otlp:` section):
 *   {"models": [{"match": "gpt-4o*", "model": "chat", "version": "@production",
 *                "operation": "chat"}],       operation: optional glob on gen_ai.operation.name
 *    "default": {"model": "chat", "version": "1"},   optional: spans no rule matches
 *    "features": ["gen_ai.request.temperature"],     attributes copied as features
 *    "first_chunk_event": "gen_ai.first_chunk",      optional event name for ttft
 *    "content": true}                                read gen_ai.input/output.messages
 * "match" is a glob (fnmatch) on gen_ai.request.model, or on
 * gen_ai.response.model when the request model is absent; rules are tried in
 * order. NULL or "" json: no rules, no default (every GenAI span is unmapped).
 * Errors name the key.
 */
mw_status mw_otlp_map_new(const char *json, mw_otlp_map **out, mw_error *err);
void mw_otlp_map_free(mw_otlp_map *map);

/* What became of each span of a request. */
typedef enum mw_otlp_result {
    MW_OTLP_MAPPED = 0, /* a record line was written */
    MW_OTLP_NOT_GENAI,  /* no gen_ai.operation.name / gen_ai.system / gen_ai.provider.name */
    MW_OTLP_UNMAPPED,   /* GenAI, but no rule and no default for its model */
    MW_OTLP_INVALID,    /* a GenAI attribute or the span's times are malformed */
    MW_OTLP_RESULTS
} mw_otlp_result;
const char *mw_otlp_result_name(mw_otlp_result r); /* "mapped", "not_genai", ... */

#define MW_OTLP_MAX_ERRORS 20
typedef struct mw_otlp_batch {
    char *ndjson; /* malloc'd NDJSON record lines (caller frees), NUL-terminated */
    size_t ndjson_len;
    uint64_t
        *line_span; /* line k (1-based) of ndjson came from span line_span[k-1] (caller frees) */
    uint64_t nlines;
    uint64_t spans;                   /* spans read */
    uint64_t counts[MW_OTLP_RESULTS]; /* by result */
    size_t nerrors;                   /* first MW_OTLP_MAX_ERRORS unmapped / invalid spans */
    struct {
        uint64_t span;
        mw_otlp_result result;
        char message[200];
    } errors[MW_OTLP_MAX_ERRORS];
} mw_otlp_batch;

/*
 * Maps a request body to record lines (mw_record format, README "A record"):
 * model and version from the mapping, ts = end time, latency_ms = end - start,
 * llm.input_tokens / output_tokens from gen_ai.usage.*, finish_reason = the
 * first of gen_ai.response.finish_reasons, error = error.type (or "_OTHER"
 * when the status is ERROR without one), ttft_ms from
 * gen_ai.response.time_to_first_chunk (seconds) or the first_chunk_event,
 * prompt / completion = the text parts of gen_ai.input.messages /
 * gen_ai.output.messages (JSON strings) when content is on, features from the
 * listed attributes. enc says how body is encoded. On MW_EPARSE / MW_ERANGE (a malformed body) the
 * batch is freed and empty: nothing of it should be ingested.
 */
mw_status mw_otlp_map_body(const mw_otlp_map *map, mw_otlp_encoding enc, const char *body,
                           size_t len, mw_otlp_batch *out, mw_error *err);
void mw_otlp_batch_free(mw_otlp_batch *b);

#ifdef __cplusplus
}
#endif
#endif
