/*
 * The alert rule expression language (src/alert/expr.h): tokenizer,
 * recursive-descent parser to the node array of expr_int.h, the list of metric
 * names an expression reads, and the canonical text form. Evaluation is in
 * expr_eval.c.
 *
 * Why hand-written: the language is a dozen tokens, errors must name the exact
 * column and what was expected there, and the parser must stay bounded on any
 * input (rules come from configuration files and the parser is fuzzed).
 *
 * Invariants:
 *  - one token of lookahead; the tokenizer never reads past the text's NUL;
 *  - recursion is bounded by the parenthesis depth (32); chains of and/or/
 *    unless are built in a loop, left-associative;
 *  - regular expressions are checked first (expr_regex.c: nothing that would
 *    escape the anchoring group or make regcomp's work explode) and compiled
 *    once here, anchored as "^(" re ")$";
 *  - on error nothing is returned (*out NULL) and err holds
 *    "column N: expected <what>, found <what>".
 */
#include "alert/alert_int.h"
#include "alert/expr_int.h"
#include "core/util.h"
#include "modelwatch/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_LEN 4096
#define MAX_DEPTH 32
#define MAX_MATCHERS 64

/* ---- tokens ---- */

typedef enum tkind {
    T_END,
    T_IDENT, /* [a-zA-Z_:][a-zA-Z0-9_:]*: names, keywords, NaN, Inf */
    T_NUM,
    T_STR,
    T_LBRACE,
    T_RBRACE,
    T_LPAREN,
    T_RPAREN,
    T_COMMA,
    T_OP, /* one of ops[] */
    T_BAD /* anything else, reported as found */
} tkind;

/* Operators: maximal runs of "=!<>~" are one token, so "<<" is reported whole. */
static const struct {
    const char *text;
    int match; /* mw_match_op + 1, or 0 */
    int cmp;   /* mw_cmp_op, or MW_C_NONE */
} ops[] = {
    {"=", MW_M_EQ + 1, MW_C_NONE},
    {"!=", MW_M_NE + 1, MW_C_NE},
    {"=~", MW_M_RE + 1, MW_C_NONE},
    {"!~", MW_M_NRE + 1, MW_C_NONE},
    {"==", 0, MW_C_EQ},
    {"<", 0, MW_C_LT},
    {"<=", 0, MW_C_LE},
    {">", 0, MW_C_GT},
    {">=", 0, MW_C_GE},
};
#define NOPS (sizeof ops / sizeof ops[0])

typedef struct token {
    tkind k;
    size_t start, end; /* byte offsets */
    size_t op;         /* T_OP: index into ops */
    double num;        /* T_NUM */
} token;

typedef struct parser {
    const char *s;
    size_t len;
    size_t pos; /* where the next token starts looking */
    token t;    /* the current token */
    mw_expr *e;
    mw_error *err;
    int depth; /* open parentheses */
    int bare;  /* the last primary was a selector without comparison */
} parser;

static int is_ident_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
static int is_ident_char(char c) {
    return is_ident_start(c) || (c >= '0' && c <= '9');
}
static int is_digit(char c) {
    return c >= '0' && c <= '9';
}
static int is_op_char(char c) {
    return c && strchr("=!<>~", c) != NULL;
}

static int tok_is(const parser *p, const char *word) {
    size_t n = p->t.end - p->t.start;
    return p->t.k == T_IDENT && n == strlen(word) && strncasecmp(p->s + p->t.start, word, n) == 0;
}
static int is_keyword(const parser *p) {
    return tok_is(p, "and") || tok_is(p, "or") || tok_is(p, "unless");
}

/* "column N: expected <what>, found <the current token>". */
static mw_status expected(parser *p, const char *what) {
    char found[MW_ALERT_QUOTE_MAX];
    if (p->t.k == T_END)
        snprintf(found, sizeof found, "the end");
    else
        mw_alert_quote(found, p->s + p->t.start, p->t.end - p->t.start);
    size_t col = p->t.start + 1;
    return mw_error_set(p->err, MW_EPARSE, "", 0, col, "column %zu: expected %s, found %s", col,
                        what, found);
}

static mw_status oom(parser *p) {
    return mw_error_set(p->err, MW_ENOMEM, "", 0, 0, "out of memory");
}

/* Length of a number at s[i] (optional sign, digits with at most one '.',
 * optional exponent), 0 when there is none. */
static size_t scan_number(const char *s, size_t i) {
    size_t j = i, digits = 0;
    if (s[j] == '+' || s[j] == '-') j++;
    for (; is_digit(s[j]); j++)
        digits++;
    if (s[j] == '.')
        for (j++; is_digit(s[j]); j++)
            digits++;
    if (!digits) return 0;
    if (s[j] == 'e' || s[j] == 'E') {
        size_t k = j + 1;
        if (s[k] == '+' || s[k] == '-') k++;
        if (is_digit(s[k])) {
            while (is_digit(s[k]))
                k++;
            j = k;
        }
    }
    return j - i;
}

/* A quoted string at p->pos: checks its escapes and finds its end. */
static mw_status lex_string(parser *p) {
    const char *s = p->s;
    char q = s[p->pos];
    size_t i = p->pos + 1;
    for (;;) {
        if (!s[i] || (s[i] == '\\' && !s[i + 1])) {
            p->t.start = p->t.end = p->len;
            p->t.k = T_END;
            char what[64];
            snprintf(what, sizeof what, "the closing %c of the string at column %zu", q,
                     p->pos + 1);
            return expected(p, what);
        }
        if (s[i] == q) break;
        if (s[i] == '\\') {
            if (!strchr("\\\"'nt", s[i + 1])) {
                p->t.k = T_BAD;
                p->t.start = i;
                p->t.end = i + 2;
                return expected(p, "an escape sequence (\\\\, \\\", \\', \\n or \\t)");
            }
            i++;
        }
        i++;
    }
    p->t.k = T_STR;
    p->t.end = i + 1;
    return MW_OK;
}

/* Reads the next token into p->t. Fails only on a malformed string. */
static mw_status lex(parser *p) {
    const char *s = p->s;
    size_t i = p->pos;
    while (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\f' ||
           s[i] == '\v')
        i++;
    token *t = &p->t;
    t->start = i;
    p->pos = i;
    char c = s[i];
    size_t n = 1;
    if (!c) {
        t->k = T_END;
        n = 0;
    } else if (is_ident_start(c)) {
        while (is_ident_char(s[i + n]))
            n++;
        t->k = T_IDENT;
    } else if ((n = scan_number(s, i)) > 0) {
        t->k = mw_parse_double(s + i, n, &t->num) ? T_NUM : T_BAD;
    } else if ((c == '+' || c == '-') && strncasecmp(s + i + 1, "inf", 3) == 0 &&
               !is_ident_char(s[i + 4])) {
        t->k = T_NUM;
        t->num = c == '+' ? INFINITY : -INFINITY;
        n = 4;
    } else if (c == '"' || c == '\'') {
        mw_status st = lex_string(p);
        if (st != MW_OK) return st;
        n = t->end - i;
    } else if (is_op_char(c)) {
        n = 0;
        while (is_op_char(s[i + n]))
            n++;
        t->k = T_BAD;
        for (size_t k = 0; k < NOPS; k++)
            if (strlen(ops[k].text) == n && memcmp(ops[k].text, s + i, n) == 0) {
                t->k = T_OP;
                t->op = k;
            }
    } else {
        static const char punct[] = "{})(,";
        static const tkind kinds[] = {T_LBRACE, T_RBRACE, T_RPAREN, T_LPAREN, T_COMMA};
        const char *at = strchr(punct, c);
        n = 1;
        t->k = at ? kinds[at - punct] : T_BAD;
        if (!at && (unsigned char)c >= 0x80) /* a UTF-8 sequence as one token */
            while (n < 4 && (unsigned char)s[i + n] >= 0x80)
                n++;
    }
    t->end = i + n;
    p->pos = i + n;
    return MW_OK;
}

/* ---- building the expression ---- */

/* Appends a zeroed node; its index in *idx. */
static mw_status new_node(parser *p, mw_node_kind kind, size_t *idx) {
    mw_expr *e = p->e;
    if (e->n == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        mw_node *a = realloc(e->nodes, cap * sizeof *a);
        if (!a) return oom(p);
        e->nodes = a;
        e->cap = cap;
    }
    *idx = e->n++;
    memset(&e->nodes[*idx], 0, sizeof e->nodes[*idx]);
    e->nodes[*idx].kind = kind;
    return MW_OK;
}

/* The value of the string token t, unescaped (malloc'd). */
static char *unescape(const parser *p) {
    const char *s = p->s + p->t.start + 1, *end = p->s + p->t.end - 1;
    char *out = malloc((size_t)(end - s) + 1), *d = out;
    if (!out) return NULL;
    for (; s < end; s++) {
        if (*s == '\\') {
            s++;
            *d++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s;
        } else {
            *d++ = *s;
        }
    }
    *d = '\0';
    return out;
}

/* Compiles matcher m (=~ or !~) of the matcher at column col. */
static mw_status compile_regex(parser *p, mw_matcher *m, size_t col) {
    const char *why = mw_alert_regex_problem(m->value);
    char reason[160];
    if (!why) {
        size_t n = strlen(m->value);
        char *anchored = malloc(n + 5);
        if (!anchored) return oom(p);
        memcpy(anchored, "^(", 2);
        memcpy(anchored + 2, m->value, n);
        memcpy(anchored + 2 + n, ")$", 3);
        int rc = regcomp(&m->re, anchored, REG_EXTENDED | REG_NOSUB);
        free(anchored);
        if (rc == 0) {
            m->has_re = 1;
            return MW_OK;
        }
        regerror(rc, &m->re, reason, sizeof reason);
        why = reason;
    }
    char found[MW_ALERT_QUOTE_MAX];
    mw_alert_quote(found, m->value, strlen(m->value));
    return mw_error_set(p->err, MW_EPARSE, "", 0, col,
                        "column %zu: expected a valid regular expression, found %s (%s)", col,
                        found, why);
}

/* Records the metric name of node idx in the list of distinct names. */
static mw_status note_metric(parser *p, const char *name) {
    mw_expr *e = p->e;
    for (size_t i = 0; i < e->nmetrics; i++)
        if (strcmp(e->metrics[i], name) == 0) return MW_OK;
    const char **a = realloc(e->metrics, (e->nmetrics + 1) * sizeof *a);
    if (!a) return oom(p);
    e->metrics = a;
    a[e->nmetrics++] = name;
    return MW_OK;
}

/* ---- parser ---- */

static mw_status parse_or(parser *p, size_t *out);

/* matcher := label_name op string, at the current token (a T_IDENT). */
static mw_status parse_matcher(parser *p, size_t sel) {
    size_t col = p->t.start + 1;
    mw_node *node = &p->e->nodes[sel];
    if (node->nm == MAX_MATCHERS)
        return mw_error_set(p->err, MW_ERANGE, "", 0, col,
                            "column %zu: expected at most %d matchers in a selector, found more",
                            col, MAX_MATCHERS);
    mw_matcher *a = realloc(node->m, (node->nm + 1) * sizeof *a);
    if (!a) return oom(p);
    node->m = a;
    mw_matcher *m = &a[node->nm];
    memset(m, 0, sizeof *m);
    m->name = mw_alert_dup_n(p->s + p->t.start, p->t.end - p->t.start);
    if (!m->name) return oom(p);
    node->nm++; /* owned by the node from here */
    mw_status st = lex(p);
    if (st != MW_OK) return st;
    if (p->t.k != T_OP || !ops[p->t.op].match)
        return expected(p, "\"=\", \"!=\", \"=~\" or \"!~\"");
    m->op = (mw_match_op)(ops[p->t.op].match - 1);
    if ((st = lex(p)) != MW_OK) return st;
    if (p->t.k != T_STR) return expected(p, "a string");
    m->value = unescape(p);
    if (!m->value) return oom(p);
    if (m->op == MW_M_RE || m->op == MW_M_NRE) {
        if ((st = compile_regex(p, m, col)) != MW_OK) return st;
    }
    return lex(p);
}

/* The number after a comparison operator. */
static mw_status parse_number(parser *p, double *v) {
    if (p->t.k == T_NUM)
        *v = p->t.num;
    else if (tok_is(p, "nan"))
        *v = NAN;
    else if (tok_is(p, "inf"))
        *v = INFINITY;
    else
        return expected(p, "a number");
    return lex(p);
}

/* comparison := selector [ cmp_op number ], at a metric name. */
static mw_status parse_selector(parser *p, size_t *out) {
    mw_status st = new_node(p, MW_N_SEL, out);
    if (st != MW_OK) return st;
    mw_node *node = &p->e->nodes[*out];
    node->metric = mw_alert_dup_n(p->s + p->t.start, p->t.end - p->t.start);
    if (!node->metric) return oom(p);
    if ((st = note_metric(p, node->metric)) != MW_OK || (st = lex(p)) != MW_OK) return st;
    if (p->t.k == T_LBRACE) {
        if ((st = lex(p)) != MW_OK) return st;
        while (p->t.k != T_RBRACE) {
            if (p->t.k != T_IDENT || memchr(p->s + p->t.start, ':', p->t.end - p->t.start))
                return expected(p, "a label name or \"}\"");
            if ((st = parse_matcher(p, *out)) != MW_OK) return st;
            if (p->t.k == T_COMMA) {
                if ((st = lex(p)) != MW_OK) return st;
            } else if (p->t.k != T_RBRACE) {
                return expected(p, "\",\" or \"}\"");
            }
        }
        if ((st = lex(p)) != MW_OK) return st;
    }
    p->bare = !(p->t.k == T_OP && ops[p->t.op].cmp != MW_C_NONE);
    if (p->bare) return MW_OK;
    mw_cmp_op cmp = (mw_cmp_op)ops[p->t.op].cmp;
    double v = 0;
    if ((st = lex(p)) != MW_OK || (st = parse_number(p, &v)) != MW_OK) return st;
    p->e->nodes[*out].cmp = cmp;
    p->e->nodes[*out].num = v;
    return MW_OK;
}

/* primary := "(" expr ")" | comparison */
static mw_status parse_primary(parser *p, size_t *out) {
    mw_status st;
    if (p->t.k != T_LPAREN) {
        if (p->t.k != T_IDENT || is_keyword(p)) return expected(p, "a metric name");
        return parse_selector(p, out);
    }
    if (p->depth == MAX_DEPTH) {
        size_t col = p->t.start + 1;
        return mw_error_set(p->err, MW_ERANGE, "", 0, col,
                            "column %zu: expected at most %d nested parentheses, found more", col,
                            MAX_DEPTH);
    }
    p->depth++;
    size_t inner;
    if ((st = lex(p)) != MW_OK || (st = parse_or(p, &inner)) != MW_OK) return st;
    if (p->t.k != T_RPAREN)
        return expected(p, p->bare ? "a comparison operator or \")\""
                                   : "\"and\", \"or\", \"unless\" or \")\"");
    p->depth--;
    if ((st = new_node(p, MW_N_PAREN, out)) != MW_OK) return st;
    p->e->nodes[*out].lhs = inner;
    p->bare = 0;
    return lex(p);
}

/* A left-associative chain of primaries (or of and-chains when or_level). */
static mw_status parse_chain(parser *p, int or_level, size_t *out) {
    mw_status st = or_level ? parse_chain(p, 0, out) : parse_primary(p, out);
    while (st == MW_OK) {
        mw_node_kind kind;
        if (or_level && tok_is(p, "or"))
            kind = MW_N_OR;
        else if (!or_level && tok_is(p, "and"))
            kind = MW_N_AND;
        else if (!or_level && tok_is(p, "unless"))
            kind = MW_N_UNLESS;
        else
            break;
        size_t rhs, node;
        if ((st = lex(p)) != MW_OK) break;
        st = or_level ? parse_chain(p, 0, &rhs) : parse_primary(p, &rhs);
        if (st != MW_OK || (st = new_node(p, kind, &node)) != MW_OK) break;
        p->e->nodes[node].lhs = *out;
        p->e->nodes[node].rhs = rhs;
        *out = node;
    }
    return st;
}

static mw_status parse_or(parser *p, size_t *out) {
    return parse_chain(p, 1, out);
}

void mw_expr_free(mw_expr *e) {
    if (!e) return;
    for (size_t i = 0; i < e->n; i++) {
        mw_node *node = &e->nodes[i];
        free(node->metric);
        for (size_t j = 0; j < node->nm; j++) {
            free(node->m[j].name);
            free(node->m[j].value);
            if (node->m[j].has_re) regfree(&node->m[j].re);
        }
        free(node->m);
    }
    free(e->nodes);
    free(e->metrics);
    free(e);
}

mw_status mw_expr_parse(const char *text, mw_expr **out, mw_error *err) {
    *out = NULL;
    if (!text) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no expression given");
    size_t len = strnlen(text, MAX_LEN + 1);
    if (len > MAX_LEN)
        return mw_error_set(err, MW_ERANGE, "", 0, MAX_LEN + 1,
                            "column %d: expected an expression of at most %d bytes, found more",
                            MAX_LEN + 1, MAX_LEN);
    parser p = {.s = text, .len = len, .err = err};
    p.e = calloc(1, sizeof *p.e);
    if (!p.e) return oom(&p);
    size_t root;
    mw_status st = lex(&p);
    if (st == MW_OK) st = parse_or(&p, &root);
    if (st == MW_OK && p.t.k != T_END)
        st = expected(&p, p.bare ? "a comparison operator or the end"
                                 : "\"and\", \"or\", \"unless\" or the end");
    if (st != MW_OK) {
        mw_expr_free(p.e);
        return st;
    }
    *out = p.e;
    return MW_OK;
}

size_t mw_expr_metrics(const mw_expr *e, const char **names, size_t max) {
    if (!e) return 0;
    for (size_t i = 0; i < e->nmetrics && i < max; i++)
        names[i] = e->metrics[i];
    return e->nmetrics;
}

/* ---- canonical text ---- */

static void puts_(mw_buf *b, const char *s) {
    mw_buf_put(b, s, strlen(s));
}

/* A double-quoted string that the tokenizer reads back to s. */
static void put_string(mw_buf *b, const char *s) {
    puts_(b, "\"");
    for (; *s; s++) {
        size_t n = strcspn(s, "\\\"\n\t");
        mw_buf_put(b, s, n);
        s += n;
        if (!*s) break;
        puts_(b, *s == '\\' ? "\\\\" : *s == '"' ? "\\\"" : *s == '\n' ? "\\n" : "\\t");
    }
    puts_(b, "\"");
}

static void put_number(mw_buf *b, double v) {
    char tmp[32];
    if (isnan(v))
        puts_(b, "NaN");
    else if (isinf(v))
        puts_(b, v > 0 ? "+Inf" : "-Inf");
    else
        mw_buf_put(b, tmp, mw_format_double(v, tmp));
}

static void format_node(mw_buf *b, const mw_expr *e, size_t i) {
    static const char *const match_text[] = {"=", "!=", "=~", "!~"};
    static const char *const cmp_text[] = {"", "==", "!=", "<", "<=", ">", ">="};
    const mw_node *node = &e->nodes[i];
    switch (node->kind) {
    case MW_N_SEL:
        puts_(b, node->metric);
        for (size_t j = 0; j < node->nm; j++) {
            puts_(b, j ? ", " : "{");
            puts_(b, node->m[j].name);
            puts_(b, match_text[node->m[j].op]);
            put_string(b, node->m[j].value);
        }
        if (node->nm) puts_(b, "}");
        if (node->cmp != MW_C_NONE) {
            puts_(b, " ");
            puts_(b, cmp_text[node->cmp]);
            puts_(b, " ");
            put_number(b, node->num);
        }
        break;
    case MW_N_PAREN:
        puts_(b, "(");
        format_node(b, e, node->lhs);
        puts_(b, ")");
        break;
    default:
        format_node(b, e, node->lhs);
        puts_(b, node->kind == MW_N_AND ? " and " : node->kind == MW_N_OR ? " or " : " unless ");
        format_node(b, e, node->rhs);
        break;
    }
}

char *mw_expr_format(const mw_expr *e) {
    if (!e || !e->n) return NULL;
    mw_buf b = {0};
    format_node(&b, e, e->n - 1);
    mw_buf_put(&b, "", 1);
    if (b.failed) {
        free(b.data);
        return NULL;
    }
    return (char *)b.data;
}
