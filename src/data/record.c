/*
 * Prediction-record parser (include/modelwatch/record.h): one JSON object per
 * call into a borrowed mw_record view, and the body iterator over NDJSON lines or
 * a JSON array of records. This is the daemon's hot path (POST /api/v1/records).
 *
 * Why hand-written (DESIGN.md, record ingestion): a general JSON DOM costs more
 * than the whole budget (jansson 190k records/s, cJSON 450k/s here). This parser
 * walks the bytes once, never builds a tree, and dispatches the few known keys by
 * length and memcmp. Hand-tuned where profiles pointed: SSE2 string scanning (16
 * bytes per step), usual numbers from one 16-byte load (digit mask -> lengths,
 * SWAR digit conversion, one exact division), whitespace skipped only where the
 * expected byte is not there. Measured with bench/bench_records.c (1M records of
 * ~330 bytes, 10 numeric + 2 categorical features, one core of this 2-core VM,
 * gcc 12 -O2, CPU time): median of 5 runs 1.8-1.9M records/s (600 MB/s), best
 * run 2.0M/s, while other jobs shared the machine; 1.36M/s when every number has
 * 17 digits (those take the exact mw_data_parse_number path). A first version
 * with a byte loop per number and string ran at 1.0M/s.
 *
 * Semantics (beyond the header):
 *  - Duplicate top-level keys: the last one wins (a second "features" or "scores"
 *    object replaces the first); every occurrence is still validated. Duplicate
 *    names inside "features" or "scores" are errors.
 *  - null for an optional field (id, ts, features, prediction, scores,
 *    latency_ms, error) means absent. model and version must be non-empty.
 *  - version and id given as numbers keep their text as written ("3", "1e3").
 *  - Numbers in the range of a double only: 1e400 is an error, not infinity.
 *  - Strings: full escapes incl. surrogate pairs; lone surrogates and \u0000 are
 *    errors; raw bytes must be valid UTF-8 and not control characters.
 *  - Skipped (unknown) keys are validated structurally, with
 *    at most 64 levels of nested containers in one value.
 *  - Limits: 10000 features (and scores), names up to 1024 bytes, a record (line
 *    or array element) up to 16 MiB; beyond them MW_ERANGE, never a crash.
 *  - Errors: message `<where>: <what was expected>, got <what was there>` where
 *    <where> is `"field"`, `feature "name"` or `score "name"` (nothing for the
 *    record's own structure); column = 1-based byte offset in the line (in array
 *    mode: in the element); line = 0 from mw_record_parse, the line (NDJSON) or
 *    element number (array) from the iterator.
 *
 * Records laid out like the one before (the same keys in the same order, the
 * same separators) are parsed by that layout first: record_shape.c says how,
 * and why the result is always the normal parse's (shape_parse below).
 *
 * Invariants:
 *  - Strings are views into the input unless they contain escapes; decoded ones
 *    live in the parser's scratch. Decoding never grows a string (an escape is at
 *    least as long as its output), so the scratch is sized to the record once, on
 *    its first escape, and is never moved while a record is parsed: views into it
 *    stay valid until the next call.
 *  - The feature and score arrays and the duplicate-name table are reused: no
 *    allocation per record in steady state.
 *  - Never reads outside [line, line + len); no recursion (skipped values use a
 *    64-entry stack); no global mutable state.
 *  - Word-at-a-time string scanning assumes a little-endian machine (checked).
 */
#include "data/record_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "record.c: the string scanner assumes a little-endian machine"
#endif

#define MAX_FEATURES 10000
#define MAX_NAME 1024
#define MAX_DEPTH 64
#define MAX_RECORD ((size_t)16 << 20)

/* Where an error is: nothing, "field", feature "name" or score "name". */
enum { W_RECORD, W_FIELD, W_FEATURE, W_SCORE };
typedef struct where {
    int kind;
    const char *name;
    size_t len;
} where;

static const where at_record = {W_RECORD, NULL, 0};

/* ---- messages --------------------------------------------------------------- */

/* Writes s[0..n) for a message: at most max bytes (cut at a UTF-8 boundary, then
 * "..."), control characters as '?'. Returns the bytes written (buf has room). */
static size_t excerpt(char *buf, const char *s, size_t n, size_t max) {
    size_t k = n, o = 0;
    int cut = 0;
    if (k > max) {
        k = max;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        cut = 1;
    }
    for (size_t i = 0; i < k; i++)
        buf[o++] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
    if (cut) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = 0;
    return o;
}

static int is_delim(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ':' || c == '}' ||
           c == ']' || c == '{' || c == '[' || c == '"';
}

/* What stands at p, for "got ...": a description, a token as written, or a
 * quoted excerpt of a string. buf has room for 80 bytes. */
static const char *got(char *buf, const char *p, const char *end) {
    if (p >= end) return "the end of the line";
    switch (*p) {
    case '{':
    case '[':
    case ',':
    case ':':
    case '}':
    case ']':
        return mw_jscan_describe(p, end);
    case '"': {
        const char *q = p + 1;
        while (q < end && *q != '"' && q - p < 60)
            q += *q == '\\' && q + 1 < end ? 2 : 1;
        if (q > end) q = end;
        buf[0] = '"';
        size_t o = 1 + excerpt(buf + 1, p + 1, (size_t)(q - p - 1), 40);
        buf[o] = '"';
        buf[o + 1] = 0;
        return buf;
    }
    default:
        break;
    }
    if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7F) return "an unexpected character";
    size_t n = 0;
    while (p + n < end && n < 32 && !is_delim(p[n]) && (unsigned char)p[n] > 0x20 &&
           (unsigned char)p[n] < 0x7F)
        n++;
    excerpt(buf, p, n, 32);
    return buf;
}

/* Records an error at `at` (prefix from w) and returns 0. */
__attribute__((cold, noinline, format(printf, 5, 6))) static int
fail(mw_record_parser *P, mw_status st, const char *at, const where *w, const char *fmt, ...) {
    P->status = st;
    if (!P->err) return 0;
    char body[400], name[80];
    size_t o = 0;
    if (w->kind != W_RECORD) {
        excerpt(name, w->name, w->len, 64);
        o = (size_t)snprintf(body, sizeof body, "%s\"%s\": ",
                             w->kind == W_FEATURE ? "feature "
                             : w->kind == W_SCORE ? "score "
                                                  : "",
                             name);
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body + o, sizeof body - o, fmt, ap);
    va_end(ap);
    uint64_t col = at >= P->line ? (uint64_t)(at - P->line) + 1 : 1;
    mw_error_set(P->err, st, "", 0, col, "%s", body);
    return 0;
}

#define FAIL(at, w, ...) fail(P, MW_EPARSE, at, w, __VA_ARGS__)

/* ---- scanning ---------------------------------------------------------------- */

static const char *ws_slow(const char *p, const char *end) {
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* Skips JSON whitespace; the usual cases (none, or the one space of
 * ", " and ": " that Python's json.dumps writes) cost one or two compares
 * inline (the loop was ~430 instructions of a 12-feature record). */
static inline const char *ws(const char *p, const char *end) {
    if (p < end && *p == ' ') p++;
    if (p < end && (unsigned char)*p > ' ') return p;
    return ws_slow(p, end);
}

/* After an object member: consumes the ',' or '}' that follows (after any
 * whitespace) and returns it, or returns 0 with *pp at whatever came instead.
 * A ',' right after the value, the compact common case, is tried first. */
static inline char member_end(const char **pp, const char *end) {
    const char *p = *pp;
    if (p < end && *p == ',') {
        p++;
        p += p < end && *p == ' '; /* ", ": the next key is then found at once */
        *pp = p;
        return ',';
    }
    p = ws(p, end);
    if (p < end && (*p == ',' || *p == '}')) {
        *pp = p + 1;
        return *p;
    }
    *pp = p;
    return 0;
}

/* First byte at or after p that is '"', '\\', a control character or non-ASCII. */
static inline const char *str_stop(const char *p, const char *end) {
#ifdef __SSE2__
    /* 16 bytes at a time: a signed compare with 0x20 flags both control
     * characters and bytes >= 0x80 (negative as signed chars) */
    const __m128i quote = _mm_set1_epi8('"'), bslash = _mm_set1_epi8('\\'),
                  space = _mm_set1_epi8(0x20);
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, bslash)),
                         _mm_cmplt_epi8(v, space));
        unsigned m = (unsigned)_mm_movemask_epi8(hit);
        if (m) return p + __builtin_ctz(m);
        p += 16;
    }
#endif
    const uint64_t L = 0x0101010101010101ULL, H = 0x8080808080808080ULL;
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        uint64_t q = v ^ (L * '"'), b = v ^ (L * '\\');
        /* a borrow only starts at a byte that is itself a hit, so the lowest
         * flagged byte is always a true one */
        uint64_t m = (((q - L) & ~q) | ((b - L) & ~b) | ((v - L * 0x20) & ~v) | v) & H;
        if (m) return p + (__builtin_ctzll(m) >> 3);
        p += 8;
    }
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\' || c < 0x20 || c >= 0x80) return p;
        p++;
    }
    return end;
}

static int scratch_reserve(mw_record_parser *P) {
    size_t need = (size_t)(P->end - P->line) + 16;
    if (need > P->scratch_cap) {
        size_t n = P->scratch_cap ? P->scratch_cap : 4096;
        while (n < need)
            n *= 2;
        char *s = realloc(P->scratch, n);
        if (!s) return 0;
        P->scratch = s;
        P->scratch_cap = n;
    }
    P->scratch_ready = 1;
    return 1;
}

/*
 * The string from q on, where q is the first special byte after the opening
 * quote at `open` (s = open + 1). decode: produce the text (view or scratch);
 * else only validate. Moves *pp past the closing quote.
 */
static int str_slow(mw_record_parser *P, const char **pp, const char *q, const where *w, int decode,
                    const char **out, size_t *outlen) {
    const char *open = *pp, *s = open + 1, *end = P->end;
    char *o = NULL; /* output cursor once decoding into scratch */
    for (;;) {
        if (q >= end) return FAIL(open, w, "unterminated string (no closing '\"' on this line)");
        unsigned char c = (unsigned char)*q;
        if (c == '"') break;
        if (c < 0x20) {
            if (c == 0) return FAIL(q, w, "NUL byte in a string: this looks like binary data");
            return FAIL(q, w, "control character in a string (must be escaped)");
        }
        if (c >= 0x80) {
            size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
            size_t lim = (size_t)(end - q) < 4 ? (size_t)(end - q) : 4;
            int nul;
            if (n > lim || mw_data_utf8_check(q, n, &nul) != n)
                return FAIL(q, w, "invalid UTF-8 in a string");
            if (o) {
                memcpy(o, q, n);
                o += n;
            }
            q += n;
        } else { /* backslash */
            if (decode && !o) {
                if (!P->scratch_ready && !scratch_reserve(P))
                    return fail(P, MW_ENOMEM, q, w, "out of memory");
                o = P->scratch + P->scratch_len;
                memcpy(o, s, (size_t)(q - s));
                o += q - s;
                s = NULL; /* output starts at P->scratch + P->scratch_len */
            }
            if (q + 1 >= end) return FAIL(q, w, "unterminated escape sequence in a string");
            char e = q[1];
            char d = 0;
            switch (e) {
            case '"':
                d = '"';
                break;
            case '\\':
                d = '\\';
                break;
            case '/':
                d = '/';
                break;
            case 'b':
                d = '\b';
                break;
            case 'f':
                d = '\f';
                break;
            case 'n':
                d = '\n';
                break;
            case 'r':
                d = '\r';
                break;
            case 't':
                d = '\t';
                break;
            case 'u': {
                unsigned u, lo;
                if (!mw_jscan_hex4(q + 2, end, &u))
                    return FAIL(q, w, "invalid \\u escape (expected 4 hex digits)");
                const char *esc = q;
                q += 6;
                if (u >= 0xD800 && u <= 0xDBFF) {
                    if (end - q < 6 || q[0] != '\\' || q[1] != 'u' ||
                        !mw_jscan_hex4(q + 2, end, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                        return FAIL(esc, w, "unpaired UTF-16 surrogate in a \\u escape");
                    q += 6;
                    u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
                } else if (u >= 0xDC00 && u <= 0xDFFF) {
                    return FAIL(esc, w, "unpaired UTF-16 surrogate in a \\u escape");
                } else if (u == 0) {
                    return FAIL(esc, w, "\\u0000 (NUL) in a string is not supported");
                }
                if (o) o += mw_jscan_utf8_put(o, u);
                break;
            }
            default:
                return FAIL(q, w, "invalid escape sequence in a string");
            }
            if (d) {
                if (o) *o++ = d;
                q += 2;
            }
        }
        /* plain run up to the next special byte */
        const char *r = str_stop(q, end);
        if (o) {
            memcpy(o, q, (size_t)(r - q));
            o += r - q;
        }
        q = r;
    }
    *pp = q + 1;
    if (!decode) return 1;
    if (o) {
        *out = P->scratch + P->scratch_len;
        *outlen = (size_t)(o - *out);
        P->scratch_len += *outlen;
    } else {
        *out = open + 1;
        *outlen = (size_t)(q - open - 1);
    }
    return 1;
}

/* The string whose opening quote is at *pp: a view when it has no escapes, else
 * decoded into the scratch. Moves *pp past the closing quote. */
static inline int str_value(mw_record_parser *P, const char **pp, const where *w, const char **out,
                            size_t *outlen) {
    const char *s = *pp + 1;
    const char *q = str_stop(s, P->end);
    if (q < P->end && *q == '"') {
        *out = s;
        *outlen = (size_t)(q - s);
        *pp = q + 1;
        return 1;
    }
    return str_slow(P, pp, q, w, 1, out, outlen);
}

static inline int str_skip(mw_record_parser *P, const char **pp, const where *w) {
    const char *q = str_stop(*pp + 1, P->end);
    if (q < P->end && *q == '"') {
        *pp = q + 1;
        return 1;
    }
    return str_slow(P, pp, q, w, 0, NULL, NULL);
}

/* Bytes that may not directly follow a number: letters, digits, '.', '+', '-'. */
static const unsigned char tail_tab[256] = {
    ['+'] = 1, ['-'] = 1, ['.'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1,
    ['5'] = 1, ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1,
    ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1,
    ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1,
    ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['a'] = 1,
    ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1, ['i'] = 1,
    ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1, ['q'] = 1,
    ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1,
    ['z'] = 1,
};

static inline int num_tail(char c) {
    return tail_tab[(unsigned char)c];
}

/* End of the JSON number token at p, or NULL after recording an error. */
static inline const char *num_token(mw_record_parser *P, const char *p, const where *w) {
    const char *e = mw_jscan_number(p, P->end);
    if (!e || (e < P->end && num_tail(*e))) {
        char buf[80];
        return FAIL(p, w, "invalid JSON number %s", got(buf, p, P->end)), NULL;
    }
    return e;
}

/*
 * Accumulates the decimal digits at p into *m (wrapping: callers count digits)
 * and returns the first non-digit. Eight bytes at a time: per byte a = b - '0'
 * is a digit when a < 10; the lowest byte failing that ends the run (a borrow
 * or carry between bytes only starts at a failing byte, so the lowest flag is
 * exact). The k digits are shifted to the top of the word, so the vacated low
 * bytes act as leading zeros, and combined pairwise: 2, 4, then 8 digits.
 */
static inline const char *digits(const char *p, const char *end, uint64_t *m) {
    const uint64_t L = 0x0101010101010101ULL, H = 0x8080808080808080ULL;
    static const uint64_t pow10[9] = {1,      10,      100,      1000,     10000,
                                      100000, 1000000, 10000000, 100000000};
    uint64_t acc = *m;
    while (end - p >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        uint64_t a = v - L * '0';
        uint64_t bad = ((a + L * 0x76) | a) & H;
        unsigned k = bad ? (unsigned)__builtin_ctzll(bad) >> 3 : 8;
        if (k == 0) break;
        uint64_t t = k == 8 ? a : a << (8 * (8 - k));
        t = (t * 10 + (t >> 8)) & 0x00FF00FF00FF00FFULL;
        t = (t * 100 + (t >> 16)) & 0x0000FFFF0000FFFFULL;
        t = (t * 10000 + (t >> 32)) & 0xFFFFFFFFULL;
        acc = acc * pow10[k] + t;
        p += k;
        if (k < 8) {
            *m = acc;
            return p;
        }
    }
    while (p < end && (unsigned)(*p - '0') < 10)
        acc = acc * 10 + (uint64_t)(*p++ - '0');
    *m = acc;
    return p;
}

/* Value of the k (0..8) decimal digits at p; 8 bytes at p must be readable. */
__attribute__((always_inline)) static inline uint64_t conv8(const char *p, unsigned k) {
    if (k == 0) return 0;
    uint64_t v;
    memcpy(&v, p, 8);
    if (k < 8) { /* move the digits up; the vacated low bytes become leading '0's */
        unsigned shift = 8 * (8 - k);
        v = (v << shift) | (0x3030303030303030ULL >> (64 - shift));
    }
    return mw_data_eight_value(v);
}

static const uint64_t pow10_u64[20] = {1ULL,
                                       10ULL,
                                       100ULL,
                                       1000ULL,
                                       10000ULL,
                                       100000ULL,
                                       1000000ULL,
                                       10000000ULL,
                                       100000000ULL,
                                       1000000000ULL,
                                       10000000000ULL,
                                       100000000000ULL,
                                       1000000000000ULL,
                                       10000000000000ULL,
                                       100000000000000ULL,
                                       1000000000000000ULL,
                                       10000000000000000ULL,
                                       100000000000000000ULL,
                                       1000000000000000000ULL,
                                       10000000000000000000ULL};

/* Value of the k (0..15) digits at p; 16 bytes at p must be readable. */
__attribute__((always_inline)) static inline uint64_t conv16(const char *p, unsigned k) {
    if (k == 1) return (uint64_t)(*p - '0');
    if (k <= 8) return conv8(p, k);
    return conv8(p, 8) * pow10_u64[k - 8] + conv8(p + 8, k - 8);
}

/* Value of the k (0..19) digits at p; 24 bytes at p must be readable when
 * k > 16, 16 when k > 8, else 8. */
__attribute__((always_inline)) static inline uint64_t conv19(const char *p, unsigned k) {
    if (k <= 15) return conv16(p, k);
    return (conv8(p, 8) * 100000000ULL + conv8(p + 8, 8)) * pow10_u64[k - 16] +
           conv8(p + 16, k - 16);
}

/*
 * The JSON number at *pp as a finite double, in one pass: the grammar is checked
 * while the digits are accumulated. When the digits fit 2^53 and the decimal
 * exponent is within +-22, w and 10^|q| are exact doubles and one IEEE multiply
 * or divide rounds correctly (Clinger 1990); otherwise (more than 15 digits,
 * large exponents) mw_data_parse_number (Eisel-Lemire, exact) converts the token.
 */
__attribute__((always_inline)) static inline int num_value(mw_record_parser *P, const char **pp,
                                                           const where *w, double *v) {
    const char *s = *pp, *p = s, *end = P->end;
    int neg = *p == '-';
    p += neg;
    if (p >= end) goto bad;
    const char *ds = p;
#ifdef __SSE2__
    /* Usual numbers (digits, '.', digits; no exponent) from two 16-byte loads:
     * the digit mask gives both lengths, conv19 the value of up to 19 digits
     * (8 per step), and mw_data_decimal_to_double rounds it as the scanner
     * below does (a decimal with a fraction by multiplications: a division
     * here held up the parse, data_int.h says more). (The
     * CSV reader's whole-field SSSE3 parser, handed the token once its end is
     * known, cost ~150 instructions per 17-digit number here, more than the
     * scalar scan it replaced; these loads already hold the classification.) */
    if (end - p >= 32) {
        const __m128i zero = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9);
        __m128i x = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)p), zero);
        __m128i y = _mm_sub_epi8(_mm_loadu_si128((const __m128i *)(const void *)(p + 16)), zero);
        uint64_t nond =
            ~(uint64_t)((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(x, nine), x)) |
                        (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(y, nine), y))
                            << 16); /* bits 32.. set */
        unsigned i = (unsigned)__builtin_ctzll(nond);
        if (i == 0) goto bad;
        if (i > 1 && *p == '0') goto bad;
        unsigned f = 0, len = i;
        if (i < 32 && p[i] == '.') {
            f = (unsigned)__builtin_ctzll(nond >> (i + 1));
            len = i + 1 + f;
        }
        if (len < 32 && (p[i] != '.' || f > 0) && !num_tail(p[len])) {
            if (i + f <= 19) { /* m < 10^19, rounded by the shared conversion */
                uint64_t m = conv19(p, i);
                if (f) m = m * pow10_u64[f] + conv19(p + i + 1, f);
                *v = mw_data_decimal_to_double(m, -(int64_t)f, 0, neg, s, p + len);
                *pp = p + len;
                return 1;
            }
        }
    }
#endif
    unsigned c0 = (unsigned)(*p - '0');
    if (c0 > 9) goto bad;
    uint64_t m = c0;
    p++;
    /* one or two integer digits are the usual case: no word needed. After a
     * leading 0 a digit is left to the tail check (no leading zeros). */
    if (c0 && p < end && (unsigned)(*p - '0') < 10) {
        m = m * 10 + (uint64_t)(*p++ - '0');
        if (p < end && (unsigned)(*p - '0') < 10) p = digits(p, end, &m);
    }
    size_t nd = (size_t)(p - ds);
    int64_t q = 0;
    if (p < end && *p == '.') {
        const char *fs = ++p;
        p = digits(p, end, &m);
        if (p == fs) goto bad;
        nd += (size_t)(p - fs);
        q = -(int64_t)(p - fs);
    }
    if (p < end && num_tail(*p)) {
        if ((*p | 0x20) != 'e') goto bad;
        p++;
        int eneg = 0;
        if (p < end && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        const char *es = p;
        int64_t x = 0;
        while (p < end && (unsigned)(*p - '0') < 10) {
            if (x < 100000) x = x * 10 + (*p - '0');
            p++;
        }
        if (p == es || (p < end && num_tail(*p))) goto bad;
        q += eneg ? -x : x;
    }
    if (nd <= 19) {
        /* m < 10^19 holds every digit: the shared conversion on m and q
         * directly (the 16-17 digit numbers of Python's repr and %.17g used
         * to be scanned a second time by mw_data_parse_number: ~2,900
         * instructions of a 10-number record in bench_journal) */
        *v = mw_data_decimal_to_double(m, q, 0, neg, s, p);
        if (!isfinite(*v)) {
            char buf[80];
            return FAIL(s, w, "number %s is out of range", got(buf, s, end));
        }
    } else if (mw_data_parse_number(s, p, v) != p || !isfinite(*v)) {
        char buf[80];
        return FAIL(s, w, "number %s is out of range", got(buf, s, end));
    }
    *pp = p;
    return 1;
bad : {
    char buf[80];
    return FAIL(s, w, "invalid JSON number %s", got(buf, s, end));
}
}

/* true / false / null at *pp (p[0] is t, f or n); 0 (no error recorded) when the
 * bytes are something else. Sets *len to the literal's length. */
static inline int literal(const char *p, const char *end, size_t *len) {
    size_t n = *p == 'f' ? 5 : 4;
    const char *lit = *p == 't' ? "true" : *p == 'f' ? "false" : "null";
    if ((size_t)(end - p) < n || memcmp(p, lit, n) != 0) return 0;
    if ((size_t)(end - p) > n && num_tail(p[n])) return 0;
    *len = n;
    return 1;
}

/* Skips (validating) the value at *pp: at most MAX_DEPTH nested containers. */
static int skip_value(mw_record_parser *P, const char **pp, const where *w) {
    const char *p = *pp, *end = P->end;
    char stack[MAX_DEPTH];
    int d = 0;
    char buf[80];
    size_t n;
value:
    if (p >= end) return FAIL(p, w, "expected a value, got the end of the line");
    switch (*p) {
    case '{':
    case '[':
        if (d == MAX_DEPTH) return FAIL(p, w, "nested deeper than %d levels", MAX_DEPTH);
        stack[d++] = *p == '{' ? '}' : ']';
        p = ws(p + 1, end);
        if (p < end && *p == stack[d - 1]) {
            p++;
            d--;
            goto after;
        }
        if (stack[d - 1] == '}') goto key;
        goto value;
    case '"':
        if (!str_skip(P, &p, w)) return 0;
        goto after;
    case 't':
    case 'f':
    case 'n':
        if (!literal(p, end, &n)) return FAIL(p, w, "expected a value, got %s", got(buf, p, end));
        p += n;
        goto after;
    default:
        if (*p == '-' || (*p >= '0' && *p <= '9')) {
            p = num_token(P, p, w);
            if (!p) return 0;
            goto after;
        }
        return FAIL(p, w, "expected a value, got %s", got(buf, p, end));
    }
key:
    if (p >= end || *p != '"')
        return FAIL(p, w, "expected a string key in an object, got %s", got(buf, p, end));
    if (!str_skip(P, &p, w)) return 0;
    p = ws(p, end);
    if (p >= end || *p != ':')
        return FAIL(p, w, "expected ':' after an object key, got %s", got(buf, p, end));
    p = ws(p + 1, end);
    goto value;
after:
    if (d == 0) {
        *pp = p;
        return 1;
    }
    p = ws(p, end);
    if (p < end && *p == ',') {
        p = ws(p + 1, end);
        if (stack[d - 1] == '}') goto key;
        goto value;
    }
    if (p < end && *p == stack[d - 1]) {
        p++;
        d--;
        goto after;
    }
    return FAIL(p, w,
                stack[d - 1] == '}' ? "expected ',' or '}' in an object, got %s"
                                    : "expected ',' or ']' in an array, got %s",
                got(buf, p, end));
}

/* ---- duplicate names in features / scores ------------------------------------ */

static inline uint64_t name_hash(const char *s, size_t n) {
    uint64_t a, b;
    if (n > 16) return mw_data_hash64(s, n, 0);
    if (n >= 8) {
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
    } else if (n >= 4) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        a = x;
        b = y;
    } else {
        a = n ? (uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[n / 2] << 8 |
                    (uint64_t)(unsigned char)s[n - 1] << 16
              : 0;
        b = 0;
    }
    uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ULL) ^ n) * 0xFF51AFD7ED558CCDULL;
    return h ^ (h >> 31);
}

/* Starts a new object: names inserted from now on are compared with each other. */
static inline void dup_begin(mw_record_parser *P) {
    if (++P->gen == 0) {
        memset(P->dtab, 0, (P->dmask + 1) * sizeof *P->dtab);
        P->gen = 1;
    }
}

/* Makes the table hold 2 * cap slots at least (so it stays at most half full
 * while an array of cap names is checked). Returns 1 when it was large enough,
 * 2 when it was replaced by an empty one, 0 when out of memory. */
static int dup_reserve(mw_record_parser *P, size_t cap) {
    if (2 * cap <= P->dmask + 1) return 1;
    size_t slots = P->dmask + 1;
    while (slots < 2 * cap)
        slots *= 2;
    uint64_t *t = calloc(slots, sizeof *t);
    if (!t) return 0;
    free(P->dtab);
    P->dtab = t;
    P->dmask = slots - 1;
    P->gen = 1;
    return 2;
}

/* Inserts a[n] (n < the capacity given to dup_reserve); returns 1 when an
 * earlier a[i] of this object has the same name, else 0. */
static inline int dup_insert(mw_record_parser *P, const mw_feature *a, size_t n) {
    const char *s = a[n].name;
    size_t len = a[n].name_len;
    size_t h = (size_t)name_hash(s, len) & P->dmask;
    for (;;) {
        uint64_t e = P->dtab[h];
        if ((e >> 32) != P->gen) break;
        const mw_feature *f = &a[(uint32_t)e];
        if (f->name_len == len && memcmp(f->name, s, len) == 0) return 1;
        h = (h + 1) & P->dmask;
    }
    P->dtab[h] = (uint64_t)P->gen << 32 | n;
    return 0;
}

/* ---- values ---------------------------------------------------------------------- */

/* A feature / prediction value: number, string, true/false ("true"/"false"), null. */
__attribute__((always_inline)) static inline int any_value(mw_record_parser *P, const char **pp,
                                                           const where *w, mw_feature *f) {
    const char *p = *pp;
    char c = *p;
    f->number = NAN;
    f->str = NULL;
    f->str_len = 0;
    if (c == '"') {
        f->kind = MW_VALUE_STRING;
        return str_value(P, pp, w, &f->str, &f->str_len);
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        f->kind = MW_VALUE_NUMBER;
        return num_value(P, pp, w, &f->number);
    }
    size_t n;
    if ((c == 't' || c == 'f' || c == 'n') && literal(p, P->end, &n)) {
        f->kind = c == 'n' ? MW_VALUE_MISSING : MW_VALUE_STRING;
        if (c != 'n') {
            f->str = p; /* "true" / "false" as written */
            f->str_len = n;
        }
        *pp = p + n;
        return 1;
    }
    char buf[80];
    return FAIL(p, w, "expected a number, string, boolean or null, got %s", got(buf, p, P->end));
}

/* A score (a member of "scores"): a number. */
__attribute__((always_inline)) static inline int score_value(mw_record_parser *P, const char **pp,
                                                             const where *w, mw_feature *f) {
    const char *p = *pp;
    f->kind = MW_VALUE_NUMBER;
    f->str = NULL;
    f->str_len = 0;
    if (*p != '-' && (*p < '0' || *p > '9')) {
        char buf[80];
        return FAIL(p, w, "expected a number, got %s", got(buf, p, P->end));
    }
    return num_value(P, pp, w, &f->number);
}

/* The object of "features" (scores = 0) or "scores" (scores = 1) at *pp ('{'). */
__attribute__((always_inline)) static inline int
parse_map(mw_record_parser *P, const char **pp, const where *field, int scores, size_t *count) {
    const char *p = ws(*pp + 1, P->end), *end = P->end;
    mw_feature **arr = scores ? &P->scores : &P->feat;
    size_t *cap = scores ? &P->scores_cap : &P->feat_cap;
    mw_feature *a = *arr; /* local copies: no reloads through P */
    size_t acap = *cap, n = 0;
    char buf[80];
    *count = 0;
    dup_begin(P);
    if (p < end && *p == '}') {
        *pp = p + 1;
        return 1;
    }
    for (;;) {
        if (p >= end || *p != '"') {
            p = ws(p, end);
            if (p >= end || *p != '"')
                return FAIL(p, field, "expected a string key (a %s name), got %s",
                            scores ? "class" : "feature", got(buf, p, end));
        }
        const char *keyat = p;
        const char *name;
        size_t nlen;
        if (!str_value(P, &p, field, &name, &nlen)) return 0;
        if (nlen > MAX_NAME)
            return fail(P, MW_ERANGE, keyat, field, "a %s name is longer than %d bytes",
                        scores ? "class" : "feature", MAX_NAME);
        where w = {scores ? W_SCORE : W_FEATURE, name, nlen};
        if (p >= end || *p != ':') {
            p = ws(p, end);
            if (p >= end || *p != ':')
                return FAIL(p, &w, "expected ':' after the name, got %s", got(buf, p, end));
        }
        p = ws(p + 1, end);
        if (p >= end) return FAIL(p, &w, "expected a value, got the end of the line");
        if (n == acap) {
            if (n == MAX_FEATURES)
                return fail(P, MW_ERANGE, keyat, field, "more than %d %s", MAX_FEATURES,
                            scores ? "scores" : "features");
            size_t nc = acap ? acap * 2 : 32;
            if (nc > MAX_FEATURES) nc = MAX_FEATURES;
            mw_feature *na = realloc(a, nc * sizeof *na);
            if (!na) return fail(P, MW_ENOMEM, keyat, field, "out of memory");
            *arr = a = na;
            *cap = acap = nc;
            int r = dup_reserve(P, nc);
            if (!r) return fail(P, MW_ENOMEM, keyat, field, "out of memory");
            if (r == 2) /* a new table forgot this object's names: put them back */
                for (size_t i = 0; i < n; i++)
                    (void)dup_insert(P, a, i);
        }
        mw_feature *f = &a[n];
        f->name = name;
        f->name_len = nlen;
        const char *at = p;
        if (!(scores ? score_value(P, &p, &w, f) : any_value(P, &p, &w, f))) return 0;
        if (dup_insert(P, a, n)) return FAIL(keyat, &w, "duplicate name");
        if (P->shape.logging)
            mw_shape_note(&P->shape, scores ? MW_SHAPE_SCORE : MW_SHAPE_FEATURE, name, nlen, at, p);
        n++;
        char sep = member_end(&p, end);
        if (sep == ',') continue; /* the next key skips any whitespace */
        if (sep == '}') {
            *pp = p;
            *count = n;
            return 1;
        }
        return FAIL(p, field, "expected ',' or '}' after a %s, got %s",
                    scores ? "score" : "feature", got(buf, p, end));
    }
}

/* ---- RFC 3339 ------------------------------------------------------------------ */

static inline int dig2(const char *s, int *v) {
    if ((unsigned)(s[0] - '0') > 9 || (unsigned)(s[1] - '0') > 9) return 0;
    *v = (s[0] - '0') * 10 + (s[1] - '0');
    return 1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), by 400-year eras. */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM)" (T may be t or a space, Z may be
 * z; seconds may be 60, a leap second) -> seconds since the epoch. */
static int rfc3339(const char *s, size_t n, double *out) {
    int y1, y2, mo, d, h, mi, sec;
    if (n < 20 || !dig2(s, &y1) || !dig2(s + 2, &y2) || s[4] != '-' || !dig2(s + 5, &mo) ||
        s[7] != '-' || !dig2(s + 8, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !dig2(s + 11, &h) || s[13] != ':' || !dig2(s + 14, &mi) || s[16] != ':' ||
        !dig2(s + 17, &sec))
        return 0;
    int y = y1 * 100 + y2;
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 60) return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (d < 1 || d > mdays[mo - 1] + (mo == 2 && leap)) return 0;
    size_t i = 19;
    double frac = 0;
    if (i < n && s[i] == '.') {
        size_t start = ++i;
        uint64_t acc = 0;
        int k = 0;
        while (i < n && (unsigned)(s[i] - '0') <= 9) {
            if (k < 15) {
                acc = acc * 10 + (uint64_t)(s[i] - '0');
                k++;
            }
            i++;
        }
        if (i == start) return 0;
        frac = (double)acc / mw_data_pow10_exact[k];
    }
    int off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < n && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (n - i < 6 || !dig2(s + i + 1, &oh) || s[i + 3] != ':' || !dig2(s + i + 4, &om) ||
            oh > 23 || om > 59)
            return 0;
        off = (oh * 60 + om) * 60 * (s[i] == '-' ? -1 : 1);
        i += 6;
    } else {
        return 0;
    }
    if (i != n) return 0;
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    *out = (double)t + frac;
    return 1;
}

/* ---- records ------------------------------------------------------------------- */

/* Field by field: a memset of the struct compiles to `rep stos`, whose start-up
 * cost showed in profiles of the hot path. */
static inline void rec_clear(mw_record *rec) {
    rec->model = rec->version = rec->id = rec->error = NULL;
    rec->model_len = rec->version_len = rec->id_len = rec->error_len = 0;
    rec->features = rec->scores = NULL;
    rec->nfeatures = rec->nscores = 0;
    rec->prediction.str = NULL;
    rec->prediction.str_len = 0;
    rec->ts = NAN;
    rec->latency_ms = NAN;
    rec->input_tokens = rec->output_tokens = rec->ttft_ms = NAN;
    rec->finish_reason = NULL;
    rec->finish_reason_len = 0;
    rec->prompt = rec->completion = rec->prompt_raw = rec->completion_raw = NULL;
    rec->prompt_len = rec->completion_len = rec->prompt_raw_len = rec->completion_raw_len = 0;
    rec->embedding = NULL;
    rec->embedding_len = 0;
    rec->prediction.kind = MW_VALUE_MISSING;
    rec->prediction.number = NAN;
    rec->prediction.name = "prediction";
    rec->prediction.name_len = 10;
    rec->label.kind = MW_VALUE_MISSING;
    rec->label.number = NAN;
    rec->label.str = NULL;
    rec->label.str_len = 0;
    rec->label.name = "label";
    rec->label.name_len = 5;
}

void mw_record_parser_labels(mw_record_parser *P, int on) {
    P->labels = on;
}

int mw_record_parser_same_names(const mw_record_parser *P) {
    return P && P->shape.same_names;
}

int mw_record_parser_decoded(const mw_record_parser *P) {
    return P && P->scratch_len > 0;
}

mw_record_parser *mw_record_parser_new(void) {
    mw_record_parser *P = calloc(1, sizeof *P);
    if (!P) return NULL;
    P->dtab = calloc(64, sizeof *P->dtab);
    if (!P->dtab) {
        free(P);
        return NULL;
    }
    P->dmask = 63;
    P->shape.enabled = 1;
    return P;
}

void mw_record_parser_free(mw_record_parser *P) {
    if (!P) return;
    free(P->feat);
    free(P->scores);
    free(P->scratch);
    free(P->dtab);
    free(P->emb);
    mw_shape_free(&P->shape);
    free(P);
}

static inline int is_null(const char *p, const char *end) {
    size_t n;
    return *p == 'n' && literal(p, end, &n);
}

/* "features" or "scores" (scores != 0): an object of values, or null for none.
 * *out is pointed at the parser's array only when an object was read. */
static inline int map_member(mw_record_parser *P, const char **pp, const where *w, int scores,
                             const mw_feature **out, size_t *count) {
    const char *p = *pp;
    char buf[80];
    if (*p == '{') {
        if (!parse_map(P, pp, w, scores, count)) return 0;
        *out = scores ? P->scores : P->feat;
        return 1;
    }
    if (is_null(p, P->end)) {
        *count = 0;
        *pp = p + 4;
        return 1;
    }
    return FAIL(p, w, "expected an object, got %s", got(buf, p, P->end));
}

static int is_int_text(const char *s, const char *e) {
    for (; s < e; s++)
        if (*s == '.' || *s == 'e' || *s == 'E') return 0;
    return 1;
}

/* Largest plausible values: a day in milliseconds would already be absurd for
 * a prediction, but a bound this loose only refuses values that would poison
 * sums (1e300 ms) while never refusing a real, slow request. */
#define MAX_DURATION_MS 1e10 /* about 115 days */
#define MAX_TOKENS 1e12

/* A number in [0, max] at *p for key w (whole when `whole`). */
static int nonneg_value(mw_record_parser *P, const char **pp, const where *w, int whole, double max,
                        double *out) {
    const char *p = *pp;
    char buf[80];
    if (*p != '-' && (*p < '0' || *p > '9'))
        return FAIL(p, w, "expected a %s >= 0, got %s", whole ? "whole number" : "number",
                    got(buf, p, P->end));
    double v;
    if (!num_value(P, pp, w, &v)) return 0;
    if (!(v >= 0) || (whole && v != floor(v)))
        return FAIL(p, w, "expected a %s >= 0, got %s", whole ? "whole number" : "number",
                    got(buf, p, P->end));
    if (v > max) return FAIL(p, w, "%s is not plausible (more than %g)", got(buf, p, P->end), max);
    *out = v;
    return 1;
}

/* "llm": {"input_tokens", "output_tokens", "ttft_ms", "finish_reason", ...}: the
 * OpenTelemetry GenAI quantities a record may carry; other keys are skipped. */
static int parse_llm(mw_record_parser *P, const char **pp, const where *field, mw_record *rec) {
    const char *p = *pp + 1, *end = P->end;
    char buf[80];
    p = ws(p, end);
    if (p < end && *p == '}') {
        *pp = p + 1;
        return 1;
    }
    for (;;) {
        p = ws(p, end);
        if (p >= end || *p != '"')
            return FAIL(p, field, "expected a string key in an object, got %s", got(buf, p, end));
        const char *name;
        size_t nlen;
        if (!str_value(P, &p, field, &name, &nlen)) return 0;
        where w = {W_FIELD, name, nlen};
        p = ws(p, end);
        if (p >= end || *p != ':')
            return FAIL(p, &w, "expected ':' after the name, got %s", got(buf, p, end));
        p = ws(p + 1, end);
        if (p >= end) return FAIL(p, &w, "expected a value, got the end of the line");
        int ok;
        if (nlen == 12 && !memcmp(name, "input_tokens", 12)) {
            ok = nonneg_value(P, &p, &w, 1, MAX_TOKENS, &rec->input_tokens);
        } else if (nlen == 13 && !memcmp(name, "output_tokens", 13)) {
            ok = nonneg_value(P, &p, &w, 1, MAX_TOKENS, &rec->output_tokens);
        } else if (nlen == 7 && !memcmp(name, "ttft_ms", 7)) {
            ok = nonneg_value(P, &p, &w, 0, MAX_DURATION_MS, &rec->ttft_ms);
        } else if (nlen == 13 && !memcmp(name, "finish_reason", 13)) {
            if (*p != '"') return FAIL(p, &w, "expected a string, got %s", got(buf, p, end));
            ok = str_value(P, &p, &w, &rec->finish_reason, &rec->finish_reason_len);
        } else {
            ok = skip_value(P, &p, &w);
        }
        if (!ok) return 0;
        char sep = member_end(&p, end);
        if (sep == ',') continue;
        if (sep == '}') {
            *pp = p;
            return 1;
        }
        return FAIL(p, field, "expected ',' or '}', got %s", got(buf, p, end));
    }
}

/* "prompt" / "completion": a string (a view, or decoded into the scratch), or
 * null for absent; *raw gets the value as written (quotes included). */
static int text_member(mw_record_parser *P, const char **pp, const where *w, const char **out,
                       size_t *outlen, const char **raw, size_t *rawlen) {
    const char *p = *pp;
    char buf[80];
    /* One value per record: with "last key wins" an earlier copy would stay
     * in the line, and the line is what the journal stores. */
    if (*raw) return FAIL(p, w, "given twice in the record");
    *raw = p;
    if (*p == '"') {
        int ok = str_value(P, pp, w, out, outlen);
        *rawlen = (size_t)(*pp - p);
        return ok;
    }
    if (is_null(p, P->end)) {
        *out = NULL;
        *outlen = 0;
        *pp = p + 4;
        *rawlen = 4;
        return 1;
    }
    return FAIL(p, w, "expected a string or null, got %s", got(buf, p, P->end));
}

/* "embedding": an array of numbers (into the parser's reused array), or null. */
static int embedding_member(mw_record_parser *P, const char **pp, const where *w, mw_record *rec) {
    const char *p = *pp, *end = P->end;
    char buf[80];
    if (is_null(p, end)) {
        rec->embedding = NULL;
        rec->embedding_len = 0;
        *pp = p + 4;
        return 1;
    }
    if (*p != '[') return FAIL(p, w, "expected an array of numbers, got %s", got(buf, p, end));
    size_t n = 0;
    p = ws(p + 1, end);
    if (p < end && *p == ']') {
        p++;
    } else {
        for (;;) {
            p = ws(p, end);
            if (p >= end) return FAIL(p, w, "unterminated array (no closing ']' on this line)");
            if (*p != '-' && (*p < '0' || *p > '9'))
                return FAIL(p, w, "element %zu: expected a number, got %s", n + 1,
                            got(buf, p, end));
            if (n == MW_RECORD_MAX_EMBEDDING)
                return fail(P, MW_ERANGE, p, w, "more than %d elements", MW_RECORD_MAX_EMBEDDING);
            if (n == P->emb_cap) {
                size_t cap = P->emb_cap ? 2 * P->emb_cap : 256;
                double *e = realloc(P->emb, cap * sizeof *e);
                if (!e) return fail(P, MW_ENOMEM, p, w, "out of memory for %zu elements", cap);
                P->emb = e;
                P->emb_cap = cap;
            }
            if (!num_value(P, &p, w, &P->emb[n])) return 0;
            n++;
            p = ws(p, end);
            if (p < end && *p == ',') {
                p++;
                continue;
            }
            if (p < end && *p == ']') {
                p++;
                break;
            }
            return FAIL(p, w, "expected ',' or ']' in the array, got %s", got(buf, p, end));
        }
    }
    rec->embedding = P->emb;
    rec->embedding_len = n;
    *pp = p;
    return 1;
}

/* The member value of top-level key k[0..kl) at *pp (not at the end). */
__attribute__((always_inline)) static inline int member(mw_record_parser *P, const char **pp,
                                                        const char *k, size_t kl, mw_record *rec,
                                                        unsigned *seen) {
    const char *p = *pp, *end = P->end;
    where w = {W_FIELD, k, kl};
    char buf[80];
    char c = *p;
    switch (kl) {
    case 3:
        if (!memcmp(k, "llm", 3)) {
            if (c == '{') return parse_llm(P, pp, &w, rec);
            if (is_null(p, end)) {
                *pp = p + 4;
                return 1;
            }
            return FAIL(p, &w, "expected an object, got %s", got(buf, p, end));
        }
        break;
    case 2:
        if (k[0] == 'i' && k[1] == 'd') {
            if (c == '"') {
                if (!str_value(P, pp, &w, &rec->id, &rec->id_len)) return 0;
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                const char *e = num_token(P, p, &w);
                if (!e) return 0;
                rec->id = p;
                rec->id_len = (size_t)(e - p);
                *pp = e;
            } else if (is_null(p, end)) {
                rec->id = NULL;
                rec->id_len = 0;
                *pp = p + 4;
            } else {
                return FAIL(p, &w, "expected a string or a number, got %s", got(buf, p, end));
            }
            return 1;
        }
        if (k[0] == 't' && k[1] == 's') {
            if (c == '-' || (c >= '0' && c <= '9')) return num_value(P, pp, &w, &rec->ts);
            if (c == '"') {
                const char *s;
                size_t n;
                if (!str_value(P, pp, &w, &s, &n)) return 0;
                if (rfc3339(s, n, &rec->ts)) return 1;
            } else if (is_null(p, end)) {
                rec->ts = NAN;
                *pp = p + 4;
                return 1;
            }
            return FAIL(p, &w, "expected seconds since the epoch or an RFC 3339 time, got %s",
                        got(buf, p, end));
        }
        break;
    case 5:
        if (!memcmp(k, "model", 5)) {
            if (c != '"') return FAIL(p, &w, "expected a string, got %s", got(buf, p, end));
            if (!str_value(P, pp, &w, &rec->model, &rec->model_len)) return 0;
            if (rec->model_len == 0) return FAIL(p, &w, "expected a non-empty string, got \"\"");
            *seen |= 1;
            return 1;
        }
        if (!memcmp(k, "label", 5)) {
            if (!any_value(P, pp, &w, &rec->label)) return 0;
            rec->label.name = "label";
            rec->label.name_len = 5;
            return 1;
        }
        if (!memcmp(k, "error", 5)) {
            if (c == '"') return str_value(P, pp, &w, &rec->error, &rec->error_len);
            if (is_null(p, end)) {
                rec->error = NULL;
                rec->error_len = 0;
                *pp = p + 4;
                return 1;
            }
            return FAIL(p, &w, "expected a string, got %s", got(buf, p, end));
        }
        break;
    case 6:
        if (!memcmp(k, "scores", 6)) return map_member(P, pp, &w, 1, &rec->scores, &rec->nscores);
        if (!memcmp(k, "prompt", 6))
            return text_member(P, pp, &w, &rec->prompt, &rec->prompt_len, &rec->prompt_raw,
                               &rec->prompt_raw_len);
        break;
    case 7:
        if (!memcmp(k, "version", 7)) {
            if (c == '"') {
                if (!str_value(P, pp, &w, &rec->version, &rec->version_len)) return 0;
                if (rec->version_len == 0)
                    return FAIL(p, &w, "expected a non-empty string, got \"\"");
            } else if (c == '-' || (c >= '0' && c <= '9')) {
                const char *e = num_token(P, p, &w);
                if (!e) return 0;
                if (!is_int_text(p, e))
                    return FAIL(p, &w, "expected a string or an integer, got %s", got(buf, p, end));
                rec->version = p;
                rec->version_len = (size_t)(e - p);
                *pp = e;
            } else {
                return FAIL(p, &w, "expected a string or an integer, got %s", got(buf, p, end));
            }
            *seen |= 2;
            return 1;
        }
        break;
    case 8:
        if (!memcmp(k, "features", 8))
            return map_member(P, pp, &w, 0, &rec->features, &rec->nfeatures);
        break;
    case 9:
        if (!memcmp(k, "embedding", 9)) return embedding_member(P, pp, &w, rec);
        break;
    case 10:
        if (!memcmp(k, "prediction", 10)) {
            if (!any_value(P, pp, &w, &rec->prediction)) return 0;
            rec->prediction.name = "prediction";
            rec->prediction.name_len = 10;
            return 1;
        }
        if (!memcmp(k, "completion", 10))
            return text_member(P, pp, &w, &rec->completion, &rec->completion_len,
                               &rec->completion_raw, &rec->completion_raw_len);
        if (!memcmp(k, "latency_ms", 10)) {
            if (is_null(p, end)) {
                rec->latency_ms = NAN;
                *pp = p + 4;
                return 1;
            }
            return nonneg_value(P, pp, &w, 0, MAX_DURATION_MS, &rec->latency_ms);
        }
        break;
    default:
        break;
    }
    return skip_value(P, pp, &w);
}

/* ---- the record-shape fast path (record_shape.c says how and why) ------------ */

/* The record at [P->line, P->end) by the shape of the one before into rec
 * (cleared): 1 when its literal runs are the shape's and every value parsed,
 * else 0, with rec and the scratch holding partial results (P->err is NULL
 * here: no message is written). */
static int shape_parse(mw_record_parser *P, mw_record *rec) {
    const mw_record_shape *S = &P->shape;
    const char *p = P->line, *end = P->end;
    unsigned seen = 0;
    if (S->nfeat > P->feat_cap || S->nscores > P->scores_cap) return 0;
    mw_feature *feat = P->feat, *score = P->scores;
    for (const mw_shape_slot *s = S->slot, *last = s + S->nslot; s < last; s++) {
        if (!mw_shape_run_eq(p, end, s)) return 0;
        /* the value parsers move v, whose address is taken; p stays in a register */
        const char *v = p + s->run_len, *name = v - s->name_back;
        int ok;
        if (s->kind == MW_SHAPE_FEATURE) {
            mw_feature *f = feat++;
            f->name = name;
            f->name_len = s->name_len;
            where w = {W_FEATURE, name, s->name_len};
            ok = any_value(P, &v, &w, f);
        } else if (s->kind == MW_SHAPE_SCORE) {
            mw_feature *f = score++;
            f->name = name;
            f->name_len = s->name_len;
            where w = {W_SCORE, name, s->name_len};
            ok = score_value(P, &v, &w, f);
        } else {
            ok = member(P, &v, name, s->name_len, rec, &seen);
        }
        if (!ok) return 0;
        p = v;
    }
    size_t tl = S->tail.run_len; /* usually the one byte '}' */
    if ((size_t)(end - p) != tl || (tl == 1 ? *p != *S->tail.run : memcmp(p, S->tail.run, tl) != 0))
        return 0;
    if (!(seen & 1) || (!(seen & 2) && !P->labels)) return 0; /* as at the normal parse's end */
    if (S->feat_map) {
        rec->features = P->feat;
        rec->nfeatures = S->nfeat;
    }
    if (S->score_map) {
        rec->scores = P->scores;
        rec->nscores = S->nscores;
    }
    return 1;
}

mw_status mw_record_parse(mw_record_parser *P, const char *line, size_t len, mw_record *rec,
                          mw_error *err) {
    if (err) { /* cleared on entry, cheaply: only what a reader looks at */
        err->status = MW_OK;
        err->message[0] = 0;
        err->file[0] = 0;
        err->line = 0;
        err->column = 0;
    }
    if (!rec) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no record to fill");
    rec_clear(rec);
    if (!P || (!line && len))
        return mw_error_set(err, MW_EINVAL, "", 0, 0, "no parser or no input");
    if (len > MAX_RECORD)
        return mw_error_set(err, MW_ERANGE, "", 0, 1,
                            "record is longer than the limit of %zu bytes", MAX_RECORD);
    if (!line) line = "";
    const char *end = line + len;
    P->line = line;
    P->end = end;
    P->status = MW_OK;
    P->scratch_len = 0;
    P->scratch_ready = 0;
    P->shape.same_names = 0;
    int tried = P->shape.ok && P->shape.enabled && !P->shape.cool;
    if (tried) {
        P->err = NULL; /* a record the shape does not fit is parsed again below */
        if (shape_parse(P, rec)) {
            P->shape.misses = 0;
            P->shape.hits++;
            P->shape.same_names = P->shape.names_current;
            P->shape.names_current = 1;
            return MW_OK;
        }
        rec_clear(rec);
        P->status = MW_OK;
        P->scratch_len = 0;
        P->scratch_ready = 0;
    }
    P->err = err;
    mw_shape_begin(P);
    char buf[80];
    unsigned seen = 0;
    const char *p = ws(line, end);
    const char *open = p;
    if (p >= end || *p != '{') {
        FAIL(p, &at_record, "expected a JSON object ({...}) for the record, got %s",
             got(buf, p, end));
        goto failed;
    }
    p = ws(p + 1, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            if (p >= end || *p != '"') {
                p = ws(p, end);
                if (p >= end || *p != '"') {
                    FAIL(p, &at_record, "expected a string key in the record, got %s",
                         got(buf, p, end));
                    goto failed;
                }
            }
            const char *k;
            size_t kl;
            if (!str_value(P, &p, &at_record, &k, &kl)) goto failed;
            if (p < end && *p == ':') {
                p++;
            } else {
                p = ws(p, end);
                if (p >= end || *p != ':') {
                    where w = {W_FIELD, k, kl};
                    FAIL(p, &w, "expected ':' after the key, got %s", got(buf, p, end));
                    goto failed;
                }
                p++;
            }
            p = ws(p, end);
            if (p >= end) {
                where w = {W_FIELD, k, kl};
                FAIL(p, &w, "expected a value, got the end of the line");
                goto failed;
            }
            const char *at = p;
            if (!member(P, &p, k, kl, rec, &seen)) goto failed;
            if (P->shape.logging) mw_shape_note(&P->shape, MW_SHAPE_MEMBER, k, kl, at, p);
            char sep = member_end(&p, end);
            if (sep == ',') continue; /* the next key skips any whitespace */
            if (sep == '}') break;
            FAIL(p, &at_record, "expected ',' or '}' in the record, got %s", got(buf, p, end));
            goto failed;
        }
    }
    p = ws(p, end);
    if (p != end) {
        FAIL(p, &at_record, "expected the end of the line after the record, got %s",
             got(buf, p, end));
        goto failed;
    }
    if (!(seen & 1)) {
        FAIL(open, &at_record, "missing required field \"model\"");
        goto failed;
    }
    if (!(seen & 2) && !P->labels) {
        FAIL(open, &at_record, "missing required field \"version\"");
        goto failed;
    }
    int building = P->shape.logging; /* this record makes the shape, if it can */
    if (tried || P->shape.logging) mw_shape_learn(P, tried);
    P->shape.names_current = building && P->shape.ok;
    return MW_OK;
failed:
    P->shape.logging = 0;
    rec_clear(rec);
    return P->status ? P->status : MW_EPARSE;
}

/* ---- iterator ------------------------------------------------------------------ */

void mw_record_iter_init(mw_record_iter *it, const char *body, size_t len) {
    memset(it, 0, sizeof *it);
    if (!body) len = 0;
    it->body = body ? body : "";
    it->len = len;
    if (len >= 3 && memcmp(body, "\xEF\xBB\xBF", 3) == 0) it->pos = 3;
    const char *p = ws(it->body + it->pos, it->body + len);
    if (p < it->body + len && *p == '[') {
        it->array = 1;
        it->pos = (size_t)(p - it->body) + 1;
    }
}

/* End of the array element at p: brackets matched outside strings (validated
 * later by the parser); a scalar ends at a delimiter. NULL when the body ends
 * inside it. */
static const char *element_end(const char *p, const char *end) {
    if (*p != '{' && *p != '[' && *p != '"') {
        while (p < end && *p != ',' && *p != ']' && *p != ' ' && *p != '\t' && *p != '\n' &&
               *p != '\r')
            p++;
        return p;
    }
    int depth = 0, in_str = 0;
    for (; p < end; p++) {
        char c = *p;
        if (in_str) {
            if (c == '\\')
                p++;
            else if (c == '"') {
                in_str = 0;
                if (depth == 0) return p + 1;
            }
            continue;
        }
        if (c == '"')
            in_str = 1;
        else if (c == '{' || c == '[')
            depth++;
        else if ((c == '}' || c == ']') && --depth == 0)
            return p + 1;
    }
    return NULL;
}

static int iter_fail(mw_record_iter *it, mw_error *err, mw_status st, const char *at, int end_it,
                     const char *fmt, const char *what) {
    char body[300];
    snprintf(body, sizeof body, fmt, what);
    uint64_t col = 0;
    if (at) { /* column within the body's line at `at` */
        const char *ls = at;
        while (ls > it->body && ls[-1] != '\n')
            ls--;
        col = (uint64_t)(at - ls) + 1;
    }
    mw_error_set(err, st, "", it->line, col, "%s", body);
    if (end_it) it->done = 1;
    return -1;
}

static int iter_array(mw_record_iter *it, mw_record_parser *P, mw_record *rec, mw_error *err) {
    const char *body = it->body, *end = body + it->len;
    const char *p = ws(body + it->pos, end);
    char buf[80];
    if (p >= end)
        return iter_fail(it, err, MW_EPARSE, p, 1, "unterminated JSON array (missing ']')%s", "");
    if (*p == ']') {
        const char *q = ws(p + 1, end);
        it->pos = (size_t)(q - body);
        it->done = 1;
        if (q != end)
            return iter_fail(it, err, MW_EPARSE, q, 1,
                             "expected the end of the body after the closing ']', got %s",
                             got(buf, q, end));
        return 0;
    }
    if (it->line > 0) {
        if (*p != ',')
            return iter_fail(it, err, MW_EPARSE, p, 1, "expected ',' or ']' in the array, got %s",
                             got(buf, p, end));
        p = ws(p + 1, end);
        if (p >= end || *p == ']')
            return iter_fail(it, err, MW_EPARSE, p, 1,
                             "expected a record after ',' in the array, got %s", got(buf, p, end));
    }
    it->line++;
    const char *e = element_end(p, end);
    if (!e) { /* unterminated: the parser says what is missing; nothing follows */
        it->pos = it->len;
        it->done = 1;
        if ((size_t)(end - p) > MAX_RECORD)
            return iter_fail(it, err, MW_ERANGE, NULL, 1, "record is longer than the limit%s",
                             " of 16777216 bytes");
        mw_status st = mw_record_parse(P, p, (size_t)(end - p), rec, err);
        if (st == MW_OK) /* cannot happen: a complete object would have matched */
            return iter_fail(it, err, MW_EPARSE, p, 1, "unterminated JSON array%s", "");
        if (err) err->line = it->line;
        return -1;
    }
    it->pos = (size_t)(e - body);
    mw_status st = mw_record_parse(P, p, (size_t)(e - p), rec, err);
    if (st != MW_OK) {
        if (err) err->line = it->line;
        return -1;
    }
    return 1;
}

int mw_record_iter_next(mw_record_iter *it, mw_record_parser *P, mw_record *rec, mw_error *err) {
    if (err) {
        err->status = MW_OK;
        err->message[0] = 0;
        err->file[0] = 0;
        err->line = 0;
        err->column = 0;
    }
    if (it->done) return 0;
    if (it->array) return iter_array(it, P, rec, err);
    const char *body = it->body, *end = body + it->len;
    while (it->pos < it->len) {
        const char *s = body + it->pos;
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        it->pos = nl ? (size_t)(nl - body) + 1 : it->len;
        it->line++;
        const char *q = ws(s, e);
        if (q == e) continue; /* blank (CR, spaces, tabs) */
        if ((size_t)(e - s) > MAX_RECORD) {
            mw_error_set(err, MW_ERANGE, "", it->line, 0,
                         "line is longer than the limit of %zu bytes", MAX_RECORD);
            return -1;
        }
        mw_status st = mw_record_parse(P, s, (size_t)(e - s), rec, err);
        if (st != MW_OK) {
            if (err) err->line = it->line;
            return -1;
        }
        return 1;
    }
    it->done = 1;
    return 0;
}
