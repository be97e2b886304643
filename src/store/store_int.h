/*
 * Internals shared by the store's files: the handle, the prepared-statement
 * cache, error mapping, argument checks and transaction helpers. Every helper
 * here expects the handle's mutex to be held by the caller.
 */
#ifndef MW_STORE_INT_H
#define MW_STORE_INT_H

#include "modelwatch/store.h"

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>

/* Cached statements; the SQL of each is in store.c's table, in this order. */
enum mw_st_id {
    MW_ST_BEGIN,
    MW_ST_COMMIT,
    MW_ST_ROLLBACK,
    MW_ST_VERSION_PUT,
    MW_ST_VERSION_LIST,
    MW_ST_VERSION_DELETE,
    MW_ST_BASELINE_PUT,
    MW_ST_BASELINE_GET,
    MW_ST_JOURNAL_APPEND,
    MW_ST_JOURNAL_EACH,
    MW_ST_JOURNAL_COUNT,
    MW_ST_JOURNAL_DELETE_UPTO,
    MW_ST_JOURNAL_DELETE_ALL,
    MW_ST_WINDOW_INSERT,
    MW_ST_WINDOW_LIST,
    MW_ST_WINDOW_PRUNE,
    MW_ST_WINDOW_DELETE_ALL,
    MW_ST_STATE_PUT,
    MW_ST_STATE_GET,
    MW_ST_STATE_DELETE,
    MW_ST_ALERT_EVENT_INSERT,
    MW_ST_ALERT_EVENT_LIST,
    MW_ST_ALERT_EVENT_PRUNE,
    MW_ST_PREDICTIONS_PUT,
    MW_ST_PREDICTIONS_EACH,
    MW_ST_PREDICTIONS_DELETE_ALL,
    MW_ST_PREDICTIONS_EXPIRE,
    MW_ST_LABELS_APPEND,
    MW_ST_LABELS_EACH,
    MW_ST_LABELS_EXPIRE,
    MW_ST_REG_MODEL_INSERT,
    MW_ST_REG_MODEL_LIST,
    MW_ST_REG_VERSION_INSERT,
    MW_ST_REG_VERSION_LIST,
    MW_ST_REG_VERSION_SET_EVAL,
    MW_ST_REG_VERSION_DELETE,
    MW_ST_REG_ALIAS_GET,
    MW_ST_REG_ALIAS_LIST,
    MW_ST_REG_ALIAS_PUT,
    MW_ST_REG_ALIAS_DELETE,
    MW_ST_REG_AUDIT_INSERT,
    MW_ST_REG_AUDIT_LIST,
    MW_ST_REG_AUDIT_LAST,
    MW_ST_CANARY_PUT,
    MW_ST_CANARY_LIST,
    MW_ST_CANARY_PRUNE,
    MW_ST_PROBE_RUN_INSERT,
    MW_ST_PROBE_RUN_LIST,
    MW_ST_PROBE_RUN_PRUNE,
    MW_ST_SAMPLES_PUT,
    MW_ST_SAMPLES_PRUNE,
    MW_ST_SAMPLES_LIST,
    MW_ST_SAMPLES_DELETE_ALL,
    MW_ST_JMARK_PUT,
    MW_ST_JMARK_GET,
    MW_ST_JMARK_DELETE_ALL,
    MW_ST_COUNT
};

struct mw_store {
    sqlite3 *db;
    pthread_mutex_t mu;
    char *path;
    sqlite3_stmt *stmt[MW_ST_COUNT]; /* prepared on first use, finalized on close */
    mw_status prep_status;           /* status of the last failed mw_st_get */
    /* the journal files (store_jfile.c); jdir NULL: journal rows in SQLite */
    char *jdir;
    pthread_mutex_t jmu; /* guards jfiles */
    struct mw_jfile *jfiles;
    int64_t jseq;   /* newest seq handed out (atomic) */
    int jsync_full; /* fdatasync after each append */
};

/* ---- journal files (store_jfile.c) ------------------------------------------------ */

typedef struct mw_jfile mw_jfile;
/* Where a file ended: an append can be taken back to it. */
typedef struct mw_jf_pos {
    uint64_t size;
    int64_t last_seq;
} mw_jf_pos;
/* The journal file of (model, version), opened (its torn tail cut) on first
 * use. With create 0 and no file, *out is NULL and MW_OK is returned. */
mw_status mw_jf_get(mw_store *s, const char *model, const char *version, int create, mw_jfile **out,
                    mw_error *err);
/* Appends a frame (fdatasync when sync); *seq its seq, *before (may be NULL)
 * where the file ended, for mw_jf_truncate. */
mw_status mw_jf_append(mw_store *s, mw_jfile *jf, const void *blob, size_t len, int sync,
                       int64_t *seq, mw_jf_pos *before, mw_error *err);
/* Takes back appends: the file ends at pos again. */
void mw_jf_truncate(mw_jfile *jf, const mw_jf_pos *pos);
mw_status mw_jf_sync(mw_store *s, mw_jfile *jf, mw_error *err);
/* Calls fn (may be NULL) for each frame with seq > after, in order, counting
 * them into *count (may be NULL). fn runs with the file's lock held. */
mw_status mw_jf_each(mw_store *s, mw_jfile *jf, int64_t after, mw_store_journal_fn fn, void *ctx,
                     uint64_t *count, mw_error *err);
/* After a window's commit covered seq <= upto: empties the file when all its
 * frames are covered. */
void mw_jf_discard(mw_store *s, const char *model, const char *version, int64_t upto);
/* Deletes the version's file (delete_version, after its commit). */
void mw_jf_remove(mw_store *s, const char *model, const char *version);
/* fsync of the journal directory (a new file's name made durable); 0 on success. */
int mw_jf_sync_dir(mw_store *s);
void mw_jf_close_all(mw_store *s);

/* Locks / unlocks the handle. */
void mw_st_lock(mw_store *s);
void mw_st_unlock(mw_store *s);

/* The cached statement id, prepared if needed and ready to bind (reset, no
 * bindings). NULL on failure with err filled for operation op and the status
 * in s->prep_status. */
sqlite3_stmt *mw_st_get(mw_store *s, enum mw_st_id id, const char *op, const char *model,
                        const char *version, mw_error *err);
/* Resets a statement after use and drops its bindings (so no borrowed blob
 * pointer outlives the call). */
void mw_st_done(sqlite3_stmt *st);

/* Turns SQLite result code rc into a status and fills err: "<path>: <op>
 * <model>/<version>: <sqlite message>". model/version may be NULL. */
mw_status mw_st_fail(mw_store *s, int rc, const char *op, const char *model, const char *version,
                     mw_error *err);

/* MW_EINVAL unless name is non-NULL, non-empty and at most MW_STORE_NAME_MAX bytes. */
mw_status mw_st_check_name(const mw_store *s, const char *what, const char *name, const char *op,
                           mw_error *err);
/* Checks s, model and version together. */
mw_status mw_st_check_mv(const mw_store *s, const char *model, const char *version, const char *op,
                         mw_error *err);
/* MW_EINVAL for a NULL blob with len > 0, MW_ERANGE for len over SQLite's limit. */
mw_status mw_st_check_blob(mw_store *s, const void *blob, size_t len, const char *op,
                           mw_error *err);

/* Binds a blob (zero-length allowed, never bound as NULL) without copying. */
int mw_st_bind_blob(sqlite3_stmt *st, int idx, const void *blob, size_t len);
/* Binds a NUL-terminated text without copying. */
int mw_st_bind_text(sqlite3_stmt *st, int idx, const char *text);
/* Copies column col of the current row into a fresh malloc'd buffer (non-NULL
 * even when empty; text gets a NUL terminator). NULL when out of memory. */
void *mw_st_column_copy(sqlite3_stmt *st, int col, size_t *len);

/* Steps q (bound, rc the binding's result) through its rows, calling row()
 * for each (a non-zero return stops early, as success), then resets it.
 * Errors are mapped with mw_st_fail for op/model/version. */
typedef int (*mw_st_row_fn)(sqlite3_stmt *q, void *ctx);
mw_status mw_st_each_row(mw_store *s, sqlite3_stmt *q, int rc, mw_st_row_fn row, void *ctx,
                         const char *op, const char *model, const char *version, mw_error *err);
/* A row function that appends row(q) (a JSON value builder) to the array ctx. */
typedef struct mw_st_json_rows {
    json_t *arr;
    json_t *(*row)(sqlite3_stmt *q);
} mw_st_json_rows;
int mw_st_append_json_row(sqlite3_stmt *q, void *ctx);

/* Steps a statement that returns no rows; SQLITE_DONE on success. */
int mw_st_exec(sqlite3_stmt *st);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK through the cache. */
mw_status mw_st_begin(mw_store *s, const char *op, const char *model, const char *version,
                      mw_error *err);
mw_status mw_st_commit(mw_store *s, const char *op, const char *model, const char *version,
                       mw_error *err);
/* Rolls back if a transaction is open; never fails (a failed rollback leaves
 * SQLite to roll back on the next statement). */
void mw_st_rollback(mw_store *s);

#endif
