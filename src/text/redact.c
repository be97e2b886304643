/*
 * Redaction of personal data (text.h, mw_text_redact): the spans of e-mail
 * addresses, phone numbers, card numbers and IPv4 addresses come from the
 * same matchers that count them (pii.c, mw_text_each_pii), so what the
 * descriptors count is exactly what a stored example hides. Spans are sorted
 * and merged; everything between them is copied with invalid UTF-8 replaced
 * by U+FFFD (decoded as describe.c decodes), so stored examples are valid
 * UTF-8 for JSON.
 *
 * Memory: the span list grows on the heap (a 10 MB text may hold millions of
 * digits); when it cannot grow, the text is withheld entirely ("[REDACTED]")
 * rather than written with personal data left in.
 */
#include "text/text_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct span {
    size_t a, b;
    mw_pii_kind kind;
} span;

typedef struct spans {
    span *v;
    size_t n, cap;
    int failed;
} spans;

static void add_span(mw_pii_kind kind, size_t a, size_t b, void *ctx) {
    spans *s = ctx;
    if (s->failed) return;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        span *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv) {
            s->failed = 1;
            return;
        }
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = (span){a, b, kind};
}

static int by_start(const void *x, const void *y) {
    const span *a = x, *b = y;
    return a->a < b->a ? -1 : a->a > b->a ? 1 : a->b < b->b ? 1 : a->b > b->b ? -1 : 0;
}

static const char *token(mw_pii_kind k) {
    switch (k) {
    case MW_PII_EMAIL:
        return "[EMAIL]";
    case MW_PII_PHONE:
        return "[PHONE]";
    case MW_PII_CARD:
        return "[CARD]";
    case MW_PII_IP:
        return "[IP]";
    }
    return "[REDACTED]";
}

/* Appends n bytes when they fit in cap - 1; 0 when they do not (output ends). */
static int put(char *out, size_t cap, size_t *o, const void *p, size_t n) {
    if (*o + n >= cap) return 0;
    memcpy(out + *o, p, n);
    *o += n;
    return 1;
}

/* Copies s[a..b) with invalid UTF-8 as U+FFFD; 0 when the output filled. */
static int copy_text(const unsigned char *s, size_t a, size_t b, char *out, size_t cap, size_t *o) {
    while (a < b) {
        uint32_t cp;
        size_t n = s[a] < 0x80 ? 1 : mw_text_decode(s + a, s + b, &cp);
        if (n ? !put(out, cap, o, s + a, n) : !put(out, cap, o, "\xEF\xBF\xBD", 3)) return 0;
        a += n ? n : 1;
    }
    return 1;
}

size_t mw_text_redact(const char *text, size_t len, char *out, size_t cap, int *truncated) {
    int cut = 1;
    if (truncated) *truncated = len > 0;
    if (!out || cap == 0) return 0;
    const unsigned char *s = (const unsigned char *)(text ? text : "");
    if (!text) len = 0;
    spans sp = {0};
    mw_text_each_pii(s, len, add_span, &sp);
    size_t o = 0;
    if (sp.failed) {
        put(out, cap, &o, "[REDACTED]", 10);
        cut = 0;
    } else {
        if (sp.n > 1) qsort(sp.v, sp.n, sizeof *sp.v, by_start);
        size_t at = 0;
        for (size_t i = 0; i <= sp.n; i++) {
            size_t a = i < sp.n ? sp.v[i].a : len;
            if (a < at) a = at; /* overlaps the previous span */
            if (!copy_text(s, at, a, out, cap, &o)) break;
            if (i == sp.n) {
                cut = 0;
                break;
            }
            const char *t = token(sp.v[i].kind);
            size_t end = sp.v[i].b;
            while (i + 1 < sp.n && sp.v[i + 1].a < end) /* merge overlapping spans */
                if (sp.v[++i].b > end) end = sp.v[i].b;
            if (end <= at) continue; /* inside an earlier span */
            if (!put(out, cap, &o, t, strlen(t))) break;
            at = end;
        }
    }
    free(sp.v);
    out[o] = 0;
    if (truncated) *truncated = cut;
    return o;
}
