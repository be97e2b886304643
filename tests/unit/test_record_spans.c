/*
 * Feature value spans in record lines (mw_record_feature_spans, record.h):
 * string, number, literal and container values; escapes inside values; keys
 * with escapes, \u escapes and surrogate pairs; key order and whitespace;
 * absent features; a "features" key nested elsewhere or inside a string;
 * duplicate top-level "features" (the last one kept, as the parser does, a
 * later null keeps none); cap smaller than the count; every prefix of a line
 * scanned safely; and agreement with the parser on every feature of lines it
 * accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modelwatch/record.h"

#define MAXS 16

static mw_record_span S[MAXS];

/* Spans of the given names (NULL-terminated) in line; their count. */
static size_t spans(const char *line, const char *const *names) {
    size_t n = 0, lens[8];
    while (names[n]) {
        lens[n] = strlen(names[n]);
        n++;
    }
    memset(S, 0xAB, sizeof S);
    return mw_record_feature_spans(line, strlen(line), names, lens, n, S, MAXS);
}

/* Span i is the text want, for names[name], with last. */
static void is(const char *line, size_t i, const char *want, size_t name, int last) {
    char got[256];
    size_t n = S[i].len < sizeof got - 1 ? S[i].len : sizeof got - 1;
    memcpy(got, line + S[i].at, n);
    got[n] = 0;
    assert_string_equal(got, want);
    assert_int_equal(S[i].len, strlen(want));
    assert_int_equal(S[i].name, name);
    assert_int_equal(S[i].last, last);
}

static const char *const review[] = {"review", NULL};

static void test_kinds(void **state) {
    (void)state;
    const char *const names[] = {"review", "x", "n", "b", "o", "a", NULL};
    const char *l =
        "{\"model\":\"m\",\"version\":\"1\",\"features\":{\"x\":-1.5e3,\"review\":\"good "
        "stuff\",\"n\":null,\"b\":true,\"o\":{\"k\":[1,{\"}\":\"]\"}]},\"a\":[\"[\",2]}}";
    assert_int_equal(spans(l, names), 6);
    is(l, 0, "-1.5e3", 1, 1);
    is(l, 1, "\"good stuff\"", 0, 1);
    is(l, 2, "null", 2, 1);
    is(l, 3, "true", 3, 1);
    is(l, 4, "{\"k\":[1,{\"}\":\"]\"}]}", 4, 1);
    is(l, 5, "[\"[\",2]", 5, 1);
}

static void test_value_escapes(void **state) {
    (void)state;
    const char *l = "{\"features\":{\"review\":\"say \\\"hi\\\" \\\\\",\"after\":\"x\\\\\"},"
                    "\"model\":\"m\"}";
    assert_int_equal(spans(l, review), 1);
    is(l, 0, "\"say \\\"hi\\\" \\\\\"", 0, 1);
    const char *u = "{\"features\":{\"review\":\"caf\\u00e9 \\ud83d\\ude00\"},\"model\":\"m\"}";
    assert_int_equal(spans(u, review), 1);
    is(u, 0, "\"caf\\u00e9 \\ud83d\\ude00\"", 0, 1);
}

static void test_key_escapes(void **state) {
    (void)state;
    const char *const names[] = {"review", "caf\xc3\xa9", "\xf0\x9f\x98\x80", "a\"b", NULL};
    const char *l = "{\"feat\\u0075res\":{\"re\\u0076iew\":\"1\",\"caf\\u00E9\":2,"
                    "\"\\ud83d\\ude00\":3,\"a\\\"b\":4,\"re\\/view\":5,\"\\u0000\":6}}";
    assert_int_equal(spans(l, names), 4);
    is(l, 0, "\"1\"", 0, 1);
    is(l, 1, "2", 1, 1);
    is(l, 2, "3", 2, 1);
    is(l, 3, "4", 3, 1);
    /* a lone surrogate or a bad escape matches nothing */
    const char *bad = "{\"features\":{\"\\ud83d\":1,\"re\\qview\":2,\"review\":3}}";
    const char *const lone[] = {"\xed\xa0\xbd", "re\\qview", "review", NULL};
    assert_int_equal(spans(bad, lone), 1);
    is(bad, 0, "3", 2, 1);
}

static void test_order_and_whitespace(void **state) {
    (void)state;
    const char *l =
        " \t{ \"id\" : \"features\" ,\r\n \"meta\": {\"features\": {\"review\": \"no\"}},"
        "\"features\" :\n{ \"a\" : 1 , \"review\" :\t\"yes\" } , \"prompt\": "
        "\"\\\"features\\\": {\\\"review\\\": 1}\" }";
    assert_int_equal(spans(l, review), 1);
    is(l, 0, "\"yes\"", 0, 1);
    const char *absent = "{\"features\":{\"a\":1},\"review\":\"top-level\"}";
    assert_int_equal(spans(absent, review), 0);
    assert_int_equal(spans("{\"features\":{}}", review), 0);
    assert_int_equal(spans("{}", review), 0);
    assert_int_equal(spans("", review), 0);
    assert_int_equal(spans("[{\"features\":{\"review\":1}}]", review), 0);
}

static void test_duplicates(void **state) {
    (void)state;
    const char *l =
        "{\"features\":{\"review\":\"first\"},\"features\":{\"x\":1,\"review\":\"second\"}}";
    assert_int_equal(spans(l, review), 2);
    is(l, 0, "\"first\"", 0, 0);
    is(l, 1, "\"second\"", 0, 1);
    const char *nulled = "{\"features\":{\"review\":\"first\"},\"features\":null}";
    assert_int_equal(spans(nulled, review), 1);
    is(nulled, 0, "\"first\"", 0, 0);
    /* the same name twice in one object (the parser refuses it): both reported */
    const char *twice = "{\"features\":{\"review\":1,\"review\":2}}";
    assert_int_equal(spans(twice, review), 2);
    is(twice, 0, "1", 0, 1);
    is(twice, 1, "2", 0, 1);
}

static void test_cap(void **state) {
    (void)state;
    const char *const names[] = {"a", "b", "c", NULL};
    const char *l = "{\"features\":{\"a\":1,\"b\":2,\"c\":3}}";
    size_t lens[] = {1, 1, 1};
    mw_record_span two[2];
    assert_int_equal(mw_record_feature_spans(l, strlen(l), names, lens, 3, two, 2), 3);
    assert_int_equal(two[0].name, 0);
    assert_int_equal(two[1].name, 1);
    assert_int_equal(two[1].last, 1);
    assert_int_equal(mw_record_feature_spans(l, strlen(l), names, lens, 3, NULL, 0), 3);
}

/* Every prefix of a line (malloc'd to its length, so that ASan sees a read
 * past it): spans inside the prefix, and complete values only. */
static void test_prefixes(void **state) {
    (void)state;
    const char *const names[] = {"review", "x", NULL};
    size_t lens[] = {6, 1};
    const char *l = "{\"model\":\"m\",\"features\":{\"x\":{\"k\":[1,\"}\"]},\"re\\u0076iew\":\"a "
                    "\\\"b\\\"\"},\"version\":2}";
    size_t n = strlen(l);
    for (size_t k = 0; k <= n; k++) {
        char *p = malloc(k ? k : 1);
        memcpy(p, l, k);
        mw_record_span out[4];
        size_t c = mw_record_feature_spans(p, k, names, lens, 2, out, 4);
        assert_true(c <= 2);
        for (size_t i = 0; i < c; i++) {
            assert_true(out[i].at + out[i].len <= k);
            assert_true(out[i].len > 0);
        }
        free(p);
    }
}

/* Lines the parser accepts: every parsed feature has its last span, whose
 * text is the value as written. */
static void test_agrees_with_parser(void **state) {
    (void)state;
    static const char *const lines[] = {
        "{\"model\":\"m\",\"version\":1,\"features\":{\"a\":1,\"b\":\"two\",\"c\":null,\"d\":false}"
        "}",
        "{\"features\":{\"a\":\"x\"},\"model\":\"m\",\"version\":\"1\",\"features\":{\"b\":"
        "\"y\\n\"}}",
        "{\"model\":\"m\",\"version\":\"1\",\"features\":{\"\\u0061\":\"\\u00e9\",\"b\" : 2.5 }}",
        "{\"model\":\"m\",\"version\":\"1\",\"extra\":{\"features\":{\"a\":9}},\"features\":{\"a\":"
        "3}}",
    };
    mw_record_parser *P = mw_record_parser_new();
    assert_non_null(P);
    for (size_t t = 0; t < sizeof lines / sizeof *lines; t++) {
        const char *l = lines[t];
        mw_record rec;
        mw_error e;
        assert_int_equal(mw_record_parse(P, l, strlen(l), &rec, &e), MW_OK);
        const char *names[8];
        size_t lens[8];
        for (size_t i = 0; i < rec.nfeatures; i++) {
            names[i] = rec.features[i].name;
            lens[i] = rec.features[i].name_len;
        }
        mw_record_span out[8];
        size_t c = mw_record_feature_spans(l, strlen(l), names, lens, rec.nfeatures, out, 8);
        size_t last = 0;
        for (size_t i = 0; i < c; i++) {
            if (!out[i].last) continue;
            const mw_feature *f = &rec.features[out[i].name];
            const char *v = l + out[i].at;
            char first = *v;
            if (f->kind == MW_VALUE_NUMBER)
                assert_true(first == '-' || (first >= '0' && first <= '9'));
            if (f->kind == MW_VALUE_MISSING) assert_memory_equal(v, "null", 4);
            if (f->kind == MW_VALUE_STRING)
                assert_true(first == '"' || first == 't' || first == 'f');
            last++;
        }
        assert_int_equal(last, rec.nfeatures);
    }
    mw_record_parser_free(P);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kinds),       cmocka_unit_test(test_value_escapes),
        cmocka_unit_test(test_key_escapes), cmocka_unit_test(test_order_and_whitespace),
        cmocka_unit_test(test_duplicates),  cmocka_unit_test(test_cap),
        cmocka_unit_test(test_prefixes),    cmocka_unit_test(test_agrees_with_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
