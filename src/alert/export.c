/*
 * `modelwatch rules export`: a rule set as Prometheus alerting rules, for
 * teams that let Prometheus evaluate. The expression language is a subset of
 * PromQL with the same semantics and the templates are Prometheus' own, so
 * the exported file fires the same alerts on the scraped metrics. Strings are
 * written as JSON strings, which are valid YAML double-quoted scalars.
 */
#include "alert/rules.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* s as a YAML double-quoted scalar */
static void quoted(FILE *f, const char *s) {
    json_t *j = json_string(s);
    char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    fputs(q ? q : "\"\"", f);
    free(q);
    json_decref(j);
}

/* extra: one more entry (a label pair), or NULL */
static void string_map(FILE *f, const char *key, const mw_label *l, size_t n,
                       const mw_label *extra) {
    if (!n && !extra) return;
    fprintf(f, "        %s:\n", key);
    for (size_t i = 0; i < n + (extra != NULL); i++) {
        const mw_label *e = i < n ? &l[i] : extra;
        fprintf(f, "          %s: ", e->name);
        quoted(f, e->value);
        fputc('\n', f);
    }
}

char *mw_rules_export_prometheus(const mw_rule_set *set, const char *group) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    fputs("# Prometheus alerting rules written by `modelwatch rules export`.\n"
          "# Load with rule_files: in prometheus.yml; check with `promtool check rules`.\n"
          "groups:\n  - name: ",
          f);
    quoted(f, group);
    fputs(set->n ? "\n    rules:\n" : "\n    rules: []\n", f);
    for (size_t i = 0; i < set->n; i++) {
        const mw_rule *r = &set->r[i];
        char *expr = mw_expr_format(r->expr);
        char d[64];
        fprintf(f, "      - alert: %s\n        expr: ", r->name);
        quoted(f, expr ? expr : r->expr_text);
        free(expr);
        mw_duration_format(r->for_s, d, sizeof d);
        fprintf(f, "\n        for: %s\n", d);
        if (r->keep_firing_for_s > 0) {
            mw_duration_format(r->keep_firing_for_s, d, sizeof d);
            fprintf(f, "        keep_firing_for: %s\n", d);
        }
        string_map(f, "labels", r->labels, r->nlabels, NULL);
        /* rollback is modelwatch's own: Prometheus gets it as an annotation */
        char *rb = NULL;
        if (r->rollback_model &&
            asprintf(&rb, "model=%s alias=%s", r->rollback_model, r->rollback_alias) < 0)
            rb = NULL;
        mw_label extra = {(char *)"modelwatch_rollback", rb};
        string_map(f, "annotations", r->annotations, r->nannotations, rb ? &extra : NULL);
        free(rb);
    }
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}
