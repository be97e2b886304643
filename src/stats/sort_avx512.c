/*
 * Quicksort of unsigned 64-bit keys with AVX-512 (chosen at run time by
 * sort.c when the CPU has AVX-512F; the radix sorts of sort.c are the
 * portable path and give the same order, since sorting keys has one answer).
 *
 * Why: sorting is the larger part of the drift tests on big columns (20
 * sorts of a million values in the 1M-row benchmark). The radix sort's first
 * pass scatters keys over memory, which costs ~30 ns per key here; this sort
 * moves keys between neighbouring places in cache-friendly sweeps and sorts
 * short ranges inside registers.
 *
 * How (after Gueron & Krasnov, "Fast quicksort implementation using AVX
 * instructions", 2016, and Bramas, "A novel hybrid quicksort algorithm
 * vectorized using AVX-512 on Intel Skylake", 2017):
 *   - Partition in place, 8 keys at a time: a vector is loaded, compared with
 *     the pivot (one mask), and its keys at or below the pivot are packed
 *     (vpcompressq) and stored at the left write cursor, the others at the
 *     right one, with masked stores that write exactly the packed lanes. Four
 *     vectors from each end are held in registers at the start, so 32 slots
 *     are free on each side; reads stay on one side while the other side has
 *     room for a vector, so the side changes every dozen vectors or so (a
 *     predictable branch; choosing the side anew for every vector was
 *     mispredicted half the time, and choosing it without a branch chained
 *     every load to the previous vector's count).
 *   - The pivot is the median of 9 keys spread over the range (of 3 below
 *     1024 keys). When every key is at or below it, the range is split again
 *     into keys below it and keys equal to it (which are then in place): ties
 *     cannot make it loop, and columns with few distinct values finish in a
 *     few passes.
 *   - Ranges of at most 64 keys are sorted by a bitonic network over 1, 2, 4
 *     or 8 vectors padded with the largest key: each vector sorted by six
 *     lane exchanges (permute, min, max, blend), then runs merged by reversing
 *     one and half-cleaning across and within vectors.
 *   - Recursion goes into the smaller side, so the stack stays O(log n); past
 *     a depth of 2 log2(n) (inputs built to defeat the pivot choice) the range
 *     goes to the in-place radix sort.
 * Also here, in vectors: the passes around a sort of doubles (finite values
 * to keys with NaN and infinity counts, keys back to doubles; sort.c).
 * Measured on a million benchmark doubles: 16-18 ms against 27-30 ms for the
 * radix sort (best of several runs; this machine's speed varies by half).
 */
#include "stats/sort_int.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f,popcnt")))
/* helpers inlined into their callers, so that vectors stay in registers */
#define AVX512_INLINE AVX512 static inline __attribute__((always_inline))

#define NETWORK_MAX 64 /* keys sorted by the register network */

/* Lane i of the result: the lane i ^ j of v. */
AVX512_INLINE __m512i partner(__m512i v, int j) {
    if (j == 1) return _mm512_permutexvar_epi64(_mm512_set_epi64(6, 7, 4, 5, 2, 3, 0, 1), v);
    if (j == 2) return _mm512_permutexvar_epi64(_mm512_set_epi64(5, 4, 7, 6, 1, 0, 3, 2), v);
    return _mm512_permutexvar_epi64(_mm512_set_epi64(3, 2, 1, 0, 7, 6, 5, 4), v);
}

/* One step of the bitonic network inside a vector: lanes i and i ^ j compare,
 * lanes whose bit of take_max is set keep the larger key. */
AVX512_INLINE __m512i exchange(__m512i v, int j, __mmask8 take_max) {
    __m512i w = partner(v, j);
    return _mm512_mask_blend_epi64(take_max, _mm512_min_epu64(v, w), _mm512_max_epu64(v, w));
}

/* Lanes that keep the larger key at each step (k, j) of a bitonic sort of 8
 * lanes: bit i is set when ((i & j) != 0) != ((i & k) != 0), i.e. the upper
 * lane of each pair in blocks sorted ascending ((i & k) == 0) and the lower
 * one in blocks sorted descending. k = 8 is the final, all-ascending merge. */
#define MAX_LANES_K2_J1 0x66
#define MAX_LANES_K4_J2 0x3C
#define MAX_LANES_K4_J1 0x5A
#define MAX_LANES_K8_J4 0xF0
#define MAX_LANES_K8_J2 0xCC
#define MAX_LANES_K8_J1 0xAA

/* A bitonic vector (or one whose halves are each sorted and all keys of the
 * lower half are at most those of the upper) to ascending order. */
AVX512_INLINE __m512i clean_lanes(__m512i v) {
    v = exchange(v, 4, MAX_LANES_K8_J4);
    v = exchange(v, 2, MAX_LANES_K8_J2);
    return exchange(v, 1, MAX_LANES_K8_J1);
}

AVX512_INLINE __m512i sort_lanes(__m512i v) {
    v = exchange(v, 1, MAX_LANES_K2_J1);
    v = exchange(v, 2, MAX_LANES_K4_J2);
    v = exchange(v, 1, MAX_LANES_K4_J1);
    return clean_lanes(v);
}

AVX512_INLINE __m512i reverse_lanes(__m512i v) {
    return _mm512_permutexvar_epi64(_mm512_set_epi64(0, 1, 2, 3, 4, 5, 6, 7), v);
}

AVX512_INLINE void min_max(__m512i *lo, __m512i *hi) {
    __m512i a = *lo;
    *lo = _mm512_min_epu64(a, *hi);
    *hi = _mm512_max_epu64(a, *hi);
}

/* a and b replaced by b and a, each with its lanes reversed: reversing the
 * second of two sorted runs makes the pair bitonic. */
AVX512_INLINE void reverse_pair(__m512i *a, __m512i *b) {
    __m512i t = reverse_lanes(*b);
    *b = reverse_lanes(*a);
    *a = t;
}

/* v[0..4), a bitonic run whose halves are ordered, to ascending order: the
 * half-cleaners across vectors at distances 2 and 1, then within each. */
AVX512_INLINE void clean_4(__m512i *v) {
    min_max(&v[0], &v[2]);
    min_max(&v[1], &v[3]);
    min_max(&v[0], &v[1]);
    min_max(&v[2], &v[3]);
    for (int i = 0; i < 4; i++)
        v[i] = clean_lanes(v[i]);
}

/* The sorted vectors a and b to one sorted run of 16: b reversed makes the
 * pair bitonic, one exchange across and three inside each vector sort it. */
AVX512_INLINE void merge_1_1(__m512i *a, __m512i *b) {
    *b = reverse_lanes(*b);
    min_max(a, b);
    *a = clean_lanes(*a);
    *b = clean_lanes(*b);
}

/* The sorted runs v[0..2) and v[2..4) to one sorted run. */
AVX512_INLINE void merge_2_2(__m512i *v) {
    reverse_pair(&v[2], &v[3]);
    clean_4(v);
}

/* The sorted runs v[0..4) and v[4..8) to one sorted run: the half-cleaner at
 * distance 4 leaves two bitonic runs of 4 vectors, lower below upper. */
AVX512_INLINE void merge_4_4(__m512i *v) {
    reverse_pair(&v[4], &v[7]);
    reverse_pair(&v[5], &v[6]);
    for (int i = 0; i < 4; i++)
        min_max(&v[i], &v[i + 4]);
    clean_4(v);
    clean_4(v + 4);
}

/* Lanes of vector i that hold keys when n keys fill vectors from 0 on. */
static inline __mmask8 lanes_used(size_t n, int i) {
    size_t have = n > 8 * (size_t)i ? n - 8 * (size_t)i : 0;
    return have >= 8 ? 0xFF : (__mmask8)((1u << have) - 1);
}

/*
 * Sorts the n <= 8 * nv keys at a (nv = 1, 2, 4 or 8, a constant after
 * inlining, so that the vectors stay in registers). Lanes past n are padded
 * with the largest key, which sorts last and is never stored.
 */
AVX512_INLINE void network(uint64_t *a, size_t n, int nv) {
    __m512i v[8];
    const __m512i pad = _mm512_set1_epi64(-1);
    for (int i = 0; i < nv; i++)
        v[i] = sort_lanes(_mm512_mask_loadu_epi64(pad, lanes_used(n, i), a + 8 * i));
    for (int i = 0; i + 1 < nv; i += 2)
        merge_1_1(&v[i], &v[i + 1]);
    for (int i = 0; i + 3 < nv; i += 4)
        merge_2_2(v + i);
    if (nv == 8) merge_4_4(v);
    for (int i = 0; i < nv; i++)
        _mm512_mask_storeu_epi64(a + 8 * i, lanes_used(n, i), v[i]);
}

AVX512 static void small_sort(uint64_t *a, size_t n) {
    if (n < 2) return;
    if (n <= 8)
        network(a, n, 1);
    else if (n <= 16)
        network(a, n, 2);
    else if (n <= 32)
        network(a, n, 4);
    else
        network(a, n, 8);
}

/* Writes the lanes of v in `left` at the left cursor and those in `right`
 * (disjoint) just below the right cursor, exactly (masked stores). */
AVX512_INLINE void put(uint64_t *a, size_t *wl, size_t *wr, __m512i v, __mmask8 left,
                       __mmask8 right) {
    unsigned nl = (unsigned)__builtin_popcount(left), nr = (unsigned)__builtin_popcount(right);
    /* nl, nr <= 8: the masks by a shift (lanes_used's compares cost 15 % here) */
    _mm512_mask_storeu_epi64(a + *wl, (__mmask8)((1u << nl) - 1),
                             _mm512_maskz_compress_epi64(left, v));
    *wl += nl;
    *wr -= nr;
    _mm512_mask_storeu_epi64(a + *wr, (__mmask8)((1u << nr) - 1),
                             _mm512_maskz_compress_epi64(right, v));
}

/* Keys that go left: at most the pivot (strict = 0) or below it (strict = 1;
 * a constant after inlining). */
AVX512_INLINE __mmask8 goes_left(__m512i v, __m512i pivot, int strict) {
    return strict ? _mm512_cmp_epu64_mask(v, pivot, _MM_CMPINT_LT)
                  : _mm512_cmp_epu64_mask(v, pivot, _MM_CMPINT_LE);
}

#define HOLD 4 /* vectors held in registers at each end during a partition */

/* Partitions v (8 keys) into the write cursors. */
AVX512_INLINE void place(uint64_t *a, size_t *wl, size_t *wr, __m512i v, __m512i pivot,
                         int strict) {
    __mmask8 l = goes_left(v, pivot, strict);
    put(a, wl, wr, v, l, (__mmask8)~l);
}

/*
 * Partitions a[0..n), n >= 16 * HOLD, in place; returns how many keys went
 * left. Holding HOLD vectors from each end frees 8 * HOLD slots on each side;
 * the reads then stay on one side while the other side has room for a whole
 * vector, so the side changes every dozen vectors or so (a branch that is
 * predicted) instead of after nearly every vector.
 */
AVX512_INLINE size_t partition(uint64_t *a, size_t n, uint64_t pivot_key, int strict) {
    const __m512i pivot = _mm512_set1_epi64((long long)pivot_key);
    __m512i held[2 * HOLD];
    for (int i = 0; i < HOLD; i++) {
        held[i] = _mm512_loadu_si512(a + 8 * i);
        held[HOLD + i] = _mm512_loadu_si512(a + n - 8 * (i + 1));
    }
    size_t rl = 8 * HOLD, rr = n - 8 * HOLD, wl = 0, wr = n; /* read and write cursors */
    for (;;) {
        while (rr - rl >= 8 && wr - rr >= 8) { /* read on the left */
            __m512i v = _mm512_loadu_si512(a + rl);
            rl += 8;
            place(a, &wl, &wr, v, pivot, strict);
        }
        if (rr - rl < 8) break;
        while (rr - rl >= 8 && rl - wl >= 8) { /* the right side is full: read there */
            rr -= 8;
            __m512i v = _mm512_loadu_si512(a + rr);
            place(a, &wl, &wr, v, pivot, strict);
        }
        if (rr - rl < 8) break;
    }
    if (rr > rl) { /* fewer than 8 keys left unread */
        __mmask8 m = lanes_used(rr - rl, 0);
        __m512i v = _mm512_maskz_loadu_epi64(m, a + rl);
        __mmask8 l = goes_left(v, pivot, strict) & m;
        put(a, &wl, &wr, v, l, (__mmask8)(~l & m));
    }
    for (int i = 0; i < 2 * HOLD; i++)
        place(a, &wl, &wr, held[i], pivot, strict);
    return wl;
}

AVX512 static size_t partition_at_most(uint64_t *a, size_t n, uint64_t pivot) {
    return partition(a, n, pivot, 0);
}

AVX512 static size_t partition_below(uint64_t *a, size_t n, uint64_t pivot) {
    return partition(a, n, pivot, 1);
}

/* The median of 9 keys spread evenly over a[0..n), of 3 below 1024 keys
 * (there the sorting of 9 samples cost more than the better split saved:
 * 12 % of a million-key sort). */
static uint64_t pivot_of(const uint64_t *a, size_t n) {
    if (n < 1024) {
        uint64_t x = a[n / 4], y = a[n / 2], z = a[3 * n / 4];
        uint64_t lo = x < y ? x : y, hi = x < y ? y : x;
        return z < lo ? lo : z > hi ? hi : z;
    }
    uint64_t s[9];
    for (size_t i = 0; i < 9; i++) {
        uint64_t x = a[(2 * i + 1) * n / 18];
        size_t j = i;
        for (; j > 0 && s[j - 1] > x; j--)
            s[j] = s[j - 1];
        s[j] = x;
    }
    return s[4];
}

_Static_assert(NETWORK_MAX + 1 >= 16 * HOLD, "partition() needs 2 * HOLD vectors of keys");

AVX512 static void quicksort(uint64_t *a, size_t n, int depth) {
    while (n > NETWORK_MAX) {
        if (depth-- == 0) {
            mw_sort_u64_radix_inplace(a, n);
            return;
        }
        uint64_t pivot = pivot_of(a, n);
        size_t k = partition_at_most(a, n, pivot);
        if (k == n) { /* nothing above the pivot: set the keys equal to it aside */
            n = partition_below(a, n, pivot);
            continue;
        }
        if (k < n - k) {
            quicksort(a, k, depth);
            a += k;
            n -= k;
        } else {
            quicksort(a + k, n - k, depth);
            n = k;
        }
    }
    small_sort(a, n);
}

AVX512 static void sort_keys_avx512(uint64_t *keys, size_t n) {
    int depth = 2 * (64 - __builtin_clzll((unsigned long long)n | 1));
    quicksort(keys, n, depth);
}

void mw_sort_keys_vector_budget(uint64_t *keys, size_t n, int depth) {
    quicksort(keys, n, depth);
}

/* Lanes of the keys of doubles u (bits): see sort_key.h. */
AVX512_INLINE __m512i keys_of(__m512i u) {
    const __m512i sign = _mm512_set1_epi64((long long)0x8000000000000000ULL);
    return _mm512_xor_si512(u, _mm512_or_si512(_mm512_srai_epi64(u, 63), sign));
}

AVX512 static size_t to_keys_avx512(double *v, size_t n, uint64_t *nan_count, uint64_t *inf_count) {
    const __m512i exp = _mm512_set1_epi64(0x7FF0000000000000LL);
    const __m512i frac = _mm512_set1_epi64(0x000FFFFFFFFFFFFFLL);
    uint64_t *out = (uint64_t *)(void *)v;
    size_t k = 0, nans = 0, infs = 0;
    for (size_t i = 0; i < n; i += 8) {
        __mmask8 valid = lanes_used(n - i, 0);
        __m512i u = _mm512_maskz_loadu_epi64(valid, v + i);
        __mmask8 special = _mm512_mask_cmpeq_epi64_mask(valid, _mm512_and_si512(u, exp), exp);
        __mmask8 nan = _mm512_mask_test_epi64_mask(special, u, frac);
        __mmask8 finite = valid & (__mmask8)~special;
        unsigned nf = (unsigned)__builtin_popcount(finite);
        nans += (unsigned)__builtin_popcount(nan);
        infs += (unsigned)__builtin_popcount(special) - (unsigned)__builtin_popcount(nan);
        /* in place: k <= i, so the store never passes the lanes still unread */
        _mm512_mask_storeu_epi64(out + k, lanes_used(nf, 0),
                                 _mm512_maskz_compress_epi64(finite, keys_of(u)));
        k += nf;
    }
    *nan_count += nans;
    *inf_count += infs;
    return k;
}

AVX512 static void to_doubles_avx512(double *v, size_t n) {
    const __m512i sign = _mm512_set1_epi64((long long)0x8000000000000000ULL);
    for (size_t i = 0; i < n; i += 8) {
        __mmask8 valid = lanes_used(n - i, 0);
        __m512i k = _mm512_maskz_loadu_epi64(valid, v + i);
        /* keys with the sign bit set were non-negative: clear it; others: flip all */
        __m512i flip = _mm512_or_si512(
            _mm512_andnot_si512(_mm512_srai_epi64(k, 63), _mm512_set1_epi64(-1)), sign);
        _mm512_mask_storeu_epi64(v + i, valid, _mm512_xor_si512(k, flip));
    }
}

mw_sort_keys_fn mw_sort_keys_vector(void) {
    return __builtin_cpu_supports("avx512f") ? sort_keys_avx512 : NULL;
}

mw_sort_to_keys_fn mw_sort_to_keys_vector(void) {
    return __builtin_cpu_supports("avx512f") ? to_keys_avx512 : NULL;
}

mw_sort_to_doubles_fn mw_sort_to_doubles_vector(void) {
    return __builtin_cpu_supports("avx512f") ? to_doubles_avx512 : NULL;
}
#else
mw_sort_keys_fn mw_sort_keys_vector(void) {
    return NULL;
}

mw_sort_to_keys_fn mw_sort_to_keys_vector(void) {
    return NULL;
}

mw_sort_to_doubles_fn mw_sort_to_doubles_vector(void) {
    return NULL;
}

void mw_sort_keys_vector_budget(uint64_t *keys, size_t n, int depth) {
    (void)depth;
    mw_sort_u64_radix_inplace(keys, n);
}
#endif
