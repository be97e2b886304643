/*
 * Outlier detection, the parts both detectors share: the feature pipeline
 * from tables (column choice, median imputation, one-hot / ordinal encoding,
 * standardisation), the fitted model and its accessors, the contamination
 * threshold, scoring entry points, explanations and the binomial test.
 * Serialisation is in outlier_io.c, the detectors in iforest.c and lof.c.
 *
 * Pipeline (what sklearn users would write as SimpleImputer(strategy="median")
 * -> OneHotEncoder / OrdinalEncoder -> StandardScaler -> detector):
 *   - numeric input: missing (NaN) -> the reference median (numpy.median of the
 *     non-missing values); +-inf is an error naming the column and row;
 *   - categorical input: categories are the reference's, sorted by their bytes;
 *     missing -> the most frequent reference category (ties: the first sorted);
 *     one-hot: one 0/1 feature per category, an unseen category is all zeros;
 *     ordinal: the category's rank, an unseen category is -1;
 *   - standardise (optional): (x - mean) / sd with the reference mean and sd
 *     (ddof 0; sd 0 -> 1, as StandardScaler);
 *   - reference columns that are all missing or constant are dropped, noted.
 * Threshold: numpy.percentile(reference scores, 100 (1 - contamination))
 * (linear interpolation), or explicit; outlier when score > threshold;
 * expected share = share of reference rows above the threshold.
 * Binomial test: P(X >= x), X ~ Binomial(n, p) = I_p(x, n - x + 1) (regularized
 * incomplete beta), scipy.stats.binomtest(x, n, p, alternative='greater').
 */
#include "monitor/outlier_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modelwatch/stats.h"

/* ---- model lifetime and notes -------------------------------------------- */

void mw_outlier_free(mw_outlier_model *m) {
    if (!m) return;
    for (size_t i = 0; i < m->nin; i++) {
        free(m->in[i].name);
        for (size_t c = 0; c < m->in[i].ncat; c++)
            free(m->in[i].cats[c]);
        free(m->in[i].cats);
        mw_dict_free(m->in[i].dict);
    }
    free(m->in);
    for (size_t j = 0; j < m->nfeat; j++)
        free(m->fname[j]);
    free(m->fname);
    free(m->finput);
    free(m->mean);
    free(m->scale);
    free(m->fsd);
    for (size_t i = 0; i < m->nnotes; i++)
        free(m->notes[i]);
    free(m->notes);
    mw_iforest_free(m->forest);
    mw_lof_free(m->lof);
    free(m);
}

mw_status mw_outlier_add_note(mw_outlier_model *m, const char *fmt, ...) {
    char **n = realloc(m->notes, (m->nnotes + 1) * sizeof *n);
    if (!n) return MW_ENOMEM;
    m->notes = n;
    va_list ap;
    va_start(ap, fmt);
    int rc = vasprintf(&n[m->nnotes], fmt, ap);
    va_end(ap);
    if (rc < 0) return MW_ENOMEM;
    m->nnotes++;
    return MW_OK;
}

/* Sets the feature layout (feat0, names, finput) from the inputs. */
mw_status mw_outlier_layout(mw_outlier_model *m) {
    size_t nf = 0;
    for (size_t i = 0; i < m->nin; i++) {
        m->in[i].feat0 = nf;
        m->in[i].nfeat = m->in[i].kind == MW_IN_ONEHOT ? m->in[i].ncat : 1;
        nf += m->in[i].nfeat;
    }
    m->nfeat = nf;
    m->fname = calloc(nf ? nf : 1, sizeof *m->fname);
    m->finput = malloc((nf ? nf : 1) * sizeof *m->finput);
    if (!m->fname || !m->finput) return MW_ENOMEM;
    for (size_t i = 0; i < m->nin; i++)
        for (size_t c = 0; c < m->in[i].nfeat; c++) {
            size_t j = m->in[i].feat0 + c;
            m->finput[j] = i;
            int rc = m->in[i].kind == MW_IN_ONEHOT
                         ? asprintf(&m->fname[j], "%s=%s", m->in[i].name, m->in[i].cats[c])
                         : asprintf(&m->fname[j], "%s", m->in[i].name);
            if (rc < 0) {
                m->fname[j] = NULL;
                return MW_ENOMEM;
            }
        }
    return MW_OK;
}

/* Builds the category dictionary (code = index in the sorted list). */
mw_status mw_outlier_build_dict(mw_outlier_input *in) {
    in->dict = mw_dict_new();
    if (!in->dict) return MW_ENOMEM;
    for (size_t c = 0; c < in->ncat; c++) {
        uint32_t code;
        if (mw_dict_intern(in->dict, in->cats[c], strlen(in->cats[c]), &code) != MW_OK)
            return MW_ENOMEM;
        if (code != c) return MW_ECORRUPT; /* duplicate category */
    }
    return MW_OK;
}

/* ---- choosing and describing input columns ------------------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct catref {
    const char *s;
    uint32_t code;
    uint64_t count;
} catref;

static int cmp_cat(const void *a, const void *b) {
    return strcmp(((const catref *)a)->s, ((const catref *)b)->s);
}

/* What the fit needs of one numeric reference column: the finite values'
 * count, range and median, or the first infinite value. Computed for all
 * columns at once, in parallel through the caller's runner. */
typedef struct numeric_scan {
    size_t nv;      /* non-missing values */
    size_t inf_row; /* 1-based row of the first infinite value; 0 = none */
    double mn, mx, median;
    int nomem;
} numeric_scan;

/* Tasks: one numeric column of a table each, or, for the row-major matrix of
 * mw_outlier_fit_matrix (columns without values), `group` adjacent matrix
 * columns each (read a row at a time, not a line per value and column). */
typedef struct scan_job {
    const mw_column *const *cols; /* table: NULL for a column that is not scanned */
    const double *rowmajor;       /* matrix: n x d */
    size_t n, d, group;
    numeric_scan *out; /* per task's column: cols' index, or matrix column */
} scan_job;

static void scan_numeric(void *arg, size_t task) {
    const scan_job *job = arg;
    const double *src;
    size_t stride, ncol, c0;
    if (job->rowmajor) {
        c0 = task * job->group;
        ncol = job->d - c0 < job->group ? job->d - c0 : job->group;
        src = job->rowmajor + c0;
        stride = job->d;
    } else {
        c0 = task;
        ncol = 1;
        memset(&job->out[c0], 0, sizeof *job->out);
        if (!job->cols[task]) return;
        src = job->cols[task]->num;
        stride = 1;
    }
    mw_median_scan_result r[16];
    int nomem = mw_median_scan(src, job->n, stride, ncol, r) != MW_OK;
    for (size_t c = 0; c < ncol; c++)
        job->out[c0 + c] =
            (numeric_scan){r[c].n_values, r[c].first_inf, r[c].min, r[c].max, r[c].median, nomem};
}

/* Numeric column col (scanned as sc) as an input; *keep = 0 when dropped. */
static mw_status describe_numeric(mw_outlier_model *m, const mw_table *t, const mw_column *col,
                                  const numeric_scan *sc, mw_outlier_input *in, int *keep,
                                  mw_error *err) {
    *keep = 0;
    if (sc->nomem) return mw_error_set(err, MW_ENOMEM, t->source, 0, 0, "out of memory");
    if (sc->inf_row)
        return mw_error_set(err, MW_EINVAL, t->source, 0, 0,
                            "%s: column \"%s\", data row %zu: infinite value; outlier "
                            "detection needs finite numbers",
                            t->source, col->name, sc->inf_row);
    mw_status st = MW_OK;
    if (!sc->nv) {
        st = mw_outlier_add_note(m, "column \"%s\" is missing in every reference row: dropped",
                                 col->name);
    } else if (sc->mn == sc->mx) {
        st = mw_outlier_add_note(m, "column \"%s\" is constant in the reference (%.17g): dropped",
                                 col->name, sc->mn);
    } else {
        in->kind = MW_IN_NUMERIC;
        in->fill = sc->median;
        in->n_imputed = t->nrows - sc->nv;
        *keep = 1;
    }
    return st == MW_OK ? MW_OK : mw_error_set(err, st, NULL, 0, 0, "out of memory");
}

static mw_status describe_categorical(mw_outlier_model *m, const mw_table *t, const mw_column *col,
                                      mw_outlier_input *in, int *keep, mw_error *err) {
    *keep = 0;
    size_t nd = mw_dict_size(col->dict);
    catref *cr = calloc(nd ? nd : 1, sizeof *cr);
    if (!cr) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    uint64_t missing = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        uint32_t c = col->codes[r];
        if (c == MW_CODE_MISSING || c >= nd)
            missing++;
        else
            cr[c].count++;
    }
    size_t nc = 0;
    for (size_t c = 0; c < nd; c++)
        if (cr[c].count)
            cr[nc++] =
                (catref){mw_dict_str(col->dict, (uint32_t)c, NULL), (uint32_t)c, cr[c].count};
    mw_status st = MW_OK;
    if (nc < 2) {
        st = nc ? mw_outlier_add_note(m, "column \"%s\" has one category in the reference: dropped",
                                      col->name)
                : mw_outlier_add_note(m, "column \"%s\" is missing in every reference row: dropped",
                                      col->name);
    } else {
        qsort(cr, nc, sizeof *cr, cmp_cat);
        in->kind = m->encode == MW_OUTLIER_ENCODE_ONEHOT ? MW_IN_ONEHOT : MW_IN_ORDINAL;
        in->cats = calloc(nc, sizeof *in->cats);
        if (!in->cats) st = MW_ENOMEM;
        size_t mode = 0;
        for (size_t c = 0; c < nc && st == MW_OK; c++) {
            if (!(in->cats[c] = strdup(cr[c].s))) st = MW_ENOMEM;
            in->ncat = c + 1;
            if (cr[c].count > cr[mode].count) mode = c;
        }
        in->fill = (double)mode;
        in->n_imputed = missing;
        if (st == MW_OK) st = mw_outlier_build_dict(in);
        *keep = st == MW_OK;
    }
    free(cr);
    return st == MW_OK ? MW_OK : mw_error_set(err, st, NULL, 0, 0, "out of memory");
}

/* The columns the options select, in order (NULL where a column of the table
 * is skipped); errors for named columns that cannot be used. */
static mw_status select_columns(const mw_outlier_model *m, const mw_table *t,
                                const mw_outlier_options *opt, const mw_column **sel,
                                mw_error *err) {
    size_t nsel = opt->columns ? opt->ncolumns : t->ncols;
    for (size_t s = 0; s < nsel; s++) {
        const mw_column *col;
        sel[s] = NULL;
        if (opt->columns) {
            long ci = mw_table_find(t, opt->columns[s]);
            if (ci < 0)
                return mw_error_set(err, MW_ENOTFOUND, t->source, 0, 0,
                                    "%s: no column \"%s\" in the reference", t->source,
                                    opt->columns[s]);
            col = &t->cols[ci];
            if (col->type == MW_TYPE_CATEGORICAL && m->encode == MW_OUTLIER_ENCODE_NONE)
                return mw_error_set(err, MW_EINVAL, t->source, 0, 0,
                                    "column \"%s\" is categorical: choose an encoding "
                                    "(--encode onehot or ordinal) to use it",
                                    col->name);
            if (col->type == MW_TYPE_IGNORE)
                return mw_error_set(err, MW_EINVAL, t->source, 0, 0,
                                    "column \"%s\" is ignored by the schema", col->name);
        } else {
            col = &t->cols[s];
            if (col->type == MW_TYPE_IGNORE) continue;
            if (col->type == MW_TYPE_CATEGORICAL && m->encode == MW_OUTLIER_ENCODE_NONE) continue;
        }
        sel[s] = col;
    }
    return MW_OK;
}

static mw_status choose_inputs(mw_outlier_model *m, const mw_table *t,
                               const mw_outlier_options *opt, const double *rowmajor,
                               mw_error *err) {
    size_t nsel = opt->columns ? opt->ncolumns : t->ncols;
    m->in = calloc(nsel ? nsel : 1, sizeof *m->in);
    const mw_column **sel = calloc(nsel ? nsel : 1, 2 * sizeof *sel), **numeric = sel + nsel;
    numeric_scan *scan = calloc(nsel ? nsel : 1, sizeof *scan);
    mw_status st = !m->in || !sel || !scan
                       ? mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory")
                       : select_columns(m, t, opt, sel, err);
    /* a matrix's columns have no values: its scans read the matrix */
    int matrix = rowmajor && t->ncols && !t->cols[0].num;
    numeric_scan *mscan = matrix ? calloc(t->ncols, sizeof *mscan) : NULL;
    if (st == MW_OK && matrix && !mscan)
        st = mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    if (st == MW_OK) { /* the numeric columns' scans, in parallel */
        for (size_t s = 0; s < nsel; s++)
            numeric[s] = sel[s] && sel[s]->type == MW_TYPE_NUMERIC ? sel[s] : NULL;
        /* matrix: 4 columns a task (1 thread, 100k x 20: 14 ms, 21-25 ms one
         * column at a time), 2 or 1 when that would leave fewer than 4 tasks */
        size_t group = !matrix ? 1 : t->ncols >= 16 ? 4 : t->ncols >= 8 ? 2 : 1;
        scan_job job = {numeric, matrix ? rowmajor : NULL, t->nrows, t->ncols,
                        group,   matrix ? mscan : scan};
        mw_runner_run(opt->runner, scan_numeric, &job,
                      matrix ? (t->ncols + group - 1) / group : nsel);
        for (size_t s = 0; matrix && s < nsel; s++)
            if (numeric[s]) scan[s] = mscan[numeric[s] - t->cols];
    }
    free(mscan);
    for (size_t s = 0; s < nsel && st == MW_OK; s++) {
        if (!sel[s]) continue;
        mw_outlier_input *in = &m->in[m->nin];
        int keep = 0;
        st = numeric[s] ? describe_numeric(m, t, sel[s], &scan[s], in, &keep, err)
                        : describe_categorical(m, t, sel[s], in, &keep, err);
        if (st == MW_OK && keep && !(in->name = strdup(sel[s]->name)))
            st = mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
        if (keep) m->nin++; /* freed with the model even on failure */
    }
    free(sel);
    free(scan);
    if (st != MW_OK) return st;
    if (!m->nin) {
        char notes[400] = "";
        for (size_t i = 0; i < m->nnotes && strlen(notes) < 300; i++)
            snprintf(notes + strlen(notes), sizeof notes - strlen(notes), "%s%s", i ? "; " : " (",
                     m->notes[i]);
        if (m->nnotes) strncat(notes, ")", sizeof notes - strlen(notes) - 1);
        return mw_error_set(err, MW_EINVAL, t->source, 0, 0,
                            "%s: no usable column for outlier detection%s%s", t->source, notes,
                            m->encode == MW_OUTLIER_ENCODE_NONE
                                ? "; categorical columns need --encode onehot|ordinal"
                                : "");
    }
    return MW_OK;
}

/* ---- encoding ----------------------------------------------------------- */

static void finish_features(const mw_outlier_model *m, double *f) {
    if (!m->standardize || !m->mean) return; /* not yet fitted: raw encoding */
    for (size_t j = 0; j < m->nfeat; j++)
        f[j] = (f[j] - m->mean[j]) / m->scale[j];
}

/* One categorical value: cat index (-1 = unseen, -2 = missing). */
static void put_category(const mw_outlier_input *in, long c, double *f, uint64_t *imp,
                         uint64_t *unseen) {
    if (c == -2) {
        c = (long)in->fill;
        (*imp)++;
    } else if (c == -1) {
        (*unseen)++;
    }
    if (in->kind == MW_IN_ONEHOT) {
        for (size_t k = 0; k < in->ncat; k++)
            f[in->feat0 + k] = 0.0;
        if (c >= 0) f[in->feat0 + (size_t)c] = 1.0;
    } else {
        f[in->feat0] = (double)c;
    }
}

mw_status mw_outlier_check_table(const mw_outlier_model *m, const mw_table *t, mw_error *err) {
    char missing[400] = "";
    size_t nmiss = 0;
    for (size_t i = 0; i < m->nin; i++) {
        long ci = mw_table_find(t, m->in[i].name);
        mw_coltype want = m->in[i].kind == MW_IN_NUMERIC ? MW_TYPE_NUMERIC : MW_TYPE_CATEGORICAL;
        if (ci >= 0 && t->cols[ci].type == want) continue;
        if (ci >= 0)
            return mw_error_set(err, MW_EINVAL, t->source, 0, (uint64_t)ci + 1,
                                "%s: column \"%s\" is %s but %s in the reference", t->source,
                                m->in[i].name, mw_coltype_name(t->cols[ci].type),
                                mw_coltype_name(want));
        if (strlen(missing) < 300)
            snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s\"%s\"",
                     nmiss ? ", " : "", m->in[i].name);
        nmiss++;
    }
    if (nmiss)
        return mw_error_set(err, MW_ENOTFOUND, t->source, 0, 0,
                            "%s: %zu column%s of the reference %s missing: %s", t->source, nmiss,
                            nmiss > 1 ? "s" : "", nmiss > 1 ? "are" : "is", missing);
    return MW_OK;
}

mw_status mw_outlier_encode_table(const mw_outlier_model *m, const mw_table *t, size_t begin,
                                  size_t end, double *features, uint64_t *n_imputed,
                                  uint64_t *n_unseen, mw_error *err) {
    mw_status st = mw_outlier_check_table(m, t, err);
    if (st != MW_OK) return st;
    if (end > t->nrows || begin > end)
        return mw_error_set(err, MW_EINVAL, t->source, 0, 0, "row range outside the table");
    uint64_t imp = 0, uns = 0;
    const size_t nf = m->nfeat;
    /* numeric inputs first, in blocks of rows that stay in cache while every
     * column writes its feature into them */
    int infinite = 0;
    for (size_t b0 = begin; b0 < end; b0 += 256)
        for (size_t i = 0; i < m->nin; i++) {
            const mw_outlier_input *in = &m->in[i];
            if (in->kind != MW_IN_NUMERIC) continue;
            const double *num = t->cols[mw_table_find(t, in->name)].num;
            for (size_t r = b0; r < end && r < b0 + 256; r++) {
                double x = num[r];
                imp += isnan(x);
                infinite |= isinf(x);
                features[(r - begin) * nf + in->feat0] = isnan(x) ? in->fill : x;
            }
        }
    for (size_t i = 0; i < m->nin && infinite; i++) /* name the first, column by column */
        for (size_t r = begin; r < end && m->in[i].kind == MW_IN_NUMERIC; r++)
            if (isinf(t->cols[mw_table_find(t, m->in[i].name)].num[r]))
                return mw_error_set(err, MW_EINVAL, t->source, r + 1, 0,
                                    "%s: column \"%s\", data row %zu: infinite value; outlier "
                                    "detection needs finite numbers",
                                    t->source, m->in[i].name, r + 1);
    for (size_t i = 0; i < m->nin && st == MW_OK; i++) {
        const mw_outlier_input *in = &m->in[i];
        const mw_column *col = &t->cols[mw_table_find(t, in->name)];
        if (in->kind == MW_IN_NUMERIC) continue;
        /* categorical: map the table's codes to reference categories once */
        size_t nd = mw_dict_size(col->dict);
        long *map = malloc((nd ? nd : 1) * sizeof *map);
        if (!map) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
        for (size_t c = 0; c < nd; c++) {
            size_t len;
            const char *s = mw_dict_str(col->dict, (uint32_t)c, &len);
            uint32_t code;
            map[c] = mw_dict_find(in->dict, s, len, &code) ? (long)code : -1;
        }
        for (size_t r = begin; r < end; r++) {
            uint32_t c = col->codes[r];
            put_category(in, c == MW_CODE_MISSING || c >= nd ? -2 : map[c],
                         features + (r - begin) * nf, &imp, &uns);
        }
        free(map);
    }
    for (size_t r = begin; r < end; r++)
        finish_features(m, features + (r - begin) * nf);
    if (n_imputed) *n_imputed += imp;
    if (n_unseen) *n_unseen += uns;
    return MW_OK;
}

mw_status mw_outlier_encode_row(const mw_outlier_model *m, const double *num,
                                const char *const *cat, double *features, uint64_t *n_imputed,
                                uint64_t *n_unseen, mw_error *err) {
    uint64_t imp = 0, uns = 0;
    for (size_t i = 0; i < m->nin; i++) {
        const mw_outlier_input *in = &m->in[i];
        if (in->kind == MW_IN_NUMERIC) {
            double x = num ? num[i] : NAN;
            if (isnan(x)) {
                x = in->fill;
                imp++;
            } else if (isinf(x)) {
                return mw_error_set(err, MW_EINVAL, NULL, 0, i + 1,
                                    "feature \"%s\": infinite value", in->name);
            }
            features[in->feat0] = x;
        } else {
            const char *s = cat ? cat[i] : NULL;
            uint32_t code;
            long c = !s ? -2 : mw_dict_find(in->dict, s, strlen(s), &code) ? (long)code : -1;
            put_category(in, c, features, &imp, &uns);
        }
    }
    finish_features(m, features);
    if (n_imputed) *n_imputed += imp;
    if (n_unseen) *n_unseen += uns;
    return MW_OK;
}

/* ---- fitting ------------------------------------------------------------ */

static mw_status check_options(const mw_outlier_options *o, mw_error *err) {
    if (o->method != MW_OUTLIER_IFOREST && o->method != MW_OUTLIER_LOF)
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "unknown outlier method");
    if (!(o->contamination >= 0 && o->contamination <= 0.5))
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "contamination must be in (0, 0.5], got %g",
                            o->contamination);
    if (!(o->max_features >= 0 && o->max_features <= 1))
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "max_features must be in (0, 1], got %g",
                            o->max_features);
    if (o->has_threshold && !isfinite(o->threshold))
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "the threshold must be a finite number");
    if (o->encode > MW_OUTLIER_ENCODE_ORDINAL)
        return mw_error_set(err, MW_EINVAL, NULL, 0, 0, "unknown encoding");
    return MW_OK;
}

/* Scoring the reference for the threshold, in blocks of rows that the
 * caller's runner may spread over threads (the largest part of a forest fit:
 * ~40 ms of ~80 for 100k x 20 on one core). */
#define SCORE_BLOCK 8192
typedef struct score_job {
    const mw_iforest *forest;
    const double *x;
    size_t n, nf;
    double *scores;
    size_t nblocks;
} score_job;

static void score_block_task(void *arg, size_t b) {
    const score_job *j = arg;
    size_t lo = b * SCORE_BLOCK, hi = lo + SCORE_BLOCK < j->n ? lo + SCORE_BLOCK : j->n;
    mw_iforest_score(j->forest, j->x + lo * j->nf, hi - lo, j->scores + lo);
}

/* The reference's per-feature moments and its standardisation, in blocks of
 * ROW_BLOCK rows on the caller's runner: pass 0 sums each block's rows in
 * order into part (nf per block), pass 1 its squared deviations from mu,
 * pass 2 standardises its rows. Blocks are fixed, so the sums do not depend
 * on the number of threads. */
#define ROW_BLOCK 8192
typedef struct moments_job {
    const mw_outlier_model *m;
    double *x;
    size_t n;
    const double *mu;
    double *part;
    int pass;
} moments_job;

static void moments_task(void *arg, size_t b) {
    const moments_job *j = arg;
    const size_t nf = j->m->nfeat, lo = b * ROW_BLOCK;
    const size_t hi = lo + ROW_BLOCK < j->n ? lo + ROW_BLOCK : j->n;
    double *p = j->part + b * nf;
    if (j->pass < 2) memset(p, 0, nf * sizeof *p);
    for (size_t r = lo; r < hi; r++) {
        double *row = j->x + r * nf;
        if (j->pass == 0)
            for (size_t f = 0; f < nf; f++)
                p[f] += row[f];
        else if (j->pass == 1)
            for (size_t f = 0; f < nf; f++) {
                double dv = row[f] - j->mu[f];
                p[f] += dv * dv;
            }
        else
            finish_features(j->m, row);
    }
}

/* numpy.quantile(scores, level[j]) for j < nl: by selection (the same bits
 * as sorting, without sorting 100k scores) unless a NaN is there to be
 * ordered as qsort does (then scores are sorted in place). */
static void ref_quantiles(double *scores, size_t n, const double *level, size_t nl, double *out) {
    int has_nan = 0;
    for (size_t i = 0; i < n; i++)
        has_nan |= isnan(scores[i]);
    if (!has_nan && mw_quantiles_select(scores, n, level, nl, out) == MW_OK) return;
    qsort(scores, n, sizeof *scores, cmp_double);
    for (size_t j = 0; j < nl; j++)
        out[j] = mw_quantile_sorted(scores, n, level[j]);
}

/* Reference statistics, standardisation, the detector and the threshold, once
 * the inputs are chosen; x is the encoded reference (n x nfeat), modified. */
static mw_status fit_features(mw_outlier_model *m, const mw_outlier_options *opt, double *x,
                              size_t n, mw_error *err) {
    const size_t nf = m->nfeat;
    m->mean = calloc(nf, sizeof *m->mean);
    m->scale = malloc(nf * sizeof *m->scale);
    m->fsd = malloc(nf * sizeof *m->fsd);
    double *scores = malloc(n * sizeof *scores);
    mw_status st = MW_OK;
    if (!m->mean || !m->scale || !m->fsd || !scores) {
        free(scores);
        return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    }
    /* per feature sums over blocks of rows on the runner, added in block order */
    size_t nb = (n + ROW_BLOCK - 1) / ROW_BLOCK;
    double *sum = calloc(3 * nf + nb * nf, sizeof *sum), *ssq = sum + nf, *mu = sum + 2 * nf;
    if (!sum) {
        free(scores);
        return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    }
    moments_job mj = {m, x, n, NULL, mu + nf, 0};
    mw_runner_run(opt->runner, moments_task, &mj, nb);
    for (size_t b = 0; b < nb; b++)
        for (size_t j = 0; j < nf; j++)
            sum[j] += mj.part[b * nf + j];
    for (size_t j = 0; j < nf; j++)
        mu[j] = sum[j] / (double)n;
    mj.mu = mu;
    mj.pass = 1;
    mw_runner_run(opt->runner, moments_task, &mj, nb);
    for (size_t b = 0; b < nb; b++)
        for (size_t j = 0; j < nf; j++)
            ssq[j] += mj.part[b * nf + j];
    for (size_t j = 0; j < nf; j++) {
        double mean = mu[j], sd = sqrt(ssq[j] / (double)n);
        m->mean[j] = m->standardize ? mean : 0.0;
        m->scale[j] = m->standardize && sd > 0 ? sd : 1.0;
        m->fsd[j] = sd / m->scale[j];
    }
    free(sum);
    mj.pass = 2;
    if (m->standardize) mw_runner_run(opt->runner, moments_task, &mj, nb);
    if (m->method == MW_OUTLIER_IFOREST) {
        mw_iforest_params p = {opt->n_trees, opt->max_samples, opt->max_features, opt->seed,
                               opt->runner};
        st = mw_iforest_fit(x, n, nf, &p, &m->forest);
        if (st == MW_OK) {
            score_job job = {m->forest, x, n, nf, scores, (n + SCORE_BLOCK - 1) / SCORE_BLOCK};
            mw_runner_run(opt->runner, score_block_task, &job, job.nblocks);
        }
    } else {
        uint32_t k = opt->n_neighbors ? opt->n_neighbors : 20;
        if (n <= k) {
            free(scores);
            return mw_error_set(err, MW_EINVAL, NULL, 0, 0,
                                "LOF with k = %u neighbours needs more than %u reference rows, "
                                "got %zu",
                                k, k, n);
        }
        st = mw_lof_fit(x, n, nf, k, opt->runner, &m->lof, scores);
    }
    if (st != MW_OK) {
        free(scores);
        return mw_error_set(err, st, NULL, 0, 0, "fitting the detector failed: %s",
                            mw_status_str(st));
    }
    m->has_threshold = opt->has_threshold;
    m->contamination = opt->has_threshold       ? NAN
                       : opt->contamination > 0 ? opt->contamination
                                                : 0.01;
    double level[102], value[102];
    for (int i = 0; i <= 100; i++)
        level[i] = i / 100.0;
    level[101] = opt->has_threshold ? 1.0 : 1.0 - m->contamination;
    ref_quantiles(scores, n, level, 102, value);
    memcpy(m->q, value, sizeof m->q);
    m->threshold = opt->has_threshold ? opt->threshold : value[101];
    size_t above = 0;
    for (size_t i = 0; i < n; i++)
        above += scores[i] > m->threshold;
    m->expected_share = (double)above / (double)n;
    free(scores);
    return MW_OK;
}

static mw_outlier_model *new_model(const mw_outlier_options *opt) {
    mw_outlier_model *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->method = opt->method;
    m->encode = opt->encode;
    m->standardize = opt->standardize != 0;
    m->seed = opt->seed;
    return m;
}

/* Encoding the reference, and filling the columns of a matrix's table, in
 * blocks of rows on the caller's runner (each block writes its own rows). */
typedef struct rows_job {
    const mw_outlier_model *m;
    const mw_table *t;
    const double *rowmajor; /* fill: the matrix */
    double *x;              /* encode: the encoded reference */
    uint64_t *imputed;      /* encode: per block */
    mw_status *st;          /* encode: per block */
} rows_job;

static void encode_task(void *arg, size_t b) {
    const rows_job *j = arg;
    size_t lo = b * ROW_BLOCK, hi = lo + ROW_BLOCK < j->t->nrows ? lo + ROW_BLOCK : j->t->nrows;
    j->imputed[b] = 0;
    j->st[b] = mw_outlier_encode_table(j->m, j->t, lo, hi, j->x + lo * j->m->nfeat, &j->imputed[b],
                                       NULL, NULL);
}

/* transposes in blocks of rows that stay in cache while every column reads them */
static void fill_task(void *arg, size_t b) {
    const rows_job *j = arg;
    size_t n = j->t->nrows, d = j->t->ncols;
    size_t lo = b * ROW_BLOCK, hi = lo + ROW_BLOCK < n ? lo + ROW_BLOCK : n;
    for (size_t r0 = lo; r0 < hi; r0 += 256)
        for (size_t c = 0; c < d; c++)
            for (size_t r = r0; r < hi && r < r0 + 256; r++)
                j->t->cols[c].num[r] = j->rowmajor[r * d + c];
}

/* The encoded reference (n x nfeat) into x; a table made by
 * mw_outlier_fit_matrix (columns without values) gets its columns first. */
static mw_status encode_reference(mw_outlier_model *m, const mw_table *ref, const double *rowmajor,
                                  const mw_runner *runner, double *x, mw_error *err) {
    size_t n = ref->nrows, nb = (n + ROW_BLOCK - 1) / ROW_BLOCK;
    mw_table filled = *ref;
    int fill = rowmajor && ref->ncols && !ref->cols[0].num;
    uint64_t *imputed = malloc(nb * sizeof *imputed);
    mw_status *bst = malloc(nb * sizeof *bst);
    mw_status st = imputed && bst ? MW_OK : MW_ENOMEM;
    if (fill && st == MW_OK) {
        filled.cols = malloc(ref->ncols * sizeof *filled.cols);
        if (!filled.cols) st = MW_ENOMEM;
        for (size_t c = 0; st == MW_OK && c < ref->ncols; c++) {
            filled.cols[c] = ref->cols[c];
            if (!(filled.cols[c].num = malloc(n * sizeof(double)))) {
                st = MW_ENOMEM;
                while (c-- > 0)
                    free(filled.cols[c].num);
            }
        }
        if (st != MW_OK) {
            free(filled.cols);
            fill = 0;
        }
    }
    rows_job job = {m, &filled, rowmajor, x, imputed, bst};
    if (fill && st == MW_OK) mw_runner_run(runner, fill_task, &job, nb);
    if (st == MW_OK) mw_runner_run(runner, encode_task, &job, nb);
    for (size_t b = 0; b < nb && st == MW_OK; b++) {
        if (bst[b] != MW_OK) { /* again on this thread, for the message */
            size_t lo = b * ROW_BLOCK, hi = lo + ROW_BLOCK < n ? lo + ROW_BLOCK : n;
            st = mw_outlier_encode_table(m, &filled, lo, hi, x + lo * m->nfeat, &imputed[b], NULL,
                                         err);
            if (st == MW_OK) st = bst[b];
        }
        m->n_imputed += imputed[b];
    }
    if (st == MW_ENOMEM) mw_error_set(err, st, NULL, 0, 0, "out of memory");
    for (size_t c = 0; fill && c < ref->ncols; c++)
        free(filled.cols[c].num);
    if (fill) free(filled.cols);
    free(imputed);
    free(bst);
    return st;
}

/* mw_outlier_fit; rowmajor (may be NULL) is the same reference as a row-major
 * matrix, used as the encoded reference when encoding would copy it unchanged:
 * every column kept in order, numeric, nothing imputed, no standardisation.
 * With rowmajor, the table's columns may come without values (num NULL): the
 * scans read the matrix, and columns are filled only if encoding needs them. */
static mw_status fit_table(const mw_table *ref, const mw_outlier_options *opt,
                           const double *rowmajor, mw_outlier_model **out, mw_error *err) {
    *out = NULL;
    mw_status st = check_options(opt, err);
    if (st != MW_OK) return st;
    if (!ref->nrows)
        return mw_error_set(err, MW_EINVAL, ref->source, 0, 0, "%s: the reference has no rows",
                            ref->source);
    mw_outlier_model *m = new_model(opt);
    if (!m) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    double *x = NULL;
    st = choose_inputs(m, ref, opt, rowmajor, err);
    if (st == MW_OK && (st = mw_outlier_layout(m)) != MW_OK)
        mw_error_set(err, st, NULL, 0, 0, "out of memory");
    int as_is = st == MW_OK && rowmajor && !m->standardize && m->nfeat == ref->ncols;
    for (size_t i = 0; as_is && i < m->nin; i++)
        as_is = m->in[i].kind == MW_IN_NUMERIC && m->in[i].n_imputed == 0 &&
                !strcmp(m->in[i].name, ref->cols[i].name);
    if (st == MW_OK && !as_is && !(x = malloc(ref->nrows * m->nfeat * sizeof *x)))
        st = mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    if (st == MW_OK && !as_is) st = encode_reference(m, ref, rowmajor, opt->runner, x, err);
    m->n_ref = ref->nrows;
    /* fit_features writes x only to standardise, which as_is excludes */
    if (st == MW_OK) st = fit_features(m, opt, as_is ? (double *)rowmajor : x, ref->nrows, err);
    free(x);
    if (st != MW_OK) {
        mw_outlier_free(m);
        return st;
    }
    *out = m;
    return MW_OK;
}

mw_status mw_outlier_fit(const mw_table *ref, const mw_outlier_options *opt, mw_outlier_model **out,
                         mw_error *err) {
    return fit_table(ref, opt, NULL, out, err);
}

mw_status mw_outlier_fit_matrix(const double *x, size_t n, size_t d, const char *const *names,
                                const mw_outlier_options *opt, mw_outlier_model **out,
                                mw_error *err) {
    *out = NULL;
    mw_table t;
    memset(&t, 0, sizeof t);
    t.source = (char *)"matrix";
    t.nrows = n;
    t.ncols = d;
    t.cols = calloc(d ? d : 1, sizeof *t.cols);
    char(*nm)[24] = malloc((d ? d : 1) * sizeof *nm);
    mw_status st = MW_OK;
    if (!t.cols || !nm) st = mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    for (size_t j = 0; j < d && st == MW_OK; j++) { /* no values: fit_table reads x */
        snprintf(nm[j], sizeof nm[j], "x%zu", j);
        t.cols[j].name = names ? (char *)names[j] : nm[j];
        t.cols[j].type = MW_TYPE_NUMERIC;
        t.cols[j].nrows = n;
    }
    if (st == MW_OK) st = fit_table(&t, opt, x, out, err);
    free(t.cols);
    free(nm);
    return st;
}

/* ---- accessors ----------------------------------------------------------- */

void mw_outlier_get_info(const mw_outlier_model *m, mw_outlier_info *info) {
    memset(info, 0, sizeof *info);
    info->method = m->method;
    info->n_reference = m->n_ref;
    info->n_inputs = m->nin;
    info->n_features = m->nfeat;
    if (m->forest) {
        info->n_trees = m->forest->n_trees;
        info->max_samples = m->forest->max_samples;
        info->max_depth = m->forest->max_depth;
    }
    if (m->lof) info->n_neighbors = m->lof->k;
    info->seed = m->seed;
    info->encode = m->encode;
    info->standardize = m->standardize;
    info->contamination = m->contamination;
    info->threshold = m->threshold;
    info->expected_share = m->expected_share;
    info->n_imputed = m->n_imputed;
    memcpy(info->ref_quantiles, m->q, sizeof m->q);
}

const char *mw_outlier_input_name(const mw_outlier_model *m, size_t i) {
    return i < m->nin ? m->in[i].name : NULL;
}
mw_coltype mw_outlier_input_type(const mw_outlier_model *m, size_t i) {
    if (i >= m->nin) return MW_TYPE_AUTO;
    return m->in[i].kind == MW_IN_NUMERIC ? MW_TYPE_NUMERIC : MW_TYPE_CATEGORICAL;
}
uint64_t mw_outlier_input_imputed(const mw_outlier_model *m, size_t i) {
    return i < m->nin ? m->in[i].n_imputed : 0;
}
const char *mw_outlier_feature_name(const mw_outlier_model *m, size_t j) {
    return j < m->nfeat ? m->fname[j] : NULL;
}
size_t mw_outlier_feature_input(const mw_outlier_model *m, size_t j) {
    return j < m->nfeat ? m->finput[j] : 0;
}
size_t mw_outlier_nnotes(const mw_outlier_model *m) {
    return m->nnotes;
}
const char *mw_outlier_note(const mw_outlier_model *m, size_t i) {
    return i < m->nnotes ? m->notes[i] : NULL;
}

/* ---- scoring and explanations --------------------------------------------- */

mw_status mw_outlier_score_features(const mw_outlier_model *m, const double *features, size_t n,
                                    double *scores) {
    if (m->forest) {
        mw_iforest_score(m->forest, features, n, scores);
        return MW_OK;
    }
    return mw_lof_score(m->lof, features, n, scores, NULL);
}

mw_status mw_outlier_score_table(const mw_outlier_model *m, const mw_table *t, size_t begin,
                                 size_t end, double *scores, uint64_t *n_imputed, mw_error *err) {
    const size_t chunk = 4096;
    size_t n = end > begin ? end - begin : 0;
    double *f = malloc((n < chunk ? (n ? n : 1) : chunk) * m->nfeat * sizeof *f);
    if (!f) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    mw_status st = MW_OK;
    for (size_t r = begin; r < end && st == MW_OK; r += chunk) {
        size_t e = end - r < chunk ? end : r + chunk;
        st = mw_outlier_encode_table(m, t, r, e, f, n_imputed, NULL, err);
        if (st == MW_OK && (st = mw_outlier_score_features(m, f, e - r, scores + (r - begin))))
            mw_error_set(err, st, NULL, 0, 0, "scoring failed: %s", mw_status_str(st));
    }
    if (begin > end || end > t->nrows)
        st = mw_error_set(err, MW_EINVAL, NULL, 0, 0, "bad row range");
    free(f);
    return st;
}

mw_status mw_outlier_score_row(const mw_outlier_model *m, const double *num, const char *const *cat,
                               double *score, mw_error *err) {
    double stackbuf[256];
    double *f = m->nfeat <= 256 ? stackbuf : malloc(m->nfeat * sizeof *f);
    *score = NAN;
    if (!f) return mw_error_set(err, MW_ENOMEM, NULL, 0, 0, "out of memory");
    mw_status st = mw_outlier_encode_row(m, num, cat, f, NULL, NULL, err);
    if (st == MW_OK && (st = mw_outlier_score_features(m, f, 1, score)) != MW_OK)
        mw_error_set(err, st, NULL, 0, 0, "scoring failed: %s", mw_status_str(st));
    if (f != stackbuf) free(f);
    return st;
}

int mw_outlier_is_outlier(const mw_outlier_model *m, double score) {
    return score > m->threshold;
}

size_t mw_outlier_explain(const mw_outlier_model *m, const double *features, mw_outlier_reason *out,
                          size_t max) {
    const size_t nf = m->nfeat;
    double *w = calloc(nf, sizeof *w);
    if (!w || !max) {
        free(w);
        return 0;
    }
    if (m->forest) {
        mw_iforest_explain(m->forest, features, w);
    } else {
        const uint32_t k = m->lof->k;
        double *dist = malloc(k * sizeof *dist);
        uint32_t *idx = malloc(k * sizeof *idx);
        if (!dist || !idx || mw_lof_knn(m->lof, features, 1, 0, dist, idx) != MW_OK) {
            free(dist);
            free(idx);
            free(w);
            return 0;
        }
        for (size_t j = 0; j < nf; j++) {
            double s = 0;
            for (uint32_t i = 0; i < k; i++)
                s += m->lof->x[(size_t)idx[i] * nf + j];
            w[j] = m->fsd[j] > 0 ? fabs(features[j] - s / k) / m->fsd[j] : 0.0;
        }
        free(dist);
        free(idx);
    }
    size_t n = 0;
    for (size_t j = 0; j < nf; j++) { /* insertion into the top list, largest first */
        if (!(w[j] > 0)) continue;
        size_t at = n < max ? n : max;
        while (at > 0 && out[at - 1].weight < w[j])
            at--;
        if (at >= max) continue;
        size_t last = n < max ? n : max - 1;
        for (size_t p = last; p > at; p--)
            out[p] = out[p - 1];
        out[at] = (mw_outlier_reason){j, w[j]};
        if (n < max) n++;
    }
    free(w);
    return n;
}
