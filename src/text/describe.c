/*
 * Text descriptors (text.h): one pass over the characters that counts them,
 * decodes UTF-8 (flagging invalid sequences), finds words and their script,
 * hashes word trigrams for the repetition score and looks for refusal phrases
 * at word starts; then the personal-data scans (pii.c) and, for text that
 * looks like JSON, the JSON check (json_check.c).
 */
#include "text/text_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const mw_text_default_refusals[] = {
    "i'm sorry", "i am sorry", "i apologize", "i cannot", "i can't", "i can not",
    "as an ai", "i'm not able to", "i am not able to", "i am unable to", "i'm unable to",
    "i won't be able to"};
const size_t mw_text_default_nrefusals =
    sizeof mw_text_default_refusals / sizeof mw_text_default_refusals[0];

const char *mw_script_name(mw_script s) {
    static const char *const names[MW_SCRIPT_COUNT] = {
        "none", "latin", "greek", "cyrillic", "hebrew", "arabic", "devanagari", "thai", "hangul",
        "cjk"};
    return s < MW_SCRIPT_COUNT ? names[s] : "none";
}

/* ---- characters ---- */

/* Decodes one character at p (p < end); *cp gets it, returns its length, or 0
 * for an invalid sequence (one byte is then consumed). */
static size_t decode(const unsigned char *p, const unsigned char *end, uint32_t *cp) {
    unsigned c = p[0];
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (c >= 0xF5 || n == 0 || (size_t)(end - p) < n) return 0;
    uint32_t v = c & (0x7F >> n);
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (p[i] & 0x3F);
    }
    if ((n == 3 && (v < 0x800 || (v >= 0xD800 && v <= 0xDFFF))) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)))
        return 0;
    *cp = v;
    return n;
}

static int is_space_cp(uint32_t cp) {
    return cp == 0xA0 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
           cp == 0x3000;
}

static mw_script script_of(uint32_t cp) {
    if (cp < 0x0370) return cp >= 0xC0 && cp <= 0x24F && cp != 0xD7 && cp != 0xF7 ? MW_SCRIPT_LATIN
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

/* ---- word trigrams ---- */

/* The set of trigram hashes seen. Small texts use a thread-local table whose
 * slots carry the number of the call that filled them, so a new call starts
 * empty without clearing anything; larger ones grow into a heap table. */
#define SMALL_SLOTS 4096

typedef struct trigrams {
    uint64_t *slot;   /* heap table (0 = empty), or NULL while in the small one */
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

/* len bounds the words (len / 2 + 1) and so the trigrams: a short text uses
 * only the start of the small table, which stays in the L1 cache. */
static void tri_init(trigrams *t, size_t len) {
    memset(t, 0, sizeof *t);
    size_t slots = 64;
    while (slots < SMALL_SLOTS && slots < len + 2) slots *= 2;
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
        while (slot[h]) h = (h + 1) & (cap - 1);
        slot[h] = k;
    }
    free(t->slot);
    t->slot = slot;
    t->mask = cap - 1;
    return 1;
}

/* 1 when g was in the set; adds it otherwise. */
static int tri_seen(trigrams *t, uint64_t g) {
    size_t i = (size_t)g & t->mask;
    if (!t->slot) {
        while (small[i].gen == t->gen && small[i].key != g) i = (i + 1) & t->mask;
        if (small[i].gen == t->gen) return 1;
        small[i].gen = t->gen;
        small[i].key = g;
        return 0;
    }
    while (t->slot[i] && t->slot[i] != g) i = (i + 1) & t->mask;
    if (t->slot[i]) return 1;
    t->slot[i] = g;
    return 0;
}

static void tri_word(trigrams *t, uint64_t h) {
    if (++t->nwords >= 3 && !t->failed) {
        uint64_t g = mix(t->w[0] * 0x9E3779B97F4A7C15ULL ^ t->w[1] * 0xC2B2AE3D27D4EB4FULL ^ h) | 1;
        t->total++;
        if (2 * (t->used + 1) > t->mask + 1 && !tri_grow(t)) t->failed = 1;
        else if (tri_seen(t, g)) t->repeated++;
        else t->used++;
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

static int refusal_at(const unsigned char *p, const unsigned char *end, const mw_text_options *o) {
    for (size_t i = 0; i < o->nrefusals; i++) {
        if ((*p | 0x20) == (unsigned char)o->refusals[i][0] && phrase_at(p, end, o->refusals[i]))
            return 1;
    }
    return 0;
}

/* ---- the pass ---- */

enum { A_OTHER = 0, A_SPACE, A_LOWER, A_UPPER }; /* ASCII classes; letters last */

static const unsigned char ascii_class[128] = {
    ['\t'] = A_SPACE, ['\n'] = A_SPACE, ['\v'] = A_SPACE, ['\f'] = A_SPACE, ['\r'] = A_SPACE,
    [' '] = A_SPACE,
    ['a'] = A_LOWER, ['b'] = A_LOWER, ['c'] = A_LOWER, ['d'] = A_LOWER, ['e'] = A_LOWER,
    ['f'] = A_LOWER, ['g'] = A_LOWER, ['h'] = A_LOWER, ['i'] = A_LOWER, ['j'] = A_LOWER,
    ['k'] = A_LOWER, ['l'] = A_LOWER, ['m'] = A_LOWER, ['n'] = A_LOWER, ['o'] = A_LOWER,
    ['p'] = A_LOWER, ['q'] = A_LOWER, ['r'] = A_LOWER, ['s'] = A_LOWER, ['t'] = A_LOWER,
    ['u'] = A_LOWER, ['v'] = A_LOWER, ['w'] = A_LOWER, ['x'] = A_LOWER, ['y'] = A_LOWER,
    ['z'] = A_LOWER,
    ['A'] = A_UPPER, ['B'] = A_UPPER, ['C'] = A_UPPER, ['D'] = A_UPPER, ['E'] = A_UPPER,
    ['F'] = A_UPPER, ['G'] = A_UPPER, ['H'] = A_UPPER, ['I'] = A_UPPER, ['J'] = A_UPPER,
    ['K'] = A_UPPER, ['L'] = A_UPPER, ['M'] = A_UPPER, ['N'] = A_UPPER, ['O'] = A_UPPER,
    ['P'] = A_UPPER, ['Q'] = A_UPPER, ['R'] = A_UPPER, ['S'] = A_UPPER, ['T'] = A_UPPER,
    ['U'] = A_UPPER, ['V'] = A_UPPER, ['W'] = A_UPPER, ['X'] = A_UPPER, ['Y'] = A_UPPER,
    ['Z'] = A_UPPER,
};

void mw_text_describe(const char *text, size_t len, const mw_text_options *opt,
                      mw_text_descriptors *out) {
    mw_text_options dflt = {mw_text_default_refusals, mw_text_default_nrefusals};
    const mw_text_options *o = opt && opt->refusals ? opt : &dflt;
    memset(out, 0, sizeof *out);
    const unsigned char *s = (const unsigned char *)text, *p = s, *end = s + len;
    trigrams tri, *t = &tri;
    tri_init(t, len);
    unsigned char first[256] = {0}; /* first letters of the phrases */
    for (size_t i = 0; i < o->nrefusals; i++)
        first[(unsigned char)o->refusals[i][0] | 0x20] = 1;
    uint64_t scripts[MW_SCRIPT_COUNT] = {0}, non_ascii = 0, h = 0;
    int in_word = 0;
    uint64_t ascii_chars = 0, latin = 0;
    while (p < end) {
        uint32_t cp = *p;
        size_t n = 1;
        if (cp < 0x80) { /* the common case, by table: space, letter or other */
            unsigned char k = ascii_class[cp];
            ascii_chars++;
            if (k == A_SPACE) {
                if (in_word) tri_word(t, h);
                in_word = 0;
            } else {
                if (!in_word) {
                    out->words++;
                    in_word = 1;
                    h = 0xcbf29ce484222325ULL;
                    if (!out->refusal && first[*p | 0x20] && refusal_at(p, end, o)) out->refusal = 1;
                }
                h = (h ^ (cp | (k == A_UPPER ? 0x20 : 0))) * 0x100000001b3ULL;
                latin += k >= A_LOWER;
            }
            p++;
            continue;
        }
        {
            n = decode(p, end, &cp);
            if (!n) {
                out->invalid_utf8 = 1;
                n = 1;
                cp = 0xFFFD; /* counts as a non-ASCII character of no script */
            }
            non_ascii++;
        }
        out->chars++;
        int space = cp < 0x80 ? (cp == ' ' || (cp >= '\t' && cp <= '\r')) : is_space_cp(cp);
        if (space) {
            if (in_word) tri_word(t, h);
            in_word = 0;
        } else {
            if (!in_word) {
                out->words++;
                in_word = 1;
                h = 0xcbf29ce484222325ULL;
                if (!out->refusal && first[*p | 0x20] && refusal_at(p, end, o)) out->refusal = 1;
            }
            for (size_t i = 0; i < n; i++) {
                unsigned char c = p[i];
                h = (h ^ (c >= 'A' && c <= 'Z' ? c | 0x20 : c)) * 0x100000001b3ULL;
            }
            if (cp < 0x80) scripts[mw_text_alpha((unsigned char)cp) ? MW_SCRIPT_LATIN : 0]++;
            else scripts[script_of(cp)]++;
        }
        p += n;
    }
    out->chars += ascii_chars;
    scripts[MW_SCRIPT_LATIN] += latin;
    if (in_word) tri_word(t, h);
    out->bytes = len;
    out->empty = out->words == 0;
    out->non_ascii = out->chars ? (double)non_ascii / (double)out->chars : 0;
    uint64_t best = 0; /* scripts[0] counts characters of no script: not a candidate */
    for (int k = 1; k < MW_SCRIPT_COUNT; k++)
        if (scripts[k] > best) best = scripts[k], out->script = (mw_script)k;
    out->repetition = t->failed ? NAN : t->total ? (double)t->repeated / (double)t->total : 0;
    free(t->slot);
    mw_text_scan_pii(s, len, out);
    size_t a = 0, b = len;
    while (a < b && (s[a] == ' ' || (s[a] >= '\t' && s[a] <= '\r'))) a++;
    out->json_valid = a < b && (s[a] == '{' || s[a] == '[') && mw_text_is_json(text, len);
}
