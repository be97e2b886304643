/*
 * Medians without sorting everything: numpy.median of an array, rearranging
 * it. Used by the outlier pipeline (reference medians for imputation) and the
 * MMD bandwidth (median of the pooled pairwise distances, mmd.c).
 *
 * Method: when n is large, an evenly spaced sample of 4096 values brackets the
 * middle (4 standard deviations of the sample rank either side), one pass
 * keeps only what lies between (~6% of v), and Hoare's selection finishes;
 * an unlucky sample falls back to selecting over all n. With an even n the
 * result is the mean of the two middle values, as numpy.median.
 */
#include "modelwatch/stats.h"

#include <math.h>
#include <stdlib.h>

/* Rearranges v so that v[k] is the k-th smallest, v[<k] <= v[k] <= v[>k]
 * (Hoare's selection, expected O(n)). */
static double select_kth(double *v, size_t n, size_t k) {
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        double p = v[lo + (hi - lo) / 2];
        size_t i = lo, j = hi;
        for (;;) {
            while (v[i] < p)
                i++;
            while (v[j] > p)
                j--;
            if (i >= j) break;
            double t = v[i];
            v[i++] = v[j];
            v[j--] = t;
        }
        if (k <= j)
            hi = j;
        else
            lo = j + 1;
    }
    return v[k];
}

/* numpy.median of v[0..n) (finite), rearranging v: the middle value, or the
 * mean of the two middle ones. */
double mw_median_inplace(double *v, size_t n) {
    size_t k2 = n / 2, k1 = n % 2 ? k2 : k2 - 1, nb = 0, nin = 0;
    enum { S = 4096, MARGIN = 128 };
    double *smp = n >= 4 * S ? malloc(2 * S * sizeof *smp) : NULL;
    if (smp) {
        /* Bracket the middle between two values of an evenly spaced sample
         * (4 standard deviations of the sample rank either side), count and
         * keep only what lies between (~6% of v): one pass instead of a
         * selection over all n. An unlucky sample falls back to the latter. */
        for (size_t i = 0; i < S; i++)
            smp[i] = v[i * (n / S)];
        mw_sort_doubles(smp, S, smp + S);
        size_t p = (size_t)((double)k2 / (double)n * S);
        double lo = p >= MARGIN ? smp[p - MARGIN] : -INFINITY;
        double hi = p + MARGIN < S ? smp[p + MARGIN] : INFINITY;
        free(smp);
        for (size_t i = 0; i < n; i++) {
            nb += v[i] < lo;
            nin += (v[i] >= lo) & (v[i] <= hi); /* no branch: half the values are below lo */
        }
        if (nb <= k1 && k2 < nb + nin) {
            size_t w = 0;
            for (size_t i = 0; i < n; i++) { /* compact in place: w <= i */
                v[w] = v[i];
                w += (v[i] >= lo) & (v[i] <= hi);
            }
            n = w;
            k2 -= nb;
            k1 -= nb;
        }
    }
    double upper = select_kth(v, n, k2), lower = upper;
    if (k1 < k2) { /* the largest value left of position k2 */
        lower = v[0];
        for (size_t i = 1; i < k2; i++)
            lower = v[i] > lower ? v[i] : lower;
    }
    return k1 < k2 ? (lower + upper) / 2.0 : upper;
}
