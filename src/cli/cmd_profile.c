/*
 * `modelwatch profile FILE`: per-column summary of one data set (counts,
 * missing values, distinct values, moments, quantiles, top categories), the
 * same profile the daemon keeps per window. --save writes the binary profile
 * for later merging.
 */
#include "cli/cli.h"
#include "modelwatch/profile.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char profile_help[] =
    "usage: modelwatch profile FILE [options]\n"
    "\n"
    "Summarises each column of FILE (CSV or NDJSON/JSONL, optionally gzip; '-' is\n"
    "stdin): count, missing, distinct, min, max, mean, standard deviation,\n"
    "quantiles (1, 5, 25, 50, 75, 95, 99 %) and the most frequent categories.\n"
    "\n"
    "options:\n" MW_CLI_INPUT_HELP "  -f, --format text|json|html   report format (default text)\n"
    "  -o, --output FILE        write the report to FILE (default stdout)\n"
    "      --save FILE          also write the binary, mergeable profile to FILE\n"
    "      --sample N           values kept per numeric column for quantiles\n"
    "                           (default 100000; exact below that)\n"
    "  -h, --help               show this help\n";

enum { OPT_SCHEMA = 1000, OPT_SAVE, OPT_SAMPLE, OPT_REFUSALS, OPT_NO_INFER, OPT_MAX_LINE };

static int save_profile(const mw_profile *p, const char *path) {
    unsigned char *buf;
    size_t len;
    if (mw_profile_serialize(p, &buf, &len) != MW_OK)
        return mw_cli_error("profile", "out of memory");
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(buf, 1, len, f) == len;
    if (f && fclose(f) != 0) ok = 0;
    free(buf);
    if (!ok) return mw_cli_error("profile", "cannot write %s: %s", path, strerror(errno));
    return MW_EXIT_OK;
}

int mw_cmd_profile(int argc, char **argv) {
    static const struct option longopts[] = {{"schema", required_argument, NULL, OPT_SCHEMA},
                                             {"refusals", required_argument, NULL, OPT_REFUSALS},
                                             {"no-text-inference", no_argument, NULL, OPT_NO_INFER},
                                             {"max-line", required_argument, NULL, OPT_MAX_LINE},
                                             {"format", required_argument, NULL, 'f'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"save", required_argument, NULL, OPT_SAVE},
                                             {"sample", required_argument, NULL, OPT_SAMPLE},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *cmd = "profile", *output = NULL, *save = NULL;
    mw_cli_input_args input = {0};
    mw_report_format fmt = MW_FORMAT_TEXT;
    mw_profile_options popt = {0};
    double v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_SCHEMA:
            input.schema = optarg;
            break;
        case OPT_REFUSALS:
            input.refusals = optarg;
            break;
        case OPT_NO_INFER:
            input.no_text_inference = 1;
            break;
        case OPT_MAX_LINE: {
            int rc = mw_cli_parse_max_line(cmd, optarg, &input.max_line);
            if (rc) return rc;
            break;
        }
        case 'f':
            if (!mw_report_format_from_name(optarg, &fmt))
                return mw_cli_usage_error(cmd, "--format expects text, json or html, got \"%s\"",
                                          optarg);
            break;
        case 'o':
            output = optarg;
            break;
        case OPT_SAVE:
            save = optarg;
            break;
        case OPT_SAMPLE:
            if (!mw_cli_parse_number(optarg, &v) || v < 1 || v > 1e8)
                return mw_cli_usage_error(cmd, "--sample expects a count from 1 to 100000000");
            popt.sample_capacity = (size_t)v;
            break;
        case 'h':
            fputs(profile_help, stdout);
            return MW_EXIT_OK;
        case ':':
            return mw_cli_usage_error(cmd, "option %s needs a value", argv[optind - 1]);
        default:
            return mw_cli_usage_error(cmd, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind != argc - 1) return mw_cli_usage_error(cmd, "expects exactly one FILE");
    const char *path = argv[optind];
    mw_cli_input in;
    int rc = mw_cli_input_open(cmd, &input, &in);
    if (rc) return rc;
    mw_table *t = NULL;
    rc = mw_cli_read_tables(cmd, &path, 1, &in.ropt, &t);
    mw_profile *p = NULL;
    if (!rc) {
        mw_cli_progress("profiling %zu columns ...", t->ncols);
        if (mw_profile_from_table(t, &popt, &p) != MW_OK) rc = mw_cli_error(cmd, "out of memory");
        mw_cli_progress_done();
    }
    if (!rc && save) rc = save_profile(p, save);
    if (!rc) {
        mw_cli_output o;
        if (!(rc = mw_cli_output_open(cmd, output, &o))) {
            mw_status st = mw_report_profile(o.f, p, t->source, t->nrows, fmt);
            rc = mw_cli_output_close(cmd, &o, st == MW_OK);
            if (!rc && st) rc = mw_cli_error(cmd, "writing the report failed");
        }
    }
    mw_profile_free(p);
    mw_table_free(t);
    mw_cli_input_close(&in);
    return rc;
}
