/*
 * Compatibility of two versions' signatures (signature.h): every difference
 * classified as compatible or breaking.
 *
 * Inputs are what callers send: the new version must accept every record the
 * old one accepted. So an added optional input, an input that became optional
 * and a type the old one widens to (MLflow's widening, mw_sig_widens) are
 * compatible; a removed input, an added or newly required input and any other
 * type change are breaking. Outputs are what readers consume: the old reader
 * must accept what the new version returns, so the rule runs the other way
 * round: an added output, an output that became required, and a new type that
 * widens to the old one are compatible; a removed output, one that became
 * optional, and any other type change are breaking. Any change of the class
 * set (added, removed or renamed classes) is breaking.
 */
#include "modelwatch/signature.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[MW_CHANGE_KINDS] = {
    "input_added_optional", "input_added_required", "input_removed",       "input_now_required",
    "input_now_optional",   "input_type_widened",   "input_type_changed",  "output_added",
    "output_removed",       "output_now_optional",  "output_now_required", "output_type_narrowed",
    "output_type_changed",  "classes_changed"};

static const unsigned char kind_breaking[MW_CHANGE_KINDS] = {0, 1, 1, 1, 0, 0, 1,
                                                             0, 1, 1, 0, 0, 1, 1};

const char *mw_compat_kind_name(mw_compat_kind k) {
    return (int)k >= 0 && k < MW_CHANGE_KINDS ? kind_names[k] : NULL;
}

int mw_compat_kind_breaking(mw_compat_kind k) {
    return (int)k >= 0 && k < MW_CHANGE_KINDS && kind_breaking[k];
}

int mw_sig_widens(mw_sig_type from, mw_sig_type to) {
    if (from == to) return 1;
    switch (from) {
    case MW_SIG_INTEGER:
        return to == MW_SIG_LONG || to == MW_SIG_DOUBLE;
    case MW_SIG_FLOAT:
        return to == MW_SIG_DOUBLE;
    default:
        return 0;
    }
}

void mw_compat_report_free(mw_compat_report *r) {
    if (!r) return;
    free(r->changes);
    memset(r, 0, sizeof *r);
}

static int add(mw_compat_report *r, size_t *cap, mw_compat_kind kind, const char *field,
               const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int add(mw_compat_report *r, size_t *cap, mw_compat_kind kind, const char *field,
               const char *fmt, ...) {
    if (r->n == *cap) {
        size_t nc = *cap ? 2 * *cap : 8;
        mw_compat_change *c = realloc(r->changes, nc * sizeof *c);
        if (!c) return 0;
        r->changes = c;
        *cap = nc;
    }
    mw_compat_change *c = &r->changes[r->n++];
    c->kind = kind;
    c->breaking = kind_breaking[kind];
    snprintf(c->field, sizeof c->field, "%s", field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->message, sizeof c->message, fmt, ap);
    va_end(ap);
    r->breaking |= c->breaking;
    return 1;
}

static const mw_sig_column *find(const mw_sig_column *c, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (!strcmp(c[i].name, name)) return &c[i];
    return NULL;
}

static const char *req(int required) {
    return required ? "required" : "optional";
}

/* The changes of one side; input 1 for inputs (callers), 0 for outputs (readers). */
static int compare_side(const mw_sig_column *o, size_t no, const mw_sig_column *n, size_t nn,
                        int input, mw_compat_report *r, size_t *cap) {
    const char *side = input ? "input" : "output";
    for (size_t i = 0; i < no; i++) {
        const mw_sig_column *a = &o[i], *b = find(n, nn, a->name);
        const char *f = a->name;
        if (!b) {
            if (!add(r, cap, input ? MW_CHANGE_INPUT_REMOVED : MW_CHANGE_OUTPUT_REMOVED, f,
                     "%s \"%s\" (%s) was removed", side, f, mw_sig_type_name(a->type)))
                return 0;
            continue;
        }
        if (a->type != b->type) {
            const char *ot = mw_sig_type_name(a->type), *nt = mw_sig_type_name(b->type);
            int ok = input ? mw_sig_widens(a->type, b->type) : mw_sig_widens(b->type, a->type);
            mw_compat_kind k =
                input ? (ok ? MW_CHANGE_INPUT_TYPE_WIDENED : MW_CHANGE_INPUT_TYPE_CHANGED)
                      : (ok ? MW_CHANGE_OUTPUT_TYPE_NARROWED : MW_CHANGE_OUTPUT_TYPE_CHANGED);
            int r_ok = ok ? add(r, cap, k, f, "%s \"%s\": %s -> %s (%s)", side, f, ot, nt,
                                input ? "widened: old values still accepted"
                                      : "old readers accept the new values")
                          : add(r, cap, k, f, "%s \"%s\": %s -> %s (%s)", side, f, ot, nt,
                                input ? "narrowed or changed: values callers send may be refused"
                                      : "readers expecting the old type may fail");
            if (!r_ok) return 0;
        }
        if (a->required != b->required) {
            mw_compat_kind k =
                input
                    ? (b->required ? MW_CHANGE_INPUT_NOW_REQUIRED : MW_CHANGE_INPUT_NOW_OPTIONAL)
                    : (b->required ? MW_CHANGE_OUTPUT_NOW_REQUIRED : MW_CHANGE_OUTPUT_NOW_OPTIONAL);
            if (!add(r, cap, k, f, "%s \"%s\": %s -> %s", side, f, req(a->required),
                     req(b->required)))
                return 0;
        }
    }
    for (size_t i = 0; i < nn; i++) {
        const mw_sig_column *b = &n[i];
        if (find(o, no, b->name)) continue;
        mw_compat_kind k = !input ? MW_CHANGE_OUTPUT_ADDED
                                  : (b->required ? MW_CHANGE_INPUT_ADDED_REQUIRED
                                                 : MW_CHANGE_INPUT_ADDED_OPTIONAL);
        if (!add(r, cap, k, b->name, "new %s%s%s \"%s\" (%s)", input ? req(b->required) : "",
                 input ? " " : "", side, b->name, mw_sig_type_name(b->type)))
            return 0;
    }
    return 1;
}

static int has_class(const mw_signature *s, const char *c) {
    for (size_t i = 0; i < s->nclasses; i++)
        if (!strcmp(s->classes[i], c)) return 1;
    return 0;
}

/* "a, b, c" of the classes of a that b lacks, into buf. */
static void missing_classes(const mw_signature *a, const mw_signature *b, char *buf, size_t sz) {
    size_t k = 0;
    buf[0] = 0;
    for (size_t i = 0; i < a->nclasses && k + 1 < sz; i++) {
        if (has_class(b, a->classes[i])) continue;
        int w = snprintf(buf + k, sz - k, "%s\"%s\"", k ? ", " : "", a->classes[i]);
        if (w < 0) break;
        k += (size_t)w;
    }
    if (k >= sz) k = sz - 1;
    buf[k] = 0;
}

static int compare_classes(const mw_signature *o, const mw_signature *n, mw_compat_report *r,
                           size_t *cap) {
    if (!o->has_classes && !n->has_classes) return 1;
    if (o->has_classes != n->has_classes)
        return add(r, cap, MW_CHANGE_CLASSES_CHANGED, "", "class set %s",
                   o->has_classes ? "removed" : "added");
    char gone[120], added[120];
    missing_classes(o, n, gone, sizeof gone);
    missing_classes(n, o, added, sizeof added);
    if (!gone[0] && !added[0]) return 1;
    return add(r, cap, MW_CHANGE_CLASSES_CHANGED, "", "class set changed:%s%s%s%s",
               gone[0] ? " removed " : "", gone, added[0] ? " added " : "", added);
}

mw_status mw_signature_compat(const mw_signature *o, const mw_signature *n, mw_compat_report *out) {
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    int ok = compare_side(o->inputs, o->ninputs, n->inputs, n->ninputs, 1, out, &cap) &&
             compare_side(o->outputs, o->noutputs, n->outputs, n->noutputs, 0, out, &cap) &&
             compare_classes(o, n, out, &cap);
    if (!ok) {
        mw_compat_report_free(out);
        return MW_ENOMEM;
    }
    return MW_OK;
}
