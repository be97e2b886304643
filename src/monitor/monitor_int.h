/*
 * Internal state of mw_monitor (monitor.c: registry, persistence, listings;
 * monitor_ingest.c: observing records, windows, journal; monitor_config.c:
 * version configuration).
 *
 * Locking: the registry (array of versions + name index) is guarded by a
 * read-write lock; each version has its own mutex guarding its options,
 * baseline, open window and counters, and a journal mutex (see mw_vstate).
 * A thread holds at most one version's locks at a time, and always takes the
 * version mutex before the journal mutex.
 */
#ifndef MW_MONITOR_MONITOR_INT_H
#define MW_MONITOR_MONITOR_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "modelwatch/monitor.h"
#include "modelwatch/outlier.h"
#include "modelwatch/record.h"
#include "modelwatch/report.h"
#include "modelwatch/store.h"
#include "monitor/labels_int.h"
#include "monitor/live_int.h"

#define MW_MAX_NAME 128
#define MW_FUTURE_TOLERANCE_S 3600.0
/* A journal row is the arrival time (u64 ms) then either NDJSON lines (the
 * first byte '{') or this marker byte, a format byte and binary records
 * (data/record_bin.h); see monitor_ingest.c. */
#define MW_JOURNAL_BINARY 0x00
#define MW_JOURNAL_BINARY_FORMAT 1
/* Sets of ingestion buffers kept for the next requests (one per concurrent
 * request is enough: the HTTP thread pool is the number of cores). */
#define MW_INGEST_POOL 8

/* A version's parsed configuration. */
typedef struct mw_vconfig {
    double window_seconds;       /* default 300 */
    uint64_t window_max_records; /* 0 = no cap */
    mw_drift_options drift;
    mw_column_threshold *thresholds; /* owned, with owned column names */
    mw_schema *schema;               /* column types, NULL when none given */
    int outliers;                    /* an outlier detector is fitted with the reference */
    mw_outlier_options outlier;      /* its options (columns owned below) */
    char **outlier_columns;
    int task; /* MW_TASK_* for delayed labels (labels_int.h) */
    /* model outputs in the reference (baseline_perf.c): NULL = the defaults
     * "prediction" and "score_", and no target (no CBPE) */
    char *target_column, *prediction_column, *score_prefix;
    /* embeddings (window_embedding.c): the reference group of the records'
     * "embedding" arrays; NULL = "embedding", used when the reference has it.
     * Test options in drift.embedding. */
    char *embedding_column;
    /* "text": {"refusals": [...], "samples": N} (text_live.c) */
    mw_text_options text; /* refusal phrases (owned below; NULL = the defaults) */
    char **refusals;
    size_t nrefusals;
    uint32_t text_samples; /* redacted examples kept per window (0 = none, default) */
} mw_vconfig;

/* ---- text_live.c: the records' texts as text columns ---- */
#define MW_TEXT_MAX_SAMPLES 1000  /* "text": {"samples"} at most, per window */
#define MW_TEXT_SAMPLE_BYTES 4096 /* each stored example text, cut to this */
/* Where a record's text is: its "prompt", its "completion", or a feature. */
enum { MW_TEXT_PROMPT = 0, MW_TEXT_COMPLETION, MW_TEXT_FEATURE };
/* One text a version monitors, and its descriptor columns' names. */
typedef struct mw_live_text_col {
    int source; /* MW_TEXT_* */
    char *name; /* "prompt", "completion" or the feature's name (owned, with desc) */
    size_t name_len;
    const char *desc[MW_TEXT_NDESC]; /* "name.chars", ... (mw_text_descriptor_names order) */
    size_t desc_len[MW_TEXT_NDESC];
} mw_live_text_col;
/* The texts a baseline has descriptor columns of: prompt, completion (when
 * monitored), then the features in the baseline's column order. */
typedef struct mw_live_texts {
    size_t n, nfeat; /* texts; the last nfeat of them are features */
    mw_live_text_col *cols;
    long at[2];              /* position of prompt, completion in cols; -1 when not monitored */
    const char **feat_names; /* the features' names and lengths (mw_record_feature_spans) */
    size_t *feat_lens;
} mw_live_texts;
/* One text of one record. */
typedef struct mw_text_value {
    int has;       /* a string was described: d is set; else none (missing) */
    const char *s; /* that string (borrowed from the record) */
    size_t len;
    mw_text_descriptors d;
} mw_text_value;
/* The texts of one record. */
typedef struct mw_live_text {
    const mw_live_texts *set; /* NULL: the version monitors no text */
    mw_text_value *v;         /* set->n */
    int replayed;             /* read back from the journal (no raw text: no sample) */
    int unsafe;               /* a text feature's value not found in the line: not journaled */
    size_t span0, nspans;     /* the features' spans in the line (mw_text_batch) */
} mw_live_text;
/* The texts of a request's records for one version (monitor_ingest.c). */
typedef struct mw_text_batch {
    const mw_live_texts *set; /* NULL: nothing to describe */
    mw_live_text *recs;       /* one per record */
    mw_text_value *vals;      /* set->n per record */
    mw_record_span *spans;    /* the features' spans, all records */
    size_t nspans, spans_cap;
    struct mw_text_edit *edits; /* journal scratch: room for the most spans of a record + 2 */
    size_t edits_cap;
} mw_text_batch;

typedef struct mw_vstate {
    char *model, *version;
    pthread_mutex_t lock;
    /* Journal appends and window commits of this version. Taken after `lock`
     * (never the other way round); a request takes it before releasing `lock`
     * and then writes its journal row, so the next request can observe in the
     * meantime, and a window commit, which takes it too, waits for every
     * record observed before it to be journaled first. Guards last_seq. */
    pthread_mutex_t jlock;
    char *config_json;
    mw_vconfig cfg;
    mw_baseline *baseline;
    mw_window win;
    int win_open;
    int64_t last_seq; /* newest journal row of this version, -1 none */
    uint64_t records_total, late_total, rejected[MW_REJECT_REASONS];
    /* the last closed window, for metrics */
    int has_last;
    mw_drift_report last;
    char **last_names;
    double last_start, last_end;
    uint64_t last_records;
    /* outliers since start-up, and the last closed window's share */
    mw_score_counts scores_total;
    double last_outlier_share, last_outlier_p_value;
    mw_serving serving; /* since start-up (no sample) */
    double last_p50, last_p95, last_p99, last_error_ratio;
    uint64_t emb_rejected[2]; /* record embeddings rejected: wrong dimension, non-finite */
    mw_vlabels labels; /* delayed labels: predictions' windows and their performance */
    int has_last_est;  /* the last closed window's CBPE estimate (confusion not kept) */
    mw_cbpe_estimate last_est;
    /* text (text_live.c): the texts the baseline has descriptor columns of
     * (NULL: none), for which baseline; one record's text values (the C API,
     * replay); features with descriptors appended; the open window's redacted
     * examples (JSON objects joined by commas) */
    mw_live_texts *texts;
    const mw_baseline *texts_of;
    mw_text_value *text_vals;
    size_t text_vals_cap;
    mw_feature *text_feat;
    size_t text_feat_cap;
    mw_buf samples;
    uint32_t nsamples;
} mw_vstate;

struct mw_monitor {
    mw_monitor_options opt;
    mw_store *store; /* NULL when in memory only */
    pthread_rwlock_t reg_lock;
    mw_vstate **versions;
    size_t nversions, cap;
    mw_dict *index; /* "model\x1fversion" -> position in versions */
    pthread_mutex_t unknown_lock;
    uint64_t rejected_unknown;
    uint64_t rejected_invalid;
    uint64_t seed_counter;
    atomic_uint_fast64_t windows_closed; /* since open, for the alert evaluator */
    mw_pending_index pending;            /* predictions awaiting labels (labels.c) */
    uint64_t labels_unmatched, labels_rejected; /* under unknown_lock */
    struct mw_regcache *regcache;               /* registry aliases and signatures */
    struct mw_canary_state *canary;             /* canary pairs and snapshots (canary_live.c) */
    /* mw_monitor_ingest's working buffers, kept between requests
     * (monitor_ingest.c); under unknown_lock */
    struct mw_ingest_work *work_pool[MW_INGEST_POOL];
    size_t nwork_pool;
};

/* Frees the kept ingestion buffers (mw_monitor_close). */
void mw_ingest_pool_free(mw_monitor *m);

/* ---- registry_cache.c ---- */
typedef struct mw_regcache mw_regcache;
mw_regcache *mw_regcache_new(void);
void mw_regcache_free(mw_regcache *c);
/* Resolves model's alias to its version into out; 0 with msg filled when it
 * cannot (no registry, no such alias, store error). */
int mw_regcache_resolve(mw_monitor *m, const char *model, const char *alias, char *out,
                        size_t outsz, char *msg, size_t msgsz);
/* Checks n accepted records of (model, version) against its registry
 * signature, when it has one, counting violations. */
void mw_regcache_check(mw_monitor *m, const char *model, const char *version,
                       const mw_record *const *recs, size_t n);

/* ---- canary_live.c ---- */
struct mw_canary_state *mw_canary_state_new(void);
void mw_canary_state_free(struct mw_canary_state *c);
/* v's window closed with report rep (v->lock held, the result stored): when v
 * is a member of its model's canary pair, keeps a snapshot of the window and
 * compares it with the other member's window of the same period, if closed.
 * Failures are counted (mw_monitor_canary_failures), never returned: the
 * window itself closed. */
void mw_canary_window_closed(mw_monitor *m, mw_vstate *v, const mw_drift_report *rep);

/* ---- monitor_config.c ---- */
mw_status mw_vconfig_parse(const char *json, mw_vconfig *cfg, mw_error *err);
void mw_vconfig_free(mw_vconfig *cfg);
/* 1 when name is 1..MW_MAX_NAME bytes of [A-Za-z0-9_.:-]. */
int mw_name_valid(const char *s, size_t len);

/* ---- monitor.c ---- */
/* "a\x1fb" into buf (the keys of the version registry and of pending
 * predictions); its length, or 0 when it does not fit in cap. */
size_t mw_monitor_key(char *buf, size_t cap, const char *a, size_t al, const char *b, size_t bl);
int64_t mw_monitor_now_ms(const mw_monitor *m);
/* Looks a version up (registry read lock taken and released); NULL when absent. */
mw_vstate *mw_monitor_find(mw_monitor *m, const char *model, size_t model_len, const char *version,
                           size_t version_len);

/* ---- monitor_ingest.c ---- */
/* Observes one record into v (lock held); closes the window first when the
 * record's time is past it. *closed is set when a window closed. txt (may be
 * NULL): the descriptors of its texts (mw_live_text_single, mw_text_batch). */
mw_status mw_vstate_observe(mw_monitor *m, mw_vstate *v, const mw_record *rec,
                            const mw_live_text *txt, double now_s, int *closed, mw_error *err);

/* ---- text_live.c ---- */
/* The texts v's baseline monitors (*out NULL: none; lock held); cached per
 * baseline. */
mw_status mw_live_texts_get(mw_vstate *v, const mw_live_texts **out);
void mw_live_texts_free(mw_live_texts *t);
/* Describes the texts of one record (the C API, replay: no line) in v's
 * reused values (lock held); a replayed record's texts are the journal's
 * encoded descriptors, decoded. out->set NULL: v monitors no text. */
mw_status mw_live_text_single(mw_vstate *v, const mw_record *rec, int replayed, mw_live_text *out);
/* A request's records of version v: describes record i (0-based in the
 * batch) with its line (the record's bytes, for the spans of its text
 * features); *out NULL when v monitors no text. */
mw_status mw_text_batch_init(mw_text_batch *b, mw_vstate *v, size_t nrec);
mw_status mw_text_batch_describe(mw_text_batch *b, size_t i, const mw_record *rec, const char *line,
                                 size_t len, const mw_text_options *opt, mw_live_text **out);
/* Writes record i's bytes line[0..len) for the journal with its text values
 * replaced: prompt and completion (their raw spans from the parser, NULL when
 * absent) and every occurrence of a text feature, by the encoded descriptors
 * when described, else by null. Raw text never reaches the journal. */
void mw_text_batch_journal(const mw_text_batch *b, size_t i, mw_buf *o, const char *line,
                           size_t len, const char *praw, size_t praw_len, const char *craw,
                           size_t craw_len);
void mw_text_batch_free(mw_text_batch *b);
/* rec with its text features left out and its texts' descriptors appended
 * ("prompt.chars", "review.words", ...), in v's reused feature buffer (lock
 * held). */
mw_status mw_live_text_record(mw_vstate *v, const mw_record *rec, const mw_live_text *t,
                              mw_record *out);
/* Keeps a redacted example of rec's texts in v's open window when the version
 * opted in and the window has room (lock held). */
void mw_live_text_sample(mw_vstate *v, const mw_record *rec, const mw_live_text *t);
/* Stores the closing window's examples (if any) and empties the list. */
mw_status mw_live_text_flush(mw_monitor *m, mw_vstate *v, mw_error *err);
/* Closes v's open window (lock held): stores the result, removes the journal
 * rows up to v->last_seq, keeps the report for metrics. *json may be NULL. */
mw_status mw_vstate_close_window(mw_monitor *m, mw_vstate *v, char **json, mw_error *err);
/* Replays v's journal after opening (lock held). */
mw_status mw_vstate_replay(mw_monitor *m, mw_vstate *v, mw_error *err);
void mw_vstate_drop_last(mw_vstate *v);

#endif
