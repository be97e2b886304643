/*
 * Shared pieces of `modelwatch registry` and `modelwatch compat`
 * (cmd_registry.c, cmd_compat.c, mlmodel.c). Each prints its own error
 * ("modelwatch CMD: ...") and returns NULL or an exit code.
 */
#ifndef MW_CLI_REGISTRY_INT_H
#define MW_CLI_REGISTRY_INT_H

#include <jansson.h>

#include "modelwatch/store.h"

/* A whole file as a NUL-terminated string (malloc'd); NULL after printing why. */
char *mw_cli_read_text(const char *cmd, const char *path);
/* Opens the database; NULL after printing why. */
mw_store *mw_cli_open_db(const char *cmd, const char *db);
/* "@alias" resolved through the registry, or a copy of version; NULL after
 * printing why (no such alias). */
char *mw_cli_resolve_version(const char *cmd, mw_store *s, const char *model, const char *version);
/* Reads DIR/MLmodel: *sig gets the normalised signature (malloc'd), *meta the
 * whole MLmodel as JSON (caller decrefs). MW_EXIT_OK, or MW_EXIT_ERROR after
 * printing an error that names the file and the place in it. */
int mw_cli_mlmodel_signature(const char *cmd, const char *dir, char **sig, json_t **meta);

#endif
