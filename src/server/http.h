/*
 * The daemon's HTTP layer on libmicrohttpd: one handler callback sees every
 * request with its body fully received (and gunzipped), fills a response, and
 * the server sends it. Routes are written on top of this by the caller.
 *
 * What the layer guarantees before the handler runs:
 *  - the body is at most max_body_bytes, raw and decoded (413 otherwise, sent
 *    as soon as the limit is known to be exceeded: from Content-Length before
 *    any body byte, or while streaming); Content-Encoding is absent, identity
 *    or gzip (415 otherwise); a gzip body is well formed (400 otherwise). Those
 *    errors carry the JSON error body of DESIGN.md.
 *  - HEAD is given to the handler as GET with is_head set; the server sends
 *    the headers (Content-Length included) without the body.
 *  - any other method, known or not, reaches the handler (which answers 405).
 *
 * Threads: by default every connection has its own thread (threads = 0);
 * with threads = N a pool of N threads serves them, each keeping the
 * connections it accepted. A pool let a burst of connections land on one
 * thread (its accept loop takes all that are waiting), so the ingestion
 * benchmark's four connections ran on one core in two runs of three; with a
 * thread each, the kernel spreads busy connections over the cores. The
 * handler runs concurrently with itself either way; ctx must be safe for that. State lives in the server handle only.
 * Ownership: request fields are borrowed for the handler call; the response
 * body must be malloc'd and is taken over by the server; resp->content_type
 * and resp->route must stay valid until the handler returns (they are copied).
 */
#ifndef MW_SERVER_HTTP_H
#define MW_SERVER_HTTP_H

#include "modelwatch/core.h"
#include "server/expo.h"

#include <stddef.h>
#include <stdint.h>

typedef struct mw_http_server mw_http_server;

typedef struct mw_http_request {
    const char *method; /* "GET", "PUT", ...; "GET" for HEAD requests */
    const char *path;   /* URL path without query, percent-decoded */
    const char *query;  /* raw query string (after '?') or "" */
    const char *body;   /* decoded body, NUL-terminated (may contain NULs); never NULL */
    size_t body_len;
    const char *content_type; /* "" when absent */
    const char *accept;       /* "" when absent */
    int is_head;              /* the client sent HEAD: the body of the answer is dropped */
    void *conn;               /* opaque, for mw_http_header() */
} mw_http_request;

/* A request header by name (case-insensitive); NULL when absent. */
const char *mw_http_header(const mw_http_request *r, const char *name);

/*
 * The first query parameter called name, percent- and '+'-decoded into out.
 * Returns 1 when present, 0 when absent, -1 when the decoded value does not fit
 * in outsz bytes (out is then ""). A parameter without '=' has value "".
 */
int mw_http_query_param(const mw_http_request *r, const char *name, char *out, size_t outsz);

#define MW_HTTP_MAX_EXTRA_HEADERS 4

typedef struct mw_http_response {
    int status;               /* default 200; outside 100..599 becomes 500 */
    const char *content_type; /* default "application/json" */
    char *body;               /* malloc'd, taken over by the server; NULL = empty */
    size_t body_len;
    const char *route; /* metric label (a route template, bounded set); default "other" */
    /* extra headers (e.g. Allow on 405), set with mw_http_add_header */
    unsigned nheaders;
    char header_name[MW_HTTP_MAX_EXTRA_HEADERS][64];
    char header_value[MW_HTTP_MAX_EXTRA_HEADERS][256];
} mw_http_response;

typedef void (*mw_http_handler)(const mw_http_request *req, mw_http_response *resp, void *ctx);

typedef struct mw_http_options {
    const char *host;         /* NULL/"" = "127.0.0.1"; IPv4/IPv6 literal ("::1", "[::]") or name */
    uint16_t port;            /* 0 = any free port */
    unsigned threads;         /* thread pool size; 0 = a thread per connection */
    size_t max_body_bytes;    /* 0 = 64 MiB; limits the raw and the decoded body */
    unsigned timeout_s;       /* idle connection timeout, 0 = 30 */
    unsigned max_connections; /* 0 = 1024 */
} mw_http_options;

/*
 * Binds host:port and starts serving. o may be NULL (all defaults). On failure
 * *out is NULL and err says why in a sentence ("port 9750 on 127.0.0.1 is
 * already in use", "cannot resolve host ...").
 */
mw_status mw_http_start(const mw_http_options *o, mw_http_handler h, void *ctx,
                        mw_http_server **out, mw_error *err);
/* The bound port (useful with port 0). */
uint16_t mw_http_port(const mw_http_server *s);
/* Stops accepting, waits up to 5 s for requests in progress, closes all
 * connections and frees the server. NULL is a no-op. */
void mw_http_stop(mw_http_server *s);

/* Sets status and a copy of json as the body (application/json). */
void mw_http_set_json(mw_http_response *r, int status, const char *json);
/* Sets the DESIGN.md error body {"error":{"code":..,"message":..,"line":N}}
 * ("line" omitted when 0), code and message JSON-escaped. */
void mw_http_set_error(mw_http_response *r, int status, const char *code, const char *message,
                       uint64_t line);
/* Sets status, content type and a copy of len bytes of body. */
void mw_http_set_body(mw_http_response *r, int status, const char *content_type, const char *body,
                      size_t len);
/* Adds a response header (copied). MW_EINVAL for a bad name, CR/LF in the
 * value, or too long; MW_ERANGE when MW_HTTP_MAX_EXTRA_HEADERS are set. */
mw_status mw_http_add_header(mw_http_response *r, const char *name, const char *value);

/* Writes modelwatch_http_request_duration_seconds (histogram; labels route,
 * method, code) and modelwatch_http_received_bytes_total (counter: request
 * body bytes as received, before decoding). */
mw_status mw_http_write_metrics(mw_http_server *s, mw_expo *e);

#endif
