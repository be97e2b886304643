/*
 * modelwatch store: durable state of the daemon (and of any application that
 * embeds monitoring) in one SQLite file, and the journal of accepted record
 * batches in files beside it ("<db>-records/", one per version; in the SQLite
 * file for an in-memory database).
 *
 * Kept per (model, version): the registration (config as JSON text), a baseline
 * (an opaque binary blob, typically a serialised profile), the history of
 * closed-window results (JSON text) and a journal of accepted record batches
 * that have not yet been folded into a closed window. A small key/value table
 * holds daemon state (open window start per version, settings). The model
 * registry (registry.h) lives in the same file.
 *
 * Durability contract: a call that returns MW_OK has committed. With the default
 * options (WAL, synchronous=NORMAL) a commit survives the process being killed
 * (kill -9, crash); with synchronous_full it also survives power loss. The
 * daemon appends every accepted batch to the journal before it answers the HTTP
 * request, replays the journal into the open window at start-up, and marks
 * the replayed batches as covered in the same transaction that stores the
 * window's result (mw_store_window_commit; the covered part of the journal
 * file is then cut away), so no acknowledged record is lost or counted twice.
 *
 * Threads: a handle owns one SQLite connection guarded by a mutex, so one
 * handle may be used from several threads at once; calls are serialised.
 * Callbacks (mw_store_journal_each) run with a lock held (the SQLite
 * connection's for older rows, the version's journal file's for the rest) and
 * must not call the store. Appends to the journal files take only the file's
 * lock, not the SQLite connection's. Do not use a handle across fork(); open a new one in the child.
 * Several processes may open the same file (SQLite's file locks and the busy
 * timeout arbitrate), but the daemon is meant to be its only writer.
 *
 * Names: model, version and state keys are NUL-terminated, non-empty, at most
 * MW_STORE_NAME_MAX bytes; anything else gives MW_EINVAL. Blobs may be up to
 * 1 GB (SQLite's default length limit; tested with 64 MiB); a longer one gives
 * MW_ERANGE. Zero-length blobs are allowed.
 *
 * Errors: every failure fills err with a sentence naming the database file, the
 * operation, the model/version and SQLite's message. Status mapping: MW_EINVAL
 * bad argument or a file that is not a modelwatch database; MW_ECORRUPT not a
 * SQLite file or a corrupt one; MW_ERANGE schema newer than this build or blob
 * too big; MW_ENOMEM; MW_ENOTFOUND as documented per call; MW_EIO anything else
 * (disk full, locked past the busy timeout, I/O error).
 *
 * Ownership: all inputs are borrowed for the duration of the call. Returned
 * strings, arrays and blobs are malloc'd for the caller to free as documented.
 * Out-parameters are cleared on entry.
 */
#ifndef MODELWATCH_STORE_H
#define MODELWATCH_STORE_H

#include "modelwatch/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The schema version this build creates and understands (PRAGMA user_version). */
#define MW_STORE_SCHEMA_VERSION 9
/* PRAGMA application_id of a modelwatch database ("MWst"). */
#define MW_STORE_APPLICATION_ID 0x4D577374
/* Longest model, version or state key, in bytes. */
#define MW_STORE_NAME_MAX 256

typedef struct mw_store mw_store;

typedef struct mw_store_options {
    int synchronous_full; /* 0: WAL + synchronous=NORMAL (survives process crashes, kill -9);
                             1: synchronous=FULL (also survives power loss; one fsync per
                             commit) */
    int busy_timeout_ms;  /* wait for other processes' locks; 0 = 5000 */
} mw_store_options;

/*
 * Opens (creating if needed) the database at path; opt may be NULL for the
 * defaults. Sets WAL mode, foreign keys, and brings the schema up to
 * MW_STORE_SCHEMA_VERSION with the migration steps it lacks (each step in one
 * transaction). ":memory:" opens a private in-memory store (no durability).
 * Errors name the path: not a SQLite file or corrupt (MW_ECORRUPT), a SQLite
 * file of another application (MW_EINVAL), a schema newer than this build
 * (MW_ERANGE), cannot open or create (MW_EIO). *out is the handle on MW_OK.
 */
mw_status mw_store_open(const char *path, const mw_store_options *opt, mw_store **out,
                        mw_error *err);
/* Closes the handle (NULL is a no-op). No call may be in progress. */
void mw_store_close(mw_store *s);

/* ---- versions ---------------------------------------------------------- */

/* Registers (model, version) with its config, or replaces the config of an
 * existing one; a replace keeps created_ms and the baseline, sets updated_ms. */
mw_status mw_store_put_version(mw_store *s, const char *model, const char *version,
                               const char *config_json, int64_t now_ms, mw_error *err);

typedef struct mw_store_version {
    char *model, *version, *config_json;
    int64_t created_ms, updated_ms;
    int has_baseline;
} mw_store_version;

/* All registered versions ordered by model, then version (bytewise). *out is an
 * array of *n entries for mw_store_versions_free (NULL when *n is 0). */
mw_status mw_store_list_versions(mw_store *s, mw_store_version **out, size_t *n, mw_error *err);
void mw_store_versions_free(mw_store_version *v, size_t n);

/* Deletes the registration, its baseline, its window results and its journal
 * rows in one transaction. MW_ENOTFOUND when there was none of these. */
mw_status mw_store_delete_version(mw_store *s, const char *model, const char *version,
                                  mw_error *err);

/* ---- baselines ----------------------------------------------------------- */

/* Stores or replaces the baseline; MW_ENOTFOUND if the version is not registered. */
mw_status mw_store_put_baseline(mw_store *s, const char *model, const char *version,
                                const void *blob, size_t len, int64_t now_ms, mw_error *err);
/* The baseline (malloc'd, caller frees; non-NULL even when len is 0);
 * MW_ENOTFOUND when the version is not registered or has none. */
mw_status mw_store_get_baseline(mw_store *s, const char *model, const char *version, void **blob,
                                size_t *len, mw_error *err);

/* ---- journal of accepted batches for the open window ----------------------- */

/* Appends one batch and commits: durable when it returns MW_OK. *seq (seq may be
 * NULL) is its sequence number; numbers increase across the whole store and are
 * never reused, even after rows are deleted. The version need not be
 * registered. */
mw_status mw_store_journal_append(mw_store *s, const char *model, const char *version,
                                  const void *blob, size_t len, int64_t *seq, mw_error *err);
/* Appends n batches in one transaction (group commit: one commit, one fsync
 * under synchronous_full). Either all are stored or none. seqs may be NULL. */
mw_status mw_store_journal_append_many(mw_store *s, size_t n, const char *const *models,
                                       const char *const *versions, const void *const *blobs,
                                       const size_t *lens, int64_t *seqs, mw_error *err);

/* Called per journal row; blob is valid only during the call. Non-zero stops. */
typedef int (*mw_store_journal_fn)(int64_t seq, const void *blob, size_t len, void *ctx);
/* Calls fn for each journal row of (model, version) in seq order. fn runs with
 * the store locked and must not call the store. Stopping early is MW_OK. */
mw_status mw_store_journal_each(mw_store *s, const char *model, const char *version,
                                mw_store_journal_fn fn, void *ctx, mw_error *err);
/* Number of journal rows of (model, version). */
mw_status mw_store_journal_count(mw_store *s, const char *model, const char *version,
                                 uint64_t *count, mw_error *err);

/* ---- window results ------------------------------------------------------------ */

/*
 * Closes a window: in one transaction, stores the result and deletes the
 * journal rows of (model, version) with seq <= journal_upto (-1: none). Either
 * both happen or neither. start and end are window bounds in seconds (finite);
 * *window_id (may be NULL) is the new result's id. The version need not be
 * registered.
 */
mw_status mw_store_window_commit(mw_store *s, const char *model, const char *version, double start,
                                 double end, uint64_t records, const char *result_json,
                                 int64_t journal_upto, int64_t *window_id, mw_error *err);
/* The same, also storing `predictions` (a blob, NULL for none) as the
 * window's predictions awaiting labels, in the same transaction. */
mw_status mw_store_window_commit_predictions(mw_store *s, const char *model, const char *version,
                                             double start, double end, uint64_t records,
                                             const char *result_json, int64_t journal_upto,
                                             const void *predictions, size_t predictions_len,
                                             int64_t *window_id, mw_error *err);
/* The newest results first (by end, then id), at most limit (0 = all).
 * *results_json is a malloc'd array of *n malloc'd strings (NULL when *n is 0);
 * the caller frees each and the array. */
mw_status mw_store_list_windows(mw_store *s, const char *model, const char *version, size_t limit,
                                char ***results_json, size_t *n, mw_error *err);
/* Retention: keeps the keep newest results of (model, version), deletes the rest. */
mw_status mw_store_prune_windows(mw_store *s, const char *model, const char *version, size_t keep,
                                 mw_error *err);

/* ---- text samples (store_samples.c) ----------------------------------------------
 *
 * The redacted text examples of one window of a version that opted in
 * ("text": {"samples": N}): json is a JSON object written as given. Putting
 * a window's examples replaces any earlier ones of the same start and keeps
 * the keep newest windows of the version (0 = all).
 */
mw_status mw_store_samples_put(mw_store *s, const char *model, const char *version, double start,
                               const char *json, size_t keep, mw_error *err);
/* The stored objects, newest window first, as one malloc'd JSON array (caller
 * frees): every window (start NaN) or the one starting at start; at most
 * limit (0 = all). */
mw_status mw_store_samples_list(mw_store *s, const char *model, const char *version, double start,
                                size_t limit, char **json, mw_error *err);

/* ---- small key/value state ------------------------------------------------------- */

mw_status mw_store_put_state(mw_store *s, const char *key, const void *blob, size_t len,
                             mw_error *err);
/* The value (malloc'd, caller frees; non-NULL even when len is 0); MW_ENOTFOUND. */
mw_status mw_store_get_state(mw_store *s, const char *key, void **blob, size_t *len, mw_error *err);
/* MW_ENOTFOUND when the key is absent. */
mw_status mw_store_delete_state(mw_store *s, const char *key, mw_error *err);

/* ---- delayed labels ------------------------------------------------------------------ */

/* Calls fn for each stored predictions blob of (model, version), by window
 * start (mw_store_window_commit_predictions). fn runs with the lock held. */
typedef int (*mw_store_predictions_fn)(double start, const void *blob, size_t len, void *ctx);
mw_status mw_store_predictions_each(mw_store *s, const char *model, const char *version,
                                    mw_store_predictions_fn fn, void *ctx, mw_error *err);
/* Appends a batch of accepted labels (durable on MW_OK). */
mw_status mw_store_labels_append(mw_store *s, double at, const void *blob, size_t len,
                                 mw_error *err);
/* Calls fn for each label batch in the order they were appended. */
typedef int (*mw_store_labels_fn)(int64_t seq, double at, const void *blob, size_t len,
                                  void *ctx);
mw_status mw_store_labels_each(mw_store *s, mw_store_labels_fn fn, void *ctx, mw_error *err);
/* In one transaction, deletes predictions blobs of windows that started
 * before `before` and label batches appended before it (the labels' TTL). */
mw_status mw_store_labels_expire(mw_store *s, double before, mw_error *err);

/* ---- canary comparisons ------------------------------------------------------------ */

/* Stores one comparison of a model's canary pair for the window starting at
 * start (replacing one stored for the same pair and start), and keeps the
 * keep newest of the model (0 = all). */
mw_status mw_store_canary_put(mw_store *s, const char *model, const char *baseline_version,
                              const char *canary_version, double start, double end, int worse,
                              int64_t at_ms, const char *result_json, size_t keep, mw_error *err);
/* The newest comparisons of model first (by window start), at most limit (0 =
 * all), as a malloc'd JSON array of the stored result objects. */
mw_status mw_store_canary_list(mw_store *s, const char *model, size_t limit, char **json,
                               mw_error *err);

/* ---- alerts ------------------------------------------------------------------------ */

/* One alert state transition, for the history. */
typedef struct mw_store_alert_event {
    double at;               /* unix seconds */
    const char *rule;        /* the rule's name */
    const char *labels_json; /* the alert's labels as a JSON object */
    const char *from, *to;   /* state names */
    double value;            /* NaN is stored as NULL */
} mw_store_alert_event;

/* In one transaction: stores state_json under the state key "alerts" (the
 * alert engine's state), appends the n events to the history and keeps only
 * the newest keep events (0 = keep all). */
mw_status mw_store_alerts_commit(mw_store *s, const char *state_json,
                                 const mw_store_alert_event *events, size_t n, size_t keep,
                                 mw_error *err);
/* The newest history events first, at most limit (0 = all), as a malloc'd JSON
 * array of {"at": unix seconds, "rule", "labels": {...}, "from", "to",
 * "value"} (value null when it was NaN). */
mw_status mw_store_alert_history(mw_store *s, size_t limit, char **json, mw_error *err);

/* ---- golden-prompt probe runs ---------------------------------------------------------- */

/* In one transaction: stores the result of one run of probe set `set`
 * (start and end in unix seconds, finite; result_json a JSON object) and
 * keeps only the keep newest runs of that set (0 = keep all). */
mw_status mw_store_probe_run_commit(mw_store *s, const char *set, double start, double end,
                                    unsigned prompts, unsigned passed, const char *result_json,
                                    size_t keep, mw_error *err);
/* The newest runs of set first (by end, then id), at most limit (0 = all), as
 * a malloc'd JSON array of the stored results. */
mw_status mw_store_probe_runs(mw_store *s, const char *set, size_t limit, char **json,
                              mw_error *err);

#ifdef __cplusplus
}
#endif
#endif
