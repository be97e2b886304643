/*
 * The number of sorted bin edges at or below a value, for the few edges of
 * the histogram tests (9 for 10 bins): shared by mw_bin_index (histogram.c)
 * and the daemon's window, which bins every numeric value it observes. A
 * count without branches instead of a binary search, which mispredicts about
 * half its steps on random data; two edges per compare where SSE2 is there
 * (the call was ~58 instructions per value in the window, ~16 inlined with a
 * constant count). Not part of the public API.
 */
#ifndef MW_STATS_EDGE_COUNT_H
#define MW_STATS_EDGE_COUNT_H

#include <stddef.h>
#if defined(__SSE2__) && defined(__x86_64__)
#include <emmintrin.h>
#endif

/* Edges e[0..n) with e[i] <= x (x not NaN): numpy.searchsorted(e, x,
 * side='right') for sorted e. */
static inline size_t mw_edges_at_most(const double *e, size_t n, double x) {
    size_t i = 0, count = 0;
#if defined(__SSE2__) && defined(__x86_64__)
    __m128d xv = _mm_set1_pd(x);
    __m128i acc = _mm_setzero_si128(); /* a true compare is all ones: -1 */
    for (; i + 2 <= n; i += 2)
        acc = _mm_sub_epi64(acc, _mm_castpd_si128(_mm_cmple_pd(_mm_loadu_pd(e + i), xv)));
    count =
        (size_t)_mm_cvtsi128_si64(acc) + (size_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(acc, acc));
#endif
    for (; i < n; i++)
        count += e[i] <= x;
    return count;
}

#endif
