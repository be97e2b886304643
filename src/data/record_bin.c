/*
 * The binary form of a parsed record (record_bin.h), for the daemon's journal.
 *
 * Why: the journal kept each accepted record's NDJSON line (~400 bytes for a
 * record of 12 features), and writing those ~400 KB per 1,000-record batch
 * into SQLite's WAL (pwrite, page copies, checkpoints) was a quarter to a
 * third of mw_monitor_ingest's CPU time (perf, bench_journal), far more than
 * its instruction count. This form is ~150 bytes for the same record, and
 * replay reads it with no JSON parsing.
 *
 * Layout of one record, integers as LEB128 varints ("v"), doubles as their 8
 * bytes little-endian ("f64"), strings as v length + bytes:
 *   v payload length (written in two bytes below 16384, padded with a
 *     continuation bit when one would do: no move of the payload once its
 *     length is known), then the payload:
 *   v flags: 1 id, 2 ts, 4 latency_ms, 8 error, 16 input_tokens,
 *            32 output_tokens, 64 ttft_ms, 128 finish_reason, 256 embedding,
 *            512 prediction is a number, 1024 prediction is a string
 *   the fields present, in that order (id string, ts f64, ...,
 *   finish_reason string, prediction f64 or string)
 *   v number of features, each: v name reference (0: the name follows as a
 *     string; k > 0: the same name as feature k - 1 of the previous record
 *     of the sequence), u8 kind (0 missing, 1 number, 2 string), then the
 *     f64 or the string
 *   v number of scores, each as a feature (references to the previous
 *     record's scores)
 *   with flag 256: v length, then that many f64
 * Doubles flagged absent read back as NAN (the parser's "absent"); a
 * feature's number is kept bit for bit whatever its kind.
 *
 * Invariants: the reader reads only inside the bytes given, checks every
 * count against the bytes left before allocating, and refuses a payload
 * whose fields do not end exactly at its length.
 */
#include "data/record_bin.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    F_ID = 1,
    F_TS = 2,
    F_LATENCY = 4,
    F_ERROR = 8,
    F_INPUT = 16,
    F_OUTPUT = 32,
    F_TTFT = 64,
    F_FINISH = 128,
    F_EMB = 256,
    F_PRED_NUM = 512,
    F_PRED_STR = 1024,
    F_ALL = 2047
};

#define VMAX 10 /* bytes of the longest varint */

static unsigned char *put_v(unsigned char *o, uint64_t x) {
    while (x >= 0x80) {
        *o++ = (unsigned char)(x | 0x80);
        x >>= 7;
    }
    *o++ = (unsigned char)x;
    return o;
}

static unsigned char *put_f64(unsigned char *o, double x) {
    uint64_t u;
    memcpy(&u, &x, 8);
    mw_put_le64(o, u);
    return o + 8;
}

__attribute__((always_inline)) static inline unsigned char *put_s(unsigned char *o, const char *s,
                                                                  size_t n) {
    o = put_v(o, n);
    mw_copy_small(o, s, n);
    return o + n;
}

/* Room needed for one list's entries at most. */
static size_t list_bound(const mw_feature *f, size_t n) {
    size_t need = VMAX;
    for (size_t i = 0; i < n; i++)
        need +=
            3 * VMAX + 1 + 8 + f[i].name_len + (f[i].kind == MW_VALUE_STRING ? f[i].str_len : 0);
    return need;
}

/* same: prev's names are f's (the caller knows), nothing to compare. */
static unsigned char *put_list(unsigned char *o, const mw_feature *f, size_t n,
                               const mw_feature *prev, size_t prev_n, int same) {
    o = put_v(o, n);
    for (size_t i = 0; i < n; i++) {
        const mw_feature *x = &f[i];
        if (i < prev_n && (same || (prev[i].name_len == x->name_len &&
                                    mw_bytes_equal(prev[i].name, x->name, x->name_len)))) {
            o = put_v(o, i + 1);
        } else {
            *o++ = 0;
            o = put_s(o, x->name, x->name_len);
        }
        if (x->kind == MW_VALUE_NUMBER) {
            *o++ = 1;
            o = put_f64(o, x->number);
        } else if (x->kind == MW_VALUE_STRING) {
            *o++ = 2;
            o = put_s(o, x->str, x->str_len);
        } else {
            *o++ = 0;
        }
    }
    return o;
}

void mw_record_bin_put(mw_buf *b, const mw_record *rec, const mw_record *prev) {
    mw_record_bin_put_same(b, rec, prev, 0);
}

void mw_record_bin_put_same(mw_buf *b, const mw_record *rec, const mw_record *prev,
                            int same_names) {
    size_t need =
        2 * VMAX + 5 * 8 + 3 * VMAX + (rec->id ? rec->id_len : 0) +
        (rec->error ? rec->error_len : 0) + (rec->finish_reason ? rec->finish_reason_len : 0) +
        VMAX + 8 + (rec->prediction.kind == MW_VALUE_STRING ? rec->prediction.str_len : 0) +
        list_bound(rec->features, rec->nfeatures) + list_bound(rec->scores, rec->nscores) + VMAX +
        (rec->embedding ? 8 * rec->embedding_len : 0);
    if (!mw_buf_reserve(b, need)) return;
    unsigned char *start = b->data + b->len, *o = start + 2; /* the length goes first */
    unsigned flags = 0;
    if (rec->id) flags |= F_ID;
    if (!isnan(rec->ts)) flags |= F_TS;
    if (!isnan(rec->latency_ms)) flags |= F_LATENCY;
    if (rec->error) flags |= F_ERROR;
    if (!isnan(rec->input_tokens)) flags |= F_INPUT;
    if (!isnan(rec->output_tokens)) flags |= F_OUTPUT;
    if (!isnan(rec->ttft_ms)) flags |= F_TTFT;
    if (rec->finish_reason) flags |= F_FINISH;
    if (rec->embedding) flags |= F_EMB;
    if (rec->prediction.kind == MW_VALUE_NUMBER) flags |= F_PRED_NUM;
    if (rec->prediction.kind == MW_VALUE_STRING) flags |= F_PRED_STR;
    o = put_v(o, flags);
    if (flags & F_ID) o = put_s(o, rec->id, rec->id_len);
    if (flags & F_TS) o = put_f64(o, rec->ts);
    if (flags & F_LATENCY) o = put_f64(o, rec->latency_ms);
    if (flags & F_ERROR) o = put_s(o, rec->error, rec->error_len);
    if (flags & F_INPUT) o = put_f64(o, rec->input_tokens);
    if (flags & F_OUTPUT) o = put_f64(o, rec->output_tokens);
    if (flags & F_TTFT) o = put_f64(o, rec->ttft_ms);
    if (flags & F_FINISH) o = put_s(o, rec->finish_reason, rec->finish_reason_len);
    if (flags & F_PRED_NUM) o = put_f64(o, rec->prediction.number);
    if (flags & F_PRED_STR) o = put_s(o, rec->prediction.str, rec->prediction.str_len);
    same_names = same_names && prev;
    o = put_list(o, rec->features, rec->nfeatures, prev ? prev->features : NULL,
                 prev ? prev->nfeatures : 0, same_names);
    o = put_list(o, rec->scores, rec->nscores, prev ? prev->scores : NULL, prev ? prev->nscores : 0,
                 same_names);
    if (flags & F_EMB) {
        o = put_v(o, rec->embedding_len);
        for (size_t i = 0; i < rec->embedding_len; i++)
            o = put_f64(o, rec->embedding[i]);
    }
    size_t payload = (size_t)(o - (start + 2));
    if (payload < 1 << 14) { /* two varint bytes, the first with its continuation bit even
                                when the second is 0: no move of the payload */
        start[0] = (unsigned char)(0x80 | (payload & 0x7f));
        start[1] = (unsigned char)(payload >> 7);
        b->len += 2 + payload;
        return;
    }
    unsigned char lenbuf[VMAX];
    size_t ll = (size_t)(put_v(lenbuf, payload) - lenbuf);
    memmove(start + ll, start + 2, payload);
    memcpy(start, lenbuf, ll);
    b->len += ll + payload;
}

/* ---- reading ---- */

typedef struct bin_rd {
    const unsigned char *p, *end;
} bin_rd;

static int get_v(bin_rd *r, uint64_t *x) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->p >= r->end) return 0;
        unsigned char c = *r->p++;
        if (shift == 63 && c > 1) return 0;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) {
            *x = v;
            return 1;
        }
    }
    return 0;
}

static int get_f64(bin_rd *r, double *x) {
    if (r->end - r->p < 8) return 0;
    uint64_t u = 0;
    for (int i = 0; i < 8; i++)
        u |= (uint64_t)r->p[i] << (8 * i);
    memcpy(x, &u, 8);
    r->p += 8;
    return 1;
}

static int get_s(bin_rd *r, const char **s, size_t *n) {
    uint64_t len;
    if (!get_v(r, &len) || len > (uint64_t)(r->end - r->p)) return 0;
    *s = (const char *)r->p;
    *n = (size_t)len;
    r->p += len;
    return 1;
}

static int reserve(void **p, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return 1;
    size_t c = *cap ? *cap : 32;
    while (c < need)
        c *= 2;
    void *q = realloc(*p, c * size);
    if (!q) return 0;
    *p = q;
    *cap = c;
    return 1;
}

/* Reads n entries into f; prev/prev_n: the previous record's list. 0 when
 * corrupt. */
static int get_list(bin_rd *r, mw_feature *f, size_t n, const mw_feature *prev, size_t prev_n) {
    for (size_t i = 0; i < n; i++) {
        mw_feature *x = &f[i];
        uint64_t ref;
        if (!get_v(r, &ref)) return 0;
        if (ref == 0) {
            if (!get_s(r, &x->name, &x->name_len)) return 0;
        } else {
            if (ref > prev_n) return 0;
            x->name = prev[ref - 1].name;
            x->name_len = prev[ref - 1].name_len;
        }
        if (r->p >= r->end) return 0;
        unsigned char kind = *r->p++;
        x->number = NAN;
        x->str = NULL;
        x->str_len = 0;
        if (kind == 1) {
            x->kind = MW_VALUE_NUMBER;
            if (!get_f64(r, &x->number)) return 0;
        } else if (kind == 2) {
            x->kind = MW_VALUE_STRING;
            if (!get_s(r, &x->str, &x->str_len)) return 0;
        } else if (kind == 0) {
            x->kind = MW_VALUE_MISSING;
        } else {
            return 0;
        }
    }
    return 1;
}

void mw_record_bin_reader_reset(mw_record_bin_reader *rd) {
    rd->has_prev = 0;
    rd->prev_nf = rd->prev_ns = 0;
}

void mw_record_bin_reader_free(mw_record_bin_reader *rd) {
    free(rd->feat[0]);
    free(rd->feat[1]);
    free(rd->emb);
    memset(rd, 0, sizeof *rd);
}

mw_status mw_record_bin_read(mw_record_bin_reader *reader, const unsigned char **pp,
                             const unsigned char *end, mw_record *rec) {
    memset(rec, 0, sizeof *rec);
    rec->ts = rec->latency_ms = rec->input_tokens = rec->output_tokens = rec->ttft_ms = NAN;
    rec->prediction = (mw_feature){.name = "prediction", .name_len = 10, .number = NAN};
    rec->label = (mw_feature){.name = "label", .name_len = 5, .number = NAN};
    bin_rd whole = {*pp, end};
    uint64_t plen, flags;
    if (!get_v(&whole, &plen) || plen > (uint64_t)(whole.end - whole.p)) return MW_ECORRUPT;
    bin_rd r = {whole.p, whole.p + plen};
    if (!get_v(&r, &flags) || (flags & ~(uint64_t)F_ALL) ||
        (flags & (F_PRED_NUM | F_PRED_STR)) == (F_PRED_NUM | F_PRED_STR))
        return MW_ECORRUPT;
    int ok = 1;
    if (flags & F_ID) ok = get_s(&r, &rec->id, &rec->id_len);
    if (ok && (flags & F_TS)) ok = get_f64(&r, &rec->ts);
    if (ok && (flags & F_LATENCY)) ok = get_f64(&r, &rec->latency_ms);
    if (ok && (flags & F_ERROR)) ok = get_s(&r, &rec->error, &rec->error_len);
    if (ok && (flags & F_INPUT)) ok = get_f64(&r, &rec->input_tokens);
    if (ok && (flags & F_OUTPUT)) ok = get_f64(&r, &rec->output_tokens);
    if (ok && (flags & F_TTFT)) ok = get_f64(&r, &rec->ttft_ms);
    if (ok && (flags & F_FINISH)) ok = get_s(&r, &rec->finish_reason, &rec->finish_reason_len);
    if (ok && (flags & F_PRED_NUM)) {
        rec->prediction.kind = MW_VALUE_NUMBER;
        ok = get_f64(&r, &rec->prediction.number);
    }
    if (ok && (flags & F_PRED_STR)) {
        rec->prediction.kind = MW_VALUE_STRING;
        ok = get_s(&r, &rec->prediction.str, &rec->prediction.str_len);
    }
    uint64_t nf, ns;
    if (!ok || !get_v(&r, &nf) || nf > (uint64_t)(r.end - r.p) / 2) return MW_ECORRUPT;
    /* the features go into the buffer the previous record is not in */
    int cur = reader->has_prev ? 1 - reader->cur : reader->cur;
    const mw_feature *prev = reader->feat[1 - cur];
    size_t pnf = reader->has_prev ? reader->prev_nf : 0;
    size_t pns = reader->has_prev ? reader->prev_ns : 0;
    /* scores are read after the features: reserve for both once nf is known
     * (each entry takes at least 2 bytes, so nf + ns <= payload / 2) */
    if (!reserve((void **)&reader->feat[cur], &reader->cap[cur], (size_t)plen / 2 + 1,
                 sizeof(mw_feature)))
        return MW_ENOMEM;
    mw_feature *f = reader->feat[cur];
    if (!get_list(&r, f, (size_t)nf, prev, pnf)) return MW_ECORRUPT;
    if (!get_v(&r, &ns) || ns > (uint64_t)(r.end - r.p) / 2) return MW_ECORRUPT;
    if (!get_list(&r, f + nf, (size_t)ns, prev ? prev + pnf : NULL, pns)) return MW_ECORRUPT;
    if (flags & F_EMB) {
        uint64_t ne;
        if (!get_v(&r, &ne) || ne > (uint64_t)(r.end - r.p) / 8) return MW_ECORRUPT;
        if (!reserve((void **)&reader->emb, &reader->emb_cap, (size_t)ne + 1, sizeof(double)))
            return MW_ENOMEM;
        for (size_t i = 0; i < ne; i++)
            get_f64(&r, &reader->emb[i]);
        rec->embedding = reader->emb;
        rec->embedding_len = (size_t)ne;
    }
    if (r.p != r.end) return MW_ECORRUPT; /* every byte of the payload is a field */
    rec->features = f;
    rec->nfeatures = (size_t)nf;
    rec->scores = f + nf;
    rec->nscores = (size_t)ns;
    reader->cur = cur;
    reader->has_prev = 1;
    reader->prev_nf = (size_t)nf;
    reader->prev_ns = (size_t)ns;
    *pp = r.end;
    return MW_OK;
}

/* ---- comparing ---- */

static int same_num(double a, double b) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    return !memcmp(&a, &b, sizeof a);
}

static int same_str(const char *a, size_t al, const char *b, size_t bl) {
    if (!a || !b) return !a && !b;
    return al == bl && (al == 0 || !memcmp(a, b, al));
}

static int same_feature(const mw_feature *a, const mw_feature *b) {
    if (a->kind != b->kind || !same_str(a->name, a->name_len, b->name, b->name_len)) return 0;
    if (a->kind == MW_VALUE_NUMBER) return same_num(a->number, b->number);
    if (a->kind == MW_VALUE_STRING) return same_str(a->str, a->str_len, b->str, b->str_len);
    return 1;
}

int mw_record_bin_same(const mw_record *a, const mw_record *b) {
    if (!same_str(a->id, a->id_len, b->id, b->id_len) || !same_num(a->ts, b->ts) ||
        !same_num(a->latency_ms, b->latency_ms) ||
        !same_str(a->error, a->error_len, b->error, b->error_len) ||
        !same_num(a->input_tokens, b->input_tokens) ||
        !same_num(a->output_tokens, b->output_tokens) || !same_num(a->ttft_ms, b->ttft_ms) ||
        !same_str(a->finish_reason, a->finish_reason_len, b->finish_reason, b->finish_reason_len) ||
        a->prediction.kind != b->prediction.kind || a->nfeatures != b->nfeatures ||
        a->nscores != b->nscores || !a->embedding != !b->embedding ||
        a->embedding_len != b->embedding_len)
        return 0;
    if (a->prediction.kind != MW_VALUE_MISSING && !same_feature(&a->prediction, &b->prediction))
        return 0;
    for (size_t i = 0; i < a->nfeatures; i++)
        if (!same_feature(&a->features[i], &b->features[i])) return 0;
    for (size_t i = 0; i < a->nscores; i++)
        if (!same_feature(&a->scores[i], &b->scores[i])) return 0;
    for (size_t i = 0; a->embedding && i < a->embedding_len; i++)
        if (!same_num(a->embedding[i], b->embedding[i])) return 0;
    return 1;
}
