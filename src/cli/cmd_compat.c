/*
 * `modelwatch compat MODEL OLD NEW`: the compatibility of two registry
 * versions' signatures (signature.h: every difference, compatible or
 * breaking, and a verdict). OLD and NEW are version names or @ALIAS. Exit 3
 * when any change is breaking, so it can gate a CI pipeline.
 */
#include "cli/cli.h"
#include "cli/registry_int.h"

#include "modelwatch/registry.h"
#include "modelwatch/signature.h"

#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static const char compat_help[] =
    "usage: modelwatch compat [--db PATH] [--format text|json] MODEL OLD NEW\n"
    "\n"
    "Compares the signatures of two registered versions (OLD and NEW are version\n"
    "names or @ALIAS, e.g. @production) and classifies each difference:\n"
    "compatible (new optional input, input type widened as MLflow allows:\n"
    "integer -> long, integer -> double, float -> double; new output, ...) or\n"
    "breaking (removed or newly required input, narrowed or changed type,\n"
    "changed class set, ...). README \"Model registry\" has the full table.\n"
    "\n"
    "options:\n"
    "  -d, --db PATH        the database (default ./modelwatch.db)\n"
    "  -f, --format FMT     text (default) or json\n"
    "  -h, --help           show this help\n"
    "exit status: 0 compatible, 1 error, 2 usage, 3 breaking\n";

static const char *cmd = "compat";

/* The signature of model/version (version may be @alias); 1 on success. */
static int load(mw_store *s, const char *model, const char *name, char **resolved,
                mw_signature *sig) {
    *resolved = mw_cli_resolve_version(cmd, s, model, name);
    if (!*resolved) return 0;
    char *text = NULL;
    mw_error err;
    if (mw_registry_get_version(s, model, *resolved, &text, &err)) {
        mw_cli_error(cmd, "%s", err.message);
        return 0;
    }
    json_t *v = json_loads(text, 0, NULL);
    free(text);
    json_t *js = json_object_get(v, "signature");
    char *st = json_is_object(js) ? json_dumps(js, JSON_COMPACT) : NULL;
    json_decref(v);
    if (!st) {
        mw_cli_error(cmd, "model \"%s\" version \"%s\" has no signature in the registry", model,
                     *resolved);
        return 0;
    }
    int ok = mw_signature_parse(st, "stored signature", sig, &err) == MW_OK;
    if (!ok) mw_cli_error(cmd, "%s", err.message);
    free(st);
    return ok;
}

static void print_text(const char *model, const char *o, const char *n, const mw_compat_report *r) {
    printf("%s: %s -> %s\n", model, o, n);
    size_t nb = 0;
    for (size_t i = 0; i < r->n; i++) {
        const mw_compat_change *c = &r->changes[i];
        nb += (size_t)c->breaking;
        printf("  %-10s %-22s %s\n", c->breaking ? "BREAKING" : "compatible",
               mw_compat_kind_name(c->kind), c->message);
    }
    if (!r->n) printf("  no differences\n");
    printf("verdict: %s (%zu change%s, %zu breaking)\n", r->breaking ? "breaking" : "compatible",
           r->n, r->n == 1 ? "" : "s", nb);
}

static void print_json(const char *model, const char *o, const char *n, const mw_compat_report *r) {
    json_t *changes = json_array();
    for (size_t i = 0; i < r->n; i++) {
        const mw_compat_change *c = &r->changes[i];
        json_array_append_new(changes, json_pack("{s:s, s:s, s:b, s:s}", "kind",
                                                 mw_compat_kind_name(c->kind), "field", c->field,
                                                 "breaking", c->breaking, "message", c->message));
    }
    json_t *root =
        json_pack("{s:s, s:s, s:s, s:s, s:o}", "model", model, "old", o, "new", n, "verdict",
                  r->breaking ? "breaking" : "compatible", "changes", changes);
    char *text = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
    printf("%s\n", text);
    free(text);
    json_decref(root);
}

int mw_cmd_compat(int argc, char **argv) {
    static const struct option longopts[] = {{"db", required_argument, NULL, 'd'},
                                             {"format", required_argument, NULL, 'f'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *db = "./modelwatch.db";
    int json = 0, c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            db = optarg;
            break;
        case 'f':
            if (!mw_cli_text_or_json(optarg, &json))
                return mw_cli_usage_error(cmd, "--format expects text or json");
            break;
        case 'h':
            fputs(compat_help, stdout);
            return MW_EXIT_OK;
        case ':':
            return mw_cli_usage_error(cmd, "option %s needs a value", argv[optind - 1]);
        default:
            return mw_cli_usage_error(cmd, "unknown option %s", argv[optind - 1]);
        }
    }
    if (argc - optind != 3) return mw_cli_usage_error(cmd, "expected MODEL OLD NEW (see --help)");
    const char *model = argv[optind];
    mw_store *s = mw_cli_open_db(cmd, db);
    if (!s) return MW_EXIT_ERROR;
    char *o = NULL, *n = NULL;
    mw_signature a = {0}, b = {0};
    mw_compat_report r = {0};
    int rc = MW_EXIT_ERROR;
    if (load(s, model, argv[optind + 1], &o, &a) && load(s, model, argv[optind + 2], &n, &b)) {
        if (mw_signature_compat(&a, &b, &r)) {
            rc = mw_cli_error(cmd, "out of memory");
        } else {
            if (json)
                print_json(model, o, n, &r);
            else
                print_text(model, o, n, &r);
            rc = r.breaking ? MW_EXIT_CHECK_FAILED : MW_EXIT_OK;
        }
    }
    mw_compat_report_free(&r);
    mw_signature_free(&a);
    mw_signature_free(&b);
    free(o);
    free(n);
    mw_store_close(s);
    return rc;
}
