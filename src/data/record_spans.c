/*
 * Where some features' values are written in a record line
 * (mw_record_feature_spans, record.h): the daemon's journal keeps a record's
 * bytes with the values of its text features replaced by their descriptors,
 * and needs their positions. The record parser (record.c) does not report
 * them: mw_feature is on the hot path of every record, and only versions with
 * text features need this, so those lines are scanned a second time here.
 *
 * The scan follows the parser's reading: keys are compared decoded (escapes,
 * \uXXXX and surrogate pairs), the members of every top-level "features"
 * object are reported, and those of the last "features" value (the one the
 * parser keeps; a later "features": null keeps none) are marked `last`.
 * Values are skipped by their extent only (strings with their escapes,
 * containers by depth), with no validation: that is the parser's job, and
 * the function is meant for lines it accepted.
 *
 * Invariants: reads only inside [line, line + len), whatever the bytes; every
 * reported span lies inside them; no allocation, no recursion; a line that is
 * not an object, or bytes that stop making sense, end the scan with what was
 * found before.
 */
#include "data/data_int.h"
#include "modelwatch/record.h"

#define MAX_KEY 1024          /* the parser's name limit: longer keys match no name */
#define KEY_BUF (MAX_KEY + 4) /* room for the last character's UTF-8 */

static const char *ws(const char *p, const char *end) {
    if (p < end && (unsigned char)*p > ' ') return p; /* none, the usual case */
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* The end of the string value whose opening quote is at p (after its closing
 * quote), NULL when unterminated. A quote ends the string when an even number
 * of backslashes stands right before it (pairs are escaped backslashes).
 * memchr finds the quotes: a byte loop over a long text cost more than
 * describing it. */
static const char *string_end(const char *p, const char *end) {
    const char *s = p + 1, *q = s;
    for (;;) {
        if (!(q = memchr(q, '"', (size_t)(end - q)))) return NULL;
        const char *b = q;
        while (b > s && b[-1] == '\\')
            b--;
        if (((q - b) & 1) == 0) return q + 1;
        q++;
    }
}

/* The same for a key (short: a byte loop); *escaped says whether it holds a
 * backslash. */
static const char *key_end(const char *p, const char *end, int *escaped) {
    *escaped = 0;
    for (p++; p < end; p++) {
        if (*p == '"') return p + 1;
        if (*p == '\\') {
            *escaped = 1;
            p++;
        }
    }
    return NULL;
}

/* Bytes that end a number or a literal. */
static const unsigned char stop[256] = {[','] = 1, ['}'] = 1, [']'] = 1, [' '] = 1,
                                        ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

/* The end of the value at p (not at the end), NULL when it runs off the line. */
static const char *value_end(const char *p, const char *end) {
    if (*p == '"') return string_end(p, end);
    if (*p != '{' && *p != '[') { /* a number or a literal: up to a delimiter, not empty */
        const char *q = p;
        while (q < end && !stop[(unsigned char)*q])
            q++;
        return q > p ? q : NULL;
    }
    size_t depth = 0;
    while (p < end) {
        if (*p == '"') {
            if (!(p = string_end(p, end))) return NULL;
            continue;
        }
        if (*p == '{' || *p == '[') depth++;
        if ((*p == '}' || *p == ']') && --depth == 0) return p + 1;
        p++;
    }
    return NULL;
}

/* Decodes the escapes of a key's bytes s[0..n) (between its quotes) into out
 * (KEY_BUF bytes); its length, or -1 when longer than MAX_KEY or not a valid
 * escape. */
static long decode_key(const char *s, size_t n, char *out) {
    const char *p = s, *end = s + n;
    size_t o = 0;
    while (p < end) {
        if (o > MAX_KEY) return -1;
        if (*p != '\\') {
            out[o++] = *p++;
            continue;
        }
        if (++p >= end) return -1;
        char c = *p++;
        static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
        const char *k = memchr(from, c, 8);
        if (k) {
            out[o++] = to[k - from];
            continue;
        }
        unsigned u, lo;
        if (c != 'u' || !mw_jscan_hex4(p, end, &u)) return -1;
        p += 4;
        if (u >= 0xD800 && u <= 0xDBFF) { /* a pair: the low half must follow */
            if (end - p < 6 || p[0] != '\\' || p[1] != 'u' || !mw_jscan_hex4(p + 2, end, &lo) ||
                lo < 0xDC00 || lo > 0xDFFF)
                return -1;
            p += 6;
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        } else if ((u >= 0xDC00 && u <= 0xDFFF) || u == 0) {
            return -1; /* the parser refuses these */
        }
        o += mw_jscan_utf8_put(out + o, u);
    }
    return o <= MAX_KEY ? (long)o : -1;
}

/* A key read at p (its opening quote): its decoded text in *k (a view of the
 * line when it has no escapes, else in buf), *kl its length (-1: matches
 * nothing); returns the end of the key, NULL when unterminated. */
static const char *read_key(const char *p, const char *end, char *buf, const char **k, long *kl) {
    int esc;
    const char *e = key_end(p, end, &esc);
    if (!e) return NULL;
    size_t n = (size_t)(e - p) - 2;
    if (esc) {
        *k = buf;
        *kl = decode_key(p + 1, n, buf);
    } else {
        *k = p + 1;
        *kl = n <= MAX_KEY ? (long)n : -1;
    }
    return e;
}

/* The member's ':' and the start of its value after the key ending at p, NULL
 * when neither is there. */
static const char *value_start(const char *p, const char *end) {
    p = ws(p, end);
    if (p >= end || *p != ':') return NULL;
    p = ws(p + 1, end);
    return p < end ? p : NULL;
}

/* After a member's value: the next member's start (*more 1) or the object's
 * end (*more 0); NULL when neither ',' nor '}' follows. */
static const char *member_next(const char *p, const char *end, int *more) {
    p = ws(p, end);
    if (p >= end || (*p != ',' && *p != '}')) return NULL;
    *more = *p == ',';
    return p + 1;
}

typedef struct scan {
    const char *line, *end;
    const char *const *names;
    const size_t *name_lens;
    size_t nnames;
    mw_record_span *out;
    size_t cap, count;
} scan;

static void match(scan *s, const char *k, long kl, const char *v, const char *ve) {
    for (size_t i = 0; kl >= 0 && i < s->nnames; i++) {
        if (s->name_lens[i] != (size_t)kl || memcmp(s->names[i], k, (size_t)kl)) continue;
        if (s->count < s->cap)
            s->out[s->count] = (mw_record_span){(size_t)(v - s->line), (size_t)(ve - v), i, 0};
        s->count++;
        return;
    }
}

/* The members of a "features" object at p ('{'); the end of the object, NULL
 * when the bytes stop making sense. */
static const char *features(scan *s, const char *p) {
    const char *end = s->end;
    char buf[KEY_BUF];
    p = ws(p + 1, end);
    if (p < end && *p == '}') return p + 1;
    for (int more = 1; more;) {
        p = ws(p, end);
        const char *k, *v, *ve;
        long kl;
        if (p >= end || *p != '"' || !(p = read_key(p, end, buf, &k, &kl)) ||
            !(v = value_start(p, end)) || !(ve = value_end(v, end)))
            return NULL;
        match(s, k, kl, v, ve);
        if (!(p = member_next(ve, end, &more))) return NULL;
    }
    return p;
}

size_t mw_record_feature_spans(const char *line, size_t len, const char *const *names,
                               const size_t *name_lens, size_t n, mw_record_span *out, size_t cap) {
    scan s = {line, line + len, names, name_lens, n, out, cap, 0};
    size_t last_from = SIZE_MAX; /* occurrences from here on are in the last "features" */
    const char *p = ws(line, s.end), *end = s.end;
    char buf[KEY_BUF];
    if (p >= end || *p != '{') return 0;
    p = ws(p + 1, end);
    for (int more = p < end && *p != '}'; more;) {
        p = ws(p, end);
        const char *k, *v, *ve;
        long kl;
        if (p >= end || *p != '"' || !(p = read_key(p, end, buf, &k, &kl)) ||
            !(v = value_start(p, end)))
            break;
        if (kl == 8 && !memcmp(k, "features", 8)) {
            last_from = s.count;
            ve = *v == '{' ? features(&s, v) : value_end(v, end);
        } else {
            ve = value_end(v, end);
        }
        if (!ve || !(p = member_next(ve, end, &more))) break;
    }
    for (size_t i = last_from; i < s.count && i < cap; i++)
        out[i].last = 1;
    return s.count;
}
