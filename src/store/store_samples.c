/*
 * Text samples (store.h): the redacted examples of one window of a version
 * that opted in to keeping some ("text": {"samples": N} in its
 * configuration), one row per (model, version, window start) holding a JSON
 * object. Nothing is written for versions that did not opt in, so by default
 * no text of any kind reaches the database. Written when the window closes,
 * pruned to a number of windows in the same transaction.
 */
#include "core/util.h"
#include "store_int.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Runs a bound statement that returns no rows; st on entry passes through. */
static mw_status run(mw_store *s, sqlite3_stmt *q, int rc, const char *op, const char *model,
                     const char *version, mw_error *err) {
    if (rc == SQLITE_OK) rc = mw_st_exec(q);
    mw_status st = rc == SQLITE_DONE ? MW_OK : mw_st_fail(s, rc, op, model, version, err);
    mw_st_done(q);
    return st;
}

mw_status mw_store_samples_put(mw_store *s, const char *model, const char *version, double start,
                               const char *json, size_t keep, mw_error *err) {
    static const char op[] = "samples_put";
    mw_error_clear(err);
    mw_status st = mw_st_check_mv(s, model, version, op, err);
    if (st != MW_OK) return st;
    if (!json || !isfinite(start))
        return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s %s/%s: no samples or bad start", op,
                            model, version);
    mw_st_lock(s);
    st = mw_st_begin(s, op, model, version, err);
    if (st == MW_OK) {
        sqlite3_stmt *q = mw_st_get(s, MW_ST_SAMPLES_PUT, op, model, version, err);
        if (!q) {
            st = s->prep_status;
        } else {
            int rc = mw_st_bind_text(q, 1, model);
            if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
            if (rc == SQLITE_OK) rc = sqlite3_bind_double(q, 3, start);
            if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 4, json);
            st = run(s, q, rc, op, model, version, err);
        }
    }
    if (st == MW_OK && keep) {
        sqlite3_stmt *q = mw_st_get(s, MW_ST_SAMPLES_PRUNE, op, model, version, err);
        if (!q) {
            st = s->prep_status;
        } else {
            int rc = mw_st_bind_text(q, 1, model);
            if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
            if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(q, 3, keep > INT64_MAX ? INT64_MAX : (int64_t)keep);
            st = run(s, q, rc, op, model, version, err);
        }
    }
    if (st == MW_OK) st = mw_st_commit(s, op, model, version, err);
    if (st != MW_OK) mw_st_rollback(s);
    mw_st_unlock(s);
    return st;
}

/* Appends one stored object to the array being built. */
static int append_row(sqlite3_stmt *q, void *ctx) {
    mw_buf *o = ctx;
    if (o->len > 1) mw_buf_u8(o, ',');
    const unsigned char *t = sqlite3_column_text(q, 0);
    mw_buf_put(o, t ? (const char *)t : "null", t ? (size_t)sqlite3_column_bytes(q, 0) : 4);
    return 0;
}

mw_status mw_store_samples_list(mw_store *s, const char *model, const char *version, double start,
                                size_t limit, char **json, mw_error *err) {
    static const char op[] = "samples_list";
    mw_error_clear(err);
    if (json) *json = NULL;
    mw_status st = mw_st_check_mv(s, model, version, op, err);
    if (st != MW_OK) return st;
    if (!json) return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s: NULL output", op);
    mw_buf o = {0};
    mw_buf_u8(&o, '[');
    mw_st_lock(s);
    sqlite3_stmt *q = mw_st_get(s, MW_ST_SAMPLES_LIST, op, model, version, err);
    if (!q) {
        st = s->prep_status;
    } else {
        int rc = mw_st_bind_text(q, 1, model);
        if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
        if (rc == SQLITE_OK)
            rc = isnan(start) ? sqlite3_bind_null(q, 3) : sqlite3_bind_double(q, 3, start);
        if (rc == SQLITE_OK)
            rc = sqlite3_bind_int64(q, 4, limit == 0 || limit > INT64_MAX ? -1 : (int64_t)limit);
        st = mw_st_each_row(s, q, rc, append_row, &o, op, model, version, err);
    }
    mw_st_unlock(s);
    mw_buf_put(&o, "]", 2); /* with the NUL */
    if (st == MW_OK && o.failed)
        st = mw_error_set(err, MW_ENOMEM, s->path, 0, 0, "%s: out of memory", op);
    if (st != MW_OK) {
        free(o.data);
        return st;
    }
    *json = (char *)o.data;
    return MW_OK;
}
