/*
 * The monitor: registered versions with their baselines and open windows,
 * persisted through the store (see monitor.h for the contract and
 * monitor_int.h for the locking). Opening a monitor on a database restores
 * every version, its baseline and its open window (by replaying the journal).
 */
#include "monitor/monitor_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *mw_reject_reason_name(mw_reject_reason r) {
    switch (r) {
    case MW_REJECT_INVALID:
        return "invalid_record";
    case MW_REJECT_NO_BASELINE:
        return "no_baseline";
    case MW_REJECT_TIMESTAMP:
        return "future_timestamp";
    default:
        return "other";
    }
}

int64_t mw_monitor_now_ms(const mw_monitor *m) {
    if (m->opt.now_ms) return m->opt.now_ms(m->opt.clock_ctx);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

size_t mw_monitor_key(char *buf, size_t cap, const char *a, size_t al, const char *b, size_t bl) {
    if (al + bl + 1 > cap) return 0;
    mw_copy_small(buf, a, al);
    buf[al] = '\x1f';
    mw_copy_small(buf + al + 1, b, bl);
    return al + bl + 1;
}

mw_vstate *mw_monitor_find(mw_monitor *m, const char *model, size_t ml, const char *version,
                           size_t vl) {
    char key[2 * MW_MAX_NAME + 2];
    size_t kl = mw_monitor_key(key, sizeof key, model, ml, version, vl);
    if (!kl) return NULL;
    mw_vstate *v = NULL;
    uint32_t code;
    pthread_rwlock_rdlock(&m->reg_lock);
    if (mw_dict_find(m->index, key, kl, &code)) v = m->versions[code];
    pthread_rwlock_unlock(&m->reg_lock);
    return v;
}

static void vstate_free(mw_vstate *v) {
    if (!v) return;
    mw_window_free(&v->win);
    mw_baseline_free(v->baseline);
    mw_vconfig_free(&v->cfg);
    mw_vstate_drop_last(v);
    mw_serving_free(&v->serving);
    mw_vlabels_free(&v->labels);
    mw_live_texts_free(v->texts);
    free(v->text_vals);
    free(v->text_feat);
    free(v->samples.data);
    pthread_mutex_destroy(&v->lock);
    pthread_mutex_destroy(&v->jlock);
    free(v->config_json);
    free(v->model);
    free(v->version);
    free(v);
}

/* Adds a new version to the registry (write lock held by the caller). */
static mw_status add_version(mw_monitor *m, const char *model, const char *version, mw_vstate **out,
                             mw_error *err) {
    if (m->nversions >= m->opt.max_versions)
        return mw_error_set(err, MW_ERANGE, NULL, 0, 0, "too many versions registered (limit %zu)",
                            m->opt.max_versions);
    if (m->nversions == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 16;
        mw_vstate **nv = realloc(m->versions, cap * sizeof *nv);
        if (!nv) return MW_ENOMEM;
        m->versions = nv;
        m->cap = cap;
    }
    mw_vstate *v = calloc(1, sizeof *v);
    if (!v) return MW_ENOMEM;
    pthread_mutex_init(&v->lock, NULL);
    pthread_mutex_init(&v->jlock, NULL);
    v->model = strdup(model);
    v->version = strdup(version);
    v->last_seq = -1;
    mw_serving_init(&v->serving, 0);
    if (mw_vlabels_init(&v->labels, MW_TASK_AUTO)) {
        vstate_free(v);
        return MW_ENOMEM;
    }
    char key[2 * MW_MAX_NAME + 2];
    size_t kl = mw_monitor_key(key, sizeof key, model, strlen(model), version, strlen(version));
    uint32_t code;
    if (!v->model || !v->version || mw_dict_intern(m->index, key, kl, &code) ||
        code != m->nversions) {
        vstate_free(v);
        return MW_ENOMEM;
    }
    m->versions[m->nversions++] = v;
    *out = v;
    return MW_OK;
}

static mw_status check_names(const char *model, const char *version, mw_error *err) {
    if (!model || !mw_name_valid(model, strlen(model)))
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                            "invalid model name \"%.64s\": use 1 to 128 of A-Z a-z 0-9 _ . : -",
                            model ? model : "");
    if (!version || !mw_name_valid(version, strlen(version)))
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                            "invalid version name \"%.64s\": use 1 to 128 of A-Z a-z 0-9 _ . : -",
                            version ? version : "");
    return MW_OK;
}

/* A closed window's predictions awaiting labels, from the store. */
typedef struct restore_ctx {
    mw_monitor *m;
    mw_vstate *v;
} restore_ctx;

static int restore_predictions(double start, const void *blob, size_t len, void *ctx) {
    restore_ctx *c = ctx;
    mw_error err;
    if (mw_labels_restore_window(c->m, c->v, start, blob, len, &err) == MW_OK) return 0;
    fprintf(stderr, "modelwatch: %s\n", err.message); /* the others still count */
    return 0;
}

/* Restores one stored version: config, baseline, open window. */
static mw_status restore_version(mw_monitor *m, const mw_store_version *sv, mw_error *err) {
    mw_vstate *v;
    mw_status st = add_version(m, sv->model, sv->version, &v, err);
    if (st) return st;
    v->config_json = strdup(sv->config_json ? sv->config_json : "");
    if ((st = mw_vconfig_parse(v->config_json, &v->cfg, err))) return st;
    v->labels.task = v->cfg.task;
    restore_ctx rc = {m, v};
    st = mw_store_predictions_each(m->store, sv->model, sv->version, restore_predictions, &rc, err);
    if (st) return st;
    if (!sv->has_baseline) return MW_OK;
    void *blob;
    size_t len;
    if ((st = mw_store_get_baseline(m->store, sv->model, sv->version, &blob, &len, err))) return st;
    st = mw_baseline_deserialize(blob, len, &v->baseline, err);
    free(blob);
    if (st) return st;
    pthread_mutex_lock(&v->lock);
    st = mw_vstate_replay(m, v, err);
    pthread_mutex_unlock(&v->lock);
    return st;
}

mw_status mw_monitor_open(const mw_monitor_options *opt, mw_monitor **out, mw_error *err) {
    *out = NULL;
    mw_monitor *m = calloc(1, sizeof *m);
    if (!m) return MW_ENOMEM;
    if (opt) m->opt = *opt;
    if (!m->opt.sample_capacity) m->opt.sample_capacity = 100000;
    if (!m->opt.max_versions) m->opt.max_versions = 10000;
    m->opt.db_path = NULL; /* not kept: the caller owns the string */
    pthread_rwlock_init(&m->reg_lock, NULL);
    pthread_mutex_init(&m->unknown_lock, NULL);
    m->index = mw_dict_new();
    m->canary = mw_canary_state_new();
    mw_status st = m->index && m->canary ? MW_OK : MW_ENOMEM;
    if (!st) st = mw_pending_init(&m->pending, m->opt.max_pending, m->opt.label_ttl_seconds);
    if (!st && opt && opt->db_path) {
        mw_store_options so = {.synchronous_full = m->opt.synchronous_full};
        st = mw_store_open(opt->db_path, &so, &m->store, err);
        mw_store_version *sv = NULL;
        size_t n = 0;
        if (!st) st = mw_store_list_versions(m->store, &sv, &n, err);
        for (size_t i = 0; !st && i < n; i++)
            st = restore_version(m, &sv[i], err);
        mw_store_versions_free(sv, n);
        if (!st) st = mw_labels_replay(m, err); /* after every version's predictions */
        if (!st && !(m->regcache = mw_regcache_new())) st = MW_ENOMEM;
    }
    if (st) {
        mw_monitor_close(m);
        return st;
    }
    *out = m;
    return MW_OK;
}

struct mw_store *mw_monitor_store(mw_monitor *m) {
    return m->store;
}

void mw_monitor_close(mw_monitor *m) {
    if (!m) return;
    for (size_t i = 0; i < m->nversions; i++)
        vstate_free(m->versions[i]);
    free(m->versions);
    mw_dict_free(m->index);
    if (m->pending.keys) mw_pending_free(&m->pending);
    mw_regcache_free(m->regcache);
    mw_canary_state_free(m->canary);
    mw_ingest_pool_free(m);
    mw_store_close(m->store);
    pthread_rwlock_destroy(&m->reg_lock);
    pthread_mutex_destroy(&m->unknown_lock);
    free(m);
}

mw_status mw_monitor_register(mw_monitor *m, const char *model, const char *version,
                              const char *config_json, mw_error *err) {
    mw_status st = check_names(model, version, err);
    if (st) return st;
    mw_vconfig cfg;
    if ((st = mw_vconfig_parse(config_json, &cfg, err))) return st;
    const char *text = config_json ? config_json : "";
    if (m->store &&
        (st = mw_store_put_version(m->store, model, version, text, mw_monitor_now_ms(m), err))) {
        mw_vconfig_free(&cfg);
        return st;
    }
    pthread_rwlock_wrlock(&m->reg_lock);
    mw_vstate *v = NULL;
    char key[2 * MW_MAX_NAME + 2];
    size_t kl = mw_monitor_key(key, sizeof key, model, strlen(model), version, strlen(version));
    uint32_t code;
    if (mw_dict_find(m->index, key, kl, &code))
        v = m->versions[code];
    else
        st = add_version(m, model, version, &v, err);
    pthread_rwlock_unlock(&m->reg_lock);
    if (st) {
        mw_vconfig_free(&cfg);
        return st;
    }
    pthread_mutex_lock(&v->lock);
    char *copy = strdup(text);
    if (!copy) {
        st = MW_ENOMEM;
    } else {
        mw_vconfig_free(&v->cfg);
        v->cfg = cfg;
        free(v->config_json);
        v->config_json = copy;
        pthread_mutex_lock(&v->labels.lock);
        if (cfg.task != MW_TASK_AUTO) v->labels.task = cfg.task; /* auto keeps what it decided */
        pthread_mutex_unlock(&v->labels.lock);
    }
    pthread_mutex_unlock(&v->lock);
    if (st) mw_vconfig_free(&cfg);
    return st;
}

static mw_status not_registered(mw_error *err, const char *model, const char *version) {
    return mw_error_set(err, MW_ENOTFOUND, NULL, 0, 0,
                        "model \"%s\" version \"%s\" is not registered: register it with PUT "
                        "/api/v1/models/%s/versions/%s",
                        model, version, model, version);
}

/* Fits the version's outlier detector on the reference. Without a column list
 * it uses the columns the baseline will monitor (not those the schema ignores). */
static mw_status fit_detector(const mw_vstate *v, const mw_table *t, const mw_runner *runner,
                              mw_outlier_model **out, mw_error *err) {
    mw_outlier_options o = v->cfg.outlier;
    o.runner = runner;
    const char **cols = NULL;
    if (!o.columns) {
        cols = calloc(t->ncols + 1, sizeof *cols);
        if (!cols) return MW_ENOMEM;
        size_t n = 0;
        for (size_t j = 0; j < t->ncols; j++) {
            mw_coltype want =
                v->cfg.schema ? mw_schema_type(v->cfg.schema, t->cols[j].name) : MW_TYPE_AUTO;
            if (want == MW_TYPE_IGNORE || t->cols[j].type == MW_TYPE_IGNORE) continue;
            if (t->cols[j].type == MW_TYPE_NUMERIC || o.encode != MW_OUTLIER_ENCODE_NONE)
                cols[n++] = t->cols[j].name;
        }
        o.columns = cols;
        o.ncolumns = n;
    }
    mw_status st = mw_outlier_fit(t, &o, out, err);
    free(cols);
    return st;
}

mw_status mw_monitor_set_reference(mw_monitor *m, const char *model, const char *version,
                                   mw_table *reference, mw_error *err) {
    mw_vstate *v = mw_monitor_find(m, model, strlen(model), version, strlen(version));
    if (!v) return not_registered(err, model, version);
    pthread_mutex_lock(&v->lock);
    mw_baseline *b = NULL;
    unsigned char *blob = NULL;
    size_t len = 0;
    /* the reference's text columns (declared, prompt and completion, or
     * inferred) become their descriptor columns, with the version's refusal
     * phrases (text_live.c), unless the version's "columns" give them
     * another type */
    static const char *const texts[] = {"prompt", "completion"};
    mw_status tst =
        mw_table_expand_texts(reference, v->cfg.schema, texts, 2, 1, &v->cfg.text, err);
    if (tst) {
        pthread_mutex_unlock(&v->lock);
        return tst;
    }
    /* the detector first: building the baseline sorts the table's columns */
    mw_outlier_model *det = NULL;
    mw_base_perf *perf = NULL;
    /* embeddings first: their columns are then ignored (not features, not
     * detector inputs); CBPE reads the target and marks it ignored too, before
     * the baseline sorts the columns */
    mw_base_emb *emb = NULL;
    const char *emb_col = v->cfg.embedding_column ? v->cfg.embedding_column : "embedding";
    mw_status st = mw_base_emb_fit(reference, emb_col, v->cfg.embedding_column != NULL,
                                   v->cfg.drift.embedding.max_samples, m->opt.seed, &emb, err);
    if (!st) mw_emb_ignore_arrays(reference); /* other arrays are not features */
    if (!st)
        st = mw_base_perf_fit(reference, v->cfg.target_column,
                              v->cfg.prediction_column ? v->cfg.prediction_column : "prediction",
                              v->cfg.score_prefix ? v->cfg.score_prefix : "score_", &perf, err);
    if (!st && v->cfg.outliers) st = fit_detector(v, reference, &m->opt.runner, &det, err);
    if (!st) st = mw_baseline_from_table(reference, v->cfg.schema, m->opt.seed, &b, err);
    if (!st) {
        b->emb = emb;
        emb = NULL;
    }
    mw_base_emb_free(emb);
    if (!st && (st = mw_base_perf_attach(b, perf)) == MW_OK) perf = NULL;
    mw_base_perf_free(perf);
    if (!st && det) {
        if ((st = mw_baseline_attach_detector(b, det, err))) mw_outlier_free(det);
        det = NULL;
    }
    mw_outlier_free(det);
    if (!st && b->ncols == 0 && !b->emb)
        st = mw_error_set(err, MW_EINVAL, NULL, 0, 0, "the reference has no usable columns");
    if (!st && (st = mw_baseline_serialize(b, &blob, &len)))
        mw_error_set(err, st, NULL, 0, 0, "out of memory serialising the baseline");
    /* the open window belongs to the old baseline: close it first */
    if (!st && v->win_open && v->win.records) st = mw_vstate_close_window(m, v, NULL, err);
    if (!st && m->store)
        st = mw_store_put_baseline(m->store, model, version, blob, len, mw_monitor_now_ms(m), err);
    if (!st) {
        mw_window_free(&v->win);
        v->win_open = 0;
        /* a new detector: its score histogram starts again (bounds may differ) */
        memset(&v->scores_total.counts, 0, sizeof v->scores_total.counts);
        v->scores_total.sum = 0;
        mw_baseline_free(v->baseline);
        v->baseline = b;
        v->texts_of = NULL; /* a new baseline may reuse the old one's address */
        b = NULL;
    }
    pthread_mutex_unlock(&v->lock);
    mw_baseline_free(b);
    free(blob);
    return st;
}

mw_status mw_monitor_close_window(mw_monitor *m, const char *model, const char *version,
                                  char **result_json, mw_error *err) {
    *result_json = NULL;
    mw_vstate *v = mw_monitor_find(m, model, strlen(model), version, strlen(version));
    if (!v) return not_registered(err, model, version);
    pthread_mutex_lock(&v->lock);
    mw_status st = MW_OK;
    if (v->win_open && v->win.records) st = mw_vstate_close_window(m, v, result_json, err);
    pthread_mutex_unlock(&v->lock);
    return st;
}

/* Calls fn for each version in registration order, with its lock held. The
 * registry lock is held only to read the array, so fn may take a while. */
static void each_locked(mw_monitor *m, void (*fn)(mw_vstate *v, void *ctx), void *ctx) {
    pthread_rwlock_rdlock(&m->reg_lock);
    size_t n = m->nversions;
    pthread_rwlock_unlock(&m->reg_lock);
    for (size_t i = 0; i < n; i++) {
        pthread_rwlock_rdlock(&m->reg_lock);
        mw_vstate *v = m->versions[i];
        pthread_rwlock_unlock(&m->reg_lock);
        pthread_mutex_lock(&v->lock);
        fn(v, ctx);
        pthread_mutex_unlock(&v->lock);
    }
}

typedef struct tick_ctx {
    mw_monitor *m;
    double now;
    size_t closed;
} tick_ctx;

static void tick_one(mw_vstate *v, void *arg) {
    tick_ctx *t = arg;
    if (!v->win_open || t->now < v->win.end) return;
    mw_error err;
    if (v->win.records) {
        t->closed += mw_vstate_close_window(t->m, v, NULL, &err) == MW_OK;
    } else {
        v->win_open = 0; /* empty: nothing to report; buffers kept for reuse */
    }
}

uint64_t mw_monitor_windows_closed(mw_monitor *m) {
    return atomic_load(&m->windows_closed);
}

size_t mw_monitor_tick(mw_monitor *m) {
    tick_ctx t = {m, (double)mw_monitor_now_ms(m) / 1000.0, 0};
    each_locked(m, tick_one, &t);
    mw_labels_expire(m, t.now); /* predictions past the labels' TTL */
    return t.closed;
}

mw_status mw_monitor_windows(mw_monitor *m, const char *model, const char *version, size_t limit,
                             char ***results_json, size_t *n, mw_error *err) {
    *results_json = NULL;
    *n = 0;
    if (!mw_monitor_find(m, model, strlen(model), version, strlen(version)))
        return not_registered(err, model, version);
    if (!m->store) return MW_OK;
    return mw_store_list_windows(m->store, model, version, limit, results_json, n, err);
}

/* The estimated metrics of the last closed window, as (name, value) pairs. */
static void estimated_status(const mw_cbpe_estimate *e, mw_version_status *s) {
    const char *names[7] = {"accuracy", "precision_macro", "recall_macro", "f1_macro",
                            "precision", "recall", "f1"};
    double values[7] = {e->accuracy, e->precision_macro, e->recall_macro, e->f1_macro,
                        e->precision, e->recall, e->f1};
    s->nest = 0;
    for (size_t i = 0; i < (e->k == 2 ? 7u : 4u); i++) {
        s->est_names[s->nest] = names[i];
        s->est_values[s->nest++] = values[i];
    }
}

typedef struct status_ctx {
    void (*fn)(const mw_version_status *s, void *ctx);
    void *ctx;
} status_ctx;

static void status_one(mw_vstate *v, void *arg) {
    status_ctx *c = arg;
    mw_version_status s = {0};
    s.model = v->model;
    s.version = v->version;
    s.has_baseline = v->baseline != NULL;
    s.records_total = v->records_total;
    s.late_total = v->late_total;
    memcpy(s.rejected_total, v->rejected, sizeof s.rejected_total);
    s.window_open = v->win_open;
    s.window_start = v->win_open ? v->win.start : NAN;
    s.window_end = v->win_open ? v->win.end : NAN;
    s.window_records = v->win_open ? v->win.records : 0;
    s.has_last = v->has_last;
    s.last_start = v->last_start;
    s.last_end = v->last_end;
    s.last_records = v->last_records;
    s.last = v->has_last ? &v->last : NULL;
    s.last_outlier_share = v->has_last ? v->last_outlier_share : NAN;
    s.last_outlier_p_value = v->has_last ? v->last_outlier_p_value : NAN;
    s.serving = &v->serving;
    s.last_latency_p50 = v->has_last ? v->last_p50 : NAN;
    s.last_latency_p95 = v->has_last ? v->last_p95 : NAN;
    s.last_latency_p99 = v->has_last ? v->last_p99 : NAN;
    s.last_error_ratio = v->has_last ? v->last_error_ratio : NAN;
    s.has_embedding = v->baseline && v->baseline->emb;
    s.embeddings_rejected[0] = v->emb_rejected[0];
    s.embeddings_rejected[1] = v->emb_rejected[1];
    mw_vlabels_status(&v->labels, &s);
    if (v->has_last && v->has_last_est) estimated_status(&v->last_est, &s);
    if (v->baseline && v->baseline->detector) {
        mw_outlier_info info;
        mw_outlier_get_info(v->baseline->detector, &info);
        s.has_detector = 1;
        s.detector_method = info.method == MW_OUTLIER_LOF ? "lof" : "iforest";
        s.scored_total = v->scores_total.scored;
        s.outliers_total = v->scores_total.outliers;
        s.score_nbounds = MW_OUTLIER_BUCKETS;
        s.score_bounds = mw_outlier_bounds(info.method);
        s.score_counts = v->scores_total.counts;
        s.score_sum = v->scores_total.sum;
    }
    c->fn(&s, c->ctx);
}

void mw_monitor_each_version(mw_monitor *m, void (*fn)(const mw_version_status *s, void *ctx),
                             void *ctx) {
    status_ctx c = {fn, ctx};
    each_locked(m, status_one, &c);
}

/* A monitor-wide counter (guarded by unknown_lock). */
static uint64_t counter(mw_monitor *m, const uint64_t *field) {
    pthread_mutex_lock(&m->unknown_lock);
    uint64_t n = *field;
    pthread_mutex_unlock(&m->unknown_lock);
    return n;
}

uint64_t mw_monitor_rejected_unknown(mw_monitor *m) {
    return counter(m, &m->rejected_unknown);
}

uint64_t mw_monitor_rejected_invalid(mw_monitor *m) {
    return counter(m, &m->rejected_invalid);
}

uint64_t mw_monitor_labels_unmatched(mw_monitor *m) {
    return counter(m, &m->labels_unmatched);
}

uint64_t mw_monitor_labels_rejected(mw_monitor *m) {
    return counter(m, &m->labels_rejected);
}

/* ---- descriptions ---- */

static json_t *describe_locked(const mw_vstate *v) {
    json_t *o = json_object();
    json_object_set_new(o, "model", json_string(v->model));
    json_object_set_new(o, "version", json_string(v->version));
    json_t *cfg = v->config_json && *v->config_json ? json_loads(v->config_json, 0, NULL) : NULL;
    json_object_set_new(o, "config", cfg ? cfg : json_object());
    json_object_set_new(o, "window_seconds", json_real(v->cfg.window_seconds));
    json_object_set_new(o, "has_reference", json_boolean(v->baseline != NULL));
    if (v->baseline) {
        json_t *ref = json_object();
        json_object_set_new(ref, "source", json_string(v->baseline->source));
        json_object_set_new(ref, "rows", json_integer((json_int_t)v->baseline->rows));
        json_t *cols = json_array();
        for (size_t i = 0; i < v->baseline->ncols; i++) {
            const mw_base_col *c = &v->baseline->cols[i];
            json_t *cj = json_object();
            json_object_set_new(cj, "name", json_string(c->name));
            json_object_set_new(cj, "type", json_string(mw_coltype_name(c->type)));
            if (c->type == MW_TYPE_NUMERIC)
                json_object_set_new(cj, "discrete", json_boolean(c->discrete));
            json_array_append_new(cols, cj);
        }
        json_object_set_new(ref, "columns", cols);
        json_object_set_new(o, "reference", ref);
        if (v->baseline->detector) {
            mw_outlier_info info;
            mw_outlier_get_info(v->baseline->detector, &info);
            json_t *inputs = json_array();
            for (size_t i = 0; i < info.n_inputs; i++)
                json_array_append_new(inputs,
                                      json_string(mw_outlier_input_name(v->baseline->detector, i)));
            json_object_set_new(o, "outliers",
                                json_pack("{s:s,s:f,s:f,s:o}", "method",
                                          info.method == MW_OUTLIER_LOF ? "lof" : "iforest",
                                          "threshold", info.threshold, "expected_share",
                                          info.expected_share, "columns", inputs));
        }
        const mw_base_emb *e = v->baseline->emb;
        if (e) /* the records' "embedding" arrays must have this dimension */
            json_object_set_new(o, "embedding",
                                json_pack("{s:s,s:I,s:I,s:I,s:I}", "column", e->column, "dim",
                                          (json_int_t)e->dim, "sample", (json_int_t)e->n,
                                          "reference_vectors", (json_int_t)e->valid,
                                          "reference_invalid", (json_int_t)e->invalid));
    }
    json_object_set_new(o, "records_total", json_integer((json_int_t)v->records_total));
    if (v->win_open) {
        json_t *w = json_object();
        json_object_set_new(w, "start", json_real(v->win.start));
        json_object_set_new(w, "end", json_real(v->win.end));
        json_object_set_new(w, "records", json_integer((json_int_t)v->win.records));
        json_object_set_new(o, "open_window", w);
    } else {
        json_object_set_new(o, "open_window", json_null());
    }
    return o;
}

mw_status mw_monitor_describe(mw_monitor *m, const char *model, const char *version, char **json,
                              mw_error *err) {
    *json = NULL;
    mw_vstate *v = mw_monitor_find(m, model, strlen(model), version, strlen(version));
    if (!v) return not_registered(err, model, version);
    pthread_mutex_lock(&v->lock);
    json_t *o = describe_locked(v);
    pthread_mutex_unlock(&v->lock);
    *json = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return *json ? MW_OK : MW_ENOMEM;
}

static void describe_one(mw_vstate *v, void *arr) {
    json_array_append_new(arr, describe_locked(v));
}

mw_status mw_monitor_describe_all(mw_monitor *m, char **json) {
    json_t *models = json_array();
    each_locked(m, describe_one, models);
    json_t *root = json_pack("{s:o}", "versions", models);
    *json = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    return *json ? MW_OK : MW_ENOMEM;
}
