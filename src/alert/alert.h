/*
 * The alert state machine, as Prometheus runs it: each evaluation of a rule
 * gives a set of results (label sets with a value); every distinct label set
 * is one alert, which goes
 *     inactive -> pending   when it first appears
 *     pending  -> firing    once it has been present for `for` (at once when 0s)
 *     pending  -> inactive  when it disappears before that
 *     firing   -> resolved  when it has been absent for keep_firing_for (at
 *                           once when 0s)
 * A resolved alert is kept resolved_retention_s (default 15 min) so that its
 * resolution keeps being sent, then forgotten; if it comes back meanwhile it
 * starts again as a new alert.
 *
 * The engine is pure: time comes in as an argument (tests drive it with an
 * injected clock), samples come in as a set (the daemon parses its own
 * /metrics page), and what changed comes out as transitions for the caller to
 * store and notify. Its state serialises to JSON so that alerts survive a
 * restart (a firing alert stays firing; a pending one keeps its start).
 *
 * An alert's labels are the result's labels, then the rule's labels (which
 * win), then alertname = the rule's name. Annotations are rendered at every
 * evaluation with the current value; their $labels are the result's labels
 * (without the rule's labels and alertname), as Prometheus renders them.
 *
 * No data is not "resolved": a rule one of whose metrics has no sample at all
 * is skipped (no_data[i] = 1) and its alerts keep their state, so that a
 * restart, before the first window closes, does not resolve firing alerts.
 *
 * Threads: none of its own; the caller serialises calls.
 */
#ifndef MW_ALERT_ALERT_H
#define MW_ALERT_ALERT_H

#include "alert/rules.h"

#include <jansson.h>

#define MW_ALERTS_MAX 10000 /* alerts held at once; further results are counted, not kept */

typedef enum mw_alert_state {
    MW_ALERT_INACTIVE,
    MW_ALERT_PENDING,
    MW_ALERT_FIRING,
    MW_ALERT_RESOLVED
} mw_alert_state;

const char *mw_alert_state_name(mw_alert_state s);

typedef struct mw_alert {
    char *rule;
    char *key; /* the labels as canonical JSON: identity of the alert */
    mw_label *labels;
    size_t nlabels;
    mw_label *annotations;
    size_t nannotations;
    mw_alert_state state;
    double value;
    double active_at, fired_at, resolved_at; /* unix seconds; 0 = not yet */
    double last_seen;                        /* last evaluation that returned it */
    double missing_since;                    /* firing but absent since (keep_firing_for) */
    double last_sent;                        /* last time notifiers got it */
} mw_alert;

typedef struct mw_alert_transition {
    char *rule, *key;
    mw_alert_state from, to;
    double at, value;
} mw_alert_transition;

typedef struct mw_alert_transitions {
    mw_alert_transition *t;
    size_t n, cap;
} mw_alert_transitions;

typedef struct mw_alert_engine {
    mw_rule_set rules;
    mw_alert *alerts;
    size_t n, cap;
    double resolved_retention_s; /* default 900 */
    unsigned long long evaluations, overflow;
    /* after an evaluation: 1 for each rule skipped for lack of data (one of
     * its metrics had no sample at all); its alerts kept their state */
    unsigned char *no_data;
} mw_alert_engine;

void mw_alert_engine_init(mw_alert_engine *e);
void mw_alert_engine_free(mw_alert_engine *e);
/* Replaces the rules (taken from *rules, which is left empty). Alerts of rules
 * that are gone resolve at the next evaluation; the others keep their state. */
void mw_alert_engine_set_rules(mw_alert_engine *e, mw_rule_set *rules);

/* Evaluates every rule over samples at time now (unix seconds); appends what
 * changed to *tr. MW_ENOMEM only. */
mw_status mw_alert_engine_eval(mw_alert_engine *e, const mw_sample_set *samples, double now,
                               mw_alert_transitions *tr, mw_error *err);
void mw_alert_transitions_free(mw_alert_transitions *tr);

/* The alerts (pending, firing, resolved) as a JSON array for the API and the
 * store: {"rule","state","labels","annotations","value","activeAt","firedAt",
 * "resolvedAt","lastSeen","missingSince","lastSent"}. */
json_t *mw_alert_engine_to_json(const mw_alert_engine *e);
/* Restores alerts saved by mw_alert_engine_to_json (rules set first; alerts of
 * unknown rules are kept and resolve at the next evaluation). */
mw_status mw_alert_engine_restore(mw_alert_engine *e, const json_t *arr, mw_error *err);

/* One alert as notifiers take it (notify.h), with startsAt = when it started
 * firing (firedAt; activeAt for one that never fired), endsAt = valid_until
 * for a firing alert and resolvedAt for a resolved one, as Prometheus sends
 * them. */
json_t *mw_alert_notice(const mw_alert *a, double valid_until, const char *generator_url);
/* RFC 3339 UTC with milliseconds ("2026-11-29T05:00:00.000Z"), buf >= 32 bytes. */
void mw_format_rfc3339(double unix_s, char *buf, size_t size);

#endif
