/*
 * libFuzzer target: the record parser (record.h) over arbitrary bytes, through
 * the body iterator (NDJSON lines or a JSON array) and mw_record_parse on the
 * whole input. Checks invariants: every yielded record has a non-empty model
 * and a version, all its strings are readable (ASan catches stray views), kinds
 * are valid, counts respect the limits; every error has a status and a message;
 * the iterator ends within one step per input byte (plus one). The same bytes
 * go through a parser in label mode (POST /api/v1/labels), where "version" is
 * optional and "label" is read. The feature value scanner
 * (mw_record_feature_spans, the daemon's journal of text features) runs on
 * the same bytes: spans inside the input, in line order; and on an accepted
 * record every feature has its last span, of the kind the parser read, and a
 * number feature strtod's value of that span, bit for bit (the parser's fast
 * paths against the C library). The parsers are reused from input to input,
 * as the daemon's are, so their record-shape fast path (record_shape.c) runs
 * on lines shaped like earlier ones; a second parser with that path off
 * (mw_record_parser_shapes) reads the same bytes, and the two must agree on
 * every record (every field, views at the same addresses, numbers bit for
 * bit) and every error (status, message, line, column). When the parser says
 * a record has the names of the one it parsed before (same_names, which the
 * daemon's journal trusts), the names must be the same.
 */
#include "data/record_int.h"
#include "modelwatch/record.h"

#include "../support/record_compare.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned sink;

static void touch(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        sink += (unsigned char)s[i];
}

static void check_feature(const mw_feature *f) {
    touch(f->name, f->name_len);
    if (f->name_len > 1024) abort();
    switch (f->kind) {
    case MW_VALUE_MISSING:
        break;
    case MW_VALUE_NUMBER:
        if (!isfinite(f->number)) abort();
        break;
    case MW_VALUE_STRING:
        if (!f->str && f->str_len) abort();
        touch(f->str, f->str_len);
        break;
    default:
        abort();
    }
}

static void check(const mw_record *r) {
    if (!r->model || !r->model_len || !r->version || !r->version_len) abort();
    touch(r->model, r->model_len);
    touch(r->version, r->version_len);
    if (r->id) touch(r->id, r->id_len);
    if (r->error) touch(r->error, r->error_len);
    if (r->nfeatures > 10000 || r->nscores > 10000) abort();
    if (!isnan(r->latency_ms) && !(r->latency_ms >= 0)) abort();
    if (!isnan(r->ts) && !isfinite(r->ts)) abort();
    for (size_t i = 0; i < r->nfeatures; i++)
        check_feature(&r->features[i]);
    for (size_t i = 0; i < r->nscores; i++) {
        if (r->scores[i].kind != MW_VALUE_NUMBER) abort();
        check_feature(&r->scores[i]);
    }
    check_feature(&r->prediction);
}

/* A parser with the record-shape fast path off (on = 0) or on, in label mode
 * or not. */
static mw_record_parser *parser(int shapes, int labels) {
    mw_record_parser *p = mw_record_parser_new();
    if (!p) abort();
    mw_record_parser_shapes(p, shapes);
    mw_record_parser_labels(p, labels);
    return p;
}

/* The next record of it (parser p) and of it2 (parser q, the fast path off)
 * must be the same result: returns it. */
/* The names of a record's features and scores, as one string (counts and
 * lengths included). */
static size_t names_of(const mw_record *rec, char *out, size_t cap) {
    size_t n = 0;
    const mw_feature *lists[2] = {rec->features, rec->scores};
    size_t counts[2] = {rec->nfeatures, rec->nscores};
    for (int l = 0; l < 2; l++) {
        n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%zu:", counts[l]);
        for (size_t i = 0; i < counts[l]; i++) {
            n += (size_t)snprintf(out + n, n < cap ? cap - n : 0, "%zu:", lists[l][i].name_len);
            if (n + lists[l][i].name_len < cap) memcpy(out + n, lists[l][i].name, lists[l][i].name_len);
            n += lists[l][i].name_len;
        }
    }
    return n;
}

/* After each record p parsed successfully: when p says it has the names of
 * the record it parsed successfully before (mw_record_parser_same_names, which
 * the daemon's journal trusts instead of comparing), they must be the same. */
static void check_same_names(const mw_record_parser *p, const mw_record *rec) {
    enum { CAP = 1 << 16 };
    static const mw_record_parser *owner[2];
    static char last[2][CAP], now[CAP];
    static size_t last_len[2];
    int k = owner[0] == p ? 0 : owner[1] == p ? 1 : !owner[0] ? 0 : 1;
    owner[k] = p;
    size_t n = names_of(rec, now, CAP);
    if (n >= CAP) { /* too long to keep: the next record is not checked */
        last_len[k] = (size_t)-1;
        return;
    }
    if (mw_record_parser_same_names(p) && last_len[k] != (size_t)-1 &&
        (n != last_len[k] || memcmp(now, last[k], n)))
        abort();
    memcpy(last[k], now, n);
    last_len[k] = n;
}

static int next_both(mw_record_iter *it, mw_record_parser *p, mw_record *rec, mw_error *err,
                     mw_record_iter *it2, mw_record_parser *q, const char *body, size_t size) {
    mw_record rec2;
    mw_error err2;
    int r = mw_record_iter_next(it, p, rec, err);
    if (mw_record_iter_next(it2, q, &rec2, &err2) != r) abort();
    if (r == 1) check_same_names(p, rec);
    if (r == 1 && (mw_test_record_diff(rec, &rec2, body, size) ||
                   mw_record_parser_decoded(p) != mw_record_parser_decoded(q)))
        abort();
    if (r == -1 && mw_test_error_diff(err, &err2)) abort();
    return r;
}

/* Label lines: model required, version optional, every view readable. */
static void check_labels(const char *body, size_t size) {
    static mw_record_parser *lp, *lq;
    if (!lp) {
        lp = parser(1, 1);
        lq = parser(0, 1);
    }
    mw_record_iter it, it2;
    mw_record rec;
    mw_error err;
    mw_record_iter_init(&it, body, size);
    mw_record_iter_init(&it2, body, size);
    size_t steps = 0;
    int r;
    while ((r = next_both(&it, lp, &rec, &err, &it2, lq, body, size)) != 0) {
        if (++steps > size + 1) abort();
        if (r == 1) {
            if (!rec.model || !rec.model_len) abort();
            touch(rec.model, rec.model_len);
            if (rec.version) touch(rec.version, rec.version_len);
            if (rec.id) touch(rec.id, rec.id_len);
            check_feature(&rec.label);
        } else if (err.status == MW_OK || err.message[0] == 0) {
            abort();
        }
    }
}

/* The scanner on the whole input, with the names of rec's features (up to 64)
 * when accepted (rec != NULL), else a few fixed names. */
static void check_spans(const char *body, size_t size, const mw_record *rec) {
    static const char *const fixed[] = {"a", "review", "x"};
    const char *names[64];
    size_t lens[64], n = 0;
    for (; rec && n < rec->nfeatures && n < 64; n++) {
        names[n] = rec->features[n].name;
        lens[n] = rec->features[n].name_len;
    }
    for (; !rec && n < 3; n++) {
        names[n] = fixed[n];
        lens[n] = strlen(fixed[n]);
    }
    mw_record_span out[256];
    size_t c = mw_record_feature_spans(body, size, names, lens, n, out, 256), last = 0;
    for (size_t i = 0; i < c && i < 256; i++) {
        if (out[i].at + out[i].len > size || !out[i].len || out[i].name >= n) abort();
        if (i && out[i].at < out[i - 1].at + out[i - 1].len) abort();
        touch(body + out[i].at, out[i].len);
        if (!rec || !out[i].last) continue;
        char c0 = body[out[i].at];
        mw_value_kind k = rec->features[out[i].name].kind;
        if ((k == MW_VALUE_STRING) != (c0 == '"' || c0 == 't' || c0 == 'f') ||
            (k == MW_VALUE_MISSING) != (c0 == 'n'))
            abort();
        if (k == MW_VALUE_NUMBER && out[i].len < 512) { /* the value is strtod's, bit for bit */
            char num[512];
            memcpy(num, body + out[i].at, out[i].len);
            num[out[i].len] = 0;
            double want = strtod(num, NULL), got = rec->features[out[i].name].number;
            if (memcmp(&want, &got, sizeof want) != 0) abort();
        }
        last++;
    }
    if (rec && c <= 256 && last != n) abort(); /* each accepted feature found once */
}

/* The line of an accepted NDJSON record (without a leading byte order mark),
 * found from its model (a view into the body unless it had escapes): NULL
 * when unknown. */
static const char *line_of(const char *body, size_t size, const mw_record *rec, size_t *len) {
    *len = 0;
    if (!mw_test_in_body(rec->model, body, size)) return NULL;
    const char *s = rec->model;
    while (s > body && s[-1] != '\n')
        s--;
    if (s == body && size >= 3 && !memcmp(s, "\xEF\xBB\xBF", 3)) s += 3; /* the iterator skips it */
    const char *e = memchr(s, '\n', size - (size_t)(s - body));
    *len = e ? (size_t)(e - s) : size - (size_t)(s - body);
    return s;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    static mw_record_parser *p, *q; /* reused, as the daemon does; q: no fast path */
    if (!p) {
        p = parser(1, 0);
        q = parser(0, 0);
    }
    check_labels((const char *)data, size);
    const char *body = (const char *)data;
    mw_record_iter it, it2;
    mw_record rec;
    mw_error err;
    mw_record_iter_init(&it, body, size);
    mw_record_iter_init(&it2, body, size);
    size_t steps = 0;
    int r;
    while ((r = next_both(&it, p, &rec, &err, &it2, q, body, size)) != 0) {
        if (++steps > size + 1) abort();
        if (r == 1) {
            if (err.status != MW_OK) abort();
            check(&rec);
            size_t ll;
            const char *line = it.array ? NULL : line_of(body, size, &rec, &ll);
            if (line) check_spans(line, ll, &rec);
        } else if (r == -1) {
            if (err.status == MW_OK || err.message[0] == 0 || (err.line == 0 && !it.array)) abort();
        } else {
            abort();
        }
    }
    mw_record rec2;
    mw_error err2;
    mw_status st = mw_record_parse(p, body, size, &rec, &err);
    if (st == MW_OK) check_same_names(p, &rec);
    if (mw_record_parse(q, body, size, &rec2, &err2) != st ||
        (st == MW_OK ? mw_test_record_diff(&rec, &rec2, body, size) != NULL
                     : mw_test_error_diff(&err, &err2) != NULL))
        abort();
    if (st == MW_OK) {
        check(&rec);
        check_spans(body, size, &rec);
    } else if (err.status == MW_OK || err.message[0] == 0 || rec.model) {
        abort();
    } else {
        check_spans(body, size, NULL);
    }
    return 0;
}
