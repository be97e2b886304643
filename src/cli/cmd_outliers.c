/*
 * `modelwatch outliers`: fits an outlier detector (Isolation Forest or LOF,
 * include/modelwatch/outlier.h) on a reference file and scores every row of a
 * current file. The report gives the share of outliers in current against the
 * share expected from the reference (one-sided exact binomial test, P(X >= x)
 * for X ~ Binomial(n, expected share)), the most anomalous rows with their
 * values, scores and explanations, and a histogram of the current scores
 * (text, JSON, or a self-contained HTML page with an inline SVG). Rows are
 * scored on all cores (the library's scoring is thread-safe); --scores writes
 * one score per line in the current file's row order. Exit status 3 when
 * --fail-above is given and the outlier share exceeds it.
 */
#include "cli/cli.h"
#include "modelwatch/outlier.h"
#include "report/json_writer.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CMD "outliers"
#define HIST_BINS 20
#define MAX_REASONS 3

static const char help[] =
    "usage: modelwatch outliers --reference REF --current CUR [options]\n"
    "\n"
    "Fits an outlier detector on REF and scores every row of CUR (higher score =\n"
    "more anomalous). Reports the share of outliers in CUR against the share\n"
    "expected from REF with a one-sided binomial test, the most anomalous rows\n"
    "and why, and a histogram of the scores. Files are CSV or NDJSON/JSONL.\n"
    "\n"
    "options:\n"
    "  -r, --reference FILE     reference data the detector is fitted on\n"
    "  -c, --current FILE       data to score\n"
    "  -m, --method iforest|lof Isolation Forest (default) or Local Outlier Factor\n"
    "      --trees N            forest: number of trees (default 100)\n"
    "      --max-samples N      forest: rows per tree (default min(256, rows))\n"
    "      --neighbors K        LOF: neighbours (default 20)\n"
    "      --contamination C    share of reference rows taken as outliers, which\n"
    "                           sets the threshold (default 0.01)\n"
    "      --threshold T        explicit score threshold instead\n"
    "      --seed S             forest: random seed (default 0)\n"
    "      --columns LIST       input columns (default: every numeric column)\n"
    "      --encode onehot|ordinal\n"
    "                           also use categorical columns, encoded so\n"
    "      --standardize        scale features by the reference mean and sd\n"
    "      --scores FILE        write one score per line, in CUR's row order\n"
    "      --top N              anomalous rows to list (default 10)\n"
    "  -f, --format text|json|html   report format (default text)\n"
    "  -o, --output FILE        write the report to FILE (default stdout)\n"
    "      --fail-above SHARE   exit with status 3 when the outlier share of CUR\n"
    "                           is above SHARE\n"
    "      --threads N          threads for fitting and scoring (default: all cores)\n"
    "  -h, --help               show this help\n"
    "\n"
    "exit status: 0 ok, 1 error, 2 usage, 3 outlier share above --fail-above\n";

enum {
    OPT_TREES = 1000,
    OPT_MAX_SAMPLES,
    OPT_NEIGHBORS,
    OPT_CONTAMINATION,
    OPT_THRESHOLD,
    OPT_SEED,
    OPT_COLUMNS,
    OPT_ENCODE,
    OPT_STANDARDIZE,
    OPT_SCORES,
    OPT_TOP,
    OPT_FAIL_ABOVE,
    OPT_THREADS
};

typedef struct args {
    const char *reference, *current, *output, *scores;
    mw_report_format format;
    mw_outlier_options opt;
    char **columns;
    double fail_above; /* NaN = off */
    size_t top;
    unsigned threads;
} args;

static int parse_args(int argc, char **argv, args *a) {
    static const struct option longopts[] = {
        {"reference", required_argument, NULL, 'r'},
        {"current", required_argument, NULL, 'c'},
        {"method", required_argument, NULL, 'm'},
        {"trees", required_argument, NULL, OPT_TREES},
        {"max-samples", required_argument, NULL, OPT_MAX_SAMPLES},
        {"neighbors", required_argument, NULL, OPT_NEIGHBORS},
        {"contamination", required_argument, NULL, OPT_CONTAMINATION},
        {"threshold", required_argument, NULL, OPT_THRESHOLD},
        {"seed", required_argument, NULL, OPT_SEED},
        {"columns", required_argument, NULL, OPT_COLUMNS},
        {"encode", required_argument, NULL, OPT_ENCODE},
        {"standardize", no_argument, NULL, OPT_STANDARDIZE},
        {"scores", required_argument, NULL, OPT_SCORES},
        {"top", required_argument, NULL, OPT_TOP},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"fail-above", required_argument, NULL, OPT_FAIL_ABOVE},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    a->fail_above = NAN;
    a->top = 10;
    optind = 1;
    opterr = 0;
    int c, rc;
    double v;
    while ((c = getopt_long(argc, argv, ":r:c:m:f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            a->reference = optarg;
            break;
        case 'c':
            a->current = optarg;
            break;
        case 'm':
            if (!strcmp(optarg, "iforest"))
                a->opt.method = MW_OUTLIER_IFOREST;
            else if (!strcmp(optarg, "lof"))
                a->opt.method = MW_OUTLIER_LOF;
            else
                return mw_cli_usage_error(CMD, "--method expects iforest or lof, got \"%s\"",
                                          optarg);
            break;
        case OPT_TREES:
            if ((rc = mw_cli_parse_count(CMD, "--trees", optarg, 1, 100000, &v))) return rc;
            a->opt.n_trees = (uint32_t)v;
            break;
        case OPT_MAX_SAMPLES:
            if ((rc = mw_cli_parse_count(CMD, "--max-samples", optarg, 2, 4294967295.0, &v)))
                return rc;
            a->opt.max_samples = (uint32_t)v;
            break;
        case OPT_NEIGHBORS:
            if ((rc = mw_cli_parse_count(CMD, "--neighbors", optarg, 1, 100000, &v))) return rc;
            a->opt.n_neighbors = (uint32_t)v;
            break;
        case OPT_CONTAMINATION:
            if (!mw_cli_parse_number(optarg, &v) || v <= 0 || v > 0.5)
                return mw_cli_usage_error(
                    CMD, "--contamination expects a share in (0, 0.5], got \"%s\"", optarg);
            a->opt.contamination = v;
            break;
        case OPT_THRESHOLD:
            if (!mw_cli_parse_number(optarg, &v))
                return mw_cli_usage_error(CMD, "--threshold expects a number, got \"%s\"", optarg);
            a->opt.has_threshold = 1;
            a->opt.threshold = v;
            break;
        case OPT_SEED:
            if ((rc = mw_cli_parse_count(CMD, "--seed", optarg, 0, 9007199254740992.0, &v)))
                return rc;
            a->opt.seed = (uint64_t)v;
            break;
        case OPT_COLUMNS:
            free(a->columns);
            a->opt.ncolumns = mw_cli_split_list(optarg, &a->columns);
            a->opt.columns = (const char *const *)a->columns;
            if (!a->opt.ncolumns)
                return mw_cli_usage_error(CMD, "--columns needs at least one name");
            break;
        case OPT_ENCODE:
            if (!strcmp(optarg, "onehot"))
                a->opt.encode = MW_OUTLIER_ENCODE_ONEHOT;
            else if (!strcmp(optarg, "ordinal"))
                a->opt.encode = MW_OUTLIER_ENCODE_ORDINAL;
            else
                return mw_cli_usage_error(CMD, "--encode expects onehot or ordinal, got \"%s\"",
                                          optarg);
            break;
        case OPT_STANDARDIZE:
            a->opt.standardize = 1;
            break;
        case OPT_SCORES:
            a->scores = optarg;
            break;
        case OPT_TOP:
            if ((rc = mw_cli_parse_count(CMD, "--top", optarg, 0, 100000, &v))) return rc;
            a->top = (size_t)v;
            break;
        case 'f':
            if (!mw_report_format_from_name(optarg, &a->format))
                return mw_cli_usage_error(CMD, "--format expects text, json or html, got \"%s\"",
                                          optarg);
            break;
        case 'o':
            a->output = optarg;
            break;
        case OPT_FAIL_ABOVE:
            if (!mw_cli_parse_number(optarg, &v) || v < 0 || v > 1)
                return mw_cli_usage_error(CMD, "--fail-above expects a share in [0, 1], got \"%s\"",
                                          optarg);
            a->fail_above = v;
            break;
        case OPT_THREADS:
            if ((rc = mw_cli_parse_count(CMD, "--threads", optarg, 1, 64, &v))) return rc;
            a->threads = (unsigned)v;
            break;
        case 'h':
            fputs(help, stdout);
            return -1;
        case ':':
            return mw_cli_usage_error(CMD, "option %s needs a value", argv[optind - 1]);
        default:
            return mw_cli_usage_error(CMD, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return mw_cli_usage_error(CMD, "unexpected argument \"%s\"", argv[optind]);
    if (!a->reference || !a->current)
        return mw_cli_usage_error(CMD, "both --reference and --current are required");
    if (a->opt.has_threshold && a->opt.contamination > 0)
        return mw_cli_usage_error(CMD, "give either --contamination or --threshold, not both");
    return 0;
}

/* ---- scoring on all cores ------------------------------------------------ */

/* Rows in blocks through the runner; each block keeps its own error. */
#define SCORE_BLOCK 16384
typedef struct score_job {
    const mw_outlier_model *m;
    const mw_table *t;
    double *scores;
    uint64_t *imputed; /* per block */
    mw_status *st;
    mw_error *err;
} score_job;

static void score_block(void *arg, size_t b) {
    score_job *j = arg;
    size_t begin = b * SCORE_BLOCK, end = begin + SCORE_BLOCK;
    if (end > j->t->nrows) end = j->t->nrows;
    mw_error_clear(&j->err[b]);
    j->imputed[b] = 0;
    j->st[b] = mw_outlier_score_table(j->m, j->t, begin, end, j->scores + begin, &j->imputed[b],
                                      &j->err[b]);
}

static int score_all(const mw_outlier_model *m, const mw_table *t, const mw_runner *runner,
                     double *scores, uint64_t *imputed) {
    size_t nb = (t->nrows + SCORE_BLOCK - 1) / SCORE_BLOCK;
    score_job j = {m,
                   t,
                   scores,
                   calloc(nb + 1, sizeof *j.imputed),
                   calloc(nb + 1, sizeof *j.st),
                   calloc(nb + 1, sizeof *j.err)};
    int rc = MW_EXIT_OK;
    if (!j.imputed || !j.st || !j.err) {
        rc = mw_cli_error(CMD, "out of memory");
    } else {
        mw_runner_run(runner, score_block, &j, nb);
        for (size_t b = 0; b < nb; b++) {
            *imputed += j.imputed[b];
            if (j.st[b] != MW_OK && rc == MW_EXIT_OK)
                rc = mw_cli_error(CMD, "%s", j.err[b].message);
        }
    }
    free(j.imputed);
    free(j.st);
    free(j.err);
    return rc;
}

/* ---- the report ------------------------------------------------------------ */

typedef struct top_row {
    size_t row;
    double score;
    size_t nreasons;
    mw_outlier_reason reasons[MAX_REASONS];
} top_row;

typedef struct report {
    const args *a;
    const mw_outlier_model *m;
    mw_outlier_info info;
    const mw_table *ref, *cur;
    const double *scores;
    uint64_t ref_imputed, cur_imputed;
    size_t n_out;
    double share, p_value;
    int failed;
    top_row *top;
    size_t ntop;
    double lo, hi;
    uint64_t hist[HIST_BINS];
} report;

static const double *g_scores; /* qsort comparator context (CLI only, single-threaded) */
static int cmp_desc(const void *a, const void *b) {
    double x = g_scores[*(const size_t *)a], y = g_scores[*(const size_t *)b];
    if (x != y) return x > y ? -1 : 1;
    return (*(const size_t *)a > *(const size_t *)b) - (*(const size_t *)a < *(const size_t *)b);
}

static int build_report(report *r) {
    const mw_table *cur = r->cur;
    size_t n = cur->nrows;
    for (size_t i = 0; i < n; i++)
        r->n_out += mw_outlier_is_outlier(r->m, r->scores[i]);
    r->share = n ? (double)r->n_out / (double)n : 0;
    r->p_value = mw_binom_test_greater(r->n_out, n, r->info.expected_share);
    r->failed = !isnan(r->a->fail_above) && r->share > r->a->fail_above;
    /* histogram over the current scores and the reference range */
    r->lo = r->info.ref_quantiles[0];
    r->hi = r->info.ref_quantiles[100];
    for (size_t i = 0; i < n; i++) {
        if (r->scores[i] < r->lo) r->lo = r->scores[i];
        if (r->scores[i] > r->hi) r->hi = r->scores[i];
    }
    if (!(r->hi > r->lo)) r->hi = r->lo + 1;
    for (size_t i = 0; i < n; i++) {
        size_t b = (size_t)((r->scores[i] - r->lo) / (r->hi - r->lo) * HIST_BINS);
        r->hist[b >= HIST_BINS ? HIST_BINS - 1 : b]++;
    }
    /* most anomalous rows */
    size_t ntop = r->a->top < n ? r->a->top : n;
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    r->top = calloc(ntop ? ntop : 1, sizeof *r->top);
    double *f = malloc((r->info.n_features ? r->info.n_features : 1) * sizeof *f);
    if (!order || !r->top || !f) {
        free(order);
        free(f);
        return mw_cli_error(CMD, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    g_scores = r->scores;
    qsort(order, n, sizeof *order, cmp_desc);
    for (size_t i = 0; i < ntop; i++) {
        top_row *t = &r->top[i];
        t->row = order[i];
        t->score = r->scores[order[i]];
        mw_error err;
        if (mw_outlier_encode_table(r->m, cur, t->row, t->row + 1, f, NULL, NULL, &err) == MW_OK)
            t->nreasons = mw_outlier_explain(r->m, f, t->reasons, MAX_REASONS);
    }
    r->ntop = ntop;
    free(order);
    free(f);
    return MW_EXIT_OK;
}

/* Text of input i's value in row (missing: ""). */
static void value_text(const report *r, size_t i, size_t row, char *buf, size_t cap) {
    const mw_column *col = &r->cur->cols[mw_table_find(r->cur, mw_outlier_input_name(r->m, i))];
    buf[0] = 0;
    if (col->type == MW_TYPE_NUMERIC) {
        if (!isnan(col->num[row])) {
            char tmp[32];
            mw_format_double(col->num[row], tmp);
            snprintf(buf, cap, "%s", tmp);
        }
    } else if (col->type == MW_TYPE_CATEGORICAL && col->codes[row] != MW_CODE_MISSING) {
        snprintf(buf, cap, "%s", mw_dict_str(col->dict, col->codes[row], NULL));
    }
}

static const char *method_name(mw_outlier_method m) {
    return m == MW_OUTLIER_LOF ? "lof" : "iforest";
}
static const char *encode_name(mw_outlier_encode e) {
    return e == MW_OUTLIER_ENCODE_ONEHOT    ? "onehot"
           : e == MW_OUTLIER_ENCODE_ORDINAL ? "ordinal"
                                            : "none";
}

static void write_json(FILE *f, const report *r) {
    mw_json j;
    mw_json_init(&j, f, 1);
    const mw_outlier_info *in = &r->info;
    mw_json_begin_object(&j);
    mw_json_key(&j, "method");
    mw_json_string(&j, method_name(in->method));
    mw_json_key(&j, "parameters");
    mw_json_begin_object(&j);
    if (in->method == MW_OUTLIER_IFOREST) {
        mw_json_key(&j, "n_trees");
        mw_json_uint(&j, in->n_trees);
        mw_json_key(&j, "max_samples");
        mw_json_uint(&j, in->max_samples);
        mw_json_key(&j, "max_depth");
        mw_json_uint(&j, in->max_depth);
        mw_json_key(&j, "seed");
        mw_json_uint(&j, in->seed);
    } else {
        mw_json_key(&j, "n_neighbors");
        mw_json_uint(&j, in->n_neighbors);
    }
    mw_json_key(&j, "contamination");
    mw_json_number(&j, in->contamination);
    mw_json_key(&j, "standardize");
    mw_json_bool(&j, in->standardize);
    mw_json_key(&j, "encode");
    mw_json_string(&j, encode_name(in->encode));
    mw_json_end_object(&j);
    mw_json_key(&j, "reference");
    mw_json_begin_object(&j);
    mw_json_key(&j, "source");
    mw_json_string(&j, r->ref->source);
    mw_json_key(&j, "rows");
    mw_json_uint(&j, in->n_reference);
    mw_json_key(&j, "imputed_values");
    mw_json_uint(&j, in->n_imputed);
    mw_json_key(&j, "score_quantiles");
    mw_json_begin_object(&j);
    static const int qs[] = {0, 50, 90, 99, 100};
    for (size_t i = 0; i < sizeof qs / sizeof *qs; i++) {
        char k[8];
        snprintf(k, sizeof k, "p%d", qs[i]);
        mw_json_key(&j, k);
        mw_json_number(&j, in->ref_quantiles[qs[i]]);
    }
    mw_json_end_object(&j);
    mw_json_end_object(&j);
    mw_json_key(&j, "current");
    mw_json_begin_object(&j);
    mw_json_key(&j, "source");
    mw_json_string(&j, r->cur->source);
    mw_json_key(&j, "rows");
    mw_json_uint(&j, r->cur->nrows);
    mw_json_key(&j, "imputed_values");
    mw_json_uint(&j, r->cur_imputed);
    mw_json_end_object(&j);
    mw_json_key(&j, "features");
    mw_json_begin_array(&j);
    for (size_t i = 0; i < in->n_features; i++)
        mw_json_string(&j, mw_outlier_feature_name(r->m, i));
    mw_json_end_array(&j);
    mw_json_key(&j, "notes");
    mw_json_begin_array(&j);
    for (size_t i = 0; i < mw_outlier_nnotes(r->m); i++)
        mw_json_string(&j, mw_outlier_note(r->m, i));
    mw_json_end_array(&j);
    mw_json_key(&j, "threshold");
    mw_json_number(&j, in->threshold);
    mw_json_key(&j, "expected_share");
    mw_json_number(&j, in->expected_share);
    mw_json_key(&j, "outliers");
    mw_json_uint(&j, r->n_out);
    mw_json_key(&j, "outlier_share");
    mw_json_number(&j, r->share);
    mw_json_key(&j, "binomial_p_value");
    mw_json_number(&j, r->p_value);
    mw_json_key(&j, "fail_above");
    mw_json_number(&j, r->a->fail_above);
    mw_json_key(&j, "failed");
    mw_json_bool(&j, r->failed);
    mw_json_key(&j, "top");
    mw_json_begin_array(&j);
    for (size_t t = 0; t < r->ntop; t++) {
        const top_row *tr = &r->top[t];
        mw_json_begin_object(&j);
        mw_json_key(&j, "row");
        mw_json_uint(&j, tr->row + 1);
        mw_json_key(&j, "score");
        mw_json_number(&j, tr->score);
        mw_json_key(&j, "outlier");
        mw_json_bool(&j, mw_outlier_is_outlier(r->m, tr->score));
        mw_json_key(&j, "values");
        mw_json_begin_object(&j);
        for (size_t i = 0; i < in->n_inputs; i++) {
            char v[128];
            value_text(r, i, tr->row, v, sizeof v);
            mw_json_key(&j, mw_outlier_input_name(r->m, i));
            const mw_column *col =
                &r->cur->cols[mw_table_find(r->cur, mw_outlier_input_name(r->m, i))];
            if (!v[0])
                mw_json_null(&j);
            else if (col->type == MW_TYPE_NUMERIC)
                mw_json_number(&j, col->num[tr->row]);
            else
                mw_json_string(&j, v);
        }
        mw_json_end_object(&j);
        mw_json_key(&j, "explanation");
        mw_json_begin_array(&j);
        for (size_t k = 0; k < tr->nreasons; k++) {
            mw_json_begin_object(&j);
            mw_json_key(&j, "feature");
            mw_json_string(&j, mw_outlier_feature_name(r->m, tr->reasons[k].feature));
            mw_json_key(&j, "weight");
            mw_json_number(&j, tr->reasons[k].weight);
            mw_json_end_object(&j);
        }
        mw_json_end_array(&j);
        mw_json_end_object(&j);
    }
    mw_json_end_array(&j);
    mw_json_key(&j, "histogram");
    mw_json_begin_object(&j);
    mw_json_key(&j, "edges");
    mw_json_begin_array(&j);
    for (int b = 0; b <= HIST_BINS; b++)
        mw_json_number(&j, r->lo + (r->hi - r->lo) * b / HIST_BINS);
    mw_json_end_array(&j);
    mw_json_key(&j, "counts");
    mw_json_begin_array(&j);
    for (int b = 0; b < HIST_BINS; b++)
        mw_json_uint(&j, r->hist[b]);
    mw_json_end_array(&j);
    mw_json_end_object(&j);
    mw_json_end_object(&j);
    fputc('\n', f);
}

static void reasons_text(const report *r, const top_row *t, char *buf, size_t cap) {
    buf[0] = 0;
    for (size_t k = 0; k < t->nreasons; k++)
        snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s %.2f", k ? ", " : "",
                 mw_outlier_feature_name(r->m, t->reasons[k].feature), t->reasons[k].weight);
}

static void row_values_text(const report *r, size_t row, char *buf, size_t cap) {
    buf[0] = 0;
    for (size_t i = 0; i < r->info.n_inputs && strlen(buf) + 1 < cap; i++) {
        char v[64];
        value_text(r, i, row, v, sizeof v);
        snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s=%s", i ? " " : "",
                 mw_outlier_input_name(r->m, i), v[0] ? v : "(missing)");
    }
}

static void write_text(FILE *f, const report *r) {
    const mw_outlier_info *in = &r->info;
    fprintf(f, "Outliers\nReference: %s (%zu rows)\nCurrent:   %s (%zu rows)\n", r->ref->source,
            r->ref->nrows, r->cur->source, r->cur->nrows);
    if (in->method == MW_OUTLIER_IFOREST)
        fprintf(f, "Method: isolation forest, %u trees, %u samples per tree, seed %llu\n",
                in->n_trees, in->max_samples, (unsigned long long)in->seed);
    else
        fprintf(f, "Method: local outlier factor, k = %u\n", in->n_neighbors);
    fprintf(f, "Features (%zu): ", in->n_features);
    size_t w = 14;
    for (size_t i = 0; i < in->n_features; i++) {
        const char *nm = mw_outlier_feature_name(r->m, i);
        if (w + strlen(nm) + 2 > 78) {
            fputs("\n  ", f);
            w = 2;
        }
        fprintf(f, "%s%s", nm, i + 1 < in->n_features ? ", " : "\n");
        w += strlen(nm) + 2;
    }
    for (size_t i = 0; i < mw_outlier_nnotes(r->m); i++)
        fprintf(f, "Note: %s\n", mw_outlier_note(r->m, i));
    fprintf(f, "Imputed values: %llu in reference, %llu in current (reference medians)\n",
            (unsigned long long)in->n_imputed, (unsigned long long)r->cur_imputed);
    if (isnan(in->contamination))
        fprintf(f, "Threshold: %.6g (explicit)\n", in->threshold);
    else
        fprintf(f, "Threshold: %.6g (contamination %g of the reference)\n", in->threshold,
                in->contamination);
    fprintf(f, "\nOutliers in current: %zu of %zu rows (%.2f%%), expected %.2f%%\n", r->n_out,
            r->cur->nrows, 100 * r->share, 100 * in->expected_share);
    fprintf(f, "Binomial test (more outliers than expected): p = %.4g\n", r->p_value);
    if (!isnan(r->a->fail_above))
        fprintf(f, "Gate: share %s %.4g -> %s\n", r->failed ? ">" : "<=", r->a->fail_above,
                r->failed ? "FAILED" : "passed");
    if (r->ntop) {
        fprintf(f, "\nMost anomalous rows:\n  %8s  %9s  %s\n", "row", "score",
                "why (feature weight)");
        for (size_t t = 0; t < r->ntop; t++) {
            char why[200], vals[400];
            reasons_text(r, &r->top[t], why, sizeof why);
            row_values_text(r, r->top[t].row, vals, sizeof vals);
            fprintf(f, "  %8zu  %9.5f%s %.55s\n", r->top[t].row + 1, r->top[t].score,
                    mw_outlier_is_outlier(r->m, r->top[t].score) ? "*" : " ", why);
            fprintf(f, "            %.66s%s\n", vals, strlen(vals) > 66 ? "..." : "");
        }
    }
    uint64_t mx = 1;
    for (int b = 0; b < HIST_BINS; b++)
        mx = r->hist[b] > mx ? r->hist[b] : mx;
    fprintf(f, "\nScore histogram (current; | marks the bin of the threshold):\n");
    for (int b = 0; b < HIST_BINS; b++) {
        double lo = r->lo + (r->hi - r->lo) * b / HIST_BINS,
               hi = r->lo + (r->hi - r->lo) * (b + 1) / HIST_BINS;
        int bar = (int)((double)r->hist[b] / (double)mx * 40 + 0.5);
        fprintf(f, "  %8.4f-%-8.4f %c %8llu %.*s\n", lo, hi,
                in->threshold >= lo && in->threshold < hi ? '|' : ' ',
                (unsigned long long)r->hist[b], bar, "########################################");
    }
}

static void html_escape(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '&':
            fputs("&amp;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            fputc(*s, f);
        }
    }
}

static void write_html(FILE *f, const report *r) {
    const mw_outlier_info *in = &r->info;
    fputs(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>modelwatch outliers</title>\n"
        "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}.bad{color:#b00}"
        "</style></head><body>\n<h1>Outliers</h1>\n<p>",
        f);
    html_escape(f, r->cur->source);
    fputs(" against ", f);
    html_escape(f, r->ref->source);
    fprintf(f, " &mdash; %s</p>\n<ul>\n",
            in->method == MW_OUTLIER_LOF ? "local outlier factor" : "isolation forest");
    fprintf(f, "<li%s>Outliers in current: <b>%zu</b> of %zu rows (%.2f%%), expected %.2f%%</li>\n",
            r->failed ? " class=\"bad\"" : "", r->n_out, r->cur->nrows, 100 * r->share,
            100 * in->expected_share);
    fprintf(f, "<li>Binomial test (more than expected): p = %.4g</li>\n", r->p_value);
    fprintf(f, "<li>Threshold: %.6g</li>\n", in->threshold);
    for (size_t i = 0; i < mw_outlier_nnotes(r->m); i++) {
        fputs("<li>Note: ", f);
        html_escape(f, mw_outlier_note(r->m, i));
        fputs("</li>\n", f);
    }
    fputs("</ul>\n<h2>Score histogram</h2>\n", f);
    const int W = 600, H = 200;
    uint64_t mx = 1;
    for (int b = 0; b < HIST_BINS; b++)
        mx = r->hist[b] > mx ? r->hist[b] : mx;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">\n", W,
            H + 20);
    for (int b = 0; b < HIST_BINS; b++) {
        double h = (double)r->hist[b] / (double)mx * H;
        double lo = r->lo + (r->hi - r->lo) * b / HIST_BINS;
        fprintf(f,
                "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"%s\">"
                "<title>%.4g: %llu</title></rect>\n",
                b * W / HIST_BINS, H - h, W / HIST_BINS - 2, h,
                lo >= in->threshold ? "#c44" : "#48c", lo, (unsigned long long)r->hist[b]);
    }
    double tx = (in->threshold - r->lo) / (r->hi - r->lo) * W;
    if (tx >= 0 && tx <= W)
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"0\" x2=\"%.1f\" y2=\"%d\" stroke=\"#000\" "
                "stroke-dasharray=\"4\"/>\n",
                tx, tx, H);
    fprintf(f,
            "<text x=\"0\" y=\"%d\" font-size=\"12\">%.4g</text><text x=\"%d\" y=\"%d\" "
            "font-size=\"12\" text-anchor=\"end\">%.4g</text>\n</svg>\n",
            H + 15, r->lo, W, H + 15, r->hi);
    fputs("<h2>Most anomalous "
          "rows</h2>\n<table><tr><th>row</th><th>score</th><th>why</th><th>values</th></tr>\n",
          f);
    for (size_t t = 0; t < r->ntop; t++) {
        char why[200], vals[2000];
        reasons_text(r, &r->top[t], why, sizeof why);
        row_values_text(r, r->top[t].row, vals, sizeof vals);
        fprintf(f, "<tr><td>%zu</td><td%s>%.5f</td><td>", r->top[t].row + 1,
                mw_outlier_is_outlier(r->m, r->top[t].score) ? " class=\"bad\"" : "",
                r->top[t].score);
        html_escape(f, why);
        fputs("</td><td>", f);
        html_escape(f, vals);
        fputs("</td></tr>\n", f);
    }
    fputs("</table>\n</body></html>\n", f);
}

static int write_scores(const char *path, const double *s, size_t n) {
    mw_cli_output o;
    int rc = mw_cli_output_open(CMD, path, &o);
    if (rc) return rc;
    int ok = 1;
    for (size_t i = 0; i < n && ok; i++)
        ok = fprintf(o.f, "%.17g\n", s[i]) > 0;
    return mw_cli_output_close(CMD, &o, ok);
}

/* Brings the current table's input columns to the reference types. */
static int reconcile(const mw_outlier_model *m, mw_table *cur) {
    mw_outlier_info info;
    mw_outlier_get_info(m, &info);
    for (size_t i = 0; i < info.n_inputs; i++) {
        long ci = mw_table_find(cur, mw_outlier_input_name(m, i));
        mw_coltype want = mw_outlier_input_type(m, i);
        if (ci < 0 || cur->cols[ci].type == want || cur->cols[ci].type == MW_TYPE_IGNORE) continue;
        mw_error err;
        mw_error_clear(&err);
        if (mw_column_convert(&cur->cols[ci], want, &err) != MW_OK)
            return mw_cli_error(CMD, "%s", err.message);
    }
    return MW_EXIT_OK;
}

int mw_cmd_outliers(int argc, char **argv) {
    args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) {
        free(a.columns);
        return rc < 0 ? MW_EXIT_OK : rc;
    }
    mw_table *tables[2] = {NULL, NULL};
    mw_outlier_model *m = NULL;
    double *scores = NULL;
    report r;
    memset(&r, 0, sizeof r);
    mw_error err;
    mw_error_clear(&err);
    mw_read_options ropt = {0};
    mw_runner runner = mw_runner_threads(a.threads); /* fit and scoring on all cores */
    a.opt.runner = &runner;
    const char *paths[2] = {a.reference, a.current};
    if ((rc = mw_cli_read_tables(CMD, paths, 2, &ropt, tables))) goto out;
    mw_cli_progress("fitting the %s on %zu rows ...",
                    a.opt.method == MW_OUTLIER_LOF ? "LOF" : "forest", tables[0]->nrows);
    if (mw_outlier_fit(tables[0], &a.opt, &m, &err) != MW_OK) {
        rc = mw_cli_error(CMD, "%s", err.message);
        goto out;
    }
    if ((rc = reconcile(m, tables[1]))) goto out;
    if (mw_outlier_check_table(m, tables[1], &err) != MW_OK) {
        rc = mw_cli_error(CMD, "%s", err.message);
        goto out;
    }
    scores = malloc((tables[1]->nrows ? tables[1]->nrows : 1) * sizeof *scores);
    if (!scores) {
        rc = mw_cli_error(CMD, "out of memory");
        goto out;
    }
    mw_cli_progress("scoring %zu rows ...", tables[1]->nrows);
    if ((rc = score_all(m, tables[1], &runner, scores, &r.cur_imputed))) goto out;
    mw_cli_progress_done();
    if (a.scores && (rc = write_scores(a.scores, scores, tables[1]->nrows))) goto out;
    r.a = &a;
    r.m = m;
    mw_outlier_get_info(m, &r.info);
    r.ref = tables[0];
    r.cur = tables[1];
    r.scores = scores;
    if ((rc = build_report(&r))) goto out;
    mw_cli_output o;
    if ((rc = mw_cli_output_open(CMD, a.output, &o))) goto out;
    if (a.format == MW_FORMAT_JSON)
        write_json(o.f, &r);
    else if (a.format == MW_FORMAT_HTML)
        write_html(o.f, &r);
    else
        write_text(o.f, &r);
    if ((rc = mw_cli_output_close(CMD, &o, !ferror(o.f)))) goto out;
    if (r.failed) rc = MW_EXIT_CHECK_FAILED;
out:
    free(r.top);
    free(scores);
    mw_outlier_free(m);
    mw_table_free(tables[0]);
    mw_table_free(tables[1]);
    free(a.columns);
    return rc;
}
