/*
 * libFuzzer target: the journal's binary records (data/record_bin.h), the
 * reader of bytes that come back from the database. The input is read as a
 * sequence of binary records: every record is either refused or read with
 * all its views inside the input (ASan catches stray ones), counts bounded
 * by the bytes, kinds valid. The same bytes are then read as NDJSON records:
 * each accepted one is written alone and after itself (names referring to
 * the previous record's) and must read back equal (mw_record_bin_same),
 * ending exactly at the bytes written.
 */
#include "data/record_bin.h"

#include <stdlib.h>
#include <string.h>

static unsigned sink;

static void touch(const void *s, size_t n) {
    for (size_t i = 0; i < n; i++) sink += ((const unsigned char *)s)[i];
}

static void inside(const unsigned char *lo, const unsigned char *hi, const char *s, size_t n) {
    if (!s) {
        if (n) abort();
        return;
    }
    if ((const unsigned char *)s < lo || (const unsigned char *)s + n > hi) abort();
    touch(s, n);
}

static void check_list(const unsigned char *lo, const unsigned char *hi, const mw_feature *f,
                       size_t n) {
    for (size_t i = 0; i < n; i++) {
        inside(lo, hi, f[i].name, f[i].name_len);
        if (f[i].kind == MW_VALUE_STRING) inside(lo, hi, f[i].str, f[i].str_len);
        else if (f[i].kind != MW_VALUE_NUMBER && f[i].kind != MW_VALUE_MISSING) abort();
    }
}

static void read_binary(const unsigned char *data, size_t size) {
    static mw_record_bin_reader rd;
    mw_record_bin_reader_reset(&rd);
    const unsigned char *p = data, *end = data + size;
    while (p < end) {
        const unsigned char *at = p;
        mw_record r;
        mw_status st = mw_record_bin_read(&rd, &p, end, &r);
        if (st) {
            if (st != MW_ECORRUPT || p != at) abort();
            break;
        }
        if (p <= at || p > end) abort();
        if ((r.nfeatures + r.nscores) * 2 > (size_t)(p - at)) abort();
        if (r.embedding_len * 8 > (size_t)(p - at)) abort();
        inside(at, p, r.id, r.id_len);
        inside(at, p, r.error, r.error_len);
        inside(at, p, r.finish_reason, r.finish_reason_len);
        if (r.prediction.kind == MW_VALUE_STRING)
            inside(at, p, r.prediction.str, r.prediction.str_len);
        check_list(data, p, r.features, r.nfeatures); /* names may be the previous record's */
        check_list(data, p, r.scores, r.nscores);
        if (r.embedding) touch(r.embedding, r.embedding_len * sizeof(double));
    }
}

static void round_trip(const char *body, size_t size) {
    static mw_record_parser *p;
    static mw_record_bin_reader rd;
    static mw_buf b;
    if (!p && !(p = mw_record_parser_new())) abort();
    mw_record_iter it;
    mw_record rec, got;
    mw_error err;
    mw_record_iter_init(&it, body, size);
    int r;
    while ((r = mw_record_iter_next(&it, p, &rec, &err)) != 0) {
        if (r != 1) continue;
        b.len = 0;
        mw_record_bin_put(&b, &rec, NULL);
        mw_record_bin_put(&b, &rec, &rec);
        if (b.failed) abort();
        mw_record_bin_reader_reset(&rd);
        const unsigned char *q = b.data, *end = b.data + b.len;
        for (int k = 0; k < 2; k++)
            if (mw_record_bin_read(&rd, &q, end, &got) != MW_OK || !mw_record_bin_same(&rec, &got))
                abort();
        if (q != end) abort();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    read_binary(data, size);
    round_trip((const char *)data, size);
    return 0;
}
