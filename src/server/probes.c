/*
 * The probe sets at work (probes.h): one thread per set sends the set's
 * prompts one after the other (one connection, kept alive; a model server is
 * never asked more than one probe at a time per set), judges each answer
 * (probe_client.c), then records the run: counters and last-run gauges under
 * the set's mutex (held only for the update, never across network I/O),
 * histograms of latency and time to first token, and the run's result in
 * SQLite through the probes' own store connection, so neither ingestion nor
 * a scrape ever waits on a probe.
 *
 * Schedule: the first run starts at once, each next one `interval` after
 * the previous one started, or at once when a run took longer than that
 * (runs never overlap and missed runs are not made up). POST
 * /api/v1/probes/{set}/run asks for a run now. Stop wakes every thread and
 * aborts a request in flight (probe_client.c); a run cut short is dropped,
 * not recorded.
 *
 * A run's result (stored, and the API's "last_run"):
 *   {"probe_set", "model", "start", "end" (unix seconds), "prompts", "passed",
 *    "pass_ratio", "latency_seconds": {"mean", "max"}, "ttft_seconds": {"mean",
 *    "max"} (null without streaming), "tokens": {"input", "output"},
 *    "failures": {reason: count}, "results": [{"id", "passed", "reason",
 *    "detail", "http_status", "latency_seconds", "ttft_seconds",
 *    "input_tokens", "output_tokens", "finish_reason"}]}
 * with unknown numbers (no usage, no stream) as null. A line goes to the log
 * when a set's outcome changes (passed count or failure reasons), not at
 * every run.
 */
#include "monitor/serving.h"
#include "server/probes_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_mono(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now_wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static json_t *number_or_null(double v) {
    return isfinite(v) ? json_real(v) : json_null();
}

/* mean and max of the finite values among n; NaN when there are none. */
static void mean_max(const mw_probe_result *r, size_t n, int ttft, double out[2]) {
    double sum = 0, max = NAN;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        double v = ttft ? r[i].ttft_s : r[i].latency_s;
        if (!isfinite(v)) continue;
        sum += v;
        if (k++ == 0 || v > max) max = v;
    }
    out[0] = k ? sum / (double)k : NAN;
    out[1] = max;
}

static json_t *mean_max_json(const double mm[2]) {
    if (!isfinite(mm[0])) return json_null();
    return json_pack("{s:f, s:f}", "mean", mm[0], "max", mm[1]);
}

static json_t *result_json(const mw_probe_prompt *p, const mw_probe_result *r) {
    json_t *o = json_pack("{s:s, s:b}", "id", p->id, "passed", r->passed);
    if (!r->passed) {
        json_object_set_new(o, "reason", json_string(mw_probe_reason_name(r->reason)));
        json_object_set_new(o, "detail", json_string(r->detail));
    }
    json_object_set_new(o, "http_status",
                        r->http_status ? json_integer(r->http_status) : json_null());
    json_object_set_new(o, "latency_seconds", number_or_null(r->latency_s));
    json_object_set_new(o, "ttft_seconds", number_or_null(r->ttft_s));
    json_object_set_new(o, "input_tokens", number_or_null(r->input_tokens));
    json_object_set_new(o, "output_tokens", number_or_null(r->output_tokens));
    json_object_set_new(o, "finish_reason",
                        r->finish_reason[0] ? json_string(r->finish_reason) : json_null());
    return o;
}

/* What one run adds up to. */
typedef struct run_summary {
    double start, end;
    size_t passed;
    double ratio, latency[2], ttft[2], tokens[2];
    uint64_t reasons[MW_PROBE_REASONS];
} run_summary;

static void summarise(const mw_probe_state *s, const mw_probe_result *r, run_summary *u) {
    const size_t n = s->cfg.nprompts;
    for (size_t i = 0; i < n; i++) {
        if (r[i].passed)
            u->passed++;
        else
            u->reasons[r[i].reason]++;
        if (isfinite(r[i].input_tokens)) u->tokens[0] += r[i].input_tokens;
        if (isfinite(r[i].output_tokens)) u->tokens[1] += r[i].output_tokens;
    }
    u->ratio = (double)u->passed / (double)n;
    mean_max(r, n, 0, u->latency);
    mean_max(r, n, 1, u->ttft);
}

static char *run_json(const mw_probe_state *s, const mw_probe_result *r, const run_summary *u) {
    json_t *failures = json_object(), *results = json_array();
    for (int k = 0; k < MW_PROBE_REASONS; k++)
        if (u->reasons[k])
            json_object_set_new(failures, mw_probe_reason_name((mw_probe_reason)k),
                                json_integer((json_int_t)u->reasons[k]));
    for (size_t i = 0; i < s->cfg.nprompts; i++)
        json_array_append_new(results, result_json(&s->cfg.prompts[i], &r[i]));
    json_t *o =
        json_pack("{s:s, s:s, s:f, s:f, s:I, s:I, s:f, s:o, s:o, s:{s:f, s:f}, s:o, s:o}",
                  "probe_set", s->cfg.name, "model", s->cfg.model, "start", u->start, "end", u->end,
                  "prompts", (json_int_t)s->cfg.nprompts, "passed", (json_int_t)u->passed,
                  "pass_ratio", u->ratio, "latency_seconds", mean_max_json(u->latency),
                  "ttft_seconds", mean_max_json(u->ttft), "tokens", "input", u->tokens[0], "output",
                  u->tokens[1], "failures", failures, "results", results);
    char *text = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return text;
}

/* The counters and gauges of a finished run; takes json over. */
static void account(mw_probe_state *s, const mw_probe_result *r, const run_summary *u, char *json) {
    for (size_t i = 0; i < s->cfg.nprompts; i++) {
        if (isfinite(r[i].latency_s)) mw_histo_observe(s->latency, r[i].latency_s);
        if (isfinite(r[i].ttft_s)) mw_histo_observe(s->ttft, r[i].ttft_s);
    }
    pthread_mutex_lock(&s->mu);
    s->runs++;
    for (size_t i = 0; i < s->cfg.nprompts; i++) {
        s->requests[i]++;
        s->last_passed[i] = r[i].passed;
        if (!r[i].passed) s->failures[i * MW_PROBE_REASONS + r[i].reason]++;
    }
    s->tokens[0] += u->tokens[0];
    s->tokens[1] += u->tokens[1];
    s->has_last = 1;
    s->last_end = u->end;
    s->last_ratio = u->ratio;
    memcpy(s->last_latency, u->latency, sizeof u->latency);
    memcpy(s->last_ttft, u->ttft, sizeof u->ttft);
    free(s->last_json);
    s->last_json = json;
    pthread_mutex_unlock(&s->mu);
}

/* One log line when the outcome differs from the last run's. */
static void log_outcome(mw_probe_state *s, const mw_probe_result *r, const run_summary *u) {
    char line[160];
    int k = snprintf(line, sizeof line, "%zu/%zu passed", u->passed, s->cfg.nprompts);
    for (int j = 0; j < MW_PROBE_REASONS && k > 0 && (size_t)k < sizeof line; j++)
        if (u->reasons[j])
            k += snprintf(line + k, sizeof line - (size_t)k, ", %llu %s",
                          (unsigned long long)u->reasons[j],
                          mw_probe_reason_name((mw_probe_reason)j));
    if (!strcmp(line, s->last_summary)) return; /* only the run thread writes it */
    snprintf(s->last_summary, sizeof s->last_summary, "%s", line);
    const mw_probe_result *first = NULL;
    size_t fi = 0;
    for (size_t i = 0; i < s->cfg.nprompts && !first; i++)
        if (!r[i].passed) first = &r[i], fi = i;
    if (first)
        fprintf(stderr, "modelwatch: probe %s: %s; first failure %s: %s: %s\n", s->cfg.name, line,
                s->cfg.prompts[fi].id, mw_probe_reason_name(first->reason), first->detail);
    else
        fprintf(stderr, "modelwatch: probe %s: %s\n", s->cfg.name, line);
}

static void run_set(mw_probe_state *s, mw_probe_client *cl) {
    mw_probe_result *r = calloc(s->cfg.nprompts, sizeof *r);
    if (!r) {
        fprintf(stderr, "modelwatch: probe %s: out of memory, run skipped\n", s->cfg.name);
        return;
    }
    run_summary u = {.start = now_wall()};
    for (size_t i = 0; i < s->cfg.nprompts; i++) {
        mw_probe_client_run(cl, &s->cfg.prompts[i], &r[i]);
        if (r[i].aborted || atomic_load(&s->owner->stopping)) {
            free(r);
            return;
        }
    }
    u.end = now_wall();
    summarise(s, r, &u);
    char *json = run_json(s, r, &u);
    mw_error err;
    mw_error_clear(&err);
    if (!json || mw_store_probe_run_commit(s->owner->store, s->cfg.name, u.start, u.end,
                                           (unsigned)s->cfg.nprompts, (unsigned)u.passed, json,
                                           MW_PROBE_KEEP_RUNS, &err))
        fprintf(stderr, "modelwatch: probe %s: storing the run failed: %s\n", s->cfg.name,
                json ? err.message : "out of memory");
    log_outcome(s, r, &u);
    account(s, r, &u, json);
    free(r);
}

/* Waits (mu held) until the monotonic deadline, a run request or stop. */
static void wait_next(mw_probe_state *s, double deadline) {
    while (!atomic_load(&s->owner->stopping) && !s->run_now && now_mono() < deadline) {
        struct timespec ts;
        ts.tv_sec = (time_t)deadline;
        ts.tv_nsec = (long)((deadline - (double)ts.tv_sec) * 1e9);
        if (ts.tv_nsec > 999999999L) ts.tv_nsec = 999999999L;
        pthread_cond_timedwait(&s->cond, &s->mu, &ts);
    }
}

static void *set_thread(void *arg) {
    mw_probe_state *s = arg;
    mw_probe_client *cl = NULL;
    mw_error err;
    mw_error_clear(&err);
    if (mw_probe_client_new(&s->cfg, s->api_key, &s->owner->stopping, &cl, &err)) {
        fprintf(stderr, "modelwatch: probe %s: %s; the set does not run\n", s->cfg.name,
                err.message);
        return NULL;
    }
    double next = now_mono();
    pthread_mutex_lock(&s->mu);
    for (;;) {
        wait_next(s, next);
        if (atomic_load(&s->owner->stopping)) break;
        s->run_now = 0;
        pthread_mutex_unlock(&s->mu);
        double started = now_mono();
        run_set(s, cl);
        next = started + s->cfg.interval_s;
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    mw_probe_client_free(cl);
    return NULL;
}

/* ---- start and stop ---- */

static mw_status state_init(mw_probe_state *s, mw_probes *owner, mw_error *err) {
    s->owner = owner;
    size_t n = s->cfg.nprompts;
    s->requests = calloc(n, sizeof *s->requests);
    s->failures = calloc(n * MW_PROBE_REASONS, sizeof *s->failures);
    s->last_passed = malloc(n * sizeof *s->last_passed);
    if (!s->requests || !s->failures || !s->last_passed ||
        mw_histo_new(mw_latency_bounds, MW_LATENCY_BOUNDS, &s->latency) ||
        mw_histo_new(mw_ttft_bounds, MW_TTFT_BOUNDS, &s->ttft))
        return mw_error_set(err, MW_ENOMEM, "", 0, 0, "probe %s: out of memory", s->cfg.name);
    for (size_t i = 0; i < n; i++)
        s->last_passed[i] = -1;
    if (s->cfg.api_key_env) {
        const char *key = getenv(s->cfg.api_key_env);
        if (!key || !*key)
            return mw_error_set(err, MW_EINVAL, "", 0, 0,
                                "probe %s: api_key_env: the environment variable %s is not set",
                                s->cfg.name, s->cfg.api_key_env);
        if (!(s->api_key = strdup(key)))
            return mw_error_set(err, MW_ENOMEM, "", 0, 0, "probe %s: out of memory", s->cfg.name);
    }
    return MW_OK;
}

static void state_free(mw_probe_state *s) {
    if (s->api_key) memset(s->api_key, 0, strlen(s->api_key));
    free(s->api_key);
    free(s->requests);
    free(s->failures);
    free(s->last_passed);
    free(s->last_json);
    mw_histo_free(s->latency);
    mw_histo_free(s->ttft);
    mw_probe_set_free(&s->cfg);
}

static int sync_init(mw_probe_state *s) {
    pthread_condattr_t ca;
    if (pthread_condattr_init(&ca)) return 0;
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int ok = pthread_cond_init(&s->cond, &ca) == 0;
    pthread_condattr_destroy(&ca);
    if (ok && pthread_mutex_init(&s->mu, NULL)) {
        pthread_cond_destroy(&s->cond);
        ok = 0;
    }
    return ok;
}

mw_status mw_probes_start(const json_t *section, const char *db, mw_probes **out, mw_error *err) {
    *out = NULL;
    size_t n = json_array_size(section);
    mw_status st = n ? mw_probes_check(section, "", err) : MW_OK;
    if (st) return st;
    mw_probes *p = calloc(1, sizeof *p);
    if (!p || !(p->sets = calloc(n ? n : 1, sizeof *p->sets))) {
        free(p);
        return mw_error_set(err, MW_ENOMEM, "", 0, 0, "probes: out of memory");
    }
    atomic_init(&p->stopping, 0);
    if (n) st = mw_store_open(db, NULL, &p->store, err);
    for (size_t i = 0; !st && i < n; i++) {
        mw_probe_state *s = &p->sets[i];
        if ((st = mw_probe_set_parse(json_array_get(section, i), i, "", &s->cfg, err))) break;
        if (!sync_init(s)) {
            mw_probe_set_free(&s->cfg);
            st = mw_error_set(err, MW_ENOMEM, "", 0, 0, "probes: out of memory");
            break;
        }
        p->n++; /* state_free and the sync objects are cleaned up with it from here */
        st = state_init(s, p, err);
    }
    for (size_t i = 0; !st && i < p->n; i++) {
        mw_probe_state *s = &p->sets[i];
        if (pthread_create(&s->thread, NULL, set_thread, s))
            st = mw_error_set(err, MW_ENOMEM, "", 0, 0, "probe %s: cannot start its thread",
                              s->cfg.name);
        else
            s->started = 1;
    }
    if (st) {
        mw_probes_stop(p);
        return st;
    }
    for (size_t i = 0; i < p->n; i++)
        fprintf(stderr,
                "modelwatch: probe %s: %zu prompt%s to %s (model %s), every %gs, %s, timeout "
                "%gs\n",
                p->sets[i].cfg.name, p->sets[i].cfg.nprompts,
                p->sets[i].cfg.nprompts == 1 ? "" : "s", p->sets[i].cfg.log_url,
                p->sets[i].cfg.model, p->sets[i].cfg.interval_s,
                p->sets[i].cfg.stream ? "streaming" : "not streaming", p->sets[i].cfg.timeout_s);
    *out = p;
    return MW_OK;
}

void mw_probes_stop(mw_probes *p) {
    if (!p) return;
    atomic_store(&p->stopping, 1);
    for (size_t i = 0; i < p->n; i++) {
        pthread_mutex_lock(&p->sets[i].mu);
        pthread_cond_broadcast(&p->sets[i].cond);
        pthread_mutex_unlock(&p->sets[i].mu);
    }
    for (size_t i = 0; i < p->n; i++) {
        mw_probe_state *s = &p->sets[i];
        if (s->started) pthread_join(s->thread, NULL);
        state_free(s);
        pthread_cond_destroy(&s->cond);
        pthread_mutex_destroy(&s->mu);
    }
    free(p->sets);
    mw_store_close(p->store);
    free(p);
}

mw_probe_state *mw_probes_find(mw_probes *p, const char *name) {
    for (size_t i = 0; p && i < p->n; i++)
        if (!strcmp(p->sets[i].cfg.name, name)) return &p->sets[i];
    return NULL;
}

void mw_probes_trigger(mw_probe_state *s) {
    pthread_mutex_lock(&s->mu);
    s->run_now = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}
