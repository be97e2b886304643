/*
 * Joining labels to predictions (monitor.h mw_monitor_labels): each label
 * line {"model", "id", "label", "version" optional} finds its pending
 * prediction, and the window that prediction belongs to is credited. The
 * matched lines are written to the label journal before anything changes, and
 * replayed at start in the same order, so the windows' performance after a
 * restart is what it was.
 *
 * Per line: find the prediction (pending lock), code the label with the
 * version's classes (its labels lock); after the journal write: mark the
 * prediction labelled (pending lock; a second label is a duplicate) and credit
 * its window (labels lock). No two of these locks are held at once.
 */
#include "monitor/labels_int.h"
#include "monitor/monitor_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* A label found to match, between the two passes. */
typedef struct joined {
    const char *model, *id; /* in the body, or the parser's scratch (copied below) */
    size_t model_len, id_len;
    mw_vstate *v;
    uint32_t code; /* classification: the label's class */
    double value;  /* regression: the label */
    size_t off, len; /* the line in the body, for the journal */
} joined;

typedef struct join_ctx {
    mw_monitor *m;
    mw_labels_result *res;
    joined *j;
    size_t n, cap;
    mw_buf keys; /* model and id bytes that were unescaped (outside the body) */
} join_ctx;

static void reject(mw_labels_result *res, uint64_t line, const char *msg) {
    res->rejected++;
    if (res->nerrors >= MW_INGEST_MAX_ERRORS) return;
    res->errors[res->nerrors].line = line;
    snprintf(res->errors[res->nerrors].message, sizeof res->errors[0].message, "%.255s", msg);
    res->nerrors++;
}

/* The pending prediction of (model, id), copied; 1 when found. */
static int find(mw_monitor *m, const char *model, size_t ml, const char *id, size_t il,
                mw_pending *out, int mark, int *duplicate) {
    char key[2 * 1100];
    size_t kl = mw_monitor_key(key, sizeof key, model, ml, id, il);
    if (!kl) return 0;
    uint32_t code;
    int found = 0;
    pthread_mutex_lock(&m->pending.lock);
    if (mw_dict_find(m->pending.keys, key, kl, &code) && m->pending.e[code].live) {
        found = 1;
        *out = m->pending.e[code];
        if (mark) {
            *duplicate = m->pending.e[code].labelled;
            m->pending.e[code].labelled = 1;
        }
    }
    pthread_mutex_unlock(&m->pending.lock);
    return found;
}

/* Codes the label for v; 0 with msg when it cannot be this version's label. */
static int code_label(mw_vstate *v, const mw_feature *label, uint32_t *code, double *value,
                      char *msg, size_t msgsz) {
    mw_vlabels *vl = &v->labels;
    int ok = 1;
    pthread_mutex_lock(&vl->lock);
    if (vl->task == MW_TASK_REGRESSION) {
        ok = label->kind == MW_VALUE_NUMBER;
        *value = label->number;
        if (!ok) snprintf(msg, msgsz, "\"label\": %s/%s is a regression model: expected a number",
                          v->model, v->version);
    } else {
        char buf[32];
        size_t cl;
        const char *cls = mw_labels_class_text(label, buf, &cl);
        ok = cls && mw_dict_intern(vl->classes, cls, cl, code) == MW_OK;
        if (!ok) snprintf(msg, msgsz, "\"label\": expected a class (string, number or boolean)");
    }
    if (!ok) vl->labels_invalid++;
    pthread_mutex_unlock(&vl->lock);
    return ok;
}

/* Keeps a matched line for the second pass (strings outside the body are copied). */
static int keep(join_ctx *c, const char *body, size_t blen, const mw_record *rec, mw_vstate *v,
                uint32_t code, double value, size_t off, size_t len) {
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        joined *grown = realloc(c->j, cap * sizeof *grown);
        if (!grown) return 0;
        c->j = grown;
        c->cap = cap;
    }
    joined *j = &c->j[c->n++];
    *j = (joined){rec->model, rec->id, rec->model_len, rec->id_len, v, code, value, off, len};
    /* unescaped strings live in the parser's scratch: keep them as offsets + 1 */
    if (!(rec->model >= body && rec->model < body + blen)) {
        j->model = (const char *)(uintptr_t)(c->keys.len + 1);
        mw_buf_put(&c->keys, rec->model, rec->model_len);
    }
    if (!(rec->id >= body && rec->id < body + blen)) {
        j->id = (const char *)(uintptr_t)(c->keys.len + 1);
        mw_buf_put(&c->keys, rec->id, rec->id_len);
    }
    return !c->keys.failed;
}

static const char *fixed(const join_ctx *c, const char *body, size_t blen, const char *s) {
    if (s >= body && s < body + blen) return s;
    return (const char *)c->keys.data + ((uintptr_t)s - 1);
}

/* Pass 1: parse each line and find its prediction; nothing changes yet. */
static mw_status first_pass(join_ctx *c, const char *body, size_t len) {
    mw_record_parser *p = mw_record_parser_new();
    if (!p) return MW_ENOMEM;
    mw_record_parser_labels(p, 1);
    mw_record_iter it;
    mw_record_iter_init(&it, body, len);
    mw_status st = MW_OK;
    for (;;) {
        size_t before = it.pos;
        mw_record rec;
        mw_error e;
        int r = mw_record_iter_next(&it, p, &rec, &e);
        if (r == 0) break;
        if (r < 0) {
            reject(c->res, it.line, e.message);
            continue;
        }
        if (!rec.id || rec.label.kind == MW_VALUE_MISSING) {
            reject(c->res, it.line, rec.id ? "missing required field \"label\""
                                           : "missing required field \"id\"");
            continue;
        }
        mw_pending pend;
        int dup;
        if (!find(c->m, rec.model, rec.model_len, rec.id, rec.id_len, &pend, 0, &dup) ||
            (rec.version && (strlen(pend.v->version) != rec.version_len ||
                             memcmp(pend.v->version, rec.version, rec.version_len)))) {
            c->res->unmatched++;
            continue;
        }
        uint32_t code = 0;
        double value = NAN;
        char msg[200];
        if (!code_label(pend.v, &rec.label, &code, &value, msg, sizeof msg)) {
            reject(c->res, it.line, msg);
            continue;
        }
        size_t off = before, sl = it.pos - before;
        if (!keep(c, body, len, &rec, pend.v, code, value, off, sl)) {
            st = MW_ENOMEM;
            break;
        }
    }
    mw_record_parser_free(p);
    return st;
}

/* Pass 2: mark each prediction labelled and credit its window. */
static mw_status second_pass(join_ctx *c, const char *body, size_t len) {
    for (size_t i = 0; i < c->n; i++) {
        joined *j = &c->j[i];
        mw_pending pend;
        int dup = 0;
        if (!find(c->m, fixed(c, body, len, j->model), j->model_len, fixed(c, body, len, j->id),
                  j->id_len, &pend, 1, &dup)) {
            c->res->unmatched++; /* expired in between */
            continue;
        }
        mw_vlabels *vl = &j->v->labels;
        mw_status st = MW_OK;
        pthread_mutex_lock(&vl->lock);
        if (dup) {
            vl->labels_duplicate++;
            c->res->duplicate++;
        } else {
            mw_wperf *w = mw_wperf_get(vl, pend.window_start, 0);
            if (!w) {
                c->res->unmatched++; /* its window expired in between */
            } else if (!(st = mw_wperf_credit(vl, w, &pend, j->code, j->value))) {
                vl->labels_total++;
                c->res->matched++;
            }
        }
        pthread_mutex_unlock(&vl->lock);
        if (st) return st;
    }
    return MW_OK;
}

/* The matched lines as one journal blob (NDJSON). */
static mw_status journal(join_ctx *c, const char *body, double now_s, mw_error *err) {
    if (!c->n || !c->m->store) return MW_OK;
    mw_buf b = {0};
    for (size_t i = 0; i < c->n; i++) {
        mw_buf_put(&b, body + c->j[i].off, c->j[i].len);
        if (!c->j[i].len || body[c->j[i].off + c->j[i].len - 1] != '\n') mw_buf_u8(&b, '\n');
    }
    mw_status st = b.failed ? MW_ENOMEM
                            : mw_store_labels_append(c->m->store, now_s, b.data, b.len, err);
    free(b.data);
    return st;
}

static mw_status join(mw_monitor *m, const char *body, size_t len, mw_labels_result *res,
                      int write_journal, mw_error *err) {
    memset(res, 0, sizeof *res);
    join_ctx c = {.m = m, .res = res};
    mw_status st = first_pass(&c, body, len);
    if (!st && write_journal)
        st = journal(&c, body, (double)mw_monitor_now_ms(m) / 1000.0, err);
    if (!st) st = second_pass(&c, body, len);
    pthread_mutex_lock(&m->unknown_lock);
    m->labels_unmatched += res->unmatched;
    m->labels_rejected += res->rejected;
    pthread_mutex_unlock(&m->unknown_lock);
    free(c.j);
    free(c.keys.data);
    if (st == MW_ENOMEM) mw_error_set(err, st, NULL, 0, 0, "out of memory joining labels");
    return st;
}

mw_status mw_monitor_labels(mw_monitor *m, const char *body, size_t len, mw_labels_result *res,
                            mw_error *err) {
    return join(m, body, len, res, 1, err);
}

typedef struct replay_ctx {
    mw_monitor *m;
    mw_error *err;
    mw_status st;
} replay_ctx;

static int replay_row(int64_t seq, double at, const void *blob, size_t len, void *arg) {
    (void)seq;
    (void)at;
    replay_ctx *c = arg;
    mw_labels_result res;
    c->st = join(c->m, blob, len, &res, 0, c->err);
    return c->st != MW_OK;
}

mw_status mw_labels_replay(mw_monitor *m, mw_error *err) {
    if (!m->store) return MW_OK;
    replay_ctx c = {m, err, MW_OK};
    mw_status st = mw_store_labels_each(m->store, replay_row, &c, err);
    return st ? st : c.st;
}
