/*
 * UTF-8 validation (RFC 3629): rejects overlong forms, surrogates (U+D800..DFFF),
 * code points above U+10FFFF, truncated sequences, stray continuation bytes, and
 * (for our readers) NUL bytes, which mark binary input.
 *
 * Fast path: 8 bytes at a time while they are all ASCII and non-NUL (the usual
 * case for CSV text), byte-wise state machine otherwise.
 */
#include "data/data_int.h"

static inline int ascii_nonzero8(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    /* high bit clear in all bytes, and no zero byte */
    uint64_t has_zero = (v - 0x0101010101010101ULL) & ~v & 0x8080808080808080ULL;
    return (v & 0x8080808080808080ULL) == 0 && has_zero == 0;
}

size_t mw_data_utf8_check(const char *s, size_t len, int *nul) {
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    *nul = 0;
    while (i < len) {
        if (len - i >= 8 && ascii_nonzero8(p + i)) {
            i += 8;
            continue;
        }
        unsigned c = p[i];
        if (c < 0x80) {
            if (c == 0) {
                *nul = 1;
                return i;
            }
            i++;
            continue;
        }
        size_t n;
        unsigned lo = 0x80, hi = 0xBF; /* allowed range of the second byte */
        if (c >= 0xC2 && c <= 0xDF) {
            n = 2;
        } else if (c >= 0xE0 && c <= 0xEF) {
            n = 3;
            if (c == 0xE0)
                lo = 0xA0; /* overlong */
            else if (c == 0xED)
                hi = 0x9F; /* surrogates */
        } else if (c >= 0xF0 && c <= 0xF4) {
            n = 4;
            if (c == 0xF0)
                lo = 0x90; /* overlong */
            else if (c == 0xF4)
                hi = 0x8F; /* > U+10FFFF */
        } else {
            return i;
        }
        if (len - i < n) return i;
        if (p[i + 1] < lo || p[i + 1] > hi) return i;
        for (size_t k = 2; k < n; k++)
            if ((p[i + k] & 0xC0) != 0x80) return i;
        i += n;
    }
    return len;
}
