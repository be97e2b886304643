/*
 * The CLI's HTTP client for talking to a running daemon (demo, alerts,
 * rules): one libcurl handle and a base URL, one call per request, the
 * response body collected in memory.
 */
#include "cli/cli_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/util.h"

static size_t sink(char *p, size_t s, size_t n, void *ctx) {
    mw_buf_put(ctx, p, s * n);
    return s * n;
}

int mw_cli_http_init(mw_cli_http *h, const char *base) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    h->curl = curl_easy_init();
    size_t n = strlen(base);
    while (n && base[n - 1] == '/')
        n--; /* "http://host:9750/" works too */
    snprintf(h->base, sizeof h->base, "%.*s", (int)n, base);
    return h->curl != NULL;
}

void mw_cli_http_free(mw_cli_http *h) {
    if (h->curl) curl_easy_cleanup(h->curl);
    h->curl = NULL;
}

long mw_cli_http_request(mw_cli_http *h, const char *method, const char *path, const char *ctype,
                         const char *body, size_t len, char **out) {
    char url[600];
    snprintf(url, sizeof url, "%s%s", h->base, path);
    mw_buf resp = {0};
    struct curl_slist *hdr = NULL;
    if (ctype) {
        char line[96];
        snprintf(line, sizeof line, "Content-Type: %s", ctype);
        hdr = curl_slist_append(hdr, line);
    }
    curl_easy_reset(h->curl);
    curl_easy_setopt(h->curl, CURLOPT_URL, url);
    curl_easy_setopt(h->curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(h->curl, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(h->curl, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(h->curl, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(h->curl, CURLOPT_NOPROXY, "*");
    if (body) {
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
    }
    long status = 0;
    CURLcode rc = curl_easy_perform(h->curl);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(h->error, sizeof h->error, "%s: %s", url, curl_easy_strerror(rc));
    curl_slist_free_all(hdr);
    mw_buf_u8(&resp, 0);
    if (out)
        *out = (char *)resp.data;
    else
        free(resp.data);
    return status;
}

int mw_cli_get_json(const char *cmd, const char *url, const char *path, json_t **root) {
    *root = NULL;
    mw_cli_http h;
    if (!mw_cli_http_init(&h, url)) return mw_cli_error(cmd, "cannot start the HTTP client");
    char *body = NULL;
    long status = mw_cli_http_request(&h, "GET", path, NULL, NULL, 0, &body);
    int rc = MW_EXIT_OK;
    if (status == 200) *root = json_loads(body, 0, NULL);
    if (status == 0)
        rc = mw_cli_error(cmd, "cannot reach the daemon: %s", h.error);
    else if (!*root)
        rc = mw_cli_error(cmd, "%s%s answered %ld: %.200s", h.base, path, status, body);
    free(body);
    mw_cli_http_free(&h);
    return rc;
}
