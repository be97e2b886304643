/*
 * Mergeable sketches used by profiles (library-internal):
 *  - mw_distinct: distinct count, exact up to MW_DISTINCT_EXACT values (a small
 *    open-addressing set of 64-bit hashes), HyperLogLog beyond (Flajolet et al.
 *    2007, 2^12 registers, standard error 1.04/sqrt(4096) = 1.6%, with linear
 *    counting for small cardinalities as Heule et al. 2013 recommend).
 *  - mw_reservoir: bounded uniform sample of doubles (Vitter 1985, algorithm R);
 *    merging two reservoirs draws from each side in proportion to the number of
 *    values it stands for.
 */
#ifndef MW_STATS_SKETCH_H
#define MW_STATS_SKETCH_H

#include "core/util.h"

#define MW_DISTINCT_EXACT 1024
#define MW_HLL_BITS 12
#define MW_HLL_REGISTERS (1u << MW_HLL_BITS)

typedef struct mw_distinct {
    uint64_t *set; /* 2*MW_DISTINCT_EXACT slots, 0 = empty (hash 0 is remapped) */
    uint32_t set_count;
    int overflowed;     /* exact set abandoned; only the registers count */
    uint8_t *registers; /* MW_HLL_REGISTERS, allocated on first add */
} mw_distinct;

mw_status mw_distinct_add(mw_distinct *d, uint64_t hash);
mw_status mw_distinct_merge(mw_distinct *into, const mw_distinct *other);
/* Count; *exact set to 1 when it is exact. */
uint64_t mw_distinct_count(const mw_distinct *d, int *exact);
void mw_distinct_free(mw_distinct *d);
void mw_distinct_write(const mw_distinct *d, mw_buf *b);
mw_status mw_distinct_read(mw_distinct *d, mw_reader *r);

typedef struct mw_reservoir {
    double *values;
    size_t len, cap; /* cap = capacity */
    size_t alloc;    /* slots allocated in values */
    uint64_t seen;   /* values offered */
} mw_reservoir;

mw_status mw_reservoir_init(mw_reservoir *s, size_t capacity);
/* mw_reservoir_add's growth and replacement (sketch.c). */
mw_status mw_reservoir_add_slow(mw_reservoir *s, double v, mw_rng *rng);
/* 1 when s holds its capacity of values (offers go to mw_reservoir_slot). */
static inline int mw_reservoir_full(const mw_reservoir *s) {
    return s->len == s->cap && s->cap;
}
/* Algorithm R's step once full: counts one more value offered and returns
 * the slot the value replaces (probability cap/seen), NULL when it is not
 * kept. The caller writes the value there (the daemon's windows write it a
 * little later, window.c). */
static inline double *mw_reservoir_slot(mw_reservoir *s, mw_rng *rng) {
    uint64_t j = mw_rng_below(rng, ++s->seen);
    return j < s->cap ? &s->values[j] : NULL;
}
/* Offers v: appended while the sample is below its capacity, else algorithm
 * R (inline, both: the daemon's windows call it for every numeric value). */
static inline mw_status mw_reservoir_add(mw_reservoir *s, double v, mw_rng *rng) {
    if (s->len < s->alloc) { /* room already allocated, below the capacity */
        s->seen++;
        s->values[s->len++] = v;
        return MW_OK;
    }
    if (mw_reservoir_full(s)) {
        double *slot = mw_reservoir_slot(s, rng);
        if (slot) *slot = v;
        return MW_OK;
    }
    return mw_reservoir_add_slow(s, v, rng);
}
/* Empties s for a new stream, keeping its memory. */
void mw_reservoir_clear(mw_reservoir *s);
mw_status mw_reservoir_merge(mw_reservoir *into, const mw_reservoir *other, mw_rng *rng);
void mw_reservoir_free(mw_reservoir *s);
void mw_reservoir_write(const mw_reservoir *s, mw_buf *b);
mw_status mw_reservoir_read(mw_reservoir *s, mw_reader *r);

#endif
