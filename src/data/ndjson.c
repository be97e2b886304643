/* NDJSON reader: placeholder until the streaming tokenizer lands. */
#include "data/data_int.h"

mw_status mw_data_read_ndjson(mw_read_ctx *ctx, mw_tb *b, mw_error *err) {
    return mw_error_set(err, MW_EINVAL, ctx->name, 0, 0, "NDJSON reading is not available yet");
}
