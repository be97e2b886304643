/*
 * Schemas (YAML): top-level and `columns:` forms, lookups, and errors naming the
 * file, line and what was expected; the string dictionary (codes, lookups,
 * stable pointers across growth).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "modelwatch/data.h"
#include "data/data_int.h"

static mw_schema *parse_ok(const char *y) {
    mw_schema *s = NULL;
    mw_error e;
    if (mw_schema_parse("s.yaml", y, strlen(y), &s, &e) != MW_OK) fail_msg("%s", e.message);
    return s;
}

static void parse_err(const char *y, uint64_t line, const char *msg) {
    mw_schema *s = (mw_schema *)1;
    mw_error e;
    mw_status st = mw_schema_parse("s.yaml", y, strlen(y), &s, &e);
    if (st != MW_EPARSE || e.line != line || strcmp(e.message, msg) != 0)
        fail_msg("got %d line %llu \"%s\"; want line %llu \"%s\"", st, (unsigned long long)e.line,
                 e.message, (unsigned long long)line, msg);
    assert_null(s);
}

static void test_forms(void **state) {
    (void)state;
    mw_schema *s = parse_ok("amount: numeric\ncountry: categorical\nid: ignore\n");
    assert_int_equal(mw_schema_type(s, "amount"), MW_TYPE_NUMERIC);
    assert_int_equal(mw_schema_type(s, "country"), MW_TYPE_CATEGORICAL);
    assert_int_equal(mw_schema_type(s, "id"), MW_TYPE_IGNORE);
    assert_int_equal(mw_schema_type(s, "other"), MW_TYPE_AUTO);
    mw_schema_free(s);
    s = parse_ok("# comment\ncolumns:\n  \"a b\": numeric\n  z: auto\n");
    assert_int_equal(mw_schema_type(s, "a b"), MW_TYPE_NUMERIC);
    assert_int_equal(mw_schema_type(s, "z"), MW_TYPE_AUTO);
    mw_schema_free(s);
    mw_schema_free(NULL);
    assert_string_equal(mw_coltype_name(MW_TYPE_CATEGORICAL), "categorical");
}

static void test_errors(void **state) {
    (void)state;
    parse_err(
        "a: numeric\nb: number\n", 2,
        "s.yaml:2: column \"b\": expected numeric, categorical, text or ignore, got \"number\"");
    parse_err("columns:\n  a: [1, 2]\n", 2,
              "s.yaml:2: column \"a\": expected numeric, categorical, text or ignore, got a list");
    parse_err("- a\n- b\n", 1,
              "s.yaml:1: expected a mapping of column names to types (optionally under "
              "`columns:`), got a list");
    parse_err("", 0,
              "s.yaml: empty schema: expected a mapping of column names to numeric, categorical, "
              "text or ignore");
    parse_err("a: numeric\na: categorical\n", 2, "s.yaml:2: column \"a\" is listed twice");
    mw_schema *s;
    mw_error e;
    assert_int_equal(mw_schema_parse("s.yaml", "a: \"x\n", 6, &s, &e), MW_EPARSE);
    assert_non_null(strstr(e.message, "s.yaml:"));
    assert_non_null(strstr(e.message, "invalid YAML"));
    assert_int_equal(mw_schema_load("/nonexistent.yaml", &s, &e), MW_EIO);
    assert_string_equal(e.message, "/nonexistent.yaml: cannot open: No such file or directory");
}

static void test_load(void **state) {
    (void)state;
    char path[] = "/tmp/mw_schema_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *y = "columns:\n  x: categorical\n";
    assert_int_equal(write(fd, y, strlen(y)), (int)strlen(y));
    close(fd);
    mw_schema *s;
    mw_error e;
    assert_int_equal(mw_schema_load(path, &s, &e), MW_OK);
    assert_int_equal(mw_schema_type(s, "x"), MW_TYPE_CATEGORICAL);
    mw_schema_free(s);
    remove(path);
}

/* mw_data_hash64 gives the values it gave before its tail was read without
 * a memcpy call (the reference: the build of 5b9fab6 on the same bytes, for
 * every length 0..40, combined as acc = acc * 31 + hash). */
static void test_hash64_values(void **state) {
    (void)state;
    unsigned char buf[80];
    uint64_t acc = 0;
    for (int i = 0; i < 80; i++)
        buf[i] = (unsigned char)(i * 37 + 11);
    for (size_t n = 0; n <= 40; n++)
        acc = acc * 31 + mw_data_hash64(buf + 3, n, 7);
    assert_true(acc == 0x2731f1c8260de80eULL);
    assert_true(mw_data_hash64("", 0, 0) != mw_data_hash64("\0", 1, 0));
}

static void test_dict(void **state) {
    (void)state;
    mw_dict *d = mw_dict_new();
    uint32_t c;
    assert_int_equal(mw_dict_intern(d, "abc", 3, &c), MW_OK);
    assert_int_equal(c, 0);
    const char *p0 = mw_dict_str(d, 0, NULL);
    assert_int_equal(mw_dict_intern(d, "abcdef", 2, &c), MW_OK); /* "ab", not terminated */
    assert_int_equal(c, 1);
    assert_int_equal(mw_dict_intern(d, "", 0, &c), MW_OK);
    assert_int_equal(c, 2);
    char buf[32];
    for (int i = 0; i < 100000; i++) {
        int n = snprintf(buf, sizeof buf, "k%d", i);
        assert_int_equal(mw_dict_intern(d, buf, (size_t)n, &c), MW_OK);
        assert_int_equal(c, (uint32_t)(i + 3));
    }
    char *big = malloc(100000);
    memset(big, 'q', 100000);
    assert_int_equal(mw_dict_intern(d, big, 100000, &c), MW_OK);
    free(big);
    assert_int_equal(mw_dict_size(d), 100004);
    assert_ptr_equal(mw_dict_str(d, 0, NULL), p0); /* pointers stay valid */
    assert_string_equal(p0, "abc");
    size_t len;
    assert_string_equal(mw_dict_str(d, 1, &len), "ab");
    assert_int_equal(len, 2);
    assert_true(mw_dict_find(d, "k99999", 6, &c));
    assert_int_equal(c, 100002);
    assert_false(mw_dict_find(d, "k100000", 7, &c));
    assert_true(mw_dict_find(d, "", 0, &c) && c == 2);
    assert_int_equal(mw_dict_intern(d, "abc", 3, &c), MW_OK);
    assert_int_equal(c, 0);
    assert_null(mw_dict_str(d, 200000, NULL));
    mw_dict_free(d);
    mw_dict_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forms), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_load),  cmocka_unit_test(test_hash64_values),
        cmocka_unit_test(test_dict),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
