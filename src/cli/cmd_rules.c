/*
 * `modelwatch rules check|export`: checks alert rules without starting the
 * daemon, and writes them as Prometheus alerting rules for teams that let
 * Prometheus evaluate (promtool check rules accepts the file). Rules come
 * from a configuration file, the starter set, or a running daemon.
 */
#include "cli/cli.h"
#include "cli/cli_http.h"

#include "alert/rules.h"
#include "server/daemon.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

static const char rules_help[] =
    "usage: modelwatch rules check  [--config FILE] [--starter]\n"
    "       modelwatch rules export [--config FILE] [--starter] [--url URL]\n"
    "                               [--group NAME] [--output FILE]\n"
    "\n"
    "check   reads the rules of a configuration file (and the starter rules with\n"
    "        --starter) and reports the first error with the rule and position.\n"
    "export  writes the rules as Prometheus alerting rules (YAML for rule_files:)\n"
    "        that fire the same alerts on the daemon's scraped metrics; a rule's\n"
    "        rollback: {model, alias} becomes the annotation modelwatch_rollback.\n"
    "\n"
    "options:\n"
    "  -c, --config FILE    the daemon's YAML configuration (its rules: list)\n"
    "  -s, --starter        add the starter rules (README \"Alerting\")\n"
    "  -u, --url URL        export the rules of a running daemon instead\n"
    "  -g, --group NAME     Prometheus rule group name (default modelwatch)\n"
    "  -o, --output FILE    write there instead of standard output\n"
    "  -h, --help           show this help\n";

/* The rules of a running daemon (GET /api/v1/rules). */
static int rules_from_daemon(const char *cmd, const char *url, mw_rule_set *out) {
    json_t *root;
    int rc = mw_cli_get_json(cmd, url, "/api/v1/rules", &root);
    mw_error err;
    mw_error_clear(&err);
    if (rc == MW_EXIT_OK && mw_rules_from_json(json_object_get(root, "rules"), "rules", out, &err))
        rc = mw_cli_error(cmd, "%s", err.message);
    json_decref(root);
    return rc;
}

/* The rules of the configuration and/or the starter set. */
static int rules_from_files(const char *cmd, const char *config, int starter, mw_rule_set *out) {
    mw_error err;
    mw_error_clear(&err);
    mw_daemon_config cfg;
    mw_daemon_config_defaults(&cfg);
    int rc = MW_EXIT_OK;
    if (config && mw_daemon_config_load(config, &cfg, &err))
        rc = mw_cli_error(cmd, "%s", err.message);
    else if (mw_rules_from_json(cfg.alerting.rules, "rules", out, &err))
        rc = mw_cli_error(cmd, "%s: %s", config, err.message);
    if (!rc && (starter || cfg.alerting.starter_rules)) {
        mw_rule_set s;
        if (mw_rules_starter(&s, &err) || mw_rules_merge(out, &s))
            rc = mw_cli_error(cmd, "%s", err.message);
        mw_rules_free(&s);
    }
    mw_daemon_config_free(&cfg);
    return rc;
}

int mw_cmd_rules(int argc, char **argv) {
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"starter", no_argument, NULL, 's'},
                                             {"url", required_argument, NULL, 'u'},
                                             {"group", required_argument, NULL, 'g'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *cmd = "rules", *config = NULL, *url = NULL, *group = "modelwatch", *output = NULL;
    int starter = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:su:g:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            config = optarg;
            break;
        case 's':
            starter = 1;
            break;
        case 'u':
            url = optarg;
            break;
        case 'g':
            group = optarg;
            break;
        case 'o':
            output = optarg;
            break;
        case 'h':
            fputs(rules_help, stdout);
            return MW_EXIT_OK;
        case ':':
            return mw_cli_usage_error(cmd, "option %s needs a value", argv[optind - 1]);
        default:
            return mw_cli_usage_error(cmd, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind >= argc) return mw_cli_usage_error(cmd, "expected check or export (see --help)");
    const char *action = argv[optind++];
    int export = !strcmp(action, "export");
    if (!export && strcmp(action, "check"))
        return mw_cli_usage_error(cmd, "unknown action \"%s\" (check or export)", action);
    if (optind < argc) return mw_cli_usage_error(cmd, "unexpected argument \"%s\"", argv[optind]);
    if (!config && !starter && !url)
        return mw_cli_usage_error(cmd, "give --config FILE, --starter or --url URL");
    if (url && (config || starter))
        return mw_cli_usage_error(cmd,
                                  "--url reads the daemon's rules; leave out --config/--starter");
    mw_rule_set rules = {0};
    int rc =
        url ? rules_from_daemon(cmd, url, &rules) : rules_from_files(cmd, config, starter, &rules);
    if (rc) return rc;
    if (!export) {
        printf("%zu rule%s OK\n", rules.n, rules.n == 1 ? "" : "s");
    } else {
        char *yaml = mw_rules_export_prometheus(&rules, group);
        mw_cli_output out;
        if (!yaml)
            rc = mw_cli_error(cmd, "out of memory");
        else if ((rc = mw_cli_output_open(cmd, output, &out)) == MW_EXIT_OK)
            rc = mw_cli_output_close(cmd, &out, fputs(yaml, out.f) >= 0);
        free(yaml);
    }
    mw_rules_free(&rules);
    return rc;
}
