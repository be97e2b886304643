/*
 * Delayed labels in the store (store.h "delayed labels"): the predictions of
 * each closed window, kept until their labels' TTL passes, and the journal of
 * accepted labels. At start the daemon reloads the predictions, replays the
 * open windows' record journal and then this label journal, which rebuilds
 * every window's performance exactly as it was.
 */
#include "store/store_int.h"

#include <math.h>
#include <string.h>

typedef struct pred_ctx {
    mw_store_predictions_fn fn;
    void *ctx;
} pred_ctx;

static int pred_row(sqlite3_stmt *q, void *ctx) {
    pred_ctx *c = ctx;
    const void *p = sqlite3_column_blob(q, 1);
    return c->fn(sqlite3_column_double(q, 0), p ? p : "", (size_t)sqlite3_column_bytes(q, 1),
                 c->ctx);
}

mw_status mw_store_predictions_each(mw_store *s, const char *model, const char *version,
                                    mw_store_predictions_fn fn, void *ctx, mw_error *err) {
    static const char op[] = "predictions_each";
    mw_error_clear(err);
    mw_status st = mw_st_check_mv(s, model, version, op, err);
    if (st != MW_OK) return st;
    if (!fn) return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s: callback is NULL", op);
    mw_st_lock(s);
    sqlite3_stmt *q = mw_st_get(s, MW_ST_PREDICTIONS_EACH, op, model, version, err);
    if (q) {
        int rc = mw_st_bind_text(q, 1, model);
        if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
        pred_ctx c = {fn, ctx};
        st = mw_st_each_row(s, q, rc, pred_row, &c, op, model, version, err);
    } else {
        st = s->prep_status;
    }
    mw_st_unlock(s);
    return st;
}

mw_status mw_store_labels_append(mw_store *s, double at, const void *blob, size_t len,
                                 mw_error *err) {
    static const char op[] = "labels_append";
    mw_error_clear(err);
    if (!s) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: store handle is NULL", op);
    mw_status st = mw_st_check_blob(s, blob, len, op, err);
    if (st != MW_OK) return st;
    mw_st_lock(s);
    sqlite3_stmt *q = mw_st_get(s, MW_ST_LABELS_APPEND, op, NULL, NULL, err);
    if (q) {
        int rc = sqlite3_bind_double(q, 1, at);
        if (rc == SQLITE_OK) rc = mw_st_bind_blob(q, 2, blob, len);
        if (rc == SQLITE_OK) rc = mw_st_exec(q);
        if (rc != SQLITE_DONE) st = mw_st_fail(s, rc, op, NULL, NULL, err);
        mw_st_done(q);
    } else {
        st = s->prep_status;
    }
    mw_st_unlock(s);
    return st;
}

typedef struct labels_ctx {
    mw_store_labels_fn fn;
    void *ctx;
} labels_ctx;

static int labels_row(sqlite3_stmt *q, void *ctx) {
    labels_ctx *c = ctx;
    const void *p = sqlite3_column_blob(q, 2);
    return c->fn(sqlite3_column_int64(q, 0), sqlite3_column_double(q, 1), p ? p : "",
                 (size_t)sqlite3_column_bytes(q, 2), c->ctx);
}

mw_status mw_store_labels_each(mw_store *s, mw_store_labels_fn fn, void *ctx, mw_error *err) {
    static const char op[] = "labels_each";
    mw_error_clear(err);
    if (!s || !fn) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: NULL argument", op);
    mw_st_lock(s);
    sqlite3_stmt *q = mw_st_get(s, MW_ST_LABELS_EACH, op, NULL, NULL, err);
    labels_ctx c = {fn, ctx};
    mw_status st =
        q ? mw_st_each_row(s, q, SQLITE_OK, labels_row, &c, op, NULL, NULL, err) : s->prep_status;
    mw_st_unlock(s);
    return st;
}

static mw_status expire_step(mw_store *s, enum mw_st_id id, double before, const char *op,
                             mw_error *err) {
    sqlite3_stmt *q = mw_st_get(s, id, op, NULL, NULL, err);
    if (!q) return s->prep_status;
    int rc = sqlite3_bind_double(q, 1, before);
    if (rc == SQLITE_OK) rc = mw_st_exec(q);
    mw_status st = rc == SQLITE_DONE ? MW_OK : mw_st_fail(s, rc, op, NULL, NULL, err);
    mw_st_done(q);
    return st;
}

mw_status mw_store_labels_expire(mw_store *s, double before, mw_error *err) {
    static const char op[] = "labels_expire";
    mw_error_clear(err);
    if (!s || !isfinite(before))
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: bad argument", op);
    mw_st_lock(s);
    mw_status st = mw_st_begin(s, op, NULL, NULL, err);
    if (st == MW_OK) st = expire_step(s, MW_ST_PREDICTIONS_EXPIRE, before, op, err);
    if (st == MW_OK) st = expire_step(s, MW_ST_LABELS_EXPIRE, before, op, err);
    if (st == MW_OK)
        st = mw_st_commit(s, op, NULL, NULL, err);
    else
        mw_st_rollback(s);
    mw_st_unlock(s);
    return st;
}
