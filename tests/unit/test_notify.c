/*
 * Alert notifier: a real mw_http server on a free port stands in for
 * Alertmanager and for a webhook receiver, answering 200, 500 for the first
 * attempts, or hanging past the notifier's timeout. Checks the bodies each
 * target gets (Alertmanager's postable fields only; the webhook envelope and
 * its firing/resolved status), retries with backoff and the counters they
 * leave, dropping after the last attempt and on queue overflow, that send
 * never waits on a stuck receiver, that an unreachable receiver neither hangs
 * nor delays stop, URL validation, and the log target's line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/http.h"
#include "server/notify.h"

/* ---- time ---- */

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_s(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* ---- the receiver ---- */

typedef struct rx {
    pthread_mutex_t mu;
    int fail_first; /* answer 500 to the first N requests */
    double sleep_s; /* sleep this long before answering */
    int calls;
    char method[16], path[128], ctype[64];
    char *body; /* the last one */
    mw_http_server *server;
    char url[128]; /* http://127.0.0.1:PORT */
} rx;

static void on_request(const mw_http_request *req, mw_http_response *resp, void *ctx) {
    rx *r = ctx;
    pthread_mutex_lock(&r->mu);
    int n = ++r->calls;
    snprintf(r->method, sizeof r->method, "%s", req->method);
    snprintf(r->path, sizeof r->path, "%s", req->path);
    snprintf(r->ctype, sizeof r->ctype, "%s", req->content_type);
    free(r->body);
    r->body = strdup(req->body);
    int status = n <= r->fail_first ? 500 : 200;
    double pause = r->sleep_s;
    pthread_mutex_unlock(&r->mu);
    if (pause > 0) sleep_s(pause);
    mw_http_set_json(resp, status, "{}");
}

static void rx_start(rx *r, int fail_first, double pause) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->mu, NULL);
    r->fail_first = fail_first;
    r->sleep_s = pause;
    mw_http_options o;
    memset(&o, 0, sizeof o);
    o.threads = 4;
    o.timeout_s = 5;
    mw_error err;
    assert_int_equal(mw_http_start(&o, on_request, r, &r->server, &err), MW_OK);
    snprintf(r->url, sizeof r->url, "http://127.0.0.1:%u", (unsigned)mw_http_port(r->server));
}

static void rx_stop(rx *r) {
    mw_http_stop(r->server);
    free(r->body);
    pthread_mutex_destroy(&r->mu);
}

static int rx_calls(rx *r) {
    pthread_mutex_lock(&r->mu);
    int n = r->calls;
    pthread_mutex_unlock(&r->mu);
    return n;
}

/* The last body received, parsed. */
static json_t *rx_json(rx *r) {
    pthread_mutex_lock(&r->mu);
    json_error_t je;
    json_t *j = r->body ? json_loads(r->body, 0, &je) : NULL;
    pthread_mutex_unlock(&r->mu);
    assert_non_null(j);
    return j;
}

/* ---- the notifier ---- */

/* Fast defaults for tests: short timeout and backoff. */
static mw_notifier_options fast_options(void) {
    mw_notifier_options o;
    memset(&o, 0, sizeof o);
    o.timeout_s = 2;
    o.max_attempts = 5;
    o.backoff_initial_s = 0.05;
    o.backoff_max_s = 0.2;
    return o;
}

static mw_notifier *start(const mw_notifier_options *o) {
    mw_notifier *n = NULL;
    mw_error err;
    mw_status st = mw_notifier_start(o, &n, &err);
    if (st != MW_OK) print_error("start failed: %s\n", err.message);
    assert_int_equal(st, MW_OK);
    assert_non_null(n);
    return n;
}

static json_t *alert(const char *status, const char *feature) {
    return json_pack("{s:s, s:{s:s, s:s, s:s}, s:{s:s}, s:s, s:f}", "status", status, "labels",
                     "alertname", "FeatureDrift", "model", "fraud", "feature", feature,
                     "annotations", "summary", "drift on a feature", "startsAt",
                     "2026-11-29T05:00:00.000Z", "value", 0.001);
}

/* Sends a batch of count alerts with the statuses in ap ("firing", ...). */
static void vsend(mw_notifier *n, unsigned targets, int count, va_list ap) {
    json_t *batch = json_array();
    for (int i = 0; i < count; i++)
        json_array_append_new(batch, alert(va_arg(ap, const char *), "x"));
    mw_notifier_send(n, batch, targets);
    json_decref(batch);
}

static void send_statuses(mw_notifier *n, unsigned targets, int count, ...) {
    va_list ap;
    va_start(ap, count);
    vsend(n, targets, count, ap);
    va_end(ap);
}

static void assert_stats(mw_notifier *n, unsigned target, uint64_t sent, uint64_t failed,
                         uint64_t dropped) {
    mw_notifier_stats s = mw_notifier_stats_of(n, target);
    assert_int_equal(s.sent, sent);
    assert_int_equal(s.failed, failed);
    assert_int_equal(s.dropped, dropped);
    assert_int_equal(s.queued, 0);
}

/* Polls until the target counted at least min failed attempts. */
static void wait_failed(mw_notifier *n, unsigned target, uint64_t min) {
    double deadline = now_s() + 5;
    while (mw_notifier_stats_of(n, target).failed < min && now_s() < deadline)
        sleep_s(0.005);
    assert_true(mw_notifier_stats_of(n, target).failed >= min);
}

/* A notifier whose webhook is r. */
static mw_notifier *webhook_to(rx *r, mw_notifier_options o) {
    o.webhook_url = r->url;
    return start(&o);
}

/* A receiver that answers after 0.8 s, and a notifier on it that gives up
 * after one attempt of 0.3 s. */
static mw_notifier *hanging_webhook(rx *r, unsigned queue_max) {
    rx_start(r, 0, 0.8);
    mw_notifier_options o = fast_options();
    o.timeout_s = 0.3;
    o.max_attempts = 1;
    o.queue_max = queue_max;
    return webhook_to(r, o);
}

/* ---- tests ---- */

/* (a) Alertmanager: POST /api/v2/alerts, postable fields only. */
static void test_alertmanager_body(void **state) {
    (void)state;
    rx r;
    rx_start(&r, 0, 0);
    char base[160];
    snprintf(base, sizeof base, "%s/", r.url); /* a trailing slash is tolerated */
    mw_notifier_options o = fast_options();
    o.alertmanager_url = base;
    mw_notifier *n = start(&o);

    json_t *batch = json_array();
    json_t *a = alert("firing", "x");
    json_object_set_new(a, "endsAt", json_string("2026-11-29T05:04:00.000Z"));
    json_object_set_new(a, "generatorURL", json_string("http://127.0.0.1:9750/api/v1/alerts"));
    json_array_append_new(batch, a);
    json_array_append_new(batch, alert("resolved", "y"));
    mw_notifier_send(n, batch, MW_NOTIFY_ALL);
    json_decref(batch);
    assert_true(mw_notifier_flush(n, 5));

    assert_int_equal(rx_calls(&r), 1);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path, "/api/v2/alerts");
    assert_string_equal(r.ctype, "application/json");
    json_t *got = rx_json(&r);
    assert_true(json_is_array(got));
    assert_int_equal(json_array_size(got), 2);
    json_t *g0 = json_array_get(got, 0), *g1 = json_array_get(got, 1);
    assert_int_equal(json_object_size(g0), 5);
    assert_int_equal(json_object_size(g1), 3);
    for (int i = 0; i < 2; i++) {
        json_t *g = json_array_get(got, (size_t)i);
        assert_null(json_object_get(g, "status"));
        assert_null(json_object_get(g, "value"));
        assert_true(json_is_object(json_object_get(g, "labels")));
        assert_true(json_is_object(json_object_get(g, "annotations")));
        assert_non_null(json_object_get(g, "startsAt"));
    }
    assert_string_equal(json_string_value(json_object_get(g0, "endsAt")),
                        "2026-11-29T05:04:00.000Z");
    assert_non_null(json_object_get(g0, "generatorURL"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(g1, "labels"), "feature")), "y");
    json_decref(got);

    assert_stats(n, MW_NOTIFY_ALERTMANAGER, 1, 0, 0);
    assert_stats(n, MW_NOTIFY_WEBHOOK, 0, 0, 0); /* not configured */
    mw_notifier_stop(n);
    rx_stop(&r);
}

/* (b) webhook: 500, 500, then 200: one delivery after three attempts. */
static void test_webhook_retry(void **state) {
    (void)state;
    rx r;
    rx_start(&r, 2, 0);
    char url[160];
    snprintf(url, sizeof url, "%s/hook", r.url);
    mw_notifier_options o = fast_options();
    o.webhook_url = url;
    mw_notifier *n = start(&o);

    json_t *batch = json_array();
    json_array_append_new(batch, alert("firing", "x"));
    double t0 = now_s();
    mw_notifier_send(n, batch, MW_NOTIFY_WEBHOOK);
    assert_true(mw_notifier_flush(n, 5));
    assert_true(now_s() - t0 >= 0.05 + 0.1 - 0.01); /* backoff 0.05 s, then doubled */

    assert_int_equal(rx_calls(&r), 3);
    assert_string_equal(r.path, "/hook");
    assert_string_equal(r.ctype, "application/json");
    assert_stats(n, MW_NOTIFY_WEBHOOK, 1, 2, 0);
    json_t *got = rx_json(&r);
    assert_string_equal(json_string_value(json_object_get(got, "version")), "1");
    assert_string_equal(json_string_value(json_object_get(got, "receiver")), "modelwatch");
    assert_string_equal(json_string_value(json_object_get(got, "status")), "firing");
    assert_true(json_equal(json_object_get(got, "alerts"), batch)); /* as given */
    json_decref(got);
    json_decref(batch);
    mw_notifier_stop(n);
    rx_stop(&r);
}

/* (c) always 500: dropped after max_attempts. */
static void test_attempts_exhausted(void **state) {
    (void)state;
    rx r;
    rx_start(&r, 1000, 0);
    mw_notifier_options o = fast_options();
    o.max_attempts = 3;
    mw_notifier *n = webhook_to(&r, o);
    send_statuses(n, MW_NOTIFY_WEBHOOK, 1, "firing");
    assert_true(mw_notifier_flush(n, 5));
    assert_int_equal(rx_calls(&r), 3);
    assert_stats(n, MW_NOTIFY_WEBHOOK, 0, 3, 1);
    mw_notifier_stop(n);
    rx_stop(&r);
}

/* (d) a receiver that hangs past the timeout: a failure, and send still
 * returns at once while the worker is stuck. */
static void test_hanging_receiver(void **state) {
    (void)state;
    rx r;
    mw_notifier *n = hanging_webhook(&r, 0);

    send_statuses(n, MW_NOTIFY_WEBHOOK, 1, "firing");
    double deadline = now_s() + 5;
    while (rx_calls(&r) < 1 && now_s() < deadline)
        sleep_s(0.005);
    assert_int_equal(rx_calls(&r), 1); /* the worker waits on the receiver now */
    double t0 = now_s();
    send_statuses(n, MW_NOTIFY_WEBHOOK, 1, "firing");
    assert_true(now_s() - t0 < 0.05);

    assert_true(mw_notifier_flush(n, 5));
    assert_stats(n, MW_NOTIFY_WEBHOOK, 0, 2, 2);
    mw_notifier_stop(n);
    rx_stop(&r);
}

/* A local port nothing listens on. */
static char *closed_port_url(char *buf, size_t sz) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    socklen_t len = sizeof a;
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    close(fd);
    snprintf(buf, sz, "http://127.0.0.1:%u", (unsigned)ntohs(a.sin_port));
    return buf;
}

/* (e) unreachable receiver: failures counted, no hang; stop interrupts a
 * long backoff wait. */
static void test_unreachable(void **state) {
    (void)state;
    char url[64];
    mw_notifier_options o = fast_options();
    o.alertmanager_url = closed_port_url(url, sizeof url);
    o.max_attempts = 3;
    mw_notifier *n = start(&o);
    send_statuses(n, MW_NOTIFY_ALERTMANAGER, 1, "firing");
    assert_true(mw_notifier_flush(n, 5));
    assert_stats(n, MW_NOTIFY_ALERTMANAGER, 0, 3, 1);
    mw_notifier_stop(n);

    o.backoff_initial_s = 30;
    o.backoff_max_s = 60;
    n = start(&o);
    send_statuses(n, MW_NOTIFY_ALERTMANAGER, 1, "firing");
    wait_failed(n, MW_NOTIFY_ALERTMANAGER, 1);
    assert_int_equal(mw_notifier_flush(n, 0.05), 0); /* waiting out the backoff */
    double t0 = now_s();
    mw_notifier_stop(n);
    assert_true(now_s() - t0 < 0.5);
}

/* (f) queue_max 2 while the receiver hangs: the oldest batches are dropped. */
static void test_queue_overflow(void **state) {
    (void)state;
    rx r;
    mw_notifier *n = hanging_webhook(&r, 2);
    for (int i = 0; i < 5; i++)
        send_statuses(n, MW_NOTIFY_WEBHOOK, 1, "firing");
    mw_notifier_stats s = mw_notifier_stats_of(n, MW_NOTIFY_WEBHOOK);
    /* one batch may be in flight, two queued: at least two dropped */
    assert_true(s.dropped >= 2);
    assert_true(s.queued <= 2);
    double t0 = now_s();
    mw_notifier_stop(n); /* bounded by the timeout of the attempt in flight */
    assert_true(now_s() - t0 < 0.3 + 1);
    rx_stop(&r);
}

static void expect_einval(const char *am, const char *wh, const char *option) {
    mw_notifier_options o = fast_options();
    o.alertmanager_url = am;
    o.webhook_url = wh;
    mw_notifier *n = (mw_notifier *)&o; /* must be cleared */
    mw_error err;
    assert_int_equal(mw_notifier_start(&o, &n, &err), MW_EINVAL);
    assert_null(n);
    assert_non_null(strstr(err.message, option));
    assert_non_null(strstr(err.message, "http://"));
}

/* (g) URLs must be http:// or https://; nothing configured is valid. */
static void test_invalid_url(void **state) {
    (void)state;
    expect_einval("ftp://127.0.0.1:9093", NULL, "alerting.alertmanager");
    expect_einval("127.0.0.1:9093", NULL, "alerting.alertmanager");
    expect_einval(NULL, "localhost:8080/hook", "alerting.webhook.url");
    expect_einval(NULL, "http://", "alerting.webhook.url");
    expect_einval("https://am:9093", "", "alerting.webhook.url");

    mw_notifier_options o;
    memset(&o, 0, sizeof o);
    mw_notifier *n = start(&o);
    send_statuses(n, MW_NOTIFY_ALL, 1, "firing");
    assert_true(mw_notifier_flush(n, 0));
    assert_stats(n, MW_NOTIFY_ALERTMANAGER, 0, 0, 0);
    mw_notifier_stop(n);
    mw_notifier_stop(NULL);
}

static void expect_webhook_status(rx *r, mw_notifier *n, const char *want, int count, ...) {
    va_list ap;
    va_start(ap, count);
    vsend(n, MW_NOTIFY_WEBHOOK, count, ap);
    va_end(ap);
    assert_true(mw_notifier_flush(n, 5));
    json_t *got = rx_json(r);
    assert_string_equal(json_string_value(json_object_get(got, "status")), want);
    json_decref(got);
}

/* (h) the webhook status: resolved only when every alert is. An empty batch
 * is ignored. */
static void test_webhook_status(void **state) {
    (void)state;
    rx r;
    rx_start(&r, 0, 0);
    mw_notifier *n = webhook_to(&r, fast_options());
    expect_webhook_status(&r, n, "resolved", 2, "resolved", "resolved");
    expect_webhook_status(&r, n, "firing", 2, "resolved", "firing");
    expect_webhook_status(&r, n, "firing", 1, "firing");
    json_t *empty = json_array();
    mw_notifier_send(n, empty, MW_NOTIFY_ALL);
    json_decref(empty);
    assert_true(mw_notifier_flush(n, 5));
    assert_int_equal(rx_calls(&r), 3);
    assert_stats(n, MW_NOTIFY_WEBHOOK, 3, 0, 0);
    mw_notifier_stop(n);
    rx_stop(&r);
}

/* stderr into a temporary file, until capture_end. */
typedef struct capture {
    char path[32];
    int fd, saved;
} capture;

static void capture_begin(capture *c) {
    snprintf(c->path, sizeof c->path, "/tmp/mw_notify_logXXXXXX");
    c->fd = mkstemp(c->path);
    assert_true(c->fd >= 0);
    fflush(stderr);
    c->saved = dup(2);
    dup2(c->fd, 2);
}

/* Restores stderr and returns what was written (static buffer). */
static const char *capture_end(capture *c) {
    static char text[4096];
    fflush(stderr);
    dup2(c->saved, 2);
    close(c->saved);
    ssize_t len = pread(c->fd, text, sizeof text - 1, 0);
    close(c->fd);
    unlink(c->path);
    assert_true(len >= 0);
    text[len] = '\0';
    return text;
}

/* The log target: one line per alert on stderr, written at send time. */
static void test_log_line(void **state) {
    (void)state;
    capture c;
    capture_begin(&c);
    mw_notifier_options o;
    memset(&o, 0, sizeof o);
    o.log = 1;
    mw_notifier *n = start(&o);
    send_statuses(n, MW_NOTIFY_WEBHOOK, 1, "firing"); /* log not in the mask */
    send_statuses(n, MW_NOTIFY_LOG, 2, "firing", "resolved");
    mw_notifier_stop(n);
    assert_string_equal(capture_end(&c),
                        "modelwatch: alert FeatureDrift firing {model=\"fraud\",feature=\"x\"} "
                        "value=0.001 summary=drift on a feature\n"
                        "modelwatch: alert FeatureDrift resolved {model=\"fraud\",feature=\"x\"} "
                        "value=0.001 summary=drift on a feature\n");
}

/* Delivery failures: one line names target, URL (without its password),
 * attempt and reason; the failures right after it are not logged. */
static void test_failure_log(void **state) {
    (void)state;
    char url[64], with_user[96];
    closed_port_url(url, sizeof url);
    snprintf(with_user, sizeof with_user, "http://user:secret@%s", url + strlen("http://"));
    mw_notifier_options o = fast_options();
    o.webhook_url = with_user;
    o.max_attempts = 3;
    capture c;
    capture_begin(&c);
    mw_notifier *n = start(&o);
    send_statuses(n, MW_NOTIFY_WEBHOOK, 1, "firing");
    assert_true(mw_notifier_flush(n, 5));
    assert_stats(n, MW_NOTIFY_WEBHOOK, 0, 3, 1);
    mw_notifier_stop(n);
    const char *text = capture_end(&c);
    char want[160];
    snprintf(want, sizeof want, "modelwatch: notify webhook %s: attempt 1 of 3 failed: ", url);
    assert_non_null(strstr(text, want));
    assert_null(strstr(text, "secret"));
    assert_int_equal(strchr(text, '\n') - text + 1, (ptrdiff_t)strlen(text)); /* one line */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alertmanager_body),  cmocka_unit_test(test_webhook_retry),
        cmocka_unit_test(test_attempts_exhausted), cmocka_unit_test(test_hanging_receiver),
        cmocka_unit_test(test_unreachable),        cmocka_unit_test(test_queue_overflow),
        cmocka_unit_test(test_invalid_url),        cmocka_unit_test(test_webhook_status),
        cmocka_unit_test(test_log_line),           cmocka_unit_test(test_failure_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
