/*
 * CSV reading: values, types, missing counts, row counts, blank/empty rows, row
 * hashes, BOM, CRLF, quoted commas/quotes/newlines, gzip (file and stdin), buffer
 * refills on multi-megabyte files, schema overrides with type errors, inference
 * switching, mw_column_convert, and the exact error (message, line, field) of
 * every bad input the reader must reject.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "modelwatch/data.h"

static mw_table *rd(const char *s, size_t len, const mw_read_options *opt) {
    mw_table *t = NULL;
    mw_error e;
    mw_status st = mw_table_read_mem("t.csv", s, len, opt, &t, &e);
    if (st != MW_OK) fail_msg("unexpected error: %s", e.message);
    assert_non_null(t);
    return t;
}
#define RD(lit) rd(lit, sizeof(lit) - 1, NULL)

static void expect_err(const char *s, size_t len, const mw_read_options *opt, mw_status st,
                       uint64_t line, uint64_t col, const char *msg) {
    mw_table *t = (mw_table *)1;
    mw_error e;
    mw_status got = mw_table_read_mem("t.csv", s, len, opt, &t, &e);
    if (got != st || e.line != line || e.column != col || strcmp(e.message, msg) != 0)
        fail_msg("got status %d line %llu col %llu \"%s\"; want %d %llu %llu \"%s\"", got,
                 (unsigned long long)e.line, (unsigned long long)e.column, e.message, st,
                 (unsigned long long)line, (unsigned long long)col, msg);
    assert_null(t);
    assert_string_equal(e.file, "t.csv");
}
#define ERR(lit, st, line, col, msg) expect_err(lit, sizeof(lit) - 1, NULL, st, line, col, msg)

static const char *cat(const mw_table *t, size_t c, size_t r) {
    uint32_t code = t->cols[c].codes[r];
    if (code == MW_CODE_MISSING) return "<missing>";
    return mw_dict_str(t->cols[c].dict, code, NULL);
}

static void test_basic(void **state) {
    (void)state;
    mw_table *t = RD("a,b,c\n1,x,2.5\n-3e2,y,\n4, z ,NA\n");
    assert_int_equal(t->ncols, 3);
    assert_int_equal(t->nrows, 3);
    assert_string_equal(t->source, "t.csv");
    assert_string_equal(t->cols[0].name, "a");
    assert_int_equal(t->cols[0].type, MW_TYPE_NUMERIC);
    assert_true(t->cols[0].num[0] == 1.0 && t->cols[0].num[1] == -300.0 && t->cols[0].num[2] == 4.0);
    assert_int_equal(t->cols[1].type, MW_TYPE_CATEGORICAL);
    assert_string_equal(cat(t, 1, 0), "x");
    assert_string_equal(cat(t, 1, 2), " z ");
    assert_int_equal(mw_dict_size(t->cols[1].dict), 3);
    assert_int_equal(t->cols[2].type, MW_TYPE_NUMERIC);
    assert_true(t->cols[2].num[0] == 2.5);
    assert_true(isnan(t->cols[2].num[1]) && isnan(t->cols[2].num[2]));
    assert_int_equal(t->cols[2].n_missing, 2);
    assert_int_equal(t->cols[0].n_missing, 0);
    assert_int_equal(t->cols[2].nrows, 3);
    assert_int_equal(mw_table_find(t, "c"), 2);
    assert_int_equal(mw_table_find(t, "nope"), -1);
    mw_table_free(t);
    mw_table_free(NULL);
}

static void test_quotes_bom_crlf(void **state) {
    (void)state;
    mw_table *t = RD("\xEF\xBB\xBFid,text\r\n1,\"hello, \"\"world\"\"\r\nnext line\"\r\n\r\n2,\"\"\r\n"
                     "3,plain\"quote\r\n\"4\",\"NA\"");
    assert_string_equal(t->cols[0].name, "id"); /* BOM skipped */
    assert_int_equal(t->nrows, 4);
    assert_int_equal(t->n_blank_lines, 1);
    assert_string_equal(cat(t, 1, 0), "hello, \"world\"\r\nnext line");
    assert_string_equal(cat(t, 1, 1), "<missing>");
    assert_string_equal(cat(t, 1, 2), "plain\"quote");
    assert_string_equal(cat(t, 1, 3), "<missing>");
    assert_true(t->cols[0].num[3] == 4.0); /* quoted number is a number */
    assert_int_equal(t->cols[1].n_missing, 2);
    mw_table_free(t);
}

static void test_missing_and_empty_rows(void **state) {
    (void)state;
    mw_table *t = RD("a,b\n,\nNA,null\n1,2\n\n\n#N/A,N/A\n");
    assert_int_equal(t->nrows, 4);
    assert_int_equal(t->n_blank_lines, 2);
    assert_int_equal(t->n_empty_rows, 3);
    assert_int_equal(t->cols[0].type, MW_TYPE_NUMERIC);
    assert_int_equal(t->cols[0].n_missing, 3);
    assert_true(t->cols[0].num[2] == 1.0);
    mw_table_free(t);
}

static void test_header_only_and_unnamed(void **state) {
    (void)state;
    mw_table *t = RD("a,,b\n");
    assert_int_equal(t->nrows, 0);
    assert_int_equal(t->ncols, 3);
    assert_string_equal(t->cols[1].name, "Unnamed: 1");
    mw_table_free(t);
    t = RD("x");
    assert_int_equal(t->nrows, 0);
    assert_int_equal(t->ncols, 1);
    mw_table_free(t);
}

static void test_inference_switch(void **state) {
    (void)state;
    /* numbers first, then a word: earlier numbers re-encoded in shortest form */
    mw_table *t = RD("z\n007\n1.50\nNA\nabc\n1.50\n");
    assert_int_equal(t->cols[0].type, MW_TYPE_CATEGORICAL);
    assert_string_equal(cat(t, 0, 0), "7");
    assert_string_equal(cat(t, 0, 1), "1.5");
    assert_string_equal(cat(t, 0, 2), "<missing>");
    assert_string_equal(cat(t, 0, 3), "abc");
    assert_string_equal(cat(t, 0, 4), "1.50"); /* after the switch: exact text */
    assert_int_equal(t->cols[0].n_missing, 1);
    mw_table_free(t);
    t = RD("v\ninf\n-Infinity\n 2 \n");
    assert_int_equal(t->cols[0].type, MW_TYPE_NUMERIC);
    assert_true(isinf(t->cols[0].num[0]) && t->cols[0].num[1] < 0 && t->cols[0].num[2] == 2.0);
    mw_table_free(t);
}

static void test_row_hashes(void **state) {
    (void)state;
    mw_table *t = RD("a,b\n1,x\n1,\"x\"\n1,y\n\"1\",x\n");
    assert_true(t->row_hash[0] == t->row_hash[1]); /* quoting does not matter */
    assert_true(t->row_hash[0] == t->row_hash[3]);
    assert_true(t->row_hash[0] != t->row_hash[2]);
    mw_table_free(t);
    t = RD("a,b\n\"x,y\",1\nx,\"y,1\"\n");
    assert_true(t->row_hash[0] != t->row_hash[1]); /* field boundaries matter */
    mw_table_free(t);
}

static void test_errors(void **state) {
    (void)state;
    ERR("a,b\n1,2,3\n", MW_EPARSE, 2, 3, "t.csv:2:3: row has 3 fields but the header has 2");
    ERR("a,b\n1,2\n\n4\n", MW_EPARSE, 4, 2, "t.csv:4:2: row has 1 field but the header has 2");
    ERR("a,b\n1,\"x\"\n\"y\",\"2\",3\n", MW_EPARSE, 3, 3,
        "t.csv:3:3: row has 3 fields but the header has 2");
    ERR("a,b\n1,2\n3,\"abc\n4,5\n", MW_EPARSE, 3, 2,
        "t.csv:3:2: unterminated quoted field: the quote opened on line 3 (field 2) is never "
        "closed");
    ERR("", MW_EPARSE, 0, 0, "t.csv: no header row: the file is empty");
    ERR("\n\r\n", MW_EPARSE, 0, 0, "t.csv: no header row: the file is empty");
    ERR("\xEF\xBB\xBF", MW_EPARSE, 0, 0, "t.csv: no header row: the file is empty");
    ERR("a,b,a\n1,2,3\n", MW_EPARSE, 1, 3, "t.csv:1:3: duplicate column name \"a\" (columns 1 and 3)");
    ERR("a,b\n1,x\n2,\xff\n", MW_EPARSE, 3, 2,
        "t.csv:3:2: invalid UTF-8 in field 2 (byte 0xff at byte 1 of the field)");
    ERR("a,b\n1,ab\xc3\n", MW_EPARSE, 2, 2,
        "t.csv:2:2: invalid UTF-8 in field 2 (byte 0xc3 at byte 3 of the field)");
    ERR("a,b\n1,x\x00y\n", MW_EPARSE, 2, 2,
        "t.csv:2:2: NUL byte in field 2: this looks like binary data, not CSV text");
    ERR("a,b\n\"x\"y,1\n", MW_EPARSE, 2, 1,
        "t.csv:2:1: unexpected character 'y' after the closing quote of field 1 (a quote inside a "
        "quoted field must be doubled: \"\")");
    ERR("\x89PNG\r\n\x1a\n\x00\x00", MW_EPARSE, 1, 1,
        "t.csv:1:1: invalid UTF-8 in field 1 (byte 0x89 at byte 1 of the field)");
}

static void test_limits(void **state) {
    (void)state;
    /* a 10 MB line is an error naming its line */
    size_t n = 10u << 20;
    char *big = malloc(n + 64);
    strcpy(big, "a,b\n1,2\n");
    size_t k = strlen(big);
    memset(big + k, 'x', n);
    memcpy(big + k + n, ",1\n", 3);
    expect_err(big, k + n + 3, NULL, MW_ERANGE, 3, 0,
               "t.csv:3: line is longer than the limit of 8388608 bytes (is this a CSV file?)");
    mw_read_options opt = {0};
    opt.max_line_bytes = 100;
    expect_err(big, k + 200, &opt, MW_ERANGE, 3, 0,
               "t.csv:3: line is longer than the limit of 100 bytes (is this a CSV file?)");
    free(big);
    memset(&opt, 0, sizeof opt);
    opt.max_columns = 3;
    expect_err("a,b,c,d\n1,2,3,4\n", 16, &opt, MW_ERANGE, 1, 0,
               "t.csv:1: the header has 4 columns, more than the limit of 3");
    mw_table *t = rd("a,b,c\n1,2,3\n", 12, &opt);
    assert_int_equal(t->ncols, 3);
    mw_table_free(t);
}

static void test_schema_override(void **state) {
    (void)state;
    mw_schema *s;
    mw_error e;
    const char *y = "columns:\n  a: numeric\n  b: categorical\n  c: ignore\n";
    assert_int_equal(mw_schema_parse("s.yaml", y, strlen(y), &s, &e), MW_OK);
    mw_read_options opt = {0};
    opt.schema = s;
    const char *csv = "a,b,c,d\n1,1,x,1\nabc,2,y,2\n3,3,z,3\n,NA,w,4\nlong value here,5,v,5\n"
                      "x,6,u,6\n";
    mw_table *t = rd(csv, strlen(csv), &opt);
    assert_int_equal(t->nrows, 6);
    assert_int_equal(t->cols[0].type, MW_TYPE_NUMERIC);
    assert_int_equal(t->cols[0].n_type_errors, 3);
    assert_int_equal(t->cols[0].n_missing, 1);
    assert_string_equal(t->cols[0].type_error_example[0], "abc");
    assert_int_equal(t->cols[0].type_error_line[0], 3);
    assert_string_equal(t->cols[0].type_error_example[1], "long value here");
    assert_int_equal(t->cols[0].type_error_line[1], 6);
    assert_string_equal(t->cols[0].type_error_example[2], "x");
    assert_int_equal(t->cols[0].type_error_line[2], 7);
    assert_true(isnan(t->cols[0].num[1]) && t->cols[0].num[2] == 3.0);
    assert_int_equal(t->cols[1].type, MW_TYPE_CATEGORICAL);
    assert_string_equal(cat(t, 1, 0), "1");
    assert_int_equal(t->cols[2].type, MW_TYPE_IGNORE);
    assert_null(t->cols[2].num);
    assert_null(t->cols[2].codes);
    assert_int_equal(t->cols[3].type, MW_TYPE_NUMERIC);
    /* ignored columns do not enter the row hash */
    mw_table *t2 = rd("a,b,c,d\n1,1,other,1\n", 20, &opt);
    assert_true(t2->row_hash[0] == t->row_hash[0]);
    mw_table_free(t2);
    mw_table_free(t);
    mw_schema_free(s);
}

static void test_convert(void **state) {
    (void)state;
    mw_table *t = RD("a,b\nx,0.1\n2.5,3\n,1e300\nx,\n");
    mw_error e;
    assert_int_equal(mw_column_convert(&t->cols[0], MW_TYPE_NUMERIC, &e), MW_OK);
    assert_int_equal(t->cols[0].type, MW_TYPE_NUMERIC);
    assert_true(isnan(t->cols[0].num[0]) && t->cols[0].num[1] == 2.5);
    assert_int_equal(t->cols[0].n_type_errors, 2);
    assert_string_equal(t->cols[0].type_error_example[0], "x");
    assert_int_equal(mw_column_convert(&t->cols[1], MW_TYPE_CATEGORICAL, &e), MW_OK);
    assert_string_equal(cat(t, 1, 0), "0.1");
    assert_string_equal(cat(t, 1, 1), "3");
    assert_string_equal(cat(t, 1, 2), "1e+300");
    assert_string_equal(cat(t, 1, 3), "<missing>");
    assert_int_equal(mw_column_convert(&t->cols[1], MW_TYPE_IGNORE, &e), MW_OK);
    assert_int_equal(mw_column_convert(&t->cols[1], MW_TYPE_NUMERIC, &e), MW_EINVAL);
    assert_string_equal(e.message, "column \"b\" was ignored when read: it has no values to convert");
    mw_table_free(t);
}

static char tmpdir[64];

static void write_file(const char *path, const char *data, size_t len, int gz) {
    if (gz) {
        gzFile g = gzopen(path, "wb");
        assert_non_null(g);
        assert_int_equal(gzwrite(g, data, (unsigned)len), (int)len);
        gzclose(g);
    } else {
        FILE *f = fopen(path, "wb");
        assert_non_null(f);
        assert_int_equal(fwrite(data, 1, len, f), len);
        fclose(f);
    }
}

/* ~6 MB with quoted multi-line fields: exercises every refill boundary */
static char *big_csv(size_t rows, size_t *len) {
    size_t cap = rows * 64 + 64, n = 0;
    char *s = malloc(cap);
    n += (size_t)sprintf(s, "id,text,val\n");
    for (size_t i = 0; i < rows; i++) {
        if (i % 7 == 3)
            n += (size_t)sprintf(s + n, "%zu,\"t,%zu\n\"\"q\"\"\",%zu.5\n", i, i, i);
        else if (i % 11 == 5)
            n += (size_t)sprintf(s + n, "%zu,,%zu.5\r\n", i, i);
        else
            n += (size_t)sprintf(s + n, "%zu,t%zu,%zu.5\n", i, i % 13, i);
    }
    *len = n;
    return s;
}

static void check_big(const mw_table *t, size_t rows) {
    assert_int_equal(t->nrows, rows);
    char want[64];
    for (size_t i = 0; i < rows; i++) {
        assert_true(t->cols[0].num[i] == (double)i);
        assert_true(t->cols[2].num[i] == (double)i + 0.5);
        if (i % 7 == 3) sprintf(want, "t,%zu\n\"q\"", i);
        else if (i % 11 == 5) strcpy(want, "<missing>");
        else sprintf(want, "t%zu", i % 13);
        assert_string_equal(cat(t, 1, i), want);
    }
}

static void test_files_gzip_stdin(void **state) {
    (void)state;
    strcpy(tmpdir, "/tmp/mw_csv_XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    size_t rows = 300000, len;
    char *s = big_csv(rows, &len);
    char path[128], gzpath[128];
    snprintf(path, sizeof path, "%s/big.csv", tmpdir);
    snprintf(gzpath, sizeof gzpath, "%s/big.data", tmpdir); /* gzip by magic, not name */
    write_file(path, s, len, 0);
    write_file(gzpath, s, len, 1);
    mw_table *t;
    mw_error e;
    assert_int_equal(mw_table_read(path, NULL, &t, &e), MW_OK);
    check_big(t, rows);
    mw_table_free(t);
    assert_int_equal(mw_table_read(gzpath, NULL, &t, &e), MW_OK);
    check_big(t, rows);
    mw_table_free(t);
    /* stdin, gzip through a pipe-like descriptor (no rewinding needed) */
    int saved = dup(0);
    FILE *f = fopen(gzpath, "rb");
    dup2(fileno(f), 0);
    assert_int_equal(mw_table_read("-", NULL, &t, &e), MW_OK);
    dup2(saved, 0);
    close(saved);
    fclose(f);
    assert_string_equal(t->source, "-");
    check_big(t, rows);
    mw_table_free(t);
    /* corrupt and truncated gzip */
    FILE *g = fopen(gzpath, "r+b");
    fseek(g, 0, SEEK_END);
    long gl = ftell(g);
    assert_int_equal(ftruncate(fileno(g), gl / 2), 0);
    fclose(g);
    assert_int_equal(mw_table_read(gzpath, NULL, &t, &e), MW_EIO);
    assert_null(t);
    assert_non_null(strstr(e.message, "truncated gzip data"));
    assert_int_equal(mw_table_read("/nonexistent/x.csv", NULL, &t, &e), MW_EIO);
    assert_string_equal(e.message, "/nonexistent/x.csv: cannot open: No such file or directory");
    remove(path);
    remove(gzpath);
    rmdir(tmpdir);
    free(s);
}

/* Repeated short categories take the reader's recent-value cache: every row
 * must still get its own text's code, NA tokens stay missing (also after the
 * same column stored other values), a column that turns categorical midway
 * keeps its earlier values, and a bad byte in a repeated-looking field is
 * still an error with its line and field. */
static void test_repeated_categories(void **state) {
    (void)state;
    static const char *vals[] = {"DE", "FR", "NA", "ios", "", "abcdefgh", "abcdefg", "abcdefghi",
                                 "DEx", "D", "null", "7"};
    size_t nv = sizeof vals / sizeof *vals, rows = 3000;
    size_t cap = rows * 40 + 64, n = 0;
    char *buf = malloc(cap);
    n += (size_t)snprintf(buf + n, cap - n, "a,b,c\n");
    srand(5);
    size_t *pick = malloc(rows * sizeof *pick);
    for (size_t r = 0; r < rows; r++) {
        pick[r] = (size_t)rand() % nv;
        /* column c: numbers until row 2000, then texts */
        n += (size_t)snprintf(buf + n, cap - n, "%s,%zu,%s\n", vals[pick[r]], r % 4,
                              r < 2000 ? "1.5" : vals[pick[r]]);
    }
    mw_table *t = rd(buf, n, NULL);
    assert_int_equal(t->nrows, rows);
    for (size_t r = 0; r < rows; r++) {
        const char *v = vals[pick[r]];
        int na = !*v || !strcmp(v, "NA") || !strcmp(v, "null");
        assert_string_equal(cat(t, 0, r), na ? "<missing>" : v);
        if (r >= 2000) assert_string_equal(cat(t, 2, r), na ? "<missing>" : v);
        else assert_string_equal(cat(t, 2, r), "1.5");
    }
    mw_table_free(t);
    free(pick);
    free(buf);
    ERR("a\nDE\nDE\nD\xff\n", MW_EPARSE, 4, 1,
        "t.csv:4:1: invalid UTF-8 in field 1 (byte 0xff at byte 2 of the field)");
}

static void test_mem_chunks(void **state) {
    (void)state;
    size_t rows = 50000, len;
    char *s = big_csv(rows, &len);
    mw_table *t = rd(s, len, NULL);
    check_big(t, rows);
    mw_table_free(t);
    /* a table truncated inside a quoted field */
    char *cut = strstr(s + len / 2, "\"t,");
    mw_error e;
    mw_table *bad;
    assert_int_equal(mw_table_read_mem("t.csv", s, (size_t)(cut - s) + 3, NULL, &bad, &e),
                     MW_EPARSE);
    assert_null(bad);
    assert_int_equal(e.column, 2);
    /* the line where the quote opened: count the lines before it */
    uint64_t line = 1;
    for (const char *k = s; k < cut; k++) line += *k == '\n';
    assert_int_equal(e.line, line);
    assert_non_null(strstr(e.message, "unterminated quoted field"));
    free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic),
        cmocka_unit_test(test_quotes_bom_crlf),
        cmocka_unit_test(test_missing_and_empty_rows),
        cmocka_unit_test(test_header_only_and_unnamed),
        cmocka_unit_test(test_inference_switch),
        cmocka_unit_test(test_row_hashes),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_schema_override),
        cmocka_unit_test(test_convert),
        cmocka_unit_test(test_files_gzip_stdin),
        cmocka_unit_test(test_mem_chunks),
        cmocka_unit_test(test_repeated_categories),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
