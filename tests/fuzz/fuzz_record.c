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
 * paths against the C library).
 */
#include "modelwatch/record.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static unsigned sink;

static void touch(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) sink += (unsigned char)s[i];
}

static void check_feature(const mw_feature *f) {
    touch(f->name, f->name_len);
    if (f->name_len > 1024) abort();
    switch (f->kind) {
    case MW_VALUE_MISSING: break;
    case MW_VALUE_NUMBER:
        if (!isfinite(f->number)) abort();
        break;
    case MW_VALUE_STRING:
        if (!f->str && f->str_len) abort();
        touch(f->str, f->str_len);
        break;
    default: abort();
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
    for (size_t i = 0; i < r->nfeatures; i++) check_feature(&r->features[i]);
    for (size_t i = 0; i < r->nscores; i++) {
        if (r->scores[i].kind != MW_VALUE_NUMBER) abort();
        check_feature(&r->scores[i]);
    }
    check_feature(&r->prediction);
}

/* Label lines: model required, version optional, every view readable. */
static void check_labels(const char *body, size_t size) {
    static mw_record_parser *lp;
    if (!lp && (lp = mw_record_parser_new())) mw_record_parser_labels(lp, 1);
    if (!lp) abort();
    mw_record_iter it;
    mw_record rec;
    mw_error err;
    mw_record_iter_init(&it, body, size);
    size_t steps = 0;
    int r;
    while ((r = mw_record_iter_next(&it, lp, &rec, &err)) != 0) {
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

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    static mw_record_parser *p; /* reused, as the daemon does */
    if (!p) p = mw_record_parser_new();
    if (!p) abort();
    check_labels((const char *)data, size);
    const char *body = (const char *)data;
    mw_record_iter it;
    mw_record rec;
    mw_error err;
    mw_record_iter_init(&it, body, size);
    size_t steps = 0;
    int r;
    while ((r = mw_record_iter_next(&it, p, &rec, &err)) != 0) {
        if (++steps > size + 1) abort();
        if (r == 1) {
            if (err.status != MW_OK) abort();
            check(&rec);
        } else if (r == -1) {
            if (err.status == MW_OK || err.message[0] == 0 || (err.line == 0 && !it.array)) abort();
        } else {
            abort();
        }
    }
    if (mw_record_parse(p, body, size, &rec, &err) == MW_OK) {
        check(&rec);
        check_spans(body, size, &rec);
    } else if (err.status == MW_OK || err.message[0] == 0 || rec.model) {
        abort();
    } else {
        check_spans(body, size, NULL);
    }
    return 0;
}
