/*
 * The model-output part of a baseline (live_int.h mw_base_perf): which
 * reference columns hold the predictions and the class scores, so that each
 * window tests their drift like a feature's (prediction drift is often the
 * first visible sign of trouble), and the CBPE calibration fitted on a
 * labelled reference, so that each window's performance is estimated before
 * its labels arrive (perf.h, as NannyML's CBPE).
 *
 * Classes are the target's values as text (1, 1.0 and "1" are the class "1"),
 * ordered as scikit-learn orders labels: numerically when the target column is
 * numeric, by code point otherwise.
 */
#include "monitor/labels_int.h"
#include "monitor/live_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mw_base_perf_free(mw_base_perf *p) {
    if (!p) return;
    free(p->prediction_col);
    free(p->score_prefix);
    mw_dict_free(p->score_names);
    free(p->score_idx);
    for (size_t i = 0; i < p->k; i++)
        free(p->classes[i]);
    free(p->classes);
    mw_dict_free(p->class_codes);
    mw_cbpe_free(p->cbpe);
    free(p);
}

static mw_column *find_column(mw_table *t, const char *name) {
    for (size_t j = 0; j < t->ncols; j++)
        if (!strcmp(t->cols[j].name, name)) return &t->cols[j];
    return NULL;
}

/* The class text of row i of the target column; NULL when missing. */
static const char *class_of(const mw_column *c, size_t i, char *buf, size_t *len) {
    mw_feature f = {0};
    if (c->type == MW_TYPE_NUMERIC) {
        if (isnan(c->num[i])) return NULL;
        f.kind = MW_VALUE_NUMBER;
        f.number = c->num[i];
    } else {
        if (c->codes[i] == MW_CODE_MISSING) return NULL;
        f.kind = MW_VALUE_STRING;
        f.str = mw_dict_str(c->dict, c->codes[i], &f.str_len);
    }
    return mw_labels_class_text(&f, buf, len);
}

typedef struct cls {
    char *text;
    double num;
} cls;

static int cmp_num(const void *a, const void *b) {
    double x = ((const cls *)a)->num, y = ((const cls *)b)->num;
    return (x > y) - (x < y);
}

static int cmp_text(const void *a, const void *b) {
    return strcmp(((const cls *)a)->text, ((const cls *)b)->text);
}

/* The target's classes in scikit-learn's order, into p->classes/class_codes. */
static mw_status collect_classes(mw_base_perf *p, const mw_column *c, size_t nrows) {
    mw_dict *seen = mw_dict_new();
    cls *v = NULL;
    size_t n = 0, cap = 0;
    mw_status st = seen ? MW_OK : MW_ENOMEM;
    for (size_t i = 0; !st && i < nrows; i++) {
        char buf[32];
        size_t len;
        const char *s = class_of(c, i, buf, &len);
        uint32_t code;
        if (!s || mw_dict_find(seen, s, len, &code)) continue;
        if ((st = mw_dict_intern(seen, s, len, &code))) break;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            cls *grown = realloc(v, cap * sizeof *v);
            if (!grown) {
                st = MW_ENOMEM;
                break;
            }
            v = grown;
        }
        v[n].text = strndup(s, len);
        v[n].num = c->type == MW_TYPE_NUMERIC ? c->num[i] : 0;
        if (!v[n++].text) st = MW_ENOMEM;
    }
    mw_dict_free(seen);
    if (!st) qsort(v, n, sizeof *v, c->type == MW_TYPE_NUMERIC ? cmp_num : cmp_text);
    p->classes = calloc(n + 1, sizeof *p->classes);
    p->class_codes = mw_dict_new();
    if (!p->classes || !p->class_codes) st = MW_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        uint32_t code;
        if (!st) st = mw_dict_intern(p->class_codes, v[i].text, strlen(v[i].text), &code);
        if (!st) p->classes[p->k++] = v[i].text;
        else free(v[i].text);
    }
    free(v);
    return st;
}

/* Fits CBPE on the rows that have the target and every class score. */
static mw_status fit_cbpe(mw_base_perf *p, mw_table *t, mw_column *target, mw_error *err) {
    mw_status st = collect_classes(p, target, t->nrows);
    if (st) return mw_error_set(err, st, NULL, 0, 0, "out of memory reading the target");
    if (p->k < 2)
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                            "target_column \"%s\": CBPE needs at least two classes, the reference "
                            "has %zu",
                            target->name, p->k);
    size_t k = p->k;
    mw_column **sc = calloc(k, sizeof *sc);
    uint32_t *y = malloc(t->nrows * sizeof *y);
    double *s = malloc(t->nrows * k * sizeof *s);
    if (!sc || !y || !s) st = mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    for (size_t c = 0; !st && c < k; c++) {
        char name[600];
        snprintf(name, sizeof name, "%s%s", p->score_prefix, p->classes[c]);
        sc[c] = find_column(t, name);
        if (!sc[c] || sc[c]->type != MW_TYPE_NUMERIC)
            st = mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                              "target_column \"%s\": the reference needs a numeric score column "
                              "\"%s\" for class \"%s\" (score_prefix \"%s\")",
                              target->name, name, p->classes[c], p->score_prefix);
    }
    size_t n = 0;
    for (size_t i = 0; !st && i < t->nrows; i++) {
        char buf[32];
        size_t len;
        uint32_t code;
        const char *cl = class_of(target, i, buf, &len);
        if (!cl || !mw_dict_find(p->class_codes, cl, len, &code)) continue;
        int ok = 1;
        for (size_t c = 0; c < k; c++)
            ok &= isfinite(s[n * k + c] = sc[c]->num[i]);
        if (ok) y[n++] = code;
    }
    if (!st && n == 0)
        st = mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                          "target_column \"%s\": no reference row has the target and every score",
                          target->name);
    if (!st) st = mw_cbpe_fit(y, s, n, k, k, &p->cbpe, err);
    free(sc);
    free(y);
    free(s);
    return st;
}

mw_status mw_base_perf_fit(mw_table *t, const char *target, const char *prediction_col,
                           const char *score_prefix, mw_base_perf **out, mw_error *err) {
    *out = NULL;
    mw_base_perf *p = calloc(1, sizeof *p);
    if (!p) return MW_ENOMEM;
    p->prediction_col = strdup(prediction_col ? prediction_col : "");
    p->score_prefix = strdup(score_prefix ? score_prefix : "");
    mw_status st = p->prediction_col && p->score_prefix ? MW_OK : MW_ENOMEM;
    if (!st && target && *target) {
        mw_column *c = find_column(t, target);
        if (!c)
            st = mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                              "target_column \"%s\" is not a column of the reference", target);
        else if (!(st = fit_cbpe(p, t, c, err)))
            c->type = MW_TYPE_IGNORE; /* the ground truth is not a feature */
    }
    if (st) {
        mw_base_perf_free(p);
        return st;
    }
    *out = p;
    return MW_OK;
}

mw_status mw_base_perf_attach(mw_baseline *b, mw_base_perf *p) {
    size_t pl = strlen(p->score_prefix);
    p->prediction_idx = *p->prediction_col ? mw_baseline_find(b, p->prediction_col,
                                                              strlen(p->prediction_col))
                                           : -1;
    p->score_names = mw_dict_new();
    p->score_idx = calloc(b->ncols + 1, sizeof *p->score_idx);
    if (!p->score_names || !p->score_idx) return MW_ENOMEM;
    for (size_t j = 0; pl && j < b->ncols; j++) {
        const mw_base_col *c = &b->cols[j];
        if (c->name_len <= pl || memcmp(c->name, p->score_prefix, pl)) continue;
        uint32_t code;
        if (mw_dict_intern(p->score_names, c->name + pl, c->name_len - pl, &code)) return MW_ENOMEM;
        p->score_idx[code] = (long)j;
    }
    b->perf = p;
    return MW_OK;
}

/* ---- serialised form: prediction column, score prefix, k, classes, CBPE bytes ---- */

void mw_base_perf_write(const mw_base_perf *p, mw_buf *o) {
    mw_buf_str(o, p->prediction_col, strlen(p->prediction_col));
    mw_buf_str(o, p->score_prefix, strlen(p->score_prefix));
    mw_buf_u32(o, (uint32_t)p->k);
    for (size_t i = 0; i < p->k; i++)
        mw_buf_str(o, p->classes[i], strlen(p->classes[i]));
    unsigned char *cb = NULL;
    size_t cl = 0;
    if (p->cbpe && mw_cbpe_serialize(p->cbpe, &cb, &cl)) o->failed = 1;
    mw_buf_u64(o, cl);
    if (cb) mw_buf_put(o, cb, cl);
    free(cb);
}

static char *read_str(mw_reader *r) {
    size_t len;
    const char *s = mw_rd_str(r, &len);
    return s && !memchr(s, 0, len) ? strndup(s, len) : NULL;
}

mw_status mw_base_perf_read(mw_reader *r, mw_base_perf **out, mw_error *err) {
    *out = NULL;
    mw_base_perf *p = calloc(1, sizeof *p);
    if (!p) return MW_ENOMEM;
    p->prediction_col = read_str(r);
    p->score_prefix = read_str(r);
    uint32_t k = mw_rd_u32(r);
    mw_status st = p->prediction_col && p->score_prefix && !r->failed &&
                           k <= (uint64_t)(r->end - r->p) / 4 && k != 1
                       ? MW_OK
                       : MW_ECORRUPT;
    if (!st && !((p->classes = calloc(k + 1, sizeof *p->classes)) &&
                 (p->class_codes = mw_dict_new())))
        st = MW_ENOMEM;
    for (uint32_t i = 0; !st && i < k; i++) {
        uint32_t code;
        if (!(p->classes[i] = read_str(r))) st = MW_ECORRUPT;
        else if (mw_dict_intern(p->class_codes, p->classes[i], strlen(p->classes[i]), &code) ||
                 code != i)
            st = MW_ECORRUPT; /* a repeated class */
        p->k += st == MW_OK;
    }
    uint64_t cl = st ? 0 : mw_rd_u64(r);
    if (!st && (r->failed || cl > (uint64_t)(r->end - r->p) || (k && !cl) || (!k && cl)))
        st = MW_ECORRUPT;
    if (!st && cl) {
        st = mw_cbpe_deserialize(r->p, (size_t)cl, &p->cbpe, err);
        if (!st && mw_cbpe_classes(p->cbpe) != k) st = MW_ECORRUPT;
        r->p += cl;
    }
    if (st) {
        mw_base_perf_free(p);
        return st;
    }
    *out = p;
    return MW_OK;
}
