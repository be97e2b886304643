/*
 * The daemon's alerting: rules from the configuration, the API or the starter
 * set; evaluation over the daemon's own /metrics after each window close and
 * on a fixed interval; alert state and history in SQLite; notifications to
 * Alertmanager, a webhook and the log (notify.h); the API views
 * (GET/PUT /api/v1/rules, GET /api/v1/alerts) and the alerting metrics.
 *
 * Rules: at start the configuration's `rules:` list when it has one, else the
 * rules last PUT through the API (kept in the database), plus the starter
 * rules when asked for (a configured rule of the same name wins). PUT
 * replaces the whole set and stores it.
 *
 * No data is not "resolved": a rule one of whose metrics has no sample at all
 * (after a restart, before the first window closes) is skipped, and its
 * alerts keep their state until the metric is back.
 */
#ifndef MW_SERVER_ALERTING_H
#define MW_SERVER_ALERTING_H

#include "modelwatch/core.h"
#include "server/expo.h"
#include "server/http.h"

#include <jansson.h>

typedef struct mw_alerting_config {
    char *alertmanager_url;       /* alerting.alertmanager */
    char *webhook_url;            /* alerting.webhook.url */
    double webhook_timeout_s;     /* alerting.webhook.timeout, default 10 s */
    unsigned webhook_max_attempts; /* alerting.webhook.max_attempts, default 5 */
    double evaluation_interval_s; /* alerting.evaluation_interval, default 15 s */
    double resend_interval_s;     /* alerting.resend_interval, default 60 s */
    int starter_rules;            /* alerting.starter_rules or --starter-rules */
    char *external_url;           /* alerting.external_url: base of generatorURL */
    json_t *rules;                /* the configuration's rules: list; NULL when absent */
} mw_alerting_config;

void mw_alerting_config_free(mw_alerting_config *c);
/* Reads the `alerting:` mapping into c; errors name file and key. */
mw_status mw_alerting_config_read(mw_alerting_config *c, const json_t *section, const char *file,
                                  mw_error *err);

typedef struct mw_alerting mw_alerting;
struct mw_daemon;

/* Loads the rules, restores stored alerts and starts the notifiers. db is the
 * daemon's database path; address is where the daemon listens (for
 * generatorURL when external_url is not set). */
mw_status mw_alerting_start(const mw_alerting_config *cfg, const char *db, const char *address,
                            mw_alerting **out, mw_error *err);
void mw_alerting_stop(mw_alerting *a);

/* Seconds between evaluations on the clock alone. */
double mw_alerting_interval(const mw_alerting *a);
/* Evaluates every rule over the daemon's metrics at now (unix seconds),
 * stores what changed and notifies. */
void mw_alerting_evaluate(mw_alerting *a, struct mw_daemon *d, double now);

/* The API: GET/PUT /api/v1/rules, GET /api/v1/alerts. */
void mw_alerting_get_rules(mw_alerting *a, mw_http_response *resp);
void mw_alerting_put_rules(mw_alerting *a, struct mw_daemon *d, const mw_http_request *req,
                           mw_http_response *resp);
void mw_alerting_get_alerts(mw_alerting *a, const mw_http_request *req, mw_http_response *resp);

/* The alerting families of /metrics. */
mw_status mw_alerting_write_metrics(mw_alerting *a, mw_expo *e);

#endif
