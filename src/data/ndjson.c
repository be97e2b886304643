/*
 * NDJSON / JSONL reader: one JSON object per line (blank lines counted and
 * skipped), or, when the first non-blank byte is '[', one JSON array of objects
 * (which may span lines). Our own tokenizer: a recursive-descent parser over a
 * complete record held in the input buffer (no refills inside a record), with a
 * depth limit of 64, full string escapes (\uXXXX with surrogate pairs; lone
 * surrogates are errors), UTF-8 validation of raw string bytes, and the exact
 * JSON number grammar (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?) converted by
 * mw_data_parse_number. The grammar, \u digits, UTF-8 output and the words for
 * what stands at a position are shared with the record parser (json_scan.c).
 *
 * Mapping to columns: keys of the row object are columns; an object under the key
 * "features" of the row object contributes its keys bare ({"features":{"a":1}} ->
 * "a"); any other nested object contributes dotted names ("scores.0"); arrays
 * are validated, skipped and counted in n_arrays_skipped, except, with the
 * expand_arrays option, a non-empty array of numbers (and nulls) under key K,
 * whose elements become the numeric columns K[0], K[1], ... (embeddings). numbers -> numeric
 * values, strings -> text (an AUTO column holding a JSON string is categorical;
 * NA tokens in strings are missing), true/false -> text "true"/"false", null and
 * absent keys -> missing. A key first seen in a later row adds a column whose
 * earlier rows are missing. The same key twice in one row is an error.
 *
 * Row hash: order-independent: the sum over present, non-missing values of
 * mix(column index, hash(type tag + text)), mixed with the value count, so key
 * order and absent-vs-null do not matter. It is not comparable with CSV hashes.
 *
 * Errors carry the line and the 1-based byte offset in that line as column.
 * Hot path (DESIGN.md: >= 1M records/s): a row's keys usually come in the same
 * order as the previous row's, so the next column is predicted and confirmed
 * with one length compare and memcmp instead of a dictionary lookup.
 */
#include "data/data_int.h"

#include <stdio.h>
#include <stdlib.h>

#define MAX_DEPTH 64

typedef struct nj {
    mw_read_ctx *ctx;
    mw_tb *b;
    mw_error *err;
    const char *name;
    const char *rec;   /* start of the current record in the buffer */
    uint64_t rec_line; /* its line */
    const char *end;   /* end of the current record */
    const char *buf;   /* start of the input buffer (for column positions) */
    char *kbuf;        /* flattened key */
    size_t klen, kcap;
    char *sbuf; /* decoded string value */
    size_t slen, scap;
    uint64_t *set_row; /* per column: row + 1 when set in the current row */
    size_t set_cap;
    size_t pred;   /* predicted next column */
    size_t nset;   /* values set in this row (non-missing) */
    uint64_t hacc; /* row hash accumulator */
    int failed;
} nj;

static int fail_at(nj *j, const char *at, mw_status st, const char *fmt, const char *what) {
    if (j->failed) return 0;
    j->failed = 1;
    uint64_t line = j->rec_line;
    for (const char *k = j->rec; k < at; k++)
        line += *k == '\n';
    const char *ls = at; /* start of at's line (as far back as the buffer holds) */
    while (ls > j->buf && ls[-1] != '\n')
        ls--;
    char msg[300];
    snprintf(msg, sizeof msg, fmt, what);
    mw_error_set(j->err, st, j->name, line, (uint64_t)(at - ls) + 1, "%s", msg);
    return 0;
}

static int fail(nj *j, const char *at, const char *msg) {
    return fail_at(j, at, MW_EPARSE, "%s", msg);
}

static inline const char *ws(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

static int grow(char **buf, size_t *cap, size_t need) {
    if (need <= *cap && *buf) return 1; /* (always allocate: no NULL + 0 arithmetic) */
    size_t n = *cap ? *cap : 256;
    while (n < need)
        n *= 2;
    char *nb = realloc(*buf, n);
    if (!nb) return 0;
    *buf = nb;
    *cap = n;
    return 1;
}

/*
 * Parses a string starting at the opening quote *pp. On success (*out, *outlen) is
 * the decoded text: a view into the input when it needs no decoding, else into
 * *buf (grown as needed); *pp moves past the closing quote.
 */
static int parse_string(nj *j, const char **pp, char **buf, size_t *cap, size_t base,
                        const char **out, size_t *outlen) {
    const char *p = *pp + 1, *end = j->end;
    const char *s = p;
    /* fast scan: plain ASCII without escapes */
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) break;
        p++;
    }
    if (p < end && *p == '"') {
        if (base == 0) {
            *out = s;
            *outlen = (size_t)(p - s);
        } else {
            if (!grow(buf, cap, base + (size_t)(p - s))) return fail(j, p, "out of memory");
            memcpy(*buf + base, s, (size_t)(p - s));
            *out = *buf;
            *outlen = base + (size_t)(p - s);
        }
        *pp = p + 1;
        return 1;
    }
    /* slow path: decode into buf after base bytes */
    size_t n = base;
    if (!grow(buf, cap, base + (size_t)(p - s) + 16)) return fail(j, p, "out of memory");
    memcpy(*buf + n, s, (size_t)(p - s));
    n += (size_t)(p - s);
    for (;;) {
        if (p >= end) return fail(j, *pp, "unterminated string (no closing '\"' on this line)");
        unsigned char c = (unsigned char)*p;
        if (!grow(buf, cap, n + 8)) return fail(j, p, "out of memory");
        if (c == '"') break;
        if (c < 0x20) {
            if (c == 0) return fail(j, p, "NUL byte in a string: this looks like binary data");
            return fail(j, p, "control character in a string (must be escaped)");
        }
        if (c >= 0x80) {
            /* validate one UTF-8 sequence */
            int nul;
            size_t lim = (size_t)(end - p) < 4 ? (size_t)(end - p) : 4;
            size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            if (len > lim || mw_data_utf8_check(p, len, &nul) != len)
                return fail(j, p, "invalid UTF-8 in a string");
            memcpy(*buf + n, p, len);
            n += len;
            p += len;
            continue;
        }
        if (c != '\\') {
            (*buf)[n++] = (char)c;
            p++;
            continue;
        }
        if (p + 1 >= end) return fail(j, p, "unterminated escape sequence");
        char e = p[1];
        p += 2;
        switch (e) {
        case '"':
            (*buf)[n++] = '"';
            break;
        case '\\':
            (*buf)[n++] = '\\';
            break;
        case '/':
            (*buf)[n++] = '/';
            break;
        case 'b':
            (*buf)[n++] = '\b';
            break;
        case 'f':
            (*buf)[n++] = '\f';
            break;
        case 'n':
            (*buf)[n++] = '\n';
            break;
        case 'r':
            (*buf)[n++] = '\r';
            break;
        case 't':
            (*buf)[n++] = '\t';
            break;
        case 'u': {
            unsigned u;
            if (!mw_jscan_hex4(p, end, &u))
                return fail(j, p - 2, "invalid \\u escape (expected 4 hex digits)");
            p += 4;
            if (u >= 0xD800 && u <= 0xDBFF) {
                unsigned lo;
                if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !mw_jscan_hex4(p + 2, end, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    return fail(j, p - 6, "unpaired UTF-16 surrogate in a \\u escape");
                p += 6;
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
            } else if (u >= 0xDC00 && u <= 0xDFFF) {
                return fail(j, p - 6, "unpaired UTF-16 surrogate in a \\u escape");
            }
            if (u == 0) return fail(j, p - 6, "\\u0000 (NUL) in a string is not supported");
            n += mw_jscan_utf8_put(*buf + n, u);
            break;
        }
        default:
            return fail(j, p - 2, "invalid escape sequence in a string");
        }
    }
    *out = *buf;
    *outlen = n;
    *pp = p + 1;
    return 1;
}

static int skip_value(nj *j, const char **pp, int depth);

static int skip_container(nj *j, const char **pp, int depth, char close) {
    const char *p = *pp + 1;
    if (depth >= MAX_DEPTH) return fail(j, *pp, "JSON nested deeper than 64 levels");
    p = ws(p, j->end);
    if (p < j->end && *p == close) {
        *pp = p + 1;
        return 1;
    }
    for (;;) {
        if (close == '}') {
            const char *ks;
            size_t kl;
            if (p >= j->end || *p != '"')
                return fail_at(j, p, MW_EPARSE, "expected a string key in an object, got %s",
                               mw_jscan_describe(p, j->end));
            if (!parse_string(j, &p, &j->sbuf, &j->scap, 0, &ks, &kl)) return 0;
            p = ws(p, j->end);
            if (p >= j->end || *p != ':')
                return fail_at(j, p, MW_EPARSE, "expected ':' after an object key, got %s",
                               mw_jscan_describe(p, j->end));
            p = ws(p + 1, j->end);
        }
        if (!skip_value(j, &p, depth + 1)) return 0;
        p = ws(p, j->end);
        if (p < j->end && *p == ',') {
            p = ws(p + 1, j->end);
            continue;
        }
        if (p < j->end && *p == close) {
            *pp = p + 1;
            return 1;
        }
        return fail_at(j, p, MW_EPARSE,
                       close == '}' ? "expected ',' or '}' in an object, got %s"
                                    : "expected ',' or ']' in an array, got %s",
                       mw_jscan_describe(p, j->end));
    }
}

static int literal(nj *j, const char **pp, const char *lit, size_t n) {
    if ((size_t)(j->end - *pp) < n || memcmp(*pp, lit, n) != 0)
        return fail(j, *pp, "invalid literal (expected true, false or null)");
    *pp += n;
    return 1;
}

static int skip_value(nj *j, const char **pp, int depth) {
    const char *p = *pp, *end = j->end;
    if (p >= end) return fail(j, p, "expected a value, got the end of the line");
    const char *s;
    size_t n;
    switch (*p) {
    case '{':
        return skip_container(j, pp, depth, '}');
    case '[':
        return skip_container(j, pp, depth, ']');
    case '"':
        return parse_string(j, pp, &j->sbuf, &j->scap, 0, &s, &n);
    case 't':
        return literal(j, pp, "true", 4);
    case 'f':
        return literal(j, pp, "false", 5);
    case 'n':
        return literal(j, pp, "null", 4);
    default: {
        const char *e = mw_jscan_number(p, end);
        if (!e)
            return fail_at(j, p, MW_EPARSE, "expected a value, got %s", mw_jscan_describe(p, end));
        *pp = e;
        return 1;
    }
    }
}

/* Column of the current flattened key, adding it when new. */
static int column_of(nj *j, const char *at, size_t *col) {
    mw_table *t = j->b->t;
    const char *k = j->kbuf;
    size_t kl = j->klen;
    size_t pc = j->pred;
    if (pc < t->ncols) {
        size_t len;
        const char *nm = mw_dict_str(j->b->names, (uint32_t)pc, &len);
        if (len == kl && memcmp(nm, k, kl) == 0) {
            *col = pc;
            goto found;
        }
    }
    uint32_t code;
    if (mw_dict_find(j->b->names, k, kl, &code)) {
        *col = code;
        goto found;
    }
    if (t->ncols >= j->ctx->max_columns) {
        char msg[100];
        snprintf(msg, sizeof msg, "more than %zu columns (the limit)", j->ctx->max_columns);
        return fail_at(j, at, MW_ERANGE, "%s", msg);
    }
    {
        mw_error tmp;
        if (mw_tb_add_column(j->b, k, kl, 0, &tmp) != MW_OK) return fail(j, at, "out of memory");
    }
    if (t->ncols > j->set_cap) {
        size_t nc = j->set_cap ? j->set_cap * 2 : 64;
        while (nc < t->ncols)
            nc *= 2;
        uint64_t *ns = realloc(j->set_row, nc * sizeof *ns);
        if (!ns) return fail(j, at, "out of memory");
        memset(ns + j->set_cap, 0, (nc - j->set_cap) * sizeof *ns);
        j->set_row = ns;
        j->set_cap = nc;
    }
    *col = t->ncols - 1;
found:
    if (j->set_row[*col] == t->nrows + 1) {
        char msg[300];
        snprintf(msg, sizeof msg, "duplicate key \"%.*s\" in one record",
                 (int)(kl > 200 ? 200 : kl), k);
        return fail(j, at, msg);
    }
    j->set_row[*col] = t->nrows + 1;
    j->pred = *col + 1;
    return 1;
}

static void hash_value(nj *j, size_t col, char tag, const char *s, size_t n) {
    uint64_t h = mw_data_hash64(s, n, (uint64_t)(unsigned char)tag);
    j->hacc += mw_data_mix64((uint64_t)col, h);
    j->nset++;
}

static int parse_object(nj *j, const char **pp, int depth, int top);

/* 1 when the (already validated) array [s, e) holds at least one element and
 * only numbers and nulls. */
static int numeric_array(const char *s, const char *e, const char *end) {
    const char *p = ws(s + 1, e);
    if (p < e && *p == ']') return 0;
    while (p < e) {
        if (*p == 'n')
            p += 4;
        else if (!(p = mw_jscan_number(p, end)))
            return 0;
        p = ws(p, e);
        if (p >= e || *p == ']') return 1;
        p = ws(p + 1, e); /* ',' */
    }
    return 0;
}

/* Expands the numeric array at s under the current key K into the columns
 * K[0], K[1], ... (options.expand_arrays; embeddings). */
static int expand_array(nj *j, const char *s, const char *end, const char *keyat) {
    size_t saved = j->klen;
    const char *p = ws(s + 1, end);
    for (size_t i = 0; *p != ']'; i++) {
        char idx[32];
        int n = snprintf(idx, sizeof idx, "[%zu]", i);
        if (!grow(&j->kbuf, &j->kcap, saved + (size_t)n)) return fail(j, p, "out of memory");
        memcpy(j->kbuf + saved, idx, (size_t)n);
        j->klen = saved + (size_t)n;
        size_t col;
        int ok = column_of(j, keyat, &col);
        j->klen = saved;
        if (!ok) return 0;
        mw_status st = MW_OK;
        if (*p == 'n') {
            mw_tb_missing(j->b, col);
            p += 4;
        } else {
            const char *e = mw_jscan_number(p, end);
            double v;
            if (!e || mw_data_parse_number(p, e, &v) != e)
                return fail_at(j, p, MW_EPARSE, "expected a number in the array, got %s",
                               mw_jscan_describe(p, end));
            hash_value(j, col, 'n', p, (size_t)(e - p));
            st = mw_tb_number(j->b, col, v, p, (size_t)(e - p));
            p = e;
        }
        if (st != MW_OK) return fail(j, p, "out of memory");
        p = ws(p, end);
        if (*p == ',') p = ws(p + 1, end);
    }
    return 1;
}

/* Value of member kbuf[0..klen) of an object at depth. */
static int member_value(nj *j, const char **pp, int depth, int top, const char *keyat) {
    const char *p = *pp, *end = j->end;
    if (p >= end) return fail(j, p, "expected a value, got the end of the line");
    char c = *p;
    if (c == '{') {
        size_t saved = j->klen;
        int features = top && j->klen == 8 && memcmp(j->kbuf, "features", 8) == 0;
        if (features) {
            j->klen = 0;
        } else {
            if (!grow(&j->kbuf, &j->kcap, j->klen + 1)) return fail(j, p, "out of memory");
            j->kbuf[j->klen++] = '.';
        }
        int ok = parse_object(j, pp, depth + 1, 0);
        j->klen = saved;
        return ok;
    }
    if (c == '[') {
        if (!skip_container(j, pp, depth + 1, ']')) return 0;
        if (j->ctx->opt && j->ctx->opt->expand_arrays && numeric_array(p, *pp, end))
            return expand_array(j, p, end, keyat);
        j->b->t->n_arrays_skipped++;
        return 1;
    }
    size_t col;
    if (!column_of(j, keyat, &col)) return 0;
    mw_tb *b = j->b;
    mw_status st = MW_OK;
    if (c == '"') {
        const char *s;
        size_t n;
        if (!parse_string(j, pp, &j->sbuf, &j->scap, 0, &s, &n)) return 0;
        if (mw_is_na_token(s, n)) {
            mw_tb_missing(b, col);
            return 1;
        }
        hash_value(j, col, 's', s, n);
        st = mw_tb_text(b, col, s, n, j->rec_line, 1);
    } else if (c == 't' || c == 'f') {
        if (!literal(j, pp, c == 't' ? "true" : "false", c == 't' ? 4 : 5)) return 0;
        hash_value(j, col, 'b', p, c == 't' ? 4 : 5);
        st = mw_tb_text(b, col, p, c == 't' ? 4 : 5, j->rec_line, 1);
    } else if (c == 'n') {
        if (!literal(j, pp, "null", 4)) return 0;
        mw_tb_missing(b, col);
        return 1;
    } else {
        const char *e = mw_jscan_number(p, end);
        double v;
        if (!e || mw_data_parse_number(p, e, &v) != e)
            return fail_at(j, p, MW_EPARSE, "expected a value, got %s", mw_jscan_describe(p, end));
        *pp = e;
        hash_value(j, col, 'n', p, (size_t)(e - p));
        st = mw_tb_number(b, col, v, p, (size_t)(e - p));
    }
    if (st != MW_OK) return fail(j, p, "out of memory");
    return 1;
}

static int parse_object(nj *j, const char **pp, int depth, int top) {
    const char *p = *pp + 1, *end = j->end;
    if (depth >= MAX_DEPTH) return fail(j, *pp, "JSON nested deeper than 64 levels");
    size_t prefix = j->klen;
    p = ws(p, end);
    if (p < end && *p == '}') {
        *pp = p + 1;
        return 1;
    }
    for (;;) {
        if (p >= end || *p != '"')
            return fail_at(j, p, MW_EPARSE, "expected a string key in an object, got %s",
                           mw_jscan_describe(p, end));
        const char *keyat = p;
        const char *ks;
        size_t kl;
        if (!parse_string(j, &p, &j->kbuf, &j->kcap, prefix, &ks, &kl)) return 0;
        if (ks != j->kbuf) { /* a view into the input: copy after the prefix */
            if (!grow(&j->kbuf, &j->kcap, prefix + kl)) return fail(j, p, "out of memory");
            memcpy(j->kbuf + prefix, ks, kl);
            kl += prefix;
        }
        j->klen = kl;
        p = ws(p, end);
        if (p >= end || *p != ':')
            return fail_at(j, p, MW_EPARSE, "expected ':' after an object key, got %s",
                           mw_jscan_describe(p, end));
        p = ws(p + 1, end);
        if (!member_value(j, &p, depth, top, keyat)) return 0;
        j->klen = prefix;
        p = ws(p, end);
        if (p < end && *p == ',') {
            p = ws(p + 1, end);
            continue;
        }
        if (p < end && *p == '}') {
            *pp = p + 1;
            return 1;
        }
        return fail_at(j, p, MW_EPARSE, "expected ',' or '}' in an object, got %s",
                       mw_jscan_describe(p, end));
    }
}

/* Parses the row object at p (record [rec, end)); returns the byte after it. */
static mw_status parse_row(nj *j, const char *p, const char **after) {
    mw_tb *b = j->b;
    mw_table *t = b->t;
    if (p >= j->end || *p != '{') {
        fail_at(j, p, MW_EPARSE, "expected a JSON object ({...}) for each record, got %s",
                mw_jscan_describe(p, j->end));
        return MW_EPARSE;
    }
    j->klen = 0;
    j->pred = 0;
    j->nset = 0;
    j->hacc = 0;
    if (!parse_object(j, &p, 0, 1)) return j->err && j->err->status ? j->err->status : MW_EPARSE;
    /* absent keys are missing */
    size_t nmiss = 0;
    for (size_t c = 0; c < t->ncols; c++) {
        if (j->set_row[c] != t->nrows + 1) mw_tb_missing(b, c);
    }
    nmiss = t->ncols - j->nset;
    t->row_hash[t->nrows] = mw_data_mix64(j->hacc, j->nset);
    if (nmiss == t->ncols) t->n_empty_rows++;
    t->nrows++;
    if (t->nrows == b->rows_cap && mw_tb_reserve(b, t->nrows + 1) != MW_OK)
        return mw_error_set(j->err, MW_ENOMEM, j->name, j->rec_line, 0, "out of memory");
    *after = p;
    return MW_OK;
}

static mw_status refill(nj *j, mw_input *in) {
    if (in->end - in->pos > j->ctx->max_line + 2)
        return mw_error_set(j->err, MW_ERANGE, j->name, j->rec_line, 0,
                            "line is longer than the limit of %zu bytes", j->ctx->max_line);
    mw_status st = mw_input_fill(in, in->pos, j->ctx->max_line + 2, j->name, j->err);
    if (st == MW_ERANGE)
        return mw_error_set(j->err, MW_ERANGE, j->name, j->rec_line, 0,
                            "line is longer than the limit of %zu bytes", j->ctx->max_line);
    return st;
}

/* Lines mode: one object per line. */
static mw_status read_lines(nj *j, mw_input *in) {
    mw_status st = MW_OK;
    while (st == MW_OK) {
        if (in->pos == in->end) {
            if (in->eof) break;
            st = refill(j, in);
            continue;
        }
        char *p = in->data + in->pos;
        j->buf = in->data;
        char *nl = memchr(p, '\n', in->end - in->pos);
        if (!nl && !in->eof) {
            st = refill(j, in);
            continue;
        }
        char *r = nl ? nl : in->data + in->end;
        j->rec = p;
        j->end = r;
        if ((size_t)(r - p) > j->ctx->max_line)
            return mw_error_set(j->err, MW_ERANGE, j->name, j->rec_line, 0,
                                "line is longer than the limit of %zu bytes", j->ctx->max_line);
        const char *q = ws(p, r);
        if (q == r) {
            j->b->t->n_blank_lines++;
        } else {
            const char *after;
            st = parse_row(j, q, &after);
            if (st != MW_OK) break;
            after = ws(after, r);
            if (after != r) {
                fail_at(j, after, MW_EPARSE,
                        "expected the end of the line after the record's object, got %s",
                        mw_jscan_describe(after, r));
                st = MW_EPARSE;
                break;
            }
        }
        in->pos = nl ? (size_t)(nl - in->data) + 1 : in->end;
        j->rec_line++;
    }
    return st;
}

/* Finds the end of the object starting at p (string-aware brace matching);
 * returns NULL when the buffer ends first. Counts nothing; parse_row validates. */
static const char *object_end(const char *p, const char *end) {
    int depth = 0, in_str = 0;
    for (; p < end; p++) {
        char c = *p;
        if (in_str) {
            if (c == '\\')
                p++;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"')
            in_str = 1;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']') {
            if (--depth == 0) return p + 1;
        }
    }
    return NULL;
}

static void count_lines(nj *j, const char *a, const char *b) {
    for (; a < b; a++)
        j->rec_line += *a == '\n';
}

/* Array mode: [ {..}, {..} ] possibly over many lines. */
static mw_status read_array(nj *j, mw_input *in) {
    int state = 0; /* 0: before '[', 1: before a value or ']', 2: before ',' or ']', 3: after ']' */
    for (;;) {
        char *p = in->data + in->pos, *end = in->data + in->end;
        j->buf = in->data;
        j->rec = p;
        j->end = end;
        const char *q = p;
        while (q < end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r'))
            q++;
        count_lines(j, p, q);
        in->pos = (size_t)(q - in->data);
        if (q == end) {
            if (!in->eof) {
                mw_status st = refill(j, in);
                if (st != MW_OK) return st;
                continue;
            }
            if (state == 3) return MW_OK;
            j->rec = q;
            fail(j, q, "unterminated JSON array (missing ']')");
            return MW_EPARSE;
        }
        j->rec = q;
        if (state == 0) {
            if (*q == '\xEF' && end - q >= 3 && memcmp(q, "\xEF\xBB\xBF", 3) == 0) {
                in->pos += 3;
                continue;
            }
            if (*q != '[') break; /* not reached: the caller checked */
            in->pos++;
            state = 1;
            continue;
        }
        if (state == 3) {
            fail_at(j, q, MW_EPARSE, "expected the end of the input after the closing ']', got %s",
                    mw_jscan_describe(q, end));
            return MW_EPARSE;
        }
        if (*q == ']' && (state == 2 || j->b->t->nrows == 0)) {
            in->pos++;
            state = 3;
            continue;
        }
        if (state == 2) {
            if (*q != ',') {
                fail_at(j, q, MW_EPARSE, "expected ',' or ']' in the array, got %s",
                        mw_jscan_describe(q, end));
                return MW_EPARSE;
            }
            in->pos++;
            state = 1;
            continue;
        }
        /* a record */
        const char *oe = *q == '{' ? object_end(q, end) : q + 1;
        if (!oe) {
            if ((size_t)(end - q) > j->ctx->max_line)
                return mw_error_set(j->err, MW_ERANGE, j->name, j->rec_line, 0,
                                    "a record is longer than the limit of %zu bytes",
                                    j->ctx->max_line);
            if (!in->eof) {
                mw_status st = refill(j, in);
                if (st != MW_OK) return st;
                continue;
            }
            oe = end; /* let the parser report what is missing */
        }
        j->end = oe;
        const char *after;
        mw_status st = parse_row(j, q, &after);
        if (st != MW_OK) return st;
        count_lines(j, q, after);
        in->pos = (size_t)(after - in->data);
        state = 2;
    }
    return MW_OK;
}

mw_status mw_data_read_ndjson(mw_read_ctx *ctx, mw_tb *b, mw_error *err) {
    nj j;
    memset(&j, 0, sizeof j);
    j.ctx = ctx;
    j.b = b;
    j.err = err;
    j.name = ctx->name;
    j.rec_line = 1;
    mw_input *in = ctx->in;
    mw_status st = MW_OK;
    /* BOM, then find the first non-blank byte */
    int array = 0;
    for (;;) {
        size_t i = in->pos;
        if (in->end - i >= 3 && memcmp(in->data + i, "\xEF\xBB\xBF", 3) == 0) in->pos = i += 3;
        while (i < in->end && (in->data[i] == ' ' || in->data[i] == '\t' || in->data[i] == '\r' ||
                               in->data[i] == '\n'))
            i++;
        if (i < in->end) {
            array = in->data[i] == '[';
            break;
        }
        if (in->eof) break;
        st = refill(&j, in);
        if (st != MW_OK) return st;
    }
    j.set_cap = 64;
    j.set_row = calloc(j.set_cap, sizeof *j.set_row);
    if (!j.set_row) return mw_error_set(err, MW_ENOMEM, j.name, 0, 0, "out of memory");
    st = array ? read_array(&j, in) : read_lines(&j, in);
    if (st != MW_OK && err && err->status == MW_OK)
        mw_error_set(err, st, j.name, j.rec_line, 0, "%s", mw_status_str(st));
    free(j.kbuf);
    free(j.sbuf);
    free(j.set_row);
    return st;
}
