/*
 * Medians without sorting everything: numpy.median of an array, rearranging
 * it (mw_median_inplace), or of a column read in place with a stride, in one
 * pass that also counts, ranges and checks it (mw_median_scan). Used by the
 * outlier pipeline (reference medians for imputation) and the MMD bandwidth
 * (median of the pooled pairwise distances, mmd.c).
 *
 * Method: when n is large, an evenly spaced sample of 4096 values brackets the
 * middle (4 standard deviations of the sample rank either side); one pass
 * counts what lies below and keeps what lies between (~6% of the values), and
 * Hoare's selection finishes there when the middle is verified to lie
 * between; an unlucky sample falls back to selecting over all values. With an
 * even count the result is the mean of the two middle values, as numpy.median.
 * The bracket only decides how much is selected over, so the result is the
 * exact order statistic either way.
 *
 * mw_median_scan replaced, for the outlier fit of 100k x 20 (20 columns), a
 * copy of each column followed by mw_median_inplace's count and compaction
 * passes: one branch-free pass over the caller's values keeps only the
 * bracketed ones, so the copies (16 MB written, and their page faults) go.
 */
#include "modelwatch/stats.h"

#include <math.h>
#include <stdlib.h>

enum { S = 4096, MARGIN = 128 };

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

/* The mean of positions k1 <= k2 (equal for an odd count) of v[0..n)
 * sorted, rearranging v. */
static double middle(double *v, size_t n, size_t k1, size_t k2) {
    double upper = select_kth(v, n, k2), lower = upper;
    if (k1 < k2) { /* the largest value left of position k2 */
        lower = v[0];
        for (size_t i = 1; i < k2; i++)
            lower = v[i] > lower ? v[i] : lower;
    }
    return k1 < k2 ? (lower + upper) / 2.0 : upper;
}

/* Brackets the share f of the way up the non-NaN values among x[i * stride]
 * (i < n, n >= 4 S) between two values of an evenly spaced sample, 4 standard
 * deviations of the sample rank either side (an open end: -inf or +inf).
 * 0 when memory or a half-NaN sample leaves nothing to go by. */
static int bracket(const double *x, size_t n, size_t stride, double f, double *lo, double *hi) {
    double *smp = malloc(2 * S * sizeof *smp);
    if (!smp) return 0;
    size_t m = 0;
    for (size_t i = 0; i < S; i++) {
        double v = x[i * (n / S) * stride];
        if (v == v) smp[m++] = v;
    }
    int ok = m >= S / 2;
    if (ok) {
        mw_sort_doubles(smp, m, smp + S);
        size_t p = (size_t)(f * (double)m);
        *lo = p >= MARGIN ? smp[p - MARGIN] : -INFINITY;
        *hi = p + MARGIN < m ? smp[p + MARGIN] : INFINITY;
    }
    free(smp);
    return ok;
}

/* numpy.median of v[0..n) (finite), rearranging v: the middle value, or the
 * mean of the two middle ones. */
double mw_median_inplace(double *v, size_t n) {
    size_t k2 = n / 2, k1 = n % 2 ? k2 : k2 - 1, nb = 0, nin = 0;
    double lo, hi;
    if (n >= 4 * S && bracket(v, n, 1, (double)k2 / (double)n, &lo, &hi)) {
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
    return middle(v, n, k1, k2);
}

mw_status mw_median_scan(const double *x, size_t n, size_t stride, mw_median_scan_result *out) {
    out->n_values = 0;
    out->first_inf = 0;
    out->min = INFINITY;
    out->max = -INFINITY;
    out->median = NAN;
    double *buf = malloc((n ? n : 1) * sizeof *buf); /* pages touched: the kept values' */
    if (!buf) return MW_ENOMEM;
    double lo = -INFINITY, hi = INFINITY; /* no bracket: keep every value */
    int bracketed = n >= 4 * S && bracket(x, n, stride, 0.5, &lo, &hi);
    size_t nv = 0, nb = 0, w = 0;
    double mn = INFINITY, mx = -INFINITY;
    for (size_t i = 0; i < n; i++) { /* no branch; NaN fails every comparison */
        double v = x[i * stride];
        nv += v == v;
        nb += v < lo;
        buf[w] = v; /* w <= i */
        w += (v >= lo) & (v <= hi);
        mn = v < mn ? v : mn;
        mx = v > mx ? v : mx;
    }
    out->n_values = nv;
    out->min = mn;
    out->max = mx;
    if (isinf(mn) || isinf(mx)) { /* the first infinite value, no median */
        for (size_t i = 0; i < n && !out->first_inf; i++)
            if (isinf(x[i * stride])) out->first_inf = i + 1;
    } else if (nv) {
        size_t k2 = nv / 2, k1 = nv % 2 ? k2 : k2 - 1;
        if (bracketed && nb <= k1 && k2 < nb + w) {
            out->median = middle(buf, w, k1 - nb, k2 - nb);
        } else if (bracketed) { /* an unlucky sample: every value */
            w = 0;
            for (size_t i = 0; i < n; i++) {
                double v = x[i * stride];
                buf[w] = v;
                w += v == v;
            }
            out->median = mw_median_inplace(buf, w);
        } else { /* buf holds the nv values */
            out->median = middle(buf, w, k1, k2);
        }
    }
    free(buf);
    return MW_OK;
}
