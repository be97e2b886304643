/*
 * Batch drift and quality comparison of two tables (the engine behind
 * `modelwatch drift` and `modelwatch quality`).
 *
 * Plan: columns are matched by name; the reference's type wins and current
 * columns of another type are converted (values that do not fit become type
 * errors). Each column is then prepared independently, so columns can run on
 * several threads: numeric values are compacted to the finite ones and sorted
 * in place (radix sort), categorical codes are counted over the union of both
 * sides' categories. From the prepared column come the quality figures, the
 * display histogram and the drift tests (drift_tests.c). Finishing applies the
 * multiple-testing correction and the data set decision. Embedding groups
 * (batch_embedding.c) are taken out of the tables before planning and tested
 * as vectors when the batch finishes.
 */
#include "monitor/drift_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct batch_column {
    mw_column *ref, *cur;
} batch_column;

struct mw_batch {
    mw_drift_options opt;
    mw_table *ref, *cur;
    batch_column *cols;
    mw_drift_report report;
    mw_emb_batch *emb; /* embedding groups (batch_embedding.c) */
};

static int selected(const mw_drift_options *opt, const char *name) {
    if (!opt->columns) return 1;
    for (size_t i = 0; i < opt->ncolumns; i++)
        if (!strcmp(opt->columns[i], name)) return 1;
    return 0;
}

static mw_status plan_columns(mw_batch *b, mw_error *err) {
    mw_drift_report *r = &b->report;
    size_t n = 0;
    b->cols = calloc(b->ref->ncols + 1, sizeof *b->cols);
    r->cols = calloc(b->ref->ncols + 1, sizeof *r->cols);
    r->only_ref = calloc(b->ref->ncols + 1, sizeof *r->only_ref);
    r->only_cur = calloc(b->cur->ncols + 1, sizeof *r->only_cur);
    if (!b->cols || !r->cols || !r->only_ref || !r->only_cur) return MW_ENOMEM;
    for (size_t j = 0; j < b->ref->ncols; j++) {
        mw_column *rc = &b->ref->cols[j];
        if (rc->type == MW_TYPE_IGNORE) continue;
        long k = mw_table_find(b->cur, rc->name);
        if (k < 0 || b->cur->cols[k].type == MW_TYPE_IGNORE) {
            r->only_ref[r->n_only_ref++] = rc->name;
            continue;
        }
        if (!selected(&b->opt, rc->name)) continue;
        mw_column *cc = &b->cur->cols[k];
        if (cc->type != rc->type) {
            mw_status st = mw_column_convert(cc, rc->type, err);
            if (st) return st;
        }
        b->cols[n].ref = rc;
        b->cols[n].cur = cc;
        r->cols[n].name = rc->name;
        r->cols[n].type = rc->type;
        n++;
    }
    r->ncols = n;
    for (size_t j = 0; j < b->cur->ncols; j++) {
        const mw_column *cc = &b->cur->cols[j];
        if (cc->type != MW_TYPE_IGNORE && mw_table_find(b->ref, cc->name) < 0)
            r->only_cur[r->n_only_cur++] = cc->name;
    }
    for (size_t i = 0; i < b->opt.ncolumns; i++) {
        const char *want = b->opt.columns[i];
        int found = 0;
        for (size_t j = 0; j < n && !found; j++)
            found = !strcmp(r->cols[j].name, want);
        if (!found)
            return mw_error_set(err, MW_ENOTFOUND, NULL, 0, 0,
                                "column \"%s\" given in --columns is not in both files (reference "
                                "%s, current %s)",
                                want, mw_table_find(b->ref, want) >= 0 ? "has it" : "lacks it",
                                mw_table_find(b->cur, want) >= 0 ? "has it" : "lacks it");
    }
    return MW_OK;
}

mw_status mw_batch_new(mw_table *ref, mw_table *cur, const mw_drift_options *opt, mw_batch **out,
                       mw_error *err) {
    *out = NULL;
    if (ref->nrows == 0)
        return mw_error_set(err, MW_EINVAL, ref->source, 0, 0,
                            "the reference has a header but no data rows");
    if (cur->nrows == 0)
        return mw_error_set(err, MW_EINVAL, cur->source, 0, 0,
                            "the current data has a header but no data rows");
    mw_batch *b = calloc(1, sizeof *b);
    if (!b) return MW_ENOMEM;
    b->opt = *opt;
    if (b->opt.drift_share <= 0) b->opt.drift_share = 0.5;
    b->ref = ref;
    b->cur = cur;
    mw_drift_report *r = &b->report;
    r->reference = ref->source;
    r->current = cur->source;
    r->ref_rows = ref->nrows;
    r->cur_rows = cur->nrows;
    r->correction = b->opt.correction;
    r->drift_share_threshold = b->opt.drift_share;
    r->ref_empty_rows = ref->n_empty_rows;
    r->cur_empty_rows = cur->n_empty_rows;
    r->ref_blank_lines = ref->n_blank_lines;
    r->cur_blank_lines = cur->n_blank_lines;
    mw_table_count_duplicates(ref);
    mw_table_count_duplicates(cur);
    r->ref_duplicate_rows = ref->n_duplicate_rows;
    r->cur_duplicate_rows = cur->n_duplicate_rows;
    mw_status st = mw_emb_batch_plan(ref, cur, &b->opt, &b->emb, r, err);
    if (!st) st = plan_columns(b, err);
    if (st) {
        if (st == MW_ENOMEM) mw_error_set(err, st, NULL, 0, 0, "out of memory planning columns");
        mw_batch_free(b);
        return st;
    }
    *out = b;
    return MW_OK;
}

size_t mw_batch_ncolumns(const mw_batch *b) {
    return b->report.ncols;
}

const mw_drift_report *mw_batch_report(const mw_batch *b) {
    return &b->report;
}

void mw_batch_free(mw_batch *b) {
    if (!b) return;
    free(b->cols);
    free(b->report.cols);
    free(b->report.only_ref);
    free(b->report.only_cur);
    free(b->report.embeddings);
    mw_emb_batch_free(b->emb);
    free(b);
}

/* ---- numeric columns ---------------------------------------------------- */

static void numeric_histogram(const double *ref, size_t nr, const double *cur, size_t nc,
                              mw_histogram *h) {
    h->nbins = 0;
    if (!nr && !nc) return;
    double lo = INFINITY, hi = -INFINITY;
    /* range from the 0.5 and 99.5 % quantiles of each side, so that a few
     * extreme values do not squash the picture; outside values go to the ends */
    if (nr) {
        lo = fmin(lo, mw_quantile_sorted(ref, nr, 0.005));
        hi = fmax(hi, mw_quantile_sorted(ref, nr, 0.995));
    }
    if (nc) {
        lo = fmin(lo, mw_quantile_sorted(cur, nc, 0.005));
        hi = fmax(hi, mw_quantile_sorted(cur, nc, 0.995));
    }
    size_t nb = MW_HIST_MAX_BINS;
    if (!(hi > lo)) {
        nb = 1;
        hi = lo;
    }
    double width = nb > 1 ? (hi - lo) / (double)nb : 0;
    h->nbins = nb;
    for (size_t i = 0; i < nb; i++) {
        h->lo[i] = lo + width * (double)i;
        h->hi[i] = i + 1 == nb ? hi : lo + width * (double)(i + 1);
        h->ref[i] = h->cur[i] = 0;
    }
    const double *side[2] = {ref, cur};
    size_t ns[2] = {nr, nc};
    double *dst[2] = {h->ref, h->cur};
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < ns[s]; i++) {
            double x = side[s][i];
            size_t bi =
                width > 0 ? (size_t)fmax(0, fmin((double)(nb - 1), floor((x - lo) / width))) : 0;
            dst[s][bi] += 1;
        }
        for (size_t i = 0; ns[s] && i < nb; i++)
            dst[s][i] /= (double)ns[s];
    }
}

static mw_status run_numeric(mw_batch *b, size_t i) {
    batch_column *bc = &b->cols[i];
    mw_column_report *cr = &b->report.cols[i];
    cr->ref_count = b->ref->nrows;
    cr->cur_count = b->cur->nrows;
    size_t nmax = b->ref->nrows > b->cur->nrows ? b->ref->nrows : b->cur->nrows;
    double *scratch = mw_malloc_huge(nmax * sizeof *scratch);
    if (!scratch) return MW_ENOMEM;
    double *ref = bc->ref->num, *cur = bc->cur->num;
    size_t nr = mw_sort_finite(ref, b->ref->nrows, scratch, &cr->ref_missing, &cr->ref_inf);
    size_t nc = mw_sort_finite(cur, b->cur->nrows, scratch, &cr->cur_missing, &cr->cur_inf);
    free(scratch);
    cr->ref_values = nr;
    cr->cur_values = nc;
    cr->ref_min = nr ? ref[0] : NAN;
    cr->ref_max = nr ? ref[nr - 1] : NAN;
    cr->cur_min = nc ? cur[0] : NAN;
    cr->cur_max = nc ? cur[nc - 1] : NAN;
    mw_col_summary rs, cs;
    mw_col_summary2(ref, nr, cur, nc, &rs, &cs);
    cr->ref_mean = rs.mean;
    cr->ref_std = rs.sd;
    cr->cur_mean = cs.mean;
    cr->cur_std = cs.sd;
    cr->ref_distinct = rs.distinct;
    cr->cur_distinct = cs.distinct;
    cr->ref_constant = cr->ref_distinct <= 1;
    cr->cur_constant = cr->cur_distinct <= 1;
    if (nr) {
        cr->cur_below_range = mw_col_count_below(cur, nc, cr->ref_min);
        cr->cur_above_range = mw_col_count_above(cur, nc, cr->ref_max);
    }
    if (b->opt.histograms) numeric_histogram(ref, nr, cur, nc, &cr->hist);

    mw_drift_data d = {0};
    d.type = MW_TYPE_NUMERIC;
    d.ref = ref;
    d.cur = cur;
    d.nref = nr;
    d.ncur = nc;
    d.ref_values = nr;
    d.have_ref_ss = nr > 0;
    d.ref_ss = rs.ss;
    d.discrete = cr->ref_distinct <= MW_DISCRETE_MAX_DISTINCT;
    cr->discrete = d.discrete;
    double edges[MW_QUANTILE_BINS - 1];
    double rb[MW_QUANTILE_BINS], cb[MW_QUANTILE_BINS];
    double *rcat = NULL, *ccat = NULL;
    if (d.discrete) {
        /* the union has at most 5 reference values plus the current ones */
        size_t cap = MW_DISCRETE_MAX_DISTINCT + cr->cur_distinct + 1;
        rcat = malloc(cap * sizeof *rcat);
        ccat = malloc(cap * sizeof *ccat);
        if (!rcat || !ccat) {
            free(rcat);
            free(ccat);
            return MW_ENOMEM;
        }
        d.ncat = mw_col_value_categories(ref, nr, cur, nc, rcat, ccat, cap);
        d.ref_counts = rcat;
        d.cur_counts = ccat;
    } else if (nr && mw_drift_needs_bins(&b->opt)) {
        mw_quantile_edges(ref, nr, MW_QUANTILE_BINS, edges);
        mw_col_bin_counts(ref, nr, edges, MW_QUANTILE_BINS - 1, rb);
        mw_col_bin_counts(cur, nc, edges, MW_QUANTILE_BINS - 1, cb);
        d.ref_bins = rb;
        d.cur_bins = cb;
        d.nbins = MW_QUANTILE_BINS;
    }
    if (!b->opt.quality_only)
        mw_drift_run_tests(&d, &b->opt, mw_drift_column_threshold(&b->opt, cr->name), cr);
    free(rcat);
    free(ccat);
    return MW_OK;
}

/* ---- categorical columns ------------------------------------------------- */

typedef struct cat_count {
    const char *label;
    double ref, cur;
} cat_count;

static int by_total_desc(const void *a, const void *b) {
    const cat_count *x = a, *y = b;
    double tx = x->ref + x->cur, ty = y->ref + y->cur;
    if (tx != ty) return tx < ty ? 1 : -1;
    return strcmp(x->label, y->label);
}

static void categorical_histogram(cat_count *cats, size_t k, double ref_total, double cur_total,
                                  mw_histogram *h) {
    qsort(cats, k, sizeof *cats, by_total_desc);
    size_t shown = k <= MW_HIST_MAX_BINS ? k : MW_HIST_MAX_BINS - 1;
    h->nbins = 0;
    for (size_t i = 0; i < shown; i++, h->nbins++) {
        h->label[i] = cats[i].label;
        h->ref[i] = ref_total ? cats[i].ref / ref_total : 0;
        h->cur[i] = cur_total ? cats[i].cur / cur_total : 0;
    }
    if (shown < k) {
        double r = 0, c = 0;
        for (size_t i = shown; i < k; i++) {
            r += cats[i].ref;
            c += cats[i].cur;
        }
        h->label[h->nbins] = "(other)";
        h->ref[h->nbins] = ref_total ? r / ref_total : 0;
        h->cur[h->nbins] = cur_total ? c / cur_total : 0;
        h->nbins++;
    }
}

static mw_status run_categorical(mw_batch *b, size_t i) {
    batch_column *bc = &b->cols[i];
    mw_column_report *cr = &b->report.cols[i];
    cr->ref_count = b->ref->nrows;
    cr->cur_count = b->cur->nrows;
    size_t nref_cat = mw_dict_size(bc->ref->dict), ncur_cat = mw_dict_size(bc->cur->dict);
    /* union: reference categories first (code order), then unseen current ones */
    size_t cap = nref_cat + ncur_cat + 1;
    double *rc = calloc(cap, sizeof *rc), *cc = calloc(cap, sizeof *cc);
    uint32_t *cur_to_union = malloc((ncur_cat + 1) * sizeof *cur_to_union);
    cat_count *cats = malloc(cap * sizeof *cats);
    mw_status st = MW_ENOMEM;
    if (!rc || !cc || !cur_to_union || !cats) goto done;
    size_t k = nref_cat;
    for (uint32_t c = 0; c < ncur_cat; c++) {
        size_t len;
        const char *s = mw_dict_str(bc->cur->dict, c, &len);
        uint32_t code;
        cur_to_union[c] = mw_dict_find(bc->ref->dict, s, len, &code) ? code : (uint32_t)k++;
    }
    for (size_t r = 0; r < b->ref->nrows; r++) {
        uint32_t code = bc->ref->codes[r];
        if (code == MW_CODE_MISSING)
            cr->ref_missing++;
        else
            rc[code]++;
    }
    for (size_t r = 0; r < b->cur->nrows; r++) {
        uint32_t code = bc->cur->codes[r];
        if (code == MW_CODE_MISSING)
            cr->cur_missing++;
        else
            cc[cur_to_union[code]]++;
    }
    cr->ref_values = b->ref->nrows - cr->ref_missing;
    cr->cur_values = b->cur->nrows - cr->cur_missing;
    /* labels of the union, distinct counts, unseen categories */
    for (size_t c = 0; c < nref_cat; c++)
        cats[c].label = mw_dict_str(bc->ref->dict, (uint32_t)c, NULL);
    for (uint32_t c = 0; c < ncur_cat; c++)
        if (cur_to_union[c] >= nref_cat)
            cats[cur_to_union[c]].label = mw_dict_str(bc->cur->dict, c, NULL);
    for (size_t c = 0; c < k; c++) {
        cats[c].ref = rc[c];
        cats[c].cur = cc[c];
        cr->ref_distinct += rc[c] > 0;
        cr->cur_distinct += cc[c] > 0;
        if (c >= nref_cat || rc[c] == 0) {
            if (cc[c] == 0) continue;
            cr->unseen_values += (uint64_t)cc[c];
            cr->unseen_distinct++;
        }
    }
    /* the most frequent unseen categories as examples */
    for (size_t e = 0; e < MW_QUALITY_EXAMPLES; e++) {
        size_t best = k;
        for (size_t c = 0; c < k; c++) {
            if (!(c >= nref_cat || rc[c] == 0) || cc[c] == 0) continue;
            int taken = 0;
            for (size_t q = 0; q < cr->n_unseen_examples; q++)
                taken |= !strcmp(cr->unseen_example[q], cats[c].label);
            if (!taken && (best == k || cc[c] > cc[best])) best = c;
        }
        if (best == k) break;
        snprintf(cr->unseen_example[cr->n_unseen_examples++], sizeof cr->unseen_example[0], "%s",
                 cats[best].label);
    }
    cr->ref_constant = cr->ref_distinct <= 1;
    cr->cur_constant = cr->cur_distinct <= 1;
    cr->ref_min = cr->ref_max = cr->cur_min = cr->cur_max = NAN;
    cr->ref_mean = cr->cur_mean = cr->ref_std = cr->cur_std = NAN;

    mw_drift_data d = {0};
    d.type = MW_TYPE_CATEGORICAL;
    d.ref_counts = rc;
    d.cur_counts = cc;
    d.ncat = k;
    d.ref_values = cr->ref_values;
    if (!b->opt.quality_only)
        mw_drift_run_tests(&d, &b->opt, mw_drift_column_threshold(&b->opt, cr->name), cr);
    if (b->opt.histograms)
        categorical_histogram(cats, k, (double)cr->ref_values, (double)cr->cur_values, &cr->hist);
    st = MW_OK;
done:
    free(rc);
    free(cc);
    free(cur_to_union);
    free(cats);
    return st;
}

mw_status mw_batch_run_column(mw_batch *b, size_t i, mw_error *err) {
    if (i >= b->report.ncols) return MW_EINVAL;
    mw_column_report *cr = &b->report.cols[i];
    const mw_column *cur = b->cols[i].cur;
    cr->cur_type_errors = cur->n_type_errors;
    size_t nex =
        cur->n_type_errors < MW_TYPE_ERROR_EXAMPLES ? cur->n_type_errors : MW_TYPE_ERROR_EXAMPLES;
    for (size_t e = 0; e < nex && e < MW_QUALITY_EXAMPLES; e++) {
        memcpy(cr->type_error_example[e], cur->type_error_example[e],
               sizeof cr->type_error_example[e]);
        cr->type_error_line[e] = cur->type_error_line[e];
    }
    cr->n_type_error_examples = nex;
    mw_status st = cr->type == MW_TYPE_NUMERIC ? run_numeric(b, i) : run_categorical(b, i);
    if (st)
        return mw_error_set(err, st, NULL, 0, 0, "column \"%s\": %s", cr->name, mw_status_str(st));
    return MW_OK;
}

mw_status mw_batch_finish(mw_batch *b) {
    mw_status st = mw_emb_batch_run(b->emb, &b->opt.embedding, &b->report);
    return st ? st : mw_drift_report_finish(&b->report);
}
