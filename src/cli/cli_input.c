/*
 * Read settings shared by the batch commands (drift, quality, profile): the
 * --schema file, the --refusals file (refusal phrases of text columns),
 * --no-text-inference and --max-line, turned into one mw_read_options that
 * owns what it points to.
 *
 * Refusal file: one phrase per line, ASCII letters lower-cased (matching is
 * ASCII case-insensitive, text.h), blank lines and lines starting with '#'
 * skipped; at most MW_CLI_MAX_REFUSALS phrases of up to 200 bytes, and an
 * empty list is an error (it would silently turn the descriptor off).
 */
#include "cli/cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MW_CLI_MAX_REFUSALS 1000
#define MW_CLI_MAX_PHRASE 200

static int load_refusals(const char *cmd, const char *path, mw_cli_input *in) {
    FILE *f = fopen(path, "r");
    if (!f) return mw_cli_error(cmd, "--refusals %s: cannot open: %s", path, strerror(errno));
    char line[4096];
    unsigned long no = 0;
    int rc = MW_EXIT_OK;
    while (!rc && fgets(line, sizeof line, f)) {
        no++;
        size_t n = strlen(line);
        if (n == sizeof line - 1 && line[n - 1] != '\n') {
            rc =
                mw_cli_error(cmd, "%s:%lu: line longer than %d bytes", path, no, MW_CLI_MAX_PHRASE);
            break;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
            line[--n] = 0;
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++, n--;
        if (!n || *p == '#') continue;
        if (n > MW_CLI_MAX_PHRASE)
            rc = mw_cli_error(cmd, "%s:%lu: a phrase is longer than %d bytes", path, no,
                              MW_CLI_MAX_PHRASE);
        else if (in->nphrases == MW_CLI_MAX_REFUSALS)
            rc = mw_cli_error(cmd, "%s: more than %d phrases", path, MW_CLI_MAX_REFUSALS);
        if (rc) break;
        for (char *q = p; *q; q++)
            if (*q >= 'A' && *q <= 'Z') *q = (char)(*q - 'A' + 'a');
        char **np = realloc(in->phrases, (in->nphrases + 1) * sizeof *np);
        char *copy = strdup(p);
        if (np) in->phrases = np;
        if (!np || !copy) {
            free(copy);
            rc = mw_cli_error(cmd, "out of memory");
            break;
        }
        in->phrases[in->nphrases++] = copy;
    }
    if (!rc && ferror(f)) rc = mw_cli_error(cmd, "--refusals %s: read error", path);
    fclose(f);
    if (!rc && !in->nphrases)
        rc = mw_cli_error(cmd, "--refusals %s: no phrases (one per line)", path);
    in->text.refusals = (const char *const *)in->phrases;
    in->text.nrefusals = in->nphrases;
    return rc;
}

int mw_cli_parse_max_line(const char *cmd, const char *s, size_t *out) {
    double v;
    int rc = mw_cli_parse_count(cmd, "--max-line", s, 1024, 1073741824.0, &v);
    if (!rc) *out = (size_t)v;
    return rc;
}

int mw_cli_input_open(const char *cmd, const mw_cli_input_args *args, mw_cli_input *in) {
    const char *schema = args->schema, *refusals = args->refusals;
    memset(in, 0, sizeof *in);
    in->ropt.no_text_inference = args->no_text_inference;
    in->ropt.max_line_bytes = args->max_line;
    if (schema) {
        mw_error err;
        mw_error_clear(&err);
        if (mw_schema_load(schema, &in->schema, &err) != MW_OK)
            return mw_cli_error(cmd, "%s", err.message);
        in->ropt.schema = in->schema;
    }
    if (refusals) {
        int rc = load_refusals(cmd, refusals, in);
        if (rc) {
            mw_cli_input_close(in);
            return rc;
        }
        in->ropt.text = &in->text;
    }
    return MW_EXIT_OK;
}

void mw_cli_input_close(mw_cli_input *in) {
    mw_schema_free(in->schema);
    for (size_t i = 0; i < in->nphrases; i++)
        free(in->phrases[i]);
    free(in->phrases);
    memset(in, 0, sizeof *in);
}
