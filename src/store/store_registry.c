/*
 * The model registry in the store (registry.h): models, versions, aliases and
 * the audit log of alias moves, schema version 4 (store.c).
 *
 * Every mutation runs in one BEGIN IMMEDIATE transaction under the handle's
 * mutex and is rolled back on any error, so a failure leaves the registry as
 * it was (tested by making SQLite abort the last step with a trigger).
 * Arguments are checked before the transaction starts; checks that need the
 * database (the version exists, the alias points where the caller expects)
 * run inside it, so they cannot change before the write. Signatures are
 * parsed (signature.h) and stored in their normalised form, so a stored
 * signature always parses.
 */
#include "modelwatch/registry.h"
#include "modelwatch/signature.h"
#include "store/store_int.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mw_registry_alias_valid(const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > MW_REGISTRY_ALIAS_MAX) return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && !strchr("_.-", s[i])) return 0;
    return 1;
}

/* ---- statement helpers ------------------------------------------------------------------ */

/* Binds texts 1..n (NULL binds SQL NULL). */
static int bind_texts(sqlite3_stmt *q, const char *const *v, int n) {
    int rc = SQLITE_OK;
    for (int i = 0; i < n && rc == SQLITE_OK; i++)
        rc = v[i] ? mw_st_bind_text(q, i + 1, v[i]) : sqlite3_bind_null(q, i + 1);
    return rc;
}

/* Runs a write bound to texts; *changes (may be NULL) gets the rows changed. */
static mw_status run_write(mw_store *s, enum mw_st_id id, const char *op, const char *const *v,
                           int n, int64_t *changes, mw_error *err) {
    sqlite3_stmt *q = mw_st_get(s, id, op, v[0], NULL, err);
    if (!q) return s->prep_status;
    int rc = bind_texts(q, v, n);
    if (rc == SQLITE_OK) rc = mw_st_exec(q);
    mw_status st = rc == SQLITE_DONE ? MW_OK : mw_st_fail(s, rc, op, v[0], NULL, err);
    if (!st && changes) *changes = sqlite3_changes64(s->db);
    mw_st_done(q);
    return st;
}

/* Reads one text column of the first row of a query bound to texts; *out is
 * NULL (MW_OK) when there is no row or the column is NULL. */
static mw_status read_text(mw_store *s, enum mw_st_id id, const char *op, const char *const *v,
                           int n, char **out, mw_error *err) {
    *out = NULL;
    sqlite3_stmt *q = mw_st_get(s, id, op, v[0], NULL, err);
    if (!q) return s->prep_status;
    mw_status st = MW_OK;
    int rc = bind_texts(q, v, n);
    if (rc == SQLITE_OK) rc = sqlite3_step(q);
    if (rc == SQLITE_ROW) {
        if (sqlite3_column_type(q, 0) != SQLITE_NULL && !(*out = mw_st_column_copy(q, 0, NULL)))
            st = mw_error_set(err, MW_ENOMEM, s->path, 0, 0, "%s: out of memory", op);
    } else if (rc != SQLITE_DONE) {
        st = mw_st_fail(s, rc, op, v[0], NULL, err);
    }
    mw_st_done(q);
    return st;
}

/* Ends a transaction: commits on MW_OK, else rolls back; unlocks. */
static mw_status finish(mw_store *s, mw_status st, const char *op, mw_error *err) {
    if (st == MW_OK) st = mw_st_commit(s, op, NULL, NULL, err);
    if (st != MW_OK) mw_st_rollback(s);
    mw_st_unlock(s);
    return st;
}

static mw_status check_model_version(mw_store *s, const char *model, const char *version,
                                     const char *op, mw_error *err) {
    mw_status st = mw_st_check_mv(s, model, version, op, err);
    if (!st && version[0] == '@')
        st = mw_error_set(err, MW_EINVAL, s->path, 0, 0,
                          "%s: version \"%.60s\" may not start with '@' (that names an alias)", op,
                          version);
    return st;
}

static mw_status check_alias(mw_store *s, const char *alias, const char *op, mw_error *err) {
    if (mw_registry_alias_valid(alias)) return MW_OK;
    return mw_error_set(err, MW_EINVAL, s->path, 0, 0,
                        "%s: alias \"%.80s\" is not 1 to %d characters of A-Z a-z 0-9 _ . -", op,
                        alias ? alias : "(null)", MW_REGISTRY_ALIAS_MAX);
}

/* The version row exists (inside a transaction or under the lock). */
static mw_status version_exists(mw_store *s, const char *model, const char *version, const char *op,
                                mw_error *err) {
    sqlite3_stmt *q = mw_st_get(s, MW_ST_REG_VERSION_LIST, op, model, version, err);
    if (!q) return s->prep_status;
    const char *v[2] = {model, version};
    int rc = bind_texts(q, v, 2);
    if (rc == SQLITE_OK) rc = sqlite3_step(q);
    mw_status st = MW_OK;
    if (rc == SQLITE_DONE)
        st = mw_error_set(err, MW_ENOTFOUND, s->path, 0, 0,
                          "%s: model \"%s\" has no version \"%s\" in the registry", op, model,
                          version);
    else if (rc != SQLITE_ROW)
        st = mw_st_fail(s, rc, op, model, version, err);
    mw_st_done(q);
    return st;
}

/* ---- models and versions ------------------------------------------------------------------ */

mw_status mw_registry_create_model(mw_store *s, const char *model, const char *description,
                                   int64_t now_ms, mw_error *err) {
    static const char op[] = "registry create model";
    mw_error_clear(err);
    if (!s) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: store handle is NULL", op);
    mw_status st = mw_st_check_name(s, "model name", model, op, err);
    if (st) return st;
    char ms[32];
    snprintf(ms, sizeof ms, "%lld", (long long)now_ms);
    const char *v[3] = {model, description ? description : "", ms};
    int64_t changes = 0;
    mw_st_lock(s);
    st = mw_st_begin(s, op, model, NULL, err);
    if (!st) st = run_write(s, MW_ST_REG_MODEL_INSERT, op, v, 3, &changes, err);
    if (!st && changes == 0)
        st = mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s: model \"%s\" exists already", op,
                          model);
    return finish(s, st, op, err);
}

/* Checks the optional fields of a version; *sig gets the normalised signature. */
static mw_status check_spec(mw_store *s, const mw_registry_version_spec *spec, char *sha,
                            char **sig, const char *op, mw_error *err) {
    *sig = NULL;
    sha[0] = 0;
    if (spec->sha256) {
        size_t n = strlen(spec->sha256);
        for (size_t i = 0; i < n && n == 64; i++) {
            if (!isxdigit((unsigned char)spec->sha256[i]))
                n = 0;
            else
                sha[i] = (char)tolower((unsigned char)spec->sha256[i]);
        }
        if (n != 64)
            return mw_error_set(err, MW_EINVAL, s->path, 0, 0,
                                "%s: sha256 \"%.80s\" is not 64 hexadecimal digits", op,
                                spec->sha256);
        sha[64] = 0;
    }
    if (spec->tags_json) {
        json_error_t je;
        json_t *t = json_loads(spec->tags_json, 0, &je);
        const char *k;
        json_t *v;
        int ok = json_is_object(t);
        json_object_foreach(t, k, v) ok &= json_is_string(v);
        json_decref(t);
        if (!ok)
            return mw_error_set(err, MW_EINVAL, s->path, 0, 0,
                                "%s: tags must be a JSON object of text values", op);
    }
    if (spec->signature_json) {
        mw_signature sg;
        mw_error e;
        mw_status st = mw_signature_parse(spec->signature_json, "signature", &sg, &e);
        if (st) return mw_error_set(err, st, s->path, 0, 0, "%s: %s", op, e.message);
        *sig = mw_signature_to_json(&sg);
        mw_signature_free(&sg);
        if (!*sig) return mw_error_set(err, MW_ENOMEM, s->path, 0, 0, "%s: out of memory", op);
    }
    return MW_OK;
}

mw_status mw_registry_put_version(mw_store *s, const char *model, const char *version,
                                  const mw_registry_version_spec *spec, int64_t now_ms,
                                  mw_error *err) {
    static const char op[] = "registry register version";
    static const mw_registry_version_spec none = {0};
    mw_error_clear(err);
    mw_status st = check_model_version(s, model, version, op, err);
    if (st) return st;
    if (!spec) spec = &none;
    char sha[65], *sig = NULL;
    if ((st = check_spec(s, spec, sha, &sig, op, err))) return st;
    char ms[32];
    snprintf(ms, sizeof ms, "%lld", (long long)now_ms);
    const char *m[3] = {model, "", ms};
    const char *v[8] = {model,
                        version,
                        spec->description ? spec->description : "",
                        spec->artifact_uri ? spec->artifact_uri : "",
                        sha[0] ? sha : NULL,
                        ms,
                        sig,
                        spec->tags_json ? spec->tags_json : "{}"};
    mw_st_lock(s);
    st = mw_st_begin(s, op, model, version, err);
    if (!st) st = run_write(s, MW_ST_REG_MODEL_INSERT, op, m, 3, NULL, err);
    if (!st) {
        mw_error e;
        mw_status ex = version_exists(s, model, version, op, &e);
        if (ex == MW_OK)
            st = mw_error_set(err, MW_EINVAL, s->path, 0, 0,
                              "%s: model \"%s\" version \"%s\" is registered already (versions "
                              "are immutable; register a new version)",
                              op, model, version);
        else if (ex != MW_ENOTFOUND)
            st = mw_error_set(err, ex, NULL, 0, 0, "%s", e.message);
    }
    if (!st) st = run_write(s, MW_ST_REG_VERSION_INSERT, op, v, 8, NULL, err);
    free(sig);
    return finish(s, st, op, err);
}

mw_status mw_registry_set_eval(mw_store *s, const char *model, const char *version,
                               const char *eval_json, mw_error *err) {
    static const char op[] = "registry set eval";
    mw_error_clear(err);
    mw_status st = check_model_version(s, model, version, op, err);
    if (st) return st;
    json_error_t je;
    json_t *e = eval_json ? json_loads(eval_json, 0, &je) : NULL;
    int ok = json_is_object(e);
    char *compact = ok ? json_dumps(e, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(e);
    if (!ok)
        return mw_error_set(err, MW_EINVAL, s->path, 0, 0,
                            "%s %s/%s: the evaluation result must be a JSON object", op, model,
                            version);
    const char *v[3] = {model, version, compact};
    int64_t changes = 0;
    mw_st_lock(s);
    st = mw_st_begin(s, op, model, version, err);
    if (!st) st = run_write(s, MW_ST_REG_VERSION_SET_EVAL, op, v, 3, &changes, err);
    if (!st && changes == 0) st = version_exists(s, model, version, op, err);
    free(compact);
    return finish(s, st, op, err);
}

mw_status mw_registry_delete_version(mw_store *s, const char *model, const char *version,
                                     mw_error *err) {
    static const char op[] = "registry delete version";
    mw_error_clear(err);
    mw_status st = check_model_version(s, model, version, op, err);
    if (st) return st;
    const char *v[2] = {model, version};
    char *alias = NULL;
    mw_st_lock(s);
    st = mw_st_begin(s, op, model, version, err);
    if (!st) st = version_exists(s, model, version, op, err);
    if (!st) {
        sqlite3_stmt *q = mw_st_get(s, MW_ST_REG_ALIAS_LIST, op, model, version, err);
        if (!q) st = s->prep_status;
        int rc = q ? bind_texts(q, v, 2) : SQLITE_OK;
        if (q && rc == SQLITE_OK) rc = sqlite3_step(q);
        if (q && rc == SQLITE_ROW)
            alias = mw_st_column_copy(q, 1, NULL);
        else if (q && rc != SQLITE_DONE)
            st = mw_st_fail(s, rc, op, model, version, err);
        mw_st_done(q);
    }
    if (!st && alias)
        st = mw_error_set(err, MW_EINVAL, s->path, 0, 0,
                          "%s: model \"%s\" version \"%s\" is the target of alias \"%s\"; move "
                          "the alias first",
                          op, model, version, alias);
    if (!st) st = run_write(s, MW_ST_REG_VERSION_DELETE, op, v, 2, NULL, err);
    free(alias);
    return finish(s, st, op, err);
}

/* ---- reading ---------------------------------------------------------------------------- */

/* A JSON text column parsed, or null. */
static json_t *json_column(sqlite3_stmt *q, int col) {
    const char *t = (const char *)sqlite3_column_text(q, col);
    json_t *v = t ? json_loads(t, 0, NULL) : NULL;
    return v ? v : json_null();
}

static json_t *version_row(sqlite3_stmt *q) {
    json_t *o = json_pack("{s:s, s:s, s:s, s:s}", "model", sqlite3_column_text(q, 0), "version",
                          sqlite3_column_text(q, 1), "description", sqlite3_column_text(q, 2),
                          "artifact_uri", sqlite3_column_text(q, 3));
    const char *sha = (const char *)sqlite3_column_text(q, 4);
    json_object_set_new(o, "sha256", sha ? json_string(sha) : json_null());
    json_object_set_new(o, "created_ms", json_integer(sqlite3_column_int64(q, 5)));
    json_object_set_new(o, "signature", json_column(q, 6));
    json_t *tags = json_column(q, 7);
    json_object_set_new(o, "tags", json_is_object(tags) ? tags : json_object());
    if (!json_is_object(tags)) json_decref(tags);
    json_object_set_new(o, "eval", json_column(q, 8));
    json_object_set_new(o, "aliases", json_array());
    return o;
}

/* Rows of the version list (model/version NULL: all) appended to arr. */
static mw_status list_versions(mw_store *s, const char *model, const char *version, json_t *arr,
                               const char *op, mw_error *err) {
    sqlite3_stmt *q = mw_st_get(s, MW_ST_REG_VERSION_LIST, op, model, version, err);
    if (!q) return s->prep_status;
    const char *v[2] = {model, version};
    mw_st_json_rows rows = {arr, version_row};
    return mw_st_each_row(s, q, bind_texts(q, v, 2), mw_st_append_json_row, &rows, op, model,
                          version, err);
}

static json_t *alias_row(sqlite3_stmt *q) {
    return json_pack("[s,s,s]", sqlite3_column_text(q, 0), sqlite3_column_text(q, 1),
                     sqlite3_column_text(q, 2));
}

/* Aliases of a model (NULL: all) as rows [model, alias, version] appended to arr. */
static mw_status list_aliases(mw_store *s, const char *model, json_t *arr, const char *op,
                              mw_error *err) {
    sqlite3_stmt *q = mw_st_get(s, MW_ST_REG_ALIAS_LIST, op, model, NULL, err);
    if (!q) return s->prep_status;
    const char *v[2] = {model, NULL};
    mw_st_json_rows rows = {arr, alias_row};
    return mw_st_each_row(s, q, bind_texts(q, v, 2), mw_st_append_json_row, &rows, op, model, NULL,
                          err);
}

/* Adds each alias's name to its version's "aliases". */
static void attach_aliases(json_t *versions, const json_t *aliases) {
    size_t i, j;
    json_t *v, *a;
    json_array_foreach(versions, i, v) {
        json_array_foreach(aliases, j, a) {
            if (!strcmp(json_string_value(json_array_get(a, 0)),
                        json_string_value(json_object_get(v, "model"))) &&
                !strcmp(json_string_value(json_array_get(a, 2)),
                        json_string_value(json_object_get(v, "version"))))
                json_array_append(json_object_get(v, "aliases"), json_array_get(a, 1));
        }
    }
}

static mw_status dump(json_t *o, char **json, mw_store *s, const char *op, mw_error *err) {
    *json = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return *json ? MW_OK : mw_error_set(err, MW_ENOMEM, s->path, 0, 0, "%s: out of memory", op);
}

mw_status mw_registry_get_version(mw_store *s, const char *model, const char *version, char **json,
                                  mw_error *err) {
    static const char op[] = "registry show version";
    mw_error_clear(err);
    if (json) *json = NULL;
    mw_status st = mw_st_check_mv(s, model, version, op, err);
    if (st) return st;
    json_t *versions = json_array(), *aliases = json_array();
    mw_st_lock(s);
    st = list_versions(s, model, version, versions, op, err);
    if (!st) st = list_aliases(s, model, aliases, op, err);
    mw_st_unlock(s);
    if (!st && json_array_size(versions) == 0)
        st = mw_error_set(err, MW_ENOTFOUND, s->path, 0, 0,
                          "%s: model \"%s\" has no version \"%s\" in the registry", op, model,
                          version);
    json_t *one = NULL;
    if (!st) {
        attach_aliases(versions, aliases);
        one = json_incref(json_array_get(versions, 0));
    }
    json_decref(versions);
    json_decref(aliases);
    if (st) return st;
    return dump(one, json, s, op, err);
}

mw_status mw_registry_list(mw_store *s, const char *model, char **json, mw_error *err) {
    static const char op[] = "registry list";
    mw_error_clear(err);
    if (json) *json = NULL;
    if (!s || !json) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: NULL argument", op);
    mw_status st = model ? mw_st_check_name(s, "model name", model, op, err) : MW_OK;
    if (st) return st;
    json_t *models = json_array(), *versions = json_array(), *aliases = json_array();
    mw_st_lock(s);
    sqlite3_stmt *q = mw_st_get(s, MW_ST_REG_MODEL_LIST, op, model, NULL, err);
    if (!q) st = s->prep_status;
    int rc = q ? bind_texts(q, &model, 1) : SQLITE_OK;
    while (q && (rc == SQLITE_OK || rc == SQLITE_ROW)) {
        rc = sqlite3_step(q);
        if (rc == SQLITE_ROW)
            json_array_append_new(
                models, json_pack("{s:s, s:s, s:I, s:{}, s:[]}", "name", sqlite3_column_text(q, 0),
                                  "description", sqlite3_column_text(q, 1), "created_ms",
                                  (json_int_t)sqlite3_column_int64(q, 2), "aliases", "versions"));
    }
    if (q && rc != SQLITE_DONE) st = mw_st_fail(s, rc, op, model, NULL, err);
    mw_st_done(q);
    if (!st) st = list_versions(s, model, NULL, versions, op, err);
    if (!st) st = list_aliases(s, model, aliases, op, err);
    mw_st_unlock(s);
    if (!st && model && json_array_size(models) == 0)
        st = mw_error_set(err, MW_ENOTFOUND, s->path, 0, 0, "%s: no model \"%s\" in the registry",
                          op, model);
    attach_aliases(versions, aliases);
    size_t i, j;
    json_t *m, *x;
    json_array_foreach(models, i, m) {
        const char *name = json_string_value(json_object_get(m, "name"));
        json_array_foreach(versions, j,
                           x) if (!strcmp(json_string_value(json_object_get(x, "model")), name))
            json_array_append(json_object_get(m, "versions"), x);
        json_array_foreach(aliases, j,
                           x) if (!strcmp(json_string_value(json_array_get(x, 0)), name))
            json_object_set(json_object_get(m, "aliases"), json_string_value(json_array_get(x, 1)),
                            json_array_get(x, 2));
    }
    json_decref(versions);
    json_decref(aliases);
    if (st) {
        json_decref(models);
        return st;
    }
    return dump(json_pack("{s:o}", "models", models), json, s, op, err);
}

/* ---- aliases -------------------------------------------------------------------------- */

mw_status mw_registry_get_alias(mw_store *s, const char *model, const char *alias, char **version,
                                mw_error *err) {
    static const char op[] = "registry alias";
    mw_error_clear(err);
    if (version) *version = NULL;
    if (!s) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: store handle is NULL", op);
    mw_status st = mw_st_check_name(s, "model name", model, op, err);
    if (!st) st = check_alias(s, alias, op, err);
    if (st) return st;
    if (!version) return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s: NULL output", op);
    const char *v[2] = {model, alias};
    mw_st_lock(s);
    st = read_text(s, MW_ST_REG_ALIAS_GET, op, v, 2, version, err);
    mw_st_unlock(s);
    if (!st && !*version)
        st = mw_error_set(err, MW_ENOTFOUND, s->path, 0, 0,
                          "model \"%s\" has no alias \"%s\" in the registry", model, alias);
    return st;
}

mw_status mw_registry_move_alias(mw_store *s, const mw_registry_move *mv, char **from_out,
                                 mw_error *err) {
    static const char op[] = "registry move alias";
    mw_error_clear(err);
    if (from_out) *from_out = NULL;
    if (!s || !mv) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: NULL argument", op);
    mw_status st = mw_st_check_name(s, "model name", mv->model, op, err);
    if (!st) st = check_alias(s, mv->alias, op, err);
    if (!st && mv->version) st = check_model_version(s, mv->model, mv->version, op, err);
    if (!st && (!mv->who || !*mv->who))
        st =
            mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s: who moved the alias is not given", op);
    if (st) return st;
    const char *key[2] = {mv->model, mv->alias};
    char *from = NULL, ms[32];
    snprintf(ms, sizeof ms, "%lld", (long long)mv->now_ms);
    mw_st_lock(s);
    st = mw_st_begin(s, op, mv->model, NULL, err);
    if (!st) st = read_text(s, MW_ST_REG_ALIAS_GET, op, key, 2, &from, err);
    if (!st && mv->expect_from &&
        (*mv->expect_from ? !from || strcmp(from, mv->expect_from) : from != NULL))
        st = mw_error_set(err, MW_EINVAL, s->path, 0, 0,
                          "%s: alias \"%s\" of model \"%s\" points to %s%s%s now, not to %s%s%s "
                          "as checked; it moved meanwhile, try again",
                          op, mv->alias, mv->model, from ? "version \"" : "no version",
                          from ? from : "", from ? "\"" : "",
                          *mv->expect_from ? "version \"" : "no version", mv->expect_from,
                          *mv->expect_from ? "\"" : "");
    if (!st && mv->version) st = version_exists(s, mv->model, mv->version, op, err);
    if (!st && !mv->version && !from)
        st = mw_error_set(err, MW_ENOTFOUND, s->path, 0, 0,
                          "%s: model \"%s\" has no alias \"%s\" to remove", op, mv->model,
                          mv->alias);
    if (!st) {
        const char *put[3] = {mv->model, mv->alias, mv->version};
        st = mv->version ? run_write(s, MW_ST_REG_ALIAS_PUT, op, put, 3, NULL, err)
                         : run_write(s, MW_ST_REG_ALIAS_DELETE, op, put, 2, NULL, err);
    }
    if (!st) {
        const char *audit[8] = {ms,
                                mv->who,
                                mv->model,
                                mv->alias,
                                from,
                                mv->version,
                                mv->why ? mv->why : "",
                                mv->action ? mv->action : (mv->version ? "set" : "remove")};
        st = run_write(s, MW_ST_REG_AUDIT_INSERT, op, audit, 8, NULL, err);
    }
    st = finish(s, st, op, err);
    if (!st && from_out)
        *from_out = from;
    else
        free(from);
    return st;
}

mw_status mw_registry_alias_history(mw_store *s, const char *model, const char *alias,
                                    char **current, char **previous, mw_error *err) {
    static const char op[] = "registry alias history";
    mw_error_clear(err);
    *current = *previous = NULL;
    if (!s) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: store handle is NULL", op);
    mw_status st = mw_st_check_name(s, "model name", model, op, err);
    if (!st) st = check_alias(s, alias, op, err);
    if (st) return st;
    const char *key[2] = {model, alias};
    mw_st_lock(s);
    st = read_text(s, MW_ST_REG_ALIAS_GET, op, key, 2, current, err);
    if (!st && !*current)
        st = mw_error_set(err, MW_ENOTFOUND, s->path, 0, 0,
                          "model \"%s\" has no alias \"%s\" in the registry", model, alias);
    if (!st) st = read_text(s, MW_ST_REG_AUDIT_LAST, op, key, 2, previous, err);
    mw_st_unlock(s);
    if (st) {
        free(*current);
        *current = NULL;
    }
    return st;
}

mw_status mw_registry_audit(mw_store *s, const char *model, const char *alias, size_t limit,
                            char **json, mw_error *err) {
    static const char op[] = "registry audit";
    mw_error_clear(err);
    if (json) *json = NULL;
    if (!s || !json) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: NULL argument", op);
    json_t *rows = json_array();
    mw_st_lock(s);
    sqlite3_stmt *q = mw_st_get(s, MW_ST_REG_AUDIT_LIST, op, model, NULL, err);
    mw_status st = q ? MW_OK : s->prep_status;
    const char *v[2] = {model, alias};
    int rc = q ? bind_texts(q, v, 2) : SQLITE_OK;
    if (q && rc == SQLITE_OK) rc = sqlite3_bind_int64(q, 3, limit ? (int64_t)limit : -1);
    while (q && (rc == SQLITE_OK || rc == SQLITE_ROW)) {
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW) break;
        const char *from = (const char *)sqlite3_column_text(q, 5);
        const char *to = (const char *)sqlite3_column_text(q, 6);
        json_array_append_new(
            rows,
            json_pack("{s:I, s:I, s:s, s:s, s:s, s:o, s:o, s:s, s:s}", "seq",
                      (json_int_t)sqlite3_column_int64(q, 0), "at_ms",
                      (json_int_t)sqlite3_column_int64(q, 1), "who", sqlite3_column_text(q, 2),
                      "model", sqlite3_column_text(q, 3), "alias", sqlite3_column_text(q, 4),
                      "from", from ? json_string(from) : json_null(), "to",
                      to ? json_string(to) : json_null(), "why", sqlite3_column_text(q, 7),
                      "action", sqlite3_column_text(q, 8)));
    }
    if (q && rc != SQLITE_DONE) st = mw_st_fail(s, rc, op, model, NULL, err);
    mw_st_done(q);
    mw_st_unlock(s);
    if (st) {
        json_decref(rows);
        return st;
    }
    return dump(json_pack("{s:o}", "audit", rows), json, s, op, err);
}
