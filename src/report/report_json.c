/*
 * JSON reports. The drift report's shape is a contract (issue #2):
 *   {"dataset_drift": bool, "drift_share": x, "columns": [{"name", "type",
 *    "tests": {"ks": {"statistic", "p_value"}, "psi": {"statistic"}, ...},
 *    "drift": {"test", "statistic", "p_value", "threshold", "drifted"}}]}
 * Distance measures have no "p_value". Extra keys carry the sources, the
 * correction, skipped columns and the quality figures. No bare NaN/Infinity:
 * those are null. Embedding groups, when there are any, add "embedding_drift"
 * and "embeddings": [{"name", "dim", "n_ref", "n_cur", "mmd": {"statistic",
 * "p_value", "bandwidth", ...}, "classifier": {"auc", "drifted", ...},
 * "top_shifts": [{"dim", "ref_mean", "cur_mean", "shift"}], "drifted", ...}].
 */
#include <math.h>

#include "modelwatch/report.h"
#include "report/json_writer.h"
#include "modelwatch/perf.h"
#include "report/report_int.h"
#include "monitor/serving.h"

static double share(uint64_t part, uint64_t whole) {
    return whole ? (double)part / (double)whole : 0.0;
}

static void source(mw_json *j, const char *key, const char *name, uint64_t rows) {
    mw_json_key(j, key);
    mw_json_begin_object(j);
    mw_json_kv_string(j, "source", name);
    mw_json_kv_uint(j, "rows", rows);
    mw_json_end_object(j);
}

static void column_quality(mw_json *j, const mw_column_report *c) {
    mw_json_key(j, "quality");
    mw_json_begin_object(j);
    mw_json_kv_uint(j, "reference_missing", c->ref_missing);
    mw_json_kv_uint(j, "current_missing", c->cur_missing);
    mw_json_kv_number(j, "reference_missing_share", share(c->ref_missing, c->ref_count));
    mw_json_kv_number(j, "current_missing_share", share(c->cur_missing, c->cur_count));
    mw_json_kv_number(j, "missing_share_change",
                      share(c->cur_missing, c->cur_count) - share(c->ref_missing, c->ref_count));
    mw_json_kv_uint(j, "type_errors", c->cur_type_errors);
    mw_json_key(j, "type_error_examples");
    mw_json_begin_array(j);
    for (size_t e = 0; e < c->n_type_error_examples; e++) {
        mw_json_begin_object(j);
        mw_json_kv_string(j, "value", c->type_error_example[e]);
        mw_json_kv_uint(j, "line", c->type_error_line[e]);
        mw_json_end_object(j);
    }
    mw_json_end_array(j);
    if (c->type == MW_TYPE_NUMERIC) {
        mw_json_kv_uint(j, "reference_infinite", c->ref_inf);
        mw_json_kv_uint(j, "current_infinite", c->cur_inf);
        mw_json_kv_number(j, "reference_min", c->ref_min);
        mw_json_kv_number(j, "reference_max", c->ref_max);
        mw_json_kv_number(j, "current_min", c->cur_min);
        mw_json_kv_number(j, "current_max", c->cur_max);
        mw_json_kv_number(j, "reference_mean", c->ref_mean);
        mw_json_kv_number(j, "current_mean", c->cur_mean);
        mw_json_kv_number(j, "reference_std", c->ref_std);
        mw_json_kv_number(j, "current_std", c->cur_std);
        mw_json_kv_uint(j, "out_of_range", c->cur_below_range + c->cur_above_range);
        mw_json_kv_uint(j, "below_range", c->cur_below_range);
        mw_json_kv_uint(j, "above_range", c->cur_above_range);
        mw_json_kv_number(j, "out_of_range_share",
                          share(c->cur_below_range + c->cur_above_range, c->cur_values));
    } else {
        mw_json_kv_uint(j, "unseen_values", c->unseen_values);
        mw_json_kv_uint(j, "unseen_categories", c->unseen_distinct);
        mw_json_kv_number(j, "unseen_share", share(c->unseen_values, c->cur_values));
        mw_json_key(j, "unseen_examples");
        mw_json_begin_array(j);
        for (size_t e = 0; e < c->n_unseen_examples; e++)
            mw_json_string(j, c->unseen_example[e]);
        mw_json_end_array(j);
    }
    mw_json_kv_uint(j, "reference_distinct", c->ref_distinct);
    mw_json_kv_uint(j, "current_distinct", c->cur_distinct);
    mw_json_kv_bool(j, "reference_constant", c->ref_constant);
    mw_json_kv_bool(j, "current_constant", c->cur_constant);
    mw_json_end_object(j);
}

static void dataset_quality(mw_json *j, const mw_drift_report *r) {
    mw_json_key(j, "dataset_quality");
    mw_json_begin_object(j);
    mw_json_kv_uint(j, "reference_duplicate_rows", r->ref_duplicate_rows);
    mw_json_kv_uint(j, "current_duplicate_rows", r->cur_duplicate_rows);
    mw_json_kv_uint(j, "reference_empty_rows", r->ref_empty_rows);
    mw_json_kv_uint(j, "current_empty_rows", r->cur_empty_rows);
    mw_json_kv_uint(j, "reference_blank_lines", r->ref_blank_lines);
    mw_json_kv_uint(j, "current_blank_lines", r->cur_blank_lines);
    mw_json_key(j, "columns_only_in_reference");
    mw_json_begin_array(j);
    for (size_t i = 0; i < r->n_only_ref; i++)
        mw_json_string(j, r->only_ref[i]);
    mw_json_end_array(j);
    mw_json_key(j, "columns_only_in_current");
    mw_json_begin_array(j);
    for (size_t i = 0; i < r->n_only_cur; i++)
        mw_json_string(j, r->only_cur[i]);
    mw_json_end_array(j);
    mw_json_end_object(j);
}

static void column_drift(mw_json *j, const mw_column_report *c) {
    mw_json_key(j, "tests");
    mw_json_begin_object(j);
    for (int t = 0; t < MW_TEST_COUNT; t++) {
        if (!(c->computed & (1u << t))) continue;
        mw_json_key(j, mw_test_name((mw_test_id)t));
        mw_json_begin_object(j);
        mw_json_kv_number(j, "statistic", c->tests[t].statistic);
        if (mw_test_has_p_value((mw_test_id)t))
            mw_json_kv_number(j, "p_value", c->tests[t].p_value);
        mw_json_end_object(j);
    }
    mw_json_end_object(j);
    mw_json_key(j, "drift");
    if (!c->tested) {
        mw_json_begin_object(j);
        mw_json_key(j, "test");
        mw_json_null(j);
        mw_json_kv_bool(j, "drifted", 0);
        mw_json_kv_string(j, "skipped", c->skip_reason);
        mw_json_end_object(j);
        return;
    }
    mw_json_begin_object(j);
    mw_json_kv_string(j, "test", mw_test_name(c->drift_test));
    mw_json_kv_number(j, "statistic", c->statistic);
    if (mw_test_has_p_value(c->drift_test)) {
        mw_json_kv_number(j, "p_value", c->p_value);
        mw_json_kv_number(j, "p_value_adjusted", c->p_adjusted);
    }
    mw_json_kv_number(j, "threshold", c->threshold);
    mw_json_kv_bool(j, "drifted", c->drifted);
    mw_json_end_object(j);
}

static void header(mw_json *j, const mw_drift_report *r) {
    source(j, "reference", r->reference, r->ref_rows);
    source(j, "current", r->current, r->cur_rows);
}

/* "embeddings": one object per embedding group (modelwatch/embedding.h). */
static void embeddings_json(mw_json *j, const mw_drift_report *r) {
    mw_json_kv_bool(j, "embedding_drift", r->embedding_drift);
    mw_json_key(j, "embeddings");
    mw_json_begin_array(j);
    for (size_t i = 0; i < r->nembeddings; i++) {
        const mw_embedding_report *e = &r->embeddings[i];
        const mw_embedding_result *x = &e->result;
        mw_json_begin_object(j);
        mw_json_kv_string(j, "name", e->name);
        mw_json_kv_uint(j, "dim", e->dim);
        mw_json_kv_uint(j, "n_ref", x->n_ref);
        mw_json_kv_uint(j, "n_cur", x->n_cur);
        mw_json_kv_uint(j, "ref_missing", e->ref_missing);
        mw_json_kv_uint(j, "cur_missing", e->cur_missing);
        mw_json_kv_uint(j, "ref_invalid", e->ref_invalid);
        mw_json_kv_uint(j, "cur_invalid", e->cur_invalid);
        mw_json_kv_bool(j, "tested", e->tested);
        if (!e->tested) {
            mw_json_kv_string(j, "skip_reason", e->skip_reason);
            mw_json_kv_bool(j, "drifted", 0);
            mw_json_end_object(j);
            continue;
        }
        mw_json_kv_uint(j, "n_ref_used", x->n_ref_used);
        mw_json_kv_uint(j, "n_cur_used", x->n_cur_used);
        mw_json_key(j, "mmd");
        mw_json_begin_object(j);
        mw_json_kv_number(j, "statistic", x->mmd.statistic);
        mw_json_kv_number(j, "p_value", x->mmd.p_value);
        mw_json_kv_number(j, "bandwidth", x->mmd.bandwidth);
        mw_json_kv_uint(j, "permutations", x->permutations);
        mw_json_kv_number(j, "threshold", x->p_threshold);
        mw_json_kv_bool(j, "drifted", x->mmd_drifted);
        mw_json_end_object(j);
        mw_json_key(j, "classifier");
        mw_json_begin_object(j);
        mw_json_kv_number(j, "auc", x->auc);
        mw_json_kv_uint(j, "folds", x->folds);
        mw_json_kv_number(j, "threshold", x->auc_threshold);
        mw_json_kv_bool(j, "drifted", x->classifier_drifted);
        mw_json_end_object(j);
        mw_json_key(j, "top_shifts");
        mw_json_begin_array(j);
        for (size_t k = 0; k < x->ntop; k++) {
            mw_json_begin_object(j);
            mw_json_kv_uint(j, "dim", x->top[k].dim);
            mw_json_kv_number(j, "ref_mean", x->top[k].ref_mean);
            mw_json_kv_number(j, "cur_mean", x->top[k].cur_mean);
            mw_json_kv_number(j, "shift", x->top[k].shift);
            mw_json_end_object(j);
        }
        mw_json_end_array(j);
        mw_json_kv_number(j, "seconds", x->seconds);
        mw_json_kv_bool(j, "drifted", x->drifted);
        mw_json_end_object(j);
    }
    mw_json_end_array(j);
}

/* The keys a drift report and a window result share: decision and columns
 * (and the embeddings, when there are any). */
static void drift_body(mw_json *j, const mw_drift_report *r) {
    mw_json_kv_bool(j, "dataset_drift", r->dataset_drift);
    mw_json_kv_number(j, "drift_share", r->drift_share);
    mw_json_kv_number(j, "drift_share_threshold", r->drift_share_threshold);
    mw_json_kv_uint(j, "drifted_columns", r->n_drifted);
    mw_json_kv_uint(j, "tested_columns", r->n_tested);
    mw_json_kv_string(j, "correction", mw_correction_name(r->correction));
    header(j, r);
    mw_json_key(j, "columns");
    mw_json_begin_array(j);
    for (size_t i = 0; i < r->ncols; i++) {
        const mw_column_report *c = &r->cols[i];
        mw_json_begin_object(j);
        mw_json_kv_string(j, "name", c->name);
        mw_json_kv_string(j, "type", mw_coltype_name(c->type));
        if (c->type == MW_TYPE_NUMERIC) mw_json_kv_bool(j, "discrete", c->discrete);
        column_drift(j, c);
        column_quality(j, c);
        mw_json_end_object(j);
    }
    mw_json_end_array(j);
    if (r->nembeddings) embeddings_json(j, r);
}

static void name_counts_json(mw_json *j, const char *key, const mw_name_counts *c) {
    mw_json_key(j, key);
    mw_json_begin_object(j);
    for (size_t i = 0; i < c->n; i++)
        mw_json_kv_uint(j, c->name[i], c->count[i]);
    if (c->other) mw_json_kv_uint(j, "other", c->other);
    mw_json_end_object(j);
}

/* "serving": latency percentiles (ms), errors by type and their ratio, and for
 * LLM records tokens, time to first token and finish reasons. */
static void serving_json(mw_json *j, const mw_window_meta *w) {
    const mw_serving *s = w->serving;
    mw_json_key(j, "serving");
    mw_json_begin_object(j);
    mw_json_key(j, "latency_ms");
    mw_json_begin_object(j);
    mw_json_kv_uint(j, "count", s->latency.n);
    mw_json_kv_number(j, "mean", s->latency.n ? 1000 * s->latency.sum / (double)s->latency.n : NAN);
    mw_json_kv_number(j, "p50", w->latency_p50);
    mw_json_kv_number(j, "p95", w->latency_p95);
    mw_json_kv_number(j, "p99", w->latency_p99);
    mw_json_end_object(j);
    mw_json_kv_uint(j, "errors", s->errors);
    mw_json_kv_number(j, "error_ratio", s->records ? (double)s->errors / (double)s->records : NAN);
    name_counts_json(j, "error_types", &s->error_types);
    if (s->llm_records) {
        mw_json_key(j, "llm");
        mw_json_begin_object(j);
        mw_json_kv_uint(j, "records", s->llm_records);
        mw_json_kv_number(j, "input_tokens", s->input_tokens);
        mw_json_kv_number(j, "output_tokens", s->output_tokens);
        mw_json_kv_number(j, "ttft_ms_mean",
                          s->ttft.n ? 1000 * s->ttft.sum / (double)s->ttft.n : NAN);
        mw_json_kv_number(j, "time_per_output_token_ms_mean",
                          s->tpot.n ? 1000 * s->tpot.sum / (double)s->tpot.n : NAN);
        /* output tokens per second of generation after the first token */
        mw_json_kv_number(j, "tokens_per_second",
                          s->tpot.sum > 0 ? (double)s->tpot.n / s->tpot.sum : NAN);
        name_counts_json(j, "finish_reasons", &s->finish_reasons);
        mw_json_end_object(j);
    }
    mw_json_end_object(j);
}

/* "estimated_performance": CBPE's expected metrics of the window. */
static void estimated_json(mw_json *j, const mw_window_meta *w) {
    const mw_cbpe_estimate *e = w->estimated;
    mw_json_key(j, "estimated_performance");
    mw_json_begin_object(j);
    mw_json_kv_string(j, "method", "cbpe");
    mw_json_kv_uint(j, "records", e->n);
    mw_json_kv_uint(j, "skipped", w->estimated_skipped);
    mw_json_kv_number(j, "accuracy", e->accuracy);
    mw_json_kv_number(j, "precision_macro", e->precision_macro);
    mw_json_kv_number(j, "recall_macro", e->recall_macro);
    mw_json_kv_number(j, "f1_macro", e->f1_macro);
    if (e->k == 2) {
        mw_json_kv_number(j, "precision", e->precision);
        mw_json_kv_number(j, "recall", e->recall);
        mw_json_kv_number(j, "f1", e->f1);
    }
    mw_json_end_object(j);
}

mw_status mw_report_window_json(FILE *out, const mw_drift_report *r, const mw_window_meta *w) {
    mw_json j;
    mw_json_init(&j, out, 0);
    mw_json_begin_object(&j);
    mw_json_kv_string(&j, "model", w->model);
    mw_json_kv_string(&j, "version", w->version);
    mw_json_kv_number(&j, "start", w->start);
    mw_json_kv_number(&j, "end", w->end);
    mw_json_kv_uint(&j, "records", w->records);
    mw_json_kv_uint(&j, "late_records", w->late);
    if (w->outlier_method) {
        mw_json_key(&j, "outliers");
        mw_json_begin_object(&j);
        mw_json_kv_string(&j, "method", w->outlier_method);
        mw_json_kv_uint(&j, "scored", w->scored);
        mw_json_kv_uint(&j, "outliers", w->outliers);
        mw_json_kv_number(&j, "share", w->scored ? (double)w->outliers / (double)w->scored : NAN);
        mw_json_kv_number(&j, "expected_share", w->expected_share);
        mw_json_kv_number(&j, "threshold", w->threshold);
        mw_json_kv_number(&j, "p_value", w->p_value);
        mw_json_end_object(&j);
    }
    if (w->serving) serving_json(&j, w);
    if (w->estimated) estimated_json(&j, w);
    drift_body(&j, r);
    mw_json_end_object(&j);
    return fflush(out) == 0 && !ferror(out) ? MW_OK : MW_EIO;
}

void mw_report_drift_json(FILE *out, const mw_drift_report *r) {
    mw_json j;
    mw_json_init(&j, out, 1);
    mw_json_begin_object(&j);
    drift_body(&j, r);
    dataset_quality(&j, r);
    mw_json_end_object(&j);
}

void mw_report_quality_json(FILE *out, const mw_drift_report *r) {
    mw_json j;
    mw_json_init(&j, out, 1);
    mw_json_begin_object(&j);
    mw_json_kv_uint(&j, "issues", mw_report_quality_issue_count(r));
    header(&j, r);
    dataset_quality(&j, r);
    mw_json_key(&j, "columns");
    mw_json_begin_array(&j);
    for (size_t i = 0; i < r->ncols; i++) {
        const mw_column_report *c = &r->cols[i];
        mw_json_begin_object(&j);
        mw_json_kv_string(&j, "name", c->name);
        mw_json_kv_string(&j, "type", mw_coltype_name(c->type));
        column_quality(&j, c);
        mw_json_end_object(&j);
    }
    mw_json_end_array(&j);
    mw_json_end_object(&j);
}

void mw_report_profile_json(FILE *out, const mw_profile *p, const char *src, uint64_t rows) {
    mw_json j;
    mw_json_init(&j, out, 1);
    mw_json_begin_object(&j);
    mw_json_kv_string(&j, "source", src);
    mw_json_kv_uint(&j, "rows", rows);
    mw_json_key(&j, "columns");
    mw_json_begin_array(&j);
    for (size_t i = 0; i < mw_profile_ncols(p); i++) {
        mw_column_summary s;
        if (mw_profile_summary(p, i, &s)) continue;
        mw_json_begin_object(&j);
        mw_json_kv_string(&j, "name", s.name);
        mw_json_kv_string(&j, "type", mw_coltype_name(s.type));
        mw_json_kv_uint(&j, "count", s.count);
        mw_json_kv_uint(&j, "missing", s.missing);
        mw_json_kv_number(&j, "missing_share", share(s.missing, s.count));
        mw_json_kv_uint(&j, "type_errors", s.type_errors);
        mw_json_kv_uint(&j, "distinct", s.distinct);
        mw_json_kv_bool(&j, "distinct_exact", s.distinct_exact);
        if (s.type == MW_TYPE_NUMERIC) {
            mw_json_kv_uint(&j, "infinite_positive", s.pos_inf);
            mw_json_kv_uint(&j, "infinite_negative", s.neg_inf);
            mw_json_kv_number(&j, "min", s.min);
            mw_json_kv_number(&j, "max", s.max);
            mw_json_kv_number(&j, "mean", s.mean);
            mw_json_kv_number(&j, "std", s.stddev);
            mw_json_key(&j, "quantiles");
            mw_json_begin_object(&j);
            for (int q = 0; q < MW_PROFILE_NQUANTILES; q++) {
                char key[16];
                snprintf(key, sizeof key, "%g", mw_profile_quantile_levels[q]);
                mw_json_kv_number(&j, key, s.quantiles[q]);
            }
            mw_json_end_object(&j);
            mw_json_kv_bool(&j, "quantiles_exact", s.quantiles_exact);
        } else {
            mw_json_key(&j, "top");
            mw_json_begin_array(&j);
            for (size_t t = 0; t < s.ntop; t++) {
                mw_json_begin_object(&j);
                mw_json_kv_string(&j, "value", s.top[t]);
                mw_json_kv_uint(&j, "count", s.top_count[t]);
                mw_json_end_object(&j);
            }
            mw_json_end_array(&j);
        }
        mw_json_end_object(&j);
    }
    mw_json_end_array(&j);
    mw_json_end_object(&j);
}
