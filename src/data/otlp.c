/*
 * Streaming reader of OTLP/HTTP JSON trace requests (include/modelwatch/otlp.h).
 *
 * The body is an ExportTraceServiceRequest in the protobuf JSON mapping as
 * OTLP uses it (opentelemetry-proto, docs/specification.md "JSON Protobuf
 * Encoding"): resourceSpans[].scopeSpans[].spans[], each span with
 * startTimeUnixNano / endTimeUnixNano (uint64 as a JSON string, or a number),
 * attributes [{key, value: AnyValue}], events [{timeUnixNano, name}] and
 * status {code}. AnyValue is one of stringValue, intValue (int64: string or
 * number), doubleValue (number, or "NaN"/"Infinity" strings), boolValue,
 * arrayValue {values: [AnyValue]}, kvlistValue and bytesValue (the last two
 * are skipped). Unknown fields are skipped, as the specification requires,
 * and field names are accepted in lowerCamelCase and snake_case.
 *
 * Why our own reader: jansson builds a tree of every attribute; on the
 * benchmark's requests (bench/gen_otlp_data.py, 512 spans of ~800 bytes) its
 * json_loadb read 8-12 MB/s, about 10k spans/s, on the shared 2-core machine
 * under load, while the goal is >= 100k spans/s. This reader makes one pass,
 * keeps views into the body and decodes only strings with escapes. Strings
 * are most of the work (~57 per span): plain bytes are skipped 16 at a time
 * with SSE2, which took reading from 360-540k to 670k-1M spans/s of CPU time
 * (4 alternating runs each, 50,000 spans; bench/bench_otlp, beside Python
 * json in bench/bench_otlp.sh).
 *
 * Invariants: reads only inside [body, body + len); recursion is bounded by
 * MW_OTLP_MAX_DEPTH; decoded strings go to a scratch area of len bytes, which
 * always suffices because a decoded string is never longer than its JSON
 * form. Syntax errors stop the whole request (MW_EPARSE with the byte
 * offset); a field of a span with the wrong type only marks that span invalid.
 */
#include "data/data_int.h"
#include "data/otlp_int.h"

#include <stdio.h>
#include <stdlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

typedef mw_otlp_rd px;

#define KEY(k, kn, lit) ((kn) == sizeof(lit) - 1 && !memcmp((k), (lit), sizeof(lit) - 1))
/* a known field, by its lowerCamelCase or snake_case name */
#define FIELD(k, kn, camel, snake) (KEY(k, kn, camel) || KEY(k, kn, snake))

static int fail(px *P, const char *what) {
    mw_error_set(P->err, MW_EPARSE, NULL, 0, (uint64_t)(P->p - P->begin) + 1,
                 "OTLP JSON, byte %llu: expected %s, got %s",
                 (unsigned long long)(P->p - P->begin) + 1, what, mw_jscan_describe(P->p, P->end));
    return -1;
}

void mw_otlp_rd_invalid(mw_otlp_rd *P, const char *fmt, const char *key, size_t kn) {
    if (P->invalid) return;
    snprintf(P->invalid_buf, sizeof P->invalid_buf, fmt, (int)(kn > 80 ? 80 : kn), key);
    P->invalid = P->invalid_buf;
}

static inline void ws(px *P) {
    while (P->p < P->end && (*P->p == ' ' || *P->p == '\n' || *P->p == '\r' || *P->p == '\t'))
        P->p++;
}

static inline int peek(px *P, char c) {
    return P->p < P->end && *P->p == c;
}

/* Decodes the JSON string body raw[0..n) (escapes known valid) into scratch. */
static const char *decode(px *P, const char *raw, size_t n, size_t *outn) {
    char *o = P->scratch + P->slen, *start = o;
    const char *s = raw, *e = raw + n;
    while (s < e) {
        if (*s != '\\') {
            *o++ = *s++;
            continue;
        }
        char c = s[1];
        s += 2;
        switch (c) {
        case 'b':
            *o++ = '\b';
            break;
        case 'f':
            *o++ = '\f';
            break;
        case 'n':
            *o++ = '\n';
            break;
        case 'r':
            *o++ = '\r';
            break;
        case 't':
            *o++ = '\t';
            break;
        case 'u': {
            unsigned u = 0, lo = 0;
            mw_jscan_hex4(s, e, &u);
            s += 4;
            if (u >= 0xD800 && u < 0xDC00 && e - s >= 6 && s[0] == '\\' && s[1] == 'u' &&
                mw_jscan_hex4(s + 2, e, &lo) && lo >= 0xDC00 && lo < 0xE000) {
                u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                s += 6;
            } else if (u >= 0xD800 && u < 0xE000) {
                u = 0xFFFD; /* a lone surrogate */
            }
            o += mw_jscan_utf8_put(o, u);
            break;
        }
        default:
            *o++ = c;
            break; /* " \ / */
        }
    }
    *outn = (size_t)(o - start);
    P->slen += *outn;
    return start;
}

/* A JSON string at P->p: its decoded view. */
/* 1 when one of the 8 bytes of v is '"', '\\' or below 0x20 (SWAR: a byte
 * is zero in v ^ pattern, or below n, when its high bit survives x - n & ~x). */
static inline int special8(uint64_t v) {
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t q = v ^ (ones * '"'), b = v ^ (ones * '\\');
    return (((q - ones) & ~q) | ((b - ones) & ~b) | ((v - ones * 0x20) & ~v)) & high ? 1 : 0;
}

/* Skips plain string bytes (not '"', '\\' or a control character) from p:
 * 16 at a time with SSE2 (baseline on x86-64), landing on the first special
 * byte, else 8 at a time (SWAR); the caller finishes byte by byte. */
static inline const char *plain_run(const char *p, const char *end) {
#ifdef __SSE2__
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  ctl = _mm_set1_epi8(0x1F);
    while (end - p >= 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, quote), _mm_cmpeq_epi8(x, bslash)),
                         _mm_cmpeq_epi8(_mm_max_epu8(x, ctl), ctl));
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);
        if (mask) return p + __builtin_ctz(mask);
        p += 16;
    }
#endif
    uint64_t v;
    while (end - p >= 8) {
        memcpy(&v, p, 8);
        if (special8(v)) break;
        p += 8;
    }
    return p;
}

static int string(px *P, const char **out, size_t *outn) {
    if (!peek(P, '"')) return fail(P, "a string");
    const char *s = ++P->p;
    int esc = 0;
    while (P->p < P->end) {
        P->p = plain_run(P->p, P->end);
        if (P->p >= P->end) break;
        unsigned char c = (unsigned char)*P->p;
        if (c == '"') break;
        if (c < 0x20) return fail(P, "a string without raw control characters");
        if (c == '\\') {
            esc = 1;
            if (P->end - P->p < 2) {
                P->p = P->end;
                break;
            }
            char k = P->p[1];
            unsigned u;
            if (k == 'u') {
                if (!mw_jscan_hex4(P->p + 2, P->end, &u))
                    return fail(P, "four hex digits after \\u");
                P->p += 6;
                continue;
            }
            if (!k || !strchr("\"\\/bfnrt", k)) return fail(P, "a valid escape");
            P->p += 2;
            continue;
        }
        P->p++;
    }
    if (P->p >= P->end) return fail(P, "the closing quote of a string");
    size_t n = (size_t)(P->p - s);
    P->p++;
    if (esc) {
        *out = decode(P, s, n, outn);
    } else {
        *out = s;
        *outn = n;
    }
    return 0;
}

static int skip_value(px *P);

/* The next item of an object or array whose closing byte is `close`: 1 when
 * one follows (separator and whitespace consumed), 0 at the close, -1 on error. */
static int next_item(px *P, int *first, char close) {
    ws(P);
    if (peek(P, close)) {
        P->p++;
        P->depth--;
        return 0;
    }
    if (!*first) {
        if (!peek(P, ',')) return fail(P, close == '}' ? "',' or '}'" : "',' or ']'");
        P->p++;
        ws(P);
    }
    *first = 0;
    return 1;
}

/* Object members: returns 1 with the key read and the ':' consumed, 0 at '}'. */
static int next_key(px *P, int *first, const char **k, size_t *kn) {
    int r = next_item(P, first, '}');
    if (r <= 0) return r;
    if (string(P, k, kn)) return -1;
    ws(P);
    if (!peek(P, ':')) return fail(P, "':'");
    P->p++;
    ws(P);
    return 1;
}

/* Array elements: returns 1 when an element follows (whitespace skipped), 0 at ']'. */
static int next_elem(px *P, int *first) {
    return next_item(P, first, ']');
}

/* Consumes '{' or '[' (c), checking the depth. */
static int open_c(px *P, char c, const char *what) {
    ws(P);
    if (!peek(P, c)) return fail(P, what);
    if (++P->depth > MW_OTLP_MAX_DEPTH) return fail(P, "less deeply nested JSON");
    P->p++;
    return 0;
}

static int skip_value(px *P) {
    ws(P);
    if (P->p >= P->end) return fail(P, "a value");
    const char *k;
    size_t kn;
    int first = 1, r;
    switch (*P->p) {
    case '{':
        if (open_c(P, '{', "an object")) return -1;
        while ((r = next_key(P, &first, &k, &kn)) == 1)
            if (skip_value(P)) return -1;
        return r;
    case '[':
        if (open_c(P, '[', "an array")) return -1;
        while ((r = next_elem(P, &first)) == 1)
            if (skip_value(P)) return -1;
        return r;
    case '"':
        return string(P, &k, &kn);
    case 't':
    case 'f':
    case 'n': {
        const char *lit = *P->p == 't' ? "true" : *P->p == 'f' ? "false" : "null";
        size_t n = strlen(lit);
        if ((size_t)(P->end - P->p) < n || memcmp(P->p, lit, n)) return fail(P, "a value");
        P->p += n;
        return 0;
    }
    default: {
        const char *e = mw_jscan_number(P->p, P->end);
        if (!e) return fail(P, "a value");
        P->p = e;
        return 0;
    }
    }
}

/* A number token at P->p (JSON grammar) into *v; 1 when it is one, 0 otherwise. */
static int number(px *P, double *v) {
    const char *e = mw_jscan_number(P->p, P->end);
    if (!e) return 0;
    if (!mw_data_parse_number(P->p, e, v)) return 0;
    P->p = e;
    return 1;
}

/* Whole number text s[0..n) (optional '-') into *v; 1 on success. */
static int int_text(const char *s, size_t n, int neg_ok, double *v) {
    size_t i = 0;
    int neg = 0;
    if (n && s[0] == '-' && neg_ok) {
        neg = 1;
        i = 1;
    }
    if (i == n || n - i > 20) return 0;
    uint64_t x = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (x > (UINT64_MAX - d) / 10) return 0;
        x = x * 10 + d;
    }
    *v = neg ? -(double)x : (double)x;
    return 1;
}

/* A uint64 time in nanoseconds: a string of digits or a whole number. */
static int time_ns(px *P, uint64_t *out, const char *field) {
    ws(P);
    const char *s;
    size_t n;
    double v = -1;
    if (peek(P, '"')) {
        if (string(P, &s, &n)) return -1;
        int ok = n <= 20;
        uint64_t x = 0;
        for (size_t i = 0; ok && i < n; i++) {
            uint64_t d = (uint64_t)(s[i] - '0');
            ok = s[i] >= '0' && s[i] <= '9' && x <= (UINT64_MAX - d) / 10;
            x = x * 10 + d;
        }
        if (ok && n) {
            *out = x;
            return 0;
        }
    } else {
        const char *at = P->p;
        if (number(P, &v) && v >= 0 && v < 1.8e19 && v == floor(v)) {
            *out = (uint64_t)v;
            return 0;
        }
        P->p = at;
        if (skip_value(P)) return -1;
    }
    mw_otlp_rd_invalid(P, "%.*s: expected nanoseconds since the epoch as a string of digits", field,
                       strlen(field));
    return 0;
}

mw_otlp_attr *mw_otlp_rd_new_attr(mw_otlp_rd *P) {
    if (P->nattrs == P->capattrs) {
        size_t c = P->capattrs ? P->capattrs * 2 : 32;
        mw_otlp_attr *a = realloc(P->attrs, c * sizeof *a);
        if (!a) return NULL;
        P->attrs = a;
        P->capattrs = c;
    }
    mw_otlp_attr *a = &P->attrs[P->nattrs++];
    memset(a, 0, sizeof *a);
    return a;
}

/* AnyValue into a (key known or not yet); arrays keep the first string and the count. */
static int any_value(px *P, mw_otlp_attr *a, int in_array) {
    int first = 1, r;
    const char *k;
    size_t kn;
    if (open_c(P, '{', "an AnyValue object")) return -1;
    while ((r = next_key(P, &first, &k, &kn)) == 1) {
        const char *at = P->p;
        if (FIELD(k, kn, "stringValue", "string_value")) {
            if (peek(P, '"')) {
                if (string(P, &a->str, &a->str_len)) return -1;
                a->kind = MW_OTLP_STRING;
                continue;
            }
        } else if (FIELD(k, kn, "intValue", "int_value")) {
            const char *s;
            size_t n;
            if (peek(P, '"')) {
                if (string(P, &s, &n)) return -1;
                if (int_text(s, n, 1, &a->number)) {
                    a->kind = MW_OTLP_INT;
                    continue;
                }
            } else if (number(P, &a->number) && fabs(a->number) < 9.2e18 &&
                       a->number == floor(a->number)) {
                a->kind = MW_OTLP_INT;
                continue;
            }
        } else if (FIELD(k, kn, "doubleValue", "double_value")) {
            const char *s;
            size_t n;
            if (peek(P, '"')) { /* the JSON mapping writes non-finite doubles as strings */
                if (string(P, &s, &n)) return -1;
                a->kind = MW_OTLP_DOUBLE;
                if (KEY(s, n, "NaN"))
                    a->number = NAN;
                else if (KEY(s, n, "Infinity"))
                    a->number = INFINITY;
                else if (KEY(s, n, "-Infinity"))
                    a->number = -INFINITY;
                else if (!mw_data_parse_field(s, s + n, s + n, &a->number))
                    a->kind = MW_OTLP_NONE;
                if (a->kind) continue;
            } else if (number(P, &a->number)) {
                a->kind = MW_OTLP_DOUBLE;
                continue;
            }
        } else if (FIELD(k, kn, "boolValue", "bool_value")) {
            if ((size_t)(P->end - P->p) >= 4 && !memcmp(P->p, "true", 4)) {
                P->p += 4;
                a->kind = MW_OTLP_BOOL;
                a->number = 1;
                continue;
            }
            if ((size_t)(P->end - P->p) >= 5 && !memcmp(P->p, "false", 5)) {
                P->p += 5;
                a->kind = MW_OTLP_BOOL;
                a->number = 0;
                continue;
            }
        } else if (FIELD(k, kn, "arrayValue", "array_value") && !in_array && peek(P, '{')) {
            int f2 = 1, r2;
            a->kind = MW_OTLP_ARRAY;
            if (open_c(P, '{', "an object")) return -1;
            while ((r2 = next_key(P, &f2, &k, &kn)) == 1) {
                if (!KEY(k, kn, "values") || !peek(P, '[')) {
                    if (skip_value(P)) return -1;
                    continue;
                }
                int f3 = 1, r3;
                if (open_c(P, '[', "an array")) return -1;
                while ((r3 = next_elem(P, &f3)) == 1) {
                    mw_otlp_attr el = {0};
                    if (any_value(P, &el, 1)) return -1;
                    if (el.kind == MW_OTLP_STRING && !a->str) {
                        a->str = el.str;
                        a->str_len = el.str_len;
                    }
                    a->number++;
                }
                if (r3 < 0) return -1;
            }
            if (r2 < 0) return -1;
            continue;
        } else {
            if (skip_value(P)) return -1; /* kvlistValue, bytesValue, unknown fields */
            continue;
        }
        P->p = at; /* a known field with the wrong type */
        mw_otlp_rd_invalid(P, "an attribute value: %.*s has the wrong type", k, kn);
        if (skip_value(P)) return -1;
    }
    return r;
}

/* Opens a span's array field: 1 when it is an array, 0 when it is not (the
 * span is then invalid and the value skipped), -1 on a syntax error. */
static int span_array(px *P, const char *field) {
    if (peek(P, '[')) return open_c(P, '[', "an array") ? -1 : 1;
    mw_otlp_rd_invalid(P, "%.*s: expected an array", field, strlen(field));
    return skip_value(P) ? -1 : 0;
}

/* attributes: [{"key": "...", "value": {...}}] */
static int attributes(px *P) {
    int first = 1, r = span_array(P, "attributes");
    if (r <= 0) return r;
    while ((r = next_elem(P, &first)) == 1) {
        if (P->nattrs >= MW_OTLP_MAX_ATTRS) {
            mw_otlp_rd_invalid(P, "more than 1024 attributes%.*s", "", 0);
            if (skip_value(P)) return -1;
            continue;
        }
        mw_otlp_attr *a = mw_otlp_rd_new_attr(P);
        if (!a) return mw_error_set(P->err, MW_ENOMEM, NULL, 0, 0, "out of memory"), -1;
        int f2 = 1, r2, has_key = 0;
        const char *k;
        size_t kn;
        if (open_c(P, '{', "an attribute object {\"key\", \"value\"}")) return -1;
        while ((r2 = next_key(P, &f2, &k, &kn)) == 1) {
            if (KEY(k, kn, "key") && peek(P, '"')) {
                if (string(P, &a->key, &a->key_len)) return -1;
                has_key = 1;
            } else if (KEY(k, kn, "value") && peek(P, '{')) {
                /* a points into P->attrs, which nested values do not grow */
                if (any_value(P, a, 0)) return -1;
            } else if (skip_value(P)) {
                return -1;
            }
        }
        if (r2 < 0) return -1;
        if (!has_key) {
            P->nattrs--;
            mw_otlp_rd_invalid(P, "an attribute has no \"key\"%.*s", "", 0);
        }
    }
    return r;
}

int mw_otlp_rd_add_event(mw_otlp_rd *P, const mw_otlp_event *ev) {
    if (P->nevents >= MW_OTLP_MAX_EVENTS) {
        mw_otlp_rd_invalid(P, "more than 1024 events%.*s", "", 0);
        return 0;
    }
    if (P->nevents == P->capevents) {
        size_t c = P->capevents ? P->capevents * 2 : 8;
        mw_otlp_event *e = realloc(P->events, c * sizeof *e);
        if (!e) return mw_error_set(P->err, MW_ENOMEM, NULL, 0, 0, "out of memory"), -1;
        P->events = e;
        P->capevents = c;
    }
    P->events[P->nevents++] = *ev;
    return 0;
}

static int events(px *P) {
    int first = 1, r = span_array(P, "events");
    if (r <= 0) return r;
    while ((r = next_elem(P, &first)) == 1) {
        mw_otlp_event ev = {0};
        int f2 = 1, r2;
        const char *k;
        size_t kn;
        if (open_c(P, '{', "an event object")) return -1;
        while ((r2 = next_key(P, &f2, &k, &kn)) == 1) {
            if (KEY(k, kn, "name") && peek(P, '"')) {
                if (string(P, &ev.name, &ev.name_len)) return -1;
            } else if (FIELD(k, kn, "timeUnixNano", "time_unix_nano")) {
                if (time_ns(P, &ev.time_ns, "event timeUnixNano")) return -1;
            } else if (skip_value(P)) {
                return -1;
            }
        }
        if (r2 < 0) return -1;
        if (mw_otlp_rd_add_event(P, &ev)) return -1;
    }
    return r;
}

/* status: {"code": 2 | "STATUS_CODE_ERROR", "message": "..."} */
static int status(px *P, int *code) {
    int first = 1, r;
    const char *k, *s;
    size_t kn, n;
    if (!peek(P, '{')) {
        mw_otlp_rd_invalid(P, "%.*s: expected an object", "status", 6);
        return skip_value(P);
    }
    if (open_c(P, '{', "an object")) return -1;
    while ((r = next_key(P, &first, &k, &kn)) == 1) {
        double v;
        if (!KEY(k, kn, "code")) {
            if (skip_value(P)) return -1;
        } else if (peek(P, '"')) {
            if (string(P, &s, &n)) return -1;
            *code = KEY(s, n, "STATUS_CODE_ERROR") ? 2 : KEY(s, n, "STATUS_CODE_OK") ? 1 : 0;
        } else if (number(P, &v) && (v == 0 || v == 1 || v == 2)) {
            *code = (int)v;
        } else {
            mw_otlp_rd_invalid(P, "%.*s: expected 0, 1 or 2", "status.code", 11);
            if (skip_value(P)) return -1;
        }
    }
    return r;
}

int mw_otlp_rd_begin_span(mw_otlp_rd *P, mw_otlp_span *sp) {
    memset(sp, 0, sizeof *sp);
    sp->index = ++P->nspans;
    if (P->nspans > MW_OTLP_MAX_SPANS) {
        mw_error_set(P->err, MW_ERANGE, NULL, 0, 0, "more than %d spans in one request",
                     MW_OTLP_MAX_SPANS);
        return -1;
    }
    P->nattrs = P->nevents = 0;
    P->invalid = NULL;
    return 0;
}

void mw_otlp_rd_deliver(mw_otlp_rd *P, mw_otlp_span *sp) {
    sp->attrs = P->attrs;
    sp->nattrs = P->nattrs;
    sp->events = P->events;
    sp->nevents = P->nevents;
    sp->invalid = P->invalid;
    if (!P->stop && P->fn(sp, P->ctx)) P->stop = 1;
}

void mw_otlp_rd_free(mw_otlp_rd *P) {
    free(P->scratch);
    free(P->attrs);
    free(P->events);
}

static int span(px *P) {
    mw_otlp_span sp;
    if (mw_otlp_rd_begin_span(P, &sp)) return -1;
    int first = 1, r;
    const char *k;
    size_t kn;
    if (open_c(P, '{', "a span object")) return -1;
    while ((r = next_key(P, &first, &k, &kn)) == 1) {
        int e = 0;
        if (KEY(k, kn, "name") && peek(P, '"'))
            e = string(P, &sp.name, &sp.name_len);
        else if (FIELD(k, kn, "startTimeUnixNano", "start_time_unix_nano"))
            e = time_ns(P, &sp.start_ns, "startTimeUnixNano");
        else if (FIELD(k, kn, "endTimeUnixNano", "end_time_unix_nano"))
            e = time_ns(P, &sp.end_ns, "endTimeUnixNano");
        else if (KEY(k, kn, "attributes"))
            e = attributes(P);
        else if (KEY(k, kn, "events"))
            e = events(P);
        else if (KEY(k, kn, "status"))
            e = status(P, &sp.status_code);
        else
            e = skip_value(P);
        if (e) return -1;
    }
    if (r < 0) return -1;
    mw_otlp_rd_deliver(P, &sp);
    return 0;
}

/* An array of objects, each read by fn (a structural field: errors stop the request). */
static int each(px *P, const char *what, int (*fn)(px *)) {
    int first = 1, r;
    if (open_c(P, '[', what)) return -1;
    while ((r = next_elem(P, &first)) == 1)
        if (fn(P)) return -1;
    return r;
}

/* An object whose field `camel`/`snake` is an array read by each(); other fields skipped. */
static int container(px *P, const char *what, const char *camel, const char *snake,
                     const char *arr_what, int (*fn)(px *)) {
    int first = 1, r;
    const char *k;
    size_t kn;
    if (open_c(P, '{', what)) return -1;
    while ((r = next_key(P, &first, &k, &kn)) == 1) {
        int e = (kn == strlen(camel) && !memcmp(k, camel, kn)) ||
                        (kn == strlen(snake) && !memcmp(k, snake, kn))
                    ? each(P, arr_what, fn)
                    : skip_value(P);
        if (e) return -1;
    }
    return r;
}

static int scope_spans(px *P) {
    return container(P, "a scopeSpans object", "spans", "spans", "spans to be an array", span);
}

static int resource_spans(px *P) {
    return container(P, "a resourceSpans object", "scopeSpans", "scope_spans",
                     "scopeSpans to be an array", scope_spans);
}

mw_status mw_otlp_parse(const char *body, size_t len, mw_otlp_span_fn fn, void *ctx,
                        mw_error *err) {
    px P = {.p = body, .end = body + len, .begin = body, .err = err, .fn = fn, .ctx = ctx};
    ws(&P);
    if (P.p == P.end) return MW_OK; /* an empty body: no spans */
    P.scratch = malloc(len + 1);
    if (!P.scratch) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    int e = container(&P, "an ExportTraceServiceRequest object", "resourceSpans", "resource_spans",
                      "resourceSpans to be an array", resource_spans);
    if (!e) {
        ws(&P);
        if (P.p != P.end) e = fail(&P, "the end of the body");
    }
    mw_otlp_rd_free(&P);
    return e ? (err && err->status ? err->status : MW_EPARSE) : MW_OK;
}

const mw_otlp_attr *mw_otlp_find(const mw_otlp_span *span, const char *key) {
    size_t n = strlen(key);
    for (size_t i = 0; i < span->nattrs; i++)
        if (span->attrs[i].key_len == n && !memcmp(span->attrs[i].key, key, n))
            return &span->attrs[i];
    return NULL;
}
