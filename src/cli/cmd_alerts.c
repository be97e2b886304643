/*
 * `modelwatch alerts`: the current alerts of a running daemon and their
 * recent history, from GET /api/v1/alerts, as a table or as the API's JSON.
 */
#include "cli/cli.h"
#include "cli/cli_http.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char alerts_help[] =
    "usage: modelwatch alerts [--url URL] [--history N] [--format text|json]\n"
    "\n"
    "Shows a running daemon's alerts: those pending, firing, and resolved in the\n"
    "last 15 minutes, with their labels and annotations, then the newest state\n"
    "transitions. Exit status 0, or 1 when the daemon cannot be reached.\n"
    "\n"
    "options:\n"
    "  -u, --url URL        the daemon (default http://127.0.0.1:9750)\n"
    "  -n, --history N      transitions to show (default 20, 0 for none)\n"
    "  -f, --format FMT     text (default) or json (the API's answer as is)\n"
    "  -h, --help           show this help\n";

/* "k=v k2=v2" of a JSON object of strings, alertname left out. */
static void print_labels(const json_t *labels) {
    const char *k;
    json_t *v;
    int first = 1;
    json_object_foreach((json_t *)labels, k, v) {
        if (!strcmp(k, "alertname")) continue;
        printf("%s%s=%s", first ? "" : " ", k, json_string_value(v) ? json_string_value(v) : "");
        first = 0;
    }
}

static void print_value(const json_t *v) {
    if (json_is_number(v))
        printf("%-10.4g", json_number_value(v));
    else
        printf("%-10s", json_string_value(v) ? json_string_value(v) : "-");
}

static void print_alerts(const json_t *alerts) {
    if (!json_array_size(alerts)) {
        printf("no alerts\n");
        return;
    }
    printf("%-9s %-26s %-25s %-10s %s\n", "STATE", "RULE", "SINCE", "VALUE", "LABELS");
    size_t i;
    json_t *a;
    json_array_foreach(alerts, i, a) {
        const char *state = json_string_value(json_object_get(a, "state"));
        const char *since = json_string_value(
            json_object_get(a, state && !strcmp(state, "resolved") ? "resolvedAt" : "activeAt"));
        printf("%-9s %-26s %-25s ", state ? state : "?",
               json_string_value(json_object_get(a, "rule")), since ? since : "-");
        print_value(json_object_get(a, "value"));
        printf(" ");
        print_labels(json_object_get(a, "labels"));
        printf("\n");
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(a, "annotations"), k, v)
            printf("          %s: %s\n", k, json_string_value(v));
    }
}

static void print_history(const json_t *history) {
    if (!json_array_size(history)) return;
    printf("\nhistory (newest first):\n");
    size_t i;
    json_t *h;
    json_array_foreach(history, i, h) {
        printf("  %s  %-26s %-8s -> %-8s ", json_string_value(json_object_get(h, "at")),
               json_string_value(json_object_get(h, "rule")),
               json_string_value(json_object_get(h, "from")),
               json_string_value(json_object_get(h, "to")));
        print_labels(json_object_get(h, "labels"));
        printf("\n");
    }
}

int mw_cmd_alerts(int argc, char **argv) {
    static const struct option longopts[] = {{"url", required_argument, NULL, 'u'},
                                             {"history", required_argument, NULL, 'n'},
                                             {"format", required_argument, NULL, 'f'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *cmd = "alerts", *url = "http://127.0.0.1:9750";
    double history = 20;
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":u:n:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            url = optarg;
            break;
        case 'n':
            if (!mw_cli_parse_number(optarg, &history) || history < 0 || history > 100000)
                return mw_cli_usage_error(cmd, "--history expects 0 to 100000");
            break;
        default: {
            int rc = mw_cli_common_option(cmd, c, argv, alerts_help, &json);
            if (rc >= 0) return rc;
        }
        }
    }
    if (optind < argc) return mw_cli_usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
    char path[64];
    snprintf(path, sizeof path, "/api/v1/alerts?history=%.0f", history);
    json_t *root;
    int rc = mw_cli_get_json(cmd, url, path, &root);
    if (rc == MW_EXIT_OK && json) {
        char *text = json_dumps(root, JSON_COMPACT);
        printf("%s\n", text ? text : "null");
        free(text);
    } else if (rc == MW_EXIT_OK) {
        print_alerts(json_object_get(root, "alerts"));
        print_history(json_object_get(root, "history"));
    }
    json_decref(root);
    return rc;
}
