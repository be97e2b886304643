/*
 * CSV reader (RFC 4180): header row required; fields separated by ','; records end
 * with LF or CRLF; a field that starts with '"' is quoted (commas, CR/LF and
 * doubled quotes "" inside); a quote elsewhere in an unquoted field is a literal
 * character (as pandas reads it); a UTF-8 BOM before the header is skipped; empty
 * lines are counted in n_blank_lines and are not rows (also before the header).
 *
 * Two paths per record:
 *  - fast: the record holds no '"' (known from one memchr per buffer, tracked as
 *    the offset of the next quote). Its extent is found with memchr('\n'), and
 *    fields are consumed in place: numeric columns parse the number directly from
 *    the buffer (the scanner's stop byte must be ',' or the record end), others
 *    find the next ',' and go through the column builder. The row hash is the hash
 *    of the record bytes, which equal the canonical form below.
 *  - general (header, records with quotes): fields are decoded into a scratch
 *    buffer first, so nothing reaches the columns until the whole record is in
 *    the buffer; when it is not, the input is refilled and the record re-parsed.
 *
 * Row hash: mw_data_hash64 of the row's canonical text, the kept (non-ignored)
 * fields joined by ',' where a field holding ',', '"' or LF is quoted with its
 * quotes doubled. Equal field texts give equal hashes whatever the quoting.
 *
 * Errors (all with file, line and 1-based field): a record with more or fewer
 * fields than the header, an unterminated quote (the line where it opened),
 * a character after a closing quote, invalid UTF-8 and NUL bytes (binary data),
 * an empty file (no header row), duplicate or too many header names, a line (or
 * record) longer than max_line bytes.
 *
 * Memory: the input buffer (see input.c), the column arrays and small scratch
 * buffers that grow to the longest record.
 */
#include "data/data_int.h"
#include "data/numparse_ssse3.h"

#include <stdio.h>
#include <stdlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef struct csv_field {
    size_t off, len; /* decoded text in scratch */
} csv_field;

typedef struct csv csv;
struct csv {
    mw_read_ctx *ctx;
    mw_tb *b;
    mw_error *err;
    mw_input *in;
    const char *name;
    uint64_t line; /* line number of the record being read */
    size_t ncols;
    int any_ignored;
    size_t nq, nq_until; /* next '"' offset (SIZE_MAX: none in [.., nq_until)) */
    char *scratch;
    size_t scratch_len, scratch_cap;
    csv_field *fields;
    size_t nfields, fields_cap, fields_total; /* stored, capacity, seen */
    char *canon;
    size_t canon_len, canon_cap;
    uint64_t data_start;  /* input offset of the first data row (row estimate) */
    uint32_t *commas;     /* ncols comma offsets of the current fast-path record */
    struct cat_hit *hits; /* CAT_WAYS entries per column below CAT_COLS (see feed_fast) */
    /* the fast path: feed_fast_ssse3 where the CPU has SSSE3, else feed_fast_portable */
    mw_status (*feed_fast)(struct csv *c, const char *p, const char *r, size_t ncomma);
};

/*
 * Recently seen short texts of categorical columns, so that a repeated value
 * (the usual case: "DE", "ios") skips the UTF-8 check, the NA test and the
 * dictionary's hash and probe (about 250 instructions per field, a fifth of a
 * row of the drift benchmark). An entry is made only after the text went
 * through feed_text and was stored as a category, so a hit stores the same
 * code the slow path would; a categorical column never changes type or
 * dictionary afterwards.
 */
typedef struct cat_hit {
    uint64_t word; /* the text's bytes, zero padded */
    uint32_t code;
    uint32_t len; /* 1..8; 0: empty entry */
} cat_hit;
#define CAT_WAYS 64 /* 32 pairs per column */
#define CAT_COLS 256

enum { PARSE_OK = 0, PARSE_MORE = 1, PARSE_ERR = 2 };

static int grow(char **buf, size_t *cap, size_t need) {
    if (need <= *cap && *buf) return 1; /* (always allocate: no NULL + 0 arithmetic) */
    size_t n = *cap ? *cap : 256;
    while (n < need)
        n *= 2;
    char *p = realloc(*buf, n);
    if (!p) return 0;
    *buf = p;
    *cap = n;
    return 1;
}

static int scratch_put(csv *c, const char *s, size_t n) {
    if (!grow(&c->scratch, &c->scratch_cap, c->scratch_len + n)) return 0;
    memcpy(c->scratch + c->scratch_len, s, n);
    c->scratch_len += n;
    return 1;
}

static int field_push(csv *c, size_t off, size_t len) {
    c->fields_total++;
    size_t limit = (c->ncols ? c->ncols : c->ctx->max_columns) + 1;
    if (c->nfields >= limit) return 1; /* counted, not stored */
    if (c->nfields == c->fields_cap) {
        size_t n = c->fields_cap ? c->fields_cap * 2 : 64;
        csv_field *f = realloc(c->fields, n * sizeof *f);
        if (!f) return 0;
        c->fields = f;
        c->fields_cap = n;
    }
    c->fields[c->nfields].off = off;
    c->fields[c->nfields].len = len;
    c->nfields++;
    return 1;
}

static mw_status nomem(csv *c) {
    return mw_error_set(c->err, MW_ENOMEM, c->name, c->line, 0, "out of memory");
}

/* Appends one field's canonical text (see the header comment) and a ','. */
static int canon_add(csv *c, const char *s, size_t n) {
    int quote = memchr(s, ',', n) || memchr(s, '"', n) || memchr(s, '\n', n);
    if (!grow(&c->canon, &c->canon_cap, c->canon_len + 2 * n + 3)) return 0;
    char *o = c->canon + c->canon_len;
    if (!quote) {
        memcpy(o, s, n);
        o += n;
    } else {
        *o++ = '"';
        for (size_t i = 0; i < n; i++) {
            if (s[i] == '"') *o++ = '"';
            *o++ = s[i];
        }
        *o++ = '"';
    }
    *o++ = ',';
    c->canon_len = (size_t)(o - c->canon);
    return 1;
}

static uint64_t canon_hash(csv *c) {
    size_t n = c->canon_len ? c->canon_len - 1 : 0; /* without the last ',' */
    return mw_data_hash64(c->canon, n, 0);
}

static mw_status check_text(csv *c, const char *s, size_t n, size_t field) {
    int nul;
    size_t bad = mw_data_utf8_check(s, n, &nul);
    if (bad == n) return MW_OK;
    if (nul)
        return mw_error_set(c->err, MW_EPARSE, c->name, c->line, field,
                            "NUL byte in field %zu: this looks like binary data, not CSV text",
                            field);
    return mw_error_set(c->err, MW_EPARSE, c->name, c->line, field,
                        "invalid UTF-8 in field %zu (byte 0x%02x at byte %zu of the field)", field,
                        (unsigned char)s[bad], bad + 1);
}

static mw_status too_long(csv *c) {
    return mw_error_set(c->err, MW_ERANGE, c->name, c->line, 0,
                        "line is longer than the limit of %zu bytes (is this a CSV file?)",
                        c->ctx->max_line);
}

/*
 * Parses one record starting at in->pos into fields (general path). Returns
 * PARSE_OK with *next set past the record terminator and *nlines the number of
 * lines the record spans, PARSE_MORE when the buffer ends inside the record, or
 * PARSE_ERR with c->err filled.
 */
static int parse_general(csv *c, size_t *next, uint64_t *nlines) {
    const char *base = c->in->data;
    const char *p = base + c->in->pos, *end = base + c->in->end;
    const char *rec = p;
    int eof = c->in->eof;
    uint64_t lines = 0;
    c->scratch_len = 0;
    c->nfields = 0;
    c->fields_total = 0;
    for (;;) {
        size_t off = c->scratch_len;
        size_t fieldno = c->fields_total + 1;
        if ((size_t)(p - rec) > c->ctx->max_line) {
            too_long(c);
            return PARSE_ERR;
        }
        if (p < end && *p == '"') {
            uint64_t open_line = c->line + lines;
            p++;
            for (;;) {
                const char *q = memchr(p, '"', (size_t)(end - p));
                const char *stop = q ? q : end;
                for (const char *k = p; k < stop; k++)
                    lines += *k == '\n';
                if (!scratch_put(c, p, (size_t)(stop - p))) return nomem(c), PARSE_ERR;
                if ((size_t)(stop - rec) > c->ctx->max_line) {
                    too_long(c);
                    return PARSE_ERR;
                }
                if (!q) {
                    if (!eof) return PARSE_MORE;
                    mw_error_set(c->err, MW_EPARSE, c->name, open_line, fieldno,
                                 "unterminated quoted field: the quote opened on line %llu "
                                 "(field %zu) is never closed",
                                 (unsigned long long)open_line, fieldno);
                    return PARSE_ERR;
                }
                if (q + 1 < end && q[1] == '"') {
                    if (!scratch_put(c, "\"", 1)) return nomem(c), PARSE_ERR;
                    p = q + 2;
                    continue;
                }
                if (q + 1 == end && !eof) return PARSE_MORE;
                p = q + 1;
                break;
            }
            if (!field_push(c, off, c->scratch_len - off)) return nomem(c), PARSE_ERR;
            if (p == end) {
                if (!eof) return PARSE_MORE;
                break;
            }
            if (*p == ',') {
                p++;
                continue;
            }
            if (*p == '\n') {
                p++;
                lines++;
                break;
            }
            if (*p == '\r') {
                if (p + 1 == end && !eof) return PARSE_MORE;
                if (p + 1 < end && p[1] == '\n') {
                    p += 2;
                    lines++;
                    break;
                }
                if (p + 1 == end) {
                    p++;
                    break;
                }
            }
            unsigned char ch = (unsigned char)*p;
            if (ch >= 0x20 && ch < 0x7f)
                mw_error_set(c->err, MW_EPARSE, c->name, c->line + lines, fieldno,
                             "unexpected character '%c' after the closing quote of field %zu "
                             "(a quote inside a quoted field must be doubled: \"\")",
                             ch, fieldno);
            else
                mw_error_set(c->err, MW_EPARSE, c->name, c->line + lines, fieldno,
                             "unexpected byte 0x%02x after the closing quote of field %zu", ch,
                             fieldno);
            return PARSE_ERR;
        }
        /* unquoted field: up to ',' or '\n' (a '"' here is literal) */
        const char *k = p;
        while (k < end && *k != ',' && *k != '\n')
            k++;
        if (k == end && !eof) return PARSE_MORE;
        const char *fe = k;
        if (k < end && *k == '\n' && fe > p && fe[-1] == '\r')
            fe--;
        else if (k == end && fe > p && fe[-1] == '\r')
            fe--;
        if (!scratch_put(c, p, (size_t)(fe - p))) return nomem(c), PARSE_ERR;
        if (!field_push(c, off, (size_t)(fe - p))) return nomem(c), PARSE_ERR;
        if (k == end) {
            p = k;
            break;
        }
        p = k + 1;
        if (*k == '\n') {
            lines++;
            break;
        }
    }
    if ((size_t)(p - rec) > c->ctx->max_line + 2) {
        too_long(c);
        return PARSE_ERR;
    }
    *next = (size_t)(p - base);
    *nlines = lines;
    return PARSE_OK;
}

static mw_status refill(csv *c) {
    mw_input *in = c->in;
    if (in->end - in->pos > c->ctx->max_line + 2) return too_long(c);
    size_t keep = in->pos;
    mw_status st = mw_input_fill(in, keep, c->ctx->max_line + 2, c->name, c->err);
    if (st == MW_ERANGE) return too_long(c);
    if (st != MW_OK) return st;
    c->nq = SIZE_MAX;
    c->nq_until = in->pos;
    return MW_OK;
}

static mw_status ragged(csv *c, size_t got) {
    size_t col = got > c->ncols ? c->ncols + 1 : got + 1;
    return mw_error_set(c->err, MW_EPARSE, c->name, c->line, col,
                        "row has %zu field%s but the header has %zu", got, got == 1 ? "" : "s",
                        c->ncols);
}

/* Feeds one non-fast-path field text to column col; counts missing in *nmiss. */
static mw_status feed_text(csv *c, size_t col, const char *s, size_t n, size_t *nmiss) {
    mw_status st = check_text(c, s, n, col + 1);
    if (st != MW_OK) return st;
    if (mw_is_na_token(s, n)) {
        mw_tb_missing(c->b, col);
        (*nmiss)++;
        return MW_OK;
    }
    st = mw_tb_text(c->b, col, s, n, c->line, 0);
    if (st != MW_OK) return nomem(c);
    return MW_OK;
}

static mw_status end_row(csv *c, uint64_t hash, size_t nmiss) {
    mw_table *t = c->b->t;
    t->row_hash[t->nrows] = hash;
    if (nmiss == c->ncols) t->n_empty_rows++;
    t->nrows++;
    if (t->nrows == 1024 && c->in->total_size) {
        /* Estimate the row count from the bytes the first rows took, so that the
         * column arrays are allocated once (untouched pages cost no memory). */
        uint64_t used = c->in->consumed + c->in->pos - c->data_start;
        if (used > 0) {
            double est = (double)c->in->total_size / ((double)used / 1024.0) * 1.05 + 1024;
            if (est > 1e10) est = 1e10;
            if (mw_tb_reserve(c->b, (size_t)est) != MW_OK) return nomem(c);
        }
    }
    if (t->nrows == c->b->rows_cap && mw_tb_reserve(c->b, t->nrows + 1) != MW_OK) return nomem(c);
    return MW_OK;
}

/* A record that went through parse_general: feed its decoded fields. */
static mw_status feed_general(csv *c) {
    if (c->fields_total != c->ncols) return ragged(c, c->fields_total);
    size_t nmiss = 0;
    c->canon_len = 0;
    for (size_t i = 0; i < c->ncols; i++) {
        const char *s = c->scratch + c->fields[i].off;
        size_t n = c->fields[i].len;
        mw_status st = feed_text(c, i, s, n, &nmiss);
        if (st != MW_OK) return st;
        if (c->b->st[i].imposed != MW_TYPE_IGNORE && !canon_add(c, s, n)) return nomem(c);
    }
    return end_row(c, canon_hash(c), nmiss);
}

/*
 * Finds the end of the record at p, the first '\n' in [p, end) (NULL when
 * there is none), and on the way the offsets of the commas before it into out
 * (at most max of them; *ncomma gets the total). SSE2 compares 16 bytes at a
 * time; the positions come from the bit masks. Knowing every field's end
 * before parsing lets the numbers of one record be converted independently
 * (no dependency chain through the scan position), which the CPU overlaps:
 * measured ~1.6x faster on the benchmark; finding the newline in the same pass
 * saves the memchr over each record (~3 % of reading).
 */
static const char *scan_record(const char *p, const char *end, uint32_t *out, size_t max,
                               size_t *ncomma) {
    size_t n = (size_t)(end - p), k = 0, i = 0;
#if defined(__SSE2__)
    const __m128i comma = _mm_set1_epi8(','), newline = _mm_set1_epi8('\n');
    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
        unsigned mn = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, newline));
        unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, comma));
        if (mn) m &= (mn & (0u - mn)) - 1; /* the commas before the newline */
        while (m) {
            if (k < max) out[k] = (uint32_t)(i + (unsigned)__builtin_ctz(m));
            k++;
            m &= m - 1;
        }
        if (mn) {
            *ncomma = k;
            return p + i + (unsigned)__builtin_ctz(mn);
        }
    }
#endif
    for (; i < n; i++) {
        if (p[i] == '\n') {
            *ncomma = k;
            return p + i;
        }
        if (p[i] == ',') {
            if (k < max) out[k] = (uint32_t)i;
            k++;
        }
    }
    *ncomma = k;
    return NULL;
}

/* One number field [f, fe) into *v (the parsers' contract), by the inline
 * SSSE3 parser when vec (only in code compiled for SSSE3). */
static inline __attribute__((always_inline)) int number_at(const char *floor, const char *f,
                                                           const char *fe, const char *limit,
                                                           double *v, int vec) {
#if MW_DATA_HAVE_SSSE3_PARSER
    if (vec) return mw_data_parse_field_vec(floor, f, fe, limit, v);
#endif
    (void)floor;
    (void)vec;
    return mw_data_parse_field(f, fe, limit, v);
}

/* Fast path over a complete record [p, r) holding no quote, whose commas
 * scan_record found (ncomma of them). Instantiated twice (below): with vec the
 * numbers go through the inline SSSE3 parser, else through the portable one. */
static inline __attribute__((always_inline)) mw_status
feed_fast_body(csv *c, const char *p, const char *r, size_t ncomma, int vec) {
    mw_table *t = c->b->t;
    mw_column *cols = t->cols;
    size_t row = t->nrows, nmiss = 0;
    size_t ncols = c->ncols;
    size_t n = (size_t)(r - p);
    if (ncomma + 1 != ncols) return ragged(c, ncomma + 1);
    c->commas[ncols - 1] = (uint32_t)n; /* the last field ends at the record end */
    c->canon_len = 0;
    const char *f = p;
    /* readable bytes: the input buffer is allocated 8 bytes beyond its capacity
     * (a caller's memory buffer is not) */
    const char *limit = c->in->mem ? c->in->data + c->in->end : c->in->data + c->in->cap + 8;
    for (size_t i = 0; i < ncols; i++) {
        const char *fe = p + c->commas[i];
        size_t flen = (size_t)(fe - f);
        cat_hit *hit = NULL;
        uint64_t word = 0;
        if (cols[i].type == MW_TYPE_NUMERIC) {
            double v;
            if (number_at(c->in->data, f, fe, limit, &v, vec)) {
                cols[i].num[row] = v;
                goto next;
            }
        } else if (cols[i].type == MW_TYPE_CATEGORICAL && flen - 1 < 8 && c->hits && i < CAT_COLS &&
                   limit - f >= 8) {
            memcpy(&word, f, 8);
            word &= ~0ULL >> (8 * (8 - flen)); /* little-endian: the first flen bytes */
            /* two candidate entries (a pair), so two texts that hash alike can both stay */
            hit = &c->hits[i * CAT_WAYS + (((word ^ flen) * 0x9E3779B97F4A7C15ULL) >> 58 & ~1ULL)];
            if (hit->len == flen && hit->word == word) {
                cols[i].codes[row] = hit->code;
                goto next;
            }
            if (hit[1].len == flen && hit[1].word == word) {
                cols[i].codes[row] = hit[1].code;
                goto next;
            }
            if (hit->len) hit += 1; /* refill the second entry once the first is taken */
        }
        mw_status st = feed_text(c, i, f, flen, &nmiss);
        if (st != MW_OK) return st;
        if (hit && cols[i].codes[row] != MW_CODE_MISSING) {
            hit->word = word;
            hit->len = (uint32_t)flen;
            hit->code = cols[i].codes[row];
        }
    next:
        if (c->any_ignored && c->b->st[i].imposed != MW_TYPE_IGNORE &&
            !canon_add(c, f, (size_t)(fe - f)))
            return nomem(c);
        f = fe + 1;
    }
    uint64_t h = c->any_ignored ? canon_hash(c) : mw_data_hash64(p, n, 0);
    return end_row(c, h, nmiss);
}

static mw_status feed_fast_portable(csv *c, const char *p, const char *r, size_t ncomma) {
    return feed_fast_body(c, p, r, ncomma, 0);
}

#if MW_DATA_HAVE_SSSE3_PARSER
SSSE3 static mw_status feed_fast_ssse3(csv *c, const char *p, const char *r, size_t ncomma) {
    return feed_fast_body(c, p, r, ncomma, 1);
}
#endif

/* The fast path for this CPU. */
static mw_status (*feed_fast_best(void))(csv *, const char *, const char *, size_t) {
#if MW_DATA_HAVE_SSSE3_PARSER
    if (mw_data_field_parser_best() == mw_data_parse_field_ssse3) return feed_fast_ssse3;
#endif
    return feed_fast_portable;
}

static mw_status read_header(csv *c) {
    mw_input *in = c->in;
    /* BOM */
    for (;;) {
        if (in->end - in->pos >= 3 || in->eof) break;
        mw_status st = refill(c);
        if (st != MW_OK) return st;
    }
    if (in->end - in->pos >= 3 && memcmp(in->data + in->pos, "\xEF\xBB\xBF", 3) == 0) in->pos += 3;
    c->line = 1;
    for (;;) {
        /* blank lines before the header */
        if (in->pos < in->end && in->data[in->pos] == '\n') {
            in->pos++;
            c->line++;
            c->b->t->n_blank_lines++;
            continue;
        }
        if (in->end - in->pos >= 2 && in->data[in->pos] == '\r' && in->data[in->pos + 1] == '\n') {
            in->pos += 2;
            c->line++;
            c->b->t->n_blank_lines++;
            continue;
        }
        if (in->pos == in->end || (in->end - in->pos == 1 && in->data[in->pos] == '\r')) {
            if (in->eof)
                return mw_error_set(c->err, MW_EPARSE, c->name, 0, 0,
                                    "no header row: the file is empty");
            mw_status st = refill(c);
            if (st != MW_OK) return st;
            continue;
        }
        size_t next;
        uint64_t nl;
        int r = parse_general(c, &next, &nl);
        if (r == PARSE_ERR) return c->err ? c->err->status : MW_EPARSE;
        if (r == PARSE_MORE) {
            mw_status st = refill(c);
            if (st != MW_OK) return st;
            continue;
        }
        if (c->fields_total > c->ctx->max_columns)
            return mw_error_set(c->err, MW_ERANGE, c->name, c->line, 0,
                                "the header has %zu columns, more than the limit of %zu",
                                c->fields_total, c->ctx->max_columns);
        for (size_t i = 0; i < c->nfields; i++) {
            const char *s = c->scratch + c->fields[i].off;
            size_t n = c->fields[i].len;
            mw_status st = check_text(c, s, n, i + 1);
            if (st != MW_OK) return st;
            char unnamed[40];
            if (n == 0) {
                n = (size_t)snprintf(unnamed, sizeof unnamed, "Unnamed: %zu", i);
                s = unnamed;
            }
            st = mw_tb_add_column(c->b, s, n, c->line, c->err);
            if (st != MW_OK) return st;
            if (c->b->st[i].imposed == MW_TYPE_IGNORE) c->any_ignored = 1;
        }
        c->ncols = c->nfields;
        c->commas = malloc((c->ncols + 1) * sizeof *c->commas);
        if (!c->commas) return nomem(c);
        size_t nhit = (c->ncols < CAT_COLS ? c->ncols : CAT_COLS) * CAT_WAYS;
        c->hits = calloc(nhit, sizeof *c->hits); /* optional: NULL only loses speed */
        in->pos = next;
        c->line += nl;
        return MW_OK;
    }
}

mw_status mw_data_read_csv(mw_read_ctx *ctx, mw_tb *b, mw_error *err) {
    csv c;
    memset(&c, 0, sizeof c);
    c.ctx = ctx;
    c.b = b;
    c.err = err;
    c.in = ctx->in;
    c.feed_fast = feed_fast_best();
    c.name = ctx->name;
    c.nq = SIZE_MAX;
    c.nq_until = c.in->pos;
    mw_status st = read_header(&c);
    mw_input *in = c.in;
    c.data_start = in->consumed + in->pos;
    c.nq = SIZE_MAX;
    c.nq_until = in->pos;
    while (st == MW_OK) {
        size_t pos = in->pos, end = in->end;
        if (pos == end) {
            if (in->eof) break;
            st = refill(&c);
            continue;
        }
        char *base = in->data;
        char *p = base + pos;
        size_t ncomma;
        char *nl = (char *)scan_record(p, base + end, c.commas, c.ncols, &ncomma);
        if (!nl && !in->eof) {
            st = refill(&c);
            continue;
        }
        char *r = nl ? nl : base + end;
        size_t roff = (size_t)(r - base);
        if ((size_t)(r - p) > ctx->max_line + 1) {
            st = too_long(&c);
            break;
        }
        /* where is the next quote? */
        if (c.nq != SIZE_MAX && c.nq < pos) {
            c.nq = SIZE_MAX;
            c.nq_until = pos;
        }
        if (c.nq_until < pos) c.nq_until = pos;
        if (c.nq == SIZE_MAX && c.nq_until <= roff) {
            char *q = memchr(base + c.nq_until, '"', end - c.nq_until);
            if (q) c.nq = (size_t)(q - base);
            c.nq_until = end;
        }
        if (c.nq == SIZE_MAX || c.nq > roff) {
            char *re = r;
            if (re > p && re[-1] == '\r') re--;
            if (re == p) {
                b->t->n_blank_lines++;
            } else {
                st = c.feed_fast(&c, p, re, ncomma);
                if (st != MW_OK) break;
            }
            in->pos = nl ? roff + 1 : end;
            c.line++;
            continue;
        }
        size_t next;
        uint64_t lines;
        int pr = parse_general(&c, &next, &lines);
        if (pr == PARSE_MORE) {
            st = refill(&c);
            continue;
        }
        if (pr == PARSE_ERR) {
            st = err && err->status ? err->status : MW_EPARSE;
            break;
        }
        st = feed_general(&c);
        if (st != MW_OK) break;
        in->pos = next;
        c.line += lines ? lines : 1;
    }
    free(c.scratch);
    free(c.fields);
    free(c.canon);
    free(c.commas);
    free(c.hits);
    return st;
}
