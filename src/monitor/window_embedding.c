/*
 * Embedding drift in the daemon's windows (issue #9): the reference's
 * embedding sample kept in the baseline, a bounded reservoir of each window's
 * record embeddings, and the tests of modelwatch/embedding.h at window close.
 *
 * Baseline: the reference group `column` (default "embedding": NDJSON arrays,
 * read as embedding[0], embedding[1], ...; or a CSV prefix such as "emb_",
 * the version's embedding.column option) fixes the dimension; a uniform
 * sample of at most `samples` valid reference vectors (seeded) is kept and
 * serialised with the baseline. Invalid reference vectors are counted.
 *
 * Window: a record's "embedding" array of the baseline's dimension with
 * finite values goes into a reservoir of emb_cap vectors (Algorithm R,
 * Vitter 1985, with the window's seeded generator, so the kept sample is a
 * uniform one of the window's valid vectors). A record without an embedding
 * counts as missing; one of another dimension (MW_EMB_BAD_DIM) or with a
 * non-finite value (MW_EMB_BAD_VALUE; JSON has no NaN, but 1e999 overflows)
 * has its embedding rejected and counted, and the rest of the record is
 * observed as usual. Without a baseline embedding, record embeddings are
 * ignored.
 *
 * Close: mw_embedding_drift(reference sample, reservoir) with the version's
 * options; the permutation seed is the option's seed plus the window start,
 * so a window's p-value is reproducible. Memory per version: emb_cap x dim
 * doubles for the reservoir (1000 x 384: 3 MB) plus the baseline sample.
 */
#include "monitor/live_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mw_base_emb_free(mw_base_emb *e) {
    if (!e) return;
    free(e->column);
    free(e->rows);
    free(e);
}

mw_status mw_base_emb_fit(mw_table *t, const char *column, int required, size_t samples,
                          uint64_t seed, mw_base_emb **out, mw_error *err) {
    *out = NULL;
    if (!samples) samples = MW_EMBEDDING_DEFAULT_SAMPLES;
    mw_embedding_report er;
    memset(&er, 0, sizeof er);
    double *rows = NULL;
    size_t n = 0;
    mw_status st = mw_emb_table_rows(t, column, &er, &rows, &n, err);
    if (st) {
        free(rows);
        return st;
    }
    if (er.dim == 0) {
        free(rows);
        return required ? mw_error_set(err, MW_EINVAL, t->source, 0, 0,
                                       "embedding column \"%s\": the reference has no column "
                                       "%s0 or %s[0]",
                                       column, column, column)
                        : MW_OK;
    }
    if (er.skip_reason[0] || n < 2) {
        free(rows);
        return mw_error_set(err, MW_EINVAL, t->source, 0, 0, "embedding column \"%s\": %s", column,
                            er.skip_reason[0] ? er.skip_reason
                                              : "the reference has fewer than 2 valid vectors");
    }
    mw_base_emb *e = calloc(1, sizeof *e);
    size_t keep = n < samples ? n : samples;
    if (e) e->rows = malloc(keep * er.dim * sizeof *e->rows);
    if (e) e->column = strdup(column);
    if (!e || !e->rows || !e->column) {
        mw_base_emb_free(e);
        free(rows);
        return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory keeping the embeddings");
    }
    mw_rng rng;
    mw_rng_seed(&rng, seed);
    st = mw_emb_sample_rows(rows, n, er.dim, keep, &rng, e->rows, &e->n);
    free(rows);
    e->dim = er.dim;
    e->valid = n;
    e->invalid = er.ref_invalid;
    e->missing = er.ref_missing;
    if (st) {
        mw_base_emb_free(e);
        return mw_error_set(err, st, NULL, 0, 0, "out of memory sampling the embeddings");
    }
    *out = e;
    return MW_OK;
}

void mw_base_emb_write(const mw_base_emb *e, mw_buf *o) {
    mw_buf_str(o, e->column, strlen(e->column));
    mw_buf_u32(o, (uint32_t)e->dim);
    mw_buf_u64(o, e->n);
    mw_buf_u64(o, e->valid);
    mw_buf_u64(o, e->invalid);
    mw_buf_u64(o, e->missing);
    for (size_t i = 0; i < e->n * e->dim; i++)
        mw_buf_f64(o, e->rows[i]);
}

mw_status mw_base_emb_read(mw_reader *r, mw_base_emb **out) {
    *out = NULL;
    size_t cl;
    const char *col = mw_rd_str(r, &cl);
    uint32_t dim = mw_rd_u32(r);
    uint64_t n = mw_rd_u64(r);
    mw_base_emb *e = calloc(1, sizeof *e);
    if (!e) return MW_ENOMEM;
    e->valid = mw_rd_u64(r);
    e->invalid = mw_rd_u64(r);
    e->missing = mw_rd_u64(r);
    if (!col || r->failed || memchr(col, 0, cl) || dim == 0 || dim > MW_EMBEDDING_MAX_DIM ||
        n < 2 || n > MW_EMBEDDING_MAX_SAMPLES || n * dim > (uint64_t)(r->end - r->p) / 8) {
        free(e);
        return MW_ECORRUPT;
    }
    e->dim = dim;
    e->n = (size_t)n;
    e->column = strndup(col, cl);
    e->rows = malloc(e->n * e->dim * sizeof *e->rows);
    if (!e->column || !e->rows) {
        mw_base_emb_free(e);
        return MW_ENOMEM;
    }
    for (size_t i = 0; i < e->n * e->dim; i++)
        if (!isfinite(e->rows[i] = mw_rd_f64(r))) {
            mw_base_emb_free(e);
            return MW_ECORRUPT;
        }
    *out = e;
    return MW_OK;
}

mw_status mw_window_emb_observe(mw_window *w, const mw_baseline *b, const mw_record *rec) {
    const mw_base_emb *e = b->emb;
    w->emb_last = MW_EMB_NONE;
    if (!e) return MW_OK;
    if (!rec->embedding) {
        w->emb_missing++;
        return MW_OK;
    }
    if (rec->embedding_len != e->dim) {
        w->emb_bad_dim++;
        w->emb_last = MW_EMB_BAD_DIM;
        return MW_OK;
    }
    for (size_t k = 0; k < e->dim; k++)
        if (!isfinite(rec->embedding[k])) {
            w->emb_bad_value++;
            w->emb_last = MW_EMB_BAD_VALUE;
            return MW_OK;
        }
    size_t cap = w->emb_cap ? w->emb_cap : MW_EMBEDDING_DEFAULT_SAMPLES;
    if (w->emb_dim != e->dim || w->emb_alloc_rows < cap) { /* (re)size the reservoir */
        double *nr = realloc(w->emb_rows, cap * e->dim * sizeof *nr);
        if (!nr) return MW_ENOMEM;
        w->emb_rows = nr;
        w->emb_alloc_rows = cap;
        if (w->emb_dim != e->dim) w->emb_n = 0;
        w->emb_dim = e->dim;
    }
    w->emb_last = MW_EMB_OK;
    w->emb_seen++;
    size_t slot = w->emb_n;
    if (w->emb_n < cap) {
        w->emb_n++;
    } else {
        uint64_t j = mw_rng_below(&w->rng, w->emb_seen);
        if (j >= cap) return MW_OK;
        slot = (size_t)j;
    }
    memcpy(w->emb_rows + slot * e->dim, rec->embedding, e->dim * sizeof *w->emb_rows);
    return MW_OK;
}

mw_status mw_window_emb_report(const mw_window *w, const mw_baseline *b,
                               const mw_drift_options *opt, mw_drift_report *r) {
    const mw_base_emb *e = b->emb;
    if (!e) return MW_OK;
    mw_embedding_report *er = calloc(1, sizeof *er);
    if (!er) return MW_ENOMEM;
    r->embeddings = er;
    r->nembeddings = 1;
    er->name = "embedding";
    er->dim = e->dim;
    er->ref_missing = e->missing;
    er->ref_invalid = e->invalid;
    er->cur_missing = w->emb_missing;
    er->cur_invalid = w->emb_bad_dim + w->emb_bad_value;
    er->result.n_ref = e->n;
    er->result.n_cur = w->emb_dim == e->dim ? w->emb_n : 0;
    mw_embedding_options o = opt->embedding;
    o.seed += (uint64_t)(w->start > 0 ? w->start : 0);
    mw_error err;
    mw_error_clear(&err);
    mw_status st = mw_embedding_drift(e->rows, e->n, w->emb_rows, er->result.n_cur, e->dim, &o,
                                      &er->result, &err);
    if (st == MW_ENOMEM) return st;
    if (st) {
        snprintf(er->skip_reason, sizeof er->skip_reason, "%.150s", err.message);
        return MW_OK;
    }
    er->tested = 1;
    r->embedding_drift = er->result.drifted;
    return MW_OK;
}
