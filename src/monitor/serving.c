/*
 * Serving telemetry accumulators (see serving.h). Time per output token is
 * (latency - TTFT) / (output tokens - 1), the generation time of each token
 * after the first, as OpenTelemetry's gen_ai.server.time_per_output_token;
 * it needs latency_ms, ttft_ms and at least two output tokens.
 */
#include "monitor/serving.h"
#include "modelwatch/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const double mw_latency_bounds[MW_LATENCY_BOUNDS] = {0.0005, 0.001, 0.0025, 0.005, 0.01,  0.02,
                                                     0.04,   0.08,  0.16,   0.32,  0.64,  1.28,
                                                     2.56,   5.12,  10.24,  20.48, 40.96, 81.92};
const double mw_token_bounds[MW_TOKEN_BOUNDS] = {
    1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864};
const double mw_ttft_bounds[MW_TTFT_BOUNDS] = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,
                                               0.25,  0.5,   0.75, 1.0,  2.5,  5.0,  7.5,  10.0};
const double mw_tpot_bounds[MW_TPOT_BOUNDS] = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2,
                                               0.3,  0.4,   0.5,  0.75,  1.0, 2.5};

void mw_serving_init(mw_serving *s, size_t sample_capacity) {
    memset(s, 0, sizeof *s);
    s->sampled = sample_capacity > 0;
    if (s->sampled) mw_reservoir_init(&s->latency_sample, sample_capacity);
}

void mw_serving_reset(mw_serving *s) {
    mw_reservoir keep = s->latency_sample;
    int sampled = s->sampled;
    memset(s, 0, sizeof *s);
    s->sampled = sampled;
    s->latency_sample = keep;
    mw_reservoir_clear(&s->latency_sample);
}

void mw_serving_free(mw_serving *s) {
    if (s->sampled) mw_reservoir_free(&s->latency_sample);
    memset(s, 0, sizeof *s);
}

static void hist_add(mw_hist_counts *h, const double *bounds, size_t nb, double v) {
    size_t k = 0;
    while (k < nb && v > bounds[k])
        k++;
    h->counts[k]++;
    h->sum += v;
    h->n++;
}

static void name_add(mw_name_counts *c, const char *s, size_t len) {
    if (len > 47) len = 47;
    for (size_t i = 0; i < c->n; i++)
        if (strlen(c->name[i]) == len && !memcmp(c->name[i], s, len)) {
            c->count[i]++;
            return;
        }
    if (c->n == MW_SERVING_NAMES) {
        c->other++;
        return;
    }
    memcpy(c->name[c->n], s, len);
    c->name[c->n][len] = 0;
    c->count[c->n++] = 1;
}

mw_status mw_serving_observe(mw_serving *s, const mw_record *rec, mw_rng *rng) {
    s->records++;
    if (!isnan(rec->latency_ms)) {
        hist_add(&s->latency, mw_latency_bounds, MW_LATENCY_BOUNDS, rec->latency_ms / 1000.0);
        if (s->sampled && mw_reservoir_add(&s->latency_sample, rec->latency_ms, rng))
            return MW_ENOMEM;
    }
    if (rec->error) {
        s->errors++;
        name_add(&s->error_types, rec->error, rec->error_len);
    }
    int llm = !isnan(rec->input_tokens) || !isnan(rec->output_tokens) || !isnan(rec->ttft_ms) ||
              rec->finish_reason;
    if (!llm) return MW_OK;
    s->llm_records++;
    if (!isnan(rec->input_tokens)) {
        s->input_tokens += rec->input_tokens;
        hist_add(&s->input_hist, mw_token_bounds, MW_TOKEN_BOUNDS, rec->input_tokens);
    }
    if (!isnan(rec->output_tokens)) {
        s->output_tokens += rec->output_tokens;
        hist_add(&s->output_hist, mw_token_bounds, MW_TOKEN_BOUNDS, rec->output_tokens);
    }
    if (!isnan(rec->ttft_ms))
        hist_add(&s->ttft, mw_ttft_bounds, MW_TTFT_BOUNDS, rec->ttft_ms / 1000.0);
    if (!isnan(rec->latency_ms) && !isnan(rec->ttft_ms) && rec->output_tokens >= 2 &&
        rec->latency_ms >= rec->ttft_ms)
        hist_add(&s->tpot, mw_tpot_bounds, MW_TPOT_BOUNDS,
                 (rec->latency_ms - rec->ttft_ms) / 1000.0 / (rec->output_tokens - 1));
    if (rec->finish_reason)
        name_add(&s->finish_reasons, rec->finish_reason, rec->finish_reason_len);
    return MW_OK;
}

void mw_serving_percentiles(const mw_serving *s, double *p50, double *p95, double *p99) {
    *p50 = *p95 = *p99 = NAN;
    size_t n = s->sampled ? s->latency_sample.len : 0;
    if (!n) return;
    double *v = malloc(n * sizeof *v), *scratch = malloc(n * sizeof *v);
    if (v && scratch) {
        memcpy(v, s->latency_sample.values, n * sizeof *v);
        mw_sort_doubles(v, n, scratch);
        *p50 = mw_quantile_sorted(v, n, 0.5);
        *p95 = mw_quantile_sorted(v, n, 0.95);
        *p99 = mw_quantile_sorted(v, n, 0.99);
    }
    free(v);
    free(scratch);
}
