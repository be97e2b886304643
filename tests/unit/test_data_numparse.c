/*
 * mw_parse_double must equal glibc strtod bit for bit on every accepted input;
 * checked on >= 10 million generated strings: random digit strings (1-25 digits,
 * optional point and exponent), shortest and 17-digit texts of random doubles,
 * subnormals, exact halfway points between neighbouring doubles (and their
 * neighbours one digit up or down), plus syntax cases and mw_format_double.
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
#include "data/data_int.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15ULL;
static uint64_t rnd(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double bits_double(uint64_t b) {
    double d;
    memcpy(&d, &b, 8);
    return d;
}

static long n_checked = 0;

static void check_str(const char *s) {
    size_t len = strlen(s);
    char *endp;
    double ref = strtod(s, &endp);
    double got = -12345.0;
    int ok = mw_parse_double(s, len, &got);
    if (!ok || *endp || memcmp(&ref, &got, 8) != 0) {
        fail_msg("mismatch on \"%s\": ok=%d got %.17g strtod %.17g", s, ok, got, ref);
    }
    n_checked++;
}

static void gen_digits(char *buf) {
    char *o = buf;
    if (rnd() % 4 == 0) *o++ = rnd() % 2 ? '-' : '+';
    int nd = 1 + (int)(rnd() % 25);
    int point = rnd() % 3 ? (int)(rnd() % (nd + 1)) : -1;
    for (int i = 0; i < nd; i++) {
        if (i == point) *o++ = '.';
        int zero_run = rnd() % 8 == 0;
        *o++ = (char)('0' + (zero_run ? 0 : rnd() % 10));
    }
    if (point == nd) *o++ = '.';
    if (rnd() % 2) {
        *o++ = rnd() % 2 ? 'e' : 'E';
        int r = (int)(rnd() % 3);
        if (r == 1) *o++ = '-';
        if (r == 2) *o++ = '+';
        int e = (int)(rnd() % 5 == 0 ? rnd() % 400 : rnd() % 40);
        o += sprintf(o, "%d", e);
    }
    *o = 0;
}

static void test_random_digit_strings(void **state) {
    (void)state;
    char buf[128];
    for (int i = 0; i < 4000000; i++) {
        gen_digits(buf);
        check_str(buf);
    }
}

static void test_random_doubles(void **state) {
    (void)state;
    char buf[64];
    for (int i = 0; i < 2000000; i++) {
        double d = bits_double(rnd());
        if (!isfinite(d)) continue;
        mw_format_double(d, buf); /* shortest round trip, like repr() */
        check_str(buf);
        double back;
        assert_true(mw_parse_double(buf, strlen(buf), &back));
        assert_memory_equal(&back, &d, 8);
        snprintf(buf, sizeof buf, "%.17g", d);
        check_str(buf);
    }
    /* values in everyday ranges, like data files */
    for (int i = 0; i < 2000000; i++) {
        double u = (double)(rnd() >> 11) / 9007199254740992.0;
        double d = (i % 4 == 0)   ? u
                   : (i % 4 == 1) ? (u - 0.5) * 2e3
                   : (i % 4 == 2) ? u * 1e5
                                  : u * 1e-3;
        snprintf(buf, sizeof buf, "%.*g", 1 + (int)(rnd() % 17), d);
        check_str(buf);
        mw_format_double(d, buf);
        check_str(buf);
    }
}

static void test_subnormals(void **state) {
    (void)state;
    char buf[64];
    for (int i = 0; i < 500000; i++) {
        uint64_t b = rnd() & 0x800FFFFFFFFFFFFFULL; /* exponent 0: subnormal */
        if (i % 3 == 0) b |= 1ULL << 52;            /* and the smallest normals */
        double d = bits_double(b);
        snprintf(buf, sizeof buf, "%.*e", (int)(rnd() % 20), d);
        check_str(buf);
        mw_format_double(d, buf);
        check_str(buf);
    }
    check_str("4.9406564584124654e-324");
    check_str("2.4703282292062327e-324"); /* just below the half of the smallest: 0 */
    check_str("2.4703282292062328e-324"); /* just above: the smallest subnormal */
    check_str("2.2250738585072011e-308");
    check_str("2.2250738585072012e-308");
    check_str("1e-400");
}

static void test_halfway(void **state) {
    (void)state;
    char *buf = malloc(1200);
    for (int i = 0; i < 200000; i++) {
        uint64_t b = rnd() & 0x7FFFFFFFFFFFFFFFULL;
        int kind = i % 4;
        if (kind == 0) b = (b & 0x000FFFFFFFFFFFFFULL) | ((uint64_t)(1023 + rnd() % 64) << 52);
        if (kind == 1) b = (b & 0x000FFFFFFFFFFFFFULL) | ((uint64_t)(1023 - rnd() % 64) << 52);
        double d = bits_double(b);
        if (!isfinite(d)) continue;
        double up = nextafter(d, INFINITY);
        if (!isfinite(up)) continue;
        long double mid = ((long double)d + (long double)up) / 2; /* exact in x87 80-bit */
        int prec = kind == 3 ? 800 : 60;
        int n = snprintf(buf, 1200, "%.*Le", prec, mid);
        assert_true(n > 0 && n < 1200);
        check_str(buf);
        /* one unit up and down in the 17th significant digit of the tie */
        snprintf(buf, 1200, "%.25Le", mid);
        check_str(buf);
    }
    /* classic hard cases */
    check_str("9007199254740993");
    check_str("9007199254740995");
    check_str("1.00000000000000011102230246251565404236316680908203125");
    check_str("1.00000000000000011102230246251565404236316680908203124");
    check_str("1.00000000000000011102230246251565404236316680908203126");
    check_str("7.2057594037927933e16");
    check_str("2.2250738585072014e-308");
    check_str("1.7976931348623157e308");
    check_str("1.7976931348623158e308");
    check_str("1.7976931348623159e308");
    check_str("179769313486231580793728971405301e276");
    check_str("0.1000000000000000055511151231257827021181583404541015625");
    check_str("123456789012345678901234567890e-50");
    check_str("00000000000000000000000000000001.5");
    check_str("0.000000000000000000000000000000000000000000001e45");
    free(buf);
}

static void expect(const char *s, int ok, double v) {
    double got = -1;
    int r = mw_parse_double(s, strlen(s), &got);
    assert_int_equal(r, ok);
    if (ok) {
        if (isinf(v))
            assert_true(got == v);
        else
            assert_memory_equal(&got, &v, 8);
    }
}

static void test_syntax(void **state) {
    (void)state;
    expect("1", 1, 1.0);
    expect(" 3.5\t", 1, 3.5);
    expect("+2", 1, 2.0);
    expect("-0", 1, -0.0);
    expect(".5", 1, 0.5);
    expect("5.", 1, 5.0);
    expect("1e5", 1, 1e5);
    expect("1E+05", 1, 1e5);
    expect("inf", 1, INFINITY);
    expect("-Infinity", 1, -INFINITY);
    expect("+INF", 1, INFINITY);
    expect("1e400", 1, INFINITY);
    expect("-1e400", 1, -INFINITY);
    expect("1e-400", 1, 0.0);
    expect("0e999999999999999", 1, 0.0);
    expect("", 0, 0);
    expect("  ", 0, 0);
    expect(".", 0, 0);
    expect("e5", 0, 0);
    expect("1e", 0, 0);
    expect("1e+", 0, 0);
    expect("1.5f", 0, 0);
    expect("0x10", 0, 0);
    expect("1_000", 0, 0);
    expect("nan", 0, 0);
    expect("NaN", 0, 0);
    expect("-nan", 0, 0);
    expect("--1", 0, 0);
    expect("1 2", 0, 0);
    expect("infinit", 0, 0);
    expect("12345678901234567890123456789", 1, 12345678901234567890123456789.0);
    /* not NUL-terminated: the parser must stop at len */
    double v;
    assert_true(mw_parse_double("12345678901234567", 3, &v));
    assert_true(v == 123.0);
}

static void fmt_is(double v, const char *want) {
    char buf[32];
    size_t n = mw_format_double(v, buf);
    assert_int_equal(n, strlen(want));
    assert_string_equal(buf, want);
}

static void test_format(void **state) {
    (void)state;
    fmt_is(0.1, "0.1");
    fmt_is(3.0, "3");
    fmt_is(1e300, "1e+300");
    fmt_is(-2.5, "-2.5");
    fmt_is(0.30000000000000004, "0.30000000000000004");
    fmt_is(1.0 / 3.0, "0.3333333333333333");
    fmt_is(INFINITY, "inf");
    fmt_is(-INFINITY, "-inf");
    fmt_is(NAN, "nan");
    fmt_is(1.7976931348623157e308, "1.7976931348623157e+308");
    fmt_is(123456789.0, "123456789");
}

/* The padded parser may load bytes past the number's end: digits there must
 * never count. Every field is followed by more digits in the buffer. */
static void test_padded_stops_at_end(void **state) {
    (void)state;
    char buf[96];
    srand(11);
    for (int i = 0; i < 200000; i++) {
        double x = ldexp((double)rand() / RAND_MAX, rand() % 64 - 32);
        int len = snprintf(buf, 40, i % 3 ? "%.17g" : (i % 2 ? "%.9g" : "%.3f"), x);
        for (int k = 0; k < 24; k++)
            buf[len + k] = (char)('0' + (i + k) % 10); /* trailing digits */
        buf[len + 24] = 0;
        double got, want;
        const char *stop = mw_data_parse_number_padded(buf, buf + len, buf + len + 24, &got);
        char field[48];
        memcpy(field, buf, (size_t)len);
        field[len] = 0;
        want = strtod(field, NULL);
        assert_ptr_equal(stop, buf + len);
        if (memcmp(&got, &want, sizeof got))
            fail_msg("\"%s\": padded %.17g, strtod %.17g", field, got, want);
    }
}

/* The CSV reader's whole-field parse accepts exactly the fields the scanner
 * reads to their end, with bit-identical values: random shapes around its
 * fast path's limits (1-8 integer digits, 1-16 fraction digits, 19 digits in
 * all), signs, exponents, stray bytes, and fields at the end of the buffer. */
static void test_field_matches_scanner(void **state) {
    (void)state;
    char buf[96];
    srand(11);
    for (int iter = 0; iter < 400000; iter++) {
        size_t n = 0;
        int r = rand() % 10;
        if (r == 0)
            buf[n++] = '-';
        else if (r == 1)
            buf[n++] = '+';
        int ni = rand() % 11, nf = rand() % 20, dot = rand() % 8 != 0;
        for (int i = 0; i < ni; i++)
            buf[n++] = (char)('0' + (i == 0 && rand() % 4 ? 1 + rand() % 9 : rand() % 10));
        if (dot) buf[n++] = '.';
        for (int i = 0; i < (dot ? nf : 0); i++)
            buf[n++] = (char)('0' + rand() % 10);
        if (rand() % 12 == 0) n += (size_t)sprintf(buf + n, "e%d", rand() % 40 - 20);
        if (rand() % 25 == 0 && n) buf[rand() % n] = "x.-e, "[rand() % 6];
        size_t len = n;
        int at_end = rand() % 8 == 0; /* nothing readable after the field */
        if (!at_end) {
            buf[n++] = ',';
            while (n < sizeof buf)
                buf[n++] = (char)('0' + rand() % 10);
        }
        const char *limit = at_end ? buf + len : buf + sizeof buf;
        double v1 = 0, v2 = 0;
        int ok1 = mw_data_parse_field(buf, buf + len, limit, &v1);
        const char *stop = mw_data_parse_number(buf, buf + len, &v2);
        int ok2 = stop == buf + len;
        if (ok1 != ok2) fail_msg("%.*s: field %d, scanner %d", (int)len, buf, ok1, ok2);
        if (ok1 && memcmp(&v1, &v2, sizeof v1) != 0)
            fail_msg("%.*s: field %.17g, scanner %.17g", (int)len, buf, v1, v2);
    }
}

/* The vector field parser (numparse_ssse3.c) against the scanner: random
 * fields of 1-22 characters (digits with or without a dot anywhere, signs,
 * stray bytes, exponents) placed at every distance 0-40 from the buffer
 * start, so both the vector path and its fallbacks (near the start, odd
 * shapes) run; the same acceptance and the same bits. Skipped where the CPU
 * lacks SSSE3. */
static void test_field_ssse3_matches_scanner(void **state) {
    (void)state;
    mw_data_field_parser vec = mw_data_parse_field_ssse3;
    if (!vec || mw_data_field_parser_best() != vec) skip();
    char buf[128];
    srand(23);
    for (int iter = 0; iter < 600000; iter++) {
        size_t at = (size_t)(rand() % 41), n = at;
        for (size_t i = 0; i < at; i++)
            buf[i] = (char)('0' + rand() % 10);
        int r = rand() % 10;
        if (r == 0)
            buf[n++] = '-';
        else if (r == 1)
            buf[n++] = '+';
        size_t nd = 1 + (size_t)(rand() % 21);
        size_t dot = rand() % 5 ? (size_t)(rand() % (int)(nd + 1)) : SIZE_MAX;
        for (size_t i = 0; i < nd; i++) {
            if (i == dot) buf[n++] = '.';
            buf[n++] = (char)('0' + (rand() % 3 ? rand() % 10 : 0));
        }
        if (dot == nd) buf[n++] = '.';
        if (rand() % 20 == 0) n += (size_t)sprintf(buf + n, "e%d", rand() % 40 - 20);
        if (rand() % 20 == 0 && n > at)
            buf[at + (size_t)rand() % (n - at)] = "x.-e, /:"[rand() % 8];
        size_t end = n;
        buf[n++] = ',';
        while (n < sizeof buf)
            buf[n++] = (char)('0' + rand() % 10);
        double v1 = 0, v2 = 0;
        int ok1 = vec(buf, buf + at, buf + end, buf + sizeof buf, &v1);
        const char *stop = mw_data_parse_number(buf + at, buf + end, &v2);
        int ok2 = stop == buf + end;
        if (ok1 != ok2)
            fail_msg("%.*s at %zu: ssse3 %d, scanner %d", (int)(end - at), buf + at, at, ok1, ok2);
        if (ok1 && memcmp(&v1, &v2, sizeof v1) != 0)
            fail_msg("%.*s: ssse3 %.17g, scanner %.17g", (int)(end - at), buf + at, v1, v2);
    }
}

/* The CSV reader's fast path with the inline SSSE3 parser and with the
 * portable one (mw_data_allow_vector): the same table, bit for bit, on numbers
 * of every shape the generator above makes, in rows of three columns. */
static void test_csv_paths_agree(void **state) {
    (void)state;
    size_t cap = 1 << 20, n = 0;
    char *csv = malloc(cap);
    n += (size_t)sprintf(csv, "a,b,c\n");
    srand(29);
    for (int row = 0; row < 20000; row++)
        for (int col = 0; col < 3; col++) {
            int r = rand() % 8;
            double x = ((double)rand() / RAND_MAX - 0.5) * pow(10.0, rand() % 30 - 15);
            if (r == 0)
                n += (size_t)sprintf(csv + n, "%d", rand() - RAND_MAX / 2);
            else if (r == 1)
                n += (size_t)sprintf(csv + n, "%.3f", x);
            else
                n += (size_t)sprintf(csv + n, "%.*g", 1 + rand() % 19, x);
            csv[n++] = col == 2 ? '\n' : ',';
        }
    mw_table *t[2] = {NULL, NULL};
    mw_error err;
    for (int vec = 0; vec < 2; vec++) {
        mw_data_allow_vector(vec);
        assert_int_equal(mw_table_read_mem("paths.csv", csv, n, NULL, &t[vec], &err), MW_OK);
    }
    mw_data_allow_vector(1);
    assert_int_equal(t[0]->nrows, 20000);
    assert_int_equal(t[1]->nrows, 20000);
    for (size_t c = 0; c < 3; c++) {
        assert_int_equal(t[0]->cols[c].type, MW_TYPE_NUMERIC);
        assert_memory_equal(t[0]->cols[c].num, t[1]->cols[c].num, 20000 * sizeof(double));
    }
    mw_table_free(t[0]);
    mw_table_free(t[1]);
    free(csv);
}

static void test_na_tokens(void **state) {
    (void)state;
    const char *na[] = {"",     "#N/A",   "#N/A N/A", "#NA",  "-1.#IND", "-1.#QNAN", "-NaN",
                        "-nan", "1.#IND", "1.#QNAN",  "<NA>", "N/A",     "NA",       "NULL",
                        "NaN",  "None",   "n/a",      "nan",  "null"};
    for (size_t i = 0; i < sizeof na / sizeof *na; i++)
        assert_true(mw_is_na_token(na[i], strlen(na[i])));
    const char *not_na[] = {"na", "Na", "none", "NAN", " NA", "NA ", "0", "1.#INDX", "nil", "-"};
    for (size_t i = 0; i < sizeof not_na / sizeof *not_na; i++)
        assert_false(mw_is_na_token(not_na[i], strlen(not_na[i])));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_na_tokens),
        cmocka_unit_test(test_padded_stops_at_end),
        cmocka_unit_test(test_field_matches_scanner),
        cmocka_unit_test(test_field_ssse3_matches_scanner),
        cmocka_unit_test(test_csv_paths_agree),
        cmocka_unit_test(test_random_digit_strings),
        cmocka_unit_test(test_random_doubles),
        cmocka_unit_test(test_subnormals),
        cmocka_unit_test(test_halfway),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    printf("checked %ld strings against strtod\n", n_checked);
    return r;
}
