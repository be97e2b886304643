/*
 * libFuzzer target for the alert module (src/alert/expr.h). The same bytes go
 * to mw_samples_parse (as an exposition page) and, up to the first NUL, to
 * mw_expr_parse. Checks: errors carry a positioned message; parsed samples
 * have sorted, distinct labels; a parsed expression formats, the text parses
 * back and formats identically, and both evaluate to the same results over a
 * small fixed page (which the parsed page is also evaluated against). The text
 * is also an annotation template: a template that checks renders.
 */
#include "alert/expr.h"
#include "alert/rules.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char fixed_page[] = "# TYPE m gauge\n"
                                 "m{job=\"a\",inst=\"1\"} 1\n"
                                 "m{job=\"b\",inst=\"2\"} NaN\n"
                                 "m{inst=\"3\"} +Inf\n"
                                 "n{job=\"a\",inst=\"1\"} -2.5\n"
                                 "x_bucket{le=\"0.5\"} 3\n";

static void check_error(const mw_error *err, const char *prefix) {
    if (strncmp(err->message, prefix, strlen(prefix)) != 0 &&
        strcmp(err->message, "out of memory") != 0)
        abort();
}

static void check_samples(const mw_sample_set *set) {
    for (size_t i = 0; i < set->n; i++) {
        const mw_sample *s = &set->s[i];
        if (!s->name || (s->nlabels && !s->labels)) abort();
        for (size_t j = 0; j < s->nlabels; j++) {
            if (!s->labels[j].value[0]) abort(); /* empty values are dropped */
            if (j && strcmp(s->labels[j - 1].name, s->labels[j].name) >= 0) abort();
        }
    }
}

/* Results of e over page must equal those of f (same labels and bits). */
static void same_results(const mw_expr *e, const mw_expr *f, const mw_sample_set *page) {
    mw_sample_set a, b;
    if (mw_expr_eval(e, page, &a, NULL) != MW_OK) return;
    if (mw_expr_eval(f, page, &b, NULL) == MW_OK) {
        if (a.n != b.n) abort();
        for (size_t i = 0; i < a.n; i++) {
            if (a.s[i].name || b.s[i].name || a.s[i].nlabels != b.s[i].nlabels) abort();
            if (memcmp(&a.s[i].value, &b.s[i].value, sizeof(double)) != 0) abort();
            for (size_t j = 0; j < a.s[i].nlabels; j++)
                if (strcmp(a.s[i].labels[j].name, b.s[i].labels[j].name) ||
                    strcmp(a.s[i].labels[j].value, b.s[i].labels[j].value))
                    abort();
        }
        mw_samples_free(&b);
    }
    mw_samples_free(&a);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    static mw_sample_set fixed;
    static mw_expr *probe;
    static int ready;
    if (!ready) {
        if (mw_samples_parse(fixed_page, sizeof fixed_page - 1, &fixed, NULL) != MW_OK) abort();
        if (mw_expr_parse("m or n{job=~\"a|b\"} > -3 and m unless x_bucket", &probe, NULL) != MW_OK)
            abort();
        ready = 1;
    }
    if (size > 65536) return 0;
    mw_error err;

    /* the bytes as an exposition page */
    mw_sample_set page;
    mw_error_clear(&err);
    if (mw_samples_parse((const char *)data, size, &page, &err) == MW_OK) {
        check_samples(&page);
        same_results(probe, probe, &page);
        mw_samples_free(&page);
    } else {
        check_error(&err, "line ");
        if (page.n || page.s) abort();
    }

    /* the bytes as an expression */
    char *text = malloc(size + 1);
    if (!text) return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    mw_expr *e = NULL, *f = NULL;
    mw_error_clear(&err);
    if (mw_expr_parse(text, &e, &err) == MW_OK) {
        const char *names[4];
        if (mw_expr_metrics(e, names, 4) == 0) abort();
        char *t1 = mw_expr_format(e);
        if (!t1) abort();
        if (mw_expr_parse(t1, &f, &err) != MW_OK) abort();
        char *t2 = mw_expr_format(f);
        if (!t2 || strcmp(t1, t2) != 0) abort();
        same_results(e, f, &fixed);
        free(t1);
        free(t2);
        mw_expr_free(f);
        mw_expr_free(e);
    } else {
        check_error(&err, "column ");
        if (e) abort();
    }
    mw_error_clear(&err);
    if (mw_template_check(text, &err) == MW_OK) {
        mw_label l[2] = {{"feature", "age"}, {"model", "m"}};
        char *out = mw_template_render(text, l, 2, (double)size / 7.0);
        if (!out) abort();
        free(out);
    } else if (err.column == 0 || strncmp(err.message, "column ", 7) != 0) {
        abort();
    }
    free(text);
    return 0;
}
