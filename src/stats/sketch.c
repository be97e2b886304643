/*
 * Distinct-count and reservoir sketches (see sketch.h for the references).
 * Invariants: a reservoir holds min(seen, cap) values; a distinct sketch's
 * registers always reflect every hash added, so an overflowed exact set never
 * loses information already counted.
 */
#include "stats/sketch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SET_SLOTS (2 * MW_DISTINCT_EXACT)

static mw_status ensure_registers(mw_distinct *d) {
    if (d->registers) return MW_OK;
    d->registers = calloc(MW_HLL_REGISTERS, 1);
    return d->registers ? MW_OK : MW_ENOMEM;
}

static void hll_add(uint8_t *reg, uint64_t h) {
    uint32_t idx = (uint32_t)(h >> (64 - MW_HLL_BITS));
    uint64_t rest = (h << MW_HLL_BITS) | (1ULL << (MW_HLL_BITS - 1)); /* guard bit */
    uint8_t rank = (uint8_t)(__builtin_clzll(rest) + 1);
    if (rank > reg[idx]) reg[idx] = rank;
}

/* Returns 1 when newly inserted, 0 when present, -1 when the set is full. */
static int set_insert(mw_distinct *d, uint64_t h) {
    if (h == 0) h = 1;
    size_t i = (size_t)(h & (SET_SLOTS - 1));
    for (;;) {
        if (d->set[i] == h) return 0;
        if (d->set[i] == 0) {
            if (d->set_count >= MW_DISTINCT_EXACT) return -1;
            d->set[i] = h;
            d->set_count++;
            return 1;
        }
        i = (i + 1) & (SET_SLOTS - 1);
    }
}

mw_status mw_distinct_add(mw_distinct *d, uint64_t hash) {
    hash = mw_mix64(hash);
    if (ensure_registers(d)) return MW_ENOMEM;
    hll_add(d->registers, hash);
    if (d->overflowed) return MW_OK;
    if (!d->set) {
        d->set = calloc(SET_SLOTS, sizeof *d->set);
        if (!d->set) return MW_ENOMEM;
    }
    if (set_insert(d, hash) < 0) {
        d->overflowed = 1;
        free(d->set);
        d->set = NULL;
        d->set_count = 0;
    }
    return MW_OK;
}

mw_status mw_distinct_merge(mw_distinct *into, const mw_distinct *other) {
    if (!other->registers) return MW_OK;
    if (ensure_registers(into)) return MW_ENOMEM;
    for (uint32_t i = 0; i < MW_HLL_REGISTERS; i++)
        if (other->registers[i] > into->registers[i]) into->registers[i] = other->registers[i];
    if (into->overflowed) return MW_OK;
    if (other->overflowed) goto overflow;
    if (!into->set) {
        into->set = calloc(SET_SLOTS, sizeof *into->set);
        if (!into->set) return MW_ENOMEM;
    }
    for (size_t i = 0; other->set && i < SET_SLOTS; i++)
        if (other->set[i] && set_insert(into, other->set[i]) < 0) goto overflow;
    return MW_OK;
overflow:
    into->overflowed = 1;
    free(into->set);
    into->set = NULL;
    into->set_count = 0;
    return MW_OK;
}

uint64_t mw_distinct_count(const mw_distinct *d, int *exact) {
    if (!d->overflowed) {
        if (exact) *exact = 1;
        return d->set_count;
    }
    if (exact) *exact = 0;
    const double m = MW_HLL_REGISTERS;
    double sum = 0;
    unsigned zeros = 0;
    for (uint32_t i = 0; i < MW_HLL_REGISTERS; i++) {
        sum += ldexp(1.0, -d->registers[i]);
        zeros += d->registers[i] == 0;
    }
    double alpha = 0.7213 / (1 + 1.079 / m);
    double est = alpha * m * m / sum;
    if (est <= 2.5 * m && zeros) est = m * log(m / zeros); /* linear counting */
    return (uint64_t)llround(est);
}

void mw_distinct_free(mw_distinct *d) {
    free(d->set);
    free(d->registers);
    memset(d, 0, sizeof *d);
}

void mw_distinct_write(const mw_distinct *d, mw_buf *b) {
    mw_buf_u8(b, (uint8_t)d->overflowed);
    mw_buf_u32(b, d->set_count);
    for (size_t i = 0; d->set && i < SET_SLOTS; i++)
        if (d->set[i]) mw_buf_u64(b, d->set[i]);
    mw_buf_u8(b, d->registers != NULL);
    if (d->registers) mw_buf_put(b, d->registers, MW_HLL_REGISTERS);
}

mw_status mw_distinct_read(mw_distinct *d, mw_reader *r) {
    memset(d, 0, sizeof *d);
    d->overflowed = mw_rd_u8(r) != 0;
    uint32_t n = mw_rd_u32(r);
    if (r->failed || n > MW_DISTINCT_EXACT || (d->overflowed && n)) return MW_ECORRUPT;
    if (!d->overflowed) {
        d->set = calloc(SET_SLOTS, sizeof *d->set);
        if (!d->set) return MW_ENOMEM;
        for (uint32_t i = 0; i < n; i++) {
            uint64_t h = mw_rd_u64(r);
            if (r->failed || h == 0 || set_insert(d, h) != 1) return MW_ECORRUPT;
        }
    }
    if (mw_rd_u8(r)) {
        if (ensure_registers(d)) return MW_ENOMEM;
        for (uint32_t i = 0; i < MW_HLL_REGISTERS; i++) {
            d->registers[i] = mw_rd_u8(r);
            if (d->registers[i] > 64 - MW_HLL_BITS + 1) return MW_ECORRUPT;
        }
    }
    return r->failed ? MW_ECORRUPT : MW_OK;
}

mw_status mw_reservoir_init(mw_reservoir *s, size_t capacity) {
    memset(s, 0, sizeof *s);
    s->cap = capacity ? capacity : 1;
    return MW_OK;
}

mw_status mw_reservoir_add_slow(mw_reservoir *s, double v, mw_rng *rng) {
    if (s->len < s->cap) {
        s->seen++;
        if (s->len == s->alloc) { /* grow geometrically up to the capacity */
            size_t newcap = s->alloc ? s->alloc * 2 : 16;
            if (newcap > s->cap) newcap = s->cap;
            double *nv = realloc(s->values, newcap * sizeof *nv);
            if (!nv) return MW_ENOMEM;
            s->values = nv;
            s->alloc = newcap;
        }
        s->values[s->len++] = v;
        return MW_OK;
    }
    double *slot = mw_reservoir_slot(s, rng); /* (a capacity of 0: never a slot) */
    if (slot) *slot = v;
    return MW_OK;
}

void mw_reservoir_clear(mw_reservoir *s) {
    s->len = 0;
    s->seen = 0;
}

mw_status mw_reservoir_merge(mw_reservoir *into, const mw_reservoir *other, mw_rng *rng) {
    if (other->seen == 0) return MW_OK;
    size_t total = into->len + other->len;
    if (into->seen + other->seen <= into->cap && total <= into->cap) {
        double *nv = realloc(into->values, (total ? total : 1) * sizeof *nv);
        if (!nv) return MW_ENOMEM;
        memcpy(nv + into->len, other->values, other->len * sizeof *nv);
        into->values = nv;
        into->len = into->alloc = total;
        into->seen += other->seen;
        return MW_OK;
    }
    /* Draw cap values without replacement, each from side A with probability
     * proportional to the number of values A's remaining sample stands for. */
    size_t na = into->len, nb = other->len;
    double *a = into->values;
    double *b = malloc((nb ? nb : 1) * sizeof *b);
    size_t out_cap = into->cap < total ? into->cap : total;
    double *out = malloc((out_cap ? out_cap : 1) * sizeof *out);
    if (!b || !out) {
        free(b);
        free(out);
        return MW_ENOMEM;
    }
    memcpy(b, other->values, nb * sizeof *b);
    double wa = na ? (double)into->seen / (double)na : 0;
    double wb = nb ? (double)other->seen / (double)nb : 0;
    size_t k = 0;
    while (k < out_cap && (na || nb)) {
        double pa = (na * wa) / (na * wa + nb * wb);
        if (na && (!nb || mw_rng_unit(rng) < pa)) {
            size_t j = (size_t)mw_rng_below(rng, na);
            out[k++] = a[j];
            a[j] = a[--na];
        } else {
            size_t j = (size_t)mw_rng_below(rng, nb);
            out[k++] = b[j];
            b[j] = b[--nb];
        }
    }
    free(b);
    free(into->values);
    into->values = out;
    into->len = k;
    into->alloc = out_cap ? out_cap : 1;
    into->seen += other->seen;
    return MW_OK;
}

void mw_reservoir_free(mw_reservoir *s) {
    free(s->values);
    memset(s, 0, sizeof *s);
}

void mw_reservoir_write(const mw_reservoir *s, mw_buf *b) {
    mw_buf_u64(b, s->cap);
    mw_buf_u64(b, s->seen);
    mw_buf_u64(b, s->len);
    for (size_t i = 0; i < s->len; i++)
        mw_buf_f64(b, s->values[i]);
}

mw_status mw_reservoir_read(mw_reservoir *s, mw_reader *r) {
    memset(s, 0, sizeof *s);
    uint64_t cap = mw_rd_u64(r), seen = mw_rd_u64(r), len = mw_rd_u64(r);
    if (r->failed || cap == 0 || len > cap || len > seen || len > (uint64_t)(r->end - r->p) / 8)
        return MW_ECORRUPT;
    s->cap = (size_t)cap;
    s->seen = seen;
    s->len = (size_t)len;
    s->alloc = len ? (size_t)len : 1;
    s->values = malloc((len ? len : 1) * sizeof *s->values);
    if (!s->values) return MW_ENOMEM;
    for (size_t i = 0; i < len; i++)
        s->values[i] = mw_rd_f64(r);
    return r->failed ? MW_ECORRUPT : MW_OK;
}
