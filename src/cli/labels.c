/*
 * Class labels shared by `modelwatch eval` and `modelwatch compare` (see
 * labels.h): the label set of some columns in scikit-learn's sorted order,
 * dense codes for the confusion matrices of perf.h, and the column checks
 * whose errors name file, column and row (rows numbered from 1, the header
 * not counted).
 */
#include "cli/labels.h"
#include "cli/cli.h"
#include "modelwatch/perf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void mw_labels_free(labels *L) {
    free(L->num);
    for (size_t i = 0; L->text && i < L->k; i++)
        free(L->text[i]);
    free(L->text);
}

static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

long mw_labels_find_num(const labels *L, double v) {
    const double *p = bsearch(&v, L->num, L->k, sizeof *L->num, cmp_dbl);
    return p ? (long)(p - L->num) : -1;
}
long mw_labels_find_text(const labels *L, const char *s) {
    char *const *p = bsearch(&s, L->text, L->k, sizeof *L->text, cmp_str);
    return p ? (long)(p - L->text) : -1;
}

const char *mw_labels_str(const labels *L, size_t c, char *buf) {
    if (!L->numeric) return L->text[c];
    mw_format_double(L->num[c], buf);
    return buf;
}

/* ---- value lists -------------------------------------------------------------- */

static int vl_grow(vlist *v) {
    if (v->n < v->cap) return 0;
    size_t cap = v->cap ? 2 * v->cap : 64;
    double *a = realloc(v->num, cap * sizeof *a);
    if (!a) return -1;
    v->num = a;
    char **t = realloc(v->text, cap * sizeof *t);
    if (!t) return -1;
    v->text = t;
    v->cap = cap;
    return 0;
}
int mw_vlist_num(vlist *v, double x) {
    if (vl_grow(v)) return -1;
    v->num[v->n++] = x;
    return 0;
}
int mw_vlist_text(vlist *v, const char *s) {
    if (vl_grow(v)) return -1;
    v->text[v->n++] = (char *)s;
    return 0;
}
void mw_vlist_free(vlist *v) {
    free(v->num);
    free(v->text);
    memset(v, 0, sizeof *v);
}

/* Adds a column's distinct values (numeric: all values, deduplicated later). */
static int vl_column(vlist *v, const mw_column *c, int numeric) {
    if (!c) return 0;
    if (numeric) {
        /* dedupe cheaply: sort a copy */
        double *tmp = malloc((c->nrows ? c->nrows : 1) * sizeof *tmp);
        if (!tmp) return -1;
        size_t m = 0;
        for (size_t i = 0; i < c->nrows; i++)
            if (!isnan(c->num[i])) tmp[m++] = c->num[i];
        qsort(tmp, m, sizeof *tmp, cmp_dbl);
        for (size_t i = 0; i < m; i++)
            if ((i == 0 || tmp[i] != tmp[i - 1]) && mw_vlist_num(v, tmp[i])) {
                free(tmp);
                return -1;
            }
        free(tmp);
        return 0;
    }
    for (size_t i = 0; i < mw_dict_size(c->dict); i++)
        if (mw_vlist_text(v, mw_dict_str(c->dict, (uint32_t)i, NULL))) return -1;
    return 0;
}

int mw_labels_build(vlist *v, int numeric, labels *L) {
    memset(L, 0, sizeof *L);
    L->numeric = numeric;
    if (numeric) {
        qsort(v->num, v->n, sizeof *v->num, cmp_dbl);
        L->num = malloc((v->n ? v->n : 1) * sizeof *L->num);
        if (!L->num) return -1;
        for (size_t i = 0; i < v->n; i++)
            if (i == 0 || v->num[i] != v->num[i - 1]) L->num[L->k++] = v->num[i];
        return 0;
    }
    qsort(v->text, v->n, sizeof *v->text, cmp_str);
    L->text = calloc(v->n ? v->n : 1, sizeof *L->text);
    if (!L->text) return -1;
    for (size_t i = 0; i < v->n; i++)
        if (i == 0 || strcmp(v->text[i], v->text[i - 1])) {
            if (!(L->text[L->k] = strdup(v->text[i]))) return -1;
            L->k++;
        }
    return 0;
}

int mw_labels_encode(const mw_column *c, const labels *L, uint32_t *out) {
    if (c->type == MW_TYPE_NUMERIC) {
        double prev = NAN;
        long prevc = -1;
        for (size_t i = 0; i < c->nrows; i++) {
            double x = c->num[i];
            if (isnan(x)) {
                out[i] = MW_PERF_MISSING;
                continue;
            }
            if (x != prev) {
                prev = x;
                prevc = mw_labels_find_num(L, x);
            }
            out[i] = (uint32_t)prevc;
        }
        return 0;
    }
    size_t nd = mw_dict_size(c->dict);
    uint32_t *map = malloc((nd ? nd : 1) * sizeof *map);
    if (!map) return -1;
    for (size_t d = 0; d < nd; d++)
        map[d] = (uint32_t)mw_labels_find_text(L, mw_dict_str(c->dict, (uint32_t)d, NULL));
    for (size_t i = 0; i < c->nrows; i++)
        out[i] = c->codes[i] == MW_CODE_MISSING ? MW_PERF_MISSING : map[c->codes[i]];
    free(map);
    return 0;
}

/* ---- column checks -------------------------------------------------------------- */

/* Makes every label column of the same kind; a text column beside numeric
 * ones becomes numeric when each of its texts is a number, else an error names
 * the first row that is not. Returns 1 = numeric, 0 = text, -1 = error. */
static int unify_kinds(const char *cmd, mw_column **cols, const char **src, size_t n) {
    int any_num = 0;
    for (size_t i = 0; i < n; i++)
        if (cols[i] && cols[i]->type == MW_TYPE_NUMERIC) any_num = 1;
    if (!any_num) return 0;
    for (size_t i = 0; i < n; i++) {
        mw_column *c = cols[i];
        if (!c || c->type == MW_TYPE_NUMERIC) continue;
        for (size_t r = 0; r < c->nrows; r++) {
            if (c->codes[r] == MW_CODE_MISSING) continue;
            size_t len;
            const char *s = mw_dict_str(c->dict, c->codes[r], &len);
            double v;
            if (!mw_parse_double(s, len, &v)) {
                const mw_column *num = NULL;
                for (size_t j = 0; j < n && !num; j++)
                    if (cols[j] && cols[j]->type == MW_TYPE_NUMERIC) num = cols[j];
                mw_cli_error(cmd,
                             "%s: column \"%s\", row %zu: label \"%s\" is text but column \"%s\" "
                             "holds numbers (labels of the wrong type)",
                             src[i], c->name, r + 1, s, num->name);
                return -1;
            }
        }
        mw_error err;
        if (mw_column_convert(c, MW_TYPE_NUMERIC, &err) != MW_OK) {
            mw_cli_error(cmd, "%s", err.message);
            return -1;
        }
    }
    return 1;
}

int mw_labels_collect(const char *cmd, mw_column **cols, const char **src, size_t n, vlist *v,
                      int *numeric) {
    *numeric = unify_kinds(cmd, cols, src, n);
    if (*numeric < 0) return MW_EXIT_ERROR;
    for (size_t i = 0; i < n; i++)
        if (vl_column(v, cols[i], *numeric)) return mw_cli_error(cmd, "out of memory");
    return 0;
}

int mw_cli_parse_task(const char *cmd, const char *arg, int *task) {
    if (!strcmp(arg, "auto"))
        *task = TASK_AUTO;
    else if (!strcmp(arg, "classification"))
        *task = TASK_CLASS;
    else if (!strcmp(arg, "regression"))
        *task = TASK_REG;
    else
        return mw_cli_usage_error(
            cmd, "--task expects auto, classification or regression, got \"%s\"", arg);
    return 0;
}

int mw_labels_look_like_classes(mw_column *const *cols, size_t n) {
    for (size_t c = 0; c < n; c++)
        if (cols[c]->type != MW_TYPE_NUMERIC) return 1;
    double seen[51];
    size_t ns = 0;
    for (size_t c = 0; c < n; c++)
        for (size_t i = 0; i < cols[c]->nrows; i++) {
            double v = cols[c]->num[i];
            if (isnan(v)) continue;
            if (v != floor(v) || isinf(v)) return 0;
            size_t s = 0;
            while (s < ns && seen[s] != v)
                s++;
            if (s == ns) {
                if (ns == 50) return 0;
                seen[ns++] = v;
            }
        }
    return 1;
}

int mw_cli_numeric_column(const char *cmd, const char *file, mw_column *c) {
    if (c->type == MW_TYPE_NUMERIC) return 0;
    for (size_t r = 0; r < c->nrows; r++)
        if (c->codes[r] != MW_CODE_MISSING) {
            double x;
            size_t len;
            const char *s = mw_dict_str(c->dict, c->codes[r], &len);
            if (!mw_parse_double(s, len, &x))
                return mw_cli_error(cmd,
                                    "%s: column \"%s\", row %zu: \"%s\" is not a number "
                                    "(regression needs numbers)",
                                    file, c->name, r + 1, s);
        }
    mw_error err;
    if (mw_column_convert(c, MW_TYPE_NUMERIC, &err) != MW_OK)
        return mw_cli_error(cmd, "%s", err.message);
    return 0;
}

mw_column *mw_cli_need_column(const char *cmd, mw_table *t, const char *name, const char *what) {
    long i = mw_table_find(t, name);
    if (i < 0) {
        mw_cli_error(cmd, "%s: no %s column \"%s\"", t->source, what, name);
        return NULL;
    }
    return &t->cols[i];
}
