/*
 * Confidence-based performance estimation (CBPE, as NannyML): estimate a
 * classifier's metrics on data whose labels have not arrived, from its scores.
 *
 * 1. Calibration on labelled reference data: for each class c an isotonic
 *    regression of 1[y = c] on the class's score (binary with one score column:
 *    1[y = positive] on the positive-class score). The isotonic regression is
 *    sklearn.isotonic.IsotonicRegression(increasing=True, out_of_bounds='clip'):
 *    points sorted by (x, y); x values within 1e-15 of the first of a run are
 *    one point whose y is the weighted mean (sklearn's _make_unique, eps =
 *    numpy.finfo(float64).resolution); pool adjacent violators with weights
 *    (the same left-to-right pass with backtracking as sklearn, so that the
 *    rounding agrees); knots whose y equals both neighbours' are dropped; a
 *    prediction clips x to [x_min, x_max] and interpolates linearly between
 *    knots exactly as scipy.interpolate.interp1d (searchsorted left, slope from
 *    the bracketing knots).
 *    Multiclass: the k calibrated scores of a record are renormalised to sum 1
 *    (uniform when all are 0).
 * 2. Estimation for unlabelled records with calibrated probabilities p_i(c)
 *    and predictions yhat_i:
 *      expected confusion E[t][c] = sum_{i: yhat_i = c} p_i(t);
 *      accuracy = sum_i p_i(yhat_i) / n;
 *      per class: tp = E[c][c], precision = tp / #{yhat = c},
 *      recall = tp / sum_i p_i(c), F1 = 2 P R / (P + R) (0 on zero division);
 *      macro = mean over the k classes; binary: those of the positive class.
 *      ROC AUC: the expected Mann-Whitney numerator over expected pairs, with
 *      records ranked by their RAW score (the order the realised AUC uses):
 *        sum_{i != j} p_i (1 - p_j) (1[s_i > s_j] + 1/2 1[s_i = s_j])
 *        / sum_{i != j} p_i (1 - p_j);
 *      multiclass: one-vs-rest macro of the same with p_i(c) and s_i(c).
 *
 * Limits: the estimate is as good as the calibration. It needs informative
 * scores (a model whose scores do not separate the classes gives a flat
 * calibration and an estimate of the base rate), and it assumes no concept
 * drift: P(y | score) must be the same in the reference and the estimated data;
 * covariate shift (P(x) changes) is what it is built for. A reference too small
 * to calibrate (a few hundred records per class) gives step-like calibrations.
 */
#include "modelwatch/perf.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- isotonic regression -------------------------------------------------- */

struct mw_isotonic {
    size_t m;  /* knots */
    double *x; /* ascending */
    double *y;
};

typedef struct xyw {
    double x, y, w;
} xyw;

static int cmp_xy(const void *a, const void *b) {
    const xyw *p = a, *q = b;
    if (p->x < q->x) return -1;
    if (p->x > q->x) return 1;
    return (p->y > q->y) - (p->y < q->y);
}

/* sklearn's _inplace_contiguous_isotonic_regression. */
static void pava(double *y, double *w, size_t n, size_t *target) {
    for (size_t i = 0; i < n; i++)
        target[i] = i;
    size_t i = 0;
    while (i < n) {
        size_t k = target[i] + 1;
        if (k == n) break;
        if (y[i] < y[k]) {
            i = k;
            continue;
        }
        double sum_wy = w[i] * y[i], sum_w = w[i];
        for (;;) {
            double prev_y = y[k];
            sum_wy += w[k] * y[k];
            sum_w += w[k];
            k = target[k] + 1;
            if (k == n || prev_y < y[k]) {
                y[i] = sum_wy / sum_w;
                w[i] = sum_w;
                target[i] = k - 1;
                target[k - 1] = i;
                if (i > 0) i = target[i - 1];
                break;
            }
        }
    }
    i = 0;
    while (i < n) {
        size_t k = target[i] + 1;
        for (size_t j = i + 1; j < k; j++)
            y[j] = y[i];
        i = k;
    }
}

mw_status mw_isotonic_fit(const double *x, const double *y, const double *w, size_t n,
                          mw_isotonic **out, mw_error *err) {
    if (out) *out = NULL;
    if (!out || !x || !y) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no data to fit");
    xyw *pt = malloc((n ? n : 1) * sizeof *pt);
    if (!pt) return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory");
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        double wi = w ? w[i] : 1.0;
        if (!isfinite(x[i]) || !isfinite(y[i]) || !(wi >= 0) || !isfinite(wi)) {
            free(pt);
            return mw_error_set(err, MW_EINVAL, "", i + 1, 0,
                                "isotonic fit: point %zu is not finite (x %g, y %g, weight %g)",
                                i + 1, x[i], y[i], wi);
        }
        if (wi > 0) pt[m++] = (xyw){x[i], y[i], wi};
    }
    if (!m) {
        free(pt);
        return mw_error_set(err, MW_EINVAL, "", 0, 0, "isotonic fit: no point with weight > 0");
    }
    qsort(pt, m, sizeof *pt, cmp_xy);
    /* _make_unique */
    double *ux = malloc(m * sizeof *ux), *uy = malloc(m * sizeof *uy), *uw = malloc(m * sizeof *uw);
    size_t *target = malloc(m * sizeof *target); /* pava's block ends */
    mw_isotonic *iso = calloc(1, sizeof *iso);
    if (!ux || !uy || !uw || !target || !iso) {
        free(ux), free(uy), free(uw), free(target), free(iso), free(pt);
        return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory");
    }
    const double eps = 1e-15;
    size_t u = 0;
    double cx = pt[0].x, cy = 0, cw = 0;
    for (size_t i = 0; i < m; i++) {
        if (pt[i].x - cx >= eps) {
            ux[u] = cx;
            uw[u] = cw;
            uy[u] = cy / cw;
            u++;
            cx = pt[i].x;
            cw = pt[i].w;
            cy = pt[i].y * pt[i].w;
        } else {
            cw += pt[i].w;
            cy += pt[i].y * pt[i].w;
        }
    }
    ux[u] = cx;
    uw[u] = cw;
    uy[u] = cy / cw;
    u++;
    free(pt);
    pava(uy, uw, u, target);
    free(target);
    /* trim knots equal to both neighbours */
    size_t k = 0;
    for (size_t i = 0; i < u; i++) {
        int keep = i == 0 || i == u - 1 || uy[i] != uy[i - 1] || uy[i] != uy[i + 1];
        if (keep) {
            ux[k] = ux[i];
            uw[k] = uy[i]; /* uw reused as the kept y (uy[i+1] still read above) */
            k++;
        }
    }
    free(uy);
    iso->m = k;
    iso->x = ux;
    iso->y = uw;
    *out = iso;
    return MW_OK;
}

double mw_isotonic_predict(const mw_isotonic *m, double x) {
    if (!m || !m->m || isnan(x)) return NAN;
    if (m->m == 1) return m->y[0];
    if (x < m->x[0]) x = m->x[0];
    if (x > m->x[m->m - 1]) x = m->x[m->m - 1];
    /* searchsorted(x_knots, x, side='left'), clipped to [1, m - 1] */
    size_t lo = 0, hi = m->m;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->x[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t idx = lo < 1 ? 1 : (lo > m->m - 1 ? m->m - 1 : lo);
    double xl = m->x[idx - 1], xh = m->x[idx], yl = m->y[idx - 1], yh = m->y[idx];
    double slope = (yh - yl) / (xh - xl);
    return slope * (x - xl) + yl;
}

void mw_isotonic_free(mw_isotonic *m) {
    if (!m) return;
    free(m->x);
    free(m->y);
    free(m);
}

/* ---- CBPE ------------------------------------------------------------------ */

struct mw_cbpe {
    size_t k, m;
    mw_isotonic **cal; /* m calibrators */
};

void mw_cbpe_free(mw_cbpe *c) {
    if (!c) return;
    for (size_t j = 0; c->cal && j < c->m; j++)
        mw_isotonic_free(c->cal[j]);
    free(c->cal);
    free(c);
}

size_t mw_cbpe_classes(const mw_cbpe *c) {
    return c ? c->k : 0;
}

mw_status mw_cbpe_fit(const uint32_t *y, const double *scores, size_t n, size_t k, size_t m,
                      mw_cbpe **out, mw_error *err) {
    if (out) *out = NULL;
    if (!out || !y || !scores || !n)
        return mw_error_set(err, MW_EINVAL, "", 0, 0, "CBPE needs labelled reference records");
    if (k < 2 || !(m == k || (m == 1 && k == 2)))
        return mw_error_set(err, MW_EINVAL, "", 0, 0,
                            "CBPE needs k >= 2 classes and k score columns (or one for a "
                            "binary classifier), got k = %zu, %zu columns",
                            k, m);
    for (size_t i = 0; i < n; i++) {
        if (y[i] >= k)
            return mw_error_set(err, MW_EINVAL, "", i + 1, 0,
                                "reference record %zu: class code %u outside 0..%zu", i + 1,
                                (unsigned)y[i], k - 1);
        for (size_t j = 0; j < m; j++)
            if (!isfinite(scores[i * m + j]))
                return mw_error_set(err, MW_EINVAL, "", i + 1, j + 1,
                                    "reference record %zu: score %zu is not a finite number", i + 1,
                                    j + 1);
    }
    mw_cbpe *c = calloc(1, sizeof *c);
    double *x = malloc(n * sizeof *x), *t = malloc(n * sizeof *t);
    if (c) c->cal = calloc(m, sizeof *c->cal);
    if (!c || !c->cal || !x || !t) {
        mw_cbpe_free(c);
        free(x);
        free(t);
        return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory");
    }
    c->k = k;
    c->m = m;
    mw_status st = MW_OK;
    for (size_t j = 0; j < m && st == MW_OK; j++) {
        uint32_t cls = m == 1 ? 1u : (uint32_t)j;
        for (size_t i = 0; i < n; i++) {
            x[i] = scores[i * m + j];
            t[i] = y[i] == cls ? 1.0 : 0.0;
        }
        st = mw_isotonic_fit(x, t, NULL, n, &c->cal[j], err);
    }
    free(x);
    free(t);
    if (st != MW_OK) {
        mw_cbpe_free(c);
        return st;
    }
    *out = c;
    return MW_OK;
}

mw_status mw_cbpe_calibrate(const mw_cbpe *c, const double *scores, double *probs) {
    if (!c || !scores || !probs) return MW_EINVAL;
    for (size_t j = 0; j < c->m; j++)
        if (isnan(scores[j])) return MW_EINVAL;
    if (c->m == 1) {
        double p = mw_isotonic_predict(c->cal[0], scores[0]);
        probs[0] = 1.0 - p;
        probs[1] = p;
        return MW_OK;
    }
    double s = 0;
    for (size_t j = 0; j < c->k; j++) {
        probs[j] = mw_isotonic_predict(c->cal[j], scores[j]);
        s += probs[j];
    }
    for (size_t j = 0; j < c->k; j++)
        probs[j] = s > 0 ? probs[j] / s : 1.0 / (double)c->k;
    return MW_OK;
}

typedef struct sp {
    double s, p;
} sp;

static int cmp_sp(const void *a, const void *b) {
    double x = ((const sp *)a)->s, y = ((const sp *)b)->s;
    return (x > y) - (x < y);
}

/* Expected AUC of n records with raw scores and probabilities of being positive. */
static double expected_auc(sp *v, size_t n) {
    qsort(v, n, sizeof *v, cmp_sp);
    double num = 0, below = 0, self = 0, sp_ = 0, sn = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        double pw = 0, nw = 0;
        while (j < n && v[j].s == v[i].s) {
            pw += v[j].p;
            nw += 1.0 - v[j].p;
            self += v[j].p * (1.0 - v[j].p);
            j++;
        }
        num += pw * (below + 0.5 * nw);
        below += nw;
        sp_ += pw;
        sn += nw;
        i = j;
    }
    double den = sp_ * sn - self;
    return den > 0 ? (num - 0.5 * self) / den : NAN;
}

void mw_cbpe_estimate_free(mw_cbpe_estimate *e) {
    if (!e) return;
    free(e->confusion);
    e->confusion = NULL;
}

void mw_cbpe_confusion_metrics(const double *conf, const uint64_t *npred, size_t k, uint64_t n,
                               mw_cbpe_estimate *out) {
    double sp_ = 0, sr = 0, sf = 0, diag = 0;
    out->precision = out->recall = out->f1 = out->roc_auc = NAN;
    for (size_t cl = 0; cl < k; cl++) {
        double tp = conf[cl * k + cl], sup = 0;
        for (size_t j = 0; j < k; j++)
            sup += conf[cl * k + j];
        double pr = npred[cl] ? tp / (double)npred[cl] : 0.0;
        double rc = sup > 0 ? tp / sup : 0.0;
        double f = pr + rc > 0 ? 2.0 * pr * rc / (pr + rc) : 0.0;
        sp_ += pr;
        sr += rc;
        sf += f;
        diag += tp;
        if (k == 2 && cl == 1) {
            out->precision = pr;
            out->recall = rc;
            out->f1 = f;
        }
    }
    out->k = k;
    out->n = n;
    out->accuracy = n ? diag / (double)n : NAN;
    out->precision_macro = sp_ / (double)k;
    out->recall_macro = sr / (double)k;
    out->f1_macro = sf / (double)k;
}

/* ---- serialised form: "MWCB", u32 1, u32 k, u32 m, per calibrator u32 knots, x[], y[] ---- */

mw_status mw_cbpe_serialize(const mw_cbpe *c, unsigned char **buf, size_t *len) {
    size_t total = 16;
    for (size_t j = 0; j < c->m; j++)
        total += 4 + 16 * c->cal[j]->m;
    unsigned char *b = malloc(total), *p = b;
    if (!b) return MW_ENOMEM;
    uint32_t head[4] = {0x4243574D /* "MWCB" */, 1, (uint32_t)c->k, (uint32_t)c->m};
    memcpy(p, head, 16); /* little-endian hosts only, as the other serialised states */
    p += 16;
    for (size_t j = 0; j < c->m; j++) {
        uint32_t knots = (uint32_t)c->cal[j]->m;
        memcpy(p, &knots, 4);
        memcpy(p + 4, c->cal[j]->x, 8 * knots);
        memcpy(p + 4 + 8 * knots, c->cal[j]->y, 8 * knots);
        p += 4 + 16 * knots;
    }
    *buf = b;
    *len = total;
    return MW_OK;
}

mw_status mw_cbpe_deserialize(const void *buf, size_t len, mw_cbpe **out, mw_error *err) {
    *out = NULL;
    const unsigned char *p = buf, *end = p + len;
    uint32_t head[4];
    if (len < 16 || (memcpy(head, p, 16), head[0] != 0x4243574D) || head[1] != 1 || head[2] < 2 ||
        head[2] > 100000 || !(head[3] == head[2] || (head[3] == 1 && head[2] == 2)))
        return mw_error_set(err, MW_ECORRUPT, "", 0, 0, "stored CBPE calibration is corrupt");
    mw_cbpe *c = calloc(1, sizeof *c);
    if (c) c->cal = calloc(head[3], sizeof *c->cal);
    if (!c || !c->cal) {
        free(c);
        return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory");
    }
    c->k = head[2];
    c->m = head[3];
    p += 16;
    mw_status st = MW_OK;
    for (size_t j = 0; j < c->m && !st; j++) {
        uint32_t knots;
        if (end - p < 4 || (memcpy(&knots, p, 4), knots == 0) ||
            (size_t)(end - p - 4) / 16 < knots) {
            st = mw_error_set(err, MW_ECORRUPT, "", 0, 0, "stored CBPE calibration is truncated");
            break;
        }
        mw_isotonic *iso = calloc(1, sizeof *iso);
        if (iso) {
            iso->m = knots;
            iso->x = malloc(8 * knots);
            iso->y = malloc(8 * knots);
        }
        if (!iso || !iso->x || !iso->y) {
            mw_isotonic_free(iso);
            st = mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory");
            break;
        }
        memcpy(iso->x, p + 4, 8 * knots);
        memcpy(iso->y, p + 4 + 8 * knots, 8 * knots);
        c->cal[j] = iso;
        p += 4 + 16 * knots;
    }
    if (st) {
        mw_cbpe_free(c);
        return st;
    }
    *out = c;
    return MW_OK;
}

mw_status mw_cbpe_estimate_metrics(const mw_cbpe *c, const uint32_t *y_pred, const double *scores,
                                   size_t n, mw_cbpe_estimate *out, mw_error *err) {
    if (!out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no output");
    memset(out, 0, sizeof *out);
    out->accuracy = out->precision_macro = out->recall_macro = out->f1_macro = NAN;
    out->precision = out->recall = out->f1 = out->roc_auc = NAN;
    if (!c || !y_pred || !scores || !n)
        return mw_error_set(err, MW_EINVAL, "", 0, 0, "no record to estimate");
    const size_t k = c->k, m = c->m;
    double *conf = calloc(k * k, sizeof *conf), *probs = malloc(n * k * sizeof *probs);
    sp *v = malloc(n * sizeof *v);
    uint64_t *npred = calloc(k, sizeof *npred);
    if (!conf || !probs || !v || !npred) {
        free(conf), free(probs), free(v), free(npred);
        return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory");
    }
    double acc = 0;
    for (size_t i = 0; i < n; i++) {
        double *p = probs + i * k;
        if (y_pred[i] >= k || mw_cbpe_calibrate(c, scores + i * m, p) != MW_OK) {
            free(conf), free(probs), free(v), free(npred);
            return mw_error_set(err, MW_EINVAL, "", i + 1, 0, "record %zu: %s", i + 1,
                                y_pred[i] >= k ? "predicted class unknown to the calibration"
                                               : "a score is NaN");
        }
        for (size_t t = 0; t < k; t++)
            conf[t * k + y_pred[i]] += p[t];
        acc += p[y_pred[i]];
        npred[y_pred[i]]++;
    }
    mw_cbpe_confusion_metrics(conf, npred, k, n, out);
    /* ROC AUC: binary on the positive class; multiclass one-vs-rest macro. */
    double auc_sum = 0;
    size_t nauc = k == 2 ? 1 : k;
    for (size_t a = 0; a < nauc; a++) {
        size_t cl = k == 2 ? 1 : a;
        size_t col = m == 1 ? 0 : cl;
        for (size_t i = 0; i < n; i++)
            v[i] = (sp){scores[i * m + col], probs[i * k + cl]};
        auc_sum += expected_auc(v, n);
    }
    out->confusion = conf;
    out->accuracy = acc / (double)n;
    out->roc_auc = auc_sum / (double)nauc;
    free(probs);
    free(v);
    free(npred);
    return MW_OK;
}
