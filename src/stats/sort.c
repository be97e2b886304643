/*
 * Sorting doubles: radix sort on the IEEE-754 bit pattern, the portable path.
 * Where the CPU has AVX-512F every entry point below hands the keys to the
 * vector quicksort of sort_avx512.c instead (the same results;
 * mw_sort_allow_vector(0) turns it off for tests).
 *
 * Every rank and ECDF test (KS, CvM, Anderson, Mann-Whitney, energy,
 * Wasserstein) and the quantile binning start from sorted samples, so sorting
 * dominates drift on large columns (20 sorts of a million values in the
 * 1M-row benchmark). qsort takes about 110 ms per million doubles here.
 *
 * Key transform: flip all bits of negative numbers and only the sign bit of
 * non-negative ones, which makes unsigned integer order equal to numeric order
 * (-0.0 lands just before +0.0).
 *
 * mw_sort_doubles and mw_sort_finite (measured on this project's machine, CPU
 * time per million normal doubles: 28-31 ms before, 20-23 ms after): the pass
 * that turns doubles into keys (and, in mw_sort_finite, drops NaN and inf);
 * then one most-significant-digit pass (digit_pass) on 16 bits of
 * (key - min), which scatters the keys into the scratch array; then each
 * bucket is finished inside a cache-resident tile (tile_sort): it is copied
 * in, split on a digit of about log2(size) bits of its own (key - min) (so
 * sub-buckets hold one to four keys, finished by compare-exchange or
 * insertion), and written back as doubles in one sequential pass. The
 * random-access work therefore stays in L2 instead of scattering over the
 * whole array, and the back transform costs no extra pass. Buckets larger
 * than a tile (heavily skewed data) take another 10-bit pass first.
 * mw_sort_u64_inplace (duplicate rows) uses the same tiles below its first
 * in-place pass.
 */
#include "modelwatch/stats.h"
#include "stats/sort_int.h"
#include "stats/sort_key.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define key_of mw_sort_key /* the key transform shared with perf_rank.c */
#define double_of mw_sort_key_value

static int vector_allowed = 1;

void mw_sort_allow_vector(int allow) {
    vector_allowed = allow;
}

/* The AVX-512 quicksort (sort_avx512.c) when allowed and the CPU has it. */
static mw_sort_keys_fn vector_sort(void) {
    return vector_allowed ? mw_sort_keys_vector() : NULL;
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

/* LSD radix sort of keys whose bits above 8*passes are all equal: a[] is
 * sorted in place, b[] is scratch. Passes where every key has the same byte
 * are skipped. */
static void lsd_sort(uint64_t *a, size_t n, uint64_t *b, int passes) {
    size_t count[8][256];
    memset(count, 0, sizeof count);
    for (size_t i = 0; i < n; i++)
        for (int p = 0; p < passes; p++)
            count[p][(a[i] >> (8 * p)) & 0xff]++;
    uint64_t *src = a, *dst = b;
    for (int p = 0; p < passes; p++) {
        size_t *c = count[p];
        if (c[(src[0] >> (8 * p)) & 0xff] == n) continue;
        size_t sum = 0;
        for (int j = 0; j < 256; j++) {
            size_t t = c[j];
            c[j] = sum;
            sum += t;
        }
        int shift = 8 * p;
        for (size_t i = 0; i < n; i++)
            dst[c[(src[i] >> shift) & 0xff]++] = src[i];
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
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

#define MSD_BITS 16
#define MSD_BUCKETS (1u << MSD_BITS)
#define SMALL_BUCKET 64
#define INNER_BITS 11
#define INNER_BUCKETS (1u << INNER_BITS)

/*
 * Sorts a bucket that fits the cache: src holds the keys, dst receives them
 * sorted. One pass on the 11 bits below the bucket's own common prefix, then
 * each sub-bucket is sorted again the same way or, when small (the usual case),
 * by insertion. Recursion depth is at most (64 - 16) / 11 + 1.
 */
static void inner_sort(uint64_t *src, uint64_t *dst, size_t n) {
    uint64_t lo = src[0], hi = src[0];
    for (size_t i = 1; i < n; i++) {
        lo = src[i] < lo ? src[i] : lo;
        hi = src[i] > hi ? src[i] : hi;
    }
    if (lo == hi) {
        memcpy(dst, src, n * sizeof *dst);
        return;
    }
    int top = 63 - __builtin_clzll(lo ^ hi);
    int shift = top - (INNER_BITS - 1);
    if (shift < 0) shift = 0;
    size_t start[INNER_BUCKETS + 1], pos[INNER_BUCKETS];
    memset(start, 0, sizeof start);
    for (size_t i = 0; i < n; i++)
        start[((src[i] >> shift) & (INNER_BUCKETS - 1)) + 1]++;
    for (size_t j = 0; j < INNER_BUCKETS; j++)
        start[j + 1] += start[j];
    memcpy(pos, start, sizeof pos);
    for (size_t i = 0; i < n; i++)
        dst[pos[(src[i] >> shift) & (INNER_BUCKETS - 1)]++] = src[i];
    if (shift == 0) return; /* the digit was the last bits: sorted */
    for (size_t j = 0; j < INNER_BUCKETS; j++) {
        size_t b = start[j], m = start[j + 1] - b;
        if (m < 2) continue;
        if (m < SMALL_BUCKET) {
            insertion_sort_u64(dst + b, m);
        } else { /* sort the sub-bucket into src, then copy it back */
            inner_sort(dst + b, src + b, m);
            memcpy(dst + b, src + b, m * sizeof *dst);
        }
    }
}

/*
 * One most-significant-digit pass on the 16 bits just below the keys' common
 * prefix (so the buckets split the actual range of the data, whatever its
 * magnitude), then each bucket, now small enough for the cache, is finished by
 * the same adaptive MSD idea on 11 bits (inner_sort) and insertion sort.
 * Compared with eight LSD passes over the whole array this moves the data
 * through memory about twice instead of eight times (70-90 ms per million
 * normal doubles with LSD here).
 */
void mw_sort_u64(uint64_t *a, size_t n, uint64_t *scratch) {
    mw_sort_keys_fn vs = vector_sort();
    if (vs) {
        vs(a, n);
        return;
    }
    if (n < SMALL_BUCKET) {
        insertion_sort_u64(a, n);
        return;
    }
    uint64_t lo = a[0], hi = a[0];
    for (size_t i = 1; i < n; i++) {
        lo = a[i] < lo ? a[i] : lo;
        hi = a[i] > hi ? a[i] : hi;
    }
    if (lo == hi) return;
    int top = 63 - __builtin_clzll(lo ^ hi); /* highest bit that differs */
    int shift = top - (MSD_BITS - 1);
    if (shift < 0) shift = 0;
    size_t *start = n >= (1u << 17) ? calloc(MSD_BUCKETS + 1, sizeof *start) : NULL;
    size_t *pos = start ? malloc(MSD_BUCKETS * sizeof *pos) : NULL;
    if (!pos) { /* small input, or no memory for the buckets: plain LSD */
        free(start);
        lsd_sort(a, n, scratch, (top + 8) / 8);
        return;
    }
    for (size_t i = 0; i < n; i++)
        start[((a[i] >> shift) & (MSD_BUCKETS - 1)) + 1]++;
    for (size_t j = 0; j < MSD_BUCKETS; j++)
        start[j + 1] += start[j];
    memcpy(pos, start, MSD_BUCKETS * sizeof *pos);
    for (size_t i = 0; i < n; i++)
        scratch[pos[(a[i] >> shift) & (MSD_BUCKETS - 1)]++] = a[i];
    for (size_t j = 0; j < MSD_BUCKETS; j++) {
        size_t b = start[j], m = start[j + 1] - b;
        if (!m) continue;
        if (m < SMALL_BUCKET || shift == 0) {
            memcpy(a + b, scratch + b, m * sizeof *a);
            if (shift) insertion_sort_u64(a + b, m);
        } else {
            inner_sort(scratch + b, a + b, m);
        }
    }
    free(start);
    free(pos);
}

typedef struct tile tile;
#define TILE_KEYS ((size_t)1 << 16) /* 2 x 512 KiB: stays in L2 */
/* Sorts a[0..n), n <= TILE_KEYS, by way of the tile (below). */
static void sort_in_tile(uint64_t *a, size_t n, tile *t);

/* In-place MSD radix sort ("American flag sort", McIlroy, Bostic & McIlroy,
 * "Engineering radix sort", 1993): each pass counts one byte's values, then
 * permutes keys into their buckets by following cycles, and recurses into the
 * buckets from the next byte down. No scratch memory; used where a second
 * array of the same size would raise the peak (duplicate-row counting). */
static void flag_sort(uint64_t *a, size_t n, int byte, tile *tl) {
    while (n >= SMALL_BUCKET && byte >= 0) {
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
        for (int j = 0; j < 256; j++) {
            if (count[j] < 2) continue;
            if (tl && count[j] <= TILE_KEYS && byte > 0)
                sort_in_tile(a + start[j], count[j], tl);
            else
                flag_sort(a + start[j], count[j], byte - 1, tl);
        }
        return;
    }
    if (n < SMALL_BUCKET) insertion_sort_u64(a, n);
}

#define TILE_SMALL 24 /* insertion sort below this many keys */
#define TILE_BITS 14  /* widest digit inside a tile */
#define TOP_BITS 16   /* digit of the passes over whole arrays */

struct tile {
    uint64_t *a, *b; /* TILE_KEYS keys each (or fewer for a small sort) */
    uint32_t *count; /* (1 << TILE_BITS) + 1 bucket starts and 1 << TILE_BITS cursors */
};

/* Sorts a sub-bucket of a few keys: two and three keys (the usual sizes
 * inside a tile) by compare-exchange without branches, more by insertion. */
static inline void tiny_sort(uint64_t *a, size_t m) {
    if (m == 2 || m == 3) {
        uint64_t x = a[0], y = a[1];
        a[0] = x < y ? x : y;
        a[1] = x < y ? y : x;
        if (m == 3) {
            uint64_t z = a[2], hi = a[1];
            a[2] = hi < z ? z : hi;
            y = hi < z ? hi : z; /* min(a[1], a[2]) */
            x = a[0];
            a[0] = x < y ? x : y;
            a[1] = x < y ? y : x;
        }
        return;
    }
    insertion_sort_u64(a, m);
}

/* Smallest and largest of the n >= 1 keys at a. */
static void key_range(const uint64_t *a, size_t n, uint64_t *lo, uint64_t *hi) {
    uint64_t l = a[0], h = a[0];
    for (size_t i = 1; i < n; i++) {
        l = a[i] < l ? a[i] : l;
        h = a[i] > h ? a[i] : h;
    }
    *lo = l;
    *hi = h;
}

/*
 * One counting pass: distributes src[0..n) into dst by the digit
 * (key - lo) >> shift, with shift chosen so that the digit has `bits` bits and
 * [lo, hi] (lo < hi) spreads over at least half of the 2^bits buckets (a digit
 * of the key bits would leave empty the part of the power-of-two window that
 * the keys do not reach). Leaves the bucket starts in start[0..2^bits] and
 * returns shift (0: the digit is the whole difference, dst is sorted). pos
 * holds 2^bits cursors; 32-bit counters: callers keep n <= UINT32_MAX.
 */
static int digit_pass(const uint64_t *src, uint64_t *dst, size_t n, uint64_t lo, uint64_t hi,
                      int bits, uint32_t *start, uint32_t *pos) {
    size_t nb = (size_t)1 << bits;
    int shift = 64 - __builtin_clzll(hi - lo) - bits;
    if (shift < 0) shift = 0;
    memset(start, 0, (nb + 1) * sizeof *start);
    for (size_t i = 0; i < n; i++)
        start[((src[i] - lo) >> shift) + 1]++;
    for (size_t j = 0; j < nb; j++)
        start[j + 1] += start[j];
    memcpy(pos, start, nb * sizeof *pos);
    for (size_t i = 0; i < n; i++)
        dst[pos[(src[i] - lo) >> shift]++] = src[i];
    return shift;
}

/* Sorts src[0..n) into dst (src is clobbered): one digit_pass of `bits` bits
 * (counters start and pos), then each sub-bucket by tiny_sort or, from
 * TILE_SMALL keys on, again with an 8-bit digit and counters on the stack
 * (each level settles at least 8 more bits, so the depth is at most 8). */
static void msd_sort(uint64_t *src, uint64_t *dst, size_t n, int bits, uint32_t *start,
                     uint32_t *pos) {
    if (n < TILE_SMALL) {
        memcpy(dst, src, n * sizeof *dst);
        tiny_sort(dst, n);
        return;
    }
    uint64_t lo, hi;
    key_range(src, n, &lo, &hi);
    if (lo == hi) {
        memcpy(dst, src, n * sizeof *dst);
        return;
    }
    if (digit_pass(src, dst, n, lo, hi, bits, start, pos) == 0) return;
    for (size_t j = 0; j < ((size_t)1 << bits); j++) {
        size_t b = start[j], m = start[j + 1] - b;
        if (m < 2) continue;
        if (m < TILE_SMALL) {
            tiny_sort(dst + b, m);
        } else {
            uint32_t start8[257], pos8[256];
            memcpy(src + b, dst + b, m * sizeof *src);
            msd_sort(src + b, dst + b, m, 8, start8, pos8);
        }
    }
}

/* Sorts the n <= TILE_KEYS keys in t->a into t->b (t->a is clobbered). The
 * digit has about log2(n) bits, so the average sub-bucket holds 1 to 4 keys. */
static void tile_sort(tile *t, size_t n) {
    int bits = n > 1 ? 63 - __builtin_clzll((uint64_t)n) : 1;
    if (bits > TILE_BITS) bits = TILE_BITS;
    msd_sort(t->a, t->b, n, bits, t->count, t->count + ((size_t)1 << bits) + 1);
}

static void sort_in_tile(uint64_t *a, size_t n, tile *t) {
    memcpy(t->a, a, n * sizeof *a);
    tile_sort(t, n);
    memcpy(a, t->b, n * sizeof *a);
}

/* The first pass in place (flag sort), then each bucket through a 1 MiB tile
 * when one can be had: the extra memory stays small, and the buckets below
 * the first byte (4,000 keys each for a million random hashes) are sorted in
 * cache instead of by two more in-place passes. */
void mw_sort_u64_inplace(uint64_t *a, size_t n) {
    mw_sort_keys_fn vs = vector_sort();
    if (vs)
        vs(a, n);
    else
        mw_sort_u64_radix_inplace(a, n);
}

void mw_sort_u64_radix_inplace(uint64_t *a, size_t n) {
    tile t;
    size_t tnb = (size_t)1 << TILE_BITS;
    t.a = n > 4 * TILE_SMALL ? malloc(2 * TILE_KEYS * sizeof *t.a + (2 * tnb + 1) * sizeof *t.count)
                             : NULL;
    if (t.a) {
        t.b = t.a + TILE_KEYS;
        t.count = (uint32_t *)(void *)(t.b + TILE_KEYS);
    }
    flag_sort(a, n, 7, t.a ? &t : NULL);
    free(t.a);
}

/* Sorts the n > TILE_KEYS keys at keys by one pass on a `bits`-bit digit below
 * their common prefix into tmp, then each bucket (sort_range), and writes them
 * as doubles to out, which is the same memory as keys or as tmp (each level
 * reads its input completely before it writes to out). start holds 2^bits + 1
 * entries, pos 2^bits (32-bit: callers keep n <= UINT32_MAX). */
static void sort_range(uint64_t *keys, uint64_t *tmp, size_t n, double *out, tile *t);

static void split_range(uint64_t *keys, uint64_t *tmp, size_t n, double *out, tile *t, int bits,
                        uint32_t *start, uint32_t *pos) {
    uint64_t lo, hi;
    key_range(keys, n, &lo, &hi);
    if (lo == hi) {
        for (size_t i = 0; i < n; i++)
            out[i] = double_of(lo);
        return;
    }
    int shift = digit_pass(keys, tmp, n, lo, hi, bits, start, pos);
    for (size_t j = 0; j < ((size_t)1 << bits); j++) {
        size_t b = start[j], m = start[j + 1] - b;
        if (!m) continue;
        if (shift == 0) { /* the digit was the whole difference: one value per bucket */
            for (size_t i = b; i < b + m; i++)
                out[i] = double_of(tmp[i]);
        } else {
            sort_range(tmp + b, keys + b, m, out + b, t);
        }
    }
}

#define NESTED_BITS 10 /* digit of a bucket still larger than a tile (rare) */

static void sort_range(uint64_t *keys, uint64_t *tmp, size_t n, double *out, tile *t) {
    if (n <= TILE_KEYS) {
        memcpy(t->a, keys, n * sizeof *keys);
        tile_sort(t, n);
        for (size_t i = 0; i < n; i++)
            out[i] = double_of(t->b[i]);
        return;
    }
    /* depth at most (64 - 16) / NESTED_BITS levels of 16 KiB of counters */
    uint32_t start[(1u << NESTED_BITS) + 1], pos[1u << NESTED_BITS];
    split_range(keys, tmp, n, out, t, NESTED_BITS, start, pos);
}

/* The doubles of the n keys stored over v, in place. */
static void keys_to_doubles(double *v, size_t n) {
    mw_sort_to_doubles_fn vec = vector_allowed ? mw_sort_to_doubles_vector() : NULL;
    if (vec) {
        vec(v, n);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t k;
        memcpy(&k, &v[i], sizeof k);
        v[i] = double_of(k);
    }
}

/* Sorts the n >= 64 keys stored over v and leaves the doubles in v. */
static void sort_keys_to_doubles(double *v, size_t n, double *scratch) {
    uint64_t *keys = (uint64_t *)(void *)v;
    mw_sort_keys_fn vs = vector_sort();
    if (vs) { /* in place: scratch is not needed */
        vs(keys, n);
        keys_to_doubles(v, n);
        return;
    }
    size_t cap = n < TILE_KEYS ? n : TILE_KEYS;
    size_t top = n > TILE_KEYS ? ((size_t)1 << TOP_BITS) : 0; /* counters of the first pass */
    size_t tnb = (size_t)1 << TILE_BITS;
    tile t;
    /* 32-bit counters: 512 KiB for the first pass */
    uint32_t *count = n <= UINT32_MAX ? malloc((top ? 2 * top + 1 : 1) * sizeof *count) : NULL;
    t.a = malloc(2 * cap * sizeof *t.a + (2 * tnb + 1) * sizeof *t.count);
    if (t.a && count) {
        t.b = t.a + cap;
        t.count = (uint32_t *)(void *)(t.b + cap);
        if (top)
            split_range(keys, (uint64_t *)(void *)scratch, n, v, &t, TOP_BITS, count,
                        count + top + 1);
        else
            sort_range(keys, (uint64_t *)(void *)scratch, n, v, &t);
        free(t.a);
        free(count);
        return;
    }
    free(t.a);
    free(count);
    /* no memory for the tile: the plain radix sort of the keys */
    mw_sort_u64(keys, n, (uint64_t *)(void *)scratch);
    keys_to_doubles(v, n);
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
    sort_keys_to_doubles(v, n, scratch);
}

/* The portable form of mw_sort_to_keys_fn: the finite values of v moved to
 * its front as keys (the key transform rides on the compaction). */
static size_t finite_keys(double *v, size_t n, uint64_t *nan_count, uint64_t *inf_count) {
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double x = v[i];
        if (isnan(x)) {
            (*nan_count)++;
        } else if (isinf(x)) {
            (*inf_count)++;
        } else {
            uint64_t key = key_of(x);
            memcpy(&v[k++], &key, sizeof key);
        }
    }
    return k;
}

size_t mw_sort_finite(double *v, size_t n, double *scratch, uint64_t *nan_count,
                      uint64_t *inf_count) {
    mw_sort_to_keys_fn vec = vector_allowed ? mw_sort_to_keys_vector() : NULL;
    size_t k = (vec ? vec : finite_keys)(v, n, nan_count, inf_count);
    if (k >= 64) {
        sort_keys_to_doubles(v, k, scratch);
        return k;
    }
    keys_to_doubles(v, k);
    insertion_sort(v, k);
    return k;
}
