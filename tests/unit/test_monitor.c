/*
 * The monitor with an injected clock: tumbling windows by record time and by
 * arrival time, late and future records, the record cap, closing on time
 * (tick), unknown versions and missing baselines, configuration errors, and a
 * reopened database replaying the open window's journal (binary records give
 * the result a run without restart gives, rows of NDJSON from older builds
 * still replay, a corrupt binary row is an error).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "modelwatch/monitor.h"
#include "modelwatch/store.h"

static int64_t fake_now_ms;
static int64_t clock_fn(void *ctx) {
    (void)ctx;
    return fake_now_ms;
}

static const char reference_csv[] = "x,c\n1,a\n2,b\n3,a\n4,b\n5,a\n6,b\n7,a\n8,b\n";

static mw_monitor *open_monitor(const char *db) {
    mw_monitor_options o = {.db_path = db, .now_ms = clock_fn, .seed = 1};
    mw_monitor *m;
    mw_error err;
    assert_int_equal(mw_monitor_open(&o, &m, &err), MW_OK);
    return m;
}

static void setup_version(mw_monitor *m, const char *config) {
    mw_error err;
    assert_int_equal(mw_monitor_register(m, "m", "1", config, &err), MW_OK);
    mw_read_options ro = {0};
    mw_table *t;
    assert_int_equal(mw_table_read_mem("ref", reference_csv, strlen(reference_csv), &ro, &t, &err), MW_OK);
    assert_int_equal(mw_monitor_set_reference(m, "m", "1", t, &err), MW_OK);
    mw_table_free(t);
}

static mw_status observe(mw_monitor *m, double ts, double x, const char *c) {
    mw_feature f[2] = {{"x", 1, MW_VALUE_NUMBER, x, NULL, 0}, {"c", 1, MW_VALUE_STRING, 0, c, strlen(c)}};
    mw_record r = {.model = "m", .model_len = 1, .version = "1", .version_len = 1, .ts = ts,
                   .features = f, .nfeatures = 2, .latency_ms = NAN};
    mw_error err;
    return mw_monitor_observe(m, &r, &err);
}

typedef struct seen {
    uint64_t records, late, rejected_ts, rejected_nobase;
    int has_last, window_open;
    double last_start, last_end, window_start;
    uint64_t last_records, window_records;
} seen;

static void collect(const mw_version_status *s, void *ctx) {
    seen *o = ctx;
    o->records = s->records_total;
    o->late = s->late_total;
    o->rejected_ts = s->rejected_total[MW_REJECT_TIMESTAMP];
    o->rejected_nobase = s->rejected_total[MW_REJECT_NO_BASELINE];
    o->has_last = s->has_last;
    o->last_start = s->last_start;
    o->last_end = s->last_end;
    o->last_records = s->last_records;
    o->window_open = s->window_open;
    o->window_start = s->window_start;
    o->window_records = s->window_records;
}

static seen status(mw_monitor *m) {
    seen s = {0};
    mw_monitor_each_version(m, collect, &s);
    return s;
}

static void test_windows_by_record_time(void **state) {
    (void)state;
    fake_now_ms = 1000000;
    mw_monitor *m = open_monitor(NULL);
    setup_version(m, "{\"window_seconds\": 60}");
    assert_int_equal(observe(m, 100, 1, "a"), MW_OK); /* window [60, 120) */
    assert_int_equal(observe(m, 119.9, 2, "b"), MW_OK);
    seen s = status(m);
    assert_true(s.window_open && s.window_start == 60 && s.window_records == 2);
    assert_int_equal(observe(m, 150, 3, "a"), MW_OK); /* closes [60, 120), opens [120, 180) */
    s = status(m);
    assert_true(s.has_last && s.last_start == 60 && s.last_end == 120 && s.last_records == 2);
    assert_true(s.window_start == 120 && s.window_records == 1);
    assert_int_equal(observe(m, 30, 4, "b"), MW_OK); /* late: into the open window */
    s = status(m);
    assert_int_equal(s.late, 1);
    assert_int_equal(s.window_records, 2);
    /* more than an hour ahead of the clock: rejected */
    assert_int_equal(observe(m, 1000 + 3601, 1, "a"), MW_EINVAL);
    assert_int_equal(status(m).rejected_ts, 1);
    assert_int_equal(status(m).records, 4);
    mw_monitor_close(m);
}

static void test_arrival_time_cap_and_tick(void **state) {
    (void)state;
    fake_now_ms = 10000; /* 10 s */
    mw_monitor *m = open_monitor(NULL);
    setup_version(m, "{\"window_seconds\": 5, \"window_max_records\": 3}");
    for (int i = 0; i < 3; i++) assert_int_equal(observe(m, NAN, i, "a"), MW_OK);
    seen s = status(m);
    assert_true(s.has_last && s.last_records == 3 && !s.window_open); /* closed at the cap */
    assert_int_equal(observe(m, NAN, 9, "z"), MW_OK);                 /* unseen category */
    assert_int_equal(mw_monitor_tick(m), 0);
    fake_now_ms = 15000; /* the window [10, 15) is over */
    assert_int_equal(mw_monitor_tick(m), 1);
    s = status(m);
    assert_true(s.last_start == 10 && s.last_records == 1 && !s.window_open);
    mw_error err;
    char *json;
    assert_int_equal(mw_monitor_close_window(m, "m", "1", &json, &err), MW_OK);
    assert_null(json); /* nothing open */
    assert_int_equal(mw_monitor_close_window(m, "m", "2", &json, &err), MW_ENOTFOUND);
    assert_non_null(strstr(err.message, "PUT /api/v1/models/m/versions/2"));
    mw_monitor_close(m);
}

static void test_registration_errors(void **state) {
    (void)state;
    mw_monitor *m = open_monitor(NULL);
    mw_error err;
    assert_int_equal(mw_monitor_register(m, "m", "1", "{\"window_secnds\": 5}", &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "window_secnds"));
    assert_int_equal(mw_monitor_register(m, "m", "1", "{\"tests\": [\"ks\", \"nope\"]}", &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "nope"));
    assert_int_equal(mw_monitor_register(m, "m", "1", "{\"window_seconds\": 0}", &err), MW_EINVAL);
    assert_int_equal(mw_monitor_register(m, "m", "1", "{not json", &err), MW_EPARSE);
    assert_int_equal(mw_monitor_register(m, "bad name", "1", NULL, &err), MW_EINVAL);
    assert_int_equal(mw_monitor_register(m, "m", "1", NULL, &err), MW_OK);
    assert_int_equal(observe(m, NAN, 1, "a"), MW_EINVAL); /* no reference yet */
    assert_int_equal(status(m).rejected_nobase, 1);
    mw_feature f = {"x", 1, MW_VALUE_NUMBER, 1, NULL, 0};
    mw_record r = {.model = "zz", .model_len = 2, .version = "1", .version_len = 1, .ts = NAN,
                   .features = &f, .nfeatures = 1};
    assert_int_equal(mw_monitor_observe(m, &r, &err), MW_ENOTFOUND);
    assert_int_equal(mw_monitor_rejected_unknown(m), 1);
    mw_monitor_close(m);
}

static void test_journal_replay(void **state) {
    (void)state;
    char dir[] = "/tmp/mw-monitor-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char db[64];
    snprintf(db, sizeof db, "%s/m.db", dir);
    fake_now_ms = 1000000;
    mw_monitor *m = open_monitor(db);
    setup_version(m, "{\"window_seconds\": 600}");
    const char body[] = "{\"model\":\"m\",\"version\":\"1\",\"ts\":1000,\"features\":{\"x\":1,\"c\":\"a\"}}\n"
                        "{\"model\":\"m\",\"version\":\"1\",\"ts\":1001,\"features\":{\"x\":2,\"c\":\"b\"}}\n"
                        "not json\n"
                        "{\"model\":\"m\",\"version\":\"1\",\"features\":{\"x\":3,\"c\":\"a\"}}\n";
    mw_ingest_result res;
    mw_error err;
    assert_int_equal(mw_monitor_ingest(m, body, strlen(body), &res, &err), MW_OK);
    assert_int_equal(res.accepted, 3);
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.errors[0].line, 3);
    assert_int_equal(mw_monitor_rejected_invalid(m), 1);
    mw_monitor_close(m); /* no window closed: everything is in the journal */

    m = open_monitor(db);
    seen s = status(m);
    assert_true(s.window_open && s.window_records == 3 && s.window_start == 600);
    char *json;
    assert_int_equal(mw_monitor_close_window(m, "m", "1", &json, &err), MW_OK);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"records\":3"));
    free(json);
    mw_monitor_close(m);

    m = open_monitor(db); /* the closed window's journal is gone; its result stays */
    s = status(m);
    assert_false(s.window_open);
    char **rows;
    size_t n;
    assert_int_equal(mw_monitor_windows(m, "m", "1", 10, &rows, &n, &err), MW_OK);
    assert_int_equal(n, 1);
    free(rows[0]);
    free(rows);
    mw_monitor_close(m);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* Records with every field the journal keeps: ids, string and number
 * predictions, scores, latency, errors, LLM fields, a duplicate id. */
static const char rich_body[] =
    "{\"model\":\"m\",\"version\":\"1\",\"id\":\"a\",\"ts\":1000,\"features\":{\"x\":1,\"c\":\"a\"},"
    "\"prediction\":\"yes\",\"scores\":{\"no\":0.25,\"yes\":0.75},\"latency_ms\":4.5}\n"
    "{\"model\":\"m\",\"version\":\"1\",\"id\":\"b\",\"ts\":1001,\"features\":{\"x\":2.5,\"c\":\"b\","
    "\"extra\":true},\"prediction\":\"no\",\"scores\":{\"no\":0.6,\"yes\":0.4},\"error\":\"boom\"}\n"
    "{\"model\":\"m\",\"version\":\"1\",\"id\":\"a\",\"features\":{\"x\":null,\"c\":\"z\"},"
    "\"llm\":{\"input_tokens\":10,\"output_tokens\":3,\"ttft_ms\":40,\"finish_reason\":\"stop\"}}\n"
    "{\"model\":\"m\",\"version\":\"1\",\"ts\":1002.5,\"features\":{\"c\":\"a\",\"x\":7e-3},"
    "\"prediction\":\"yes\",\"latency_ms\":9}\n";

static char *tmpdb(char *dir, char *db, size_t dbsz) {
    assert_non_null(mkdtemp(dir));
    snprintf(db, dbsz, "%s/m.db", dir);
    return db;
}

static void rm_dir(const char *dir) {
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

/* The open window's result after ingesting body, with a restart in between
 * (restart 1: replayed from the journal) or without. */
static char *result_of(const char *body, int restart) {
    char dir[] = "/tmp/mw-monitor-XXXXXX", db[64];
    tmpdb(dir, db, sizeof db);
    fake_now_ms = 1000000;
    mw_monitor *m = open_monitor(db);
    setup_version(m, "{\"window_seconds\": 600}");
    mw_ingest_result res;
    mw_error err;
    assert_int_equal(mw_monitor_ingest(m, body, strlen(body), &res, &err), MW_OK);
    assert_int_equal(res.rejected, 0);
    if (restart) {
        mw_monitor_close(m);
        m = open_monitor(db);
    }
    char *json;
    assert_int_equal(mw_monitor_close_window(m, "m", "1", &json, &err), MW_OK);
    mw_monitor_close(m);
    rm_dir(dir);
    return json;
}

static void test_journal_binary_same_result(void **state) {
    (void)state;
    char *direct = result_of(rich_body, 0), *replayed = result_of(rich_body, 1);
    assert_non_null(strstr(direct, "\"records\":4"));
    assert_string_equal(direct, replayed);
    free(direct);
    free(replayed);
}

/* A journal row as builds before schema 8 wrote it: arrival time + NDJSON. */
static void test_journal_ndjson_row(void **state) {
    (void)state;
    char dir[] = "/tmp/mw-monitor-XXXXXX", db[64];
    tmpdb(dir, db, sizeof db);
    fake_now_ms = 1000000;
    mw_monitor *m = open_monitor(db);
    setup_version(m, "{\"window_seconds\": 600}");
    mw_monitor_close(m);
    mw_store *s;
    mw_error err;
    assert_int_equal(mw_store_open(db, NULL, &s, &err), MW_OK);
    size_t bl = strlen(rich_body);
    unsigned char *row = malloc(8 + bl);
    uint64_t arrival = 1000000;
    for (int i = 0; i < 8; i++)
        row[i] = (unsigned char)(arrival >> (8 * i));
    memcpy(row + 8, rich_body, bl);
    int64_t seq;
    assert_int_equal(mw_store_journal_append(s, "m", "1", row, 8 + bl, &seq, &err), MW_OK);
    mw_store_close(s);
    m = open_monitor(db);
    char *json;
    assert_int_equal(mw_monitor_close_window(m, "m", "1", &json, &err), MW_OK);
    char *direct = result_of(rich_body, 0);
    assert_string_equal(json, direct);
    free(json);
    free(direct);
    mw_monitor_close(m);
    /* a row with the binary marker and an unknown format: opening fails */
    assert_int_equal(mw_store_open(db, NULL, &s, &err), MW_OK);
    row[8] = 0;
    row[9] = 99;
    assert_int_equal(mw_store_journal_append(s, "m", "1", row, 10, &seq, &err), MW_OK);
    mw_store_close(s);
    free(row);
    mw_monitor_options o = {.db_path = db, .now_ms = clock_fn, .seed = 1};
    assert_int_equal(mw_monitor_open(&o, &m, &err), MW_ECORRUPT);
    assert_non_null(strstr(err.message, "unknown record format 99"));
    rm_dir(dir);
}

typedef struct per_version {
    uint64_t records[2];
    uint64_t rejected_nobase[2];
} per_version;

static void collect_two(const mw_version_status *s, void *ctx) {
    per_version *o = ctx;
    int k = s->version[0] == '1' ? 0 : 1;
    o->records[k] = s->records_total;
    o->rejected_nobase[k] = s->rejected_total[MW_REJECT_NO_BASELINE];
}

static void test_body_with_several_versions(void **state) {
    (void)state;
    fake_now_ms = 1000000;
    mw_monitor *m = open_monitor(NULL);
    setup_version(m, "{\"window_seconds\": 600}");
    mw_error err;
    assert_int_equal(mw_monitor_register(m, "m", "2", NULL, &err), MW_OK);
    const char body[] =
        "{\"model\":\"m\",\"version\":\"2\",\"features\":{\"x\":1}}\n"  /* no reference: rejected */
        "{\"model\":\"m\",\"version\":\"1\",\"features\":{\"x\":1,\"c\":\"a\"}}\n"
        "{\"model\":\"m\",\"version\":\"1\",\"features\":{\"x\":2,\"c\":\"a\"}}\n";
    mw_ingest_result res;
    assert_int_equal(mw_monitor_ingest(m, body, strlen(body), &res, &err), MW_OK);
    assert_int_equal(res.accepted, 2);
    assert_int_equal(res.rejected, 1);
    assert_int_equal(res.errors[0].line, 1);
    /* now version 2 has a reference too: both versions in one body */
    mw_read_options ro = {0};
    mw_table *t;
    assert_int_equal(mw_table_read_mem("ref", reference_csv, strlen(reference_csv), &ro, &t, &err), MW_OK);
    assert_int_equal(mw_monitor_set_reference(m, "m", "2", t, &err), MW_OK);
    mw_table_free(t);
    assert_int_equal(mw_monitor_ingest(m, body, strlen(body), &res, &err), MW_OK);
    assert_int_equal(res.accepted, 3);
    assert_int_equal(res.rejected, 0);
    /* escaped strings (unescaped by the parser outside the body) count as their text */
    const char esc[] = "{\"model\":\"m\",\"version\":\"2\",\"features\":{\"x\":1,\"\\u0063\":\"\\u0061\"}}\n"
                       "{\"model\":\"m\",\"version\":\"2\",\"features\":{\"x\":2,\"c\":\"b\\u0062\"}}\n";
    assert_int_equal(mw_monitor_ingest(m, esc, strlen(esc), &res, &err), MW_OK);
    assert_int_equal(res.accepted, 2);
    char *json;
    assert_int_equal(mw_monitor_close_window(m, "m", "2", &json, &err), MW_OK);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"unseen_examples\":[\"bb\"]")); /* "a" was seen, "bb" was not */
    free(json);
    per_version pv = {{0, 0}, {0, 0}};
    mw_monitor_each_version(m, collect_two, &pv);
    assert_int_equal(pv.records[0], 4);
    assert_int_equal(pv.records[1], 3);
    assert_int_equal(pv.rejected_nobase[1], 1);
    mw_monitor_close(m);
}

/* The window JSON after one monitor observed category k of "c" k + 1 times
 * (12 reference categories and an unseen one), in blocks (order 0) or
 * interleaved (order 1, which keeps evicting the column's recent
 * categories, window.c observe_text). */
static char *categories_window(int order) {
    static const char ref[] =
        "x,c\n1,a\n2,b\n3,c\n4,d\n5,e\n6,f\n7,g\n8,h\n9,i\n10,j\n11,k\n12,l\n";
    mw_monitor *m = open_monitor(NULL);
    mw_error err;
    assert_int_equal(mw_monitor_register(m, "m", "1", "{\"window_seconds\": 600}", &err), MW_OK);
    mw_read_options ro = {0};
    mw_table *t;
    assert_int_equal(mw_table_read_mem("ref", ref, strlen(ref), &ro, &t, &err), MW_OK);
    assert_int_equal(mw_monitor_set_reference(m, "m", "1", t, &err), MW_OK);
    mw_table_free(t);
    static const char *const cats[] = {"a", "b", "c", "d", "e", "f", "g",
                                       "h", "i", "j", "k", "l", "zz"};
    int left[13];
    for (int k = 0; k < 13; k++)
        left[k] = k + 1;
    for (int done = 0, step = 0; done < 91; step++) {
        int k = order ? (step * 5) % 13 : step / 13 % 13; /* block order: each k 13 steps */
        if (!order) {
            k = 0;
            while (left[k] == 0)
                k++;
        }
        if (left[k] == 0) continue;
        left[k]--;
        done++;
        assert_int_equal(observe(m, NAN, 1, cats[k]), MW_OK);
    }
    char *json;
    assert_int_equal(mw_monitor_close_window(m, "m", "1", &json, &err), MW_OK);
    mw_monitor_close(m);
    return json;
}

static void test_categories_any_order(void **state) {
    (void)state;
    fake_now_ms = 1000000;
    char *blocks = categories_window(0), *mixed = categories_window(1);
    assert_non_null(strstr(blocks, "\"unseen_examples\":[\"zz\"]"));
    assert_string_equal(blocks, mixed);
    free(blocks);
    free(mixed);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_by_record_time),
        cmocka_unit_test(test_categories_any_order),
        cmocka_unit_test(test_arrival_time_cap_and_tick),
        cmocka_unit_test(test_registration_errors),
        cmocka_unit_test(test_journal_replay),
        cmocka_unit_test(test_journal_binary_same_result),
        cmocka_unit_test(test_journal_ndjson_row),
        cmocka_unit_test(test_body_with_several_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
