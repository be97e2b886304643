/*
 * The monitor's view of the model registry (registry.h) on the ingestion
 * path: "@alias" versions in records resolved to the alias's version, and
 * each monitored version's registry signature, against which accepted records
 * are checked (violations counted per field and reason for /metrics).
 *
 * Freshness: an entry is read from the store at most once a second
 * (MW_REGCACHE_TTL_S, monotonic clock), so a batch costs no SQLite read in
 * the steady state; mw_monitor_registry_changed (the daemon's registry
 * writes) marks every entry stale, so a move through the daemon's API is seen
 * by the next request, and a move by another process (the CLI on the same
 * file) within a second.
 *
 * Memory: one entry per (model, alias) and per (model, version) seen, each
 * small; the signature's counters are kept across refreshes for fields that
 * stay (a changed signature keeps counting its surviving fields). Label
 * values are bounded: fields of the signatures only.
 *
 * Locking: one mutex over the entries, taken after a version's lock (never
 * the other way round) and never held across a store call.
 */
#include "monitor/monitor_int.h"

#include "modelwatch/registry.h"
#include "modelwatch/signature.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MW_REGCACHE_TTL_S 1.0

typedef struct rc_entry {
    char *model, *name; /* name: the alias (alias entries) or the version */
    int is_alias;
    double fetched; /* monotonic seconds; 0 = stale */
    char *target;   /* alias: its version, NULL when none */
    int has_sig;    /* version: a signature is registered */
    mw_signature sig;
    uint64_t *counts; /* mw_signature_slots(&sig) */
} rc_entry;

struct mw_regcache {
    pthread_mutex_t mu;
    rc_entry *e;
    size_t n, cap;
};

static double mono(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

mw_regcache *mw_regcache_new(void) {
    mw_regcache *c = calloc(1, sizeof *c);
    if (c) pthread_mutex_init(&c->mu, NULL);
    return c;
}

void mw_regcache_free(mw_regcache *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->e[i].model);
        free(c->e[i].name);
        free(c->e[i].target);
        mw_signature_free(&c->e[i].sig);
        free(c->e[i].counts);
    }
    free(c->e);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

void mw_monitor_registry_changed(mw_monitor *m) {
    mw_regcache *c = m->regcache;
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++)
        c->e[i].fetched = 0;
    pthread_mutex_unlock(&c->mu);
}

/* The entry (lock held), created stale when new; NULL when out of memory. */
static rc_entry *entry(mw_regcache *c, const char *model, const char *name, int is_alias) {
    for (size_t i = 0; i < c->n; i++)
        if (c->e[i].is_alias == is_alias && !strcmp(c->e[i].model, model) &&
            !strcmp(c->e[i].name, name))
            return &c->e[i];
    if (c->n == c->cap) {
        size_t nc = c->cap ? 2 * c->cap : 16;
        rc_entry *ne = realloc(c->e, nc * sizeof *ne);
        if (!ne) return NULL;
        c->e = ne;
        c->cap = nc;
    }
    rc_entry *e = &c->e[c->n];
    memset(e, 0, sizeof *e);
    e->model = strdup(model);
    e->name = strdup(name);
    e->is_alias = is_alias;
    if (!e->model || !e->name) {
        free(e->model);
        free(e->name);
        return NULL;
    }
    c->n++;
    return e;
}

static int fresh(const rc_entry *e, double now) {
    return e->fetched > 0 && now - e->fetched < MW_REGCACHE_TTL_S;
}

int mw_regcache_resolve(mw_monitor *m, const char *model, const char *alias, char *out,
                        size_t outsz, char *msg, size_t msgsz) {
    mw_regcache *c = m->regcache;
    if (!c || !m->store) {
        snprintf(msg, msgsz,
                 "version \"@%.40s\" names a registry alias, but the daemon has no "
                 "registry database",
                 alias);
        return 0;
    }
    double now = mono();
    pthread_mutex_lock(&c->mu);
    rc_entry *e = entry(c, model, alias, 1);
    int ok = e && fresh(e, now);
    if (ok) snprintf(out, outsz, "%s", e->target ? e->target : "");
    pthread_mutex_unlock(&c->mu);
    if (!ok) { /* read outside the lock, then publish */
        char *target = NULL;
        mw_error err;
        mw_status st = mw_registry_get_alias(m->store, model, alias, &target, &err);
        if (st && st != MW_ENOTFOUND) {
            snprintf(msg, msgsz, "resolving @%.40s: %.150s", alias, err.message);
            return 0;
        }
        snprintf(out, outsz, "%s", target ? target : "");
        pthread_mutex_lock(&c->mu);
        if ((e = entry(c, model, alias, 1))) {
            free(e->target);
            e->target = target;
            target = NULL;
            e->fetched = now;
        }
        pthread_mutex_unlock(&c->mu);
        free(target);
    }
    if (!*out) {
        snprintf(msg, msgsz, "model \"%.40s\" has no alias \"%.40s\" in the registry", model,
                 alias);
        return 0;
    }
    return 1;
}

/* Copies counts of fields that survive from the old signature to the new. */
static void carry_counts(const rc_entry *old, const mw_signature *ns, uint64_t *nc) {
    if (!old->has_sig || !old->counts) return;
    for (size_t i = 0; i < ns->ninputs; i++)
        for (size_t j = 0; j < old->sig.ninputs; j++)
            if (!strcmp(ns->inputs[i].name, old->sig.inputs[j].name))
                memcpy(&nc[i * MW_SIG_REASONS], &old->counts[j * MW_SIG_REASONS],
                       MW_SIG_REASONS * sizeof *nc);
    nc[ns->ninputs * MW_SIG_REASONS + MW_SIG_CLASS] =
        old->counts[old->sig.ninputs * MW_SIG_REASONS + MW_SIG_CLASS];
}

/* Reads (model, version)'s signature from the store into the entry. */
static void refresh_signature(mw_monitor *m, mw_regcache *c, const char *model, const char *version,
                              double now) {
    char *json = NULL;
    mw_error err;
    mw_signature sig = {0};
    int has = 0;
    if (mw_registry_get_version(m->store, model, version, &json, &err) == MW_OK) {
        json_t *v = json_loads(json, 0, NULL);
        const json_t *js = json_object_get(v, "signature");
        char *text = json_is_object(js) ? json_dumps(js, JSON_COMPACT) : NULL;
        has = text && mw_signature_parse(text, "registry signature", &sig, &err) == MW_OK;
        free(text);
        json_decref(v);
    }
    free(json);
    uint64_t *counts = has ? calloc(mw_signature_slots(&sig), sizeof *counts) : NULL;
    if (has && !counts) has = 0;
    pthread_mutex_lock(&c->mu);
    rc_entry *e = entry(c, model, version, 0);
    if (e) {
        if (has) carry_counts(e, &sig, counts);
        if (has || !e->has_sig) { /* a signature removed keeps its counters visible */
            mw_signature_free(&e->sig);
            free(e->counts);
            e->sig = sig;
            e->counts = counts;
            e->has_sig = has;
            sig = (mw_signature){0};
            counts = NULL;
        }
        e->fetched = now;
    }
    pthread_mutex_unlock(&c->mu);
    mw_signature_free(&sig);
    free(counts);
}

void mw_regcache_check(mw_monitor *m, const char *model, const char *version,
                       const mw_record *const *recs, size_t n) {
    mw_regcache *c = m->regcache;
    if (!c || !m->store || !n) return;
    double now = mono();
    pthread_mutex_lock(&c->mu);
    rc_entry *e = entry(c, model, version, 0);
    int stale = e && !fresh(e, now);
    pthread_mutex_unlock(&c->mu);
    if (stale) refresh_signature(m, c, model, version, now);
    pthread_mutex_lock(&c->mu);
    e = entry(c, model, version, 0);
    if (e && e->has_sig && e->counts)
        for (size_t i = 0; i < n; i++)
            mw_signature_check(&e->sig, recs[i], e->counts);
    pthread_mutex_unlock(&c->mu);
}

void mw_monitor_signature_violations(mw_monitor *m, mw_violation_fn fn, void *ctx) {
    mw_regcache *c = m->regcache;
    if (!c) return;
    pthread_mutex_lock(&c->mu);
    for (size_t i = 0; i < c->n; i++) {
        const rc_entry *e = &c->e[i];
        if (e->is_alias || !e->counts) continue;
        for (size_t k = 0; k <= e->sig.ninputs; k++)
            for (int r = 0; r < MW_SIG_REASONS; r++) {
                int input = k < e->sig.ninputs;
                if (input ? r == MW_SIG_CLASS : (r != MW_SIG_CLASS || !e->sig.has_classes))
                    continue;
                const char *field = input             ? e->sig.inputs[k].name
                                    : e->sig.noutputs ? e->sig.outputs[0].name
                                                      : "prediction";
                fn(e->model, e->name, field, mw_sig_reason_name(r),
                   e->counts[k * MW_SIG_REASONS + (size_t)r], ctx);
            }
    }
    pthread_mutex_unlock(&c->mu);
}
