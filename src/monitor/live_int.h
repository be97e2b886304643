/*
 * Internal structures of live monitoring: a version's baseline (what the
 * reference data set leaves behind) and the window accumulator that gathers
 * current records against it in bounded memory. baseline.c builds and
 * serialises baselines; window.c observes records and turns a closed window
 * into column reports; monitor.c ties versions, locks, clock and store together.
 */
#ifndef MW_MONITOR_LIVE_INT_H
#define MW_MONITOR_LIVE_INT_H

#include "core/util.h"
#include "modelwatch/monitor.h"
#include "modelwatch/outlier.h"
#include "modelwatch/perf.h"
#include "monitor/drift_int.h"
#include "monitor/serving.h"
#include "stats/sketch.h"

#define MW_BASELINE_SAMPLE 100000 /* reference values kept per numeric column */
#define MW_WINDOW_MAX_UNSEEN 1000 /* distinct unseen categories counted per column */

typedef struct mw_base_col {
    char *name;
    size_t name_len;
    mw_coltype type;                      /* NUMERIC or CATEGORICAL */
    int discrete;                         /* numeric with <= 5 distinct reference values */
    uint64_t rows, missing, inf, nvalues; /* nvalues: non-missing finite (or categories) */
    double min, max, mean, std;
    double *sorted; /* numeric: sorted reference values (a uniform sample beyond
                       MW_BASELINE_SAMPLE) */
    size_t nsorted;
    double edges[MW_QUANTILE_BINS - 1]; /* continuous numeric: quantile bin edges */
    double bins[MW_QUANTILE_BINS];      /* and the reference's exact counts on them */
    size_t ncats;                       /* categorical or discrete: reference categories */
    char **labels;                      /* category texts (discrete: the values' shortest text) */
    double *values;                     /* discrete: category values, ascending */
    double *cat_counts;                 /* exact reference counts per category */
    mw_dict *dict;                      /* categorical: label -> index */
} mw_base_col;

typedef struct mw_baseline {
    char *source; /* where the reference came from, for reports */
    uint64_t rows;
    size_t ncols;
    mw_base_col *cols;
    mw_outlier_model *detector;    /* fitted on the same reference, or NULL */
    const double *detector_bounds; /* its score histogram bounds (mw_outlier_bounds) */
    long *col_input;               /* baseline column -> detector input, -1 when not an input */
    size_t ninputs;
    struct mw_base_perf *perf; /* predictions, scores and CBPE, or NULL (baseline_perf.c) */
    struct mw_base_emb *emb;   /* reference embeddings, or NULL (window_embedding.c) */
} mw_baseline;

/*
 * Embeddings of a baseline (window_embedding.c): the dimension records'
 * "embedding" arrays must have, and a uniform sample of the reference's
 * valid vectors (at most the version's embedding samples), with the
 * reference's counts.
 */
typedef struct mw_base_emb {
    char *column; /* the reference group: "embedding" (NDJSON arrays) or a CSV prefix */
    size_t dim, n;
    double *rows; /* n x dim */
    uint64_t valid, invalid, missing;
} mw_base_emb;

/* Takes the embedding group `column` out of the reference t (its columns are
 * then ignored) into a sample of at most `samples` vectors. *out stays NULL
 * when the reference has no such group and required is 0; with required 1 that
 * is an error naming the column, as are invalid reference vectors only. */
mw_status mw_base_emb_fit(mw_table *t, const char *column, int required, size_t samples,
                          uint64_t seed, mw_base_emb **out, mw_error *err);
void mw_base_emb_free(mw_base_emb *e);
void mw_base_emb_write(const mw_base_emb *e, mw_buf *o);
mw_status mw_base_emb_read(mw_reader *r, mw_base_emb **out);

/*
 * What a baseline knows of the model's outputs (baseline_perf.c): the
 * reference column of its predictions and those of its class scores
 * ("<score_prefix><class>"), whose drift windows test like any feature, fed
 * from each record's "prediction" and "scores"; and, when the reference has
 * the ground truth, a CBPE calibration that estimates each window's
 * performance before any label arrives.
 */
typedef struct mw_base_perf {
    char *prediction_col; /* reference column of predictions ("" = none) */
    char *score_prefix;   /* reference score columns: prefix + class */
    long prediction_idx;  /* its baseline column, -1 when absent */
    mw_dict *score_names; /* class -> index into score_idx, for score drift */
    long *score_idx;      /* baseline column of each score column */
    size_t k;             /* CBPE classes (0: no CBPE), in code order */
    char **classes;
    mw_dict *class_codes; /* class -> CBPE code */
    mw_cbpe *cbpe;
} mw_base_perf;

/* Fits the CBPE calibration when target names a reference column (the
 * reference must then have a score column for each class of the target), and
 * marks the target column ignored so it is not a feature. Call before
 * mw_baseline_from_table, then mw_base_perf_attach. *out may stay NULL (no
 * prediction/score columns configured). */
mw_status mw_base_perf_fit(mw_table *t, const char *target, const char *prediction_col,
                           const char *score_prefix, mw_base_perf **out, mw_error *err);
/* Resolves the perf part's columns in b and hands it to b. */
mw_status mw_base_perf_attach(mw_baseline *b, mw_base_perf *p);
void mw_base_perf_free(mw_base_perf *p);
void mw_base_perf_write(const mw_base_perf *p, mw_buf *o);
mw_status mw_base_perf_read(mw_reader *r, mw_base_perf **out, mw_error *err);

/* Takes over a fitted detector; every detector input must be a baseline
 * column (MW_EINVAL naming it otherwise). */
mw_status mw_baseline_attach_detector(mw_baseline *b, mw_outlier_model *det, mw_error *err);

#define MW_OUTLIER_BUCKETS 10 /* score histogram bounds per method (outlier_bounds) */
const double *mw_outlier_bounds(mw_outlier_method method);

/* Outlier scores seen: per window, and per version since start-up. */
typedef struct mw_score_counts {
    uint64_t scored, outliers;               /* scored, and above the threshold */
    uint64_t counts[MW_OUTLIER_BUCKETS + 1]; /* non-cumulative, last = above all bounds */
    double sum;
} mw_score_counts;

/* Builds a baseline from a reference table (sorts its numeric arrays in place). */
mw_status mw_baseline_from_table(mw_table *t, const mw_schema *schema, uint64_t seed,
                                 mw_baseline **out, mw_error *err);
void mw_baseline_free(mw_baseline *b);
long mw_baseline_find(const mw_baseline *b, const char *name, size_t len);
mw_status mw_baseline_serialize(const mw_baseline *b, unsigned char **buf, size_t *len);
mw_status mw_baseline_deserialize(const unsigned char *buf, size_t len, mw_baseline **out,
                                  mw_error *err);

typedef struct mw_win_col {
    uint64_t rows, missing, inf, type_errors, values;
    double mean, m2, min, max;
    uint64_t below, above;         /* outside the reference range */
    double bins[MW_QUANTILE_BINS]; /* continuous numeric */
    mw_reservoir sample;           /* numeric */
    double *cat_counts;            /* reference categories */
    size_t ncat_alloc;             /* entries in cat_counts */
    /* categories the reference lacks (categorical: texts; discrete: values) */
    mw_dict *unseen;
    double *unseen_values;
    double *unseen_counts;
    size_t nunseen;
    double unseen_overflow; /* beyond MW_WINDOW_MAX_UNSEEN distinct */
    char type_error_example[MW_QUALITY_EXAMPLES][64];
    size_t n_type_error_examples;
    /* categorical: the reference categories seen last (texts in recent_dict,
     * the baseline's dictionary: valid while it is the column's), so that a
     * repeated value costs a few compares instead of a dictionary lookup */
    const mw_dict *recent_dict;
    struct {
        const char *s;
        size_t len;
        uint32_t code;
    } recent[8];
    unsigned recent_next;
} mw_win_col;

#define MW_WINDOW_STORES 16 /* sample replacements a window holds back (a power of two) */

typedef struct mw_window {
    double start, end; /* seconds; end = start + window length */
    uint64_t records, late;
    mw_score_counts scores; /* outlier scores of the window's records */
    mw_serving serving;     /* latency, errors, LLM tokens of the window */
    /* CBPE (baseline perf with k classes): the expected confusion matrix (k x
     * k), records predicted per class, records estimated and skipped */
    double *cbpe_conf;
    uint64_t *cbpe_npred;
    uint64_t cbpe_n, cbpe_skipped;
    size_t cbpe_k;
    mw_win_col *cols; /* one per baseline column */
    size_t ncols;
    mw_rng rng;
    /* embeddings (window_embedding.c): a uniform reservoir of the valid
     * vectors (emb_cap rows of the baseline's dimension), and counts */
    double *emb_rows;
    size_t emb_cap, emb_n, emb_alloc_rows, emb_dim;
    uint64_t emb_seen, emb_missing, emb_bad_dim, emb_bad_value;
    int emb_last; /* the last record's embedding: MW_EMB_* */
    /* replacements in the columns' full samples not yet written, oldest at
     * (stores_head - nstores) mod MW_WINDOW_STORES: each slot was prefetched
     * when drawn and is written MW_WINDOW_STORES replacements later (a store
     * at a random place of a 800 KB sample missed the cache: ~10 % of the
     * ingestion benchmark's throughput). mw_window_settle writes them. */
    struct {
        double *at;
        double v;
    } stores[MW_WINDOW_STORES];
    unsigned nstores, stores_head;
} mw_window;

/* Writes the window's pending sample replacements (before its samples are read). */
void mw_window_settle(mw_window *w);

enum { MW_EMB_NONE = 0, MW_EMB_OK, MW_EMB_BAD_DIM, MW_EMB_BAD_VALUE };

/* A record's embedding into the window's reservoir (Algorithm R with the
 * window's generator): w->emb_last says what became of it. A wrong
 * dimension or a non-finite value rejects the embedding only. */
mw_status mw_window_emb_observe(mw_window *w, const mw_baseline *b, const mw_record *rec);
/* The window's embedding test into r->embeddings (one entry, "embedding")
 * when the baseline has embeddings; options from opt->embedding, the
 * permutation seed mixed with the window start. */
mw_status mw_window_emb_report(const mw_window *w, const mw_baseline *b,
                               const mw_drift_options *opt, mw_drift_report *r);

mw_status mw_window_init(mw_window *w, const mw_baseline *b, size_t sample_capacity, uint64_t seed);
void mw_window_free(mw_window *w);
/* Empties a window for reuse with the same baseline, keeping its buffers, so
 * that a long-running daemon allocates its per-window memory once. */
void mw_window_reset(mw_window *w, uint64_t seed);
/* Adds one record's features (matched to baseline columns by name); its
 * outlier score, when there is a detector, also goes into totals (may be NULL). */
mw_status mw_window_observe(mw_window *w, const mw_baseline *b, const mw_record *rec,
                            mw_score_counts *totals);
/*
 * Runs the drift tests of a closed window: fills report (whose cols array the
 * function allocates; free with mw_window_report_free) with one column report
 * per baseline column, plus the data set decision.
 */
mw_status mw_window_report(const mw_window *w, const mw_baseline *b, const mw_drift_options *opt,
                           mw_drift_report *report);
void mw_window_report_free(mw_drift_report *report);

/* CBPE in a window (window_cbpe.c): adds a record's calibrated class
 * probabilities to the expected confusion matrix (skipped, and counted, when
 * its prediction is not a known class or a class score is missing), and the
 * estimates of a window. */
void mw_window_cbpe_observe(mw_window *w, const mw_base_perf *p, const mw_record *rec);
/* 0 when the window has no estimate (no CBPE, or no record estimated). */
int mw_window_cbpe_estimate(const mw_window *w, mw_cbpe_estimate *out);

#endif
