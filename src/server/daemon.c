/*
 * Starting and stopping the daemon: the monitor (opening it restores every
 * version and replays the open windows), the configured versions and
 * reference files, the HTTP server and the scheduler thread that closes
 * windows on time, and the golden-prompt probes (probes.h). Listening is on
 * loopback unless told otherwise.
 */
#include "server/daemon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int mw_parse_listen(const char *s, char *host, size_t hostsz, uint16_t *port) {
    const char *colon;
    if (*s == '[') { /* [v6]:port */
        const char *close = strchr(s, ']');
        if (!close || close[1] != ':') return 0;
        size_t hl = (size_t)(close - s - 1);
        if (hl + 1 > hostsz) return 0;
        memcpy(host, s + 1, hl);
        host[hl] = 0;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (!colon) return 0;
        size_t hl = (size_t)(colon - s);
        if (hl + 1 > hostsz) return 0;
        memcpy(host, s, hl);
        host[hl] = 0;
        if (!*host) snprintf(host, hostsz, "127.0.0.1");
    }
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (*end || errno || p < 0 || p > 65535 || end == colon + 1) return 0;
    *port = (uint16_t)p;
    return 1;
}

static double monotonic(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Closes windows on time and samples resources, off the ingestion path. */
static void *scheduler(void *arg) {
    mw_daemon *d = arg;
    double tick = d->tick_seconds < d->resource_seconds ? d->tick_seconds : d->resource_seconds;
    long ms = (long)(tick * 1000);
    double next_tick = 0, next_sample = 0, next_alerts = 0;
    uint64_t closed_seen = 0;
    while (!atomic_load(&d->stopping)) {
        double now = monotonic();
        if (now >= next_sample) {
            mw_resources_sample(&d->resources);
            next_sample = now + d->resource_seconds;
        }
        if (now >= next_tick) {
            size_t n = mw_monitor_tick(d->monitor);
            if (n) fprintf(stderr, "modelwatch: closed %zu window%s\n", n, n == 1 ? "" : "s");
            next_tick = now + d->tick_seconds;
        }
        /* alerts: after any window closed (tick, record time or API), and on the interval */
        uint64_t closed = mw_monitor_windows_closed(d->monitor);
        if (d->alerting && (closed != closed_seen || now >= next_alerts)) {
            closed_seen = closed;
            struct timespec wall;
            clock_gettime(CLOCK_REALTIME, &wall);
            mw_alerting_evaluate(d->alerting, d, (double)wall.tv_sec + (double)wall.tv_nsec * 1e-9);
            next_alerts = monotonic() + mw_alerting_interval(d->alerting);
        }
        struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* Registers the configured versions and builds missing baselines from files. */
static mw_status apply_config(mw_daemon *d, const mw_daemon_config *cfg, mw_error *err) {
    for (size_t i = 0; i < cfg->nversions; i++) {
        const mw_config_version *cv = &cfg->versions[i];
        mw_status st =
            mw_monitor_register(d->monitor, cv->model, cv->version, cv->config_json, err);
        if (st) return st;
        if (!cv->reference) continue;
        char *desc = NULL;
        st = mw_monitor_describe(d->monitor, cv->model, cv->version, &desc, err);
        int has = st == MW_OK && strstr(desc, "\"has_reference\":true") != NULL;
        free(desc);
        if (has) continue; /* kept from the database; re-upload through the API to replace */
        /* NDJSON "embedding" arrays; text columns are expanded with the
         * version's column types and refusal phrases by mw_monitor_set_reference */
        mw_read_options ro = {.expand_arrays = 1, .no_text_inference = 1};
        mw_table *t;
        if ((st = mw_table_read(cv->reference, &ro, &t, err))) return st;
        st = mw_monitor_set_reference(d->monitor, cv->model, cv->version, t, err);
        mw_table_free(t);
        if (st) return st;
        fprintf(stderr, "modelwatch: %s/%s: baseline built from %s\n", cv->model, cv->version,
                cv->reference);
    }
    return MW_OK;
}

mw_status mw_daemon_start(mw_daemon *d, const mw_daemon_config *cfg, mw_error *err) {
    memset(d, 0, sizeof *d);
    atomic_init(&d->stopping, 0);
    atomic_init(&d->ingested_bytes, 0);
    d->tick_seconds = cfg->tick_seconds > 0 ? cfg->tick_seconds : 1;
    d->resource_seconds = cfg->resource_seconds > 0 ? cfg->resource_seconds : 5;
    mw_resources_init(&d->resources, cfg->db, cfg->watch_pids, cfg->nwatch_pids,
                      (const char *const *)cfg->watch_names, cfg->nwatch_names);
    d->resources_started = 1;
    char host[256];
    uint16_t port;
    if (!mw_parse_listen(cfg->listen, host, sizeof host, &port))
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                            "listen address \"%s\" is not HOST:PORT (e.g. 127.0.0.1:9750)",
                            cfg->listen);
    mw_monitor_options mo = {.db_path = cfg->db,
                             .seed = (uint64_t)time(NULL),
                             .label_ttl_seconds = cfg->label_ttl_seconds,
                             .max_pending = cfg->max_pending,
                             .runner = mw_runner_threads(0)};
    mw_status st = mw_otlp_state_new(cfg->otlp_json, &d->otlp, err);
    if (!st) st = mw_monitor_open(&mo, &d->monitor, err);
    if (!st) st = mw_monitor_canary_configure(d->monitor, cfg->canary_json, err);
    if (!st) st = apply_config(d, cfg, err);
    /* threads 0 (the default): a thread per connection. A pool (two per core
     * was the default) keeps each connection on the thread that accepted it,
     * and a burst of connections often went to one thread: the ingestion
     * benchmark's four connections ran on one core in two runs of three
     * (~320 batches/s against ~530 when they were spread). */
    unsigned threads = cfg->threads;
    mw_http_options ho = {.host = host,
                          .port = port,
                          .threads = threads,
                          .max_body_bytes = cfg->max_body_bytes,
                          .timeout_s = cfg->timeout_s};
    if (!st) st = mw_http_start(&ho, mw_daemon_handle, d, &d->http, err);
    if (!st) {
        snprintf(d->address, sizeof d->address, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host,
                 mw_http_port(d->http));
        st = mw_alerting_start(&cfg->alerting, cfg->db, d->address, &d->alerting, err);
    }
    if (!st) st = mw_probes_start(cfg->probes, cfg->db, &d->probes, err);
    if (!st && pthread_create(&d->scheduler, NULL, scheduler, d) == 0) d->scheduler_started = 1;
    if (st) {
        mw_daemon_stop(d);
        return st;
    }
    d->ready = 1;
    return MW_OK;
}

void mw_daemon_stop(mw_daemon *d) {
    atomic_store(&d->stopping, 1);
    d->ready = 0;
    if (d->scheduler_started) pthread_join(d->scheduler, NULL);
    d->scheduler_started = 0;
    mw_http_stop(d->http);
    d->http = NULL;
    mw_probes_stop(d->probes); /* after HTTP, which reads it; aborts a request in flight */
    d->probes = NULL;
    mw_alerting_stop(d->alerting);
    d->alerting = NULL;
    mw_monitor_close(d->monitor);
    d->monitor = NULL;
    mw_otlp_state_free(d->otlp);
    d->otlp = NULL;
    if (d->resources_started) mw_resources_free(&d->resources);
    d->resources_started = 0;
}
