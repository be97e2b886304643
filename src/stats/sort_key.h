/*
 * The order-preserving integer key of a double, shared by the radix sort
 * (sort.c) and the callers that sort keys themselves with mw_sort_u64 (the
 * ranking metrics of perf_rank.c). Not part of the public API.
 *
 * Flip all bits of negative numbers and only the sign bit of non-negative
 * ones: unsigned integer order is then numeric order, -0.0 lands just before
 * +0.0, and a NaN (which callers must reject first) lands beyond the
 * infinities. Two keys are equal exactly when the doubles are bit-identical:
 * callers that treat -0.0 and +0.0 as one value pass d + 0.0.
 */
#ifndef MW_STATS_SORT_KEY_H
#define MW_STATS_SORT_KEY_H

#include <stdint.h>
#include <string.h>

static inline uint64_t mw_sort_key(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    /* all ones for a negative number, the sign bit alone otherwise: no branch */
    uint64_t flip = (uint64_t)(-(int64_t)(u >> 63)) | 0x8000000000000000ULL;
    return u ^ flip;
}

static inline double mw_sort_key_value(uint64_t k) {
    uint64_t u = (k & 0x8000000000000000ULL) ? (k & ~0x8000000000000000ULL) : ~k;
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

#endif
