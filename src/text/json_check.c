/*
 * Is this text one JSON value? (text.h json_valid): an RFC 8259 validator
 * that allocates nothing, with an explicit stack of open containers (depth
 * bounded at 512: deeper text is reported as not valid).
 */
#include "text/text_int.h"

#include <string.h>

#define MAX_DEPTH 512

typedef struct cur {
    const unsigned char *p, *end;
} cur;

static void ws(cur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int hex(unsigned char x) {
    return mw_text_digit(x) || ((x | 0x20) >= 'a' && (x | 0x20) <= 'f');
}

static int string(cur *c) {
    c->p++; /* the opening quote */
    while (c->p < c->end) {
        unsigned char x = *c->p++;
        if (x == '"') return 1;
        if (x < 0x20) return 0;
        if (x != '\\') continue;
        if (c->p >= c->end) return 0;
        x = *c->p++;
        if (x == 'u') {
            if (c->end - c->p < 4 || !hex(c->p[0]) || !hex(c->p[1]) || !hex(c->p[2]) ||
                !hex(c->p[3]))
                return 0;
            c->p += 4;
        } else if (!strchr("\"\\/bfnrt", x) || !x) {
            return 0;
        }
    }
    return 0;
}

static int digits(cur *c) {
    const unsigned char *a = c->p;
    while (c->p < c->end && mw_text_digit(*c->p)) c->p++;
    return c->p > a;
}

static int number(cur *c) {
    if (*c->p == '-') c->p++;
    if (c->p < c->end && *c->p == '0') c->p++;
    else if (!digits(c)) return 0;
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (!digits(c)) return 0;
    }
    if (c->p < c->end && (*c->p | 0x20) == 'e') {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-')) c->p++;
        if (!digits(c)) return 0;
    }
    return 1;
}

static int literal(cur *c, const char *w) {
    size_t n = strlen(w);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, w, n)) return 0;
    c->p += n;
    return 1;
}

/* A scalar at c->p; 1 when valid. */
static int scalar(cur *c) {
    unsigned char x = *c->p;
    if (x == '"') return string(c);
    if (x == '-' || mw_text_digit(x)) return number(c);
    return literal(c, "true") || literal(c, "false") || literal(c, "null");
}

int mw_text_is_json(const char *s, size_t len) {
    cur c = {(const unsigned char *)s, (const unsigned char *)s + len};
    unsigned char stack[MAX_DEPTH]; /* '{' or '[' of each open container */
    size_t depth = 0;
    ws(&c);
    for (;;) {
        if (c.p >= c.end) return 0;
        /* a value */
        if (*c.p == '{' || *c.p == '[') {
            if (depth == MAX_DEPTH) return 0;
            stack[depth++] = *c.p++;
            ws(&c);
            if (c.p < c.end && *c.p == (stack[depth - 1] == '{' ? '}' : ']')) {
                c.p++;
                depth--;
                goto after_value;
            }
            if (stack[depth - 1] == '{') goto key;
            continue;
        }
        if (!scalar(&c)) return 0;
    after_value:
        ws(&c);
        if (depth == 0) return c.p == c.end;
        if (c.p >= c.end) return 0;
        if (*c.p == ',') {
            c.p++;
            ws(&c);
            if (stack[depth - 1] == '{') goto key;
            continue;
        }
        if (*c.p != (stack[depth - 1] == '{' ? '}' : ']')) return 0;
        c.p++;
        depth--;
        goto after_value;
    key:
        if (c.p >= c.end || *c.p != '"' || !string(&c)) return 0;
        ws(&c);
        if (c.p >= c.end || *c.p != ':') return 0;
        c.p++;
        ws(&c);
    }
}
