/*
 * `modelwatch eval`: model performance on a labelled file (scikit-learn-exact
 * metrics of include/modelwatch/perf.h), or with --estimate an estimate for an
 * unlabelled file from the model's scores, calibrated on a labelled reference
 * (CBPE).
 *
 * Labels: the target and prediction columns hold class labels, both numbers
 * (sorted numerically) or both text (sorted by code point), as scikit-learn's
 * unique_labels; classes are the union of targets, predictions and score
 * columns. A text column next to a numeric one is an error naming the first
 * row whose text is not a number ("labels of the wrong type").
 *
 * Bad input, all counted and reported (JSON "skipped" and "warnings", and
 * stderr):
 *   - a row without a target or a prediction is left out of every metric;
 *   - a row with a NaN/missing score (or a negative one, or multiclass scores
 *     summing to 0) is left out of the score metrics (ROC AUC, AP, log loss,
 *     Brier, ECE) only;
 *   - multiclass scores whose sum differs from 1 (numpy.allclose: |s - 1| >
 *     1e-8 + 1e-5 s) are divided by their sum for every score metric, as
 *     log_loss does (scikit-learn's roc_auc_score would refuse them);
 *   - binary scores outside [0, 1] (decision values) give ROC AUC and AP only;
 *   - a predicted class never seen in the targets counts as wrong (as
 *     scikit-learn), with a warning; a class without a score column makes the
 *     score metrics unavailable (null) with a warning.
 */
#include "cli/eval_int.h"
#include "report/json_writer.h"

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char eval_help[] =
    "usage: modelwatch eval FILE --target COL --prediction COL [options]\n"
    "\n"
    "Computes a model's performance on FILE (CSV or NDJSON/JSONL, optionally\n"
    "gzip-compressed; '-' reads standard input) with the definitions of\n"
    "scikit-learn 1.2 (zero_division=0). With --estimate, estimates the\n"
    "performance of a classifier on FILE without its labels, from its scores\n"
    "calibrated on a labelled reference (confidence-based estimation, CBPE).\n"
    "\n"
    "options:\n"
    "      --target COL         the true labels (or values, for regression)\n"
    "      --prediction COL     the model's predicted labels (or values)\n"
    "      --scores COL|PREFIX  COL: the positive-class score of a binary\n"
    "                           classifier; PREFIX: one score column per class,\n"
    "                           named PREFIX + label (p_cat, p_dog, ...)\n"
    "      --pos-label L        the positive class of a binary classifier\n"
    "                           (default: the greater label, as scikit-learn)\n"
    "      --task auto|classification|regression\n"
    "                           auto (default): classification when the labels\n"
    "                           are text, or whole numbers with at most 50\n"
    "                           distinct values; regression otherwise\n"
    "      --estimate           estimate metrics for FILE from its predictions\n"
    "                           and scores (FILE needs no target column)\n"
    "  -r, --reference REF      labelled reference data for --estimate (same\n"
    "                           columns as FILE, with the target)\n"
    "  -f, --format text|json|html   report format (default text)\n"
    "  -o, --output FILE        write the report to FILE (default stdout)\n"
    "  -h, --help               show this help\n"
    "\n"
    "Rows without a target or prediction are skipped; rows with a missing or NaN\n"
    "score are left out of the score metrics; multiclass scores not summing to 1\n"
    "are divided by their sum. Each is counted and reported. Rows are numbered\n"
    "from 1, the header not counted.\n"
    "\n"
    "JSON keys follow scikit-learn: accuracy, balanced_accuracy, precision_macro,\n"
    "recall_macro, f1_macro (and _micro, _weighted), per_class, confusion_matrix,\n"
    "roc_auc, average_precision, log_loss, brier, ece; mae, mse, rmse, mape, r2,\n"
    "max_error, median_absolute_error.\n"
    "\n"
    "exit status: 0 ok, 1 error, 2 usage\n";

static const char *CMD = "eval";

enum { OPT_TARGET = 1000, OPT_PRED, OPT_SCORES, OPT_TASK, OPT_ESTIMATE, OPT_POS };

/* ---- warnings --------------------------------------------------------------- */

static void warn(warns *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(warns *w, const char *fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fprintf(stderr, "modelwatch eval: warning: %s\n", buf);
    if (w->n < MAX_WARN) w->msg[w->n++] = strdup(buf);
}

static void warns_free(warns *w) {
    for (size_t i = 0; i < w->n; i++)
        free(w->msg[i]);
}

/* ---- one file's columns ----------------------------------------------------- */

typedef struct view {
    mw_table *t;
    mw_column *target, *pred;
    mw_column **score; /* m score columns */
    char **suffix;     /* class text of each (prefix mode), borrowed from names */
    size_t m;
    int single; /* --scores names one column (binary positive score) */
} view;

static void view_free(view *v) {
    free(v->score);
    free(v->suffix);
}

static int resolve_scores(view *v, const char *arg) {
    if (!arg) return 0;
    long i = mw_table_find(v->t, arg);
    size_t plen = strlen(arg);
    v->score = calloc(v->t->ncols + 1, sizeof *v->score);
    v->suffix = calloc(v->t->ncols + 1, sizeof *v->suffix);
    if (!v->score || !v->suffix) return mw_cli_error(CMD, "out of memory");
    if (i >= 0) {
        v->single = 1;
        v->score[0] = &v->t->cols[i];
        v->m = 1;
    } else {
        for (size_t c = 0; c < v->t->ncols; c++) {
            const char *nm = v->t->cols[c].name;
            if (strncmp(nm, arg, plen) || !nm[plen]) continue;
            v->score[v->m] = &v->t->cols[c];
            v->suffix[v->m] = (char *)nm + plen;
            v->m++;
        }
        if (!v->m)
            return mw_cli_error(CMD,
                                "%s: --scores \"%s\" is neither a column nor the prefix of one",
                                v->t->source, arg);
    }
    for (size_t j = 0; j < v->m; j++)
        if (v->score[j]->type != MW_TYPE_NUMERIC) {
            const mw_column *c = v->score[j];
            for (size_t r = 0; r < c->nrows; r++)
                if (c->codes[r] != MW_CODE_MISSING)
                    return mw_cli_error(
                        CMD, "%s: score column \"%s\", row %zu: \"%s\" is not a number",
                        v->t->source, c->name, r + 1, mw_dict_str(c->dict, c->codes[r], NULL));
            /* every value missing: treat as numeric NaN */
            mw_error err;
            if (mw_column_convert(v->score[j], MW_TYPE_NUMERIC, &err) != MW_OK)
                return mw_cli_error(CMD, "%s", err.message);
        }
    return 0;
}

/* ---- scores of evaluated rows ------------------------------------------------ */

typedef struct scoremat {
    int binary;        /* one positive-class score per row */
    size_t k;          /* columns (binary: 1) */
    double *v;         /* n x k */
    unsigned char *ok; /* row usable for score metrics */
    int probs;         /* binary: every usable score is in [0, 1] */
    uint64_t n_invalid, n_renorm;
    size_t first_invalid, first_renorm; /* 1-based rows */
    int available;                      /* score metrics can be computed */
} scoremat;

/* Fills the score matrix for rows[0..n) of view v; col_of_class[c] = index into
 * v->score of class c's column (or -1). */
static int build_scores(const view *v, const size_t *rows, size_t n, const long *col_of_class,
                        size_t k, long pos_col, scoremat *S) {
    memset(S, 0, sizeof *S);
    S->binary = v->single || k == 2;
    S->k = S->binary ? 1 : k;
    S->v = malloc((n ? n : 1) * S->k * sizeof *S->v);
    S->ok = malloc(n ? n : 1);
    if (!S->v || !S->ok) return mw_cli_error(CMD, "out of memory");
    S->probs = 1;
    S->available = 1;
    for (size_t i = 0; i < n; i++) {
        size_t r = rows[i];
        int ok = 1;
        if (S->binary) {
            double s = v->score[pos_col]->num[r];
            S->v[i] = s;
            if (isnan(s))
                ok = 0;
            else if (!(s >= 0 && s <= 1))
                S->probs = 0;
        } else {
            double sum = 0;
            for (size_t c = 0; c < k; c++) {
                double s = v->score[col_of_class[c]]->num[r];
                S->v[i * k + c] = s;
                if (!(s >= 0) || isinf(s)) ok = 0;
                sum += s;
            }
            if (ok && !(sum > 0)) ok = 0;
            if (ok && !(fabs(sum - 1.0) <= 1e-8 + 1e-5 * sum)) {
                if (!S->n_renorm++) S->first_renorm = r + 1;
                for (size_t c = 0; c < k; c++)
                    S->v[i * k + c] /= sum;
            }
        }
        S->ok[i] = (unsigned char)ok;
        if (!ok && !S->n_invalid++) S->first_invalid = r + 1;
    }
    return 0;
}

/* ---- evaluation -------------------------------------------------------------- */

static int parse_args(int argc, char **argv, eval_args *a) {
    static const struct option longopts[] = {{"target", required_argument, NULL, OPT_TARGET},
                                             {"prediction", required_argument, NULL, OPT_PRED},
                                             {"scores", required_argument, NULL, OPT_SCORES},
                                             {"pos-label", required_argument, NULL, OPT_POS},
                                             {"task", required_argument, NULL, OPT_TASK},
                                             {"estimate", no_argument, NULL, OPT_ESTIMATE},
                                             {"reference", required_argument, NULL, 'r'},
                                             {"format", required_argument, NULL, 'f'},
                                             {"output", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    memset(a, 0, sizeof *a);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":r:f:o:h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_TARGET:
            a->target = optarg;
            break;
        case OPT_PRED:
            a->pred = optarg;
            break;
        case OPT_SCORES:
            a->scores = optarg;
            break;
        case OPT_POS:
            a->pos_label = optarg;
            break;
        case OPT_TASK: {
            int rc = mw_cli_parse_task(CMD, optarg, &a->task);
            if (rc) return rc;
            break;
        }
        case OPT_ESTIMATE:
            a->estimate = 1;
            break;
        case 'r':
            a->reference = optarg;
            break;
        case 'f':
            if (!mw_report_format_from_name(optarg, &a->format))
                return mw_cli_usage_error(CMD, "--format expects text, json or html, got \"%s\"",
                                          optarg);
            break;
        case 'o':
            a->output = optarg;
            break;
        case 'h':
            fputs(eval_help, stdout);
            return -1;
        case ':':
            return mw_cli_usage_error(CMD, "option %s needs a value", argv[optind - 1]);
        default:
            return mw_cli_usage_error(CMD, "unknown option %s", argv[optind - 1]);
        }
    }
    if (optind < argc) a->file = argv[optind++];
    if (optind < argc) return mw_cli_usage_error(CMD, "unexpected argument \"%s\"", argv[optind]);
    if (!a->file) return mw_cli_usage_error(CMD, "a FILE to evaluate is required");
    if (!a->pred) return mw_cli_usage_error(CMD, "--prediction is required");
    if (!a->target) return mw_cli_usage_error(CMD, "--target is required");
    if (a->estimate) {
        if (!a->reference) return mw_cli_usage_error(CMD, "--estimate needs --reference REF");
        if (!a->scores) return mw_cli_usage_error(CMD, "--estimate needs --scores");
        if (a->task == TASK_REG)
            return mw_cli_usage_error(CMD, "--estimate applies to classifiers only");
    } else if (a->reference) {
        return mw_cli_usage_error(CMD, "--reference is used with --estimate only");
    }
    return 0;
}

static int run_regression(const eval_args *a, view *v, result *R) {
    int rc;
    if ((rc = mw_cli_numeric_column(CMD, a->file, v->target)) ||
        (rc = mw_cli_numeric_column(CMD, a->file, v->pred)))
        return rc;
    size_t n = v->t->nrows, m = 0;
    double *y = malloc((n ? n : 1) * sizeof *y), *yh = malloc((n ? n : 1) * sizeof *yh);
    if (!y || !yh) {
        free(y);
        free(yh);
        return mw_cli_error(CMD, "out of memory");
    }
    size_t first_inf = 0;
    for (size_t i = 0; i < n; i++) {
        double t = v->target->num[i], p = v->pred->num[i];
        if (isnan(t)) {
            R->missing_target++;
            continue;
        }
        if (isnan(p)) {
            R->missing_pred++;
            continue;
        }
        if (isinf(t) || isinf(p)) {
            if (!first_inf) first_inf = i + 1;
            R->missing_target++;
            continue;
        }
        y[m] = t;
        yh[m] = p;
        m++;
    }
    if (first_inf) warn(&R->w, "infinite values skipped (first at row %zu)", first_inf);
    R->evaluated = m;
    R->task = "regression";
    mw_error err;
    if (!m)
        rc = mw_cli_error(CMD, "%s: no row has both a target and a prediction", a->file);
    else if (mw_regression_metrics(y, yh, m, &R->reg, &err) != MW_OK)
        rc = mw_cli_error(CMD, "%s", err.message);
    else
        R->has_reg = 1;
    if (!rc && m < 2) warn(&R->w, "r2 is not defined with fewer than two rows");
    free(y);
    free(yh);
    return rc;
}

/* Class labels, codes and score columns shared by eval and --estimate. */
typedef struct classes {
    long *col_of_class; /* k: index into view->score, or -1 */
    long pos_col;       /* binary: the positive-class score column */
    uint32_t pos;
} classes;

/* Builds R->L from the label columns of the views and the score suffixes. */
static int build_labels(const eval_args *a, view **vs, size_t nv, result *R) {
    mw_column *cols[4];
    const char *src[4];
    size_t nc = 0;
    for (size_t i = 0; i < nv; i++) {
        if (vs[i]->target) {
            cols[nc] = vs[i]->target;
            src[nc++] = vs[i]->t->source;
        }
        cols[nc] = vs[i]->pred;
        src[nc++] = vs[i]->t->source;
    }
    vlist vl = {0};
    int numeric, bad = 0;
    int rc = mw_labels_collect(CMD, cols, src, nc, &vl, &numeric);
    if (rc) {
        mw_vlist_free(&vl);
        return rc;
    }
    double *sufnum = calloc(vs[0]->m + 2, sizeof *sufnum);
    if (!sufnum) bad = 1;
    for (size_t j = 0; !bad && !vs[0]->single && j < vs[0]->m; j++) {
        const char *s = vs[0]->suffix[j];
        if (numeric) {
            if (!mw_parse_double(s, strlen(s), &sufnum[j])) {
                free(sufnum);
                mw_vlist_free(&vl);
                return mw_cli_error(CMD,
                                    "score column \"%s\": \"%s\" is not a number but the labels "
                                    "are numbers",
                                    vs[0]->score[j]->name, s);
            }
            bad |= mw_vlist_num(&vl, sufnum[j]);
        } else {
            bad |= mw_vlist_text(&vl, s);
        }
    }
    double posv = 0;
    if (a->pos_label) {
        if (numeric) {
            if (!mw_parse_double(a->pos_label, strlen(a->pos_label), &posv)) {
                free(sufnum);
                mw_vlist_free(&vl);
                return mw_cli_usage_error(
                    CMD, "--pos-label \"%s\" is not a number but the labels are", a->pos_label);
            }
            bad |= mw_vlist_num(&vl, posv);
        } else {
            bad |= mw_vlist_text(&vl, a->pos_label);
        }
    }
    /* a binary score over labels {0} or {1} only: the other of 0/1 is the other class */
    if (!bad && vs[0]->single && numeric) {
        labels tmp;
        vlist copy = vl;
        copy.num = malloc((vl.n ? vl.n : 1) * sizeof(double));
        if (copy.num) {
            memcpy(copy.num, vl.num, vl.n * sizeof(double));
            copy.text = NULL;
            if (!mw_labels_build(&copy, 1, &tmp) && tmp.k == 1 &&
                (tmp.num[0] == 0 || tmp.num[0] == 1))
                bad |= mw_vlist_num(&vl, 1 - tmp.num[0]);
            mw_labels_free(&tmp);
        }
        free(copy.num);
    }
    if (!bad) bad = mw_labels_build(&vl, numeric, &R->L);
    free(sufnum);
    mw_vlist_free(&vl);
    if (bad) return mw_cli_error(CMD, "out of memory");
    if (R->L.k > (1u << 20)) return mw_cli_error(CMD, "too many classes (%zu)", R->L.k);
    return 0;
}

/* Maps classes to score columns and finds the positive class. */
static int map_classes(const eval_args *a, const view *v, result *R, classes *C) {
    const labels *L = &R->L;
    C->col_of_class = malloc((L->k ? L->k : 1) * sizeof *C->col_of_class);
    if (!C->col_of_class) return mw_cli_error(CMD, "out of memory");
    for (size_t c = 0; c < L->k; c++)
        C->col_of_class[c] = -1;
    for (size_t j = 0; !v->single && j < v->m; j++) {
        long c = -1;
        if (L->numeric) {
            double x;
            if (mw_parse_double(v->suffix[j], strlen(v->suffix[j]), &x))
                c = mw_labels_find_num(L, x);
        } else {
            c = mw_labels_find_text(L, v->suffix[j]);
        }
        if (c >= 0) C->col_of_class[c] = (long)j;
    }
    C->pos = L->k ? (uint32_t)(L->k - 1) : 0;
    if (a->pos_label) {
        long c;
        if (L->numeric) {
            double x = 0;
            mw_parse_double(a->pos_label, strlen(a->pos_label), &x);
            c = mw_labels_find_num(L, x);
        } else {
            c = mw_labels_find_text(L, a->pos_label);
        }
        if (c < 0)
            return mw_cli_usage_error(CMD, "--pos-label \"%s\" is not a class", a->pos_label);
        if (L->k != 2)
            warn(&R->w, "--pos-label applies to binary classifiers; %zu classes here", L->k);
        C->pos = (uint32_t)c;
    }
    C->pos_col = v->single ? 0 : (L->k == 2 ? C->col_of_class[C->pos] : -1);
    if (v->m && v->single && L->k > 2)
        return mw_cli_error(CMD,
                            "--scores \"%s\" names one column but there are %zu classes: give a "
                            "prefix of one score column per class",
                            a->scores, L->k);
    return 0;
}

/* Class labels and score columns present? Warns and returns 0 when the score
 * metrics cannot be computed. */
static int scores_usable(const view *v, const result *R, const classes *C, warns *w) {
    if (!v->m) return 0;
    if (v->single) return 1;
    char buf[40];
    if (R->L.k == 2) {
        if (C->pos_col < 0) {
            warn(w, "no score column for the positive class \"%s\": score metrics unavailable",
                 mw_labels_str(&R->L, C->pos, buf));
            return 0;
        }
        return 1;
    }
    for (size_t c = 0; c < R->L.k; c++)
        if (C->col_of_class[c] < 0) {
            warn(w, "class \"%s\" has no score column: score metrics unavailable",
                 mw_labels_str(&R->L, c, buf));
            return 0;
        }
    return 1;
}

static void report_scores(const scoremat *S, const char *src, warns *w) {
    if (S->n_invalid)
        warn(w,
             "%s: %llu rows with a missing, NaN or negative score left out of the score metrics "
             "(first: row %zu)",
             src, (unsigned long long)S->n_invalid, S->first_invalid);
    if (S->n_renorm)
        warn(w,
             "%s: %llu rows whose scores do not sum to 1 were divided by their sum (first: row "
             "%zu)",
             src, (unsigned long long)S->n_renorm, S->first_renorm);
    if (S->binary && !S->probs)
        warn(w,
             "%s: scores outside [0, 1] are not probabilities: log_loss, brier and ece not "
             "computed",
             src);
}

/* Rows with a target (when need_target) and a prediction; codes filled. */
static int select_rows(const view *v, const labels *L, int need_target, uint32_t **y, uint32_t **yp,
                       size_t **rows, size_t *nrows, uint64_t *mt, uint64_t *mp) {
    size_t n = v->t->nrows;
    uint32_t *ty = malloc((n ? n : 1) * sizeof *ty), *tp = malloc((n ? n : 1) * sizeof *tp);
    size_t *r = malloc((n ? n : 1) * sizeof *r);
    if (!ty || !tp || !r || (v->target && mw_labels_encode(v->target, L, ty)) ||
        mw_labels_encode(v->pred, L, tp)) {
        free(ty), free(tp), free(r);
        return mw_cli_error(CMD, "out of memory");
    }
    size_t m = 0;
    *mt = *mp = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t t = v->target ? ty[i] : 0;
        if (need_target && t == MW_PERF_MISSING) {
            (*mt)++;
            continue;
        }
        if (tp[i] == MW_PERF_MISSING) {
            (*mp)++;
            continue;
        }
        ty[m] = t;
        tp[m] = tp[i];
        r[m++] = i;
    }
    *y = ty;
    *yp = tp;
    *rows = r;
    *nrows = m;
    return 0;
}

static int run_classification(const eval_args *a, view *v, result *R) {
    R->task = "classification";
    view *vs[1] = {v};
    int rc = build_labels(a, vs, 1, R);
    if (rc) return rc;
    classes C = {0};
    uint32_t *y = NULL, *yp = NULL;
    size_t *rows = NULL, n = 0;
    scoremat S = {0};
    double *sv = NULL;
    uint32_t *sy = NULL;
    if ((rc = map_classes(a, v, R, &C))) goto out;
    if ((rc = select_rows(v, &R->L, 1, &y, &yp, &rows, &n, &R->missing_target, &R->missing_pred)))
        goto out;
    R->evaluated = n;
    if (!n) {
        rc = mw_cli_error(CMD, "%s: no row has both a target and a prediction", a->file);
        goto out;
    }
    if (mw_confusion_new(R->L.k, &R->cm) != MW_OK ||
        mw_confusion_add_codes(R->cm, y, yp, n, NULL) != MW_OK) {
        rc = mw_cli_error(CMD, "out of memory");
        goto out;
    }
    mw_error err;
    if (mw_confusion_metrics(R->cm, &R->cls, &err) != MW_OK) {
        rc = mw_cli_error(CMD, "%s", err.message);
        goto out;
    }
    R->has_cls = 1;
    char buf[40];
    for (size_t c = 0; c < R->L.k; c++)
        if (R->cls.per_class[c].predicted && !R->cls.per_class[c].support) {
            R->unknown_pred += R->cls.per_class[c].predicted;
            warn(&R->w,
                 "predicted class \"%s\" never occurs in the target column \"%s\" (%llu rows, "
                 "counted as wrong)",
                 mw_labels_str(&R->L, c, buf), v->target->name,
                 (unsigned long long)R->cls.per_class[c].predicted);
        }
    R->roc_auc = R->ap = R->log_loss = R->brier = R->ece = NAN;
    if (R->cls.n_present < 2 && R->L.k >= 1)
        warn(&R->w, "a single class is present: ROC AUC is not defined");
    if (!scores_usable(v, R, &C, &R->w)) goto out;
    if ((rc = build_scores(v, rows, n, C.col_of_class, R->L.k, C.pos_col, &S))) goto out;
    report_scores(&S, a->file, &R->w);
    /* compact the usable rows */
    sv = malloc((n ? n : 1) * S.k * sizeof *sv);
    sy = malloc((n ? n : 1) * sizeof *sy);
    if (!sv || !sy) {
        rc = mw_cli_error(CMD, "out of memory");
        goto out;
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (S.ok[i]) {
            memcpy(sv + m * S.k, S.v + i * S.k, S.k * sizeof *sv);
            sy[m++] = y[i];
        }
    R->scored = m;
    if (!m) {
        warn(&R->w, "no row has usable scores");
        goto out;
    }
    mw_calibration cal;
    mw_calibration_init(&cal);
    if (S.binary) {
        uint32_t pos = R->L.k == 1 ? 0 : C.pos;
        if (R->L.k >= 2) {
            mw_runner cores = mw_runner_threads(0); /* the same value, on every core */
            if (mw_roc_auc_binary_run(sy, pos, sv, m, &cores, &R->roc_auc, &err) != MW_OK)
                warn(&R->w, "roc_auc: %s", err.message);
            mw_average_precision_binary(sy, pos, sv, m, &R->ap, &err);
        }
        if (S.probs && R->L.k >= 2) {
            for (size_t i = 0; i < m; i++)
                mw_calibration_add_binary(&cal, sy[i] == pos, sv[i], MW_LOG_LOSS_EPS);
            R->log_loss = mw_calibration_log_loss(&cal);
            R->brier = mw_calibration_brier(&cal);
            R->ece = mw_calibration_ece(&cal);
        }
    } else {
        if (mw_roc_auc_ovr(sy, sv, m, S.k, &R->roc_auc, &err) != MW_OK)
            warn(&R->w, "roc_auc: %s", err.message);
        mw_average_precision_ovr(sy, sv, m, S.k, &R->ap, &err);
        for (size_t i = 0; i < m; i++)
            mw_calibration_add(&cal, sy[i], sv + i * S.k, S.k, MW_LOG_LOSS_EPS);
        R->log_loss = mw_calibration_log_loss(&cal);
        R->ece = mw_calibration_ece(&cal);
    }
out:
    free(C.col_of_class);
    free(y);
    free(yp);
    free(rows);
    free(S.v);
    free(S.ok);
    free(sv);
    free(sy);
    return rc;
}

static int run_estimate(const eval_args *a, view *cur, view *ref, result *R) {
    R->task = "classification";
    view *vs[2] = {ref, cur};
    int rc = build_labels(a, vs, 2, R);
    if (rc) return rc;
    classes C = {0}, Cr = {0};
    uint32_t *y = NULL, *yp = NULL, *ry = NULL, *ryp = NULL, *cy = NULL;
    size_t *rows = NULL, *rrows = NULL, n = 0, rn = 0;
    scoremat S = {0}, RS = {0};
    double *sv = NULL;
    mw_cbpe *cb = NULL;
    uint64_t dummy;
    if ((rc = map_classes(a, cur, R, &C)) || (rc = map_classes(a, ref, R, &Cr))) goto out;
    if (!scores_usable(cur, R, &C, &R->w) || !scores_usable(ref, R, &Cr, &R->w)) {
        rc = mw_cli_error(CMD, "--estimate needs a score column for every class in %s and %s",
                          a->reference, a->file);
        goto out;
    }
    if (R->L.k < 2) {
        rc = mw_cli_error(CMD, "--estimate needs at least two classes");
        goto out;
    }
    /* reference: rows with target, prediction and usable scores */
    if ((rc = select_rows(ref, &R->L, 1, &ry, &ryp, &rrows, &rn, &dummy, &dummy))) goto out;
    if ((rc = build_scores(ref, rrows, rn, Cr.col_of_class, R->L.k, Cr.pos_col, &RS))) goto out;
    report_scores(&RS, a->reference, &R->w);
    size_t m = 0;
    for (size_t i = 0; i < rn; i++)
        if (RS.ok[i]) {
            memmove(RS.v + m * RS.k, RS.v + i * RS.k, RS.k * sizeof *RS.v);
            ry[m++] = ry[i];
        }
    R->ref_rows = m;
    if (m < 100)
        warn(&R->w, "the reference has only %zu usable rows: the calibration is coarse", m);
    mw_error err;
    if (!m || mw_cbpe_fit(ry, RS.v, m, R->L.k, RS.k, &cb, &err) != MW_OK) {
        rc = mw_cli_error(CMD, "%s: %s", a->reference,
                          m ? err.message : "no row with a target, a prediction and scores");
        goto out;
    }
    /* current: rows with a prediction and usable scores */
    if ((rc = select_rows(cur, &R->L, 0, &y, &yp, &rows, &n, &R->missing_target, &R->missing_pred)))
        goto out;
    if ((rc = build_scores(cur, rows, n, C.col_of_class, R->L.k, C.pos_col, &S))) goto out;
    report_scores(&S, a->file, &R->w);
    sv = malloc((n ? n : 1) * S.k * sizeof *sv);
    cy = malloc((n ? n : 1) * sizeof *cy);
    if (!sv || !cy) {
        rc = mw_cli_error(CMD, "out of memory");
        goto out;
    }
    size_t e = 0;
    for (size_t i = 0; i < n; i++)
        if (S.ok[i]) {
            memcpy(sv + e * S.k, S.v + i * S.k, S.k * sizeof *sv);
            cy[e++] = yp[i];
        }
    R->evaluated = e;
    if (!e) {
        rc = mw_cli_error(CMD, "%s: no row with a prediction and usable scores", a->file);
        goto out;
    }
    if (mw_cbpe_estimate_metrics(cb, cy, sv, e, &R->est, &err) != MW_OK) {
        rc = mw_cli_error(CMD, "%s: %s", a->file, err.message);
        goto out;
    }
    R->has_est = 1;
out:
    mw_cbpe_free(cb);
    free(C.col_of_class);
    free(Cr.col_of_class);
    free(y), free(yp), free(ry), free(ryp), free(cy);
    free(rows), free(rrows);
    free(S.v), free(S.ok), free(RS.v), free(RS.ok);
    free(sv);
    return rc;
}

int mw_cmd_eval(int argc, char **argv) {
    eval_args a;
    int rc = parse_args(argc, argv, &a);
    if (rc) return rc < 0 ? MW_EXIT_OK : rc;
    mw_table *tables[2] = {NULL, NULL};
    const char *paths[2] = {a.estimate ? a.reference : a.file, a.file};
    mw_read_options ropt = {0};
    result R;
    memset(&R, 0, sizeof R);
    R.roc_auc = R.ap = R.log_loss = R.brier = R.ece = NAN;
    view cur = {0}, ref = {0};
    if ((rc = mw_cli_read_tables(CMD, paths, a.estimate ? 2 : 1, &ropt, tables))) return rc;
    mw_table *tf = a.estimate ? tables[1] : tables[0];
    R.rows = tf->nrows;
    cur.t = tf;
    rc = MW_EXIT_ERROR;
    if (!(cur.pred = mw_cli_need_column(CMD, tf, a.pred, "prediction"))) goto out;
    if (a.estimate) {
        cur.target = NULL; /* FILE's labels, if any, are not used */
        ref.t = tables[0];
        if (!(ref.pred = mw_cli_need_column(CMD, ref.t, a.pred, "prediction")) ||
            !(ref.target = mw_cli_need_column(CMD, ref.t, a.target, "target")))
            goto out;
        if ((rc = resolve_scores(&cur, a.scores)) || (rc = resolve_scores(&ref, a.scores)))
            goto out;
        if (cur.single != ref.single || cur.m != ref.m) {
            rc = mw_cli_error(CMD, "%s and %s have different score columns for --scores \"%s\"",
                              a.reference, a.file, a.scores);
            goto out;
        }
        rc = run_estimate(&a, &cur, &ref, &R);
    } else {
        if (!(cur.target = mw_cli_need_column(CMD, tf, a.target, "target"))) goto out;
        if ((rc = resolve_scores(&cur, a.scores))) goto out;
        int task = a.task;
        if (task == TASK_AUTO) {
            mw_column *lc[2] = {cur.target, cur.pred};
            task = mw_labels_look_like_classes(lc, 2) ? TASK_CLASS : TASK_REG;
        }
        if (task == TASK_REG && a.scores) warn(&R.w, "--scores is ignored for regression");
        rc = task == TASK_REG ? run_regression(&a, &cur, &R) : run_classification(&a, &cur, &R);
    }
    if (rc) goto out;
    mw_cli_output o;
    if ((rc = mw_cli_output_open(CMD, a.output, &o))) goto out;
    if (a.format == MW_FORMAT_JSON)
        mw_eval_write_json(o.f, &a, &R);
    else
        mw_eval_write_text(o.f, a.format == MW_FORMAT_HTML, &a, &R);
    int ok = !ferror(o.f);
    rc = mw_cli_output_close(CMD, &o, ok);
    if (!rc && !ok) rc = mw_cli_error(CMD, "writing the report failed");
out:
    view_free(&cur);
    view_free(&ref);
    mw_confusion_free(R.cm);
    mw_class_metrics_free(&R.cls);
    mw_cbpe_estimate_free(&R.est);
    mw_labels_free(&R.L);
    warns_free(&R.w);
    mw_table_free(tables[0]);
    mw_table_free(tables[1]);
    return rc;
}
