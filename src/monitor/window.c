/*
 * Window accumulators: what one tumbling window of current records leaves in
 * memory, bounded whatever the traffic, and the drift report of a closed window.
 *
 * Per baseline column: row, missing, infinity and type-error counts; Welford
 * moments, min and max; values outside the reference range; exact counts on the
 * baseline's quantile bins (continuous numeric) or categories (categorical and
 * discrete numeric), with at most MW_WINDOW_MAX_UNSEEN distinct categories the
 * reference lacks counted by name and the rest together; and a uniform
 * reservoir sample of numeric values (sample_capacity, default 100000) for the
 * tests that need raw values. Below the sample capacity (and with a reference
 * within MW_BASELINE_SAMPLE rows) a window's result equals `modelwatch drift` on
 * the same data. Category order follows the batch path (reference order, then
 * unseen ones in order of first appearance; discrete values ascending), so even
 * order-sensitive statistics (Fisher's odds ratio) agree.
 */
#include "monitor/live_int.h"
#include "stats/edge_count.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mw_status mw_window_init(mw_window *w, const mw_baseline *b, size_t sample_capacity,
                         uint64_t seed) {
    memset(w, 0, sizeof *w);
    w->ncols = b->ncols;
    mw_serving_init(&w->serving, sample_capacity ? sample_capacity : 100000);
    w->cols = calloc(b->ncols + 1, sizeof *w->cols);
    if (!w->cols) return MW_ENOMEM;
    mw_rng_seed(&w->rng, seed);
    for (size_t j = 0; j < b->ncols; j++) {
        const mw_base_col *bc = &b->cols[j];
        mw_win_col *c = &w->cols[j];
        c->min = INFINITY;
        c->max = -INFINITY;
        mw_reservoir_init(&c->sample, sample_capacity ? sample_capacity : 100000);
        if (bc->ncats && !(c->cat_counts = calloc(bc->ncats, sizeof *c->cat_counts)))
            return MW_ENOMEM;
        c->ncat_alloc = bc->ncats;
    }
    size_t k = b->perf ? b->perf->k : 0;
    if (k && !((w->cbpe_conf = calloc(k * k, sizeof *w->cbpe_conf)) &&
               (w->cbpe_npred = calloc(k, sizeof *w->cbpe_npred))))
        return MW_ENOMEM;
    w->cbpe_k = k;
    return MW_OK;
}

void mw_window_reset(mw_window *w, uint64_t seed) {
    for (size_t j = 0; j < w->ncols; j++) {
        mw_win_col *c = &w->cols[j];
        /* keep the buffers: the sample, category counts and unseen arrays */
        mw_reservoir keep = c->sample;
        double *cat = c->cat_counts, *uv = c->unseen_values, *uc = c->unseen_counts;
        size_t ncat = c->cat_counts ? c->ncat_alloc : 0;
        mw_dict_free(c->unseen);
        memset(c, 0, sizeof *c);
        c->sample = keep;
        mw_reservoir_clear(&c->sample);
        c->cat_counts = cat;
        c->ncat_alloc = ncat;
        if (cat) memset(cat, 0, ncat * sizeof *cat);
        c->unseen_values = uv;
        c->unseen_counts = uc;
        c->min = INFINITY;
        c->max = -INFINITY;
    }
    w->records = w->late = 0;
    w->nstores = w->stores_head = 0; /* (written when the window closed, or not needed) */
    if (w->cbpe_k) {
        memset(w->cbpe_conf, 0, w->cbpe_k * w->cbpe_k * sizeof *w->cbpe_conf);
        memset(w->cbpe_npred, 0, w->cbpe_k * sizeof *w->cbpe_npred);
    }
    w->cbpe_n = w->cbpe_skipped = 0;
    mw_serving_reset(&w->serving);
    memset(&w->scores, 0, sizeof w->scores);
    w->start = w->end = 0;
    w->emb_n = 0; /* the reservoir's buffer stays */
    w->emb_seen = w->emb_missing = w->emb_bad_dim = w->emb_bad_value = 0;
    w->emb_last = MW_EMB_NONE;
    mw_rng_seed(&w->rng, seed);
}

void mw_window_free(mw_window *w) {
    for (size_t j = 0; w->cols && j < w->ncols; j++) {
        mw_win_col *c = &w->cols[j];
        mw_reservoir_free(&c->sample);
        free(c->cat_counts);
        mw_dict_free(c->unseen);
        free(c->unseen_values);
        free(c->unseen_counts);
    }
    free(w->cols);
    free(w->cbpe_conf);
    free(w->cbpe_npred);
    free(w->emb_rows);
    mw_serving_free(&w->serving);
    memset(w, 0, sizeof *w);
}

static void type_error(mw_win_col *c, const char *s, size_t len) {
    c->type_errors++;
    c->missing++;
    if (c->n_type_error_examples < MW_QUALITY_EXAMPLES) {
        size_t n = len < 63 ? len : 63;
        memcpy(c->type_error_example[c->n_type_error_examples], s, n);
        c->type_error_example[c->n_type_error_examples][n] = 0;
        c->n_type_error_examples++;
    }
}

static mw_status count_unseen_value(mw_win_col *c, double v) {
    for (size_t i = 0; i < c->nunseen; i++)
        if (c->unseen_values[i] == v) {
            c->unseen_counts[i]++;
            return MW_OK;
        }
    if (c->nunseen >= MW_WINDOW_MAX_UNSEEN) {
        c->unseen_overflow++;
        return MW_OK;
    }
    if ((c->nunseen & (c->nunseen - 1)) == 0) { /* 0 or a power of two: grow */
        size_t cap = c->nunseen ? c->nunseen * 2 : 4;
        double *nv = realloc(c->unseen_values, cap * sizeof *nv);
        if (!nv) return MW_ENOMEM;
        c->unseen_values = nv;
        double *nc = realloc(c->unseen_counts, cap * sizeof *nc);
        if (!nc) return MW_ENOMEM;
        c->unseen_counts = nc;
    }
    c->unseen_values[c->nunseen] = v;
    c->unseen_counts[c->nunseen++] = 1;
    return MW_OK;
}

static mw_status count_unseen_text(mw_win_col *c, const char *s, size_t len) {
    if (!c->unseen && !(c->unseen = mw_dict_new())) return MW_ENOMEM;
    uint32_t code;
    if (!mw_dict_find(c->unseen, s, len, &code)) {
        if (c->nunseen >= MW_WINDOW_MAX_UNSEEN) {
            c->unseen_overflow++;
            return MW_OK;
        }
        if (mw_dict_intern(c->unseen, s, len, &code)) return MW_ENOMEM;
        if ((c->nunseen & (c->nunseen - 1)) == 0) {
            size_t cap = c->nunseen ? c->nunseen * 2 : 4;
            double *nc = realloc(c->unseen_counts, cap * sizeof *nc);
            if (!nc) return MW_ENOMEM;
            c->unseen_counts = nc;
        }
        c->unseen_counts[c->nunseen++] = 0;
    }
    c->unseen_counts[code]++;
    return MW_OK;
}

/* Index of v among the ascending values, or -1. */
static long find_value(const double *values, size_t n, double v) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (values[mid] < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && values[lo] == v ? (long)lo : -1;
}

/* A sample replacement: the slot prefetched now, written MW_WINDOW_STORES
 * replacements later (the oldest pending one goes now). */
static inline void store_later(mw_window *w, double *at, double v) {
    __builtin_prefetch(at, 1);
    unsigned k = w->stores_head;
    if (w->nstores == MW_WINDOW_STORES)
        *w->stores[k].at = w->stores[k].v;
    else
        w->nstores++;
    w->stores[k].at = at;
    w->stores[k].v = v;
    w->stores_head = (k + 1) % MW_WINDOW_STORES;
}

void mw_window_settle(mw_window *w) {
    unsigned first = (w->stores_head + MW_WINDOW_STORES - w->nstores) % MW_WINDOW_STORES;
    for (unsigned i = 0; i < w->nstores; i++) { /* oldest first: a later one may overwrite */
        unsigned k = (first + i) % MW_WINDOW_STORES;
        *w->stores[k].at = w->stores[k].v;
    }
    w->nstores = w->stores_head = 0;
}

__attribute__((always_inline)) static inline mw_status
observe_number(mw_window *w, const mw_base_col *bc, mw_win_col *c, double v) {
    if (isnan(v)) {
        c->missing++;
        return MW_OK;
    }
    if (isinf(v)) {
        c->inf++;
        return MW_OK;
    }
    c->values++;
    double delta = v - c->mean;
    c->mean += delta / (double)c->values;
    c->m2 += delta * (v - c->mean);
    if (v < c->min) c->min = v;
    if (v > c->max) c->max = v;
    c->below += v < bc->min;
    c->above += v > bc->max;
    if (bc->discrete) {
        long k = find_value(bc->values, bc->ncats, v);
        if (k >= 0)
            c->cat_counts[k]++;
        else if (count_unseen_value(c, v))
            return MW_ENOMEM;
    } else {
        c->bins[mw_edges_at_most(bc->edges, MW_QUANTILE_BINS - 1, v)]++; /* v is not NaN */
    }
    mw_reservoir *r = &c->sample;
    if (mw_reservoir_full(r)) { /* as mw_reservoir_add, the store later */
        double *slot = mw_reservoir_slot(r, &w->rng);
        if (slot) store_later(w, slot, v);
        return MW_OK;
    }
    return mw_reservoir_add(r, v, &w->rng);
}

static mw_status observe_text(const mw_base_col *bc, mw_win_col *c, const char *s, size_t len) {
    c->values++;
    const size_t nrecent = sizeof c->recent / sizeof c->recent[0];
    if (c->recent_dict == bc->dict && bc->dict) {
        for (size_t i = 0; i < nrecent; i++)
            if (c->recent[i].len == len && c->recent[i].s &&
                mw_bytes_equal(c->recent[i].s, s, len)) {
                c->cat_counts[c->recent[i].code]++;
                return MW_OK;
            }
    } else { /* first value, or another baseline: forget the others */
        memset(c->recent, 0, sizeof c->recent);
        c->recent_dict = bc->dict;
    }
    uint32_t code;
    if (mw_dict_find(bc->dict, s, len, &code)) {
        c->cat_counts[code]++;
        size_t i = c->recent_next++ % nrecent;
        c->recent[i].s = mw_dict_str(bc->dict, code, &c->recent[i].len);
        c->recent[i].code = code;
        return MW_OK;
    }
    return count_unseen_text(c, s, len);
}

__attribute__((always_inline)) static inline mw_status
observe_value(mw_window *w, const mw_base_col *bc, mw_win_col *c, const mw_feature *f) {
    c->rows++;
    if (f->kind == MW_VALUE_NUMBER && bc->type == MW_TYPE_NUMERIC) /* the usual case first */
        return observe_number(w, bc, c, f->number);
    if (f->kind == MW_VALUE_MISSING ||
        (f->kind == MW_VALUE_STRING && mw_is_na_token(f->str, f->str_len))) {
        c->missing++;
        return MW_OK;
    }
    if (bc->type == MW_TYPE_NUMERIC) {
        double v = f->number;
        if (f->kind == MW_VALUE_STRING && !mw_parse_double(f->str, f->str_len, &v)) {
            type_error(c, f->str, f->str_len);
            return MW_OK;
        }
        return observe_number(w, bc, c, v);
    }
    if (f->kind == MW_VALUE_NUMBER) {
        if (isnan(f->number)) {
            c->missing++;
            return MW_OK;
        }
        char text[32];
        size_t len = mw_format_double(f->number, text);
        return observe_text(bc, c, text, len);
    }
    return observe_text(bc, c, f->str, f->str_len);
}

/* A detector input's value from a record feature: numbers for numeric
 * inputs (NaN when missing or not a number), NUL-terminated text for
 * categorical ones (NULL when missing), copied into text. */
typedef struct det_inputs {
    double *num;
    const char **cat;
    char *text;
    size_t used, cap;
} det_inputs;

static void det_value(det_inputs *d, const mw_outlier_model *det, size_t i, const mw_feature *f) {
    int missing = f->kind == MW_VALUE_MISSING ||
                  (f->kind == MW_VALUE_STRING && mw_is_na_token(f->str, f->str_len));
    if (mw_outlier_input_type(det, i) == MW_TYPE_NUMERIC) {
        double v = NAN;
        if (!missing && f->kind == MW_VALUE_NUMBER)
            v = f->number;
        else if (!missing && !mw_parse_double(f->str, f->str_len, &v))
            v = NAN;
        d->num[i] = v;
        return;
    }
    if (missing) return;
    char buf[32];
    const char *s = f->str;
    size_t len = f->str_len;
    if (f->kind == MW_VALUE_NUMBER) {
        len = mw_format_double(f->number, buf);
        s = buf;
    }
    if (d->used + len + 1 > d->cap) return; /* longer than any category: unseen anyway */
    memcpy(d->text + d->used, s, len);
    d->text[d->used + len] = 0;
    d->cat[i] = d->text + d->used;
    d->used += len + 1;
}

static void count_score(mw_score_counts *c, double sc, int outlier, size_t bucket) {
    c->scored++;
    c->outliers += outlier != 0;
    c->sum += sc;
    c->counts[bucket]++;
}

static void score(mw_window *w, const mw_baseline *b, det_inputs *d, mw_score_counts *totals) {
    double sc;
    mw_error err;
    if (mw_outlier_score_row(b->detector, d->num, d->cat, &sc, &err) != MW_OK || isnan(sc)) return;
    int outlier = mw_outlier_is_outlier(b->detector, sc);
    size_t k = 0;
    while (k < MW_OUTLIER_BUCKETS && sc > b->detector_bounds[k])
        k++; /* le: score <= bound */
    count_score(&w->scores, sc, outlier, k);
    if (totals) count_score(totals, sc, outlier, k);
}

/* A model output into its reference column, unless the record had a feature of that name. */
static mw_status observe_output(mw_window *w, const mw_baseline *b, long j, const mw_feature *f,
                                unsigned char *seen) {
    if (j < 0 || seen[j]) return MW_OK;
    seen[j] = 1;
    return observe_value(w, &b->cols[j], &w->cols[j], f);
}

/* The prediction and the scores, for their drift (and CBPE, window_cbpe.c). */
static mw_status observe_outputs(mw_window *w, const mw_baseline *b, const mw_record *rec,
                                 unsigned char *seen) {
    const mw_base_perf *p = b->perf;
    mw_status st = MW_OK;
    if (rec->prediction.kind != MW_VALUE_MISSING)
        st = observe_output(w, b, p->prediction_idx, &rec->prediction, seen);
    for (size_t i = 0; !st && i < rec->nscores; i++) {
        uint32_t code;
        const mw_feature *s = &rec->scores[i];
        if (mw_dict_find(p->score_names, s->name, s->name_len, &code))
            st = observe_output(w, b, p->score_idx[code], s, seen);
    }
    if (!st && p->cbpe) mw_window_cbpe_observe(w, p, rec);
    return st;
}

mw_status mw_window_observe(mw_window *w, const mw_baseline *b, const mw_record *rec,
                            mw_score_counts *totals) {
    unsigned char seen_small[256];
    unsigned char *seen = b->ncols <= sizeof seen_small ? seen_small : calloc(b->ncols, 1);
    if (!seen) return MW_ENOMEM;
    memset(seen, 0, b->ncols <= sizeof seen_small ? b->ncols : 0);
    /* detector inputs, when there is a detector (few inputs: on the stack) */
    double num_small[64];
    const char *cat_small[64];
    char text_small[4096];
    det_inputs d = {num_small, cat_small, text_small, 0, sizeof text_small};
    int scoring = b->detector != NULL;
    if (scoring && b->ninputs > 64) { /* many inputs: on the heap */
        d.num = malloc(b->ninputs * sizeof *d.num);
        d.cat = malloc(b->ninputs * sizeof *d.cat);
        if (!d.num || !d.cat) {
            free(d.num);
            free(d.cat);
            if (seen != seen_small) free(seen);
            return MW_ENOMEM;
        }
    }
    for (size_t i = 0; scoring && i < b->ninputs; i++) {
        d.num[i] = NAN;
        d.cat[i] = NULL;
    }
    mw_status st = MW_OK;
    size_t nseen = 0; /* columns the features gave a value */
    w->records++;
    for (size_t i = 0; i < rec->nfeatures && !st; i++) {
        const mw_feature *f = &rec->features[i];
        long j;
        /* fast path: features in the baseline's column order */
        if (i < b->ncols && b->cols[i].name_len == f->name_len &&
            mw_bytes_equal(b->cols[i].name, f->name, f->name_len))
            j = (long)i;
        else
            j = mw_baseline_find(b, f->name, f->name_len);
        if (j < 0 || seen[j]) continue; /* unknown features are ignored; first value wins */
        seen[j] = 1;
        nseen++;
        st = observe_value(w, &b->cols[j], &w->cols[j], f);
        if (scoring && b->col_input[j] >= 0) det_value(&d, b->detector, (size_t)b->col_input[j], f);
    }
    if (b->perf && !st) st = observe_outputs(w, b, rec, seen);
    for (size_t j = 0; nseen < b->ncols && j < b->ncols; j++) /* (none when all were there) */
        if (!seen[j]) {                                       /* absent from the record: missing */
            w->cols[j].rows++;
            w->cols[j].missing++;
        }
    if (!st && scoring) score(w, b, &d, totals);
    if (!st) st = mw_serving_observe(&w->serving, rec, &w->rng);
    if (!st) st = mw_window_emb_observe(w, b, rec);
    if (d.num != num_small) {
        free(d.num);
        free(d.cat);
    }
    if (seen != seen_small) free(seen);
    return st;
}

/* ---- closing ----------------------------------------------------------------- */

typedef struct value_count {
    double value, ref, cur;
} value_count;

static int by_value(const void *a, const void *b) {
    double x = ((const value_count *)a)->value, y = ((const value_count *)b)->value;
    return (x > y) - (x < y);
}

static void quality(const mw_base_col *bc, const mw_win_col *c, mw_column_report *cr) {
    cr->ref_count = bc->rows;
    cr->cur_count = c->rows;
    cr->ref_missing = bc->missing;
    cr->cur_missing = c->missing;
    cr->ref_values = bc->nvalues;
    cr->cur_values = c->values;
    cr->ref_inf = bc->inf;
    cr->cur_inf = c->inf;
    cr->cur_type_errors = c->type_errors;
    cr->n_type_error_examples = c->n_type_error_examples;
    memcpy(cr->type_error_example, c->type_error_example, sizeof cr->type_error_example);
    cr->ref_min = bc->min;
    cr->ref_max = bc->max;
    cr->ref_mean = bc->mean;
    cr->ref_std = bc->std;
    if (bc->type == MW_TYPE_NUMERIC && c->values) {
        cr->cur_min = c->min;
        cr->cur_max = c->max;
        cr->cur_mean = c->mean;
        cr->cur_std = c->values > 1 ? sqrt(c->m2 / (double)(c->values - 1)) : NAN;
    } else {
        cr->cur_min = cr->cur_max = cr->cur_mean = cr->cur_std = NAN;
    }
    cr->cur_below_range = c->below;
    cr->cur_above_range = c->above;
}

/* Categories of a window column over the union with the reference. */
static mw_status categories(const mw_base_col *bc, const mw_win_col *c, mw_column_report *cr,
                            double **rc, double **cc, size_t *k) {
    size_t n = bc->ncats + c->nunseen + 1;
    *rc = calloc(n, sizeof **rc);
    *cc = calloc(n, sizeof **cc);
    if (!*rc || !*cc) return MW_ENOMEM;
    if (bc->discrete) {
        value_count *vc = malloc(n * sizeof *vc);
        if (!vc) return MW_ENOMEM;
        for (size_t i = 0; i < bc->ncats; i++)
            vc[i] = (value_count){bc->values[i], bc->cat_counts[i], c->cat_counts[i]};
        for (size_t i = 0; i < c->nunseen; i++)
            vc[bc->ncats + i] = (value_count){c->unseen_values[i], 0, c->unseen_counts[i]};
        qsort(vc, bc->ncats + c->nunseen, sizeof *vc, by_value);
        for (size_t i = 0; i < bc->ncats + c->nunseen; i++) {
            (*rc)[i] = vc[i].ref;
            (*cc)[i] = vc[i].cur;
        }
        free(vc);
    } else {
        /* (the arrays are NULL when empty: memcpy must not see them) */
        if (bc->ncats) {
            memcpy(*rc, bc->cat_counts, bc->ncats * sizeof **rc);
            memcpy(*cc, c->cat_counts, bc->ncats * sizeof **cc);
        }
        if (c->nunseen) memcpy(*cc + bc->ncats, c->unseen_counts, c->nunseen * sizeof **cc);
    }
    *k = bc->ncats + c->nunseen;
    if (c->unseen_overflow) { /* the rest of the unseen categories, as one */
        (*cc)[*k] = c->unseen_overflow;
        (*k)++;
    }
    cr->ref_distinct = bc->ncats;
    for (size_t i = 0; i < *k; i++)
        cr->cur_distinct += (*cc)[i] > 0;
    double unseen = c->unseen_overflow;
    for (size_t i = 0; i < c->nunseen; i++)
        unseen += c->unseen_counts[i];
    cr->unseen_values = (uint64_t)unseen;
    cr->unseen_distinct = c->nunseen + (c->unseen_overflow > 0);
    for (size_t i = 0; i < c->nunseen && cr->n_unseen_examples < MW_QUALITY_EXAMPLES; i++) {
        char text[32];
        const char *s = text;
        if (bc->discrete)
            mw_format_double(c->unseen_values[i], text);
        else
            s = mw_dict_str(c->unseen, (uint32_t)i, NULL);
        snprintf(cr->unseen_example[cr->n_unseen_examples++], sizeof cr->unseen_example[0], "%s",
                 s);
    }
    return MW_OK;
}

static mw_status column_report(const mw_window *w, const mw_base_col *bc, const mw_win_col *c,
                               const mw_drift_options *opt, mw_column_report *cr) {
    (void)w;
    cr->name = bc->name;
    cr->type = bc->type;
    cr->discrete = bc->discrete;
    quality(bc, c, cr);
    mw_drift_data d = {0};
    d.type = bc->type;
    d.discrete = bc->discrete;
    d.ref_values = bc->nvalues;
    double *rc = NULL, *cc = NULL, *sample = NULL;
    mw_status st = MW_OK;
    if (bc->type == MW_TYPE_NUMERIC) {
        size_t n = c->sample.len;
        sample = malloc((n ? n : 1) * sizeof *sample);
        double *scratch = malloc((n ? n : 1) * sizeof *scratch);
        if (!sample || !scratch) {
            free(scratch);
            st = MW_ENOMEM;
            goto done;
        }
        if (n) memcpy(sample, c->sample.values, n * sizeof *sample);
        mw_sort_doubles(sample, n, scratch);
        free(scratch);
        d.ref = bc->sorted;
        d.nref = bc->nsorted;
        d.cur = sample;
        d.ncur = n;
        if (!bc->discrete) {
            cr->ref_distinct = mw_col_count_distinct(bc->sorted, bc->nsorted);
            cr->cur_distinct = mw_col_count_distinct(sample, n);
            d.ref_bins = bc->bins;
            d.cur_bins = c->bins;
            d.nbins = MW_QUANTILE_BINS;
        }
    }
    if (bc->type == MW_TYPE_CATEGORICAL || bc->discrete) {
        if ((st = categories(bc, c, cr, &rc, &cc, &d.ncat))) goto done;
        d.ref_counts = rc;
        d.cur_counts = cc;
    }
    cr->ref_constant = cr->ref_distinct <= 1;
    cr->cur_constant = cr->cur_distinct <= 1;
    mw_drift_run_tests(&d, opt, mw_drift_column_threshold(opt, bc->name), cr);
done:
    free(rc);
    free(cc);
    free(sample);
    return st;
}

mw_status mw_window_report(const mw_window *w, const mw_baseline *b, const mw_drift_options *opt,
                           mw_drift_report *report) {
    memset(report, 0, sizeof *report);
    report->reference = b->source;
    report->current = "window";
    report->ref_rows = b->rows;
    report->cur_rows = w->records;
    report->correction = opt->correction;
    report->drift_share_threshold = opt->drift_share > 0 ? opt->drift_share : 0.5;
    report->cols = calloc(b->ncols + 1, sizeof *report->cols);
    if (!report->cols) return MW_ENOMEM;
    report->ncols = b->ncols;
    for (size_t j = 0; j < b->ncols; j++) {
        mw_status st = column_report(w, &b->cols[j], &w->cols[j], opt, &report->cols[j]);
        if (st) {
            mw_window_report_free(report);
            return st;
        }
    }
    mw_status st = mw_drift_report_finish(report);
    if (!st) st = mw_window_emb_report(w, b, opt, report);
    if (st) mw_window_report_free(report);
    return st;
}

void mw_window_report_free(mw_drift_report *report) {
    free(report->cols);
    report->cols = NULL;
    report->ncols = 0;
    free(report->embeddings);
    report->embeddings = NULL;
    report->nembeddings = 0;
}
