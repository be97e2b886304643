/*
 * modelwatch command-line entry point: dispatches git-style subcommands.
 * Exit codes (DESIGN.md): 0 ok, 1 error, 2 usage, 3 a check failed.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} command;

static const command commands[] = {
    {"drift", mw_cmd_drift, "compare current data with a reference: drift tests and quality"},
    {"quality", mw_cmd_quality, "data-quality checks of current data against a reference"},
    {"profile", mw_cmd_profile, "summarise each column of a data file"},
    {"outliers", mw_cmd_outliers, "find anomalous rows: isolation forest or local outlier factor"},
    {"serve", mw_cmd_serve, "run the live monitoring daemon (HTTP, SQLite, /metrics)"},
    {"demo", mw_cmd_demo, "start the daemon with a demo model and drifting traffic"},
    {"top", mw_cmd_top, "live serving and resource view of a running daemon"},
    {"eval", mw_cmd_eval, "model performance on labelled data, or estimated without labels"},
    {"compare", mw_cmd_compare,
     "regression gate: a candidate version against the baseline, golden set"},
    {"alerts", mw_cmd_alerts, "current alerts and their history, from a running daemon"},
    {"rules", mw_cmd_rules, "check alert rules, or export them as Prometheus rules"},
    {"registry", mw_cmd_registry, "model registry: versions, signatures, aliases, promotion"},
    {"compat", mw_cmd_compat, "compatibility of two registered versions' signatures"},
    {"diagnose", mw_cmd_diagnose, "what changed for a model: ranked findings, then a timeline"},
    {"probes", mw_cmd_probes, "golden-prompt probes of a running daemon: last runs, failures"},
};

static void usage(FILE *out) {
    fprintf(out, "usage: modelwatch <command> [options]\n\n"
                 "modelwatch watches machine-learning models in production.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\n'modelwatch <command> --help' describes each command.\n"
                 "exit status: 0 ok, 1 error, 2 usage, 3 a check failed (drift found,\n"
                 "gate not passed)\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return MW_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (!strcmp(name, "--version") || !strcmp(name, "version")) {
        printf("modelwatch %s\n", MW_VERSION);
        return MW_EXIT_OK;
    }
    if (!strcmp(name, "--help") || !strcmp(name, "-h") || !strcmp(name, "help")) {
        usage(stdout);
        return MW_EXIT_OK;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (!strcmp(name, commands[i].name)) return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "modelwatch: unknown command \"%s\"\n\n", name);
    usage(stderr);
    return MW_EXIT_USAGE;
}
