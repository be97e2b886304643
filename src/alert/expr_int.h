/*
 * The parsed form of an alert rule expression (src/alert/expr.h), shared by
 * the parser/formatter (expr.c), the regex check (expr_regex.c) and the
 * evaluator (expr_eval.c).
 *
 * Nodes live in one array and refer to each other by index, so that freeing
 * needs no recursion; a node's children always have smaller indices than the
 * node (they are parsed first), and the root is the last node. Formatting and
 * evaluation recurse along and/or/unless chains: at most ~820 levels, as each
 * operator takes 5 of the 4096 bytes ("a or a or ...").
 */
#ifndef MW_ALERT_EXPR_INT_H
#define MW_ALERT_EXPR_INT_H

#include "alert/expr.h"

#include <regex.h>

typedef enum mw_match_op { MW_M_EQ, MW_M_NE, MW_M_RE, MW_M_NRE } mw_match_op;
typedef enum mw_cmp_op {
    MW_C_NONE,
    MW_C_EQ,
    MW_C_NE,
    MW_C_LT,
    MW_C_LE,
    MW_C_GT,
    MW_C_GE
} mw_cmp_op;
typedef enum mw_node_kind { MW_N_SEL, MW_N_PAREN, MW_N_AND, MW_N_OR, MW_N_UNLESS } mw_node_kind;

typedef struct mw_matcher {
    char *name, *value; /* value unescaped */
    mw_match_op op;
    int has_re;
    regex_t re; /* "^(" value ")$", compiled at parse time (=~ and !~) */
} mw_matcher;

typedef struct mw_node {
    mw_node_kind kind;
    /* MW_N_SEL: metric name, matchers, optional comparison with a number */
    char *metric;
    mw_matcher *m;
    size_t nm;
    mw_cmp_op cmp;
    double num;
    /* MW_N_PAREN: lhs is the inner expression; binary operators: lhs, rhs */
    size_t lhs, rhs;
} mw_node;

struct mw_expr {
    mw_node *nodes;
    size_t n, cap;
    const char **metrics; /* distinct metric names in order of first use */
    size_t nmetrics;
};

/*
 * Why regular expression re cannot be used as a matcher, or NULL when it can
 * (then regcomp of "^(" re ")$" is bounded and means "re, fully anchored",
 * unless regcomp itself reports an error). See expr_regex.c.
 */
const char *mw_alert_regex_problem(const char *re);

#endif
