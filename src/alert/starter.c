/*
 * The starter rule set (`modelwatch serve --starter-rules`, README
 * "Alerting"): one rule per signal the daemon computes, with thresholds that
 * suit most models as a first setting. Written as JSON and read through the
 * same loader as user rules, so it is checked like them.
 */
#include "alert/rules.h"

static const char starter_json[] =
    "["
    "{\"name\": \"ModelDatasetDrift\", \"expr\": \"modelwatch_dataset_drifted == 1\","
    " \"for\": \"0s\", \"labels\": {\"severity\": \"warning\"},"
    " \"annotations\": {\"summary\": \"{{ $labels.model }}/{{ $labels.version }}: dataset drift "
    "in the last window\", \"description\": \"{{ $labels.model }}/{{ $labels.version }}: the share "
    "of drifted features passed the version's threshold in the last closed window.\"}},"

    "{\"name\": \"ModelAccuracyDrop\","
    " \"expr\": \"modelwatch_model_metric{metric=\\\"accuracy\\\"} < 0.9\","
    " \"for\": \"0s\", \"labels\": {\"severity\": \"critical\"},"
    " \"annotations\": {\"summary\": \"{{ $labels.model }}/{{ $labels.version }}: accuracy "
    "{{ printf \\\"%.3f\\\" $value }} below 0.9\"}},"

    "{\"name\": \"ModelOutlierShareHigh\", \"expr\": \"modelwatch_outlier_ratio_p_value < 0.001\","
    " \"for\": \"0s\", \"labels\": {\"severity\": \"warning\"},"
    " \"annotations\": {\"summary\": \"{{ $labels.model }}/{{ $labels.version }}: far more "
    "outliers than the reference leads to expect (binomial p={{ $value }})\"}},"

    "{\"name\": \"ModelErrorRatioHigh\", \"expr\": \"modelwatch_window_error_ratio > 0.05\","
    " \"for\": \"0s\", \"labels\": {\"severity\": \"warning\"},"
    " \"annotations\": {\"summary\": \"{{ $labels.model }}/{{ $labels.version }}: "
    "error ratio {{ printf \\\"%.3f\\\" $value }} in the last window\"}},"

    "{\"name\": \"ModelLatencyP99High\","
    " \"expr\": \"modelwatch_window_latency_seconds{quantile=\\\"0.99\\\"} > 1\","
    " \"for\": \"0s\", \"labels\": {\"severity\": \"warning\"},"
    " \"annotations\": {\"summary\": \"{{ $labels.model }}/{{ $labels.version }}: p99 latency "
    "{{ humanize $value }}s in the last window\"}},"

    "{\"name\": \"ProbePassRatioLow\", \"expr\": \"modelwatch_probe_pass_ratio < 0.9\","
    " \"for\": \"0s\", \"labels\": {\"severity\": \"warning\"},"
    " \"annotations\": {\"summary\": \"probe set {{ $labels.probe_set }}: only "
    "{{ printf \\\"%.2f\\\" $value }} of the golden prompts passed in the last run\"}},"

    "{\"name\": \"GPUMemoryHigh\", \"expr\": \"modelwatch_gpu_memory_used_ratio > 0.95\","
    " \"for\": \"5m\", \"labels\": {\"severity\": \"critical\"},"
    " \"annotations\": {\"summary\": \"GPU {{ $labels.gpu }}: memory {{ humanize $value }} "
    "used\"}}"
    "]";

mw_status mw_rules_starter(mw_rule_set *out, mw_error *err) {
    json_error_t je;
    json_t *arr = json_loads(starter_json, 0, &je);
    if (!arr) return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "starter rules: %s", je.text);
    mw_status st = mw_rules_from_json(arr, "starter rules", out, err);
    json_decref(arr);
    return st;
}
