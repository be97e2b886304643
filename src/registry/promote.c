/*
 * Promotion and rollback policy over the registry store (registry.h).
 *
 * promote: reads the candidate (its stored evaluation's "gate": {"passed"}
 * and its signature) and the alias's current version (its signature), decides,
 * and moves the alias compare-and-set against the current version it checked,
 * so a move by someone else in between makes the promotion fail rather than
 * skip the checks. The gate counts when the stored evaluation has a boolean
 * gate.passed (`modelwatch compare --format json` output); a failed gate always
 * refuses, an absent one refuses under require_gate; force overrides both and
 * a breaking signature. Signatures are compared only when both versions have
 * one; the message says when they could not be.
 *
 * rollback: the alias goes back to the "from" of its newest audit row, the
 * version it pointed to before the current one (so a second rollback undoes
 * the first).
 */
#include "modelwatch/registry.h"
#include "modelwatch/signature.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void mw_promote_result_free(mw_promote_result *r) {
    if (!r) return;
    free(r->from);
    r->from = NULL;
}

/* A version's JSON (registry.h) parsed; NULL with err set. */
static json_t *load_version(mw_store *s, const char *model, const char *version, mw_error *err) {
    char *text = NULL;
    if (mw_registry_get_version(s, model, version, &text, err)) return NULL;
    json_t *v = json_loads(text, 0, NULL);
    free(text);
    if (!v) mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory reading %s/%s", model, version);
    return v;
}

/* 1 and the signature when the version JSON has one that parses. */
static int signature_of(const json_t *v, mw_signature *sig) {
    const json_t *js = json_object_get(v, "signature");
    if (!json_is_object(js)) return 0;
    char *text = json_dumps(js, JSON_COMPACT);
    mw_error e;
    int ok = text && mw_signature_parse(text, "stored signature", sig, &e) == MW_OK;
    free(text);
    return ok;
}

/* Compares the signatures of current and candidate; fills res->breaking and,
 * when breaking, why with the first breaking change. 0 when not compared. */
static int compare(const json_t *cur, const json_t *cand, mw_promote_result *res, char *why,
                   size_t whysz) {
    mw_signature a, b;
    int has_a = signature_of(cur, &a), has_b = signature_of(cand, &b);
    int compared = has_a && has_b;
    if (compared) {
        mw_compat_report r;
        if (mw_signature_compat(&a, &b, &r) == MW_OK) {
            res->breaking = r.breaking;
            for (size_t i = 0; i < r.n; i++)
                if (r.changes[i].breaking) {
                    snprintf(why, whysz, "%s", r.changes[i].message);
                    break;
                }
            mw_compat_report_free(&r);
        }
    }
    if (has_a) mw_signature_free(&a);
    if (has_b) mw_signature_free(&b);
    return compared;
}

mw_status mw_registry_promote(mw_store *s, const char *model, const char *version,
                              const char *alias, const mw_promote_options *opt,
                              mw_promote_result *res, mw_error *err) {
    mw_error_clear(err);
    memset(res, 0, sizeof *res);
    res->gate = -1;
    if (!mw_registry_alias_valid(alias))
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                            "promote: alias \"%.80s\" is not 1 to %d characters of A-Z a-z 0-9 _ "
                            ". -",
                            alias ? alias : "(null)", MW_REGISTRY_ALIAS_MAX);
    json_t *cand = load_version(s, model, version, err);
    if (!cand) return err->status ? err->status : MW_ENOMEM;
    const json_t *passed =
        json_object_get(json_object_get(json_object_get(cand, "eval"), "gate"), "passed");
    if (json_is_boolean(passed)) res->gate = json_is_true(passed);

    char *cur = NULL;
    mw_error e;
    mw_status st = mw_registry_get_alias(s, model, alias, &cur, &e);
    if (st && st != MW_ENOTFOUND) {
        *err = e;
        json_decref(cand);
        return st;
    }
    char why[320] = "";
    int compared = 0;
    if (cur) {
        json_t *curv = load_version(s, model, cur, err);
        if (!curv) {
            free(cur);
            json_decref(cand);
            return err->status ? err->status : MW_ENOMEM;
        }
        compared = compare(curv, cand, res, why, sizeof why);
        json_decref(curv);
    }
    json_decref(cand);

    const char *force_hint = opt->force ? "" : " (--force to promote anyway)";
    if (res->gate == 0 && !opt->force)
        snprintf(res->message, sizeof res->message,
                 "refused: the stored gate of %s version %s failed%s", model, version, force_hint);
    else if (res->gate < 0 && opt->require_gate && !opt->force)
        snprintf(res->message, sizeof res->message,
                 "refused: %s version %s has no stored gate result (store `modelwatch compare "
                 "--format json` output with `modelwatch registry set-eval`)%s",
                 model, version, force_hint);
    else if (res->breaking && !opt->force)
        snprintf(res->message, sizeof res->message,
                 "refused: the signature of version %s breaks against %s's current version %s: "
                 "%s%s",
                 version, alias, cur, why, force_hint);
    if (res->message[0]) {
        res->refused = 1;
        res->from = cur;
        return MW_OK;
    }
    mw_registry_move mv = {.model = model,
                           .alias = alias,
                           .version = version,
                           .expect_from = cur ? cur : "",
                           .who = opt->who,
                           .why = opt->why,
                           .action = "promote",
                           .now_ms = opt->now_ms};
    st = mw_registry_move_alias(s, &mv, NULL, err);
    if (st) {
        free(cur);
        return st;
    }
    snprintf(res->message, sizeof res->message, "%s %s -> %s%s%s%s", model, alias, version,
             cur ? " (was " : "", cur ? cur : "", cur ? ")" : "");
    if (cur && !compared)
        snprintf(res->message + strlen(res->message), sizeof res->message - strlen(res->message),
                 "; signatures not compared (a version has none)");
    else if (opt->force &&
             (res->breaking || res->gate == 0 || (res->gate < 0 && opt->require_gate)))
        snprintf(res->message + strlen(res->message), sizeof res->message - strlen(res->message),
                 "; forced past: %s%s%s", res->gate == 0 ? "failed gate " : "",
                 res->gate < 0 && opt->require_gate ? "no gate " : "",
                 res->breaking ? "breaking signature" : "");
    res->from = cur;
    return MW_OK;
}

mw_status mw_registry_rollback(mw_store *s, const char *model, const char *alias, const char *who,
                               const char *why, int64_t now_ms, char **to, mw_error *err) {
    mw_error_clear(err);
    if (to) *to = NULL;
    char *cur = NULL, *prev = NULL;
    mw_status st = mw_registry_alias_history(s, model, alias, &cur, &prev, err);
    if (!st && !prev)
        st = mw_error_set(err, MW_ENOTFOUND, NULL, 0, 0,
                          "rollback: alias \"%s\" of model \"%s\" has no previous version (it "
                          "was created pointing to %s)",
                          alias, model, cur);
    if (!st) {
        mw_registry_move mv = {.model = model,
                               .alias = alias,
                               .version = prev,
                               .expect_from = cur,
                               .who = who,
                               .why = why,
                               .action = "rollback",
                               .now_ms = now_ms};
        mw_error e;
        st = mw_registry_move_alias(s, &mv, NULL, &e);
        if (st == MW_ENOTFOUND)
            st = mw_error_set(err, st, NULL, 0, 0,
                              "rollback: alias \"%s\" of model \"%s\" would go back to version "
                              "\"%s\", which is no longer in the registry (deleted)",
                              alias, model, prev);
        else if (st)
            *err = e;
    }
    free(cur);
    if (!st && to)
        *to = prev;
    else
        free(prev);
    return st;
}
