/*
 * Histogram distances between a reference and a current histogram of counts,
 * and the quantile binning that produces numeric histograms.
 *
 * With p = ref / sum(ref) and q = cur / sum(cur):
 *   psi           = sum (q' - p') ln(q' / p'), p' and q' being p and q with zero
 *                   proportions replaced by 1e-4 after normalising (not
 *                   renormalised), as Evidently's PSI does
 *   kl            = scipy.stats.entropy(p', q') = sum P ln(P / Q) with
 *                   P = p' / sum p', Q = q' / sum q' (entropy renormalises)
 *   jensenshannon = scipy.spatial.distance.jensenshannon(p, q) (natural log):
 *                   sqrt((KL(p || m) + KL(q || m)) / 2), m = (p + q) / 2, 0 ln 0 = 0
 *   hellinger     = sqrt(1/2 sum (sqrt p - sqrt q)^2)
 *   tvd           = 1/2 sum |p - q|
 * Deviation: for nearly identical p and q rounding can make the Jensen-Shannon
 * sum a tiny negative number, where scipy returns sqrt(negative) = NaN; we
 * return 0 there.
 * Invalid input (k == 0, a negative or non-finite count, a zero total) gives NAN.
 *
 * Quantiles reproduce numpy.quantile(a, q) (numpy 1.24, method 'linear',
 * Hyndman & Fan type 7) bit for bit: virtual index v = (n - 1) * q (numpy's
 * 'linear' get_virtual_index), i = floor(v), g = v - i; v >= n - 1 gives the last
 * value; otherwise numpy's _lerp: a + g (b - a), or b - (b - a)(1 - g) when
 * g >= 0.5. mw_bin_index is numpy.searchsorted(edges, x, side='right').
 */
#include <math.h>

#include "modelwatch/stats.h"
#include "stats/edge_count.h"
#include "stats/quantile_int.h"

#define ZERO_REPLACEMENT 1e-4

/* Sums of both count vectors; 0 when the input is invalid. */
static int totals(const double *ref, const double *cur, size_t k, double *sr, double *sc) {
    if (!ref || !cur || k == 0) return 0;
    double a = 0, b = 0;
    for (size_t i = 0; i < k; i++) {
        if (!isfinite(ref[i]) || !isfinite(cur[i]) || ref[i] < 0 || cur[i] < 0) return 0;
        a += ref[i];
        b += cur[i];
    }
    if (!(a > 0) || !(b > 0) || !isfinite(a) || !isfinite(b)) return 0;
    *sr = a;
    *sc = b;
    return 1;
}

double mw_psi(const double *ref, const double *cur, size_t k) {
    double sr, sc;
    if (!totals(ref, cur, k, &sr, &sc)) return NAN;
    double s = 0;
    for (size_t i = 0; i < k; i++) {
        double p = ref[i] / sr, q = cur[i] / sc;
        if (p == 0) p = ZERO_REPLACEMENT;
        if (q == 0) q = ZERO_REPLACEMENT;
        s += (q - p) * log(q / p);
    }
    return s;
}

double mw_kl(const double *ref, const double *cur, size_t k) {
    double sr, sc;
    if (!totals(ref, cur, k, &sr, &sc)) return NAN;
    double sp = 0, sq = 0;
    for (size_t i = 0; i < k; i++) {
        double p = ref[i] / sr, q = cur[i] / sc;
        sp += p == 0 ? ZERO_REPLACEMENT : p;
        sq += q == 0 ? ZERO_REPLACEMENT : q;
    }
    double s = 0;
    for (size_t i = 0; i < k; i++) {
        double p = ref[i] / sr, q = cur[i] / sc;
        if (p == 0) p = ZERO_REPLACEMENT;
        if (q == 0) q = ZERO_REPLACEMENT;
        p /= sp;
        q /= sq;
        s += p * log(p / q);
    }
    return s;
}

double mw_jensenshannon(const double *ref, const double *cur, size_t k) {
    double sr, sc;
    if (!totals(ref, cur, k, &sr, &sc)) return NAN;
    double left = 0, right = 0;
    for (size_t i = 0; i < k; i++) {
        double p = ref[i] / sr, q = cur[i] / sc;
        double m = (p + q) / 2.0;
        if (p > 0) left += p * log(p / m);
        if (q > 0) right += q * log(q / m);
    }
    double js = (left + right) / 2.0;
    return js > 0 ? sqrt(js) : 0.0;
}

double mw_hellinger(const double *ref, const double *cur, size_t k) {
    double sr, sc;
    if (!totals(ref, cur, k, &sr, &sc)) return NAN;
    double s = 0;
    for (size_t i = 0; i < k; i++) {
        double d = sqrt(ref[i] / sr) - sqrt(cur[i] / sc);
        s += d * d;
    }
    return sqrt(0.5 * s);
}

double mw_tvd(const double *ref, const double *cur, size_t k) {
    double sr, sc;
    if (!totals(ref, cur, k, &sr, &sc)) return NAN;
    double s = 0;
    for (size_t i = 0; i < k; i++)
        s += fabs(ref[i] / sr - cur[i] / sc);
    return 0.5 * s;
}

/* ---- quantiles and bins ----------------------------------------------------- */

double mw_quantile_sorted(const double *sorted, size_t n, double q) {
    if (!sorted || n == 0 || !(q >= 0.0 && q <= 1.0)) return NAN;
    double g;
    size_t i = mw_quantile_pos(n, q, &g);
    return i == n - 1 ? sorted[i] : mw_quantile_lerp(sorted[i], sorted[i + 1], g);
}

void mw_quantile_edges(const double *sorted, size_t n, size_t bins, double *edges) {
    if (!edges || bins < 2) return;
    for (size_t i = 1; i < bins; i++)
        edges[i - 1] = mw_quantile_sorted(sorted, n, (double)i / (double)bins);
}

size_t mw_bin_index(const double *edges, size_t nedges, double x) {
    if (!edges || isnan(x)) return nedges; /* numpy orders NaN after everything */
    if (nedges <= 16) return mw_edges_at_most(edges, nedges, x); /* see edge_count.h */
    size_t lo = 0, hi = nedges; /* first index with edges[i] > x */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (edges[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
