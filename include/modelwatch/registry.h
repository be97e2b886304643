/*
 * modelwatch model registry: models, their versions (description, artifact
 * URI, sha256, creation time, tags, signature, stored evaluation result),
 * aliases such as "production" that point to one version each, and an audit
 * log of every alias move (who, when, from, to, why). Kept in the store's
 * SQLite file (store.h), so the CLI and the daemon share it.
 *
 * The registry's versions are separate from the daemon's monitored versions
 * (monitor.h), which are registered with their monitoring options; a record
 * may name a monitored version through a registry alias ("version":
 * "@production").
 *
 * Every mutation is one SQLite transaction: on any error nothing changed.
 * Versions are immutable once registered, except for their evaluation result
 * (mw_registry_set_eval). A version an alias points to cannot be deleted.
 *
 * Names: model and version as store.h (1 to MW_STORE_NAME_MAX bytes); a
 * version may not start with '@' (that is alias syntax). Aliases are 1 to 64
 * bytes of [A-Za-z0-9_.-]. who and why are free text (why may be empty).
 *
 * JSON answers (malloc'd for the caller to free):
 *   version: {"model", "version", "description", "artifact_uri", "sha256",
 *             "created_ms", "signature": {...} | null, "tags": {...},
 *             "eval": {...} | null, "aliases": ["production", ...]}
 *   list:    {"models": [{"name", "description", "created_ms",
 *             "aliases": {"production": "3", ...}, "versions": [version...]}]}
 *   audit:   {"audit": [{"seq", "at_ms", "who", "model", "alias", "from",
 *             "to", "why", "action"}...]} newest first; from/to null when none.
 */
#ifndef MODELWATCH_REGISTRY_H
#define MODELWATCH_REGISTRY_H

#include "modelwatch/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MW_REGISTRY_ALIAS_MAX 64

/* 1 when s is a valid alias name. */
int mw_registry_alias_valid(const char *s);

/* Creates a model; MW_EINVAL when it exists already. */
mw_status mw_registry_create_model(mw_store *s, const char *model, const char *description,
                                   int64_t now_ms, mw_error *err);

typedef struct mw_registry_version_spec {
    const char *description;    /* NULL = "" */
    const char *artifact_uri;   /* NULL = "" */
    const char *sha256;         /* NULL = none, else 64 hex digits (stored in lower case) */
    const char *signature_json; /* NULL = none, else signature.h's text form */
    const char *tags_json;      /* NULL = {}, else a JSON object of text values */
} mw_registry_version_spec;

/* Registers a version (creating its model when new). MW_EINVAL when it
 * exists already or a field is malformed (the message names it). */
mw_status mw_registry_put_version(mw_store *s, const char *model, const char *version,
                                  const mw_registry_version_spec *spec, int64_t now_ms,
                                  mw_error *err);
/* Stores a version's evaluation result (a JSON object, e.g. `modelwatch
 * compare --format json` output with its "gate"); MW_ENOTFOUND. */
mw_status mw_registry_set_eval(mw_store *s, const char *model, const char *version,
                               const char *eval_json, mw_error *err);
/* Deletes a version; MW_ENOTFOUND, or MW_EINVAL while an alias points to it. */
mw_status mw_registry_delete_version(mw_store *s, const char *model, const char *version,
                                     mw_error *err);
/* One version as JSON; MW_ENOTFOUND names the model or the version missing. */
mw_status mw_registry_get_version(mw_store *s, const char *model, const char *version, char **json,
                                  mw_error *err);
/* Models (one, or all when model is NULL) with their versions and aliases;
 * MW_ENOTFOUND for a named model that does not exist. */
mw_status mw_registry_list(mw_store *s, const char *model, char **json, mw_error *err);

/* The version an alias points to (malloc'd); MW_ENOTFOUND when there is no
 * such alias (the message says so, naming model and alias). */
mw_status mw_registry_get_alias(mw_store *s, const char *model, const char *alias, char **version,
                                mw_error *err);

typedef struct mw_registry_move {
    const char *model, *alias;
    const char *version;     /* where the alias goes; NULL removes the alias */
    const char *expect_from; /* NULL: whatever it points to now; "": it must not exist yet;
                                else the version it must point to now (compare-and-set) */
    const char *who, *why;
    const char *action; /* audit action: "set", "promote", "rollback", "remove" */
    int64_t now_ms;
} mw_registry_move;

/* Moves an alias and appends the audit row in one transaction. MW_ENOTFOUND
 * when the target version does not exist (or, removing, the alias); MW_EINVAL
 * when expect_from does not hold (the alias moved meanwhile) or an argument
 * is malformed. *from (may be NULL) gets the version it pointed to before
 * (malloc'd, NULL when none). Moving an alias to where it points already is
 * recorded too. */
mw_status mw_registry_move_alias(mw_store *s, const mw_registry_move *mv, char **from,
                                 mw_error *err);
/* The alias's current version and the one before it (the "from" of its
 * newest audit row), malloc'd; *previous is NULL when it has none. */
mw_status mw_registry_alias_history(mw_store *s, const char *model, const char *alias,
                                    char **current, char **previous, mw_error *err);
/* The audit log, newest first, at most limit rows (0 = all); model and alias
 * NULL for every one. */
mw_status mw_registry_audit(mw_store *s, const char *model, const char *alias, size_t limit,
                            char **json, mw_error *err);

/* ---- promotion policy (src/registry/promote.c) ------------------------------------ */

typedef struct mw_promote_options {
    int require_gate; /* refuse unless the version's stored eval has "gate": {"passed": true} */
    int force;        /* promote even when the gate failed or the signature breaks */
    const char *who, *why;
    int64_t now_ms;
} mw_promote_options;

typedef struct mw_promote_result {
    int refused;  /* 1: nothing moved; message says why */
    int breaking; /* the signature breaks against the alias's current version */
    int gate;     /* -1 no stored gate, 0 failed, 1 passed */
    char *from;   /* the version the alias pointed to (NULL when none) */
    char message[512];
} mw_promote_result;

/*
 * Points alias at version after the checks: refused (res->refused, MW_OK)
 * when the version's stored gate failed, or is absent under require_gate, or
 * its signature breaks against the alias's current version's signature
 * (mw_signature_compat), unless force. The move is compare-and-set against
 * the version checked, so a concurrent move makes it fail (MW_EINVAL)
 * instead of skipping the checks. Free res with mw_promote_result_free.
 */
mw_status mw_registry_promote(mw_store *s, const char *model, const char *version,
                              const char *alias, const mw_promote_options *opt,
                              mw_promote_result *res, mw_error *err);
/* Moves alias back to its previous version (mw_registry_alias_history);
 * MW_ENOTFOUND when there is none or it was deleted since. A second
 * rollback undoes the first. *to (may be NULL) gets the version (malloc'd). */
mw_status mw_registry_rollback(mw_store *s, const char *model, const char *alias, const char *who,
                               const char *why, int64_t now_ms, char **to, mw_error *err);
void mw_promote_result_free(mw_promote_result *r);

#ifdef __cplusplus
}
#endif
#endif
