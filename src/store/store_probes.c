/*
 * Golden-prompt probe runs in the store (store.h "probe runs"): one row per
 * run of a probe set with its result as JSON text, kept to the newest `keep`
 * runs of each set in the same transaction that adds one, so the table stays
 * bounded whatever the schedule.
 */
#include "store/store_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static mw_status run(mw_store *s, sqlite3_stmt *q, int rc, const char *op, const char *set,
                     mw_error *err) {
    if (rc == SQLITE_OK) rc = mw_st_exec(q);
    mw_status st = rc == SQLITE_DONE ? MW_OK : mw_st_fail(s, rc, op, set, NULL, err);
    mw_st_done(q);
    return st;
}

static mw_status insert(mw_store *s, const char *set, double start, double end, unsigned prompts,
                        unsigned passed, const char *json, const char *op, mw_error *err) {
    sqlite3_stmt *q = mw_st_get(s, MW_ST_PROBE_RUN_INSERT, op, set, NULL, err);
    if (!q) return s->prep_status;
    int rc = mw_st_bind_text(q, 1, set);
    if (rc == SQLITE_OK) rc = sqlite3_bind_double(q, 2, start);
    if (rc == SQLITE_OK) rc = sqlite3_bind_double(q, 3, end);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(q, 4, prompts);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(q, 5, passed);
    if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 6, json);
    return run(s, q, rc, op, set, err);
}

static mw_status prune(mw_store *s, const char *set, size_t keep, const char *op, mw_error *err) {
    sqlite3_stmt *q = mw_st_get(s, MW_ST_PROBE_RUN_PRUNE, op, set, NULL, err);
    if (!q) return s->prep_status;
    int rc = mw_st_bind_text(q, 1, set);
    if (rc == SQLITE_OK) rc = sqlite3_bind_int64(q, 2, (int64_t)keep);
    return run(s, q, rc, op, set, err);
}

mw_status mw_store_probe_run_commit(mw_store *s, const char *set, double start, double end,
                                    unsigned prompts, unsigned passed, const char *result_json,
                                    size_t keep, mw_error *err) {
    static const char op[] = "probe_run_commit";
    mw_error_clear(err);
    if (!s || !result_json)
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: NULL argument", op);
    mw_status st = mw_st_check_name(s, "probe set", set, op, err);
    if (st) return st;
    if (!isfinite(start) || !isfinite(end))
        return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s %s: start and end must be finite",
                            op, set);
    mw_st_lock(s);
    st = mw_st_begin(s, op, set, NULL, err);
    if (st == MW_OK) st = insert(s, set, start, end, prompts, passed, result_json, op, err);
    if (st == MW_OK && keep > 0) st = prune(s, set, keep, op, err);
    if (st == MW_OK)
        st = mw_st_commit(s, op, set, NULL, err);
    else
        mw_st_rollback(s);
    mw_st_unlock(s);
    return st;
}

static json_t *run_row(sqlite3_stmt *q) {
    const char *text = (const char *)sqlite3_column_text(q, 0);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    return o ? o : json_null(); /* a row that does not parse shows as null */
}

mw_status mw_store_probe_runs(mw_store *s, const char *set, size_t limit, char **json,
                              mw_error *err) {
    static const char op[] = "probe_runs";
    mw_error_clear(err);
    if (!s || !json) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: NULL argument", op);
    *json = NULL;
    mw_status st = mw_st_check_name(s, "probe set", set, op, err);
    if (st) return st;
    json_t *arr = json_array();
    if (!arr) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "%s: out of memory", op);
    mw_st_lock(s);
    sqlite3_stmt *q = mw_st_get(s, MW_ST_PROBE_RUN_LIST, op, set, NULL, err);
    st = q ? MW_OK : s->prep_status;
    if (q) {
        mw_st_json_rows rows = {arr, run_row};
        int rc = mw_st_bind_text(q, 1, set);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int64(q, 2, limit ? (int64_t)limit : -1);
        st = mw_st_each_row(s, q, rc, mw_st_append_json_row, &rows, op, set, NULL, err);
    }
    mw_st_unlock(s);
    if (st == MW_OK && !(*json = json_dumps(arr, JSON_COMPACT)))
        st = mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "%s: out of memory", op);
    json_decref(arr);
    return st;
}
