/*
 * mw_table_read / mw_table_read_mem: opens the input, picks the format, runs the
 * CSV or NDJSON reader over a column builder and hands the finished table over.
 *
 * Format choice (MW_FMT_AUTO): by extension (.csv, .jsonl, .ndjson, .json, each
 * optionally followed by .gz), otherwise by the first non-blank byte after an
 * optional UTF-8 BOM ('{' or '[' = NDJSON, anything else CSV). Text columns
 * (schema `text`, or inferred) are expanded into descriptor columns before the
 * table is handed over (text_cols.c).
 * Ownership: *out is returned for the caller to free with mw_table_free; on error
 * *out stays NULL and err says what and where.
 */
#include "data/data_int.h"

#include <strings.h>

static int ends_with(const char *s, size_t n, const char *suf) {
    size_t k = strlen(suf);
    return n >= k && strncasecmp(s + n - k, suf, k) == 0;
}

static mw_format by_extension(const char *path) {
    size_t n = strlen(path);
    if (ends_with(path, n, ".gz")) n -= 3;
    if (ends_with(path, n, ".csv")) return MW_FMT_CSV;
    if (ends_with(path, n, ".jsonl") || ends_with(path, n, ".ndjson") ||
        ends_with(path, n, ".json"))
        return MW_FMT_NDJSON;
    return MW_FMT_AUTO;
}

static mw_status sniff(mw_input *in, const char *name, mw_format *fmt, mw_error *err) {
    size_t i = in->pos;
    for (;;) {
        while (i < in->end) {
            unsigned char c = (unsigned char)in->data[i];
            if (i == in->pos && in->end - i >= 3 && c == 0xEF &&
                (unsigned char)in->data[i + 1] == 0xBB && (unsigned char)in->data[i + 2] == 0xBF) {
                i += 3;
                continue;
            }
            if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
                i++;
                continue;
            }
            *fmt = (c == '{' || c == '[') ? MW_FMT_NDJSON : MW_FMT_CSV;
            return MW_OK;
        }
        if (in->eof || i - in->pos > ((size_t)16 << 20)) break;
        size_t off = i - in->pos;
        mw_status st = mw_input_fill(in, in->pos, (size_t)64 << 20, name, err);
        if (st != MW_OK) return st;
        i = in->pos + off;
        if (i >= in->end && in->eof) break;
    }
    *fmt = MW_FMT_CSV; /* empty or blank: the CSV reader reports "no header row" */
    return MW_OK;
}

static mw_status run(const char *name, mw_input *in, mw_format fmt, const mw_read_options *opt,
                     mw_table **out, mw_error *err) {
    mw_status st;
    if (fmt == MW_FMT_AUTO) {
        st = sniff(in, name, &fmt, err);
        if (st != MW_OK) return st;
    }
    mw_tb b;
    if (mw_tb_init(&b, name, opt) != MW_OK)
        return mw_error_set(err, MW_ENOMEM, name, 0, 0, "out of memory");
    mw_read_ctx ctx = {in, name, MW_DEFAULT_MAX_LINE, MW_DEFAULT_MAX_COLUMNS, opt};
    if (opt && opt->max_line_bytes) ctx.max_line = opt->max_line_bytes;
    if (opt && opt->max_columns) ctx.max_columns = opt->max_columns;
    st =
        fmt == MW_FMT_NDJSON ? mw_data_read_ndjson(&ctx, &b, err) : mw_data_read_csv(&ctx, &b, err);
    if (st != MW_OK) {
        if (err && err->status == MW_OK) mw_error_set(err, st, name, 0, 0, "%s", mw_status_str(st));
        mw_tb_destroy(&b);
        return st;
    }
    mw_table *t = mw_tb_finish(&b);
    /* text columns leave the reader as their descriptors (text_cols.c) */
    st = mw_table_expand_texts(t, opt ? opt->schema : NULL, NULL, 0,
                               !(opt && opt->no_text_inference), opt ? opt->text : NULL, err);
    if (st != MW_OK) {
        mw_table_free(t);
        return st;
    }
    *out = t;
    return MW_OK;
}

mw_status mw_table_read(const char *path, const mw_read_options *opt, mw_table **out,
                        mw_error *err) {
    mw_error_clear(err);
    if (out) *out = NULL;
    if (!path || !out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no path or output given");
    const char *name = strcmp(path, "-") == 0 ? "-" : path;
    mw_format fmt = opt ? opt->format : MW_FMT_AUTO;
    if (fmt == MW_FMT_AUTO) fmt = by_extension(path);
    mw_input in;
    mw_status st = mw_input_open_file(&in, path, err);
    if (st != MW_OK) return st;
    st = run(name, &in, fmt, opt, out, err);
    mw_input_close(&in);
    return st;
}

mw_status mw_table_read_mem(const char *name, const char *buf, size_t len,
                            const mw_read_options *opt, mw_table **out, mw_error *err) {
    mw_error_clear(err);
    if (out) *out = NULL;
    if (!out || (!buf && len)) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no buffer or output");
    if (!name) name = "<memory>";
    mw_input in;
    mw_input_open_mem(&in, buf ? buf : "", len);
    mw_format fmt = opt ? opt->format : MW_FMT_AUTO;
    return run(name, &in, fmt, opt, out, err);
}
