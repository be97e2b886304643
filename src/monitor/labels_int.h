/*
 * Delayed labels inside the monitor (monitor.h "delayed labels"): the
 * predictions that carry an id wait in a pending index, keyed by model and
 * id, until their label arrives; a label credits the performance state of the
 * window its prediction belongs to, open or closed, so a window's performance
 * fills in as labels come, days later if need be.
 *
 *   labels.c         the pending index, predictions at observe and at window
 *                    close (their durable blob), restore, TTL expiry
 *   labels_ingest.c  POST /api/v1/labels: parsing, joining, the label journal,
 *                    replay at start
 *   labels_perf.c    each window's performance state and its metrics
 *
 * Locks, always in this order: v->lock (the version), v->labels.lock,
 * m->pending.lock; nothing is taken while m->pending.lock is held. Tracking
 * predictions takes pending.lock inside labels.lock (one hold of each per
 * flush: per request and version); a label takes pending.lock alone to find
 * and mark its prediction, releases it, then takes the version's labels.lock
 * to credit the window.
 */
#ifndef MW_MONITOR_LABELS_INT_H
#define MW_MONITOR_LABELS_INT_H

#include "modelwatch/data.h"
#include "modelwatch/perf.h"
#include "modelwatch/record.h"

#include <pthread.h>
#include <stdint.h>

struct mw_monitor;
struct mw_vstate;

enum { MW_TASK_AUTO = 0, MW_TASK_CLASSIFICATION, MW_TASK_REGRESSION };

/* The performance of one window of a version. */
typedef struct mw_wperf {
    double start;
    uint64_t predictions; /* predictions with an id */
    uint64_t labelled;    /* of those, labelled */
    mw_confusion *cm;     /* classification (codes of mw_vlabels.classes) */
    mw_rank_acc *rank;    /* binary scores: ROC AUC and average precision */
    mw_calibration cal;   /* binary scores in [0, 1]: log loss and Brier score */
    mw_reg_state reg;     /* regression */
} mw_wperf;

/* A record's prediction observed but not yet tracked (mw_labels_observe). */
typedef struct mw_label_deferred {
    const char *id;
    size_t id_len;
    mw_feature prediction, pos; /* pos: the positive class's score, when has_pos */
    int has_pos;
    double window_start;
} mw_label_deferred;

/* Delayed-label state of one version (in mw_vstate). */
typedef struct mw_vlabels {
    pthread_mutex_t lock;
    int task;         /* MW_TASK_*: configured, or decided by the first prediction */
    mw_dict *classes; /* class names (predictions and labels) -> codes */
    /* the last predicted classes interned, and their codes: most records
     * repeat one of a few classes (the intern was ~220 instructions per
     * record); replaced in turn */
    struct {
        char text[24];
        size_t len; /* 0: none */
        uint32_t code;
    } recent[4];
    unsigned recent_next;
    mw_wperf *w; /* windows with predictions, by start */
    size_t nw, capw;
    struct mw_buf *open; /* the open window's predictions, serialised (labels.c) */
    uint64_t labels_total, labels_duplicate, labels_invalid;
    uint64_t predictions_expired, predictions_untracked;
    /* predictions observed since the last mw_labels_flush (guarded by the
     * version's lock, v->lock, not by this one) */
    mw_label_deferred *deferred;
    size_t ndeferred, capdeferred;
} mw_vlabels;

/* One prediction awaiting its label (the pending index's value). */
typedef struct mw_pending {
    struct mw_vstate *v;
    double window_start;
    double value;      /* regression: the prediction */
    uint32_t code;     /* classification: the predicted class */
    uint32_t pos_code; /* binary scores: the positive class (MW_PERF_MISSING: none) */
    double pos_score;  /* and the record's score for it */
    uint8_t labelled;
    uint8_t live; /* 0 once expired (the index is rebuilt later) */
} mw_pending;

/* The monitor-wide pending index. */
typedef struct mw_pending_index {
    pthread_mutex_t lock;
    mw_dict *keys; /* "model\x1fid" -> code */
    mw_pending *e; /* by code */
    size_t cap;
    size_t live;        /* entries not expired */
    size_t max_pending; /* bound; further predictions are not tracked */
    double ttl_s;
    double last_expiry;
} mw_pending_index;

/* labels.c */
mw_status mw_pending_init(mw_pending_index *p, size_t max_pending, double ttl_s);
void mw_pending_free(mw_pending_index *p);
mw_status mw_vlabels_init(mw_vlabels *vl, int task);
void mw_vlabels_free(mw_vlabels *vl);
/* A record observed into v's window starting at window_start (v->lock held):
 * its prediction is kept for mw_labels_flush, and its strings must live until
 * then. */
mw_status mw_labels_observe(struct mw_monitor *m, struct mw_vstate *v, const mw_record *rec,
                            double window_start);
/* Tracks the predictions observed since the last flush (v->lock held). Every
 * caller of mw_vstate_observe flushes before it releases v->lock, and closing
 * a window flushes first. */
mw_status mw_labels_flush(struct mw_monitor *m, struct mw_vstate *v);
/* The open window's predictions blob, taken (caller frees; NULL/0 when none). */
void mw_labels_take_open(struct mw_vstate *v, unsigned char **blob, size_t *len);
/* Gives back a blob taken for a window commit that failed (v->lock held). */
void mw_labels_put_back_open(struct mw_vstate *v, unsigned char *blob, size_t len);
/* Restores a closed window's predictions from its stored blob. */
mw_status mw_labels_restore_window(struct mw_monitor *m, struct mw_vstate *v, double start,
                                   const void *blob, size_t len, mw_error *err);
/* Forgets predictions and windows older than the TTL (at most once a minute). */
void mw_labels_expire(struct mw_monitor *m, double now_s);
/* Canonical class name of a prediction or label value into buf (>= 32 bytes
 * for numbers); returns the text and its length. */
const char *mw_labels_class_text(const mw_feature *f, char *buf, size_t *len);
/* The version's task, decided by this value when still auto (vl->lock held). */
int mw_labels_task_for(mw_vlabels *vl, const mw_feature *f);

/* labels_perf.c (vl->lock held) */
mw_wperf *mw_wperf_get(mw_vlabels *vl, double start, int create);
mw_status mw_wperf_credit(mw_vlabels *vl, mw_wperf *w, const mw_pending *p, uint32_t label_code,
                          double label_value);
void mw_wperf_drop_before(mw_vlabels *vl, double cutoff);
/* The newest window with labels; NULL when none. */
const mw_wperf *mw_wperf_newest_labelled(const mw_vlabels *vl);
/* Performance metrics of a window as (name, value) pairs; returns their number. */
size_t mw_wperf_metrics(const mw_vlabels *vl, const mw_wperf *w, const char **names, double *values,
                        size_t max);

/* The labels part of a version's status (takes vl->lock). */
struct mw_version_status;
void mw_vlabels_status(mw_vlabels *vl, struct mw_version_status *s);

/* labels_ingest.c */
/* Replays the label journal at start (after every version is restored). */
mw_status mw_labels_replay(struct mw_monitor *m, mw_error *err);

#endif
