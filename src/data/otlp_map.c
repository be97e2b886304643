/*
 * GenAI spans to prediction records (include/modelwatch/otlp.h, mw_otlp_map).
 *
 * A span is a GenAI span when it has gen_ai.operation.name, gen_ai.system or
 * gen_ai.provider.name (OpenTelemetry semantic conventions for generative AI,
 * "gen-ai-spans.md"). Each becomes one NDJSON record line, so that OTLP input
 * takes exactly the path of POST /api/v1/records (parsing, aliases, windows,
 * journal, serving telemetry):
 *
 *   record field        from the span
 *   model, version      the first rule whose glob matches gen_ai.request.model
 *                       (else gen_ai.response.model), optionally filtered on
 *                       gen_ai.operation.name; else the default; else unmapped
 *   ts                  endTimeUnixNano / 1e9
 *   latency_ms          (endTimeUnixNano - startTimeUnixNano) / 1e6
 *   llm.input_tokens    gen_ai.usage.input_tokens   (whole number >= 0), or the
 *                       older gen_ai.usage.prompt_tokens
 *   llm.output_tokens   gen_ai.usage.output_tokens, or gen_ai.usage.completion_tokens
 *   llm.finish_reason   first of gen_ai.response.finish_reasons
 *   llm.ttft_ms         gen_ai.response.time_to_first_chunk (seconds) * 1000, or
 *                       the first event named first_chunk_event minus the start
 *   error               error.type, or "_OTHER" when status.code is ERROR
 *                       without it (the semantic conventions' fallback value)
 *   prompt, completion  text parts of gen_ai.input.messages / gen_ai.output.messages
 *                       (JSON strings [{"role", "parts": [{"type": "text",
 *                       "content"}]}]; parts joined by "\n"; a string that is not
 *                       such JSON is taken as the text itself), when content is on
 *   features            the listed attributes, named by their keys
 *
 * A GenAI span whose times or GenAI attributes are malformed is "invalid":
 * rejected with a message naming the span and the attribute, and the other
 * spans of the request still count.
 */
#include "core/util.h"
#include "modelwatch/otlp.h"

#include <fnmatch.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct rule {
    char *match, *operation, *model, *version;
} rule;

struct mw_otlp_map {
    rule *rules;
    size_t nrules;
    rule def; /* model NULL: no default */
    char **features;
    size_t nfeatures;
    char *first_chunk_event;
    int content;
};

static const char *const result_names[MW_OTLP_RESULTS] = {"mapped", "not_genai", "unmapped",
                                                          "invalid"};

const char *mw_otlp_result_name(mw_otlp_result r) {
    return r < MW_OTLP_RESULTS ? result_names[r] : "?";
}

void mw_otlp_map_free(mw_otlp_map *map) {
    if (!map) return;
    for (size_t i = 0; i <= map->nrules; i++) {
        rule *r = i < map->nrules ? &map->rules[i] : &map->def;
        free(r->match);
        free(r->operation);
        free(r->model);
        free(r->version);
    }
    free(map->rules);
    for (size_t i = 0; i < map->nfeatures; i++)
        free(map->features[i]);
    free(map->features);
    free(map->first_chunk_event);
    free(map);
}

static mw_status bad(mw_error *err, const char *where, const char *what) {
    return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "otlp.%s: %s", where, what);
}

/* A text value of 1..max bytes into *out; 0 when absent (allowed unless required). */
static int text(json_t *o, const char *key, size_t max, int required, char **out) {
    json_t *v = json_object_get(o, key);
    if (!v) return !required;
    if (json_is_integer(v)) { /* version: 3 */
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        *out = strdup(buf);
        return *out != NULL;
    }
    if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) > max) return 0;
    *out = strdup(json_string_value(v));
    return *out != NULL;
}

/* {match, operation, model, version}; the default has no match/operation. */
static mw_status read_rule(json_t *o, rule *r, int is_default, const char *where, mw_error *err) {
    if (!json_is_object(o)) return bad(err, where, "expected a mapping");
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        if (strcmp(key, "model") && strcmp(key, "version") &&
            (is_default || (strcmp(key, "match") && strcmp(key, "operation")))) {
            char what[200];
            snprintf(what, sizeof what, "unknown key \"%s\" (known: %s)", key,
                     is_default ? "model, version" : "match, operation, model, version");
            return bad(err, where, what);
        }
    }
    if (!text(o, "model", 128, 1, &r->model) || !text(o, "version", 129, 1, &r->version))
        return bad(err, where,
                   "\"model\" and \"version\" are required: names of 1 to 128 bytes (the "
                   "version may be an alias such as \"@production\")");
    if (!is_default &&
        (!text(o, "match", 256, 1, &r->match) || !text(o, "operation", 256, 0, &r->operation)))
        return bad(err, where,
                   "\"match\" (a glob on the model name, e.g. \"gpt-4o*\") is required; "
                   "\"operation\" is an optional glob");
    return MW_OK;
}

/* A list of at most max entries: zeroed room for them in *out (NULL: too long). */
static mw_status list(json_t *v, size_t max, size_t size, void **out, const char *where,
                      const char *what, mw_error *err) {
    if (!json_is_array(v) || json_array_size(v) > max) return bad(err, where, what);
    *out = calloc(json_array_size(v) + 1, size);
    return *out ? MW_OK : MW_ENOMEM;
}

static mw_status read_map(mw_otlp_map *map, json_t *root, mw_error *err) {
    if (!json_is_object(root)) return bad(err, "", "expected a mapping");
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        mw_status st = MW_OK;
        if (!strcmp(key, "models")) {
            if ((st = list(v, 1000, sizeof *map->rules, (void **)&map->rules, key,
                           "expected a list of at most 1000 rules", err)))
                return st;
            size_t i;
            json_t *r;
            json_array_foreach(v, i, r) {
                char where[40];
                snprintf(where, sizeof where, "models[%zu]", i);
                map->nrules = i + 1;
                if ((st = read_rule(r, &map->rules[i], 0, where, err))) return st;
            }
        } else if (!strcmp(key, "default")) {
            if (!json_is_null(v) && (st = read_rule(v, &map->def, 1, "default", err))) return st;
        } else if (!strcmp(key, "features")) {
            if ((st = list(v, 256, sizeof *map->features, (void **)&map->features, key,
                           "expected a list of at most 256 attribute names", err)))
                return st;
            size_t i;
            json_t *f;
            json_array_foreach(v, i, f) {
                if (!json_is_string(f) || !json_string_length(f) || json_string_length(f) > 1024)
                    return bad(err, "features", "each entry is an attribute name (1-1024 bytes)");
                map->features[map->nfeatures++] = strdup(json_string_value(f));
            }
        } else if (!strcmp(key, "first_chunk_event")) {
            if (!text(root, key, 1024, 1, &map->first_chunk_event))
                return bad(err, key, "expected an event name");
        } else if (!strcmp(key, "content")) {
            if (!json_is_boolean(v)) return bad(err, key, "expected true or false");
            map->content = json_is_true(v);
        } else {
            char what[200];
            snprintf(what, sizeof what,
                     "unknown key \"%s\" (known: models, default, features, first_chunk_event, "
                     "content)",
                     key);
            return bad(err, "", what);
        }
    }
    return MW_OK;
}

mw_status mw_otlp_map_new(const char *json, mw_otlp_map **out, mw_error *err) {
    *out = NULL;
    mw_otlp_map *map = calloc(1, sizeof *map);
    if (!map) return MW_ENOMEM;
    map->content = 1;
    if (json && *json) {
        json_error_t je;
        json_t *root = json_loads(json, JSON_DECODE_ANY, &je);
        if (!root) {
            mw_otlp_map_free(map);
            return mw_error_set(err, MW_EPARSE, NULL, 0, 0, "otlp: %s", je.text);
        }
        mw_status st = json_is_null(root) ? MW_OK : read_map(map, root, err);
        json_decref(root);
        if (st) {
            mw_otlp_map_free(map);
            return st;
        }
    }
    *out = map;
    return MW_OK;
}

/* ---- writing record lines ---- */

/* s[0..n) as a JSON string. */
static void put_str(mw_buf *b, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    mw_buf_u8(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        mw_buf_put(b, s + run, i - run);
        run = i + 1;
        char e[6] = {'\\', (char)c, 0, 0, 0, 0};
        if (c == '\n' || c == '\t' || c == '\r') {
            e[1] = c == '\n' ? 'n' : c == '\t' ? 't' : 'r';
            c = '"'; /* a two-byte escape */
        } else if (c < 0x20) {
            memcpy(e + 1, "u00", 3);
            e[4] = hex[c >> 4];
            e[5] = hex[c & 15];
        }
        mw_buf_put(b, e, c < 0x20 ? 6 : 2);
    }
    mw_buf_put(b, s + run, n - run);
    mw_buf_u8(b, '"');
}

static void put_key(mw_buf *b, const char *key) {
    mw_buf_put(b, ",\"", 2);
    mw_buf_put(b, key, strlen(key));
    mw_buf_put(b, "\":", 2);
}

static void put_u64(mw_buf *b, uint64_t x) {
    char t[24];
    size_t k = sizeof t;
    do {
        t[--k] = (char)('0' + x % 10);
        x /= 10;
    } while (x);
    mw_buf_put(b, t + k, sizeof t - k);
}

/* x / 10^digits written exactly in decimal (trailing zeros of the fraction dropped):
 * nanoseconds as seconds (9) or milliseconds (6), without rounding through a double. */
static void put_scaled(mw_buf *b, uint64_t x, int digits) {
    uint64_t p = 1;
    for (int i = 0; i < digits; i++)
        p *= 10;
    put_u64(b, x / p);
    uint64_t frac = x % p;
    if (!frac) return;
    char t[20];
    int n = digits;
    for (int i = digits - 1; i >= 0; i--, frac /= 10)
        t[i] = (char)('0' + frac % 10);
    while (t[n - 1] == '0')
        n--;
    mw_buf_u8(b, '.');
    mw_buf_put(b, t, (size_t)n);
}

static void put_num(mw_buf *b, double x) {
    if (x == floor(x) && fabs(x) < 1e15) { /* whole numbers: no printf */
        if (x < 0) mw_buf_u8(b, '-');
        put_u64(b, (uint64_t)fabs(x));
        return;
    }
    char t[32];
    int n = snprintf(t, sizeof t, "%.17g", x);
    mw_buf_put(b, t, (size_t)n);
}

/* Appends the text parts of a messages value (semconv JSON) to b, joined by "\n". */
static void message_text(json_t *v, mw_buf *b, int *any) {
    if (json_is_string(v)) {
        if (*any) mw_buf_u8(b, '\n');
        mw_buf_put(b, json_string_value(v), json_string_length(v));
        *any = 1;
        return;
    }
    size_t i;
    json_t *m;
    if (json_is_array(v)) {
        json_array_foreach(v, i, m) message_text(m, b, any);
        return;
    }
    if (!json_is_object(v)) return;
    json_t *type = json_object_get(v, "type");
    if (json_object_get(v, "parts")) {
        message_text(json_object_get(v, "parts"), b, any); /* a message */
    } else if (!type || (json_is_string(type) && !strcmp(json_string_value(type), "text"))) {
        json_t *c = json_object_get(v, "content"); /* a text part, or a {role, content} message */
        if (json_is_string(c)) message_text(c, b, any);
    }
}

/* The text of gen_ai.*.messages as a JSON string member `key` of the record. */
static void put_messages(mw_buf *b, const char *key, const mw_otlp_attr *a) {
    if (!a || a->kind != MW_OTLP_STRING) return;
    json_t *v = json_loadb(a->str, a->str_len, JSON_DECODE_ANY, NULL);
    put_key(b, key);
    if (!v || (!json_is_array(v) && !json_is_object(v))) {
        put_str(b, a->str, a->str_len); /* not the JSON form: the text itself */
    } else {
        mw_buf t = {0};
        int any = 0;
        message_text(v, &t, &any);
        put_str(b, t.len ? (const char *)t.data : "", t.len);
        free(t.data);
    }
    json_decref(v);
}

/* The GenAI attributes the mapping reads, found in one pass over a span. */
enum {
    K_OPERATION,
    K_SYSTEM,
    K_PROVIDER,
    K_REQUEST_MODEL,
    K_RESPONSE_MODEL,
    K_INPUT_TOKENS,
    K_OUTPUT_TOKENS,
    K_FINISH,
    K_ERROR,
    K_FIRST_CHUNK,
    K_INPUT_MESSAGES,
    K_OUTPUT_MESSAGES,
    K_PROMPT_TOKENS, /* the names before semantic conventions 1.27, still emitted by some */
    K_COMPLETION_TOKENS,
    K_COUNT
};
#define K(s)                                                                                       \
    { s, sizeof s - 1 }
static const struct {
    const char *name;
    size_t len;
} known_keys[K_COUNT] = {
    K("gen_ai.operation.name"),
    K("gen_ai.system"),
    K("gen_ai.provider.name"),
    K("gen_ai.request.model"),
    K("gen_ai.response.model"),
    K("gen_ai.usage.input_tokens"),
    K("gen_ai.usage.output_tokens"),
    K("gen_ai.response.finish_reasons"),
    K("error.type"),
    K("gen_ai.response.time_to_first_chunk"),
    K("gen_ai.input.messages"),
    K("gen_ai.output.messages"),
    K("gen_ai.usage.prompt_tokens"),
    K("gen_ai.usage.completion_tokens"),
};

typedef const mw_otlp_attr *known[K_COUNT];

/* The first attribute of each known key (as mw_otlp_find would give it). */
static void collect(const mw_otlp_span *s, known k) {
    memset(k, 0, sizeof(known));
    for (size_t i = 0; i < s->nattrs; i++) {
        const mw_otlp_attr *a = &s->attrs[i];
        for (int j = 0; j < K_COUNT; j++)
            if (a->key_len == known_keys[j].len && !k[j] &&
                !memcmp(a->key, known_keys[j].name, a->key_len)) {
                k[j] = a;
                break;
            }
    }
}

/* The model name a rule matches: the request model, else the response model. */
static const mw_otlp_attr *model_attr(known k) {
    if (k[K_REQUEST_MODEL] && k[K_REQUEST_MODEL]->kind == MW_OTLP_STRING) return k[K_REQUEST_MODEL];
    if (k[K_RESPONSE_MODEL] && k[K_RESPONSE_MODEL]->kind == MW_OTLP_STRING)
        return k[K_RESPONSE_MODEL];
    return NULL;
}

typedef struct mctx {
    const mw_otlp_map *map;
    mw_otlp_batch *out;
    mw_buf buf;
    size_t caplines;
    int failed;
} mctx;

static void note(mctx *c, const mw_otlp_span *s, mw_otlp_result r, const char *fmt, const char *a,
                 size_t an) {
    mw_otlp_batch *o = c->out;
    o->counts[r]++;
    if (o->nerrors >= MW_OTLP_MAX_ERRORS) return;
    o->errors[o->nerrors].span = s->index;
    o->errors[o->nerrors].result = r;
    char what[160];
    snprintf(what, sizeof what, fmt, (int)(an > 100 ? 100 : an), a);
    snprintf(o->errors[o->nerrors].message, sizeof o->errors[0].message, "span %llu: %s",
             (unsigned long long)s->index, what);
    o->nerrors++;
}

/* A token count: absent (NAN), or a whole number >= 0; -1 when malformed. */
static int tokens(const mw_otlp_attr *a, double *out) {
    *out = NAN;
    if (!a) return 0;
    if ((a->kind != MW_OTLP_INT && a->kind != MW_OTLP_DOUBLE) || !(a->number >= 0) ||
        a->number != floor(a->number) || a->number > 1e15)
        return -1;
    *out = a->number;
    return 0;
}

/* s[0..n) as a NUL-terminated string in buf (cut at its size). */
static const char *cstr(char *buf, size_t sz, const mw_otlp_attr *a) {
    size_t n = a && a->kind == MW_OTLP_STRING ? a->str_len : 0;
    if (n >= sz) n = sz - 1;
    if (n) memcpy(buf, a->str, n);
    buf[n] = 0;
    return buf;
}

static const rule *find_rule(const mw_otlp_map *map, known k) {
    char name[512], opname[512];
    cstr(name, sizeof name, model_attr(k));
    cstr(opname, sizeof opname, k[K_OPERATION]);
    for (size_t i = 0; i < map->nrules; i++) {
        const rule *r = &map->rules[i];
        if (fnmatch(r->match, name, 0) == 0 &&
            (!r->operation || fnmatch(r->operation, opname, 0) == 0))
            return r;
    }
    return map->def.model ? &map->def : NULL;
}

static void put_features(mw_buf *b, const mw_otlp_map *map, const mw_otlp_span *s) {
    if (!map->nfeatures) return;
    put_key(b, "features");
    mw_buf_u8(b, '{');
    for (size_t i = 0; i < map->nfeatures; i++) {
        const mw_otlp_attr *a = mw_otlp_find(s, map->features[i]);
        if (i) mw_buf_u8(b, ',');
        put_str(b, map->features[i], strlen(map->features[i]));
        mw_buf_u8(b, ':');
        if (a && a->kind == MW_OTLP_STRING)
            put_str(b, a->str, a->str_len);
        else if (a && a->kind == MW_OTLP_BOOL)
            mw_buf_put(b, a->number ? "true" : "false", a->number ? 4 : 5);
        else if (a && (a->kind == MW_OTLP_INT || a->kind == MW_OTLP_DOUBLE) && isfinite(a->number))
            put_num(b, a->number);
        else
            mw_buf_put(b, "null", 4);
    }
    mw_buf_u8(b, '}');
}

/* The time to the first chunk in ms: the attribute, else the event; NAN when neither. */
static int first_chunk(const mw_otlp_map *map, const mw_otlp_span *s, const mw_otlp_attr *a,
                       double *ms) {
    *ms = NAN;
    if (a) {
        if ((a->kind != MW_OTLP_INT && a->kind != MW_OTLP_DOUBLE) || !(a->number >= 0) ||
            !isfinite(a->number))
            return -1;
        *ms = a->number * 1000.0;
        return 0;
    }
    const char *ev = map->first_chunk_event;
    for (size_t i = 0; ev && i < s->nevents; i++) {
        const mw_otlp_event *e = &s->events[i];
        if (e->name_len != strlen(ev) || memcmp(e->name, ev, e->name_len)) continue;
        if (!s->start_ns || e->time_ns < s->start_ns) return -2;
        *ms = (double)(e->time_ns - s->start_ns) / 1e6;
        return 0;
    }
    return 0;
}

static int on_span(const mw_otlp_span *s, void *ctx) {
    mctx *c = ctx;
    const mw_otlp_map *map = c->map;
    known k;
    collect(s, k);
    if (!k[K_OPERATION] && !k[K_SYSTEM] && !k[K_PROVIDER]) {
        c->out->counts[MW_OTLP_NOT_GENAI]++;
        return 0;
    }
    if (s->invalid) return note(c, s, MW_OTLP_INVALID, "%.*s", s->invalid, strlen(s->invalid)), 0;
    const rule *r = find_rule(map, k);
    if (!r) {
        const mw_otlp_attr *m = model_attr(k);
        int named = m != NULL;
        note(c, s, MW_OTLP_UNMAPPED,
             "no otlp.models rule matches model \"%.*s\" and there is no otlp.default",
             named ? m->str : "", named ? m->str_len : 0);
        return 0;
    }
    double in, outt, ttft;
    const char *bad_attr = NULL;
    const mw_otlp_attr *fr = k[K_FINISH], *et = k[K_ERROR];
    int tt = first_chunk(map, s, k[K_FIRST_CHUNK], &ttft);
    if (!k[K_INPUT_TOKENS]) k[K_INPUT_TOKENS] = k[K_PROMPT_TOKENS];
    if (!k[K_OUTPUT_TOKENS]) k[K_OUTPUT_TOKENS] = k[K_COMPLETION_TOKENS];
    if (tokens(k[K_INPUT_TOKENS], &in))
        bad_attr = "gen_ai.usage.input_tokens: expected a whole number >= 0";
    else if (tokens(k[K_OUTPUT_TOKENS], &outt))
        bad_attr = "gen_ai.usage.output_tokens: expected a whole number >= 0";
    else if (fr && fr->kind != MW_OTLP_ARRAY && fr->kind != MW_OTLP_STRING)
        bad_attr = "gen_ai.response.finish_reasons: expected an array of strings";
    else if (et && et->kind != MW_OTLP_STRING)
        bad_attr = "error.type: expected a string";
    else if (tt == -1)
        bad_attr = "gen_ai.response.time_to_first_chunk: expected seconds >= 0";
    else if (tt == -2)
        bad_attr = "the first-chunk event is before the span's start";
    else if (s->start_ns && s->end_ns && s->end_ns < s->start_ns)
        bad_attr = "endTimeUnixNano is before startTimeUnixNano";
    if (bad_attr) return note(c, s, MW_OTLP_INVALID, "%.*s", bad_attr, strlen(bad_attr)), 0;

    mw_buf *b = &c->buf;
    mw_buf_put(b, "{\"model\":", 9);
    put_str(b, r->model, strlen(r->model));
    put_key(b, "version");
    put_str(b, r->version, strlen(r->version));
    if (s->end_ns) {
        put_key(b, "ts");
        put_scaled(b, s->end_ns, 9);
        if (s->start_ns) {
            put_key(b, "latency_ms");
            put_scaled(b, s->end_ns - s->start_ns, 6);
        }
    }
    if (et || s->status_code == 2) {
        put_key(b, "error");
        if (et)
            put_str(b, et->str, et->str_len);
        else
            put_str(b, "_OTHER", 6);
    }
    put_key(b, "llm");
    mw_buf_u8(b, '{');
    const char *sep = "";
    const struct {
        const char *key;
        double v;
    } nums[] = {{"input_tokens", in}, {"output_tokens", outt}, {"ttft_ms", ttft}};
    for (size_t i = 0; i < 3; i++) {
        if (isnan(nums[i].v)) continue;
        mw_buf_put(b, sep, strlen(sep));
        put_str(b, nums[i].key, strlen(nums[i].key));
        mw_buf_u8(b, ':');
        put_num(b, nums[i].v);
        sep = ",";
    }
    if (fr && fr->str) {
        mw_buf_put(b, sep, strlen(sep));
        mw_buf_put(b, "\"finish_reason\":", 16);
        put_str(b, fr->str, fr->str_len);
    }
    mw_buf_u8(b, '}');
    if (map->content) {
        put_messages(b, "prompt", k[K_INPUT_MESSAGES]);
        put_messages(b, "completion", k[K_OUTPUT_MESSAGES]);
    }
    put_features(b, map, s);
    mw_buf_put(b, "}\n", 2);

    mw_otlp_batch *o = c->out;
    if (o->nlines == c->caplines) {
        size_t cap = c->caplines ? c->caplines * 2 : 256;
        uint64_t *l = realloc(o->line_span, cap * sizeof *l);
        if (!l) return c->failed = 1;
        o->line_span = l;
        c->caplines = cap;
    }
    o->line_span[o->nlines++] = s->index;
    o->counts[MW_OTLP_MAPPED]++;
    return b->failed ? (c->failed = 1) : 0;
}

void mw_otlp_batch_free(mw_otlp_batch *b) {
    free(b->ndjson);
    free(b->line_span);
    memset(b, 0, sizeof *b);
}

mw_status mw_otlp_map_body(const mw_otlp_map *map, mw_otlp_encoding enc, const char *body,
                           size_t len, mw_otlp_batch *out, mw_error *err) {
    memset(out, 0, sizeof *out);
    mctx c = {.map = map, .out = out};
    mw_status st = enc == MW_OTLP_PROTOBUF ? mw_otlp_parse_proto(body, len, on_span, &c, err)
                                           : mw_otlp_parse(body, len, on_span, &c, err);
    if (!st && c.failed) st = mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    mw_buf_u8(&c.buf, 0);
    if (!st && c.buf.failed) st = mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    out->ndjson = (char *)c.buf.data;
    out->ndjson_len = c.buf.len ? c.buf.len - 1 : 0;
    out->spans = out->counts[0] + out->counts[1] + out->counts[2] + out->counts[3];
    if (st) mw_otlp_batch_free(out);
    return st;
}
