/*
 * The model registry in the store: models and versions (immutable, checked
 * fields, normalised signatures), evaluation results, listing, aliases with
 * their audit rows and compare-and-set, deleting (refused under an alias),
 * promotion (gate failed / absent / breaking signature, --force), rollback
 * (back, and back again; to a deleted version), and transactions: a step that
 * SQLite aborts (a trigger raising on the audit or version insert) leaves
 * nothing changed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <sqlite3.h>

#include "modelwatch/registry.h"

#define OK(call)                                                                                   \
    do {                                                                                           \
        mw_error e_;                                                                               \
        mw_status st_ = (call);                                                                    \
        if (st_) fail_msg("%s: %s", #call, e_.message);                                            \
    } while (0)

/* call fails with status st and a message containing want */
#define FAILS(call, st, want)                                                                      \
    do {                                                                                           \
        mw_error e_;                                                                               \
        mw_status st_ = (call);                                                                    \
        if (st_ != (st) || !strstr(e_.message, (want)))                                            \
            fail_msg("%s: status %d, message \"%s\" (wanted %d, \"%s\")", #call, st_, e_.message,  \
                     (st), (want));                                                                \
    } while (0)

static const char SIG1[] = "{\"inputs\": [{\"name\": \"amount\", \"type\": \"integer\"}], "
                           "\"outputs\": [{\"type\": \"long\"}], \"classes\": [0, 1]}";
static const char SIG_WIDE[] = "{\"inputs\": [{\"name\": \"amount\", \"type\": \"double\"}, "
                               "{\"name\": \"c\", \"type\": \"string\", \"required\": false}], "
                               "\"outputs\": [{\"type\": \"long\"}], \"classes\": [0, 1]}";
static const char SIG_BREAK[] = "{\"inputs\": [{\"name\": \"amount\", \"type\": \"double\"}], "
                                "\"outputs\": [{\"type\": \"long\"}], \"classes\": [0, 1, 2]}";

typedef struct fix {
    char dir[64], path[128];
    mw_store *s;
} fix;

static int setup(void **state) {
    fix *f = calloc(1, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "/tmp/mw-reg-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/mw.db", f->dir);
    mw_error err;
    if (mw_store_open(f->path, NULL, &f->s, &err)) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fix *f = *state;
    mw_store_close(f->s);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

static json_t *loads(char *text) {
    json_t *v = json_loads(text, 0, NULL);
    assert_non_null(v);
    free(text);
    return v;
}

static json_t *version_json(mw_store *s, const char *m, const char *v) {
    char *t = NULL;
    OK(mw_registry_get_version(s, m, v, &t, &e_));
    return loads(t);
}

/* Runs SQL on the file through a connection of its own. */
static void raw_sql(const char *path, const char *sql) {
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) fail_msg("%s: %s", sql, msg);
    sqlite3_close(db);
}

static long long raw_count(const char *path, const char *sql) {
    sqlite3 *db;
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    long long n = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
}

static void put(mw_store *s, const char *m, const char *v, const char *sig) {
    mw_registry_version_spec spec = {.description = "d", .signature_json = sig};
    OK(mw_registry_put_version(s, m, v, &spec, 1000, &e_));
}

static mw_registry_move move_to(const char *v) {
    return (mw_registry_move){.model = "fraud",
                              .alias = "production",
                              .version = v,
                              .who = "alice",
                              .why = "test",
                              .now_ms = 2000};
}

static void test_versions(void **state) {
    fix *f = *state;
    mw_store *s = f->s;
    OK(mw_registry_create_model(s, "fraud", "fraud scoring", 500, &e_));
    FAILS(mw_registry_create_model(s, "fraud", "", 500, &e_), MW_EINVAL, "exists already");
    mw_registry_version_spec spec = {
        .description = "first",
        .artifact_uri = "s3://models/fraud/1",
        .sha256 = "ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789",
        .signature_json = SIG1,
        .tags_json = "{\"team\": \"risk\"}"};
    OK(mw_registry_put_version(s, "fraud", "1", &spec, 1000, &e_));
    FAILS(mw_registry_put_version(s, "fraud", "1", &spec, 1000, &e_), MW_EINVAL,
          "registered already");
    json_t *v = version_json(s, "fraud", "1");
    assert_string_equal(json_string_value(json_object_get(v, "artifact_uri")),
                        "s3://models/fraud/1");
    assert_string_equal(json_string_value(json_object_get(v, "sha256")),
                        "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789");
    assert_int_equal(json_integer_value(json_object_get(v, "created_ms")), 1000);
    assert_string_equal(json_string_value(json_object_get(json_object_get(v, "tags"), "team")),
                        "risk");
    assert_true(json_is_null(json_object_get(v, "eval")));
    const json_t *sig = json_object_get(v, "signature");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(sig, "outputs"), 0), "name")),
                        "0");
    json_decref(v);

    /* malformed fields: nothing stored */
    mw_registry_version_spec bad = {.sha256 = "xyz"};
    FAILS(mw_registry_put_version(s, "fraud", "2", &bad, 1, &e_), MW_EINVAL,
          "sha256 \"xyz\" is not 64 hexadecimal digits");
    bad = (mw_registry_version_spec){.tags_json = "{\"a\": 1}"};
    FAILS(mw_registry_put_version(s, "fraud", "2", &bad, 1, &e_), MW_EINVAL,
          "tags must be a JSON object of text values");
    bad = (mw_registry_version_spec){.signature_json = "{\"inputs\": [{\"name\": \"x\"}]}"};
    FAILS(mw_registry_put_version(s, "fraud", "2", &bad, 1, &e_), MW_EINVAL,
          "inputs[0] \"x\": \"type\" must be");
    FAILS(mw_registry_put_version(s, "fraud", "@production", NULL, 1, &e_), MW_EINVAL,
          "may not start with '@'");
    FAILS(mw_registry_put_version(s, "", "2", NULL, 1, &e_), MW_EINVAL, "model name is empty");
    char *t = NULL;
    FAILS(mw_registry_get_version(s, "fraud", "2", &t, &e_), MW_ENOTFOUND,
          "model \"fraud\" has no version \"2\" in the registry");
    assert_null(t);

    /* a new model comes with its first version */
    put(s, "churn", "a", NULL);
    OK(mw_registry_list(s, NULL, &t, &e_));
    json_t *l = loads(t);
    json_t *models = json_object_get(l, "models");
    assert_int_equal(json_array_size(models), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(models, 0), "name")),
                        "churn");
    assert_int_equal(json_array_size(json_object_get(json_array_get(models, 1), "versions")), 1);
    json_decref(l);
    FAILS(mw_registry_list(s, "nope", &t, &e_), MW_ENOTFOUND, "no model \"nope\"");

    /* evaluation results */
    OK(mw_registry_set_eval(s, "fraud", "1", "{\"gate\": {\"passed\": true}}", &e_));
    v = version_json(s, "fraud", "1");
    assert_true(json_is_true(
        json_object_get(json_object_get(json_object_get(v, "eval"), "gate"), "passed")));
    json_decref(v);
    FAILS(mw_registry_set_eval(s, "fraud", "9", "{}", &e_), MW_ENOTFOUND, "no version \"9\"");
    FAILS(mw_registry_set_eval(s, "fraud", "1", "[1]", &e_), MW_EINVAL, "must be a JSON object");

    /* delete */
    OK(mw_registry_delete_version(s, "churn", "a", &e_));
    FAILS(mw_registry_delete_version(s, "churn", "a", &e_), MW_ENOTFOUND, "no version \"a\"");
}

static void test_aliases_and_audit(void **state) {
    fix *f = *state;
    mw_store *s = f->s;
    put(s, "fraud", "1", SIG1);
    put(s, "fraud", "2", SIG_WIDE);
    char *from = NULL, *t = NULL;
    mw_registry_move mv = move_to("1");
    OK(mw_registry_move_alias(s, &mv, &from, &e_));
    assert_null(from);
    OK(mw_registry_get_alias(s, "fraud", "production", &t, &e_));
    assert_string_equal(t, "1");
    free(t);
    /* compare-and-set */
    mv = move_to("2");
    mv.expect_from = "";
    FAILS(mw_registry_move_alias(s, &mv, NULL, &e_), MW_EINVAL, "moved meanwhile");
    mv.expect_from = "3";
    FAILS(mw_registry_move_alias(s, &mv, NULL, &e_), MW_EINVAL,
          "points to version \"1\" now, not to version \"3\"");
    mv.expect_from = "1";
    OK(mw_registry_move_alias(s, &mv, &from, &e_));
    assert_string_equal(from, "1");
    free(from);
    /* bad moves */
    mv = move_to("7");
    FAILS(mw_registry_move_alias(s, &mv, NULL, &e_), MW_ENOTFOUND,
          "model \"fraud\" has no version \"7\"");
    mv = move_to("1");
    mv.alias = "prod uction";
    FAILS(mw_registry_move_alias(s, &mv, NULL, &e_), MW_EINVAL, "alias \"prod uction\" is not");
    mv = move_to("1");
    mv.who = "";
    FAILS(mw_registry_move_alias(s, &mv, NULL, &e_), MW_EINVAL, "who moved the alias");
    FAILS(mw_registry_get_alias(s, "fraud", "staging", &t, &e_), MW_ENOTFOUND,
          "model \"fraud\" has no alias \"staging\"");
    /* a version under an alias cannot go */
    FAILS(mw_registry_delete_version(s, "fraud", "2", &e_), MW_EINVAL,
          "is the target of alias \"production\"");

    /* the version shows its aliases; the audit has both moves, newest first */
    json_t *v = version_json(s, "fraud", "2");
    assert_string_equal(json_string_value(json_array_get(json_object_get(v, "aliases"), 0)),
                        "production");
    json_decref(v);
    OK(mw_registry_audit(s, "fraud", NULL, 0, &t, &e_));
    json_t *root = loads(t);
    json_t *a = json_object_get(root, "audit");
    assert_int_equal(json_array_size(a), 2);
    json_t *r0 = json_array_get(a, 0), *r1 = json_array_get(a, 1);
    assert_string_equal(json_string_value(json_object_get(r0, "from")), "1");
    assert_string_equal(json_string_value(json_object_get(r0, "to")), "2");
    assert_string_equal(json_string_value(json_object_get(r0, "who")), "alice");
    assert_string_equal(json_string_value(json_object_get(r0, "why")), "test");
    assert_string_equal(json_string_value(json_object_get(r0, "action")), "set");
    assert_int_equal(json_integer_value(json_object_get(r0, "at_ms")), 2000);
    assert_true(json_is_null(json_object_get(r1, "from")));
    json_decref(root);

    /* removing the alias is audited too */
    mv = move_to(NULL);
    OK(mw_registry_move_alias(s, &mv, NULL, &e_));
    FAILS(mw_registry_move_alias(s, &mv, NULL, &e_), MW_ENOTFOUND, "no alias \"production\" to");
    OK(mw_registry_delete_version(s, "fraud", "2", &e_));
    assert_int_equal(raw_count(f->path, "SELECT count(*) FROM registry_audit"), 3);
}

/* Promotes fraud/version to production and checks the outcome; msg must be
 * in the result's message. */
static void promote_expect(mw_store *s, const char *version, const mw_promote_options *opt,
                           int refused, int gate, int breaking, const char *msg) {
    mw_promote_result r;
    OK(mw_registry_promote(s, "fraud", version, "production", opt, &r, &e_));
    if (r.refused != refused || r.gate != gate || r.breaking != breaking || !strstr(r.message, msg))
        fail_msg("promote %s: refused %d gate %d breaking %d \"%s\" (wanted %d %d %d \"%s\")",
                 version, r.refused, r.gate, r.breaking, r.message, refused, gate, breaking, msg);
    mw_promote_result_free(&r);
}

static void test_promote_and_rollback(void **state) {
    fix *f = *state;
    mw_store *s = f->s;
    put(s, "fraud", "1", SIG1);
    put(s, "fraud", "2", SIG_WIDE);
    put(s, "fraud", "3", SIG_BREAK);
    put(s, "fraud", "4", NULL);
    mw_promote_options opt = {.who = "bob", .why = "release", .now_ms = 3000};
    mw_promote_result r;
    /* first promotion: nothing to compare with; no gate needed */
    OK(mw_registry_promote(s, "fraud", "1", "production", &opt, &r, &e_));
    assert_int_equal(r.refused, 0);
    assert_null(r.from);
    mw_promote_result_free(&r);
    /* --require-gate without a stored gate */
    opt.require_gate = 1;
    promote_expect(s, "2", &opt, 1, -1, 0, "has no stored gate result");
    /* a failed gate refuses even without --require-gate */
    OK(mw_registry_set_eval(s, "fraud", "2", "{\"gate\": {\"passed\": false}}", &e_));
    opt.require_gate = 0;
    promote_expect(s, "2", &opt, 1, 0, 0, "gate of fraud version 2 failed");
    /* passed gate, compatible signature: promoted */
    OK(mw_registry_set_eval(s, "fraud", "2", "{\"gate\": {\"passed\": true}}", &e_));
    opt.require_gate = 1;
    OK(mw_registry_promote(s, "fraud", "2", "production", &opt, &r, &e_));
    assert_int_equal(r.refused, 0);
    assert_int_equal(r.breaking, 0);
    assert_string_equal(r.from, "1");
    mw_promote_result_free(&r);
    /* breaking signature (class set changed) */
    opt.require_gate = 0;
    OK(mw_registry_promote(s, "fraud", "3", "production", &opt, &r, &e_));
    assert_int_equal(r.refused, 1);
    assert_int_equal(r.breaking, 1);
    assert_non_null(
        strstr(r.message,
               "breaks against production's current version 2: input \"c\" (string) was removed"));
    mw_promote_result_free(&r);
    char *t = NULL;
    OK(mw_registry_get_alias(s, "fraud", "production", &t, &e_));
    assert_string_equal(t, "2"); /* refusals moved nothing */
    free(t);
    /* forced */
    opt.force = 1;
    OK(mw_registry_promote(s, "fraud", "3", "production", &opt, &r, &e_));
    assert_int_equal(r.refused, 0);
    assert_non_null(strstr(r.message, "forced past: breaking signature"));
    mw_promote_result_free(&r);
    /* a missing version */
    FAILS(mw_registry_promote(s, "fraud", "9", "production", &opt, &r, &e_), MW_ENOTFOUND,
          "no version \"9\"");
    mw_promote_result_free(&r);

    /* rollback: 3 -> 2, again: 2 -> 3 (undo) */
    OK(mw_registry_rollback(s, "fraud", "production", "carol", "bad", 4000, &t, &e_));
    assert_string_equal(t, "2");
    free(t);
    OK(mw_registry_rollback(s, "fraud", "production", "carol", "undo", 4001, &t, &e_));
    assert_string_equal(t, "3");
    free(t);
    /* rollback to a deleted version */
    mw_registry_move mv = move_to("4");
    OK(mw_registry_move_alias(s, &mv, NULL, &e_));
    OK(mw_registry_delete_version(s, "fraud", "3", &e_));
    FAILS(mw_registry_rollback(s, "fraud", "production", "carol", "", 4002, &t, &e_), MW_ENOTFOUND,
          "would go back to version \"3\", which is no longer in the registry");
    /* an alias without a previous version, and no alias at all */
    put(s, "churn", "a", NULL);
    mv = move_to("a");
    mv.model = "churn";
    OK(mw_registry_move_alias(s, &mv, NULL, &e_));
    FAILS(mw_registry_rollback(s, "churn", "production", "carol", "", 1, &t, &e_), MW_ENOTFOUND,
          "has no previous version");
    FAILS(mw_registry_rollback(s, "churn", "staging", "carol", "", 1, &t, &e_), MW_ENOTFOUND,
          "has no alias \"staging\"");
    OK(mw_registry_audit(s, "fraud", "production", 2, &t, &e_));
    json_t *root = loads(t);
    json_t *a = json_object_get(root, "audit");
    assert_int_equal(json_array_size(a), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "action")),
                        "rollback");
    assert_string_equal(json_string_value(json_object_get(json_array_get(a, 1), "who")), "carol");
    json_decref(root);
}

/* A step that fails inside the transaction leaves everything as it was. */
static void test_transactions(void **state) {
    fix *f = *state;
    mw_store *s = f->s;
    put(s, "fraud", "1", SIG1);
    put(s, "fraud", "2", SIG1);
    mw_registry_move mv = move_to("1");
    OK(mw_registry_move_alias(s, &mv, NULL, &e_));
    raw_sql(f->path, "CREATE TRIGGER no_audit BEFORE INSERT ON registry_audit "
                     "BEGIN SELECT RAISE(ABORT, 'audit disk full'); END;");
    mv = move_to("2");
    FAILS(mw_registry_move_alias(s, &mv, NULL, &e_), MW_EIO, "audit disk full");
    char *t = NULL;
    OK(mw_registry_get_alias(s, "fraud", "production", &t, &e_));
    assert_string_equal(t, "1"); /* the alias did not move without its audit row */
    free(t);
    mw_promote_options opt = {.who = "bob", .now_ms = 1};
    mw_promote_result r;
    FAILS(mw_registry_promote(s, "fraud", "2", "production", &opt, &r, &e_), MW_EIO,
          "audit disk full");
    mw_promote_result_free(&r);
    raw_sql(f->path, "DROP TRIGGER no_audit;"
                     "CREATE TRIGGER no_version BEFORE INSERT ON registry_versions "
                     "BEGIN SELECT RAISE(ABORT, 'version disk full'); END;");
    FAILS(mw_registry_put_version(s, "newmodel", "1", NULL, 1, &e_), MW_EIO, "version disk full");
    /* the model row that the same transaction inserted first is gone too */
    assert_int_equal(
        raw_count(f->path, "SELECT count(*) FROM registry_models WHERE name = 'newmodel'"), 0);
    raw_sql(f->path, "DROP TRIGGER no_version;");
    put(s, "newmodel", "1", NULL);
    assert_int_equal(raw_count(f->path, "SELECT count(*) FROM registry_audit"), 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_aliases_and_audit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_promote_and_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_transactions, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
