/*
 * MLflow's MLmodel file (YAML) for `modelwatch registry import-mlflow`: its
 * `signature:` mapping holds `inputs` and `outputs` as strings of JSON column
 * specs (and `params`, ignored), which signature.h parses. The YAML is read
 * with the configuration's converter (mw_yaml_to_json), so a syntax error is
 * reported with the file, line and column.
 */
#include "cli/cli.h"
#include "cli/registry_int.h"

#include "modelwatch/signature.h"
#include "server/daemon.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mw_cli_mlmodel_signature(const char *cmd, const char *dir, char **sig, json_t **meta) {
    *sig = NULL;
    *meta = NULL;
    char path[4096];
    size_t dl = strlen(dir);
    snprintf(path, sizeof path, "%s%sMLmodel", dir, dl && dir[dl - 1] == '/' ? "" : "/");
    char *text = mw_cli_read_text(cmd, path);
    if (!text) return MW_EXIT_ERROR;
    mw_error err;
    mw_error_clear(&err);
    json_t *root = mw_yaml_to_json(text, strlen(text), path, &err);
    free(text);
    if (!root) return mw_cli_error(cmd, "%s", err.message);
    const json_t *s = json_object_get(root, "signature");
    int rc = MW_EXIT_OK;
    if (!json_is_object(root))
        rc = mw_cli_error(cmd, "%s: expected a YAML mapping (an MLflow MLmodel file)", path);
    else if (!s || json_is_null(s))
        rc = mw_cli_error(cmd,
                          "%s: no signature: section (log the model with a signature, "
                          "e.g. mlflow.models.infer_signature)",
                          path);
    else if (!json_is_object(s))
        rc = mw_cli_error(cmd, "%s: signature: expected a mapping with inputs and outputs", path);
    if (!rc) {
        json_t *only = json_object();
        const char *keys[3] = {"inputs", "outputs", "params"};
        for (int i = 0; i < 3; i++)
            if (json_object_get(s, keys[i]))
                json_object_set(only, keys[i], json_object_get(s, keys[i]));
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)s, k, v) if (strcmp(k, "inputs") && strcmp(k, "outputs") &&
                                                   strcmp(k, "params")) {
            rc = mw_cli_error(cmd, "%s: signature: unknown key \"%s\"", path, k);
            break;
        }
        char *st = rc ? NULL : json_dumps(only, JSON_COMPACT);
        json_decref(only);
        char where[4200];
        snprintf(where, sizeof where, "%s signature", path);
        mw_signature parsed;
        if (!rc && mw_signature_parse(st, where, &parsed, &err))
            rc = mw_cli_error(cmd, "%s", err.message);
        else if (!rc) {
            *sig = mw_signature_to_json(&parsed);
            mw_signature_free(&parsed);
        }
        free(st);
    }
    if (rc)
        json_decref(root);
    else
        *meta = root;
    return rc;
}
