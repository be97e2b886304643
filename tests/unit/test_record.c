/*
 * Record parser (record.h): every field type, RFC 3339 times (Z, offsets,
 * fractions, invalid dates), escapes and surrogate pairs, views into the input
 * vs the parser's scratch, the exact message and column of each error, the
 * limits (features, name length, nesting, line length), and the body iterator
 * over NDJSON (bad lines in the middle, blank lines, CRLF) and JSON arrays.
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

#include "modelwatch/record.h"

static mw_record_parser *P;
static mw_record R;

static int setup(void **state) {
    (void)state;
    P = mw_record_parser_new();
    return P ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    mw_record_parser_free(P);
    P = NULL;
    return 0;
}

static void ok_len(const char *s, size_t n) {
    mw_error e;
    mw_status st = mw_record_parse(P, s, n, &R, &e);
    if (st != MW_OK)
        fail_msg("unexpected error %d at column %llu: %s", st, (unsigned long long)e.column,
                 e.message);
    assert_int_equal(e.status, MW_OK);
}

static void ok(const char *s) {
    ok_len(s, strlen(s));
}

static void bad_st(const char *s, mw_status want_st, uint64_t col, const char *msg) {
    mw_error e;
    mw_status st = mw_record_parse(P, s, strlen(s), &R, &e);
    if (st != want_st || e.status != want_st || e.column != col || e.line != 0 ||
        strcmp(e.message, msg) != 0)
        fail_msg("input %s\n got %d col %llu \"%s\"\nwant %d col %llu \"%s\"", s, st,
                 (unsigned long long)e.column, e.message, want_st, (unsigned long long)col, msg);
    assert_null(R.model); /* a failed parse leaves an empty record */
    assert_int_equal(R.nfeatures, 0);
}

static void bad(const char *s, uint64_t col, const char *msg) {
    bad_st(s, MW_EPARSE, col, msg);
}

static int eq(const char *p, size_t n, const char *want) {
    return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

#define ASSERT_STR(p, n, want)                                                                  \
    do {                                                                                       \
        if (!eq(p, n, want)) fail_msg("got \"%.*s\", want \"%s\"", (int)(n), p ? p : "", want); \
    } while (0)

static int inside(const char *p, const char *s, size_t n) {
    return p >= s && p + 0 <= s + n;
}

/* ---- fields ---------------------------------------------------------------------- */

static void test_full_record(void **state) {
    (void)state;
    const char *s =
        "{\"model\":\"fraud\",\"version\":\"3\",\"id\":\"r-1\",\"ts\":1764382800.5,"
        "\"features\":{\"amount\":12.5,\"country\":\"DE\",\"vip\":true,\"new\":false,"
        "\"age\":null},\"prediction\":1,\"scores\":{\"0\":0.1,\"1\":0.9},\"latency_ms\":8.2,"
        "\"error\":\"timeout\"}";
    ok(s);
    ASSERT_STR(R.model, R.model_len, "fraud");
    ASSERT_STR(R.version, R.version_len, "3");
    ASSERT_STR(R.id, R.id_len, "r-1");
    assert_true(R.ts == 1764382800.5);
    assert_int_equal(R.nfeatures, 5);
    ASSERT_STR(R.features[0].name, R.features[0].name_len, "amount");
    assert_int_equal(R.features[0].kind, MW_VALUE_NUMBER);
    assert_true(R.features[0].number == 12.5);
    ASSERT_STR(R.features[1].name, R.features[1].name_len, "country");
    assert_int_equal(R.features[1].kind, MW_VALUE_STRING);
    ASSERT_STR(R.features[1].str, R.features[1].str_len, "DE");
    assert_int_equal(R.features[2].kind, MW_VALUE_STRING);
    ASSERT_STR(R.features[2].str, R.features[2].str_len, "true");
    ASSERT_STR(R.features[3].str, R.features[3].str_len, "false");
    assert_int_equal(R.features[4].kind, MW_VALUE_MISSING);
    ASSERT_STR(R.features[4].name, R.features[4].name_len, "age");
    assert_int_equal(R.prediction.kind, MW_VALUE_NUMBER);
    assert_true(R.prediction.number == 1);
    ASSERT_STR(R.prediction.name, R.prediction.name_len, "prediction");
    assert_int_equal(R.nscores, 2);
    ASSERT_STR(R.scores[0].name, R.scores[0].name_len, "0");
    assert_true(R.scores[0].number == 0.1);
    ASSERT_STR(R.scores[1].name, R.scores[1].name_len, "1");
    assert_true(R.scores[1].number == 0.9);
    assert_true(R.latency_ms == 8.2);
    ASSERT_STR(R.error, R.error_len, "timeout");
    /* no escapes: every string is a view into the input */
    size_t n = strlen(s);
    assert_true(inside(R.model, s, n) && inside(R.version, s, n) && inside(R.id, s, n));
    assert_true(inside(R.features[1].str, s, n) && inside(R.features[0].name, s, n));
    assert_true(inside(R.error, s, n));
}

static void test_minimal_and_absent(void **state) {
    (void)state;
    ok(" {\"model\":\"m\",\"version\":7} \r");
    ASSERT_STR(R.version, R.version_len, "7");
    assert_null(R.id);
    assert_true(isnan(R.ts));
    assert_int_equal(R.nfeatures, 0);
    assert_int_equal(R.prediction.kind, MW_VALUE_MISSING);
    assert_int_equal(R.nscores, 0);
    assert_true(isnan(R.latency_ms));
    assert_null(R.error);
    /* null = absent for optional fields */
    ok("{\"model\":\"m\",\"version\":\"1\",\"id\":null,\"ts\":null,\"features\":null,"
       "\"prediction\":null,\"scores\":null,\"latency_ms\":null,\"error\":null}");
    assert_null(R.id);
    assert_true(isnan(R.ts) && isnan(R.latency_ms));
    assert_int_equal(R.nfeatures, 0);
    assert_int_equal(R.prediction.kind, MW_VALUE_MISSING);
    /* whitespace everywhere */
    ok("{ \"model\" : \"m\" ,\n\t\"version\" : -12 , \"features\" : { \"a\" : 1 , \"b\" : \"x\" } }");
    ASSERT_STR(R.version, R.version_len, "-12");
    assert_int_equal(R.nfeatures, 2);
    ok("{\"model\":\"m\",\"version\":\"1\",\"features\":{},\"scores\":{}}");
    assert_int_equal(R.nfeatures, 0);
    assert_int_equal(R.nscores, 0);
}

static void test_id_prediction_kinds(void **state) {
    (void)state;
    ok("{\"model\":\"m\",\"version\":\"1\",\"id\":12345678901234567890,\"prediction\":\"cat\"}");
    ASSERT_STR(R.id, R.id_len, "12345678901234567890");
    assert_int_equal(R.prediction.kind, MW_VALUE_STRING);
    ASSERT_STR(R.prediction.str, R.prediction.str_len, "cat");
    ok("{\"model\":\"m\",\"version\":\"1\",\"id\":1.5e3,\"prediction\":false}");
    ASSERT_STR(R.id, R.id_len, "1.5e3");
    ASSERT_STR(R.prediction.str, R.prediction.str_len, "false");
    ok("{\"model\":\"m\",\"version\":\"1\",\"prediction\":-0.25,\"latency_ms\":0}");
    assert_true(R.prediction.number == -0.25);
    assert_true(R.latency_ms == 0);
}

static void test_skipped_keys(void **state) {
    (void)state;
    ok("{\"llm\":{\"input_tokens\":812,\"output_tokens\":95,\"ttft_ms\":140,"
       "\"finish_reason\":\"stop\",\"tools\":[{\"a\":[1,2,{\"b\":null}]},[],{}]},"
       "\"prompt\":\"Say \\\"hi\\\" \\u00e9\",\"completion\":\"hi\","
       "\"embedding\":[0.1,-2e-3,3],\"model\":\"m\",\"version\":\"1\",\"extra\":true}");
    ASSERT_STR(R.model, R.model_len, "m");
    assert_true(R.input_tokens == 812 && R.output_tokens == 95 && R.ttft_ms == 140);
    ASSERT_STR(R.finish_reason, R.finish_reason_len, "stop");
    ASSERT_STR(R.prompt, R.prompt_len, "Say \"hi\" \xc3\xa9");
    ASSERT_STR(R.completion, R.completion_len, "hi");
    assert_int_equal(R.embedding_len, 3);
    assert_true(R.embedding[0] == 0.1 && R.embedding[1] == -2e-3 && R.embedding[2] == 3);
    ok("{\"model\":\"m\",\"version\":\"1\",\"prompt\":null,\"embedding\":[]}");
    assert_null(R.prompt);
    assert_null(R.completion);
    assert_int_equal(R.embedding_len, 0);
    ok("{\"model\":\"m\",\"version\":\"1\",\"embedding\":null}");
    assert_null(R.embedding);
    bad("{\"prompt\":1}", 11, "\"prompt\": expected a string or null, got 1");
    bad("{\"completion\":[\"a\"]}", 15, "\"completion\": expected a string or null, got an array");
    /* a text twice would leave its first copy in the journaled line */
    bad("{\"prompt\":\"secret\",\"prompt\":\"x\"}", 29, "\"prompt\": given twice in the record");
    bad("{\"completion\":null,\"completion\":\"x\"}", 33, "\"completion\": given twice in the record");
    bad("{\"embedding\":[1,null]}", 17, "\"embedding\": element 2: expected a number, got null");
    bad("{\"embedding\":{}}", 14, "\"embedding\": expected an array of numbers, got an object");
    bad("{\"embedding\":[1 2]}", 17, "\"embedding\": expected ',' or ']' in the array, got 2");
    bad("{\"embedding\":[1,", 17, "\"embedding\": unterminated array (no closing ']' on this line)");
    ok("{\"model\":\"m\",\"version\":\"1\",\"llm\":{}}");
    assert_true(isnan(R.input_tokens) && isnan(R.ttft_ms) && R.finish_reason == NULL);
    /* depth: 64 nested containers are fine, 65 are not */
    char buf[400];
    int n = sprintf(buf, "{\"model\":\"m\",\"version\":\"1\",\"deep\":");
    for (int i = 0; i < 64; i++) buf[n++] = '[';
    for (int i = 0; i < 64; i++) buf[n++] = ']';
    strcpy(buf + n, "}");
    ok(buf);
    n = sprintf(buf, "{\"model\":\"m\",\"version\":\"1\",\"deep\":");
    int start = n;
    for (int i = 0; i < 65; i++) buf[n++] = '[';
    for (int i = 0; i < 65; i++) buf[n++] = ']';
    strcpy(buf + n, "}");
    bad(buf, (uint64_t)start + 65, "\"deep\": nested deeper than 64 levels");
    bad("{\"xtra\":{\"a\":1,}}", 16, "\"xtra\": expected a string key in an object, got '}'");
    bad("{\"xtra\":[1 2]}", 12, "\"xtra\": expected ',' or ']' in an array, got 2");
    bad("{\"xtra\":{\"a\" 1}}", 14, "\"xtra\": expected ':' after an object key, got 1");
    /* llm is read, not skipped: its quantities are checked */
    bad("{\"llm\":{\"a\":1,}}", 15, "\"llm\": expected a string key in an object, got '}'");
    bad("{\"llm\":[1 2]}", 8, "\"llm\": expected an object, got an array");
    bad("{\"llm\":{\"input_tokens\":-1}}", 24, "\"input_tokens\": expected a whole number >= 0, got -1");
    bad("{\"llm\":{\"output_tokens\":2.5}}", 25, "\"output_tokens\": expected a whole number >= 0, got 2.5");
    bad("{\"llm\":{\"ttft_ms\":\"fast\"}}", 19, "\"ttft_ms\": expected a number >= 0, got \"fast\"");
    bad("{\"llm\":{\"finish_reason\":1}}", 25, "\"finish_reason\": expected a string, got 1");
    /* absurd values would poison sums: refused */
    bad("{\"latency_ms\":1e300}", 15, "\"latency_ms\": 1e300 is not plausible (more than 1e+10)");
    bad("{\"llm\":{\"output_tokens\":10000000000000}}", 25,
        "\"output_tokens\": 10000000000000 is not plausible (more than 1e+12)");
    bad("{\"x\":tru}", 6, "\"x\": expected a value, got tru");
    bad("{\"x\":[1,\"a\\q\"]}", 11, "\"x\": invalid escape sequence in a string");
}

static void test_duplicates(void **state) {
    (void)state;
    ok("{\"model\":\"a\",\"version\":\"1\",\"model\":\"b\",\"features\":{\"x\":1},"
       "\"features\":{\"y\":2,\"z\":3},\"latency_ms\":1,\"latency_ms\":2}");
    ASSERT_STR(R.model, R.model_len, "b");
    assert_int_equal(R.nfeatures, 2);
    ASSERT_STR(R.features[0].name, R.features[0].name_len, "y");
    assert_true(R.latency_ms == 2);
    bad("{\"model\":\"a\",\"version\":\"1\",\"features\":{\"x\":1,\"y\":2,\"x\":3}}", 52,
        "feature \"x\": duplicate name");
    bad("{\"model\":\"a\",\"version\":\"1\",\"scores\":{\"0\":1,\"0\":2}}", 44,
        "score \"0\": duplicate name");
    /* many names (the table grows mid-object) and an escaped duplicate */
    size_t cap = 200000, n = 0;
    char *buf = malloc(cap);
    n += (size_t)sprintf(buf, "{\"model\":\"m\",\"version\":\"1\",\"features\":{");
    for (int i = 0; i < 3000; i++) n += (size_t)sprintf(buf + n, "\"feat_%d\":%d,", i, i);
    n += (size_t)sprintf(buf + n, "\"feat_\\u0031\":0}}");
    mw_error e;
    assert_int_equal(mw_record_parse(P, buf, n, &R, &e), MW_EPARSE);
    assert_string_equal(e.message, "feature \"feat_1\": duplicate name");
    buf[n - 6] = '9'; /* "feat_\u0039": still a duplicate of feat_9 */
    assert_int_equal(mw_record_parse(P, buf, n, &R, &e), MW_EPARSE);
    assert_string_equal(e.message, "feature \"feat_9\": duplicate name");
    buf[n - 12] = 'x'; /* "featx\u0039": new */
    ok_len(buf, n);
    assert_int_equal(R.nfeatures, 3001);
    ASSERT_STR(R.features[3000].name, R.features[3000].name_len, "featx9");
    /* the names of the last object are remembered (no table while a record
     * repeats them); a record that repeats them and then one of them again */
    ok_len(buf, n);
    assert_int_equal(R.nfeatures, 3001);
    memcpy(buf + n - 2, ",\"feat_5\":1}}", 14);
    assert_int_equal(mw_record_parse(P, buf, n + 12, &R, &e), MW_EPARSE);
    assert_string_equal(e.message, "feature \"feat_5\": duplicate name");
    ok("{\"model\":\"a\",\"version\":\"1\",\"features\":{\"x\":1,\"y\":2,\"z\":3}}");
    bad("{\"model\":\"a\",\"version\":\"1\",\"features\":{\"x\":1,\"y\":2,\"y\":3}}", 52,
        "feature \"y\": duplicate name");
    bad("{\"model\":\"a\",\"version\":\"1\",\"features\":{\"x\":1,\"y\":2,\"z\":3,\"x\":4}}",
        58, "feature \"x\": duplicate name");
    ok("{\"model\":\"a\",\"version\":\"1\",\"features\":{\"x\":1,\"y\":2}}");
    assert_int_equal(R.nfeatures, 2);
    free(buf);
}

/* mw_record_parser_decoded: set by a record with an escaped string only. */
static void test_decoded_flag(void **state) {
    (void)state;
    ok("{\"model\":\"m\",\"version\":\"1\",\"features\":{\"a\":\"x\",\"b\":true}}");
    assert_int_equal(mw_record_parser_decoded(P), 0);
    ok("{\"model\":\"m\",\"version\":\"1\",\"features\":{\"a\":\"\\u0078\"}}");
    assert_int_equal(mw_record_parser_decoded(P), 1);
    ASSERT_STR(R.features[0].str, R.features[0].str_len, "x");
    ok("{\"model\":\"m\",\"version\":\"1\",\"features\":{\"a\\n\":1}}");
    assert_int_equal(mw_record_parser_decoded(P), 1); /* an escaped name counts too */
    ok("{\"model\":\"m\",\"version\":\"1\"}");
    assert_int_equal(mw_record_parser_decoded(P), 0);
    assert_int_equal(mw_record_parser_decoded(NULL), 0);
}

/* ---- RFC 3339 ---------------------------------------------------------------------- */

static double ts_of(const char *t) {
    char buf[200];
    snprintf(buf, sizeof buf, "{\"model\":\"m\",\"version\":\"1\",\"ts\":\"%s\"}", t);
    ok(buf);
    return R.ts;
}

static void ts_bad(const char *t) {
    char buf[200], msg[300];
    snprintf(buf, sizeof buf, "{\"model\":\"m\",\"version\":\"1\",\"ts\":\"%s\"}", t);
    snprintf(msg, sizeof msg,
             "\"ts\": expected seconds since the epoch or an RFC 3339 time, got \"%s\"", t);
    bad(buf, 33, msg);
}

static void test_rfc3339(void **state) {
    (void)state;
    assert_true(ts_of("2026-11-29T03:00:00Z") == 1795921200.0);
    assert_true(ts_of("2026-11-29T03:00:00.5Z") == 1795921200.5);
    assert_true(ts_of("2026-11-29t03:00:00.25z") == 1795921200.25);
    assert_true(ts_of("2026-11-29 03:00:00Z") == 1795921200.0);
    assert_true(ts_of("2026-11-29T04:00:00+01:00") == 1795921200.0);
    assert_true(ts_of("2026-11-28T21:30:00-05:30") == 1795921200.0);
    assert_true(fabs(ts_of("2026-11-29T03:00:00.123456789Z") - 1795921200.123456789) < 1e-6);
    assert_true(ts_of("2024-02-29T23:59:59Z") == 1709251199.0);
    assert_true(ts_of("2000-02-29T00:00:00Z") == 951782400.0);
    assert_true(ts_of("1970-01-01T00:00:00+01:00") == -3600.0);
    assert_true(ts_of("1900-03-01T00:00:00Z") == -2203891200.0);
    assert_true(ts_of("2016-12-31T23:59:60Z") == 1483228800.0); /* leap second */
    ts_bad("yesterday");
    ts_bad("2026-02-30T00:00:00Z");
    ts_bad("2026-02-29T00:00:00Z");
    ts_bad("1900-02-29T00:00:00Z");
    ts_bad("2026-04-31T00:00:00Z");
    ts_bad("2026-13-01T00:00:00Z");
    ts_bad("2026-00-01T00:00:00Z");
    ts_bad("2026-11-29T24:00:00Z");
    ts_bad("2026-11-29T03:60:00Z");
    ts_bad("2026-11-29T03:00:00");
    ts_bad("2026-11-29T03:00Z");
    ts_bad("2026-11-29T03:00:00.Z");
    ts_bad("2026-11-29T03:00:00+0100");
    ts_bad("2026-11-29T03:00:00+24:00");
    ts_bad("2026-11-29T03:00:00Zjunk");
    ts_bad("2026-11-29");
    /* seconds as a number; other kinds */
    ok("{\"model\":\"m\",\"version\":\"1\",\"ts\":-1.5}");
    assert_true(R.ts == -1.5);
    bad("{\"model\":\"m\",\"version\":\"1\",\"ts\":true}", 33,
        "\"ts\": expected seconds since the epoch or an RFC 3339 time, got true");
    bad("{\"model\":\"m\",\"version\":\"1\",\"ts\":{}}", 33,
        "\"ts\": expected seconds since the epoch or an RFC 3339 time, got an object");
}

/* ---- strings ----------------------------------------------------------------------- */

static void test_escapes(void **state) {
    (void)state;
    const char *s = "{\"mod\\u0065l\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\",\"version\":\"\\u00e9\\u20ac"
                    "\\ud83d\\ude00\",\"features\":{\"k\\u00e9y\":\"v\\u00E9\",\"plain\":\"\xc3\xa9\"}}";
    ok(s);
    size_t n = strlen(s);
    ASSERT_STR(R.model, R.model_len, "a\"b\\c/d\b\f\n\r\t");
    ASSERT_STR(R.version, R.version_len, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    ASSERT_STR(R.features[0].name, R.features[0].name_len, "k\xc3\xa9y");
    ASSERT_STR(R.features[0].str, R.features[0].str_len, "v\xc3\xa9");
    ASSERT_STR(R.features[1].str, R.features[1].str_len, "\xc3\xa9");
    /* decoded strings live in the scratch, raw UTF-8 without escapes is a view */
    assert_false(inside(R.model, s, n));
    assert_false(inside(R.version, s, n));
    assert_false(inside(R.features[0].name, s, n));
    assert_true(inside(R.features[1].str, s, n));
    assert_true(inside(R.features[1].name, s, n));

    const char *pre = "{\"model\":\"m\",\"version\":\"1\",\"id\":";
    char buf[200];
#define BAD_ID(text, col, msg)                                                                 \
    do {                                                                                       \
        snprintf(buf, sizeof buf, "%s%s}", pre, text);                                         \
        bad(buf, col, msg);                                                                    \
    } while (0)
    BAD_ID("\"\\ud83d\"", 34, "\"id\": unpaired UTF-16 surrogate in a \\u escape");
    BAD_ID("\"\\ud83dx\"", 34, "\"id\": unpaired UTF-16 surrogate in a \\u escape");
    BAD_ID("\"\\ud83d\\u0041\"", 34, "\"id\": unpaired UTF-16 surrogate in a \\u escape");
    BAD_ID("\"a\\ude00\"", 35, "\"id\": unpaired UTF-16 surrogate in a \\u escape");
    BAD_ID("\"\\u0000\"", 34, "\"id\": \\u0000 (NUL) in a string is not supported");
    BAD_ID("\"\\u12G4\"", 34, "\"id\": invalid \\u escape (expected 4 hex digits)");
    BAD_ID("\"\\x\"", 34, "\"id\": invalid escape sequence in a string");
    BAD_ID("\"a\tb\"", 35, "\"id\": control character in a string (must be escaped)");
    BAD_ID("\"ab", 33, "\"id\": unterminated string (no closing '\"' on this line)");
    BAD_ID("\"\xff\"", 34, "\"id\": invalid UTF-8 in a string");
    BAD_ID("\"ok\xc0\xaf\"", 36, "\"id\": invalid UTF-8 in a string");   /* overlong */
    BAD_ID("\"\xed\xa0\x80\"", 34, "\"id\": invalid UTF-8 in a string"); /* surrogate */
    BAD_ID("\"\xf4\x90\x80\x80\"", 34, "\"id\": invalid UTF-8 in a string");
    BAD_ID("\"\\u00e9\xe2\x82\"", 40, "\"id\": invalid UTF-8 in a string"); /* truncated */
    bad("{\"model\":\"m\",\"version\":\"1\",\"features\":{\"a\xff\":1}}", 42,
        "\"features\": invalid UTF-8 in a string");
    bad("{\"model\":\"m\",\"version\":\"1\",\"features\":{\"a\":\"\xff\"}}", 45,
        "feature \"a\": invalid UTF-8 in a string");
    bad("{\"m\xe9\":1}", 4, "invalid UTF-8 in a string");
    /* a NUL byte mid-line */
    const char nul[] = "{\"model\":\"m\0\",\"version\":\"1\"}";
    mw_error e;
    assert_int_equal(mw_record_parse(P, nul, sizeof nul - 1, &R, &e), MW_EPARSE);
    assert_string_equal(e.message, "\"model\": NUL byte in a string: this looks like binary data");
    assert_int_equal(e.column, 12);
}

/* The scratch is sized once per record: earlier decoded strings stay valid while
 * later ones are decoded, also when a record needs a bigger scratch than the last. */
static void test_scratch_stability(void **state) {
    (void)state;
    ok("{\"model\":\"\\u0041\",\"version\":\"1\"}");
    ASSERT_STR(R.model, R.model_len, "A");
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    n += (size_t)sprintf(buf, "{\"model\":\"m\\u00e9\",\"version\":\"1\",\"features\":{");
    for (int i = 0; i < 2000; i++)
        n += (size_t)sprintf(buf + n, "%s\"f\\u00e9%d\":\"v\\n%d\"", i ? "," : "", i, i);
    n += (size_t)sprintf(buf + n, "}}");
    ok_len(buf, n);
    ASSERT_STR(R.model, R.model_len, "m\xc3\xa9");
    assert_int_equal(R.nfeatures, 2000);
    for (int i = 0; i < 2000; i++) {
        char nm[32], v[32];
        sprintf(nm, "f\xc3\xa9%d", i);
        sprintf(v, "v\n%d", i);
        ASSERT_STR(R.features[i].name, R.features[i].name_len, nm);
        ASSERT_STR(R.features[i].str, R.features[i].str_len, v);
    }
    /* arrays are reused: the same feature array on the next record */
    const mw_feature *f = R.features;
    ok("{\"model\":\"m\",\"version\":\"1\",\"features\":{\"a\":1}}");
    assert_ptr_equal(R.features, f);
    free(buf);
}

static void test_megabyte_string(void **state) {
    (void)state;
    size_t big = 1 << 20;
    char *buf = malloc(2 * big + 200);
    size_t n = (size_t)sprintf(buf, "{\"model\":\"m\",\"version\":\"1\",\"features\":{\"text\":\"");
    size_t start = n;
    for (size_t i = 0; i < big; i++) buf[n++] = (char)('a' + i % 26);
    n += (size_t)sprintf(buf + n, "\"}}");
    ok_len(buf, n);
    assert_int_equal(R.features[0].str_len, big);
    assert_ptr_equal(R.features[0].str, buf + start); /* a view */
    /* the same with an escape at the end: decoded into the scratch */
    n = start + big;
    n += (size_t)sprintf(buf + n, "\\u00e9\"}}");
    ok_len(buf, n);
    assert_int_equal(R.features[0].str_len, big + 2);
    assert_true(R.features[0].str != buf + start);
    assert_memory_equal(R.features[0].str, buf + start, big);
    assert_memory_equal(R.features[0].str + big, "\xc3\xa9", 2);
    free(buf);
}

/* ---- numbers ----------------------------------------------------------------------- */

static double num_of(const char *t) {
    char buf[200];
    snprintf(buf, sizeof buf, "{\"model\":\"m\",\"version\":\"1\",\"features\":{\"a\":%s}}", t);
    ok(buf);
    assert_int_equal(R.features[0].kind, MW_VALUE_NUMBER);
    return R.features[0].number;
}

static void num_bad(const char *t, const char *msg) {
    char buf[200];
    snprintf(buf, sizeof buf, "{\"model\":\"m\",\"version\":\"1\",\"features\":{\"a\":%s}}", t);
    bad(buf, 44, msg);
}

static void test_numbers(void **state) {
    (void)state;
    const char *exact[] = {"0", "-0", "1", "0.1", "3.141592653589793", "1E+2", "1e-7",
                           "2.2250738585072014e-308", "4.9e-324", "1.7976931348623157e308",
                           "123456789012345678901234567890", "0.30000000000000004",
                           "9007199254740993", "-12.5e-3", "0.000001234567890123456789",
                           "1e22", "1e23", "8.2"};
    for (size_t i = 0; i < sizeof exact / sizeof *exact; i++) {
        double want = strtod(exact[i], NULL);
        double got = num_of(exact[i]);
        if (memcmp(&got, &want, sizeof got) != 0)
            fail_msg("%s: got %.17g want %.17g", exact[i], got, want);
    }
    assert_true(signbit(num_of("-0")));
    num_bad("01", "feature \"a\": invalid JSON number 01");
    num_bad("-", "feature \"a\": invalid JSON number -");
    num_bad("1.", "feature \"a\": invalid JSON number 1.");
    num_bad("1.e5", "feature \"a\": invalid JSON number 1.e5");
    num_bad("1e", "feature \"a\": invalid JSON number 1e");
    num_bad("0x1F", "feature \"a\": invalid JSON number 0x1F");
    num_bad("1.5.3", "feature \"a\": invalid JSON number 1.5.3");
    num_bad("-Infinity", "feature \"a\": invalid JSON number -Infinity");
    num_bad("1e400", "feature \"a\": number 1e400 is out of range");
    num_bad(".5", "feature \"a\": expected a number, string, boolean or null, got .5");
    num_bad("+1", "feature \"a\": expected a number, string, boolean or null, got +1");
    num_bad("NaN", "feature \"a\": expected a number, string, boolean or null, got NaN");
    num_bad("Infinity",
            "feature \"a\": expected a number, string, boolean or null, got Infinity");
    num_bad("nul", "feature \"a\": expected a number, string, boolean or null, got nul");
    num_bad("truex", "feature \"a\": expected a number, string, boolean or null, got truex");
}

/* The one-load fast path, the digit-loop path, Eisel-Lemire on up to 19
 * digits and the exact fallback all agree with strtod, bit for bit, on
 * numbers of every length and shape. */
static void test_numbers_random(void **state) {
    (void)state;
    uint64_t x = 0x9E3779B97F4A7C15ULL;
    char num[64], buf[200];
    for (int i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        double v;
        memcpy(&v, &x, sizeof v);
        switch (i % 5) {
        case 0: /* any finite double, shortest-ish forms */
            if (!isfinite(v)) continue;
            snprintf(num, sizeof num, "%.*g", 1 + (int)(x % 17), v);
            break;
        case 1: /* fixed point, 0..17 fraction digits */
            snprintf(num, sizeof num, "%.*f", (int)(x % 18),
                     (double)(x >> 20) / (double)(1ULL << (x % 40)));
            break;
        case 2: /* integers */
            snprintf(num, sizeof num, "%llu", (unsigned long long)(x >> (x % 64)));
            break;
        case 3: /* 16 to 19 significant digits, exponents of every size */
            if (!isfinite(v)) continue;
            snprintf(num, sizeof num, "%.*e", 15 + (int)(x % 4), v);
            break;
        default: /* small values with many digits */
            snprintf(num, sizeof num, "-0.%0*llu", 1 + (int)(x % 18),
                     (unsigned long long)(x % 1000000007ULL));
            break;
        }
        int n = snprintf(buf, sizeof buf, "{\"model\":\"m\",\"version\":\"1\",\"features\":{\"a\":%s}}",
                         num);
        mw_error e;
        if (mw_record_parse(P, buf, (size_t)n, &R, &e) != MW_OK) {
            if (strstr(e.message, "out of range")) continue; /* %g of huge values: 1e308+ */
            fail_msg("%s: %s", num, e.message);
        }
        double want = strtod(num, NULL), got = R.features[0].number;
        if (memcmp(&want, &got, sizeof got) != 0) fail_msg("%s: got %.17g want %.17g", num, got, want);
    }
}

/* The value of the number t parsed as feature "a" followed by `pad` bytes of
 * a string feature: with 32 or more bytes after it the two-load fast path
 * (record.c num_value) reads it, with fewer the digit loop does. */
static double num_padded(const char *t, int pad) {
    char buf[300];
    int n = snprintf(buf, sizeof buf,
                     "{\"model\":\"m\",\"version\":\"1\",\"features\":{\"a\":%s,\"b\":\"%.*s\"}}",
                     t, pad, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    mw_error e;
    if (mw_record_parse(P, buf, (size_t)n, &R, &e) != MW_OK) fail_msg("%s: %s", t, e.message);
    return R.features[0].number;
}

/* Fast path (numbers of 16-19 digits included, followed by 32+ bytes) and
 * slow path (the same numbers near the end of the line) agree with each
 * other and with strtod, bit for bit, on random fixed-point numbers. */
static void test_numbers_fast_path(void **state) {
    (void)state;
    uint64_t x = 0x2545F4914F6CDD1DULL;
    char num[64];
    for (int i = 0; i < 100000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        int idig = 1 + (int)(x % 20), fdig = (int)((x >> 8) % 21), k = 0;
        if (x >> 63) num[k++] = '-';
        uint64_t y = x * 0x9E3779B97F4A7C15ULL;
        if ((x >> 16) % 4 == 0) {
            num[k++] = '0'; /* 0.xxx */
        } else {
            for (int d = 0; d < idig; d++, y = y * 6364136223846793005ULL + 1442695040888963407ULL)
                num[k++] = (char)('0' + (d == 0 ? 1 + (y >> 60) % 9 : (y >> 59) % 10));
        }
        if (fdig) {
            num[k++] = '.';
            for (int d = 0; d < fdig; d++, y = y * 6364136223846793005ULL + 1442695040888963407ULL)
                num[k++] = (char)('0' + (y >> 59) % 10);
        }
        num[k] = 0;
        double want = strtod(num, NULL), fast = num_padded(num, 40), slow = num_padded(num, 0);
        if (memcmp(&want, &fast, sizeof want) || memcmp(&want, &slow, sizeof want))
            fail_msg("%s: fast %.17g slow %.17g want %.17g", num, fast, slow, want);
    }
    /* shapes the fast path hands back: exponents, a digit or letter after it */
    assert_true(num_padded("1.2345678901234567e5", 40) == 1.2345678901234567e5);
    assert_true(num_padded("12345678901234567890123", 40) == 12345678901234567890123.0);
}

/* ---- errors -------------------------------------------------------------------------- */

static void test_errors(void **state) {
    (void)state;
    bad("", 1, "expected a JSON object ({...}) for the record, got the end of the line");
    bad("  [1]", 3, "expected a JSON object ({...}) for the record, got an array");
    bad("{}", 1, "missing required field \"model\"");
    bad(" {\"version\":\"1\"}", 2, "missing required field \"model\"");
    bad("{\"model\":\"m\"}", 1, "missing required field \"version\"");
    bad("{\"model\":1,\"version\":\"1\"}", 10, "\"model\": expected a string, got 1");
    bad("{\"model\":null}", 10, "\"model\": expected a string, got null");
    bad("{\"model\":\"\",\"version\":\"1\"}", 10, "\"model\": expected a non-empty string, got \"\"");
    bad("{\"model\":\"m\",\"version\":3.5}", 24,
        "\"version\": expected a string or an integer, got 3.5");
    bad("{\"model\":\"m\",\"version\":[3]}", 24,
        "\"version\": expected a string or an integer, got an array");
    bad("{\"model\":\"m\",\"version\":\"1\",\"id\":{}}", 33,
        "\"id\": expected a string or a number, got an object");
    bad("{\"model\":\"m\",\"version\":\"1\",\"features\":{\"amount\":{\"x\":1}}}", 49,
        "feature \"amount\": expected a number, string, boolean or null, got an object");
    bad("{\"model\":\"m\",\"version\":\"1\",\"features\":{\"tags\":[1]}}", 47,
        "feature \"tags\": expected a number, string, boolean or null, got an array");
    bad("{\"model\":\"m\",\"version\":\"1\",\"features\":[1]}", 39,
        "\"features\": expected an object, got an array");
    bad("{\"model\":\"m\",\"version\":\"1\",\"features\":{1:2}}", 40,
        "\"features\": expected a string key (a feature name), got 1");
    bad("{\"model\":\"m\",\"version\":\"1\",\"features\":{\"a\" 2}}", 44,
        "feature \"a\": expected ':' after the name, got 2");
    bad("{\"model\":\"m\",\"version\":\"1\",\"features\":{\"a\":1 \"b\":2}}", 46,
        "\"features\": expected ',' or '}' after a feature, got \"b\"");
    bad("{\"model\":\"m\",\"version\":\"1\",\"features\":{\"a\":1", 45,
        "\"features\": expected ',' or '}' after a feature, got the end of the line");
    bad("{\"model\":\"m\",\"version\":\"1\",\"prediction\":[]}", 41,
        "\"prediction\": expected a number, string, boolean or null, got an array");
    bad("{\"model\":\"m\",\"version\":\"1\",\"scores\":{\"1\":\"x\"}}", 42,
        "score \"1\": expected a number, got \"x\"");
    bad("{\"model\":\"m\",\"version\":\"1\",\"scores\":[0.1]}", 37,
        "\"scores\": expected an object, got an array");
    bad("{\"model\":\"m\",\"version\":\"1\",\"latency_ms\":-1}", 41,
        "\"latency_ms\": expected a number >= 0, got -1");
    bad("{\"model\":\"m\",\"version\":\"1\",\"latency_ms\":\"8\"}", 41,
        "\"latency_ms\": expected a number >= 0, got \"8\"");
    bad("{\"model\":\"m\",\"version\":\"1\",\"error\":5}", 36, "\"error\": expected a string, got 5");
    bad("{\"model\":\"m\",\"version\":\"1\"} x", 29,
        "expected the end of the line after the record, got x");
    bad("{\"model\":\"m\",\"version\":\"1\"}{}", 28,
        "expected the end of the line after the record, got an object");
    bad("{\"model\" \"m\"}", 10, "\"model\": expected ':' after the key, got \"m\"");
    bad("{\"model\":\"m\",}", 14, "expected a string key in the record, got '}'");
    bad("{\"model\":\"m\" \"version\":1}", 14, "expected ',' or '}' in the record, got \"version\"");
    bad("{\"model\":", 10, "\"model\": expected a value, got the end of the line");
    bad("{\"model\":\"m\",\"version\":\"1\",\"features\":{\"a\":", 44,
        "feature \"a\": expected a value, got the end of the line");
    /* long names and values are cut in messages */
    char buf[400];
    snprintf(buf, sizeof buf,
             "{\"model\":\"m\",\"version\":\"1\",\"features\":{\"%080d\":{}}}", 7);
    bad(buf, 123,
        "feature \"0000000000000000000000000000000000000000000000000000000000000000...\": "
        "expected a number, string, boolean or null, got an object");
    /* bad arguments */
    mw_error e;
    assert_int_equal(mw_record_parse(P, NULL, 3, &R, &e), MW_EINVAL);
    assert_int_equal(mw_record_parse(NULL, "{}", 2, &R, &e), MW_EINVAL);
    assert_int_equal(mw_record_parse(P, "{}", 2, &R, NULL), MW_EPARSE);
}

static void test_limits(void **state) {
    (void)state;
    size_t cap = 400000, n;
    char *buf = malloc(cap);
    for (int count = 10000; count <= 10001; count++) {
        n = (size_t)sprintf(buf, "{\"model\":\"m\",\"version\":\"1\",\"features\":{");
        size_t last = 0;
        for (int i = 0; i < count; i++) {
            last = n + (i ? 1 : 0);
            n += (size_t)sprintf(buf + n, "%s\"f%d\":%d", i ? "," : "", i, i);
        }
        n += (size_t)sprintf(buf + n, "}}");
        mw_error e;
        mw_status st = mw_record_parse(P, buf, n, &R, &e);
        if (count == 10000) {
            assert_int_equal(st, MW_OK);
            assert_int_equal(R.nfeatures, 10000);
            assert_true(R.features[9999].number == 9999);
        } else {
            assert_int_equal(st, MW_ERANGE);
            assert_string_equal(e.message, "\"features\": more than 10000 features");
            assert_int_equal(e.column, last + 1);
        }
    }
    /* names: 1024 bytes are fine, 1025 are not */
    for (int len = 1024; len <= 1025; len++) {
        n = (size_t)sprintf(buf, "{\"model\":\"m\",\"version\":\"1\",\"scores\":{\"");
        memset(buf + n, 'k', (size_t)len);
        n += (size_t)len;
        n += (size_t)sprintf(buf + n, "\":1}}");
        mw_error e;
        mw_status st = mw_record_parse(P, buf, n, &R, &e);
        if (len == 1024) {
            assert_int_equal(st, MW_OK);
            assert_int_equal(R.scores[0].name_len, 1024);
        } else {
            assert_int_equal(st, MW_ERANGE);
            assert_string_equal(e.message, "\"scores\": a class name is longer than 1024 bytes");
            assert_int_equal(e.column, 38);
        }
    }
    free(buf);
    /* a record longer than 16 MiB */
    size_t big = ((size_t)16 << 20) + 100;
    char *huge = malloc(big);
    memset(huge, ' ', big);
    mw_error e;
    assert_int_equal(mw_record_parse(P, huge, big, &R, &e), MW_ERANGE);
    assert_string_equal(e.message, "record is longer than the limit of 16777216 bytes");
    /* ... and as an NDJSON line between two good ones (blank, then not) */
    memcpy(huge, "{\"model\":\"a\",\"version\":\"1\"}\n", 28);
    memcpy(huge + big - 28, "\n{\"model\":\"b\",\"version\":\"1\"}", 28);
    mw_record_iter it;
    mw_record_iter_init(&it, huge, big);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 1);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 1);
    ASSERT_STR(R.model, R.model_len, "b");
    assert_int_equal(it.line, 3);
    huge[28] = 'x';
    mw_record_iter_init(&it, huge, big);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 1);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), -1);
    assert_int_equal(e.status, MW_ERANGE);
    assert_int_equal(e.line, 2);
    assert_string_equal(e.message, "line is longer than the limit of 16777216 bytes");
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 1);
    ASSERT_STR(R.model, R.model_len, "b");
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 0);
    free(huge);
}

/* ---- iterator -------------------------------------------------------------------------- */

static void test_iter_ndjson(void **state) {
    (void)state;
    const char *body = "\xEF\xBB\xBF{\"model\":\"a\",\"version\":\"1\"}\r\n"
                       "\r\n"
                       "  \t\n"
                       "{\"model\":\"b\",\"version\":1.5}\n"
                       "not json\r\n"
                       "{\"model\":\"c\",\"version\":\"1\",\"features\":{\"x\":[1]}}\n"
                       "{\"model\":\"d\",\"version\":\"1\"}";
    mw_record_iter it;
    mw_error e;
    mw_record_iter_init(&it, body, strlen(body));
    assert_false(it.array);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 1);
    ASSERT_STR(R.model, R.model_len, "a");
    assert_int_equal(it.line, 1);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), -1);
    assert_int_equal(e.line, 4);
    assert_int_equal(e.column, 24);
    assert_string_equal(e.message, "\"version\": expected a string or an integer, got 1.5");
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), -1);
    assert_int_equal(e.line, 5);
    assert_int_equal(e.column, 1);
    assert_string_equal(e.message,
                        "expected a JSON object ({...}) for the record, got not");
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), -1);
    assert_int_equal(e.line, 6);
    assert_string_equal(e.message,
                        "feature \"x\": expected a number, string, boolean or null, got an array");
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 1);
    ASSERT_STR(R.model, R.model_len, "d");
    assert_int_equal(it.line, 7);
    assert_int_equal(e.status, MW_OK);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 0);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 0);

    /* only blank lines, and nothing */
    const char *blank = "\n\r\n   \n\t\n";
    mw_record_iter_init(&it, blank, strlen(blank));
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 0);
    mw_record_iter_init(&it, "", 0);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 0);
    mw_record_iter_init(&it, NULL, 0);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 0);
}

static void test_iter_array(void **state) {
    (void)state;
    const char *body = " \n[\n  {\"model\":\"a\",\"version\":\"1\",\"features\":{\"s\":\"]}\"}},\n"
                       "  {\"model\":\"b\"},\n"
                       "  7,\n"
                       "  {\"model\":\"c\",\"version\":\"2\"}\n"
                       "] \n";
    mw_record_iter it;
    mw_error e;
    mw_record_iter_init(&it, body, strlen(body));
    assert_true(it.array);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 1);
    ASSERT_STR(R.model, R.model_len, "a");
    ASSERT_STR(R.features[0].str, R.features[0].str_len, "]}");
    assert_int_equal(it.line, 1);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), -1);
    assert_int_equal(e.line, 2);
    assert_string_equal(e.message, "missing required field \"version\"");
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), -1);
    assert_int_equal(e.line, 3);
    assert_string_equal(e.message, "expected a JSON object ({...}) for the record, got 7");
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 1);
    ASSERT_STR(R.model, R.model_len, "c");
    assert_int_equal(it.line, 4);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 0);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 0);

    mw_record_iter_init(&it, " [ ] ", 5);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 0);

    /* structurally broken arrays end the iteration */
    const char *missing_comma = "[{\"model\":\"a\",\"version\":\"1\"} {\"model\":\"b\",\"version\":\"1\"}]";
    mw_record_iter_init(&it, missing_comma, strlen(missing_comma));
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 1);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), -1);
    assert_string_equal(e.message, "expected ',' or ']' in the array, got an object");
    assert_int_equal(e.column, 30);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 0);

    const char *unterminated = "[{\"model\":\"a\",\"version\":\"1\"},";
    mw_record_iter_init(&it, unterminated, strlen(unterminated));
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 1);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), -1);
    assert_string_equal(e.message, "expected a record after ',' in the array, got the end of the line");
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 0);

    const char *open_obj = "[{\"model\":\"a\",\"version\":\"1\"";
    mw_record_iter_init(&it, open_obj, strlen(open_obj));
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), -1);
    assert_int_equal(e.line, 1);
    assert_string_equal(e.message, "expected ',' or '}' in the record, got the end of the line");
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 0);

    mw_record_iter_init(&it, "[", 1);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), -1);
    assert_string_equal(e.message, "unterminated JSON array (missing ']')");

    const char *trailing = "[{\"model\":\"a\",\"version\":\"1\"}] x";
    mw_record_iter_init(&it, trailing, strlen(trailing));
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 1);
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), -1);
    assert_string_equal(e.message, "expected the end of the body after the closing ']', got x");
    assert_int_equal(mw_record_iter_next(&it, P, &R, &e), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_record),     cmocka_unit_test(test_minimal_and_absent),
        cmocka_unit_test(test_id_prediction_kinds), cmocka_unit_test(test_skipped_keys),
        cmocka_unit_test(test_duplicates),      cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_decoded_flag),
        cmocka_unit_test(test_escapes),         cmocka_unit_test(test_scratch_stability),
        cmocka_unit_test(test_megabyte_string), cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_numbers_random),
        cmocka_unit_test(test_numbers_fast_path),
        cmocka_unit_test(test_errors),          cmocka_unit_test(test_limits),
        cmocka_unit_test(test_iter_ndjson),     cmocka_unit_test(test_iter_array),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
