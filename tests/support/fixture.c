/*
 * Fixture loader for the unit tests (format in fixture.h). Kept deliberately
 * small: fixtures are trusted files written by our own generator scripts, but a
 * malformed line still fails the test with its line number rather than crashing.
 */
#include "fixture.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

typedef struct fx_item {
    char *key;
    double *values; /* array or scalar (n == 1) */
    size_t n;
    char *text;
    int kind; /* 0 array, 1 value, 2 text */
} fx_item;

struct mw_fx_case {
    char *name;
    fx_item *items;
    size_t nitems, cap;
};

struct mw_fx_file {
    mw_fx_case *cases;
    size_t ncases, cap;
};

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n);
    if (!q) fail_msg("fixture: out of memory");
    return q;
}

static char *xstrdup(const char *s) {
    char *d = strdup(s);
    if (!d) fail_msg("fixture: out of memory");
    return d;
}

static fx_item *add_item(mw_fx_case *c) {
    if (c->nitems == c->cap) {
        c->cap = c->cap ? c->cap * 2 : 8;
        c->items = xrealloc(c->items, c->cap * sizeof *c->items);
    }
    fx_item *it = &c->items[c->nitems++];
    memset(it, 0, sizeof *it);
    return it;
}

static double parse_num(const char *tok, const char *path, size_t lineno) {
    char *end;
    double v = strtod(tok, &end);
    if (end == tok || *end) fail_msg("%s:%zu: not a number: '%s'", path, lineno, tok);
    return v;
}

mw_fx_file *mw_fx_load(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", MW_FIXTURE_DIR, name);
    FILE *fp = fopen(path, "r");
    if (!fp) fail_msg("cannot open fixture %s", path);
    mw_fx_file *f = calloc(1, sizeof *f);
    mw_fx_case *cur = NULL;
    char *line = NULL;
    size_t linecap = 0, lineno = 0;
    ssize_t len;
    while ((len = getline(&line, &linecap, fp)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = 0;
        if (len == 0 || line[0] == '#') continue;
        char *save = NULL;
        char *word = strtok_r(line, " ", &save);
        if (!strcmp(word, "case")) {
            if (f->ncases == f->cap) {
                f->cap = f->cap ? f->cap * 2 : 16;
                f->cases = xrealloc(f->cases, f->cap * sizeof *f->cases);
            }
            cur = &f->cases[f->ncases++];
            memset(cur, 0, sizeof *cur);
            char *nm = strtok_r(NULL, "", &save);
            cur->name = xstrdup(nm ? nm : "");
        } else if (!strcmp(word, "end")) {
            cur = NULL;
        } else if (!cur) {
            fail_msg("%s:%zu: '%s' outside a case", path, lineno, word);
        } else if (!strcmp(word, "array")) {
            fx_item *it = add_item(cur);
            char *key = strtok_r(NULL, " ", &save);
            char *cnt = strtok_r(NULL, " ", &save);
            if (!key || !cnt) fail_msg("%s:%zu: array needs KEY N", path, lineno);
            it->key = xstrdup(key);
            it->n = (size_t)parse_num(cnt, path, lineno);
            it->values = xrealloc(NULL, (it->n ? it->n : 1) * sizeof(double));
            for (size_t i = 0; i < it->n; i++) {
                char *tok = strtok_r(NULL, " ", &save);
                if (!tok) fail_msg("%s:%zu: array %s has fewer than %zu values", path, lineno, key, it->n);
                it->values[i] = parse_num(tok, path, lineno);
            }
        } else if (!strcmp(word, "value")) {
            fx_item *it = add_item(cur);
            char *key = strtok_r(NULL, " ", &save);
            char *v = strtok_r(NULL, " ", &save);
            if (!key || !v) fail_msg("%s:%zu: value needs KEY V", path, lineno);
            it->key = xstrdup(key);
            it->kind = 1;
            it->n = 1;
            it->values = xrealloc(NULL, sizeof(double));
            it->values[0] = parse_num(v, path, lineno);
        } else if (!strcmp(word, "text")) {
            fx_item *it = add_item(cur);
            char *key = strtok_r(NULL, " ", &save);
            char *rest = strtok_r(NULL, "", &save);
            if (!key) fail_msg("%s:%zu: text needs KEY", path, lineno);
            it->key = xstrdup(key);
            it->kind = 2;
            it->text = xstrdup(rest ? rest : "");
        } else {
            fail_msg("%s:%zu: unknown item '%s'", path, lineno, word);
        }
    }
    free(line);
    fclose(fp);
    return f;
}

void mw_fx_free(mw_fx_file *f) {
    if (!f) return;
    for (size_t i = 0; i < f->ncases; i++) {
        mw_fx_case *c = &f->cases[i];
        for (size_t j = 0; j < c->nitems; j++) {
            free(c->items[j].key);
            free(c->items[j].values);
            free(c->items[j].text);
        }
        free(c->items);
        free(c->name);
    }
    free(f->cases);
    free(f);
}

size_t mw_fx_count(const mw_fx_file *f) {
    return f->ncases;
}

const mw_fx_case *mw_fx_case_at(const mw_fx_file *f, size_t i) {
    return i < f->ncases ? &f->cases[i] : NULL;
}

const char *mw_fx_name(const mw_fx_case *c) {
    return c->name;
}

static const fx_item *find(const mw_fx_case *c, const char *key, int kind) {
    for (size_t i = 0; i < c->nitems; i++)
        if (c->items[i].kind == kind && !strcmp(c->items[i].key, key)) return &c->items[i];
    return NULL;
}

const double *mw_fx_array(const mw_fx_case *c, const char *key, size_t *n) {
    const fx_item *it = find(c, key, 0);
    if (n) *n = it ? it->n : 0;
    return it ? it->values : NULL;
}

int mw_fx_value(const mw_fx_case *c, const char *key, double *v) {
    const fx_item *it = find(c, key, 1);
    if (it && v) *v = it->values[0];
    return it != NULL;
}

double mw_fx_need(const mw_fx_case *c, const char *key) {
    double v = 0;
    if (!mw_fx_value(c, key, &v)) fail_msg("case '%s' has no value '%s'", c->name, key);
    return v;
}

const char *mw_fx_text(const mw_fx_case *c, const char *key) {
    const fx_item *it = find(c, key, 2);
    return it ? it->text : NULL;
}

int mw_close(double a, double b, double rel_tol, double abs_tol) {
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    if (isinf(a) || isinf(b)) return a == b;
    double d = fabs(a - b);
    return d <= abs_tol || d <= rel_tol * fabs(b);
}

void mw_assert_close_msg(double actual, double expected, double rel_tol, double abs_tol,
                         const char *case_name, const char *what, const char *file, int line) {
    if (!mw_close(actual, expected, rel_tol, abs_tol))
        fail_msg("%s:%d: case '%s': %s = %.17g, expected %.17g (rel tol %g, abs tol %g)", file,
                 line, case_name, what, actual, expected, rel_tol, abs_tol);
}
