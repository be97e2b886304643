/*
 * Alert notifications (see notify.h). The caller's thread only serialises the
 * body each target wants and appends it to that target's bounded queue; one
 * worker thread per target takes batches off its queue and POSTs them with
 * libcurl, retrying with exponential backoff. Keeping the network on the
 * workers means a slow or dead receiver costs the ingestion path nothing and
 * does not hold up the other target.
 *
 * Each target has one mutex and one condition variable (on CLOCK_MONOTONIC):
 * it wakes the worker for a new batch or for stop, interrupts the backoff wait
 * on stop, and wakes mw_notifier_flush when the target goes idle. A transfer
 * in flight is bounded by the curl timeout and is also aborted from curl's
 * progress callback once stop is requested.
 *
 * Delivery failures are logged to stderr, at most one line per target every
 * LOG_INTERVAL_S seconds; the next line says how many were left out, so a
 * dead receiver does not flood the log.
 */
#include "server/notify.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define LOG_INTERVAL_S 10.0
#define MAX_SECONDS 86400.0 /* caps timeouts and backoff, keeps conversions in range */

typedef struct batch {
    struct batch *next;
    char *body;
} batch;

typedef struct target {
    const char *name;               /* "alertmanager", "webhook": in log lines */
    char *url;                      /* where to POST */
    char *log_url;                  /* url without user:password@, for log lines */
    const mw_notifier_options *opt; /* the notifier's resolved options */
    CURL *curl;
    struct curl_slist *headers;
    pthread_t thread;
    int started; /* the thread runs */
    pthread_mutex_t mu;
    pthread_cond_t cond;
    /* under mu: */
    batch *head, *tail;
    size_t nqueued;
    int busy; /* a batch is taken off the queue and not finished */
    int stopping;
    mw_notifier_stats stats;
    double log_last;      /* monotonic time of the last failure line, 0 = none */
    uint64_t log_skipped; /* failure lines left out since */
} target;

enum { AM, WH, NTARGETS };

struct mw_notifier {
    mw_notifier_options opt; /* defaults filled in; URLs not kept here */
    target *t[NTARGETS];     /* NULL when not configured */
};

/* ---- time ---- */

static double now_mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static struct timespec to_timespec(double s) {
    struct timespec ts;
    ts.tv_sec = (time_t)s;
    ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) ts.tv_nsec = 999999999L;
    return ts;
}

/* Waits on t->cond (mu held) until the monotonic deadline; 0 once it passed. */
static int wait_until(target *t, double deadline) {
    if (now_mono() >= deadline) return 0;
    struct timespec ts = to_timespec(deadline);
    pthread_cond_timedwait(&t->cond, &t->mu, &ts);
    return 1;
}

/* v when it is a positive number, else dflt; at most MAX_SECONDS. */
static double seconds_or(double v, double dflt) {
    if (!(v > 0)) return dflt;
    return v < MAX_SECONDS ? v : MAX_SECONDS;
}

/* ---- rate-limited failure log ---- */

/* Prints a failure line for t unless one was printed in the last
 * LOG_INTERVAL_S seconds (then only counts it). mu held. */
static void log_failure(target *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_failure(target *t, const char *fmt, ...) {
    double now = now_mono();
    if (t->log_last > 0 && now - t->log_last < LOG_INTERVAL_S) {
        t->log_skipped++;
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (t->log_skipped)
        fprintf(stderr, "modelwatch: notify %s %s: %s (%llu similar lines left out)\n", t->name,
                t->log_url, msg, (unsigned long long)t->log_skipped);
    else
        fprintf(stderr, "modelwatch: notify %s %s: %s\n", t->name, t->log_url, msg);
    t->log_last = now;
    t->log_skipped = 0;
}

/* ---- the queue (mu held) ---- */

static void batch_free(batch *b) {
    if (!b) return;
    free(b->body);
    free(b);
}

static batch *queue_pop(target *t) {
    batch *b = t->head;
    if (!b) return NULL;
    t->head = b->next;
    if (!t->head) t->tail = NULL;
    t->nqueued--;
    return b;
}

static void queue_push(target *t, batch *b) {
    if (t->nqueued >= t->opt->queue_max) {
        batch_free(queue_pop(t));
        t->stats.dropped++;
        log_failure(t, "queue full (%u batches), dropped the oldest", t->opt->queue_max);
    }
    b->next = NULL;
    if (t->tail)
        t->tail->next = b;
    else
        t->head = b;
    t->tail = b;
    t->nqueued++;
}

/* ---- one delivery attempt ---- */

static size_t discard(char *data, size_t size, size_t n, void *user) {
    (void)data;
    (void)user;
    return size * n;
}

static int stop_requested(target *t) {
    pthread_mutex_lock(&t->mu);
    int s = t->stopping;
    pthread_mutex_unlock(&t->mu);
    return s;
}

/* curl's progress callback: non-zero aborts the transfer (on stop). */
static int on_progress(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    (void)dt, (void)dn, (void)ut, (void)un;
    return stop_requested(user);
}

/* POSTs body once; 1 on a 2xx answer, else 0 with the reason in why. */
static int post_once(target *t, const char *body, char *why, size_t whysz) {
    curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
    CURLcode rc = curl_easy_perform(t->curl);
    if (rc != CURLE_OK) {
        snprintf(why, whysz, "%s", curl_easy_strerror(rc));
        return 0;
    }
    long status = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status < 300) return 1;
    snprintf(why, whysz, "HTTP status %ld", status);
    return 0;
}

/* Sets the options every attempt of t shares. 0 when curl refuses one. */
static int curl_setup(target *t) {
    long ms = (long)(t->opt->timeout_s * 1000.0);
    if (ms < 1) ms = 1;
    t->headers = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *h = t->headers ? curl_slist_append(t->headers, "Expect:") : NULL;
    if (!h) return 0;
    t->headers = h;
    CURL *c = t->curl;
    int bad = 0;
    bad |= curl_easy_setopt(c, CURLOPT_URL, t->url) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_HTTPHEADER, t->headers) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ms) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ms) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOPROXY, "*") != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_USERAGENT, "modelwatch/" MW_VERSION) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_XFERINFODATA, t) != CURLE_OK;
    bad |= curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
    return !bad;
}

/* ---- the worker ---- */

/* After failed attempt number attempt (mu held): counts it, logs it, and
 * either gives the batch up (returns 0) or waits the backoff (returns 1 to
 * try again; 0 when stop came during the wait). */
static int after_failure(target *t, unsigned attempt, double backoff, const char *why) {
    t->stats.failed++;
    int last = attempt >= t->opt->max_attempts;
    if (!t->stopping) /* an attempt aborted by stop is not the receiver's fault */
        log_failure(t, "attempt %u of %u failed: %s%s", attempt, t->opt->max_attempts, why,
                    last ? "; batch dropped" : "");
    if (!last) {
        double deadline = now_mono() + backoff;
        while (!t->stopping && wait_until(t, deadline)) {
        }
        if (!t->stopping) return 1;
    }
    t->stats.dropped++;
    return 0;
}

/* Delivers one batch: attempts with backoff until success, the attempt
 * limit, or stop. Called without mu. */
static void deliver(target *t, const batch *b) {
    double cap = t->opt->backoff_max_s;
    double backoff = t->opt->backoff_initial_s < cap ? t->opt->backoff_initial_s : cap;
    for (unsigned attempt = 1;; attempt++) {
        char why[256];
        int ok = post_once(t, b->body, why, sizeof why);
        pthread_mutex_lock(&t->mu);
        int again = 0;
        if (ok)
            t->stats.sent++;
        else
            again = after_failure(t, attempt, backoff, why);
        pthread_mutex_unlock(&t->mu);
        if (!again) return;
        backoff = backoff * 2 < cap ? backoff * 2 : cap;
    }
}

static void *worker(void *arg) {
    target *t = arg;
    pthread_mutex_lock(&t->mu);
    for (;;) {
        while (!t->stopping && !t->head)
            pthread_cond_wait(&t->cond, &t->mu);
        if (t->stopping) break;
        batch *b = queue_pop(t);
        t->busy = 1;
        pthread_mutex_unlock(&t->mu);
        deliver(t, b);
        batch_free(b);
        pthread_mutex_lock(&t->mu);
        t->busy = 0;
        pthread_cond_broadcast(&t->cond); /* for flush */
    }
    pthread_mutex_unlock(&t->mu);
    return NULL;
}

/* ---- targets: create, start, free ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init(void) {
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

mw_status mw_curl_init(mw_error *err) {
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc == CURLE_OK) return MW_OK;
    return mw_error_set(err, MW_EIO, "", 0, 0, "cannot initialise libcurl: %s",
                        curl_easy_strerror(curl_init_rc));
}

int mw_url_valid(const char *url) {
    size_t n = strncasecmp(url, "http://", 7) == 0    ? 7
               : strncasecmp(url, "https://", 8) == 0 ? 8
                                                      : 0;
    return n && url[n] != '\0' && url[n] != '/';
}

static void target_free(target *t) {
    if (!t) return;
    while (t->head)
        batch_free(queue_pop(t));
    if (t->curl) curl_easy_cleanup(t->curl);
    curl_slist_free_all(t->headers);
    pthread_cond_destroy(&t->cond);
    pthread_mutex_destroy(&t->mu);
    free(t->url);
    free(t->log_url);
    free(t);
}

/* A new string: the n first bytes of a, then b. */
static char *concat(const char *a, size_t n, const char *b) {
    size_t m = strlen(b);
    char *u = malloc(n + m + 1);
    if (!u) return NULL;
    memcpy(u, a, n);
    memcpy(u + n, b, m + 1);
    return u;
}

/* The URL to POST to: base URL, without trailing slashes, plus suffix. */
static char *join_url(const char *base, const char *suffix) {
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    return concat(base, n, suffix);
}

char *mw_url_redact(const char *url) {
    const char *host = strstr(url, "://") + 3; /* validated: there is one */
    size_t authority = strcspn(host, "/?#");
    const char *at = memchr(host, '@', authority);
    if (!at) return strdup(url);
    return concat(url, (size_t)(host - url), at + 1);
}

static int target_init_sync(target *t) {
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca) != 0) return 0;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&t->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) return 0;
    if (pthread_mutex_init(&t->mu, NULL) != 0) {
        pthread_cond_destroy(&t->cond);
        return 0;
    }
    return 1;
}

/* A target for url (already validated) that POSTs to url + suffix. */
static mw_status target_new(const char *name, const char *url, const char *suffix,
                            const mw_notifier_options *opt, target **out, mw_error *err) {
    target *t = calloc(1, sizeof *t);
    if (!t || !target_init_sync(t)) {
        free(t);
        return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory starting the %s notifier",
                            name);
    }
    t->name = name;
    t->opt = opt;
    t->url = join_url(url, suffix);
    t->log_url = t->url ? mw_url_redact(t->url) : NULL;
    t->curl = t->log_url ? curl_easy_init() : NULL;
    if (!t->curl || !curl_setup(t)) {
        target_free(t);
        return mw_error_set(err, MW_ENOMEM, "", 0, 0, "cannot set up libcurl for the %s notifier",
                            name);
    }
    if (pthread_create(&t->thread, NULL, worker, t) != 0) {
        target_free(t);
        return mw_error_set(err, MW_ENOMEM, "", 0, 0, "cannot start the %s notifier thread", name);
    }
    t->started = 1;
    *out = t;
    return MW_OK;
}

static void target_request_stop(target *t) {
    pthread_mutex_lock(&t->mu);
    t->stopping = 1;
    pthread_cond_broadcast(&t->cond);
    pthread_mutex_unlock(&t->mu);
}

/* ---- start / stop ---- */

static void resolve_options(const mw_notifier_options *in, mw_notifier_options *o) {
    *o = *in;
    o->alertmanager_url = o->webhook_url = NULL;
    o->timeout_s = seconds_or(in->timeout_s, 10);
    o->max_attempts = in->max_attempts ? in->max_attempts : 5;
    o->backoff_initial_s = seconds_or(in->backoff_initial_s, 1);
    o->backoff_max_s = seconds_or(in->backoff_max_s, 30);
    o->queue_max = in->queue_max ? in->queue_max : 1000;
}

static mw_status check_url(const char *url, const char *option, mw_error *err) {
    if (!url || mw_url_valid(url)) return MW_OK;
    return mw_error_set(err, MW_EINVAL, "", 0, 0,
                        "%s: \"%.200s\" is not a URL: it must start with http:// or https:// "
                        "followed by a host",
                        option, url);
}

mw_status mw_notifier_start(const mw_notifier_options *opt, mw_notifier **out, mw_error *err) {
    *out = NULL;
    mw_error_clear(err);
    mw_status st = check_url(opt->alertmanager_url, "alerting.alertmanager", err);
    if (st == MW_OK) st = check_url(opt->webhook_url, "alerting.webhook.url", err);
    if (st != MW_OK) return st;
    if ((opt->alertmanager_url || opt->webhook_url) && (st = mw_curl_init(err)) != MW_OK) return st;
    mw_notifier *n = calloc(1, sizeof *n);
    if (!n) return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory starting the notifier");
    resolve_options(opt, &n->opt);
    if (opt->alertmanager_url)
        st = target_new("alertmanager", opt->alertmanager_url, "/api/v2/alerts", &n->opt, &n->t[AM],
                        err);
    if (st == MW_OK && opt->webhook_url)
        st = target_new("webhook", opt->webhook_url, "", &n->opt, &n->t[WH], err);
    if (st != MW_OK) {
        mw_notifier_stop(n);
        return st;
    }
    *out = n;
    return MW_OK;
}

void mw_notifier_stop(mw_notifier *n) {
    if (!n) return;
    /* all targets are told first, so their attempts in flight end together */
    for (int i = 0; i < NTARGETS; i++)
        if (n->t[i]) target_request_stop(n->t[i]);
    for (int i = 0; i < NTARGETS; i++) {
        if (n->t[i] && n->t[i]->started) pthread_join(n->t[i]->thread, NULL);
        target_free(n->t[i]);
    }
    free(n);
}

/* ---- bodies ---- */

/* 1 when the alert fires: its status is anything but "resolved". */
static int fires(json_t *alert) {
    const char *s = json_string_value(json_object_get(alert, "status"));
    return !s || strcmp(s, "resolved") != 0;
}

/* Alertmanager API v2 postableAlerts: only the fields it knows. */
static json_t *alertmanager_body(json_t *alerts) {
    static const char *const keys[] = {"labels", "annotations", "startsAt", "endsAt",
                                       "generatorURL"};
    json_t *out = json_array();
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a) {
        json_t *p = json_object();
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
            json_t *v = json_object_get(a, keys[k]);
            if (v) json_object_set(p, keys[k], v);
        }
        json_array_append_new(out, p);
    }
    return out;
}

static json_t *webhook_body(json_t *alerts) {
    int firing = 0;
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a) firing |= fires(a);
    return json_pack("{s:s, s:s, s:s, s:O}", "version", "1", "receiver", "modelwatch", "status",
                     firing ? "firing" : "resolved", "alerts", alerts);
}

/* Serialises body (stolen) and queues it on t; drops it when that fails. */
static void enqueue(target *t, json_t *body) {
    char *s = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    batch *b = s ? malloc(sizeof *b) : NULL;
    pthread_mutex_lock(&t->mu);
    if (b) {
        b->body = s;
        queue_push(t, b);
        pthread_cond_broadcast(&t->cond);
    } else {
        free(s);
        t->stats.dropped++;
        log_failure(t, "out of memory queueing a batch, dropped");
    }
    pthread_mutex_unlock(&t->mu);
}

/* ---- the log target ---- */

/* Writes s with backslash, quote and line breaks escaped, so one alert stays
 * one line. */
static void put_escaped(FILE *f, const char *s) {
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\' || c == '"')
            fprintf(f, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c < 0x20)
            fputc(' ', f);
        else
            fputc(c, f);
    }
}

static void put_labels(FILE *f, json_t *labels) {
    const char *k;
    json_t *v;
    int first = 1;
    fputc('{', f);
    json_object_foreach(labels, k, v) {
        const char *s = json_string_value(v);
        if (strcmp(k, "alertname") == 0 || !s) continue;
        fprintf(f, "%s%s=\"", first ? "" : ",", k);
        put_escaped(f, s);
        fputc('"', f);
        first = 0;
    }
    fputc('}', f);
}

/* One line for the alert, written with a single call so that lines from
 * different threads do not interleave. */
static void log_alert(json_t *a) {
    char *line = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&line, &len);
    if (!f) return;
    json_t *labels = json_object_get(a, "labels");
    const char *name = json_string_value(json_object_get(labels, "alertname"));
    fputs("modelwatch: alert ", f);
    put_escaped(f, name ? name : "unnamed");
    fprintf(f, " %s ", fires(a) ? "firing" : "resolved");
    put_labels(f, labels);
    json_t *value = json_object_get(a, "value");
    if (json_is_number(value)) fprintf(f, " value=%g", json_number_value(value));
    const char *summary =
        json_string_value(json_object_get(json_object_get(a, "annotations"), "summary"));
    if (summary) {
        fputs(" summary=", f);
        put_escaped(f, summary);
    }
    fputc('\n', f);
    if (fclose(f) == 0) fputs(line, stderr);
    free(line);
}

/* ---- send, stats, flush ---- */

void mw_notifier_send(mw_notifier *n, json_t *alerts, unsigned targets) {
    if (!n || !json_is_array(alerts) || json_array_size(alerts) == 0) return;
    json_t *copy = json_deep_copy(alerts);
    if (!copy) return;
    if ((targets & MW_NOTIFY_LOG) && n->opt.log) {
        size_t i;
        json_t *a;
        json_array_foreach(copy, i, a) log_alert(a);
    }
    if ((targets & MW_NOTIFY_ALERTMANAGER) && n->t[AM]) enqueue(n->t[AM], alertmanager_body(copy));
    if ((targets & MW_NOTIFY_WEBHOOK) && n->t[WH]) enqueue(n->t[WH], webhook_body(copy));
    json_decref(copy);
}

static target *target_of(mw_notifier *n, unsigned which) {
    if (!n) return NULL;
    if (which == MW_NOTIFY_ALERTMANAGER) return n->t[AM];
    if (which == MW_NOTIFY_WEBHOOK) return n->t[WH];
    return NULL;
}

mw_notifier_stats mw_notifier_stats_of(mw_notifier *n, unsigned target_id) {
    mw_notifier_stats s;
    memset(&s, 0, sizeof s);
    target *t = target_of(n, target_id);
    if (!t) return s;
    pthread_mutex_lock(&t->mu);
    s = t->stats;
    s.queued = t->nqueued;
    pthread_mutex_unlock(&t->mu);
    return s;
}

/* Waits until t is idle or the deadline passes; 1 when idle. */
static int target_drain(target *t, double deadline) {
    pthread_mutex_lock(&t->mu);
    while ((t->head || t->busy) && wait_until(t, deadline)) {
    }
    int idle = !t->head && !t->busy;
    pthread_mutex_unlock(&t->mu);
    return idle;
}

int mw_notifier_flush(mw_notifier *n, double timeout_s) {
    if (!n) return 1;
    double deadline = now_mono() + seconds_or(timeout_s, 0);
    int drained = 1;
    for (int i = 0; i < NTARGETS; i++)
        if (n->t[i]) drained &= target_drain(n->t[i], deadline);
    return drained;
}
