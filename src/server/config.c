/*
 * The daemon's YAML configuration file, converted to a JSON tree with libyaml
 * (mappings -> objects, sequences -> arrays, plain scalars that read as numbers,
 * booleans or null -> those, everything else -> strings) and then checked key
 * by key, so that a typo is an error naming the file, the place
 * ("models[0].versions[1]") and the key, never a silently ignored setting.
 *
 *   listen: 127.0.0.1:9750        db: ./modelwatch.db         tick_seconds: 1
 *   http: {threads: 0, max_body_bytes: 67108864, timeout_seconds: 30}
 *   models:
 *     - name: fraud
 *       versions:
 *         - version: "3"
 *           reference: train.csv      # optional: baseline built at start if none
 *           window_seconds: 300        # and every other version option (monitor.h)
 *   canary: {baseline_alias: production, canary_alias: canary, alpha: 0.05,
 *            models: {fraud: {canary_alias: staging}}}     # monitor.h, canary
 */
#include "alert/rules.h"
#include "modelwatch/otlp.h"
#include "server/daemon.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

void mw_daemon_config_defaults(mw_daemon_config *cfg) {
    memset(cfg, 0, sizeof *cfg);
    cfg->listen = strdup("127.0.0.1:9750");
    cfg->db = strdup("./modelwatch.db");
    cfg->tick_seconds = 1;
    cfg->resource_seconds = 5;
}

void mw_daemon_config_free(mw_daemon_config *cfg) {
    free(cfg->listen);
    free(cfg->db);
    for (size_t i = 0; i < cfg->nversions; i++) {
        free(cfg->versions[i].model);
        free(cfg->versions[i].version);
        free(cfg->versions[i].config_json);
        free(cfg->versions[i].reference);
    }
    free(cfg->versions);
    free(cfg->canary_json);
    for (size_t i = 0; i < cfg->nwatch_names; i++)
        free(cfg->watch_names[i]);
    mw_alerting_config_free(&cfg->alerting);
    json_decref(cfg->probes);
    free(cfg->otlp_json);
    memset(cfg, 0, sizeof *cfg);
}

/* ---- YAML -> JSON ---- */

static json_t *scalar(const yaml_event_t *ev) {
    const char *s = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return json_stringn(s, len);
    if (!strcmp(s, "true") || !strcmp(s, "True") || !strcmp(s, "yes")) return json_true();
    if (!strcmp(s, "false") || !strcmp(s, "False") || !strcmp(s, "no")) return json_false();
    if (!strcmp(s, "null") || !strcmp(s, "~") || len == 0) return json_null();
    char *end;
    errno = 0;
    long long i = strtoll(s, &end, 10);
    if (*s && !*end && !errno) return json_integer(i);
    double d = strtod(s, &end);
    if (*s && !*end && isfinite(d)) return json_real(d);
    return json_stringn(s, len);
}

/* Reads one node starting at ev (already taken); returns NULL with err set. */
static json_t *node(yaml_parser_t *p, yaml_event_t *ev, const char *file, mw_error *err, int depth);

static json_t *collection(yaml_parser_t *p, int mapping, const char *file, mw_error *err,
                          int depth) {
    json_t *out = mapping ? json_object() : json_array();
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(p, &ev)) {
            mw_error_set(err, MW_EPARSE, file, p->problem_mark.line + 1, p->problem_mark.column + 1,
                         "YAML: %s", p->problem ? p->problem : "syntax error");
            json_decref(out);
            return NULL;
        }
        if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return out;
        }
        if (!mapping) {
            json_t *v = node(p, &ev, file, err, depth + 1);
            if (!v) {
                json_decref(out);
                return NULL;
            }
            json_array_append_new(out, v);
            continue;
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            mw_error_set(err, MW_EPARSE, file, ev.start_mark.line + 1, ev.start_mark.column + 1,
                         "YAML: mapping keys must be plain text");
            yaml_event_delete(&ev);
            json_decref(out);
            return NULL;
        }
        char *key = strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
        size_t line = ev.start_mark.line + 1;
        yaml_event_delete(&ev);
        yaml_event_t vev;
        json_t *v = NULL;
        if (!yaml_parser_parse(p, &vev))
            mw_error_set(err, MW_EPARSE, file, p->problem_mark.line + 1, 0, "YAML: %s",
                         p->problem ? p->problem : "syntax error");
        else
            v = node(p, &vev, file, err, depth + 1);
        if (v && json_object_get(out, key)) {
            mw_error_set(err, MW_EPARSE, file, line, 0, "key \"%s\" appears twice", key);
            json_decref(v);
            v = NULL;
        }
        if (!v) {
            free(key);
            json_decref(out);
            return NULL;
        }
        json_object_set_new(out, key, v);
        free(key);
    }
}

static json_t *node(yaml_parser_t *p, yaml_event_t *ev, const char *file, mw_error *err,
                    int depth) {
    json_t *out = NULL;
    if (depth > 32) {
        mw_error_set(err, MW_EPARSE, file, ev->start_mark.line + 1, 0, "YAML nested too deeply");
    } else if (ev->type == YAML_SCALAR_EVENT) {
        out = scalar(ev);
    } else if (ev->type == YAML_MAPPING_START_EVENT || ev->type == YAML_SEQUENCE_START_EVENT) {
        out = collection(p, ev->type == YAML_MAPPING_START_EVENT, file, err, depth);
    } else {
        mw_error_set(err, MW_EPARSE, file, ev->start_mark.line + 1, 0,
                     "YAML anchors and aliases are not supported");
    }
    yaml_event_delete(ev);
    return out;
}

/* The first document of a parser's input as JSON; `name` names the input in errors. */
static json_t *parse_document(yaml_parser_t *p, const char *name, mw_error *err) {
    json_t *root = NULL;
    yaml_event_t ev;
    for (;;) {
        if (!yaml_parser_parse(p, &ev)) {
            mw_error_set(err, MW_EPARSE, name, p->problem_mark.line + 1,
                         p->problem_mark.column + 1, "YAML: %s",
                         p->problem ? p->problem : "syntax error");
            return NULL;
        }
        if (ev.type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            return json_object(); /* an empty input is an empty mapping */
        }
        if (ev.type == YAML_MAPPING_START_EVENT || ev.type == YAML_SEQUENCE_START_EVENT ||
            ev.type == YAML_SCALAR_EVENT)
            return node(p, &ev, name, err, 0);
        yaml_event_delete(&ev);
    }
    return root;
}

static json_t *yaml_file_to_json(const char *path, mw_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        mw_error_set(err, MW_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_file(&p, f);
    json_t *root = parse_document(&p, path, err);
    yaml_parser_delete(&p);
    fclose(f);
    return root;
}

json_t *mw_yaml_to_json(const char *text, size_t len, const char *name, mw_error *err) {
    yaml_parser_t p;
    yaml_parser_initialize(&p);
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    json_t *root = parse_document(&p, name, err);
    yaml_parser_delete(&p);
    return root;
}

/* ---- checking ---- */

static mw_status bad(mw_error *err, const char *file, const char *where, const char *what) {
    return mw_error_set(err, MW_EINVAL, file, 0, 0, "%s: %s", where, what);
}

static mw_status version_entry(mw_daemon_config *cfg, const char *model, json_t *v, size_t mi,
                               size_t vi, const char *file, mw_error *err) {
    char where[96];
    snprintf(where, sizeof where, "models[%zu].versions[%zu]", mi, vi);
    if (!json_is_object(v)) return bad(err, file, where, "expected a mapping with \"version\"");
    json_t *ver = json_object_get(v, "version");
    char vtext[64];
    if (json_is_string(ver))
        snprintf(vtext, sizeof vtext, "%s", json_string_value(ver));
    else if (json_is_integer(ver))
        snprintf(vtext, sizeof vtext, "%lld", (long long)json_integer_value(ver));
    else
        return bad(err, file, where, "\"version\" is required (text or a whole number)");
    json_t *opts = json_deep_copy(v);
    json_object_del(opts, "version");
    json_t *ref = json_object_get(opts, "reference");
    if (ref && !json_is_string(ref)) {
        json_decref(opts);
        return bad(err, file, where, "\"reference\" must be a file path");
    }
    char *reference = ref ? strdup(json_string_value(ref)) : NULL;
    json_object_del(opts, "reference");
    char *config_json = json_dumps(opts, JSON_COMPACT);
    json_decref(opts);
    mw_config_version *nv = realloc(cfg->versions, (cfg->nversions + 1) * sizeof *nv);
    if (!nv || !config_json) {
        free(reference);
        free(config_json);
        return MW_ENOMEM;
    }
    cfg->versions = nv;
    mw_config_version *cv = &cfg->versions[cfg->nversions++];
    cv->model = strdup(model);
    cv->version = strdup(vtext);
    cv->config_json = config_json;
    cv->reference = reference;
    return MW_OK;
}

static mw_status models(mw_daemon_config *cfg, json_t *ms, const char *file, mw_error *err) {
    if (!json_is_array(ms)) return bad(err, file, "models", "expected a list of models");
    size_t mi;
    json_t *m;
    json_array_foreach(ms, mi, m) {
        char where[64];
        snprintf(where, sizeof where, "models[%zu]", mi);
        const char *name = json_string_value(json_object_get(m, "name"));
        json_t *vs = json_object_get(m, "versions");
        if (!json_is_object(m) || !name)
            return bad(err, file, where, "each model needs a \"name\"");
        const char *key;
        json_t *val;
        json_object_foreach(m, key, val) if (strcmp(key, "name") && strcmp(key, "versions")) {
            char what[128];
            snprintf(what, sizeof what, "unknown key \"%s\" (known: name, versions)", key);
            return bad(err, file, where, what);
        }
        if (!json_is_array(vs)) return bad(err, file, where, "\"versions\" must be a list");
        size_t vi;
        json_t *v;
        json_array_foreach(vs, vi, v) {
            mw_status st = version_entry(cfg, name, v, mi, vi, file, err);
            if (st) return st;
        }
    }
    return MW_OK;
}

static int whole(json_t *v, double lo, double hi, double *out) {
    if (!json_is_number(v)) return 0;
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi) || x != floor(x)) return 0;
    *out = x;
    return 1;
}

static mw_status http_section(mw_daemon_config *cfg, json_t *h, const char *file, mw_error *err) {
    if (!json_is_object(h)) return bad(err, file, "http", "expected a mapping");
    const char *key;
    json_t *v;
    double x;
    json_object_foreach(h, key, v) {
        if (!strcmp(key, "threads") && whole(v, 0, 256, &x))
            cfg->threads = (unsigned)x;
        else if (!strcmp(key, "max_body_bytes") && whole(v, 1024, 4.0 * 1024 * 1024 * 1024, &x))
            cfg->max_body_bytes = (size_t)x;
        else if (!strcmp(key, "timeout_seconds") && whole(v, 1, 3600, &x))
            cfg->timeout_s = (unsigned)x;
        else {
            char what[160];
            snprintf(what, sizeof what,
                     "bad or unknown key \"%s\" (threads 0-256, max_body_bytes >= 1024, "
                     "timeout_seconds 1-3600)",
                     key);
            return bad(err, file, "http", what);
        }
    }
    return MW_OK;
}

/* resources: {interval_seconds: 5, watch_pids: [1234], watch_processes: [python3]} */
static mw_status resources_section(mw_daemon_config *cfg, json_t *r, const char *file,
                                   mw_error *err) {
    if (!json_is_object(r)) return bad(err, file, "resources", "expected a mapping");
    const char *key;
    json_t *v;
    double x;
    json_object_foreach(r, key, v) {
        size_t i;
        json_t *item;
        if (!strcmp(key, "interval_seconds") && json_is_number(v) && json_number_value(v) >= 0.1 &&
            json_number_value(v) <= 3600) {
            cfg->resource_seconds = json_number_value(v);
        } else if (!strcmp(key, "watch_pids") && json_is_array(v)) {
            json_array_foreach(v, i, item) {
                if (!whole(item, 1, 4194304, &x) || cfg->nwatch_pids >= MW_MAX_TARGETS)
                    return bad(err, file, "resources",
                               "watch_pids: whole numbers (at most 64 of them)");
                cfg->watch_pids[cfg->nwatch_pids++] = (pid_t)x;
            }
        } else if (!strcmp(key, "watch_processes") && json_is_array(v)) {
            json_array_foreach(v, i, item) {
                if (!json_is_string(item) || cfg->nwatch_names >= MW_MAX_TARGETS)
                    return bad(err, file, "resources",
                               "watch_processes: names (at most 64 of them)");
                cfg->watch_names[cfg->nwatch_names++] = strdup(json_string_value(item));
            }
        } else {
            char what[200];
            snprintf(what, sizeof what,
                     "bad or unknown key \"%s\" (interval_seconds 0.1-3600, watch_pids, "
                     "watch_processes)",
                     key);
            return bad(err, file, "resources", what);
        }
    }
    return MW_OK;
}

/* labels: {ttl: 7d, max_pending: 10000000} */
static mw_status labels_section(mw_daemon_config *cfg, json_t *l, const char *file,
                                mw_error *err) {
    if (!json_is_object(l)) return bad(err, file, "labels", "expected a mapping");
    const char *key;
    json_t *v;
    json_object_foreach(l, key, v) {
        double x;
        if (!strcmp(key, "ttl") && mw_duration_parse(v, &x) && x >= 1)
            cfg->label_ttl_seconds = x;
        else if (!strcmp(key, "max_pending") && whole(v, 1, 1e9, &x))
            cfg->max_pending = (size_t)x;
        else
            return bad(err, file, "labels",
                       "bad or unknown key (known: ttl (a duration, e.g. 7d), max_pending "
                       "(1..1000000000))");
    }
    return MW_OK;
}

mw_status mw_daemon_config_load(const char *path, mw_daemon_config *cfg, mw_error *err) {
    json_t *root = yaml_file_to_json(path, err);
    if (!root) return err->status ? err->status : MW_EPARSE;
    mw_status st = MW_OK;
    if (!json_is_object(root)) st = bad(err, path, "top level", "expected a mapping");
    const char *key;
    json_t *v;
    if (!st) json_object_foreach(root, key, v) {
            if (!strcmp(key, "listen") && json_is_string(v)) {
                free(cfg->listen);
                cfg->listen = strdup(json_string_value(v));
            } else if (!strcmp(key, "db") && json_is_string(v)) {
                free(cfg->db);
                cfg->db = strdup(json_string_value(v));
            } else if (!strcmp(key, "tick_seconds") && json_is_number(v) &&
                       json_number_value(v) >= 0.05 && json_number_value(v) <= 3600) {
                cfg->tick_seconds = json_number_value(v);
            } else if (!strcmp(key, "http")) {
                st = http_section(cfg, v, path, err);
            } else if (!strcmp(key, "models")) {
                st = models(cfg, v, path, err);
            } else if (!strcmp(key, "resources")) {
                st = resources_section(cfg, v, path, err);
            } else if (!strcmp(key, "labels")) {
                st = labels_section(cfg, v, path, err);
            } else if (!strcmp(key, "canary")) {
                free(cfg->canary_json); /* checked when the monitor takes it (daemon.c) */
                cfg->canary_json =
                    json_is_null(v) ? NULL : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
            } else if (!strcmp(key, "probes")) {
                json_decref(cfg->probes);
                cfg->probes = json_incref(json_is_null(v) ? json_array() : v);
                st = mw_probes_check(cfg->probes, path, err);
            } else if (!strcmp(key, "otlp")) { /* checked by mw_otlp_map_new */
                free(cfg->otlp_json);
                cfg->otlp_json = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
                mw_otlp_map *check = NULL;
                mw_error oerr;
                mw_error_clear(&oerr);
                if (mw_otlp_map_new(cfg->otlp_json, &check, &oerr))
                    st = mw_error_set(err, MW_EINVAL, path, 0, 0, "%s", oerr.message);
                mw_otlp_map_free(check);
            } else if (!strcmp(key, "alerting")) {
                st = mw_alerting_config_read(&cfg->alerting, v, path, err);
            } else if (!strcmp(key, "rules")) {
                json_decref(cfg->alerting.rules);
                cfg->alerting.rules = json_incref(json_is_null(v) ? json_array() : v);
                mw_rule_set check; /* so that a bad rule stops the start, naming the file */
                mw_error rerr;
                mw_error_clear(&rerr);
                if (mw_rules_from_json(cfg->alerting.rules, "rules", &check, &rerr))
                    st = mw_error_set(err, rerr.status, path, 0, 0, "%s", rerr.message);
                mw_rules_free(&check);
            } else {
                char what[200];
                snprintf(
                    what, sizeof what,
                    "bad or unknown key \"%s\" (known: listen, db, tick_seconds, http, models, "
                    "resources, labels, canary, otlp, alerting, rules, probes)",
                    key);
                st = bad(err, path, "top level", what);
            }
            if (st) break;
        }
    json_decref(root);
    return st;
}
