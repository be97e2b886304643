/*
 * Serving telemetry of prediction records (library-internal): latency, errors
 * and, for LLM records, tokens, time to first token (TTFT), time per output
 * token (TPOT) and finish reasons. One accumulator per window (with a sample
 * of latencies for exact percentiles up to its capacity) and one per version
 * since start-up (for the Prometheus counters and histograms).
 *
 * Histogram bounds follow the OpenTelemetry GenAI semantic conventions where
 * they define one (gen_ai.client.token.usage, gen_ai.server.time_to_first_token,
 * gen_ai.server.time_per_output_token); the latency histogram uses
 * gen_ai.client.operation.duration's bounds with sub-10 ms bounds added in
 * front for classic models.
 */
#ifndef MW_MONITOR_SERVING_H
#define MW_MONITOR_SERVING_H

#include "core/util.h"
#include "modelwatch/record.h"
#include "stats/sketch.h"

#define MW_LATENCY_BOUNDS 18
#define MW_TOKEN_BOUNDS 14
#define MW_TTFT_BOUNDS 16
#define MW_TPOT_BOUNDS 13
#define MW_SERVING_NAMES                                                                           \
    16 /* error types / finish reasons counted by name; the rest as "other"                        \
        */

extern const double mw_latency_bounds[MW_LATENCY_BOUNDS]; /* seconds */
extern const double mw_token_bounds[MW_TOKEN_BOUNDS];
extern const double mw_ttft_bounds[MW_TTFT_BOUNDS]; /* seconds */
extern const double mw_tpot_bounds[MW_TPOT_BOUNDS]; /* seconds */

/* A bounded set of names with counts (error types, finish reasons). */
typedef struct mw_name_counts {
    char name[MW_SERVING_NAMES][48];
    uint64_t count[MW_SERVING_NAMES];
    size_t n;
    uint64_t other;
} mw_name_counts;

/* Counts on fixed bounds: counts[i] for values <= bounds[i], the last one above all. */
typedef struct mw_hist_counts {
    uint64_t counts[MW_LATENCY_BOUNDS + 1]; /* sized for the widest */
    double sum;
    uint64_t n;
} mw_hist_counts;

typedef struct mw_serving {
    uint64_t records;       /* records seen */
    mw_hist_counts latency; /* seconds */
    uint64_t errors;
    mw_name_counts error_types;
    uint64_t llm_records; /* records with an llm object */
    double input_tokens, output_tokens;
    mw_hist_counts input_hist, output_hist, ttft, tpot;
    mw_name_counts finish_reasons;
    int sampled;                 /* keeps a latency sample (windows) */
    mw_reservoir latency_sample; /* milliseconds */
} mw_serving;

/* sample_capacity 0: no latency sample (totals). */
void mw_serving_init(mw_serving *s, size_t sample_capacity);
void mw_serving_reset(mw_serving *s); /* keeps the sample buffer */
void mw_serving_free(mw_serving *s);
mw_status mw_serving_observe(mw_serving *s, const mw_record *rec, mw_rng *rng);
/* Latency percentiles (milliseconds) of the sample; NaN when empty. */
void mw_serving_percentiles(const mw_serving *s, double *p50, double *p95, double *p99);

#endif
