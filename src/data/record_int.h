/*
 * Internal interface of the record parser: the parser's state (record.c) and
 * its record-shape fast path (record_shape.c, whose header comment says how
 * the fast path works and why its results are the normal parser's).
 *
 * record.c notes, while it parses a record the normal way, where each value
 * is (mw_shape_note: top-level members, and the members of "features" and
 * "scores"); when that record parses cleanly, record_shape.c turns the notes
 * into the record's shape. The next record is first tried against that shape
 * by record.c's shape_parse, which runs the normal parse's value parsers
 * inline (called through functions, they cost ~25 instructions a value more).
 */
#ifndef MW_DATA_RECORD_INT_H
#define MW_DATA_RECORD_INT_H

#include "data/data_int.h"
#include "modelwatch/record.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* What a value is: a top-level member's, or one of an object's in "features"
 * or "scores" (the order is that of mw_shape_mark.kind and mw_shape_slot.kind). */
enum { MW_SHAPE_MEMBER, MW_SHAPE_FEATURE, MW_SHAPE_SCORE };

/* A note taken by the normal parse: the value [at, stop) of the member named
 * name[0..name_len) (a view into the line, or into the scratch when the name
 * had escapes). */
typedef struct mw_shape_mark {
    const char *name, *at, *stop;
    uint32_t name_len, kind;
} mw_shape_mark;

/* One value of a shape: the literal bytes before it (run[0..run_len), in the
 * shape's lit; mask = (1 << run_len) - 1 when run_len < 16, else 0), its
 * kind, and where its name is: name_back bytes before the value (inside the
 * literal bytes), name_len long. Features and scores come in the order of
 * the parser's arrays. */
typedef struct mw_shape_slot {
    const char *run;
    uint32_t run_len, mask;
    uint32_t kind, name_back, name_len;
} mw_shape_slot;

typedef struct mw_record_shape {
    /* the shape of the last record that parsed cleanly (valid when ok) */
    mw_shape_slot *slot;
    size_t nslot, slot_cap;
    char *lit; /* literal runs, then 16 zero bytes (for 8-byte loads) */
    size_t lit_len, lit_cap;
    mw_shape_slot tail;      /* the bytes after the last value, up to the line's end */
    size_t nfeat, nscores;   /* members of the "features" / "scores" objects */
    int feat_map, score_map; /* the record had a "features" / "scores" object */
    int ok;
    /* notes of the normal parse in progress (taken when logging) */
    mw_shape_mark *mark;
    size_t nmark, mark_cap;
    int logging;
    /* when to try: enabled (mw_record_parser_shapes), misses in a row,
     * records left to parse without trying after too many misses, and the
     * length of the last such pause */
    int enabled;
    unsigned misses, cool, pause;
    uint64_t hits, hits_at_pause; /* records parsed by the shape, and when it last paused */
    /* the last record parsed successfully has the shape's names (it was
     * parsed by the shape, or it made the shape), and whether the record just
     * parsed has the names of that one (mw_record_parser_same_names) */
    int names_current, same_names;
} mw_record_shape;

struct mw_record_parser {
    mw_feature *feat;
    size_t feat_cap;
    mw_feature *scores;
    size_t scores_cap;
    char *scratch; /* decoded strings of the current record */
    size_t scratch_cap, scratch_len;
    int scratch_ready; /* scratch holds >= the record's length (this record) */
    uint64_t *dtab;    /* duplicate-name table: (generation << 32) | index */
    size_t dmask;      /* slots - 1 */
    uint32_t gen;
    /* the call in progress */
    const char *line, *end;
    mw_error *err;
    mw_status status;
    int labels;  /* label lines: "version" optional (mw_record_parser_labels) */
    double *emb; /* "embedding" values of the current record */
    size_t emb_cap;
    mw_record_shape shape;
};

/* ---- record_shape.c ------------------------------------------------------------ */

/* Before the normal parse of P->line: whether to take notes (sets
 * shape.logging and clears the notes). */
void mw_shape_begin(mw_record_parser *P);
/* After a clean normal parse: the notes (when taken) become the shape; missed:
 * the shape was tried first and did not fit, a miss (too many in a row pause
 * the tries). Records that do not parse count as neither. */
void mw_shape_learn(mw_record_parser *P, int missed);
/* Grows the notes; 0 (and logging stops) at the limit or out of memory. */
int mw_shape_grow(mw_record_shape *S);
void mw_shape_free(mw_record_shape *S);
/* For tests: on = 0 turns the fast path off for this parser (every record is
 * parsed the normal way); on = 1, the default, turns it on. */
void mw_record_parser_shapes(mw_record_parser *P, int on);

/* Notes the value [at, stop) of a member named name[0..nlen) (call only while
 * S->logging). */
static inline void mw_shape_note(mw_record_shape *S, unsigned kind, const char *name, size_t nlen,
                                 const char *at, const char *stop) {
    if (S->nmark == S->mark_cap && !mw_shape_grow(S)) return;
    mw_shape_mark *m = &S->mark[S->nmark++];
    m->name = name;
    m->name_len = (uint32_t)nlen;
    m->at = at;
    m->stop = stop;
    m->kind = kind;
}

/* Runs of 16 bytes or more, and runs near the end of the line. */
int mw_shape_run_long(const char *p, const char *end, const mw_shape_slot *s);

/* 1 when the bytes at p (inside [p, end)) are the slot's run and at least one
 * byte follows it. Runs are short (`, "f1": ` is 8 bytes): one 16-byte
 * compare (the run has 16 readable bytes after it in lit). */
static inline int mw_shape_run_eq(const char *p, const char *end, const mw_shape_slot *s) {
#ifdef __SSE2__
    if (s->mask && end - p >= 16) {
        __m128i a = _mm_loadu_si128((const __m128i *)(const void *)p);
        __m128i b = _mm_loadu_si128((const __m128i *)(const void *)s->run);
        return ((unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(a, b)) & s->mask) == s->mask;
    }
#endif
    return mw_shape_run_long(p, end, s);
}

#endif
