/*
 * HTTP server layer on libmicrohttpd (see http.h for the contract).
 *
 * How a request flows through libmicrohttpd's callbacks:
 *  1. uri_cb (MHD_OPTION_URI_LOG_CALLBACK) runs once the request line is read:
 *     it allocates the per-request state, starts the clock and keeps the raw
 *     query string (MHD only hands out parsed arguments).
 *  2. on_request, first call (headers complete): checks Content-Encoding
 *     (415) and Content-Length against the limit (413, before any body byte).
 *  3. on_request, calls with data: appends to the body, or inflates it
 *     (windowBits 15+16, concatenated gzip members accepted) while checking
 *     the decoded size. Past the limit the 413 is queued right away where
 *     libmicrohttpd allows it; 0.9.x accepts a response only before the body
 *     or after all of it, so there the rest of the body is read and thrown
 *     away (up to discard_allowance(), beyond which the connection is cut)
 *     and the 413 goes out at the end with "Connection: close". A body whose
 *     Content-Length is over the limit is refused before any byte is read.
 *  4. on_request, last call: malformed/truncated gzip -> 400; otherwise the
 *     handler runs and its response is queued.
 *  5. on_completed (MHD_OPTION_NOTIFY_COMPLETED): records the duration in the
 *     (route, method, code) histogram and frees the state.
 *
 * Invariants: all state hangs off mw_http_server (no globals). Series of the
 * duration metric are created under s->mu and never freed before stop, so a
 * pointer found under the lock can be observed without it (mw_histo is
 * atomic). Label values are bounded: method is one of a fixed list or
 * "other", code is 100..599, route is copied (<= 63 bytes) and the number of
 * series is capped (MAX_SERIES; excess requests go to route "other").
 * Every input is handled without crashing: on allocation failure the request
 * gets a 500 or the connection is closed.
 */
#include "server/http.h"

#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#define MAX_SERIES 1024
#define DEFAULT_MAX_BODY ((size_t)64 << 20)

typedef struct series {
    char route[64];
    const char *method; /* one of method_names */
    int code;
    mw_histo *h;
} series;

struct mw_http_server {
    struct MHD_Daemon *d;
    int listen_fd;
    uint16_t port;
    mw_http_handler handler;
    void *ctx;
    size_t max_body;
    _Atomic uint64_t received_bytes;
    _Atomic long in_flight;
    pthread_mutex_t mu; /* guards the series table */
    series *series;
    size_t nseries, capseries;
};

typedef struct req_state {
    mw_http_server *s;
    struct timespec t0;
    char *query; /* raw, malloc'd */
    int started; /* on_request has seen this request */
    int gzip;
    int done_queue; /* a response has been queued */
    int status;     /* queued status, for the metric */
    char route[64];
    const char *method;
    /* body */
    char *body;
    size_t len, cap;
    /* pending error found while receiving (sent at the next chance) */
    int err_status;
    const char *err_code;
    char err_msg[160];
    size_t discarded; /* raw bytes thrown away after an error */
    z_stream z;
    int z_init, z_end; /* inflate initialised; at the end of a gzip member */
} req_state;

static const char *const method_names[] = {"GET",     "HEAD",  "POST",    "PUT",  "DELETE",
                                           "OPTIONS", "PATCH", "CONNECT", "TRACE"};

static const char *method_label(const char *m) {
    for (size_t i = 0; i < sizeof method_names / sizeof *method_names; i++)
        if (strcmp(m, method_names[i]) == 0) return method_names[i];
    return "other";
}

static double elapsed_s(const struct timespec *t0) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* ---- response helpers ---- */

static char *dup_n(const char *s, size_t n) {
    char *p = malloc(n + 1);
    if (!p) return NULL;
    if (n) memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

void mw_http_set_body(mw_http_response *r, int status, const char *content_type, const char *body,
                      size_t len) {
    free(r->body);
    r->status = status;
    r->content_type = content_type;
    r->body = dup_n(body ? body : "", body ? len : 0);
    r->body_len = r->body ? len : 0;
    if (!r->body) r->status = 500;
}

void mw_http_set_json(mw_http_response *r, int status, const char *json) {
    mw_http_set_body(r, status, "application/json", json, json ? strlen(json) : 0);
}

/* Appends s JSON-escaped to out (capacity checked by the caller: 6 bytes per
 * input byte suffice). Invalid control bytes become \u00XX. */
static size_t json_escape(char *out, const char *s) {
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        switch (c) {
        case '"':
            out[k++] = '\\';
            out[k++] = '"';
            break;
        case '\\':
            out[k++] = '\\';
            out[k++] = '\\';
            break;
        case '\n':
            out[k++] = '\\';
            out[k++] = 'n';
            break;
        case '\r':
            out[k++] = '\\';
            out[k++] = 'r';
            break;
        case '\t':
            out[k++] = '\\';
            out[k++] = 't';
            break;
        default:
            if (c < 0x20) {
                k += (size_t)sprintf(out + k, "\\u%04x", c);
            } else {
                out[k++] = (char)c;
            }
        }
    }
    return k;
}

void mw_http_set_error(mw_http_response *r, int status, const char *code, const char *message,
                       uint64_t line) {
    if (!code) code = "error";
    if (!message) message = "";
    size_t cap = 64 + 6 * (strlen(code) + strlen(message)) + 32;
    char *b = malloc(cap);
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
    r->content_type = "application/json";
    if (!b) {
        r->status = 500;
        return;
    }
    size_t k = 0;
    k += (size_t)sprintf(b + k, "{\"error\":{\"code\":\"");
    k += json_escape(b + k, code);
    k += (size_t)sprintf(b + k, "\",\"message\":\"");
    k += json_escape(b + k, message);
    b[k++] = '"';
    if (line) k += (size_t)sprintf(b + k, ",\"line\":%llu", (unsigned long long)line);
    k += (size_t)sprintf(b + k, "}}");
    r->status = status;
    r->body = b;
    r->body_len = k;
}

static int token_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

mw_status mw_http_add_header(mw_http_response *r, const char *name, const char *value) {
    if (!name || !*name || !value) return MW_EINVAL;
    if (strlen(name) >= sizeof r->header_name[0] || strlen(value) >= sizeof r->header_value[0])
        return MW_EINVAL;
    for (const char *p = name; *p; p++)
        if (!token_char(*p)) return MW_EINVAL;
    for (const char *p = value; *p; p++)
        if (*p == '\r' || *p == '\n') return MW_EINVAL;
    if (r->nheaders >= MW_HTTP_MAX_EXTRA_HEADERS) return MW_ERANGE;
    strcpy(r->header_name[r->nheaders], name);
    strcpy(r->header_value[r->nheaders], value);
    r->nheaders++;
    return MW_OK;
}

/* ---- request helpers ---- */

const char *mw_http_header(const mw_http_request *r, const char *name) {
    if (!r || !r->conn || !name) return NULL;
    return MHD_lookup_connection_value((struct MHD_Connection *)r->conn, MHD_HEADER_KIND, name);
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Decodes [s, e) (percent and '+') into out; returns the length or -1 when it
 * does not fit (outsz includes the NUL). out may be NULL to only measure. */
static long query_decode(const char *s, const char *e, char *out, size_t outsz) {
    size_t k = 0;
    while (s < e) {
        char c = *s++;
        if (c == '+') {
            c = ' ';
        } else if (c == '%' && e - s >= 2 && hexval(s[0]) >= 0 && hexval(s[1]) >= 0) {
            c = (char)(hexval(s[0]) * 16 + hexval(s[1]));
            s += 2;
        }
        if (out) {
            if (k + 1 >= outsz) return -1;
            out[k] = c;
        }
        k++;
    }
    if (out) out[k] = '\0';
    return (long)k;
}

int mw_http_query_param(const mw_http_request *r, const char *name, char *out, size_t outsz) {
    if (out && outsz) out[0] = '\0';
    if (!r || !r->query || !name) return 0;
    const char *p = r->query;
    size_t nlen = strlen(name);
    while (*p) {
        const char *amp = strchr(p, '&');
        const char *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        const char *kend = eq ? eq : end;
        /* compare the decoded key with name */
        char key[256];
        long kl = query_decode(p, kend, key, sizeof key);
        if (kl >= 0 && (size_t)kl == nlen && memcmp(key, name, nlen) == 0) {
            if (!out || !outsz) return 1;
            if (!eq) return 1;
            if (query_decode(eq + 1, end, out, outsz) < 0) {
                out[0] = '\0';
                return -1;
            }
            return 1;
        }
        p = amp ? amp + 1 : end;
    }
    return 0;
}

/* ---- metrics ---- */

static void record(mw_http_server *s, const char *route, const char *method, int code,
                   double secs) {
    mw_histo *h = NULL;
    pthread_mutex_lock(&s->mu);
    for (int pass = 0; pass < 2 && !h; pass++) {
        for (size_t i = 0; i < s->nseries; i++) {
            series *x = &s->series[i];
            if (x->code == code && x->method == method && strcmp(x->route, route) == 0) {
                h = x->h;
                break;
            }
        }
        if (h) break;
        if (s->nseries < MAX_SERIES) {
            if (s->nseries == s->capseries) {
                size_t nc = s->capseries ? s->capseries * 2 : 16;
                series *ns = realloc(s->series, nc * sizeof *ns);
                if (!ns) break;
                s->series = ns;
                s->capseries = nc;
            }
            series *x = &s->series[s->nseries];
            if (mw_histo_new(mw_histo_default_seconds, 11, &x->h) != MW_OK) break;
            snprintf(x->route, sizeof x->route, "%s", route);
            x->method = method;
            x->code = code;
            h = x->h;
            s->nseries++;
        } else {
            route = "other"; /* table full: fold into the catch-all route */
        }
    }
    pthread_mutex_unlock(&s->mu);
    if (h) mw_histo_observe(h, secs);
}

mw_status mw_http_write_metrics(mw_http_server *s, mw_expo *e) {
    mw_status st = mw_expo_family(e, "modelwatch_http_request_duration_seconds", MW_EXPO_HISTOGRAM,
                                  "Time from the request line to the end of the response.");
    if (st != MW_OK) return st;
    const char *names[3] = {"route", "method", "code"};
    pthread_mutex_lock(&s->mu);
    for (size_t i = 0; i < s->nseries && st == MW_OK; i++) {
        char code[8];
        snprintf(code, sizeof code, "%d", s->series[i].code);
        const char *values[3] = {s->series[i].route, s->series[i].method, code};
        st = mw_expo_histo(e, names, values, 3, s->series[i].h);
    }
    pthread_mutex_unlock(&s->mu);
    if (st != MW_OK) return st;
    st = mw_expo_family(e, "modelwatch_http_received_bytes_total", MW_EXPO_COUNTER,
                        "Request body bytes received, before decoding.");
    if (st != MW_OK) return st;
    return mw_expo_sample_u64(e, NULL, NULL, NULL, 0,
                              atomic_load_explicit(&s->received_bytes, memory_order_relaxed));
}

/* ---- libmicrohttpd callbacks ---- */

/* How many raw bytes past an error the server reads (and throws away) so that
 * the client still gets the answer: the body limit, within [1 MiB, 64 MiB]. */
static size_t discard_allowance(const mw_http_server *s) {
    size_t a = s->max_body;
    if (a < ((size_t)1 << 20)) a = (size_t)1 << 20;
    if (a > ((size_t)64 << 20)) a = (size_t)64 << 20;
    return a;
}

static void *uri_cb(void *cls, const char *uri, struct MHD_Connection *c) {
    (void)c;
    mw_http_server *s = cls;
    req_state *st = calloc(1, sizeof *st);
    if (!st) return NULL; /* on_request then closes the connection */
    st->s = s;
    clock_gettime(CLOCK_MONOTONIC, &st->t0);
    const char *q = uri ? strchr(uri, '?') : NULL;
    if (q) {
        const char *hash = strchr(q + 1, '#');
        size_t n = hash ? (size_t)(hash - q - 1) : strlen(q + 1);
        st->query = dup_n(q + 1, n);
        if (!st->query) {
            free(st);
            return NULL;
        }
    }
    snprintf(st->route, sizeof st->route, "other");
    atomic_fetch_add(&s->in_flight, 1);
    return st;
}

static void free_state(req_state *st) {
    if (st->z_init) inflateEnd(&st->z);
    free(st->body);
    free(st->query);
    free(st);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe) {
    (void)c;
    (void)toe;
    mw_http_server *s = cls;
    req_state *st = *con_cls;
    if (!st) return;
    if (st->done_queue && st->method)
        record(s, st->route, st->method, st->status, elapsed_s(&st->t0));
    atomic_fetch_sub(&s->in_flight, 1);
    free_state(st);
    *con_cls = NULL;
}

/* Queues resp (taking its body) on c. Returns MHD_YES/MHD_NO. */
static enum MHD_Result send_response(struct MHD_Connection *c, req_state *st,
                                     mw_http_response *resp, int close_after) {
    if (resp->status < 100 || resp->status > 599) resp->status = 500;
    struct MHD_Response *r = MHD_create_response_from_buffer(
        resp->body ? resp->body_len : 0, resp->body ? resp->body : (void *)"",
        resp->body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(resp->body);
        resp->body = NULL;
        return MHD_NO;
    }
    resp->body = NULL; /* owned by r now */
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                            resp->content_type && *resp->content_type ? resp->content_type
                                                                      : "application/json");
    for (unsigned i = 0; i < resp->nheaders && i < MW_HTTP_MAX_EXTRA_HEADERS; i++)
        MHD_add_response_header(r, resp->header_name[i], resp->header_value[i]);
    if (close_after) MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)resp->status, r);
    MHD_destroy_response(r);
    if (ret == MHD_YES) {
        st->done_queue = 1;
        st->status = resp->status;
    }
    return ret;
}

static enum MHD_Result send_error(struct MHD_Connection *c, req_state *st, int status,
                                  const char *code, const char *msg, int close_after) {
    mw_http_response resp;
    memset(&resp, 0, sizeof resp);
    mw_http_set_error(&resp, status, code, msg, 0);
    return send_response(c, st, &resp, close_after);
}

static void set_pending(req_state *st, int status, const char *code, const char *msg) {
    if (st->err_status) return;
    st->err_status = status;
    st->err_code = code;
    snprintf(st->err_msg, sizeof st->err_msg, "%s", msg);
}

static void too_large(req_state *st) {
    char msg[160];
    snprintf(msg, sizeof msg, "request body exceeds the limit of %zu bytes%s", st->s->max_body,
             st->gzip ? " (after gzip decoding)" : "");
    set_pending(st, 413, "payload_too_large", msg);
}

/* Appends n bytes to the body, enforcing the limit. 0 on failure (pending set). */
static int body_append(req_state *st, const char *p, size_t n) {
    if (n > st->s->max_body - st->len) {
        too_large(st);
        return 0;
    }
    if (st->len + n + 1 > st->cap) {
        size_t nc = st->cap ? st->cap : 4096;
        while (nc < st->len + n + 1)
            nc *= 2;
        if (nc > st->s->max_body + 1) nc = st->s->max_body + 1;
        char *b = realloc(st->body, nc);
        if (!b) {
            set_pending(st, 500, "internal", "out of memory while receiving the body");
            return 0;
        }
        st->body = b;
        st->cap = nc;
    }
    memcpy(st->body + st->len, p, n);
    st->len += n;
    return 1;
}

/* Inflates n bytes of gzip input into the body. 0 on failure (pending set). */
static int body_inflate(req_state *st, const char *p, size_t n) {
    if (!st->z_init) {
        memset(&st->z, 0, sizeof st->z);
        if (inflateInit2(&st->z, 15 + 16) != Z_OK) {
            set_pending(st, 500, "internal", "cannot initialise gzip decoding");
            return 0;
        }
        st->z_init = 1;
    }
    st->z.next_in = (Bytef *)(uintptr_t)p;
    st->z.avail_in = (uInt)n; /* MHD chunks are far below 4 GiB */
    char out[16384];
    while (st->z.avail_in > 0) {
        if (st->z_end) { /* another gzip member follows */
            if (inflateReset(&st->z) != Z_OK) return 0;
            st->z_end = 0;
        }
        st->z.next_out = (Bytef *)out;
        st->z.avail_out = sizeof out;
        int rc = inflate(&st->z, Z_NO_FLUSH);
        size_t got = sizeof out - st->z.avail_out;
        if (got && !body_append(st, out, got)) return 0;
        if (rc == Z_STREAM_END) {
            st->z_end = 1;
        } else if (rc == Z_BUF_ERROR && got == 0) {
            break; /* needs more input */
        } else if (rc != Z_OK) {
            char msg[160];
            snprintf(msg, sizeof msg, "malformed gzip body: %s",
                     st->z.msg ? st->z.msg : "inflate failed");
            set_pending(st, 400, "invalid_gzip", msg);
            return 0;
        }
    }
    return 1;
}

static int parse_encoding(const char *v, int *gzip) {
    *gzip = 0;
    if (!v) return 1;
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = strlen(v);
    while (n && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    if (n == 0 || (n == 8 && strncasecmp(v, "identity", 8) == 0)) return 1;
    if ((n == 4 && strncasecmp(v, "gzip", 4) == 0) ||
        (n == 6 && strncasecmp(v, "x-gzip", 6) == 0)) {
        *gzip = 1;
        return 1;
    }
    return 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **con_cls) {
    (void)version;
    mw_http_server *s = cls;
    req_state *st = *con_cls;
    if (!st) return MHD_NO; /* out of memory in uri_cb: drop the connection */

    if (!st->started) {
        st->started = 1;
        st->method = method_label(method ? method : "");
        const char *ce =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_ENCODING);
        if (!parse_encoding(ce, &st->gzip)) {
            char msg[160];
            snprintf(msg, sizeof msg,
                     "Content-Encoding \"%.60s\" is not supported (use gzip or none)", ce);
            return send_error(c, st, 415, "unsupported_encoding", msg, 1);
        }
        const char *cl =
            MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(cl, &end, 10);
            if (errno == ERANGE || v > (unsigned long long)s->max_body) {
                too_large(st);
                return send_error(c, st, st->err_status, st->err_code, st->err_msg, 1);
            }
            /* the whole body at once: growing it by doubling copied a 400 KB
             * batch ~7 times (memmove was 6 % of the daemon under wrk); up to
             * 16 MB, so that a header alone cannot reserve more */
            if (!st->gzip && v > 0 && v <= ((unsigned long long)16 << 20) && *end == 0 &&
                !st->body) {
                st->body = malloc((size_t)v + 1);
                st->cap = st->body ? (size_t)v + 1 : 0;
            }
        }
        return MHD_YES;
    }

    if (*upload_size > 0) {
        size_t n = *upload_size;
        *upload_size = 0;
        if (st->done_queue) return MHD_YES; /* answered already: discard */
        atomic_fetch_add_explicit(&s->received_bytes, n, memory_order_relaxed);
        if (!st->err_status) {
            if (st->gzip)
                body_inflate(st, upload, n);
            else
                body_append(st, upload, n);
            if (st->err_status == 413) {
                /* Answer now where libmicrohttpd allows it (MHD then closes
                 * the connection instead of reading the rest). 0.9.x only
                 * accepts a response before the body or after all of it. */
                if (send_error(c, st, st->err_status, st->err_code, st->err_msg, 1) == MHD_YES)
                    return MHD_YES;
            }
        }
        if (st->err_status) {
            /* Discard the rest and answer at the end, so that the client
             * reads the error; but a client that keeps sending far past
             * the limit is cut off. */
            st->discarded += n;
            if (st->discarded > discard_allowance(s)) return MHD_NO;
        }
        return MHD_YES;
    }

    /* the whole request is in */
    if (st->done_queue) return MHD_YES;
    if (!st->err_status && st->gzip && st->z_init && !st->z_end)
        set_pending(st, 400, "invalid_gzip", "malformed gzip body: truncated stream");
    if (st->err_status)
        return send_error(c, st, st->err_status, st->err_code, st->err_msg, st->err_status == 413);

    if (!st->body) {
        st->body = malloc(1);
        if (!st->body) return MHD_NO;
    }
    st->body[st->len] = '\0';
    int is_head = method && strcmp(method, "HEAD") == 0;
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    const char *ac = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT);
    mw_http_request req = {
        .method = is_head ? "GET" : (method ? method : ""),
        .path = url ? url : "/",
        .query = st->query ? st->query : "",
        .body = st->body,
        .body_len = st->len,
        .content_type = ct ? ct : "",
        .accept = ac ? ac : "",
        .is_head = is_head,
        .conn = c,
    };
    mw_http_response resp;
    memset(&resp, 0, sizeof resp);
    resp.status = 200;
    resp.content_type = "application/json";
    resp.route = "other";
    s->handler(&req, &resp, s->ctx);
    snprintf(st->route, sizeof st->route, "%s", resp.route && *resp.route ? resp.route : "other");
    /* the body is no longer needed: free it before the response goes out */
    free(st->body);
    st->body = NULL;
    st->len = st->cap = 0;
    char ctype[128];
    snprintf(ctype, sizeof ctype, "%s", resp.content_type ? resp.content_type : "");
    for (char *p = ctype; *p; p++)
        if (*p == '\r' || *p == '\n') *p = ' ';
    resp.content_type = ctype;
    return send_response(c, st, &resp, 0);
}

/* ---- start / stop ---- */

static mw_status open_listener(const char *host, uint16_t port, int *fd_out, uint16_t *bound,
                               mw_error *err) {
    *fd_out = -1;
    char h[256];
    snprintf(h, sizeof h, "%s", host && *host ? host : "127.0.0.1");
    size_t hl = strlen(h);
    if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') { /* "[::1]" */
        memmove(h, h + 1, hl - 2);
        h[hl - 2] = '\0';
    }
    char ps[8];
    snprintf(ps, sizeof ps, "%u", (unsigned)port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    int gai = getaddrinfo(h, ps, &hints, &res);
    if (gai != 0 || !res)
        return mw_error_set(err, MW_EINVAL, "", 0, 0, "cannot listen on host \"%s\": %s", h,
                            gai ? gai_strerror(gai) : "no address");
    int fd = -1, saved = 0;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 511) == 0) break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        if (saved == EADDRINUSE)
            return mw_error_set(err, MW_EIO, "", 0, 0,
                                "port %u on %s is already in use (another process is listening "
                                "there; choose another port)",
                                (unsigned)port, h);
        if (saved == EACCES)
            return mw_error_set(err, MW_EIO, "", 0, 0,
                                "not allowed to listen on %s port %u (ports below 1024 need "
                                "privileges)",
                                h, (unsigned)port);
        if (saved == EADDRNOTAVAIL)
            return mw_error_set(err, MW_EINVAL, "", 0, 0,
                                "address %s is not available on this machine", h);
        return mw_error_set(err, MW_EIO, "", 0, 0, "cannot listen on %s port %u: %s", h,
                            (unsigned)port, strerror(saved));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    *bound = port;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0) {
        if (ss.ss_family == AF_INET) *bound = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        if (ss.ss_family == AF_INET6) *bound = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    *fd_out = fd;
    return MW_OK;
}

static void mhd_log(void *cls, const char *fmt, va_list ap) {
    (void)cls;
    (void)fmt;
    (void)ap; /* the server never prints; errors reach callers as statuses */
}

mw_status mw_http_start(const mw_http_options *o, mw_http_handler h, void *ctx,
                        mw_http_server **out, mw_error *err) {
    mw_error_clear(err);
    *out = NULL;
    if (!h) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no request handler given");
    mw_http_options def;
    memset(&def, 0, sizeof def);
    if (!o) o = &def;
    mw_http_server *s = calloc(1, sizeof *s);
    if (!s) return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory starting the server");
    s->handler = h;
    s->ctx = ctx;
    s->max_body = o->max_body_bytes ? o->max_body_bytes : DEFAULT_MAX_BODY;
    if (s->max_body > ((size_t)-1) / 4) s->max_body = ((size_t)-1) / 4;
    atomic_init(&s->received_bytes, 0);
    atomic_init(&s->in_flight, 0);
    pthread_mutex_init(&s->mu, NULL);
    mw_status st = open_listener(o->host, o->port, &s->listen_fd, &s->port, err);
    if (st != MW_OK) {
        pthread_mutex_destroy(&s->mu);
        free(s);
        return st;
    }
    unsigned threads = o->threads; /* 0: a thread per connection (http.h says why) */
    if (threads > 256) threads = 256;
    unsigned timeout = o->timeout_s ? o->timeout_s : 30;
    unsigned maxconn = o->max_connections ? o->max_connections : 1024;
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO | MHD_USE_ITC;
    if (!threads) flags |= MHD_USE_THREAD_PER_CONNECTION;
    /* MHD gets its own descriptor of the socket: whether it closes a provided
     * socket when starting fails is not documented, so s->listen_fd stays
     * ours to close, and at worst the duplicate leaks on that failure path. */
    int mhd_fd = fcntl(s->listen_fd, F_DUPFD_CLOEXEC, 0);
    if (mhd_fd < 0) {
        close(s->listen_fd);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return mw_error_set(err, MW_EIO, "", 0, 0, "cannot start the HTTP server: %s",
                            strerror(errno));
    }
    s->d = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER,
                            mhd_log, NULL, MHD_OPTION_LISTEN_SOCKET, (MHD_socket)mhd_fd,
                            MHD_OPTION_THREAD_POOL_SIZE, threads ? threads : 1u,
                            MHD_OPTION_CONNECTION_TIMEOUT, timeout, MHD_OPTION_CONNECTION_LIMIT,
                            maxconn, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
                            MHD_OPTION_URI_LOG_CALLBACK, uri_cb, s, MHD_OPTION_NOTIFY_COMPLETED,
                            on_completed, s, MHD_OPTION_END);
    if (!s->d) {
        close(s->listen_fd);
        pthread_mutex_destroy(&s->mu);
        free(s);
        return mw_error_set(err, MW_EIO, "", 0, 0,
                            "cannot start the HTTP server (libmicrohttpd refused the options: "
                            "threads %u, connections %u)",
                            threads, maxconn);
    }
    *out = s;
    return MW_OK;
}

uint16_t mw_http_port(const mw_http_server *s) {
    return s ? s->port : 0;
}

void mw_http_stop(mw_http_server *s) {
    if (!s) return;
    /* stop accepting; requests in progress get up to 5 s to finish */
    MHD_socket lfd = MHD_quiesce_daemon(s->d);
    for (int i = 0; i < 500 && atomic_load(&s->in_flight) > 0; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    MHD_stop_daemon(s->d);
    if (lfd != MHD_INVALID_SOCKET) close(lfd); /* quiesced: MHD leaves it to us */
    close(s->listen_fd);
    for (size_t i = 0; i < s->nseries; i++)
        mw_histo_free(s->series[i].h);
    free(s->series);
    pthread_mutex_destroy(&s->mu);
    free(s);
}
