/*
 * Canary comparison in the running monitor (monitor.h "canary comparison",
 * canary_int.h): which versions form a model's canary pair, what a closed
 * window leaves for the comparison, and when the comparison runs.
 *
 * Pairing: by registry aliases, resolved through the registry cache at each
 * window close (so a promotion or rollback re-pairs within a second): the
 * baseline is the target of the model's baseline alias (default
 * "production"), the canary that of its canary alias (default "canary").
 * Versions that no alias names are not compared; neither are two aliases on
 * the same version.
 *
 * Timing: when a member's window closes, its snapshot is kept; when the other
 * member closes a window of the same period (same start and end), the two are
 * compared, the result stored (SQLite, store_canary.c) and kept as the
 * model's last comparison for /metrics. At most two snapshots are kept per
 * model (the pair's current members, the newest window of each), so memory
 * stays bounded by the number of models with a canary pair. Snapshots are not
 * persisted: a window closed before a restart is not paired with one closed
 * after it.
 *
 * Labels: the performance check uses the newest window start at which both
 * versions have labelled predictions (labels come late, so this is usually an
 * earlier window than the one compared); it is reported with its own start.
 *
 * Locks: called with v->lock held. The state's mutex is taken after it and is
 * a leaf except for the labels locks of the two versions (each taken alone,
 * never two at once, and themselves leaves) and the store's mutex.
 */
#include "monitor/canary_int.h"
#include "monitor/monitor_int.h"

#include "modelwatch/stats.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_MODELS 10000   /* models with a per-model alias setting, and with results */
#define PERF_WINDOWS 256   /* labelled windows looked at per version */
#define KEEP_RESULTS 10000 /* stored comparisons per model */
#define ALIAS_MAX MW_MAX_NAME

typedef struct mw_canary_state mw_canary_state;

typedef struct pair_cfg {
    char *model;
    char base[ALIAS_MAX + 1], canary[ALIAS_MAX + 1];
} pair_cfg;

typedef struct last_result {
    char *model, *baseline, *canary;
    double start, end;
    mw_canary_verdict v;
    uint64_t comparisons, worse_total;
} last_result;

struct mw_canary_state {
    pthread_mutex_t mu;
    mw_canary_options opt;
    char base[ALIAS_MAX + 1], canary[ALIAS_MAX + 1]; /* default aliases */
    pair_cfg *pairs;
    size_t npairs;
    mw_canary_snap *snaps; /* newest window of each pair member */
    size_t nsnaps, capsnaps;
    last_result *last;
    size_t nlast, caplast;
    uint64_t failures;
};

static void set_defaults(mw_canary_state *c) {
    c->opt = (mw_canary_options){.alpha = 0.05, .latency_margin = 0.10, .drift_margin = 0.25};
    snprintf(c->base, sizeof c->base, "production");
    snprintf(c->canary, sizeof c->canary, "canary");
}

mw_canary_state *mw_canary_state_new(void) {
    mw_canary_state *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    pthread_mutex_init(&c->mu, NULL);
    set_defaults(c);
    return c;
}

static void pairs_free(pair_cfg *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(p[i].model);
    free(p);
}

void mw_canary_state_free(mw_canary_state *c) {
    if (!c) return;
    pairs_free(c->pairs, c->npairs);
    for (size_t i = 0; i < c->nsnaps; i++)
        mw_canary_snap_free(&c->snaps[i]);
    free(c->snaps);
    for (size_t i = 0; i < c->nlast; i++) {
        free(c->last[i].model);
        free(c->last[i].baseline);
        free(c->last[i].canary);
    }
    free(c->last);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

/* ---- configuration ---- */

static mw_status bad(mw_error *err, const char *where, const char *msg) {
    return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "canary: %s: %s", where, msg);
}

/* An alias name member of o into out, when present. */
static mw_status read_alias(const json_t *o, const char *key, const char *where, char *out,
                            mw_error *err) {
    const json_t *v = json_object_get(o, key);
    if (!v) return MW_OK;
    char place[200];
    snprintf(place, sizeof place, "%s%s", where, key);
    if (!json_is_string(v) || !mw_name_valid(json_string_value(v), json_string_length(v)))
        return bad(err, place, "expected an alias name (1 to 128 of [A-Za-z0-9_.:-])");
    snprintf(out, ALIAS_MAX + 1, "%s", json_string_value(v));
    return MW_OK;
}

static mw_status check_keys(const json_t *o, const char *const *keys, size_t n, const char *where,
                            mw_error *err) {
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        size_t i = 0;
        while (i < n && strcmp(k, keys[i]))
            i++;
        if (i == n) {
            char msg[200];
            snprintf(msg, sizeof msg, "unknown key \"%.60s\"", k);
            return bad(err, where[0] ? where : "configuration", msg);
        }
    }
    return MW_OK;
}

static mw_status read_number(const json_t *o, const char *key, double lo, double hi, double *out,
                             mw_error *err) {
    const json_t *v = json_object_get(o, key);
    if (!v) return MW_OK;
    double x = json_number_value(v);
    if (!json_is_number(v) || !(x >= lo && x <= hi)) {
        char msg[100];
        snprintf(msg, sizeof msg, "expected a number from %g to %g", lo, hi);
        return bad(err, key, msg);
    }
    *out = x;
    return MW_OK;
}

static mw_status read_pairs(const json_t *models, const mw_canary_state *defaults, pair_cfg **out,
                            size_t *n, mw_error *err) {
    *out = NULL;
    *n = 0;
    if (!models) return MW_OK;
    if (!json_is_object(models)) return bad(err, "models", "expected a mapping of model names");
    size_t cnt = json_object_size(models);
    if (cnt > MAX_MODELS) return bad(err, "models", "more than 10000 models");
    pair_cfg *p = calloc(cnt ? cnt : 1, sizeof *p);
    if (!p) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "canary: out of memory");
    static const char *const keys[] = {"baseline_alias", "canary_alias"};
    const char *name;
    json_t *m;
    mw_status st = MW_OK;
    json_object_foreach((json_t *)models, name, m) {
        char where[200], prefix[210]; /* "models.fraud", "models.fraud." */
        snprintf(where, sizeof where, "models.%.128s", name);
        snprintf(prefix, sizeof prefix, "%s.", where);
        pair_cfg *pc = &p[*n];
        snprintf(pc->base, sizeof pc->base, "%s", defaults->base);
        snprintf(pc->canary, sizeof pc->canary, "%s", defaults->canary);
        if (!mw_name_valid(name, strlen(name)))
            st = bad(err, where, "not a model name (1 to 128 of [A-Za-z0-9_.:-])");
        else if (!json_is_object(m))
            st = bad(err, where, "expected a mapping with baseline_alias and canary_alias");
        if (!st) st = check_keys(m, keys, 2, where, err);
        if (!st) st = read_alias(m, "baseline_alias", prefix, pc->base, err);
        if (!st) st = read_alias(m, "canary_alias", prefix, pc->canary, err);
        if (!st && !(pc->model = strdup(name)))
            st = mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "canary: out of memory");
        if (st) break;
        (*n)++;
    }
    if (st) {
        pairs_free(p, *n);
        *n = 0;
        return st;
    }
    *out = p;
    return MW_OK;
}

mw_status mw_monitor_canary_configure(mw_monitor *m, const char *json, mw_error *err) {
    mw_error_clear(err);
    mw_canary_state next;
    memset(&next, 0, sizeof next);
    set_defaults(&next);
    json_t *root = NULL;
    if (json && *json) {
        json_error_t je;
        if (!(root = json_loads(json, 0, &je)))
            return mw_error_set(err, MW_EPARSE, NULL, je.line, je.column, "canary: %s", je.text);
    }
    static const char *const keys[] = {"baseline_alias", "canary_alias", "alpha",
                                       "latency_margin", "drift_margin", "models"};
    mw_status st = MW_OK;
    if (root && !json_is_object(root)) st = bad(err, "configuration", "expected a mapping");
    if (root && !st) st = check_keys(root, keys, 6, "", err);
    if (root && !st) st = read_alias(root, "baseline_alias", "", next.base, err);
    if (root && !st) st = read_alias(root, "canary_alias", "", next.canary, err);
    if (root && !st) st = read_number(root, "alpha", 0, 0.5, &next.opt.alpha, err);
    if (root && !st)
        st = read_number(root, "latency_margin", 0, 100, &next.opt.latency_margin, err);
    if (root && !st) st = read_number(root, "drift_margin", 0, 1, &next.opt.drift_margin, err);
    if (root && !st)
        st = read_pairs(json_object_get(root, "models"), &next, &next.pairs, &next.npairs, err);
    json_decref(root);
    if (st) return st;
    mw_canary_state *c = m->canary;
    pthread_mutex_lock(&c->mu);
    pairs_free(c->pairs, c->npairs);
    c->pairs = next.pairs;
    c->npairs = next.npairs;
    c->opt = next.opt;
    memcpy(c->base, next.base, sizeof c->base);
    memcpy(c->canary, next.canary, sizeof c->canary);
    pthread_mutex_unlock(&c->mu);
    return MW_OK;
}

/* ---- snapshots ---- */

static char *text_copy(const char *s) {
    return strdup(s ? s : "");
}

/* A sorted copy of n values into *out. */
static mw_status sorted_copy(const double *v, size_t n, double **out) {
    *out = malloc((n ? n : 1) * sizeof **out);
    double *scratch = malloc((n ? n : 1) * sizeof *scratch);
    mw_status st = *out && scratch ? MW_OK : MW_ENOMEM;
    if (!st && n) {
        memcpy(*out, v, n * sizeof **out);
        mw_sort_doubles(*out, n, scratch);
    }
    free(scratch);
    return st;
}

/* Class names and counts of the prediction column: reference categories,
 * then the unseen ones, then the overflow of unseen ones as "(other)". */
static mw_status snap_classes(mw_canary_snap *s, const mw_base_col *bc, const mw_win_col *c) {
    size_t n = bc->ncats + c->nunseen + 1;
    s->classes = calloc(n, sizeof *s->classes);
    s->class_counts = calloc(n, sizeof *s->class_counts);
    if (!s->classes || !s->class_counts) return MW_ENOMEM;
    for (size_t i = 0; i < bc->ncats + c->nunseen; i++) {
        char text[32];
        const char *name;
        double count;
        if (i < bc->ncats) {
            name = bc->labels[i];
            count = c->cat_counts[i];
        } else if (bc->discrete) {
            mw_format_double(c->unseen_values[i - bc->ncats], text);
            name = text;
            count = c->unseen_counts[i - bc->ncats];
        } else {
            name = mw_dict_str(c->unseen, (uint32_t)(i - bc->ncats), NULL);
            count = c->unseen_counts[i - bc->ncats];
        }
        if (!(s->classes[s->nclasses] = text_copy(name))) return MW_ENOMEM;
        s->class_counts[s->nclasses++] = count;
    }
    if (c->unseen_overflow > 0) {
        if (!(s->classes[s->nclasses] = text_copy("(other)"))) return MW_ENOMEM;
        s->class_counts[s->nclasses++] = c->unseen_overflow;
    }
    s->pred_kind = MW_CANARY_PRED_CLASSES;
    return MW_OK;
}

static mw_status snap_predictions(mw_canary_snap *s, const mw_window *w, const mw_baseline *b) {
    if (!b->perf || b->perf->prediction_idx < 0) return MW_OK;
    const mw_base_col *bc = &b->cols[b->perf->prediction_idx];
    const mw_win_col *c = &w->cols[b->perf->prediction_idx];
    if (bc->type == MW_TYPE_CATEGORICAL || bc->discrete) return snap_classes(s, bc, c);
    s->pred_kind = MW_CANARY_PRED_NUMERIC;
    s->npred = c->sample.len;
    return sorted_copy(c->sample.values, c->sample.len, &s->pred_values);
}

static mw_status snap_take(const mw_vstate *v, const mw_drift_report *rep, mw_canary_snap *s) {
    memset(s, 0, sizeof *s);
    const mw_window *w = &v->win;
    s->start = w->start;
    s->end = w->end;
    s->records = w->records;
    s->errors = w->serving.errors;
    s->n_tested = rep->n_tested;
    s->n_drifted = rep->n_drifted;
    s->drift_share = rep->drift_share;
    s->dataset_drift = rep->dataset_drift;
    if (!(s->model = text_copy(v->model)) || !(s->version = text_copy(v->version)))
        return MW_ENOMEM;
    s->nlatency = w->serving.sampled ? w->serving.latency_sample.len : 0;
    mw_status st = sorted_copy(w->serving.latency_sample.values, s->nlatency, &s->latency);
    size_t nd = rep->n_drifted < MW_CANARY_MAX_DRIFTED ? rep->n_drifted : MW_CANARY_MAX_DRIFTED;
    if (!st && !(s->drifted = calloc(nd + 1, sizeof *s->drifted))) st = MW_ENOMEM;
    for (size_t i = 0; !st && i < rep->ncols && s->ndrifted < nd; i++)
        if (rep->cols[i].drifted && !(s->drifted[s->ndrifted++] = text_copy(rep->cols[i].name)))
            st = MW_ENOMEM;
    if (!st) st = snap_predictions(s, w, v->baseline);
    return st;
}

/* ---- labelled performance ---- */

/* The version's windows with labels, newest first, into out (at most max). */
static size_t perf_list(mw_vlabels *vl, mw_canary_perf *out, size_t max) {
    size_t n = 0;
    pthread_mutex_lock(&vl->lock);
    for (size_t i = vl->nw; i-- > 0 && n < max;) {
        const mw_wperf *w = &vl->w[i];
        mw_canary_perf p = {.task = vl->task, .start = w->start};
        if (vl->task == MW_TASK_REGRESSION && w->reg.n) {
            mw_reg_metrics rm;
            mw_reg_state_metrics(&w->reg, &rm);
            p.labelled = w->reg.n;
            p.mae = rm.mae;
            p.mse = rm.mse;
        } else if (vl->task == MW_TASK_CLASSIFICATION && w->cm) {
            p.labelled = mw_confusion_total(w->cm);
            for (size_t k = 0; k < mw_confusion_classes(w->cm); k++)
                p.correct += mw_confusion_get(w->cm, k, k);
        }
        if (p.labelled) out[n++] = p;
    }
    pthread_mutex_unlock(&vl->lock);
    return n;
}

/* The newest window start labelled on both sides; 0 when none. */
static int perf_pair(mw_vstate *b, mw_vstate *c, mw_canary_perf *pb, mw_canary_perf *pc) {
    mw_canary_perf *lb = malloc(2 * PERF_WINDOWS * sizeof *lb);
    if (!lb) return 0;
    mw_canary_perf *lc = lb + PERF_WINDOWS;
    size_t nb = perf_list(&b->labels, lb, PERF_WINDOWS);
    size_t nc = perf_list(&c->labels, lc, PERF_WINDOWS);
    int found = 0;
    for (size_t i = 0, j = 0; i < nb && j < nc && !found;) {
        if (lb[i].start == lc[j].start) {
            *pb = lb[i];
            *pc = lc[j];
            found = 1;
        } else if (lb[i].start > lc[j].start) {
            i++;
        } else {
            j++;
        }
    }
    free(lb);
    return found;
}

/* ---- pairing and comparing ---- */

static void pair_aliases(mw_canary_state *c, const char *model, char *base, char *canary) {
    pthread_mutex_lock(&c->mu);
    snprintf(base, ALIAS_MAX + 1, "%s", c->base);
    snprintf(canary, ALIAS_MAX + 1, "%s", c->canary);
    for (size_t i = 0; i < c->npairs; i++)
        if (!strcmp(c->pairs[i].model, model)) {
            snprintf(base, ALIAS_MAX + 1, "%s", c->pairs[i].base);
            snprintf(canary, ALIAS_MAX + 1, "%s", c->pairs[i].canary);
        }
    pthread_mutex_unlock(&c->mu);
}

static last_result *last_for(mw_canary_state *c, const char *model) {
    for (size_t i = 0; i < c->nlast; i++)
        if (!strcmp(c->last[i].model, model)) return &c->last[i];
    if (c->nlast >= MAX_MODELS) return NULL;
    if (c->nlast == c->caplast) {
        size_t cap = c->caplast ? 2 * c->caplast : 8;
        last_result *g = realloc(c->last, cap * sizeof *g);
        if (!g) return NULL;
        c->last = g;
        c->caplast = cap;
    }
    last_result *l = &c->last[c->nlast];
    memset(l, 0, sizeof *l);
    if (!(l->model = strdup(model))) return NULL;
    c->nlast++;
    return l;
}

static void record_last(mw_canary_state *c, const mw_canary_snap *b, const mw_canary_snap *k,
                        const mw_canary_verdict *v) {
    last_result *l = last_for(c, b->model);
    if (!l) return;
    char *bv = strdup(b->version), *kv = strdup(k->version);
    if (!bv || !kv) {
        free(bv);
        free(kv);
        return;
    }
    free(l->baseline);
    free(l->canary);
    l->baseline = bv;
    l->canary = kv;
    l->start = b->start;
    l->end = b->end;
    l->v = *v;
    l->comparisons++;
    l->worse_total += v->worse != 0;
}

/* Keeps snap (taken over) as model's member snapshot, dropping the model's
 * snapshots of versions no longer in the pair and older windows; returns its
 * slot, or -1 when out of memory (snap freed). */
static long keep_snap(mw_canary_state *c, mw_canary_snap *snap, const char *base,
                      const char *canary) {
    size_t o = 0;
    for (size_t i = 0; i < c->nsnaps; i++) {
        mw_canary_snap *s = &c->snaps[i];
        int same_model = !strcmp(s->model, snap->model);
        int drop = same_model && (!strcmp(s->version, snap->version) ||
                                  (strcmp(s->version, base) && strcmp(s->version, canary)) ||
                                  s->start < snap->start);
        if (drop)
            mw_canary_snap_free(s);
        else
            c->snaps[o++] = *s;
    }
    c->nsnaps = o;
    if (c->nsnaps == c->capsnaps) {
        size_t cap = c->capsnaps ? 2 * c->capsnaps : 8;
        mw_canary_snap *g = realloc(c->snaps, cap * sizeof *g);
        if (!g) {
            mw_canary_snap_free(snap);
            return -1;
        }
        c->snaps = g;
        c->capsnaps = cap;
    }
    c->snaps[c->nsnaps] = *snap;
    return (long)c->nsnaps++;
}

static void drop_snap(mw_canary_state *c, size_t i) {
    mw_canary_snap_free(&c->snaps[i]);
    c->snaps[i] = c->snaps[--c->nsnaps];
}

/* Compares b (baseline) and k (canary) and stores the result (c->mu held). */
static mw_status compare_and_store(mw_monitor *m, mw_canary_state *c, const mw_canary_snap *b,
                                   const mw_canary_snap *k, const mw_canary_perf *pb,
                                   const mw_canary_perf *pk) {
    json_t *res = NULL;
    mw_canary_verdict v;
    mw_status st = mw_canary_compare(b, k, pb, pk, &c->opt, &res, &v);
    char *text = st ? NULL : json_dumps(res, JSON_COMPACT);
    json_decref(res);
    if (!text) return MW_ENOMEM;
    mw_error err;
    st = mw_store_canary_put(m->store, b->model, b->version, k->version, b->start, b->end, v.worse,
                             mw_monitor_now_ms(m), text, KEEP_RESULTS, &err);
    free(text);
    if (!st) record_last(c, b, k, &v);
    return st;
}

void mw_canary_window_closed(mw_monitor *m, mw_vstate *v, const mw_drift_report *rep) {
    mw_canary_state *c = m->canary;
    char base_alias[ALIAS_MAX + 1], canary_alias[ALIAS_MAX + 1];
    char base[ALIAS_MAX + 1], canary[ALIAS_MAX + 1], msg[256];
    pair_aliases(c, v->model, base_alias, canary_alias);
    if (!mw_regcache_resolve(m, v->model, base_alias, base, sizeof base, msg, sizeof msg) ||
        !mw_regcache_resolve(m, v->model, canary_alias, canary, sizeof canary, msg, sizeof msg))
        return; /* no pair (yet) */
    int is_base = !strcmp(v->version, base), is_canary = !strcmp(v->version, canary);
    if (!strcmp(base, canary) || (!is_base && !is_canary)) return;
    mw_vstate *other = mw_monitor_find(m, v->model, strlen(v->model), is_base ? canary : base,
                                       strlen(is_base ? canary : base));
    if (!other) return; /* the other member is not monitored here */
    mw_canary_snap snap;
    if (snap_take(v, rep, &snap)) {
        mw_canary_snap_free(&snap);
        pthread_mutex_lock(&c->mu);
        c->failures++;
        pthread_mutex_unlock(&c->mu);
        return;
    }
    mw_canary_perf pb, pk;
    int has_perf = perf_pair(is_base ? v : other, is_base ? other : v, &pb, &pk);
    pthread_mutex_lock(&c->mu);
    long mine = keep_snap(c, &snap, base, canary);
    long theirs = -1;
    for (size_t i = 0; mine >= 0 && i < c->nsnaps; i++) {
        const mw_canary_snap *s = &c->snaps[i];
        if ((long)i != mine && !strcmp(s->model, v->model) && !strcmp(s->version, other->version) &&
            s->start == c->snaps[mine].start && s->end == c->snaps[mine].end)
            theirs = (long)i;
    }
    mw_status st = mine < 0 ? MW_ENOMEM : MW_OK;
    if (theirs >= 0) {
        const mw_canary_snap *b = &c->snaps[is_base ? mine : theirs];
        const mw_canary_snap *k = &c->snaps[is_base ? theirs : mine];
        st = compare_and_store(m, c, b, k, has_perf ? &pb : NULL, has_perf ? &pk : NULL);
        /* compared: both go (the higher slot first, so the other stays put) */
        drop_snap(c, (size_t)(mine > theirs ? mine : theirs));
        drop_snap(c, (size_t)(mine > theirs ? theirs : mine));
    }
    if (st) c->failures++;
    pthread_mutex_unlock(&c->mu);
}

/* ---- reading ---- */

mw_status mw_monitor_canary(mw_monitor *m, const char *model, size_t limit, char **json,
                            mw_error *err) {
    mw_error_clear(err);
    *json = NULL;
    if (!model || !mw_name_valid(model, strlen(model)))
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                            "canary: the model name must be 1 to 128 of [A-Za-z0-9_.:-]");
    if (!m->store) return (*json = strdup("[]")) ? MW_OK : MW_ENOMEM;
    return mw_store_canary_list(m->store, model, limit, json, err);
}

void mw_monitor_each_canary(mw_monitor *m, void (*fn)(const mw_canary_status *s, void *ctx),
                            void *ctx) {
    mw_canary_state *c = m->canary;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->nlast; i++) {
        const last_result *l = &c->last[i];
        if (!l->baseline) continue;
        mw_canary_status s = {.model = l->model,
                              .baseline = l->baseline,
                              .canary = l->canary,
                              .start = l->start,
                              .end = l->end,
                              .worse = l->v.worse,
                              .error_rate_difference = l->v.error_rate_difference,
                              .latency_p50_difference_seconds = l->v.latency_p50_difference,
                              .drift_share_difference = l->v.drift_share_difference,
                              .performance_metric = l->v.performance_metric,
                              .performance_difference = l->v.performance_difference,
                              .p_errors = l->v.p_errors,
                              .p_latency = l->v.p_latency,
                              .p_predictions = l->v.p_predictions,
                              .p_performance = l->v.p_performance,
                              .comparisons = l->comparisons,
                              .worse_total = l->worse_total};
        fn(&s, ctx);
    }
    pthread_mutex_unlock(&c->mu);
}

uint64_t mw_monitor_canary_failures(mw_monitor *m) {
    pthread_mutex_lock(&m->canary->mu);
    uint64_t n = m->canary->failures;
    pthread_mutex_unlock(&m->canary->mu);
    return n;
}
