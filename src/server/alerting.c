/*
 * The daemon's alert evaluator (alerting.h): loads the rules, restores the
 * alerts of the last run, and at each evaluation reads the daemon's own
 * metrics page, runs the state machine (src/alert/alert.h), stores the
 * transitions with the new state in one transaction, and hands firing and
 * resolved alerts to the notifiers, which send them off this thread.
 *
 * Automatic rollback (a rule's `rollback: {model, alias}`, off unless set):
 * when one of the rule's alerts turns firing, the alias moves back to its
 * previous version through mw_registry_rollback, the code behind `modelwatch
 * registry rollback`, with who = "modelwatch-alert:<rule>" and why = the
 * alert's summary annotation in the audit log. It runs on the transition to
 * firing, which happens once per firing episode: staying firing, or being
 * restored firing after a restart, does not move the alias again (a second
 * rollback would undo the first).
 */
#include "server/alerting_int.h"

#include "modelwatch/registry.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HISTORY_KEEP 100000 /* transitions kept in the database */

static mw_status load_stored_rules(mw_alerting *a, mw_rule_set *rules, mw_error *err) {
    void *blob = NULL;
    size_t len = 0;
    mw_error ignore;
    if (mw_store_get_state(a->store, "rules", &blob, &len, &ignore) != MW_OK) return MW_OK;
    json_t *arr = json_loadb(blob, len, 0, NULL);
    free(blob);
    mw_status st = mw_rules_from_json(arr, "stored rules", rules, err);
    json_decref(arr);
    if (!st) snprintf(a->source, sizeof a->source, "api");
    return st;
}

static mw_status load_rules(mw_alerting *a, const mw_alerting_config *cfg, mw_error *err) {
    mw_rule_set rules = {0};
    mw_status st;
    snprintf(a->source, sizeof a->source, "none");
    if (cfg->rules) {
        st = mw_rules_from_json(cfg->rules, "rules", &rules, err);
        snprintf(a->source, sizeof a->source, "config");
    } else {
        st = load_stored_rules(a, &rules, err);
    }
    if (!st && cfg->starter_rules) {
        mw_rule_set starter;
        if ((st = mw_rules_starter(&starter, err)) == MW_OK) {
            st = mw_rules_merge(&rules, &starter);
            mw_rules_free(&starter);
            if (!strcmp(a->source, "none")) snprintf(a->source, sizeof a->source, "starter");
            else strncat(a->source, "+starter", sizeof a->source - strlen(a->source) - 1);
        }
    }
    if (st) {
        mw_rules_free(&rules);
        return st;
    }
    mw_alert_engine_set_rules(&a->engine, &rules);
    return MW_OK;
}

static mw_status restore_alerts(mw_alerting *a, mw_error *err) {
    void *blob = NULL;
    size_t len = 0;
    mw_error ignore;
    if (mw_store_get_state(a->store, "alerts", &blob, &len, &ignore) != MW_OK) return MW_OK;
    json_t *arr = json_loadb(blob, len, 0, NULL);
    free(blob);
    mw_status st = mw_alert_engine_restore(&a->engine, arr, err);
    if (!st && a->engine.n)
        fprintf(stderr, "modelwatch: alerting: %zu alert%s restored from the database\n",
                a->engine.n, a->engine.n == 1 ? "" : "s");
    json_decref(arr);
    return st;
}

mw_status mw_alerting_start(const mw_alerting_config *cfg, const char *db, const char *address,
                            mw_alerting **out, mw_error *err) {
    *out = NULL;
    mw_alerting *a = calloc(1, sizeof *a);
    if (!a) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    pthread_mutex_init(&a->mu, NULL);
    mw_alert_engine_init(&a->engine);
    a->eval_interval = cfg->evaluation_interval_s > 0 ? cfg->evaluation_interval_s : 15;
    a->resend_interval = cfg->resend_interval_s > 0 ? cfg->resend_interval_s : 60;
    char url[512];
    snprintf(url, sizeof url, "%s/api/v1/alerts", cfg->external_url ? cfg->external_url : "");
    if (!cfg->external_url) snprintf(url, sizeof url, "http://%s/api/v1/alerts", address);
    a->generator_url = strdup(url);
    mw_notifier_options no = {.alertmanager_url = cfg->alertmanager_url,
                              .webhook_url = cfg->webhook_url,
                              .timeout_s = cfg->webhook_timeout_s,
                              .max_attempts = cfg->webhook_max_attempts};
    a->targets = (cfg->alertmanager_url ? MW_NOTIFY_ALERTMANAGER : 0) |
                 (cfg->webhook_url ? MW_NOTIFY_WEBHOOK : 0);
    mw_status st = a->generator_url ? MW_OK : MW_ENOMEM;
    if (!st) st = mw_store_open(db, NULL, &a->store, err);
    if (!st) st = load_rules(a, cfg, err);
    if (!st) st = restore_alerts(a, err);
    if (!st) st = mw_notifier_start(&no, &a->notifier, err);
    if (st) {
        mw_alerting_stop(a);
        return st;
    }
    fprintf(stderr,
            "modelwatch: alerting: %zu rule%s (%s), evaluated every %gs and after each "
            "window%s%s%s%s\n",
            a->engine.rules.n, a->engine.rules.n == 1 ? "" : "s", a->source, a->eval_interval,
            cfg->alertmanager_url ? "; alertmanager " : "",
            cfg->alertmanager_url ? cfg->alertmanager_url : "",
            cfg->webhook_url ? "; webhook " : "", cfg->webhook_url ? cfg->webhook_url : "");
    *out = a;
    return MW_OK;
}

void mw_alerting_stop(mw_alerting *a) {
    if (!a) return;
    mw_notifier_stop(a->notifier);
    mw_store_close(a->store);
    mw_alert_engine_free(&a->engine);
    free(a->generator_url);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

double mw_alerting_interval(const mw_alerting *a) {
    return a->eval_interval;
}

mw_status mw_alerting_samples(mw_daemon *d, mw_sample_set *out, char **text, mw_error *err) {
    mw_expo e;
    mw_expo_init(&e, 0);
    mw_status st = mw_daemon_write_metrics(d, &e);
    if (!st && d->http) st = mw_http_write_metrics(d->http, &e);
    if (!st) st = mw_expo_finish(&e);
    if (!st)
        st = mw_samples_parse(e.buf, e.len, out, err);
    else
        mw_error_set(err, st, NULL, 0, 0, "writing the metrics: %s", mw_status_str(st));
    if (text) {
        size_t len;
        *text = st ? NULL : mw_expo_take(&e, &len);
    }
    mw_expo_free(&e);
    return st;
}

/* ---- after an evaluation: store, log, notify ---- */

static mw_alert *find_alert(mw_alert_engine *e, const char *key) {
    for (size_t i = 0; i < e->n; i++)
        if (!strcmp(e->alerts[i].key, key)) return &e->alerts[i];
    return NULL;
}

static void store_transitions(mw_alerting *a, const mw_alert_transitions *tr) {
    mw_store_alert_event *ev = calloc(tr->n + 1, sizeof *ev);
    json_t *state = mw_alert_engine_to_json(&a->engine);
    char *state_json = state ? json_dumps(state, JSON_COMPACT) : NULL;
    mw_error err;
    mw_error_clear(&err);
    if (ev && state_json) {
        for (size_t i = 0; i < tr->n; i++)
            ev[i] = (mw_store_alert_event){tr->t[i].at,
                                           tr->t[i].rule,
                                           tr->t[i].key,
                                           mw_alert_state_name(tr->t[i].from),
                                           mw_alert_state_name(tr->t[i].to),
                                           tr->t[i].value};
        if (mw_store_alerts_commit(a->store, state_json, ev, tr->n, HISTORY_KEEP, &err))
            fprintf(stderr, "modelwatch: alerting: storing alerts failed: %s\n", err.message);
    } else {
        fprintf(stderr, "modelwatch: alerting: out of memory storing alerts\n");
    }
    free(ev);
    free(state_json);
    json_decref(state);
}

static void log_transition(const mw_alert_transition *t) {
    char v[40];
    mw_format_go_float(t->value, v, sizeof v);
    fprintf(stderr, "modelwatch: alert %s %s -> %s %s value=%s\n", t->rule,
            mw_alert_state_name(t->from), mw_alert_state_name(t->to), t->key, v);
}

/* Firing and resolved alerts that changed go to every target; every
 * resend_interval all of them go to Alertmanager again (it forgets alerts
 * whose endsAt passes, so firing ones must be refreshed). */
static void notify(mw_alerting *a, const mw_alert_transitions *tr, double now) {
    double valid_until = now + 4 * fmax(a->eval_interval, a->resend_interval);
    json_t *changed = json_array(), *all = json_array();
    for (size_t i = 0; i < tr->n; i++) {
        if (tr->t[i].to != MW_ALERT_FIRING && tr->t[i].to != MW_ALERT_RESOLVED) continue;
        mw_alert *al = find_alert(&a->engine, tr->t[i].key);
        if (!al) continue;
        json_array_append_new(changed, mw_alert_notice(al, valid_until, a->generator_url));
        al->last_sent = now;
    }
    int resend = now - a->last_resend >= a->resend_interval;
    for (size_t i = 0; resend && i < a->engine.n; i++) {
        mw_alert *al = &a->engine.alerts[i];
        if (al->state != MW_ALERT_FIRING && al->state != MW_ALERT_RESOLVED) continue;
        if (al->last_sent == now) continue; /* just sent as changed */
        json_array_append_new(all, mw_alert_notice(al, valid_until, a->generator_url));
        al->last_sent = now;
    }
    if (resend) a->last_resend = now;
    mw_notifier_send(a->notifier, changed, MW_NOTIFY_ALERTMANAGER | MW_NOTIFY_WEBHOOK);
    mw_notifier_send(a->notifier, all, MW_NOTIFY_ALERTMANAGER);
    json_decref(changed);
    json_decref(all);
}

static const mw_rule *find_rule(const mw_rule_set *set, const char *name) {
    for (size_t i = 0; i < set->n; i++)
        if (!strcmp(set->r[i].name, name)) return &set->r[i];
    return NULL;
}

static const char *annotation(const mw_alert *al, const char *name) {
    for (size_t i = 0; i < al->nannotations; i++)
        if (!strcmp(al->annotations[i].name, name)) return al->annotations[i].value;
    return NULL;
}

/* The alert al of rule r just turned firing: moves its alias back (a->mu held). */
static void rollback(mw_alerting *a, mw_daemon *d, const mw_rule *r, const mw_alert *al,
                     double now) {
    char *model = mw_template_render(r->rollback_model, al->labels, al->nlabels, al->value);
    char *alias = mw_template_render(r->rollback_alias, al->labels, al->nlabels, al->value);
    const char *summary = annotation(al, "summary");
    char who[MW_RULE_NAME_MAX + 32], why[1024];
    snprintf(who, sizeof who, "modelwatch-alert:%s", r->name);
    if (summary && *summary)
        snprintf(why, sizeof why, "%s", summary);
    else
        snprintf(why, sizeof why, "alert %s firing", r->name);
    char *to = NULL;
    mw_error err;
    mw_error_clear(&err);
    mw_status st = MW_ENOMEM;
    if (model && alias)
        st = mw_registry_rollback(a->store, model, alias, who, why, (int64_t)(now * 1000), &to,
                                  &err);
    if (!st) {
        a->rollbacks_done++;
        mw_monitor_registry_changed(d->monitor); /* records to @alias follow at once */
        fprintf(stderr,
                "modelwatch: alert %s: rolled alias \"%s\" of model \"%s\" back to version %s\n",
                r->name, alias, model, to ? to : "?");
    } else {
        a->rollbacks_failed++;
        fprintf(stderr,
                "modelwatch: alert %s: rollback of alias \"%s\" of model \"%s\" failed: %s\n",
                r->name, alias ? alias : "?", model ? model : "?",
                err.message[0] ? err.message : mw_status_str(st));
    }
    free(to);
    free(model);
    free(alias);
}

static void rollbacks(mw_alerting *a, mw_daemon *d, const mw_alert_transitions *tr, double now) {
    for (size_t i = 0; i < tr->n; i++) {
        if (tr->t[i].to != MW_ALERT_FIRING) continue;
        const mw_rule *r = find_rule(&a->engine.rules, tr->t[i].rule);
        const mw_alert *al = r && r->rollback_model ? find_alert(&a->engine, tr->t[i].key) : NULL;
        if (al) rollback(a, d, r, al, now);
    }
}

void mw_alerting_evaluate(mw_alerting *a, mw_daemon *d, double now) {
    mw_sample_set samples = {0};
    mw_alert_transitions tr = {0};
    mw_error err;
    mw_error_clear(&err);
    char *text = NULL;
    if (mw_alerting_samples(d, &samples, &text, &err)) {
        fprintf(stderr, "modelwatch: alerting: %s\n", err.message);
        return;
    }
    pthread_mutex_lock(&a->mu);
    if (!a->warned) { /* once per rule set: rules over metrics that do not exist */
        json_t *w = mw_alerting_warnings(&a->engine.rules, text);
        size_t i;
        json_t *v;
        json_array_foreach(w, i, v) fprintf(stderr, "modelwatch: alerting: warning: %s\n",
                                            json_string_value(v));
        json_decref(w);
        a->warned = 1;
    }
    free(text);
    if (mw_alert_engine_eval(&a->engine, &samples, now, &tr, &err)) {
        fprintf(stderr, "modelwatch: alerting: %s\n", err.message);
    } else {
        for (size_t i = 0; i < tr.n; i++)
            log_transition(&tr.t[i]);
        double resend_before = a->last_resend;
        rollbacks(a, d, &tr, now);
        notify(a, &tr, now);
        if (tr.n || a->last_resend != resend_before) store_transitions(a, &tr);
    }
    pthread_mutex_unlock(&a->mu);
    mw_alert_transitions_free(&tr);
    mw_samples_free(&samples);
}
