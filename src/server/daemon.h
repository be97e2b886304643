/*
 * The daemon (`modelwatch serve`): an HTTP front over a monitor, a scheduler
 * thread that closes windows on time, and the Prometheus exposition.
 * routes.c answers the API, metrics.c writes /metrics, daemon.c starts and
 * stops the parts, config.c reads the YAML configuration.
 */
#ifndef MW_SERVER_DAEMON_H
#define MW_SERVER_DAEMON_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "modelwatch/monitor.h"
#include "server/alerting.h"
#include "server/http.h"
#include "server/probes.h"
#include "server/resources.h"

/* One version declared in the configuration file. */
typedef struct mw_config_version {
    char *model, *version;
    char *config_json; /* the version options as JSON (window_seconds, tests, ...) */
    char *reference;   /* reference file, optional */
} mw_config_version;

typedef struct mw_daemon_config {
    char *listen;     /* HOST:PORT, default 127.0.0.1:9750 */
    char *db;         /* default ./modelwatch.db */
    unsigned threads; /* HTTP threads, 0 = cores */
    size_t max_body_bytes;
    unsigned timeout_s;
    double tick_seconds; /* how often windows are checked for closing, default 1 */
    mw_config_version *versions;
    size_t nversions;
    double resource_seconds; /* resource sampling interval, default 5 */
    pid_t watch_pids[MW_MAX_TARGETS];
    size_t nwatch_pids;
    char *watch_names[MW_MAX_TARGETS];
    size_t nwatch_names;
    mw_alerting_config alerting; /* alerting: and rules: */
    double label_ttl_seconds;    /* labels: {ttl}, default 7 days */
    size_t max_pending;          /* labels: {max_pending}, default 10,000,000 */
    char *canary_json;           /* canary: section as JSON (monitor.h), NULL = defaults */
    json_t *probes;              /* probes: (checked), NULL when absent */
    char *otlp_json;             /* otlp: section as JSON (mw_otlp_map_new), NULL = none */
} mw_daemon_config;

/* Reads a YAML configuration (see README, "Configuration"); errors name the
 * file, line and key. */
mw_status mw_daemon_config_load(const char *path, mw_daemon_config *cfg, mw_error *err);
void mw_daemon_config_defaults(mw_daemon_config *cfg);
/* YAML (or JSON, which it reads too) text to a JSON tree, with the
 * configuration's conversions; NULL with err naming `name`, line and column. */
json_t *mw_yaml_to_json(const char *text, size_t len, const char *name, mw_error *err);
void mw_daemon_config_free(mw_daemon_config *cfg);

/* POST /v1/traces (routes_otlp.c): the span mapping and its counters. */
typedef struct mw_otlp_state mw_otlp_state;
mw_status mw_otlp_state_new(const char *config_json, mw_otlp_state **out, mw_error *err);
void mw_otlp_state_free(mw_otlp_state *s);

typedef struct mw_daemon {
    mw_monitor *monitor;
    mw_http_server *http;
    pthread_t scheduler;
    int scheduler_started;
    atomic_int stopping;
    atomic_uint_fast64_t ingested_bytes;
    double tick_seconds;
    double resource_seconds;
    mw_resources resources;
    int resources_started;
    mw_alerting *alerting;
    mw_probes *probes;
    int ready;
    mw_otlp_state *otlp;
    char address[300]; /* where it listens, with the bound port: "127.0.0.1:9750" */
} mw_daemon;

/* Opens the monitor, applies the configured versions and references, starts
 * HTTP and the scheduler. */
mw_status mw_daemon_start(mw_daemon *d, const mw_daemon_config *cfg, mw_error *err);
void mw_daemon_stop(mw_daemon *d);

/* HTTP handler (routes.c) and exposition (metrics.c). */
void mw_daemon_handle(const mw_http_request *req, mw_http_response *resp, void *ctx);
mw_status mw_daemon_write_metrics(mw_daemon *d, mw_expo *e);
/* The model registry's API under /api/v1/registry/ (routes_registry.c). */
void mw_registry_route(mw_daemon *d, const mw_http_request *req, mw_http_response *resp);
/* The delayed-label and live-performance families (metrics_labels.c). */
mw_status mw_labels_write_metrics(mw_daemon *d, mw_expo *e);
/* The canary comparison families (metrics_canary.c). */
mw_status mw_canary_write_metrics(mw_daemon *d, mw_expo *e);

/* Helpers of routes.c shared with the other route files: a 405 naming the
 * allowed methods; ?limit=N (1..10000, default 20), 0 with a 400 answer when
 * invalid. */
void mw_route_method_not_allowed(mw_http_response *resp, const char *allow);
int mw_route_query_limit(const mw_http_request *req, mw_http_response *resp, size_t *limit);

/* OTLP/HTTP traces and their metrics (routes_otlp.c). */
void mw_otlp_route(mw_daemon *d, const mw_http_request *req, mw_http_response *resp);
mw_status mw_otlp_write_metrics(mw_daemon *d, mw_expo *e);

/* Splits HOST:PORT ("[::1]:9750", "0.0.0.0:80", ":9750"); 1 on success. */
int mw_parse_listen(const char *s, char *host, size_t hostsz, uint16_t *port);

#endif
