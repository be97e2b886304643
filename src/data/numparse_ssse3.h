/*
 * The SSSE3 whole-field number parser as an inline function, so that the CSV
 * reader's fast path (csv.c, compiled for SSSE3 in one copy) converts numbers
 * without a call: the call through a pointer, its argument set-up and the
 * reloads after it were about a tenth of reading a numeric CSV. The method and
 * its proof of equality with the scanner are in numparse_ssse3.c's header,
 * which also holds the out-of-line copy (mw_data_parse_field_ssse3) and the
 * run-time choice (mw_data_field_parser_best).
 *
 * MW_DATA_HAVE_SSSE3_PARSER is 1 where this exists (x86); callers must
 * reach mw_data_parse_field_vec only from code compiled with the SSSE3
 * attribute, on a CPU that has SSSE3.
 */
#ifndef MW_DATA_NUMPARSE_SSSE3_H
#define MW_DATA_NUMPARSE_SSSE3_H

#include "data/data_int.h"

#if defined(__x86_64__) || defined(__i386__)
#define MW_DATA_HAVE_SSSE3_PARSER 1
#include <immintrin.h>

#define SSSE3 __attribute__((target("ssse3")))

/* Byte i of the result: a's when i < n (n in -1..16), else b's. */
SSSE3 static inline __m128i pick_below(int n, __m128i a, __m128i b) {
    const __m128i iota = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    __m128i below = _mm_cmpgt_epi8(_mm_set1_epi8((char)n), iota);
    return _mm_or_si128(_mm_and_si128(below, a), _mm_andnot_si128(below, b));
}

/*
 * The field is the last len (1-20) of the 32 bytes hi:lo ending at its end
 * (lo = the first 16). Bytes up to the dot move one place towards the end,
 * over it, so that the digits are contiguous and end at byte 31; bytes before
 * the first digit become 0. Then pairs, quads and octets of digits are summed
 * by multiply-adds: w = octet(lo, 2nd) * 10^16 + octet(hi, 1st) * 10^8 +
 * octet(hi, 2nd) (lo's first octet is all zeros: at most 19 digits).
 */
SSSE3 static inline uint64_t squeeze_digits(__m128i lo, __m128i hi, int dot, int first) {
    const __m128i tens = _mm_setr_epi8(10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1, 10, 1);
    const __m128i hundreds = _mm_setr_epi16(100, 1, 100, 1, 100, 1, 100, 1);
    const __m128i myriads = _mm_setr_epi16(10000, 1, 10000, 1, 10000, 1, 10000, 1);
    if (dot >= 0) { /* positions <= dot take the byte before them */
        __m128i hi_moved = _mm_alignr_epi8(hi, lo, 15);
        __m128i lo_moved = _mm_slli_si128(lo, 1);
        hi = pick_below(dot - 15, hi_moved, hi);
        lo = pick_below(dot + 1, lo_moved, lo);
        first++;
    }
    __m128i zero = _mm_setzero_si128();
    lo = pick_below(first, zero, lo);
    hi = pick_below(first - 16, zero, hi);
    __m128i qlo = _mm_madd_epi16(_mm_maddubs_epi16(lo, tens), hundreds);
    __m128i qhi = _mm_madd_epi16(_mm_maddubs_epi16(hi, tens), hundreds);
    __m128i oct = _mm_madd_epi16(_mm_packs_epi32(qlo, qhi), myriads); /* lo1 lo2 hi1 hi2 */
    uint64_t top = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(oct, 4));
    uint64_t mid = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(oct, 8));
    uint64_t low = (uint32_t)_mm_cvtsi128_si32(_mm_srli_si128(oct, 12));
    return (top * 100000000ULL + mid) * 100000000ULL + low;
}

SSSE3 static inline int mw_data_parse_field_vec(const char *floor, const char *p, const char *end,
                                                const char *limit, double *out) {
    const char *start = p;
    int neg = mw_data_take_sign(&p, end);
    size_t len = (size_t)(end - p);
    if (len == 0 || len > 20 || (size_t)(end - floor) < 32) goto portable;
    __m128i lo = _mm_loadu_si128((const __m128i *)(const void *)(end - 32));
    __m128i hi = _mm_loadu_si128((const __m128i *)(const void *)(end - 16));
    const __m128i ascii0 = _mm_set1_epi8('0'), nine = _mm_set1_epi8(9), dot = _mm_set1_epi8('.');
    lo = _mm_sub_epi8(lo, ascii0);
    hi = _mm_sub_epi8(hi, ascii0);
    uint32_t digits = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(lo, nine), lo)) |
                      (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(hi, nine), hi)) << 16;
    const __m128i dot0 = _mm_sub_epi8(dot, ascii0);
    uint32_t dots = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(lo, dot0)) |
                    (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(hi, dot0)) << 16;
    int first = 32 - (int)len; /* the field's first byte */
    uint32_t field = ~0u << first;
    dots &= field;
    if (((digits | dots) & field) != field || (dots & (dots - 1))) goto portable;
    int at = dots ? __builtin_ctz(dots) : -1;
    if (at == first || at == 31 || len - (dots != 0) > 19) goto portable; /* dot first or last */
    uint64_t w = squeeze_digits(lo, hi, at, first);
    int64_t q = dots ? -(int64_t)(31 - at) : 0;
    *out = mw_data_decimal_to_double(w, q, 0, neg, start, end);
    return 1;
portable:
    return mw_data_parse_field(start, end, limit, out);
}

#else
#define MW_DATA_HAVE_SSSE3_PARSER 0
#endif

#endif
