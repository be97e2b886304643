/*
 * Version configuration: the JSON object given when a version is registered
 * (PUT /api/v1/models/{model}/versions/{version}, or the YAML config file,
 * converted), parsed with jansson into window length, record cap, drift options
 * and column types. Every mistake names the key and what was expected, and
 * unknown keys are errors (a typo must not silently fall back to a default).
 */
#include "monitor/monitor_int.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mw_name_valid(const char *s, size_t len) {
    if (len == 0 || len > MW_MAX_NAME) return 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

void mw_vconfig_free(mw_vconfig *cfg) {
    for (size_t i = 0; cfg->outlier_columns && i < cfg->outlier.ncolumns; i++)
        free(cfg->outlier_columns[i]);
    free(cfg->outlier_columns);
    for (size_t i = 0; cfg->thresholds && i < cfg->drift.ncolumn_thresholds; i++)
        free((char *)cfg->thresholds[i].column);
    free(cfg->thresholds);
    mw_schema_free(cfg->schema);
    free(cfg->target_column);
    free(cfg->prediction_column);
    free(cfg->score_prefix);
    free(cfg->embedding_column);
    for (size_t i = 0; i < cfg->nrefusals; i++)
        free(cfg->refusals[i]);
    free(cfg->refusals);
    memset(cfg, 0, sizeof *cfg);
}


static mw_status bad(mw_error *err, const char *fmt, const char *key) {
    char msg[300];
    snprintf(msg, sizeof msg, fmt, key);
    return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "version configuration: %s", msg);
}

static mw_status parse_tests(json_t *v, mw_drift_options *d, mw_error *err) {
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        if (!strcmp(s, "auto"))
            d->selection = MW_TESTS_AUTO;
        else if (!strcmp(s, "all"))
            d->selection = MW_TESTS_ALL;
        else
            return bad(err,
                       "\"tests\": expected \"auto\", \"all\" or a list of test names, got \"%s\"",
                       s);
        return MW_OK;
    }
    if (!json_is_array(v) || json_array_size(v) == 0)
        return bad(err, "\"tests\": expected \"auto\", \"all\" or a non-empty list%s", "");
    d->selection = MW_TESTS_LIST;
    d->nlist = 0;
    size_t i;
    json_t *t;
    json_array_foreach(v, i, t) {
        mw_test_id id;
        if (!json_is_string(t)) return bad(err, "\"tests\": every entry must be a test name%s", "");
        if (!mw_test_from_name(json_string_value(t), &id))
            return bad(err, "\"tests\": unknown test \"%s\"", json_string_value(t));
        if (d->nlist < MW_TEST_COUNT) d->list[d->nlist++] = id;
    }
    return MW_OK;
}

static int number_in(json_t *v, double lo, double hi, double *out) {
    if (!json_is_number(v)) return 0;
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi)) return 0;
    *out = x;
    return 1;
}

/* "columns": {"name": {"type": "...", "threshold": x}} -> schema YAML and thresholds */
static mw_status parse_columns(json_t *cols, mw_vconfig *cfg, mw_error *err) {
    if (!json_is_object(cols)) return bad(err, "\"columns\": expected an object%s", "");
    size_t n = json_object_size(cols), k = 0;
    cfg->thresholds = calloc(n + 1, sizeof *cfg->thresholds);
    json_t *schema_obj = json_object();
    if (!cfg->thresholds || !schema_obj) {
        json_decref(schema_obj);
        return MW_ENOMEM;
    }
    const char *name;
    json_t *spec;
    mw_status st = MW_OK;
    json_object_foreach(cols, name, spec) {
        if (!json_is_object(spec)) {
            st =
                bad(err, "\"columns\": \"%s\" must be an object with \"type\" and/or \"threshold\"",
                    name);
            break;
        }
        const char *key;
        json_t *val;
        json_object_foreach(spec, key, val) {
            if (!strcmp(key, "type")) {
                const char *t = json_string_value(val);
                if (!t || (strcmp(t, "numeric") && strcmp(t, "categorical") && strcmp(t, "text") &&
                           strcmp(t, "ignore"))) {
                    st = bad(err,
                             "column \"%s\": \"type\" must be numeric, categorical, text or "
                             "ignore",
                             name);
                    break;
                }
                json_object_set_new(schema_obj, name, json_string(t));
            } else if (!strcmp(key, "threshold")) {
                double x;
                if (!number_in(val, 0, INFINITY, &x)) {
                    st = bad(err, "column \"%s\": \"threshold\" must be a number >= 0", name);
                    break;
                }
                cfg->thresholds[k].column = strdup(name);
                cfg->thresholds[k++].threshold = x;
            } else {
                char what[300];
                snprintf(what, sizeof what, "column \"%s\": unknown key \"%s\"", name, key);
                st = bad(err, "%s", what);
                break;
            }
        }
        if (st) break;
    }
    cfg->drift.column_thresholds = cfg->thresholds;
    cfg->drift.ncolumn_thresholds = k;
    if (!st && json_object_size(schema_obj)) {
        /* JSON is YAML: hand the types to the schema parser */
        json_t *wrapped = json_pack("{s:O}", "columns", schema_obj);
        char *text = wrapped ? json_dumps(wrapped, JSON_COMPACT) : NULL;
        st = text ? mw_schema_parse("version configuration", text, strlen(text), &cfg->schema, err)
                  : MW_ENOMEM;
        free(text);
        json_decref(wrapped);
    }
    json_decref(schema_obj);
    return st;
}

static int whole_in(json_t *v, double lo, double hi, double *out) {
    double x;
    if (!number_in(v, lo, hi, &x) || x != floor(x)) return 0;
    *out = x;
    return 1;
}

/* "outliers": {"method": "iforest"|"lof", "trees", "max_samples", "neighbors",
 * "contamination", "threshold", "seed", "standardize", "encode", "columns"} */
static mw_status parse_outliers(json_t *o, mw_vconfig *cfg, mw_error *err) {
    if (!json_is_object(o)) return bad(err, "\"outliers\": expected an object%s", "");
    mw_outlier_options *op = &cfg->outlier;
    memset(op, 0, sizeof *op);
    cfg->outliers = 1;
    const char *key;
    json_t *v;
    double x;
    json_object_foreach(o, key, v) {
        const char *sv = json_string_value(v);
        int ok = 1;
        if (!strcmp(key, "method")) {
            if (sv && !strcmp(sv, "iforest"))
                op->method = MW_OUTLIER_IFOREST;
            else if (sv && !strcmp(sv, "lof"))
                op->method = MW_OUTLIER_LOF;
            else
                ok = 0;
        } else if (!strcmp(key, "trees")) {
            if ((ok = whole_in(v, 1, 100000, &x))) op->n_trees = (uint32_t)x;
        } else if (!strcmp(key, "max_samples")) {
            if ((ok = whole_in(v, 2, 1e9, &x))) op->max_samples = (uint32_t)x;
        } else if (!strcmp(key, "neighbors")) {
            if ((ok = whole_in(v, 1, 10000, &x))) op->n_neighbors = (uint32_t)x;
        } else if (!strcmp(key, "contamination")) {
            ok = number_in(v, 1e-9, 0.5, &op->contamination);
        } else if (!strcmp(key, "threshold")) {
            if ((ok = number_in(v, -INFINITY, INFINITY, &op->threshold))) op->has_threshold = 1;
        } else if (!strcmp(key, "seed")) {
            if ((ok = whole_in(v, 0, 9007199254740992.0, &x))) op->seed = (uint64_t)x;
        } else if (!strcmp(key, "standardize")) {
            if ((ok = json_is_boolean(v))) op->standardize = json_is_true(v);
        } else if (!strcmp(key, "encode")) {
            if (sv && !strcmp(sv, "none"))
                op->encode = MW_OUTLIER_ENCODE_NONE;
            else if (sv && !strcmp(sv, "onehot"))
                op->encode = MW_OUTLIER_ENCODE_ONEHOT;
            else if (sv && !strcmp(sv, "ordinal"))
                op->encode = MW_OUTLIER_ENCODE_ORDINAL;
            else
                ok = 0;
        } else if (!strcmp(key, "columns")) {
            size_t n = json_array_size(v), i;
            json_t *c;
            ok = json_is_array(v) && n > 0;
            if (ok && !(cfg->outlier_columns = calloc(n, sizeof *cfg->outlier_columns)))
                return MW_ENOMEM;
            if (ok) json_array_foreach(v, i, c) {
                    if (!json_is_string(c)) {
                        ok = 0;
                        break;
                    }
                    cfg->outlier_columns[op->ncolumns++] = strdup(json_string_value(c));
                }
            op->columns = (const char *const *)cfg->outlier_columns;
        } else {
            return bad(err,
                       "\"outliers\": unknown key \"%s\" (known: method, trees, max_samples, "
                       "neighbors, contamination, threshold, seed, standardize, encode, columns)",
                       key);
        }
        if (!ok)
            return bad(err,
                       "\"outliers\": bad value for \"%s\" (method iforest|lof; trees, "
                       "max_samples, neighbors whole numbers; contamination in (0, 0.5]; "
                       "encode none|onehot|ordinal; columns a list of names)",
                       key);
    }
    return MW_OK;
}

static mw_status column_name_option(json_t *v, const char *key, char **out, mw_error *err);

/* "embedding": {"column", "samples", "permutations", "seed", "p_threshold",
 * "auc_threshold", "top"} (window_embedding.c). */
static mw_status parse_embedding(json_t *obj, mw_vconfig *cfg, mw_error *err) {
    if (!json_is_object(obj)) return bad(err, "\"embedding\" must be an object%s", "");
    mw_embedding_options *o = &cfg->drift.embedding;
    const char *key;
    json_t *v;
    double x = 0;
    json_object_foreach(obj, key, v) {
        int ok = 1;
        if (!strcmp(key, "column")) {
            mw_status st = column_name_option(v, "embedding.column", &cfg->embedding_column, err);
            if (st) return st;
        } else if (!strcmp(key, "samples")) {
            ok = number_in(v, 2, MW_EMBEDDING_MAX_SAMPLES, &x) && x == floor(x);
            o->max_samples = (size_t)x;
        } else if (!strcmp(key, "permutations")) {
            ok = number_in(v, 1, MW_EMBEDDING_MAX_PERMUTATIONS, &x) && x == floor(x);
            o->permutations = (size_t)x;
        } else if (!strcmp(key, "seed")) {
            ok = number_in(v, 0, 9007199254740992.0, &x) && x == floor(x);
            o->seed = (uint64_t)x;
        } else if (!strcmp(key, "p_threshold")) {
            ok = number_in(v, 1e-12, 1, &o->p_threshold);
        } else if (!strcmp(key, "auc_threshold")) {
            ok = number_in(v, 0.5, 1, &o->auc_threshold);
        } else if (!strcmp(key, "top")) {
            ok = number_in(v, 1, MW_EMBEDDING_TOP_MAX, &x) && x == floor(x);
            o->top_k = (size_t)x;
        } else {
            return bad(err,
                       "\"embedding\": unknown key \"%s\" (known: column, samples, permutations, "
                       "seed, p_threshold, auc_threshold, top)",
                       key);
        }
        if (!ok)
            return bad(err,
                       "\"embedding\": bad value for \"%s\" (samples 2..10000, permutations "
                       "1..10000, seed, top 1..20 whole numbers; p_threshold in (0, 1]; "
                       "auc_threshold in [0.5, 1])",
                       key);
    }
    return MW_OK;
}

/* "text": {"refusals": ["phrase", ...], "samples": N}: the refusal phrases of
 * the prompt and completion descriptors (1 to 1000 phrases of 1 to 200
 * bytes, ASCII letters lower-cased as matching is case-insensitive), and the
 * redacted examples kept per window (0 to MW_TEXT_MAX_SAMPLES). */
static mw_status parse_text(json_t *o, mw_vconfig *cfg, mw_error *err) {
    if (!json_is_object(o)) return bad(err, "\"text\": expected an object%s", "");
    const char *key;
    json_t *v;
    double x;
    json_object_foreach(o, key, v) {
        if (!strcmp(key, "samples")) {
            if (!whole_in(v, 0, MW_TEXT_MAX_SAMPLES, &x))
                return bad(err, "\"text\": \"samples\" must be a whole number from 0 to %s",
                           "1000");
            cfg->text_samples = (uint32_t)x;
        } else if (!strcmp(key, "refusals")) {
            size_t n = json_array_size(v), i;
            json_t *p;
            if (!json_is_array(v) || n == 0 || n > 1000)
                return bad(err, "\"text\": \"refusals\" must be a list of 1 to 1000 phrases%s", "");
            if (!(cfg->refusals = calloc(n, sizeof *cfg->refusals))) return MW_ENOMEM;
            json_array_foreach(v, i, p) {
                const char *s = json_string_value(p);
                size_t len = s ? strlen(s) : 0;
                if (!len || len > 200)
                    return bad(err,
                               "\"text\": every refusal phrase must be a string of 1 to 200 "
                               "bytes%s",
                               "");
                if (!(cfg->refusals[cfg->nrefusals] = strdup(s))) return MW_ENOMEM;
                for (char *c = cfg->refusals[cfg->nrefusals]; *c; c++)
                    if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
                cfg->nrefusals++;
            }
            cfg->text.refusals = (const char *const *)cfg->refusals;
            cfg->text.nrefusals = cfg->nrefusals;
        } else {
            return bad(err, "\"text\": unknown key \"%s\" (known: refusals, samples)", key);
        }
    }
    return MW_OK;
}

/* A string option naming reference columns: 1..256 bytes. */
static mw_status column_name_option(json_t *v, const char *key, char **out, mw_error *err) {
    const char *s = json_string_value(v);
    if (!s || !*s || strlen(s) > 256)
        return bad(err, "\"%s\" must be a column name (1 to 256 bytes)", key);
    free(*out);
    *out = strdup(s);
    return *out ? MW_OK : MW_ENOMEM;
}

mw_status mw_vconfig_parse(const char *text, mw_vconfig *cfg, mw_error *err) {
    memset(cfg, 0, sizeof *cfg);
    cfg->window_seconds = 300;
    cfg->drift.threshold = NAN;
    cfg->drift.drift_share = 0.5;
    if (!text || !*text) return MW_OK;
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return mw_error_set(err, MW_EPARSE, NULL, (uint64_t)je.line, (uint64_t)je.column,
                            "version configuration is not valid JSON: %s (line %d, column %d)",
                            je.text, je.line, je.column);
    mw_status st = MW_OK;
    if (!json_is_object(root)) st = bad(err, "expected a JSON object%s", "");
    const char *key;
    json_t *v;
    double x;
    if (!st) json_object_foreach(root, key, v) {
            if (!strcmp(key, "window_seconds")) {
                if (!number_in(v, 1, 366 * 86400.0, &cfg->window_seconds))
                    st = bad(err, "\"%s\" must be a number of seconds from 1 to 31622400", key);
            } else if (!strcmp(key, "window_max_records")) {
                if (!number_in(v, 0, 1e12, &x) || x != floor(x))
                    st = bad(err, "\"%s\" must be a whole number >= 0 (0 = no cap)", key);
                else
                    cfg->window_max_records = (uint64_t)x;
            } else if (!strcmp(key, "tests")) {
                st = parse_tests(v, &cfg->drift, err);
            } else if (!strcmp(key, "threshold")) {
                if (!number_in(v, 0, INFINITY, &cfg->drift.threshold))
                    st = bad(err, "\"%s\" must be a number >= 0", key);
            } else if (!strcmp(key, "drift_share")) {
                if (!number_in(v, 1e-12, 1, &cfg->drift.drift_share))
                    st = bad(err, "\"%s\" must be a number in (0, 1]", key);
            } else if (!strcmp(key, "correction")) {
                const char *c = json_string_value(v);
                if (c && !strcmp(c, "none"))
                    cfg->drift.correction = MW_CORRECTION_NONE;
                else if (c && !strcmp(c, "bonferroni"))
                    cfg->drift.correction = MW_CORRECTION_BONFERRONI;
                else if (c && !strcmp(c, "bh"))
                    cfg->drift.correction = MW_CORRECTION_BH;
                else
                    st = bad(err, "\"%s\" must be \"none\", \"bonferroni\" or \"bh\"", key);
            } else if (!strcmp(key, "columns")) {
                st = parse_columns(v, cfg, err);
            } else if (!strcmp(key, "outliers")) {
                st = parse_outliers(v, cfg, err);
            } else if (!strcmp(key, "text")) {
                st = parse_text(v, cfg, err);
            } else if (!strcmp(key, "target_column")) {
                st = column_name_option(v, key, &cfg->target_column, err);
            } else if (!strcmp(key, "prediction_column")) {
                st = column_name_option(v, key, &cfg->prediction_column, err);
            } else if (!strcmp(key, "score_prefix")) {
                st = column_name_option(v, key, &cfg->score_prefix, err);
            } else if (!strcmp(key, "embedding")) {
                st = parse_embedding(v, cfg, err);
            } else if (!strcmp(key, "task")) {
                const char *t = json_string_value(v);
                if (t && !strcmp(t, "auto")) cfg->task = MW_TASK_AUTO;
                else if (t && !strcmp(t, "classification")) cfg->task = MW_TASK_CLASSIFICATION;
                else if (t && !strcmp(t, "regression")) cfg->task = MW_TASK_REGRESSION;
                else st = bad(err, "\"%s\" must be \"auto\", \"classification\" or \"regression\"", key);
            } else {
                st = bad(
                    err,
                    "unknown key \"%s\" (known: window_seconds, window_max_records, tests, "
                    "threshold, drift_share, correction, columns, outliers, task, target_column, "
                    "prediction_column, score_prefix, embedding, text)",
                    key);
            }
            if (st) break;
        }
    json_decref(root);
    if (st) mw_vconfig_free(cfg);
    return st;
}
