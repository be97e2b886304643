/*
 * `modelwatch drift` and `modelwatch quality`: compare a current data set with
 * a reference, per column, and report drift (tests of DESIGN.md) and data
 * quality. Both share the option parsing and the batch run; quality runs no
 * drift test. drift reads NDJSON arrays of numbers as embeddings and tests
 * them (with --embedding prefixes for CSV columns) as vectors.
 */
#include "cli/cli.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char drift_help[] =
    "usage: modelwatch drift --reference REF --current CUR [options]\n"
    "\n"
    "Compares CUR with REF column by column and reports distribution drift and\n"
    "data quality. Files are CSV or NDJSON/JSONL (optionally gzip-compressed);\n"
    "'-' reads standard input.\n"
    "\n"
    "options:\n"
    "  -r, --reference FILE     reference data (training or a healthy period)\n"
    "  -c, --current FILE       current data to check\n"
    "  -t, --tests auto|all|LIST\n"
    "                           auto (default): ks or wasserstein_norm for numeric\n"
    "                           columns, chi2 or jensenshannon for categorical ones\n"
    "                           (by reference size, threshold 1000 values);\n"
    "                           all: every test that applies; LIST: comma-separated\n"
    "                           names, the first that applies decides: ks, cvm,\n"
    "                           anderson, mannwhitney, ttest, energy, wasserstein,\n"
    "                           wasserstein_norm, chi2, gtest, fisher, psi, kl,\n"
    "                           jensenshannon, hellinger, tvd\n"
    "      --columns LIST       only these columns (comma-separated)\n"
    "      --threshold T        threshold of the deciding test (default: p < 0.05\n"
    "                           for tests with a p-value, >= 0.1 for distances)\n"
    "      --column-threshold NAME=T\n"
    "                           threshold for one column (repeatable)\n"
    "      --drift-share S      the data set drifts when this share of tested\n"
    "                           columns drifted (default 0.5)\n"
    "      --correction none|bonferroni|bh\n"
    "                           multiple-testing correction of p-values (default "
    "none)\n" MW_CLI_INPUT_HELP
    "      --embedding PREFIX   test the columns PREFIX0, PREFIX1, ... (or PREFIX[0],\n"
    "                           ...) together as one embedding vector (repeatable;\n"
    "                           e.g. emb_ for emb_0..emb_383). NDJSON arrays of\n"
    "                           numbers (\"embedding\": [...]) are embeddings\n"
    "                           without this flag. Tests: MMD (RBF kernel, median\n"
    "                           bandwidth, permutation p < 0.05) and a domain\n"
    "                           classifier (5-fold logistic regression, AUC > 0.55)\n"
    "      --embedding-samples N\n"
    "                           vectors per side the tests use (uniform sample;\n"
    "                           default 1000, at most 10000)\n"
    "      --embedding-permutations N\n"
    "                           permutations of the MMD test (default 100)\n"
    "      --seed N             seed of the embedding sample and permutations (default 0)\n"
    "  -f, --format text|json|html\n"
    "                           report format (default text)\n"
    "  -o, --output FILE        write the report to FILE (default stdout)\n"
    "      --fail-on-drift      exit with status 3 when the data set or an embedding\n"
    "                           drifts\n"
    "      --threads N          worker threads (default: all cores)\n"
    "      --timings            print the wall time of each phase to stderr\n"
    "  -h, --help               show this help\n"
    "\n"
    "exit status: 0 ok, 1 error, 2 usage, 3 drift found with --fail-on-drift\n";

static const char quality_help[] =
    "usage: modelwatch quality --reference REF --current CUR [options]\n"
    "\n"
    "Checks the data quality of CUR against REF: missing values and their change,\n"
    "values that break a column's type, values outside the reference range,\n"
    "unseen categories, constant columns, duplicate and empty rows, and columns\n"
    "present on one side only.\n"
    "\n"
    "options:\n"
    "  -r, --reference FILE     reference data\n"
    "  -c, --current FILE       current data\n"
    "      --columns LIST       only these columns (comma-separated)\n" MW_CLI_INPUT_HELP
    "  -f, --format text|json|html   report format (default text)\n"
    "  -o, --output FILE        write the report to FILE (default stdout)\n"
    "      --fail-on-issues     exit with status 3 when any issue is found\n"
    "      --threads N          worker threads (default: all cores)\n"
    "  -h, --help               show this help\n";

enum {
    OPT_COLUMNS = 1000,
    OPT_THRESHOLD,
    OPT_COLUMN_THRESHOLD,
    OPT_DRIFT_SHARE,
    OPT_CORRECTION,
    OPT_SCHEMA,
    OPT_FAIL,
    OPT_THREADS,
    OPT_TIMINGS,
    OPT_EMBEDDING,
    OPT_EMB_SAMPLES,
    OPT_EMB_PERMUTATIONS,
    OPT_SEED,
    OPT_REFUSALS,
    OPT_NO_TEXT_INFERENCE,
    OPT_MAX_LINE
};

typedef struct drift_args {
    const char *reference, *current, *output;
    mw_cli_input_args input;
    mw_report_format format;
    mw_drift_options opt;
    char **columns;
    mw_column_threshold *col_thresholds;
    const char **embeddings;
    int fail;
    unsigned threads;
    int timings;
} drift_args;

static int parse_tests(const char *cmd, char *arg, mw_drift_options *opt) {
    if (!strcmp(arg, "auto")) {
        opt->selection = MW_TESTS_AUTO;
        return 0;
    }
    if (!strcmp(arg, "all")) {
        opt->selection = MW_TESTS_ALL;
        return 0;
    }
    char **names;
    size_t n = mw_cli_split_list(arg, &names);
    opt->selection = MW_TESTS_LIST;
    opt->nlist = 0;
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++) {
        mw_test_id t;
        if (!mw_test_from_name(names[i], &t))
            rc = mw_cli_usage_error(cmd, "unknown test \"%s\" in --tests", names[i]);
        else if (opt->nlist < MW_TEST_COUNT)
            opt->list[opt->nlist++] = t;
    }
    if (!rc && !opt->nlist) rc = mw_cli_usage_error(cmd, "--tests needs at least one test name");
    free(names);
    return rc;
}

static int parse_column_threshold(const char *cmd, char *arg, drift_args *a) {
    char *eq = strrchr(arg, '=');
    double v;
    if (!eq || eq == arg || !mw_cli_parse_number(eq + 1, &v) || v < 0)
        return mw_cli_usage_error(cmd, "--column-threshold expects NAME=T with T >= 0, got \"%s\"",
                                  arg);
    *eq = 0;
    size_t n = a->opt.ncolumn_thresholds;
    mw_column_threshold *ct = realloc(a->col_thresholds, (n + 1) * sizeof *ct);
    if (!ct) return mw_cli_error(cmd, "out of memory");
    ct[n].column = arg;
    ct[n].threshold = v;
    a->col_thresholds = ct;
    a->opt.column_thresholds = ct;
    a->opt.ncolumn_thresholds = n + 1;
    return 0;
}

static int add_embedding(const char *cmd, char *arg, drift_args *a) {
    if (!*arg) return mw_cli_usage_error(cmd, "--embedding needs a column prefix");
    size_t n = a->opt.nembeddings;
    if (n >= 64) return mw_cli_usage_error(cmd, "at most 64 --embedding prefixes");
    const char **e = realloc(a->embeddings, (n + 1) * sizeof *e);
    if (!e) return mw_cli_error(cmd, "out of memory");
    e[n] = arg;
    a->embeddings = e;
    a->opt.embeddings = e;
    a->opt.nembeddings = n + 1;
    return 0;
}

static int parse_args(const char *cmd, int quality, int argc, char **argv, drift_args *a) {
    static const struct option longopts[] = {
        {"reference", required_argument, NULL, 'r'},
        {"current", required_argument, NULL, 'c'},
        {"tests", required_argument, NULL, 't'},
        {"columns", required_argument, NULL, OPT_COLUMNS},
        {"threshold", required_argument, NULL, OPT_THRESHOLD},
        {"column-threshold", required_argument, NULL, OPT_COLUMN_THRESHOLD},
        {"drift-share", required_argument, NULL, OPT_DRIFT_SHARE},
        {"correction", required_argument, NULL, OPT_CORRECTION},
        {"schema", required_argument, NULL, OPT_SCHEMA},
        {"refusals", required_argument, NULL, OPT_REFUSALS},
        {"no-text-inference", no_argument, NULL, OPT_NO_TEXT_INFERENCE},
        {"max-line", required_argument, NULL, OPT_MAX_LINE},
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"fail-on-drift", no_argument, NULL, OPT_FAIL},
        {"fail-on-issues", no_argument, NULL, OPT_FAIL},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"timings", no_argument, NULL, OPT_TIMINGS},
        {"embedding", required_argument, NULL, OPT_EMBEDDING},
        {"embedding-samples", required_argument, NULL, OPT_EMB_SAMPLES},
        {"embedding-permutations", required_argument, NULL, OPT_EMB_PERMUTATIONS},
        {"seed", required_argument, NULL, OPT_SEED},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    a->opt.threshold = NAN;
    a->opt.quality_only = quality;
    a->opt.auto_embeddings = !quality;
    optind = 1;
    opterr = 0;
    int c, rc;
    double v;
    while ((c = getopt_long(argc, argv, ":r:c:t:f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            a->reference = optarg;
            break;
        case 'c':
            a->current = optarg;
            break;
        case 't':
            if (quality) return mw_cli_usage_error(cmd, "quality runs no drift tests; use drift");
            if ((rc = parse_tests(cmd, optarg, &a->opt))) return rc;
            break;
        case OPT_COLUMNS:
            free(a->columns);
            a->opt.ncolumns = mw_cli_split_list(optarg, &a->columns);
            a->opt.columns = (const char *const *)a->columns;
            if (!a->opt.ncolumns)
                return mw_cli_usage_error(cmd, "--columns needs at least one name");
            break;
        case OPT_THRESHOLD:
            if (!mw_cli_parse_number(optarg, &v) || v < 0)
                return mw_cli_usage_error(cmd, "--threshold expects a number >= 0, got \"%s\"",
                                          optarg);
            a->opt.threshold = v;
            break;
        case OPT_COLUMN_THRESHOLD:
            if ((rc = parse_column_threshold(cmd, optarg, a))) return rc;
            break;
        case OPT_DRIFT_SHARE:
            if (!mw_cli_parse_number(optarg, &v) || v <= 0 || v > 1)
                return mw_cli_usage_error(
                    cmd, "--drift-share expects a number in (0, 1], got \"%s\"", optarg);
            a->opt.drift_share = v;
            break;
        case OPT_CORRECTION:
            if (!strcmp(optarg, "none"))
                a->opt.correction = MW_CORRECTION_NONE;
            else if (!strcmp(optarg, "bonferroni"))
                a->opt.correction = MW_CORRECTION_BONFERRONI;
            else if (!strcmp(optarg, "bh"))
                a->opt.correction = MW_CORRECTION_BH;
            else
                return mw_cli_usage_error(
                    cmd, "--correction expects none, bonferroni or bh, got \"%s\"", optarg);
            break;
        case OPT_SCHEMA:
            a->input.schema = optarg;
            break;
        case OPT_REFUSALS:
            a->input.refusals = optarg;
            break;
        case OPT_NO_TEXT_INFERENCE:
            a->input.no_text_inference = 1;
            break;
        case OPT_MAX_LINE:
            if ((rc = mw_cli_parse_max_line(cmd, optarg, &a->input.max_line))) return rc;
            break;
        case 'f':
            if (!mw_report_format_from_name(optarg, &a->format))
                return mw_cli_usage_error(cmd, "--format expects text, json or html, got \"%s\"",
                                          optarg);
            break;
        case 'o':
            a->output = optarg;
            break;
        case OPT_FAIL:
            a->fail = 1;
            break;
        case OPT_TIMINGS:
            a->timings = 1;
            break;
        case OPT_EMBEDDING:
            if (quality) return mw_cli_usage_error(cmd, "quality runs no drift tests; use drift");
            if ((rc = add_embedding(cmd, optarg, a))) return rc;
            break;
        case OPT_EMB_SAMPLES:
            if ((rc = mw_cli_parse_count(cmd, "--embedding-samples", optarg, 2,
                                         MW_EMBEDDING_MAX_SAMPLES, &v)))
                return rc;
            a->opt.embedding.max_samples = (size_t)v;
            break;
        case OPT_EMB_PERMUTATIONS:
            if ((rc = mw_cli_parse_count(cmd, "--embedding-permutations", optarg, 1,
                                         MW_EMBEDDING_MAX_PERMUTATIONS, &v)))
                return rc;
            a->opt.embedding.permutations = (size_t)v;
            break;
        case OPT_SEED:
            if ((rc = mw_cli_parse_count(cmd, "--seed", optarg, 0, 9007199254740992.0, &v)))
                return rc;
            a->opt.embedding.seed = (uint64_t)v;
            break;
        case OPT_THREADS:
            if ((rc = mw_cli_parse_count(cmd, "--threads", optarg, 1, 64, &v))) return rc;
            a->threads = (unsigned)v;
            break;
        case 'h':
            fputs(quality ? quality_help : drift_help, stdout);
            return -1;
        case ':':
            return mw_cli_usage_error(cmd, "option %s needs a value", argv[optind - 1]);
        default:
            return mw_cli_usage_error(cmd, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return mw_cli_usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
    if (!a->reference || !a->current)
        return mw_cli_usage_error(cmd, "both --reference and --current are required");
    return 0;
}

static int run(const char *cmd, int quality, int argc, char **argv) {
    drift_args a;
    int rc = parse_args(cmd, quality, argc, argv, &a);
    if (rc) {
        free(a.columns);
        free(a.col_thresholds);
        free(a.embeddings);
        return rc < 0 ? MW_EXIT_OK : rc;
    }
    mw_cli_input in;
    mw_table *tables[2] = {NULL, NULL};
    mw_batch *batch = NULL;
    mw_error err;
    mw_error_clear(&err);
    if ((rc = mw_cli_input_open(cmd, &a.input, &in))) {
        free(a.columns);
        free(a.col_thresholds);
        free(a.embeddings);
        return rc;
    }
    in.ropt.expand_arrays = !quality; /* NDJSON embeddings */
    a.opt.histograms = a.format == MW_FORMAT_HTML;
    const char *paths[2] = {a.reference, a.current};
    double t0 = mw_cli_now();
    if ((rc = mw_cli_read_tables(cmd, paths, 2, &in.ropt, tables))) goto out;
    double t_read = mw_cli_now();
    if (mw_batch_new(tables[0], tables[1], &a.opt, &batch, &err) != MW_OK) {
        rc = mw_cli_error(cmd, "%s", err.message);
        goto out;
    }
    if ((rc = mw_cli_run_batch(cmd, batch, a.threads))) goto out;
    double t_tests = mw_cli_now();
    const mw_drift_report *r = mw_batch_report(batch);
    mw_cli_output o;
    if ((rc = mw_cli_output_open(cmd, a.output, &o))) goto out;
    mw_status st =
        quality ? mw_report_quality(o.f, r, a.format) : mw_report_drift(o.f, r, a.format);
    if ((rc = mw_cli_output_close(cmd, &o, st == MW_OK))) goto out;
    if (st != MW_OK) {
        rc = mw_cli_error(cmd, "writing the report failed");
        goto out;
    }
    if (a.timings)
        fprintf(stderr, "modelwatch %s: read %.3f s, %s %.3f s, report %.3f s\n", cmd, t_read - t0,
                quality ? "checks" : "tests", t_tests - t_read, mw_cli_now() - t_tests);
    if (a.fail &&
        (quality ? mw_report_quality_issue_count(r) > 0 : r->dataset_drift || r->embedding_drift))
        rc = MW_EXIT_CHECK_FAILED;
out:
    mw_batch_free(batch);
    mw_table_free(tables[0]);
    mw_table_free(tables[1]);
    mw_cli_input_close(&in);
    free(a.columns);
    free(a.col_thresholds);
    free(a.embeddings);
    return rc;
}

int mw_cmd_drift(int argc, char **argv) {
    return run("drift", 0, argc, argv);
}

int mw_cmd_quality(int argc, char **argv) {
    return run("quality", 1, argc, argv);
}
