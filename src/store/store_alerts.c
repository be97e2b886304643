/*
 * Alert state and history in the store (store.h "alerts"): the alert
 * engine's state is one JSON value under the state key "alerts", written in
 * the same transaction as the transitions that changed it, so that after a
 * crash the history and the current alerts always agree.
 */
#include "store/store_int.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static mw_status run(mw_store *s, sqlite3_stmt *q, int rc, const char *op, mw_error *err) {
    if (rc == SQLITE_OK) rc = mw_st_exec(q);
    mw_status st = rc == SQLITE_DONE ? MW_OK : mw_st_fail(s, rc, op, NULL, NULL, err);
    mw_st_done(q);
    return st;
}

static mw_status put_state(mw_store *s, const char *json, const char *op, mw_error *err) {
    sqlite3_stmt *q = mw_st_get(s, MW_ST_STATE_PUT, op, NULL, NULL, err);
    if (!q) return s->prep_status;
    int rc = mw_st_bind_text(q, 1, "alerts");
    if (rc == SQLITE_OK) rc = mw_st_bind_blob(q, 2, json, strlen(json));
    return run(s, q, rc, op, err);
}

static mw_status put_event(mw_store *s, const mw_store_alert_event *ev, const char *op,
                           mw_error *err) {
    sqlite3_stmt *q = mw_st_get(s, MW_ST_ALERT_EVENT_INSERT, op, NULL, NULL, err);
    if (!q) return s->prep_status;
    int rc = sqlite3_bind_double(q, 1, ev->at);
    if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, ev->rule);
    if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 3, ev->labels_json);
    if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 4, ev->from);
    if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 5, ev->to);
    if (rc == SQLITE_OK)
        rc = isfinite(ev->value) ? sqlite3_bind_double(q, 6, ev->value) : sqlite3_bind_null(q, 6);
    return run(s, q, rc, op, err);
}

static mw_status prune(mw_store *s, size_t keep, const char *op, mw_error *err) {
    sqlite3_stmt *q = mw_st_get(s, MW_ST_ALERT_EVENT_PRUNE, op, NULL, NULL, err);
    if (!q) return s->prep_status;
    return run(s, q, sqlite3_bind_int64(q, 1, (int64_t)keep), op, err);
}

mw_status mw_store_alerts_commit(mw_store *s, const char *state_json,
                                 const mw_store_alert_event *events, size_t n, size_t keep,
                                 mw_error *err) {
    static const char op[] = "alerts_commit";
    mw_error_clear(err);
    if (!s || !state_json || (n && !events))
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: NULL argument", op);
    for (size_t i = 0; i < n; i++)
        if (!events[i].rule || !events[i].labels_json || !events[i].from || !events[i].to)
            return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s: event %zu has a NULL field", op,
                                i);
    mw_st_lock(s);
    mw_status st = mw_st_begin(s, op, NULL, NULL, err);
    if (st == MW_OK) st = put_state(s, state_json, op, err);
    for (size_t i = 0; st == MW_OK && i < n; i++)
        st = put_event(s, &events[i], op, err);
    if (st == MW_OK && keep > 0 && n > 0) st = prune(s, keep, op, err);
    if (st == MW_OK)
        st = mw_st_commit(s, op, NULL, NULL, err);
    else
        mw_st_rollback(s);
    mw_st_unlock(s);
    return st;
}

static json_t *event_row(sqlite3_stmt *q) {
    const char *labels = (const char *)sqlite3_column_text(q, 2);
    json_t *lab = labels ? json_loads(labels, 0, NULL) : NULL;
    json_t *value = sqlite3_column_type(q, 5) == SQLITE_NULL
                        ? json_null()
                        : json_real(sqlite3_column_double(q, 5));
    return json_pack("{s:f, s:s, s:o, s:s, s:s, s:o}", "at", sqlite3_column_double(q, 0), "rule",
                     (const char *)sqlite3_column_text(q, 1), "labels", lab ? lab : json_object(),
                     "from", (const char *)sqlite3_column_text(q, 3), "to",
                     (const char *)sqlite3_column_text(q, 4), "value", value);
}

mw_status mw_store_alert_history(mw_store *s, size_t limit, char **json, mw_error *err) {
    static const char op[] = "alert_history";
    mw_error_clear(err);
    if (!s || !json) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: NULL argument", op);
    *json = NULL;
    json_t *arr = json_array();
    if (!arr) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "%s: out of memory", op);
    mw_st_lock(s);
    sqlite3_stmt *q = mw_st_get(s, MW_ST_ALERT_EVENT_LIST, op, NULL, NULL, err);
    mw_status st = q ? MW_OK : s->prep_status;
    if (q) {
        mw_st_json_rows rows = {arr, event_row};
        st = mw_st_each_row(s, q, sqlite3_bind_int64(q, 1, limit ? (int64_t)limit : -1),
                            mw_st_append_json_row, &rows, op, NULL, NULL, err);
    }
    mw_st_unlock(s);
    if (st == MW_OK && !(*json = json_dumps(arr, JSON_COMPACT)))
        st = mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "%s: out of memory", op);
    json_decref(arr);
    return st;
}
