/*
 * The check a matcher's regular expression passes before regcomp
 * (mw_alert_regex_problem, expr_int.h).
 *
 * Why: matchers are anchored by compiling "^(" re ")$", which is only right
 * when re cannot close the wrapper's group early (an unmatched ")", as in
 * "a)|(b") and has no back-reference (the wrapper shifts group numbers). And
 * glibc's regcomp, fed rule text from configuration files (and a fuzzer), can
 * take minutes and gigabytes: it copies the atom of x+ and x{m,n}, and the
 * epsilon closures of repetitions of patterns that match the empty string
 * grow polynomially to exponentially ("(a*){1,400}" takes seconds,
 * "((a*){1,30}){1,30}" exhausts 3 GB, "((((a*)+)+)+)+" runs for minutes).
 *
 * So the check walks re once, keeping per open group: the estimated size
 * after copying, how deeply repetitions nest, and whether the pattern can
 * match "". It refuses an unmatched ")", back-references, groups nested more
 * than 32 deep, stacked operators ("a**"), more than 3 nested repetitions, an
 * estimated size over 2000, and any repetition of a pattern that can match ""
 * (the epsilon paths behind "(a?)*(a?)*..." cost 2^n: 20 of them take
 * seconds, and 100 "(a?)?" exhaust 3 GB; "(a*)+" means "a*" anyway). PromQL's RE2 refuses the first
 * four too (and repeat counts over 1000). Syntax errors are left to regcomp.
 */
#include "alert/expr_int.h"

#include <string.h>

#define MAX_GROUPS 32
#define MAX_SIZE 2000
#define MAX_NESTING 3

typedef struct group {
    size_t size;      /* estimated size of the group so far */
    size_t last;      /* of its last atom */
    int nest;         /* deepest nesting of repetitions in the group */
    int last_nest;    /* in its last atom */
    int has_last;     /* the current branch has an atom */
    int last_empty;   /* the last atom can match "" */
    int before_empty; /* the atoms of the branch before the last one can */
    int done_empty;   /* a finished branch (before a '|') can */
} group;

static int is_digit(char c) {
    return c >= '0' && c <= '9';
}

/* Whether the current branch of g can match "". */
static int branch_empty(const group *g) {
    return g->before_empty && (!g->has_last || g->last_empty);
}

static void add_atom(group *g, size_t size, int nest, int empty) {
    g->before_empty = branch_empty(g);
    g->has_last = 1;
    g->size += size;
    g->last = size;
    g->last_nest = nest;
    g->last_empty = empty;
    if (nest > g->nest) g->nest = nest;
}

static void open_group(group *g) {
    memset(g, 0, sizeof *g);
    g->before_empty = 1;
}

/* At re[i] == '{': when an interval {m}, {m,}, {m,n} or {,n} follows, the
 * index of its '}', its m in *lo and in *copies about how many copies regcomp
 * makes of the atom; else 0. */
static size_t interval(const char *re, size_t i, size_t *lo, size_t *copies) {
    size_t j = i + 1, hi = 0;
    *lo = 0;
    for (; is_digit(re[j]) && *lo < 100000; j++)
        *lo = *lo * 10 + (size_t)(re[j] - '0');
    *copies = *lo + 1; /* {m}, {m,}: m copies, and a star */
    if (re[j] == ',' && is_digit(re[j + 1])) {
        for (j++; is_digit(re[j]) && hi < 100000; j++)
            hi = hi * 10 + (size_t)(re[j] - '0');
        *copies = hi ? hi : 1;
    } else if (re[j] == ',') {
        j++;
    }
    return re[j] == '}' && j > i + 1 ? j : 0;
}

/* At re[i] == '[': the index of the bracket expression's closing ']' (inside,
 * ')' and '\' are plain characters), or 0 when it has none. */
static size_t bracket_end(const char *re, size_t i) {
    size_t j = i + 1;
    if (re[j] == '^') j++;
    if (re[j] == ']') j++;
    while (re[j] && re[j] != ']') {
        if (re[j] == '[' && re[j + 1] && strchr(":.=", re[j + 1])) { /* [:alpha:] */
            const char *close = strstr(re + j + 2, (char[]){re[j + 1], ']', 0});
            if (!close) return 0;
            j = (size_t)(close - re) + 2;
        } else {
            j++;
        }
    }
    return re[j] ? j : 0;
}

/* Applies a repetition operator (copies of the atom; empty: the result can
 * match "") to the last atom of g, which must not match "" itself. */
static const char *repeat(group *g, char op, size_t copies, int empty) {
    if (!g->has_last) return NULL; /* "*a", "(+": regcomp reports it */
    if (g->last_empty) return "repeating a pattern that can match the empty string";
    g->size += g->last * (copies - 1);
    g->last *= copies;
    g->last_empty = empty || g->last_empty;
    if (++g->last_nest > MAX_NESTING) return "repetitions nested more than 3 deep";
    if (g->last_nest > g->nest) g->nest = g->last_nest;
    return NULL;
}

const char *mw_alert_regex_problem(const char *re) {
    group st[MAX_GROUPS + 1];
    int d = 0, after_repeat = 0;
    open_group(&st[0]);
    for (size_t i = 0; re[i]; i++) {
        group *g = &st[d];
        char c = re[i];
        size_t j = 0, lo = 0, copies = 0;
        if (c == '*' || c == '?' || c == '+' || (c == '{' && (j = interval(re, i, &lo, &copies)))) {
            if (after_repeat) return "nested repetition operators are not supported";
            after_repeat = 1;
            const char *why =
                c == '{' ? repeat(g, c, copies, lo == 0) : repeat(g, c, c == '+' ? 2 : 1, c != '+');
            if (why) return why;
            if (c == '{') i = j;
        } else {
            after_repeat = 0;
            if (c == '\\') {
                if (re[i + 1] >= '1' && re[i + 1] <= '9')
                    return "back-references are not supported";
                if (re[i + 1]) i++;
                add_atom(g, 1, 0, 0);
            } else if (c == '[') {
                if (!(j = bracket_end(re, i))) return NULL; /* regcomp reports it */
                i = j;
                add_atom(g, 1, 0, 0);
            } else if (c == '(') {
                if (d == MAX_GROUPS) return "groups nested more than 32 deep";
                open_group(&st[++d]);
            } else if (c == ')') {
                if (d == 0) return "unmatched \")\"";
                int empty = g->done_empty || branch_empty(g);
                d--;
                add_atom(&st[d], g->size ? g->size : 1, g->nest, empty);
            } else if (c == '|') {
                g->done_empty |= branch_empty(g);
                g->has_last = 0;
                g->before_empty = 1;
            } else {
                add_atom(g, c == '^' || c == '$' ? 0 : 1, 0, c == '^' || c == '$');
            }
        }
        if (st[d].size > MAX_SIZE) return "repetitions expand too far";
    }
    return NULL;
}
