/*
 * Column builders: the growing columnar table that the CSV and NDJSON readers
 * fill one row at a time, with type inference and schema overrides, plus the
 * public table helpers (mw_table_find, mw_table_free, mw_coltype_name).
 *
 * Type inference: a column not fixed by the schema starts NUMERIC. The first
 * non-missing value that does not parse as a number (or any JSON string, bool)
 * switches it to CATEGORICAL: the values stored so far are re-encoded as
 * categories with mw_format_double, i.e. their shortest round-trip text ("1.50"
 * read earlier becomes the category "1.5", "007" becomes "7"); values after the
 * switch keep their exact source text. Missing values stay missing. A schema
 * NUMERIC column never switches: non-numbers are type errors (counted, the first
 * MW_TYPE_ERROR_EXAMPLES kept with their line) and stored as missing. IGNORE
 * columns keep no values (num, codes and dict stay NULL). TEXT columns are read
 * as CATEGORICAL (every value's exact text) and expanded by text_cols.c.
 *
 * Invariants while building: every value array and row_hash has rows_cap >
 * t->nrows entries; the row being read is index t->nrows, committed by the reader
 * incrementing t->nrows; column i is named names[i] (dictionary code i).
 * Ownership: the builder owns the table until mw_tb_finish hands it over.
 */
#include "core/util.h"
#include "data/data_int.h"

#include <stdio.h>
#include <stdlib.h>

const char *mw_coltype_name(mw_coltype t) {
    switch (t) {
    case MW_TYPE_AUTO:
        return "auto";
    case MW_TYPE_NUMERIC:
        return "numeric";
    case MW_TYPE_CATEGORICAL:
        return "categorical";
    case MW_TYPE_IGNORE:
        return "ignore";
    case MW_TYPE_TEXT:
        return "text";
    }
    return "unknown";
}

long mw_table_find(const mw_table *t, const char *name) {
    if (!t || !name) return -1;
    for (size_t i = 0; i < t->ncols; i++)
        if (t->cols[i].name && strcmp(t->cols[i].name, name) == 0) return (long)i;
    return -1;
}

void mw_data_column_free(mw_column *c) {
    free(c->name);
    free(c->num);
    free(c->codes);
    mw_dict_free(c->dict);
}

void mw_table_free(mw_table *t) {
    if (!t) return;
    for (size_t i = 0; i < t->ncols; i++)
        mw_data_column_free(&t->cols[i]);
    free(t->cols);
    for (size_t i = 0; i < t->ntext; i++)
        free(t->text_cols[i]);
    free(t->text_cols);
    free(t->row_hash);
    free(t->source);
    free(t);
}

mw_status mw_tb_init(mw_tb *b, const char *name, const mw_read_options *opt) {
    memset(b, 0, sizeof *b);
    b->name = name;
    b->schema = opt ? opt->schema : NULL;
    b->t = calloc(1, sizeof *b->t);
    b->names = mw_dict_new();
    if (!b->t || !b->names) goto fail;
    b->t->source = strdup(name ? name : "");
    if (!b->t->source) goto fail;
    if (mw_tb_reserve(b, 1024) != MW_OK) goto fail;
    return MW_OK;
fail:
    mw_tb_destroy(b);
    return MW_ENOMEM;
}

void mw_tb_destroy(mw_tb *b) {
    mw_table_free(b->t);
    free(b->st);
    mw_dict_free(b->names);
    memset(b, 0, sizeof *b);
}

static mw_status alloc_values(mw_column *c, size_t cap, size_t filled) {
    if (c->type == MW_TYPE_NUMERIC) {
        c->num = malloc(cap * sizeof *c->num);
        if (!c->num) return MW_ENOMEM;
        mw_advise_huge(c->num, cap * sizeof *c->num);
        for (size_t i = 0; i < filled; i++)
            c->num[i] = NAN;
    } else if (c->type == MW_TYPE_CATEGORICAL) {
        c->codes = malloc(cap * sizeof *c->codes);
        mw_advise_huge(c->codes, cap * sizeof *c->codes);
        c->dict = mw_dict_new();
        if (!c->codes || !c->dict) return MW_ENOMEM;
        for (size_t i = 0; i < filled; i++)
            c->codes[i] = MW_CODE_MISSING;
    }
    return MW_OK;
}

mw_status mw_tb_add_column(mw_tb *b, const char *name, size_t len, uint64_t line, mw_error *err) {
    mw_table *t = b->t;
    uint32_t code;
    if (mw_dict_find(b->names, name, len, &code)) {
        return mw_error_set(err, MW_EPARSE, b->name, line, t->ncols + 1,
                            "duplicate column name \"%.*s\" (columns %u and %zu)",
                            (int)(len > 200 ? 200 : len), name, code + 1, t->ncols + 1);
    }
    if (mw_dict_intern(b->names, name, len, &code) != MW_OK) goto nomem;
    if (t->ncols == b->cols_cap) {
        size_t ncap = b->cols_cap ? b->cols_cap * 2 : 16;
        mw_column *nc = realloc(t->cols, ncap * sizeof *nc);
        if (!nc) goto nomem;
        t->cols = nc;
        mw_colstate *ns = realloc(b->st, ncap * sizeof *ns);
        if (!ns) goto nomem;
        b->st = ns;
        b->cols_cap = ncap;
    }
    mw_column *c = &t->cols[t->ncols];
    memset(c, 0, sizeof *c);
    c->name = malloc(len + 1);
    if (!c->name) goto nomem;
    memcpy(c->name, name, len);
    c->name[len] = 0;
    mw_coltype imposed = b->schema ? mw_schema_type(b->schema, c->name) : MW_TYPE_AUTO;
    b->st[t->ncols].imposed = imposed;
    /* text is read as categories and expanded into descriptors afterwards */
    c->type = imposed == MW_TYPE_AUTO   ? MW_TYPE_NUMERIC
              : imposed == MW_TYPE_TEXT ? MW_TYPE_CATEGORICAL
                                        : imposed;
    t->ncols++; /* counted now so that a failure below frees it */
    if (alloc_values(c, b->rows_cap, t->nrows) != MW_OK) goto nomem;
    if (c->type != MW_TYPE_IGNORE) c->n_missing = t->nrows;
    return MW_OK;
nomem:
    return mw_error_set(err, MW_ENOMEM, b->name, line, 0, "out of memory");
}

mw_status mw_tb_reserve(mw_tb *b, size_t rows) {
    if (rows <= b->rows_cap) return MW_OK;
    size_t ncap = b->rows_cap * 2;
    if (ncap < rows) ncap = rows;
    mw_table *t = b->t;
    uint64_t *h = realloc(t->row_hash, ncap * sizeof *h);
    if (!h) return MW_ENOMEM;
    t->row_hash = h;
    mw_advise_huge(h, ncap * sizeof *h);
    for (size_t i = 0; i < t->ncols; i++) {
        mw_column *c = &t->cols[i];
        if (c->num) {
            double *n = realloc(c->num, ncap * sizeof *n);
            if (!n) return MW_ENOMEM;
            c->num = n;
            mw_advise_huge(n, ncap * sizeof *n);
        }
        if (c->codes) {
            uint32_t *n = realloc(c->codes, ncap * sizeof *n);
            if (!n) return MW_ENOMEM;
            c->codes = n;
            mw_advise_huge(n, ncap * sizeof *n);
        }
    }
    b->rows_cap = ncap;
    return MW_OK;
}

/* NUMERIC -> CATEGORICAL for rows [0, n): numbers become their shortest text. */
mw_status mw_data_num_to_cat(mw_column *c, size_t n, size_t cap) {
    uint32_t *codes = malloc((cap ? cap : 1) * sizeof *codes);
    mw_dict *d = mw_dict_new();
    if (!codes || !d) {
        free(codes);
        mw_dict_free(d);
        return MW_ENOMEM;
    }
    double last = NAN;
    uint32_t last_code = MW_CODE_MISSING;
    for (size_t i = 0; i < n; i++) {
        double v = c->num[i];
        if (isnan(v)) {
            codes[i] = MW_CODE_MISSING;
            continue;
        }
        if (v == last && signbit(v) == signbit(last)) { /* runs of equal values */
            codes[i] = last_code;
            continue;
        }
        char buf[32];
        size_t len = mw_format_double(v, buf);
        if (mw_dict_intern(d, buf, len, &codes[i]) != MW_OK) {
            free(codes);
            mw_dict_free(d);
            return MW_ENOMEM;
        }
        last = v;
        last_code = codes[i];
    }
    free(c->num);
    c->num = NULL;
    c->codes = codes;
    c->dict = d;
    c->type = MW_TYPE_CATEGORICAL;
    return MW_OK;
}

/* Records a type error example (text cut to fit, at a UTF-8 boundary). */
void mw_data_type_error(mw_column *c, const char *s, size_t len, uint64_t line) {
    uint64_t k = c->n_type_errors++;
    if (k >= MW_TYPE_ERROR_EXAMPLES) return;
    size_t n = len;
    if (n > sizeof c->type_error_example[0] - 1) {
        n = sizeof c->type_error_example[0] - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(c->type_error_example[k], s, n);
    c->type_error_example[k][n] = 0;
    c->type_error_line[k] = line;
}

mw_status mw_tb_text(mw_tb *b, size_t col, const char *s, size_t len, uint64_t line,
                     int is_json_string) {
    mw_table *t = b->t;
    mw_column *c = &t->cols[col];
    size_t row = t->nrows;
    if (c->type == MW_TYPE_NUMERIC) {
        double v;
        int imposed = b->st[col].imposed == MW_TYPE_NUMERIC;
        if ((!is_json_string || imposed) && mw_parse_double(s, len, &v)) {
            c->num[row] = v;
            return MW_OK;
        }
        if (imposed) {
            c->num[row] = NAN;
            mw_data_type_error(c, s, len, line);
            return MW_OK;
        }
        mw_status st = mw_data_num_to_cat(c, row, b->rows_cap);
        if (st != MW_OK) return st;
    }
    if (c->type == MW_TYPE_CATEGORICAL) return mw_dict_intern(c->dict, s, len, &c->codes[row]);
    return MW_OK;
}

mw_status mw_tb_number(mw_tb *b, size_t col, double v, const char *s, size_t len) {
    mw_column *c = &b->t->cols[col];
    size_t row = b->t->nrows;
    if (c->type == MW_TYPE_NUMERIC)
        c->num[row] = v;
    else if (c->type == MW_TYPE_CATEGORICAL)
        return mw_dict_intern(c->dict, s, len, &c->codes[row]);
    return MW_OK;
}

void mw_tb_missing(mw_tb *b, size_t col) {
    mw_column *c = &b->t->cols[col];
    size_t row = b->t->nrows;
    if (c->type == MW_TYPE_NUMERIC) {
        c->num[row] = NAN;
        c->n_missing++;
    } else if (c->type == MW_TYPE_CATEGORICAL) {
        c->codes[row] = MW_CODE_MISSING;
        c->n_missing++;
    }
}

mw_table *mw_tb_finish(mw_tb *b) {
    mw_table *t = b->t;
    size_t n = t->nrows ? t->nrows : 1;
    /* Shrink to fit; a failed shrink keeps the larger block, which is still valid. */
    uint64_t *h = realloc(t->row_hash, n * sizeof *h);
    if (h) t->row_hash = h;
    for (size_t i = 0; i < t->ncols; i++) {
        mw_column *c = &t->cols[i];
        c->nrows = t->nrows;
        if (c->num) {
            double *d = realloc(c->num, n * sizeof *d);
            if (d) c->num = d;
        }
        if (c->codes) {
            uint32_t *d = realloc(c->codes, n * sizeof *d);
            if (d) c->codes = d;
        }
    }
    if (t->ncols && t->ncols < b->cols_cap) {
        mw_column *c = realloc(t->cols, t->ncols * sizeof *c);
        if (c) t->cols = c;
    }
    b->t = NULL;
    mw_tb_destroy(b);
    return t;
}
