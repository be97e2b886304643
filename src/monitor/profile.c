/*
 * Profiles: per-column bounded summaries, built value by value or from a whole
 * table, merged across windows/processes (see profile.h for what is kept).
 *
 * Mean and M2 use Welford's update for single values and Chan, Golub & LeVeque
 * (1979) for merging: delta = mb - ma; M2 = M2a + M2b + delta^2 * na*nb/n.
 * Standard deviation is sqrt(M2 / (n - 1)) (pandas' default ddof = 1).
 * Only finite numbers enter the moments, sample and distinct count; infinities
 * are counted apart, missing values (NaN) counted as missing.
 */
#include "monitor/profile_int.h"
#include "modelwatch/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const double mw_profile_quantile_levels[MW_PROFILE_NQUANTILES] = {0.01, 0.05, 0.25, 0.5,
                                                                  0.75, 0.95, 0.99};

mw_status mw_profile_new(const mw_profile_options *opt, mw_profile **out) {
    *out = NULL;
    mw_profile *p = calloc(1, sizeof *p);
    if (!p) return MW_ENOMEM;
    if (opt) p->opt = *opt;
    if (!p->opt.sample_capacity) p->opt.sample_capacity = 100000;
    if (!p->opt.max_categories) p->opt.max_categories = 10000;
    mw_rng_seed(&p->rng, p->opt.seed);
    *out = p;
    return MW_OK;
}

static void colprof_free(mw_colprof *c) {
    free(c->name);
    mw_reservoir_free(&c->sample);
    mw_distinct_free(&c->distinct);
    mw_dict_free(c->cats);
    free(c->cat_counts);
}

void mw_profile_free(mw_profile *p) {
    if (!p) return;
    for (size_t i = 0; i < p->ncols; i++)
        colprof_free(&p->cols[i]);
    free(p->cols);
    free(p);
}

mw_status mw_profile_append_column(mw_profile *p, const char *name, size_t name_len,
                                   mw_coltype type, size_t *index) {
    if (type != MW_TYPE_NUMERIC && type != MW_TYPE_CATEGORICAL) return MW_EINVAL;
    if (p->ncols == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 8;
        mw_colprof *nc = realloc(p->cols, cap * sizeof *nc);
        if (!nc) return MW_ENOMEM;
        p->cols = nc;
        p->cap = cap;
    }
    mw_colprof *c = &p->cols[p->ncols];
    memset(c, 0, sizeof *c);
    c->name = strndup(name, name_len);
    if (!c->name) return MW_ENOMEM;
    c->type = type;
    c->min = INFINITY;
    c->max = -INFINITY;
    mw_reservoir_init(&c->sample, p->opt.sample_capacity);
    if (type == MW_TYPE_CATEGORICAL && !(c->cats = mw_dict_new())) {
        free(c->name);
        return MW_ENOMEM;
    }
    *index = p->ncols++;
    return MW_OK;
}

mw_status mw_profile_column_index(mw_profile *p, const char *name, mw_coltype type, size_t *index) {
    for (size_t i = 0; i < p->ncols; i++)
        if (!strcmp(p->cols[i].name, name)) {
            if (p->cols[i].type != type) return MW_EINVAL;
            *index = i;
            return MW_OK;
        }
    return mw_profile_append_column(p, name, strlen(name), type, index);
}

static uint64_t double_hash(double v) {
    if (v == 0) v = 0; /* -0.0 and 0.0 are one value */
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    return u;
}

mw_status mw_profile_add_number(mw_profile *p, size_t col, double v) {
    if (col >= p->ncols || p->cols[col].type != MW_TYPE_NUMERIC) return MW_EINVAL;
    mw_colprof *c = &p->cols[col];
    c->count++;
    if (isnan(v)) {
        c->missing++;
        return MW_OK;
    }
    if (isinf(v)) {
        if (v > 0)
            c->pos_inf++;
        else
            c->neg_inf++;
        return MW_OK;
    }
    c->n++;
    double delta = v - c->mean;
    c->mean += delta / (double)c->n;
    c->m2 += delta * (v - c->mean);
    if (v < c->min) c->min = v;
    if (v > c->max) c->max = v;
    mw_status st = mw_reservoir_add(&c->sample, v, &p->rng);
    if (st) return st;
    return mw_distinct_add(&c->distinct, double_hash(v));
}

mw_status mw_profile_add_category_n(mw_profile *p, size_t col, const char *s, size_t len,
                                    uint64_t count) {
    mw_colprof *c = &p->cols[col];
    uint32_t code;
    c->n += count;
    if (!mw_dict_find(c->cats, s, len, &code)) {
        if (mw_dict_size(c->cats) >= p->opt.max_categories) {
            c->other_count += count;
            return mw_distinct_add(&c->distinct, mw_hash64(s, len, 0));
        }
        if (mw_dict_intern(c->cats, s, len, &code)) return MW_ENOMEM;
        if (code >= c->cat_alloc) {
            size_t na = c->cat_alloc ? c->cat_alloc * 2 : 16;
            while (na <= code)
                na *= 2;
            uint64_t *nc = realloc(c->cat_counts, na * sizeof *nc);
            if (!nc) return MW_ENOMEM;
            memset(nc + c->cat_alloc, 0, (na - c->cat_alloc) * sizeof *nc);
            c->cat_counts = nc;
            c->cat_alloc = na;
        }
        mw_status st = mw_distinct_add(&c->distinct, mw_hash64(s, len, 0));
        if (st) return st;
    }
    c->cat_counts[code] += count;
    return MW_OK;
}

mw_status mw_profile_add_category(mw_profile *p, size_t col, const char *s, size_t len) {
    if (col >= p->ncols || p->cols[col].type != MW_TYPE_CATEGORICAL) return MW_EINVAL;
    mw_colprof *c = &p->cols[col];
    c->count++;
    if (!s) {
        c->missing++;
        return MW_OK;
    }
    return mw_profile_add_category_n(p, col, s, len, 1);
}

void mw_profile_add_type_errors(mw_profile *p, size_t col, uint64_t n) {
    if (col < p->ncols) p->cols[col].type_errors += n;
}

mw_status mw_profile_from_table(const mw_table *t, const mw_profile_options *opt,
                                mw_profile **out) {
    mw_status st = mw_profile_new(opt, out);
    if (st) return st;
    mw_profile *p = *out;
    for (size_t j = 0; j < t->ncols && !st; j++) {
        const mw_column *col = &t->cols[j];
        if (col->type == MW_TYPE_IGNORE) continue;
        size_t idx;
        st = mw_profile_append_column(p, col->name, strlen(col->name), col->type, &idx);
        for (size_t i = 0; i < t->nrows && !st; i++) {
            if (col->type == MW_TYPE_NUMERIC) {
                st = mw_profile_add_number(p, idx, col->num[i]);
            } else if (col->codes[i] == MW_CODE_MISSING) {
                st = mw_profile_add_category(p, idx, NULL, 0);
            } else {
                size_t len;
                const char *s = mw_dict_str(col->dict, col->codes[i], &len);
                st = mw_profile_add_category(p, idx, s, len);
            }
        }
        if (!st) mw_profile_add_type_errors(p, idx, col->n_type_errors);
    }
    if (st) {
        mw_profile_free(p);
        *out = NULL;
    }
    return st;
}

static mw_status merge_column(mw_profile *p, mw_colprof *a, const mw_colprof *b, size_t idx) {
    a->count += b->count;
    a->missing += b->missing;
    a->type_errors += b->type_errors;
    a->pos_inf += b->pos_inf;
    a->neg_inf += b->neg_inf;
    mw_status st = mw_distinct_merge(&a->distinct, &b->distinct);
    if (st) return st;
    if (a->type == MW_TYPE_CATEGORICAL) {
        /* categories are added through the public path so caps apply; n is
         * re-added there, so only the overflow bucket is merged here */
        a->other_count += b->other_count;
        a->n += b->other_count;
        for (uint32_t code = 0; code < mw_dict_size(b->cats); code++) {
            size_t len;
            const char *s = mw_dict_str(b->cats, code, &len);
            /* distinct was merged above; adding again is idempotent */
            st = mw_profile_add_category_n(p, idx, s, len, b->cat_counts[code]);
            if (st) return st;
        }
        return MW_OK;
    }
    if (b->n) {
        double n = (double)a->n + (double)b->n;
        double delta = b->mean - a->mean;
        a->m2 += b->m2 + delta * delta * (double)a->n * (double)b->n / n;
        a->mean += delta * (double)b->n / n;
        a->n += b->n;
        if (b->min < a->min) a->min = b->min;
        if (b->max > a->max) a->max = b->max;
    }
    return mw_reservoir_merge(&a->sample, &b->sample, &p->rng);
}

mw_status mw_profile_merge(mw_profile *into, const mw_profile *other, mw_error *err) {
    for (size_t j = 0; j < other->ncols; j++) {
        const mw_colprof *b = &other->cols[j];
        size_t idx = into->ncols;
        for (size_t i = 0; i < into->ncols; i++)
            if (!strcmp(into->cols[i].name, b->name)) idx = i;
        if (idx == into->ncols) {
            mw_status st = mw_profile_append_column(into, b->name, strlen(b->name), b->type, &idx);
            if (st) return st;
        } else if (into->cols[idx].type != b->type) {
            return mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                                "cannot merge profiles: column \"%s\" is %s in one and %s in "
                                "the other",
                                b->name, mw_coltype_name(into->cols[idx].type),
                                mw_coltype_name(b->type));
        }
        mw_status st = merge_column(into, &into->cols[idx], b, idx);
        if (st)
            return mw_error_set(err, st, NULL, 0, 0, "merging column \"%s\": %s", b->name,
                                mw_status_str(st));
    }
    return MW_OK;
}

size_t mw_profile_ncols(const mw_profile *p) {
    return p->ncols;
}

static void top_categories(mw_colprof *c, mw_column_summary *s) {
    size_t k = 0;
    size_t ncat = mw_dict_size(c->cats);
    for (uint32_t code = 0; code < ncat; code++) {
        uint64_t cnt = c->cat_counts[code];
        const char *str = mw_dict_str(c->cats, code, NULL);
        /* insertion into a descending list of at most MW_PROFILE_TOP; ties by text */
        size_t pos = k;
        while (pos > 0 && (c->top_count[pos - 1] < cnt ||
                           (c->top_count[pos - 1] == cnt && strcmp(c->top[pos - 1], str) > 0)))
            pos--;
        if (pos >= MW_PROFILE_TOP) continue;
        size_t last = k < MW_PROFILE_TOP ? k : MW_PROFILE_TOP - 1;
        for (size_t i = last; i > pos; i--) {
            c->top[i] = c->top[i - 1];
            c->top_count[i] = c->top_count[i - 1];
        }
        c->top[pos] = str;
        c->top_count[pos] = cnt;
        if (k < MW_PROFILE_TOP) k++;
    }
    s->ntop = k;
    memcpy(s->top, c->top, sizeof s->top);
    memcpy(s->top_count, c->top_count, sizeof s->top_count);
}

mw_status mw_profile_summary(const mw_profile *p, size_t col, mw_column_summary *s) {
    memset(s, 0, sizeof *s);
    if (col >= p->ncols) return MW_EINVAL;
    mw_colprof *c = &p->cols[col];
    s->name = c->name;
    s->type = c->type;
    s->count = c->count;
    s->missing = c->missing;
    s->type_errors = c->type_errors;
    s->pos_inf = c->pos_inf;
    s->neg_inf = c->neg_inf;
    s->n = c->n;
    s->distinct = mw_distinct_count(&c->distinct, &s->distinct_exact);
    s->other_count = c->other_count;
    for (int i = 0; i < MW_PROFILE_NQUANTILES; i++)
        s->quantiles[i] = NAN;
    if (c->type == MW_TYPE_CATEGORICAL) {
        s->min = s->max = s->mean = s->stddev = NAN;
        top_categories(c, s);
        return MW_OK;
    }
    s->min = c->n ? c->min : NAN;
    s->max = c->n ? c->max : NAN;
    s->mean = c->n ? c->mean : NAN;
    s->stddev = c->n > 1 ? sqrt(c->m2 / (double)(c->n - 1)) : NAN;
    double *v;
    size_t n;
    mw_status st = mw_profile_sample(p, col, &v, &n);
    if (st) return st;
    if (n)
        for (int i = 0; i < MW_PROFILE_NQUANTILES; i++)
            s->quantiles[i] = mw_quantile_sorted(v, n, mw_profile_quantile_levels[i]);
    s->quantiles_exact = c->sample.seen == c->sample.len;
    free(v);
    return MW_OK;
}

mw_status mw_profile_sample(const mw_profile *p, size_t col, double **values, size_t *n) {
    *values = NULL;
    *n = 0;
    if (col >= p->ncols || p->cols[col].type != MW_TYPE_NUMERIC) return MW_EINVAL;
    const mw_reservoir *r = &p->cols[col].sample;
    double *v = malloc((r->len ? r->len : 1) * sizeof *v);
    double *scratch = malloc((r->len ? r->len : 1) * sizeof *v);
    if (!v || !scratch) {
        free(v);
        free(scratch);
        return MW_ENOMEM;
    }
    if (r->len) memcpy(v, r->values, r->len * sizeof *v);
    mw_sort_doubles(v, r->len, scratch);
    free(scratch);
    *values = v;
    *n = r->len;
    return MW_OK;
}
