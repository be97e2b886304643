/*
 * Evaluation of a parsed alert rule expression (expr_int.h) over a sample set,
 * with PromQL's instant-vector semantics as src/alert/expr.h states them.
 *
 * Why this shape: no operator changes a value, so an intermediate result is
 * just an array of pointers to input samples; labels are copied once, into
 * the final result. Selectors cost O(samples x matchers); and/or/unless sort
 * one side by label set (labels are sorted by name, so two label sets compare
 * as sorted arrays) and binary-search it from the other side.
 *
 * Label sets ignore the metric name, a "__name__" label and labels with an
 * empty value (absent, as in Prometheus); results carry the same labels.
 * Nothing is written outside the result, so one expression can be evaluated
 * from several threads at once (regexec on a compiled regex_t is thread-safe).
 */
#include "alert/expr_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct vec {
    const mw_sample **v;
    size_t n;
} vec;

static int ignored(const mw_label *l) {
    return l->value[0] == '\0' || strcmp(l->name, "__name__") == 0;
}

/* Total order on label sets; 0 when they are equal. */
static int cmp_labelsets(const mw_sample *a, const mw_sample *b) {
    size_t i = 0, j = 0;
    for (;; i++, j++) {
        while (i < a->nlabels && ignored(&a->labels[i]))
            i++;
        while (j < b->nlabels && ignored(&b->labels[j]))
            j++;
        if (i == a->nlabels || j == b->nlabels) return (i < a->nlabels) - (j < b->nlabels);
        int c = strcmp(a->labels[i].name, b->labels[j].name);
        if (!c) c = strcmp(a->labels[i].value, b->labels[j].value);
        if (c) return c;
    }
}

static int cmp_ptrs(const void *x, const void *y) {
    return cmp_labelsets(*(const mw_sample *const *)x, *(const mw_sample *const *)y);
}

static const char *label_of(const mw_sample *s, const char *name) {
    if (strcmp(name, "__name__") == 0) return s->name ? s->name : "";
    return mw_sample_label(s, name);
}

static int matches(const mw_matcher *m, const char *v) {
    switch (m->op) {
    case MW_M_EQ:
        return strcmp(v, m->value) == 0;
    case MW_M_NE:
        return strcmp(v, m->value) != 0;
    case MW_M_RE:
        return regexec(&m->re, v, 0, NULL, 0) == 0;
    case MW_M_NRE:
        return regexec(&m->re, v, 0, NULL, 0) != 0;
    }
    return 0;
}

/* `v OP x` with C semantics (NaN: false except for !=). */
static int holds(mw_cmp_op op, double v, double x) {
    switch (op) {
    case MW_C_EQ:
        return v == x;
    case MW_C_NE:
        return v != x;
    case MW_C_LT:
        return v < x;
    case MW_C_LE:
        return v <= x;
    case MW_C_GT:
        return v > x;
    case MW_C_GE:
        return v >= x;
    case MW_C_NONE:
        return 1;
    }
    return 0;
}

static const mw_sample **alloc_ptrs(size_t n) {
    return malloc((n ? n : 1) * sizeof(const mw_sample *));
}

static mw_status eval_selector(const mw_node *node, const mw_sample_set *in, vec *out) {
    out->n = 0;
    out->v = alloc_ptrs(in->n);
    if (!out->v) return MW_ENOMEM;
    for (size_t i = 0; i < in->n; i++) {
        const mw_sample *s = &in->s[i];
        if (!s->name || strcmp(s->name, node->metric) != 0) continue;
        if (!holds(node->cmp, s->value, node->num)) continue;
        size_t j = 0;
        while (j < node->nm && matches(&node->m[j], label_of(s, node->m[j].name)))
            j++;
        if (j == node->nm) out->v[out->n++] = s;
    }
    return MW_OK;
}

static mw_status eval_node(const mw_expr *e, size_t i, const mw_sample_set *in, vec *out) {
    const mw_node *node = &e->nodes[i];
    if (node->kind == MW_N_SEL) return eval_selector(node, in, out);
    if (node->kind == MW_N_PAREN) return eval_node(e, node->lhs, in, out);
    vec l = {0}, r = {0};
    mw_status st = eval_node(e, node->lhs, in, &l);
    if (st == MW_OK) st = eval_node(e, node->rhs, in, &r);
    if (st != MW_OK) {
        free(l.v);
        free(r.v);
        return st;
    }
    if (node->kind == MW_N_OR) {
        /* all of l, then the samples of r whose label set is not in l */
        const mw_sample **sorted = alloc_ptrs(l.n);
        const mw_sample **all = realloc(l.v, (l.n + r.n ? l.n + r.n : 1) * sizeof *all);
        if (!sorted || !all) {
            free(sorted);
            free(all ? all : l.v);
            free(r.v);
            return MW_ENOMEM;
        }
        l.v = all;
        memcpy(sorted, l.v, l.n * sizeof *sorted);
        qsort(sorted, l.n, sizeof *sorted, cmp_ptrs);
        size_t nl = l.n;
        for (size_t k = 0; k < r.n; k++)
            if (!bsearch(&r.v[k], sorted, nl, sizeof *sorted, cmp_ptrs)) l.v[l.n++] = r.v[k];
        free(sorted);
    } else {
        /* and: the samples of l whose label set is in r; unless: not in r */
        int want = node->kind == MW_N_AND;
        qsort(r.v, r.n, sizeof *r.v, cmp_ptrs);
        size_t kept = 0;
        for (size_t k = 0; k < l.n; k++)
            if ((bsearch(&l.v[k], r.v, r.n, sizeof *r.v, cmp_ptrs) != NULL) == want)
                l.v[kept++] = l.v[k];
        l.n = kept;
    }
    free(r.v);
    *out = l;
    return MW_OK;
}

/* Copies s into d: no name, the labels that count in its label set. */
static int copy_sample(mw_sample *d, const mw_sample *s) {
    memset(d, 0, sizeof *d);
    d->value = s->value;
    size_t keep = 0;
    for (size_t j = 0; j < s->nlabels; j++)
        keep += !ignored(&s->labels[j]);
    if (!keep) return 1;
    d->labels = calloc(keep, sizeof *d->labels);
    if (!d->labels) return 0;
    for (size_t j = 0; j < s->nlabels; j++) {
        if (ignored(&s->labels[j])) continue;
        mw_label *l = &d->labels[d->nlabels++];
        l->name = strdup(s->labels[j].name);
        l->value = strdup(s->labels[j].value);
        if (!l->name || !l->value) return 0;
    }
    return 1;
}

mw_status mw_expr_eval(const mw_expr *e, const mw_sample_set *samples, mw_sample_set *out,
                       mw_error *err) {
    memset(out, 0, sizeof *out);
    if (!e || !e->n) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no expression given");
    static const mw_sample_set none = {0};
    vec r = {0};
    mw_status st = eval_node(e, e->n - 1, samples ? samples : &none, &r);
    if (st == MW_OK && r.n) {
        out->s = calloc(r.n, sizeof *out->s);
        if (!out->s)
            st = MW_ENOMEM;
        else
            out->cap = r.n;
        for (size_t i = 0; st == MW_OK && i < r.n; i++) {
            int ok = copy_sample(&out->s[i], r.v[i]);
            out->n++; /* partly copied samples are freed with the set */
            if (!ok) st = MW_ENOMEM;
        }
    }
    free(r.v);
    if (st != MW_OK) {
        mw_samples_free(out);
        return mw_error_set(err, st, "", 0, 0, "out of memory");
    }
    return MW_OK;
}
