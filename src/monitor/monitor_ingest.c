/*
 * Records into windows, windows into results, and the journal that makes an
 * acknowledged record survive a crash.
 *
 * Windows are tumbling, aligned to multiples of the window length since the
 * epoch, by record time (ts) or arrival time. A record past the open window's
 * end closes it first; an older record is "late" and goes into the open window;
 * a record more than an hour ahead of the clock is rejected. A window also
 * closes at its record cap (after that record), on request, and on time
 * (mw_monitor_tick).
 *
 * Durability: mw_monitor_ingest parses the whole body without any lock (so
 * concurrent requests to one model parse in parallel), then, one version at a
 * time under its lock, observes that version's records and appends one journal
 * row (arrival time + the accepted records) before returning. Closing
 * a window stores its result and deletes the version's journal rows in one
 * transaction. So the journal holds exactly the records of the open windows,
 * and reopening replays them (mw_vstate_replay), with each row's arrival time
 * standing in for the clock. Records a batch put into a window that closed
 * during the same batch are in that window's stored result and are left out of
 * the batch's journal row. Cost: one append to the version's journal file per
 * request (store_jfile.c: a write into the page cache, no fsync; kill -9
 * safe, power loss may lose the last appends unless synchronous_full is set).
 *
 * Journal row: u64 arrival time (ms), then either the records' NDJSON lines
 * (rows of builds before store schema 8, and rows with a record that has
 * text: "prompt", "completion" or a text feature, its texts replaced by their
 * descriptors or null, see text_live.c) or MW_JOURNAL_BINARY, a format byte
 * and the records in binary (data/record_bin.h: ~150 bytes for a record of
 * 12 features whose line is ~400; writing the NDJSON into SQLite was a
 * quarter to a third of this function's CPU time when the journal was SQLite
 * rows). Replay reads both and observes the same records either way.
 */
#include "monitor/monitor_int.h"

#include "data/record_bin.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { CLOSED_NONE = 0, CLOSED_BEFORE, CLOSED_AFTER };

void mw_vstate_drop_last(mw_vstate *v) {
    if (!v->has_last) return;
    for (size_t i = 0; i < v->last.ncols; i++)
        free(v->last_names[i]);
    free(v->last_names);
    v->last_names = NULL;
    mw_window_report_free(&v->last);
    v->has_last = 0;
}

/* Keeps a closed window's report for the metrics, with its own copies of the
 * column names (the baseline may be replaced later). */
static void keep_last(mw_vstate *v, mw_drift_report *rep) {
    mw_vstate_drop_last(v);
    char **names = calloc(rep->ncols + 1, sizeof *names);
    for (size_t i = 0; names && i < rep->ncols; i++) {
        names[i] = strdup(rep->cols[i].name);
        rep->cols[i].name = names[i] ? names[i] : "?";
    }
    rep->reference = NULL;
    v->last = *rep;
    v->last_names = names;
    v->has_last = 1;
    v->last_start = v->win.start;
    v->last_end = v->win.end;
    v->last_records = v->win.records;
}

mw_status mw_vstate_close_window(mw_monitor *m, mw_vstate *v, char **json_out, mw_error *err) {
    if (json_out) *json_out = NULL;
    mw_status st = mw_labels_flush(m, v); /* the window's predictions, all tracked */
    if (st) return mw_error_set(err, st, NULL, 0, 0, "out of memory tracking predictions");
    mw_window_settle(&v->win); /* the samples' held-back replacements, written */
    mw_drift_report rep;
    st = mw_window_report(&v->win, v->baseline, &v->cfg.drift, &rep);
    if (st) return mw_error_set(err, st, NULL, 0, 0, "closing the window: %s", mw_status_str(st));
    char *json = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&json, &len);
    mw_cbpe_estimate est;
    int has_est = mw_window_cbpe_estimate(&v->win, &est);
    mw_window_meta meta = {.model = v->model,
                           .version = v->version,
                           .start = v->win.start,
                           .end = v->win.end,
                           .records = v->win.records,
                           .late = v->win.late,
                           .expected_share = NAN,
                           .threshold = NAN,
                           .p_value = NAN,
                           .serving = &v->win.serving,
                           .estimated = has_est ? &est : NULL,
                           .estimated_skipped = v->win.cbpe_skipped};
    mw_serving_percentiles(&v->win.serving, &meta.latency_p50, &meta.latency_p95,
                           &meta.latency_p99);
    if (v->baseline->detector) {
        mw_outlier_info info;
        mw_outlier_get_info(v->baseline->detector, &info);
        meta.outlier_method = info.method == MW_OUTLIER_LOF ? "lof" : "iforest";
        meta.scored = v->win.scores.scored;
        meta.outliers = v->win.scores.outliers;
        meta.expected_share = info.expected_share;
        meta.threshold = info.threshold;
        const mw_score_counts *sc = &v->win.scores;
        meta.p_value =
            sc->scored ? mw_binom_test_greater(sc->outliers, sc->scored, info.expected_share) : NAN;
    }
    if (!f || mw_report_window_json(f, &rep, &meta) != MW_OK) st = MW_ENOMEM;
    if (f) fclose(f);
    if (!st && m->store) {
        int64_t id;
        pthread_mutex_lock(&v->jlock); /* waits for journal rows still being written */
        unsigned char *preds;
        size_t plen;
        mw_labels_take_open(v, &preds, &plen);
        st = mw_store_window_commit_predictions(m->store, v->model, v->version, v->win.start,
                                                v->win.end, v->win.records, json, v->last_seq,
                                                preds, plen, &id, err);
        if (st)
            mw_labels_put_back_open(v, preds, plen); /* the window stays open */
        else
            free(preds);
        pthread_mutex_unlock(&v->jlock);
    }
    if (st) { /* the window stays open; its records are still journaled */
        mw_window_report_free(&rep);
        free(json);
        if (st == MW_ENOMEM) mw_error_set(err, st, NULL, 0, 0, "out of memory closing the window");
        return st;
    }
    if (m->store) mw_canary_window_closed(m, v, &rep);
    keep_last(v, &rep);
    atomic_fetch_add(&m->windows_closed, 1);
    mw_error serr; /* the window is stored: examples that cannot be are dropped */
    (void)mw_live_text_flush(m, v, &serr);
    if (!m->store) { /* nothing to store the window's predictions in */
        unsigned char *preds;
        size_t plen;
        mw_labels_take_open(v, &preds, &plen);
        free(preds);
    }
    v->last_outlier_share =
        v->win.scores.scored ? (double)v->win.scores.outliers / (double)v->win.scores.scored : NAN;
    v->last_outlier_p_value = meta.p_value;
    v->has_last_est = has_est;
    if (has_est) v->last_est = est;
    v->last_p50 = meta.latency_p50;
    v->last_p95 = meta.latency_p95;
    v->last_p99 = meta.latency_p99;
    v->last_error_ratio =
        v->win.records ? (double)v->win.serving.errors / (double)v->win.records : NAN;
    v->win_open = 0; /* its buffers stay for the next window (mw_window_reset) */
    if (json_out)
        *json_out = json;
    else
        free(json);
    return MW_OK;
}

static mw_status open_window(mw_monitor *m, mw_vstate *v, double ts) {
    double w = v->cfg.window_seconds;
    uint64_t seed = m->opt.seed + __atomic_add_fetch(&m->seed_counter, 1, __ATOMIC_RELAXED);
    if (v->win.cols && v->win.ncols == v->baseline->ncols) {
        mw_window_reset(&v->win, seed);
    } else {
        mw_window_free(&v->win);
        mw_status st = mw_window_init(&v->win, v->baseline, m->opt.sample_capacity, seed);
        if (st) return st;
    }
    v->win.start = floor(ts / w) * w;
    v->win.end = v->win.start + w;
    v->win.emb_cap = v->cfg.drift.embedding.max_samples;
    v->win_open = 1;
    return MW_OK;
}

mw_status mw_vstate_observe(mw_monitor *m, mw_vstate *v, const mw_record *rec_in,
                            const mw_live_text *txt, double now_s, int *closed, mw_error *err) {
    *closed = CLOSED_NONE;
    mw_record with_text; /* rec_in and its texts' descriptors as features */
    const mw_record *rec = rec_in;
    if (txt && txt->set) { /* (no copy of the record otherwise) */
        if (mw_live_text_record(v, rec_in, txt, &with_text))
            return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory observing a record");
        rec = &with_text;
    }
    double ts = isnan(rec->ts) ? now_s : rec->ts;
    mw_status st;
    if (v->win_open && ts >= v->win.end) {
        if ((st = mw_vstate_close_window(m, v, NULL, err))) return st;
        *closed = CLOSED_BEFORE;
    }
    if (!v->win_open && (st = open_window(m, v, ts))) return st;
    if (ts < v->win.start) {
        v->win.late++;
        v->late_total++;
    }
    if ((st = mw_window_observe(&v->win, v->baseline, rec, &v->scores_total)) ||
        (st = mw_labels_observe(m, v, rec, v->win.start)))
        return mw_error_set(err, st, NULL, 0, 0, "out of memory observing a record");
    v->records_total++;
    if (v->win.emb_last >= MW_EMB_BAD_DIM) v->emb_rejected[v->win.emb_last - MW_EMB_BAD_DIM]++;
    if (v->cfg.text_samples && !(txt && txt->replayed)) mw_live_text_sample(v, rec_in, txt);
    (void)mw_serving_observe(&v->serving, rec, NULL); /* totals keep no sample */
    if (v->cfg.window_max_records && v->win.records >= v->cfg.window_max_records) {
        if ((st = mw_vstate_close_window(m, v, NULL, err))) return st;
        *closed = CLOSED_AFTER;
    }
    return MW_OK;
}

/* Why a parsed record cannot go to its version (lock held), or -1 when it can. */
static int rejection(const mw_vstate *v, const mw_record *rec, double now_s) {
    if (!v->baseline) return MW_REJECT_NO_BASELINE;
    if (!isnan(rec->ts) && rec->ts > now_s + MW_FUTURE_TOLERANCE_S) return MW_REJECT_TIMESTAMP;
    return -1;
}

static const char *reject_message(int reason) {
    return reason == MW_REJECT_NO_BASELINE
               ? "the version has no reference data yet: upload it with PUT "
                 "/api/v1/models/{model}/versions/{version}/reference"
               : "\"ts\" is more than an hour in the future";
}

mw_status mw_monitor_observe(mw_monitor *m, const mw_record *rec, mw_error *err) {
    mw_vstate *v = mw_monitor_find(m, rec->model, rec->model_len, rec->version, rec->version_len);
    if (!v) {
        pthread_mutex_lock(&m->unknown_lock);
        m->rejected_unknown++;
        pthread_mutex_unlock(&m->unknown_lock);
        return mw_error_set(err, MW_ENOTFOUND, NULL, 0, 0,
                            "model \"%.*s\" version \"%.*s\" is not registered",
                            (int)(rec->model_len > 128 ? 128 : rec->model_len), rec->model,
                            (int)(rec->version_len > 128 ? 128 : rec->version_len), rec->version);
    }
    double now_s = (double)mw_monitor_now_ms(m) / 1000.0;
    pthread_mutex_lock(&v->lock);
    int why = rejection(v, rec, now_s), closed;
    mw_status st;
    if (why >= 0) {
        v->rejected[why]++;
        st = mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s", reject_message(why));
    } else {
        mw_live_text txt;
        st = mw_live_text_single(v, rec, 0, &txt);
        if (st)
            mw_error_set(err, st, NULL, 0, 0, "out of memory describing texts");
        else
            st = mw_vstate_observe(m, v, rec, &txt, now_s, &closed, err);
        mw_status fst = mw_labels_flush(m, v);
        if (!st && fst) st = mw_error_set(err, fst, NULL, 0, 0, "out of memory observing a record");
    }
    pthread_mutex_unlock(&v->lock);
    return st;
}

/* ---- bulk ingestion ------------------------------------------------------------ */

/* A parsed record, owned by the batch: the record itself is batch.views[i],
 * parsed straight into it (a copy of the parser's output was ~370 bytes a
 * record); its strings are in the body or, when the parser had to unescape
 * them, in batch.text (offsets until fixed up); its arrays are set once
 * parsing is done. This is what the batch needs besides. */
typedef struct parsed {
    mw_vstate *v;                      /* its version; NULL once applied */
    mw_vstate *owner;                  /* its version, kept */
    size_t feat, nfeat;                /* into batch.features */
    size_t score, nscore;              /* the scores, also into batch.features */
    size_t emb;                        /* its embedding in batch.emb */
    size_t prompt_raw, completion_raw; /* their values in the body: offset + 1, 0 = absent */
    size_t prompt_raw_len, completion_raw_len;
    size_t off, jlen; /* the record's bytes in the body, for the journal */
    size_t len;       /* jlen once accepted, else 0 */
    uint64_t line;
    int same_names; /* the batch's record before has its names (the parser knows) */
} parsed;

typedef struct batch {
    parsed *recs;
    size_t n, cap;
    mw_feature *features;
    size_t nfeat, featcap;
    mw_buf text; /* unescaped strings (outside the body) */
    int moved;   /* a string was moved into text (fix_strings has work) */
    double *emb; /* the records' embeddings, one after the other */
    size_t nemb, embcap;
    mw_record *views; /* the records (see parsed) */
    size_t viewcap;
    int pre_encoded; /* the journal row of every record is in the work's blob (encode_early) */
} batch;

/* A request's working buffers, kept in the monitor's pool between requests
 * (their growth by realloc and first-touch page faults cost ~1,100
 * instructions per record in bench_journal when made anew each time). */
struct mw_ingest_work {
    batch b;
    mw_record_parser *p;
    mw_buf blob; /* the journal row being written */
};

#define WORK_KEEP_BYTES ((size_t)32 << 20) /* larger sets are freed, not kept */

static void work_free(struct mw_ingest_work *w) {
    if (!w) return;
    free(w->b.recs);
    free(w->b.features);
    free(w->b.emb);
    free(w->b.views);
    free(w->b.text.data);
    free(w->blob.data);
    mw_record_parser_free(w->p);
    free(w);
}

static struct mw_ingest_work *work_take(mw_monitor *m) {
    pthread_mutex_lock(&m->unknown_lock);
    struct mw_ingest_work *w = m->nwork_pool ? m->work_pool[--m->nwork_pool] : NULL;
    pthread_mutex_unlock(&m->unknown_lock);
    if (w) return w;
    if (!(w = calloc(1, sizeof *w))) return NULL;
    if (!(w->p = mw_record_parser_new())) {
        free(w);
        return NULL;
    }
    return w;
}

static void work_give_back(mw_monitor *m, struct mw_ingest_work *w) {
    batch *b = &w->b;
    size_t bytes = b->cap * sizeof *b->recs + b->featcap * sizeof *b->features +
                   b->embcap * sizeof *b->emb + b->viewcap * sizeof *b->views + b->text.cap +
                   w->blob.cap;
    if (bytes > WORK_KEEP_BYTES || b->text.failed || w->blob.failed) {
        work_free(w);
        return;
    }
    b->n = b->nfeat = b->nemb = 0;
    b->text.len = 0;
    b->moved = 0;
    w->blob.len = 0;
    pthread_mutex_lock(&m->unknown_lock);
    if (m->nwork_pool < MW_INGEST_POOL) {
        m->work_pool[m->nwork_pool++] = w;
        w = NULL;
    }
    pthread_mutex_unlock(&m->unknown_lock);
    work_free(w);
}

void mw_ingest_pool_free(mw_monitor *m) {
    for (size_t i = 0; i < m->nwork_pool; i++)
        work_free(m->work_pool[i]);
    m->nwork_pool = 0;
}

static void add_error(mw_ingest_result *res, uint64_t line, const char *msg) {
    res->rejected++;
    if (res->nerrors >= MW_INGEST_MAX_ERRORS) return;
    res->errors[res->nerrors].line = line;
    size_t n = strlen(msg), cap = sizeof res->errors[0].message - 1;
    memcpy(res->errors[res->nerrors].message, msg, n < cap ? n : cap);
    res->errors[res->nerrors].message[n < cap ? n : cap] = 0;
    res->nerrors++;
}

/* The record object's bytes within an iterator step: trims separators. */
static inline int is_separator(char c) {
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == ',' || c == '[' || c == ']';
}

static void trim_span(const char *body, size_t *off, size_t *len) {
    while (*len && is_separator(body[*off])) {
        (*off)++;
        (*len)--;
    }
    while (*len && is_separator(body[*off + *len - 1]))
        (*len)--;
}

/* Strings outside the body live in the parser's scratch: copy them into the
 * batch (as an offset + 1 in the pointer, fixed up after parsing). */
static const char *keep_string(batch *b, const char *body, size_t blen, const char *s, size_t n) {
    if (!s || (s >= body && s + n <= body + blen)) return s;
    uintptr_t at = b->text.len + 1;
    mw_buf_put(&b->text, s, n);
    b->moved = 1;
    return (const char *)at;
}

/* Where a text value was written in the body (offset + 1), 0 when absent. */
static size_t raw_offset(const char *body, size_t blen, const char *raw, size_t len) {
    return raw && raw >= body && raw + len <= body + blen ? (size_t)(raw - body) + 1 : 0;
}

/* Appends n features to the batch: copied as they are, then the strings
 * that are not in the body (decoded escapes: only when decoded is set) moved
 * into the batch's text. */
static void keep_features(batch *b, const char *body, size_t blen, const mw_feature *f, size_t n,
                          int decoded) {
    if (!n) return;
    mw_feature *out = b->features + b->nfeat;
    memcpy(out, f, n * sizeof *f);
    b->nfeat += n;
    for (size_t i = 0; decoded && i < n; i++) {
        out[i].name = keep_string(b, body, blen, out[i].name, out[i].name_len);
        if (out[i].kind == MW_VALUE_STRING)
            out[i].str = keep_string(b, body, blen, out[i].str, out[i].str_len);
    }
}

static mw_status keep_record(batch *b, mw_vstate *v, mw_record *rec, int decoded, int same_names,
                             const char *body, size_t blen, size_t off, size_t len, uint64_t line) {
    if (mw_grow((void **)&b->recs, &b->cap, b->n + 1, sizeof *b->recs) ||
        mw_grow((void **)&b->features, &b->featcap, b->nfeat + rec->nfeatures + rec->nscores,
                sizeof *b->features) ||
        mw_grow((void **)&b->emb, &b->embcap, b->nemb + rec->embedding_len + 1, sizeof *b->emb))
        return MW_ENOMEM;
    b->recs[b->n] = (parsed){
        .v = v,
        .owner = v,
        .feat = b->nfeat,
        .nfeat = rec->nfeatures,
        .score = b->nfeat + rec->nfeatures,
        .nscore = rec->nscores,
        .emb = b->nemb,
        .prompt_raw = raw_offset(body, blen, rec->prompt_raw, rec->prompt_raw_len),
        .completion_raw = raw_offset(body, blen, rec->completion_raw, rec->completion_raw_len),
        .prompt_raw_len = rec->prompt_raw_len,
        .completion_raw_len = rec->completion_raw_len,
        .off = off,
        .jlen = len,
        .len = 0,
        .line = line,
        .same_names = same_names};
    b->n++;                           /* rec was parsed into b->views[b->n]: it stays there */
    rec->model = rec->version = NULL; /* the version is r->v (an alias's name was on the stack) */
    rec->model_len = rec->version_len = 0;
    rec->label = (mw_feature){0};
    rec->prompt_raw = rec->completion_raw = NULL; /* (offsets in parsed) */
    rec->error = keep_string(b, body, blen, rec->error, rec->error_len);
    rec->finish_reason = keep_string(b, body, blen, rec->finish_reason, rec->finish_reason_len);
    rec->id = keep_string(b, body, blen, rec->id, rec->id_len);
    rec->prompt = keep_string(b, body, blen, rec->prompt, rec->prompt_len);
    rec->completion = keep_string(b, body, blen, rec->completion, rec->completion_len);
    if (rec->prediction.kind == MW_VALUE_STRING)
        rec->prediction.str =
            keep_string(b, body, blen, rec->prediction.str, rec->prediction.str_len);
    if (rec->embedding_len)
        memcpy(b->emb + b->nemb, rec->embedding, rec->embedding_len * sizeof *b->emb);
    b->nemb += rec->embedding_len;
    keep_features(b, body, blen, rec->features, rec->nfeatures, decoded);
    keep_features(b, body, blen, rec->scores, rec->nscores, decoded);
    return b->text.failed ? MW_ENOMEM : MW_OK;
}

/* Turns the offsets left by keep_string into pointers (the text buffer no
 * longer moves). */
static const char *fixed(const batch *b, const char *body, size_t blen, const char *s) {
    if (!s || (s >= body && s <= body + blen)) return s;
    return (const char *)b->text.data + ((uintptr_t)s - 1);
}

/* Points each record at its arrays (which no longer move) and turns the
 * offsets left by keep_string into pointers. */
static void fix_records(batch *b, const char *body, size_t blen) {
    for (size_t i = 0; i < b->n; i++) {
        const parsed *r = &b->recs[i];
        mw_record *o = &b->views[i];
        o->features = &b->features[r->feat];
        o->scores = &b->features[r->score];
        o->embedding = o->embedding ? b->emb + r->emb : NULL;
    }
    if (!b->moved) return; /* (a loop over every feature otherwise) */
    for (size_t i = 0; i < b->nfeat; i++) {
        mw_feature *f = &b->features[i];
        f->name = fixed(b, body, blen, f->name);
        if (f->kind == MW_VALUE_STRING) f->str = fixed(b, body, blen, f->str);
    }
    for (size_t i = 0; i < b->n; i++) {
        mw_record *o = &b->views[i];
        o->error = fixed(b, body, blen, o->error);
        o->finish_reason = fixed(b, body, blen, o->finish_reason);
        o->id = fixed(b, body, blen, o->id);
        o->prompt = fixed(b, body, blen, o->prompt);
        o->completion = fixed(b, body, blen, o->completion);
        if (o->prediction.kind == MW_VALUE_STRING)
            o->prediction.str = fixed(b, body, blen, o->prediction.str);
    }
}

/* "@alias" of rec's model to the alias's version (registry_cache.c); 0 with
 * why filled when it cannot be resolved. */
static int resolve_alias(mw_monitor *m, const mw_record *rec, char *out, size_t outsz, char *why,
                         size_t whysz) {
    char model[MW_MAX_NAME + 1], alias[MW_MAX_NAME + 1];
    if (rec->model_len > MW_MAX_NAME || rec->version_len > MW_MAX_NAME) {
        snprintf(why, whysz, "model or alias name longer than %d bytes", MW_MAX_NAME);
        return 0;
    }
    memcpy(model, rec->model, rec->model_len);
    model[rec->model_len] = 0;
    memcpy(alias, rec->version + 1, rec->version_len - 1);
    alias[rec->version_len - 1] = 0;
    return mw_regcache_resolve(m, model, alias, out, outsz, why, whysz);
}

/* An accepted record whose embedding was rejected (lock held): counted, and
 * the first ones get a line in the response. */
static void embedding_warning(const mw_vstate *v, const mw_record *rec, uint64_t line,
                              mw_ingest_result *res) {
    res->embeddings_rejected++;
    if (res->nwarnings >= MW_INGEST_MAX_ERRORS) return;
    mw_ingest_error *w = &res->warnings[res->nwarnings++];
    w->line = line;
    size_t dim = v->baseline && v->baseline->emb ? v->baseline->emb->dim : 0;
    if (v->win.emb_last == MW_EMB_BAD_DIM)
        snprintf(w->message, sizeof w->message,
                 "\"embedding\" has %zu numbers, the reference's dimension is %zu: the embedding "
                 "was left out, the rest of the record accepted",
                 rec->embedding_len, dim);
    else
        snprintf(w->message, sizeof w->message,
                 "\"embedding\" holds a value that is not a finite number: the embedding was "
                 "left out, the rest of the record accepted");
}

/* Phase 1, no lock held: parse every record, find its version, keep it. */
static mw_status parse_all(mw_monitor *m, const char *body, size_t len, batch *b,
                           mw_record_parser *p, mw_ingest_result *res) {
    mw_record_iter it;
    mw_record_iter_init(&it, body, len);
    /* the last version found, by its names as written: a batch is usually
     * one version, and a lookup (key, hash, lock) was ~330 instructions */
    char last_model[MW_MAX_NAME], last_version[MW_MAX_NAME];
    size_t last_ml = 0, last_vl = 0;
    mw_vstate *last_v = NULL;
    int last_kept = 0; /* the last record parsed went into the batch */
    for (;;) {
        size_t before = it.pos;
        /* parsed straight into the batch's next record (kept if it is accepted) */
        if (mw_grow((void **)&b->views, &b->viewcap, b->n + 1, sizeof *b->views)) return MW_ENOMEM;
        mw_record *rec = &b->views[b->n];
        mw_error e; /* cleared by the iterator (a memset here was ~110 instructions) */
        int r = mw_record_iter_next(&it, p, rec, &e);
        if (r == 0) break;
        /* its names are the batch's record before's when they are the last
         * record parsed's and that one went into the batch */
        int same_names = r > 0 && last_kept && mw_record_parser_same_names(p);
        if (r > 0) last_kept = 0; /* (until kept below) */
        if (r < 0) {              /* no trustworthy model/version to count it under */
            add_error(res, it.line, e.message);
            pthread_mutex_lock(&m->unknown_lock);
            m->rejected_invalid++;
            pthread_mutex_unlock(&m->unknown_lock);
            continue;
        }
        char target[MW_MAX_NAME + 1], why[200];
        mw_vstate *v = NULL;
        if (last_v && rec->model_len == last_ml && rec->version_len == last_vl &&
            !memcmp(rec->model, last_model, last_ml) &&
            !memcmp(rec->version, last_version, last_vl))
            v = last_v;
        if (!v && rec->version_len > 1 && rec->version[0] == '@') { /* a registry alias */
            if (!resolve_alias(m, rec, target, sizeof target, why, sizeof why)) {
                add_error(res, it.line, why);
                pthread_mutex_lock(&m->unknown_lock);
                m->rejected_unknown++;
                pthread_mutex_unlock(&m->unknown_lock);
                continue;
            }
            rec->version = target;
            rec->version_len = strlen(target);
        }
        if (!v &&
            !(v = mw_monitor_find(m, rec->model, rec->model_len, rec->version, rec->version_len))) {
            char msg[200];
            snprintf(msg, sizeof msg,
                     "model \"%.*s\" version \"%.*s\" is not registered: register it with PUT "
                     "/api/v1/models/{model}/versions/{version}",
                     (int)(rec->model_len > 40 ? 40 : rec->model_len), rec->model,
                     (int)(rec->version_len > 40 ? 40 : rec->version_len), rec->version);
            add_error(res, it.line, msg);
            pthread_mutex_lock(&m->unknown_lock);
            m->rejected_unknown++;
            pthread_mutex_unlock(&m->unknown_lock);
            continue;
        }
        if (v != last_v && rec->version != target && rec->model_len <= MW_MAX_NAME &&
            rec->version_len <= MW_MAX_NAME) { /* not an alias: remembered */
            memcpy(last_model, rec->model, rec->model_len);
            memcpy(last_version, rec->version, rec->version_len);
            last_ml = rec->model_len;
            last_vl = rec->version_len;
            last_v = v;
        }
        size_t off = before, sl = it.pos - before;
        trim_span(body, &off, &sl);
        mw_status st = keep_record(b, v, rec, mw_record_parser_decoded(p), same_names, body, len,
                                   off, sl, it.line);
        if (st) return st;
        last_kept = 1;
    }
    fix_records(b, body, len);
    return MW_OK;
}

/* Bytes of a journal row's header: the arrival time, and the format bytes of
 * binary rows. */
static size_t row_header_len(int binary) {
    return 8 + (binary ? 2 : 0);
}

/* Starts a journal row with its header (row_header_len bytes). */
static void row_header(mw_buf *blob, int64_t now_ms, int binary) {
    blob->len = 0;
    mw_buf_u64(blob, (uint64_t)now_ms);
    if (binary) {
        mw_buf_u8(blob, MW_JOURNAL_BINARY);
        mw_buf_u8(blob, MW_JOURNAL_BINARY_FORMAT);
    }
}

/*
 * The journal row of a batch that is one version's records without text,
 * encoded before the version's locks (in parallel with other requests):
 * apply_version uses it when every record was accepted into the open window,
 * the usual case, and otherwise encodes the accepted ones itself. The row is
 * what apply_version would write: the same records in the same order.
 * Encoding under the journal's lock made that lock the longest serial stage.
 */
static void encode_early(mw_monitor *m, batch *b, mw_buf *blob, int64_t now_ms) {
    b->pre_encoded = 0;
    if (!m->store || !b->n) return;
    mw_vstate *v = b->recs[0].owner;
    for (size_t i = 0; i < b->n; i++) {
        const parsed *r = &b->recs[i];
        if (r->owner != v || !r->v || r->prompt_raw || r->completion_raw || b->views[i].prompt ||
            b->views[i].completion)
            return;
    }
    row_header(blob, now_ms, 1);
    for (size_t i = 0; i < b->n; i++)
        mw_record_bin_put_same(blob, &b->views[i], i ? &b->views[i - 1] : NULL,
                               b->recs[i].same_names);
    b->pre_encoded = !blob->failed;
}

/*
 * Phase 2 for one version: under its lock, check and observe its records
 * (those from index `first` on that belong to v), marking the ones to journal;
 * then, holding only the journal lock, write them as one row. Records that
 * went into a window which closed during this batch are in that window's
 * stored result, and are left out of the journal row.
 */
static mw_status apply_version(mw_monitor *m, const char *body, batch *b, mw_buf *row, size_t first,
                               double now_s, int64_t now_ms, mw_ingest_result *res, mw_error *err) {
    mw_vstate *v = b->recs[first].v;
    size_t journal_from = first; /* records before this index are not journaled */
    mw_status st = MW_OK;
    /* accepted records, checked against the registry signature after the locks */
    const mw_record **acc = m->regcache ? malloc((b->n - first) * sizeof *acc) : NULL;
    size_t nacc = 0;
    pthread_mutex_lock(&v->lock);
    /* the descriptors of the records' texts, when the version monitors text:
     * observed, and journaled in place of the text */
    mw_text_batch tb;
    st = mw_text_batch_init(&tb, v, b->n - first);
    for (size_t i = first; i < b->n && !st; i++) {
        parsed *r = &b->recs[i];
        if (r->v != v) continue;
        r->v = NULL; /* done with this record */
        r->len = 0;  /* not journaled unless accepted */
        const mw_record *rec = &b->views[i];
        int why = rejection(v, rec, now_s), closed;
        if (why >= 0) {
            v->rejected[why]++;
            add_error(res, r->line, reject_message(why));
            continue;
        }
        mw_live_text *txt = NULL;
        if ((tb.set && (st = mw_text_batch_describe(&tb, i - first, rec, body + r->off, r->jlen,
                                                    &v->cfg.text, &txt))) ||
            (st = mw_vstate_observe(m, v, rec, txt, now_s, &closed, err)))
            break;
        res->accepted++;
        if (v->win.emb_last >= MW_EMB_BAD_DIM) embedding_warning(v, rec, r->line, res);
        if (acc) acc[nacc++] = rec;         /* (a pointer: a copy was a rep movs of 370 bytes) */
        r->len = r->jlen;                   /* accepted: journal it */
        if (txt && txt->unsafe) r->len = 0; /* a text not found in the line (not expected) */
        if (closed == CLOSED_BEFORE)
            journal_from = i; /* earlier ones are in the result */
        else if (closed == CLOSED_AFTER)
            journal_from = i + 1; /* this one too */
    }
    mw_status fst = mw_labels_flush(m, v); /* (before the body's strings go) */
    if (!st && fst) st = mw_error_set(err, fst, NULL, 0, 0, "out of memory observing a record");
    if (st || !m->store) {
        pthread_mutex_unlock(&v->lock);
        free(acc);
        mw_text_batch_free(&tb);
        return st;
    }
    pthread_mutex_lock(&v->jlock); /* before releasing the version: no commit in between */
    pthread_mutex_unlock(&v->lock);
    mw_buf blob = *row; /* the pool's buffer, given back below */
    /* binary records unless a record has text (prompt, completion, text
     * features): those rows stay NDJSON, with every text replaced */
    int binary = !(tb.set && tb.set->nfeat);
    int all_in = b->pre_encoded && binary && first == 0 && journal_from == 0;
    for (size_t i = 0; all_in && i < b->n; i++)
        all_in = b->recs[i].len != 0;
    if (all_in) goto append; /* encode_early wrote this row */
    for (size_t i = journal_from; i < b->n && binary; i++) {
        const parsed *r = &b->recs[i];
        if (!r->v && r->len && r->owner == v &&
            (r->prompt_raw || r->completion_raw || b->views[i].prompt || b->views[i].completion))
            binary = 0;
    }
    row_header(&blob, now_ms, binary);
    const mw_record *prev = NULL; /* the previous record journaled */
    for (size_t i = journal_from; i < b->n; i++) {
        parsed *r = &b->recs[i];
        if (r->v || !r->len || r->owner != v) continue;
        if (binary) {
            mw_record_bin_put_same(&blob, &b->views[i], prev,
                                   i > 0 && prev == &b->views[i - 1] && r->same_names);
            prev = &b->views[i];
            continue;
        }
        if (r->prompt_raw || r->completion_raw || (tb.set && tb.set->nfeat))
            mw_text_batch_journal(&tb, i - first, &blob, body + r->off, r->len,
                                  r->prompt_raw ? body + r->prompt_raw - 1 : NULL,
                                  r->prompt_raw_len,
                                  r->completion_raw ? body + r->completion_raw - 1 : NULL,
                                  r->completion_raw_len); /* raw text is never journaled */
        else
            mw_buf_put(&blob, body + r->off, r->len);
        mw_buf_u8(&blob, '\n');
    }
append:
    if (blob.failed) st = MW_ENOMEM;
    if (!st && blob.len > row_header_len(binary)) { /* a row with records */
        int64_t seq;
        st =
            mw_store_journal_append(m->store, v->model, v->version, blob.data, blob.len, &seq, err);
        if (!st) v->last_seq = seq;
    }
    pthread_mutex_unlock(&v->jlock);
    *row = blob;
    mw_text_batch_free(&tb);
    if (!st) mw_regcache_check(m, v->model, v->version, acc, nacc);
    free(acc);
    return st;
}

mw_status mw_monitor_ingest(mw_monitor *m, const char *body, size_t len, mw_ingest_result *res,
                            mw_error *err) {
    memset(res, 0, sizeof *res);
    int64_t now_ms = mw_monitor_now_ms(m);
    double now_s = (double)now_ms / 1000.0;
    struct mw_ingest_work *w = work_take(m);
    if (!w) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory ingesting records");
    batch *b = &w->b;
    mw_status st = parse_all(m, body, len, b, w->p, res);
    if (!st) encode_early(m, b, &w->blob, now_ms);
    /* versions in order of first appearance; a thread holds one lock at a time */
    for (size_t i = 0; i < b->n && !st; i++)
        if (b->recs[i].v) st = apply_version(m, body, b, &w->blob, i, now_s, now_ms, res, err);
    work_give_back(m, w);
    if (st == MW_ENOMEM) mw_error_set(err, st, NULL, 0, 0, "out of memory ingesting records");
    return st;
}

/* ---- replay ------------------------------------------------------------------ */

typedef struct replay_ctx {
    mw_monitor *m;
    mw_vstate *v;
    mw_record_parser *p;
    mw_record_bin_reader bin;
    mw_error *err;
    mw_status st;
} replay_ctx;

/* Observes one replayed record; 1 to stop (c->st set). */
static int replay_one(replay_ctx *c, const mw_record *rec, uint64_t arrival_ms) {
    int closed;
    mw_live_text txt;
    if ((c->st = mw_live_text_single(c->v, rec, 1, &txt))) {
        mw_error_set(c->err, c->st, NULL, 0, 0, "out of memory describing texts");
        return 1;
    }
    c->st = mw_vstate_observe(c->m, c->v, rec, &txt, (double)arrival_ms / 1000.0, &closed, c->err);
    return c->st != MW_OK;
}

/* A row of binary records (after the marker). */
static int replay_binary(replay_ctx *c, int64_t seq, const unsigned char *p,
                         const unsigned char *end, uint64_t arrival_ms) {
    if (p >= end || *p != MW_JOURNAL_BINARY_FORMAT) {
        c->st = mw_error_set(c->err, MW_ECORRUPT, NULL, 0, 0,
                             "journal row %lld: unknown record format %d (a newer modelwatch?)",
                             (long long)seq, p < end ? *p : -1);
        return 1;
    }
    p++;
    mw_record_bin_reader_reset(&c->bin);
    for (size_t k = 1; p < end; k++) {
        mw_record rec;
        mw_status st = mw_record_bin_read(&c->bin, &p, end, &rec);
        if (st) {
            c->st =
                st == MW_ENOMEM
                    ? mw_error_set(c->err, st, NULL, 0, 0, "out of memory replaying")
                    : mw_error_set(c->err, st, NULL, 0, 0,
                                   "journal row %lld: record %zu is corrupt", (long long)seq, k);
            return 1;
        }
        if (replay_one(c, &rec, arrival_ms)) return 1;
    }
    return 0;
}

static int replay_row_records(int64_t seq, const void *blob, size_t len, replay_ctx *c);

/* One journal row: its records observed, their predictions tracked before the
 * row's buffer goes. */
static int replay_row(int64_t seq, const void *blob, size_t len, void *arg) {
    replay_ctx *c = arg;
    int stop = replay_row_records(seq, blob, len, c);
    mw_status st = mw_labels_flush(c->m, c->v);
    if (st && !stop) {
        c->st = mw_error_set(c->err, st, NULL, 0, 0, "out of memory replaying");
        return 1;
    }
    return stop;
}

static int replay_row_records(int64_t seq, const void *blob, size_t len, replay_ctx *c) {
    mw_reader r = {blob, (const unsigned char *)blob + len, 0};
    uint64_t arrival_ms = mw_rd_u64(&r);
    if (r.failed) {
        c->st = mw_error_set(c->err, MW_ECORRUPT, NULL, 0, 0, "journal row %lld is truncated",
                             (long long)seq);
        return 1;
    }
    if (r.p < r.end && *r.p == MW_JOURNAL_BINARY) {
        if (replay_binary(c, seq, r.p + 1, r.end, arrival_ms)) return 1;
        c->v->last_seq = seq;
        return 0;
    }
    const char *text = (const char *)r.p;
    size_t tl = (size_t)(r.end - r.p);
    mw_record_iter it;
    mw_record_iter_init(&it, text, tl);
    mw_record rec;
    mw_error e;
    int k;
    while ((k = mw_record_iter_next(&it, c->p, &rec, &e)) != 0) {
        if (k < 0) continue;
        if (replay_one(c, &rec, arrival_ms)) return 1;
    }
    c->v->last_seq = seq;
    return 0;
}

mw_status mw_vstate_replay(mw_monitor *m, mw_vstate *v, mw_error *err) {
    if (!m->store || !v->baseline) return MW_OK;
    replay_ctx c = {.m = m, .v = v, .p = mw_record_parser_new(), .err = err};
    if (!c.p) return MW_ENOMEM;
    mw_status st = mw_store_journal_each(m->store, v->model, v->version, replay_row, &c, err);
    mw_record_parser_free(c.p);
    mw_record_bin_reader_free(&c.bin);
    return st ? st : c.st;
}
