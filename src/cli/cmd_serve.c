/*
 * `modelwatch serve`: the live monitoring daemon. Flags override the YAML
 * configuration, which overrides the embedded defaults (listen
 * 127.0.0.1:9750, database ./modelwatch.db). Runs until SIGINT or SIGTERM,
 * then stops accepting, finishes requests in flight and closes the database
 * (acknowledged records are journaled already, so even kill -9 loses nothing).
 */
#include "cli/cli.h"
#include "server/daemon.h"

#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

static const char serve_help[] =
    "usage: modelwatch serve [--config FILE] [--listen HOST:PORT] [--db PATH] [options]\n"
    "\n"
    "Runs the monitoring daemon: receives prediction records over HTTP, keeps a\n"
    "tumbling window per model version, tests each closed window against the\n"
    "version's reference, stores results in SQLite and exposes Prometheus metrics.\n"
    "\n"
    "options:\n"
    "  -c, --config FILE        YAML configuration (listen, db, http, models,\n"
    "                           resources, labels, canary, alerting, rules, probes:\n"
    "                           golden prompts sent to an OpenAI-compatible\n"
    "                           endpoint on a schedule)\n"
    "  -l, --listen HOST:PORT   address to listen on (default 127.0.0.1:9750;\n"
    "                           use 0.0.0.0:9750 to accept other hosts)\n"
    "      --db PATH            SQLite database (default ./modelwatch.db); the journal\n"
    "                           of accepted records goes to PATH-records/\n"
    "      --threads N          a pool of N HTTP threads, each keeping the connections\n"
    "                           it accepted (default 0: a thread per connection)\n"
    "      --max-body BYTES     largest request body, after gzip decoding (default 64 MiB)\n"
    "      --watch-pid PID      also report this process's resources (repeatable)\n"
    "      --watch-process NAME also report processes of this name, found again\n"
    "                           after a restart (repeatable), e.g. the model server\n"
    "      --starter-rules      enable the starter alert rules (dataset drift, accuracy,\n"
    "                           outliers, errors, p99 latency, probe pass ratio, GPU\n"
    "                           memory; README \"Alerting\")\n"
    "      --alertmanager URL   send alerts to this Alertmanager (http://host:9093)\n"
    "  -h, --help               show this help\n"
    "\n"
    "endpoints: /healthz /readyz /metrics /api/v1/records /api/v1/models[/...]\n"
    "/api/v1/rules /api/v1/alerts /api/v1/probes[/...]\n"
    "/v1/traces (OTLP/HTTP protobuf or JSON; models mapped under otlp:)\n"
    "(see README.md, \"The daemon\").\n"
    "\n"
    "canary: versions behind the registry aliases production and canary (config\n"
    "canary: to rename them) are compared window by window: GET\n"
    "/api/v1/models/{model}/canary, metrics modelwatch_canary_*. A rule with\n"
    "rollback: {model, alias} rolls the alias back when it fires (README \"Canary\n"
    "comparison and automatic rollback\").\n"
    "\n"
    "text: a record's \"prompt\", \"completion\" and text features (\"features\":\n"
    "{\"review\": \"...\"}) are monitored through their descriptors (prompt.chars,\n"
    "review.refusal, ...) when the version's reference has those text columns\n"
    "(named prompt/completion, columns: {review: {type: text}}, or inferred); raw\n"
    "text is never stored. Version option text: {refusals: [...], samples: N} keeps\n"
    "N redacted examples per window, read at /api/v1/models/M/versions/V/samples\n"
    "(README.md, \"Text columns\").\n";

enum {
    OPT_DB = 1000,
    OPT_THREADS,
    OPT_MAX_BODY,
    OPT_WATCH_PID,
    OPT_WATCH_PROCESS,
    OPT_STARTER_RULES,
    OPT_ALERTMANAGER
};

int mw_cmd_serve(int argc, char **argv) {
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"listen", required_argument, NULL, 'l'},
        {"db", required_argument, NULL, OPT_DB},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"max-body", required_argument, NULL, OPT_MAX_BODY},
        {"watch-pid", required_argument, NULL, OPT_WATCH_PID},
        {"watch-process", required_argument, NULL, OPT_WATCH_PROCESS},
        {"starter-rules", no_argument, NULL, OPT_STARTER_RULES},
        {"alertmanager", required_argument, NULL, OPT_ALERTMANAGER},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *cmd = "serve", *config = NULL, *listen = NULL, *db = NULL, *alertmanager = NULL;
    int starter_rules = 0;
    double threads = -1, max_body = 0;
    pid_t wpids[MW_MAX_TARGETS];
    const char *wnames[MW_MAX_TARGETS];
    size_t nwpids = 0, nwnames = 0;
    double pv;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:l:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 'l':
            listen = optarg;
            break;
        case OPT_DB:
            db = optarg;
            break;
        case OPT_THREADS:
            if (!mw_cli_parse_number(optarg, &threads) || threads < 0 || threads > 256)
                return mw_cli_usage_error(cmd, "--threads expects 0 to 256");
            break;
        case OPT_MAX_BODY:
            if (!mw_cli_parse_number(optarg, &max_body) || max_body < 1024)
                return mw_cli_usage_error(cmd, "--max-body expects a byte count >= 1024");
            break;
        case OPT_WATCH_PID:
            if (!mw_cli_parse_number(optarg, &pv) || pv < 1 || pv != floor(pv) ||
                nwpids >= MW_MAX_TARGETS)
                return mw_cli_usage_error(cmd, "--watch-pid expects a process id (at most 64)");
            wpids[nwpids++] = (pid_t)pv;
            break;
        case OPT_WATCH_PROCESS:
            if (!*optarg || nwnames >= MW_MAX_TARGETS)
                return mw_cli_usage_error(cmd, "--watch-process expects a name (at most 64)");
            wnames[nwnames++] = optarg;
            break;
        case OPT_STARTER_RULES:
            starter_rules = 1;
            break;
        case OPT_ALERTMANAGER:
            alertmanager = optarg;
            break;
        case 'h':
            fputs(serve_help, stdout);
            return MW_EXIT_OK;
        case ':':
            return mw_cli_usage_error(cmd, "option %s needs a value", argv[optind - 1]);
        default:
            return mw_cli_usage_error(cmd, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc) return mw_cli_usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
    mw_daemon_config cfg;
    mw_daemon_config_defaults(&cfg);
    mw_error err;
    mw_error_clear(&err);
    if (config && mw_daemon_config_load(config, &cfg, &err) != MW_OK) {
        mw_daemon_config_free(&cfg);
        return mw_cli_error(cmd, "%s", err.message);
    }
    if (listen) {
        free(cfg.listen);
        cfg.listen = strdup(listen);
    }
    if (db) {
        free(cfg.db);
        cfg.db = strdup(db);
    }
    if (threads >= 0) cfg.threads = (unsigned)threads;
    for (size_t i = 0; i < nwpids && cfg.nwatch_pids < MW_MAX_TARGETS; i++)
        cfg.watch_pids[cfg.nwatch_pids++] = wpids[i];
    for (size_t i = 0; i < nwnames && cfg.nwatch_names < MW_MAX_TARGETS; i++)
        cfg.watch_names[cfg.nwatch_names++] = strdup(wnames[i]);
    if (max_body > 0) cfg.max_body_bytes = (size_t)max_body;
    if (starter_rules) cfg.alerting.starter_rules = 1;
    if (alertmanager) {
        free(cfg.alerting.alertmanager_url);
        cfg.alerting.alertmanager_url = strdup(alertmanager);
    }
    sigset_t set;
    mw_cli_block_signals(&set); /* before any thread starts, so all inherit the mask */
    mw_daemon d;
    if (mw_daemon_start(&d, &cfg, &err) != MW_OK) {
        int rc = mw_cli_error(cmd, "%s", err.message);
        mw_daemon_config_free(&cfg);
        return rc;
    }
    fprintf(stderr, "modelwatch %s: listening on http://%s (database %s); Ctrl-C to stop\n",
            MW_VERSION, d.address, cfg.db);
    int sig = mw_cli_wait_signal(&set, 0);
    fprintf(stderr, "modelwatch: %s received, stopping\n", strsignal(sig));
    mw_daemon_stop(&d);
    mw_daemon_config_free(&cfg);
    return MW_EXIT_OK;
}
