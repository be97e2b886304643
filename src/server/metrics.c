/*
 * /metrics: the daemon's Prometheus exposition (text 0.0.4, or OpenMetrics
 * when the scraper asks). Drift metrics carry the values of each version's
 * last closed window; counters count since start-up (Prometheus handles
 * restarts). Labels are bounded: model, version, feature (columns of the
 * reference), test (the test names), reason (a fixed set); record ids never.
 *
 * Each family is written in one pass over the versions, so all its samples
 * stay together as the format requires.
 */
#include "monitor/serving.h"
#include "server/daemon.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct pass {
    mw_expo *e;
    int family; /* which family this pass writes */
    mw_status st;
} pass;

enum {
    F_RECORDS,
    F_REJECTED,
    F_LATE,
    F_OPEN_RECORDS,
    F_WINDOW_RECORDS,
    F_WINDOW_END,
    F_SHARE,
    F_DATASET_DRIFTED,
    F_STAT,
    F_PVALUE,
    F_DRIFTED,
    F_MISSING,
    F_OUTLIER_RATIO,
    F_OUTLIER_P_VALUE,
    F_OUTLIERS,
    F_OUTLIER_SCORE,
    F_LATENCY,
    F_ERRORS,
    F_WINDOW_ERROR_RATIO,
    F_WINDOW_LATENCY,
    F_LLM_TOKENS,
    F_LLM_TOKEN_USAGE,
    F_LLM_TTFT,
    F_LLM_TPOT,
    F_LLM_FINISH,
    F_EMB_STAT,
    F_EMB_PVALUE,
    F_EMB_DRIFTED,
    F_EMB_REJECTED,
    F_COUNT
};

static const struct {
    const char *name;
    mw_expo_type type;
    const char *help;
} families[F_COUNT] = {
    {"modelwatch_records_total", MW_EXPO_COUNTER, "Prediction records accepted."},
    {"modelwatch_records_rejected_total", MW_EXPO_COUNTER,
     "Prediction records rejected, by reason."},
    {"modelwatch_records_late_total", MW_EXPO_COUNTER,
     "Accepted records whose time was before their window's start."},
    {"modelwatch_window_open_records", MW_EXPO_GAUGE, "Records in the open window."},
    {"modelwatch_window_records", MW_EXPO_GAUGE, "Records in the last closed window."},
    {"modelwatch_window_end_timestamp_seconds", MW_EXPO_GAUGE,
     "End of the last closed window, seconds since the epoch."},
    {"modelwatch_dataset_drift_share", MW_EXPO_GAUGE,
     "Share of tested features that drifted in the last closed window."},
    {"modelwatch_dataset_drifted", MW_EXPO_GAUGE,
     "1 when the last closed window drifted as a data set."},
    {"modelwatch_feature_drift_statistic", MW_EXPO_GAUGE,
     "Drift test statistic of a feature in the last closed window."},
    {"modelwatch_feature_drift_p_value", MW_EXPO_GAUGE,
     "Drift test p-value of a feature in the last closed window."},
    {"modelwatch_feature_drifted", MW_EXPO_GAUGE,
     "1 when the feature drifted in the last closed window (its deciding test)."},
    {"modelwatch_feature_missing_ratio", MW_EXPO_GAUGE,
     "Share of missing values of a feature in the last closed window."},
    {"modelwatch_outlier_ratio", MW_EXPO_GAUGE,
     "Share of scored records above the outlier threshold in the last closed window."},
    {"modelwatch_outlier_ratio_p_value", MW_EXPO_GAUGE,
     "One-sided binomial test p-value of the last closed window's outlier share against the "
     "share expected from the reference (small: far more outliers than expected)."},
    {"modelwatch_outliers_total", MW_EXPO_COUNTER, "Records scored above the outlier threshold."},
    {"modelwatch_outlier_score", MW_EXPO_HISTOGRAM,
     "Outlier scores of the records (Isolation Forest: 0..1, LOF: around 1 and up)."},
    {"modelwatch_prediction_latency_seconds", MW_EXPO_HISTOGRAM,
     "Prediction latency from the records' latency_ms (gen_ai.client.operation.duration)."},
    {"modelwatch_prediction_errors_total", MW_EXPO_COUNTER,
     "Records carrying an error, by error type (16 types by name, then \"other\")."},
    {"modelwatch_window_error_ratio", MW_EXPO_GAUGE,
     "Share of records with an error in the last closed window."},
    {"modelwatch_window_latency_seconds", MW_EXPO_GAUGE,
     "Latency percentiles of the last closed window."},
    {"modelwatch_llm_tokens_total", MW_EXPO_COUNTER, "LLM tokens, by type (input, output)."},
    {"modelwatch_llm_token_usage", MW_EXPO_HISTOGRAM,
     "Tokens per LLM request, by type (gen_ai.client.token.usage)."},
    {"modelwatch_llm_time_to_first_token_seconds", MW_EXPO_HISTOGRAM,
     "Time to first token (gen_ai.server.time_to_first_token)."},
    {"modelwatch_llm_time_per_output_token_seconds", MW_EXPO_HISTOGRAM,
     "Time per output token after the first (gen_ai.server.time_per_output_token)."},
    {"modelwatch_llm_finish_reasons_total", MW_EXPO_COUNTER, "LLM responses by finish reason."},
    {"modelwatch_embedding_drift_statistic", MW_EXPO_GAUGE,
     "Embedding drift in the last closed window: test mmd (unbiased MMD^2, RBF kernel) or "
     "classifier (domain classifier cross-validated ROC AUC)."},
    {"modelwatch_embedding_drift_p_value", MW_EXPO_GAUGE,
     "Permutation p-value of the embedding MMD test in the last closed window."},
    {"modelwatch_embedding_drifted", MW_EXPO_GAUGE,
     "1 when the embedding drifted in the last closed window (MMD p < 0.05 or AUC > 0.55)."},
    {"modelwatch_embedding_rejected_total", MW_EXPO_COUNTER,
     "Record embeddings left out (the records were accepted), by reason (dimension, "
     "non_finite)."},
};

/* A counter by name (error types, finish reasons), with "other" for the rest. */
static void names_family(pass *p, const mw_version_status *s, const char *label,
                         const mw_name_counts *c) {
    const char *n[3] = {"model", "version", label};
    for (size_t i = 0; i <= c->n && !p->st; i++) {
        if (i == c->n && !c->other) break;
        const char *v[3] = {s->model, s->version, i < c->n ? c->name[i] : "other"};
        p->st = mw_expo_sample_u64(p->e, NULL, n, v, 3, i < c->n ? c->count[i] : c->other);
    }
}

static void llm_family(pass *p, const mw_version_status *s) {
    const mw_serving *sv = s->serving;
    const char *n[3] = {"model", "version", "type"};
    const char *in[3] = {s->model, s->version, "input"}, *out[3] = {s->model, s->version, "output"};
    switch (p->family) {
    case F_LLM_TOKENS:
        p->st = mw_expo_sample(p->e, NULL, n, in, 3, sv->input_tokens);
        if (!p->st) p->st = mw_expo_sample(p->e, NULL, n, out, 3, sv->output_tokens);
        break;
    case F_LLM_TOKEN_USAGE:
        p->st = mw_expo_histogram(p->e, n, in, 3, mw_token_bounds, MW_TOKEN_BOUNDS,
                                  sv->input_hist.counts, sv->input_hist.sum);
        if (!p->st)
            p->st = mw_expo_histogram(p->e, n, out, 3, mw_token_bounds, MW_TOKEN_BOUNDS,
                                      sv->output_hist.counts, sv->output_hist.sum);
        break;
    case F_LLM_TTFT:
        p->st = mw_expo_histogram(p->e, n, in, 2, mw_ttft_bounds, MW_TTFT_BOUNDS, sv->ttft.counts,
                                  sv->ttft.sum);
        break;
    case F_LLM_TPOT:
        p->st = mw_expo_histogram(p->e, n, in, 2, mw_tpot_bounds, MW_TPOT_BOUNDS, sv->tpot.counts,
                                  sv->tpot.sum);
        break;
    default:
        break;
    }
}

/* The embedding families: the last closed window's tests, rejections since start-up. */
static void embedding_family(pass *p, const mw_version_status *s) {
    if (!s->has_embedding) return;
    if (p->family == F_EMB_REJECTED) {
        const char *n[3] = {"model", "version", "reason"};
        const char *why[2] = {"dimension", "non_finite"};
        for (int k = 0; k < 2 && !p->st; k++) {
            const char *v[3] = {s->model, s->version, why[k]};
            p->st = mw_expo_sample_u64(p->e, NULL, n, v, 3, s->embeddings_rejected[k]);
        }
        return;
    }
    const mw_drift_report *r = s->has_last ? s->last : NULL;
    for (size_t i = 0; r && i < r->nembeddings && !p->st; i++) {
        const mw_embedding_report *er = &r->embeddings[i];
        const mw_embedding_result *x = &er->result;
        if (!er->tested) continue;
        const char *n[4] = {"model", "version", "embedding", "test"};
        const char *v[4] = {s->model, s->version, er->name, "mmd"};
        if (p->family == F_EMB_STAT) {
            p->st = mw_expo_sample(p->e, NULL, n, v, 4, x->mmd.statistic);
            v[3] = "classifier";
            if (!p->st && !isnan(x->auc)) p->st = mw_expo_sample(p->e, NULL, n, v, 4, x->auc);
        } else if (p->family == F_EMB_PVALUE) {
            p->st = mw_expo_sample(p->e, NULL, n, v, 4, x->mmd.p_value);
        } else {
            p->st = mw_expo_sample(p->e, NULL, n, v, 3, x->drifted);
        }
    }
}

static void write_version(const mw_version_status *s, void *ctx) {
    pass *p = ctx;
    if (p->st) return;
    const char *names[4] = {"model", "version", "feature", "test"};
    const char *values[4] = {s->model, s->version, NULL, NULL};
    mw_expo *e = p->e;
    const mw_drift_report *r = s->last;
    switch (p->family) {
    case F_RECORDS:
        p->st = mw_expo_sample_u64(e, NULL, names, values, 2, s->records_total);
        return;
    case F_LATE:
        p->st = mw_expo_sample_u64(e, NULL, names, values, 2, s->late_total);
        return;
    case F_REJECTED: {
        const char *rn[3] = {"model", "version", "reason"};
        for (int k = 0; k < MW_REJECT_REASONS && !p->st; k++) {
            const char *rv[3] = {s->model, s->version, mw_reject_reason_name((mw_reject_reason)k)};
            p->st = mw_expo_sample_u64(e, NULL, rn, rv, 3, s->rejected_total[k]);
        }
        return;
    }
    case F_OPEN_RECORDS:
        p->st = mw_expo_sample_u64(e, NULL, names, values, 2, s->window_records);
        return;
    case F_OUTLIERS:
        if (s->has_detector)
            p->st = mw_expo_sample_u64(e, NULL, names, values, 2, s->outliers_total);
        return;
    case F_OUTLIER_SCORE:
        if (s->has_detector)
            p->st = mw_expo_histogram(e, names, values, 2, s->score_bounds, s->score_nbounds,
                                      s->score_counts, s->score_sum);
        return;
    case F_OUTLIER_RATIO:
        if (s->has_detector && s->has_last && !isnan(s->last_outlier_share))
            p->st = mw_expo_sample(e, NULL, names, values, 2, s->last_outlier_share);
        return;
    case F_OUTLIER_P_VALUE:
        if (s->has_detector && s->has_last && !isnan(s->last_outlier_p_value))
            p->st = mw_expo_sample(e, NULL, names, values, 2, s->last_outlier_p_value);
        return;
    case F_LATENCY:
        p->st = mw_expo_histogram(e, names, values, 2, mw_latency_bounds, MW_LATENCY_BOUNDS,
                                  s->serving->latency.counts, s->serving->latency.sum);
        return;
    case F_ERRORS:
        names_family(p, s, "error_type", &s->serving->error_types);
        return;
    case F_LLM_FINISH:
        names_family(p, s, "reason", &s->serving->finish_reasons);
        return;
    case F_LLM_TOKENS:
    case F_LLM_TOKEN_USAGE:
    case F_LLM_TTFT:
    case F_LLM_TPOT:
        if (s->serving->llm_records) llm_family(p, s);
        return;
    default:
        break;
    }
    if (p->family >= F_EMB_STAT) {
        embedding_family(p, s);
        return;
    }
    if (!s->has_last) return;
    if (p->family == F_WINDOW_ERROR_RATIO) {
        if (!isnan(s->last_error_ratio))
            p->st = mw_expo_sample(e, NULL, names, values, 2, s->last_error_ratio);
        return;
    }
    if (p->family == F_WINDOW_LATENCY) {
        const char *qn[3] = {"model", "version", "quantile"};
        const char *qs[3] = {"0.5", "0.95", "0.99"};
        double qv[3] = {s->last_latency_p50, s->last_latency_p95, s->last_latency_p99};
        for (int k = 0; k < 3 && !p->st; k++) {
            if (isnan(qv[k])) continue;
            const char *vv[3] = {s->model, s->version, qs[k]};
            p->st = mw_expo_sample(e, NULL, qn, vv, 3, qv[k] / 1000.0);
        }
        return;
    }
    switch (p->family) {
    case F_WINDOW_RECORDS:
        p->st = mw_expo_sample_u64(e, NULL, names, values, 2, s->last_records);
        return;
    case F_WINDOW_END:
        p->st = mw_expo_sample(e, NULL, names, values, 2, s->last_end);
        return;
    case F_SHARE:
        p->st = mw_expo_sample(e, NULL, names, values, 2, r->drift_share);
        return;
    case F_DATASET_DRIFTED:
        p->st = mw_expo_sample(e, NULL, names, values, 2, r->dataset_drift);
        return;
    default:
        break;
    }
    for (size_t i = 0; i < r->ncols && !p->st; i++) {
        const mw_column_report *c = &r->cols[i];
        values[2] = c->name;
        switch (p->family) {
        case F_STAT:
        case F_PVALUE:
            for (int t = 0; t < MW_TEST_COUNT && !p->st; t++) {
                if (!(c->computed & (1u << t))) continue;
                if (p->family == F_PVALUE && !mw_test_has_p_value((mw_test_id)t)) continue;
                values[3] = mw_test_name((mw_test_id)t);
                p->st = mw_expo_sample(e, NULL, names, values, 4,
                                       p->family == F_STAT ? c->tests[t].statistic
                                                           : c->tests[t].p_value);
            }
            break;
        case F_DRIFTED:
            if (c->tested) p->st = mw_expo_sample(e, NULL, names, values, 3, c->drifted);
            break;
        case F_MISSING:
            p->st =
                mw_expo_sample(e, NULL, names, values, 3,
                               c->cur_count ? (double)c->cur_missing / (double)c->cur_count : 0);
            break;
        default:
            break;
        }
    }
}

static void violation_sample(const char *model, const char *version, const char *field,
                             const char *reason, uint64_t count, void *ctx) {
    pass *p = ctx;
    const char *n[4] = {"model", "version", "field", "reason"};
    const char *v[4] = {model, version, field, reason};
    if (!p->st) p->st = mw_expo_sample_u64(p->e, NULL, n, v, 4, count);
}

mw_status mw_daemon_write_metrics(mw_daemon *d, mw_expo *e) {
    mw_status st = mw_expo_family(e, "modelwatch_build_info", MW_EXPO_INFO,
                                  "modelwatch build; the value is always 1.");
    const char *bn[1] = {"version"}, *bv[1] = {MW_VERSION};
    if (!st) st = mw_expo_sample(e, NULL, bn, bv, 1, 1);
    for (int f = 0; f < F_COUNT && !st; f++) {
        st = mw_expo_family(e, families[f].name, families[f].type, families[f].help);
        pass p = {e, f, MW_OK};
        if (!st) mw_monitor_each_version(d->monitor, write_version, &p);
        if (!st) st = p.st;
        if (!st && f == F_REJECTED) { /* records no version could take */
            const char *rn[3] = {"model", "version", "reason"};
            const char *unknown[3] = {"", "", "unknown_version"};
            const char *invalid[3] = {"", "", "invalid_record"};
            st = mw_expo_sample_u64(e, NULL, rn, unknown, 3,
                                    mw_monitor_rejected_unknown(d->monitor));
            if (!st)
                st = mw_expo_sample_u64(e, NULL, rn, invalid, 3,
                                        mw_monitor_rejected_invalid(d->monitor));
        }
    }
    if (!st)
        st = mw_expo_family(e, "modelwatch_signature_violations_total", MW_EXPO_COUNTER,
                            "Accepted records that break the version's registry signature, by "
                            "field and reason (missing, type, class).");
    if (!st) {
        pass p = {e, F_COUNT, MW_OK};
        mw_monitor_signature_violations(d->monitor, violation_sample, &p);
        st = p.st;
    }
    if (!st)
        st = mw_expo_family(e, "modelwatch_ingested_bytes_total", MW_EXPO_COUNTER,
                            "Bytes of record bodies received (after gzip decoding).");
    if (!st) st = mw_expo_sample_u64(e, NULL, NULL, NULL, 0, atomic_load(&d->ingested_bytes));
    if (!st) st = mw_labels_write_metrics(d, e);
    if (!st) st = mw_canary_write_metrics(d, e);
    if (!st) st = mw_otlp_write_metrics(d, e);
    if (!st) st = mw_resources_write_metrics(&d->resources, e);
    if (!st && d->alerting) st = mw_alerting_write_metrics(d->alerting, e);
    if (!st) st = mw_probes_write_metrics(d->probes, e);
    return st;
}
