/*
 * `modelwatch diagnose MODEL`: what changed for a model lately, from the
 * database alone (the daemon need not run): registry versions and alias
 * moves, and per stored window the drifted features, missing-value spikes,
 * outlier share, latency and error jumps and estimated accuracy drops, plus
 * alerts that started firing. Findings are scored (report/diagnose.h) and
 * shown ranked ("Most likely causes"), then as a timeline.
 */
#include "cli/cli.h"
#include "cli/registry_int.h"

#include "alert/rules.h"
#include "modelwatch/registry.h"
#include "modelwatch/store.h"
#include "report/diagnose.h"

#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char diagnose_help[] =
    "usage: modelwatch diagnose MODEL [--since DURATION] [--db PATH] [--version V]\n"
    "                           [--format text|json] [--limit N]\n"
    "\n"
    "Explains what changed for MODEL: versions registered and alias moves, the\n"
    "features that drifted (ranked by effect size), missing-value spikes, outlier\n"
    "share, p99 latency and error-ratio jumps, estimated accuracy drops and alerts\n"
    "that started firing. Prints the highest-scored findings first, then all of\n"
    "them in time order. Reads the database directly; the daemon need not run.\n"
    "Exit status 0 (also when nothing changed), 1 error or unknown model, 2 usage.\n"
    "\n"
    "options:\n"
    "  -s, --since DURATION the range, back from now (default 24h; e.g. 90m, 7d)\n"
    "  -d, --db PATH        the database (default ./modelwatch.db)\n"
    "  -v, --version V      only this version (or @alias)\n"
    "  -f, --format FMT     text (default) or json\n"
    "  -n, --limit N        ranked findings to show (default 10)\n"
    "  -h, --help           show this help\n";

typedef struct diag {
    const char *cmd, *model, *version; /* version: NULL for all */
    double from;                       /* unix seconds */
    mw_store *s;
    mw_findings fs;
} diag;

static int version_wanted(const diag *d, const char *v) {
    return !d->version || (v && !strcmp(d->version, v));
}

/* Monitored versions: their registration and their windows. *known is set
 * when the model has any. */
static int monitored(diag *d, int *known) {
    mw_store_version *v = NULL;
    size_t n = 0;
    mw_error err;
    if (mw_store_list_versions(d->s, &v, &n, &err)) return mw_cli_error(d->cmd, "%s", err.message);
    int rc = MW_EXIT_OK;
    for (size_t i = 0; i < n && rc == MW_EXIT_OK; i++) {
        if (strcmp(v[i].model, d->model)) continue;
        *known = 1;
        if (!version_wanted(d, v[i].version)) continue;
        double t = (double)v[i].created_ms / 1000;
        if (t >= d->from &&
            !mw_findings_add(&d->fs, t, "version_registered", v[i].version, NULL, 0.25,
                             "monitoring of version %s registered", v[i].version)) {
            rc = mw_cli_error(d->cmd, "out of memory");
            break;
        }
        char **res = NULL;
        size_t nw = 0;
        if (mw_store_list_windows(d->s, d->model, v[i].version, 0, &res, &nw, &err)) {
            rc = mw_cli_error(d->cmd, "%s", err.message);
            break;
        }
        /* stored newest first; the findings want them oldest first */
        json_t **w = calloc(nw ? nw : 1, sizeof *w);
        size_t first = nw;
        for (size_t k = 0; w && k < nw; k++) {
            json_t *r = json_loads(res[nw - 1 - k], 0, NULL);
            w[k] = r ? r : json_object();
            json_t *end = json_object_get(w[k], "end");
            if (first == nw && json_is_number(end) && json_number_value(end) >= d->from) first = k;
        }
        if (!w || !mw_diag_windows(v[i].version, w, nw, first, &d->fs))
            rc = mw_cli_error(d->cmd, "out of memory");
        for (size_t k = 0; k < nw; k++) {
            if (w) json_decref(w[k]);
            free(res[k]);
        }
        free(w);
        free(res);
    }
    mw_store_versions_free(v, n);
    return rc;
}

/* A string member, NULL when absent or not a string. */
static const char *str(const json_t *o, const char *key) {
    return json_string_value(json_object_get(o, key));
}

static double ms_member(const json_t *o, const char *key) {
    return (double)json_integer_value(json_object_get(o, key)) / 1000;
}

/* Registry versions and alias moves. */
static int registry(diag *d, int *known) {
    char *text = NULL;
    mw_error err;
    mw_status st = mw_registry_list(d->s, d->model, &text, &err);
    if (st == MW_ENOTFOUND) return MW_EXIT_OK;
    if (st) return mw_cli_error(d->cmd, "%s", err.message);
    *known = 1;
    json_t *list = json_loads(text, 0, NULL);
    free(text);
    int ok = 1;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(json_array_get(json_object_get(list, "models"), 0),
                                       "versions"),
                       i, v) {
        const char *name = str(v, "version");
        const char *desc = str(v, "description");
        double t = ms_member(v, "created_ms");
        if (name && t >= d->from && version_wanted(d, name))
            ok = ok && mw_findings_add(&d->fs, t, "version_registered", name, NULL, 0.25,
                                       "registry version %s registered%s%s", name,
                                       desc && *desc ? ": " : "", desc ? desc : "");
    }
    json_decref(list);
    if (mw_registry_audit(d->s, d->model, NULL, 0, &text, &err))
        return mw_cli_error(d->cmd, "%s", err.message);
    json_t *audit = json_loads(text, 0, NULL);
    free(text);
    json_array_foreach(json_object_get(audit, "audit"), i, v) {
        const char *alias = str(v, "alias");
        const char *from = str(v, "from");
        const char *to = str(v, "to");
        const char *who = str(v, "who");
        const char *why = str(v, "why");
        const char *action = str(v, "action");
        double t = ms_member(v, "at_ms");
        if (t < d->from || !(version_wanted(d, to) || version_wanted(d, from))) continue;
        ok = ok && mw_findings_add(&d->fs, t, "alias_move", to, NULL, 0.5,
                                   "alias %s moved %s -> %s (%s by %s)%s%s", alias ? alias : "?",
                                   from ? from : "none", to ? to : "none",
                                   action ? action : "set", who ? who : "?",
                                   why && *why ? ": " : "", why ? why : "");
    }
    json_decref(audit);
    return ok ? MW_EXIT_OK : mw_cli_error(d->cmd, "out of memory");
}

/* Alerts of this model that started firing. */
static int alerts(diag *d) {
    char *text = NULL;
    mw_error err;
    if (mw_store_alert_history(d->s, 0, &text, &err))
        return mw_cli_error(d->cmd, "%s", err.message);
    json_t *h = json_loads(text, 0, NULL);
    free(text);
    int ok = 1;
    size_t i;
    json_t *e;
    json_array_foreach(h, i, e) {
        const json_t *labels = json_object_get(e, "labels");
        const char *model = str(labels, "model");
        const char *version = str(labels, "version");
        const char *to = str(e, "to");
        const char *rule = str(e, "rule");
        const char *sev = str(labels, "severity");
        const char *feature = str(labels, "feature");
        double t = json_number_value(json_object_get(e, "at"));
        if (!model || strcmp(model, d->model) || !to || strcmp(to, "firing") || t < d->from ||
            !version_wanted(d, version))
            continue;
        double score = sev && !strcmp(sev, "critical") ? 1 : sev && !strcmp(sev, "warning") ? 0.75
                                                                                              : 0.5;
        json_t *val = json_object_get(e, "value");
        ok = ok && mw_findings_add(&d->fs, t, "alert", version, feature, score,
                                   "alert %s firing%s%s%s%s (value %.4g)", rule ? rule : "?",
                                   sev ? ", severity " : "", sev ? sev : "",
                                   feature ? ", feature " : "", feature ? feature : "",
                                   json_is_number(val) ? json_number_value(val) : NAN);
    }
    json_decref(h);
    return ok ? MW_EXIT_OK : mw_cli_error(d->cmd, "out of memory");
}

static void iso_time(double t, char *buf, size_t size) {
    time_t s = (time_t)floor(t);
    struct tm tm;
    if (!gmtime_r(&s, &tm) || !strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, size, "%.0f", t);
}

static json_t *finding_json(const mw_finding *f) {
    char at[32];
    iso_time(f->time, at, sizeof at);
    json_t *o = json_pack("{s:f, s:s, s:s, s:s?, s:s, s:f}", "time", f->time, "at", at, "kind",
                          f->kind, "version", f->version, "what", f->what, "score", f->score);
    if (o && f->feature) json_object_set_new(o, "feature", json_string(f->feature));
    return o;
}

static void print_json(const diag *d, const char *since, const mw_finding **ranked, size_t top) {
    char from[32];
    iso_time(d->from, from, sizeof from);
    json_t *findings = json_array(), *timeline = json_array();
    for (size_t i = 0; i < top; i++) json_array_append_new(findings, finding_json(ranked[i]));
    for (size_t i = 0; i < d->fs.n; i++) json_array_append_new(timeline, finding_json(&d->fs.f[i]));
    json_t *root = json_pack("{s:s, s:s?, s:s, s:s, s:o, s:o}", "model", d->model, "version",
                             d->version, "since", since, "from", from, "findings", findings,
                             "timeline", timeline);
    json_dumpf(root, stdout, JSON_INDENT(2));
    printf("\n");
    json_decref(root);
}

static void print_finding(const mw_finding *f) {
    char at[32];
    iso_time(f->time, at, sizeof at);
    printf("%s  %.3f  %-18s %-8s %s\n", at, f->score, f->kind, f->version ? f->version : "-",
           f->what);
}

static void print_text(const diag *d, const char *since, const mw_finding **ranked, size_t top) {
    char from[32];
    iso_time(d->from, from, sizeof from);
    printf("diagnosis of %s%s%s since %s (%s): %zu findings\n\n", d->model,
           d->version ? " version " : "", d->version ? d->version : "", from, since, d->fs.n);
    printf("Most likely causes (score: see README \"modelwatch diagnose\"):\n");
    for (size_t i = 0; i < top; i++) {
        printf("%3zu. ", i + 1);
        print_finding(ranked[i]);
    }
    printf("\nTimeline:\n");
    for (size_t i = 0; i < d->fs.n; i++) {
        printf("     ");
        print_finding(&d->fs.f[i]);
    }
}

static int run(diag *d, const char *db, const char *since, int json, size_t limit) {
    if (access(db, F_OK)) return mw_cli_error(d->cmd, "no database at %s", db);
    d->s = mw_cli_open_db(d->cmd, db);
    if (!d->s) return MW_EXIT_ERROR;
    int known = 0, rc = monitored(d, &known);
    if (rc == MW_EXIT_OK) rc = registry(d, &known);
    if (rc == MW_EXIT_OK && !known)
        rc = mw_cli_error(d->cmd, "unknown model \"%s\": %s has no monitored or registry version "
                                  "of it",
                          d->model, db);
    if (rc == MW_EXIT_OK) rc = alerts(d);
    if (rc != MW_EXIT_OK) return rc;
    mw_diag_link_changes(&d->fs);
    mw_findings_sort_time(&d->fs);
    const mw_finding **ranked = malloc((d->fs.n ? d->fs.n : 1) * sizeof *ranked);
    if (!ranked) return mw_cli_error(d->cmd, "out of memory");
    mw_findings_rank(&d->fs, ranked);
    size_t top = d->fs.n < limit ? d->fs.n : limit;
    if (json)
        print_json(d, since, ranked, top);
    else if (!d->fs.n)
        printf("nothing changed for %s%s%s in the last %s\n", d->model,
               d->version ? " version " : "", d->version ? d->version : "", since);
    else
        print_text(d, since, ranked, top);
    free(ranked);
    return MW_EXIT_OK;
}

int mw_cmd_diagnose(int argc, char **argv) {
    static const struct option longopts[] = {
        {"since", required_argument, NULL, 's'},  {"db", required_argument, NULL, 'd'},
        {"version", required_argument, NULL, 'v'}, {"format", required_argument, NULL, 'f'},
        {"limit", required_argument, NULL, 'n'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *cmd = "diagnose", *db = "./modelwatch.db", *version = NULL;
    double since_s = 86400, limit = 10;
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":s:d:v:f:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 's': {
            json_t *v = json_string(optarg);
            int ok = v && mw_duration_parse(v, &since_s) && since_s > 0;
            json_decref(v);
            if (!ok)
                return mw_cli_usage_error(cmd, "--since: \"%s\" is not a duration (e.g. 30m, 24h, "
                                               "7d)",
                                          optarg);
            break;
        }
        case 'd':
            db = optarg;
            break;
        case 'v':
            version = optarg;
            break;
        case 'f':
            if (!mw_cli_text_or_json(optarg, &json))
                return mw_cli_usage_error(cmd, "--format expects text or json");
            break;
        case 'n':
            if (!mw_cli_parse_number(optarg, &limit) || limit < 1 || limit > 1e6 ||
                limit != floor(limit))
                return mw_cli_usage_error(cmd, "--limit expects a whole number from 1 to 1000000");
            break;
        case 'h':
            fputs(diagnose_help, stdout);
            return MW_EXIT_OK;
        case ':':
            return mw_cli_usage_error(cmd, "option %s needs a value", argv[optind - 1]);
        default:
            return mw_cli_usage_error(cmd, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind >= argc) return mw_cli_usage_error(cmd, "MODEL is missing (see --help)");
    if (optind + 1 < argc)
        return mw_cli_usage_error(cmd, "unexpected argument \"%s\"", argv[optind + 1]);
    char since[64];
    mw_duration_format(since_s, since, sizeof since);
    diag d = {.cmd = cmd, .model = argv[optind], .from = (double)time(NULL) - since_s};
    char *resolved = NULL;
    int rc = MW_EXIT_OK;
    if (version && version[0] == '@') {
        /* resolving needs the database: open it once here */
        if (access(db, F_OK)) return mw_cli_error(cmd, "no database at %s", db);
        mw_store *s = mw_cli_open_db(cmd, db);
        if (!s) return MW_EXIT_ERROR;
        resolved = mw_cli_resolve_version(cmd, s, d.model, version);
        mw_store_close(s);
        if (!resolved) return MW_EXIT_ERROR;
        version = resolved;
    }
    d.version = version;
    rc = run(&d, db, since, json, (size_t)limit);
    mw_findings_free(&d.fs);
    mw_store_close(d.s);
    free(resolved);
    return rc;
}
