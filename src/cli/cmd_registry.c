/*
 * `modelwatch registry ...`: the model registry (registry.h) on the database
 * file directly (--db, default ./modelwatch.db), so it works without the
 * daemon and beside it (SQLite arbitrates; the daemon sees alias moves within
 * a second, README "Model registry"). Promotion refusals exit 3 like other
 * failed checks; a missing model, version or alias exits 1 with a sentence
 * naming it.
 */
#include "cli/cli.h"
#include "cli/registry_int.h"

#include "modelwatch/registry.h"
#include "modelwatch/signature.h"
#include "server/daemon.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char registry_help[] =
    "usage: modelwatch registry [--db PATH] ACTION ...\n"
    "\n"
    "actions:\n"
    "  create MODEL [--description TEXT]\n"
    "  register MODEL VERSION [--description TEXT] [--artifact URI] [--sha256 HEX]\n"
    "           [--signature FILE] [--tags k=v,...]\n"
    "  import-mlflow DIR --model MODEL --version VERSION [--description TEXT]\n"
    "           [--artifact URI] [--sha256 HEX] [--tags k=v,...]\n"
    "                               register a version with the signature of DIR/MLmodel\n"
    "  list [MODEL]                 models, versions and aliases\n"
    "  show MODEL VERSION           one version (VERSION may be @ALIAS)\n"
    "  set-eval MODEL VERSION FILE  store an evaluation result (`modelwatch compare\n"
    "                               --format json` output) used by promote's gate check\n"
    "  set-alias MODEL ALIAS VERSION    point an alias at a version, no checks\n"
    "  promote MODEL VERSION --alias ALIAS [--require-gate] [--force]\n"
    "                               refused (exit 3) when the stored gate failed (or is\n"
    "                               absent with --require-gate) or the signature breaks\n"
    "                               against the alias's current version, unless --force\n"
    "  rollback MODEL --alias ALIAS move the alias back to its previous version\n"
    "  audit [MODEL] [--alias ALIAS] [--limit N]   alias moves, newest first\n"
    "  delete MODEL VERSION         refused while an alias points to it\n"
    "\n"
    "options:\n"
    "  -d, --db PATH          the database (default ./modelwatch.db)\n"
    "  -w, --who NAME         who moves an alias (default $USER)\n"
    "  -r, --reason TEXT      why, for the audit log\n"
    "  -f, --format FMT       text (default) or json\n"
    "  -h, --help             show this help\n"
    "exit status: 0 ok, 1 error, 2 usage, 3 promotion refused\n";

enum {
    O_DESCRIPTION = 256,
    O_ARTIFACT,
    O_SHA256,
    O_SIGNATURE,
    O_TAGS,
    O_MODEL,
    O_VERSION,
    O_ALIAS,
    O_REQUIRE_GATE,
    O_FORCE,
    O_LIMIT
};

typedef struct opts {
    const char *db, *who, *reason, *description, *artifact, *sha256, *signature, *model, *version,
        *alias;
    json_t *tags;
    int json, require_gate, force;
    double limit;
} opts;

static const char *cmd = "registry";

static int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

char *mw_cli_read_text(const char *cmd_name, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        mw_cli_error(cmd_name, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    char chunk[8192];
    size_t n;
    while (m && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, m);
    int bad = ferror(f);
    fclose(f);
    if (m) fclose(m);
    if (bad || !buf) {
        mw_cli_error(cmd_name, "%s: read error", path);
        free(buf);
        return NULL;
    }
    return buf;
}

mw_store *mw_cli_open_db(const char *cmd_name, const char *db) {
    mw_store *s = NULL;
    mw_error err;
    if (mw_store_open(db, NULL, &s, &err)) mw_cli_error(cmd_name, "%s", err.message);
    return s;
}

/* Resolves "@alias" to the alias's version (malloc'd), or copies the name. */
char *mw_cli_resolve_version(const char *cmd_name, mw_store *s, const char *model,
                             const char *version) {
    if (version[0] != '@') return strdup(version);
    char *v = NULL;
    mw_error err;
    if (mw_registry_get_alias(s, model, version + 1, &v, &err))
        mw_cli_error(cmd_name, "%s", err.message);
    return v;
}

/* --tags k=v,k2=v2 (repeatable) into o->tags. */
static int add_tags(opts *o, char *arg) {
    char *save = NULL;
    for (char *kv = strtok_r(arg, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(kv, '=');
        if (!eq || eq == kv) return mw_cli_usage_error(cmd, "--tags expects k=v, got \"%s\"", kv);
        *eq = 0;
        json_object_set_new(o->tags, kv, json_string(eq + 1));
    }
    return 0;
}

static void print_version(const json_t *v) {
    printf("%s version %s\n", json_string_value(json_object_get(v, "model")),
           json_string_value(json_object_get(v, "version")));
    printf("  description:  %s\n", json_string_value(json_object_get(v, "description")));
    printf("  artifact:     %s\n", json_string_value(json_object_get(v, "artifact_uri")));
    const char *sha = json_string_value(json_object_get(v, "sha256"));
    printf("  sha256:       %s\n", sha ? sha : "-");
    time_t t = (time_t)(json_integer_value(json_object_get(v, "created_ms")) / 1000);
    char when[32];
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
    printf("  created:      %s\n", when);
    const char *k;
    json_t *x;
    size_t i;
    printf("  tags:        ");
    json_object_foreach(json_object_get(v, "tags"), k, x) printf(" %s=%s", k, json_string_value(x));
    printf("\n  aliases:     ");
    json_array_foreach(json_object_get(v, "aliases"), i, x) printf(" %s", json_string_value(x));
    const json_t *sig = json_object_get(v, "signature");
    printf("\n  signature:    %s\n", json_is_object(sig) ? "" : "none");
    const char *sides[2] = {"inputs", "outputs"};
    for (int s = 0; s < 2 && json_is_object(sig); s++)
        json_array_foreach(json_object_get(sig, sides[s]), i, x)
            printf("    %-7s %-24s %-8s %s\n", s ? "output" : "input",
                   json_string_value(json_object_get(x, "name")),
                   json_string_value(json_object_get(x, "type")),
                   json_is_true(json_object_get(x, "required")) ? "required" : "optional");
    if (json_is_object(sig) && json_object_get(sig, "classes")) {
        printf("    classes:");
        json_array_foreach(json_object_get(sig, "classes"), i, x)
            printf(" %s", json_string_value(x));
        printf("\n");
    }
    const json_t *passed =
        json_object_get(json_object_get(json_object_get(v, "eval"), "gate"), "passed");
    printf("  gate:         %s\n",
           json_is_boolean(passed) ? (json_is_true(passed) ? "passed" : "FAILED")
           : json_is_object(json_object_get(v, "eval")) ? "evaluation stored, no gate"
                                                        : "none stored");
}

/* Prints a JSON answer as is (--format json) or through the text printer. */
static int answer(const opts *o, mw_status st, const mw_error *err, char *json,
                  void (*text)(const json_t *)) {
    if (st) return mw_cli_error(cmd, "%s", err->message);
    if (o->json) {
        printf("%s\n", json);
    } else {
        json_t *v = json_loads(json, 0, NULL);
        text(v);
        json_decref(v);
    }
    free(json);
    return MW_EXIT_OK;
}

static void print_list(const json_t *root) {
    size_t i, j;
    json_t *m, *v;
    if (!json_array_size(json_object_get(root, "models"))) printf("no models in the registry\n");
    json_array_foreach(json_object_get(root, "models"), i, m) {
        printf("%s%s%s\n", json_string_value(json_object_get(m, "name")),
               *json_string_value(json_object_get(m, "description")) ? "  " : "",
               json_string_value(json_object_get(m, "description")));
        json_array_foreach(json_object_get(m, "versions"), j, v) {
            printf("  %-12s %-10s", json_string_value(json_object_get(v, "version")),
                   json_is_object(json_object_get(v, "signature")) ? "signature" : "-");
            size_t k;
            json_t *a;
            json_array_foreach(json_object_get(v, "aliases"), k, a)
                printf(" @%s", json_string_value(a));
            printf("  %s\n", json_string_value(json_object_get(v, "description")));
        }
    }
}

static void print_audit(const json_t *root) {
    size_t i;
    json_t *r;
    if (!json_array_size(json_object_get(root, "audit"))) printf("no alias moves\n");
    json_array_foreach(json_object_get(root, "audit"), i, r) {
        time_t t = (time_t)(json_integer_value(json_object_get(r, "at_ms")) / 1000);
        char when[32];
        strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
        const char *from = json_string_value(json_object_get(r, "from"));
        const char *to = json_string_value(json_object_get(r, "to"));
        printf("%s  %-8s %s@%s  %s -> %s  by %s: %s\n", when,
               json_string_value(json_object_get(r, "action")),
               json_string_value(json_object_get(r, "model")),
               json_string_value(json_object_get(r, "alias")), from ? from : "(none)",
               to ? to : "(removed)", json_string_value(json_object_get(r, "who")),
               json_string_value(json_object_get(r, "why")));
    }
}

/* Registers a version from o's fields and a signature text (may be NULL). */
static int register_version(const opts *o, mw_store *s, const char *model, const char *version,
                            const char *sig) {
    char *tags = json_dumps(o->tags, JSON_COMPACT | JSON_SORT_KEYS);
    mw_registry_version_spec spec = {.description = o->description,
                                     .artifact_uri = o->artifact,
                                     .sha256 = o->sha256,
                                     .signature_json = sig,
                                     .tags_json = tags};
    mw_error err;
    mw_status st = mw_registry_put_version(s, model, version, &spec, now_ms(), &err);
    free(tags);
    if (st) return mw_cli_error(cmd, "%s", err.message);
    printf("registered %s version %s%s\n", model, version, sig ? " with its signature" : "");
    return MW_EXIT_OK;
}

static int do_register(opts *o, mw_store *s, char **args, int n) {
    if (n != 2) return mw_cli_usage_error(cmd, "register expects MODEL VERSION");
    char *sig = NULL;
    if (o->signature) {
        char *text = mw_cli_read_text(cmd, o->signature);
        if (!text) return MW_EXIT_ERROR;
        mw_signature parsed;
        mw_error err;
        mw_status st = mw_signature_parse(text, o->signature, &parsed, &err);
        free(text);
        if (st) return mw_cli_error(cmd, "%s", err.message);
        sig = mw_signature_to_json(&parsed);
        mw_signature_free(&parsed);
    }
    int rc = register_version(o, s, args[0], args[1], sig);
    free(sig);
    return rc;
}

static int do_import(opts *o, mw_store *s, char **args, int n) {
    if (n != 1) return mw_cli_usage_error(cmd, "import-mlflow expects DIR (the MLflow model)");
    if (!o->model || !o->version)
        return mw_cli_usage_error(cmd, "import-mlflow needs --model and --version");
    char *sig = NULL;
    json_t *meta = NULL;
    int rc = mw_cli_mlmodel_signature(cmd, args[0], &sig, &meta);
    if (rc) return rc;
    const char *keys[2] = {"run_id", "model_uuid"};
    for (int i = 0; i < 2; i++) {
        const char *v = json_string_value(json_object_get(meta, keys[i]));
        char k[32];
        snprintf(k, sizeof k, "mlflow.%s", keys[i]);
        if (v && !json_object_get(o->tags, k)) json_object_set_new(o->tags, k, json_string(v));
    }
    json_decref(meta);
    if (!o->artifact) o->artifact = args[0];
    rc = register_version(o, s, o->model, o->version, sig);
    free(sig);
    return rc;
}

static int do_set_eval(mw_store *s, char **args, int n) {
    if (n != 3) return mw_cli_usage_error(cmd, "set-eval expects MODEL VERSION FILE");
    char *text = mw_cli_read_text(cmd, args[2]);
    if (!text) return MW_EXIT_ERROR;
    mw_error err;
    mw_status st = mw_registry_set_eval(s, args[0], args[1], text, &err);
    free(text);
    if (st) return mw_cli_error(cmd, "%s (from %s)", err.message, args[2]);
    printf("stored the evaluation of %s version %s\n", args[0], args[1]);
    return MW_EXIT_OK;
}

static int do_set_alias(const opts *o, mw_store *s, char **args, int n) {
    if (n != 3) return mw_cli_usage_error(cmd, "set-alias expects MODEL ALIAS VERSION");
    mw_registry_move mv = {.model = args[0],
                           .alias = args[1],
                           .version = args[2],
                           .who = o->who,
                           .why = o->reason,
                           .action = "set",
                           .now_ms = now_ms()};
    char *from = NULL;
    mw_error err;
    if (mw_registry_move_alias(s, &mv, &from, &err)) return mw_cli_error(cmd, "%s", err.message);
    printf("%s %s -> %s (was %s)\n", args[0], args[1], args[2], from ? from : "unset");
    free(from);
    return MW_EXIT_OK;
}

static int do_promote(const opts *o, mw_store *s, char **args, int n) {
    if (n != 2 || !o->alias)
        return mw_cli_usage_error(cmd, "promote expects MODEL VERSION --alias ALIAS");
    mw_promote_options po = {.require_gate = o->require_gate,
                             .force = o->force,
                             .who = o->who,
                             .why = o->reason,
                             .now_ms = now_ms()};
    mw_promote_result r;
    mw_error err;
    mw_status st = mw_registry_promote(s, args[0], args[1], o->alias, &po, &r, &err);
    int rc = MW_EXIT_OK;
    if (st)
        rc = mw_cli_error(cmd, "%s", err.message);
    else if (r.refused) {
        fprintf(stderr, "modelwatch registry: %s\n", r.message);
        rc = MW_EXIT_CHECK_FAILED;
    } else
        printf("promoted: %s\n", r.message);
    mw_promote_result_free(&r);
    return rc;
}

static int do_rollback(const opts *o, mw_store *s, char **args, int n) {
    if (n != 1 || !o->alias) return mw_cli_usage_error(cmd, "rollback expects MODEL --alias ALIAS");
    char *to = NULL;
    mw_error err;
    if (mw_registry_rollback(s, args[0], o->alias, o->who, o->reason, now_ms(), &to, &err))
        return mw_cli_error(cmd, "%s", err.message);
    printf("rolled back: %s %s -> %s\n", args[0], o->alias, to);
    free(to);
    return MW_EXIT_OK;
}

static int run_action(opts *o, mw_store *s, const char *action, char **args, int n) {
    mw_error err;
    char *json = NULL;
    if (!strcmp(action, "create")) {
        if (n != 1) return mw_cli_usage_error(cmd, "create expects MODEL");
        if (mw_registry_create_model(s, args[0], o->description, now_ms(), &err))
            return mw_cli_error(cmd, "%s", err.message);
        printf("created model %s\n", args[0]);
        return MW_EXIT_OK;
    }
    if (!strcmp(action, "register")) return do_register(o, s, args, n);
    if (!strcmp(action, "import-mlflow")) return do_import(o, s, args, n);
    if (!strcmp(action, "list")) {
        if (n > 1) return mw_cli_usage_error(cmd, "list expects at most MODEL");
        mw_status st = mw_registry_list(s, n ? args[0] : NULL, &json, &err);
        return answer(o, st, &err, json, print_list);
    }
    if (!strcmp(action, "show")) {
        if (n != 2) return mw_cli_usage_error(cmd, "show expects MODEL VERSION");
        char *v = mw_cli_resolve_version(cmd, s, args[0], args[1]);
        if (!v) return MW_EXIT_ERROR;
        mw_status st = mw_registry_get_version(s, args[0], v, &json, &err);
        free(v);
        return answer(o, st, &err, json, print_version);
    }
    if (!strcmp(action, "set-eval")) return do_set_eval(s, args, n);
    if (!strcmp(action, "set-alias")) return do_set_alias(o, s, args, n);
    if (!strcmp(action, "promote")) return do_promote(o, s, args, n);
    if (!strcmp(action, "rollback")) return do_rollback(o, s, args, n);
    if (!strcmp(action, "audit")) {
        if (n > 1) return mw_cli_usage_error(cmd, "audit expects at most MODEL");
        mw_status st =
            mw_registry_audit(s, n ? args[0] : NULL, o->alias, (size_t)o->limit, &json, &err);
        return answer(o, st, &err, json, print_audit);
    }
    if (!strcmp(action, "delete")) {
        if (n != 2) return mw_cli_usage_error(cmd, "delete expects MODEL VERSION");
        if (mw_registry_delete_version(s, args[0], args[1], &err))
            return mw_cli_error(cmd, "%s", err.message);
        printf("deleted %s version %s\n", args[0], args[1]);
        return MW_EXIT_OK;
    }
    return mw_cli_usage_error(cmd, "unknown action \"%s\" (see --help)", action);
}

static int parse_opts(int argc, char **argv, opts *o) {
    static const struct option longopts[] = {
        {"db", required_argument, NULL, 'd'},
        {"who", required_argument, NULL, 'w'},
        {"reason", required_argument, NULL, 'r'},
        {"format", required_argument, NULL, 'f'},
        {"description", required_argument, NULL, O_DESCRIPTION},
        {"artifact", required_argument, NULL, O_ARTIFACT},
        {"sha256", required_argument, NULL, O_SHA256},
        {"signature", required_argument, NULL, O_SIGNATURE},
        {"tags", required_argument, NULL, O_TAGS},
        {"model", required_argument, NULL, O_MODEL},
        {"version", required_argument, NULL, O_VERSION},
        {"alias", required_argument, NULL, O_ALIAS},
        {"require-gate", no_argument, NULL, O_REQUIRE_GATE},
        {"force", no_argument, NULL, O_FORCE},
        {"limit", required_argument, NULL, O_LIMIT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:w:r:f:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd':
            o->db = optarg;
            break;
        case 'w':
            o->who = optarg;
            break;
        case 'r':
            o->reason = optarg;
            break;
        case 'f':
            if (!mw_cli_text_or_json(optarg, &o->json))
                return mw_cli_usage_error(cmd, "--format expects text or json");
            break;
        case O_DESCRIPTION:
            o->description = optarg;
            break;
        case O_ARTIFACT:
            o->artifact = optarg;
            break;
        case O_SHA256:
            o->sha256 = optarg;
            break;
        case O_SIGNATURE:
            o->signature = optarg;
            break;
        case O_TAGS:
            if (add_tags(o, optarg)) return MW_EXIT_USAGE;
            break;
        case O_MODEL:
            o->model = optarg;
            break;
        case O_VERSION:
            o->version = optarg;
            break;
        case O_ALIAS:
            o->alias = optarg;
            break;
        case O_REQUIRE_GATE:
            o->require_gate = 1;
            break;
        case O_FORCE:
            o->force = 1;
            break;
        case O_LIMIT:
            if (!mw_cli_parse_number(optarg, &o->limit) || o->limit < 0 || o->limit > 1e6)
                return mw_cli_usage_error(cmd, "--limit expects 0 to 1000000");
            break;
        case 'h':
            fputs(registry_help, stdout);
            return -1;
        case ':':
            return mw_cli_usage_error(cmd, "option %s needs a value", argv[optind - 1]);
        default:
            return mw_cli_usage_error(cmd, "unknown option %s", argv[optind - 1]);
        }
    }
    return 0;
}

int mw_cmd_registry(int argc, char **argv) {
    opts o = {.db = "./modelwatch.db", .who = getenv("USER"), .reason = "", .limit = 0};
    if (!o.who || !*o.who) o.who = "unknown";
    o.tags = json_object();
    int rc = parse_opts(argc, argv, &o);
    if (rc) {
        json_decref(o.tags);
        return rc < 0 ? MW_EXIT_OK : rc;
    }
    if (optind >= argc) {
        json_decref(o.tags);
        return mw_cli_usage_error(cmd, "expected an action (see --help)");
    }
    mw_store *s = mw_cli_open_db(cmd, o.db);
    if (!s)
        rc = MW_EXIT_ERROR;
    else
        rc = run_action(&o, s, argv[optind], argv + optind + 1, argc - optind - 1);
    mw_store_close(s);
    json_decref(o.tags);
    return rc;
}
