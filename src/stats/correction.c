/*
 * Multiple-testing corrections of p-values, in place. NAN entries are left as
 * they are and not counted: m is the number of non-NaN p-values.
 *
 *   Bonferroni:          p_i' = min(1, m p_i)
 *   Benjamini-Hochberg:  p_(i)' = min(1, min_{j >= i} p_(j) / (j / m)) over the
 *                        ascending order p_(1) <= ... <= p_(m)
 *
 * Agrees with statsmodels.stats.multitest.multipletests(p, method='bonferroni')
 * and method='fdr_bh' (pvals_corrected) applied to the non-NaN entries; the BH
 * step computes p / (rank / m) as statsmodels does. Tied p-values all get the
 * value of the largest rank of the tie, so the result does not depend on how
 * ties are ordered. Reference: Benjamini & Hochberg (1995), JRSS B 57.
 *
 * mw_correct_bh sorts an index array (O(m log m)); for m < 8, or if that
 * allocation fails, it uses an allocation-free O(m^2) evaluation of the same
 * formula instead, so it never fails.
 */
#include <math.h>
#include <stdlib.h>

#include "modelwatch/stats.h"

void mw_correct_bonferroni(double *p, size_t m) {
    if (!p) return;
    size_t cnt = 0;
    for (size_t i = 0; i < m; i++)
        if (!isnan(p[i])) cnt++;
    double f = (double)cnt;
    for (size_t i = 0; i < m; i++) {
        if (isnan(p[i])) continue;
        double v = p[i] * f;
        p[i] = v > 1.0 ? 1.0 : v;
    }
}

typedef struct bh_item {
    double p;
    size_t idx;
} bh_item;

static int bh_cmp(const void *x, const void *y) {
    const bh_item *a = x, *b = y;
    if (a->p < b->p) return -1;
    if (a->p > b->p) return 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

/* O(m^2) fallback without memory: walks the distinct values in descending order.
 * Entries already done hold adjusted values, which are >= their original p and so
 * >= every value still to do; the ones still to do are those below `last`. All r
 * of them have p <= v, so the tie group of v has largest rank r. The clamp to 1
 * is deferred to the end so that done entries keep the invariant. */
static void bh_quadratic(double *p, size_t m, size_t cnt) {
    double fm = (double)cnt, run = INFINITY, last = INFINITY;
    size_t r = cnt;
    while (r > 0) {
        double v = -INFINITY;
        for (size_t i = 0; i < m; i++)
            if (!isnan(p[i]) && p[i] < last && p[i] > v) v = p[i];
        double adj = v / ((double)r / fm);
        if (adj < run) run = adj;
        for (size_t i = 0; i < m; i++)
            if (p[i] == v) {
                p[i] = run;
                r--;
            }
        last = v;
    }
    for (size_t i = 0; i < m; i++)
        if (p[i] > 1.0) p[i] = 1.0;
}

void mw_correct_bh(double *p, size_t m) {
    if (!p) return;
    size_t cnt = 0;
    for (size_t i = 0; i < m; i++)
        if (!isnan(p[i])) cnt++;
    if (cnt == 0) return;
    bh_item *it = malloc(cnt * sizeof *it);
    if (!it || m < 8) {
        free(it);
        bh_quadratic(p, m, cnt);
        return;
    }
    size_t c = 0;
    for (size_t i = 0; i < m; i++)
        if (!isnan(p[i])) {
            it[c].p = p[i];
            it[c].idx = i;
            c++;
        }
    qsort(it, cnt, sizeof *it, bh_cmp);
    double fm = (double)cnt, run = INFINITY;
    for (size_t r = cnt; r-- > 0;) {
        double v = it[r].p / ((double)(r + 1) / fm);
        if (v < run) run = v;
        p[it[r].idx] = run > 1.0 ? 1.0 : run;
    }
    free(it);
}
