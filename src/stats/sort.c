/*
 * Sorting doubles: radix sort on the IEEE-754 bit pattern.
 *
 * Every rank and ECDF test (KS, CvM, Anderson, Mann-Whitney, energy,
 * Wasserstein) and the quantile binning start from sorted samples, so sorting
 * dominates drift on large columns (20 sorts of a million values in the
 * 1M-row benchmark). qsort takes about 110 ms per million doubles here.
 *
 * Key transform (sort_key.h): flip all bits of negative numbers and only the
 * sign bit of non-negative ones, which makes unsigned integer order equal to
 * numeric order (-0.0 lands just before +0.0); then mw_sort_u64 sorts the
 * keys: an adaptive MSD radix sort (below).
 */
#include "modelwatch/stats.h"

#include "stats/sort_key.h"

#include <stdlib.h>
#include <string.h>

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

static void insertion_sort_u64(uint64_t *a, size_t n) {
    for (size_t i = 1; i < n; i++) {
        uint64_t x = a[i];
        size_t j = i;
        while (j > 0 && a[j - 1] > x) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = x;
    }
}

/* The highest bit on which keys a[0..n) differ (n > 0), -1 when all are equal. */
static int top_differing_bit(const uint64_t *a, size_t n) {
    uint64_t lo = a[0], hi = a[0];
    for (size_t i = 1; i < n; i++) {
        lo = a[i] < lo ? a[i] : lo;
        hi = a[i] > hi ? a[i] : hi;
    }
    return lo == hi ? -1 : 63 - __builtin_clzll(lo ^ hi);
}

#define SMALL_BUCKET 16
#define MAX_BITS 11
#define MAX_BUCKETS (1u << MAX_BITS)

/*
 * Sorts src[0..n) into dst (into_dst) or back into src (the other array is
 * scratch either way); the keys agree on every bit above `top`. One MSD pass
 * on the digit just below the common prefix, about log2(n) bits wide and at
 * most 11 (2048 buckets: the counts and the open destination lines stay in
 * cache; when all keys agree on the digit, nothing moves and the digit
 * restarts below their common prefix, so a tie group costs two passes).
 * Buckets above SMALL_BUCKET keys are sorted the same way, each level
 * consuming its digit (depth <= 64 / 5, 8 KiB of counts each); smaller ones
 * are left as they are and one insertion pass over the whole range, nearly
 * sorted by then, finishes them (at most SMALL_BUCKET^2 / 2 moves per bucket).
 */
static void msd_sort(uint64_t *src, uint64_t *dst, size_t n, int into_dst, int top) {
    uint64_t *res = into_dst ? dst : src;
    if (n <= SMALL_BUCKET) {
        if (into_dst) memcpy(dst, src, n * sizeof *dst);
        insertion_sort_u64(res, n);
        return;
    }
    if (n > (1u << 16)) { /* out of cache: one pass for the exact common prefix */
        top = top_differing_bit(src, n);
        if (top < 0) {
            if (into_dst) memcpy(dst, src, n * sizeof *dst);
            return;
        }
    }
    int bits = 64 - __builtin_clzll((uint64_t)n);
    if (bits > MAX_BITS) bits = MAX_BITS;
    /* end[j]: counts, then bucket j's start (exclusive prefix sums), then,
     * after the scatter, its end (= bucket j + 1's start) */
    uint32_t end[MAX_BUCKETS], mask, most, unsorted;
    int shift;
    for (;;) {
        shift = top - (bits - 1);
        if (shift < 0) shift = 0;
        mask = (1u << (top - shift + 1)) - 1;
        memset(end, 0, ((size_t)mask + 1) * sizeof *end);
        for (size_t i = 0; i < n; i++)
            end[(src[i] >> shift) & mask]++;
        uint32_t sum = 0;
        most = 0;
        unsorted = 0; /* a bucket of 2..SMALL_BUCKET keys */
        for (uint32_t j = 0; j <= mask; j++) {
            uint32_t t = end[j];
            end[j] = sum;
            sum += t;
            most = t > most ? t : most;
            unsorted |= t - 2 < SMALL_BUCKET - 1;
        }
        if (most < n) break;
        /* all share this digit: find the highest bit that differs, if any */
        top = top_differing_bit(src, n);
        if (top < 0) { /* a tie group */
            if (into_dst) memcpy(dst, src, n * sizeof *dst);
            return;
        }
    }
    for (size_t i = 0; i < n; i++)
        dst[end[(src[i] >> shift) & mask]++] = src[i];
    if (!into_dst) memcpy(src, dst, n * sizeof *src);
    if (shift == 0) return; /* the digit was the last bits: sorted */
    /* the small buckets stay as they are; the large ones are sorted from dst
     * into res */
    if (most > SMALL_BUCKET) {
        size_t b = 0;
        for (uint32_t j = 0; j <= mask; j++) {
            size_t m = end[j] - b;
            if (m > SMALL_BUCKET) msd_sort(dst + b, src + b, m, !into_dst, shift - 1);
            b = end[j];
        }
    }
    if (unsorted) insertion_sort_u64(res, n);
}

#define TOP_BITS 16
#define TOP_ACTIVE 2048

/*
 * The first pass over a large array (n >= 2^17) counts a 16-bit digit below
 * the common prefix, then narrows it (merging adjacent counts) while more than
 * TOP_ACTIVE buckets are in use, down to 11 bits: data spread over few
 * exponents or few distinct values (integers, heavy ties) is split 16 bits at
 * a time, dense data (scores in [0, 1], uniform) keeps the scatter's open
 * destination lines in cache. Buckets are then sorted by msd_sort, in cache.
 */
void mw_sort_u64(uint64_t *a, size_t n, uint64_t *scratch) {
    if (n <= SMALL_BUCKET) {
        insertion_sort_u64(a, n);
        return;
    }
    if ((uint64_t)n > UINT32_MAX) { /* the counts are 32-bit: 32 GiB of keys go in place */
        mw_sort_u64_inplace(a, n);
        return;
    }
    int top = top_differing_bit(a, n);
    if (top < 0) return;
    uint32_t *end = n >= (1u << 17) ? calloc((size_t)1 << TOP_BITS, sizeof *end) : NULL;
    if (!end) {
        msd_sort(a, scratch, n, 0, top);
        return;
    }
    int w = top + 1 < TOP_BITS ? top + 1 : TOP_BITS;
    int shift = top + 1 - w;
    for (size_t i = 0; i < n; i++)
        end[(a[i] >> shift) & (((uint64_t)1 << w) - 1)]++;
    /* narrow the digit while too many buckets are in use (each one an open
     * destination line in the scatter) */
    for (;;) {
        size_t active = 0;
        for (size_t j = 0; j < ((size_t)1 << w); j++)
            active += end[j] != 0;
        if (active <= TOP_ACTIVE || w <= MAX_BITS) break;
        for (size_t j = 0; j < ((size_t)1 << (w - 1)); j++)
            end[j] = end[2 * j] + end[2 * j + 1];
        w--;
        shift++;
    }
    uint32_t sum = 0, mask = (uint32_t)(((uint64_t)1 << w) - 1);
    for (uint32_t j = 0; j <= mask; j++) {
        uint32_t t = end[j];
        end[j] = sum;
        sum += t;
    }
    for (size_t i = 0; i < n; i++)
        scratch[end[(a[i] >> shift) & mask]++] = a[i];
    int unsorted = 0;
    size_t b = 0;
    for (uint32_t j = 0; j <= mask; j++) {
        size_t m = end[j] - b;
        if (m > SMALL_BUCKET && shift > 0) {
            msd_sort(scratch + b, a + b, m, 1, shift - 1);
        } else if (m) {
            memcpy(a + b, scratch + b, m * sizeof *a);
            unsorted |= m > 1 && shift > 0;
        }
        b = end[j];
    }
    free(end);
    if (unsorted) insertion_sort_u64(a, n);
}

/* In-place MSD radix sort ("American flag sort", McIlroy, Bostic & McIlroy,
 * "Engineering radix sort", 1993): each pass counts one byte's values, then
 * permutes keys into their buckets by following cycles, and recurses into the
 * buckets from the next byte down. No scratch memory; used where a second
 * array of the same size would raise the peak (duplicate-row counting). */
#define FLAG_SMALL 64

static void flag_sort(uint64_t *a, size_t n, int byte) {
    while (n >= FLAG_SMALL && byte >= 0) {
        int shift = 8 * byte;
        size_t count[256] = {0}, start[257], next[256];
        for (size_t i = 0; i < n; i++)
            count[(a[i] >> shift) & 0xff]++;
        start[0] = 0;
        for (int j = 0; j < 256; j++)
            start[j + 1] = start[j] + count[j];
        if (count[(a[0] >> shift) & 0xff] == n) { /* all share this byte */
            byte--;
            continue;
        }
        memcpy(next, start, sizeof next);
        for (int j = 0; j < 256; j++) {
            while (next[j] < start[j + 1]) {
                uint64_t k = a[next[j]];
                int d = (int)((k >> shift) & 0xff);
                while (d != j) { /* swap k into its bucket, take what was there */
                    uint64_t t = a[next[d]];
                    a[next[d]++] = k;
                    k = t;
                    d = (int)((k >> shift) & 0xff);
                }
                a[next[j]++] = k;
            }
        }
        for (int j = 0; j < 256; j++)
            if (count[j] > 1) flag_sort(a + start[j], count[j], byte - 1);
        return;
    }
    if (n < FLAG_SMALL) insertion_sort_u64(a, n);
}

void mw_sort_u64_inplace(uint64_t *a, size_t n) {
    flag_sort(a, n, 7);
}

void mw_sort_doubles(double *v, size_t n, double *scratch) {
    if (n < 64) {
        insertion_sort(v, n);
        return;
    }
    /* keys are stored over the doubles through memcpy (no aliased lvalues) */
    for (size_t i = 0; i < n; i++) {
        uint64_t k = mw_sort_key(v[i]);
        memcpy(&v[i], &k, sizeof k);
    }
    mw_sort_u64((uint64_t *)(void *)v, n, (uint64_t *)(void *)scratch);
    for (size_t i = 0; i < n; i++) {
        uint64_t k;
        memcpy(&k, &v[i], sizeof k);
        v[i] = mw_sort_key_value(k);
    }
}
