/*
 * mw_column_convert: reconciles a column's type with another table's (the CLI
 * converts the current table's columns to the reference's types).
 *
 * CATEGORICAL -> NUMERIC: each category is parsed once (mw_parse_double); rows of
 * categories that are not numbers become missing and count as type errors (each
 * row counts; examples keep the text, with line 0 = unknown, since a table keeps
 * no row -> line map). NUMERIC -> CATEGORICAL: each number becomes the category of
 * its shortest round-trip text (mw_format_double). Any type -> IGNORE drops the
 * values. n_missing is unchanged by conversions (missing stays missing).
 */
#include "data/data_int.h"

#include <stdlib.h>

static mw_status cat_to_num(mw_column *c, size_t nrows, mw_error *err) {
    size_t nd = mw_dict_size(c->dict);
    double *val = malloc((nd ? nd : 1) * sizeof *val);
    double *num = malloc((nrows ? nrows : 1) * sizeof *num);
    if (!val || !num) {
        free(val);
        free(num);
        return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory");
    }
    for (size_t k = 0; k < nd; k++) {
        size_t len;
        const char *s = mw_dict_str(c->dict, (uint32_t)k, &len);
        if (!mw_parse_double(s, len, &val[k])) val[k] = NAN;
    }
    for (size_t i = 0; i < nrows; i++) {
        uint32_t code = c->codes[i];
        if (code == MW_CODE_MISSING || code >= nd) {
            num[i] = NAN;
            continue;
        }
        num[i] = val[code];
        if (isnan(val[code])) {
            size_t len;
            const char *s = mw_dict_str(c->dict, code, &len);
            mw_data_type_error(c, s, len, 0);
        }
    }
    free(val);
    free(c->codes);
    mw_dict_free(c->dict);
    c->codes = NULL;
    c->dict = NULL;
    c->num = num;
    c->type = MW_TYPE_NUMERIC;
    return MW_OK;
}

mw_status mw_column_convert(mw_column *col, mw_coltype to, mw_error *err) {
    mw_error_clear(err);
    if (!col) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no column given");
    size_t nrows = col->nrows;
    if (to == col->type) return MW_OK;
    if (to == MW_TYPE_AUTO ||
        (to != MW_TYPE_NUMERIC && to != MW_TYPE_CATEGORICAL && to != MW_TYPE_IGNORE))
        return mw_error_set(err, MW_EINVAL, "", 0, 0, "cannot convert column \"%s\" to type %s",
                            col->name ? col->name : "", mw_coltype_name(to));
    if (col->type == MW_TYPE_IGNORE)
        return mw_error_set(err, MW_EINVAL, "", 0, 0,
                            "column \"%s\" was ignored when read: it has no values to convert",
                            col->name ? col->name : "");
    if (to == MW_TYPE_IGNORE) {
        free(col->num);
        free(col->codes);
        mw_dict_free(col->dict);
        col->num = NULL;
        col->codes = NULL;
        col->dict = NULL;
        col->type = MW_TYPE_IGNORE;
        return MW_OK;
    }
    if (to == MW_TYPE_NUMERIC) return cat_to_num(col, nrows, err);
    if (mw_data_num_to_cat(col, nrows, nrows) != MW_OK)
        return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory");
    return MW_OK;
}
