/*
 * Internal helpers shared by the rank / ECDF two-sample tests (ks.c, cvm.c,
 * anderson.c, mannwhitney.c, ecdf_distance.c). Not part of the public API.
 *
 * - mw_rank_check: the common precondition of stats.h (non-empty, finite,
 *   sorted ascending).
 * - mw_tie_walk: walks the union of two sorted arrays one distinct value at a
 *   time, giving how many copies of that value each side holds and how many
 *   values of each side lie strictly below it. Every merged-ECDF quantity
 *   (KS differences, midranks, tie counts, Anderson's M_ij and B_j, the
 *   piecewise-constant ECDF integrals) is a function of these four numbers,
 *   so each test is one O(n + m) pass over the groups.
 * - mw_rank_norm_sf: the standard normal upper tail, 0.5 * erfc(z / sqrt 2),
 *   kept local so the rank tests do not depend on special.c.
 *
 * Everything is static inline: no state, thread-safe.
 */
#ifndef MW_STATS_RANK_INT_H
#define MW_STATS_RANK_INT_H

#include <math.h>
#include <stddef.h>

#include "modelwatch/core.h"
#include "modelwatch/stats.h"

/* MW_OK when v[0..n) is non-empty, finite and sorted ascending. */
static inline mw_status mw_rank_check(const double *v, size_t n) {
    if (v == NULL || n == 0) return MW_EINVAL;
    /* sorted with finite ends is finite throughout, and a NaN fails the order
     * test: one comparison per value, without a branch */
    if (!isfinite(v[0]) || !isfinite(v[n - 1])) return MW_EINVAL;
    int unsorted = 0;
    for (size_t i = 1; i < n; i++)
        unsorted |= !(v[i - 1] <= v[i]);
    return unsorted ? MW_EINVAL : MW_OK;
}

/* Validates both samples and clears *out-like storage handled by the caller. */
static inline mw_status mw_rank_check2(const double *x, size_t n, const double *y, size_t m) {
    mw_status s = mw_rank_check(x, n);
    if (s != MW_OK) return s;
    return mw_rank_check(y, m);
}

/* The opening of every two-sample test: out is required and cleared to NaN,
 * then both samples are checked (sorted, finite, non-empty). */
static inline mw_status mw_rank_begin(const double *x, size_t n, const double *y, size_t m,
                                      mw_test_result *out) {
    if (!out) return MW_EINVAL;
    out->statistic = NAN;
    out->p_value = NAN;
    return mw_rank_check2(x, n, y, m);
}

/* Cursor over the distinct values of the merged sorted arrays x and y. */
typedef struct mw_tie_walk {
    const double *x, *y;
    size_t n, m;
    size_t i, j; /* next unread index in x and y */
    /* filled by mw_tie_next for the current group: */
    double value;   /* the distinct value */
    size_t below_x; /* values of x strictly below value (= i before the group) */
    size_t below_y;
    size_t cx, cy; /* copies of value in x and in y */
} mw_tie_walk;

static inline void mw_tie_init(mw_tie_walk *w, const double *x, size_t n, const double *y,
                               size_t m) {
    w->x = x;
    w->y = y;
    w->n = n;
    w->m = m;
    w->i = 0;
    w->j = 0;
    w->value = 0.0;
    w->below_x = w->below_y = w->cx = w->cy = 0;
}

/* Advances to the next distinct value; returns 0 when both arrays are used up. */
static inline int mw_tie_next(mw_tie_walk *w) {
    double v;
    if (w->i < w->n && w->j < w->m)
        v = w->x[w->i] <= w->y[w->j] ? w->x[w->i] : w->y[w->j];
    else if (w->i < w->n)
        v = w->x[w->i];
    else if (w->j < w->m)
        v = w->y[w->j];
    else
        return 0;
    w->value = v;
    w->below_x = w->i;
    w->below_y = w->j;
    while (w->i < w->n && w->x[w->i] == v)
        w->i++;
    while (w->j < w->m && w->y[w->j] == v)
        w->j++;
    w->cx = w->i - w->below_x;
    w->cy = w->j - w->below_y;
    return 1;
}

/* Standard normal survival function, accurate in the upper tail. */
static inline double mw_rank_norm_sf(double z) {
    return 0.5 * erfc(z * 0.70710678118654752440);
}

/* Neumaier-compensated running sum (keeps long sums of positive and mixed
 * terms within a few ulps of the exact value, whatever numpy's order). */
typedef struct mw_ksum {
    double s, c;
} mw_ksum;

static inline void mw_ksum_add(mw_ksum *k, double v) {
    double t = k->s + v;
    if (fabs(k->s) >= fabs(v))
        k->c += (k->s - t) + v;
    else
        k->c += (v - t) + k->s;
    k->s = t;
}

static inline double mw_ksum_value(const mw_ksum *k) {
    return k->s + k->c;
}

#endif
