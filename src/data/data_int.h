/*
 * Internal interface of the data module (src/data): shared between its files,
 * not installed, not part of the public contract in include/modelwatch/data.h.
 *
 * Pieces:
 *   hash.c      mw_data_hash64: 64-bit hash of a byte string (dictionary, row hashes)
 *   utf8.c      mw_data_utf8_check: UTF-8 validation with an ASCII fast path
 *   numparse.c  mw_data_parse_number: the number scanner used by the readers
 *   json_scan.c mw_jscan_*: JSON number grammar, \u digits, UTF-8 output, describe
 *   record.c    mw_record_parse / mw_record_iter (include/modelwatch/record.h)
 *   input.c     mw_input: bounded, refillable read buffer over fd / gzip / memory
 *   table.c     mw_tb: column builders (type inference, growth, switching)
 *   csv.c       mw_data_read_csv, ndjson.c mw_data_read_ndjson
 *
 * Everything hangs off the objects passed in; there is no global mutable state, so
 * two threads may read two files at once.
 */
#ifndef MW_DATA_INT_H
#define MW_DATA_INT_H

#include "modelwatch/data.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#define MW_DEFAULT_MAX_LINE ((size_t)8 << 20)
#define MW_DEFAULT_MAX_COLUMNS ((size_t)10000)

/* ---- hash.c --------------------------------------------------------------- */

uint64_t mw_data_hash64(const void *data, size_t len, uint64_t seed);
/* Mixes two 64-bit values into one (used to combine per-field hashes). */
uint64_t mw_data_mix64(uint64_t a, uint64_t b);

/* ---- utf8.c --------------------------------------------------------------- */

/* Returns len when s[0..len) is valid UTF-8 without NUL bytes, else the offset of
 * the first offending byte; *nul is set to 1 when that byte is a NUL. */
size_t mw_data_utf8_check(const char *s, size_t len, int *nul);

/* ---- numparse.c ------------------------------------------------------------ */

/*
 * Scans a number (sign, digits, '.', exponent; no spaces, no inf) starting at p,
 * not reading at or beyond end. On success stores the correctly rounded value and
 * returns the first byte after the number; returns NULL when p does not start with
 * a number. The caller checks that the returned byte is a delimiter.
 */
const char *mw_data_parse_number(const char *p, const char *end, double *out);
/* The same when the bytes up to limit (>= end) may be read: the 8-byte digit
 * loads then run to the end of the number instead of finishing byte by byte
 * (the last digits of most CSV fields). Digits still stop at end. */
const char *mw_data_parse_number_padded(const char *p, const char *end, const char *limit,
                                        double *out);

/* 1 when the whole of p[0..end) is a number (stored in *out, the value
 * mw_data_parse_number gives); 0 otherwise. Bytes up to limit (>= end) may be
 * read. */
int mw_data_parse_field(const char *p, const char *end, const char *limit, double *out);

/* A leading '-' or '+' of the number at *p: skips it, returns 1 for '-'. */
static inline int mw_data_take_sign(const char **p, const char *end) {
    const char *q = *p;
    if (q >= end || (*q != '-' && *q != '+')) return 0;
    *p = q + 1;
    return *q == '-';
}

/* The powers of ten that are exact doubles, 1e0 .. 1e22 (Clinger's fast path). */
extern const double mw_data_pow10_exact[23];

/* Eisel-Lemire (numparse.c): the bits of the positive double nearest w * 10^q
 * (w != 0) into *bits and 1, or 0 when the fast product leaves the rounding
 * undecided (then strtod decides). */
int mw_data_eisel_lemire(uint64_t w, int64_t q, uint64_t *bits);
/* strtod in the C locale on a NUL-terminated copy of s[0..len). */
double mw_data_strtod_c(const char *s, size_t len);

/* The value of w * 10^q, negated when neg, correctly rounded: w holds the first
 * 19 significant digits and trunc says that nonzero digits were dropped after
 * them; [start, stop) is the number's text, for the rare inputs that need
 * strtod. Inline: the whole-field parsers call it once per number. */
static inline double mw_data_decimal_to_double(uint64_t w, int64_t q, int trunc, int neg,
                                               const char *start, const char *stop) {
    double d;
    if (w == 0) {
        d = 0.0;
    } else if (!trunc && w <= (1ULL << 53) && q >= -22 && q <= 22) {
        d = (double)w; /* Clinger's fast path: both factors exact, one rounding */
        d = q < 0 ? d / mw_data_pow10_exact[-q] : d * mw_data_pow10_exact[q];
    } else {
        uint64_t bits, bits2;
        if (mw_data_eisel_lemire(w, q, &bits) &&
            (!trunc || (mw_data_eisel_lemire(w + 1, q, &bits2) && bits2 == bits)))
            memcpy(&d, &bits, sizeof d);
        else
            d = fabs(mw_data_strtod_c(start, (size_t)(stop - start)));
    }
    return neg ? -d : d;
}

/* A whole-field parser with mw_data_parse_field's contract and results, told
 * also `floor`, the first byte of the buffer that holds the field: bytes in
 * [floor, limit) may be read. */
typedef int (*mw_data_field_parser)(const char *floor, const char *p, const char *end,
                                    const char *limit, double *out);
/* numparse_ssse3.c: the fastest field parser this CPU runs (the SSSE3 one when
 * the CPU has SSSE3, else mw_data_parse_field), chosen once. */
mw_data_field_parser mw_data_field_parser_best(void);
/* The portable one, and the SSSE3 one (NULL on other architectures); for tests. */
int mw_data_parse_field_portable(const char *floor, const char *p, const char *end,
                                 const char *limit, double *out);
extern const mw_data_field_parser mw_data_parse_field_ssse3;


/* Value of 8 ASCII digits, first digit in the lowest byte (little-endian),
 * combined pairwise in three multiply-shift steps (SWAR). */
__attribute__((always_inline)) static inline uint64_t mw_data_eight_value(uint64_t v) {
    v -= 0x3030303030303030ULL;
    v = (v * 10 + (v >> 8)) & 0x00FF00FF00FF00FFULL;   /* pairs */
    v = (v * 100 + (v >> 16)) & 0x0000FFFF0000FFFFULL; /* quads */
    return (v * 10000 + (v >> 32)) & 0xFFFFFFFFULL;    /* octet */
}

/* ---- json_scan.c: pieces shared by the JSON readers (ndjson.c, record.c) ---- */

/* End of the JSON number at p (-?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?), or
 * NULL when p does not start with one. Does not look at the byte after it. */
const char *mw_jscan_number(const char *p, const char *end);
/* Four hex digits at p into *u; 0 when there are fewer or one is not hex. */
int mw_jscan_hex4(const char *p, const char *end, unsigned *u);
/* Writes code point u (< 0x110000, not a surrogate) as UTF-8 at o (room for 4
 * bytes); returns the byte count. */
size_t mw_jscan_utf8_put(char *o, unsigned u);
/* What stands at p, for messages: "an object", "a number", "the end of the line". */
const char *mw_jscan_describe(const char *p, const char *end);

/* ---- input.c --------------------------------------------------------------- */

/*
 * A read buffer: data[pos..end) is unread input. mw_input_fill keeps the bytes
 * from `keep` on (moving them to the front), grows the buffer when they fill it,
 * and reads more. Memory stays bounded: the buffer is one chunk (1 MiB) unless one
 * record is longer, and never exceeds max_record + one chunk.
 */
typedef struct mw_input {
    char *data;          /* owned unless mem */
    size_t cap;          /* allocated bytes (data has cap + 8 bytes, zero padded) */
    size_t pos, end;     /* unread window */
    int eof;             /* no more bytes will arrive */
    int fd;              /* -1 when none */
    int own_fd;          /* close fd at the end */
    void *gz;            /* gzFile when the stream is gzip */
    int mem;             /* data points to the caller's buffer */
    uint64_t total_size; /* size of a regular file (0 if unknown), for row estimates */
    uint64_t consumed;   /* bytes discarded before data[0], for size estimates */
} mw_input;

mw_status mw_input_open_file(mw_input *in, const char *path, mw_error *err);
void mw_input_open_mem(mw_input *in, const char *buf, size_t len);
/* Reads more bytes. Returns MW_OK (possibly with in->eof set and nothing new),
 * MW_EIO on read errors, MW_ERANGE when the kept data would exceed max_keep. */
mw_status mw_input_fill(mw_input *in, size_t keep, size_t max_keep, const char *name,
                        mw_error *err);
void mw_input_close(mw_input *in);

/* ---- table.c: column builders ---------------------------------------------- */

/* Builder state of one column beside its mw_column. */
typedef struct mw_colstate {
    mw_coltype imposed; /* from the schema: AUTO, NUMERIC, CATEGORICAL, TEXT or IGNORE */
} mw_colstate;

typedef struct mw_tb {
    mw_table *t;     /* the table being built (owned by the builder until done) */
    mw_colstate *st; /* per column */
    size_t cols_cap;
    size_t rows_cap; /* capacity of every value array and of row_hash */
    const mw_schema *schema;
    const char *name; /* source name for messages */
    mw_dict *names;   /* column name -> index (codes equal indices) */
} mw_tb;

mw_status mw_tb_init(mw_tb *b, const char *name, const mw_read_options *opt);
/* Adds a column (name need not be NUL-terminated); earlier rows get missing values.
 * MW_EPARSE with a message when the name already exists. */
mw_status mw_tb_add_column(mw_tb *b, const char *name, size_t len, uint64_t line, mw_error *err);
/* Makes room for row index `row` in every column. */
mw_status mw_tb_reserve(mw_tb *b, size_t rows);
/* Stores a text field (CSV field or JSON string) for row b->t->nrows.
 * is_json_string: a JSON string, which makes an AUTO column categorical. */
mw_status mw_tb_text(mw_tb *b, size_t col, const char *s, size_t len, uint64_t line,
                     int is_json_string);
/* Stores a parsed number whose source text is s[0..len). */
mw_status mw_tb_number(mw_tb *b, size_t col, double v, const char *s, size_t len);
/* Stores a missing value (counted). */
void mw_tb_missing(mw_tb *b, size_t col);
/* Hands the table over (shrinking arrays); the builder is left empty. */
mw_table *mw_tb_finish(mw_tb *b);
/* NUMERIC -> CATEGORICAL of rows [0, n) (codes array gets cap entries). */
mw_status mw_data_num_to_cat(mw_column *c, size_t n, size_t cap);
/* Counts a type error and keeps the first examples. */
void mw_data_type_error(mw_column *c, const char *s, size_t len, uint64_t line);
void mw_tb_destroy(mw_tb *b);
/* Frees a column's name and values (not the column itself). */
void mw_data_column_free(mw_column *c);

/* ---- readers ------------------------------------------------------------------ */

typedef struct mw_read_ctx {
    mw_input *in;
    const char *name;
    size_t max_line;
    size_t max_columns;
    const mw_read_options *opt;
} mw_read_ctx;

mw_status mw_data_read_csv(mw_read_ctx *ctx, mw_tb *b, mw_error *err);
mw_status mw_data_read_ndjson(mw_read_ctx *ctx, mw_tb *b, mw_error *err);

#endif
