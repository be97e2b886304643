/*
 * Sorting doubles: LSD radix sort on the IEEE-754 bit pattern.
 *
 * Every rank and ECDF test (KS, CvM, Anderson, Mann-Whitney, energy,
 * Wasserstein) and the quantile binning start from sorted samples, so sorting
 * dominates drift on large columns. A comparison sort (qsort) takes about
 * 110 ms per million doubles here; this radix sort takes about 12 ms.
 *
 * Key transform: flip all bits of negative numbers and only the sign bit of
 * non-negative ones, which makes unsigned integer order equal to numeric order
 * (-0.0 lands just before +0.0). Eight passes of 8 bits; a pass in which every
 * key has the same byte is skipped, which is common for data of one magnitude.
 */
#include "modelwatch/stats.h"

#include <string.h>

static inline uint64_t key_of(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return (u & 0x8000000000000000ULL) ? ~u : (u | 0x8000000000000000ULL);
}

static inline double double_of(uint64_t k) {
    uint64_t u = (k & 0x8000000000000000ULL) ? (k & ~0x8000000000000000ULL) : ~k;
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static void insertion_sort(double *v, size_t n) {
    for (size_t i = 1; i < n; i++) {
        double x = v[i];
        size_t j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

/* LSD radix sort of 64-bit keys in place; scratch holds n keys. */
void mw_sort_u64(uint64_t *a, size_t n, uint64_t *scratch) {
    if (n < 2) return;
    uint64_t *src = a, *dst = scratch;
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < 8; p++) count[p][(src[i] >> (8 * p)) & 0xff]++;
    for (int p = 0; p < 8; p++) {
        size_t *c = count[p];
        /* skip a pass where all keys share this byte */
        if (c[(src[0] >> (8 * p)) & 0xff] == n) continue;
        size_t sum = 0;
        for (int j = 0; j < 256; j++) {
            size_t t = c[j];
            c[j] = sum;
            sum += t;
        }
        int shift = 8 * p;
        for (size_t i = 0; i < n; i++) dst[c[(src[i] >> shift) & 0xff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
}

void mw_sort_doubles(double *v, size_t n, double *scratch) {
    if (n < 64) {
        insertion_sort(v, n);
        return;
    }
    /* keys are stored over the doubles through memcpy (no aliased lvalues) */
    for (size_t i = 0; i < n; i++) {
        uint64_t k = key_of(v[i]);
        memcpy(&v[i], &k, sizeof k);
    }
    mw_sort_u64((uint64_t *)(void *)v, n, (uint64_t *)(void *)scratch);
    for (size_t i = 0; i < n; i++) {
        uint64_t k;
        memcpy(&k, &v[i], sizeof k);
        v[i] = double_of(k);
    }
}
