/*
 * Column operations shared by the batch path (batch.c) and the live path
 * (baseline.c, window.c): compacting finite values, moments, distinct counts,
 * range counts, value categories and counts on quantile bins, all over sorted
 * arrays so that each is one linear pass.
 */
#include "monitor/drift_int.h"

#include <math.h>
#include <string.h>

/* Moves the finite values of v to its front; counts NaN (missing) and inf. */
size_t mw_col_compact_finite(double *v, size_t n, uint64_t *missing, uint64_t *inf) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double x = v[i];
        if (isnan(x))
            (*missing)++;
        else if (isinf(x))
            (*inf)++;
        else
            v[k++] = x;
    }
    return k;
}

uint64_t mw_col_count_distinct(const double *v, size_t n) {
    uint64_t d = n > 0;
    for (size_t i = 1; i < n; i++)
        d += v[i] != v[i - 1];
    return d;
}

void mw_col_moments(const double *v, size_t n, double *mean, double *sd) {
    *mean = *sd = NAN;
    if (!n) return;
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m += v[i];
    m /= (double)n;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (v[i] - m) * (v[i] - m);
    *mean = m;
    *sd = n > 1 ? sqrt(ss / (double)(n - 1)) : NAN;
}

/* Number of sorted values < x (lower) or > x (upper). */
size_t mw_col_count_below(const double *v, size_t n, double x) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t mw_col_count_above(const double *v, size_t n, double x) {
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return n - lo;
}

/* Counts of each distinct value over the union of two sorted arrays. */
size_t mw_col_value_categories(const double *a, size_t na, const double *b, size_t nb, double *ca,
                               double *cb, size_t max) {
    size_t i = 0, j = 0, k = 0;
    while ((i < na || j < nb) && k < max) {
        double x = (j >= nb || (i < na && a[i] <= b[j])) ? a[i] : b[j];
        ca[k] = cb[k] = 0;
        while (i < na && a[i] == x) {
            ca[k]++;
            i++;
        }
        while (j < nb && b[j] == x) {
            cb[k]++;
            j++;
        }
        k++;
    }
    return k;
}

/* Counts of sorted values on bins given by edges (numpy.searchsorted right). */
void mw_col_bin_counts(const double *v, size_t n, const double *edges, size_t nedges,
                       double *counts) {
    memset(counts, 0, (nedges + 1) * sizeof *counts);
    size_t idx = 0;
    for (size_t i = 0; i < n; i++) {
        while (idx < nedges && edges[idx] <= v[i])
            idx++;
        counts[idx]++;
    }
}
