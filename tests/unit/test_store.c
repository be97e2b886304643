/*
 * SQLite store: open, migrate and reopen (user_version and application_id
 * checked, clear errors for a non-SQLite file, another application's database
 * and a newer schema); versions put/replace/list/delete with cascade;
 * baselines put/get/replace up to 64 MiB; journal order, window_commit's
 * atomic delete of exactly the rows <= journal_upto; window listing and
 * retention; state; alert state and history (commit, newest-first listing,
 * pruning, migration of a schema version 1 file); durability of acknowledged appends across kill -9
 * of a writer process; concurrent appends from threads. Prints (does not assert) the append rate
 * for 1,000 batches of 50 KB, one per transaction and grouped by 16, with synchronous NORMAL and
 * FULL.
 *
 * Every test works in its own mkdtemp directory under /tmp, removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <ftw.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <math.h>
#include <sqlite3.h>

#include "modelwatch/store.h"

/* ---- helpers -------------------------------------------------------------------------- */

typedef struct tmpdb {
    char dir[64];
    char path[128];
} tmpdb;

static void tmpdb_make(tmpdb *t) {
    snprintf(t->dir, sizeof t->dir, "/tmp/mw_store_XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/modelwatch.db", t->dir);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Removes the directory and everything in it (the database, -wal, -shm, the
 * journal files in -records/). */
static void tmpdb_remove(tmpdb *t) {
    nftw(t->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static mw_store *open_ok(const char *path, const mw_store_options *opt) {
    mw_store *s = NULL;
    mw_error e;
    mw_status st = mw_store_open(path, opt, &s, &e);
    if (st != MW_OK) fail_msg("open %s: %s", path, e.message);
    assert_non_null(s);
    return s;
}

#define OK(call)                                                                                   \
    do {                                                                                           \
        mw_error e_;                                                                               \
        mw_error *err = &e_;                                                                       \
        mw_status st_ = (call);                                                                    \
        if (st_ != MW_OK) fail_msg("%s: %s", #call, e_.message);                                   \
    } while (0)

/* An integer PRAGMA read through a separate plain SQLite connection. */
static int64_t raw_pragma(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

static void raw_exec(const char *path, const char *sql) {
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    char *msg = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    if (rc != SQLITE_OK) fail_msg("%s: %s", sql, msg ? msg : "?");
    sqlite3_close(db);
}

/* Test blobs: the first 8 bytes are the index i, the rest a pattern from i. */
static size_t blob_len(uint64_t i) {
    return 8 + (size_t)((i * 2654435761u) % 65536);
}

static void blob_fill(unsigned char *b, uint64_t i, size_t len) {
    memcpy(b, &i, 8);
    for (size_t j = 8; j < len; j++)
        b[j] = (unsigned char)(i * 131 + j * 7 + (j >> 8));
}

/* 1 when b is the blob for its embedded index and of its expected length. */
static int blob_check(const unsigned char *b, size_t len, uint64_t *index) {
    if (len < 8) return 0;
    uint64_t i;
    memcpy(&i, b, 8);
    if (len != blob_len(i)) return 0;
    for (size_t j = 8; j < len; j++)
        if (b[j] != (unsigned char)(i * 131 + j * 7 + (j >> 8))) return 0;
    *index = i;
    return 1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Collects journal rows: seq, length and first bytes. */
typedef struct rows {
    int64_t seq[4096];
    size_t len[4096];
    char head[4096][16];
    size_t n;
    size_t stop_after; /* 0 = never stop */
} rows;

static int collect(int64_t seq, const void *blob, size_t len, void *ctx) {
    rows *r = ctx;
    assert_non_null(blob);
    if (r->n < 4096) {
        r->seq[r->n] = seq;
        r->len[r->n] = len;
        memset(r->head[r->n], 0, 16);
        memcpy(r->head[r->n], blob, len < 15 ? len : 15);
        r->n++;
    }
    return r->stop_after && r->n >= r->stop_after;
}

static size_t journal_rows(mw_store *s, const char *m, const char *v) {
    uint64_t c = 0;
    OK(mw_store_journal_count(s, m, v, &c, err));
    return (size_t)c;
}

static size_t window_rows(mw_store *s, const char *m, const char *v) {
    char **w = NULL;
    size_t n = 0;
    OK(mw_store_list_windows(s, m, v, 0, &w, &n, err));
    for (size_t i = 0; i < n; i++)
        free(w[i]);
    free(w);
    return n;
}

/* ---- open, migrate, reopen --------------------------------------------------------------- */

static void test_open_migrate_reopen(void **state) {
    (void)state;
    tmpdb t;
    tmpdb_make(&t);
    mw_store *s = open_ok(t.path, NULL);
    OK(mw_store_put_version(s, "fraud", "3", "{\"a\":1}", 1000, err));
    mw_store_close(s);
    mw_store_close(NULL);

    assert_int_equal(raw_pragma(t.path, "PRAGMA user_version"), MW_STORE_SCHEMA_VERSION);
    assert_int_equal(raw_pragma(t.path, "PRAGMA application_id"), MW_STORE_APPLICATION_ID);
    assert_int_equal(raw_pragma(t.path, "SELECT count(*) FROM sqlite_schema WHERE name = "
                                        "'journal'"),
                     1);

    /* Reopen (no migration to run) and with FULL sync: data is still there. */
    mw_store_options opt = {.synchronous_full = 1, .busy_timeout_ms = 100};
    s = open_ok(t.path, &opt);
    mw_store_version *v = NULL;
    size_t n = 0;
    OK(mw_store_list_versions(s, &v, &n, err));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].model, "fraud");
    assert_string_equal(v[0].config_json, "{\"a\":1}");
    mw_store_versions_free(v, n);
    mw_store_close(s);
    assert_int_equal(raw_pragma(t.path, "PRAGMA user_version"), MW_STORE_SCHEMA_VERSION);

    /* A zero-length file (as mkstemp leaves it) is an empty database: initialised. */
    char p2[160];
    snprintf(p2, sizeof p2, "%s/empty.db", t.dir);
    FILE *f = fopen(p2, "w");
    assert_non_null(f);
    fclose(f);
    s = open_ok(p2, NULL);
    mw_store_close(s);
    assert_int_equal(raw_pragma(p2, "PRAGMA user_version"), MW_STORE_SCHEMA_VERSION);

    /* In-memory store works (no durability). */
    s = open_ok(":memory:", NULL);
    OK(mw_store_put_version(s, "m", "v", "{}", 1, err));
    mw_store_close(s);
    tmpdb_remove(&t);
}

static void test_open_errors(void **state) {
    (void)state;
    tmpdb t;
    tmpdb_make(&t);
    mw_store *s = (mw_store *)&t; /* must be cleared on failure */
    mw_error e;

    /* A text file is not a SQLite database; the file must be left unchanged. */
    char junk[160];
    snprintf(junk, sizeof junk, "%s/notes.txt", t.dir);
    FILE *f = fopen(junk, "w");
    assert_non_null(f);
    for (int i = 0; i < 50; i++)
        fputs("this is a text file and not a database\n", f);
    fclose(f);
    assert_int_equal(mw_store_open(junk, NULL, &s, &e), MW_ECORRUPT);
    assert_null(s);
    assert_non_null(strstr(e.message, junk));
    assert_non_null(strstr(e.message, "not a SQLite database"));
    f = fopen(junk, "r");
    char line[64];
    assert_non_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_string_equal(line, "this is a text file and not a database\n");

    /* Another application's SQLite file. */
    char other[160];
    snprintf(other, sizeof other, "%s/other.db", t.dir);
    raw_exec(other, "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT)");
    assert_int_equal(mw_store_open(other, NULL, &s, &e), MW_EINVAL);
    assert_null(s);
    assert_non_null(strstr(e.message, other));
    assert_non_null(strstr(e.message, "not a modelwatch database"));
    assert_int_equal(raw_pragma(other, "PRAGMA journal_mode"), 0); /* "delete": not switched */

    /* A modelwatch database from a newer build. */
    s = open_ok(t.path, NULL);
    mw_store_close(s);
    raw_exec(t.path, "PRAGMA user_version = 99");
    assert_int_equal(mw_store_open(t.path, NULL, &s, &e), MW_ERANGE);
    assert_null(s);
    assert_non_null(strstr(e.message, t.path));
    assert_non_null(strstr(e.message, "newer"));
    assert_non_null(strstr(e.message, "99"));

    /* A modelwatch database whose table pages were overwritten: open still
     * succeeds (no full scan at open), the first read of the damaged table
     * says the file is corrupt and names it. */
    char dmg[160];
    snprintf(dmg, sizeof dmg, "%s/damaged.db", t.dir);
    s = open_ok(dmg, NULL);
    OK(mw_store_put_version(s, "m", "1", "{}", 1, err));
    mw_store_close(s); /* checkpoints the WAL into the file */
    int64_t page = raw_pragma(dmg, "PRAGMA page_size");
    int64_t root = raw_pragma(dmg, "SELECT rootpage FROM sqlite_schema WHERE name = 'versions'");
    f = fopen(dmg, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, (long)((root - 1) * page), SEEK_SET), 0);
    for (int64_t i = 0; i < page; i++)
        fputc(0xA5, f);
    fclose(f);
    s = open_ok(dmg, NULL);
    mw_store_version *v = NULL;
    size_t n = 0;
    assert_int_equal(mw_store_list_versions(s, &v, &n, &e), MW_ECORRUPT);
    assert_null(v);
    assert_non_null(strstr(e.message, dmg));
    assert_non_null(strstr(e.message, "corrupt"));
    mw_store_close(s);
    s = (mw_store *)&t;

    /* A file whose SQLite header was overwritten. */
    f = fopen(dmg, "r+b");
    assert_non_null(f);
    fputs("garbage garbage garbage garbage!", f);
    fclose(f);
    assert_int_equal(mw_store_open(dmg, NULL, &s, &e), MW_ECORRUPT);
    assert_null(s);
    assert_non_null(strstr(e.message, dmg));

    /* A directory that does not exist. */
    char missing[200];
    snprintf(missing, sizeof missing, "%s/no/such/dir/x.db", t.dir);
    assert_int_equal(mw_store_open(missing, NULL, &s, &e), MW_EIO);
    assert_null(s);
    assert_non_null(strstr(e.message, missing));

    /* Bad arguments. */
    assert_int_equal(mw_store_open(NULL, NULL, &s, &e), MW_EINVAL);
    assert_int_equal(mw_store_open("", NULL, &s, &e), MW_EINVAL);
    assert_int_equal(mw_store_open(t.path, NULL, NULL, &e), MW_EINVAL);
    tmpdb_remove(&t);
}

/* ---- versions and baselines ------------------------------------------------------------------ */

static void test_versions(void **state) {
    (void)state;
    tmpdb t;
    tmpdb_make(&t);
    mw_store *s = open_ok(t.path, NULL);
    OK(mw_store_put_version(s, "fraud", "3", "{\"v\":3}", 100, err));
    OK(mw_store_put_version(s, "fraud", "10", "{\"v\":10}", 200, err));
    OK(mw_store_put_version(s, "alpha", "1", "{}", 300, err));
    OK(mw_store_put_baseline(s, "fraud", "3", "base3", 5, 150, err));
    /* Replace: new config, created kept, updated changed, baseline kept. */
    OK(mw_store_put_version(s, "fraud", "3", "{\"v\":\"3b\"}", 400, err));

    mw_store_version *v = NULL;
    size_t n = 0;
    OK(mw_store_list_versions(s, &v, &n, err));
    assert_int_equal(n, 3);
    assert_string_equal(v[0].model, "alpha");
    assert_string_equal(v[1].model, "fraud");
    assert_string_equal(v[1].version, "10"); /* bytewise: "10" < "3" */
    assert_string_equal(v[2].version, "3");
    assert_string_equal(v[2].config_json, "{\"v\":\"3b\"}");
    assert_int_equal(v[2].created_ms, 100);
    assert_int_equal(v[2].updated_ms, 400);
    assert_int_equal(v[2].has_baseline, 1);
    assert_int_equal(v[1].has_baseline, 0);
    assert_int_equal(v[0].created_ms, 300);
    assert_int_equal(v[0].updated_ms, 300);
    mw_store_versions_free(v, n);

    /* Delete cascades: baseline, windows and journal of fraud/3 go; others stay. */
    OK(mw_store_journal_append(s, "fraud", "3", "j1", 2, NULL, err));
    OK(mw_store_journal_append(s, "fraud", "10", "j2", 2, NULL, err));
    OK(mw_store_window_commit(s, "fraud", "3", 0, 60, 5, "{}", -1, NULL, err));
    OK(mw_store_window_commit(s, "fraud", "10", 0, 60, 5, "{}", -1, NULL, err));
    OK(mw_store_put_baseline(s, "fraud", "10", "base10", 6, 150, err));
    OK(mw_store_delete_version(s, "fraud", "3", err));
    mw_error e;
    void *b = (void *)1;
    size_t len = 7;
    assert_int_equal(mw_store_get_baseline(s, "fraud", "3", &b, &len, &e), MW_ENOTFOUND);
    assert_null(b);
    assert_int_equal(len, 0);
    assert_int_equal(journal_rows(s, "fraud", "3"), 0);
    assert_int_equal(window_rows(s, "fraud", "3"), 0);
    assert_int_equal(journal_rows(s, "fraud", "10"), 1);
    assert_int_equal(window_rows(s, "fraud", "10"), 1);
    assert_int_equal(raw_pragma(t.path, "SELECT count(*) FROM baselines"), 1);
    OK(mw_store_get_baseline(s, "fraud", "10", &b, &len, err));
    assert_int_equal(len, 6);
    assert_memory_equal(b, "base10", 6);
    free(b);
    assert_int_equal(mw_store_delete_version(s, "fraud", "3", &e), MW_ENOTFOUND);
    assert_non_null(strstr(e.message, "fraud"));
    OK(mw_store_list_versions(s, &v, &n, err));
    assert_int_equal(n, 2);
    mw_store_versions_free(v, n);

    /* Names: empty, NULL and over 256 bytes are refused; 256 bytes is fine. */
    char name[300];
    memset(name, 'x', sizeof name);
    name[256] = '\0';
    OK(mw_store_put_version(s, name, "1", "{}", 1, err));
    name[256] = 'x';
    name[257] = '\0';
    assert_int_equal(mw_store_put_version(s, name, "1", "{}", 1, &e), MW_EINVAL);
    assert_non_null(strstr(e.message, "longer than 256"));
    assert_int_equal(mw_store_put_version(s, "m", "", "{}", 1, &e), MW_EINVAL);
    assert_int_equal(mw_store_put_version(s, NULL, "1", "{}", 1, &e), MW_EINVAL);
    assert_int_equal(mw_store_put_version(s, "m", "1", NULL, 1, &e), MW_EINVAL);
    assert_int_equal(mw_store_journal_append(s, "m", name, "x", 1, NULL, &e), MW_EINVAL);
    assert_int_equal(mw_store_put_version(NULL, "m", "1", "{}", 1, &e), MW_EINVAL);

    /* SQL metacharacters in names are plain data. */
    OK(mw_store_put_version(s, "o'brien\"; DROP TABLE versions; --", "1", "{}", 1, err));
    OK(mw_store_list_versions(s, &v, &n, err));
    assert_int_equal(n, 4);
    mw_store_versions_free(v, n);
    mw_store_close(s);
    tmpdb_remove(&t);
}

static void test_baselines(void **state) {
    (void)state;
    tmpdb t;
    tmpdb_make(&t);
    mw_store *s = open_ok(t.path, NULL);
    mw_error e;
    void *b = NULL;
    size_t len = 0;
    assert_int_equal(mw_store_put_baseline(s, "m", "1", "x", 1, 5, &e), MW_ENOTFOUND);
    assert_non_null(strstr(e.message, "not registered"));
    assert_int_equal(mw_store_get_baseline(s, "m", "1", &b, &len, &e), MW_ENOTFOUND);
    OK(mw_store_put_version(s, "m", "1", "{}", 1, err));
    assert_int_equal(mw_store_get_baseline(s, "m", "1", &b, &len, &e), MW_ENOTFOUND);
    assert_non_null(strstr(e.message, "no baseline"));

    OK(mw_store_put_baseline(s, "m", "1", "first baseline", 14, 5, err));
    OK(mw_store_get_baseline(s, "m", "1", &b, &len, err));
    assert_int_equal(len, 14);
    assert_memory_equal(b, "first baseline", 14);
    free(b);
    /* Replace with binary data containing NULs, then with an empty blob. */
    unsigned char bin[5] = {0, 1, 0, 255, 0};
    OK(mw_store_put_baseline(s, "m", "1", bin, 5, 6, err));
    OK(mw_store_get_baseline(s, "m", "1", &b, &len, err));
    assert_int_equal(len, 5);
    assert_memory_equal(b, bin, 5);
    free(b);
    OK(mw_store_put_baseline(s, "m", "1", NULL, 0, 7, err));
    OK(mw_store_get_baseline(s, "m", "1", &b, &len, err));
    assert_non_null(b);
    assert_int_equal(len, 0);
    free(b);
    assert_int_equal(mw_store_put_baseline(s, "m", "1", NULL, 3, 7, &e), MW_EINVAL);
    assert_int_equal(raw_pragma(t.path, "SELECT count(*) FROM baselines"), 1);

    /* 64 MiB round trip, surviving a reopen. */
    size_t big = (size_t)64 << 20;
    unsigned char *p = malloc(big);
    assert_non_null(p);
    for (size_t i = 0; i < big; i++)
        p[i] = (unsigned char)(i * 2654435761u >> 13);
    OK(mw_store_put_baseline(s, "m", "1", p, big, 8, err));
    mw_store_close(s);
    s = open_ok(t.path, NULL);
    OK(mw_store_get_baseline(s, "m", "1", &b, &len, err));
    assert_int_equal(len, big);
    assert_memory_equal(b, p, big);
    free(b);
    /* The same size through the journal. */
    int64_t seq = 0;
    OK(mw_store_journal_append(s, "m", "1", p, big, &seq, err));
    assert_true(seq > 0);
    rows *r = calloc(1, sizeof *r);
    OK(mw_store_journal_each(s, "m", "1", collect, r, err));
    assert_int_equal(r->n, 1);
    assert_int_equal(r->len[0], big);
    free(r);
    free(p);
    mw_store_close(s);
    tmpdb_remove(&t);
}

/* ---- journal and windows ------------------------------------------------------------------ */

static void test_journal_and_window_commit(void **state) {
    (void)state;
    tmpdb t;
    tmpdb_make(&t);
    mw_store *s = open_ok(t.path, NULL);
    int64_t a[5], b[2];
    char buf[16];
    for (int i = 0; i < 5; i++) {
        snprintf(buf, sizeof buf, "a%d", i);
        OK(mw_store_journal_append(s, "m", "A", buf, strlen(buf), &a[i], err));
        if (i < 2) {
            snprintf(buf, sizeof buf, "b%d", i);
            OK(mw_store_journal_append(s, "m", "B", buf, strlen(buf), &b[i], err));
        }
        if (i) assert_true(a[i] > a[i - 1]);
    }
    rows *r = calloc(1, sizeof *r);
    OK(mw_store_journal_each(s, "m", "A", collect, r, err));
    assert_int_equal(r->n, 5);
    for (int i = 0; i < 5; i++) {
        snprintf(buf, sizeof buf, "a%d", i);
        assert_int_equal(r->seq[i], a[i]);
        assert_string_equal(r->head[i], buf);
    }
    /* Stopping early. */
    memset(r, 0, sizeof *r);
    r->stop_after = 2;
    OK(mw_store_journal_each(s, "m", "A", collect, r, err));
    assert_int_equal(r->n, 2);

    /* Group append: one transaction, seqs in order. */
    const char *models[3] = {"m", "m", "m"}, *versions[3] = {"A", "B", "A"};
    const void *blobs[3] = {"a5", "b2", "a6"};
    size_t lens[3] = {2, 2, 2};
    int64_t seqs[3];
    OK(mw_store_journal_append_many(s, 3, models, versions, blobs, lens, seqs, err));
    assert_true(seqs[0] > a[4] && seqs[1] > seqs[0] && seqs[2] > seqs[1]);
    assert_int_equal(journal_rows(s, "m", "A"), 7);
    assert_int_equal(journal_rows(s, "m", "B"), 3);
    /* A bad entry stores none of the group. */
    versions[1] = "";
    mw_error e;
    int64_t bad[3] = {-5, -5, -5};
    assert_int_equal(mw_store_journal_append_many(s, 3, models, versions, blobs, lens, bad, &e),
                     MW_EINVAL);
    assert_true(bad[0] == 0 && bad[1] == 0 && bad[2] == 0);
    assert_int_equal(journal_rows(s, "m", "A"), 7);

    /* Close A's window over its first three rows: exactly those go, B is untouched. */
    int64_t wid = 0;
    OK(mw_store_window_commit(s, "m", "A", 0, 60, 3, "{\"w\":1}", a[2], &wid, err));
    assert_true(wid > 0);
    memset(r, 0, sizeof *r);
    OK(mw_store_journal_each(s, "m", "A", collect, r, err));
    assert_int_equal(r->n, 4);
    assert_int_equal(r->seq[0], a[3]);
    assert_int_equal(r->seq[1], a[4]);
    assert_int_equal(r->seq[2], seqs[0]);
    assert_int_equal(journal_rows(s, "m", "B"), 3);
    /* journal_upto -1 deletes nothing. */
    OK(mw_store_window_commit(s, "m", "A", 60, 120, 0, "{\"w\":2}", -1, NULL, err));
    assert_int_equal(journal_rows(s, "m", "A"), 4);
    assert_int_equal(window_rows(s, "m", "A"), 2);

    /* Atomicity: when recording what the window covered fails, the result is
     * not stored either (and the journal keeps its batches). */
    mw_store_close(s);
    raw_exec(t.path, "CREATE TRIGGER no_mark BEFORE INSERT ON journal_marks "
                     "BEGIN SELECT RAISE(ABORT, 'journal mark refused by test'); END");
    s = open_ok(t.path, NULL);
    assert_int_equal(
        mw_store_window_commit(s, "m", "A", 120, 180, 4, "{\"w\":3}", seqs[2], &wid, &e), MW_EIO);
    assert_int_equal(wid, 0);
    assert_non_null(strstr(e.message, "window_commit m/A"));
    assert_non_null(strstr(e.message, "refused by test"));
    assert_int_equal(window_rows(s, "m", "A"), 2);
    assert_int_equal(journal_rows(s, "m", "A"), 4);
    mw_store_close(s);
    raw_exec(t.path, "DROP TRIGGER no_mark");
    s = open_ok(t.path, NULL);
    OK(mw_store_window_commit(s, "m", "A", 120, 180, 4, "{\"w\":3}", seqs[2], &wid, err));
    assert_int_equal(journal_rows(s, "m", "A"), 0);
    assert_int_equal(window_rows(s, "m", "A"), 3);
    OK(mw_store_window_commit(s, "m", "B", 0, 60, 3, "{}", INT64_MAX, NULL, err));
    assert_int_equal(journal_rows(s, "m", "B"), 0);

    /* With the journal empty, seqs keep increasing (never reused), also after reopen. */
    int64_t next = 0;
    OK(mw_store_journal_append(s, "m", "A", "x", 1, &next, err));
    assert_true(next > seqs[2]);
    OK(mw_store_window_commit(s, "m", "A", 180, 240, 1, "{}", next, NULL, err));
    mw_store_close(s);
    s = open_ok(t.path, NULL);
    int64_t after = 0;
    OK(mw_store_journal_append(s, "m", "A", "y", 1, &after, err));
    assert_true(after > next);

    /* Argument checks. */
    assert_int_equal(mw_store_window_commit(s, "m", "A", 0.0 / 0.0, 1, 0, "{}", -1, NULL, &e),
                     MW_EINVAL);
    assert_int_equal(mw_store_window_commit(s, "m", "A", 0, 1, 0, NULL, -1, NULL, &e), MW_EINVAL);
    assert_int_equal(mw_store_window_commit(s, "m", "A", 0, 1, 0, "{}", -2, NULL, &e), MW_EINVAL);
    assert_int_equal(mw_store_journal_each(s, "m", "A", NULL, NULL, &e), MW_EINVAL);
    free(r);
    mw_store_close(s);
    tmpdb_remove(&t);
}

static void test_list_and_prune_windows(void **state) {
    (void)state;
    tmpdb t;
    tmpdb_make(&t);
    mw_store *s = open_ok(t.path, NULL);
    /* ends 10, 30, 20, 30: newest first is 30 (later id), 30, 20, 10. */
    double ends[4] = {10, 30, 20, 30};
    const char *json[4] = {"{\"i\":0}", "{\"i\":1}", "{\"i\":2}", "{\"i\":3}"};
    int64_t ids[4];
    for (int i = 0; i < 4; i++)
        OK(mw_store_window_commit(s, "m", "1", ends[i] - 10, ends[i], (uint64_t)i, json[i], -1,
                                  &ids[i], err));
    assert_true(ids[1] > ids[0] && ids[3] > ids[2]);
    OK(mw_store_window_commit(s, "m", "2", 0, 99, 1, "{\"other\":1}", -1, NULL, err));

    char **w = NULL;
    size_t n = 0;
    OK(mw_store_list_windows(s, "m", "1", 0, &w, &n, err));
    assert_int_equal(n, 4);
    const char *want[4] = {json[3], json[1], json[2], json[0]};
    for (size_t i = 0; i < n; i++)
        assert_string_equal(w[i], want[i]);
    for (size_t i = 0; i < n; i++)
        free(w[i]);
    free(w);
    OK(mw_store_list_windows(s, "m", "1", 2, &w, &n, err));
    assert_int_equal(n, 2);
    assert_string_equal(w[0], json[3]);
    assert_string_equal(w[1], json[1]);
    for (size_t i = 0; i < n; i++)
        free(w[i]);
    free(w);

    OK(mw_store_prune_windows(s, "m", "1", 3, err));
    OK(mw_store_list_windows(s, "m", "1", 0, &w, &n, err));
    assert_int_equal(n, 3);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(w[i], want[i]);
    for (size_t i = 0; i < n; i++)
        free(w[i]);
    free(w);
    OK(mw_store_prune_windows(s, "m", "1", 10, err));
    assert_int_equal(window_rows(s, "m", "1"), 3);
    OK(mw_store_prune_windows(s, "m", "1", 0, err));
    OK(mw_store_list_windows(s, "m", "1", 5, &w, &n, err));
    assert_int_equal(n, 0);
    assert_null(w);
    assert_int_equal(window_rows(s, "m", "2"), 1);
    mw_store_close(s);
    tmpdb_remove(&t);
}

/* Text samples: put replaces a window's examples, lists newest first or one
 * window, keeps the newest windows, and goes with the version. */
static void test_text_samples(void **state) {
    (void)state;
    tmpdb t;
    tmpdb_make(&t);
    mw_store *s = open_ok(t.path, NULL);
    char *j = NULL;
    OK(mw_store_samples_list(s, "m", "1", NAN, 0, &j, err));
    assert_string_equal(j, "[]");
    free(j);
    OK(mw_store_samples_put(s, "m", "1", 100, "{\"w\":100}", 0, err));
    OK(mw_store_samples_put(s, "m", "1", 200, "{\"w\":2}", 0, err));
    OK(mw_store_samples_put(s, "m", "1", 200, "{\"w\":200}", 0, err)); /* replaces */
    OK(mw_store_samples_put(s, "m", "2", 300, "{\"other\":1}", 0, err));
    OK(mw_store_samples_list(s, "m", "1", NAN, 0, &j, err));
    assert_string_equal(j, "[{\"w\":200},{\"w\":100}]");
    free(j);
    OK(mw_store_samples_list(s, "m", "1", 100, 0, &j, err));
    assert_string_equal(j, "[{\"w\":100}]");
    free(j);
    OK(mw_store_samples_list(s, "m", "1", NAN, 1, &j, err));
    assert_string_equal(j, "[{\"w\":200}]");
    free(j);
    OK(mw_store_samples_put(s, "m", "1", 300, "{\"w\":300}", 2, err)); /* keeps 2 windows */
    OK(mw_store_samples_list(s, "m", "1", NAN, 0, &j, err));
    assert_string_equal(j, "[{\"w\":300},{\"w\":200}]");
    free(j);
    mw_error e;
    assert_int_equal(mw_store_samples_put(s, "m", "1", NAN, "{}", 0, &e), MW_EINVAL);
    OK(mw_store_put_version(s, "m", "1", "{}", 1, err));
    OK(mw_store_delete_version(s, "m", "1", err));
    OK(mw_store_samples_list(s, "m", "1", NAN, 0, &j, err));
    assert_string_equal(j, "[]");
    free(j);
    mw_store_close(s);
    tmpdb_remove(&t);
}

static void test_state(void **state) {
    (void)state;
    tmpdb t;
    tmpdb_make(&t);
    mw_store *s = open_ok(t.path, NULL);
    mw_error e;
    void *b = NULL;
    size_t len = 0;
    assert_int_equal(mw_store_get_state(s, "window/m/1", &b, &len, &e), MW_ENOTFOUND);
    assert_non_null(strstr(e.message, "window/m/1"));
    double start = 1764382800.0;
    OK(mw_store_put_state(s, "window/m/1", &start, sizeof start, err));
    start += 60;
    OK(mw_store_put_state(s, "window/m/1", &start, sizeof start, err));
    OK(mw_store_get_state(s, "window/m/1", &b, &len, err));
    assert_int_equal(len, sizeof start);
    assert_memory_equal(b, &start, sizeof start);
    free(b);
    OK(mw_store_put_state(s, "empty", "", 0, err));
    OK(mw_store_get_state(s, "empty", &b, &len, err));
    assert_non_null(b);
    assert_int_equal(len, 0);
    free(b);
    OK(mw_store_delete_state(s, "window/m/1", err));
    assert_int_equal(mw_store_delete_state(s, "window/m/1", &e), MW_ENOTFOUND);
    assert_int_equal(mw_store_get_state(s, "window/m/1", &b, &len, &e), MW_ENOTFOUND);
    assert_int_equal(mw_store_put_state(s, "", "x", 1, &e), MW_EINVAL);
    mw_store_close(s);
    tmpdb_remove(&t);
}

/* ---- alerts ------------------------------------------------------------------------------- */

/* The history as parsed JSON (limit 0 = all). */
static json_t *history(mw_store *s, size_t limit) {
    char *text = NULL;
    OK(mw_store_alert_history(s, limit, &text, err));
    assert_non_null(text);
    json_t *h = json_loads(text, 0, NULL);
    if (!json_is_array(h)) fail_msg("history is not a JSON array: %s", text);
    free(text);
    return h;
}

static void test_alerts_commit_and_history(void **state) {
    (void)state;
    tmpdb t;
    tmpdb_make(&t);
    mw_store *s = open_ok(t.path, NULL);
    mw_error e;

    json_t *h = history(s, 0);
    assert_int_equal(json_array_size(h), 0);
    json_decref(h);

    const char *state1 = "[{\"rule\":\"Drift\",\"state\":\"firing\"}]";
    mw_store_alert_event ev[] = {
        {1000.5, "Drift", "{\"alertname\":\"Drift\",\"feature\":\"age\"}", "inactive", "pending",
         0.25},
        {1060.0, "Drift", "{\"alertname\":\"Drift\",\"feature\":\"age\"}", "pending", "firing",
         NAN},
    };
    OK(mw_store_alerts_commit(s, state1, ev, 2, 0, err));
    void *b = NULL;
    size_t len = 0;
    OK(mw_store_get_state(s, "alerts", &b, &len, err));
    assert_int_equal(len, strlen(state1));
    assert_memory_equal(b, state1, len);
    free(b);

    /* state alone (no events) replaces the state */
    const char *state2 = "[]";
    OK(mw_store_alerts_commit(s, state2, NULL, 0, 0, err));
    OK(mw_store_get_state(s, "alerts", &b, &len, err));
    assert_int_equal(len, 2);
    assert_memory_equal(b, "[]", 2);
    free(b);
    mw_store_alert_event ev3 = {1120.0,   "Lat",      "{\"alertname\":\"Lat\"}",
                                "firing", "resolved", -1.5};
    OK(mw_store_alerts_commit(s, state2, &ev3, 1, 0, err));

    /* newest first */
    h = history(s, 0);
    assert_int_equal(json_array_size(h), 3);
    json_t *r0 = json_array_get(h, 0), *r1 = json_array_get(h, 1), *r2 = json_array_get(h, 2);
    assert_true(json_number_value(json_object_get(r0, "at")) == 1120.0);
    assert_string_equal(json_string_value(json_object_get(r0, "rule")), "Lat");
    assert_string_equal(json_string_value(json_object_get(r0, "from")), "firing");
    assert_string_equal(json_string_value(json_object_get(r0, "to")), "resolved");
    assert_true(json_number_value(json_object_get(r0, "value")) == -1.5);
    assert_true(json_number_value(json_object_get(r1, "at")) == 1060.0);
    assert_string_equal(json_string_value(json_object_get(r1, "to")), "firing");
    assert_true(json_is_null(json_object_get(r1, "value"))); /* NaN */
    json_t *lab = json_object_get(r1, "labels");
    assert_true(json_is_object(lab));
    assert_int_equal(json_object_size(lab), 2);
    assert_string_equal(json_string_value(json_object_get(lab, "feature")), "age");
    assert_true(json_number_value(json_object_get(r2, "at")) == 1000.5);
    assert_string_equal(json_string_value(json_object_get(r2, "from")), "inactive");
    assert_true(json_number_value(json_object_get(r2, "value")) == 0.25);
    json_decref(h);

    /* limit */
    h = history(s, 2);
    assert_int_equal(json_array_size(h), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(h, 0), "rule")), "Lat");
    assert_true(json_number_value(json_object_get(json_array_get(h, 1), "at")) == 1060.0);
    json_decref(h);

    /* bad arguments change nothing */
    mw_store_alert_event badev = {1, NULL, "{}", "a", "b", 0};
    assert_int_equal(mw_store_alerts_commit(s, "[1]", &badev, 1, 0, &e), MW_EINVAL);
    assert_int_equal(mw_store_alerts_commit(s, NULL, NULL, 0, 0, &e), MW_EINVAL);
    assert_int_equal(mw_store_alerts_commit(s, "[1]", NULL, 1, 0, &e), MW_EINVAL);
    OK(mw_store_get_state(s, "alerts", &b, &len, err));
    assert_int_equal(len, 2);
    free(b);
    h = history(s, 0);
    assert_int_equal(json_array_size(h), 3);
    json_decref(h);

    /* it all survives a reopen */
    mw_store_close(s);
    s = open_ok(t.path, NULL);
    h = history(s, 0);
    assert_int_equal(json_array_size(h), 3);
    json_decref(h);
    mw_store_close(s);
    tmpdb_remove(&t);
}

static void test_alerts_keep(void **state) {
    (void)state;
    tmpdb t;
    tmpdb_make(&t);
    mw_store *s = open_ok(t.path, NULL);
    char labels[64];
    snprintf(labels, sizeof labels, "{\"alertname\":\"A\"}");
    for (int i = 0; i < 10; i++) {
        mw_store_alert_event ev[2] = {{i * 10.0, "A", labels, "inactive", "firing", i},
                                      {i * 10.0 + 5, "A", labels, "firing", "resolved", i}};
        OK(mw_store_alerts_commit(s, "[]", ev, 2, 5, err));
        json_t *h = history(s, 0);
        assert_int_equal(json_array_size(h), (size_t)(2 * (i + 1) < 5 ? 2 * (i + 1) : 5));
        json_decref(h);
    }
    /* the newest five: 95, 90, 85, 80, 75 */
    json_t *h = history(s, 0);
    for (size_t i = 0; i < 5; i++)
        assert_true(json_number_value(json_object_get(json_array_get(h, i), "at")) ==
                    95.0 - 5.0 * (double)i);
    json_decref(h);
    /* keep 0 keeps all; a commit without events prunes nothing */
    mw_store_alert_event one = {100, "A", labels, "inactive", "firing", 1};
    OK(mw_store_alerts_commit(s, "[]", &one, 1, 0, err));
    OK(mw_store_alerts_commit(s, "[]", NULL, 0, 1, err));
    h = history(s, 0);
    assert_int_equal(json_array_size(h), 6);
    json_decref(h);
    OK(mw_store_alerts_commit(s, "[]", &one, 1, 1, err));
    h = history(s, 0);
    assert_int_equal(json_array_size(h), 1);
    json_decref(h);
    mw_store_close(s);
    tmpdb_remove(&t);
}

/* A database as schema version 1 left it: the alert tables arrive with version 2. */
static void test_migrate_v1_to_current(void **state) {
    (void)state;
    tmpdb t;
    tmpdb_make(&t);
    raw_exec(t.path,
             "BEGIN;"
             "CREATE TABLE versions (id INTEGER PRIMARY KEY, model TEXT NOT NULL,"
             "  version TEXT NOT NULL, config_json TEXT NOT NULL, created_ms INTEGER NOT NULL,"
             "  updated_ms INTEGER NOT NULL, UNIQUE (model, version));"
             "CREATE TABLE baselines (version_id INTEGER PRIMARY KEY REFERENCES versions(id)"
             "  ON DELETE CASCADE, data BLOB NOT NULL, updated_ms INTEGER NOT NULL);"
             "CREATE TABLE journal (seq INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL,"
             "  version TEXT NOT NULL, data BLOB NOT NULL);"
             "CREATE INDEX journal_by_version ON journal(model, version);"
             "CREATE TABLE windows (id INTEGER PRIMARY KEY AUTOINCREMENT, model TEXT NOT NULL,"
             "  version TEXT NOT NULL, start_s REAL NOT NULL, end_s REAL NOT NULL,"
             "  records INTEGER NOT NULL, result_json TEXT NOT NULL);"
             "CREATE INDEX windows_by_version ON windows(model, version, end_s, id);"
             "CREATE TABLE state (key TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;"
             "INSERT INTO versions(model, version, config_json, created_ms, updated_ms)"
             "  VALUES('fraud', '3', '{\"a\":1}', 5, 5);"
             "INSERT INTO state(key, data) VALUES('window/fraud/3', 'x');"
             "PRAGMA application_id = 1297576820;"
             "PRAGMA user_version = 1;"
             "COMMIT;");
    assert_int_equal(raw_pragma(t.path, "PRAGMA user_version"), 1);
    assert_int_equal(
        raw_pragma(t.path, "SELECT count(*) FROM sqlite_schema WHERE name = 'alert_history'"), 0);

    mw_store *s = open_ok(t.path, NULL);
    assert_int_equal(MW_STORE_SCHEMA_VERSION, 9);
    /* the old data is still there, the new table works */
    mw_store_version *v = NULL;
    size_t n = 0;
    OK(mw_store_list_versions(s, &v, &n, err));
    assert_int_equal(n, 1);
    assert_string_equal(v[0].model, "fraud");
    mw_store_versions_free(v, n);
    void *b = NULL;
    size_t len = 0;
    OK(mw_store_get_state(s, "window/fraud/3", &b, &len, err));
    assert_int_equal(len, 1);
    free(b);
    mw_store_alert_event ev = {1, "A", "{\"alertname\":\"A\"}", "inactive", "firing", 1};
    OK(mw_store_alerts_commit(s, "[]", &ev, 1, 0, err));
    json_t *h = history(s, 0);
    assert_int_equal(json_array_size(h), 1);
    json_decref(h);
    mw_store_close(s);
    assert_int_equal(raw_pragma(t.path, "PRAGMA user_version"), 9);
    assert_int_equal(
        raw_pragma(t.path, "SELECT count(*) FROM sqlite_schema WHERE name = 'journal_marks'"), 1);
    assert_int_equal(
        raw_pragma(t.path, "SELECT count(*) FROM sqlite_schema WHERE name = 'text_samples'"), 1);
    assert_int_equal(
        raw_pragma(t.path, "SELECT count(*) FROM sqlite_schema WHERE name = 'alert_history'"), 1);
    assert_int_equal(
        raw_pragma(t.path, "SELECT count(*) FROM sqlite_schema WHERE name = 'canary_results'"), 1);
    assert_int_equal(
        raw_pragma(t.path, "SELECT count(*) FROM sqlite_schema WHERE name = 'probe_runs'"), 1);
    assert_int_equal(raw_pragma(t.path, "SELECT count(*) FROM sqlite_schema WHERE name LIKE "
                                        "'registry_%' AND type = 'table'"),
                     4);
    assert_int_equal(raw_pragma(t.path, "SELECT count(*) FROM sqlite_schema WHERE name IN "
                                        "('window_predictions', 'label_journal')"),
                     2);
    tmpdb_remove(&t);
}

/* ---- kill -9 durability ---------------------------------------------------------------------- */

typedef struct ack {
    int64_t seq;
    uint64_t index;
} ack;

/* The writer: appends forever, reporting each acknowledged (seq, index). */
static void writer_child(const char *path, int fd) {
    mw_store *s = NULL;
    if (mw_store_open(path, NULL, &s, NULL) != MW_OK) _exit(2);
    unsigned char *buf = malloc(65536 + 8);
    if (!buf) _exit(3);
    for (uint64_t i = 0;; i++) {
        size_t len = blob_len(i);
        blob_fill(buf, i, len);
        int64_t seq = 0;
        if (mw_store_journal_append(s, "fraud", "3", buf, len, &seq, NULL) != MW_OK) _exit(4);
        ack a = {seq, i};
        if (write(fd, &a, sizeof a) != (ssize_t)sizeof a) _exit(5);
    }
}

typedef struct seen {
    int64_t *seq;
    uint64_t *index;
    size_t n, cap;
    int bad;
} seen;

static int record_row(int64_t seq, const void *blob, size_t len, void *ctx) {
    seen *sn = ctx;
    uint64_t i = 0;
    if (!blob_check(blob, len, &i)) sn->bad++;
    if (sn->n == sn->cap) {
        sn->cap = sn->cap ? 2 * sn->cap : 1024;
        sn->seq = realloc(sn->seq, sn->cap * sizeof *sn->seq);
        sn->index = realloc(sn->index, sn->cap * sizeof *sn->index);
        assert_non_null(sn->seq);
        assert_non_null(sn->index);
    }
    sn->seq[sn->n] = seq;
    sn->index[sn->n] = i;
    sn->n++;
    return 0;
}

static void test_kill9_durability(void **state) {
    (void)state;
    tmpdb t;
    tmpdb_make(&t);
    for (int round = 0; round < 3; round++) {
        int fds[2];
        assert_int_equal(pipe(fds), 0);
        fflush(NULL);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            writer_child(t.path, fds[1]);
            _exit(0);
        }
        close(fds[1]);
        /* Read some acknowledgements, kill the writer mid-stream, then drain the
         * pipe: everything it acknowledged before dying counts. */
        size_t cap = 1 << 16, n = 0, want = 200 + 150 * (size_t)round;
        ack *acks = malloc(cap * sizeof *acks);
        assert_non_null(acks);
        int killed = 0;
        for (;;) {
            ssize_t got = read(fds[0], &acks[n], sizeof *acks);
            if (got == 0) break;
            if (got < 0 && errno == EINTR) continue;
            assert_int_equal(got, (ssize_t)sizeof *acks);
            n++;
            assert_true(n < cap);
            if (!killed && n >= want) {
                /* Let the writer run ahead of the reader (up to the pipe's
                 * capacity) so that unread acknowledgements are in flight. */
                struct timespec pause = {0, 10000000L * round};
                nanosleep(&pause, NULL);
                assert_int_equal(kill(pid, SIGKILL), 0);
                killed = 1;
            }
        }
        close(fds[0]);
        int status = 0;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        assert_true(n >= want);

        /* Reopen: every acknowledged seq is there with its exact content. */
        mw_store *s = open_ok(t.path, NULL);
        seen sn = {0};
        OK(mw_store_journal_each(s, "fraud", "3", record_row, &sn, err));
        assert_int_equal(sn.bad, 0);
        assert_true(sn.n >= n);
        size_t j = 0;
        for (size_t i = 0; i < n; i++) {
            while (j < sn.n && sn.seq[j] < acks[i].seq)
                j++;
            if (j == sn.n || sn.seq[j] != acks[i].seq)
                fail_msg("round %d: acknowledged seq %lld lost after kill -9", round,
                         (long long)acks[i].seq);
            assert_int_equal(sn.index[j], acks[i].index);
        }
        printf("kill -9 round %d: %zu acknowledged appends, %zu rows after restart, all "
               "present\n",
               round, n, sn.n);
        /* Next round starts from an empty journal. */
        OK(mw_store_window_commit(s, "fraud", "3", 0, 1, sn.n, "{}", sn.seq[sn.n - 1], NULL, err));
        mw_store_close(s);
        free(sn.seq);
        free(sn.index);
        free(acks);
    }
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(t.path, &db), SQLITE_OK);
    sqlite3_stmt *q = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    sqlite3_close(db);
    tmpdb_remove(&t);
}

/* ---- concurrency ----------------------------------------------------------------------------- */

#define NTHREADS 8
#define PER_THREAD 250

typedef struct worker {
    mw_store *s;
    int id;
    int64_t seqs[PER_THREAD];
    int failed;
} worker;

static void *append_worker(void *arg) {
    worker *w = arg;
    char version[16], blob[64];
    snprintf(version, sizeof version, "t%d", w->id % 3);
    for (int i = 0; i < PER_THREAD;) {
        if (i % 10 == 0 && i + 5 <= PER_THREAD) {
            const char *m[5], *v[5];
            const void *b[5];
            size_t l[5];
            char bufs[5][64];
            for (int k = 0; k < 5; k++) {
                snprintf(bufs[k], sizeof bufs[k], "thread %d row %d", w->id, i + k);
                m[k] = "m";
                v[k] = version;
                b[k] = bufs[k];
                l[k] = strlen(bufs[k]);
            }
            if (mw_store_journal_append_many(w->s, 5, m, v, b, l, &w->seqs[i], NULL) != MW_OK)
                w->failed++;
            i += 5;
        } else {
            snprintf(blob, sizeof blob, "thread %d row %d", w->id, i);
            if (mw_store_journal_append(w->s, "m", version, blob, strlen(blob), &w->seqs[i],
                                        NULL) != MW_OK)
                w->failed++;
            i++;
        }
    }
    return NULL;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void test_concurrent_appends(void **state) {
    (void)state;
    tmpdb t;
    tmpdb_make(&t);
    mw_store *s = open_ok(t.path, NULL);
    worker *w = calloc(NTHREADS, sizeof *w);
    pthread_t th[NTHREADS];
    for (int i = 0; i < NTHREADS; i++) {
        w[i].s = s;
        w[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, append_worker, &w[i]), 0);
    }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(th[i], NULL);
    int64_t *all = malloc(NTHREADS * PER_THREAD * sizeof *all);
    for (int i = 0; i < NTHREADS; i++) {
        assert_int_equal(w[i].failed, 0);
        for (int k = 0; k < PER_THREAD; k++) {
            if (k) assert_true(w[i].seqs[k] > w[i].seqs[k - 1]);
            all[i * PER_THREAD + k] = w[i].seqs[k];
        }
    }
    qsort(all, NTHREADS * PER_THREAD, sizeof *all, cmp_i64);
    for (int i = 1; i < NTHREADS * PER_THREAD; i++)
        assert_true(all[i] > all[i - 1]);
    size_t total =
        journal_rows(s, "m", "t0") + journal_rows(s, "m", "t1") + journal_rows(s, "m", "t2");
    assert_int_equal(total, NTHREADS * PER_THREAD);
    /* Rows of thread 0 (version t0) come back with their content, in seq order. */
    rows *r = calloc(1, sizeof *r);
    OK(mw_store_journal_each(s, "m", "t0", collect, r, err));
    assert_int_equal(r->n, journal_rows(s, "m", "t0"));
    for (size_t i = 1; i < r->n; i++)
        assert_true(r->seq[i] > r->seq[i - 1]);
    assert_memory_equal(r->head[0], "thread ", 7);
    free(r);
    free(all);
    free(w);
    mw_store_close(s);
    tmpdb_remove(&t);
}

/* ---- append rate (printed, not asserted) -------------------------------------------------------
 */

static double append_rate(const char *path, int full, size_t group, size_t count, size_t size) {
    mw_store_options opt = {.synchronous_full = full};
    mw_store *s = open_ok(path, &opt);
    unsigned char *blob = malloc(size);
    assert_non_null(blob);
    for (size_t i = 0; i < size; i++)
        blob[i] = (unsigned char)(i * 37);
    const char *m[16], *v[16];
    const void *b[16];
    size_t l[16];
    for (size_t k = 0; k < 16; k++) {
        m[k] = "fraud";
        v[k] = "3";
        b[k] = blob;
        l[k] = size;
    }
    double t0 = now_s();
    for (size_t i = 0; i < count; i += group) {
        size_t g = count - i < group ? count - i : group;
        if (g == 1)
            OK(mw_store_journal_append(s, "fraud", "3", blob, size, NULL, err));
        else
            OK(mw_store_journal_append_many(s, g, m, v, b, l, NULL, err));
    }
    double dt = now_s() - t0;
    assert_int_equal(journal_rows(s, "fraud", "3"), count);
    mw_store_close(s);
    free(blob);
    return (double)count / dt;
}

static void test_append_rate(void **state) {
    (void)state;
    const size_t count = 1000, size = 50 * 1000;
    for (int full = 0; full <= 1; full++) {
        for (size_t group = 1; group <= 16; group += 15) {
            tmpdb t;
            tmpdb_make(&t);
            double rate = append_rate(t.path, full, group, count, size);
            printf("store append rate: %zu blobs of 50 KB, synchronous=%s, %2zu per transaction: "
                   "%8.0f appends/s (%6.1f MB/s)\n",
                   count, full ? "FULL  " : "NORMAL", group, rate, rate * (double)size / 1e6);
            tmpdb_remove(&t);
        }
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_migrate_reopen),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_baselines),
        cmocka_unit_test(test_journal_and_window_commit),
        cmocka_unit_test(test_list_and_prune_windows),
        cmocka_unit_test(test_state),
        cmocka_unit_test(test_alerts_commit_and_history),
        cmocka_unit_test(test_alerts_keep),
        cmocka_unit_test(test_migrate_v1_to_current),
        cmocka_unit_test(test_text_samples),
        cmocka_unit_test(test_kill9_durability),
        cmocka_unit_test(test_concurrent_appends),
        cmocka_unit_test(test_append_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
