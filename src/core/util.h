/*
 * Library-internal core utilities shared by every area: a 64-bit hash, a
 * seeded random generator (no hidden global state: the seed comes from the
 * caller's handle), and a growable byte buffer with a bounds-checked reader for
 * the binary serialisation of profiles.
 */
#ifndef MW_CORE_UTIL_H
#define MW_CORE_UTIL_H

#include "modelwatch/core.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- hashing ---- */
uint64_t mw_hash64(const void *data, size_t len, uint64_t seed);
static inline uint64_t mw_mix64(uint64_t x) { /* splitmix64 finaliser */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

/* ---- random numbers (xoshiro256** seeded through splitmix64) ---- */
typedef struct mw_rng {
    uint64_t s[4];
} mw_rng;
void mw_rng_seed(mw_rng *r, uint64_t seed);
/* (inline: the daemon's window samples draw one number per value once full) */
static inline uint64_t mw_rng_rotl(uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}
static inline uint64_t mw_rng_next(mw_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = mw_rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = mw_rng_rotl(s[3], 45);
    return result;
}
/* Uniform integer in [0, bound), bound > 0, without modulo bias: Lemire, "Fast
 * random integer generation in an interval" (2019), the high half of
 * x * bound, rejecting the few x that would bias it. */
static inline uint64_t mw_rng_below(mw_rng *r, uint64_t bound) {
    unsigned __int128 m = (unsigned __int128)mw_rng_next(r) * bound;
    uint64_t low = (uint64_t)m;
    if (low < bound) {
        uint64_t threshold = -bound % bound;
        while (low < threshold) {
            m = (unsigned __int128)mw_rng_next(r) * bound;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}
/* uniform double in [0, 1) */
double mw_rng_unit(mw_rng *r);

/* Stores the low `bytes` (1-8) bytes of v at o, little-endian: one store on
 * little-endian machines once inlined with a constant size (the byte loop was
 * ~60 instructions per value at -O2). */
static inline void mw_put_le(unsigned char *o, uint64_t v, size_t bytes) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(o, &v, bytes);
#else
    for (size_t i = 0; i < bytes; i++)
        o[i] = (unsigned char)(v >> (8 * i));
#endif
}

static inline void mw_put_le64(unsigned char *o, uint64_t v) {
    mw_put_le(o, v, 8);
}

static inline void mw_put_le32(unsigned char *o, uint32_t v) {
    mw_put_le(o, v, 4);
}

/* mw_bytes_equal for w <= n <= 2w: the first and the last w bytes. */
static inline int mw_bytes_ends_equal(const unsigned char *x, const unsigned char *y, size_t n,
                                      size_t w) {
    uint64_t u = 0, v = 0, s = 0, t = 0;
    memcpy(&u, x, w);
    memcpy(&v, y, w);
    memcpy(&s, x + n - w, w);
    memcpy(&t, y + n - w, w);
    return ((u ^ v) | (s ^ t)) == 0;
}

/* mw_copy_small for w <= n <= 2w: the first and the last w bytes. */
static inline void mw_copy_ends(unsigned char *d, const unsigned char *x, size_t n, size_t w) {
    uint64_t a = 0, b = 0;
    memcpy(&a, x, w);
    memcpy(&b, x + n - w, w);
    memcpy(d, &a, w);
    memcpy(d + n - w, &b, w);
}

/* memcpy(o, s, n) for the short strings of the hot paths (names, ids,
 * categories): up to 16 bytes by two overlapping loads and stores, inline,
 * touching nothing outside the n bytes; longer ones by memcpy. A call to
 * memcpy per short string was ~2 % of the daemon's ingestion CPU. */
__attribute__((always_inline)) static inline void mw_copy_small(void *o, const void *s, size_t n) {
    unsigned char *d = o;
    const unsigned char *x = s;
    if (n > 16) {
        memcpy(d, x, n);
    } else if (n >= 8) {
        mw_copy_ends(d, x, n, 8);
    } else if (n >= 4) {
        mw_copy_ends(d, x, n, 4);
    } else if (n) { /* 1-3 bytes: the first, the middle and the last */
        unsigned char a = x[0], b = x[n / 2], c = x[n - 1];
        d[0] = a;
        d[n / 2] = b;
        d[n - 1] = c;
    }
}

/* a[0..n) == b[0..n) for the short names of the hot paths (feature names
 * compared with a column's or the previous record's): up to 16 bytes by two
 * overlapping loads, inline (always: out of line it was ~22 instructions a
 * call in the daemon's observe), reading nothing outside the n bytes; longer
 * ones by memcmp. */
__attribute__((always_inline)) static inline int mw_bytes_equal(const void *a, const void *b,
                                                                size_t n) {
    const unsigned char *x = a, *y = b;
    if (n > 16) return memcmp(x, y, n) == 0;
    if (n >= 8) return mw_bytes_ends_equal(x, y, n, 8);
    if (n >= 4) return mw_bytes_ends_equal(x, y, n, 4);
    if (n == 0) return 1;
    /* 1-3 bytes: the first, the middle and the last cover them all */
    return ((x[0] ^ y[0]) | (x[n / 2] ^ y[n / 2]) | (x[n - 1] ^ y[n - 1])) == 0;
}

/* ---- byte buffer (little-endian encoding) ---- */
typedef struct mw_buf {
    unsigned char *data;
    size_t len, cap;
    int failed; /* set on allocation failure; later appends are no-ops */
} mw_buf;
void mw_buf_put(mw_buf *b, const void *p, size_t n);
/* Makes the array *p of *cap items of size bytes hold need items at least:
 * its capacity doubled from 256 (or from *cap) until it does. MW_ENOMEM,
 * with *p and *cap unchanged, when that cannot be allocated. */
mw_status mw_grow(void **p, size_t *cap, size_t need, size_t size);
/* Room for n more bytes at b->data + b->len (the caller writes them and
 * adds to len). 0, with failed set, when out of memory or already failed. */
int mw_buf_reserve(mw_buf *b, size_t n);
void mw_buf_u8(mw_buf *b, uint8_t v);
void mw_buf_u32(mw_buf *b, uint32_t v);
void mw_buf_u64(mw_buf *b, uint64_t v);
void mw_buf_f64(mw_buf *b, double v);
void mw_buf_str(mw_buf *b, const char *s, size_t len); /* u32 length + bytes */

/* Reader over a borrowed byte range: every get checks bounds and sets failed
 * instead of reading past the end, so corrupt input cannot crash. */
typedef struct mw_reader {
    const unsigned char *p, *end;
    int failed;
} mw_reader;
uint8_t mw_rd_u8(mw_reader *r);
uint32_t mw_rd_u32(mw_reader *r);
uint64_t mw_rd_u64(mw_reader *r);
double mw_rd_f64(mw_reader *r);
/* View of a length-prefixed string (not NUL-terminated); NULL on failure. */
const char *mw_rd_str(mw_reader *r, size_t *len);

/* ---- large blocks (memory.c) ---- */
/* Offers the whole 2 MiB pages inside [p, p + bytes) to transparent huge
 * pages (blocks from 8 MiB on; a no-op elsewhere): they then fault in 2 MiB at
 * a time instead of 4 KiB. For blocks from malloc or realloc. */
void mw_advise_huge(void *p, size_t bytes);
/* malloc for a block that will be written whole: from 8 MiB on it is aligned
 * to 2 MiB (rounded up to whole 2 MiB pages) and offered to huge pages. Freed
 * with free(). */
void *mw_malloc_huge(size_t bytes);

#endif
