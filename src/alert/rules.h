/*
 * Alert rules: what the configuration's `rules:` list and PUT /api/v1/rules
 * hold (name, expr, for, keep_firing_for, labels, annotations), checked once
 * when loaded so that evaluation never meets a bad rule; the annotation
 * templates; the durations; the starter rule set; and the export of a rule
 * set as Prometheus alerting rules (`modelwatch rules export`).
 *
 * A rule, in JSON (the YAML of the configuration is read into the same tree):
 *     {"name": "FeatureDrift",                   [A-Za-z_][A-Za-z0-9_]*, unique
 *      "expr": "modelwatch_feature_drifted == 1", see expr.h
 *      "for": "5m",                              optional, default 0s
 *      "keep_firing_for": "10m",                 optional, default 0s
 *      "labels": {"severity": "warning"},        optional, literal strings
 *      "annotations": {"summary": "{{ $labels.feature }} drifted"},  optional
 *      "rollback": {"model": "fraud", "alias": "production"}}    optional, off by default
 * rollback: when an alert of the rule starts firing, the daemon moves the
 * registry alias back to its previous version (as `modelwatch registry
 * rollback`), once per firing episode, recorded in the audit log with who =
 * "modelwatch-alert:<rule>" and why = the alert's summary annotation. model
 * and alias are templates like annotations ("{{ $labels.model }}").
 * Durations: a number of seconds, or Prometheus' form: integers with units
 * ms, s, m, h, d, w, y in decreasing order ("1h30m", "90s", "500ms").
 * Templates (a subset of Prometheus' Go templates, so exported rules render
 * the same): text with {{ $value }}, {{ $labels.NAME }}, {{ humanize $value }},
 * {{ $value | humanize }} and {{ printf "%.Nf" $value }} (N = 0..9). $value
 * prints as Go prints a float64 ("0.001", "1e-05", "1.234567e+06", "NaN",
 * "+Inf"); humanize as Prometheus' humanize (SI prefixes, 4 significant
 * digits); $labels are the labels of the expression's result (not the rule's
 * labels), and a label the result lacks prints as "".
 *
 * Errors name the place: "rules[2] (FeatureDrift): expr: column 5: expected
 * ...", "rules[0] (X): for: \"5x\" is not a duration (e.g. 30s, 5m, 1h30m)",
 * "rules[1] (Y): annotations.summary: column 12: unknown template action
 * \"{{ $foo }}\"".
 */
#ifndef MW_ALERT_RULES_H
#define MW_ALERT_RULES_H

#include "alert/expr.h"

#include <jansson.h>

#define MW_RULES_MAX 1000
#define MW_RULE_NAME_MAX 128

typedef struct mw_rule {
    char *name;
    char *expr_text; /* as written */
    mw_expr *expr;
    double for_s, keep_firing_for_s;
    mw_label *labels; /* sorted by name */
    size_t nlabels;
    mw_label *annotations; /* sorted by name; values are templates */
    size_t nannotations;
    char *rollback_model, *rollback_alias; /* rollback: templates; NULL when not set */
} mw_rule;

typedef struct mw_rule_set {
    mw_rule *r;
    size_t n;
} mw_rule_set;

/* Reads a JSON array of rules; `where` prefixes error places ("rules"). *out
 * is cleared first and left empty on error. */
mw_status mw_rules_from_json(const json_t *arr, const char *where, mw_rule_set *out,
                             mw_error *err);
/* The rule set as the JSON array it was read from (canonical durations). */
json_t *mw_rules_to_json(const mw_rule_set *set);
void mw_rules_free(mw_rule_set *set);
/* Appends the rules of add whose names set lacks (moved out of add, which is
 * left empty). */
mw_status mw_rules_merge(mw_rule_set *set, mw_rule_set *add);

/* The documented starter rules (README "Alerting"), into *out. */
mw_status mw_rules_starter(mw_rule_set *out, mw_error *err);

/* Parses a duration (JSON number of seconds or string); 1 on success. */
int mw_duration_parse(const json_t *v, double *seconds);
/* Writes a duration in Prometheus' form ("0s", "90s", "1500ms", "5m", "1h30m"). */
void mw_duration_format(double seconds, char *buf, size_t size);

/* Checks a template; MW_EINVAL with the column of the bad action. */
mw_status mw_template_check(const char *tmpl, mw_error *err);
/* Renders a checked template for an alert with these labels and value
 * (malloc'd; NULL when out of memory). */
char *mw_template_render(const char *tmpl, const mw_label *labels, size_t nlabels, double value);
/* Go's %v of a float64 into buf (at least 32 bytes). */
void mw_format_go_float(double v, char *buf, size_t size);

/* The rule set as Prometheus alerting rules (one group named `group`), YAML
 * that `promtool check rules` accepts (malloc'd). A rule's rollback, which
 * Prometheus has no field for, becomes the annotation modelwatch_rollback
 * ("model=M alias=A"). */
char *mw_rules_export_prometheus(const mw_rule_set *set, const char *group);

#endif
