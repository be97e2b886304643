/*
 * 64-bit hashing of byte strings for the string dictionary and for row hashes
 * (duplicate-row detection).
 *
 * Construction: the input is consumed 16 bytes at a time as two 64-bit words;
 * each step folds a 64x64->128-bit product of the words (xored with distinct odd
 * constants and the running state) back to 64 bits (low half xor high half). The
 * multiply spreads every input bit over the whole product, and the fold keeps
 * both halves, so one step mixes well; inputs of 32+ bytes run two independent
 * lanes so the multiplies overlap. The tail is zero-padded and the length enters
 * the final fold, so strings differing only in trailing zero bytes differ.
 *
 * Not cryptographic; collisions between different rows are possible with
 * probability about n^2 / 2^65. Deterministic across runs and platforms of the
 * same endianness (reads are little-endian loads via memcpy).
 */
#include "data/data_int.h"

#define K0 0xa0761d6478bd642fULL
#define K1 0xe7037ed1a0b428dbULL
#define K2 0x8ebc6af09c88c6e3ULL
#define K3 0x589965cc75374cc3ULL

static inline uint64_t fold(uint64_t a, uint64_t b) {
    __uint128_t r = (__uint128_t)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

static inline uint64_t load64(const unsigned char *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* The n (0..8) bytes at p as a little-endian word, zero-padded: what
 * memcpy(&v, p, n) into a zeroed v gives, without the call (a variable
 * length memcpy was ~25 of the ~70 instructions of a short key's hash).
 * Overlapping loads: the bytes both cover are the same bytes. */
static inline uint64_t load_tail(const unsigned char *p, size_t n) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n >= 4) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + n - 4, 4);
        return (uint64_t)lo | (uint64_t)hi << (8 * (n - 4));
    }
    if (n == 0) return 0;
    return (uint64_t)p[0] | (uint64_t)p[n / 2] << (8 * (n / 2)) |
           (uint64_t)p[n - 1] << (8 * (n - 1));
#else
    uint64_t v = 0;
    if (n) memcpy(&v, p, n);
    return v;
#endif
}

uint64_t mw_data_mix64(uint64_t a, uint64_t b) {
    return fold(a ^ K0, b ^ K1);
}

uint64_t mw_data_hash64(const void *data, size_t len, uint64_t seed) {
    const unsigned char *p = data;
    size_t n = len;
    uint64_t h0 = seed ^ K0, h1 = seed ^ K3;
    while (n >= 32) {
        h0 = fold(load64(p) ^ K1 ^ h0, load64(p + 8) ^ K2);
        h1 = fold(load64(p + 16) ^ K3 ^ h1, load64(p + 24) ^ K0);
        p += 32;
        n -= 32;
    }
    h0 ^= h1 * K1;
    if (n >= 16) {
        h0 = fold(load64(p) ^ K1 ^ h0, load64(p + 8) ^ K2);
        p += 16;
        n -= 16;
    }
    uint64_t a = 0, b = 0;
    if (n > 8) {
        a = load64(p);
        b = load_tail(p + 8, n - 8);
    } else {
        a = load_tail(p, n);
    }
    h0 = fold(a ^ K1 ^ h0, b ^ K2);
    return fold(h0 ^ K3, (uint64_t)len ^ K0);
}
