/*
 * modelwatch monitor: live monitoring of model versions in-process, the engine
 * under `modelwatch serve` (the daemon is a thin HTTP layer over this API).
 *
 * A monitor holds registered (model, version) pairs, each with a baseline built
 * from reference data, and one open tumbling window per version that
 * accumulates observed records in bounded memory: exact counts on the
 * baseline's bins and categories, moments, quality counters, and a bounded
 * uniform sample of each numeric feature for the tests that need raw values.
 * Closing a window runs the drift tests of the version against its baseline and
 * yields a window result with the same per-column shape as `modelwatch drift`.
 *
 * With a database path, versions, baselines, window results and the records of
 * the open window are persisted in SQLite (see store.h): records ingested with
 * mw_monitor_ingest are journaled before the call returns, so after a crash and
 * reopening, the open window holds every record acknowledged.
 *
 * Thread safety: every function may be called from several threads at once;
 * each version has its own lock. Time comes from the injected clock.
 */
#ifndef MODELWATCH_MONITOR_H
#define MODELWATCH_MONITOR_H

#include "modelwatch/core.h"
#include "modelwatch/data.h"
#include "modelwatch/drift.h"
#include "modelwatch/record.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- monitor ----------------------------------------------------------------- */

typedef struct mw_monitor mw_monitor;

typedef struct mw_monitor_options {
    const char *db_path;          /* NULL = in memory only (nothing persisted) */
    int64_t (*now_ms)(void *ctx); /* clock, NULL = the real-time clock */
    void *clock_ctx;
    uint64_t seed;          /* sampling seed */
    size_t sample_capacity; /* values kept per numeric feature per window (default 100000) */
    int synchronous_full;   /* SQLite synchronous=FULL (power-loss safe) instead of NORMAL */
    size_t max_versions;    /* default 10000 */
    double label_ttl_seconds; /* predictions wait this long for labels (default 7 days) */
    size_t max_pending;       /* predictions awaiting labels, at most (default 10,000,000) */
    mw_runner runner; /* threads for fitting detectors on reference uploads ({0} = the caller's) */
} mw_monitor_options;

/* Opens a monitor; with a database, restores versions, baselines and the open
 * windows (replaying their journals). */
mw_status mw_monitor_open(const mw_monitor_options *opt, mw_monitor **out, mw_error *err);
void mw_monitor_close(mw_monitor *m);

/*
 * Registers (or re-configures) a version. config_json may be NULL or "" for the
 * defaults, or an object:
 *   {"window_seconds": 300, "window_max_records": 0,
 *    "tests": "auto" | "all" | ["ks", ...], "threshold": 0.05, "drift_share": 0.5,
 *    "correction": "none" | "bonferroni" | "bh",
 *    "columns": {"amount": {"type": "numeric", "threshold": 0.1}, "id": {"type": "ignore"}}}
 * Unknown keys and wrong types are errors naming the key. Names: 1 to 128 bytes
 * of [A-Za-z0-9_.:-].
 */
mw_status mw_monitor_register(mw_monitor *m, const char *model, const char *version,
                              const char *config_json, mw_error *err);

/* Builds the version's baseline from reference data (replacing any previous
 * one; the open window, if it has records, is closed first). Text columns are
 * expanded in place into their text descriptor columns (data.h), with the
 * version's refusal phrases: those the version's columns declare "text",
 * those named prompt and completion, and those that look like free text
 * (MW_TEXT_INFER_*), unless the version's columns give them another type.
 * Records' "prompt", "completion" and features of those names then feed
 * them (a table already expanded by its reader is left as it is). */
mw_status mw_monitor_set_reference(mw_monitor *m, const char *model, const char *version,
                                   mw_table *reference, mw_error *err);

/* Observes one record in memory (not journaled). MW_ENOTFOUND for an unknown
 * model/version, MW_EINVAL when it has no baseline yet. */
mw_status mw_monitor_observe(mw_monitor *m, const mw_record *rec, mw_error *err);

/* Result of a bulk ingestion. */
#define MW_INGEST_MAX_ERRORS 20
typedef struct mw_ingest_error {
    uint64_t line;
    char message[256];
} mw_ingest_error;
typedef struct mw_ingest_result {
    uint64_t accepted, rejected;
    size_t nerrors; /* first MW_INGEST_MAX_ERRORS errors */
    mw_ingest_error errors[MW_INGEST_MAX_ERRORS];
    /* accepted records whose "embedding" was rejected (wrong dimension or a
     * non-finite value; the rest of the record counts), the first ones why */
    uint64_t embeddings_rejected;
    size_t nwarnings;
    mw_ingest_error warnings[MW_INGEST_MAX_ERRORS];
} mw_ingest_result;

/* ---- delayed labels ----------------------------------------------------------------------
 *
 * A record with an "id" and a "prediction" waits for its label (default 7
 * days, label_ttl_seconds). A label line {"model", "id", "label"} ("version"
 * optional: when given it must be the prediction's) joins the pending
 * prediction of that model and id, and credits the window the prediction
 * belongs to, open or closed: a window's performance fills in as its labels
 * arrive. The version's task ("task" option: auto, classification,
 * regression; auto decides on the first prediction: a number with a fraction
 * means regression) says how: classes compare as text (1, 1.0 and "1" are the
 * class "1"), regression labels must be numbers. A prediction keeps its first
 * label; later ones are duplicates. A repeated prediction id keeps the first
 * prediction. Matched labels are journaled durably before they count, and
 * replayed at start with the stored predictions of closed windows.
 */
typedef struct mw_labels_result {
    uint64_t matched;   /* joined to their prediction */
    uint64_t unmatched; /* no pending prediction of that model and id (unknown, expired) */
    uint64_t duplicate; /* the prediction had its label already */
    uint64_t rejected;  /* malformed lines, missing id or label, wrong label type */
    size_t nerrors;     /* first MW_INGEST_MAX_ERRORS rejections */
    mw_ingest_error errors[MW_INGEST_MAX_ERRORS];
} mw_labels_result;
mw_status mw_monitor_labels(mw_monitor *m, const char *body, size_t len, mw_labels_result *res,
                            mw_error *err);
/* Performance of a version's windows that have predictions with ids, newest
 * first, at most limit (0 = all), as a malloc'd JSON array of
 * {"start", "predictions", "labelled", "coverage", "task", metric: value...}. */
mw_status mw_monitor_performance(mw_monitor *m, const char *model, const char *version,
                                 size_t limit, char **json, mw_error *err);

/* Parses NDJSON (or one JSON array) of records, journals the accepted ones
 * durably, then observes them. Bad lines are rejected with their line number
 * and reason, the rest is accepted. */
mw_status mw_monitor_ingest(mw_monitor *m, const char *body, size_t len, mw_ingest_result *res,
                            mw_error *err);

/* Closes the version's open window now; *result_json (caller frees) gets the
 * window result (NULL when the window was empty). */
mw_status mw_monitor_close_window(mw_monitor *m, const char *model, const char *version,
                                  char **result_json, mw_error *err);

/* Closes every window whose time is up; returns how many closed. */
size_t mw_monitor_tick(mw_monitor *m);
/* Windows closed since open, by any path (tick, record time, API): the alert
 * evaluator runs when this changes. */
uint64_t mw_monitor_windows_closed(mw_monitor *m);

/* Stored window results of a version, newest first (caller frees each and the array). */
mw_status mw_monitor_windows(mw_monitor *m, const char *model, const char *version, size_t limit,
                             char ***results_json, size_t *n, mw_error *err);

/* The redacted text examples a version kept ("text": {"samples": N} in its
 * configuration), newest window first: a malloc'd JSON array of {"model",
 * "version", "window_start", "window_end", "samples": [{"ts", "id",
 * "prompt", "completion", "truncated"}]}, for the window starting at start
 * (NaN: every window), at most limit windows (0 = all). Needs a database. */
mw_status mw_monitor_text_samples(mw_monitor *m, const char *model, const char *version,
                                  double start, size_t limit, char **json, mw_error *err);

/* JSON descriptions: all versions, or one (config, baseline columns, open window). */
mw_status mw_monitor_describe_all(mw_monitor *m, char **json);
mw_status mw_monitor_describe(mw_monitor *m, const char *model, const char *version, char **json,
                              mw_error *err);

/* ---- status for metrics and listings ------------------------------------------ */

typedef enum mw_reject_reason {
    MW_REJECT_INVALID = 0, /* malformed record, wrong types */
    MW_REJECT_NO_BASELINE, /* the version has no reference yet */
    MW_REJECT_TIMESTAMP,   /* ts more than an hour in the future */
    MW_REJECT_REASONS
} mw_reject_reason;
const char *mw_reject_reason_name(mw_reject_reason r); /* "invalid_record", ... */

/* A consistent snapshot of one version, valid during the callback. */
typedef struct mw_version_status {
    const char *model, *version;
    int has_baseline;
    uint64_t records_total; /* accepted records, ever */
    uint64_t late_total;    /* accepted records older than their window */
    uint64_t rejected_total[MW_REJECT_REASONS];
    int window_open;
    double window_start, window_end; /* the open window */
    uint64_t window_records;
    int has_last; /* a window has closed since start-up */
    double last_start, last_end;
    uint64_t last_records;
    const mw_drift_report *last; /* its result */
    /* outlier detection (has_detector 0: none configured) */
    int has_detector;
    const char *detector_method;           /* "iforest" or "lof" */
    uint64_t scored_total, outliers_total; /* records scored, and above the threshold */
    double last_outlier_share;             /* of the last closed window, NaN when none */
    double last_outlier_p_value; /* its binomial test against the expected share, NaN when none */
    size_t score_nbounds;
    const double *score_bounds;   /* histogram of all scores since start-up */
    const uint64_t *score_counts; /* score_nbounds + 1, not cumulative */
    double score_sum;
    /* serving: totals since start-up (src/monitor/serving.h), and the last
     * closed window's latency percentiles (ms) and error ratio */
    const struct mw_serving *serving;
    double last_latency_p50, last_latency_p95, last_latency_p99, last_error_ratio;
    /* delayed labels: counters since start-up, predictions waiting now, and
     * the performance of the newest window that has labels (nperf 0: none) */
    uint64_t labels_total, labels_duplicate, labels_invalid;
    uint64_t predictions_expired, predictions_untracked, predictions_pending;
    double perf_window_start, label_coverage;
    size_t nperf;
    const char *perf_names[16];
    double perf_values[16];
    /* embeddings (has_embedding 0: the baseline has none): record embeddings
     * rejected since start-up, [0] wrong dimension, [1] non-finite */
    int has_embedding;
    uint64_t embeddings_rejected[2];
    /* estimated performance (CBPE) of the last closed window (nest 0: none) */
    size_t nest;
    const char *est_names[8];
    double est_values[8];
} mw_version_status;

/* Calls fn for each version (in registration order), holding its lock. */
void mw_monitor_each_version(mw_monitor *m, void (*fn)(const mw_version_status *s, void *ctx),
                             void *ctx);
/* Records rejected because their model/version is not registered. */
uint64_t mw_monitor_rejected_unknown(mw_monitor *m);
/* Records rejected because they could not be parsed (no model/version to count them under). */
uint64_t mw_monitor_rejected_invalid(mw_monitor *m);
/* Labels that matched no pending prediction, and label lines rejected, since start-up. */
uint64_t mw_monitor_labels_unmatched(mw_monitor *m);
uint64_t mw_monitor_labels_rejected(mw_monitor *m);

/* ---- canary comparison (src/monitor/canary*.c) ------------------------------------------
 *
 * With a database, two versions of a model that receive traffic at once are
 * compared window by window: the baseline is the version the registry alias
 * "production" points to, the canary the one "canary" points to (both alias
 * names configurable, per model too). When both versions have closed a
 * window of the same period (same start and length), the comparison runs and
 * is stored: each side's drift against its own reference, the prediction
 * distribution difference, error rate (Fisher exact), latency (Mann-Whitney),
 * labelled performance of the newest window pair with labels on both sides,
 * and the verdict canary_worse with its reasons (src/monitor/canary.c).
 *
 * Configuration, a JSON object (NULL or "" for the defaults):
 *   {"baseline_alias": "production", "canary_alias": "canary", "alpha": 0.05,
 *    "latency_margin": 0.1, "drift_margin": 0.25,
 *    "models": {"fraud": {"baseline_alias": "prod", "canary_alias": "staging"}}}
 * Unknown keys, wrong types and values out of range are errors naming the key.
 */
mw_status mw_monitor_canary_configure(mw_monitor *m, const char *json, mw_error *err);
/* Stored comparisons of a model, newest window first, at most limit (0 =
 * all), as a malloc'd JSON array (empty without a database). */
mw_status mw_monitor_canary(mw_monitor *m, const char *model, size_t limit, char **json,
                            mw_error *err);
/* The last comparison of each model since start-up, for the metrics. */
typedef struct mw_canary_status {
    const char *model, *baseline, *canary; /* versions */
    double start, end;                     /* the window compared */
    int worse;
    double error_rate_difference;          /* canary - baseline */
    double latency_p50_difference_seconds; /* canary - baseline */
    double drift_share_difference;         /* canary - baseline */
    const char *performance_metric;        /* "accuracy", "mae" or NULL (no labels on both) */
    double performance_difference;         /* canary - baseline */
    /* p-values of the checks, NAN when a check could not run */
    double p_errors, p_latency, p_predictions, p_performance;
    uint64_t comparisons, worse_total; /* of this model since start-up */
} mw_canary_status;
void mw_monitor_each_canary(mw_monitor *m, void (*fn)(const mw_canary_status *s, void *ctx),
                            void *ctx);
/* Comparisons that failed (out of memory, store error) since start-up. */
uint64_t mw_monitor_canary_failures(mw_monitor *m);

/* ---- model registry (registry.h) ------------------------------------------------------
 *
 * With a database, a record's "version" may be "@ALIAS": it goes to the
 * version the registry alias points to (which must be registered here too).
 * Accepted records of a version that has a signature in the registry are
 * checked against it (signature.h) and violations counted. Registry reads are
 * cached for a second; mw_monitor_registry_changed drops the cache (after a
 * registry write through the same process), so such a move is seen by the
 * next request, one by another process within a second.
 */
void mw_monitor_registry_changed(mw_monitor *m);
typedef void (*mw_violation_fn)(const char *model, const char *version, const char *field,
                                const char *reason, uint64_t count, void *ctx);
/* Calls fn for each (model, version, field, reason) counter: every input of
 * the signature with "missing" and "type", and the prediction ("class") when
 * it has a class set. fn runs under the registry cache's lock. */
void mw_monitor_signature_violations(mw_monitor *m, mw_violation_fn fn, void *ctx);
/* The monitor's store (NULL when in memory), for the daemon's registry API. */
struct mw_store *mw_monitor_store(mw_monitor *m);

#ifdef __cplusplus
}
#endif
#endif
