/*
 * NDJSON / JSON-array reading: flattening (features bare, other objects dotted),
 * skipped arrays, types (numbers, strings, booleans, null), columns appearing
 * late, escapes incl. surrogate pairs, key-order-independent row hashes, and the
 * exact error (message, line, byte column) of malformed input.
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

#include "modelwatch/data.h"

static mw_table *rd(const char *s) {
    mw_table *t = NULL;
    mw_error e;
    mw_read_options opt = {0};
    opt.format = MW_FMT_NDJSON;
    if (mw_table_read_mem("r.jsonl", s, strlen(s), &opt, &t, &e) != MW_OK)
        fail_msg("unexpected error: %s", e.message);
    return t;
}

static void err(const char *s, uint64_t line, uint64_t col, const char *msg) {
    mw_table *t = (mw_table *)1;
    mw_error e;
    mw_status st = mw_table_read_mem("r.jsonl", s, strlen(s), NULL, &t, &e);
    if (st != MW_EPARSE || e.line != line || e.column != col || strcmp(e.message, msg) != 0)
        fail_msg("got %d %llu:%llu \"%s\"; want %llu:%llu \"%s\"", st, (unsigned long long)e.line,
                 (unsigned long long)e.column, e.message, (unsigned long long)line,
                 (unsigned long long)col, msg);
    assert_null(t);
}

static const char *cat(const mw_table *t, const char *col, size_t r) {
    long c = mw_table_find(t, col);
    assert_true(c >= 0);
    assert_int_equal(t->cols[c].type, MW_TYPE_CATEGORICAL);
    uint32_t code = t->cols[c].codes[r];
    return code == MW_CODE_MISSING ? "<missing>" : mw_dict_str(t->cols[c].dict, code, NULL);
}

static double num(const mw_table *t, const char *col, size_t r) {
    long c = mw_table_find(t, col);
    assert_true(c >= 0);
    assert_int_equal(t->cols[c].type, MW_TYPE_NUMERIC);
    return t->cols[c].num[r];
}

static void test_records(void **state) {
    (void)state;
    mw_table *t = rd("{\"model\":\"fraud\",\"id\":\"r-1\",\"ts\":1764382800.5,"
                     "\"features\":{\"amount\":12.5,\"country\":\"DE\"},\"prediction\":1,"
                     "\"scores\":{\"0\":0.1,\"1\":0.9},\"embedding\":[1,2,[3,{\"x\":1}]],"
                     "\"ok\":true,\"n\":null}\n"
                     "\n"
                     "  {\"features\":{\"amount\":-3e2,\"country\":\"N/A\",\"late\":\"x\"},"
                     "\"ok\":false,\"model\":\"fraud\"}  \r\n");
    assert_int_equal(t->nrows, 2);
    assert_int_equal(t->n_blank_lines, 1);
    assert_int_equal(t->n_arrays_skipped, 1);
    assert_true(num(t, "amount", 0) == 12.5 && num(t, "amount", 1) == -300.0);
    assert_string_equal(cat(t, "country", 0), "DE");
    assert_string_equal(cat(t, "country", 1), "<missing>");
    assert_true(num(t, "scores.0", 0) == 0.1 && isnan(num(t, "scores.1", 1)));
    assert_true(num(t, "ts", 0) == 1764382800.5);
    assert_string_equal(cat(t, "ok", 0), "true");
    assert_string_equal(cat(t, "ok", 1), "false");
    assert_string_equal(cat(t, "late", 0), "<missing>");
    assert_string_equal(cat(t, "late", 1), "x");
    assert_int_equal(mw_table_find(t, "embedding"), -1);
    assert_int_equal(mw_table_find(t, "features"), -1);
    long n = mw_table_find(t, "n");
    assert_int_equal(t->cols[n].n_missing, 2);
    assert_int_equal(t->cols[mw_table_find(t, "late")].n_missing, 1);
    assert_int_equal(t->cols[mw_table_find(t, "prediction")].n_missing, 1);
    mw_table_free(t);
}

static void test_escapes_and_unicode(void **state) {
    (void)state;
    mw_table *t = rd("{\"s\":\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\",\"u\":\"\\u00e9\\u20ac\\ud83d\\ude00\","
                     "\"raw\":\"\xc3\xa9\xe2\x82\xac\",\"k\\u0041\":1}\n");
    assert_string_equal(cat(t, "s", 0), "a\"b\\c/d\b\f\n\r\t");
    assert_string_equal(cat(t, "u", 0), "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    assert_string_equal(cat(t, "raw", 0), "\xc3\xa9\xe2\x82\xac");
    assert_true(num(t, "kA", 0) == 1.0);
    mw_table_free(t);
}

static void test_types_and_hash(void **state) {
    (void)state;
    mw_table *t = rd("{\"a\":1,\"b\":\"x\",\"c\":\"12\"}\n{\"b\":\"x\",\"a\":1,\"c\":\"12\"}\n"
                     "{\"a\":1,\"b\":\"y\",\"c\":\"12\"}\n{\"a\":null}\n{}\n");
    assert_true(t->row_hash[0] == t->row_hash[1]);
    assert_true(t->row_hash[0] != t->row_hash[2]);
    assert_int_equal(t->n_empty_rows, 2);
    /* a JSON string makes an AUTO column categorical, even when it looks numeric */
    assert_string_equal(cat(t, "c", 0), "12");
    mw_table_free(t);
    /* numbers then a string: earlier numbers re-encoded */
    t = rd("{\"v\":1.50}\n{\"v\":\"high\"}\n{\"v\":2}\n");
    assert_string_equal(cat(t, "v", 0), "1.5");
    assert_string_equal(cat(t, "v", 1), "high");
    assert_string_equal(cat(t, "v", 2), "2");
    mw_table_free(t);
}

static void test_array_file(void **state) {
    (void)state;
    mw_table *t = rd("\xEF\xBB\xBF [\n  {\"a\": 1, \"b\": {\"c\": \"x\"}},\n  {\"a\": 2}\n]\n");
    assert_int_equal(t->nrows, 2);
    assert_true(num(t, "a", 1) == 2.0);
    assert_string_equal(cat(t, "b.c", 0), "x");
    mw_table_free(t);
    t = rd("[]");
    assert_int_equal(t->nrows, 0);
    mw_table_free(t);
    /* auto detection by the first byte */
    mw_table *t2;
    mw_error e;
    assert_int_equal(mw_table_read_mem("x", "{\"a\":1}", 7, NULL, &t2, &e), MW_OK);
    assert_int_equal(t2->nrows, 1);
    mw_table_free(t2);
}

static void test_errors(void **state) {
    (void)state;
    err("{\"a\":1}\n{\"a\":}\n", 2, 6, "r.jsonl:2:6: expected a value, got '}'");
    err("{\"a\":1}\n[1,2]\n", 2, 1,
        "r.jsonl:2:1: expected a JSON object ({...}) for each record, got an array");
    err("{\"a\":1}\n 42\n", 2, 2,
        "r.jsonl:2:2: expected a JSON object ({...}) for each record, got a number");
    err("{\"a\":1,\"a\":2}", 1, 8, "r.jsonl:1:8: duplicate key \"a\" in one record");
    err("{\"a\":01}", 1, 7, "r.jsonl:1:7: expected ',' or '}' in an object, got a number");
    err("{\"a\":1.}", 1, 6, "r.jsonl:1:6: expected a value, got a number");
    err("{\"a\":\"x\\q\"}", 1, 8, "r.jsonl:1:8: invalid escape sequence in a string");
    err("{\"a\":\"\\ud800\"}", 1, 7, "r.jsonl:1:7: unpaired UTF-16 surrogate in a \\u escape");
    err("{\"a\":\"\\u12G4\"}", 1, 7, "r.jsonl:1:7: invalid \\u escape (expected 4 hex digits)");
    err("{\"a\":\"abc}\n", 1, 6, "r.jsonl:1:6: unterminated string (no closing '\"' on this line)");
    err("{\"a\":\"a\xff\"}", 1, 8, "r.jsonl:1:8: invalid UTF-8 in a string");
    err("{\"a\":\"a\tb\"}", 1, 8, "r.jsonl:1:8: control character in a string (must be escaped)");
    err("{\"a\":1} x", 1, 9,
        "r.jsonl:1:9: expected the end of the line after the record's object, got an unexpected "
        "character");
    err("{\"a\" 1}", 1, 6, "r.jsonl:1:6: expected ':' after an object key, got a number");
    err("{a:1}", 1, 2, "r.jsonl:1:2: expected a string key in an object, got an unexpected character");
    err("{\"a\":tru}", 1, 6, "r.jsonl:1:6: invalid literal (expected true, false or null)");
    err("[{\"a\":1},\n {\"a\":2}", 2, 9, "r.jsonl:2:9: unterminated JSON array (missing ']')");
    err("[{\"a\":1}] x", 1, 11,
        "r.jsonl:1:11: expected the end of the input after the closing ']', got an unexpected "
        "character");
    /* nesting limit */
    char deep[300] = "{\"a\":";
    for (int i = 0; i < 100; i++) strcat(deep, "[");
    err(deep, 1, 69, "r.jsonl:1:69: JSON nested deeper than 64 levels");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_records),
        cmocka_unit_test(test_escapes_and_unicode),
        cmocka_unit_test(test_types_and_hash),
        cmocka_unit_test(test_array_file),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
