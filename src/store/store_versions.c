/*
 * Store operations on registrations, baselines and the key/value state table.
 *
 * A registration is upserted (INSERT ... ON CONFLICT DO UPDATE), never
 * replaced with INSERT OR REPLACE: a replace would delete the row, give it a
 * new id and cascade-delete its baseline. Deleting a version removes, in one
 * transaction, the registration (the baseline follows by foreign-key cascade)
 * and the window results and journal rows kept under its names.
 *
 * Every function takes the handle's mutex for its whole duration; each write
 * is one SQLite transaction, committed (durable per the open options) when the
 * function returns MW_OK.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

mw_status mw_store_put_version(mw_store *s, const char *model, const char *version,
                               const char *config_json, int64_t now_ms, mw_error *err) {
    static const char op[] = "put_version";
    mw_error_clear(err);
    mw_status st = mw_st_check_mv(s, model, version, op, err);
    if (st != MW_OK) return st;
    if (!config_json)
        return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s %s/%s: config_json is NULL", op,
                            model, version);
    mw_st_lock(s);
    sqlite3_stmt *q = mw_st_get(s, MW_ST_VERSION_PUT, op, model, version, err);
    if (q) {
        int rc = mw_st_bind_text(q, 1, model);
        if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
        if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 3, config_json);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int64(q, 4, now_ms);
        if (rc == SQLITE_OK) rc = mw_st_exec(q);
        if (rc != SQLITE_DONE) st = mw_st_fail(s, rc, op, model, version, err);
        mw_st_done(q);
    } else {
        st = s->prep_status;
    }
    mw_st_unlock(s);
    return st;
}

void mw_store_versions_free(mw_store_version *v, size_t n) {
    if (!v) return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].model);
        free(v[i].version);
        free(v[i].config_json);
    }
    free(v);
}

mw_status mw_store_list_versions(mw_store *s, mw_store_version **out, size_t *n, mw_error *err) {
    static const char op[] = "list_versions";
    mw_error_clear(err);
    if (out) *out = NULL;
    if (n) *n = 0;
    if (!s || !out || !n)
        return mw_error_set(err, MW_EINVAL, s ? s->path : NULL, 0, 0, "%s: NULL argument", op);
    mw_st_lock(s);
    mw_status st = MW_OK;
    mw_store_version *v = NULL;
    size_t len = 0, cap = 0;
    sqlite3_stmt *q = mw_st_get(s, MW_ST_VERSION_LIST, op, NULL, NULL, err);
    if (!q) st = s->prep_status;
    int rc = SQLITE_DONE;
    while (st == MW_OK && (rc = sqlite3_step(q)) == SQLITE_ROW) {
        if (len == cap) {
            size_t ncap = cap ? 2 * cap : 16;
            mw_store_version *nv = realloc(v, ncap * sizeof *nv);
            if (!nv) {
                st = mw_error_set(err, MW_ENOMEM, s->path, 0, 0, "%s: out of memory", op);
                break;
            }
            v = nv;
            cap = ncap;
        }
        mw_store_version *e = &v[len];
        memset(e, 0, sizeof *e);
        len++;
        e->model = mw_st_column_copy(q, 0, NULL);
        e->version = mw_st_column_copy(q, 1, NULL);
        e->config_json = mw_st_column_copy(q, 2, NULL);
        e->created_ms = sqlite3_column_int64(q, 3);
        e->updated_ms = sqlite3_column_int64(q, 4);
        e->has_baseline = sqlite3_column_int(q, 5) != 0;
        if (!e->model || !e->version || !e->config_json)
            st = mw_error_set(err, MW_ENOMEM, s->path, 0, 0, "%s: out of memory", op);
    }
    if (st == MW_OK && rc != SQLITE_DONE) st = mw_st_fail(s, rc, op, NULL, NULL, err);
    mw_st_done(q);
    mw_st_unlock(s);
    if (st != MW_OK) {
        mw_store_versions_free(v, len);
        return st;
    }
    *out = v;
    *n = len;
    return MW_OK;
}

/* Runs one (model, version)-keyed delete and adds its row count to *changes. */
static mw_status delete_by_mv(mw_store *s, enum mw_st_id id, const char *model, const char *version,
                              int64_t *changes, mw_error *err) {
    sqlite3_stmt *q = mw_st_get(s, id, "delete_version", model, version, err);
    if (!q) return s->prep_status;
    mw_status st = MW_OK;
    int rc = mw_st_bind_text(q, 1, model);
    if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
    if (rc == SQLITE_OK) rc = mw_st_exec(q);
    if (rc == SQLITE_DONE)
        *changes += sqlite3_changes64(s->db);
    else
        st = mw_st_fail(s, rc, "delete_version", model, version, err);
    mw_st_done(q);
    return st;
}

mw_status mw_store_delete_version(mw_store *s, const char *model, const char *version,
                                  mw_error *err) {
    static const char op[] = "delete_version";
    mw_error_clear(err);
    mw_status st = mw_st_check_mv(s, model, version, op, err);
    if (st != MW_OK) return st;
    mw_st_lock(s);
    st = mw_st_begin(s, op, model, version, err);
    int64_t changes = 0;
    if (st == MW_OK) {
        /* The baseline goes by ON DELETE CASCADE with the registration. */
        static const enum mw_st_id steps[] = {
            MW_ST_VERSION_DELETE,         MW_ST_WINDOW_DELETE_ALL,  MW_ST_JOURNAL_DELETE_ALL,
            MW_ST_PREDICTIONS_DELETE_ALL, MW_ST_SAMPLES_DELETE_ALL, MW_ST_JMARK_DELETE_ALL};
        for (size_t i = 0; st == MW_OK && i < sizeof steps / sizeof steps[0]; i++)
            st = delete_by_mv(s, steps[i], model, version, &changes, err);
    }
    if (st == MW_OK && changes == 0) {
        mw_st_rollback(s);
        st =
            mw_error_set(err, MW_ENOTFOUND, s->path, 0, 0,
                         "%s: model \"%s\" version \"%s\" is not in the store", op, model, version);
    } else if (st == MW_OK) {
        st = mw_st_commit(s, op, model, version, err);
    }
    if (st != MW_OK) mw_st_rollback(s);
    mw_st_unlock(s);
    if (st == MW_OK && s->jdir) mw_jf_remove(s, model, version); /* its journal file */
    return st;
}

mw_status mw_store_put_baseline(mw_store *s, const char *model, const char *version,
                                const void *blob, size_t len, int64_t now_ms, mw_error *err) {
    static const char op[] = "put_baseline";
    mw_error_clear(err);
    mw_status st = mw_st_check_mv(s, model, version, op, err);
    if (st == MW_OK) st = mw_st_check_blob(s, blob, len, op, err);
    if (st != MW_OK) return st;
    mw_st_lock(s);
    sqlite3_stmt *q = mw_st_get(s, MW_ST_BASELINE_PUT, op, model, version, err);
    if (q) {
        int rc = mw_st_bind_text(q, 1, model);
        if (rc == SQLITE_OK) rc = mw_st_bind_text(q, 2, version);
        if (rc == SQLITE_OK) rc = mw_st_bind_blob(q, 3, blob, len);
        if (rc == SQLITE_OK) rc = sqlite3_bind_int64(q, 4, now_ms);
        if (rc == SQLITE_OK) rc = mw_st_exec(q);
        if (rc != SQLITE_DONE)
            st = mw_st_fail(s, rc, op, model, version, err);
        else if (sqlite3_changes64(s->db) == 0)
            st = mw_error_set(err, MW_ENOTFOUND, s->path, 0, 0,
                              "%s: model \"%s\" version \"%s\" is not registered", op, model,
                              version);
        mw_st_done(q);
    } else {
        st = s->prep_status;
    }
    mw_st_unlock(s);
    return st;
}

/* Runs a one-row, one-blob query bound to (text1[, text2]) and copies the blob. */
static mw_status get_one_blob(mw_store *s, enum mw_st_id id, const char *op, const char *a,
                              const char *b, void **blob, size_t *len, const char *missing,
                              mw_error *err) {
    mw_status st = MW_OK;
    sqlite3_stmt *q = mw_st_get(s, id, op, b ? a : NULL, b, err);
    if (!q) return s->prep_status;
    int rc = mw_st_bind_text(q, 1, a);
    if (rc == SQLITE_OK && b) rc = mw_st_bind_text(q, 2, b);
    if (rc == SQLITE_OK) rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        *blob = mw_st_column_copy(q, 0, len);
        if (!*blob) st = mw_error_set(err, MW_ENOMEM, s->path, 0, 0, "%s: out of memory", op);
    } else if (rc == SQLITE_DONE) {
        st = mw_error_set(err, MW_ENOTFOUND, s->path, 0, 0, "%s", missing);
    } else {
        st = mw_st_fail(s, rc, op, b ? a : NULL, b, err);
    }
    mw_st_done(q);
    return st;
}

mw_status mw_store_get_baseline(mw_store *s, const char *model, const char *version, void **blob,
                                size_t *len, mw_error *err) {
    static const char op[] = "get_baseline";
    mw_error_clear(err);
    if (blob) *blob = NULL;
    if (len) *len = 0;
    mw_status st = mw_st_check_mv(s, model, version, op, err);
    if (st != MW_OK) return st;
    if (!blob || !len)
        return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s: NULL output argument", op);
    char missing[600];
    snprintf(missing, sizeof missing,
             "%s: model \"%.256s\" version \"%.256s\" has no baseline (or is not registered)", op,
             model, version);
    mw_st_lock(s);
    st = get_one_blob(s, MW_ST_BASELINE_GET, op, model, version, blob, len, missing, err);
    mw_st_unlock(s);
    return st;
}

mw_status mw_store_put_state(mw_store *s, const char *key, const void *blob, size_t len,
                             mw_error *err) {
    static const char op[] = "put_state";
    mw_error_clear(err);
    if (!s) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: store handle is NULL", op);
    mw_status st = mw_st_check_name(s, "state key", key, op, err);
    if (st == MW_OK) st = mw_st_check_blob(s, blob, len, op, err);
    if (st != MW_OK) return st;
    mw_st_lock(s);
    sqlite3_stmt *q = mw_st_get(s, MW_ST_STATE_PUT, op, key, NULL, err);
    if (q) {
        int rc = mw_st_bind_text(q, 1, key);
        if (rc == SQLITE_OK) rc = mw_st_bind_blob(q, 2, blob, len);
        if (rc == SQLITE_OK) rc = mw_st_exec(q);
        if (rc != SQLITE_DONE) st = mw_st_fail(s, rc, op, key, NULL, err);
        mw_st_done(q);
    } else {
        st = s->prep_status;
    }
    mw_st_unlock(s);
    return st;
}

mw_status mw_store_get_state(mw_store *s, const char *key, void **blob, size_t *len,
                             mw_error *err) {
    static const char op[] = "get_state";
    mw_error_clear(err);
    if (blob) *blob = NULL;
    if (len) *len = 0;
    if (!s) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: store handle is NULL", op);
    mw_status st = mw_st_check_name(s, "state key", key, op, err);
    if (st != MW_OK) return st;
    if (!blob || !len)
        return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s: NULL output argument", op);
    char missing[400];
    snprintf(missing, sizeof missing, "%s: no state under key \"%.256s\"", op, key);
    mw_st_lock(s);
    st = get_one_blob(s, MW_ST_STATE_GET, op, key, NULL, blob, len, missing, err);
    mw_st_unlock(s);
    return st;
}

mw_status mw_store_delete_state(mw_store *s, const char *key, mw_error *err) {
    static const char op[] = "delete_state";
    mw_error_clear(err);
    if (!s) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: store handle is NULL", op);
    mw_status st = mw_st_check_name(s, "state key", key, op, err);
    if (st != MW_OK) return st;
    mw_st_lock(s);
    sqlite3_stmt *q = mw_st_get(s, MW_ST_STATE_DELETE, op, key, NULL, err);
    if (q) {
        int rc = mw_st_bind_text(q, 1, key);
        if (rc == SQLITE_OK) rc = mw_st_exec(q);
        if (rc != SQLITE_DONE)
            st = mw_st_fail(s, rc, op, key, NULL, err);
        else if (sqlite3_changes64(s->db) == 0)
            st = mw_error_set(err, MW_ENOTFOUND, s->path, 0, 0, "%s: no state under key \"%s\"", op,
                              key);
        mw_st_done(q);
    } else {
        st = s->prep_status;
    }
    mw_st_unlock(s);
    return st;
}
