/*
 * The alert rule expression language: a small, documented subset of PromQL
 * evaluated over modelwatch's own metrics (the samples of its /metrics page).
 * Kept a subset of PromQL on purpose, so that `modelwatch rules export` can
 * hand the same expression to Prometheus and get the same alerts.
 *
 * Grammar (whitespace between tokens is free):
 *     expr       := or_expr
 *     or_expr    := and_expr ( "or" and_expr )*
 *     and_expr   := primary ( ( "and" | "unless" ) primary )*
 *     primary    := "(" expr ")" | comparison
 *     comparison := selector [ cmp_op number ]
 *     selector   := metric_name [ "{" [ matcher ( "," matcher )* [ "," ] ] "}" ]
 *     matcher    := label_name ( "=" | "!=" | "=~" | "!~" ) string
 *     cmp_op     := "==" | "!=" | "<" | "<=" | ">" | ">="
 *     number     := decimal or exponent float, "NaN", "Inf", "+Inf", "-Inf"
 *     string     := "..." or '...' with \\ \" \' \n \t escapes
 *   metric_name [a-zA-Z_:][a-zA-Z0-9_:]*, label_name [a-zA-Z_][a-zA-Z0-9_]*;
 *   "and", "or", "unless" are keywords (case-insensitive, as in PromQL).
 *
 * Semantics (PromQL's, for instant vectors):
 *  - a selector yields every sample with that name whose labels satisfy all
 *    matchers; a label the sample lacks has the value "" for matching;
 *    regular expressions are POSIX extended, fully anchored (=~ "a|b" matches
 *    exactly "a" or "b"), as PromQL anchors its RE2 expressions;
 *  - a comparison keeps the samples for which `value OP number` holds (C
 *    semantics: NaN compares false except with !=), with their value;
 *  - `a and b`: the samples of a whose label set (without the metric name)
 *    equals that of some sample of b; `a unless b`: those that match none;
 *    `a or b`: all of a, plus the samples of b whose label set matches none of a;
 *  - results carry their labels without the metric name, sorted by label name,
 *    and the value of the left-most sample they came from.
 *
 * Errors: mw_expr_parse fills err with MW_EPARSE, column = 1-based byte offset
 * into the text, and a message "column N: expected <what>, found <what>"
 * (e.g. "column 24: expected a comparison operator or the end, found \"<<\"").
 * Limits: expressions up to 4096 bytes, nesting depth 32, 64 matchers per
 * selector (MW_ERANGE beyond, with the column).
 *
 * Threads: a parsed mw_expr is immutable; evaluating it from several threads
 * at once is safe.
 */
#ifndef MW_ALERT_EXPR_H
#define MW_ALERT_EXPR_H

#include "modelwatch/core.h"

#include <stddef.h>

/* One label of a sample. */
typedef struct mw_label {
    char *name, *value;
} mw_label;

/* One sample: metric name (NULL in evaluation results), labels sorted by name
 * (no duplicates), value. */
typedef struct mw_sample {
    char *name;
    mw_label *labels;
    size_t nlabels;
    double value;
} mw_sample;

/* A set of samples: a parsed exposition page, or an evaluation result. */
typedef struct mw_sample_set {
    mw_sample *s;
    size_t n, cap;
} mw_sample_set;

/*
 * Parses a Prometheus text exposition (format 0.0.4, as src/server/expo.c
 * writes it; OpenMetrics "# EOF" and "_created" lines are accepted too) into
 * *out (cleared first). Comment lines are skipped; sample values may be
 * "NaN", "+Inf", "-Inf"; an optional timestamp is ignored; label values are
 * unescaped (\\ \" \n). Errors: MW_EPARSE with the line and column.
 */
mw_status mw_samples_parse(const char *text, size_t len, mw_sample_set *out, mw_error *err);
/* Frees the samples and empties the set (reusable). NULL-safe. */
void mw_samples_free(mw_sample_set *set);
/* 1 when some sample of the set has this metric name. */
int mw_samples_has_metric(const mw_sample_set *set, const char *name);
/* The value of label `name` of sample s, or "" when absent. */
const char *mw_sample_label(const mw_sample *s, const char *name);

typedef struct mw_expr mw_expr;

/* Parses text (NUL-terminated) into *out; see the errors above. */
mw_status mw_expr_parse(const char *text, mw_expr **out, mw_error *err);
void mw_expr_free(mw_expr *e);

/* The distinct metric names the expression reads, in order of first use;
 * returns their number (at most max are stored in names, borrowed from e). */
size_t mw_expr_metrics(const mw_expr *e, const char **names, size_t max);

/* The expression in canonical PromQL text (malloc'd; NULL when out of memory):
 * single spaces around operators, matchers as written, numbers printed
 * so that they read back to the same double, parentheses kept where written
 * or where precedence needs them. Parsing the result gives the same
 * expression. */
char *mw_expr_format(const mw_expr *e);

/* Evaluates e over the samples; *out (cleared first) gets the result samples
 * (name NULL, labels without the metric name, sorted). MW_ENOMEM only. */
mw_status mw_expr_eval(const mw_expr *e, const mw_sample_set *samples, mw_sample_set *out,
                       mw_error *err);

#endif
