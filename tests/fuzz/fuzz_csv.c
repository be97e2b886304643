/*
 * libFuzzer target: mw_table_read_mem over arbitrary bytes as CSV, with small
 * limits so that long-line and column-limit paths are reached. Checks the
 * table's invariants on success and that errors carry a message.
 */
#include "modelwatch/data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void check(const mw_table *t) {
    for (size_t c = 0; c < t->ncols; c++) {
        const mw_column *col = &t->cols[c];
        if (!col->name) abort();
        uint64_t miss = 0;
        for (size_t r = 0; r < t->nrows; r++) {
            if (col->type == MW_TYPE_NUMERIC) miss += isnan(col->num[r]);
            else if (col->type == MW_TYPE_CATEGORICAL) {
                uint32_t code = col->codes[r];
                if (code == MW_CODE_MISSING) miss++;
                else if (code >= mw_dict_size(col->dict)) abort();
            }
        }
        if (col->type != MW_TYPE_IGNORE && miss != col->n_missing + col->n_type_errors) abort();
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    mw_read_options opt;
    memset(&opt, 0, sizeof opt);
    opt.format = MW_FMT_CSV;
    opt.max_line_bytes = size > 2 ? size / 2 : 1;
    opt.max_columns = 64;
    mw_table *t;
    mw_error e;
    mw_status st = mw_table_read_mem("fuzz.csv", (const char *)data, size, &opt, &t, &e);
    if (st == MW_OK) {
        check(t);
        mw_table_free(t);
    } else if (t || e.message[0] == 0) {
        abort();
    }
    return 0;
}
