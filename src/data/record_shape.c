/*
 * The record parser's fast path for records shaped like the one before
 * (record_int.h; the parser itself is record.c).
 *
 * Why: the records of one batch almost always have the same shape (the same
 * keys in the same order with the same separators; only the values differ),
 * and the normal parse spends part of each value's instructions on what does
 * not change: the key's scan, the ':' and the spaces, the dispatch on the
 * key and the duplicate-name check, ~95 instructions a value in the
 * benchmark below. Measured with callgrind on `bench_journal 100 plain` (a
 * record: model, version, id, 10 numbers of 17 digits and 2 short strings in
 * "features", prediction, latency_ms): mw_record_parse 5,278 -> 3,686
 * instructions a record, mw_monitor_ingest 10,506 -> 8,913. What is left is
 * mostly the values themselves: a 17-digit number costs ~190 (digit scan and
 * conversion ~115, Eisel-Lemire ~75), the ten of them ~1,900.
 *
 * How: while record.c parses a record the normal way it notes where each
 * value is (a top-level member's, and each member's of the "features" and
 * "scores" objects). When that record parsed cleanly and no key had escapes,
 * its notes become its shape: the literal byte runs between the values (from
 * the line's first byte to the first value: `{"model": `; then `, "version":
 * `, ..., `, "features": {"f0": `, `, "f1": `, ...; after the last value:
 * `}` and anything up to the line's end) and, for each value, what it is: a
 * top-level member, or the next feature or score, with where its name (or
 * key) is: a fixed distance back from the value, inside the literal run. The
 * next record is parsed by the shape (record.c's shape_parse): for each
 * value, compare the literal run with the bytes at the cursor (one 16-byte
 * compare; two for runs of 16 to 32 bytes), then parse the value with the
 * function the normal parse calls at that place (any_value for a feature,
 * score_value for a score, member() for a top-level member), inline; the
 * name is a view of the record's own bytes. The bytes after the last value
 * must be the tail, exactly up to the line's end. Anything else (a different
 * key, one more space, a missing or extra member, a value that does not
 * parse, a record that ends early) makes the caller parse the whole record
 * again the normal way from its first byte, with rec cleared and the scratch
 * emptied.
 *
 * Why the result is the normal parse's, bit for bit: the normal parse of the
 * earlier record went through each literal run from the same place in the
 * grammar (the line's start, or just after a value) to the first byte of the
 * next value, and what it did there depends on the run's bytes only: it
 * looks at most at one byte past a run, the value's first byte, to see that
 * it is not whitespace (the value parsers refuse whitespace, so a record
 * with a space more goes to the normal parse). Each value is then parsed by
 * the same function from the same byte, so it ends where the normal parse's
 * would and leaves the same fields. What is skipped is what the runs already
 * passed in the earlier record: the key scans, the limits on names and on
 * their number, and the duplicate-name check (the names are the same bytes,
 * in the same order, as names that were checked distinct; escapes in keys
 * never make a shape, so a name is its bytes as written). Where the normal
 * parse checks something at the end of a record (model and version given)
 * the shape does too. A "features" or "scores" key given twice makes no
 * shape (the later value replaces the earlier one, which this path does not
 * model). A record that does not parse is always parsed by the normal path,
 * so its message is the normal one: the fast path runs with no mw_error to
 * write to. tests/unit/test_record_shape.c and tests/fuzz/fuzz_record.c
 * compare the two paths.
 *
 * When it does not pay: records whose shapes keep changing (keys in random
 * order, two layouts in turn) would pay for a failed try and new notes on
 * each. After 4 misses in a row (records that do not parse are not misses)
 * the next 64 records are parsed the normal way without notes, then the
 * shape is tried again; the pause doubles, up to 4096 records, while no
 * record in between fit. Two layouts in turn (20,000 records of the
 * benchmark's kind) cost 0.4 % more instructions than the normal parse
 * alone (5.6 % with a fixed pause of 64).
 *
 * Limits: notes for at most 2 * 10000 + 256 values a record and 1 MiB of
 * literal runs (more: no shape); memory per parser: the notes (32 bytes a
 * value), the slots (32 bytes a value) and the runs (the bytes of the record
 * outside its values). Never reads outside [P->line, P->end).
 */
#include "data/record_int.h"

#include <stdlib.h>

#define MAX_MARKS (2 * 10000 + 256)
#define MAX_RUNS ((size_t)1 << 20)
#define MISS_LIMIT 4
#define MIN_PAUSE 64
#define MAX_PAUSE 4096

void mw_record_parser_shapes(mw_record_parser *P, int on) {
    if (!P) return;
    P->shape.enabled = on != 0;
    P->shape.ok = 0;
    P->shape.names_current = P->shape.same_names = 0;
    P->shape.cool = P->shape.pause = 0;
    P->shape.misses = 0;
}

void mw_shape_free(mw_record_shape *S) {
    free(S->slot);
    free(S->lit);
    free(S->mark);
}

/* arr (*cap elements of `size` bytes) doubled (64 at first), up to MAX_MARKS
 * elements (slots are fewer than notes), *cap updated; NULL (arr and *cap
 * unchanged) at the limit or out of memory. */
static void *grow(void *arr, size_t *cap, size_t size) {
    size_t n = *cap ? 2 * *cap : 64;
    if (n > MAX_MARKS) n = MAX_MARKS;
    void *a = n > *cap ? realloc(arr, n * size) : NULL;
    if (a) *cap = n;
    return a;
}

int mw_shape_grow(mw_record_shape *S) {
    mw_shape_mark *m = grow(S->mark, &S->mark_cap, sizeof *m);
    if (!m) {
        S->logging = 0; /* no shape from this record */
        return 0;
    }
    S->mark = m;
    return 1;
}

void mw_shape_begin(mw_record_parser *P) {
    mw_record_shape *S = &P->shape;
    S->nmark = 0;
    S->logging = S->enabled && !S->cool;
    if (S->cool) S->cool--;
}

/* 1 when n[0..len) is the key k. */
static int is_key(const mw_shape_mark *m, const char *k, size_t len) {
    return m->name_len == len && !memcmp(m->name, k, len);
}

/* Slot s for the run from[0..n) (a view into the line until copy_runs). */
static void set_run(mw_shape_slot *s, const char *from, size_t n) {
    s->run = from;
    s->run_len = (uint32_t)n;
    s->mask = n < 16 ? (1u << n) - 1 : 0;
}

/* Appends the slot for the value of m, after the literal run [from, m->at). */
static int add_slot(mw_record_shape *S, const mw_shape_mark *m, const char *from) {
    if (S->nslot == S->slot_cap) {
        mw_shape_slot *a = grow(S->slot, &S->slot_cap, sizeof *a);
        if (!a) return 0;
        S->slot = a;
    }
    mw_shape_slot *s = &S->slot[S->nslot++];
    set_run(s, from, (size_t)(m->at - from));
    s->kind = m->kind;
    s->name_back = (uint32_t)(m->at - m->name);
    s->name_len = m->name_len;
    return 1;
}

/* Copies the runs (views into the line) into the shape's own lit, n bytes
 * in all, and points the slots there. */
static int copy_runs(mw_record_shape *S, size_t n) {
    if (n + 16 > S->lit_cap) {
        char *l = realloc(S->lit, n + 16);
        if (!l) return 0;
        S->lit = l;
        S->lit_cap = n + 16;
    }
    size_t o = 0;
    for (size_t i = 0; i <= S->nslot; i++) {
        mw_shape_slot *s = i < S->nslot ? &S->slot[i] : &S->tail;
        memcpy(S->lit + o, s->run, s->run_len);
        s->run = S->lit + o;
        o += s->run_len;
    }
    memset(S->lit + o, 0, 16);
    return 1;
}

static void build(mw_record_parser *P) {
    mw_record_shape *S = &P->shape;
    const char *line = P->line, *end = P->end;
    S->logging = 0;
    S->ok = 0;
    S->nslot = 0;
    S->feat_map = S->score_map = 0;
    uint32_t count[3] = {0, 0, 0};
    int given[2] = {0, 0}; /* "features", "scores" keys seen */
    const char *from = line;
    size_t runs = 0;
    for (size_t i = 0; i < S->nmark; i++) {
        const mw_shape_mark *m = &S->mark[i];
        /* a name lies in the run before its value; a key with escapes was
         * decoded into the scratch: no shape (an object's key lies before
         * its members' notes, which come first) */
        int which = m->kind != MW_SHAPE_MEMBER ? -1
                    : is_key(m, "features", 8) ? 0
                    : is_key(m, "scores", 6)   ? 1
                                               : -1;
        int map = which >= 0 && *m->at == '{';
        uintptr_t name = (uintptr_t)m->name;
        if (name < (uintptr_t)(map ? line : from) || name + m->name_len > (uintptr_t)m->at) return;
        if (which >= 0 && given[which]++) return; /* the later one replaces the earlier */
        if (map) {                                /* its members are notes of their own */
            *(which ? &S->score_map : &S->feat_map) = 1;
            continue;
        }
        if (!add_slot(S, m, from)) return;
        runs += (size_t)(m->at - from);
        count[m->kind]++;
        from = m->stop;
    }
    set_run(&S->tail, from, (size_t)(end - from));
    runs += (size_t)(end - from);
    if (runs > MAX_RUNS || !copy_runs(S, runs)) return;
    S->nfeat = count[MW_SHAPE_FEATURE];
    S->nscores = count[MW_SHAPE_SCORE];
    S->ok = 1;
}

int mw_shape_run_long(const char *p, const char *end, const mw_shape_slot *s) {
    size_t n = s->run_len;
    if ((size_t)(end - p) <= n) return 0;
#ifdef __SSE2__
    if (n >= 16 && n <= 32) { /* the first 16 bytes and the last 16 */
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)s->run);
        __m128i c = _mm_loadu_si128((const __m128i *)(const void *)(p + n - 16));
        __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(s->run + n - 16));
        __m128i eq = _mm_and_si128(_mm_cmpeq_epi8(a, b), _mm_cmpeq_epi8(c, d));
        return _mm_movemask_epi8(eq) == 0xFFFF;
    }
#endif
    return memcmp(p, s->run, n) == 0;
}

void mw_shape_learn(mw_record_parser *P, int missed) {
    mw_record_shape *S = &P->shape;
    if (S->logging) build(P);
    if (missed && ++S->misses >= MISS_LIMIT) {
        /* the pause doubles while no record in between fit the shape */
        int again = S->pause && S->hits == S->hits_at_pause;
        S->pause = !again ? MIN_PAUSE : S->pause < MAX_PAUSE ? 2 * S->pause : MAX_PAUSE;
        S->hits_at_pause = S->hits;
        S->misses = 0;
        S->cool = S->pause;
    }
}
