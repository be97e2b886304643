/*
 * Text descriptors (text.h): one pass over the characters that counts them,
 * decodes UTF-8 (flagging invalid sequences), finds words and their script,
 * hashes word trigrams for the repetition score and looks for refusal phrases
 * at word starts; then the personal-data scans (pii.c) and, for text that
 * looks like JSON, the JSON check (json_check.c).
 *
 * Speed (bench/bench_text.sh, target 200 MB/s per core; 222-225 MB/s on a
 * free core, 38 instructions per byte, half of the byte-at-a-time pass): 16
 * bytes at a time with SSE2 masks when they are ASCII, or ASCII and whole
 * 2-byte characters of one script (word starts and ends from the masks, one
 * iteration per word boundary, not per byte); other characters one by one,
 * 2- and 3-byte UTF-8 decoded inline, scripts by 64-code-point block. A
 * word's hash is taken once at its end, 8 bytes at a time with ASCII letters
 * lower-cased in a register. Refusal phrases are compared only at word starts
 * whose first letter and a hash of the first four bytes match a phrase's.
 */
#include "text/text_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

const char *const mw_text_default_refusals[] = {
    "i'm sorry",        "i am sorry",     "i apologize",   "i cannot",
    "i can't",          "i can not",      "as an ai",      "i'm not able to",
    "i am not able to", "i am unable to", "i'm unable to", "i won't be able to"};
const size_t mw_text_default_nrefusals =
    sizeof mw_text_default_refusals / sizeof mw_text_default_refusals[0];

const char *mw_script_name(mw_script s) {
    static const char *const names[MW_SCRIPT_COUNT] = {"none",   "latin",  "greek",      "cyrillic",
                                                       "hebrew", "arabic", "devanagari", "thai",
                                                       "hangul", "cjk"};
    return s < MW_SCRIPT_COUNT ? names[s] : "none";
}

/* ---- characters ---- */

/* One character (text_int.h); an invalid sequence consumes one byte. */
size_t mw_text_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp) {
    unsigned c = p[0];
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (c >= 0xF5 || n == 0 || (size_t)(end - p) < n) return 0;
    uint32_t v = c & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) ||
        (n == 4 && (v < 0x10000 || v > 0x10FFFF)))
        return 0;
    *cp = v;
    return n;
}

static int is_space_cp(uint32_t cp) {
    return cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x3000;
}

static mw_script script_of(uint32_t cp) {
    if (cp < 0x0370)
        return cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7 ? MW_SCRIPT_LATIN
                                                                     : MW_SCRIPT_NONE;
    if (cp <= 0x03FF) return MW_SCRIPT_GREEK;
    if (cp <= 0x052F) return MW_SCRIPT_CYRILLIC;
    if (cp >= 0x0590 && cp <= 0x05FF) return MW_SCRIPT_HEBREW;
    if ((cp >= 0x0600 && cp <= 0x06FF) || (cp >= 0x0750 && cp <= 0x077F)) return MW_SCRIPT_ARABIC;
    if (cp >= 0x0900 && cp <= 0x097F) return MW_SCRIPT_DEVANAGARI;
    if (cp >= 0x0E00 && cp <= 0x0E7F) return MW_SCRIPT_THAI;
    if ((cp >= 0x1100 && cp <= 0x11FF) || (cp >= 0xAC00 && cp <= 0xD7AF)) return MW_SCRIPT_HANGUL;
    if (cp >= 0x1E00 && cp <= 0x1EFF) return MW_SCRIPT_LATIN;
    if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
        (cp >= 0x4E00 && cp <= 0x9FFF))
        return MW_SCRIPT_CJK;
    return MW_SCRIPT_NONE;
}

/* script_of by blocks of 64 code points below U+1F00 (where most letters of
 * the scripts we name lie), MIXED where a block holds more than one answer. */
#define MIXED 0xFF
static const unsigned char block_script[0x1F00 >> 6] = {
    [0x100 >> 6] = MW_SCRIPT_LATIN,
    [0x140 >> 6] = MW_SCRIPT_LATIN,
    [0x180 >> 6] = MW_SCRIPT_LATIN,
    [0x1C0 >> 6] = MW_SCRIPT_LATIN,
    [0x200 >> 6] = MW_SCRIPT_LATIN,
    [0x240 >> 6] = MIXED,
    [0x340 >> 6] = MIXED,
    [0x380 >> 6] = MW_SCRIPT_GREEK,
    [0x3C0 >> 6] = MW_SCRIPT_GREEK,
    [0x400 >> 6] = MW_SCRIPT_CYRILLIC,
    [0x440 >> 6] = MW_SCRIPT_CYRILLIC,
    [0x480 >> 6] = MW_SCRIPT_CYRILLIC,
    [0x4C0 >> 6] = MW_SCRIPT_CYRILLIC,
    [0x500 >> 6] = MIXED,
    [0x580 >> 6] = MIXED,
    [0x5C0 >> 6] = MW_SCRIPT_HEBREW,
    [0x600 >> 6] = MW_SCRIPT_ARABIC,
    [0x640 >> 6] = MW_SCRIPT_ARABIC,
    [0x680 >> 6] = MW_SCRIPT_ARABIC,
    [0x6C0 >> 6] = MW_SCRIPT_ARABIC,
    [0x740 >> 6] = MIXED,
    [0x900 >> 6] = MW_SCRIPT_DEVANAGARI,
    [0x940 >> 6] = MW_SCRIPT_DEVANAGARI,
    [0xE00 >> 6] = MW_SCRIPT_THAI,
    [0xE40 >> 6] = MW_SCRIPT_THAI,
    [0x1100 >> 6] = MW_SCRIPT_HANGUL,
    [0x1140 >> 6] = MW_SCRIPT_HANGUL,
    [0x1180 >> 6] = MW_SCRIPT_HANGUL,
    [0x11C0 >> 6] = MW_SCRIPT_HANGUL,
    [0x1E00 >> 6] = MW_SCRIPT_LATIN,
    [0x1E40 >> 6] = MW_SCRIPT_LATIN,
    [0x1E80 >> 6] = MW_SCRIPT_LATIN,
    [0x1EC0 >> 6] = MW_SCRIPT_LATIN,
};

static inline mw_script script_fast(uint32_t cp) {
    if (cp < 0x100) /* Latin-1: letters but for the signs x and / */
        return cp >= 0xC0 && cp != 0xD7 && cp != 0xF7 ? MW_SCRIPT_LATIN : MW_SCRIPT_NONE;
    if (cp < 0x1F00) {
        unsigned b = block_script[cp >> 6];
        return b != MIXED ? (mw_script)b : script_of(cp);
    }
    if ((cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3040 && cp <= 0x30FF)) return MW_SCRIPT_CJK;
    if (cp >= 0xAC00 && cp <= 0xD7AF) return MW_SCRIPT_HANGUL;
    return script_of(cp);
}

/* ---- word trigrams ---- */

/* The set of trigram hashes seen. Small texts use a thread-local table whose
 * slots carry the number of the call that filled them, so a new call starts
 * empty without clearing anything; larger ones grow into a heap table. */
#define SMALL_SLOTS 4096

typedef struct trigrams {
    uint64_t *slot; /* heap table (0 = empty), or NULL while in the small one */
    size_t mask, used;
    uint64_t total, repeated;
    int failed;
    uint64_t w[2]; /* the two previous words' hashes */
    uint64_t nwords;
    uint32_t gen; /* this call's number, for the small table */
} trigrams;

typedef struct small_slot {
    uint64_t key;
    uint32_t gen; /* the call that filled it; another value = empty */
} small_slot;
static _Thread_local small_slot small[SMALL_SLOTS];
static _Thread_local uint32_t generation;

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    return x ^ (x >> 33);
}

/* The 8 bytes of v with A-Z lower-cased (SWAR: a byte gets 0x20 when it is
 * ASCII and within 'A'..'Z'). */
static inline uint64_t lower8(uint64_t v) {
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t low7 = v & ~high;
    uint64_t ge_a = low7 + (0x80 - 'A') * ones, gt_z = low7 + (0x80 - 'Z' - 1) * ones;
    return v | (((ge_a ^ gt_z) & ~v & high) >> 2);
}

/* Hash of the word w[0..n) with ASCII letters lower-cased (so "Loop" and
 * "loop" are one word); reads 8 bytes at a time, never past end. */
__attribute__((always_inline)) static inline uint64_t word_hash(const unsigned char *w, size_t n,
                                                                const unsigned char *end) {
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, v;
    for (; n >= 8; w += 8, n -= 8) {
        memcpy(&v, w, 8);
        h = (h ^ lower8(v)) * 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    if (n) {
        v = 0;
        if (end - w >= 8) {
            memcpy(&v, w, 8);
            v &= ~0ULL >> (64 - 8 * n);
        } else {
            memcpy(&v, w, n);
        }
        h = (h ^ lower8(v)) * 0xc4ceb9fe1a85ec53ULL;
    }
    return h;
}

/* len bounds the words (len / 2 + 1) and so the trigrams: a short text uses
 * only the start of the small table, which stays in the L1 cache. */
static void tri_init(trigrams *t, size_t len) {
    memset(t, 0, sizeof *t);
    size_t slots = 64;
    while (slots < SMALL_SLOTS && slots < len + 2)
        slots *= 2;
    t->mask = slots - 1;
    if (++generation == 0) { /* wrapped: forget every old generation */
        memset(small, 0, sizeof small);
        generation = 1;
    }
    t->gen = generation;
}

/* Moves to a heap table twice the size (from the small one or a heap one). */
static int tri_grow(trigrams *t) {
    size_t cap = (t->mask + 1) * 2;
    uint64_t *slot = calloc(cap, sizeof *slot);
    if (!slot) return 0;
    for (size_t i = 0; i <= t->mask; i++) {
        uint64_t k = t->slot ? t->slot[i] : small[i].gen == t->gen ? small[i].key : 0;
        if (!k) continue;
        size_t h = (size_t)k & (cap - 1);
        while (slot[h])
            h = (h + 1) & (cap - 1);
        slot[h] = k;
    }
    free(t->slot);
    t->slot = slot;
    t->mask = cap - 1;
    return 1;
}

/* 1 when g was in the set; adds it otherwise. */
__attribute__((always_inline)) static inline int tri_seen(trigrams *t, uint64_t g) {
    size_t i = (size_t)g & t->mask;
    if (!t->slot) {
        while (small[i].gen == t->gen && small[i].key != g)
            i = (i + 1) & t->mask;
        if (small[i].gen == t->gen) return 1;
        small[i].gen = t->gen;
        small[i].key = g;
        return 0;
    }
    while (t->slot[i] && t->slot[i] != g)
        i = (i + 1) & t->mask;
    if (t->slot[i]) return 1;
    t->slot[i] = g;
    return 0;
}

__attribute__((always_inline)) static inline void tri_word(trigrams *t, uint64_t h) {
    if (++t->nwords >= 3 && !t->failed) {
        uint64_t g = mix(t->w[0] * 0x9E3779B97F4A7C15ULL ^ t->w[1] * 0xC2B2AE3D27D4EB4FULL ^ h) | 1;
        t->total++;
        if (2 * (t->used + 1) > t->mask + 1 && !tri_grow(t))
            t->failed = 1;
        else if (tri_seen(t, g))
            t->repeated++;
        else
            t->used++;
    }
    t->w[0] = t->w[1];
    t->w[1] = h;
}

/* ---- refusals ---- */

/* 1 when phrase (lower-case ASCII) starts at p: ASCII case-insensitive, and a
 * right single quotation mark (U+2019) stands for an apostrophe. */
static int phrase_at(const unsigned char *p, const unsigned char *end, const char *phrase) {
    for (const unsigned char *q = (const unsigned char *)phrase; *q; q++) {
        if (p >= end) return 0;
        if (*q == '\'' && end - p >= 3 && p[0] == 0xE2 && p[1] == 0x80 && p[2] == 0x99) {
            p += 3;
            continue;
        }
        unsigned char c = *p >= 'A' && *p <= 'Z' ? (unsigned char)(*p | 0x20) : *p;
        if (c != *q) return 0;
        p++;
    }
    return 1;
}

/* A bit for the first four bytes of a word or phrase with ASCII letters
 * lower-cased, so that the words that start with a phrase's first letter
 * ("is", "and", "I will") are passed over without looking at the phrases. */
static inline unsigned quad_bit(const unsigned char *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return (uint32_t)((uint32_t)lower8(v) * 0x9E3779B1u) >> 22; /* 10 bits */
}

static void set_bit(uint64_t *bits, unsigned b) {
    bits[b >> 6] |= (uint64_t)1 << (b & 63);
}

/* Which word starts can begin a refusal phrase: their first letters, and
 * hashes of their first four bytes (an apostrophe also as U+2019). */
typedef struct refusal_filter {
    uint64_t first[4];
    uint64_t quad[16];
    int quad_on; /* 0: some phrase is shorter than four bytes (first letters only) */
} refusal_filter;

static void refusal_filter_build(const mw_text_options *o, refusal_filter *f) {
    memset(f, 0, sizeof *f);
    f->quad_on = 1;
    for (size_t i = 0; i < o->nrefusals; i++) {
        const char *ph = o->refusals[i];
        set_bit(f->first, (unsigned char)ph[0] | 0x20);
        unsigned char a[4], b[4]; /* as written; with U+2019 for an apostrophe */
        size_t na = 0, nb = 0;
        for (const char *q = ph; *q && (na < 4 || nb < 4); q++) {
            if (na < 4) a[na++] = (unsigned char)*q;
            if (*q == '\'') {
                static const unsigned char rsq[3] = {0xE2, 0x80, 0x99};
                for (int k = 0; k < 3 && nb < 4; k++)
                    b[nb++] = rsq[k];
            } else if (nb < 4) {
                b[nb++] = (unsigned char)*q;
            }
        }
        if (na < 4) {
            f->quad_on = 0;
            continue;
        }
        set_bit(f->quad, quad_bit(a));
        set_bit(f->quad, quad_bit(b));
    }
}

/* The default phrases' filter, built once per thread (short texts would
 * otherwise pay for it on every call). */
static const refusal_filter *default_filter(const mw_text_options *o) {
    static _Thread_local refusal_filter f;
    static _Thread_local int ready;
    if (!ready) {
        refusal_filter_build(o, &f);
        ready = 1;
    }
    return &f;
}

/* The phrase's second character at p[1] (a cheap test before phrase_at). */
static inline int second_ok(const unsigned char *p, const unsigned char *end, const char *phrase) {
    unsigned char q = (unsigned char)phrase[1];
    if (!q) return 1;
    if (end - p < 2) return 0;
    unsigned char c = p[1] >= 'A' && p[1] <= 'Z' ? (unsigned char)(p[1] | 0x20) : p[1];
    return c == q || (q == '\'' && c == 0xE2);
}

static int refusal_at(const unsigned char *p, const unsigned char *end, const mw_text_options *o) {
    for (size_t i = 0; i < o->nrefusals; i++) {
        const char *ph = o->refusals[i];
        if ((*p | 0x20) == (unsigned char)ph[0] && second_ok(p, end, ph) && phrase_at(p, end, ph))
            return 1;
    }
    return 0;
}

/* ---- the pass ---- */

enum { A_OTHER = 0, A_SPACE, A_LOWER, A_UPPER }; /* ASCII classes; letters last */

static const unsigned char ascii_class[128] = {
    ['\t'] = A_SPACE, ['\n'] = A_SPACE, ['\v'] = A_SPACE, ['\f'] = A_SPACE, ['\r'] = A_SPACE,
    [' '] = A_SPACE,  ['a'] = A_LOWER,  ['b'] = A_LOWER,  ['c'] = A_LOWER,  ['d'] = A_LOWER,
    ['e'] = A_LOWER,  ['f'] = A_LOWER,  ['g'] = A_LOWER,  ['h'] = A_LOWER,  ['i'] = A_LOWER,
    ['j'] = A_LOWER,  ['k'] = A_LOWER,  ['l'] = A_LOWER,  ['m'] = A_LOWER,  ['n'] = A_LOWER,
    ['o'] = A_LOWER,  ['p'] = A_LOWER,  ['q'] = A_LOWER,  ['r'] = A_LOWER,  ['s'] = A_LOWER,
    ['t'] = A_LOWER,  ['u'] = A_LOWER,  ['v'] = A_LOWER,  ['w'] = A_LOWER,  ['x'] = A_LOWER,
    ['y'] = A_LOWER,  ['z'] = A_LOWER,  ['A'] = A_UPPER,  ['B'] = A_UPPER,  ['C'] = A_UPPER,
    ['D'] = A_UPPER,  ['E'] = A_UPPER,  ['F'] = A_UPPER,  ['G'] = A_UPPER,  ['H'] = A_UPPER,
    ['I'] = A_UPPER,  ['J'] = A_UPPER,  ['K'] = A_UPPER,  ['L'] = A_UPPER,  ['M'] = A_UPPER,
    ['N'] = A_UPPER,  ['O'] = A_UPPER,  ['P'] = A_UPPER,  ['Q'] = A_UPPER,  ['R'] = A_UPPER,
    ['S'] = A_UPPER,  ['T'] = A_UPPER,  ['U'] = A_UPPER,  ['V'] = A_UPPER,  ['W'] = A_UPPER,
    ['X'] = A_UPPER,  ['Y'] = A_UPPER,  ['Z'] = A_UPPER,
};

/* The state of the pass over characters. */
typedef struct pass {
    const unsigned char *word; /* start of the current word; NULL between words */
    uint64_t words, ascii, latin, non_ascii;
    uint64_t scripts[MW_SCRIPT_COUNT];
    int refusal, invalid;
    const refusal_filter *rf;
} pass;

__attribute__((always_inline)) static inline void
word_start(pass *ps, const unsigned char *p, const unsigned char *end, const mw_text_options *o) {
    ps->word = p;
    ps->words++;
    unsigned c = *p | 0x20;
    const refusal_filter *f = ps->rf;
    if (ps->refusal || !(f->first[c >> 6] >> (c & 63) & 1)) return;
    if (f->quad_on) {
        if (end - p < 4) return; /* shorter than every phrase */
        unsigned b = quad_bit(p);
        if (!(f->quad[b >> 6] >> (b & 63) & 1)) return;
    }
    if (refusal_at(p, end, o)) ps->refusal = 1;
}

__attribute__((always_inline)) static inline void
word_end(pass *ps, trigrams *t, const unsigned char *p, const unsigned char *end) {
    tri_word(t, word_hash(ps->word, (size_t)(p - ps->word), end));
    ps->word = NULL;
}

/* One character at p (p < end); returns its length. Inlined: a call per
 * character cost a fifth of the pass in register saves. */
__attribute__((always_inline)) static inline size_t one_char(pass *ps, trigrams *t,
                                                             const unsigned char *p,
                                                             const unsigned char *end,
                                                             const mw_text_options *o) {
    uint32_t cp = *p;
    if (cp < 0x80) {
        unsigned char k = ascii_class[cp];
        ps->ascii++;
        if (k == A_SPACE) {
            if (ps->word) word_end(ps, t, p, end);
        } else {
            if (!ps->word) word_start(ps, p, end, o);
            ps->latin += k >= A_LOWER;
        }
        return 1;
    }
    size_t n = 0; /* 2- and 3-byte characters inline; the rest (and errors) by decode */
    if (cp >= 0xC2 && cp < 0xE0 && end - p >= 2 && (p[1] & 0xC0) == 0x80) {
        cp = (cp & 0x1F) << 6 | (p[1] & 0x3F);
        n = 2;
    } else if (cp >= 0xE0 && cp < 0xF0 && end - p >= 3 && (p[1] & 0xC0) == 0x80 &&
               (p[2] & 0xC0) == 0x80) {
        uint32_t v = (cp & 0x0F) << 12 | (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
        if (v >= 0x800 && (v < 0xD800 || v > 0xDFFF)) {
            cp = v;
            n = 3;
        }
    } else {
        n = mw_text_decode(p, end, &cp);
    }
    if (!n) {
        ps->invalid = 1;
        n = 1;
        cp = 0xFFFD; /* counts as a non-ASCII character of no script */
    }
    ps->non_ascii++;
    if (cp == 0xA0 || (cp >= 0x2000 && is_space_cp(cp))) {
        if (ps->word) word_end(ps, t, p, end);
    } else {
        if (!ps->word) word_start(ps, p, end, o);
        ps->scripts[script_fast(cp)]++;
    }
    return n;
}

#ifdef __SSE2__
/* The first nb (15 or 16) bytes at p, ASCII and whole 2-byte characters
 * (lead bytes `lead`, continuation bytes `cont`; bit i of a mask is byte i), none of them a
 * space but ASCII ones: words that start and end in them, their characters
 * and ASCII letters (the 2-byte letters' script the caller counts). */
static inline unsigned popcount16(unsigned x) { /* no POPCNT in baseline x86-64 */
    x = x - ((x >> 1) & 0x5555);
    x = (x & 0x3333) + ((x >> 2) & 0x3333);
    x = (x + (x >> 4)) & 0x0F0F;
    return (x + (x >> 8)) & 0x1F;
}

__attribute__((always_inline)) static inline void
chunk16(pass *ps, trigrams *t, const unsigned char *p, __m128i v, unsigned nb, unsigned lead,
        unsigned cont, const unsigned char *end, const mw_text_options *o) {
    unsigned keep = (1u << nb) - 1;
    __m128i ctl = _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8('\t' - 1)),
                                _mm_cmplt_epi8(v, _mm_set1_epi8('\r' + 1)));
    unsigned space =
        (unsigned)_mm_movemask_epi8(_mm_or_si128(ctl, _mm_cmpeq_epi8(v, _mm_set1_epi8(' '))));
    __m128i lw = _mm_or_si128(v, _mm_set1_epi8(0x20)); /* non-ASCII bytes stay negative */
    unsigned letters = (unsigned)_mm_movemask_epi8(_mm_and_si128(
        _mm_cmpgt_epi8(lw, _mm_set1_epi8('a' - 1)), _mm_cmplt_epi8(lw, _mm_set1_epi8('z' + 1))));
    unsigned nlead = popcount16(lead);
    space &= keep;
    ps->latin += popcount16(letters & keep);
    ps->ascii += nb - nlead - popcount16(cont);
    ps->non_ascii += nlead;
    unsigned solid = ~space & keep;
    unsigned after_solid = ((solid << 1) | (ps->word != NULL)) & keep;
    unsigned starts = solid & ~after_solid, ends = space & after_solid;
    for (unsigned ev = starts | ends; ev; ev &= ev - 1) {
        unsigned i = (unsigned)__builtin_ctz(ev);
        if (starts >> i & 1)
            word_start(ps, p + i, end, o);
        else
            word_end(ps, t, p + i, end);
    }
}

/* The smallest and largest byte of v where mask m (bytes of 0xFF) is set. */
static inline void byte_range(__m128i v, __m128i m, unsigned *lo, unsigned *hi) {
    __m128i a = _mm_or_si128(_mm_and_si128(m, v), _mm_andnot_si128(m, _mm_set1_epi8(-1)));
    __m128i b = _mm_and_si128(m, v);
#define FOLD(k)                                                                                    \
    a = _mm_min_epu8(a, _mm_srli_si128(a, k));                                                     \
    b = _mm_max_epu8(b, _mm_srli_si128(b, k))
    FOLD(8);
    FOLD(4);
    FOLD(2);
    FOLD(1);
#undef FOLD
    *lo = (unsigned)_mm_cvtsi128_si32(a) & 0xFF;
    *hi = (unsigned)_mm_cvtsi128_si32(b) & 0xFF;
}

/* 16 bytes at p with non-ASCII bytes (mask high): handled here when they are
 * ASCII and whole 2-byte characters whose letters share one named script
 * (Cyrillic, Greek, Hebrew, Arabic, Latin) and hold no non-ASCII space (a
 * lead byte at the end is left for the next chunk); returns the bytes
 * handled, 0 for the caller's character-by-character path. The script of a
 * 2-byte character is its lead byte's 64-code-point block. */
static inline unsigned two_byte16(pass *ps, trigrams *t, const unsigned char *p, __m128i v,
                                  unsigned high, const unsigned char *end,
                                  const mw_text_options *o) {
    __m128i is_lead = _mm_and_si128(_mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8((char)0xC3)), v),
                                    _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8((char)0xDF)), v));
    __m128i is_cont =
        _mm_cmpeq_epi8(_mm_and_si128(v, _mm_set1_epi8((char)0xC0)), _mm_set1_epi8((char)0x80));
    unsigned lead = (unsigned)_mm_movemask_epi8(is_lead),
             cont = (unsigned)_mm_movemask_epi8(is_cont);
    unsigned nb = lead & 0x8000 ? 15 : 16;
    lead &= 0x7FFF;
    if ((lead | cont) != (high & ((1u << nb) - 1)) || cont != lead << 1) return 0;
    unsigned lo, hi;
    byte_range(v, is_lead, &lo, &hi);
    unsigned sc;
    if (hi == 0xC3) { /* U+00C0..U+00FF: letters but for x (C3 97) and / (C3 B7) */
        unsigned signs =
            (unsigned)_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)0x97)),
                                                     _mm_cmpeq_epi8(v, _mm_set1_epi8((char)0xB7))));
        if (signs) return 0;
        sc = MW_SCRIPT_LATIN;
    } else {
        sc = block_script[lo - 0xC0];
        if (lo == 0xC3 || sc == MIXED || sc == MW_SCRIPT_NONE || sc != block_script[hi - 0xC0])
            return 0; /* runs of one named script are contiguous in lead bytes */
    }
    ps->scripts[sc] += popcount16(lead);
    chunk16(ps, t, p, v, nb, lead, cont, end, o);
    return nb;
}
#endif

void mw_text_describe(const char *text, size_t len, const mw_text_options *opt,
                      mw_text_descriptors *out) {
    mw_text_options dflt = {mw_text_default_refusals, mw_text_default_nrefusals};
    const mw_text_options *o = opt && opt->refusals ? opt : &dflt;
    memset(out, 0, sizeof *out);
    const unsigned char *s = (const unsigned char *)text, *p = s, *end = s + len;
    trigrams tri, *t = &tri;
    tri_init(t, len);
    pass ps;
    memset(&ps, 0, sizeof ps);
    refusal_filter own;
    if (o->refusals == mw_text_default_refusals && o->nrefusals == mw_text_default_nrefusals) {
        ps.rf = default_filter(o);
    } else {
        refusal_filter_build(o, &own);
        ps.rf = &own;
    }
    while (p < end) {
#ifdef __SSE2__
        if (end - p >= 16) {
            __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
            unsigned high = (unsigned)_mm_movemask_epi8(v);
            if (!high) {
                chunk16(&ps, t, p, v, 16, 0, 0, end, o);
                p += 16;
                continue;
            }
            unsigned nb = two_byte16(&ps, t, p, v, high, end, o);
            if (nb) {
                p += nb;
                continue;
            }
            /* these 16 bytes (and the character that crosses their end) one
             * by one: mixed text would otherwise retry the test at every byte */
            for (const unsigned char *stop = p + 16; p < stop;)
                p += one_char(&ps, t, p, end, o);
            continue;
        }
#endif
        p += one_char(&ps, t, p, end, o);
    }
    if (ps.word) word_end(&ps, t, end, end);
    out->words = ps.words;
    out->refusal = ps.refusal;
    out->invalid_utf8 = ps.invalid;
    out->chars = ps.ascii + ps.non_ascii;
    ps.scripts[MW_SCRIPT_LATIN] += ps.latin;
    out->bytes = len;
    out->empty = out->words == 0;
    out->non_ascii = out->chars ? (double)ps.non_ascii / (double)out->chars : 0;
    uint64_t best = 0; /* scripts[0] counts characters of no script: not a candidate */
    for (int k = 1; k < MW_SCRIPT_COUNT; k++)
        if (ps.scripts[k] > best) best = ps.scripts[k], out->script = (mw_script)k;
    out->repetition = t->failed ? NAN : t->total ? (double)t->repeated / (double)t->total : 0;
    free(t->slot);
    mw_text_scan_pii(s, len, out);
    size_t a = 0, b = len;
    while (a < b && (s[a] == ' ' || (s[a] >= '\t' && s[a] <= '\r')))
        a++;
    out->json_valid = a < b && (s[a] == '{' || s[a] == '[') && mw_text_is_json(text, len);
}
