/*
 * Canary comparisons in the store (store.h "canary comparisons"): one row per
 * (model, baseline version, canary version, window start) holding the
 * comparison's JSON (src/monitor/canary.c), newest first by window start, with
 * a per-model retention bound so the table cannot grow without limit.
 */
#include "store/store_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

mw_status mw_store_canary_put(mw_store *s, const char *model, const char *baseline_version,
                              const char *canary_version, double start, double end, int worse,
                              int64_t at_ms, const char *result_json, size_t keep, mw_error *err) {
    static const char op[] = "canary_put";
    mw_error_clear(err);
    mw_status st = mw_st_check_mv(s, model, baseline_version, op, err);
    if (!st) st = mw_st_check_name(s, "canary version", canary_version, op, err);
    if (st) return st;
    if (!result_json) return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s: NULL result", op);
    mw_st_lock(s);
    st = mw_st_begin(s, op, model, canary_version, err);
    sqlite3_stmt *q = st ? NULL : mw_st_get(s, MW_ST_CANARY_PUT, op, model, canary_version, err);
    if (!st && !q) st = s->prep_status;
    if (q) {
        int rc = mw_st_bind_text(q, 1, model);
        if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, baseline_version);
        if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 3, canary_version);
        if (rc == SQLITE_OK) rc = sqlite3_bind_double(q, 4, start);
        if (rc == SQLITE_OK) rc = sqlite3_bind_double(q, 5, end);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int(q, 6, worse != 0);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int64(q, 7, at_ms);
        if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 8, result_json);
        if (rc == SQLITE_OK) rc = mw_st_exec(q);
        if (rc != SQLITE_DONE) st = mw_st_fail(s, rc, op, model, canary_version, err);
        mw_st_done(q);
    }
    if (!st && keep) {
        q = mw_st_get(s, MW_ST_CANARY_PRUNE, op, model, canary_version, err);
        int rc = q ? mw_st_bind_text(q, 1, model) : SQLITE_ERROR;
        if (q && rc == SQLITE_OK) rc = sqlite3_bind_int64(q, 2, (int64_t)keep);
        if (q && rc == SQLITE_OK) rc = mw_st_exec(q);
        if (!q)
            st = s->prep_status;
        else if (rc != SQLITE_DONE)
            st = mw_st_fail(s, rc, op, model, canary_version, err);
        if (q) mw_st_done(q);
    }
    if (!st)
        st = mw_st_commit(s, op, model, canary_version, err);
    else
        mw_st_rollback(s);
    mw_st_unlock(s);
    return st;
}

static json_t *result_row(sqlite3_stmt *q) {
    const char *text = (const char *)sqlite3_column_text(q, 0);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    return o ? o : json_null();
}

mw_status mw_store_canary_list(mw_store *s, const char *model, size_t limit, char **json,
                               mw_error *err) {
    static const char op[] = "canary_list";
    mw_error_clear(err);
    if (!s || !json) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: NULL argument", op);
    *json = NULL;
    mw_status st = mw_st_check_name(s, "model", model, op, err);
    if (st) return st;
    json_t *arr = json_array();
    if (!arr) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "%s: out of memory", op);
    mw_st_lock(s);
    sqlite3_stmt *q = mw_st_get(s, MW_ST_CANARY_LIST, op, model, NULL, err);
    st = q ? MW_OK : s->prep_status;
    if (q) {
        int rc = mw_st_bind_text(q, 1, model);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int64(q, 2, limit ? (int64_t)limit : -1);
        mw_st_json_rows rows = {arr, result_row};
        st = mw_st_each_row(s, q, rc, mw_st_append_json_row, &rows, op, model, NULL, err);
    }
    mw_st_unlock(s);
    if (st == MW_OK && !(*json = json_dumps(arr, JSON_COMPACT)))
        st = mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "%s: out of memory", op);
    json_decref(arr);
    return st;
}
