/*
 * Hash, RNG and byte buffer (see util.h). The hash reads 8-byte words and mixes
 * them with the splitmix64 finaliser: not cryptographic, fast, and stable across
 * runs and machines (serialised sketches depend on it, so it must never change
 * without a format version bump). The RNG is xoshiro256** (Blackman & Vigna,
 * "Scrambled linear pseudorandom number generators", 2021).
 */
#include "core/util.h"

#include <stdlib.h>
#include <string.h>

uint64_t mw_hash64(const void *data, size_t len, uint64_t seed) {
    const unsigned char *p = data;
    uint64_t h = mw_mix64(seed ^ (0x9e3779b97f4a7c15ULL * (len + 1)));
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = mw_mix64(h ^ w) * 0x9e3779b97f4a7c15ULL;
        p += 8;
        len -= 8;
    }
    uint64_t tail = 0;
    memcpy(&tail, p, len);
    return mw_mix64(h ^ tail ^ ((uint64_t)len << 56));
}

void mw_rng_seed(mw_rng *r, uint64_t seed) {
    for (int i = 0; i < 4; i++) {
        seed += 0x9e3779b97f4a7c15ULL;
        r->s[i] = mw_mix64(seed);
    }
}

double mw_rng_unit(mw_rng *r) {
    return (double)(mw_rng_next(r) >> 11) * 0x1.0p-53;
}

mw_status mw_grow(void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return MW_OK;
    size_t c = *cap ? *cap : 256;
    while (c < need && c <= SIZE_MAX / 2)
        c *= 2;
    if (c < need || (size && c > SIZE_MAX / size)) return MW_ENOMEM;
    void *q = realloc(*p, c * size);
    if (!q) return MW_ENOMEM;
    *p = q;
    *cap = c;
    return MW_OK;
}

int mw_buf_reserve(mw_buf *b, size_t n) {
    if (b->failed) return 0;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *d = realloc(b->data, cap);
        if (!d) {
            b->failed = 1;
            return 0;
        }
        b->data = d;
        b->cap = cap;
    }
    return 1;
}

void mw_buf_put(mw_buf *b, const void *p, size_t n) {
    if (!mw_buf_reserve(b, n)) return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void mw_buf_u8(mw_buf *b, uint8_t v) {
    mw_buf_put(b, &v, 1);
}

void mw_buf_u32(mw_buf *b, uint32_t v) {
    unsigned char x[4];
    mw_put_le32(x, v);
    mw_buf_put(b, x, 4);
}

void mw_buf_u64(mw_buf *b, uint64_t v) {
    unsigned char x[8];
    mw_put_le64(x, v);
    mw_buf_put(b, x, 8);
}

void mw_buf_f64(mw_buf *b, double v) {
    uint64_t u;
    memcpy(&u, &v, 8);
    mw_buf_u64(b, u);
}

void mw_buf_str(mw_buf *b, const char *s, size_t len) {
    mw_buf_u32(b, (uint32_t)len);
    mw_buf_put(b, s, len);
}

static const unsigned char *take(mw_reader *r, size_t n) {
    if (r->failed || (size_t)(r->end - r->p) < n) {
        r->failed = 1;
        return NULL;
    }
    const unsigned char *q = r->p;
    r->p += n;
    return q;
}

uint8_t mw_rd_u8(mw_reader *r) {
    const unsigned char *q = take(r, 1);
    return q ? q[0] : 0;
}

uint32_t mw_rd_u32(mw_reader *r) {
    const unsigned char *q = take(r, 4);
    uint32_t v = 0;
    if (q)
        for (int i = 0; i < 4; i++)
            v |= (uint32_t)q[i] << (8 * i);
    return v;
}

uint64_t mw_rd_u64(mw_reader *r) {
    const unsigned char *q = take(r, 8);
    uint64_t v = 0;
    if (q)
        for (int i = 0; i < 8; i++)
            v |= (uint64_t)q[i] << (8 * i);
    return v;
}

double mw_rd_f64(mw_reader *r) {
    uint64_t u = mw_rd_u64(r);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

const char *mw_rd_str(mw_reader *r, size_t *len) {
    uint32_t n = mw_rd_u32(r);
    const unsigned char *q = take(r, n);
    if (len) *len = q ? n : 0;
    return (const char *)q;
}
