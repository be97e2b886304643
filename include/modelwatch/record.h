/*
 * modelwatch records: one prediction as the monitor sees it, and the streaming
 * parser of NDJSON records (the daemon's hot path, POST /api/v1/records).
 *
 * Record format (DESIGN.md):
 *   {"model":"fraud","version":"3","id":"r-1","ts":1764382800.5,
 *    "features":{"amount":12.5,"country":"DE"},"prediction":1,
 *    "scores":{"0":0.1,"1":0.9},"latency_ms":8.2}
 * A record is a borrowed view: strings point into the input or the parser's
 * scratch and are valid until the next parse call (as in picohttpparser).
 */
#ifndef MODELWATCH_RECORD_H
#define MODELWATCH_RECORD_H

#include "modelwatch/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mw_value_kind { MW_VALUE_MISSING = 0, MW_VALUE_NUMBER, MW_VALUE_STRING } mw_value_kind;

/* One feature value. Strings are views (not NUL-terminated). */
typedef struct mw_feature {
    const char *name;
    size_t name_len;
    mw_value_kind kind;
    double number;
    const char *str;
    size_t str_len;
} mw_feature;

typedef struct mw_record {
    const char *model;
    size_t model_len;
    const char *version;
    size_t version_len;
    const char *id; /* NULL when absent */
    size_t id_len;
    double ts; /* seconds since the epoch; NAN = arrival time */
    const mw_feature *features;
    size_t nfeatures;
    mw_feature prediction;    /* kind MISSING when absent */
    mw_feature label;         /* the ground truth, in label lines; kind MISSING when absent */
    const mw_feature *scores; /* "scores" object: name = class, number = score */
    size_t nscores;
    double latency_ms; /* NAN when absent */
    const char *error; /* "error" string, NULL when absent */
    size_t error_len;
    /* "llm": {"input_tokens": n, "output_tokens": n, "ttft_ms": x, "finish_reason": "stop"} */
    double input_tokens, output_tokens; /* whole numbers >= 0; NAN when absent */
    double ttft_ms;                     /* time to first token; NAN when absent */
    const char *finish_reason;          /* NULL when absent */
    size_t finish_reason_len;
    /* LLM text and embeddings: "prompt", "completion" (strings; NULL when
     * absent or null) and "embedding" (an array of numbers, up to
     * MW_RECORD_MAX_EMBEDDING; NULL when absent or null) */
    const char *prompt;
    size_t prompt_len;
    const char *completion;
    size_t completion_len;
    /* their values as written in the parsed line (quotes and escapes
     * included, or "null"), so that a stored copy of the line can leave the
     * text out; NULL when the key is absent or the record was not parsed */
    const char *prompt_raw, *completion_raw;
    size_t prompt_raw_len, completion_raw_len;
    const double *embedding;
    size_t embedding_len;
} mw_record;

#define MW_RECORD_MAX_EMBEDDING 65536

typedef struct mw_record_parser mw_record_parser;
mw_record_parser *mw_record_parser_new(void);
void mw_record_parser_free(mw_record_parser *p);
/* on = 1: the parser reads label lines ({"model", "id", "label", "version"
 * optional}), where "version" is not required. */
void mw_record_parser_labels(mw_record_parser *p, int on);
/* 1 when a string of the last record parsed had escapes (it was decoded into
 * the parser's scratch, valid until the next call), 0 when every string of it
 * is a view into the input (which a caller keeping records may then skip
 * checking one by one). */
int mw_record_parser_decoded(const mw_record_parser *p);
/* 1 when the last record parsed has the same feature and score names, in the
 * same order, as the record this parser parsed successfully before it (the
 * record-shape fast path read it: its names are the same bytes), so a caller
 * may skip comparing them; 0 when that is not known. */
int mw_record_parser_same_names(const mw_record_parser *p);

/*
 * Parses one JSON object (an NDJSON line without its newline) into rec.
 * model (string, required), version (string or integer, required), id (string
 * or number), ts (seconds as a number, or an RFC 3339 string), features
 * (object of number / string / true / false / null values; booleans become the
 * strings "true"/"false", null is missing), prediction (number, string, bool or
 * null), label (the same kinds), scores (object of numbers), latency_ms (number
 * >= 0), error (string), llm (object, see mw_record), prompt and completion
 * (strings or null), embedding (array of numbers or null); other top-level
 * keys are skipped after validation. Errors fill err with a message naming the field and what
 * was expected, and the column (1-based byte offset in the line), e.g.
 * `feature "amount": expected a number, string, boolean or null, got an object`.
 * Numbers are parsed exactly (mw_parse_double); NaN/Infinity are not JSON and
 * are errors. Limits: 10000 features, names up to 1024 bytes.
 */
mw_status mw_record_parse(mw_record_parser *p, const char *line, size_t len, mw_record *rec,
                          mw_error *err);

/*
 * Iterates over a request body: NDJSON (one record per line, blank lines
 * skipped, CRLF accepted) or one JSON array of records. Each call yields the
 * next record: returns 1 with rec filled, 0 at the end, -1 for a bad record
 * (err filled with its line (NDJSON) or element number (array), then the next
 * call continues after it; a malformed array ends the iteration).
 */
typedef struct mw_record_iter {
    const char *body;
    size_t len, pos;
    uint64_t line; /* 1-based line (NDJSON) or element (array) of the last record */
    int array;     /* body is a JSON array */
    int done;
} mw_record_iter;
void mw_record_iter_init(mw_record_iter *it, const char *body, size_t len);
int mw_record_iter_next(mw_record_iter *it, mw_record_parser *p, mw_record *rec, mw_error *err);

/*
 * Where the values of some features are written in a record line (for a copy
 * of the line with those values replaced): every member of a top-level
 * "features" object whose name (decoded) is one of names[0..n) (name_lens
 * their lengths) gives a span: its value's bytes as written (quotes and
 * escapes included, or the number or literal), `name` the index in names, and
 * `last` 1 when it is in the last "features" value, the one mw_record_parse
 * keeps (earlier duplicates of the key are reported too, with last 0). Spans
 * come in line order; the first cap are written to out; returns how many
 * there are (more than cap: call again with room). Meant for lines
 * mw_record_parse accepted; any other bytes are safe (read only inside
 * line[0..len), spans inside it) but may give fewer spans.
 */
typedef struct mw_record_span {
    size_t at, len; /* the value: line[at .. at + len) */
    size_t name;    /* index into names */
    int last;
} mw_record_span;
size_t mw_record_feature_spans(const char *line, size_t len, const char *const *names,
                               const size_t *name_lens, size_t n, mw_record_span *out, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
