/*
 * Order statistics without sorting everything: the values that given
 * positions of the sorted array would hold, and numpy.quantile at several
 * levels, equal bit for bit to sorting with mw_sort_doubles and reading
 * mw_quantile_sorted. Used by the outlier fit (the reference scores'
 * percentiles and the contamination threshold: 103 order statistics of 100k
 * scores, where the sort took about 3 ms of a 60 ms fit).
 *
 * Method: one pass for the range of the order-preserving keys (sort_key.h),
 * one counting pass on a digit of (key - min) of about log2(n) - 3 bits (a
 * few values a bucket), then a pass that copies only the values of the
 * buckets holding a wanted position; each such bucket is sorted on its own
 * (mw_sort_doubles) and the wanted positions read from it. Keys order the
 * values as the radix sort does (-0.0 before +0.0, equal values being equal
 * bits), so every position gets the sort's value. Skewed data that puts most
 * values in one wanted bucket costs one sort of that bucket, no more than
 * sorting everything.
 */
#include "modelwatch/stats.h"
#include "stats/quantile_int.h"
#include "stats/sort_key.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define SMALL 4096 /* below: copy and sort */

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Small inputs: a sorted copy. */
static mw_status select_by_sort(const double *v, size_t n, const size_t *rank, size_t nr,
                                double *out) {
    double *c = malloc(2 * n * sizeof *c);
    if (!c) return MW_ENOMEM;
    memcpy(c, v, n * sizeof *c);
    mw_sort_doubles(c, n, c + n);
    for (size_t j = 0; j < nr; j++)
        out[j] = c[rank[j]];
    free(c);
    return MW_OK;
}

mw_status mw_select_ranks(const double *v, size_t n, const size_t *rank, size_t nr, double *out) {
    if (!nr) return MW_OK;
    for (size_t j = 0; j < nr; j++)
        if (rank[j] >= n) return MW_EINVAL;
    if (n < SMALL || n > UINT32_MAX) return select_by_sort(v, n, rank, nr, out);
    uint64_t lo = mw_sort_key(v[0]), hi = lo;
    for (size_t i = 1; i < n; i++) {
        uint64_t k = mw_sort_key(v[i]);
        lo = k < lo ? k : lo;
        hi = k > hi ? k : hi;
    }
    if (lo == hi) { /* one value (bit for bit) */
        for (size_t j = 0; j < nr; j++)
            out[j] = v[0];
        return MW_OK;
    }
    int bits = 60 - __builtin_clzll((uint64_t)n); /* log2(n) - 3: ~8-16 values a bucket */
    int shift = 64 - __builtin_clzll(hi - lo) - bits;
    if (shift < 0) shift = 0;
    size_t nb = (size_t)((hi - lo) >> shift) + 1;
    /* start[b]: first sorted position of bucket b; at[b]: its place in the copy
     * (UINT32_MAX: not wanted); sorted ranks, to find the wanted buckets */
    uint32_t *start = calloc(2 * nb + 1, sizeof *start), *at = start + nb + 1;
    size_t *rk = malloc(nr * sizeof *rk);
    if (!start || !rk) {
        free(start);
        free(rk);
        return MW_ENOMEM;
    }
    for (size_t i = 0; i < n; i++)
        start[((mw_sort_key(v[i]) - lo) >> shift) + 1]++;
    for (size_t b = 0; b < nb; b++)
        start[b + 1] += start[b];
    memcpy(rk, rank, nr * sizeof *rk);
    qsort(rk, nr, sizeof *rk, cmp_size);
    for (size_t b = 0; b < nb; b++)
        at[b] = UINT32_MAX;
    size_t total = 0, largest = 0;
    for (size_t j = 0, b = 0; j < nr; j++) {
        while (start[b + 1] <= rk[j]) /* the bucket holding position rk[j] */
            b++;
        if (at[b] != UINT32_MAX) continue;
        size_t m = start[b + 1] - start[b];
        at[b] = (uint32_t)total;
        total += m;
        largest = m > largest ? m : largest;
    }
    double *copy = malloc((total + largest) * sizeof *copy);
    uint32_t *fill = malloc(nb * sizeof *fill);
    mw_status st = copy && fill ? MW_OK : MW_ENOMEM;
    if (st == MW_OK) {
        memcpy(fill, at, nb * sizeof *fill);
        for (size_t i = 0; i < n; i++) {
            uint32_t *f = &fill[(mw_sort_key(v[i]) - lo) >> shift];
            if (*f != UINT32_MAX) copy[(*f)++] = v[i];
        }
        for (size_t b = 0; b < nb; b++)
            if (at[b] != UINT32_MAX)
                mw_sort_doubles(copy + at[b], start[b + 1] - start[b], copy + total);
        for (size_t j = 0; j < nr; j++) {
            size_t b = 0, z = nb; /* the bucket: start[b] <= rank[j] < start[z] */
            while (z - b > 1) {
                size_t mid = b + (z - b) / 2;
                if (start[mid] <= rank[j])
                    b = mid;
                else
                    z = mid;
            }
            out[j] = copy[at[b] + (rank[j] - start[b])];
        }
    }
    free(copy);
    free(fill);
    free(start);
    free(rk);
    return st;
}

mw_status mw_quantiles_select(const double *v, size_t n, const double *q, size_t nq, double *out) {
    if (!n) return MW_EINVAL;
    if (!nq) return MW_OK;
    for (size_t j = 0; j < nq; j++)
        if (!(q[j] >= 0.0 && q[j] <= 1.0)) return MW_EINVAL;
    size_t *rank = malloc((2 * nq + 1) * sizeof *rank);
    double *val = malloc((2 * nq + 1) * sizeof *val);
    mw_status st = rank && val ? MW_OK : MW_ENOMEM;
    if (st == MW_OK) {
        for (size_t j = 0; j < nq; j++) { /* both ends of each interpolation */
            double g;
            size_t i = mw_quantile_pos(n, q[j], &g);
            rank[2 * j] = i;
            rank[2 * j + 1] = i + 1 < n ? i + 1 : i;
        }
        st = mw_select_ranks(v, n, rank, 2 * nq, val);
    }
    for (size_t j = 0; j < nq && st == MW_OK; j++) {
        double g;
        size_t i = mw_quantile_pos(n, q[j], &g);
        out[j] = i == n - 1 ? val[2 * j] : mw_quantile_lerp(val[2 * j], val[2 * j + 1], g);
    }
    free(rank);
    free(val);
    return st;
}
