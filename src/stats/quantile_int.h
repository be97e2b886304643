/*
 * numpy.quantile's 'linear' method in two steps, shared by the quantile of a
 * sorted array (histogram.c) and the quantiles by selection (select.c), so
 * that both give the same bits. Not part of the public API.
 */
#ifndef MW_STATS_QUANTILE_INT_H
#define MW_STATS_QUANTILE_INT_H

#include <math.h>
#include <stddef.h>

/* Where quantile q (in [0, 1]) of n >= 1 sorted values falls: returns i and
 * sets *g so that the quantile is lerp(sorted[i], sorted[i + 1], g); i = n - 1
 * (and g = 0, sorted[i + 1] unused) at the top (numpy's get_virtual_index). */
static inline size_t mw_quantile_pos(size_t n, double q, double *g) {
    double v = (double)(n - 1) * q;
    if (v >= (double)(n - 1)) {
        *g = 0;
        return n - 1;
    }
    double fl = floor(v);
    *g = v - fl;
    return (size_t)fl;
}

/* numpy's _lerp: a + g (b - a), or b - (b - a)(1 - g) when g >= 0.5. */
static inline double mw_quantile_lerp(double a, double b, double g) {
    double diff = b - a;
    return g >= 0.5 ? b - diff * (1.0 - g) : a + diff * g;
}

#endif
