/*
 * Alert notifications, off the ingestion path: the alert evaluator hands a
 * batch of alerts to mw_notifier_send, which only copies it into a bounded
 * queue and returns; one worker thread per target (Alertmanager, webhook)
 * delivers with libcurl, with a timeout per attempt and retries with
 * exponential backoff, so a slow or dead receiver never blocks ingestion or
 * the other target. The log target writes one line per alert to stderr at
 * once.
 *
 * The batch given to mw_notifier_send is a JSON array of alerts:
 *     {"status": "firing"|"resolved",
 *      "labels": {"alertname": "FeatureDrift", "model": "fraud", ...},
 *      "annotations": {"summary": "..."},
 *      "startsAt": "2026-11-29T05:00:00.000Z",
 *      "endsAt": "2026-11-29T05:04:00.000Z",      (optional)
 *      "generatorURL": "http://127.0.0.1:9750/api/v1/alerts",  (optional)
 *      "value": 0.0012}
 * Bodies sent:
 *  - Alertmanager: POST {alertmanager_url}/api/v2/alerts with the array of
 *    {labels, annotations, startsAt, endsAt, generatorURL} (API v2
 *    "postableAlerts"; status and value are left out). 2xx is success.
 *  - webhook: POST {webhook_url} with
 *        {"version": "1", "receiver": "modelwatch", "status": "firing"|"resolved",
 *         "alerts": [ ...the alerts as given... ]}
 *    where status is "firing" when any alert of the batch fires. 2xx is success.
 * An attempt fails on a connection error, a timeout or a non-2xx status; it is
 * retried after backoff_initial_s, doubling up to backoff_max_s, at most
 * max_attempts attempts in all; then the batch is dropped (counted). When a
 * target's queue holds queue_max batches, the oldest is dropped (counted).
 *
 * Threads: every function may be called from any thread.
 */
#ifndef MW_SERVER_NOTIFY_H
#define MW_SERVER_NOTIFY_H

#include "modelwatch/core.h"

#include <jansson.h>
#include <stdint.h>

enum {
    MW_NOTIFY_ALERTMANAGER = 1u << 0,
    MW_NOTIFY_WEBHOOK = 1u << 1,
    MW_NOTIFY_LOG = 1u << 2,
    MW_NOTIFY_ALL = 7u
};

typedef struct mw_notifier_options {
    const char *alertmanager_url; /* base URL, e.g. http://127.0.0.1:9093; NULL = none */
    const char *webhook_url;      /* full URL; NULL = none */
    int log;                      /* 1: log each alert to stderr */
    double timeout_s;             /* per attempt; 0 = 10 */
    unsigned max_attempts;        /* 0 = 5 */
    double backoff_initial_s;     /* 0 = 1 */
    double backoff_max_s;         /* 0 = 30 */
    unsigned queue_max;           /* batches per target; 0 = 1000 */
} mw_notifier_options;

/* Counters of one target since start. */
typedef struct mw_notifier_stats {
    uint64_t sent;     /* batches delivered */
    uint64_t failed;   /* failed attempts (each retry that failed counts) */
    uint64_t dropped;  /* batches given up: attempts exhausted or queue full */
    uint64_t queued;   /* batches waiting now */
} mw_notifier_stats;

typedef struct mw_notifier mw_notifier;

/* Starts the workers. URLs must be http:// or https:// (MW_EINVAL naming the
 * option otherwise). A notifier with no URL and log 0 is valid and does
 * nothing. */
mw_status mw_notifier_start(const mw_notifier_options *opt, mw_notifier **out, mw_error *err);
/* Stops the workers: waits at most timeout_s + 1 s for an attempt in flight;
 * batches still queued are dropped. NULL is a no-op. */
void mw_notifier_stop(mw_notifier *n);

/* Queues the batch (borrowed: copied) for the targets in the mask that are
 * configured; an empty array is ignored. Never waits on the network. */
void mw_notifier_send(mw_notifier *n, json_t *alerts, unsigned targets);

/* target: MW_NOTIFY_ALERTMANAGER or MW_NOTIFY_WEBHOOK. Zeros when not configured. */
mw_notifier_stats mw_notifier_stats_of(mw_notifier *n, unsigned target);

/* For tests: blocks until every queue is empty and no attempt is in flight, or
 * timeout_s passes; 1 when drained. */
int mw_notifier_flush(mw_notifier *n, double timeout_s);

/* Shared with the probes (probes.h). */
/* curl_global_init once per process; MW_EIO when it fails. */
mw_status mw_curl_init(mw_error *err);
/* 1 when url is http:// or https:// followed by a host. */
int mw_url_valid(const char *url);
/* A copy of a valid url without the credentials of its authority
 * ("user:password@"), so that they do not reach a log; NULL when out of memory. */
char *mw_url_redact(const char *url);

#endif
