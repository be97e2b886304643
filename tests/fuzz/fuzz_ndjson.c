/*
 * libFuzzer target: mw_table_read_mem over arbitrary bytes as NDJSON (lines or
 * one array). Checks invariants on success and that errors carry a message.
 */
#include "modelwatch/data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    mw_read_options opt;
    memset(&opt, 0, sizeof opt);
    opt.format = MW_FMT_NDJSON;
    opt.max_columns = 256;
    mw_table *t;
    mw_error e;
    mw_status st = mw_table_read_mem("fuzz.jsonl", (const char *)data, size, &opt, &t, &e);
    if (st == MW_OK) {
        for (size_t c = 0; c < t->ncols; c++) {
            const mw_column *col = &t->cols[c];
            for (size_t r = 0; r < t->nrows; r++)
                if (col->type == MW_TYPE_CATEGORICAL && col->codes[r] != MW_CODE_MISSING &&
                    col->codes[r] >= mw_dict_size(col->dict))
                    abort();
        }
        mw_table_free(t);
    } else if (t || e.message[0] == 0) {
        abort();
    }
    return 0;
}
