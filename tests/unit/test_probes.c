/*
 * Golden-prompt probes without the network (src/server/probe_*.c): the
 * `probes:` configuration (defaults, the endpoint URL rule, the request
 * body, every error naming its place), reading answers (server-sent events
 * split at every byte, with CRLF, comments, other fields, multi-line data,
 * the usage chunk; non-streaming bodies; each kind of invalid answer and the
 * size limit), the expectations (exact with trimming, contains, regex
 * unanchored, json, ignore_case) and the stored runs (order, limit,
 * retention per set).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/probes_int.h"

#define assert_contains(hay, needle)                                                               \
    do {                                                                                           \
        if (!strstr((hay), (needle))) fail_msg("\"%s\" does not contain \"%s\"", (hay), (needle)); \
    } while (0)

static json_t *parse(const char *text) {
    json_error_t je;
    json_t *j = json_loads(text, 0, &je);
    if (!j) fail_msg("bad test JSON: %s: %s", je.text, text);
    return j;
}

/* Parses one set; fails the test unless it parses. */
static void set_ok(const char *text, mw_probe_set_config *c) {
    json_t *j = parse(text);
    mw_error err = {0};
    mw_status st = mw_probe_set_parse(j, 0, "p.yml", c, &err);
    json_decref(j);
    if (st) fail_msg("did not parse: %s", err.message);
}

/* ---- configuration ---- */

static void test_config_defaults_and_body(void **state) {
    (void)state;
    mw_probe_set_config c;
    set_ok("{\"name\": \"smoke\", \"url\": \"http://u:pw@127.0.0.1:8000/\", \"model\": \"m\","
           " \"prompts\": [{\"id\": \"q1\", \"prompt\": \"hi\", \"expect\": {\"type\": \"json\"}},"
           " {\"id\": 7, \"messages\": [{\"role\": \"system\", \"content\": \"be brief\"},"
           " {\"role\": \"user\", \"content\": \"x\"}],"
           " \"expect\": {\"type\": \"regex\", \"value\": \"^a+\", \"ignore_case\": true}}]}",
           &c);
    assert_string_equal(c.name, "smoke");
    assert_string_equal(c.url, "http://u:pw@127.0.0.1:8000/v1/chat/completions");
    assert_string_equal(c.log_url, "http://127.0.0.1:8000/v1/chat/completions");
    assert_true(c.interval_s == 60 && c.timeout_s == 30 && c.stall_s == 30);
    assert_int_equal(c.max_tokens, 256);
    assert_int_equal(c.stream, 0);
    assert_int_equal(c.nprompts, 2);
    assert_string_equal(c.prompts[1].id, "7");
    assert_true(c.prompts[1].has_re && c.prompts[1].ignore_case);
    json_t *b = parse(c.prompts[0].body);
    json_t *want = parse("{\"model\": \"m\", \"messages\": [{\"role\": \"user\", \"content\": "
                         "\"hi\"}], \"max_tokens\": 256, \"temperature\": 0.0, \"stream\": false}");
    assert_true(json_equal(b, want));
    json_decref(b);
    json_decref(want);
    b = parse(c.prompts[1].body);
    assert_int_equal(json_array_size(json_object_get(b, "messages")), 2);
    json_decref(b);
    json_t *view = mw_probe_set_json(&c);
    char *text = json_dumps(view, JSON_COMPACT);
    assert_null(strstr(text, "pw@")); /* credentials never shown */
    assert_contains(text, "\"expect\":{\"type\":\"regex\",\"value\":\"^a+\",\"ignore_case\":true}");
    free(text);
    json_decref(view);
    mw_probe_set_free(&c);

    /* streaming: stream_options, stall default min(timeout, 10); URL forms */
    set_ok("{\"name\": \"s\", \"url\": \"https://h/v1\", \"model\": \"m\", \"stream\": true,"
           " \"timeout\": \"1m\", \"interval\": \"5m\", \"max_tokens\": 8, \"temperature\": 0.5,"
           " \"prompts\": [{\"id\": \"q\", \"prompt\": \"hi\", \"expect\": {\"type\": \"exact\","
           " \"value\": \"\"}}]}",
           &c);
    assert_string_equal(c.url, "https://h/v1/chat/completions");
    assert_true(c.stall_s == 10 && c.timeout_s == 60 && c.interval_s == 300);
    b = parse(c.prompts[0].body);
    assert_true(
        json_is_true(json_object_get(json_object_get(b, "stream_options"), "include_usage")));
    assert_true(json_number_value(json_object_get(b, "temperature")) == 0.5);
    assert_int_equal(json_integer_value(json_object_get(b, "max_tokens")), 8);
    json_decref(b);
    mw_probe_set_free(&c);
    set_ok("{\"name\": \"s\", \"url\": \"http://h/openai/chat/completions\", \"model\": \"m\","
           " \"stream\": true, \"include_usage\": false, \"prompts\": [{\"id\": \"q\", \"prompt\":"
           " \"hi\", \"expect\": {\"type\": \"contains\", \"value\": \"a\"}}]}",
           &c);
    assert_string_equal(c.url, "http://h/openai/chat/completions");
    b = parse(c.prompts[0].body);
    assert_null(json_object_get(b, "stream_options"));
    json_decref(b);
    mw_probe_set_free(&c);
}

static void test_config_errors(void **state) {
    (void)state;
    static const struct {
        const char *json, *want;
    } cases[] = {
        {"[1]", "p.yml: probes[0]: expected a mapping"},
        {"[{\"url\": \"http://h\"}]", "probes[0].name: required: 1 to 64 characters"},
        {"[{\"name\": \"s\", \"model\": \"m\", \"prompts\": []}]", "probes[0] (s).url: required"},
        {"[{\"name\": \"s\", \"url\": \"http://h\", \"prompts\": []}]",
         "probes[0] (s).model: required"},
        {"[{\"name\": \"s\", \"url\": \"http://h\", \"model\": \"m\", \"prompts\": []}]",
         "probes[0] (s).prompts: required: a list of 1 to 100 prompts"},
        {"[{\"name\": \"s\", \"url\": \"http://h\", \"model\": \"m\", \"timeout\": \"20m\"}]",
         "probes[0] (s): bad or unknown key \"timeout\""},
        {"[{\"name\": \"s\", \"url\": \"http://h\", \"model\": \"m\", \"temperature\": 3}]",
         "bad or unknown key \"temperature\""},
        {"[{\"name\": \"s\", \"url\": \"http://h\", \"model\": \"m\", \"prompts\": [{\"id\": "
         "\"q\", \"prompt\": \"x\", \"messages\": [], \"expect\": {\"type\": \"json\"}}]}]",
         "probes[0] (s).prompts[0] (q): give either \"prompt\" (text) or \"messages\""},
        {"[{\"name\": \"s\", \"url\": \"http://h\", \"model\": \"m\", \"prompts\": [{\"id\": "
         "\"q\", \"prompt\": \"\", \"expect\": {\"type\": \"json\"}}]}]",
         "probes[0] (s).prompts[0] (q).prompt: expected text of 1 to 65536 bytes"},
        {"[{\"name\": \"s\", \"url\": \"http://h\", \"model\": \"m\", \"prompts\": [{\"id\": "
         "\"q\", \"messages\": [{\"role\": \"user\", \"content\": 1}], \"expect\": {\"type\": "
         "\"json\"}}]}]",
         "probes[0] (s).prompts[0] (q).messages[0]: expected {role"},
        {"[{\"name\": \"s\", \"url\": \"http://h\", \"model\": \"m\", \"prompts\": [{\"id\": "
         "\"q\", \"prompt\": \"x\", \"expect\": {\"type\": \"contains\", \"value\": \"\"}}]}]",
         "(q).expect.value: expected text of at most 65536 bytes (not empty for contains"},
        {"[{\"name\": \"s\", \"url\": \"http://h\", \"model\": \"m\", \"prompts\": [{\"id\": "
         "\"q\", \"prompt\": \"x\", \"expect\": {\"type\": \"exact\"}}]}]",
         "(q).expect.value: required for exact, contains and regex"},
        {"[{\"name\": \"s\", \"url\": \"http://h\", \"model\": \"m\", \"prompts\": [{\"id\": "
         "\"q\", \"prompt\": \"x\", \"expect\": {\"type\": \"regex\", \"value\": \"a(\"}}]}]",
         "(q).expect.value: not a usable regular expression"},
        {"[{\"name\": \"s\", \"url\": \"http://h\", \"model\": \"m\", \"prompts\": [{\"id\": "
         "\"q\", \"prompt\": \"x\", \"expect\": {\"type\": \"regex\", \"value\": "
         "\"((a*){1,30}){1,30}\"}}]}]",
         "(q).expect.value: not a usable regular expression"},
        {"[{\"name\": \"s\", \"url\": \"http://h\", \"model\": \"m\", \"prompts\": [{\"id\": "
         "\"q\", \"prompt\": \"x\", \"expect\": {\"type\": \"json\"}, \"note\": 1}]}]",
         "(q): unknown key \"note\""},
        {"[{\"name\": \"s\", \"url\": \"http://h\", \"model\": \"m\", \"prompts\": [{\"id\": "
         "\"a/b\", \"prompt\": \"x\", \"expect\": {\"type\": \"json\"}}]}]",
         "prompts[0] (a/b).id: required: 1 to 64 characters"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        json_t *j = parse(cases[i].json);
        mw_error err = {0};
        mw_status st = mw_probes_check(j, "p.yml", &err);
        json_decref(j);
        if (st != MW_EINVAL) fail_msg("case %zu: status %d: %s", i, st, err.message);
        assert_contains(err.message, cases[i].want);
    }
    mw_error err = {0};
    /* 20 messages of 60 KiB: each within its limit, the request over 1 MiB */
    char *big = malloc(60 * 1024 + 1);
    memset(big, 'w', 60 * 1024);
    big[60 * 1024] = 0;
    json_t *msgs = json_array();
    for (int i = 0; i < 20; i++)
        json_array_append_new(msgs, json_pack("{s:s, s:s}", "role", "user", "content", big));
    free(big);
    json_t *sets =
        json_pack("[{s:s, s:s, s:s, s:[{s:s, s:o, s:{s:s}}]}]", "name", "s", "url", "http://h",
                  "model", "m", "prompts", "id", "q", "messages", msgs, "expect", "type", "json");
    assert_int_equal(mw_probes_check(sets, "p.yml", &err), MW_EINVAL);
    assert_contains(err.message, "(q): the request would be longer than 1 MiB");
    json_decref(sets);
    json_t *many = json_array();
    for (int i = 0; i < 65; i++)
        json_array_append_new(many, json_object());
    assert_int_equal(mw_probes_check(many, "p.yml", &err), MW_EINVAL);
    assert_contains(err.message, "at most 64 probe sets");
    json_decref(many);
}

/* ---- answers ---- */

static const char sse[] =
    ": a comment\r\n"
    "event: ignored\r\n"
    "data: {\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}],\"usage\":null}\r\n"
    "\r\n"
    "data:{\"choices\":[{\"delta\":{\"content\":\"Par\"},\"finish_reason\":null}]}\n\n"
    "data: {\"choices\":[{\"delta\":\r\n"
    "data: {\"content\":\"is\\n\"}}]}\r\r"
    "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
    "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3}}\n\n"
    "data: [DONE]\n\n";

static void test_answer_stream_bytewise(void **state) {
    (void)state;
    mw_probe_answer a;
    mw_probe_answer_init(&a, 1);
    size_t n = strlen(sse);
    for (size_t i = 0; i < n; i++) /* one byte at a time, at time i */
        assert_int_equal(mw_probe_answer_feed(&a, sse + i, 1, (double)i), 0);
    mw_probe_answer_finish(&a);
    assert_false(a.invalid);
    assert_true(a.done);
    assert_int_equal(a.content.len, 6);
    assert_string_equal((const char *)a.content.data, "Paris\n");
    /* the first non-empty content arrived with the blank line after "Par" */
    const char *first = strstr(sse, "\"Par\"");
    const char *dispatch = strstr(first, "\n\n") + 1;
    assert_true(a.ttft_s == (double)(dispatch - sse));
    assert_true(a.input_tokens == 12 && a.output_tokens == 3);
    assert_string_equal(a.finish_reason, "stop");
    assert_int_equal(a.events, 6);
    mw_probe_answer_free(&a);

    /* all at once; a last event without its blank line still counts */
    mw_probe_answer_init(&a, 1);
    const char *s = "data: {\"choices\":[{\"delta\":{\"content\":\"ok\"}}]}\n\ndata: [DONE]";
    assert_int_equal(mw_probe_answer_feed(&a, s, strlen(s), 0.5), 0);
    mw_probe_answer_finish(&a);
    assert_true(a.done && !a.invalid && a.ttft_s == 0.5);
    assert_true(isnan(a.input_tokens));
    mw_probe_answer_free(&a);
}

/* Feeds text as a stream (stream 1) or a body (0); returns the answer finished. */
static void answer_of(const char *text, int stream, mw_probe_answer *a) {
    mw_probe_answer_init(a, stream);
    assert_int_equal(mw_probe_answer_feed(a, text, strlen(text), 0.1), 0);
    mw_probe_answer_finish(a);
}

static void test_answer_invalid(void **state) {
    (void)state;
    static const struct {
        int stream;
        const char *text, *want; /* want NULL: valid */
    } cases[] = {
        {1, "data: {\"choices\": [ not json\n\n", "a stream chunk is not a JSON object"},
        {1, "data: {\"error\": {\"message\": \"overloaded\"}}\n\n",
         "a stream chunk carries an error: overloaded"},
        {1, "data: {\"id\": 1}\n\n", "a stream chunk has neither choices nor usage"},
        {1, "data: {\"choices\": [{\"delta\": {\"content\": 5}}]}\n\n", "is not text"},
        {1, "<html>busy</html>", "no server-sent events"},
        {1, "data: [1]\n\n", "another JSON value"},
        {1, "", NULL}, /* nothing at all: judged truncated by the client */
        {0, "<html>oops</html>", "the answer is not a JSON object"},
        {0, "{\"choices\": []}", "the answer has no choices[0].message"},
        {0, "{\"choices\": [{\"message\": {\"content\": [1]}}]}", "content is not text"},
        {0, "{\"error\": \"nope\"}", "the answer carries an error: nope"},
        {0, "{\"choices\": [{\"message\": {\"role\": \"assistant\", \"content\": null}}]}", NULL},
        {0, "{\"choices\": [{\"message\": {\"content\": \"x\"}}], \"a\": 1, \"a\": 2}",
         "duplicate"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mw_probe_answer a;
        answer_of(cases[i].text, cases[i].stream, &a);
        if (!cases[i].want) {
            if (a.invalid) fail_msg("case %zu: invalid: %s", i, a.detail);
        } else {
            if (!a.invalid) fail_msg("case %zu: valid", i);
            assert_contains(a.detail, cases[i].want);
        }
        assert_false(a.done);
        mw_probe_answer_free(&a);
    }
    /* the size limit */
    mw_probe_answer a;
    mw_probe_answer_init(&a, 0);
    static char block[1 << 20];
    memset(block, 'x', sizeof block);
    for (int i = 0; i < 4; i++)
        assert_int_equal(mw_probe_answer_feed(&a, block, sizeof block, 0), 0);
    assert_int_equal(mw_probe_answer_feed(&a, "y", 1, 0), -1);
    assert_int_equal(a.received, MW_PROBE_MAX_ANSWER);
    assert_int_equal(strlen(a.excerpt), MW_PROBE_EXCERPT);
    mw_probe_answer_free(&a);
}

static void test_answer_json(void **state) {
    (void)state;
    mw_probe_answer a;
    answer_of("{\"id\": \"c\", \"choices\": [{\"index\": 0, \"message\": {\"role\": \"assistant\","
              " \"content\": \"Paris\\u0000!\"}, \"finish_reason\": \"length\"}],"
              " \"usage\": {\"prompt_tokens\": 9, \"completion_tokens\": 2, \"total_tokens\": 11}}",
              0, &a);
    assert_false(a.invalid);
    assert_int_equal(a.content.len, 7); /* the NUL is kept */
    assert_memory_equal(a.content.data, "Paris\0!", 7);
    assert_string_equal(a.finish_reason, "length");
    assert_true(a.input_tokens == 9 && a.output_tokens == 2 && isnan(a.ttft_s));
    mw_probe_answer_free(&a);
}

/* ---- expectations ---- */

static int holds(const char *expect_json, const char *text) {
    char buf[512];
    snprintf(buf, sizeof buf,
             "{\"name\": \"s\", \"url\": \"http://h\", \"model\": \"m\", \"prompts\": [{\"id\":"
             " \"q\", \"prompt\": \"x\", \"expect\": %s}]}",
             expect_json);
    mw_probe_set_config c;
    set_ok(buf, &c);
    int r = mw_probe_expect_holds(&c.prompts[0], text, strlen(text));
    mw_probe_set_free(&c);
    return r;
}

static void test_expectations(void **state) {
    (void)state;
    static const struct {
        const char *expect, *text;
        int holds;
    } cases[] = {
        {"{\"type\": \"exact\", \"value\": \"Paris\"}", " \n Paris.\t\n", 0},
        {"{\"type\": \"exact\", \"value\": \"Paris\"}", " \n Paris\t\n", 1},
        {"{\"type\": \"exact\", \"value\": \"Paris\"}", "paris", 0},
        {"{\"type\": \"exact\", \"value\": \"Paris\", \"ignore_case\": true}", "PARIS", 1},
        {"{\"type\": \"exact\", \"value\": \"\"}", "  ", 1},
        {"{\"type\": \"contains\", \"value\": \"capital\"}", "The capital is Paris", 1},
        {"{\"type\": \"contains\", \"value\": \"Capital\"}", "The capital is", 0},
        {"{\"type\": \"contains\", \"value\": \"Capital\", \"ignore_case\": true}",
         "The capital is", 1},
        {"{\"type\": \"contains\", \"value\": \"is Paris!\"}", "is Paris", 0},
        {"{\"type\": \"regex\", \"value\": \"[0-9]+\"}", "The answer is 42.", 1},
        {"{\"type\": \"regex\", \"value\": \"^[0-9]+$\"}", "The answer is 42.", 0},
        {"{\"type\": \"regex\", \"value\": \"^(yes|no)$\", \"ignore_case\": true}", "YES", 1},
        {"{\"type\": \"json\"}", " {\"a\": [1, 2]}\n", 1},
        {"{\"type\": \"json\"}", "```json\n{\"a\": 1}\n```", 0},
        {"{\"type\": \"json\"}", "{\"a\": 1} trailing", 0},
        {"{\"type\": \"json\"}", "", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (holds(cases[i].expect, cases[i].text) != cases[i].holds)
            fail_msg("case %zu: %s on \"%s\": expected %d", i, cases[i].expect, cases[i].text,
                     cases[i].holds);
}

/* ---- stored runs ---- */

static void expect_runs(mw_store *s, const char *set, size_t limit, const char *want) {
    char *out = NULL;
    mw_error err = {0};
    assert_int_equal(mw_store_probe_runs(s, set, limit, &out, &err), MW_OK);
    assert_string_equal(out, want);
    free(out);
}

static void test_store_runs(void **state) {
    (void)state;
    mw_store *s = NULL;
    mw_error err = {0};
    assert_int_equal(mw_store_open(":memory:", NULL, &s, &err), MW_OK);
    char json[64];
    for (int i = 0; i < 5; i++) {
        snprintf(json, sizeof json, "{\"run\": %d}", i);
        assert_int_equal(mw_store_probe_run_commit(s, "a", i, i + 0.5, 4, 3, json, 3, &err), MW_OK);
    }
    assert_int_equal(mw_store_probe_run_commit(s, "b", 9, 10, 1, 1, "{\"run\": 99}", 3, &err),
                     MW_OK);
    expect_runs(s, "a", 0, "[{\"run\":4},{\"run\":3},{\"run\":2}]"); /* 3 kept, newest first */
    expect_runs(s, "a", 1, "[{\"run\":4}]");
    expect_runs(s, "b", 10, "[{\"run\":99}]");
    expect_runs(s, "none", 10, "[]");
    assert_int_equal(mw_store_probe_run_commit(s, "", 1, 2, 1, 1, "{}", 0, &err), MW_EINVAL);
    assert_contains(err.message, "probe set is empty");
    assert_int_equal(mw_store_probe_run_commit(s, "a", NAN, 2, 1, 1, "{}", 0, &err), MW_EINVAL);
    assert_contains(err.message, "must be finite");
    mw_store_close(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_defaults_and_body),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_answer_stream_bytewise),
        cmocka_unit_test(test_answer_invalid),
        cmocka_unit_test(test_answer_json),
        cmocka_unit_test(test_expectations),
        cmocka_unit_test(test_store_runs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
