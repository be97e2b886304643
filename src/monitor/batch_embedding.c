/*
 * Embedding groups of a batch comparison (`modelwatch drift`): finds the
 * groups of numeric columns that hold embedding vectors, takes their valid
 * rows out of the tables into row-major matrices, and runs the embedding
 * drift tests (modelwatch/embedding.h) on them when the batch finishes.
 *
 * A group PREFIX holds the reference columns PREFIX<i> or PREFIX[<i>] (i in
 * decimal without leading zeros: CSV `emb_0, emb_1, ...` with --embedding
 * emb_; NDJSON arrays expanded by the reader into `embedding[0], ...`, found
 * automatically with auto_embeddings). Its dimension is the reference's
 * largest i + 1; every index below must be a numeric reference column (else
 * the group is reported untested with the reason). The current side uses the
 * same column names; a missing one counts as all-missing, a categorical one
 * is converted (values that are not numbers become missing), and current
 * columns of the group beyond the dimension make the rows holding a value
 * there invalid (wrong dimension).
 *
 * Rows: every dimension missing -> no embedding (missing); some missing or
 * non-finite, or a value beyond the dimension -> invalid (counted with the
 * first such row, left out); the row's other columns are tested as usual.
 * The group's columns are then marked ignored (their values freed) so the
 * per-column tests, and the columns-on-one-side lists, leave them out.
 */
#include "monitor/drift_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mw_emb_batch {
    size_t n;
    char **names;
    double **ref, **cur; /* valid rows, row-major */
    size_t *nref, *ncur;
};

/* Index i when name is prefix + "i" or prefix + "[i]", else -1. */
static long index_after(const char *name, const char *prefix) {
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl)) return -1;
    const char *p = name + pl;
    int bracket = *p == '[';
    p += bracket;
    if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9')) return -1;
    long v = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        v = v * 10 + (*p - '0');
        if (v > MW_EMBEDDING_MAX_DIM) return -1;
    }
    if (bracket && *p++ != ']') return -1;
    return *p ? -1 : v;
}

static void ignore_column(mw_column *c) {
    c->type = MW_TYPE_IGNORE;
    free(c->num);
    free(c->codes);
    mw_dict_free(c->dict);
    c->num = NULL;
    c->codes = NULL;
    c->dict = NULL;
}

/* Row-major copy of the valid rows of one side; cols[k] is dimension k's
 * column (NULL: absent), extra the group's columns beyond the dimension. */
static mw_status side_rows(mw_column **cols, size_t dim, mw_column **extra, size_t nextra,
                           size_t nrows, double **out, size_t *nout, uint64_t *missing,
                           uint64_t *invalid, uint64_t *first_invalid) {
    double *m = malloc((nrows ? nrows : 1) * dim * sizeof *m);
    if (!m) return MW_ENOMEM;
    size_t w = 0;
    for (size_t r = 0; r < nrows; r++) {
        size_t nmiss = 0, nbad = 0;
        double *row = m + w * dim;
        for (size_t k = 0; k < dim; k++) {
            double v = cols[k] ? cols[k]->num[r] : NAN;
            row[k] = v;
            nmiss += isnan(v);
            nbad += !isfinite(v);
        }
        for (size_t e = 0; e < nextra; e++)
            nbad += !isnan(extra[e]->num[r]);
        if (nmiss == dim && nbad == nmiss) {
            (*missing)++;
        } else if (nbad) {
            if (!*invalid) *first_invalid = r + 1;
            (*invalid)++;
        } else {
            w++;
        }
    }
    *out = m;
    *nout = w;
    return MW_OK;
}

/* Builds the group named prefix (its columns ignored afterwards); cur may be
 * NULL (a reference alone: the daemon's baseline). */
static mw_status build_group(mw_table *ref, mw_table *cur, const char *prefix,
                             mw_embedding_report *er, double **rm, size_t *nr, double **cm,
                             size_t *nc, mw_error *err) {
    long dim = -1;
    for (size_t j = 0; j < ref->ncols; j++) {
        long i = index_after(ref->cols[j].name, prefix);
        if (i >= 0 && ref->cols[j].type != MW_TYPE_IGNORE && i + 1 > dim) dim = i + 1;
    }
    mw_status st = MW_OK;
    size_t d = (size_t)(dim > 0 ? dim : 0), nextra = 0;
    mw_column **rc = calloc(d + 1, sizeof *rc), **cc = calloc(d + 1, sizeof *cc);
    mw_column **extra = calloc((cur ? cur->ncols : 0) + 1, sizeof *extra);
    if (!rc || !cc || !extra) st = MW_ENOMEM;
    er->dim = d;
    for (size_t j = 0; !st && j < ref->ncols; j++) {
        long i = index_after(ref->cols[j].name, prefix);
        if (i >= 0 && ref->cols[j].type != MW_TYPE_IGNORE) rc[i] = &ref->cols[j];
    }
    for (size_t j = 0; !st && cur && j < cur->ncols; j++) {
        mw_column *c = &cur->cols[j];
        long i = index_after(c->name, prefix);
        if (i < 0 || c->type == MW_TYPE_IGNORE) continue;
        if (c->type == MW_TYPE_CATEGORICAL) st = mw_column_convert(c, MW_TYPE_NUMERIC, err);
        if ((size_t)i < d && rc[i] && !strcmp(rc[i]->name, c->name))
            cc[i] = c;
        else
            extra[nextra++] = c;
    }
    for (size_t k = 0; !st && k < d && !er->skip_reason[0]; k++) {
        if (!rc[k])
            snprintf(er->skip_reason, sizeof er->skip_reason,
                     "the reference lacks dimension %zu of %zu", k, d);
        else if (rc[k]->type != MW_TYPE_NUMERIC)
            snprintf(er->skip_reason, sizeof er->skip_reason,
                     "reference column \"%.100s\" is not numeric", rc[k]->name);
    }
    if (!st && d && !er->skip_reason[0])
        st = side_rows(rc, d, NULL, 0, ref->nrows, rm, nr, &er->ref_missing, &er->ref_invalid,
                       &er->ref_first_invalid);
    if (!st && cur && d && !er->skip_reason[0])
        st = side_rows(cc, d, extra, nextra, cur->nrows, cm, nc, &er->cur_missing, &er->cur_invalid,
                       &er->cur_first_invalid);
    for (size_t k = 0; !st && k < d; k++) {
        if (rc[k]) ignore_column(rc[k]);
        if (cc[k]) ignore_column(cc[k]);
    }
    for (size_t e = 0; !st && e < nextra; e++)
        ignore_column(extra[e]);
    free(rc);
    free(cc);
    free(extra);
    return st;
}

mw_status mw_emb_table_rows(mw_table *t, const char *prefix, mw_embedding_report *er, double **rows,
                            size_t *n, mw_error *err) {
    *rows = NULL;
    *n = 0;
    return build_group(t, NULL, prefix, er, rows, n, NULL, NULL, err);
}

void mw_emb_ignore_arrays(mw_table *t) {
    for (size_t j = 0; j < t->ncols; j++) {
        mw_column *c = &t->cols[j];
        const char *br = strrchr(c->name, '[');
        if (!br || br == c->name || c->type == MW_TYPE_IGNORE) continue;
        char *key = strndup(c->name, (size_t)(br - c->name));
        if (key && index_after(c->name, key) >= 0) ignore_column(c);
        free(key);
    }
}

/* The KEY of every reference column named KEY[i] not already a group. */
static mw_status auto_prefixes(const mw_table *ref, char ***names, size_t *n) {
    for (size_t j = 0; j < ref->ncols; j++) {
        const char *nm = ref->cols[j].name, *br = strrchr(nm, '[');
        if (!br || br == nm || ref->cols[j].type != MW_TYPE_NUMERIC) continue;
        size_t kl = (size_t)(br - nm);
        int seen = 0;
        for (size_t g = 0; g < *n && !seen; g++)
            seen = strlen((*names)[g]) == kl && !strncmp((*names)[g], nm, kl);
        if (seen) continue;
        char *key = strndup(nm, kl);
        char **grown = realloc(*names, (*n + 1) * sizeof *grown);
        if (!key || !grown) {
            free(key);
            if (grown) *names = grown;
            return MW_ENOMEM;
        }
        *names = grown;
        if (index_after(nm, key) < 0) { /* "a[x]": not an index */
            free(key);
            continue;
        }
        (*names)[(*n)++] = key;
    }
    return MW_OK;
}

mw_status mw_emb_batch_plan(mw_table *ref, mw_table *cur, const mw_drift_options *opt,
                            mw_emb_batch **out, mw_drift_report *r, mw_error *err) {
    *out = NULL;
    mw_emb_batch *e = calloc(1, sizeof *e);
    if (!e) return MW_ENOMEM;
    *out = e;
    mw_status st = MW_OK;
    for (size_t i = 0; !st && i < opt->nembeddings; i++) {
        char **grown = realloc(e->names, (e->n + 1) * sizeof *grown);
        if (!grown) return MW_ENOMEM;
        e->names = grown;
        if (!(e->names[e->n] = strdup(opt->embeddings[i]))) return MW_ENOMEM;
        e->n++;
        int found = 0;
        for (size_t j = 0; j < ref->ncols && !found; j++)
            found = index_after(ref->cols[j].name, opt->embeddings[i]) >= 0;
        if (!found)
            return mw_error_set(err, MW_ENOTFOUND, ref->source, 0, 0,
                                "embedding \"%s\": the reference has no column %s0 or %s[0]",
                                opt->embeddings[i], opt->embeddings[i], opt->embeddings[i]);
    }
    if (opt->auto_embeddings && (st = auto_prefixes(ref, &e->names, &e->n))) return st;
    if (!e->n) return MW_OK;
    e->ref = calloc(e->n, sizeof *e->ref);
    e->cur = calloc(e->n, sizeof *e->cur);
    e->nref = calloc(e->n, sizeof *e->nref);
    e->ncur = calloc(e->n, sizeof *e->ncur);
    r->embeddings = calloc(e->n, sizeof *r->embeddings);
    if (!e->ref || !e->cur || !e->nref || !e->ncur || !r->embeddings) return MW_ENOMEM;
    r->nembeddings = e->n;
    for (size_t g = 0; g < e->n && !st; g++) {
        r->embeddings[g].name = e->names[g];
        st = build_group(ref, cur, e->names[g], &r->embeddings[g], &e->ref[g], &e->nref[g],
                         &e->cur[g], &e->ncur[g], err);
    }
    return st;
}

mw_status mw_emb_batch_run(mw_emb_batch *e, const mw_embedding_options *opt, mw_drift_report *r) {
    for (size_t g = 0; e && g < e->n; g++) {
        mw_embedding_report *er = &r->embeddings[g];
        if (er->skip_reason[0]) continue;
        mw_error err;
        mw_error_clear(&err);
        mw_status st = mw_embedding_drift(e->ref[g], e->nref[g], e->cur[g], e->ncur[g], er->dim,
                                          opt, &er->result, &err);
        if (st == MW_ENOMEM) return st;
        if (st) {
            snprintf(er->skip_reason, sizeof er->skip_reason, "%.150s", err.message);
            continue;
        }
        er->tested = 1;
        r->embedding_drift |= er->result.drifted;
    }
    return MW_OK;
}

void mw_emb_batch_free(mw_emb_batch *e) {
    if (!e) return;
    for (size_t g = 0; g < e->n; g++) {
        free(e->names[g]);
        if (e->ref) free(e->ref[g]);
        if (e->cur) free(e->cur[g]);
    }
    free(e->names);
    free(e->ref);
    free(e->cur);
    free(e->nref);
    free(e->ncur);
    free(e);
}
