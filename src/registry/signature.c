/*
 * Signatures (signature.h): parsing MLflow column specs into mw_signature,
 * writing the normalised JSON form, and checking records against the inputs.
 *
 * Invariants of a parsed signature: every column has a non-empty, unique name
 * within its side (unnamed columns are named by position), a type among
 * MW_SIG_*, and required 0 or 1; classes are unique texts.
 */
#include "modelwatch/signature.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const type_names[MW_SIG_NTYPES] = {"boolean", "integer", "long",   "float",
                                                      "double",  "string",  "binary", "datetime"};

const char *mw_sig_type_name(mw_sig_type t) {
    return (int)t >= 0 && t < MW_SIG_NTYPES ? type_names[t] : NULL;
}

int mw_sig_type_parse(const char *name) {
    for (int i = 0; i < MW_SIG_NTYPES; i++)
        if (!strcmp(name, type_names[i])) return i;
    return -1;
}

void mw_signature_free(mw_signature *s) {
    if (!s) return;
    for (size_t i = 0; i < s->ninputs; i++)
        free(s->inputs[i].name);
    for (size_t i = 0; i < s->noutputs; i++)
        free(s->outputs[i].name);
    for (size_t i = 0; i < s->nclasses; i++)
        free(s->classes[i]);
    free(s->inputs);
    free(s->outputs);
    free(s->classes);
    memset(s, 0, sizeof *s);
}

/* ---- parsing ---------------------------------------------------------------------- */

/* One column spec at position i of `side`. */
static mw_status parse_column(const json_t *c, size_t i, const char *side, const char *where,
                              mw_sig_column *out, mw_error *err) {
    if (!json_is_object(c))
        return mw_error_set(err, MW_EINVAL, where, 0, 0,
                            "%s[%zu]: expected an object {\"name\", \"type\", \"required\"}", side,
                            i);
    const json_t *name = json_object_get(c, "name"), *type = json_object_get(c, "type");
    const char *nm = json_string_value(name);
    char label[200];
    snprintf(label, sizeof label, "%s[%zu]%s%.120s%s", side, i, nm ? " \"" : "", nm ? nm : "",
             nm ? "\"" : "");
    if (name && !json_is_null(name) && (!nm || !*nm))
        return mw_error_set(err, MW_EINVAL, where, 0, 0, "%s: \"name\" must be non-empty text",
                            label);
    if (json_is_string(type) && !strcmp(json_string_value(type), "tensor"))
        return mw_error_set(err, MW_EINVAL, where, 0, 0,
                            "%s: tensor specs are not supported; modelwatch needs column specs "
                            "(named columns with MLflow scalar types)",
                            label);
    if (!json_is_string(type))
        return mw_error_set(err, MW_EINVAL, where, 0, 0,
                            "%s: \"type\" must be one of boolean, integer, long, float, double, "
                            "string, binary, datetime%s",
                            label,
                            json_is_object(type) ? " (composite types are not supported)" : "");
    int t = mw_sig_type_parse(json_string_value(type));
    if (t < 0)
        return mw_error_set(err, MW_EINVAL, where, 0, 0,
                            "%s: unknown type \"%.40s\" (expected boolean, integer, long, float, "
                            "double, string, binary or datetime; array, object, map and any are "
                            "not supported)",
                            label, json_string_value(type));
    const json_t *req = json_object_get(c, "required"), *opt = json_object_get(c, "optional");
    if ((req && !json_is_boolean(req)) || (opt && !json_is_boolean(opt)))
        return mw_error_set(err, MW_EINVAL, where, 0, 0,
                            "%s: \"required\" and \"optional\" must be true or false", label);
    if (req && opt && json_is_true(req) == json_is_true(opt))
        return mw_error_set(err, MW_EINVAL, where, 0, 0,
                            "%s: \"required\" and \"optional\" contradict each other", label);
    out->type = (mw_sig_type)t;
    out->required = req ? json_is_true(req) : !(opt && json_is_true(opt));
    char pos[24];
    snprintf(pos, sizeof pos, "%zu", i);
    out->name = strdup(nm ? nm : pos);
    if (!out->name) return mw_error_set(err, MW_ENOMEM, where, 0, 0, "out of memory");
    return MW_OK;
}

/* A side ("inputs"/"outputs"): an array of column specs, or a string holding one. */
static mw_status parse_side(const json_t *v, const char *side, const char *where,
                            mw_sig_column **cols, size_t *n, mw_error *err) {
    json_t *owned = NULL;
    if (!v || json_is_null(v)) return MW_OK;
    if (json_is_string(v)) {
        json_error_t je;
        owned = json_loads(json_string_value(v), JSON_REJECT_DUPLICATES, &je);
        if (!owned)
            return mw_error_set(err, MW_EPARSE, where, 0, 0,
                                "%s: the column specs are not JSON (column %d: %s)", side,
                                je.column, je.text);
        v = owned;
    }
    mw_status st = MW_OK;
    if (!json_is_array(v)) {
        st = mw_error_set(err, MW_EINVAL, where, 0, 0,
                          "%s: expected an array of column specs (or a string holding one)", side);
    } else if (json_array_size(v) > 0 && !(*cols = calloc(json_array_size(v), sizeof **cols))) {
        st = mw_error_set(err, MW_ENOMEM, where, 0, 0, "out of memory");
    }
    size_t named = 0;
    for (size_t i = 0; !st && i < json_array_size(v); i++) {
        const json_t *c = json_array_get(v, i);
        if ((st = parse_column(c, i, side, where, &(*cols)[i], err))) break;
        (*n)++;
        if (json_is_string(json_object_get(c, "name"))) named++;
        for (size_t j = 0; j < i; j++)
            if (!strcmp((*cols)[j].name, (*cols)[i].name))
                st = mw_error_set(err, MW_EINVAL, where, 0, 0,
                                  "%s[%zu]: column \"%.120s\" appears twice (also at %zu)", side, i,
                                  (*cols)[i].name, j);
    }
    if (!st && named && named != *n)
        st = mw_error_set(err, MW_EINVAL, where, 0, 0,
                          "%s: named and unnamed columns are mixed; name every column or none",
                          side);
    json_decref(owned);
    return st;
}

/* A class as text: strings as they are, whole numbers without a fraction. */
static char *class_text(const json_t *c) {
    char buf[64];
    if (json_is_string(c)) return strdup(json_string_value(c));
    if (json_is_integer(c)) {
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(c));
        return strdup(buf);
    }
    if (json_is_real(c)) {
        snprintf(buf, sizeof buf, "%.17g", json_real_value(c));
        return strdup(buf);
    }
    if (json_is_boolean(c)) return strdup(json_is_true(c) ? "true" : "false");
    return NULL;
}

static mw_status parse_classes(const json_t *v, const char *where, mw_signature *s, mw_error *err) {
    if (!v || json_is_null(v)) return MW_OK;
    if (!json_is_array(v))
        return mw_error_set(err, MW_EINVAL, where, 0, 0,
                            "classes: expected an array of class labels (text or numbers)");
    s->has_classes = 1;
    if (json_array_size(v) && !(s->classes = calloc(json_array_size(v), sizeof *s->classes)))
        return mw_error_set(err, MW_ENOMEM, where, 0, 0, "out of memory");
    for (size_t i = 0; i < json_array_size(v); i++) {
        const json_t *c = json_array_get(v, i);
        if (json_is_object(c) || json_is_array(c) || json_is_null(c))
            return mw_error_set(err, MW_EINVAL, where, 0, 0,
                                "classes[%zu]: expected text or a number", i);
        if (!(s->classes[i] = class_text(c)))
            return mw_error_set(err, MW_ENOMEM, where, 0, 0, "out of memory");
        s->nclasses++;
        for (size_t j = 0; j < i; j++)
            if (!strcmp(s->classes[j], s->classes[i]))
                return mw_error_set(err, MW_EINVAL, where, 0, 0,
                                    "classes[%zu]: class \"%.80s\" appears twice", i,
                                    s->classes[i]);
    }
    return MW_OK;
}

mw_status mw_signature_parse(const char *text, const char *where, mw_signature *out,
                             mw_error *err) {
    mw_error_clear(err);
    if (!out) return mw_error_set(err, MW_EINVAL, where, 0, 0, "signature: NULL output");
    memset(out, 0, sizeof *out);
    if (!text) return mw_error_set(err, MW_EINVAL, where, 0, 0, "signature: no text");
    json_error_t je;
    json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return mw_error_set(err, MW_EPARSE, where, (uint64_t)(je.line > 0 ? je.line : 0),
                            (uint64_t)(je.column > 0 ? je.column : 0), "signature is not JSON: %s",
                            je.text);
    mw_status st = MW_OK;
    const char *key;
    json_t *v;
    if (!json_is_object(root)) {
        st = mw_error_set(err, MW_EINVAL, where, 0, 0,
                          "signature: expected an object {\"inputs\", \"outputs\", \"classes\"}");
    } else {
        json_object_foreach(root, key, v) {
            if (strcmp(key, "inputs") && strcmp(key, "outputs") && strcmp(key, "classes") &&
                strcmp(key, "params")) {
                st = mw_error_set(err, MW_EINVAL, where, 0, 0,
                                  "signature: unknown key \"%.60s\" (expected inputs, outputs, "
                                  "classes)",
                                  key);
                break;
            }
        }
    }
    if (!st)
        st = parse_side(json_object_get(root, "inputs"), "inputs", where, &out->inputs,
                        &out->ninputs, err);
    if (!st)
        st = parse_side(json_object_get(root, "outputs"), "outputs", where, &out->outputs,
                        &out->noutputs, err);
    if (!st) st = parse_classes(json_object_get(root, "classes"), where, out, err);
    if (!st && !out->ninputs)
        st = mw_error_set(err, MW_EINVAL, where, 0, 0, "signature: \"inputs\" has no columns");
    json_decref(root);
    if (st) mw_signature_free(out);
    return st;
}

static json_t *side_json(const mw_sig_column *c, size_t n) {
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_pack("{s:s, s:s, s:b}", "name", c[i].name, "type",
                                           mw_sig_type_name(c[i].type), "required", c[i].required));
    return a;
}

char *mw_signature_to_json(const mw_signature *s) {
    json_t *o = json_object();
    json_object_set_new(o, "inputs", side_json(s->inputs, s->ninputs));
    json_object_set_new(o, "outputs", side_json(s->outputs, s->noutputs));
    if (s->has_classes) {
        json_t *c = json_array();
        for (size_t i = 0; i < s->nclasses; i++)
            json_array_append_new(c, json_string(s->classes[i]));
        json_object_set_new(o, "classes", c);
    }
    char *out = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return out;
}

/* ---- records ------------------------------------------------------------------------- */

static const char *const reason_names[MW_SIG_REASONS] = {"missing", "type", "class"};

const char *mw_sig_reason_name(int reason) {
    return reason >= 0 && reason < MW_SIG_REASONS ? reason_names[reason] : NULL;
}

size_t mw_signature_slots(const mw_signature *s) {
    return (s->ninputs + 1) * MW_SIG_REASONS;
}

static int is_whole(double x, double limit) {
    return x == floor(x) && fabs(x) <= limit;
}

/* 1 when value v may stand for type t. */
static int value_fits(const mw_feature *v, mw_sig_type t) {
    switch (t) {
    case MW_SIG_BOOLEAN:
        return v->kind == MW_VALUE_STRING && ((v->str_len == 4 && !memcmp(v->str, "true", 4)) ||
                                              (v->str_len == 5 && !memcmp(v->str, "false", 5)));
    case MW_SIG_INTEGER:
        return v->kind == MW_VALUE_NUMBER && is_whole(v->number, 2147483647.0);
    case MW_SIG_LONG:
        return v->kind == MW_VALUE_NUMBER && is_whole(v->number, 9223372036854775807.0);
    case MW_SIG_FLOAT:
    case MW_SIG_DOUBLE:
        return v->kind == MW_VALUE_NUMBER;
    case MW_SIG_DATETIME:
        return v->kind == MW_VALUE_NUMBER || v->kind == MW_VALUE_STRING;
    default: /* string, binary */
        return v->kind == MW_VALUE_STRING;
    }
}

static const mw_feature *find_feature(const mw_record *rec, const char *name) {
    size_t n = strlen(name);
    for (size_t i = 0; i < rec->nfeatures; i++)
        if (rec->features[i].name_len == n && !memcmp(rec->features[i].name, name, n))
            return &rec->features[i];
    return NULL;
}

static int in_classes(const mw_signature *s, const mw_feature *p) {
    char buf[64];
    const char *t = p->str;
    size_t n = p->str_len;
    if (p->kind == MW_VALUE_NUMBER) {
        n = (size_t)snprintf(buf, sizeof buf, "%.17g", p->number);
        t = buf;
    }
    for (size_t i = 0; i < s->nclasses; i++)
        if (strlen(s->classes[i]) == n && !memcmp(s->classes[i], t, n)) return 1;
    return 0;
}

size_t mw_signature_check(const mw_signature *s, const mw_record *rec, uint64_t *counts) {
    size_t found = 0;
    for (size_t i = 0; i < s->ninputs; i++) {
        const mw_feature *f = find_feature(rec, s->inputs[i].name);
        int reason = -1;
        if (!f || f->kind == MW_VALUE_MISSING)
            reason = s->inputs[i].required ? MW_SIG_MISSING : -1;
        else if (!value_fits(f, s->inputs[i].type))
            reason = MW_SIG_TYPE;
        if (reason < 0) continue;
        counts[i * MW_SIG_REASONS + (size_t)reason]++;
        found++;
    }
    if (s->has_classes && rec->prediction.kind != MW_VALUE_MISSING &&
        !in_classes(s, &rec->prediction)) {
        counts[s->ninputs * MW_SIG_REASONS + MW_SIG_CLASS]++;
        found++;
    }
    return found;
}
