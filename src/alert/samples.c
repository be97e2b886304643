/*
 * A parser of the Prometheus text exposition format 0.0.4 (what
 * src/server/expo.c writes), feeding the alert rule evaluator with the samples
 * of a /metrics page, plus the small accessors of mw_sample_set.
 *
 * Why our own: the evaluator must read exactly our writer's output (HELP/TYPE
 * comments, \\ \" \n escapes in label values, NaN/+Inf/-Inf, histograms'
 * _bucket/_sum/_count lines) and nothing else is needed; a general client
 * library would be a dependency for ~300 lines.
 *
 * Invariants:
 *  - one pass over the input, one line at a time; the work is linear in the
 *    input apart from sorting each sample's labels (k log k for k labels), so
 *    any input (the parser is fuzzed) ends quickly and never reads outside
 *    text[0..len);
 *  - each sample owns its name, its labels array and every label name and
 *    value (separate allocations: mw_samples_free frees each);
 *  - labels are sorted by name; a label with an empty value is dropped, as
 *    Prometheus treats it as absent (mw_sample_label then gives "" anyway);
 *  - on error *out is left empty and err names the line and the 1-based byte
 *    column: "line L, column C: expected X, found Y".
 */
#include "alert/alert_int.h"
#include "alert/expr.h"
#include "core/util.h"
#include "modelwatch/data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *mw_alert_quote(char *out, const char *s, size_t n) {
    size_t k = 0, lim = n > 24 ? 24 : n;
    out[k++] = '"';
    for (size_t i = 0; i < lim; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            out[k++] = '\\';
            out[k++] = (char)c;
        } else if (c < 0x20 || c >= 0x7f) {
            k += (size_t)snprintf(out + k, 5, "\\x%02x", c);
        } else {
            out[k++] = (char)c;
        }
    }
    out[k++] = '"';
    if (lim < n) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
    return out;
}

char *mw_alert_dup_n(const char *s, size_t n) {
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

/* ---- accessors ---- */

static void sample_free(mw_sample *s) {
    free(s->name);
    for (size_t j = 0; j < s->nlabels; j++) {
        free(s->labels[j].name);
        free(s->labels[j].value);
    }
    free(s->labels);
}

void mw_samples_free(mw_sample_set *set) {
    if (!set) return;
    for (size_t i = 0; i < set->n; i++)
        sample_free(&set->s[i]);
    free(set->s);
    set->s = NULL;
    set->n = set->cap = 0;
}

int mw_samples_has_metric(const mw_sample_set *set, const char *name) {
    if (!set || !name) return 0;
    for (size_t i = 0; i < set->n; i++)
        if (set->s[i].name && strcmp(set->s[i].name, name) == 0) return 1;
    return 0;
}

const char *mw_sample_label(const mw_sample *s, const char *name) {
    /* linear: label sets are small, and this stays right for unsorted sets */
    for (size_t j = 0; s && name && j < s->nlabels; j++)
        if (strcmp(s->labels[j].name, name) == 0) return s->labels[j].value;
    return "";
}

/* ---- parser ---- */

/* A label while its line is parsed: borrowed name, unescaped value in scratch. */
typedef struct pending_label {
    const char *name;
    size_t name_len;
    size_t value_off, value_len; /* into the parser's scratch buffer */
    size_t col;
} pending_label;

typedef struct parser {
    const char *line; /* current line (without its '\n') */
    size_t len;       /* its length */
    size_t pos;       /* offset into the line */
    uint64_t lineno;
    mw_error *err;
    mw_buf scratch; /* unescaped label values of the line */
    pending_label *labels;
    size_t nlabels, labels_cap;
    mw_sample_set *out;
} parser;

static int is_blank(char c) {
    return c == ' ' || c == '\t';
}
static int is_name_start(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
static int is_name_char(char c) {
    return is_name_start(c) || (c >= '0' && c <= '9');
}

static void skip_blanks(parser *p) {
    while (p->pos < p->len && is_blank(p->line[p->pos]))
        p->pos++;
}

static mw_status oom(parser *p) {
    return mw_error_set(p->err, MW_ENOMEM, "", p->lineno, 0, "out of memory");
}

/* "line L, column C: expected <what>, found <the next word or the end>". */
static mw_status expected(parser *p, size_t at, const char *what) {
    char found[MW_ALERT_QUOTE_MAX];
    if (at >= p->len) {
        snprintf(found, sizeof found, "the end of the line");
    } else {
        size_t n = 1;
        while (at + n < p->len && !is_blank(p->line[at + n]))
            n++;
        mw_alert_quote(found, p->line + at, n);
    }
    return mw_error_set(p->err, MW_EPARSE, "", p->lineno, at + 1,
                        "line %llu, column %zu: expected %s, found %s",
                        (unsigned long long)p->lineno, at + 1, what, found);
}

/* A quoted label value at p->pos (on the '"'), unescaped into scratch. */
static mw_status label_value(parser *p, pending_label *l) {
    p->pos++;
    l->value_off = p->scratch.len;
    for (;;) {
        if (p->pos >= p->len) return expected(p, p->pos, "a closing '\"' of the label value");
        char c = p->line[p->pos];
        if (c == '"') break;
        if (c == '\0') return expected(p, p->pos, "a closing '\"' of the label value");
        if (c == '\\') {
            char e = p->pos + 1 < p->len ? p->line[p->pos + 1] : '\0';
            if (e == 'n')
                c = '\n';
            else if (e == '\\' || e == '"')
                c = e;
            else
                return expected(p, p->pos, "an escape sequence (\\\\, \\\" or \\n)");
            p->pos++;
        }
        mw_buf_put(&p->scratch, &c, 1);
        if (p->scratch.failed) return oom(p);
        p->pos++;
    }
    p->pos++; /* closing quote */
    l->value_len = p->scratch.len - l->value_off;
    return MW_OK;
}

/* "{" [ name "=" value ( "," name "=" value )* [ "," ] ] "}" at p->pos. */
static mw_status label_list(parser *p) {
    p->pos++; /* '{' */
    for (;;) {
        skip_blanks(p);
        if (p->pos < p->len && p->line[p->pos] == '}') break;
        if (p->pos >= p->len || !is_name_start(p->line[p->pos]))
            return expected(p, p->pos, "a label name or \"}\"");
        if (p->nlabels == p->labels_cap) {
            size_t cap = p->labels_cap ? p->labels_cap * 2 : 16;
            pending_label *a = realloc(p->labels, cap * sizeof *a);
            if (!a) return oom(p);
            p->labels = a;
            p->labels_cap = cap;
        }
        pending_label *l = &p->labels[p->nlabels];
        l->col = p->pos + 1;
        l->name = p->line + p->pos;
        while (p->pos < p->len && is_name_char(p->line[p->pos]))
            p->pos++;
        l->name_len = (size_t)(p->line + p->pos - l->name);
        skip_blanks(p);
        if (p->pos >= p->len || p->line[p->pos] != '=') return expected(p, p->pos, "\"=\"");
        p->pos++;
        skip_blanks(p);
        if (p->pos >= p->len || p->line[p->pos] != '"')
            return expected(p, p->pos, "a quoted label value");
        mw_status st = label_value(p, l);
        if (st != MW_OK) return st;
        p->nlabels++;
        skip_blanks(p);
        if (p->pos < p->len && p->line[p->pos] == ',') {
            p->pos++;
            continue;
        }
        if (p->pos < p->len && p->line[p->pos] == '}') break;
        return expected(p, p->pos, "\",\" or \"}\"");
    }
    p->pos++; /* '}' */
    return MW_OK;
}

/* The next run of non-blank bytes: [*start, p->pos). */
static size_t word(parser *p, size_t *start) {
    *start = p->pos;
    while (p->pos < p->len && !is_blank(p->line[p->pos]))
        p->pos++;
    return p->pos - *start;
}

/* A sample value: a decimal number, NaN, Inf, +Inf, -Inf (Go's ParseFloat
 * spellings, case-insensitive). */
static int parse_value(const char *s, size_t n, double *v) {
    if (n == 3 && strncasecmp(s, "nan", 3) == 0) {
        *v = NAN;
        return 1;
    }
    if (memchr(s, '\0', n)) return 0;
    return mw_parse_double(s, n, v);
}

static int cmp_pending(const void *a, const void *b) {
    const pending_label *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);
    if (c) return c;
    if (x->name_len != y->name_len) return x->name_len < y->name_len ? -1 : 1;
    return x->col < y->col ? -1 : x->col > y->col; /* first written first */
}

/* Moves the parsed line (name, pending labels, value) into p->out. */
static mw_status add_sample(parser *p, const char *name, size_t name_len, double value) {
    if (p->nlabels > 1) /* qsort(NULL, 0, ...) is undefined: labels is NULL until first used */
        qsort(p->labels, p->nlabels, sizeof *p->labels, cmp_pending);
    for (size_t i = 1; i < p->nlabels; i++) {
        const pending_label *a = &p->labels[i - 1], *b = &p->labels[i];
        if (a->name_len == b->name_len && memcmp(a->name, b->name, a->name_len) == 0)
            return expected(p, b->col - 1, "a label name not used before in the sample");
    }
    mw_sample_set *set = p->out;
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 64;
        mw_sample *s = realloc(set->s, cap * sizeof *s);
        if (!s) return oom(p);
        set->s = s;
        set->cap = cap;
    }
    mw_sample *s = &set->s[set->n];
    memset(s, 0, sizeof *s);
    s->value = value;
    s->name = mw_alert_dup_n(name, name_len);
    if (!s->name) return oom(p);
    set->n++; /* from here mw_samples_free owns what is attached */
    size_t keep = 0;
    for (size_t i = 0; i < p->nlabels; i++)
        keep += p->labels[i].value_len > 0;
    if (keep == 0) return MW_OK;
    s->labels = calloc(keep, sizeof *s->labels);
    if (!s->labels) return oom(p);
    for (size_t i = 0; i < p->nlabels; i++) {
        const pending_label *l = &p->labels[i];
        if (l->value_len == 0) continue;
        mw_label *d = &s->labels[s->nlabels++];
        d->name = mw_alert_dup_n(l->name, l->name_len);
        d->value = mw_alert_dup_n((const char *)p->scratch.data + l->value_off, l->value_len);
        if (!d->name || !d->value) return oom(p);
    }
    return MW_OK;
}

/* One line that is not blank and not a comment. */
static mw_status sample_line(parser *p) {
    p->nlabels = 0;
    p->scratch.len = 0;
    char c = p->line[p->pos];
    if (!is_name_start(c) && c != ':') return expected(p, p->pos, "a metric name");
    const char *name = p->line + p->pos;
    while (p->pos < p->len && (is_name_char(p->line[p->pos]) || p->line[p->pos] == ':'))
        p->pos++;
    size_t name_len = (size_t)(p->line + p->pos - name);
    skip_blanks(p);
    if (p->pos < p->len && p->line[p->pos] == '{') {
        mw_status st = label_list(p);
        if (st != MW_OK) return st;
        skip_blanks(p);
    }
    size_t at, n = word(p, &at);
    double value;
    if (n == 0) return expected(p, at, "a sample value");
    if (!parse_value(p->line + at, n, &value))
        return expected(p, at, "a sample value (a number, NaN, +Inf or -Inf)");
    skip_blanks(p);
    n = word(p, &at);
    double ts;
    if (n && (!parse_value(p->line + at, n, &ts) || !isfinite(ts)))
        return expected(p, at, "a timestamp or the end of the line");
    skip_blanks(p);
    if (p->pos < p->len) return expected(p, p->pos, "the end of the line");
    return add_sample(p, name, name_len, value);
}

mw_status mw_samples_parse(const char *text, size_t len, mw_sample_set *out, mw_error *err) {
    memset(out, 0, sizeof *out);
    if (!text && len) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no text given");
    parser p = {.err = err, .out = out};
    mw_status st = MW_OK;
    size_t off = 0;
    while (off < len && st == MW_OK) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t end = nl ? (size_t)(nl - text) : len;
        p.line = text + off;
        p.len = end - off;
        if (p.len && p.line[p.len - 1] == '\r') p.len--; /* CRLF */
        p.pos = 0;
        p.lineno++;
        off = end + 1;
        skip_blanks(&p);
        if (p.pos == p.len || p.line[p.pos] == '#') continue; /* blank, HELP, TYPE, EOF */
        st = sample_line(&p);
    }
    free(p.scratch.data);
    free(p.labels);
    if (st != MW_OK) mw_samples_free(out);
    return st;
}
