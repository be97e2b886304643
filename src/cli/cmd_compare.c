/*
 * `modelwatch compare`: the regression gate on a golden set. One labelled file
 * holds the target and the predictions of two model versions (baseline and
 * candidate) on the same rows; the report gives each metric of both and their
 * difference, and a gate decides whether the candidate may replace the
 * baseline (exit 3 when not, to stop a CI pipeline).
 *
 * Metrics are those of include/modelwatch/perf.h (scikit-learn 1.2,
 * zero_division=0), labels coded as `modelwatch eval` codes them (labels.c).
 * Classification adds the agreement rate (share of rows where both predict the
 * same class), the flips per true class (rows the baseline gets right and the
 * candidate wrong, and the reverse) and McNemar's exact test on the flips
 * (src/stats/binom.c, as statsmodels' mcnemar(exact=True)).
 *
 * Paired bootstrap: B resamples of n row indices drawn uniformly with
 * replacement (xoshiro256** seeded with --seed, so a seed gives the same
 * report); each metric is computed for both columns on the same resample and
 * the CI of the delta (candidate - baseline) is the pair of quantiles
 * (1 - confidence)/2 and (1 + confidence)/2 of the B deltas, with
 * numpy.quantile's default (linear) definition. Classification resamples count
 * the draws per distinct (target, baseline, candidate) triple and build the two
 * confusion matrices from those counts, so one resample costs n random draws
 * and O(triples + k^2), never a pass over the data.
 *
 * Gate: with --threshold, each threshold is checked as MLflow's MetricThreshold
 * (threshold, min_absolute_change, min_relative_change, greater_is_better);
 * without, the default rules fail a candidate that is significantly worse:
 * lower accuracy with McNemar p < alpha, or any metric whose delta's CI lies
 * wholly on the worse side of 0.
 *
 * A golden set must be complete: a missing or NaN target or prediction (or an
 * infinite value, for regression) is an error naming the column and row.
 */
#include "cli/compare_int.h"
#include "core/util.h"
#include "modelwatch/perf.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char compare_help[] =
    "usage: modelwatch compare --golden FILE --target COL --baseline COL\n"
    "                          --candidate COL [options]\n"
    "\n"
    "Regression gate on a golden set: FILE (CSV or NDJSON/JSONL, optionally\n"
    "gzip-compressed; '-' reads standard input) holds the true labels and the\n"
    "predictions of the old (baseline) and new (candidate) model version on the\n"
    "same rows. Reports each metric of both versions, the delta (candidate -\n"
    "baseline) with a paired bootstrap confidence interval, and for classifiers\n"
    "the agreement rate, the flips per class and McNemar's exact test; then\n"
    "gates the candidate.\n"
    "\n"
    "options:\n"
    "      --golden FILE        the labelled golden set\n"
    "      --target COL         the true labels (or values, for regression)\n"
    "      --baseline COL       the baseline version's predictions\n"
    "      --candidate COL      the candidate version's predictions\n"
    "      --task auto|classification|regression\n"
    "                           auto (default): classification when the labels\n"
    "                           are text, or whole numbers with at most 50\n"
    "                           distinct values; regression otherwise\n"
    "      --threshold METRIC:CONDITIONS\n"
    "                           gate on METRIC (repeatable); CONDITIONS is a\n"
    "                           comma-separated list of key=value:\n"
    "                             threshold=X            candidate >= X\n"
    "                             min_absolute_change=X  candidate >= baseline + X\n"
    "                             min_relative_change=X  candidate >=\n"
    "                                                    baseline * (1 + X)\n"
    "                             greater_is_better=true|false\n"
    "                           (MLflow's MetricThreshold; with\n"
    "                           greater_is_better=false the inequalities turn:\n"
    "                           <= X, <= baseline - X, <= baseline * (1 - X);\n"
    "                           default: the metric's own direction).\n"
    "                           min_absolute_change >= 0 and min_relative_change\n"
    "                           in [0, 1] (0: no worse than the baseline).\n"
    "                           Examples:\n"
    "                             accuracy:threshold=0.8,min_absolute_change=0\n"
    "                             mae:min_relative_change=0.05\n"
    "      --bootstrap N        paired bootstrap resamples (default 1000; 0: no\n"
    "                           confidence intervals)\n"
    "      --seed S             the resampling seed (default 0)\n"
    "      --confidence C       confidence level of the intervals (default 0.95)\n"
    "      --alpha A            McNemar significance level of the default gate\n"
    "                           (default 0.05)\n"
    "  -f, --format text|json   report format (default text)\n"
    "  -o, --output FILE        write the report to FILE (default stdout)\n"
    "  -h, --help               show this help\n"
    "\n"
    "metrics: classification: accuracy, balanced_accuracy, precision_macro,\n"
    "recall_macro, f1_macro, precision_weighted, recall_weighted, f1_weighted;\n"
    "regression: mae, mse, rmse, mape, r2 (higher is better), max_error.\n"
    "\n"
    "gate: with --threshold options, the candidate passes when every threshold\n"
    "holds. Without, it fails when significantly worse: lower accuracy with\n"
    "McNemar p < alpha, or a metric whose delta's confidence interval lies\n"
    "wholly on the worse side of 0 (below 0 when higher is better).\n"
    "\n"
    "Every row needs the target and both predictions: a missing or NaN value is\n"
    "an error naming its column and row (rows numbered from 1, header not\n"
    "counted).\n"
    "\n"
    "JSON keys: golden, task, rows, agreement, mcnemar {statistic, p_value,\n"
    "baseline_right_candidate_wrong, baseline_wrong_candidate_right}, flips,\n"
    "metrics {NAME: {baseline, candidate, delta, ci, greater_is_better}},\n"
    "bootstrap, gate {passed, rules, failures}; agreement, mcnemar and flips are\n"
    "null for regression.\n"
    "\n"
    "exit status: 0 gate passed, 1 error, 2 usage, 3 gate failed\n";

static const char *CMD = "compare";

enum {
    OPT_GOLDEN = 1000,
    OPT_TARGET,
    OPT_BASELINE,
    OPT_CANDIDATE,
    OPT_TASK,
    OPT_THRESHOLD,
    OPT_BOOTSTRAP,
    OPT_SEED,
    OPT_CONFIDENCE,
    OPT_ALPHA
};

/* ---- metrics ------------------------------------------------------------------ */

typedef struct metric_def {
    const char *name;
    int greater_is_better;
} metric_def;

static const metric_def CLS_METRICS[] = {
    {"accuracy", 1}, {"balanced_accuracy", 1},  {"precision_macro", 1}, {"recall_macro", 1},
    {"f1_macro", 1}, {"precision_weighted", 1}, {"recall_weighted", 1}, {"f1_weighted", 1},
};
static const metric_def REG_METRICS[] = {
    {"mae", 0}, {"mse", 0}, {"rmse", 0}, {"mape", 0}, {"r2", 1}, {"max_error", 0},
};
#define N_CLS (sizeof CLS_METRICS / sizeof *CLS_METRICS)
#define N_REG (sizeof REG_METRICS / sizeof *REG_METRICS)

/* Values in CLS_METRICS order. */
static void cls_values(const mw_class_metrics *m, double *v) {
    v[0] = m->accuracy;
    v[1] = m->balanced_accuracy;
    v[2] = m->precision_macro;
    v[3] = m->recall_macro;
    v[4] = m->f1_macro;
    v[5] = m->precision_weighted;
    v[6] = m->recall_weighted;
    v[7] = m->f1_weighted;
}

/* Values in REG_METRICS order. */
static void reg_values(const mw_reg_metrics *m, double *v) {
    v[0] = m->mae;
    v[1] = m->mse;
    v[2] = m->rmse;
    v[3] = m->mape;
    v[4] = m->r2;
    v[5] = m->max_error;
}

static long metric_index(const metric_def *defs, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(defs[i].name, name)) return (long)i;
    return -1;
}

/* ---- arguments ---------------------------------------------------------------- */

static int parse_bool(const char *s, int *v) {
    if (!strcmp(s, "true") || !strcmp(s, "1")) return *v = 1, 1;
    if (!strcmp(s, "false") || !strcmp(s, "0")) return *v = 0, 1;
    return 0;
}

/* METRIC:key=value,... (the argument is split in place). */
static int parse_threshold(char *arg, cmp_threshold *t) {
    memset(t, 0, sizeof *t);
    t->greater_is_better = -1;
    char *colon = strchr(arg, ':');
    if (!colon || colon == arg || !colon[1])
        return mw_cli_usage_error(CMD,
                                  "--threshold expects METRIC:key=value[,key=value...], got "
                                  "\"%s\"",
                                  arg);
    *colon = 0;
    t->metric = arg;
    if (metric_index(CLS_METRICS, N_CLS, arg) < 0 && metric_index(REG_METRICS, N_REG, arg) < 0)
        return mw_cli_usage_error(CMD, "--threshold: unknown metric \"%s\" (see --help)", arg);
    for (char *item = strtok(colon + 1, ","); item; item = strtok(NULL, ",")) {
        char *eq = strchr(item, '=');
        if (!eq)
            return mw_cli_usage_error(CMD, "--threshold %s: \"%s\" is not key=value", arg, item);
        *eq = 0;
        const char *key = item, *val = eq + 1;
        double x;
        if (!strcmp(key, "greater_is_better")) {
            if (!parse_bool(val, &t->greater_is_better))
                return mw_cli_usage_error(
                    CMD, "--threshold %s: greater_is_better expects true or false, got \"%s\"", arg,
                    val);
            continue;
        }
        if (!mw_cli_parse_number(val, &x))
            return mw_cli_usage_error(CMD, "--threshold %s: %s expects a number, got \"%s\"", arg,
                                      key, val);
        if (!strcmp(key, "threshold")) {
            t->threshold = x, t->has_threshold = 1;
        } else if (!strcmp(key, "min_absolute_change")) {
            if (x < 0)
                return mw_cli_usage_error(
                    CMD, "--threshold %s: min_absolute_change must be >= 0, got %s", arg, val);
            t->min_abs = x, t->has_abs = 1;
        } else if (!strcmp(key, "min_relative_change")) {
            if (x < 0 || x > 1)
                return mw_cli_usage_error(
                    CMD, "--threshold %s: min_relative_change must be in [0, 1], got %s", arg, val);
            t->min_rel = x, t->has_rel = 1;
        } else {
            return mw_cli_usage_error(
                CMD,
                "--threshold %s: unknown key \"%s\" (threshold, "
                "min_absolute_change, min_relative_change, greater_is_better)",
                arg, key);
        }
    }
    if (!t->has_threshold && !t->has_abs && !t->has_rel)
        return mw_cli_usage_error(CMD,
                                  "--threshold %s: needs threshold, min_absolute_change or "
                                  "min_relative_change",
                                  arg);
    return 0;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *v) {
    char *end;
    errno = 0;
    if (!*s || *s == '-') return 0;
    unsigned long long x = strtoull(s, &end, 10);
    if (*end || errno || x > max) return 0;
    *v = x;
    return 1;
}

static int parse_args(int argc, char **argv, compare_args *a) {
    static const struct option longopts[] = {
        {"golden", required_argument, NULL, OPT_GOLDEN},
        {"target", required_argument, NULL, OPT_TARGET},
        {"baseline", required_argument, NULL, OPT_BASELINE},
        {"candidate", required_argument, NULL, OPT_CANDIDATE},
        {"task", required_argument, NULL, OPT_TASK},
        {"threshold", required_argument, NULL, OPT_THRESHOLD},
        {"bootstrap", required_argument, NULL, OPT_BOOTSTRAP},
        {"seed", required_argument, NULL, OPT_SEED},
        {"confidence", required_argument, NULL, OPT_CONFIDENCE},
        {"alpha", required_argument, NULL, OPT_ALPHA},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    a->bootstrap = 1000;
    a->confidence = 0.95;
    a->alpha = 0.05;
    a->thr = calloc((size_t)argc + 1, sizeof *a->thr);
    if (!a->thr) return mw_cli_error(CMD, "out of memory");
    optind = 1;
    opterr = 0;
    int c, rc;
    while ((c = getopt_long(argc, argv, ":f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_GOLDEN:
            a->golden = optarg;
            break;
        case OPT_TARGET:
            a->target = optarg;
            break;
        case OPT_BASELINE:
            a->baseline = optarg;
            break;
        case OPT_CANDIDATE:
            a->candidate = optarg;
            break;
        case OPT_TASK:
            if ((rc = mw_cli_parse_task(CMD, optarg, &a->task))) return rc;
            break;
        case OPT_THRESHOLD:
            if ((rc = parse_threshold(optarg, &a->thr[a->nthr]))) return rc;
            a->nthr++;
            break;
        case OPT_BOOTSTRAP:
            if (!parse_u64(optarg, 10000000, &a->bootstrap))
                return mw_cli_usage_error(
                    CMD, "--bootstrap expects a whole number from 0 to 10000000, got \"%s\"",
                    optarg);
            break;
        case OPT_SEED:
            if (!parse_u64(optarg, UINT64_MAX, &a->seed))
                return mw_cli_usage_error(CMD, "--seed expects a whole number >= 0, got \"%s\"",
                                          optarg);
            break;
        case OPT_CONFIDENCE:
        case OPT_ALPHA: {
            double x;
            if (!mw_cli_parse_number(optarg, &x) || !(x > 0 && x < 1))
                return mw_cli_usage_error(CMD, "--%s expects a number between 0 and 1, got \"%s\"",
                                          c == OPT_ALPHA ? "alpha" : "confidence", optarg);
            *(c == OPT_ALPHA ? &a->alpha : &a->confidence) = x;
            break;
        }
        case 'f':
            if (!mw_report_format_from_name(optarg, &a->format) || a->format == MW_FORMAT_HTML)
                return mw_cli_usage_error(CMD, "--format expects text or json, got \"%s\"", optarg);
            break;
        case 'o':
            a->output = optarg;
            break;
        case 'h':
            fputs(compare_help, stdout);
            return -1;
        case ':':
            return mw_cli_usage_error(CMD, "option %s needs a value", argv[optind - 1]);
        default:
            return mw_cli_usage_error(CMD, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return mw_cli_usage_error(CMD, "unexpected argument \"%s\"", argv[optind]);
    if (!a->golden) return mw_cli_usage_error(CMD, "--golden FILE is required");
    if (!a->target) return mw_cli_usage_error(CMD, "--target is required");
    if (!a->baseline) return mw_cli_usage_error(CMD, "--baseline is required");
    if (!a->candidate) return mw_cli_usage_error(CMD, "--candidate is required");
    return 0;
}

/* ---- golden set checks ---------------------------------------------------------- */

/* Every row has a value (finite, for regression); else an error naming the
 * first bad row and how many there are. */
static int check_complete(const char *file, const mw_column *c, const char *role, int finite) {
    size_t bad = 0, first = 0;
    int inf = 0;
    for (size_t r = 0; r < c->nrows; r++) {
        int missing =
            c->type == MW_TYPE_NUMERIC ? isnan(c->num[r]) : c->codes[r] == MW_CODE_MISSING;
        int infinite = finite && c->type == MW_TYPE_NUMERIC && isinf(c->num[r]);
        if (!missing && !infinite) continue;
        if (!bad++) first = r + 1, inf = infinite;
    }
    if (!bad) return 0;
    return mw_cli_error(CMD,
                        "%s: %s column \"%s\", row %zu: %s (%zu row%s like this); a golden set "
                        "needs the target and both predictions on every row",
                        file, role, c->name, first, inf ? "infinite value" : "missing or NaN value",
                        bad, bad == 1 ? "" : "s");
}

/* ---- paired bootstrap ------------------------------------------------------------- */

/* Computes the metric values of baseline (vb) and candidate (vc) on one
 * resample drawn with rng. */
typedef int (*resample_fn)(void *ctx, mw_rng *rng, double *vb, double *vc);

typedef struct cls_boot {
    size_t n, k, T;
    const uint32_t *tid;     /* row -> triple */
    const uint64_t *triples; /* (target << 40) | (baseline << 20) | candidate */
    uint64_t *count;         /* draws per triple */
} cls_boot;

static int cls_resample(void *ctx, mw_rng *rng, double *vb, double *vc) {
    cls_boot *B = ctx;
    memset(B->count, 0, B->T * sizeof *B->count);
    for (size_t i = 0; i < B->n; i++)
        B->count[B->tid[mw_rng_below(rng, B->n)]]++;
    mw_confusion *cb = NULL, *cc = NULL;
    int rc = -1;
    if (mw_confusion_new(B->k, &cb) != MW_OK || mw_confusion_new(B->k, &cc) != MW_OK) goto out;
    for (size_t t = 0; t < B->T; t++) {
        if (!B->count[t]) continue;
        uint32_t y = (uint32_t)(B->triples[t] >> 40),
                 pb = (uint32_t)(B->triples[t] >> 20) & 0xfffff,
                 pc = (uint32_t)B->triples[t] & 0xfffff;
        if (mw_confusion_add(cb, y, pb, B->count[t]) != MW_OK ||
            mw_confusion_add(cc, y, pc, B->count[t]) != MW_OK)
            goto out;
    }
    mw_class_metrics mb, mc;
    mw_error err;
    if (mw_confusion_metrics(cb, &mb, &err) != MW_OK) goto out;
    if (mw_confusion_metrics(cc, &mc, &err) != MW_OK) {
        mw_class_metrics_free(&mb);
        goto out;
    }
    cls_values(&mb, vb);
    cls_values(&mc, vc);
    mw_class_metrics_free(&mb);
    mw_class_metrics_free(&mc);
    rc = 0;
out:
    mw_confusion_free(cb);
    mw_confusion_free(cc);
    return rc;
}

typedef struct reg_boot {
    size_t n;
    const double *y, *yb, *yc;
} reg_boot;

static int reg_resample(void *ctx, mw_rng *rng, double *vb, double *vc) {
    reg_boot *B = ctx;
    mw_reg_state sb, sc;
    mw_reg_init(&sb);
    mw_reg_init(&sc);
    for (size_t i = 0; i < B->n; i++) {
        size_t r = (size_t)mw_rng_below(rng, B->n);
        if (mw_reg_add(&sb, B->y[r], B->yb[r]) != MW_OK ||
            mw_reg_add(&sc, B->y[r], B->yc[r]) != MW_OK)
            return -1;
    }
    mw_reg_metrics mb, mc;
    mw_reg_state_metrics(&sb, &mb);
    mw_reg_state_metrics(&sc, &mc);
    reg_values(&mb, vb);
    reg_values(&mc, vc);
    return 0;
}

/* Runs the bootstrap and fills each metric's lo and hi. */
static int bootstrap(const compare_args *a, resample_fn fn, void *ctx, compare_result *R) {
    uint64_t B = a->bootstrap;
    for (size_t j = 0; j < R->nm; j++)
        R->m[j].lo = R->m[j].hi = NAN;
    R->resamples = B;
    if (!B) return 0;
    double *d = malloc(B * R->nm * sizeof *d), *scratch = malloc(B * sizeof *scratch);
    if (!d || !scratch) {
        free(d);
        free(scratch);
        return mw_cli_error(CMD, "out of memory for %llu bootstrap resamples",
                            (unsigned long long)B);
    }
    mw_rng rng;
    mw_rng_seed(&rng, a->seed);
    double last = mw_cli_now();
    int rc = 0;
    for (uint64_t r = 0; r < B && !rc; r++) {
        /* zeroed: gcc -O3 cannot see that fn fills the first R->nm of each */
        double vb[CMP_MAX_METRICS] = {0}, vc[CMP_MAX_METRICS] = {0};
        if (fn(ctx, &rng, vb, vc)) {
            rc = mw_cli_error(CMD, "out of memory in the bootstrap");
            break;
        }
        int nan = 0;
        for (size_t j = 0; j < R->nm; j++) {
            d[j * B + r] = vc[j] - vb[j];
            nan |= isnan(d[j * B + r]);
        }
        R->nan_resamples += nan;
        if (mw_cli_now() - last > 0.25) {
            last = mw_cli_now();
            mw_cli_progress("bootstrap: %llu/%llu resamples", (unsigned long long)r,
                            (unsigned long long)B);
        }
    }
    mw_cli_progress_done();
    double tail = (1 - a->confidence) / 2;
    for (size_t j = 0; j < R->nm && !rc; j++) {
        double *v = d + j * B;
        size_t m = 0;
        for (uint64_t r = 0; r < B; r++)
            if (!isnan(v[r])) v[m++] = v[r];
        if (!m) continue;
        mw_sort_doubles(v, m, scratch);
        R->m[j].lo = mw_quantile_sorted(v, m, tail);
        R->m[j].hi = mw_quantile_sorted(v, m, 1 - tail);
    }
    free(d);
    free(scratch);
    return rc;
}

/* ---- the two tasks ------------------------------------------------------------- */

static void set_metrics(compare_result *R, const metric_def *defs, size_t n, const double *vb,
                        const double *vc) {
    R->nm = n;
    for (size_t j = 0; j < n; j++) {
        cmp_metric *m = &R->m[j];
        m->name = defs[j].name;
        m->greater_is_better = defs[j].greater_is_better;
        m->baseline = vb[j];
        m->candidate = vc[j];
        m->delta = vc[j] - vb[j];
    }
}

/* Triples of (target, baseline, candidate) codes: the distinct ones sorted in
 * *triples, each row's index into them in tid. */
static int make_triples(const uint32_t *y, const uint32_t *pb, const uint32_t *pc, size_t n,
                        uint64_t **triples, size_t *T, uint32_t *tid) {
    uint64_t *key = malloc(n * sizeof *key), *s = malloc(n * sizeof *s);
    if (!key || !s) {
        free(key);
        free(s);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        key[i] = s[i] = (uint64_t)y[i] << 40 | (uint64_t)pb[i] << 20 | pc[i];
    mw_sort_u64_inplace(s, n);
    size_t u = 0;
    for (size_t i = 0; i < n; i++)
        if (!u || s[i] != s[u - 1]) s[u++] = s[i];
    for (size_t i = 0; i < n; i++) {
        size_t lo = 0, hi = u;
        while (hi - lo > 1) {
            size_t mid = (lo + hi) / 2;
            if (s[mid] <= key[i])
                lo = mid;
            else
                hi = mid;
        }
        tid[i] = (uint32_t)lo;
    }
    free(key);
    *triples = s;
    *T = u;
    return 0;
}

static int run_classification(const compare_args *a, mw_table *t, mw_column **cols,
                              compare_result *R) {
    R->task = "classification";
    R->classification = 1;
    vlist vl = {0};
    int numeric;
    const char *src[3] = {t->source, t->source, t->source};
    int rc = mw_labels_collect(CMD, cols, src, 3, &vl, &numeric);
    if (!rc && mw_labels_build(&vl, numeric, &R->L)) rc = mw_cli_error(CMD, "out of memory");
    mw_vlist_free(&vl);
    if (rc) return rc;
    size_t n = t->nrows, k = R->L.k;
    if (k > (1u << 20)) return mw_cli_error(CMD, "too many classes (%zu)", k);
    uint32_t *code[3] = {NULL, NULL, NULL}, *tid = malloc(n * sizeof *tid);
    uint64_t *triples = NULL;
    mw_confusion *cm[2] = {NULL, NULL};
    mw_class_metrics cls[2];
    memset(cls, 0, sizeof cls);
    R->lost_by_class = calloc(k, sizeof *R->lost_by_class);
    R->gained_by_class = calloc(k, sizeof *R->gained_by_class);
    rc = !tid || !R->lost_by_class || !R->gained_by_class;
    for (int c = 0; c < 3 && !rc; c++)
        rc = !(code[c] = malloc(n * sizeof *code[c])) || mw_labels_encode(cols[c], &R->L, code[c]);
    mw_error err;
    for (int v = 0; v < 2 && !rc; v++)
        rc = mw_confusion_new(k, &cm[v]) != MW_OK ||
             mw_confusion_add_codes(cm[v], code[0], code[1 + v], n, NULL) != MW_OK ||
             mw_confusion_metrics(cm[v], &cls[v], &err) != MW_OK;
    if (rc) {
        rc = mw_cli_error(CMD, "out of memory");
        goto out;
    }
    double vb[CMP_MAX_METRICS], vc[CMP_MAX_METRICS];
    cls_values(&cls[0], vb);
    cls_values(&cls[1], vc);
    set_metrics(R, CLS_METRICS, N_CLS, vb, vc);
    uint64_t same = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t y = code[0][i], b = code[1][i], c = code[2][i];
        same += b == c;
        if (b == y && c != y) R->lost_by_class[y]++, R->lost++;
        if (b != y && c == y) R->gained_by_class[y]++, R->gained++;
    }
    R->agreement = (double)same / (double)n;
    mw_mcnemar_exact(R->lost, R->gained, &R->mcnemar);
    size_t T;
    if (make_triples(code[0], code[1], code[2], n, &triples, &T, tid)) {
        rc = mw_cli_error(CMD, "out of memory");
        goto out;
    }
    uint64_t *count = malloc(T * sizeof *count);
    cls_boot ctx = {n, k, T, tid, triples, count};
    rc = count ? bootstrap(a, cls_resample, &ctx, R) : mw_cli_error(CMD, "out of memory");
    free(count);
out:
    for (int c = 0; c < 3; c++)
        free(code[c]);
    for (int v = 0; v < 2; v++) {
        mw_confusion_free(cm[v]);
        mw_class_metrics_free(&cls[v]);
    }
    free(tid);
    free(triples);
    return rc;
}

static int run_regression(const compare_args *a, mw_table *t, mw_column **cols, compare_result *R) {
    static const char *role[3] = {"target", "baseline", "candidate"};
    R->task = "regression";
    R->agreement = NAN;
    int rc;
    for (int c = 0; c < 3; c++)
        if ((rc = mw_cli_numeric_column(CMD, t->source, cols[c])) ||
            (rc = check_complete(t->source, cols[c], role[c], 1)))
            return rc;
    size_t n = t->nrows;
    mw_reg_metrics mb, mc;
    mw_error err;
    if (mw_regression_metrics(cols[0]->num, cols[1]->num, n, &mb, &err) != MW_OK ||
        mw_regression_metrics(cols[0]->num, cols[2]->num, n, &mc, &err) != MW_OK)
        return mw_cli_error(CMD, "%s: %s", t->source, err.message);
    double vb[CMP_MAX_METRICS], vc[CMP_MAX_METRICS];
    reg_values(&mb, vb);
    reg_values(&mc, vc);
    set_metrics(R, REG_METRICS, N_REG, vb, vc);
    reg_boot ctx = {n, cols[0]->num, cols[1]->num, cols[2]->num};
    return bootstrap(a, reg_resample, &ctx, R);
}

/* ---- the gate ------------------------------------------------------------------ */

static cmp_failure *add_failure(compare_result *R, const cmp_metric *m, const char *rule,
                                double limit) {
    cmp_failure *f = &R->fail[R->nfail++];
    f->metric = m->name;
    f->rule = rule;
    f->baseline = m->baseline;
    f->candidate = m->candidate;
    f->limit = limit;
    return f;
}

static void check_threshold(compare_result *R, const cmp_threshold *t, const cmp_metric *m) {
    int gib = t->greater_is_better >= 0 ? t->greater_is_better : m->greater_is_better;
    const char *op = gib ? ">=" : "<=";
    double c = m->candidate, b = m->baseline;
    if (t->has_threshold && !(gib ? c >= t->threshold : c <= t->threshold)) {
        cmp_failure *f = add_failure(R, m, "threshold", t->threshold);
        snprintf(f->message, sizeof f->message, "%s: candidate %.6g is not %s threshold %.6g",
                 m->name, c, op, t->threshold);
    }
    if (t->has_abs) {
        double lim = gib ? b + t->min_abs : b - t->min_abs;
        if (!(gib ? c >= lim : c <= lim)) {
            cmp_failure *f = add_failure(R, m, "min_absolute_change", lim);
            snprintf(f->message, sizeof f->message,
                     "%s: candidate %.6g is not %s baseline %.6g %c min_absolute_change %.6g = "
                     "%.6g",
                     m->name, c, op, b, gib ? '+' : '-', t->min_abs, lim);
        }
    }
    if (t->has_rel) {
        double lim = gib ? b * (1 + t->min_rel) : b * (1 - t->min_rel);
        if (!(gib ? c >= lim : c <= lim)) {
            cmp_failure *f = add_failure(R, m, "min_relative_change", lim);
            snprintf(f->message, sizeof f->message,
                     "%s: candidate %.6g is not %s baseline %.6g * (1 %c min_relative_change "
                     "%.6g) = %.6g",
                     m->name, c, op, b, gib ? '+' : '-', t->min_rel, lim);
        }
    }
}

static int gate(const compare_args *a, compare_result *R) {
    R->fail = calloc(2 * R->nm + 3 * a->nthr + 1, sizeof *R->fail);
    if (!R->fail) return mw_cli_error(CMD, "out of memory");
    for (size_t i = 0; i < a->nthr; i++)
        for (size_t j = 0; j < R->nm; j++)
            if (!strcmp(a->thr[i].metric, R->m[j].name)) check_threshold(R, &a->thr[i], &R->m[j]);
    if (!a->nthr) {
        const cmp_metric *acc = &R->m[0];
        if (R->classification && acc->candidate < acc->baseline && R->mcnemar.p_value < a->alpha) {
            cmp_failure *f = add_failure(R, acc, "mcnemar", a->alpha);
            snprintf(f->message, sizeof f->message,
                     "accuracy: candidate %.6g < baseline %.6g and McNemar's exact test gives p "
                     "= %.3g < alpha %g",
                     acc->candidate, acc->baseline, R->mcnemar.p_value, a->alpha);
        }
        for (size_t j = 0; j < R->nm; j++) {
            const cmp_metric *m = &R->m[j];
            if (isnan(m->lo) || !(m->greater_is_better ? m->hi < 0 : m->lo > 0)) continue;
            cmp_failure *f = add_failure(R, m, "confidence_interval", 0);
            snprintf(f->message, sizeof f->message,
                     "%s: the %g%% confidence interval of the delta, [%.6g, %.6g], lies wholly "
                     "%s 0 (%s is better)",
                     m->name, 100 * a->confidence, m->lo, m->hi,
                     m->greater_is_better ? "below" : "above",
                     m->greater_is_better ? "higher" : "lower");
        }
    }
    R->passed = R->nfail == 0;
    return 0;
}

/* ---- entry point ---------------------------------------------------------------- */

int mw_cmd_compare(int argc, char **argv) {
    compare_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) {
        free(a.thr);
        return rc < 0 ? MW_EXIT_OK : rc;
    }
    compare_result R;
    memset(&R, 0, sizeof R);
    mw_table *t = NULL;
    mw_read_options ropt = {0};
    const char *paths[1] = {a.golden};
    if ((rc = mw_cli_read_tables(CMD, paths, 1, &ropt, &t))) goto out;
    rc = MW_EXIT_ERROR;
    R.rows = t->nrows;
    if (!t->nrows) {
        rc = mw_cli_error(CMD, "%s: no rows: a golden set needs labelled rows", a.golden);
        goto out;
    }
    static const char *role[3] = {"target", "baseline", "candidate"};
    const char *name[3] = {a.target, a.baseline, a.candidate};
    mw_column *cols[3];
    for (int c = 0; c < 3; c++)
        if (!(cols[c] = mw_cli_need_column(CMD, t, name[c], role[c]))) goto out;
    for (int c = 0; c < 3; c++)
        if ((rc = check_complete(t->source, cols[c], role[c], 0))) goto out;
    int task = a.task;
    if (task == TASK_AUTO) task = mw_labels_look_like_classes(cols, 3) ? TASK_CLASS : TASK_REG;
    const metric_def *defs = task == TASK_CLASS ? CLS_METRICS : REG_METRICS;
    size_t ndefs = task == TASK_CLASS ? N_CLS : N_REG;
    for (size_t i = 0; i < a.nthr; i++)
        if (metric_index(defs, ndefs, a.thr[i].metric) < 0) {
            rc = mw_cli_usage_error(CMD, "--threshold %s: not a metric of %s (see --help)",
                                    a.thr[i].metric,
                                    task == TASK_CLASS ? "classification" : "regression");
            goto out;
        }
    rc = task == TASK_CLASS ? run_classification(&a, t, cols, &R) : run_regression(&a, t, cols, &R);
    if (rc || (rc = gate(&a, &R))) goto out;
    mw_cli_output o;
    if ((rc = mw_cli_output_open(CMD, a.output, &o))) goto out;
    if (a.format == MW_FORMAT_JSON)
        mw_compare_write_json(o.f, &a, &R);
    else
        mw_compare_write_text(o.f, &a, &R);
    int ok = !ferror(o.f);
    rc = mw_cli_output_close(CMD, &o, ok);
    if (!rc && !ok) rc = mw_cli_error(CMD, "writing the report failed");
    if (!rc && !R.passed) rc = MW_EXIT_CHECK_FAILED;
out:
    mw_labels_free(&R.L);
    free(R.lost_by_class);
    free(R.gained_by_class);
    free(R.fail);
    free(a.thr);
    mw_table_free(t);
    return rc;
}
