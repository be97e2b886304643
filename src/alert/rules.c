/*
 * Loading and checking alert rules (rules.h): every field of every rule is
 * checked when the set is loaded, with errors that name the rule and the
 * field, so the evaluator only ever sees valid rules. Durations are here too.
 */
#include "alert/rules.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int name_char(char c, int first) {
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (!first && c >= '0' && c <= '9');
}

static int valid_name(const char *s, size_t max) {
    size_t n = strlen(s);
    if (n == 0 || n > max) return 0;
    for (size_t i = 0; i < n; i++)
        if (!name_char(s[i], i == 0)) return 0;
    return 1;
}

/* ---- durations ---- */

static const struct {
    const char *unit;
    double seconds;
} units[] = {{"y", 31536000}, {"w", 604800}, {"d", 86400}, {"h", 3600},
             {"m", 60},       {"s", 1},      {"ms", 0.001}};
#define NUNITS (sizeof units / sizeof units[0])

/* The unit at s (longest match: "ms" before "m"); its index, or -1. */
static int unit_at(const char *s, size_t *len) {
    if (s[0] == 'm' && s[1] == 's') {
        *len = 2;
        return (int)NUNITS - 1;
    }
    for (size_t u = 0; u + 1 < NUNITS; u++)
        if (s[0] == units[u].unit[0]) {
            *len = 1;
            return (int)u;
        }
    return -1;
}

int mw_duration_parse(const json_t *v, double *seconds) {
    if (json_is_number(v)) {
        double x = json_number_value(v);
        if (!isfinite(x) || x < 0 || x > 1e10) return 0;
        *seconds = x;
        return 1;
    }
    if (!json_is_string(v)) return 0;
    const char *s = json_string_value(v);
    if (!*s) return 0;
    double total = 0;
    int last = -1;
    while (*s) {
        if (*s < '0' || *s > '9') return 0;
        double n = 0;
        for (; *s >= '0' && *s <= '9'; s++) {
            n = n * 10 + (*s - '0');
            if (n > 1e12) return 0;
        }
        size_t len;
        int u = unit_at(s, &len);
        if (u < 0 || u <= last) return 0; /* units in decreasing order, once each */
        last = u;
        total += n * units[u].seconds;
        s += len;
    }
    if (total > 1e10) return 0;
    *seconds = total;
    return 1;
}

void mw_duration_format(double seconds, char *buf, size_t size) {
    long long ms = llround(seconds * 1000);
    if (ms % 1000 != 0) {
        snprintf(buf, size, "%lldms", ms); /* Prometheus takes whole units only */
        return;
    }
    long long left = ms / 1000;
    size_t used = 0;
    buf[0] = '\0';
    if (left == 0) snprintf(buf, size, "0s");
    for (size_t u = 0; u + 1 < NUNITS && left > 0; u++) { /* greedy, as Prometheus prints */
        long long unit = (long long)units[u].seconds;
        if (left < unit) continue;
        int w = snprintf(buf + used, used < size ? size - used : 0, "%lld%s", left / unit,
                         units[u].unit);
        if (w > 0) used += (size_t)w;
        left %= unit;
    }
}

/* ---- one rule ---- */

typedef struct place {
    const char *where;
    size_t index;
    const char *name;
} place;

__attribute__((format(printf, 3, 4))) static mw_status bad(mw_error *err, const place *p,
                                                           const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->name)
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s[%zu] (%s): %s", p->where, p->index,
                            p->name, msg);
    return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s[%zu]: %s", p->where, p->index, msg);
}

static int label_cmp(const void *a, const void *b) {
    return strcmp(((const mw_label *)a)->name, ((const mw_label *)b)->name);
}

static void labels_free(mw_label *l, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(l[i].name);
        free(l[i].value);
    }
    free(l);
}

/* labels or annotations: a mapping of names to strings (numbers and booleans
 * are taken as written, as YAML users expect {priority: 1} to work). */
static mw_status string_map(const json_t *obj, const char *field, int templates, const place *p,
                            mw_label **out, size_t *n, mw_error *err) {
    *out = NULL;
    *n = 0;
    if (!obj || json_is_null(obj)) return MW_OK;
    if (!json_is_object(obj))
        return bad(err, p, "%s: expected a mapping of names to strings", field);
    size_t cnt = json_object_size(obj);
    if (cnt > 64) return bad(err, p, "%s: more than 64 entries", field);
    mw_label *l = calloc(cnt ? cnt : 1, sizeof *l);
    if (!l) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    const char *k;
    json_t *v;
    size_t i = 0;
    mw_status st = MW_OK;
    json_object_foreach((json_t *)obj, k, v) {
        char num[64];
        const char *s = NULL;
        if (json_is_string(v))
            s = json_string_value(v);
        else if (json_is_integer(v))
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(v)), s = num;
        else if (json_is_real(v))
            mw_format_go_float(json_real_value(v), num, sizeof num), s = num;
        else if (json_is_boolean(v))
            s = json_is_true(v) ? "true" : "false";
        if (!valid_name(k, 128) || (k[0] == '_' && k[1] == '_')) {
            st = bad(err, p, "%s: \"%s\" is not a valid name ([a-zA-Z_][a-zA-Z0-9_]*, not __*)",
                     field, k);
        } else if (!templates && !strcmp(k, "alertname")) {
            st = bad(err, p, "%s: alertname is the rule's name and cannot be set", field);
        } else if (!s) {
            st = bad(err, p, "%s.%s: expected a string", field, k);
        } else if (strlen(s) > 4096) {
            st = bad(err, p, "%s.%s: longer than 4096 bytes", field, k);
        } else if (templates) {
            mw_error te = {0};
            if (mw_template_check(s, &te)) st = bad(err, p, "%s.%s: %s", field, k, te.message);
        }
        if (st) break;
        l[i].name = strdup(k);
        l[i].value = strdup(s);
        if (!l[i].name || !l[i].value) {
            i++;
            st = mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
            break;
        }
        i++;
    }
    if (st) {
        labels_free(l, i);
        return st;
    }
    qsort(l, i, sizeof *l, label_cmp);
    *out = l;
    *n = i;
    return MW_OK;
}

static void rule_free(mw_rule *r) {
    free(r->name);
    free(r->expr_text);
    mw_expr_free(r->expr);
    labels_free(r->labels, r->nlabels);
    labels_free(r->annotations, r->nannotations);
    free(r->rollback_model);
    free(r->rollback_alias);
    memset(r, 0, sizeof *r);
}

static const char *const rule_keys[] = {
    "name", "alert", "expr", "for", "keep_firing_for", "labels", "annotations", "rollback"};

/* rollback: {model, alias}, both templates (checked), both required. */
static mw_status rollback_from_json(const json_t *o, const place *p, mw_rule *r, mw_error *err) {
    if (!o || json_is_null(o)) return MW_OK;
    if (!json_is_object(o)) return bad(err, p, "rollback: expected a mapping with model and alias");
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        if (strcmp(k, "model") && strcmp(k, "alias"))
            return bad(err, p, "rollback: unknown key \"%s\" (expected model, alias)", k);
    }
    const char *keys[2] = {"model", "alias"};
    char **out[2] = {&r->rollback_model, &r->rollback_alias};
    for (size_t i = 0; i < 2; i++) {
        const json_t *s = json_object_get(o, keys[i]);
        if (!json_is_string(s) || !json_string_length(s) || json_string_length(s) > 1024)
            return bad(err, p, "rollback.%s: expected a name or template (1 to 1024 bytes)",
                       keys[i]);
        mw_error te = {0};
        if (mw_template_check(json_string_value(s), &te))
            return bad(err, p, "rollback.%s: %s", keys[i], te.message);
        if (!(*out[i] = strdup(json_string_value(s))))
            return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    }
    return MW_OK;
}

static mw_status rule_from_json(const json_t *o, place *p, mw_rule *r, mw_error *err) {
    memset(r, 0, sizeof *r);
    if (!json_is_object(o)) return bad(err, p, "expected a mapping with name and expr");
    const json_t *name = json_object_get(o, "name");
    if (!name) name = json_object_get(o, "alert"); /* Prometheus' spelling */
    if (!json_is_string(name)) return bad(err, p, "name: expected a string");
    p->name = json_string_value(name);
    if (!valid_name(p->name, MW_RULE_NAME_MAX))
        return bad(err, p, "name: expected [A-Za-z_][A-Za-z0-9_]*, at most %d bytes",
                   MW_RULE_NAME_MAX);
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)o, k, v) {
        int known = 0;
        for (size_t i = 0; i < sizeof rule_keys / sizeof *rule_keys; i++)
            known |= !strcmp(k, rule_keys[i]);
        if (!known)
            return bad(err, p,
                       "unknown key \"%s\" (expected name, expr, for, keep_firing_for, "
                       "labels, annotations, rollback)",
                       k);
    }
    const json_t *expr = json_object_get(o, "expr");
    if (!json_is_string(expr)) return bad(err, p, "expr: expected a string");
    mw_error ee = {0};
    mw_status st;
    if ((r->name = strdup(p->name)) == NULL ||
        (r->expr_text = strdup(json_string_value(expr))) == NULL)
        return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    if (mw_expr_parse(r->expr_text, &r->expr, &ee)) return bad(err, p, "expr: %s", ee.message);
    static const char *const dur_keys[] = {"for", "keep_firing_for"};
    double *dur_out[] = {&r->for_s, &r->keep_firing_for_s};
    for (size_t i = 0; i < 2; i++) {
        const json_t *f = json_object_get(o, dur_keys[i]);
        if (!f || mw_duration_parse(f, dur_out[i])) continue;
        char *shown = json_dumps(f, JSON_ENCODE_ANY | JSON_COMPACT);
        st = bad(err, p, "%s: %.60s is not a duration (e.g. 30s, 5m, 1h30m)", dur_keys[i],
                 shown ? shown : "the value");
        free(shown);
        return st;
    }
    if ((st = string_map(json_object_get(o, "labels"), "labels", 0, p, &r->labels, &r->nlabels,
                         err)))
        return st;
    if ((st = string_map(json_object_get(o, "annotations"), "annotations", 1, p, &r->annotations,
                         &r->nannotations, err)))
        return st;
    return rollback_from_json(json_object_get(o, "rollback"), p, r, err);
}

mw_status mw_rules_from_json(const json_t *arr, const char *where, mw_rule_set *out,
                             mw_error *err) {
    memset(out, 0, sizeof *out);
    if (!arr || json_is_null(arr)) return MW_OK;
    if (!json_is_array(arr))
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "%s: expected a list of rules", where);
    size_t n = json_array_size(arr);
    if (n > MW_RULES_MAX)
        return mw_error_set(err, MW_ERANGE, NULL, 0, 0, "%s: %zu rules, at most %d", where, n,
                            MW_RULES_MAX);
    out->r = calloc(n ? n : 1, sizeof *out->r);
    if (!out->r) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    for (size_t i = 0; i < n; i++) {
        place p = {where, i, NULL};
        mw_status st = rule_from_json(json_array_get(arr, i), &p, &out->r[i], err);
        out->n = i + 1;
        for (size_t j = 0; !st && j < i; j++)
            if (!strcmp(out->r[j].name, out->r[i].name))
                st = bad(err, &p, "name: a rule of this name is already %s[%zu]", where, j);
        if (st) {
            mw_rules_free(out);
            return st;
        }
    }
    return MW_OK;
}

static json_t *map_json(const mw_label *l, size_t n) {
    json_t *o = json_object();
    for (size_t i = 0; o && i < n; i++)
        json_object_set_new(o, l[i].name, json_string(l[i].value));
    return o;
}

json_t *mw_rules_to_json(const mw_rule_set *set) {
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < set->n; i++) {
        const mw_rule *r = &set->r[i];
        char f[64], k[64];
        mw_duration_format(r->for_s, f, sizeof f);
        mw_duration_format(r->keep_firing_for_s, k, sizeof k);
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:s, s:o, s:o}", "name", r->name, "expr", r->expr_text,
                      "for", f, "keep_firing_for", k, "labels", map_json(r->labels, r->nlabels),
                      "annotations", map_json(r->annotations, r->nannotations));
        if (o && r->rollback_model)
            json_object_set_new(
                o, "rollback",
                json_pack("{s:s, s:s}", "model", r->rollback_model, "alias", r->rollback_alias));
        json_array_append_new(arr, o);
    }
    return arr;
}

void mw_rules_free(mw_rule_set *set) {
    for (size_t i = 0; i < set->n; i++)
        rule_free(&set->r[i]);
    free(set->r);
    memset(set, 0, sizeof *set);
}

mw_status mw_rules_merge(mw_rule_set *set, mw_rule_set *add) {
    mw_rule *grown = realloc(set->r, (set->n + add->n + 1) * sizeof *grown);
    if (!grown) return MW_ENOMEM;
    set->r = grown;
    for (size_t i = 0; i < add->n; i++) {
        int dup = 0;
        for (size_t j = 0; j < set->n && !dup; j++)
            dup = !strcmp(set->r[j].name, add->r[i].name);
        if (dup)
            rule_free(&add->r[i]);
        else
            set->r[set->n++] = add->r[i];
    }
    free(add->r);
    memset(add, 0, sizeof *add);
    return MW_OK;
}
