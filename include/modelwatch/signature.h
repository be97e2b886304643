/*
 * modelwatch signatures: what a model version takes and returns, in MLflow's
 * column-spec form, the compatibility check between two versions, and the
 * check of one record against a signature.
 *
 * Text form (what the registry stores and `--signature FILE` reads):
 *   {"inputs":  [{"name": "amount", "type": "double", "required": true}, ...],
 *    "outputs": [{"name": "prediction", "type": "long"}],
 *    "classes": ["0", "1"]}
 * "inputs" and "outputs" are arrays of MLflow column specs, or strings that
 * hold one (as MLflow writes them in an MLmodel file); "classes" (optional)
 * is the class set of a classifier, strings or numbers (kept as text: 1 and
 * "1" are the class "1"). Column types are MLflow's DataType names: boolean,
 * integer, long, float, double, string, binary, datetime. "required" defaults
 * to true; MLflow's older "optional": true is read too. Columns without a
 * name take their position ("0", "1", ...), as MLflow's unnamed columns do;
 * named and unnamed columns may not be mixed. Tensor specs ("type": "tensor")
 * and MLflow's composite types (array, object, map, any) are refused with a
 * message saying so. Errors name the source (`where`), the side (inputs /
 * outputs), the column's position and name, and what was expected.
 *
 * Ownership: parsed signatures own their strings; free with
 * mw_signature_free (NULL-safe, and safe on a zeroed struct).
 */
#ifndef MODELWATCH_SIGNATURE_H
#define MODELWATCH_SIGNATURE_H

#include "modelwatch/core.h"
#include "modelwatch/record.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mw_sig_type {
    MW_SIG_BOOLEAN = 0,
    MW_SIG_INTEGER, /* 32-bit signed */
    MW_SIG_LONG,    /* 64-bit signed */
    MW_SIG_FLOAT,   /* 32-bit floating point */
    MW_SIG_DOUBLE,  /* 64-bit floating point */
    MW_SIG_STRING,
    MW_SIG_BINARY,
    MW_SIG_DATETIME,
    MW_SIG_NTYPES
} mw_sig_type;

typedef struct mw_sig_column {
    char *name;
    mw_sig_type type;
    int required;
} mw_sig_column;

typedef struct mw_signature {
    mw_sig_column *inputs, *outputs;
    size_t ninputs, noutputs;
    char **classes; /* the class set, when has_classes */
    size_t nclasses;
    int has_classes;
} mw_signature;

/* "double", ...; NULL for a value out of range. */
const char *mw_sig_type_name(mw_sig_type t);
/* The type of an MLflow type name; -1 when unknown. */
int mw_sig_type_parse(const char *name);

/* Parses the text form; `where` names the source in errors (a file name,
 * "MLmodel signature", ...). MW_EPARSE for text that is not JSON, MW_EINVAL
 * for JSON that is not a signature. out is cleared on entry. */
mw_status mw_signature_parse(const char *json, const char *where, mw_signature *out, mw_error *err);
/* The normalised text form (inputs/outputs as arrays with name, type and
 * required; classes when present), malloc'd; NULL when out of memory. */
char *mw_signature_to_json(const mw_signature *s);
void mw_signature_free(mw_signature *s);

/* ---- compatibility -------------------------------------------------------------
 *
 * MLflow's type widening, as its schema enforcement allows a value of type
 * `from` where `to` is declared (mlflow.models.utils._enforce_mlflow_datatype:
 * "int -> long (upcast), float -> double (upcast), int -> double (safe
 * conversion)"): integer -> long, integer -> double, float -> double. Nothing
 * else widens: long -> double and integer -> float can lose precision and
 * MLflow refuses them. 1 when from == to or from widens to `to`.
 */
int mw_sig_widens(mw_sig_type from, mw_sig_type to);

typedef enum mw_compat_kind {
    MW_CHANGE_INPUT_ADDED_OPTIONAL = 0, /* compatible */
    MW_CHANGE_INPUT_ADDED_REQUIRED,     /* breaking */
    MW_CHANGE_INPUT_REMOVED,            /* breaking */
    MW_CHANGE_INPUT_NOW_REQUIRED,       /* breaking */
    MW_CHANGE_INPUT_NOW_OPTIONAL,       /* compatible */
    MW_CHANGE_INPUT_TYPE_WIDENED,       /* compatible: old widens to new */
    MW_CHANGE_INPUT_TYPE_CHANGED,       /* breaking: narrowed or another type */
    MW_CHANGE_OUTPUT_ADDED,             /* compatible */
    MW_CHANGE_OUTPUT_REMOVED,           /* breaking */
    MW_CHANGE_OUTPUT_NOW_OPTIONAL,      /* breaking: readers may find it missing */
    MW_CHANGE_OUTPUT_NOW_REQUIRED,      /* compatible */
    MW_CHANGE_OUTPUT_TYPE_NARROWED,     /* compatible: new widens to old */
    MW_CHANGE_OUTPUT_TYPE_CHANGED,      /* breaking */
    MW_CHANGE_CLASSES_CHANGED,          /* breaking: any change of the class set */
    MW_CHANGE_KINDS
} mw_compat_kind;

typedef struct mw_compat_change {
    mw_compat_kind kind;
    int breaking;
    char field[160];   /* the column ("" for the class set) */
    char message[320]; /* a sentence: what changed, old and new */
} mw_compat_change;

typedef struct mw_compat_report {
    mw_compat_change *changes; /* in order: inputs (old order, then added), outputs, classes */
    size_t n;
    int breaking; /* any change is breaking */
} mw_compat_report;

/* "input_added_optional", ...; the names used in JSON output. */
const char *mw_compat_kind_name(mw_compat_kind k);
/* 1 when a change of this kind breaks callers or readers. */
int mw_compat_kind_breaking(mw_compat_kind k);
/* Classifies every difference between old and new. MW_ENOMEM only. */
mw_status mw_signature_compat(const mw_signature *old_sig, const mw_signature *new_sig,
                              mw_compat_report *out);
void mw_compat_report_free(mw_compat_report *r);

/* ---- records ----------------------------------------------------------------------
 *
 * Checks a record's features against the inputs, and its prediction against
 * the class set. counts has mw_signature_slots(s) entries: for input i,
 * counts[i * MW_SIG_REASONS + reason]; the prediction's class check is slot
 * ninputs (reason MW_SIG_CLASS). Booleans arrive as the strings "true" and
 * "false" (record.h), so a boolean input takes those strings; integer and
 * long take whole numbers (integer within 32 bits); float and double any
 * number; string and binary strings; datetime a string or a number. Features
 * the signature does not name are not counted (MLflow ignores extra
 * columns). Returns the number of violations found.
 */
enum { MW_SIG_MISSING = 0, MW_SIG_TYPE, MW_SIG_CLASS, MW_SIG_REASONS };
const char *mw_sig_reason_name(int reason); /* "missing", "type", "class" */
size_t mw_signature_slots(const mw_signature *s);
size_t mw_signature_check(const mw_signature *s, const mw_record *rec, uint64_t *counts);

#ifdef __cplusplus
}
#endif
#endif
