/*
 * The SQLite store: opening, schema migrations, the statement cache, error
 * mapping and transaction helpers. The data operations live in
 * store_versions.c (registrations, baselines, key/value state) and
 * store_journal.c (journal of accepted batches, window results).
 *
 * Schema (version 8; PRAGMA user_version holds the version, PRAGMA
 * application_id marks the file as modelwatch's):
 *   versions(id, model, version, config_json, created_ms, updated_ms)
 *       UNIQUE(model, version); replaced by upsert so id (and the baseline that
 *       hangs off it) survives a config change.
 *   baselines(version_id -> versions.id ON DELETE CASCADE, data, updated_ms)
 *   journal(seq AUTOINCREMENT, model, version, data), index (model, version)
 *       AUTOINCREMENT so a seq is never reused once the rows before it are
 *       deleted: a window's journal_upto can then never cover a later batch.
 *   windows(id AUTOINCREMENT, model, version, start_s, end_s, records,
 *       result_json), index (model, version, end_s, id)
 *   state(key, data) WITHOUT ROWID
 *   alert_history(seq AUTOINCREMENT, at_s, rule, labels_json, from_state,
 *       to_state, value)   (version 2: alert state transitions)
 *   window_predictions(model, version, start_s, data)  (version 3: the
 *       predictions with ids of each closed window, awaiting labels)
 *   label_journal(seq AUTOINCREMENT, at_s, data)  (version 3: accepted labels)
 *   registry_models(name, description, created_ms), registry_versions(model ->
 *       registry_models, version, description, artifact_uri, sha256,
 *       created_ms, signature_json, tags_json, eval_json),
 *       registry_aliases(model, alias, version -> registry_versions: a
 *       version an alias points to cannot be deleted), registry_audit(seq
 *       AUTOINCREMENT, at_ms, who, model, alias, from_version, to_version,
 *       why, action)  (version 4: the model registry, store_registry.c)
 *   canary_results(id AUTOINCREMENT, model, baseline_version, canary_version,
 *       start_s, end_s, worse, at_ms, result_json) UNIQUE(model, baseline_version,
 *       canary_version, start_s)  (version 5: canary comparisons, store_canary.c)
 *   probe_runs(id AUTOINCREMENT, probe_set, start_s, end_s, prompts, passed,
 *       result_json), index (probe_set, end_s, id)  (version 6: golden-prompt
 *       probe runs, store_probes.c)
 *   text_samples(model, version, start_s, data)  (version 7: the redacted
 *       text examples a version keeps per window when it opts in,
 *       store_samples.c)
 *   (version 8: no new table; journal.data may hold binary records, see
 *       monitor_ingest.c)
 *   journal_marks(model, version, upto)  (version 9: the journal of a file
 *       database is in files, "<db>-records/", store_jfile.c; a window's
 *       commit sets upto, the newest journal seq it covered; the journal
 *       table keeps the rows of older builds, replayed first, and of
 *       in-memory databases)
 * journal and windows are keyed by name rather than by versions.id so that
 * the daemon can accept records and close windows for a version whose
 * registration is made or changed independently; delete_version removes them
 * explicitly in the same transaction as the registration.
 *
 * Migrations: migrations[] lists steps in order, each bringing the schema to
 * its version and setting user_version as its last statement. Opening runs the
 * missing steps inside one BEGIN IMMEDIATE transaction (re-reading the version
 * under the lock, so two processes opening a new file do not both migrate). A
 * later schema version adds a step; existing steps are never edited.
 *
 * Durability: WAL mode. With synchronous=NORMAL a commit is one write() of the
 * changed pages to the WAL and no fsync, so it survives the process dying
 * (the data is in the OS page cache) but not power loss; checkpoints fsync.
 * synchronous=FULL adds an fsync of the WAL per commit (survives power loss);
 * journal_append_many amortises it over a group. Figures for 50 KB batches are
 * printed by tests/unit/test_store.c.
 *
 * Threads: one connection per handle behind a pthread mutex; every public call
 * takes it for its whole duration, so statements, transactions and
 * sqlite3_errmsg are never shared between two callers at once.
 */
#include "store_int.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- statements -------------------------------------------------------------------- */

static const char *const stmt_sql[MW_ST_COUNT] = {
    [MW_ST_BEGIN] = "BEGIN IMMEDIATE",
    [MW_ST_COMMIT] = "COMMIT",
    [MW_ST_ROLLBACK] = "ROLLBACK",
    [MW_ST_VERSION_PUT] =
        "INSERT INTO versions(model, version, config_json, created_ms, updated_ms) "
        "VALUES(?1, ?2, ?3, ?4, ?4) ON CONFLICT(model, version) DO UPDATE SET "
        "config_json = excluded.config_json, updated_ms = excluded.updated_ms",
    [MW_ST_VERSION_LIST] =
        "SELECT v.model, v.version, v.config_json, v.created_ms, v.updated_ms, "
        "b.version_id IS NOT NULL FROM versions AS v "
        "LEFT JOIN baselines AS b ON b.version_id = v.id ORDER BY v.model, v.version",
    [MW_ST_VERSION_DELETE] = "DELETE FROM versions WHERE model = ?1 AND version = ?2",
    [MW_ST_BASELINE_PUT] = "INSERT INTO baselines(version_id, data, updated_ms) "
                           "SELECT id, ?3, ?4 FROM versions WHERE model = ?1 AND version = ?2 "
                           "ON CONFLICT(version_id) DO UPDATE SET data = excluded.data, "
                           "updated_ms = excluded.updated_ms",
    [MW_ST_BASELINE_GET] = "SELECT b.data FROM baselines AS b JOIN versions AS v "
                           "ON v.id = b.version_id WHERE v.model = ?1 AND v.version = ?2",
    [MW_ST_JOURNAL_APPEND] = "INSERT INTO journal(model, version, data) VALUES(?1, ?2, ?3)",
    [MW_ST_JOURNAL_EACH] =
        "SELECT seq, data FROM journal WHERE model = ?1 AND version = ?2 ORDER BY seq",
    [MW_ST_JOURNAL_COUNT] = "SELECT count(*) FROM journal WHERE model = ?1 AND version = ?2",
    [MW_ST_JOURNAL_DELETE_UPTO] =
        "DELETE FROM journal WHERE model = ?1 AND version = ?2 AND seq <= ?3",
    [MW_ST_JOURNAL_DELETE_ALL] = "DELETE FROM journal WHERE model = ?1 AND version = ?2",
    [MW_ST_WINDOW_INSERT] = "INSERT INTO windows(model, version, start_s, end_s, records, "
                            "result_json) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [MW_ST_WINDOW_LIST] = "SELECT result_json FROM windows WHERE model = ?1 AND version = ?2 "
                          "ORDER BY end_s DESC, id DESC LIMIT ?3",
    [MW_ST_WINDOW_PRUNE] = "DELETE FROM windows WHERE model = ?1 AND version = ?2 AND id NOT IN "
                           "(SELECT id FROM windows WHERE model = ?1 AND version = ?2 "
                           "ORDER BY end_s DESC, id DESC LIMIT ?3)",
    [MW_ST_WINDOW_DELETE_ALL] = "DELETE FROM windows WHERE model = ?1 AND version = ?2",
    [MW_ST_STATE_PUT] = "INSERT INTO state(key, data) VALUES(?1, ?2) "
                        "ON CONFLICT(key) DO UPDATE SET data = excluded.data",
    [MW_ST_STATE_GET] = "SELECT data FROM state WHERE key = ?1",
    [MW_ST_STATE_DELETE] = "DELETE FROM state WHERE key = ?1",
    [MW_ST_ALERT_EVENT_INSERT] = "INSERT INTO alert_history(at_s, rule, labels_json, from_state, "
                                 "to_state, value) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [MW_ST_ALERT_EVENT_LIST] = "SELECT at_s, rule, labels_json, from_state, to_state, value "
                               "FROM alert_history ORDER BY seq DESC LIMIT ?1",
    [MW_ST_ALERT_EVENT_PRUNE] =
        "DELETE FROM alert_history WHERE seq <= "
        "(SELECT seq FROM alert_history ORDER BY seq DESC LIMIT 1 OFFSET ?1)",
    [MW_ST_PREDICTIONS_PUT] = "INSERT OR REPLACE INTO window_predictions(model, version, start_s, "
                              "data) VALUES(?1, ?2, ?3, ?4)",
    [MW_ST_PREDICTIONS_EACH] = "SELECT start_s, data FROM window_predictions WHERE model = ?1 AND "
                               "version = ?2 ORDER BY start_s",
    [MW_ST_PREDICTIONS_DELETE_ALL] = "DELETE FROM window_predictions WHERE model = ?1 AND "
                                     "version = ?2",
    [MW_ST_PREDICTIONS_EXPIRE] = "DELETE FROM window_predictions WHERE start_s < ?1",
    [MW_ST_LABELS_APPEND] = "INSERT INTO label_journal(at_s, data) VALUES(?1, ?2)",
    [MW_ST_LABELS_EACH] = "SELECT seq, at_s, data FROM label_journal ORDER BY seq",
    [MW_ST_LABELS_EXPIRE] = "DELETE FROM label_journal WHERE at_s < ?1",
    [MW_ST_REG_MODEL_INSERT] = "INSERT INTO registry_models(name, description, created_ms) "
                               "VALUES(?1, ?2, ?3) ON CONFLICT(name) DO NOTHING",
    [MW_ST_REG_MODEL_LIST] = "SELECT name, description, created_ms FROM registry_models "
                             "WHERE ?1 IS NULL OR name = ?1 ORDER BY name",
    [MW_ST_REG_VERSION_INSERT] =
        "INSERT INTO registry_versions(model, version, description, artifact_uri, sha256, "
        "created_ms, signature_json, tags_json) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [MW_ST_REG_VERSION_LIST] =
        "SELECT model, version, description, artifact_uri, sha256, created_ms, signature_json, "
        "tags_json, eval_json FROM registry_versions WHERE (?1 IS NULL OR model = ?1) AND "
        "(?2 IS NULL OR version = ?2) ORDER BY model, created_ms, version",
    [MW_ST_REG_VERSION_SET_EVAL] =
        "UPDATE registry_versions SET eval_json = ?3 WHERE model = ?1 AND version = ?2",
    [MW_ST_REG_VERSION_DELETE] = "DELETE FROM registry_versions WHERE model = ?1 AND version = ?2",
    [MW_ST_REG_ALIAS_GET] = "SELECT version FROM registry_aliases WHERE model = ?1 AND alias = ?2",
    [MW_ST_REG_ALIAS_LIST] = "SELECT model, alias, version FROM registry_aliases WHERE "
                             "(?1 IS NULL OR model = ?1) AND (?2 IS NULL OR version = ?2) "
                             "ORDER BY model, alias",
    [MW_ST_REG_ALIAS_PUT] =
        "INSERT INTO registry_aliases(model, alias, version) VALUES(?1, ?2, "
        "?3) ON CONFLICT(model, alias) DO UPDATE SET version = excluded.version",
    [MW_ST_REG_ALIAS_DELETE] = "DELETE FROM registry_aliases WHERE model = ?1 AND alias = ?2",
    [MW_ST_REG_AUDIT_INSERT] = "INSERT INTO registry_audit(at_ms, who, model, alias, from_version, "
                               "to_version, why, action) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [MW_ST_REG_AUDIT_LIST] =
        "SELECT seq, at_ms, who, model, alias, from_version, to_version, why, action "
        "FROM registry_audit WHERE (?1 IS NULL OR model = ?1) AND (?2 IS NULL OR alias = ?2) "
        "ORDER BY seq DESC LIMIT ?3",
    [MW_ST_SAMPLES_PUT] = "INSERT OR REPLACE INTO text_samples(model, version, start_s, data) "
                          "VALUES(?1, ?2, ?3, ?4)",
    [MW_ST_SAMPLES_PRUNE] =
        "DELETE FROM text_samples WHERE model = ?1 AND version = ?2 AND start_s NOT IN "
        "(SELECT start_s FROM text_samples WHERE model = ?1 AND version = ?2 "
        "ORDER BY start_s DESC LIMIT ?3)",
    [MW_ST_SAMPLES_LIST] = "SELECT data FROM text_samples WHERE model = ?1 AND version = ?2 AND "
                           "(?3 IS NULL OR start_s = ?3) ORDER BY start_s DESC LIMIT ?4",
    [MW_ST_SAMPLES_DELETE_ALL] = "DELETE FROM text_samples WHERE model = ?1 AND version = ?2",
    [MW_ST_JMARK_PUT] = "INSERT INTO journal_marks(model, version, upto) VALUES(?1, ?2, ?3) "
                        "ON CONFLICT(model, version) DO UPDATE SET upto = max(upto, excluded.upto)",
    [MW_ST_JMARK_GET] = "SELECT upto FROM journal_marks WHERE model = ?1 AND version = ?2",
    [MW_ST_JMARK_DELETE_ALL] = "DELETE FROM journal_marks WHERE model = ?1 AND version = ?2",
    [MW_ST_REG_AUDIT_LAST] = "SELECT from_version FROM registry_audit WHERE model = ?1 AND "
                             "alias = ?2 ORDER BY seq DESC LIMIT 1",
    [MW_ST_CANARY_PUT] =
        "INSERT INTO canary_results(model, baseline_version, canary_version, start_s, end_s, "
        "worse, at_ms, result_json) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) "
        "ON CONFLICT(model, baseline_version, canary_version, start_s) DO UPDATE SET "
        "end_s = excluded.end_s, worse = excluded.worse, at_ms = excluded.at_ms, "
        "result_json = excluded.result_json",
    [MW_ST_CANARY_LIST] = "SELECT result_json FROM canary_results WHERE model = ?1 "
                          "ORDER BY start_s DESC, id DESC LIMIT ?2",
    [MW_ST_CANARY_PRUNE] = "DELETE FROM canary_results WHERE model = ?1 AND id NOT IN "
                           "(SELECT id FROM canary_results WHERE model = ?1 "
                           "ORDER BY start_s DESC, id DESC LIMIT ?2)",
    [MW_ST_PROBE_RUN_INSERT] = "INSERT INTO probe_runs(probe_set, start_s, end_s, prompts, passed, "
                               "result_json) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [MW_ST_PROBE_RUN_LIST] = "SELECT result_json FROM probe_runs WHERE probe_set = ?1 "
                             "ORDER BY end_s DESC, id DESC LIMIT ?2",
    [MW_ST_PROBE_RUN_PRUNE] = "DELETE FROM probe_runs WHERE probe_set = ?1 AND id NOT IN "
                              "(SELECT id FROM probe_runs WHERE probe_set = ?1 "
                              "ORDER BY end_s DESC, id DESC LIMIT ?2)",
};

/* ---- migrations --------------------------------------------------------------------- */

typedef struct mw_st_migration {
    int version;     /* user_version after this step */
    const char *sql; /* the step; sets user_version last */
} mw_st_migration;

static const mw_st_migration migrations[] = {
    {1, "CREATE TABLE versions ("
        "  id INTEGER PRIMARY KEY,"
        "  model TEXT NOT NULL,"
        "  version TEXT NOT NULL,"
        "  config_json TEXT NOT NULL,"
        "  created_ms INTEGER NOT NULL,"
        "  updated_ms INTEGER NOT NULL,"
        "  UNIQUE (model, version));"
        "CREATE TABLE baselines ("
        "  version_id INTEGER PRIMARY KEY REFERENCES versions(id) ON DELETE CASCADE,"
        "  data BLOB NOT NULL,"
        "  updated_ms INTEGER NOT NULL);"
        "CREATE TABLE journal ("
        "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  model TEXT NOT NULL,"
        "  version TEXT NOT NULL,"
        "  data BLOB NOT NULL);"
        "CREATE INDEX journal_by_version ON journal(model, version);"
        "CREATE TABLE windows ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  model TEXT NOT NULL,"
        "  version TEXT NOT NULL,"
        "  start_s REAL NOT NULL,"
        "  end_s REAL NOT NULL,"
        "  records INTEGER NOT NULL,"
        "  result_json TEXT NOT NULL);"
        "CREATE INDEX windows_by_version ON windows(model, version, end_s, id);"
        "CREATE TABLE state ("
        "  key TEXT PRIMARY KEY,"
        "  data BLOB NOT NULL) WITHOUT ROWID;"
        "PRAGMA application_id = 1297576820;" /* MW_STORE_APPLICATION_ID */
        "PRAGMA user_version = 1;"},
    {2, "CREATE TABLE alert_history ("
        "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  at_s REAL NOT NULL,"
        "  rule TEXT NOT NULL,"
        "  labels_json TEXT NOT NULL,"
        "  from_state TEXT NOT NULL,"
        "  to_state TEXT NOT NULL,"
        "  value REAL);"
        "PRAGMA user_version = 2;"},
    {3, "CREATE TABLE window_predictions ("
        "  model TEXT NOT NULL,"
        "  version TEXT NOT NULL,"
        "  start_s REAL NOT NULL,"
        "  data BLOB NOT NULL,"
        "  PRIMARY KEY (model, version, start_s));"
        "CREATE TABLE label_journal ("
        "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  at_s REAL NOT NULL,"
        "  data BLOB NOT NULL);"
        "PRAGMA user_version = 3;"},
    {4, "CREATE TABLE registry_models ("
        "  name TEXT PRIMARY KEY,"
        "  description TEXT NOT NULL,"
        "  created_ms INTEGER NOT NULL) WITHOUT ROWID;"
        "CREATE TABLE registry_versions ("
        "  model TEXT NOT NULL REFERENCES registry_models(name),"
        "  version TEXT NOT NULL,"
        "  description TEXT NOT NULL,"
        "  artifact_uri TEXT NOT NULL,"
        "  sha256 TEXT,"
        "  created_ms INTEGER NOT NULL,"
        "  signature_json TEXT,"
        "  tags_json TEXT NOT NULL,"
        "  eval_json TEXT,"
        "  PRIMARY KEY (model, version));"
        "CREATE TABLE registry_aliases ("
        "  model TEXT NOT NULL,"
        "  alias TEXT NOT NULL,"
        "  version TEXT NOT NULL,"
        "  PRIMARY KEY (model, alias),"
        "  FOREIGN KEY (model, version) REFERENCES registry_versions(model, version));"
        "CREATE TABLE registry_audit ("
        "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  at_ms INTEGER NOT NULL,"
        "  who TEXT NOT NULL,"
        "  model TEXT NOT NULL,"
        "  alias TEXT NOT NULL,"
        "  from_version TEXT,"
        "  to_version TEXT,"
        "  why TEXT NOT NULL,"
        "  action TEXT NOT NULL);"
        "CREATE INDEX registry_audit_by_alias ON registry_audit(model, alias, seq);"
        "PRAGMA user_version = 4;"},
    {5, "CREATE TABLE canary_results ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  model TEXT NOT NULL,"
        "  baseline_version TEXT NOT NULL,"
        "  canary_version TEXT NOT NULL,"
        "  start_s REAL NOT NULL,"
        "  end_s REAL NOT NULL,"
        "  worse INTEGER NOT NULL,"
        "  at_ms INTEGER NOT NULL,"
        "  result_json TEXT NOT NULL,"
        "  UNIQUE (model, baseline_version, canary_version, start_s));"
        "CREATE INDEX canary_results_by_model ON canary_results(model, start_s, id);"
        "PRAGMA user_version = 5;"},
    {6, "CREATE TABLE probe_runs ("
        "  id INTEGER PRIMARY KEY AUTOINCREMENT,"
        "  probe_set TEXT NOT NULL,"
        "  start_s REAL NOT NULL,"
        "  end_s REAL NOT NULL,"
        "  prompts INTEGER NOT NULL,"
        "  passed INTEGER NOT NULL,"
        "  result_json TEXT NOT NULL);"
        "CREATE INDEX probe_runs_by_set ON probe_runs(probe_set, end_s, id);"
        "PRAGMA user_version = 6;"},
    {7, "CREATE TABLE text_samples ("
        "  model TEXT NOT NULL,"
        "  version TEXT NOT NULL,"
        "  start_s REAL NOT NULL,"
        "  data TEXT NOT NULL,"
        "  PRIMARY KEY (model, version, start_s)) WITHOUT ROWID;"
        "PRAGMA user_version = 7;"},
    /* version 8: no table changes; journal rows may hold binary records
     * (monitor_ingest.c, data/record_bin.c), which an older build cannot
     * replay, so it refuses the file instead */
    {8, "PRAGMA user_version = 8;"},
    /* version 9: the journal moves to files beside the database
     * (store_jfile.c); a window's commit records here which of a version's
     * journal frames it covered */
    {9, "CREATE TABLE journal_marks ("
        "  model TEXT NOT NULL,"
        "  version TEXT NOT NULL,"
        "  upto INTEGER NOT NULL,"
        "  PRIMARY KEY (model, version)) WITHOUT ROWID;"
        "PRAGMA user_version = 9;"},
};
#define MW_ST_NMIGRATIONS (sizeof migrations / sizeof migrations[0])

_Static_assert(MW_STORE_APPLICATION_ID == 1297576820, "application_id in migration 1");

/* ---- helpers ------------------------------------------------------------------------- */

void mw_st_lock(mw_store *s) {
    pthread_mutex_lock(&s->mu);
}

void mw_st_unlock(mw_store *s) {
    pthread_mutex_unlock(&s->mu);
}

static mw_status status_of(int rc) {
    switch (rc & 0xff) {
    case SQLITE_NOMEM:
        return MW_ENOMEM;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return MW_ECORRUPT;
    case SQLITE_TOOBIG:
        return MW_ERANGE;
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
        return MW_EINVAL;
    default:
        return MW_EIO;
    }
}

mw_status mw_st_fail(mw_store *s, int rc, const char *op, const char *model, const char *version,
                     mw_error *err) {
    mw_status st = status_of(rc);
    const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    if ((rc & 0xff) == SQLITE_NOTADB)
        return mw_error_set(err, st, s->path, 0, 0,
                            "%s: not a SQLite database, or the file is corrupt (%s)", op, msg);
    if ((rc & 0xff) == SQLITE_CORRUPT)
        return mw_error_set(err, st, s->path, 0, 0, "%s%s%s%s%s: the database is corrupt (%s)", op,
                            model ? " " : "", model ? model : "", version ? "/" : "",
                            version ? version : "", msg);
    return mw_error_set(err, st, s->path, 0, 0, "%s%s%s%s%s: %s (SQLite code %d)", op,
                        model ? " " : "", model ? model : "", version ? "/" : "",
                        version ? version : "", msg, rc);
}

sqlite3_stmt *mw_st_get(mw_store *s, enum mw_st_id id, const char *op, const char *model,
                        const char *version, mw_error *err) {
    if (!s->stmt[id]) {
        int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->stmt[id], NULL);
        if (rc != SQLITE_OK) {
            s->prep_status = mw_st_fail(s, rc, op, model, version, err);
            sqlite3_finalize(s->stmt[id]);
            s->stmt[id] = NULL;
            return NULL;
        }
    }
    return s->stmt[id];
}

void mw_st_done(sqlite3_stmt *st) {
    if (!st) return;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

mw_status mw_st_check_name(const mw_store *s, const char *what, const char *name, const char *op,
                           mw_error *err) {
    const char *path = s ? s->path : "";
    if (!name) return mw_error_set(err, MW_EINVAL, path, 0, 0, "%s: %s is NULL", op, what);
    size_t n = strnlen(name, MW_STORE_NAME_MAX + 1);
    if (n == 0) return mw_error_set(err, MW_EINVAL, path, 0, 0, "%s: %s is empty", op, what);
    if (n > MW_STORE_NAME_MAX)
        return mw_error_set(err, MW_EINVAL, path, 0, 0,
                            "%s: %s \"%.40s...\" is longer than %d bytes", op, what, name,
                            MW_STORE_NAME_MAX);
    return MW_OK;
}

mw_status mw_st_check_mv(const mw_store *s, const char *model, const char *version, const char *op,
                         mw_error *err) {
    if (!s) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: store handle is NULL", op);
    mw_status st = mw_st_check_name(s, "model name", model, op, err);
    if (st == MW_OK) st = mw_st_check_name(s, "version name", version, op, err);
    return st;
}

mw_status mw_st_check_blob(mw_store *s, const void *blob, size_t len, const char *op,
                           mw_error *err) {
    if (!blob && len > 0)
        return mw_error_set(err, MW_EINVAL, s->path, 0, 0, "%s: blob is NULL but its length is %zu",
                            op, len);
    /* Reading the limit is safe without the lock: it is set once at open. */
    int limit = sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH, -1);
    if (len > (size_t)limit)
        return mw_error_set(err, MW_ERANGE, s->path, 0, 0,
                            "%s: blob of %zu bytes is over the store's limit of %d bytes", op, len,
                            limit);
    return MW_OK;
}

int mw_st_bind_blob(sqlite3_stmt *st, int idx, const void *blob, size_t len) {
    if (len == 0) return sqlite3_bind_zeroblob(st, idx, 0);
    return sqlite3_bind_blob64(st, idx, blob, (sqlite3_uint64)len, SQLITE_STATIC);
}

int mw_st_bind_text(sqlite3_stmt *st, int idx, const char *text) {
    return sqlite3_bind_text(st, idx, text, -1, SQLITE_STATIC);
}

void *mw_st_column_copy(sqlite3_stmt *st, int col, size_t *len) {
    int type = sqlite3_column_type(st, col);
    const void *p = type == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, col)
                                        : sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    char *out = malloc(n + 1);
    if (!out) return NULL;
    if (n) memcpy(out, p, n);
    out[n] = '\0';
    if (len) *len = n;
    return out;
}

mw_status mw_st_each_row(mw_store *s, sqlite3_stmt *q, int rc, mw_st_row_fn row, void *ctx,
                         const char *op, const char *model, const char *version, mw_error *err) {
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(q);
        if (rc != SQLITE_ROW) break;
        if (row(q, ctx)) {
            rc = SQLITE_DONE;
            break;
        }
    }
    mw_status st = rc == SQLITE_DONE ? MW_OK : mw_st_fail(s, rc, op, model, version, err);
    mw_st_done(q);
    return st;
}

int mw_st_append_json_row(sqlite3_stmt *q, void *ctx) {
    mw_st_json_rows *r = ctx;
    json_array_append_new(r->arr, r->row(q));
    return 0;
}

int mw_st_exec(sqlite3_stmt *st) {
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) rc = SQLITE_DONE; /* not expected: our writes return no rows */
    return rc;
}

mw_status mw_st_begin(mw_store *s, const char *op, const char *model, const char *version,
                      mw_error *err) {
    sqlite3_stmt *st = mw_st_get(s, MW_ST_BEGIN, op, model, version, err);
    if (!st) return s->prep_status;
    int rc = mw_st_exec(st);
    mw_status out = rc == SQLITE_DONE ? MW_OK : mw_st_fail(s, rc, op, model, version, err);
    mw_st_done(st);
    return out;
}

mw_status mw_st_commit(mw_store *s, const char *op, const char *model, const char *version,
                       mw_error *err) {
    sqlite3_stmt *st = mw_st_get(s, MW_ST_COMMIT, op, model, version, err);
    if (!st) return s->prep_status;
    int rc = mw_st_exec(st);
    mw_status out = rc == SQLITE_DONE ? MW_OK : mw_st_fail(s, rc, op, model, version, err);
    mw_st_done(st);
    return out;
}

void mw_st_rollback(mw_store *s) {
    if (sqlite3_get_autocommit(s->db)) return; /* nothing open (or SQLite already rolled back) */
    sqlite3_stmt *st = mw_st_get(s, MW_ST_ROLLBACK, "rollback", NULL, NULL, NULL);
    if (st) {
        mw_st_exec(st);
        mw_st_done(st);
    }
}

/* ---- open / close ---------------------------------------------------------------------- */

/* Runs a one-integer query (a PRAGMA) on a statement not in the cache. */
static int query_int(mw_store *s, const char *sql, int64_t *v) {
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            *v = sqlite3_column_int64(st, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            *v = 0;
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Runs a PRAGMA that answers with text and compares the answer. */
static int query_text_is(mw_store *s, const char *sql, const char *want, int *same) {
    sqlite3_stmt *st = NULL;
    *same = 0;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            *same = t && strcmp((const char *)t, want) == 0;
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(st);
    return rc;
}

/* Checks the file's identity and version: fresh (empty), ours, or refused. Runs
 * with the write lock held during migration so the answer cannot change. */
static mw_status check_identity(mw_store *s, int64_t *user_version, mw_error *err) {
    int64_t app = 0, uv = 0, nobjects = 0;
    int rc = query_int(s, "PRAGMA application_id", &app);
    if (rc == SQLITE_OK) rc = query_int(s, "PRAGMA user_version", &uv);
    if (rc == SQLITE_OK) rc = query_int(s, "SELECT count(*) FROM sqlite_schema", &nobjects);
    if (rc != SQLITE_OK) return mw_st_fail(s, rc, "open", NULL, NULL, err);
    if (app == 0 && uv == 0 && nobjects == 0) {
        *user_version = 0; /* a new, empty database */
        return MW_OK;
    }
    if (app != MW_STORE_APPLICATION_ID)
        return mw_error_set(err, MW_EINVAL, s->path, 0, 0,
                            "open: not a modelwatch database (a SQLite file of another "
                            "application: application_id %lld, %lld schema objects)",
                            (long long)app, (long long)nobjects);
    if (uv > MW_STORE_SCHEMA_VERSION)
        return mw_error_set(err, MW_ERANGE, s->path, 0, 0,
                            "open: the database has schema version %lld, newer than this "
                            "build of modelwatch understands (up to %d); use a newer modelwatch",
                            (long long)uv, MW_STORE_SCHEMA_VERSION);
    if (uv < 1)
        return mw_error_set(err, MW_ECORRUPT, s->path, 0, 0,
                            "open: modelwatch database without a schema version (user_version "
                            "%lld); the file is damaged",
                            (long long)uv);
    *user_version = uv;
    return MW_OK;
}

static mw_status migrate(mw_store *s, mw_error *err) {
    int64_t uv = 0;
    mw_status st = check_identity(s, &uv, err); /* without the lock: fail fast, change nothing */
    if (st != MW_OK) return st;
    if (uv == MW_STORE_SCHEMA_VERSION) return MW_OK;

    st = mw_st_begin(s, "open (migration)", NULL, NULL, err);
    if (st != MW_OK) return st;
    st = check_identity(s, &uv, err); /* again, under the write lock */
    for (size_t i = 0; st == MW_OK && i < MW_ST_NMIGRATIONS; i++) {
        if (migrations[i].version <= uv) continue;
        char *msg = NULL;
        int rc = sqlite3_exec(s->db, migrations[i].sql, NULL, NULL, &msg);
        if (rc != SQLITE_OK) {
            st = mw_error_set(err, status_of(rc), s->path, 0, 0,
                              "open: migration to schema version %d failed: %s",
                              migrations[i].version, msg ? msg : sqlite3_errstr(rc));
        }
        sqlite3_free(msg);
    }
    if (st == MW_OK) st = mw_st_commit(s, "open (migration)", NULL, NULL, err);
    if (st != MW_OK) mw_st_rollback(s);
    return st;
}

/* Connection settings: WAL, synchronous level, foreign keys, WAL size cap. */
static mw_status configure(mw_store *s, const mw_store_options *opt, mw_error *err) {
    int wal = 0;
    int rc = query_text_is(s, "PRAGMA journal_mode = WAL", "wal", &wal);
    if (rc != SQLITE_OK) return mw_st_fail(s, rc, "open (WAL mode)", NULL, NULL, err);
    if (!wal && strcmp(s->path, ":memory:") != 0)
        return mw_error_set(err, MW_EIO, s->path, 0, 0,
                            "open: could not switch the database to WAL mode (is the file "
                            "system read-only or without shared-memory support?)");
    const char *sync =
        opt && opt->synchronous_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
    rc = sqlite3_exec(s->db, sync, NULL, NULL, NULL);
    /* Truncate the WAL back to 16 MiB after checkpoints that follow a big blob. */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "PRAGMA journal_size_limit = 67108864", NULL, NULL, NULL);
    /* Checkpoint every 8192 pages (32 MiB of WAL) instead of SQLite's 1000: the
     * journal of accepted records is written at ingestion rate and deleted at
     * window close, and each checkpoint costs an fsync. Measured on the
     * ingestion benchmark: 290-333k records/s against 160-320k with 1000, a
     * difference within this machine's noise except for fewer slow outliers. */
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(s->db, "PRAGMA wal_autocheckpoint = 8192", NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(s->db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
    if (rc == SQLITE_OK) rc = sqlite3_exec(s->db, "PRAGMA trusted_schema = OFF", NULL, NULL, NULL);
    if (rc != SQLITE_OK) return mw_st_fail(s, rc, "open (settings)", NULL, NULL, err);
    int64_t fk = 0;
    rc = query_int(s, "PRAGMA foreign_keys", &fk);
    if (rc != SQLITE_OK) return mw_st_fail(s, rc, "open (settings)", NULL, NULL, err);
    if (fk != 1)
        return mw_error_set(err, MW_EIO, s->path, 0, 0,
                            "open: this SQLite library was built without foreign keys");
    return MW_OK;
}

/* Where the journal files go ("<db>-records", none for an in-memory or URI
 * database: its journal stays in SQLite) and the first seq: above SQLite's
 * journal rowids and every mark (each file's own frames raise it when the
 * file is opened). */
static mw_status journal_files_init(mw_store *s, const mw_store_options *opt, mw_error *err) {
    s->jsync_full = opt && opt->synchronous_full;
    int64_t top = 0;
    int rc = query_int(s,
                       "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = "
                       "'journal'), 0), coalesce((SELECT max(upto) FROM journal_marks), 0))",
                       &top);
    if (rc != SQLITE_OK) return mw_st_fail(s, rc, "open (journal)", NULL, NULL, err);
    s->jseq = top;
    if (!strcmp(s->path, ":memory:") || !strncmp(s->path, "file:", 5)) return MW_OK;
    size_t n = strlen(s->path) + sizeof "-records";
    if (!(s->jdir = malloc(n)))
        return mw_error_set(err, MW_ENOMEM, s->path, 0, 0, "open: out of memory");
    snprintf(s->jdir, n, "%s-records", s->path);
    return MW_OK;
}

mw_status mw_store_open(const char *path, const mw_store_options *opt, mw_store **out,
                        mw_error *err) {
    mw_error_clear(err);
    if (out) *out = NULL;
    if (!path || !*path || !out)
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "open store: %s is %s",
                            out ? "the database path" : "the output handle",
                            out && path ? "empty" : "NULL");
    if (opt && opt->busy_timeout_ms < 0)
        return mw_error_set(err, MW_EINVAL, path, 0, 0, "open: busy_timeout_ms %d is negative",
                            opt->busy_timeout_ms);
    mw_store *s = calloc(1, sizeof *s);
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return mw_error_set(err, MW_ENOMEM, path, 0, 0, "open: out of memory");
    }
    if (pthread_mutex_init(&s->mu, NULL) != 0 || pthread_mutex_init(&s->jmu, NULL) != 0) {
        free(s->path);
        free(s);
        return mw_error_set(err, MW_ENOMEM, path, 0, 0, "open: cannot create the store's mutex");
    }
    int rc = sqlite3_open_v2(
        path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    mw_status st = MW_OK;
    if (rc != SQLITE_OK)
        st = mw_error_set(err, status_of(rc), path, 0, 0,
                          "open: cannot open or create the database file (%s)",
                          s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
    if (st == MW_OK) {
        sqlite3_extended_result_codes(s->db, 1);
        sqlite3_busy_timeout(s->db, opt && opt->busy_timeout_ms ? opt->busy_timeout_ms : 5000);
        sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
        /* Identity first, so we never switch another application's file to WAL. */
        int64_t uv = 0;
        st = check_identity(s, &uv, err);
    }
    if (st == MW_OK) st = configure(s, opt, err);
    if (st == MW_OK) st = migrate(s, err);
    if (st == MW_OK) st = journal_files_init(s, opt, err);
    if (st != MW_OK) {
        mw_store_close(s);
        return st;
    }
    *out = s;
    return MW_OK;
}

void mw_store_close(mw_store *s) {
    if (!s) return;
    for (int i = 0; i < MW_ST_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_close_v2(s->db);
    mw_jf_close_all(s);
    pthread_mutex_destroy(&s->mu);
    pthread_mutex_destroy(&s->jmu);
    free(s->jdir);
    free(s->path);
    free(s);
}
