/*
 * `modelwatch probes`: the golden-prompt probe sets of a running daemon
 * (GET /api/v1/probes) with their last run and its failures, or the stored
 * runs of one set (GET /api/v1/probes/{set}/runs), as a table or as the
 * API's JSON. Exit status 3 when a last run shown has a failing prompt, so
 * a CI step or a cron job can act on it.
 */
#include "alert/alert.h"
#include "cli/cli.h"
#include "cli/cli_http.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char probes_help[] =
    "usage: modelwatch probes [--url URL] [--set NAME] [--runs N] [--format text|json]\n"
    "\n"
    "Shows a running daemon's golden-prompt probe sets: model, runs, and the\n"
    "last run's passed prompts, pass ratio, mean latency and time to first\n"
    "token, with each failing prompt and why. With --set, the newest stored runs\n"
    "of that set instead. Exit status 0, 3 when a last run shown (the newest\n"
    "run with --set) has a failing prompt, 1 when the daemon cannot be reached\n"
    "or has no such set.\n"
    "\n"
    "options:\n"
    "  -u, --url URL        the daemon (default http://127.0.0.1:9750)\n"
    "  -s, --set NAME       the runs of one probe set\n"
    "  -n, --runs N         with --set: runs to show (default 10, 1 to 10000)\n"
    "  -f, --format FMT     text (default) or json (the API's answer)\n"
    "  -h, --help           show this help\n";

/* "0.342s", or "-" when the run has no such figure. */
static const char *seconds(const json_t *mean_max, char *buf, size_t size) {
    const json_t *m = json_object_get(mean_max, "mean");
    if (!json_is_number(m)) return "-";
    snprintf(buf, size, "%.3fs", json_number_value(m));
    return buf;
}

static const char *when(const json_t *run, char *buf, size_t size) {
    const json_t *end = json_object_get(run, "end");
    if (!json_is_number(end)) return "-";
    mw_format_rfc3339(json_number_value(end), buf, size);
    return buf;
}

/* 1 when the run has a prompt that failed. */
static int run_failed(const json_t *run) {
    return json_integer_value(json_object_get(run, "passed")) <
           json_integer_value(json_object_get(run, "prompts"));
}

/* 1 when a last run of the answer (the newest run with --set) failed. */
static int any_failed(const json_t *root, int set) {
    if (set) return run_failed(json_array_get(json_object_get(root, "runs"), 0));
    int failed = 0;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(root, "probe_sets"), i, v) failed |=
        run_failed(json_object_get(v, "last_run"));
    return failed;
}

/* One run's figures; the last column padded when more follows. */
static void print_run(const json_t *run, int more) {
    char t[40], lat[32], ttft[32], passed[32];
    json_int_t ok = json_integer_value(json_object_get(run, "passed"));
    json_int_t n = json_integer_value(json_object_get(run, "prompts"));
    snprintf(passed, sizeof passed, "%lld/%lld", (long long)ok, (long long)n);
    printf("%-25s %-7s %-6.3g %-9s %-*s", when(run, t, sizeof t), passed,
           json_number_value(json_object_get(run, "pass_ratio")),
           seconds(json_object_get(run, "latency_seconds"), lat, sizeof lat), more ? 9 : 0,
           seconds(json_object_get(run, "ttft_seconds"), ttft, sizeof ttft));
}

static void print_sets(const json_t *sets) {
    if (!json_array_size(sets)) {
        printf("no probe sets\n");
        return;
    }
    printf("%-16s %-20s %-6s %-25s %-7s %-6s %-9s %s\n", "SET", "MODEL", "RUNS", "LAST RUN (UTC)",
           "PASSED", "RATIO", "LATENCY", "TTFT");
    size_t i;
    json_t *s;
    json_array_foreach(sets, i, s) {
        const json_t *last = json_object_get(s, "last_run");
        printf("%-16s %-20s %-6lld ", json_string_value(json_object_get(s, "name")),
               json_string_value(json_object_get(s, "model")),
               (long long)json_integer_value(json_object_get(s, "runs")));
        if (!json_is_object(last)) {
            printf("(no run yet)\n");
            continue;
        }
        print_run(last, 0);
        printf("\n");
        size_t k;
        json_t *r;
        json_array_foreach(json_object_get(last, "results"), k, r) {
            if (json_is_true(json_object_get(r, "passed"))) continue;
            printf("    %s: %s: %s\n", json_string_value(json_object_get(r, "id")),
                   json_string_value(json_object_get(r, "reason")),
                   json_string_value(json_object_get(r, "detail")));
        }
    }
}

static void print_runs(const json_t *runs) {
    if (!json_array_size(runs)) {
        printf("no stored runs\n");
        return;
    }
    printf("%-25s %-7s %-6s %-9s %-9s %s\n", "END (UTC)", "PASSED", "RATIO", "LATENCY", "TTFT",
           "FAILURES");
    size_t i;
    json_t *run;
    json_array_foreach(runs, i, run) {
        print_run(run, 1);
        const char *k;
        json_t *v;
        int first = 1;
        json_object_foreach(json_object_get(run, "failures"), k, v) {
            printf("%s%s=%lld", first ? "" : " ", k, (long long)json_integer_value(v));
            first = 0;
        }
        printf("%s\n", first ? "-" : "");
    }
}

int mw_cmd_probes(int argc, char **argv) {
    static const struct option longopts[] = {
        {"url", required_argument, NULL, 'u'},  {"set", required_argument, NULL, 's'},
        {"runs", required_argument, NULL, 'n'}, {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
    const char *cmd = "probes", *url = "http://127.0.0.1:9750", *set = NULL;
    double runs = 10;
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":u:s:n:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            url = optarg;
            break;
        case 's':
            set = optarg;
            if (!*set || strlen(set) > 64 ||
                strspn(set, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
                            "OPQRSTUVWXYZ0123456789_.:-") != strlen(set))
                return mw_cli_usage_error(cmd, "--set expects a probe set name");
            break;
        case 'n':
            if (!mw_cli_parse_number(optarg, &runs) || runs < 1 || runs > 10000 ||
                runs != (long)runs)
                return mw_cli_usage_error(cmd, "--runs expects 1 to 10000");
            break;
        default: {
            int rc = mw_cli_common_option(cmd, c, argv, probes_help, &json);
            if (rc >= 0) return rc;
        }
        }
    }
    if (optind < argc) return mw_cli_usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
    char path[160];
    if (set)
        snprintf(path, sizeof path, "/api/v1/probes/%s/runs?limit=%.0f", set, runs);
    else
        snprintf(path, sizeof path, "/api/v1/probes");
    json_t *root;
    int rc = mw_cli_get_json(cmd, url, path, &root);
    if (rc) return rc;
    int failed = any_failed(root, set != NULL);
    if (json) {
        char *text = json_dumps(root, JSON_COMPACT);
        printf("%s\n", text ? text : "null");
        free(text);
    } else if (set) {
        print_runs(json_object_get(root, "runs"));
    } else {
        print_sets(json_object_get(root, "probe_sets"));
    }
    json_decref(root);
    return failed ? MW_EXIT_CHECK_FAILED : MW_EXIT_OK;
}
