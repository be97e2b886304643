/*
 * Text columns of tables (data.h): a text column X is replaced by its
 * descriptor columns "X.chars" ... "X.json_valid" (text.h, the names and
 * order of mw_text_descriptor_names), so that profiles, drift tests, quality
 * checks and reports take text as they take any column, and no raw text stays
 * in the table.
 *
 * The reader keeps a text column as categories (each distinct value once, in
 * the column's dictionary), so descriptors are computed once per distinct
 * value and mapped to the rows by code: a column of repeated answers costs
 * one description per answer, not per row. A missing value gives missing
 * descriptors (NaN, or no script).
 *
 * Inference (data.h, MW_TEXT_INFER_*): categorical, >= 10 non-missing values,
 * distinct >= half of them, mean length >= 40 bytes, and at least half of the
 * distinct values contain a space.
 */
#include "data/data_int.h"

#include <stdio.h>
#include <stdlib.h>

/* Descriptors of every distinct value of c (dict order); NULL on no memory. */
static mw_text_descriptors *describe_dict(const mw_column *c, const mw_text_options *opt) {
    size_t n = mw_dict_size(c->dict);
    mw_text_descriptors *d = malloc((n ? n : 1) * sizeof *d);
    for (size_t k = 0; d && k < n; k++) {
        size_t len;
        const char *s = mw_dict_str(c->dict, (uint32_t)k, &len);
        mw_text_describe(s, len, opt, &d[k]);
    }
    return d;
}

/* Fills the descriptor column out (already named) from the codes of c. */
static mw_status fill(mw_column *out, size_t i, const mw_column *c, size_t nrows,
                      const mw_text_descriptors *d) {
    size_t cap = nrows ? nrows : 1;
    out->nrows = nrows;
    out->n_missing = c->n_missing;
    if (i != MW_TEXT_DESC_SCRIPT) {
        out->type = MW_TYPE_NUMERIC;
        if (!(out->num = malloc(cap * sizeof *out->num))) return MW_ENOMEM;
        for (size_t r = 0; r < nrows; r++) {
            uint32_t k = c->codes[r];
            out->num[r] = k == MW_CODE_MISSING ? NAN : mw_text_descriptor_value(&d[k], i);
        }
        return MW_OK;
    }
    out->type = MW_TYPE_CATEGORICAL;
    out->codes = malloc(cap * sizeof *out->codes);
    out->dict = mw_dict_new();
    if (!out->codes || !out->dict) return MW_ENOMEM;
    uint32_t code[MW_SCRIPT_COUNT]; /* script -> category code, interned when first seen */
    for (size_t k = 0; k < MW_SCRIPT_COUNT; k++)
        code[k] = MW_CODE_MISSING;
    for (size_t r = 0; r < nrows; r++) {
        uint32_t k = c->codes[r];
        if (k == MW_CODE_MISSING) {
            out->codes[r] = MW_CODE_MISSING;
            continue;
        }
        mw_script s = d[k].script;
        if (code[s] == MW_CODE_MISSING) {
            const char *name = mw_script_name(s);
            if (mw_dict_intern(out->dict, name, strlen(name), &code[s]) != MW_OK) return MW_ENOMEM;
        }
        out->codes[r] = code[s];
    }
    return MW_OK;
}

mw_status mw_table_expand_text(mw_table *t, size_t col, const mw_text_options *opt, mw_error *err) {
    const char *src = t && t->source ? t->source : "";
    if (!t || col >= t->ncols) return mw_error_set(err, MW_EINVAL, src, 0, 0, "no such column");
    mw_column *c = &t->cols[col];
    if (c->type == MW_TYPE_IGNORE)
        return mw_error_set(err, MW_EINVAL, src, 0, 0, "column \"%.200s\" is ignored, not text",
                            c->name);
    for (size_t i = 0; i < MW_TEXT_NDESC; i++) {
        char name[1100];
        snprintf(name, sizeof name, "%s.%s", c->name, mw_text_descriptor_names[i]);
        if (mw_table_find(t, name) >= 0)
            return mw_error_set(err, MW_EINVAL, src, 0, 0,
                                "text column \"%.200s\" expands into \"%.200s\", which the "
                                "data already has",
                                c->name, name);
    }
    mw_status st = MW_OK;
    if (c->type == MW_TYPE_NUMERIC && (st = mw_column_convert(c, MW_TYPE_CATEGORICAL, err)))
        return st;
    char **names = realloc(t->text_cols, (t->ntext + 1) * sizeof *names);
    if (!names) goto nomem;
    t->text_cols = names;
    mw_column *cols = malloc((t->ncols + MW_TEXT_NDESC - 1) * sizeof *cols);
    mw_text_descriptors *d = describe_dict(c, opt);
    char *keep = strdup(c->name);
    if (!cols || !d || !keep) {
        free(cols);
        free(d);
        free(keep);
        goto nomem;
    }
    mw_column *nc = cols + col;
    memset(nc, 0, MW_TEXT_NDESC * sizeof *nc);
    for (size_t i = 0; !st && i < MW_TEXT_NDESC; i++) {
        size_t len = strlen(c->name) + 1 + strlen(mw_text_descriptor_names[i]) + 1;
        if (!(nc[i].name = malloc(len))) {
            st = MW_ENOMEM;
            break;
        }
        snprintf(nc[i].name, len, "%s.%s", c->name, mw_text_descriptor_names[i]);
        st = fill(&nc[i], i, c, t->nrows, d);
    }
    free(d);
    if (st) {
        for (size_t i = 0; i < MW_TEXT_NDESC; i++)
            mw_data_column_free(&nc[i]);
        free(cols);
        free(keep);
        goto nomem;
    }
    memcpy(cols, t->cols, col * sizeof *cols);
    memcpy(cols + col + MW_TEXT_NDESC, t->cols + col + 1, (t->ncols - col - 1) * sizeof *cols);
    mw_data_column_free(c);
    free(t->cols);
    t->cols = cols;
    t->ncols += MW_TEXT_NDESC - 1;
    t->text_cols[t->ntext++] = keep;
    return MW_OK;
nomem:
    return mw_error_set(err, MW_ENOMEM, src, 0, 0,
                        "out of memory describing text column \"%.200s\"", t->cols[col].name);
}

/* The inference rule (data.h). */
static int looks_like_text(const mw_column *c) {
    if (c->type != MW_TYPE_CATEGORICAL) return 0;
    uint64_t values = c->nrows - c->n_missing, distinct = mw_dict_size(c->dict), spaced = 0;
    if (values < MW_TEXT_INFER_MIN_VALUES || distinct * 2 < values) return 0;
    uint64_t bytes = 0;
    for (size_t r = 0; r < c->nrows; r++) {
        size_t len;
        if (c->codes[r] != MW_CODE_MISSING) {
            mw_dict_str(c->dict, c->codes[r], &len);
            bytes += len;
        }
    }
    if (bytes < (uint64_t)MW_TEXT_INFER_MIN_BYTES * values) return 0;
    for (size_t k = 0; k < distinct; k++) {
        size_t len;
        const char *s = mw_dict_str(c->dict, (uint32_t)k, &len);
        spaced += memchr(s, ' ', len) != NULL;
    }
    return spaced * 2 >= distinct;
}

static int named(const char *name, const char *const *names, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (names[i] && !strcmp(names[i], name)) return 1;
    return 0;
}

mw_status mw_table_expand_texts(mw_table *t, const mw_schema *schema, const char *const *names,
                                size_t n, int infer, const mw_text_options *opt, mw_error *err) {
    for (size_t i = 0; t && i < t->ncols; i++) {
        mw_column *c = &t->cols[i];
        if (c->type == MW_TYPE_IGNORE) continue;
        mw_coltype want = schema ? mw_schema_type(schema, c->name) : MW_TYPE_AUTO;
        int text = want == MW_TYPE_TEXT || (want == MW_TYPE_AUTO && named(c->name, names, n)) ||
                   (want == MW_TYPE_AUTO && infer && looks_like_text(c));
        if (!text) continue;
        mw_status st = mw_table_expand_text(t, i, opt, err);
        if (st) return st;
        i += MW_TEXT_NDESC - 1;
    }
    return MW_OK;
}

/* Expands in `to` the text columns of `from` that `to` still has. */
static mw_status align_one(const mw_table *from, mw_table *to, const mw_text_options *opt,
                           mw_error *err) {
    for (size_t k = 0; k < from->ntext; k++) {
        long i = mw_table_find(to, from->text_cols[k]);
        if (i < 0 || to->cols[i].type == MW_TYPE_IGNORE) continue;
        mw_status st = mw_table_expand_text(to, (size_t)i, opt, err);
        if (st) return st;
    }
    return MW_OK;
}

mw_status mw_table_align_text(mw_table *a, mw_table *b, const mw_text_options *opt, mw_error *err) {
    if (!a || !b) return MW_OK;
    mw_status st = align_one(a, b, opt, err);
    return st ? st : align_one(b, a, opt, err);
}
