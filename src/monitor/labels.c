/*
 * Predictions awaiting labels (labels_int.h): the monitor-wide pending index,
 * the tracking of each observed prediction that carries an id, the durable
 * blob of a closed window's predictions, its restore at start, and expiry
 * after the TTL. Joining labels is labels_ingest.c; window metrics are
 * labels_perf.c.
 *
 * Blob of a window's predictions (stored with the window's result, in the same
 * transaction): u8 format (2; 1 is still read), then per prediction u32 id
 * length, id bytes, u8 kind (0: class name, 1: number), then u32 length + name
 * bytes or f64; format 2 adds u8 has-score and, when set, the positive class
 * (u32 length + bytes) and the record's score for it (f64).
 */
#include "monitor/labels_int.h"
#include "monitor/monitor_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#define BLOB_FORMAT 2
#define EXPIRY_EVERY_S 60

/* ---- the index ---- */

mw_status mw_pending_init(mw_pending_index *p, size_t max_pending, double ttl_s) {
    memset(p, 0, sizeof *p);
    pthread_mutex_init(&p->lock, NULL);
    p->max_pending = max_pending ? max_pending : 10000000;
    p->ttl_s = ttl_s > 0 ? ttl_s : 7 * 86400.0;
    p->keys = mw_dict_new();
    return p->keys ? MW_OK : MW_ENOMEM;
}

void mw_pending_free(mw_pending_index *p) {
    mw_dict_free(p->keys);
    free(p->e);
    pthread_mutex_destroy(&p->lock);
    memset(p, 0, sizeof *p);
}

/* Adds a prediction; 0 added, 1 the id is already pending (the first one is
 * kept), 2 the index is full, -1 out of memory. Lock held. While the index
 * has room, one intern both finds a known key and adds a new one (a code
 * below the size before it is a known key): one hash instead of two. */
static int pending_add(mw_pending_index *p, const char *key, size_t kl, const mw_pending *e) {
    uint32_t code;
    if (p->live >= p->max_pending) /* full: a known id still counts as repeated */
        return mw_dict_find(p->keys, key, kl, &code) && p->e[code].live ? 1 : 2;
    /* room first (before is a new key's code): no key without its entry */
    size_t before = mw_dict_size(p->keys);
    if (before >= p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 1024;
        while (cap <= before)
            cap *= 2;
        mw_pending *grown = realloc(p->e, cap * sizeof *grown);
        if (!grown) return -1;
        p->e = grown;
        p->cap = cap;
    }
    if (mw_dict_intern(p->keys, key, kl, &code)) return -1;
    if (code < before && p->e[code].live) return 1;
    p->e[code] = *e;
    p->e[code].live = 1;
    p->e[code].labelled = 0;
    p->live++;
    return 0;
}

/* ---- classes and tasks ---- */

const char *mw_labels_class_text(const mw_feature *f, char *buf, size_t *len) {
    if (f->kind == MW_VALUE_STRING) {
        *len = f->str_len;
        return f->str;
    }
    if (f->kind != MW_VALUE_NUMBER) return NULL;
    double x = f->number;
    int n;
    if (x >= 0 && x < 10 && !signbit(x) && x == (double)(int)x) { /* 0..9: classes of most */
        buf[0] = (char)('0' + (int)x);                            /* classifiers, one digit */
        buf[1] = 0;
        *len = 1;
        return buf;
    }
    if (x == floor(x) && fabs(x) < 1e15) { /* 1 and 1.0 are the class "1" */
        /* "%.0f" by hand: snprintf was ~1,100 instructions of every record
         * with an id and a prediction (bench_journal) */
        char tmp[24];
        uint64_t u = (uint64_t)fabs(x);
        size_t k = 0;
        do {
            tmp[k++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        n = 0;
        if (signbit(x)) buf[n++] = '-'; /* -0.0 prints "-0" as "%.0f" does */
        while (k)
            buf[n++] = tmp[--k];
        buf[n] = 0;
    } else {
        for (int prec = 1;; prec++) { /* the shortest text that reads back */
            n = snprintf(buf, 32, "%.*g", prec, x);
            if (prec >= 17 || strtod(buf, NULL) == x) break;
        }
    }
    *len = (size_t)n;
    return buf;
}

int mw_labels_task_for(mw_vlabels *vl, const mw_feature *f) {
    if (vl->task == MW_TASK_AUTO && f->kind != MW_VALUE_MISSING)
        vl->task = f->kind == MW_VALUE_NUMBER && f->number != floor(f->number)
                       ? MW_TASK_REGRESSION
                       : MW_TASK_CLASSIFICATION;
    return vl->task;
}

mw_status mw_vlabels_init(mw_vlabels *vl, int task) {
    memset(vl, 0, sizeof *vl);
    pthread_mutex_init(&vl->lock, NULL);
    vl->task = task;
    vl->classes = mw_dict_new();
    vl->open = calloc(1, sizeof *vl->open);
    return vl->classes && vl->open ? MW_OK : MW_ENOMEM;
}

void mw_vlabels_free(mw_vlabels *vl) {
    for (size_t i = 0; i < vl->nw; i++) {
        mw_confusion_free(vl->w[i].cm);
        mw_rank_acc_free(vl->w[i].rank);
    }
    free(vl->w);
    free(vl->deferred);
    if (vl->open) free(vl->open->data);
    free(vl->open);
    mw_dict_free(vl->classes);
    pthread_mutex_destroy(&vl->lock);
    memset(vl, 0, sizeof *vl);
}

/* ---- tracking one prediction ---- */

/* Appends a prediction to the open window's blob (vl->lock held). */
static unsigned char *put_str(unsigned char *o, const char *s, size_t n) {
    mw_put_le32(o, (uint32_t)n);
    if (n) memcpy(o + 4, s, n);
    return o + 4 + n;
}

static unsigned char *put_f64(unsigned char *o, double x) {
    uint64_t u;
    memcpy(&u, &x, 8);
    mw_put_le64(o, u);
    return o + 8;
}

/* (one reservation and direct stores: the mw_buf_* call per field was ~280
 * instructions of every tracked prediction) */
static int append_open(mw_vlabels *vl, const char *id, size_t il, const mw_feature *pred,
                       const char *cls, size_t cl, const mw_feature *pos) {
    mw_buf *b = vl->open;
    size_t need = 1 + 4 + il + 1 + 4 + cl + 8 + 1 + (pos ? 4 + pos->name_len + 8 : 0);
    if (!mw_buf_reserve(b, need)) return 0;
    unsigned char *o = b->data + b->len;
    if (b->len == 0) *o++ = BLOB_FORMAT;
    o = put_str(o, id, il);
    *o++ = cls ? 0 : 1;
    o = cls ? put_str(o, cls, cl) : put_f64(o, pred->number);
    *o++ = pos != NULL;
    if (pos) {
        o = put_str(o, pos->name, pos->name_len);
        o = put_f64(o, pos->number);
    }
    b->len = (size_t)(o - b->data);
    return 1;
}

/* The code of class cls (vl->lock held): from the recent ones, else interned. */
static mw_status class_code(mw_vlabels *vl, const char *cls, size_t cl, uint32_t *code) {
    const size_t nrecent = sizeof vl->recent / sizeof vl->recent[0];
    for (size_t i = 0; i < nrecent; i++)
        if (vl->recent[i].len == cl && cl && mw_bytes_equal(vl->recent[i].text, cls, cl)) {
            *code = vl->recent[i].code;
            return MW_OK;
        }
    mw_status st = mw_dict_intern(vl->classes, cls, cl, code);
    if (!st && cl && cl <= sizeof vl->recent[0].text) {
        size_t i = vl->recent_next++ % nrecent;
        memcpy(vl->recent[i].text, cls, cl);
        vl->recent[i].len = cl;
        vl->recent[i].code = *code;
    }
    return st;
}

/* Tracks one prediction of v's window starting at start; open: it is in the
 * open window (its blob grows). vl->lock and the pending index's lock held. */
static mw_status track_locked(mw_monitor *m, mw_vstate *v, const char *id, size_t il,
                              const mw_feature *pred, const mw_feature *pos, double start,
                              int open) {
    mw_vlabels *vl = &v->labels;
    char buf[32];
    size_t cl = 0;
    mw_pending e = {
        .v = v, .window_start = start, .value = NAN, .pos_code = MW_PERF_MISSING, .pos_score = NAN};
    const char *cls = NULL;
    int task = mw_labels_task_for(vl, pred);
    int ok = 1;
    if (task == MW_TASK_CLASSIFICATION) {
        cls = mw_labels_class_text(pred, buf, &cl);
        ok = cls && class_code(vl, cls, cl, &e.code) == MW_OK;
        if (ok && pos && mw_dict_intern(vl->classes, pos->name, pos->name_len, &e.pos_code)) ok = 0;
        e.pos_score = pos ? pos->number : NAN;
    } else {
        ok = pred->kind == MW_VALUE_NUMBER;
        e.value = pred->number;
    }
    char key[2 * 1100];
    size_t kl = ok ? mw_monitor_key(key, sizeof key, v->model, strlen(v->model), id, il) : 0;
    int added = ok && kl ? pending_add(&m->pending, key, kl, &e) : -1;
    if (ok && added < 0 && kl) return MW_ENOMEM;
    if (!ok || added != 0) { /* not a class / number, repeated id (the first counts), full,
                                or id too long */
        vl->predictions_untracked++;
        return MW_OK;
    }
    mw_wperf *w = mw_wperf_get(vl, start, 1);
    if (!w || (open && !append_open(vl, id, il, pred, cls, cl, pos))) return MW_ENOMEM;
    w->predictions++;
    return MW_OK;
}

/* Both locks, in their order (labels_int.h). */
static void lock_both(mw_monitor *m, mw_vlabels *vl) {
    pthread_mutex_lock(&vl->lock);
    pthread_mutex_lock(&m->pending.lock);
}

static void unlock_both(mw_monitor *m, mw_vlabels *vl) {
    pthread_mutex_unlock(&m->pending.lock);
    pthread_mutex_unlock(&vl->lock);
}

static mw_status track(mw_monitor *m, mw_vstate *v, const char *id, size_t il,
                       const mw_feature *pred, const mw_feature *pos, double start, int open) {
    lock_both(m, &v->labels);
    mw_status st = track_locked(m, v, id, il, pred, pos, start, open);
    unlock_both(m, &v->labels);
    return st;
}

/* 1 when class name a comes after b in scikit-learn's order of labels:
 * numerically when both read as numbers, else by bytes. */
static int class_after(const char *a, size_t al, const char *b, size_t bl) {
    char x[64], y[64], *ex, *ey;
    if (al < sizeof x && bl < sizeof y) {
        memcpy(x, a, al), x[al] = 0;
        memcpy(y, b, bl), y[bl] = 0;
        double u = strtod(x, &ex), w = strtod(y, &ey);
        if (al && bl && !*ex && !*ey) return u > w;
    }
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c > 0 : al > bl;
}

/* The positive class's score of a binary classifier's record: with exactly
 * two scores, the one of the greater class (scikit-learn's positive label). */
static const mw_feature *positive_score(const mw_record *rec) {
    if (rec->nscores != 2) return NULL;
    const mw_feature *a = &rec->scores[0], *b = &rec->scores[1];
    if (a->kind != MW_VALUE_NUMBER || b->kind != MW_VALUE_NUMBER) return NULL;
    return class_after(a->name, a->name_len, b->name, b->name_len) ? a : b;
}

/*
 * A record's prediction waits in v->labels.deferred (v->lock held, no other
 * lock) until mw_labels_flush tracks the lot in one hold of the two locks: a
 * hold of each per record was ~3 % of the daemon's ingestion CPU, under the
 * version's lock (their atomic instructions also wait for the stores before
 * them). The record's strings must live until the flush.
 */
mw_status mw_labels_observe(mw_monitor *m, mw_vstate *v, const mw_record *rec,
                            double window_start) {
    (void)m;
    if (!rec->id || rec->id_len == 0 || rec->prediction.kind == MW_VALUE_MISSING) return MW_OK;
    mw_vlabels *vl = &v->labels;
    if (mw_grow((void **)&vl->deferred, &vl->capdeferred, vl->ndeferred + 1, sizeof *vl->deferred))
        return MW_ENOMEM;
    const mw_feature *pos = positive_score(rec);
    vl->deferred[vl->ndeferred++] = (mw_label_deferred){.id = rec->id,
                                                        .id_len = rec->id_len,
                                                        .prediction = rec->prediction,
                                                        .pos = pos ? *pos : (mw_feature){0},
                                                        .has_pos = pos != NULL,
                                                        .window_start = window_start};
    return MW_OK;
}

mw_status mw_labels_flush(mw_monitor *m, mw_vstate *v) {
    mw_vlabels *vl = &v->labels;
    if (!vl->ndeferred) return MW_OK;
    mw_status st = MW_OK;
    lock_both(m, vl);
    for (size_t i = 0; i < vl->ndeferred && !st; i++) {
        const mw_label_deferred *d = &vl->deferred[i];
        st = track_locked(m, v, d->id, d->id_len, &d->prediction, d->has_pos ? &d->pos : NULL,
                          d->window_start, 1);
    }
    unlock_both(m, vl);
    vl->ndeferred = 0;
    return st;
}

void mw_labels_take_open(mw_vstate *v, unsigned char **blob, size_t *len) {
    mw_vlabels *vl = &v->labels;
    pthread_mutex_lock(&vl->lock);
    *blob = vl->open->len && !vl->open->failed ? vl->open->data : NULL;
    *len = *blob ? vl->open->len : 0;
    if (!*blob) free(vl->open->data);
    memset(vl->open, 0, sizeof *vl->open);
    pthread_mutex_unlock(&vl->lock);
}

void mw_labels_put_back_open(mw_vstate *v, unsigned char *blob, size_t len) {
    if (!blob) return;
    mw_vlabels *vl = &v->labels;
    pthread_mutex_lock(&vl->lock); /* v->lock is held: nothing was appended meanwhile */
    free(vl->open->data);
    vl->open->data = blob;
    vl->open->len = vl->open->cap = len;
    vl->open->failed = 0;
    pthread_mutex_unlock(&vl->lock);
}

/* ---- restore ---- */

mw_status mw_labels_restore_window(mw_monitor *m, mw_vstate *v, double start, const void *blob,
                                   size_t len, mw_error *err) {
    mw_reader r = {blob, (const unsigned char *)blob + len, 0};
    uint8_t format = len ? mw_rd_u8(&r) : BLOB_FORMAT;
    if (format != 1 && format != BLOB_FORMAT) r.failed = 1;
    while (!r.failed && r.p < r.end) {
        size_t il;
        const char *id = mw_rd_str(&r, &il);
        uint8_t kind = mw_rd_u8(&r);
        mw_feature f = {.kind = MW_VALUE_NUMBER};
        if (kind == 0) {
            f.kind = MW_VALUE_STRING;
            f.str = mw_rd_str(&r, &f.str_len);
        } else {
            f.number = mw_rd_f64(&r);
        }
        mw_feature pos = {.kind = MW_VALUE_NUMBER};
        int has_pos = format >= 2 && mw_rd_u8(&r);
        if (has_pos) {
            pos.name = mw_rd_str(&r, &pos.name_len);
            pos.number = mw_rd_f64(&r);
        }
        if (r.failed) break;
        mw_status st = track(m, v, id, il, &f, has_pos ? &pos : NULL, start, 0);
        if (st) return mw_error_set(err, st, NULL, 0, 0, "out of memory restoring predictions");
    }
    if (r.failed)
        return mw_error_set(err, MW_ECORRUPT, NULL, 0, 0,
                            "%s/%s: the stored predictions of the window starting at %.0f are "
                            "truncated",
                            v->model, v->version, start);
    return MW_OK;
}

/* ---- expiry ---- */

/* Rebuilds the index without the predictions of windows before cutoff. */
static void rebuild_index(mw_pending_index *p, double cutoff) {
    mw_dict *keys = mw_dict_new();
    mw_pending *e = malloc((p->live + 1) * sizeof *e);
    if (!keys || !e) {
        mw_dict_free(keys);
        free(e);
        return; /* keep the old index; expiry is tried again later */
    }
    size_t n = mw_dict_size(p->keys), live = 0;
    for (uint32_t c = 0; c < n; c++) {
        if (!p->e[c].live || p->e[c].window_start < cutoff) continue;
        size_t kl;
        const char *k = mw_dict_str(p->keys, c, &kl);
        uint32_t code;
        if (mw_dict_intern(keys, k, kl, &code)) {
            mw_dict_free(keys);
            free(e);
            return;
        }
        e[code] = p->e[c];
        live++;
    }
    mw_dict_free(p->keys);
    free(p->e);
    p->keys = keys;
    p->e = e;
    p->cap = p->live + 1;
    p->live = live;
}

void mw_labels_expire(mw_monitor *m, double now_s) {
    mw_pending_index *p = &m->pending;
    if (now_s - p->last_expiry < EXPIRY_EVERY_S) return;
    p->last_expiry = now_s;
    double cutoff = now_s - p->ttl_s;
    pthread_rwlock_rdlock(&m->reg_lock);
    for (size_t i = 0; i < m->nversions; i++) {
        mw_vlabels *vl = &m->versions[i]->labels;
        pthread_mutex_lock(&vl->lock);
        mw_wperf_drop_before(vl, cutoff);
        pthread_mutex_unlock(&vl->lock);
    }
    pthread_rwlock_unlock(&m->reg_lock);
    pthread_mutex_lock(&p->lock);
    rebuild_index(p, cutoff);
    pthread_mutex_unlock(&p->lock);
    mw_error err;
    if (m->store && mw_store_labels_expire(m->store, cutoff, &err))
        fprintf(stderr, "modelwatch: expiring labels: %s\n", err.message);
}
