/*
 * Internals shared by alerting.c (rules, evaluation, notification) and
 * alerting_api.c (HTTP views, metrics, configuration section).
 */
#ifndef MW_SERVER_ALERTING_INT_H
#define MW_SERVER_ALERTING_INT_H

#include "alert/alert.h"
#include "modelwatch/store.h"
#include "server/alerting.h"
#include "server/daemon.h"
#include "server/notify.h"

#include <pthread.h>

struct mw_alerting {
    pthread_mutex_t mu; /* guards everything below */
    mw_alert_engine engine;
    mw_notifier *notifier;
    unsigned targets; /* MW_NOTIFY_* configured */
    mw_store *store;
    double eval_interval, resend_interval, last_resend;
    char *generator_url;
    char source[32]; /* where the rules came from: config, api, starter, none */
    int warned;      /* the warnings of the current rules were logged */
    uint64_t rollbacks_done, rollbacks_failed; /* rules' automatic rollbacks */
};

/* The daemon's metrics as samples (what a scrape would read), and the page's
 * text in *text when text is given (caller frees); MW_OK or an error. */
mw_status mw_alerting_samples(struct mw_daemon *d, mw_sample_set *out, char **text, mw_error *err);
/* Warnings for rules over metrics the daemon does not export at all (no
 * family of that name on the page, e.g. a typo, or GPU metrics without a
 * GPU), as a JSON array of strings. Families without samples yet (drift
 * metrics before the first window) are not warned about. */
json_t *mw_alerting_warnings(const mw_rule_set *rules, const char *text);

#endif
