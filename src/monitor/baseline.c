/*
 * Baselines: what a version keeps of its reference data, so that each window
 * can be tested against it without the reference file.
 *
 * Per numeric column: row/missing/infinity counts, min, max, mean, std, the
 * sorted values (all of them up to MW_BASELINE_SAMPLE, beyond that an evenly
 * spaced selection of the sorted values, which keeps the reference ECDF within
 * 1/MW_BASELINE_SAMPLE), and either the 10 quantile-bin edges with the exact
 * reference counts on them, or, for a discrete column (<= 5 distinct values),
 * the values with their counts. Per categorical column: the categories with
 * their exact counts. With a reference of at most MW_BASELINE_SAMPLE rows a
 * window gets exactly the numbers `modelwatch drift` gives on the same data.
 *
 * Serialised form: "MWBL", u32 version (3; 2 is still read), source, rows,
 * columns, the outlier detector, the model outputs (baseline_perf.c); every length
 * is checked on reading (MW_ECORRUPT with the byte offset, never a crash).
 */
#include "monitor/live_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASELINE_MAGIC "MWBL"
/* 2: with the outlier detector; 3: with the model outputs; 4: with the embedding sample */
#define BASELINE_VERSION 4u

static void base_col_free(mw_base_col *c) {
    free(c->name);
    free(c->sorted);
    for (size_t i = 0; c->labels && i < c->ncats; i++)
        free(c->labels[i]);
    free(c->labels);
    free(c->values);
    free(c->cat_counts);
    mw_dict_free(c->dict);
}

void mw_baseline_free(mw_baseline *b) {
    if (!b) return;
    mw_outlier_free(b->detector);
    mw_base_perf_free(b->perf);
    mw_base_emb_free(b->emb);
    free(b->col_input);
    for (size_t i = 0; i < b->ncols; i++)
        base_col_free(&b->cols[i]);
    free(b->cols);
    free(b->source);
    free(b);
}

const double *mw_outlier_bounds(mw_outlier_method method) {
    /* forest scores lie in (0, 1), 0.5 being ordinary; LOF scores near 1 are ordinary */
    static const double forest[MW_OUTLIER_BUCKETS] = {0.3, 0.4,  0.45, 0.5, 0.55,
                                                      0.6, 0.65, 0.7,  0.8, 0.9};
    static const double lof[MW_OUTLIER_BUCKETS] = {0.9, 1.0, 1.05, 1.1, 1.25, 1.5, 2, 3, 5, 10};
    return method == MW_OUTLIER_LOF ? lof : forest;
}

mw_status mw_baseline_attach_detector(mw_baseline *b, mw_outlier_model *det, mw_error *err) {
    mw_outlier_info info;
    mw_outlier_get_info(det, &info);
    long *map = malloc((b->ncols + 1) * sizeof *map);
    if (!map) return MW_ENOMEM;
    for (size_t j = 0; j < b->ncols; j++)
        map[j] = -1;
    for (size_t i = 0; i < info.n_inputs; i++) {
        const char *name = mw_outlier_input_name(det, i);
        long j = mw_baseline_find(b, name, strlen(name));
        if (j < 0) {
            free(map);
            return mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                                "outlier detector input \"%s\" is not a monitored column", name);
        }
        map[j] = (long)i;
    }
    mw_outlier_free(b->detector);
    free(b->col_input);
    b->detector = det;
    b->detector_bounds = mw_outlier_bounds(info.method);
    b->col_input = map;
    b->ninputs = info.n_inputs;
    return MW_OK;
}

long mw_baseline_find(const mw_baseline *b, const char *name, size_t len) {
    for (size_t i = 0; i < b->ncols; i++)
        if (b->cols[i].name_len == len && !memcmp(b->cols[i].name, name, len)) return (long)i;
    return -1;
}

static mw_status alloc_categories(mw_base_col *c, size_t k) {
    c->ncats = k;
    c->labels = calloc(k + 1, sizeof *c->labels);
    c->cat_counts = calloc(k + 1, sizeof *c->cat_counts);
    if (c->type == MW_TYPE_NUMERIC)
        c->values = calloc(k + 1, sizeof *c->values);
    else
        c->dict = mw_dict_new();
    if (!c->labels || !c->cat_counts || (c->type == MW_TYPE_NUMERIC ? !c->values : !c->dict))
        return MW_ENOMEM;
    return MW_OK;
}

/* Sets category i (label text and count); categorical labels are indexed. */
static mw_status set_category(mw_base_col *c, size_t i, const char *label, size_t len,
                              double count) {
    c->labels[i] = strndup(label, len);
    if (!c->labels[i]) return MW_ENOMEM;
    c->cat_counts[i] = count;
    if (c->dict) {
        uint32_t code;
        if (mw_dict_intern(c->dict, label, len, &code)) return MW_ENOMEM;
        if (code != i) return MW_ECORRUPT; /* duplicate label */
    }
    return MW_OK;
}

static mw_status numeric_column(mw_base_col *c, mw_column *col, size_t nrows) {
    size_t n = mw_col_compact_finite(col->num, nrows, &c->missing, &c->inf);
    double *scratch = malloc((n ? n : 1) * sizeof *scratch);
    if (!scratch) return MW_ENOMEM;
    mw_sort_doubles(col->num, n, scratch);
    free(scratch);
    const double *v = col->num;
    c->nvalues = n;
    c->min = n ? v[0] : NAN;
    c->max = n ? v[n - 1] : NAN;
    mw_col_moments(v, n, &c->mean, &c->std);
    uint64_t distinct = mw_col_count_distinct(v, n);
    c->discrete = distinct <= MW_DISCRETE_MAX_DISTINCT;
    mw_status st;
    if (c->discrete) {
        if ((st = alloc_categories(c, (size_t)distinct))) return st;
        size_t k = 0;
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && v[j] == v[i])
                j++;
            char text[32];
            size_t len = mw_format_double(v[i], text);
            c->values[k] = v[i];
            if ((st = set_category(c, k, text, len, (double)(j - i)))) return st;
            k++;
            i = j;
        }
    } else {
        mw_quantile_edges(v, n, MW_QUANTILE_BINS, c->edges);
        mw_col_bin_counts(v, n, c->edges, MW_QUANTILE_BINS - 1, c->bins);
    }
    size_t keep = n <= MW_BASELINE_SAMPLE ? n : MW_BASELINE_SAMPLE;
    c->sorted = malloc((keep ? keep : 1) * sizeof *c->sorted);
    if (!c->sorted) return MW_ENOMEM;
    if (keep == n) {
        if (n) memcpy(c->sorted, v, n * sizeof *v);
    } else { /* evenly spaced order statistics, first and last included */
        for (size_t i = 0; i < keep; i++)
            c->sorted[i] = v[(size_t)(((double)i * (double)(n - 1)) / (double)(keep - 1) + 0.5)];
    }
    c->nsorted = keep;
    return MW_OK;
}

static mw_status categorical_column(mw_base_col *c, const mw_column *col, size_t nrows) {
    size_t k = mw_dict_size(col->dict);
    double *counts = calloc(k + 1, sizeof *counts);
    if (!counts) return MW_ENOMEM;
    for (size_t r = 0; r < nrows; r++) {
        if (col->codes[r] == MW_CODE_MISSING)
            c->missing++;
        else
            counts[col->codes[r]]++;
    }
    c->nvalues = nrows - c->missing;
    c->min = c->max = c->mean = c->std = NAN;
    size_t present = 0;
    for (size_t i = 0; i < k; i++)
        present += counts[i] > 0;
    mw_status st = alloc_categories(c, present);
    for (size_t i = 0, j = 0; !st && i < k; i++) {
        if (counts[i] == 0) continue;
        size_t len;
        const char *s = mw_dict_str(col->dict, (uint32_t)i, &len);
        st = set_category(c, j++, s, len, counts[i]);
    }
    free(counts);
    return st;
}

mw_status mw_baseline_from_table(mw_table *t, const mw_schema *schema, uint64_t seed,
                                 mw_baseline **out, mw_error *err) {
    (void)seed;
    *out = NULL;
    if (t->nrows == 0)
        return mw_error_set(err, MW_EINVAL, t->source, 0, 0, "the reference has no data rows");
    mw_baseline *b = calloc(1, sizeof *b);
    if (!b) return MW_ENOMEM;
    b->source = strdup(t->source ? t->source : "reference");
    b->rows = t->nrows;
    b->cols = calloc(t->ncols + 1, sizeof *b->cols);
    mw_status st = b->source && b->cols ? MW_OK : MW_ENOMEM;
    for (size_t j = 0; !st && j < t->ncols; j++) {
        mw_column *col = &t->cols[j];
        mw_coltype want = schema ? mw_schema_type(schema, col->name) : MW_TYPE_AUTO;
        if (want == MW_TYPE_IGNORE || col->type == MW_TYPE_IGNORE) continue;
        if (want != MW_TYPE_AUTO && want != col->type && (st = mw_column_convert(col, want, err)))
            break;
        mw_base_col *c = &b->cols[b->ncols++];
        c->name = strdup(col->name);
        c->name_len = strlen(col->name);
        c->type = col->type;
        c->rows = t->nrows;
        if (!c->name)
            st = MW_ENOMEM;
        else
            st = c->type == MW_TYPE_NUMERIC ? numeric_column(c, col, t->nrows)
                                            : categorical_column(c, col, t->nrows);
    }
    if (st) {
        mw_baseline_free(b);
        if (st == MW_ENOMEM)
            mw_error_set(err, st, NULL, 0, 0, "out of memory building the baseline");
        return st;
    }
    *out = b;
    return MW_OK;
}

mw_status mw_baseline_serialize(const mw_baseline *b, unsigned char **buf, size_t *len) {
    mw_buf o = {0};
    mw_buf_put(&o, BASELINE_MAGIC, 4);
    mw_buf_u32(&o, BASELINE_VERSION);
    mw_buf_str(&o, b->source, strlen(b->source));
    mw_buf_u64(&o, b->rows);
    mw_buf_u32(&o, (uint32_t)b->ncols);
    for (size_t j = 0; j < b->ncols; j++) {
        const mw_base_col *c = &b->cols[j];
        mw_buf_str(&o, c->name, strlen(c->name));
        mw_buf_u8(&o, (uint8_t)c->type);
        mw_buf_u8(&o, (uint8_t)c->discrete);
        mw_buf_u64(&o, c->rows);
        mw_buf_u64(&o, c->missing);
        mw_buf_u64(&o, c->inf);
        mw_buf_u64(&o, c->nvalues);
        mw_buf_f64(&o, c->min);
        mw_buf_f64(&o, c->max);
        mw_buf_f64(&o, c->mean);
        mw_buf_f64(&o, c->std);
        mw_buf_u64(&o, c->nsorted);
        for (size_t i = 0; i < c->nsorted; i++)
            mw_buf_f64(&o, c->sorted[i]);
        for (int i = 0; i < MW_QUANTILE_BINS - 1; i++)
            mw_buf_f64(&o, c->edges[i]);
        for (int i = 0; i < MW_QUANTILE_BINS; i++)
            mw_buf_f64(&o, c->bins[i]);
        mw_buf_u32(&o, (uint32_t)c->ncats);
        for (size_t i = 0; i < c->ncats; i++) {
            mw_buf_str(&o, c->labels[i], strlen(c->labels[i]));
            mw_buf_f64(&o, c->cat_counts[i]);
            if (c->values) mw_buf_f64(&o, c->values[i]);
        }
    }
    mw_buf_u8(&o, b->detector != NULL);
    if (b->detector) {
        unsigned char *det;
        size_t dl;
        if (mw_outlier_save(b->detector, &det, &dl) != MW_OK) {
            free(o.data);
            return MW_ENOMEM;
        }
        mw_buf_u64(&o, dl);
        mw_buf_put(&o, det, dl);
        free(det);
    }
    mw_buf_u8(&o, b->perf != NULL);
    if (b->perf) mw_base_perf_write(b->perf, &o);
    mw_buf_u8(&o, b->emb != NULL);
    if (b->emb) mw_base_emb_write(b->emb, &o);
    if (o.failed) {
        free(o.data);
        return MW_ENOMEM;
    }
    *buf = o.data;
    *len = o.len;
    return MW_OK;
}

static mw_status read_col(mw_base_col *c, mw_reader *r) {
    size_t nl;
    const char *name = mw_rd_str(r, &nl);
    if (!name || memchr(name, 0, nl) || !(c->name = strndup(name, nl))) return MW_ECORRUPT;
    c->name_len = nl;
    c->type = (mw_coltype)mw_rd_u8(r);
    c->discrete = mw_rd_u8(r);
    if (c->type != MW_TYPE_NUMERIC && c->type != MW_TYPE_CATEGORICAL) return MW_ECORRUPT;
    if (c->discrete && c->type != MW_TYPE_NUMERIC) return MW_ECORRUPT;
    c->rows = mw_rd_u64(r);
    c->missing = mw_rd_u64(r);
    c->inf = mw_rd_u64(r);
    c->nvalues = mw_rd_u64(r);
    c->min = mw_rd_f64(r);
    c->max = mw_rd_f64(r);
    c->mean = mw_rd_f64(r);
    c->std = mw_rd_f64(r);
    uint64_t ns = mw_rd_u64(r);
    if (r->failed || ns > (uint64_t)(r->end - r->p) / 8 || ns > c->nvalues) return MW_ECORRUPT;
    c->nsorted = (size_t)ns;
    c->sorted = malloc((ns ? ns : 1) * sizeof *c->sorted);
    if (!c->sorted) return MW_ENOMEM;
    for (size_t i = 0; i < ns; i++) {
        c->sorted[i] = mw_rd_f64(r);
        if (!isfinite(c->sorted[i]) || (i && c->sorted[i] < c->sorted[i - 1])) return MW_ECORRUPT;
    }
    for (int i = 0; i < MW_QUANTILE_BINS - 1; i++)
        c->edges[i] = mw_rd_f64(r);
    for (int i = 0; i < MW_QUANTILE_BINS; i++)
        c->bins[i] = mw_rd_f64(r);
    uint32_t k = mw_rd_u32(r);
    if (r->failed || k > (uint64_t)(r->end - r->p) / 12) return MW_ECORRUPT;
    if (c->type == MW_TYPE_NUMERIC && !c->discrete && k) return MW_ECORRUPT;
    mw_status st = alloc_categories(c, k);
    for (uint32_t i = 0; !st && i < k; i++) {
        size_t len;
        const char *s = mw_rd_str(r, &len);
        double cnt = mw_rd_f64(r);
        if (!s || r->failed || memchr(s, 0, len) || !(cnt >= 0)) return MW_ECORRUPT;
        st = set_category(c, i, s, len, cnt);
        if (!st && c->values) {
            c->values[i] = mw_rd_f64(r);
            if (!isfinite(c->values[i]) || (i && c->values[i] <= c->values[i - 1]))
                return MW_ECORRUPT;
        }
    }
    return r->failed ? MW_ECORRUPT : st;
}

mw_status mw_baseline_deserialize(const unsigned char *buf, size_t len, mw_baseline **out,
                                  mw_error *err) {
    *out = NULL;
    mw_reader r = {buf, buf + len, 0};
    if (len < 8 || memcmp(buf, BASELINE_MAGIC, 4))
        return mw_error_set(err, MW_ECORRUPT, NULL, 0, 0,
                            "stored baseline is not a modelwatch baseline");
    r.p += 4;
    uint32_t version = mw_rd_u32(&r);
    if (version != BASELINE_VERSION && version != 2 && version != 3)
        return mw_error_set(err, MW_ECORRUPT, NULL, 0, 0,
                            "stored baseline has format version %u, this build reads %u", version,
                            BASELINE_VERSION);
    mw_baseline *b = calloc(1, sizeof *b);
    if (!b) return MW_ENOMEM;
    size_t sl;
    const char *src = mw_rd_str(&r, &sl);
    b->rows = mw_rd_u64(&r);
    uint32_t ncols = mw_rd_u32(&r);
    mw_status st = MW_OK;
    if (!src || r.failed || memchr(src, 0, sl) || ncols > (uint64_t)(r.end - r.p) / 16)
        st = MW_ECORRUPT;
    if (!st && !(b->source = strndup(src, sl))) st = MW_ENOMEM;
    if (!st && !(b->cols = calloc(ncols + 1, sizeof *b->cols))) st = MW_ENOMEM;
    for (uint32_t j = 0; !st && j < ncols; j++) {
        b->ncols++;
        st = read_col(&b->cols[j], &r);
    }
    if (!st && mw_rd_u8(&r)) { /* the outlier detector */
        uint64_t dl = mw_rd_u64(&r);
        mw_outlier_model *det = NULL;
        if (r.failed || dl > (uint64_t)(r.end - r.p))
            st = MW_ECORRUPT;
        else if (mw_outlier_load(r.p, (size_t)dl, &det, err) != MW_OK)
            st = MW_ECORRUPT;
        else if ((st = mw_baseline_attach_detector(b, det, err)))
            mw_outlier_free(det);
        if (!st) r.p += dl;
    }
    if (!st && version >= 3 && mw_rd_u8(&r)) { /* the model outputs */
        mw_base_perf *perf = NULL;
        if ((st = mw_base_perf_read(&r, &perf, err)) == MW_OK && (st = mw_base_perf_attach(b, perf)))
            mw_base_perf_free(perf);
    }
    if (!st && version >= 4 && mw_rd_u8(&r)) /* the embedding sample */
        st = mw_base_emb_read(&r, &b->emb);
    if (!st && (r.failed || r.p != r.end)) st = MW_ECORRUPT;
    if (st) {
        size_t at = (size_t)(r.p - buf);
        mw_baseline_free(b);
        return st == MW_ECORRUPT ? mw_error_set(err, st, NULL, 0, 0,
                                                "stored baseline is corrupt near byte %zu", at)
                                 : st;
    }
    *out = b;
    return MW_OK;
}
