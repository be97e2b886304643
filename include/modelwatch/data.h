/*
 * modelwatch data: reading tabular files (CSV, NDJSON/JSONL, optionally gzip)
 * into columnar tables, type inference, missing-value tokens, schemas, and the
 * exact fast number parser.
 *
 * A table is columnar: numeric columns are arrays of double (NaN marks a missing
 * value), categorical columns are arrays of dense codes into a string dictionary
 * (MW_CODE_MISSING marks a missing value). Missing values are: an empty field,
 * JSON null, and pandas' default NA tokens ("", "#N/A", "#N/A N/A", "#NA",
 * "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A", "NA",
 * "NULL", "NaN", "None", "n/a", "nan", "null").
 *
 * Type inference: a column is numeric when every non-missing value parses as a
 * number, else categorical. A schema (YAML, column -> numeric|categorical|text|ignore)
 * overrides inference; values that do not fit an imposed numeric type are
 * counted as type errors (with a few examples) and stored as missing.
 *
 * Text columns: a column the schema types `text`, or a categorical column that
 * looks like free text (MW_TEXT_INFER_* below), leaves the reader expanded into
 * MW_TEXT_NDESC descriptor columns "X.chars", "X.bytes", ..., "X.script"
 * (text.h), replacing X; its values are never kept. The table lists such X in
 * text_cols.
 */
#ifndef MODELWATCH_DATA_H
#define MODELWATCH_DATA_H

#include "modelwatch/core.h"
#include "modelwatch/text.h"

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mw_coltype {
    MW_TYPE_AUTO = 0, /* infer (schemas only) */
    MW_TYPE_NUMERIC,
    MW_TYPE_CATEGORICAL,
    MW_TYPE_IGNORE, /* read past, no values kept */
    MW_TYPE_TEXT    /* schemas only: free text, expanded into descriptor columns */
} mw_coltype;

/* "auto", "numeric", "categorical", "ignore", "text" */
const char *mw_coltype_name(mw_coltype t);

/* ---- string dictionary (interned categories with dense codes) ----------- */

#define MW_CODE_MISSING UINT32_MAX

typedef struct mw_dict mw_dict;
mw_dict *mw_dict_new(void);
void mw_dict_free(mw_dict *d);
/* Code of s (len bytes, need not be NUL-terminated), adding it when new. */
mw_status mw_dict_intern(mw_dict *d, const char *s, size_t len, uint32_t *code);
/* 1 and the code when present, else 0. */
int mw_dict_find(const mw_dict *d, const char *s, size_t len, uint32_t *code);
size_t mw_dict_size(const mw_dict *d);
/* NUL-terminated string of a code, valid while the dictionary lives; len may be NULL. */
const char *mw_dict_str(const mw_dict *d, uint32_t code, size_t *len);

/* ---- tables --------------------------------------------------------------- */

#define MW_TYPE_ERROR_EXAMPLES 3

typedef struct mw_column {
    char *name;
    mw_coltype type;        /* NUMERIC, CATEGORICAL or IGNORE once read */
    double *num;            /* NUMERIC: nrows values, NaN = missing; NULL otherwise */
    uint32_t *codes;        /* CATEGORICAL: nrows codes, MW_CODE_MISSING = missing */
    mw_dict *dict;          /* CATEGORICAL: code -> text */
    uint64_t n_missing;     /* empty, null and NA-token values */
    uint64_t n_type_errors; /* values not fitting an imposed type (stored as missing) */
    char type_error_example[MW_TYPE_ERROR_EXAMPLES][64]; /* first few offending texts */
    uint64_t type_error_line[MW_TYPE_ERROR_EXAMPLES];    /* and their 1-based lines */
    size_t nrows; /* values held in num / codes (the table's nrows), for mw_column_convert */
} mw_column;

typedef struct mw_table {
    char *source; /* file name used in messages ("-" for stdin) */
    size_t ncols;
    mw_column *cols;
    size_t nrows;              /* data rows kept (blank lines are not rows) */
    uint64_t *row_hash;        /* nrows 64-bit hashes of each row's values, for duplicate rows */
    uint64_t n_blank_lines;    /* blank lines skipped (counted, reported) */
    uint64_t n_empty_rows;     /* rows whose every field is missing (kept as rows) */
    uint64_t n_arrays_skipped; /* NDJSON: array values skipped (not columns) */
    uint64_t n_duplicate_rows; /* rows equal to an earlier row, once counted */
    int duplicates_counted;    /* mw_table_count_duplicates has run (row_hash freed) */
    char **text_cols;          /* text columns expanded into descriptor columns */
    size_t ntext;
} mw_table;

/* Counts the rows equal to an earlier row (n_duplicate_rows) from the row
 * hashes, sorting them in place (no extra memory), then frees the hashes:
 * call it as soon as a table is read when memory is tight. Idempotent. */
void mw_table_count_duplicates(mw_table *t);

/* Index of the column named name, or -1. */
long mw_table_find(const mw_table *t, const char *name);
void mw_table_free(mw_table *t);

/* ---- schema ---------------------------------------------------------------- */

typedef struct mw_schema mw_schema;
/* YAML mapping of column name -> numeric|categorical|text|ignore, either at top level or
 * under a `columns:` key. Errors name the file, line and what was expected. */
mw_status mw_schema_load(const char *path, mw_schema **out, mw_error *err);
mw_status mw_schema_parse(const char *name, const char *text, size_t len, mw_schema **out,
                          mw_error *err);
mw_coltype mw_schema_type(const mw_schema *s, const char *column); /* AUTO when absent */
void mw_schema_free(mw_schema *s);

/* ---- reading --------------------------------------------------------------- */

typedef enum mw_format { MW_FMT_AUTO = 0, MW_FMT_CSV, MW_FMT_NDJSON } mw_format;

typedef struct mw_read_options {
    mw_format format;        /* AUTO: by extension (.csv, .jsonl, .ndjson, .json, each
                                optionally .gz); otherwise by the first non-blank byte
                                ('{' or '[' = NDJSON) */
    const mw_schema *schema; /* optional type overrides */
    size_t max_line_bytes;   /* 0 = default (8 MiB): a longer line is an error */
    size_t max_columns;      /* 0 = default (10000) */
    int expand_arrays;       /* NDJSON: a non-empty array of numbers (or nulls) under key K
                                becomes the numeric columns K[0], K[1], ... (embeddings);
                                other arrays are skipped and counted either way */
    const mw_text_options *text; /* refusal phrases for text columns; NULL = defaults */
    int no_text_inference;       /* 1: only schema `text` columns are text */
} mw_read_options;

/* Reads a file ("-" = stdin; gzip detected by magic bytes) into a new table. */
mw_status mw_table_read(const char *path, const mw_read_options *opt, mw_table **out,
                        mw_error *err);
/* Same over a memory buffer; name is used in messages. */
mw_status mw_table_read_mem(const char *name, const char *buf, size_t len,
                            const mw_read_options *opt, mw_table **out, mw_error *err);

/*
 * Converts a column to another type, used to reconcile a current table with its
 * reference. CATEGORICAL -> NUMERIC: each category that parses as a number
 * becomes that number, others count as type errors and become missing.
 * NUMERIC -> CATEGORICAL: each number becomes the category of its shortest
 * round-trip text ("0.1", "3", "1e+300").
 */
mw_status mw_column_convert(mw_column *col, mw_coltype to, mw_error *err);

/* ---- text columns (text_cols.c) ---------------------------------------------
 *
 * Inference: a column not typed by the schema is text when it was read as
 * categorical, has at least MW_TEXT_INFER_MIN_VALUES non-missing values, its
 * distinct values are at least half of them, their mean length is at least
 * MW_TEXT_INFER_MIN_BYTES bytes, and at least half of the distinct values
 * contain a space (which tells prose from long identifiers and hashes).
 */
#define MW_TEXT_INFER_MIN_VALUES 10
#define MW_TEXT_INFER_MIN_BYTES 40

/* Replaces column col (categorical, or numeric: converted first) by its
 * descriptor columns, computed once per distinct value. MW_EINVAL naming the
 * column when a descriptor column's name is taken. */
mw_status mw_table_expand_text(mw_table *t, size_t col, const mw_text_options *opt, mw_error *err);
/* Expands every text column: those the schema types text, those named in
 * names[0..n) (when present), and with infer those that look like text. */
mw_status mw_table_expand_texts(mw_table *t, const mw_schema *schema, const char *const *names,
                                size_t n, int infer, const mw_text_options *opt, mw_error *err);
/* Makes two tables agree: a column expanded as text in one and still present
 * in the other is expanded there too (a small current file may not meet the
 * inference rule that its reference met). */
mw_status mw_table_align_text(mw_table *a, mw_table *b, const mw_text_options *opt, mw_error *err);

/* ---- scalars -------------------------------------------------------------- */

/* Parses the whole of s[0..len) as a decimal number, exactly (correctly rounded,
 * as strtod), accepting what Python's float() accepts except underscores:
 * optional surrounding spaces, sign, digits, '.', exponent, "inf", "infinity".
 * NA tokens are not numbers. Returns 1 on success. */
int mw_parse_double(const char *s, size_t len, double *out);
/* 1 when s[0..len) is a missing-value token (list above). */
int mw_is_na_token(const char *s, size_t len);
/* Shortest text that parses back to v (like Python's repr); returns its length.
 * buf must hold 32 bytes. */
size_t mw_format_double(double v, char *buf);

#ifdef __cplusplus
}
#endif
#endif
