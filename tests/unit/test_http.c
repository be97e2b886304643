/*
 * HTTP server layer: a real server on a free port, spoken to with libcurl and
 * raw sockets. Checks what the handler sees (method, decoded path, raw query,
 * query parameters, headers, body), the JSON error format, the body limit
 * (Content-Length and chunked, answered before the whole body is sent), gzip
 * bodies (decoded, bomb -> 413, malformed/truncated -> 400), unknown encodings
 * (415), unknown methods and HEAD, 100 concurrent keep-alive clients, a slow
 * client that neither blocks others nor outlives the timeout, the request
 * metrics, and clear errors for a busy port and a bad host.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <zlib.h>

#include "server/http.h"

/* ---- the handler under test ---- */

typedef struct seen {
    pthread_mutex_t mu;
    char method[16], path[256], query[256], ctype[64], xtest[64], qa[64];
    int qa_rc, is_head;
    char *body;
    size_t body_len;
    int calls;
} seen;

static void handler(const mw_http_request *req, mw_http_response *resp, void *ctx) {
    seen *s = ctx;
    pthread_mutex_lock(&s->mu);
    s->calls++;
    snprintf(s->method, sizeof s->method, "%s", req->method);
    snprintf(s->path, sizeof s->path, "%s", req->path);
    snprintf(s->query, sizeof s->query, "%s", req->query);
    snprintf(s->ctype, sizeof s->ctype, "%s", req->content_type);
    const char *x = mw_http_header(req, "x-test");
    snprintf(s->xtest, sizeof s->xtest, "%s", x ? x : "(none)");
    s->qa_rc = mw_http_query_param(req, "a b", s->qa, sizeof s->qa);
    s->is_head = req->is_head;
    free(s->body);
    s->body = malloc(req->body_len + 1);
    memcpy(s->body, req->body, req->body_len + 1);
    s->body_len = req->body_len;
    pthread_mutex_unlock(&s->mu);

    if (strcmp(req->path, "/err") == 0) {
        mw_http_set_error(resp, 422, "invalid_record",
                          "line 3: feature \"amount\": expected a number, got \"abc\"", 3);
        resp->route = "/err";
    } else if (strcmp(req->path, "/err0") == 0) {
        mw_http_set_error(resp, 404, "not_found", "no\\such\nthing", 0);
    } else if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "POST") != 0) {
        mw_http_set_error(resp, 405, "method_not_allowed", "use GET or POST", 0);
        mw_http_add_header(resp, "Allow", "GET, POST");
    } else {
        char buf[64];
        snprintf(buf, sizeof buf, "{\"len\":%zu}", req->body_len);
        mw_http_set_json(resp, 200, buf);
        resp->route = "/echo";
    }
}

static seen g_seen;

static mw_http_server *start(size_t max_body, unsigned timeout_s) {
    mw_http_options o;
    memset(&o, 0, sizeof o);
    o.port = 0;
    o.threads = 4;
    o.max_body_bytes = max_body;
    o.timeout_s = timeout_s;
    mw_http_server *s = NULL;
    mw_error err;
    mw_status st = mw_http_start(&o, handler, &g_seen, &s, &err);
    if (st != MW_OK) printf("start failed: %s\n", err.message);
    assert_int_equal(st, MW_OK);
    assert_non_null(s);
    assert_true(mw_http_port(s) > 0);
    return s;
}

/* ---- a small curl client ---- */

typedef struct buf {
    char *p;
    size_t n;
} buf;

static size_t on_write(char *d, size_t sz, size_t nm, void *u) {
    buf *b = u;
    size_t n = sz * nm;
    b->p = realloc(b->p, b->n + n + 1);
    memcpy(b->p + b->n, d, n);
    b->n += n;
    b->p[b->n] = '\0';
    return n;
}

typedef struct result {
    long status;
    buf body;
    char ctype[128];
    char allow[64];
    curl_off_t dl_len; /* Content-Length header seen (-1 when none) */
} result;

static size_t on_header(char *d, size_t sz, size_t nm, void *u) {
    result *r = u;
    size_t n = sz * nm;
    if (n > 6 && strncasecmp(d, "Allow:", 6) == 0) {
        snprintf(r->allow, sizeof r->allow, "%.*s", (int)(n - 7), d + 7);
        char *e = strpbrk(r->allow, "\r\n");
        if (e) *e = '\0';
    }
    return n;
}

static void req(CURL *c, uint16_t port, const char *method, const char *path, const char *body,
                size_t len, struct curl_slist *hdrs, result *r) {
    char url[512];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", (unsigned)port, path);
    memset(r, 0, sizeof *r);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, NULL);
    curl_easy_setopt(c, CURLOPT_NOBODY, 0L);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    } else if (body) {
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
        if (strcmp(method, "POST") != 0) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) printf("curl: %s\n", curl_easy_strerror(rc));
    assert_int_equal(rc, CURLE_OK);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(r->ctype, sizeof r->ctype, "%s", ct ? ct : "");
    curl_easy_getinfo(c, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &r->dl_len);
    if (!r->body.p) r->body.p = calloc(1, 1);
}

static void result_free(result *r) {
    free(r->body.p);
}

/* gzip-compresses src into a malloc'd buffer */
static unsigned char *gz(const void *src, size_t n, size_t *out_n) {
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY), Z_OK);
    size_t cap = deflateBound(&z, n) + 64;
    unsigned char *o = malloc(cap);
    z.next_in = (Bytef *)(uintptr_t)src;
    z.avail_in = (uInt)n;
    z.next_out = o;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    *out_n = cap - z.avail_out;
    deflateEnd(&z);
    return o;
}

/* ---- tests ---- */

static void test_routing(void **state) {
    (void)state;
    mw_http_server *s = start(0, 5);
    CURL *c = curl_easy_init();
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "X-Test: hello");
    h = curl_slist_append(h, "Content-Type: application/x-ndjson");
    static const char body[] = "{\"a\":1}\n\0{\"b\":2}\n";
    result r;
    req(c, mw_http_port(s), "POST", "/api/v1/a%20b?x=1&a+b=c%26d&y", body, sizeof body - 1, h, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.p, "{\"len\":17}");
    assert_string_equal(r.ctype, "application/json");
    assert_string_equal(g_seen.method, "POST");
    assert_string_equal(g_seen.path, "/api/v1/a b");
    assert_string_equal(g_seen.query, "x=1&a+b=c%26d&y");
    assert_string_equal(g_seen.ctype, "application/x-ndjson");
    assert_string_equal(g_seen.xtest, "hello");
    assert_int_equal(g_seen.qa_rc, 1);
    assert_string_equal(g_seen.qa, "c&d");
    assert_int_equal(g_seen.body_len, sizeof body - 1);
    assert_memory_equal(g_seen.body, body, sizeof body - 1);
    assert_int_equal(g_seen.body[g_seen.body_len], '\0');
    result_free(&r);

    /* GET without body or query; keep-alive on the same handle */
    req(c, mw_http_port(s), "GET", "/healthz", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(g_seen.method, "GET");
    assert_string_equal(g_seen.query, "");
    assert_string_equal(g_seen.xtest, "(none)");
    assert_int_equal(g_seen.qa_rc, 0);
    assert_int_equal(g_seen.body_len, 0);
    long conns = -1;
    curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns);
    assert_int_equal(conns, 0); /* reused */
    result_free(&r);

    /* HEAD: handler sees GET + is_head, client gets headers only */
    req(c, mw_http_port(s), "HEAD", "/healthz", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(g_seen.method, "GET");
    assert_int_equal(g_seen.is_head, 1);
    assert_int_equal(r.body.n, 0);
    assert_int_equal(r.dl_len, 9); /* length of the would-be body {"len":0} */
    result_free(&r);

    /* unknown method reaches the handler, which answers 405 with Allow */
    req(c, mw_http_port(s), "FROB", "/x", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 405);
    assert_string_equal(g_seen.method, "FROB");
    assert_string_equal(r.allow, "GET, POST");
    assert_string_equal(r.body.p,
                        "{\"error\":{\"code\":\"method_not_allowed\",\"message\":\"use GET or "
                        "POST\"}}");
    result_free(&r);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    mw_http_stop(s);
    mw_http_stop(NULL);
}

static void test_query_param(void **state) {
    (void)state;
    mw_http_request r;
    memset(&r, 0, sizeof r);
    r.query = "model=fraud&v=%33&empty=&flag&long=abcdefghij&bad=%zz";
    char out[8];
    assert_int_equal(mw_http_query_param(&r, "model", out, sizeof out), 1);
    assert_string_equal(out, "fraud");
    assert_int_equal(mw_http_query_param(&r, "v", out, sizeof out), 1);
    assert_string_equal(out, "3");
    assert_int_equal(mw_http_query_param(&r, "empty", out, sizeof out), 1);
    assert_string_equal(out, "");
    assert_int_equal(mw_http_query_param(&r, "flag", out, sizeof out), 1);
    assert_string_equal(out, "");
    assert_int_equal(mw_http_query_param(&r, "long", out, sizeof out), -1);
    assert_string_equal(out, "");
    assert_int_equal(mw_http_query_param(&r, "bad", out, sizeof out), 1);
    assert_string_equal(out, "%zz");
    assert_int_equal(mw_http_query_param(&r, "missing", out, sizeof out), 0);
    assert_int_equal(mw_http_query_param(&r, "mod", out, sizeof out), 0);
}

static void test_error_format(void **state) {
    (void)state;
    mw_http_server *s = start(0, 5);
    CURL *c = curl_easy_init();
    result r;
    req(c, mw_http_port(s), "GET", "/err", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 422);
    assert_string_equal(r.ctype, "application/json");
    assert_string_equal(r.body.p, "{\"error\":{\"code\":\"invalid_record\",\"message\":\"line 3: "
                                  "feature \\\"amount\\\": expected a number, got "
                                  "\\\"abc\\\"\",\"line\":3}}");
    result_free(&r);
    req(c, mw_http_port(s), "GET", "/err0", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(r.body.p,
                        "{\"error\":{\"code\":\"not_found\",\"message\":\"no\\\\such\\nthing\"}}");
    result_free(&r);
    curl_easy_cleanup(c);
    mw_http_stop(s);

    /* helpers on their own */
    mw_http_response resp;
    memset(&resp, 0, sizeof resp);
    mw_http_set_error(&resp, 400, "bad", "ctl\x01", 0);
    assert_string_equal(resp.body, "{\"error\":{\"code\":\"bad\",\"message\":\"ctl\\u0001\"}}");
    assert_int_equal(resp.body_len, strlen(resp.body));
    free(resp.body);
    memset(&resp, 0, sizeof resp);
    assert_int_equal(mw_http_add_header(&resp, "Bad Name", "x"), MW_EINVAL);
    assert_int_equal(mw_http_add_header(&resp, "X-A", "a\r\nInjected: 1"), MW_EINVAL);
    for (int i = 0; i < MW_HTTP_MAX_EXTRA_HEADERS; i++)
        assert_int_equal(mw_http_add_header(&resp, "X-A", "1"), MW_OK);
    assert_int_equal(mw_http_add_header(&resp, "X-A", "1"), MW_ERANGE);
}

static void check_error(result *r, long status, const char *code) {
    assert_int_equal(r->status, status);
    char want[64];
    snprintf(want, sizeof want, "{\"error\":{\"code\":\"%s\",\"message\":\"", code);
    assert_true(strncmp(r->body.p, want, strlen(want)) == 0);
    assert_string_equal(r->ctype, "application/json");
}

typedef struct feeder {
    size_t sent, total;
} feeder;

static size_t feed(char *d, size_t sz, size_t nm, void *u) {
    feeder *f = u;
    size_t n = sz * nm;
    if (n > 4096) n = 4096;
    if (n > f->total - f->sent) n = f->total - f->sent;
    memset(d, 'x', n);
    f->sent += n;
    return n;
}

/* POSTs total bytes of 'x' with Transfer-Encoding: chunked. */
static CURLcode chunked(uint16_t port, size_t total, result *r, feeder *f) {
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    h = curl_slist_append(h, "Expect:");
    f->sent = 0;
    f->total = total;
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/echo", (unsigned)port);
    memset(r, 0, sizeof *r);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, feed);
    curl_easy_setopt(c, CURLOPT_READDATA, f);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}

static void test_body_limit(void **state) {
    (void)state;
    mw_http_server *s = start(1024, 5);
    CURL *c = curl_easy_init();
    result r;
    char *big = malloc(4096);
    memset(big, 'y', 4096);
    /* exactly the limit passes */
    req(c, mw_http_port(s), "POST", "/echo", big, 1024, NULL, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(r.body.p, "{\"len\":1024}");
    result_free(&r);
    /* Content-Length over the limit */
    int calls = g_seen.calls;
    req(c, mw_http_port(s), "POST", "/echo", big, 1025, NULL, &r);
    check_error(&r, 413, "payload_too_large");
    assert_int_equal(g_seen.calls, calls); /* handler not called */
    curl_easy_cleanup(c);
    feeder f;

    /* chunked, 512 KiB offered (limit 1 KiB): the rest is read and dropped,
     * then the 413 arrives */
    result_free(&r);
    CURLcode rc = chunked(mw_http_port(s), (size_t)512 << 10, &r, &f);
    printf("chunked 512 KiB over a 1 KiB limit: curl rc %d, status %ld\n", (int)rc, r.status);
    assert_int_equal(rc, CURLE_OK);
    assert_int_equal(r.status, 413);
    assert_non_null(r.body.p);
    assert_true(strstr(r.body.p, "\"payload_too_large\"") != NULL);
    assert_int_equal(g_seen.calls, calls);
    result_free(&r);
    /* chunked, 50 MiB offered: cut off long before the end */
    rc = chunked(mw_http_port(s), (size_t)50 << 20, &r, &f);
    printf("chunked 50 MiB over a 1 KiB limit: curl rc %d (%s), status %ld, %zu bytes sent\n",
           (int)rc, curl_easy_strerror(rc), r.status, f.sent);
    assert_int_not_equal(rc, CURLE_OK);
    assert_true(f.sent < f.total / 4);
    result_free(&r);
    c = curl_easy_init();
    req(c, mw_http_port(s), "GET", "/healthz", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    result_free(&r);
    curl_easy_cleanup(c);
    free(big);
    mw_http_stop(s);
}

static void test_gzip(void **state) {
    (void)state;
    mw_http_server *s = start(1 << 20, 5);
    CURL *c = curl_easy_init();
    struct curl_slist *h = curl_slist_append(NULL, "Content-Encoding: gzip");
    result r;
    /* decoded, including two concatenated members */
    const char *text = "{\"model\":\"fraud\",\"features\":{\"amount\":12.5}}\n";
    size_t n1, n2;
    unsigned char *g1 = gz(text, strlen(text), &n1), *g2 = gz(text, strlen(text), &n2);
    unsigned char *both = malloc(n1 + n2);
    memcpy(both, g1, n1);
    memcpy(both + n1, g2, n2);
    req(c, mw_http_port(s), "POST", "/echo", (const char *)g1, n1, h, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(g_seen.body_len, strlen(text));
    assert_string_equal(g_seen.body, text);
    result_free(&r);
    req(c, mw_http_port(s), "POST", "/echo", (const char *)both, n1 + n2, h, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(g_seen.body_len, 2 * strlen(text));
    result_free(&r);

    /* bomb: 64 MiB of zeros in ~64 KB, limit 1 MiB decoded */
    size_t big = (size_t)64 << 20, nb;
    char *zeros = calloc(1, big);
    unsigned char *bomb = gz(zeros, big, &nb);
    free(zeros);
    printf("gzip bomb: %zu compressed bytes -> %zu decoded\n", nb, big);
    int calls = g_seen.calls;
    req(c, mw_http_port(s), "POST", "/echo", (const char *)bomb, nb, h, &r);
    check_error(&r, 413, "payload_too_large");
    assert_true(strstr(r.body.p, "after gzip decoding") != NULL);
    assert_int_equal(g_seen.calls, calls);
    result_free(&r);

    /* malformed: not gzip at all; corrupted header; truncated stream */
    req(c, mw_http_port(s), "POST", "/echo", "plain text, not gzip", 20, h, &r);
    check_error(&r, 400, "invalid_gzip");
    result_free(&r);
    unsigned char *bad = malloc(n1);
    memcpy(bad, g1, n1);
    bad[n1 / 2] ^= 0x5a;
    bad[n1 / 2 + 1] ^= 0xa5;
    req(c, mw_http_port(s), "POST", "/echo", (const char *)bad, n1, h, &r);
    check_error(&r, 400, "invalid_gzip");
    result_free(&r);
    req(c, mw_http_port(s), "POST", "/echo", (const char *)g1, n1 - 6, h, &r);
    check_error(&r, 400, "invalid_gzip");
    assert_true(strstr(r.body.p, "truncated") != NULL);
    result_free(&r);
    assert_int_equal(g_seen.calls, calls);

    /* unsupported encoding */
    struct curl_slist *h2 = curl_slist_append(NULL, "Content-Encoding: br");
    req(c, mw_http_port(s), "POST", "/echo", "abc", 3, h2, &r);
    check_error(&r, 415, "unsupported_encoding");
    result_free(&r);
    curl_slist_free_all(h2);
    h2 = curl_slist_append(NULL, "Content-Encoding: identity");
    req(c, mw_http_port(s), "POST", "/echo", "abc", 3, h2, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(g_seen.body, "abc");
    result_free(&r);
    curl_slist_free_all(h2);

    /* the server still serves */
    req(c, mw_http_port(s), "GET", "/healthz", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    result_free(&r);
    free(g1);
    free(g2);
    free(both);
    free(bad);
    free(bomb);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    mw_http_stop(s);
}

typedef struct worker {
    uint16_t port;
    int ok;
    long connects;
} worker;

static void *client_thread(void *p) {
    worker *w = p;
    CURL *c = curl_easy_init();
    char url[128];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/echo", (unsigned)w->port);
    for (int i = 0; i < 3; i++) {
        buf b = {0};
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "hello");
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
        long st = 0, nc = 0;
        if (curl_easy_perform(c) == CURLE_OK) {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
            curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &nc);
            if (st == 200 && b.p && strcmp(b.p, "{\"len\":5}") == 0) w->ok++;
            w->connects += nc;
        }
        free(b.p);
    }
    curl_easy_cleanup(c);
    return NULL;
}

static void test_concurrent(void **state) {
    (void)state;
    mw_http_server *s = start(0, 10);
    enum { N = 100 };
    pthread_t t[N];
    worker w[N];
    for (int i = 0; i < N; i++) {
        w[i] = (worker){mw_http_port(s), 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, client_thread, &w[i]), 0);
    }
    int ok = 0;
    long connects = 0;
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        ok += w[i].ok;
        connects += w[i].connects;
    }
    printf("concurrent: %d/%d requests ok over %ld connections\n", ok, 3 * N, connects);
    assert_int_equal(ok, 3 * N);
    assert_int_equal(connects, N); /* one connection per client: keep-alive */
    mw_http_stop(s);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int raw_connect(uint16_t port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a;
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

static void test_slow_client(void **state) {
    (void)state;
    mw_http_server *s = start(0, 1); /* 1 s idle timeout */
    /* several slow clients: more than the pool has threads */
    int fds[8];
    for (int i = 0; i < 8; i++) {
        fds[i] = raw_connect(mw_http_port(s));
        const char *half = "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Le";
        assert_true(send(fds[i], half, strlen(half), 0) > 0);
    }
    /* others are served at once */
    CURL *c = curl_easy_init();
    result r;
    double t0 = now_s();
    for (int i = 0; i < 5; i++) {
        req(c, mw_http_port(s), "GET", "/healthz", NULL, 0, NULL, &r);
        assert_int_equal(r.status, 200);
        result_free(&r);
    }
    double took = now_s() - t0;
    printf("slow clients: 5 requests served in %.1f ms while 8 clients stall\n", took * 1e3);
    assert_true(took < 0.9);
    /* the stalled clients are dropped after the timeout */
    t0 = now_s();
    for (int i = 0; i < 8; i++) {
        struct pollfd p = {fds[i], POLLIN, 0};
        int pr = poll(&p, 1, 5000);
        assert_int_equal(pr, 1);
        char b[256];
        ssize_t got = recv(fds[i], b, sizeof b, 0);
        assert_true(got <= 0); /* closed, no answer */
        close(fds[i]);
    }
    double dropped = now_s() - t0;
    printf("slow clients dropped after %.2f s (timeout 1 s)\n", dropped);
    assert_true(dropped < 4.0);
    /* a connection that never sends anything is dropped too */
    int fd = raw_connect(mw_http_port(s));
    struct pollfd p = {fd, POLLIN, 0};
    assert_int_equal(poll(&p, 1, 5000), 1);
    char b[16];
    assert_true(recv(fd, b, sizeof b, 0) <= 0);
    close(fd);
    /* still serving */
    req(c, mw_http_port(s), "GET", "/healthz", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    result_free(&r);
    curl_easy_cleanup(c);
    mw_http_stop(s);
}

static void test_garbage(void **state) {
    (void)state;
    mw_http_server *s = start(1024, 2);
    const char *inputs[] = {
        "\x00\x01\x02\xff\r\n\r\n",
        "GET\r\n\r\n",
        "GET / HTTP/9.9\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
        "GET /%zz%00%?a=%ff&&&==& HTTP/1.1\r\nHost: x\r\n\r\n",
        ("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\nContent-Length: "
         "3\r\n\r\n\x1f\x8b\x08"),
    };
    for (size_t i = 0; i < sizeof inputs / sizeof *inputs; i++) {
        int fd = raw_connect(mw_http_port(s));
        size_t n = i == 0 ? 8 : strlen(inputs[i]);
        send(fd, inputs[i], n, MSG_NOSIGNAL);
        shutdown(fd, SHUT_WR);
        struct pollfd p = {fd, POLLIN, 0};
        poll(&p, 1, 3000);
        char b[512];
        while (recv(fd, b, sizeof b, 0) > 0) {
        }
        close(fd);
    }
    CURL *c = curl_easy_init();
    result r;
    req(c, mw_http_port(s), "GET", "/healthz", NULL, 0, NULL, &r);
    assert_int_equal(r.status, 200);
    result_free(&r);
    curl_easy_cleanup(c);
    mw_http_stop(s);
}

/* Finds the value of the sample line starting with prefix + ' '. */
static double sample(const char *text, const char *prefix) {
    size_t n = strlen(prefix);
    for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, prefix, n) == 0 && p[n] == ' ') return strtod(p + n + 1, NULL);
    }
    return -1;
}

static void test_metrics(void **state) {
    (void)state;
    mw_http_server *s = start(1024, 5);
    CURL *c = curl_easy_init();
    result r;
    for (int i = 0; i < 7; i++) {
        req(c, mw_http_port(s), "POST", "/echo", "12345", 5, NULL, &r);
        result_free(&r);
    }
    for (int i = 0; i < 2; i++) {
        req(c, mw_http_port(s), "GET", "/err", NULL, 0, NULL, &r);
        result_free(&r);
    }
    req(c, mw_http_port(s), "DELETE", "/x", NULL, 0, NULL, &r);
    result_free(&r);
    char big[2000];
    memset(big, 'z', sizeof big);
    req(c, mw_http_port(s), "POST", "/echo", big, sizeof big, NULL, &r); /* 413 */
    result_free(&r);
    curl_easy_cleanup(c);

    /* the completion callback may run just after the client has its answer */
    mw_expo e;
    mw_expo_init(&e, 0);
    double want_total = 11;
    for (int tries = 0; tries < 200; tries++) {
        mw_expo_reset(&e);
        assert_int_equal(mw_http_write_metrics(s, &e), MW_OK);
        double tot = 0;
        const char *keys[] = {
            "modelwatch_http_request_duration_seconds_count{route=\"/echo\",method=\"POST\",code="
            "\"200\"}",
            "modelwatch_http_request_duration_seconds_count{route=\"/err\",method=\"GET\",code="
            "\"422\"}",
            "modelwatch_http_request_duration_seconds_count{route=\"other\",method=\"DELETE\","
            "code=\"405\"}",
            "modelwatch_http_request_duration_seconds_count{route=\"other\",method=\"POST\",code="
            "\"413\"}",
        };
        for (int k = 0; k < 4; k++) {
            double v = sample(e.buf, keys[k]);
            if (v > 0) tot += v;
        }
        if (tot >= want_total) {
            assert_true(sample(e.buf, keys[0]) == 7);
            assert_true(sample(e.buf, keys[1]) == 2);
            assert_true(sample(e.buf, keys[2]) == 1);
            assert_true(sample(e.buf, keys[3]) == 1);
            break;
        }
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_true(sample(e.buf, "modelwatch_http_request_duration_seconds_bucket{route=\"/echo\","
                              "method=\"POST\",code=\"200\",le=\"+Inf\"}") == 7);
    /* 7 x 5 bytes; the 413 was refused from Content-Length before any byte */
    assert_true(sample(e.buf, "modelwatch_http_received_bytes_total") == 35);
    assert_non_null(strstr(e.buf, "# TYPE modelwatch_http_request_duration_seconds histogram\n"));
    assert_non_null(strstr(e.buf, "# TYPE modelwatch_http_received_bytes_total counter\n"));
    mw_expo_finish(&e);
    if (access("/usr/bin/promtool", X_OK) == 0) {
        FILE *p = popen("/usr/bin/promtool check metrics >/dev/null 2>&1", "w");
        assert_non_null(p);
        fwrite(e.buf, 1, e.len, p);
        assert_int_equal(pclose(p), 0);
        printf("promtool check metrics on the HTTP metrics: ok\n");
    } else {
        printf("note: /usr/bin/promtool not found, promtool check skipped\n");
    }
    mw_expo_free(&e);
    mw_http_stop(s);
}

static int count_fds(void) {
    int n = 0;
    for (int fd = 0; fd < 4096; fd++)
        if (fcntl(fd, F_GETFD) != -1) n++;
    return n;
}

static void test_start_errors(void **state) {
    (void)state;
    /* start/stop and failed starts leave no descriptor behind */
    int fds0 = count_fds();
    for (int i = 0; i < 3; i++)
        mw_http_stop(start(0, 5));
    mw_http_server *s = start(0, 5), *s2 = NULL;
    mw_http_options o;
    memset(&o, 0, sizeof o);
    o.port = mw_http_port(s);
    mw_error err;
    assert_int_not_equal(mw_http_start(&o, handler, &g_seen, &s2, &err), MW_OK);
    assert_null(s2);
    printf("busy port: %s\n", err.message);
    assert_non_null(strstr(err.message, "already in use"));
    o.port = 0;
    o.host = "no-such-host.invalid";
    assert_int_not_equal(mw_http_start(&o, handler, &g_seen, &s2, &err), MW_OK);
    printf("bad host: %s\n", err.message);
    assert_non_null(strstr(err.message, "no-such-host.invalid"));
    o.host = "192.0.2.1"; /* TEST-NET: not an address of this machine */
    assert_int_not_equal(mw_http_start(&o, handler, &g_seen, &s2, &err), MW_OK);
    printf("foreign address: %s\n", err.message);
    assert_int_equal(mw_http_start(&o, NULL, NULL, &s2, &err), MW_EINVAL);
    mw_http_stop(s);

    /* IPv6 loopback, when the machine has it */
    o.host = "[::1]";
    if (mw_http_start(&o, handler, &g_seen, &s2, &err) == MW_OK) {
        CURL *c = curl_easy_init();
        char url[64];
        snprintf(url, sizeof url, "http://[::1]:%u/healthz", (unsigned)mw_http_port(s2));
        buf b = {0};
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
        assert_int_equal(curl_easy_perform(c), CURLE_OK);
        long st;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &st);
        assert_int_equal(st, 200);
        free(b.p);
        curl_easy_cleanup(c);
        mw_http_stop(s2);
    } else {
        printf("note: IPv6 loopback unavailable (%s), skipped\n", err.message);
    }
    /* the port is free again after stop */
    s = start(0, 5);
    uint16_t port = mw_http_port(s);
    mw_http_stop(s);
    o.host = NULL;
    o.port = port;
    assert_int_equal(mw_http_start(&o, handler, &g_seen, &s2, &err), MW_OK);
    mw_http_stop(s2);
    assert_int_equal(count_fds(), fds0);
}

static int setup(void **state) {
    (void)state;
    curl_global_init(CURL_GLOBAL_ALL);
    pthread_mutex_init(&g_seen.mu, NULL);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    free(g_seen.body);
    curl_global_cleanup();
    return 0;
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_routing),      cmocka_unit_test(test_query_param),
        cmocka_unit_test(test_error_format), cmocka_unit_test(test_body_limit),
        cmocka_unit_test(test_gzip),         cmocka_unit_test(test_concurrent),
        cmocka_unit_test(test_slow_client),  cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_metrics),      cmocka_unit_test(test_start_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
