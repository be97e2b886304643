/*
 * Annotation templates (rules.h): the few Go-template actions alert
 * annotations need, printed exactly as Prometheus prints them, so a rule
 * exported to Prometheus gives the same text. Actions:
 *     {{ $value }}  {{ $labels.NAME }}  {{ humanize $value }}
 *     {{ $value | humanize }}  {{ printf "%.Nf" $value }}   (N = 0..9)
 * Anything else in braces is an error at check time, with its column.
 */
#include "alert/rules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { ACT_VALUE, ACT_LABEL, ACT_HUMANIZE, ACT_PRINTF } act_kind;

typedef struct action {
    act_kind kind;
    const char *label; /* ACT_LABEL: the name, not NUL-terminated */
    size_t label_len;
    int decimals; /* ACT_PRINTF */
} action;

static int is_space(char c) {
    return c == ' ' || c == '\t';
}

/* The action text between "{{" and "}}", trimmed, into a; 1 when known. */
static int parse_action(const char *s, size_t len, action *a) {
    while (len && is_space(*s))
        s++, len--;
    while (len && is_space(s[len - 1]))
        len--;
#define IS(lit) (len == sizeof(lit) - 1 && !memcmp(s, lit, len))
    if (IS("$value")) return a->kind = ACT_VALUE, 1;
    if (IS("humanize $value") || IS("$value | humanize")) return a->kind = ACT_HUMANIZE, 1;
    if (len == 20 && !memcmp(s, "printf \"%.", 10) && s[10] >= '0' && s[10] <= '9' &&
        !memcmp(s + 11, "f\" $value", 9)) {
        a->kind = ACT_PRINTF;
        a->decimals = s[10] - '0';
        return 1;
    }
#undef IS
    if (len > 8 && !memcmp(s, "$labels.", 8)) {
        for (size_t i = 8; i < len; i++) {
            char c = s[i];
            int ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (i > 8 && c >= '0' && c <= '9');
            if (!ok) return 0;
        }
        a->kind = ACT_LABEL;
        a->label = s + 8;
        a->label_len = len - 8;
        return 1;
    }
    return 0;
}

/* Calls fn for each literal piece and action of a checked template; returns
 * the byte offset of a bad action, or -1 when all are fine. */
typedef void (*piece_fn)(void *ctx, const char *text, size_t len, const action *a);

static long walk(const char *t, piece_fn fn, void *ctx) {
    const char *p = t;
    for (;;) {
        const char *open = strstr(p, "{{");
        if (!open) {
            if (fn && *p) fn(ctx, p, strlen(p), NULL);
            return -1;
        }
        const char *close = strstr(open + 2, "}}");
        action a;
        if (!close || !parse_action(open + 2, (size_t)(close - open - 2), &a)) return open - t;
        if (fn && open > p) fn(ctx, p, (size_t)(open - p), NULL);
        if (fn) fn(ctx, NULL, 0, &a);
        p = close + 2;
    }
}

mw_status mw_template_check(const char *tmpl, mw_error *err) {
    long at = walk(tmpl, NULL, NULL);
    if (at < 0) return MW_OK;
    const char *close = strstr(tmpl + at + 2, "}}");
    int shown = close ? (int)(close + 2 - (tmpl + at)) : (int)strlen(tmpl + at);
    if (shown > 60) shown = 60;
    return mw_error_set(err, MW_EINVAL, NULL, 0, (uint64_t)at + 1,
                        "column %ld: %s \"%.*s\" (known: {{ $value }}, {{ $labels.NAME }}, "
                        "{{ humanize $value }}, {{ printf \"%%.2f\" $value }})",
                        at + 1, close ? "unknown template action" : "unclosed template action",
                        shown, tmpl + at);
}

/* ---- number formats of Go and Prometheus ---- */

static int special(double v, char *buf, size_t size) {
    if (isnan(v)) return snprintf(buf, size, "NaN"), 1;
    if (isinf(v)) return snprintf(buf, size, v > 0 ? "+Inf" : "-Inf"), 1;
    return 0;
}

void mw_format_go_float(double v, char *buf, size_t size) {
    if (special(v, buf, size)) return;
    /* shortest digits that read back to v, as Go's strconv finds them */
    char e[40];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v) break;
    }
    if (prec > 17) prec = 17;
    int exp = atoi(strchr(e, 'e') + 1);
    int eprec = 6; /* strconv: "if precision was the shortest possible, use precision 6" */
    if (exp < -4 || exp >= eprec) {
        /* Go writes d.ddde+XX with at least two exponent digits, as C does */
        snprintf(buf, size, "%.*e", prec - 1, v);
        return;
    }
    int decimals = prec - 1 - exp;
    snprintf(buf, size, "%.*f", decimals > 0 ? decimals : 0, v);
}

/* Prometheus' humanize: SI prefix, then Go's %.4g (same as C's here). */
static void humanize(double v, char *buf, size_t size) {
    static const char big[] = "kMGTPEZY", small[] = "munpfazy";
    char prefix[2] = "";
    if (v != 0 && isfinite(v)) {
        if (fabs(v) >= 1)
            for (size_t i = 0; i < sizeof big - 1 && fabs(v) >= 1000; i++)
                v /= 1000, prefix[0] = big[i];
        else
            for (size_t i = 0; i < sizeof small - 1 && fabs(v) < 1; i++)
                v *= 1000, prefix[0] = small[i];
    }
    if (special(v, buf, size)) return;
    snprintf(buf, size, "%.4g%s", v, prefix);
}

/* ---- rendering ---- */

typedef struct render_ctx {
    char *out;
    size_t len, cap;
    int failed;
    const mw_label *labels;
    size_t nlabels;
    double value;
} render_ctx;

static void append(render_ctx *c, const char *s, size_t n) {
    if (c->failed) return;
    if (c->len + n + 1 > c->cap) {
        size_t cap = (c->len + n + 1) * 2;
        char *grown = realloc(c->out, cap);
        if (!grown) {
            c->failed = 1;
            return;
        }
        c->out = grown;
        c->cap = cap;
    }
    memcpy(c->out + c->len, s, n);
    c->len += n;
    c->out[c->len] = '\0';
}

static void render_piece(void *ctx, const char *text, size_t len, const action *a) {
    render_ctx *c = ctx;
    if (!a) {
        append(c, text, len);
        return;
    }
    char num[64];
    switch (a->kind) {
    case ACT_VALUE:
        mw_format_go_float(c->value, num, sizeof num);
        break;
    case ACT_HUMANIZE:
        humanize(c->value, num, sizeof num);
        break;
    case ACT_PRINTF:
        if (!special(c->value, num, sizeof num))
            snprintf(num, sizeof num, "%.*f", a->decimals, c->value);
        break;
    case ACT_LABEL:
        for (size_t i = 0; i < c->nlabels; i++)
            if (strlen(c->labels[i].name) == a->label_len &&
                !memcmp(c->labels[i].name, a->label, a->label_len))
                append(c, c->labels[i].value, strlen(c->labels[i].value));
        return;
    }
    append(c, num, strlen(num));
}

char *mw_template_render(const char *tmpl, const mw_label *labels, size_t nlabels, double value) {
    render_ctx c = {.labels = labels, .nlabels = nlabels, .value = value};
    append(&c, "", 0);
    walk(tmpl, render_piece, &c);
    if (c.failed) {
        free(c.out);
        return NULL;
    }
    return c.out;
}
