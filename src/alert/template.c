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

/* The decimal digits of mant * 10^exp10 (mant > 0) without trailing zeros into
 * digs; *point = the decimal exponent of the first digit. */
static void digits_of(long long mant, int exp10, char *digs, size_t size, int *point) {
    int n = snprintf(digs, size, "%lld", mant);
    *point = exp10 + n - 1;
    while (n > 1 && digs[n - 1] == '0')
        digs[--n] = '\0';
}

/* The shortest decimal digits that read back to v (v finite, not 0), as Go's
 * strconv finds them: the fewest digits, and of those the closest to v. The
 * nearest q-digit decimal is the closest, so it is the answer when it reads
 * back; but the interval of decimals that read back to a power of two is
 * twice as wide above it as below, so a q-digit decimal above v can read back
 * while the nearest one, below, does not (2^-24: 5.960464477539063e-08, not
 * the nearest 17 digits 5.9604644775390625e-08): the neighbours are tried too. */
static void shortest_digits(double v, char *digs, size_t size, int *point) {
    char e[48];
    for (int q = 1; q <= 17; q++) {
        snprintf(e, sizeof e, "%.*e", q - 1, v);
        if (strtod(e, NULL) == v || q == 17) break;
        /* the neighbours of the nearest q digits */
        char *ep = strchr(e, 'e');
        long long mant = 0;
        for (const char *c = e; c < ep; c++)
            if (*c >= '0' && *c <= '9') mant = mant * 10 + (*c - '0');
        int exp10 = atoi(ep + 1) - (q - 1);
        for (int d = -1; d <= 1; d += 2) {
            if (mant + d <= 0) continue;
            char cand[48];
            snprintf(cand, sizeof cand, "%llde%d", mant + d, exp10);
            if (strtod(cand, NULL) == v) {
                digits_of(mant + d, exp10, digs, size, point);
                return;
            }
        }
    }
    /* e is the nearest digits that read back */
    char *ep = strchr(e, 'e');
    long long mant = 0;
    int q = 0;
    for (const char *c = e; c < ep; c++)
        if (*c >= '0' && *c <= '9') mant = mant * 10 + (*c - '0'), q++;
    digits_of(mant, atoi(ep + 1) - (q - 1), digs, size, point);
}

void mw_format_go_float(double v, char *buf, size_t size) {
    if (special(v, buf, size)) return;
    const char *sign = signbit(v) ? "-" : "";
    if (v == 0) {
        snprintf(buf, size, "%s0", sign);
        return;
    }
    char d[24];
    int x;
    shortest_digits(fabs(v), d, sizeof d, &x);
    int nd = (int)strlen(d);
    /* %v is %g with the shortest digits: %e when the exponent is < -4 or >= 6
     * ("if precision was the shortest possible, use precision 6"), with at
     * least two exponent digits; otherwise %f with just the digits needed. */
    if (x < -4 || x >= 6) {
        snprintf(buf, size, "%s%c%s%.*se%c%02d", sign, d[0], nd > 1 ? "." : "", nd - 1, d + 1,
                 x < 0 ? '-' : '+', x < 0 ? -x : x);
    } else if (x < 0) {
        snprintf(buf, size, "%s0.%.*s%s", sign, -x - 1, "0000", d);
    } else if (nd <= x + 1) {
        snprintf(buf, size, "%s%s%.*s", sign, d, x + 1 - nd, "000000");
    } else {
        snprintf(buf, size, "%s%.*s.%s", sign, x + 1, d, d + x + 1);
    }
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
