/*
 * The records' texts as text columns of a version (the daemon side of text
 * monitoring; text.h has the descriptors, data.h the batch side). A text is
 * a record's top-level "prompt" or "completion", or a feature: "features":
 * {"review": "..."}. A version monitors text X when its baseline has X's
 * descriptor columns ("X.chars", ...: the reference had a column X, declared
 * `text` in the version's columns, inferred as free text, or named prompt or
 * completion, and expanded by mw_table_expand_texts) and no column X itself.
 * The list is built once per baseline (mw_live_texts_get). Each accepted
 * record then gets the descriptors of its texts appended to its features, so
 * windows profile, test and report them as any feature; a text feature's own
 * value is left out (it is not a baseline column). Versions without text
 * columns do no text work beyond copying the spans the parser found.
 *
 * Values: a prompt or completion string is described (null or absent: no
 * descriptors, which the window counts as missing). A text feature is
 * described when it is a JSON string that is not a missing-value token (the
 * empty string, "NA", "null", ...: mw_is_na_token, as the batch readers and
 * the window read any feature); null, absent, a token, a number or a boolean
 * give no descriptors, so they count as missing, never as text: "42" written
 * as a number is not a text of two characters. The C API (mw_monitor_observe)
 * has no line to tell a boolean from a string: there, a string is described.
 *
 * Privacy: raw text is never written to the database. The journal, which
 * holds the records of open windows, gets each record's bytes with the text
 * values replaced: by the encoded descriptors when the version monitors that
 * text and it was described (so a restart replays the same numbers), else by
 * null. Text features are found in the line by mw_record_feature_spans (the
 * parser does not report where feature values are: that would cost every
 * record), every occurrence of them, including those of an earlier duplicate
 * "features" object the parser discards. Encoding: a JSON string
 * "\u001fmwtext1 " followed by the 15 descriptor values in
 * mw_text_descriptor_names order, comma-separated (numbers in their shortest
 * round-trip text, mw_format_double; the script by name). A replayed record
 * decodes them (a live record's string that looks encoded is described as
 * text). Redacted examples, when the version opted in: text_samples.c.
 */
#include "monitor/monitor_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ENC_PREFIX "\x1fmwtext1 "
#define ENC_PREFIX_JSON "\"\\u001fmwtext1 "

/* ---- the texts of a baseline ---------------------------------------------------- */

void mw_live_texts_free(mw_live_texts *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n; i++)
        free(t->cols[i].name);
    free(t->cols);
    free(t->feat_names);
    free(t->feat_lens);
    free(t);
}

/* The length of X when column c is a descriptor column "X.<descriptor>", else 0. */
static size_t text_of(const mw_base_col *c) {
    const char *dot = memrchr(c->name, '.', c->name_len);
    if (!dot || dot == c->name) return 0;
    size_t k = (size_t)(dot - c->name);
    return mw_text_descriptor_find(dot + 1, c->name_len - k - 1) >= 0 ? k : 0;
}

static int source_of(const char *name, size_t len) {
    if (len == 6 && !memcmp(name, "prompt", 6)) return MW_TEXT_PROMPT;
    if (len == 10 && !memcmp(name, "completion", 10)) return MW_TEXT_COMPLETION;
    return MW_TEXT_FEATURE;
}

static int listed(const mw_live_texts *t, const char *name, size_t len) {
    for (size_t i = 0; i < t->n; i++)
        if (t->cols[i].name_len == len && !memcmp(t->cols[i].name, name, len)) return 1;
    return 0;
}

/* Appends text name[0..len) with its descriptor names (room in t->cols). */
static mw_status add_text(mw_live_texts *t, int source, const char *name, size_t len) {
    size_t need = len + 1;
    for (int i = 0; i < MW_TEXT_NDESC; i++)
        need += len + 1 + strlen(mw_text_descriptor_names[i]) + 1;
    char *mem = malloc(need);
    if (!mem) return MW_ENOMEM;
    mw_live_text_col *c = &t->cols[t->n++];
    c->source = source;
    c->name = mem;
    c->name_len = len;
    memcpy(mem, name, len);
    mem[len] = 0;
    char *p = mem + len + 1;
    for (int i = 0; i < MW_TEXT_NDESC; i++) {
        c->desc[i] = p;
        c->desc_len[i] = (size_t)sprintf(p, "%s.%s", mem, mw_text_descriptor_names[i]);
        p += c->desc_len[i] + 1;
    }
    return MW_OK;
}

/* Prompt, completion, then the features, each text once, in column order. */
static mw_status build_texts(const mw_baseline *b, mw_live_texts *t) {
    if (!(t->cols = calloc(b->ncols + 1, sizeof *t->cols))) return MW_ENOMEM;
    for (int source = MW_TEXT_PROMPT; source <= MW_TEXT_FEATURE; source++)
        for (size_t j = 0; j < b->ncols; j++) {
            const char *name = b->cols[j].name;
            size_t len = text_of(&b->cols[j]);
            if (!len || source_of(name, len) != source || listed(t, name, len) ||
                mw_baseline_find(b, name, len) >= 0)
                continue;
            if (add_text(t, source, name, len)) return MW_ENOMEM;
            if (source == MW_TEXT_FEATURE)
                t->nfeat++;
            else
                t->at[source] = (long)t->n - 1;
        }
    size_t f0 = t->n - t->nfeat;
    t->feat_names = malloc((t->nfeat + 1) * sizeof *t->feat_names);
    t->feat_lens = malloc((t->nfeat + 1) * sizeof *t->feat_lens);
    if (!t->feat_names || !t->feat_lens) return MW_ENOMEM;
    for (size_t i = 0; i < t->nfeat; i++) {
        t->feat_names[i] = t->cols[f0 + i].name;
        t->feat_lens[i] = t->cols[f0 + i].name_len;
    }
    return MW_OK;
}

mw_status mw_live_texts_get(mw_vstate *v, const mw_live_texts **out) {
    *out = NULL;
    if (!v->baseline) return MW_OK;
    if (v->texts_of == v->baseline) {
        *out = v->texts;
        return MW_OK;
    }
    mw_live_texts_free(v->texts);
    v->texts = NULL;
    v->texts_of = NULL;
    mw_live_texts *t = calloc(1, sizeof *t);
    if (!t) return MW_ENOMEM;
    t->at[0] = t->at[1] = -1;
    if (build_texts(v->baseline, t)) {
        mw_live_texts_free(t);
        return MW_ENOMEM;
    }
    if (t->n)
        v->texts = t;
    else
        mw_live_texts_free(t);
    v->texts_of = v->baseline;
    *out = v->texts;
    return MW_OK;
}

/* ---- describing ------------------------------------------------------------------- */

/* Decodes an encoded value (after the prefix); 0 when malformed. */
static int decode(const char *s, size_t len, mw_text_descriptors *d) {
    char buf[512];
    if (len >= sizeof buf) return 0;
    memcpy(buf, s, len);
    buf[len] = 0;
    memset(d, 0, sizeof *d);
    char *p = buf;
    for (int i = 0; i < MW_TEXT_NDESC; i++) {
        char *end = strchr(p, ',');
        if (!end != (i == MW_TEXT_NDESC - 1)) return 0;
        if (end) *end = 0;
        if (i == MW_TEXT_DESC_SCRIPT) {
            int k = 0;
            while (k < MW_SCRIPT_COUNT && strcmp(mw_script_name((mw_script)k), p))
                k++;
            if (k == MW_SCRIPT_COUNT) return 0;
            d->script = (mw_script)k;
        } else {
            char *e;
            double x = strtod(p, &e);
            if (e == p || *e) return 0;
            int share = i == 5 || i == 12; /* non_ascii, repetition (NaN: not computed) */
            double max = i >= 7 && i <= 11 ? 4294967295.0 : 9007199254740992.0;
            if (share ? !(isnan(x) || (x >= 0 && x <= 1)) : !(x >= 0 && x <= max))
                return 0; /* not ours: a count must fit its integer */
            switch (i) {
            case 0:
                d->chars = (uint64_t)x;
                break;
            case 1:
                d->bytes = (uint64_t)x;
                break;
            case 2:
                d->words = (uint64_t)x;
                break;
            case 3:
                d->empty = x != 0;
                break;
            case 4:
                d->invalid_utf8 = x != 0;
                break;
            case 5:
                d->non_ascii = x;
                break;
            case 7:
                d->emails = (uint32_t)x;
                break;
            case 8:
                d->phones = (uint32_t)x;
                break;
            case 9:
                d->cards = (uint32_t)x;
                break;
            case 10:
                d->ips = (uint32_t)x;
                break;
            case 11:
                d->urls = (uint32_t)x;
                break;
            case 12:
                d->repetition = x;
                break;
            case 13:
                d->refusal = x != 0;
                break;
            default:
                d->json_valid = x != 0;
                break;
            }
        }
        if (end) p = end + 1;
    }
    return 1;
}

/* Describes s[0..len) into tv (a replayed record's encoded descriptors are
 * decoded). */
static void describe(mw_text_value *tv, const char *s, size_t len, const mw_text_options *opt,
                     int replayed) {
    size_t pl = sizeof ENC_PREFIX - 1;
    tv->has = 1;
    tv->s = s;
    tv->len = len;
    if (replayed && len > pl && !memcmp(s, ENC_PREFIX, pl) && decode(s + pl, len - pl, &tv->d))
        return;
    mw_text_describe(s, len, opt, &tv->d);
}

/* The first feature of rec named name[0..len), NULL when none. */
static const mw_feature *find_feature(const mw_record *rec, const char *name, size_t len) {
    for (size_t i = 0; i < rec->nfeatures; i++)
        if (rec->features[i].name_len == len && !memcmp(rec->features[i].name, name, len))
            return &rec->features[i];
    return NULL;
}

/* Where text feature k (of the set's features) is written in the kept
 * "features" object: its first byte, NULL when not found. */
static const char *raw_of(const mw_record_span *sp, size_t n, size_t k, const char *line) {
    for (size_t i = 0; i < n; i++)
        if (sp[i].name == k && sp[i].last) return line + sp[i].at;
    return NULL;
}

/* Describes rec's texts into out->v. spans (line given): where the text
 * features are in the line, to tell strings from other JSON values. */
static void describe_record(const mw_live_texts *set, const mw_record *rec, const char *line,
                            const mw_record_span *spans, size_t nspans, const mw_text_options *opt,
                            mw_live_text *out) {
    const char *s[2] = {rec->prompt, rec->completion};
    size_t len[2] = {rec->prompt_len, rec->completion_len};
    size_t f0 = set->n - set->nfeat;
    for (size_t i = 0; i < set->n; i++) {
        const mw_live_text_col *c = &set->cols[i];
        mw_text_value *tv = &out->v[i];
        tv->has = 0;
        tv->s = NULL;
        tv->len = 0;
        if (c->source != MW_TEXT_FEATURE) {
            if (s[c->source]) describe(tv, s[c->source], len[c->source], opt, out->replayed);
            continue;
        }
        const mw_feature *f = find_feature(rec, c->name, c->name_len);
        if (!f || f->kind != MW_VALUE_STRING || mw_is_na_token(f->str, f->str_len)) continue;
        if (line) {
            const char *raw = raw_of(spans, nspans, i - f0, line);
            if (!raw) out->unsafe = 1;        /* not expected: the record is then not journaled */
            if (raw && *raw != '"') continue; /* true, false: not text */
        }
        describe(tv, f->str, f->str_len, opt, out->replayed);
    }
}

/* Room for n text values in *vals (capacity *cap). */
static mw_status vals_reserve(mw_text_value **vals, size_t *cap, size_t n) {
    if (n <= *cap) return MW_OK;
    mw_text_value *p = realloc(*vals, n * sizeof *p);
    if (!p) return MW_ENOMEM;
    *vals = p;
    *cap = n;
    return MW_OK;
}

mw_status mw_live_text_single(mw_vstate *v, const mw_record *rec, int replayed, mw_live_text *out) {
    memset(out, 0, sizeof *out);
    out->replayed = replayed;
    mw_status st = mw_live_texts_get(v, &out->set);
    if (st || !out->set) return st;
    if ((st = vals_reserve(&v->text_vals, &v->text_vals_cap, out->set->n))) return st;
    out->v = v->text_vals;
    describe_record(out->set, rec, NULL, NULL, 0, &v->cfg.text, out);
    return MW_OK;
}

/* ---- a request's records ------------------------------------------------------------ */

typedef struct mw_text_edit {
    size_t at, len;               /* the value's bytes in the line */
    const mw_text_descriptors *d; /* its encoded descriptors, or NULL for null */
} mw_text_edit;

mw_status mw_text_batch_init(mw_text_batch *b, mw_vstate *v, size_t nrec) {
    memset(b, 0, sizeof *b);
    mw_status st = mw_live_texts_get(v, &b->set);
    if (st || !b->set) return st;
    b->recs = calloc(nrec ? nrec : 1, sizeof *b->recs);
    b->vals = malloc((nrec ? nrec : 1) * b->set->n * sizeof *b->vals);
    b->edits = malloc(2 * sizeof *b->edits);
    b->edits_cap = 2;
    if (b->set->nfeat) { /* usually one span per text feature and record */
        b->spans_cap = (nrec ? nrec : 1) * b->set->nfeat;
        if (!(b->spans = malloc(b->spans_cap * sizeof *b->spans))) return MW_ENOMEM;
    }
    return b->recs && b->vals && b->edits ? MW_OK : MW_ENOMEM;
}

void mw_text_batch_free(mw_text_batch *b) {
    free(b->recs);
    free(b->vals);
    free(b->spans);
    free(b->edits);
    memset(b, 0, sizeof *b);
}

/* The spans of the set's text features in line, appended to b->spans. */
static mw_status find_spans(mw_text_batch *b, const char *line, size_t len, size_t *n) {
    const mw_live_texts *t = b->set;
    for (;;) {
        size_t room = b->spans_cap - b->nspans;
        *n = mw_record_feature_spans(line, len, t->feat_names, t->feat_lens, t->nfeat,
                                     b->spans + b->nspans, room);
        if (*n <= room) break;
        if (mw_grow((void **)&b->spans, &b->spans_cap, b->nspans + *n, sizeof *b->spans))
            return MW_ENOMEM;
    }
    return mw_grow((void **)&b->edits, &b->edits_cap, *n + 2, sizeof *b->edits);
}

mw_status mw_text_batch_describe(mw_text_batch *b, size_t i, const mw_record *rec, const char *line,
                                 size_t len, const mw_text_options *opt, mw_live_text **out) {
    *out = NULL;
    if (!b->set) return MW_OK;
    mw_live_text *t = &b->recs[i];
    memset(t, 0, sizeof *t);
    t->set = b->set;
    t->v = b->vals + i * b->set->n;
    t->span0 = b->nspans;
    const mw_record_span *spans = NULL;
    if (b->set->nfeat) {
        mw_status st = find_spans(b, line, len, &t->nspans);
        if (st) return st;
        b->nspans += t->nspans;
        spans = b->spans + t->span0;
    }
    describe_record(b->set, rec, line, spans, t->nspans, opt, t);
    *out = t;
    return MW_OK;
}

/* Whole numbers (most descriptors) as digits without printf; others in their
 * shortest round-trip text (mw_format_double, which tries printf precisions:
 * it cost 40% of ingestion when every value went through it). */
static size_t number_text(double v, char *b) {
    if (!(v >= 0 && v < 9007199254740992.0 && v == floor(v))) return mw_format_double(v, b);
    char tmp[20];
    size_t n = 0;
    uint64_t u = (uint64_t)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    for (size_t i = 0; i < n; i++)
        b[i] = tmp[n - 1 - i];
    return n;
}

static void encode(mw_buf *o, const mw_text_descriptors *d) {
    char b[32];
    mw_buf_put(o, ENC_PREFIX_JSON, sizeof ENC_PREFIX_JSON - 1);
    for (int i = 0; i < MW_TEXT_NDESC; i++) {
        if (i == MW_TEXT_DESC_SCRIPT) {
            const char *name = mw_script_name(d->script);
            mw_buf_put(o, name, strlen(name));
        } else {
            mw_buf_put(o, b, number_text(mw_text_descriptor_value(d, (size_t)i), b));
        }
        if (i + 1 < MW_TEXT_NDESC) mw_buf_u8(o, ',');
    }
    mw_buf_u8(o, '"');
}

/* Appends the edit of a value at raw (NULL: absent) in line[0..len). */
static void add_edit(mw_text_edit *e, size_t *n, const char *line, size_t len, const char *raw,
                     size_t rl, const mw_text_descriptors *d) {
    if (!raw || raw < line || rl > len || raw > line + len - rl) return; /* not expected */
    e[(*n)++] = (mw_text_edit){(size_t)(raw - line), rl, d};
}

/* line[0..len) with the edits (sorted here, by position) applied. */
static void put_edited(mw_buf *o, const char *line, size_t len, mw_text_edit *e, size_t n) {
    for (size_t i = 1; i < n; i++) /* a few, nearly in order */
        for (size_t j = i; j > 0 && e[j].at < e[j - 1].at; j--) {
            mw_text_edit x = e[j];
            e[j] = e[j - 1];
            e[j - 1] = x;
        }
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        if (e[i].at < at) continue; /* overlapping (not expected) */
        mw_buf_put(o, line + at, e[i].at - at);
        if (e[i].d)
            encode(o, e[i].d);
        else
            mw_buf_put(o, "null", 4);
        at = e[i].at + e[i].len;
    }
    mw_buf_put(o, line + at, len - at);
}

/* The descriptors of text i of t when described, else NULL. */
static const mw_text_descriptors *described(const mw_live_text *t, long i) {
    return t && i >= 0 && t->v[i].has ? &t->v[i].d : NULL;
}

void mw_text_batch_journal(const mw_text_batch *b, size_t i, mw_buf *o, const char *line,
                           size_t len, const char *praw, size_t praw_len, const char *craw,
                           size_t craw_len) {
    const mw_live_text *t = b->set ? &b->recs[i] : NULL;
    mw_text_edit small[2], *e = t ? b->edits : small;
    size_t n = 0;
    add_edit(e, &n, line, len, praw, praw_len, described(t, t ? t->set->at[0] : -1));
    add_edit(e, &n, line, len, craw, craw_len, described(t, t ? t->set->at[1] : -1));
    for (size_t k = 0; t && k < t->nspans; k++) {
        const mw_record_span *sp = &b->spans[t->span0 + k];
        long at = (long)(t->set->n - t->set->nfeat + sp->name);
        add_edit(e, &n, line, len, line + sp->at, sp->len, sp->last ? described(t, at) : NULL);
    }
    put_edited(o, line, len, e, n);
}

/* ---- the record the window sees ------------------------------------------------------ */

/* 1 when f is one of the set's text features. */
static int is_text_feature(const mw_live_texts *t, const mw_feature *f) {
    for (size_t i = 0; i < t->nfeat; i++)
        if (t->feat_lens[i] == f->name_len && !memcmp(t->feat_names[i], f->name, f->name_len))
            return 1;
    return 0;
}

/* Appends text c's descriptors tv->d as features at f. */
static void put_descriptors(mw_feature *f, const mw_live_text_col *c, const mw_text_value *tv) {
    for (int i = 0; i < MW_TEXT_NDESC; i++) {
        mw_feature *g = &f[i];
        memset(g, 0, sizeof *g);
        g->name = c->desc[i];
        g->name_len = c->desc_len[i];
        if (i == MW_TEXT_DESC_SCRIPT) {
            g->kind = MW_VALUE_STRING;
            g->str = mw_script_name(tv->d.script);
            g->str_len = strlen(g->str);
            g->number = NAN;
        } else {
            g->number = mw_text_descriptor_value(&tv->d, (size_t)i);
            g->kind = isnan(g->number) ? MW_VALUE_MISSING : MW_VALUE_NUMBER;
        }
    }
}

mw_status mw_live_text_record(mw_vstate *v, const mw_record *rec, const mw_live_text *t,
                              mw_record *out) {
    *out = *rec;
    if (!t || !t->set) return MW_OK;
    size_t nd = 0;
    for (size_t i = 0; i < t->set->n; i++)
        nd += t->v[i].has != 0;
    if (!nd && !t->set->nfeat) return MW_OK;
    size_t need = rec->nfeatures + nd * MW_TEXT_NDESC;
    if (mw_grow((void **)&v->text_feat, &v->text_feat_cap, need ? need : 1, sizeof *v->text_feat))
        return MW_ENOMEM;
    mw_feature *f = v->text_feat;
    size_t n = 0;
    for (size_t i = 0; i < rec->nfeatures; i++)
        if (!t->set->nfeat || !is_text_feature(t->set, &rec->features[i]))
            f[n++] = rec->features[i];
    for (size_t i = 0; i < t->set->n; i++) {
        if (!t->v[i].has) continue;
        put_descriptors(f + n, &t->set->cols[i], &t->v[i]);
        n += MW_TEXT_NDESC;
    }
    out->features = f;
    out->nfeatures = n;
    return MW_OK;
}
