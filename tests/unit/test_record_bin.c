/*
 * The journal's binary records (data/record_bin.h): parsed records written
 * and read back field for field (ids, absent and empty strings, every
 * optional double, string/number/missing features and predictions, scores,
 * embeddings, names referring to the previous record's, unusual number bits,
 * a sequence restarted), the size of a typical record, and corrupt input:
 * every truncation, every single-byte change and a name reference with no
 * previous record are refused or read without reading past the bytes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data/record_bin.h"

static const char *const lines[] = {
    "{\"model\":\"m\",\"version\":\"1\",\"id\":\"r-1\",\"ts\":1764000000.25,\"features\":{\"f0\":1.5,"
    "\"f1\":-0.0,\"country\":\"DE\",\"gone\":null,\"flag\":true},\"prediction\":1,\"latency_ms\":8.2}",
    "{\"model\":\"m\",\"version\":\"1\",\"id\":\"r-2\",\"features\":{\"f0\":2.5e300,\"f1\":1e-310,"
    "\"country\":\"FR\",\"gone\":1,\"flag\":false},\"prediction\":\"cat\",\"scores\":{\"cat\":0.75,"
    "\"dog\":0.25}}",
    "{\"model\":\"m\",\"version\":\"1\",\"id\":\"\",\"features\":{\"country\":\"\\u00e9t\\u00e9\","
    "\"f0\":3},\"error\":\"\",\"llm\":{\"input_tokens\":812,\"output_tokens\":95,\"ttft_ms\":140,"
    "\"finish_reason\":\"stop\"},\"embedding\":[0.5,-1,3e-7]}",
    "{\"model\":\"m\",\"version\":\"1\",\"features\":{},\"error\":\"timeout\",\"embedding\":[],"
    "\"scores\":{\"cat\":0.5,\"dog\":0.5}}",
    "{\"model\":\"m\",\"version\":\"1\",\"features\":{\"a\":1,\"b\":2,\"c\":3,\"d\":4}}",
};
#define NLINES (sizeof lines / sizeof lines[0])

/* The lines parsed (each with its own parser, so the views stay valid) and
 * written as one sequence. */
typedef struct seq {
    mw_buf b;
    mw_record_parser *ps[NLINES];
    mw_record recs[NLINES];
} seq;

static void write_all(seq *q) {
    memset(q, 0, sizeof *q);
    for (size_t i = 0; i < NLINES; i++) {
        mw_error e;
        q->ps[i] = mw_record_parser_new();
        assert_non_null(q->ps[i]);
        assert_int_equal(mw_record_parse(q->ps[i], lines[i], strlen(lines[i]), &q->recs[i], &e),
                         MW_OK);
        mw_record_bin_put(&q->b, &q->recs[i], i ? &q->recs[i - 1] : NULL);
    }
    assert_false(q->b.failed);
}

static void seq_free(seq *q) {
    for (size_t i = 0; i < NLINES; i++)
        mw_record_parser_free(q->ps[i]);
    free(q->b.data);
}

static void test_round_trip(void **state) {
    (void)state;
    seq q;
    write_all(&q);
    const mw_buf b = q.b;
    const mw_record *recs = q.recs;
    mw_record_bin_reader rd = {0};
    const unsigned char *p = b.data, *end = b.data + b.len;
    for (size_t i = 0; i < NLINES; i++) {
        mw_record got;
        assert_int_equal(mw_record_bin_read(&rd, &p, end, &got), MW_OK);
        assert_true(mw_record_bin_same(&recs[i], &got));
        assert_null(got.model);
        assert_null(got.prompt);
        assert_string_equal(got.prediction.name, "prediction");
    }
    assert_ptr_equal(p, end);
    /* spot checks that the comparison itself looks at the fields */
    p = b.data;
    mw_record_bin_reader_reset(&rd);
    mw_record got;
    assert_int_equal(mw_record_bin_read(&rd, &p, end, &got), MW_OK);
    assert_int_equal(got.nfeatures, 5);
    assert_true(signbit(got.features[1].number) && got.features[1].number == 0);
    assert_int_equal(got.features[3].kind, MW_VALUE_MISSING);
    assert_int_equal(got.features[4].kind, MW_VALUE_STRING);
    assert_memory_equal(got.features[4].str, "true", 4);
    assert_true(got.ts == 1764000000.25 && got.latency_ms == 8.2 && isnan(got.ttft_ms));
    assert_int_equal(mw_record_bin_read(&rd, &p, end, &got), MW_OK);
    assert_int_equal(got.prediction.kind, MW_VALUE_STRING);
    assert_int_equal(got.nscores, 2);
    assert_true(got.features[1].number == 1e-310 && got.scores[1].number == 0.25);
    assert_int_equal(mw_record_bin_read(&rd, &p, end, &got), MW_OK);
    assert_non_null(got.id);
    assert_int_equal(got.id_len, 0);
    assert_non_null(got.error);
    assert_int_equal(got.embedding_len, 3);
    assert_true(got.input_tokens == 812 && got.output_tokens == 95 && got.ttft_ms == 140);
    assert_memory_equal(got.features[0].str, "\xc3\xa9t\xc3\xa9", 5);
    assert_int_equal(mw_record_bin_read(&rd, &p, end, &got), MW_OK);
    assert_null(got.id);
    assert_int_equal(got.embedding_len, 0);
    mw_record changed = recs[3];
    changed.ts = 5;
    assert_false(mw_record_bin_same(&recs[3], &changed));
    mw_record_bin_reader_free(&rd);
    seq_free(&q);
}

/* A 12-feature record as bench_journal writes it: well under half its line. */
static void test_size(void **state) {
    (void)state;
    const char *line =
        "{\"model\": \"bench\", \"version\": \"1\", \"id\": \"r-12-345\", \"features\": {\"f0\": "
        "0.44398617328107434, \"f1\": 1.5640839245498451, \"f2\": 2.5830513218373549, \"f3\": "
        "3.4023358049811458, \"f4\": 5.1117640396025898, \"f5\": 4.0848939812373556, \"f6\": "
        "6.2219722858812473, \"f7\": 7.7416488812938049, \"f8\": 8.7340183004133387, \"f9\": "
        "8.5012399124187446, \"country\": \"DE\", \"device\": \"ios\"}, \"prediction\": 1, "
        "\"latency_ms\": 6.0}";
    mw_record_parser *p = mw_record_parser_new();
    mw_record rec;
    mw_error e;
    assert_int_equal(mw_record_parse(p, line, strlen(line), &rec, &e), MW_OK);
    mw_buf b = {0};
    mw_record_bin_put(&b, &rec, NULL);
    size_t first = b.len;
    mw_record_bin_put(&b, &rec, &rec); /* names now refer to the previous record's */
    size_t second = b.len - first;
    assert_true(first < strlen(line) / 2);
    assert_true(second < 150);
    assert_true(second + 30 < first);
    mw_record_bin_reader rd = {0};
    const unsigned char *q = b.data;
    mw_record a, c;
    assert_int_equal(mw_record_bin_read(&rd, &q, b.data + b.len, &a), MW_OK);
    assert_int_equal(mw_record_bin_read(&rd, &q, b.data + b.len, &c), MW_OK);
    assert_true(mw_record_bin_same(&rec, &a) && mw_record_bin_same(&rec, &c));
    mw_record_bin_reader_free(&rd);
    mw_record_parser_free(p);
    free(b.data);
}

/* Two records parsed by one parser, the second by the record's shape: the
 * parser says it has the first one's names, and the form written without
 * comparing them (mw_record_bin_put_same) is byte for byte the compared one. */
static void test_same_names_hint(void **state) {
    (void)state;
    const char *a = "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"x\": 1, \"yy\": \"a\", "
                    "\"zzzzz\": 2.5}, \"scores\": {\"0\": 0.25, \"1\": 0.75}}";
    const char *b2 = "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"x\": 7, \"yy\": \"bb\", "
                     "\"zzzzz\": 3.5}, \"scores\": {\"0\": 0.5, \"1\": 0.5}}";
    const char *c = "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"x\": 7, \"yz\": \"bb\", "
                    "\"zzzzz\": 3.5}, \"scores\": {\"0\": 0.5, \"1\": 0.5}}";
    mw_record_parser *p = mw_record_parser_new();
    mw_record ra, rb, rc;
    mw_error e;
    assert_int_equal(mw_record_parse(p, a, strlen(a), &ra, &e), MW_OK);
    assert_false(mw_record_parser_same_names(p)); /* nothing before it */
    mw_feature fa[3], sa[2]; /* (the parser's arrays are reused by the next record) */
    memcpy(fa, ra.features, sizeof fa);
    memcpy(sa, ra.scores, sizeof sa);
    ra.features = fa;
    ra.scores = sa;
    assert_int_equal(mw_record_parse(p, b2, strlen(b2), &rb, &e), MW_OK);
    assert_true(mw_record_parser_same_names(p));
    mw_buf with = {0}, without = {0};
    mw_record_bin_put(&with, &ra, NULL);
    mw_record_bin_put(&without, &ra, NULL);
    mw_record_bin_put_same(&with, &rb, &ra, 1);
    mw_record_bin_put(&without, &rb, &ra);
    assert_int_equal(with.len, without.len);
    assert_memory_equal(with.data, without.data, with.len);
    /* another name: not the same names (a normal parse) */
    assert_int_equal(mw_record_parse(p, c, strlen(c), &rc, &e), MW_OK);
    assert_false(mw_record_parser_same_names(p));
    mw_record_parser_free(p);
    free(with.data);
    free(without.data);
}

/* Reads the whole sequence in [data, data + len) into fresh copies (so that
 * ASan sees any read past the end); the number of records read before the
 * first failure. */
static size_t read_copy(const unsigned char *data, size_t len, mw_status *last) {
    unsigned char *copy = malloc(len ? len : 1);
    memcpy(copy, data, len);
    mw_record_bin_reader rd = {0};
    const unsigned char *p = copy, *end = copy + len;
    size_t n = 0;
    *last = MW_OK;
    while (p < end) {
        mw_record r;
        if ((*last = mw_record_bin_read(&rd, &p, end, &r))) break;
        for (size_t i = 0; i < r.nfeatures + r.nscores; i++) { /* touch every view */
            const mw_feature *f = i < r.nfeatures ? &r.features[i] : &r.scores[i - r.nfeatures];
            volatile char c = f->name_len ? f->name[f->name_len - 1] : 0;
            (void)c;
        }
        n++;
    }
    mw_record_bin_reader_free(&rd);
    free(copy);
    return n;
}

static void test_corrupt(void **state) {
    (void)state;
    seq sq;
    write_all(&sq);
    const mw_buf b = sq.b;
    mw_status st;
    size_t all = read_copy(b.data, b.len, &st);
    assert_int_equal(st, MW_OK);
    assert_int_equal(all, NLINES);
    size_t ends[NLINES + 1] = {0}; /* where each record ends */
    {
        mw_record_bin_reader rd = {0};
        const unsigned char *p = b.data;
        for (size_t i = 0; i < NLINES; i++) {
            mw_record r;
            assert_int_equal(mw_record_bin_read(&rd, &p, b.data + b.len, &r), MW_OK);
            ends[i + 1] = (size_t)(p - b.data);
        }
        mw_record_bin_reader_free(&rd);
    }
    for (size_t cut = 0, k = 0; cut < b.len; cut++) { /* a cut inside a record is refused */
        size_t n = read_copy(b.data, cut, &st);
        if (cut == ends[k + 1]) k++;
        assert_int_equal(n, k);
        assert_int_equal(st, cut == ends[k] ? MW_OK : MW_ECORRUPT);
    }
    unsigned char *m = malloc(b.len);
    for (size_t i = 0; i < b.len; i++) /* any byte changed: refused or read in bounds */
        for (int x = 1; x < 256; x <<= 1) {
            memcpy(m, b.data, b.len);
            m[i] ^= (unsigned char)x;
            (void)read_copy(m, b.len, &st);
        }
    free(m);
    /* the second record alone: its names refer to a previous record */
    const unsigned char *p = b.data;
    mw_record_bin_reader rd = {0};
    mw_record r;
    assert_int_equal(mw_record_bin_read(&rd, &p, b.data + b.len, &r), MW_OK);
    mw_record_bin_reader_reset(&rd);
    assert_int_equal(mw_record_bin_read(&rd, &p, b.data + b.len, &r), MW_ECORRUPT);
    /* a count larger than the bytes left, unknown flags, a bad kind */
    const unsigned char big[] = {4, 0, 0xff, 0xff, 0x7f};
    const unsigned char flags[] = {2, 0x80, 0x10};
    const unsigned char kind[] = {6, 0, 1, 0, 1, 'x', 7};
    const unsigned char *q = big;
    assert_int_equal(mw_record_bin_read(&rd, &q, big + sizeof big, &r), MW_ECORRUPT);
    q = flags;
    assert_int_equal(mw_record_bin_read(&rd, &q, flags + sizeof flags, &r), MW_ECORRUPT);
    q = kind;
    assert_int_equal(mw_record_bin_read(&rd, &q, kind + sizeof kind, &r), MW_ECORRUPT);
    const unsigned char empty[] = {3, 0, 0, 0}; /* the smallest record: no fields */
    q = empty;
    assert_int_equal(mw_record_bin_read(&rd, &q, empty + sizeof empty, &r), MW_OK);
    assert_int_equal(r.nfeatures + r.nscores, 0);
    assert_true(isnan(r.ts) && r.prediction.kind == MW_VALUE_MISSING && !r.id);
    mw_record_bin_reader_free(&rd);
    seq_free(&sq);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_size),
        cmocka_unit_test(test_same_names_hint),
        cmocka_unit_test(test_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
