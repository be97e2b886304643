/*
 * The CLI's HTTP client for a running daemon (cli_http.c).
 */
#ifndef MW_CLI_HTTP_H
#define MW_CLI_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

typedef struct mw_cli_http {
    CURL *curl;
    char base[512];  /* "http://127.0.0.1:9750", no trailing slash */
    char error[700]; /* the last transport error */
} mw_cli_http;

/* 1 on success. */
int mw_cli_http_init(mw_cli_http *h, const char *base);
void mw_cli_http_free(mw_cli_http *h);
/* Sends a request to base + path; returns the HTTP status, 0 on a transport
 * failure (h->error says why). *out (when out is given) gets the body,
 * NUL-terminated, for the caller to free. */
long mw_cli_http_request(mw_cli_http *h, const char *method, const char *path, const char *ctype,
                         const char *body, size_t len, char **out);

/* GET path from the daemon at base url and parse the 200 answer as JSON:
 * MW_EXIT_OK with *root (caller frees), or MW_EXIT_ERROR after printing
 * "modelwatch CMD: ..." (daemon unreachable, another status, not JSON). */
#include <jansson.h>
int mw_cli_get_json(const char *cmd, const char *url, const char *path, json_t **root);

#endif
