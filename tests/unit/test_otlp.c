/*
 * OTLP/HTTP JSON traces to records (otlp.h): the record line each GenAI
 * attribute gives (and that the record parser reads it back), the mapping
 * rules (globs, operation filter, response model fallback, default, aliases),
 * time to first chunk from the attribute or an event, message content, and
 * bad input: spans with malformed or missing attributes (rejected one by one
 * with a message naming the span and attribute), malformed, truncated and
 * corrupted bodies (MW_EPARSE with the byte offset, never a crash), nesting
 * bombs, and configuration errors naming the key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modelwatch/otlp.h"
#include "modelwatch/record.h"

#define ATTR_S(k, v) "{\"key\":\"" k "\",\"value\":{\"stringValue\":\"" v "\"}}"
#define ATTR_I(k, v) "{\"key\":\"" k "\",\"value\":{\"intValue\":\"" v "\"}}"
#define GENAI ATTR_S("gen_ai.operation.name", "chat")
#define WRAP(spans) "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[" spans "]}]}]}"

static mw_otlp_map *new_map(const char *json) {
    mw_otlp_map *m = NULL;
    mw_error e;
    mw_error_clear(&e);
    mw_status st = mw_otlp_map_new(json, &m, &e);
    if (st) fail_msg("map: %s", e.message);
    return m;
}

static mw_otlp_batch run(const mw_otlp_map *m, const char *body) {
    mw_otlp_batch b;
    mw_error e;
    mw_error_clear(&e);
    mw_status st = mw_otlp_map_body(m, MW_OTLP_JSON, body, strlen(body), &b, &e);
    if (st) fail_msg("map_body: %s", e.message);
    return b;
}

/* clang-format off */
static const char *FULL =
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"5b8efff798038103d269b6338"
    "13fc60c\",\"spanId\":\"eee19b7ec3c1b174\",\"name\":\"chat gpt-4o\","
    "\"kind\":3,\"startTimeUnixNano\":\"1764382800000000000\",\"endTimeUnixNano\":\"1764382801"
    "250000000\",\"attributes\":[{\"key\":\"gen_ai.operation.name\","
    "\"value\":{\"stringValue\":\"chat\"}},{\"key\":\"gen_ai.request.model\","
    "\"value\":{\"stringValue\":\"gpt-4o\"}},{\"key\":\"gen_ai.response.model\","
    "\"value\":{\"stringValue\":\"gpt-4o-2024-08-06\"}},{\"key\":\"gen_ai.usage.input_tokens\""
    ",\"value\":{\"intValue\":\"812\"}},{\"key\":\"gen_ai.usage.output_tokens\","
    "\"value\":{\"intValue\":95}},{\"key\":\"gen_ai.response.finish_reasons\","
    "\"value\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"stop\"},"
    "{\"stringValue\":\"length\"}]}}},{\"key\":\"gen_ai.response.time_to_first_chunk\","
    "\"value\":{\"doubleValue\":0.14}},{\"key\":\"gen_ai.request.temperature\","
    "\"value\":{\"doubleValue\":0.7}},{\"key\":\"gen_ai.input.messages\","
    "\"value\":{\"stringValue\":\"[{\\\"role\\\":\\\"user\\\",\\\"parts\\\":[{\\\"type\\\":\\\""
    "text\\\",\\\"content\\\":\\\"Hi \\\\\\\"you\\\\\\\"\\\"},{\\\"type\\\":\\\"text\\\","
    "\\\"content\\\":\\\"2nd\\\"}]}]\"}},{\"key\":\"gen_ai.output.messages\","
    "\"value\":{\"stringValue\":\"plain text\"}}],\"events\":[],\"status\":{}}]}]}]}";
/* clang-format on */

static void test_full_span(void **state) {
    (void)state;
    mw_otlp_map *m = new_map("{\"models\":[{\"match\":\"gpt-4o*\",\"model\":\"chat\","
                             "\"version\":\"@production\"}],"
                             "\"features\":[\"gen_ai.request.temperature\",\"absent.attr\"]}");
    mw_otlp_batch b = run(m, FULL);
    assert_int_equal(b.spans, 1);
    assert_int_equal(b.counts[MW_OTLP_MAPPED], 1);
    assert_int_equal(b.nlines, 1);
    assert_int_equal(b.line_span[0], 1);
    assert_string_equal(
        b.ndjson,
        "{\"model\":\"chat\",\"version\":\"@production\",\"ts\":1764382801.25,\"latency_ms\":1250,"
        "\"llm\":{\"input_tokens\":812,\"output_tokens\":95,\"ttft_ms\":140,"
        "\"finish_reason\":\"stop\"},\"prompt\":\"Hi \\\"you\\\"\\n2nd\","
        "\"completion\":\"plain text\","
        "\"features\":{\"gen_ai.request.temperature\":0.69999999999999996,\"absent.attr\":null}}"
        "\n");
    /* the record parser reads the line back */
    mw_record_parser *p = mw_record_parser_new();
    mw_record r;
    mw_error e;
    assert_int_equal(mw_record_parse(p, b.ndjson, b.ndjson_len - 1, &r, &e), MW_OK);
    assert_int_equal(r.input_tokens, 812);
    assert_true(fabs(r.ttft_ms - 140) < 1e-9);
    assert_int_equal(r.prompt_len, strlen("Hi \"you\"\n2nd"));
    assert_memory_equal(r.prompt, "Hi \"you\"\n2nd", r.prompt_len);
    assert_int_equal(r.nfeatures, 2);
    mw_record_parser_free(p);
    mw_otlp_batch_free(&b);

    /* content off: no prompt or completion */
    mw_otlp_map_free(m);
    m = new_map("{\"default\":{\"model\":\"m\",\"version\":3},\"content\":false}");
    b = run(m, FULL);
    assert_null(strstr(b.ndjson, "prompt"));
    assert_non_null(strstr(b.ndjson, "\"version\":\"3\""));
    mw_otlp_batch_free(&b);
    mw_otlp_map_free(m);
}

static void test_rules(void **state) {
    (void)state;
    mw_otlp_map *m =
        new_map("{\"models\":[{\"match\":\"gpt-4o*\",\"operation\":\"embed*\",\"model\":\"emb\","
                "\"version\":\"1\"},{\"match\":\"gpt-*\",\"model\":\"chat\",\"version\":\"2\"}]}");
    /* clang-format off */
    const char *body = WRAP(
        "{\"attributes\":[" GENAI "," ATTR_S("gen_ai.request.model", "gpt-4o-mini") "]},"
        "{\"attributes\":[" ATTR_S("gen_ai.operation.name", "embeddings") ","
            ATTR_S("gen_ai.request.model", "gpt-4o") "]},"
        "{\"attributes\":[" ATTR_S("gen_ai.provider.name", "openai") ","
            ATTR_S("gen_ai.response.model", "gpt-5") "]},"
        "{\"attributes\":[" ATTR_S("gen_ai.system", "anthropic") ","
            ATTR_S("gen_ai.request.model", "claude") "]},"
        "{\"attributes\":[" ATTR_S("http.method", "GET") "]},{},"
        /* the token names before semantic conventions 1.27 */
        "{\"attributes\":[" GENAI "," ATTR_S("gen_ai.request.model", "gpt-3") ","
            ATTR_I("gen_ai.usage.prompt_tokens", "7") ","
            ATTR_I("gen_ai.usage.completion_tokens", "2") "]}");
    /* clang-format on */
    mw_otlp_batch b = run(m, body);
    assert_int_equal(b.spans, 7);
    assert_int_equal(b.counts[MW_OTLP_MAPPED], 4);
    assert_int_equal(b.counts[MW_OTLP_UNMAPPED], 1);
    assert_int_equal(b.counts[MW_OTLP_NOT_GENAI], 2);
    assert_string_equal(b.ndjson, "{\"model\":\"chat\",\"version\":\"2\",\"llm\":{}}\n"
                                  "{\"model\":\"emb\",\"version\":\"1\",\"llm\":{}}\n"
                                  "{\"model\":\"chat\",\"version\":\"2\",\"llm\":{}}\n"
                                  "{\"model\":\"chat\",\"version\":\"2\",\"llm\":{"
                                  "\"input_tokens\":7,\"output_tokens\":2}}\n");
    assert_int_equal(b.line_span[2], 3);
    assert_int_equal(b.nerrors, 1);
    assert_int_equal(b.errors[0].span, 4);
    assert_string_equal(b.errors[0].message, "span 4: no otlp.models rule matches model "
                                             "\"claude\" and there is no otlp.default");
    mw_otlp_batch_free(&b);
    mw_otlp_map_free(m);
    /* no configuration: every GenAI span is unmapped, nothing written */
    m = new_map(NULL);
    b = run(m, body);
    assert_int_equal(b.counts[MW_OTLP_UNMAPPED], 5);
    assert_int_equal(b.nlines, 0);
    assert_string_equal(b.ndjson, "");
    mw_otlp_batch_free(&b);
    mw_otlp_map_free(m);
}

static void test_errors_and_ttft_event(void **state) {
    (void)state;
    mw_otlp_map *m = new_map("{\"default\":{\"model\":\"m\",\"version\":\"1\"},"
                             "\"first_chunk_event\":\"gen_ai.first_chunk\"}");
    /* clang-format off */
    const char *body =
        "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":["
        /* span 1 */
        "{\"startTimeUnixNano\":1000000000,\"endTimeUnixNano\":\"3000000000\","
        "\"status\":{\"code\":2,\"message\":\"boom\"},\"attributes\":[{\"key\":\"gen_ai.operat"
        "ion.name\",\"value\":{\"stringValue\":\"chat\"}}],\"events\":[{\"name\":\"other\","
        "\"timeUnixNano\":\"1100000000\"},{\"name\":\"gen_ai.first_chunk\","
        "\"timeUnixNano\":\"1250000000\"}]},"
        /* span 2 */
        "{\"status\":{\"code\":\"STATUS_CODE_ERROR\"},\"attributes\":[{\"key\":\"gen_ai.operat"
        "ion.name\",\"value\":{\"stringValue\":\"chat\"}},{\"key\":\"error.type\","
        "\"value\":{\"stringValue\":\"timeout\"}}]},"
        /* span 3 */
        "{\"attributes\":[{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"chat"
        "\"}},{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{\"stringValue\":\"12\"}}]},"
        /* span 4 */
        "{\"attributes\":[{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"chat"
        "\"}},{\"key\":\"gen_ai.usage.output_tokens\",\"value\":{\"intValue\":\"-1\"}}]},"
        /* span 5 */
        "{\"attributes\":[{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"chat"
        "\"}},{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{\"doubleValue\":1.5}}]},"
        /* span 6 */
        "{\"startTimeUnixNano\":\"5\",\"endTimeUnixNano\":\"4\",\"attributes\":[{\"key\":\"gen"
        "_ai.operation.name\",\"value\":{\"stringValue\":\"chat\"}}]},"
        /* span 7 */
        "{\"startTimeUnixNano\":\"12x\",\"attributes\":[{\"key\":\"gen_ai.operation.name\","
        "\"value\":{\"stringValue\":\"chat\"}}]},"
        /* span 8 */
        "{\"attributes\":[{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"chat"
        "\"}},{\"key\":\"error.type\",\"value\":{\"intValue\":3}}]},"
        /* span 9 */
        "{\"attributes\":[{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"chat"
        "\"}},{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{\"intValue\":\"abc\"}}]},"
        /* span 10 */
        "{\"attributes\":[{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"chat"
        "\"}},{\"key\":\"gen_ai.response.finish_reasons\",\"value\":{\"boolValue\":true}}]},"
        /* span 11 */
        "{\"attributes\":[{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"chat"
        "\"}},{\"value\":{\"stringValue\":\"no key\"}}]},"
        /* span 12 */
        "{\"attributes\":\"oops\"},"
        /* span 13 */
        "{\"attributes\":[{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"chat"
        "\"}}],\"events\":[{\"name\":\"gen_ai.first_chunk\",\"timeUnixNano\":\"1\"}],"
        "\"startTimeUnixNano\":\"2\"}"
        "]}]}]}";
    /* clang-format on */
    mw_otlp_batch b = run(m, body);
    assert_int_equal(b.spans, 13);
    assert_int_equal(b.counts[MW_OTLP_MAPPED], 2);
    assert_int_equal(b.counts[MW_OTLP_INVALID], 10);
    assert_int_equal(b.counts[MW_OTLP_NOT_GENAI], 1); /* attributes not an array: no gen_ai */
    assert_string_equal(b.ndjson,
                        "{\"model\":\"m\",\"version\":\"1\",\"ts\":3,\"latency_ms\":2000,"
                        "\"error\":\"_OTHER\",\"llm\":{\"ttft_ms\":250}}\n"
                        "{\"model\":\"m\",\"version\":\"1\",\"error\":\"timeout\",\"llm\":{}}\n");
    const char *want[] = {
        "span 3: gen_ai.usage.input_tokens: expected a whole number >= 0",
        "span 4: gen_ai.usage.output_tokens: expected a whole number >= 0",
        "span 5: gen_ai.usage.input_tokens: expected a whole number >= 0",
        "span 6: endTimeUnixNano is before startTimeUnixNano",
        "span 7: startTimeUnixNano: expected nanoseconds since the epoch as a string of digits",
        "span 8: error.type: expected a string",
        "span 9: an attribute value: intValue has the wrong type",
        "span 10: gen_ai.response.finish_reasons: expected an array of strings",
        "span 11: an attribute has no \"key\"",
        "span 13: the first-chunk event is before the span's start",
    };
    assert_int_equal(b.nerrors, 10);
    for (size_t i = 0; i < 10; i++)
        assert_string_equal(b.errors[i].message, want[i]);
    mw_otlp_batch_free(&b);
    mw_otlp_map_free(m);
}

static void test_escapes_and_snake_case(void **state) {
    (void)state;
    mw_otlp_map *m = new_map("{\"models\":[{\"match\":\"caf\\u00e9*\",\"model\":\"m\","
                             "\"version\":\"1\"}],\"features\":[\"f\"]}");
    const char *body = "{\"resource_spans\":[{\"resource\":{\"attributes\":[]},\"scope_spans\":[{"
                       "\"scope\":{\"name\":\"x\"},\"spans\":[{\"end_time_unix_nano\":"
                       "\"2000000000\",\"attributes\":[{\"key\":\"gen_ai.system\",\"value\":{"
                       "\"string_value\":\"x\"}},{\"key\":\"gen_ai.request.model\",\"value\":{"
                       "\"stringValue\":\"caf\\u00e9 \\ud83d\\ude00\"}},{\"key\":\"error.type\","
                       "\"value\":{\"stringValue\":\"a\\u0001b\\\\c\\/\"}},{\"key\":\"f\","
                       "\"value\":{\"doubleValue\":\"NaN\"}}]}]}]}],\"extra\":{\"a\":[1,2,"
                       "{\"b\":null}]}}";
    mw_otlp_batch b = run(m, body);
    assert_int_equal(b.counts[MW_OTLP_MAPPED], 1);
    assert_string_equal(b.ndjson, "{\"model\":\"m\",\"version\":\"1\",\"ts\":2,"
                                  "\"error\":\"a\\u0001b\\\\c/\",\"llm\":{},"
                                  "\"features\":{\"f\":null}}\n");
    mw_otlp_batch_free(&b);
    mw_otlp_map_free(m);
}

static mw_status parse_status(const char *body, size_t len, char *msg, size_t msgsz) {
    mw_otlp_map *m = new_map("{\"default\":{\"model\":\"m\",\"version\":\"1\"}}");
    mw_otlp_batch b;
    mw_error e;
    mw_error_clear(&e);
    mw_status st = mw_otlp_map_body(m, MW_OTLP_JSON, body, len, &b, &e);
    if (st) {
        assert_null(b.ndjson); /* nothing of a malformed body is kept */
        assert_int_equal(b.nlines, 0);
        assert_true(e.message[0] != 0);
    }
    if (msg) snprintf(msg, msgsz, "%s", e.message);
    mw_otlp_batch_free(&b);
    mw_otlp_map_free(m);
    return st;
}

static void test_malformed(void **state) {
    (void)state;
    char msg[512];
    struct {
        const char *body, *message;
    } cases[] = {
        {"[]", "OTLP JSON, byte 1: expected an ExportTraceServiceRequest object, got an array"},
        {"{\"resourceSpans\":{}}",
         "OTLP JSON, byte 18: expected resourceSpans to be an array, got an object"},
        {"{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[1]}]}]}",
         "OTLP JSON, byte 44: expected a span object, got a number"},
        {"{} x", "OTLP JSON, byte 4: expected the end of the body, got an unexpected character"},
        {"{\"a\":1,}", "OTLP JSON, byte 8: expected a string, got '}'"},
        {"{\"a\":\"\\x\"}", "OTLP JSON, byte 7: expected a valid escape, got an unexpected "
                            "character"},
        {"{\"a\":\"\\u12\"}", "OTLP JSON, byte 7: expected four hex digits after \\u, got an "
                              "unexpected character"},
        {"{\"a\":tru}", "OTLP JSON, byte 6: expected a value, got a boolean"},
        {"{\"a\":01}", "OTLP JSON, byte 7: expected ',' or '}', got a number"},
        {"{\"a\":\"x\ny\"}", "OTLP JSON, byte 8: expected a string without raw control "
                             "characters, got an unexpected character"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(parse_status(cases[i].body, strlen(cases[i].body), msg, sizeof msg),
                         MW_EPARSE);
        assert_string_equal(msg, cases[i].message);
    }
    /* empty and trivial bodies are valid requests with no spans */
    assert_int_equal(parse_status("", 0, NULL, 0), MW_OK);
    assert_int_equal(parse_status(" \n", 2, NULL, 0), MW_OK);
    assert_int_equal(parse_status("{}", 2, NULL, 0), MW_OK);
    assert_int_equal(parse_status("{\"resourceSpans\":[]}", 20, NULL, 0), MW_OK);
    /* a nesting bomb in an unknown field stops at the depth limit */
    size_t n = 200000;
    char *deep = malloc(n + 8);
    memcpy(deep, "{\"x\":", 5);
    memset(deep + 5, '[', n);
    deep[n + 5] = 0;
    assert_int_equal(parse_status(deep, n + 5, msg, sizeof msg), MW_EPARSE);
    assert_string_equal(msg, "OTLP JSON, byte 69: expected less deeply nested JSON, got an array");
    free(deep);
}

/* Every proper prefix of a valid body is malformed (never a crash, never
 * spans taken); every single-byte corruption is handled. */
static void test_truncated_and_corrupted(void **state) {
    (void)state;
    size_t len = strlen(FULL);
    for (size_t k = 1; k < len; k++) {
        char *pre = malloc(k); /* exactly k bytes: ASan sees any read past them */
        memcpy(pre, FULL, k);
        assert_int_equal(parse_status(pre, k, NULL, 0), MW_EPARSE);
        free(pre);
    }
    const char subst[] = "\"{}[],:\\0 x";
    char *buf = malloc(len);
    for (size_t k = 0; k < len; k++) {
        for (size_t j = 0; j < sizeof subst - 1; j++) {
            memcpy(buf, FULL, len);
            buf[k] = subst[j];
            mw_status st = parse_status(buf, len, NULL, 0);
            assert_true(st == MW_OK || st == MW_EPARSE);
        }
    }
    free(buf);
}

static void test_config_errors(void **state) {
    (void)state;
    struct {
        const char *json, *message;
    } cases[] = {
        {"{\"model\":[]}", "otlp.: unknown key \"model\" (known: models, default, features, "
                           "first_chunk_event, content)"},
        {"{\"models\":[{\"match\":\"x\",\"model\":\"m\"}]}",
         "otlp.models[0]: \"model\" and \"version\" are required: names of 1 to 128 bytes "
         "(the version may be an alias such as \"@production\")"},
        {"{\"models\":[{\"model\":\"m\",\"version\":\"1\"}]}",
         "otlp.models[0]: \"match\" (a glob on the model name, e.g. \"gpt-4o*\") is required; "
         "\"operation\" is an optional glob"},
        {"{\"models\":[{\"match\":\"x\",\"model\":\"m\",\"version\":\"1\",\"alias\":1}]}",
         "otlp.models[0]: unknown key \"alias\" (known: match, operation, model, version)"},
        {"{\"default\":{\"model\":\"m\",\"version\":\"1\",\"match\":\"*\"}}",
         "otlp.default: unknown key \"match\" (known: model, version)"},
        {"{\"features\":[1]}", "otlp.features: each entry is an attribute name (1-1024 bytes)"},
        {"{\"content\":\"yes\"}", "otlp.content: expected true or false"},
        {"[1]", "otlp.: expected a mapping"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mw_otlp_map *m = (mw_otlp_map *)1;
        mw_error e;
        mw_error_clear(&e);
        assert_int_not_equal(mw_otlp_map_new(cases[i].json, &m, &e), MW_OK);
        assert_null(m);
        assert_string_equal(e.message, cases[i].message);
    }
    mw_otlp_map *m = NULL;
    mw_error e;
    assert_int_equal(mw_otlp_map_new("null", &m, &e), MW_OK);
    mw_otlp_map_free(m);
}

/* ---- protobuf: a hand-encoded request must map exactly as its JSON twin ---- */

typedef struct pbw {
    unsigned char b[2048];
    size_t n;
} pbw;

static void pv(pbw *w, uint64_t v) {
    do {
        unsigned char c = v & 0x7F;
        v >>= 7;
        w->b[w->n++] = (unsigned char)(c | (v ? 0x80 : 0));
    } while (v);
}
static void ptag(pbw *w, unsigned num, unsigned wt) {
    pv(w, num << 3 | wt);
}
static void pbytes(pbw *w, unsigned num, const void *p, size_t n) {
    ptag(w, num, 2);
    pv(w, n);
    memcpy(w->b + w->n, p, n);
    w->n += n;
}
static void pstr(pbw *w, unsigned num, const char *s) {
    pbytes(w, num, s, strlen(s));
}
static void pmsg(pbw *w, unsigned num, const pbw *m) {
    pbytes(w, num, m->b, m->n);
}
static void pfixed(pbw *w, unsigned num, uint64_t v, unsigned bytes) {
    ptag(w, num, bytes == 8 ? 1 : 5);
    for (unsigned i = 0; i < bytes; i++)
        w->b[w->n++] = (unsigned char)(v >> (8 * i));
}
/* attribute key = AnyValue field num carrying what `put` writes */
static void pattr(pbw *span, const char *key, const pbw *anyvalue) {
    pbw kv = {0};
    pstr(&kv, 1, key);
    pmsg(&kv, 2, anyvalue);
    pmsg(span, 9, &kv);
}
static void pattr_str(pbw *span, const char *key, const char *v) {
    pbw av = {0};
    pstr(&av, 1, v);
    pattr(span, key, &av);
}
static void pattr_int(pbw *span, const char *key, int64_t v) {
    pbw av = {0};
    ptag(&av, 3, 0);
    pv(&av, (uint64_t)v);
    pattr(span, key, &av);
}

static void proto_request(pbw *req) {
    pbw sp = {0}, av = {0}, arr = {0}, el = {0}, ev = {0}, st = {0}, scope = {0}, rs = {0};
    pbytes(&sp, 1, "0123456789abcdef", 16); /* trace_id: skipped */
    pstr(&sp, 5, "chat gpt-4o");
    ptag(&sp, 6, 0); /* kind */
    pv(&sp, 3);
    pfixed(&sp, 7, 1764382800000000000ULL, 8);
    pfixed(&sp, 8, 1764382801250000000ULL, 8);
    pattr_str(&sp, "gen_ai.operation.name", "chat");
    pattr_str(&sp, "gen_ai.request.model", "gpt-4o");
    pattr_int(&sp, "gen_ai.usage.input_tokens", 812);
    pattr_int(&sp, "gen_ai.usage.output_tokens", 95);
    pattr_int(&sp, "gen_ai.request.seed", -3);
    double t = 0.7;
    uint64_t bits;
    memcpy(&bits, &t, 8);
    pfixed(&av, 4, bits, 8);
    pattr(&sp, "gen_ai.request.temperature", &av);
    pstr(&el, 1, "length");
    pmsg(&arr, 1, &el);
    memset(&av, 0, sizeof av);
    pmsg(&av, 5, &arr);
    pattr(&sp, "gen_ai.response.finish_reasons", &av);
    pfixed(&ev, 1, 1764382800300000000ULL, 8);
    pstr(&ev, 2, "first");
    pmsg(&sp, 11, &ev);
    ptag(&st, 3, 0);
    pv(&st, 2);
    pmsg(&sp, 15, &st);
    pfixed(&sp, 16, 1, 4); /* flags: skipped */
    pmsg(&scope, 2, &sp);
    pmsg(&rs, 2, &scope);
    pmsg(req, 1, &rs);
}

/* clang-format off */
static const char *PROTO_TWIN =
    "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"name\":\"chat gpt-4o\","
    "\"startTimeUnixNano\":\"1764382800000000000\",\"endTimeUnixNano\":\"1764382801250000000\""
    ",\"attributes\":[{\"key\":\"gen_ai.operation.name\",\"value\":{\"stringValue\":\"chat\"}}"
    ",{\"key\":\"gen_ai.request.model\",\"value\":{\"stringValue\":\"gpt-4o\"}},"
    "{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{\"intValue\":\"812\"}},"
    "{\"key\":\"gen_ai.usage.output_tokens\",\"value\":{\"intValue\":\"95\"}},"
    "{\"key\":\"gen_ai.request.seed\",\"value\":{\"intValue\":\"-3\"}},"
    "{\"key\":\"gen_ai.request.temperature\",\"value\":{\"doubleValue\":0.7}},"
    "{\"key\":\"gen_ai.response.finish_reasons\",\"value\":{\"arrayValue\":{\"values\":[{\"str"
    "ingValue\":\"length\"}]}}}],\"events\":[{\"name\":\"first\",\"timeUnixNano\":\"1764382800"
    "300000000\"}],\"status\":{\"code\":2}}]}]}]}";
/* clang-format on */

static void test_protobuf(void **state) {
    (void)state;
    mw_otlp_map *m = new_map("{\"default\":{\"model\":\"m\",\"version\":\"1\"},"
                             "\"features\":[\"gen_ai.request.temperature\","
                             "\"gen_ai.request.seed\"],\"first_chunk_event\":\"first\"}");
    static pbw req;
    memset(&req, 0, sizeof req);
    proto_request(&req);
    mw_otlp_batch bp, bj;
    mw_error e;
    assert_int_equal(mw_otlp_map_body(m, MW_OTLP_PROTOBUF, (const char *)req.b, req.n, &bp, &e),
                     MW_OK);
    bj = run(m, PROTO_TWIN);
    assert_int_equal(bp.counts[MW_OTLP_MAPPED], 1);
    assert_string_equal(bp.ndjson, bj.ndjson);
    assert_string_equal(bp.ndjson,
                        "{\"model\":\"m\",\"version\":\"1\",\"ts\":1764382801.25,"
                        "\"latency_ms\":1250,\"error\":\"_OTHER\",\"llm\":{\"input_tokens\":812,"
                        "\"output_tokens\":95,\"ttft_ms\":300,\"finish_reason\":\"length\"},"
                        "\"features\":{\"gen_ai.request.temperature\":0.69999999999999996,"
                        "\"gen_ai.request.seed\":-3}}\n");
    mw_otlp_batch_free(&bp);
    mw_otlp_batch_free(&bj);

    /* an empty body is a request with no spans; every prefix and corruption is
     * either a shorter valid message or malformed, never a crash */
    assert_int_equal(mw_otlp_map_body(m, MW_OTLP_PROTOBUF, "", 0, &bp, &e), MW_OK);
    assert_int_equal(bp.spans, 0);
    mw_otlp_batch_free(&bp);
    for (size_t k = 1; k < req.n; k++) {
        char *pre = malloc(k);
        memcpy(pre, req.b, k);
        mw_status st = mw_otlp_map_body(m, MW_OTLP_PROTOBUF, pre, k, &bp, &e);
        assert_true(st == MW_OK || (st == MW_EPARSE && !bp.ndjson));
        if (st == MW_EPARSE) assert_non_null(strstr(e.message, "OTLP protobuf, byte "));
        mw_otlp_batch_free(&bp);
        for (unsigned x = 0; x < 256; x += 51) {
            memcpy(pre, req.b, k);
            pre[k - 1] = (char)x;
            st = mw_otlp_map_body(m, MW_OTLP_PROTOBUF, pre, k, &bp, &e);
            assert_true(st == MW_OK || st == MW_EPARSE);
            mw_otlp_batch_free(&bp);
        }
        free(pre);
    }
    struct {
        const char *body;
        size_t len;
        const char *message;
    } bad[] = {
        {"\x0a\x05\x12\x01", 4, "OTLP protobuf, byte 1: a length runs past the end"},
        {"\x0b", 1,
         "OTLP protobuf, byte 1: an unsupported wire type (groups are not used by OTLP)"},
        {"\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12,
         "OTLP protobuf, byte 12: a varint longer than 10 bytes"},
        {"\x0a\x02\x12\x00\x09", 5, "OTLP protobuf, byte 5: a fixed-size value runs past the end"},
        {"\x0a\x04\x12\x02\x12\x00\x00", 7, "OTLP protobuf, byte 7: field number 0"},
        {"\x0a\x06\x12\x04\x12\x02\x28\x01", 8,
         "OTLP protobuf, byte 9: a field with the wrong wire type"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mw_error_clear(&e);
        assert_int_equal(mw_otlp_map_body(m, MW_OTLP_PROTOBUF, bad[i].body, bad[i].len, &bp, &e),
                         MW_EPARSE);
        assert_string_equal(e.message, bad[i].message);
    }
    mw_otlp_map_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_span),
        cmocka_unit_test(test_rules),
        cmocka_unit_test(test_errors_and_ttft_event),
        cmocka_unit_test(test_escapes_and_snake_case),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_truncated_and_corrupted),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_protobuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
