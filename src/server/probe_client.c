/*
 * One probe request with libcurl, and its verdict (probes_int.h).
 *
 * A client holds one easy handle per probe set, so the connection is kept
 * alive from prompt to prompt. Limits, so that an endpoint that hangs or
 * dribbles cannot hold a probe thread: CURLOPT_TIMEOUT_MS (the set's
 * timeout, the whole request), CURLOPT_LOW_SPEED_LIMIT/TIME (abort when
 * fewer than 1 byte/s arrive for stall_timeout seconds), a connect timeout,
 * MW_PROBE_MAX_ANSWER bytes of answer at most, no redirects, http and https
 * only, no proxy (as the notifiers). The progress callback aborts the
 * transfer once the daemon stops (libcurl calls it about once a second
 * even while no data flows, as notify.c relies on too).
 *
 * Verdict, in this order: stopped (aborted, not counted); transport errors
 * (timeout, connect, too_large, truncated for a connection that broke
 * mid-answer, error for the rest); a status other than 2xx (http_status,
 * with the start of the body); an answer that does not parse
 * (invalid_response); a stream without "data: [DONE]" (truncated); then the
 * expectation (passed, or mismatch with the start of the text). Latency is
 * the time from sending to the last byte, time to first token that to the
 * first content text (streams only).
 */
#include "server/notify.h"
#include "server/probes_int.h"

#include <curl/curl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct mw_probe_client {
    const mw_probe_set_config *cfg;
    CURL *curl;
    struct curl_slist *headers;
    atomic_int *stop;
    /* the request in flight */
    mw_probe_answer answer;
    double started;
    int too_large;
};

static double now_mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static size_t on_data(char *data, size_t size, size_t n, void *user) {
    mw_probe_client *cl = user;
    if (mw_probe_answer_feed(&cl->answer, data, size * n, now_mono() - cl->started) != 0) {
        cl->too_large = 1;
        return 0; /* CURLE_WRITE_ERROR */
    }
    return size * n;
}

static int on_progress(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    (void)dt, (void)dn, (void)ut, (void)un;
    mw_probe_client *cl = user;
    return atomic_load(cl->stop) != 0;
}

/* Headers: JSON in, the answer type wanted, the bearer token. */
static struct curl_slist *headers_for(const mw_probe_set_config *c, const char *api_key) {
    struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
    if (h)
        h = curl_slist_append(h,
                              c->stream ? "Accept: text/event-stream" : "Accept: application/json");
    if (h) h = curl_slist_append(h, "Expect:");
    if (h && api_key) {
        size_t n = strlen(api_key) + 32;
        char *line = malloc(n);
        struct curl_slist *with = NULL;
        if (line) {
            snprintf(line, n, "Authorization: Bearer %s", api_key);
            with = curl_slist_append(h, line);
            memset(line, 0, n); /* the key does not linger in freed memory */
            free(line);
        }
        if (!with) curl_slist_free_all(h);
        h = with;
    }
    return h;
}

mw_status mw_probe_client_new(const mw_probe_set_config *c, const char *api_key, atomic_int *stop,
                              mw_probe_client **out, mw_error *err) {
    *out = NULL;
    mw_status st = mw_curl_init(err);
    if (st) return st;
    mw_probe_client *cl = calloc(1, sizeof *cl);
    if (!cl) return mw_error_set(err, MW_ENOMEM, "", 0, 0, "probe %s: out of memory", c->name);
    cl->cfg = c;
    cl->stop = stop;
    cl->curl = curl_easy_init();
    cl->headers = headers_for(c, api_key);
    CURL *h = cl->curl;
    long total_ms = (long)(c->timeout_s * 1000), stall = (long)ceil(c->stall_s);
    int bad = !h || !cl->headers;
    bad = bad || curl_easy_setopt(h, CURLOPT_URL, c->url) != CURLE_OK;
    bad = bad || curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK;
    bad = bad || curl_easy_setopt(h, CURLOPT_HTTPHEADER, cl->headers) != CURLE_OK;
    bad = bad || curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, total_ms) != CURLE_OK;
    bad = bad || curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, total_ms) != CURLE_OK;
    if (c->stall_s < c->timeout_s) { /* else the total timeout says it all */
        bad = bad || curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L) != CURLE_OK;
        bad = bad || curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, stall) != CURLE_OK;
    }
    bad = bad || curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
    bad = bad || curl_easy_setopt(h, CURLOPT_NOPROXY, "*") != CURLE_OK;
    bad = bad || curl_easy_setopt(h, CURLOPT_USERAGENT, "modelwatch/" MW_VERSION) != CURLE_OK;
    bad = bad || curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data) != CURLE_OK;
    bad = bad || curl_easy_setopt(h, CURLOPT_WRITEDATA, cl) != CURLE_OK;
    bad = bad || curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress) != CURLE_OK;
    bad = bad || curl_easy_setopt(h, CURLOPT_XFERINFODATA, cl) != CURLE_OK;
    bad = bad || curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) != CURLE_OK;
    if (bad) {
        mw_probe_client_free(cl);
        return mw_error_set(err, MW_ENOMEM, "", 0, 0, "probe %s: cannot set up libcurl", c->name);
    }
    *out = cl;
    return MW_OK;
}

void mw_probe_client_free(mw_probe_client *cl) {
    if (!cl) return;
    if (cl->curl) curl_easy_cleanup(cl->curl);
    curl_slist_free_all(cl->headers);
    free(cl);
}

static void fail(mw_probe_result *r, mw_probe_reason why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(mw_probe_result *r, mw_probe_reason why, const char *fmt, ...) {
    r->passed = 0;
    r->reason = why;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
}

/* A transport failure: the reason and a sentence. */
static void transport_failure(mw_probe_client *cl, CURLcode rc, double elapsed,
                              mw_probe_result *r) {
    const mw_probe_set_config *c = cl->cfg;
    switch (rc) {
    case CURLE_OPERATION_TIMEDOUT:
        if (elapsed + 0.05 < c->timeout_s)
            return fail(r, MW_PROBE_TIMEOUT, "no data for %gs (stall_timeout)", ceil(c->stall_s));
        return fail(r, MW_PROBE_TIMEOUT, "no complete answer within %gs (timeout)", c->timeout_s);
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return fail(r, MW_PROBE_CONNECT, "%s", curl_easy_strerror(rc));
    case CURLE_WRITE_ERROR:
        if (cl->too_large)
            return fail(r, MW_PROBE_TOO_LARGE, "the answer is longer than %u bytes",
                        MW_PROBE_MAX_ANSWER);
        break;
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
        return fail(r, MW_PROBE_TRUNCATED, "the connection broke mid-answer: %s",
                    curl_easy_strerror(rc));
    case CURLE_GOT_NOTHING:
        return fail(r, MW_PROBE_INVALID_RESPONSE, "%s", "the server closed without answering");
    default:
        break;
    }
    fail(r, MW_PROBE_ERROR, "%s", curl_easy_strerror(rc));
}

/* The verdict on a transfer that completed. */
static void judge(mw_probe_client *cl, const mw_probe_prompt *p, mw_probe_result *r) {
    mw_probe_answer *a = &cl->answer;
    if (r->http_status < 200 || r->http_status > 299)
        return fail(r, MW_PROBE_HTTP_STATUS, "HTTP status %ld: %s", r->http_status,
                    a->excerpt[0] ? a->excerpt : "(empty body)");
    mw_probe_answer_finish(a);
    snprintf(r->finish_reason, sizeof r->finish_reason, "%s", a->finish_reason);
    r->ttft_s = a->ttft_s;
    r->input_tokens = a->input_tokens;
    r->output_tokens = a->output_tokens;
    if (a->invalid)
        return fail(r, MW_PROBE_INVALID_RESPONSE, "%s; the answer began: %s", a->detail,
                    a->excerpt[0] ? a->excerpt : "(empty body)");
    if (a->stream && !a->done)
        return fail(r, MW_PROBE_TRUNCATED, "%s", "the stream ended without data: [DONE]");
    const char *text = (const char *)a->content.data;
    if (mw_probe_expect_holds(p, text, a->content.len)) {
        r->passed = 1;
        return;
    }
    char want[64], got[101];
    mw_probe_printable(want, sizeof want, p->value ? p->value : "",
                       p->value ? strlen(p->value) : 0);
    mw_probe_printable(got, sizeof got, text ? text : "", a->content.len);
    fail(r, MW_PROBE_MISMATCH, "expected %s%s%s%s, got \"%s%s\"", mw_probe_expect_name(p->expect),
         p->value ? " \"" : "", want, p->value ? "\"" : "", got,
         a->content.len >= sizeof got ? "..." : "");
}

void mw_probe_client_run(mw_probe_client *cl, const mw_probe_prompt *p, mw_probe_result *r) {
    memset(r, 0, sizeof *r);
    r->latency_s = r->ttft_s = r->input_tokens = r->output_tokens = NAN;
    mw_probe_answer_init(&cl->answer, cl->cfg->stream);
    cl->too_large = 0;
    curl_easy_setopt(cl->curl, CURLOPT_POSTFIELDS, p->body);
    curl_easy_setopt(cl->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(p->body));
    cl->started = now_mono();
    CURLcode rc = curl_easy_perform(cl->curl);
    double elapsed = now_mono() - cl->started;
    curl_easy_getinfo(cl->curl, CURLINFO_RESPONSE_CODE, &r->http_status);
    if (rc == CURLE_ABORTED_BY_CALLBACK && atomic_load(cl->stop)) {
        r->aborted = 1;
    } else if (rc != CURLE_OK) {
        transport_failure(cl, rc, elapsed, r);
    } else {
        r->latency_s = elapsed;
        judge(cl, p, r);
    }
    mw_probe_answer_free(&cl->answer);
}
