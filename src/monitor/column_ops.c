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

/*
 * mw_col_moments and mw_col_count_distinct of two arrays at once, plus the sum
 * of squared deviations. Each side's sums run in index order exactly as in
 * mw_col_moments (so the results are bitwise the same), but the two sides'
 * additions are independent chains in one loop, which the CPU overlaps: the
 * sums are latency-bound, and this halves the passes of the batch path (moments,
 * distinct counts and the wasserstein_norm deviation were six passes per side).
 */
void mw_col_summary2(const double *a, size_t na, const double *b, size_t nb, mw_col_summary *sa,
                     mw_col_summary *sb) {
    size_t k = na < nb ? na : nb;
    double ma = 0, mb = 0;
    for (size_t i = 0; i < k; i++) {
        ma += a[i];
        mb += b[i];
    }
    for (size_t i = k; i < na; i++)
        ma += a[i];
    for (size_t i = k; i < nb; i++)
        mb += b[i];
    ma /= (double)na; /* NaN-free when na > 0; unused otherwise */
    mb /= (double)nb;
    double ssa = 0, ssb = 0;
    uint64_t da = na > 0, db = nb > 0;
    if (k) {
        ssa += (a[0] - ma) * (a[0] - ma);
        ssb += (b[0] - mb) * (b[0] - mb);
    }
    for (size_t i = 1; i < k; i++) {
        ssa += (a[i] - ma) * (a[i] - ma);
        ssb += (b[i] - mb) * (b[i] - mb);
        da += a[i] != a[i - 1];
        db += b[i] != b[i - 1];
    }
    for (size_t i = k; i < na; i++) {
        ssa += (a[i] - ma) * (a[i] - ma);
        if (i) da += a[i] != a[i - 1];
    }
    for (size_t i = k; i < nb; i++) {
        ssb += (b[i] - mb) * (b[i] - mb);
        if (i) db += b[i] != b[i - 1];
    }
    mw_col_summary *out[2] = {sa, sb};
    size_t n[2] = {na, nb};
    double m[2] = {ma, mb}, ss[2] = {ssa, ssb};
    uint64_t d[2] = {da, db};
    for (int s = 0; s < 2; s++) {
        out[s]->mean = n[s] ? m[s] : NAN;
        out[s]->sd = n[s] > 1 ? sqrt(ss[s] / (double)(n[s] - 1)) : NAN;
        out[s]->ss = n[s] ? ss[s] : NAN;
        out[s]->distinct = d[s];
    }
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
