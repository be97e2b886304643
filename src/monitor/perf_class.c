/*
 * Classification metrics: confusion matrix (mergeable counts) and what follows
 * from it, and the mergeable calibration sums behind log loss, Brier score and
 * the expected calibration error. Agrees with scikit-learn 1.2 within 1e-12.
 *
 * From the confusion matrix C (row = true class, column = predicted class),
 * for class c: tp = C[c][c], support = sum_j C[c][j], predicted = sum_i C[i][c];
 *   precision = tp / predicted, recall = tp / support, both 0 when the
 *   denominator is 0 (zero_division=0), f1 = 2 P R / (P + R) (0 when P + R = 0)
 *   -- precision_recall_fscore_support(average=None, zero_division=0);
 *   macro = plain mean over the PRESENT classes (those occurring in targets or
 *   predictions: sklearn's unique_labels(y_true, y_pred), so a class that only
 *   the caller knows about does not dilute the mean); weighted = mean weighted
 *   by support; micro: P = R = F = trace / n;
 *   accuracy_score = trace / n;
 *   balanced_accuracy_score = mean recall over classes with support > 0.
 *
 * log_loss (sklearn 1.2): each probability is clipped to [eps, 1 - eps]
 * (eps="auto" = 2.22e-16 for float64), each row renormalised to sum 1 and the
 * loss is the mean of -ln p(true class). A binary positive-class score p is
 * clipped first, then becomes the row [1 - p', p'] (renormalised), as sklearn.
 * brier_score_loss = mean (1[y = pos] - p)^2.
 *
 * Expected calibration error, 10 equal-width bins: a record's confidence c is
 *   binary:     the positive-class score p, and its "hit" is 1[y = pos];
 *   multiclass: the largest class score max_j p_j (as given, not
 *               renormalised), and its hit is 1[argmax_j p_j = y] (first
 *               maximum, as numpy.argmax);
 * bin b = min(floor(10 c), 9), so bins are [b/10, (b+1)/10) with the last one
 * closed. ECE = sum_b (n_b / N) |hits_b / n_b - conf_b / n_b|
 *             = sum_b |hits_b - conf_b| / N,
 * i.e. the mean |accuracy - confidence| weighted by bin size (Naeini et al.
 * 2015; Guo et al. 2017). For a binary model this is the calibration of the
 * positive-class probability (the gaps of sklearn.calibration.calibration_curve
 * with n_bins=10, strategy='uniform', weighted by bin size).
 * tests/fixtures/gen_perf.py computes the same with numpy.
 *
 * All sums are Neumaier-compensated so that a window of millions of records
 * keeps full precision and merging adds (s, c) pairs.
 */
#include "modelwatch/perf.h"

#include "monitor/perf_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_CLASSES (1u << 20)

/* ---- compensated sums ---------------------------------------------------- */

void mw_ksum_add(mw_ksum *k, double x) {
    double t = k->s + x;
    if (fabs(k->s) >= fabs(x))
        k->c += (k->s - t) + x;
    else
        k->c += (x - t) + k->s;
    k->s = t;
}

double mw_ksum_value(const mw_ksum *k) {
    return k->s + k->c;
}

static void ksum_merge(mw_ksum *a, const mw_ksum *b) {
    mw_ksum_add(a, b->s);
    mw_ksum_add(a, b->c);
}

/* ---- confusion matrix ---------------------------------------------------- */

struct mw_confusion {
    size_t k;
    uint64_t *m; /* k * k, row-major */
};

mw_status mw_confusion_new(size_t k, mw_confusion **out) {
    if (!out) return MW_EINVAL;
    *out = NULL;
    if (k > MAX_CLASSES) return MW_ERANGE;
    mw_confusion *cm = calloc(1, sizeof *cm);
    if (!cm) return MW_ENOMEM;
    if (k) {
        cm->m = calloc(k * k, sizeof *cm->m);
        if (!cm->m) {
            free(cm);
            return MW_ENOMEM;
        }
    }
    cm->k = k;
    *out = cm;
    return MW_OK;
}

void mw_confusion_free(mw_confusion *cm) {
    if (!cm) return;
    free(cm->m);
    free(cm);
}

size_t mw_confusion_classes(const mw_confusion *cm) {
    return cm ? cm->k : 0;
}

uint64_t mw_confusion_total(const mw_confusion *cm) {
    uint64_t t = 0;
    if (!cm) return 0;
    for (size_t i = 0; i < cm->k * cm->k; i++)
        t += cm->m[i];
    return t;
}

uint64_t mw_confusion_get(const mw_confusion *cm, size_t t, size_t p) {
    if (!cm || t >= cm->k || p >= cm->k) return 0;
    return cm->m[t * cm->k + p];
}

/* Grows the matrix to k classes, keeping the counts. */
static mw_status grow(mw_confusion *cm, size_t k) {
    if (k <= cm->k) return MW_OK;
    if (k > MAX_CLASSES) return MW_ERANGE;
    uint64_t *m = calloc(k * k, sizeof *m);
    if (!m) return MW_ENOMEM;
    for (size_t i = 0; i < cm->k; i++)
        if (cm->k) memcpy(m + i * k, cm->m + i * cm->k, cm->k * sizeof *m);
    free(cm->m);
    cm->m = m;
    cm->k = k;
    return MW_OK;
}

mw_status mw_confusion_add(mw_confusion *cm, uint32_t t, uint32_t p, uint64_t count) {
    if (!cm || t >= MAX_CLASSES || p >= MAX_CLASSES) return MW_EINVAL;
    size_t need = (size_t)(t > p ? t : p) + 1;
    mw_status st = grow(cm, need);
    if (st != MW_OK) return st;
    cm->m[(size_t)t * cm->k + p] += count;
    return MW_OK;
}

mw_status mw_confusion_add_codes(mw_confusion *cm, const uint32_t *t, const uint32_t *p, size_t n,
                                 uint64_t *skipped) {
    if (skipped) *skipped = 0;
    if (!cm || (n && (!t || !p))) return MW_EINVAL;
    const size_t k = cm->k;
    /* Validation pass first so that a bad code leaves the matrix unchanged. */
    uint64_t skip = 0;
    for (size_t i = 0; i < n; i++) {
        if (t[i] == MW_PERF_MISSING || p[i] == MW_PERF_MISSING) {
            skip++;
            continue;
        }
        if (t[i] >= k || p[i] >= k) return MW_EINVAL;
    }
    uint64_t *m = cm->m;
    if (!skip) {
        for (size_t i = 0; i < n; i++)
            m[(size_t)t[i] * k + p[i]]++;
    } else {
        for (size_t i = 0; i < n; i++)
            if (t[i] != MW_PERF_MISSING && p[i] != MW_PERF_MISSING) m[(size_t)t[i] * k + p[i]]++;
    }
    if (skipped) *skipped = skip;
    return MW_OK;
}

mw_status mw_confusion_merge(mw_confusion *dst, const mw_confusion *src) {
    if (!dst || !src) return MW_EINVAL;
    mw_status st = grow(dst, src->k);
    if (st != MW_OK) return st;
    for (size_t i = 0; i < src->k; i++)
        for (size_t j = 0; j < src->k; j++)
            dst->m[i * dst->k + j] += src->m[i * src->k + j];
    return MW_OK;
}

#define CM_MAGIC "MWCM"
#define CM_VERSION 1u

mw_status mw_confusion_serialize(const mw_confusion *cm, unsigned char **buf, size_t *len) {
    if (buf) *buf = NULL;
    if (len) *len = 0;
    if (!cm || !buf || !len) return MW_EINVAL;
    size_t n = 16 + cm->k * cm->k * 8;
    unsigned char *b = malloc(n);
    if (!b) return MW_ENOMEM;
    memcpy(b, CM_MAGIC, 4);
    b[4] = CM_VERSION;
    b[5] = b[6] = b[7] = 0;
    mw_perf_put_u64(b + 8, cm->k);
    for (size_t i = 0; i < cm->k * cm->k; i++)
        mw_perf_put_u64(b + 16 + 8 * i, cm->m[i]);
    *buf = b;
    *len = n;
    return MW_OK;
}

mw_status mw_confusion_deserialize(const void *buf, size_t len, mw_confusion **out, mw_error *err) {
    if (out) *out = NULL;
    if (!out || (!buf && len)) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no buffer");
    const unsigned char *b = buf;
    if (len < 16 || memcmp(b, CM_MAGIC, 4) != 0 || b[4] != CM_VERSION)
        return mw_error_set(err, MW_ECORRUPT, "", 0, 0,
                            "confusion matrix: bad header (not a version %u matrix)", CM_VERSION);
    uint64_t k = mw_perf_get_u64(b + 8);
    if (k > MAX_CLASSES || len != 16 + k * k * 8)
        return mw_error_set(err, MW_ECORRUPT, "", 0, 0,
                            "confusion matrix: %llu classes do not fit %zu bytes",
                            (unsigned long long)k, len);
    mw_confusion *cm;
    mw_status st = mw_confusion_new((size_t)k, &cm);
    if (st != MW_OK) return mw_error_set(err, st, "", 0, 0, "confusion matrix: out of memory");
    for (size_t i = 0; i < k * k; i++)
        cm->m[i] = mw_perf_get_u64(b + 16 + 8 * i);
    *out = cm;
    return MW_OK;
}

/* ---- metrics from the matrix --------------------------------------------- */

static double div0(double a, double b) {
    return b == 0.0 ? 0.0 : a / b;
}

/* sklearn: denom = P + R, set to 1 when 0; f = (1 + 1) * P * R / denom. */
static double fscore(double p, double r) {
    double d = p + r;
    if (d == 0.0) d = 1.0;
    return 2.0 * p * r / d;
}

static void clear_metrics(mw_class_metrics *m) {
    memset(m, 0, sizeof *m);
    m->accuracy = m->balanced_accuracy = NAN;
    m->precision_micro = m->recall_micro = m->f1_micro = NAN;
    m->precision_macro = m->recall_macro = m->f1_macro = NAN;
    m->precision_weighted = m->recall_weighted = m->f1_weighted = NAN;
}

mw_status mw_confusion_metrics(const mw_confusion *cm, mw_class_metrics *out, mw_error *err) {
    if (!out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no output");
    clear_metrics(out);
    if (!cm) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no confusion matrix");
    const size_t k = cm->k;
    uint64_t n = mw_confusion_total(cm);
    if (n == 0)
        return mw_error_set(err, MW_EINVAL, "", 0, 0,
                            "no labelled record: classification metrics are undefined");
    mw_class_stats *pc = calloc(k ? k : 1, sizeof *pc);
    if (!pc) return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory");
    uint64_t trace = 0;
    for (size_t c = 0; c < k; c++) {
        pc[c].tp = cm->m[c * k + c];
        trace += pc[c].tp;
        for (size_t j = 0; j < k; j++) {
            pc[c].support += cm->m[c * k + j];
            pc[c].predicted += cm->m[j * k + c];
        }
    }
    double sp = 0, sr = 0, sf = 0, wp = 0, wr = 0, wf = 0, sbal = 0;
    size_t npresent = 0, nsupported = 0;
    for (size_t c = 0; c < k; c++) {
        mw_class_stats *s = &pc[c];
        s->present = s->support > 0 || s->predicted > 0;
        s->precision = div0((double)s->tp, (double)s->predicted);
        s->recall = div0((double)s->tp, (double)s->support);
        s->f1 = fscore(s->precision, s->recall);
        if (!s->present) continue;
        npresent++;
        sp += s->precision;
        sr += s->recall;
        sf += s->f1;
        wp += s->precision * (double)s->support;
        wr += s->recall * (double)s->support;
        wf += s->f1 * (double)s->support;
        if (s->support > 0) {
            nsupported++;
            sbal += s->recall;
        }
    }
    out->k = k;
    out->n = n;
    out->n_present = npresent;
    out->per_class = pc;
    out->accuracy = (double)trace / (double)n;
    out->balanced_accuracy = nsupported ? sbal / (double)nsupported : NAN;
    double micro = (double)trace / (double)n;
    out->precision_micro = out->recall_micro = micro;
    out->f1_micro = fscore(micro, micro);
    out->precision_macro = sp / (double)npresent;
    out->recall_macro = sr / (double)npresent;
    out->f1_macro = sf / (double)npresent;
    out->precision_weighted = wp / (double)n;
    out->recall_weighted = wr / (double)n;
    out->f1_weighted = wf / (double)n;
    return MW_OK;
}

void mw_class_metrics_free(mw_class_metrics *m) {
    if (!m) return;
    free(m->per_class);
    m->per_class = NULL;
}

/* ---- calibration sums ---------------------------------------------------- */

void mw_calibration_init(mw_calibration *c) {
    if (c) memset(c, 0, sizeof *c);
}

static int ece_bin(double conf) {
    double b = floor(conf * MW_ECE_BINS);
    if (b < 0) return 0;
    if (b > MW_ECE_BINS - 1) return MW_ECE_BINS - 1;
    return (int)b;
}

static double clip(double p, double eps) {
    return p < eps ? eps : (p > 1.0 - eps ? 1.0 - eps : p);
}

mw_status mw_calibration_add_binary(mw_calibration *c, int is_pos, double p, double eps) {
    if (!c || !(p >= 0.0 && p <= 1.0) || !(eps >= 0.0 && eps < 0.5)) return MW_EINVAL;
    if (c->n && !c->binary) return MW_EINVAL;
    c->binary = 1;
    double q = clip(p, eps);
    double s = (1.0 - q) + q;
    double pt = (is_pos ? q : 1.0 - q) / s;
    mw_ksum_add(&c->log_loss, -log(pt));
    double d = (is_pos ? 1.0 : 0.0) - p;
    mw_ksum_add(&c->brier, d * d);
    int b = ece_bin(p);
    c->bin_n[b]++;
    mw_ksum_add(&c->bin_conf[b], p);
    if (is_pos) mw_ksum_add(&c->bin_hit[b], 1.0);
    c->n++;
    return MW_OK;
}

mw_status mw_calibration_add(mw_calibration *c, uint32_t y, const double *probs, size_t k,
                             double eps) {
    if (!c || !probs || k < 2 || y >= k || !(eps >= 0.0 && eps < 0.5)) return MW_EINVAL;
    if (c->n && c->binary) return MW_EINVAL;
    double sum = 0, best = -1.0;
    size_t arg = 0;
    for (size_t j = 0; j < k; j++) {
        double p = probs[j];
        if (!(p >= 0.0 && p <= 1.0)) return MW_EINVAL;
        sum += clip(p, eps);
        if (p > best) {
            best = p;
            arg = j;
        }
    }
    c->binary = 0;
    mw_ksum_add(&c->log_loss, -log(clip(probs[y], eps) / sum));
    int b = ece_bin(best);
    c->bin_n[b]++;
    mw_ksum_add(&c->bin_conf[b], best);
    if (arg == y) mw_ksum_add(&c->bin_hit[b], 1.0);
    c->n++;
    return MW_OK;
}

mw_status mw_calibration_merge(mw_calibration *dst, const mw_calibration *src) {
    if (!dst || !src) return MW_EINVAL;
    if (!src->n) return MW_OK;
    if (dst->n && dst->binary != src->binary) return MW_EINVAL;
    dst->binary = src->binary;
    dst->n += src->n;
    ksum_merge(&dst->log_loss, &src->log_loss);
    ksum_merge(&dst->brier, &src->brier);
    for (int b = 0; b < MW_ECE_BINS; b++) {
        dst->bin_n[b] += src->bin_n[b];
        ksum_merge(&dst->bin_conf[b], &src->bin_conf[b]);
        ksum_merge(&dst->bin_hit[b], &src->bin_hit[b]);
    }
    return MW_OK;
}

double mw_calibration_log_loss(const mw_calibration *c) {
    return c && c->n ? mw_ksum_value(&c->log_loss) / (double)c->n : NAN;
}

double mw_calibration_brier(const mw_calibration *c) {
    return c && c->n && c->binary ? mw_ksum_value(&c->brier) / (double)c->n : NAN;
}

double mw_calibration_ece(const mw_calibration *c) {
    if (!c || !c->n) return NAN;
    mw_ksum e = {0, 0};
    for (int b = 0; b < MW_ECE_BINS; b++) {
        if (!c->bin_n[b]) continue;
        double nb = (double)c->bin_n[b];
        double gap = fabs(mw_ksum_value(&c->bin_hit[b]) / nb - mw_ksum_value(&c->bin_conf[b]) / nb);
        mw_ksum_add(&e, gap * nb);
    }
    return mw_ksum_value(&e) / (double)c->n;
}

#define CAL_MAGIC "MWCL"

void mw_calibration_serialize(const mw_calibration *c, unsigned char buf[MW_CALIBRATION_BYTES]) {
    memset(buf, 0, MW_CALIBRATION_BYTES);
    memcpy(buf, CAL_MAGIC, 4);
    buf[4] = 1; /* version */
    buf[5] = (unsigned char)(c->binary != 0);
    unsigned char *p = buf + 8;
    mw_perf_put_u64(p, c->n);
    p += 8;
    mw_perf_put_f64(p, c->log_loss.s);
    mw_perf_put_f64(p + 8, c->log_loss.c);
    mw_perf_put_f64(p + 16, c->brier.s);
    mw_perf_put_f64(p + 24, c->brier.c);
    p += 32;
    for (int b = 0; b < MW_ECE_BINS; b++, p += 40) {
        mw_perf_put_u64(p, c->bin_n[b]);
        mw_perf_put_f64(p + 8, c->bin_conf[b].s);
        mw_perf_put_f64(p + 16, c->bin_conf[b].c);
        mw_perf_put_f64(p + 24, c->bin_hit[b].s);
        mw_perf_put_f64(p + 32, c->bin_hit[b].c);
    }
}

mw_status mw_calibration_deserialize(const void *buf, size_t len, mw_calibration *out,
                                     mw_error *err) {
    if (!out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no output");
    mw_calibration_init(out);
    const unsigned char *b = buf;
    if (!b || len != MW_CALIBRATION_BYTES || memcmp(b, CAL_MAGIC, 4) != 0 || b[4] != 1 || b[5] > 1)
        return mw_error_set(err, MW_ECORRUPT, "", 0, 0,
                            "calibration sums: bad header or size (%zu bytes, expected %d)", len,
                            MW_CALIBRATION_BYTES);
    mw_calibration c;
    mw_calibration_init(&c);
    c.binary = b[5];
    const unsigned char *p = b + 8;
    c.n = mw_perf_get_u64(p);
    p += 8;
    c.log_loss.s = mw_perf_get_f64(p);
    c.log_loss.c = mw_perf_get_f64(p + 8);
    c.brier.s = mw_perf_get_f64(p + 16);
    c.brier.c = mw_perf_get_f64(p + 24);
    p += 32;
    uint64_t total = 0;
    for (int i = 0; i < MW_ECE_BINS; i++, p += 40) {
        c.bin_n[i] = mw_perf_get_u64(p);
        c.bin_conf[i].s = mw_perf_get_f64(p + 8);
        c.bin_conf[i].c = mw_perf_get_f64(p + 16);
        c.bin_hit[i].s = mw_perf_get_f64(p + 24);
        c.bin_hit[i].c = mw_perf_get_f64(p + 32);
        total += c.bin_n[i];
    }
    if (total != c.n)
        return mw_error_set(err, MW_ECORRUPT, "", 0, 0,
                            "calibration sums: bins hold %llu records, header says %llu",
                            (unsigned long long)total, (unsigned long long)c.n);
    *out = c;
    return MW_OK;
}

/* ---- batch forms ---------------------------------------------------------- */

mw_status mw_log_loss(const uint32_t *y, const double *probs, size_t n, size_t k, double eps,
                      double *out, mw_error *err) {
    if (!out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no output");
    *out = NAN;
    if (k < 2) return mw_error_set(err, MW_EINVAL, "", 0, 0, "log loss needs at least two classes");
    if (!n || !y || !probs) return mw_error_set(err, MW_EINVAL, "", 0, 0, "log loss of no record");
    mw_calibration c;
    mw_calibration_init(&c);
    for (size_t i = 0; i < n; i++)
        if (mw_calibration_add(&c, y[i], probs + i * k, k, eps) != MW_OK)
            return mw_error_set(err, MW_EINVAL, "", i + 1, 0,
                                "record %zu: class code %u or its scores are invalid (NaN, "
                                "outside [0, 1], or a class >= %zu)",
                                i + 1, (unsigned)y[i], k);
    *out = mw_calibration_log_loss(&c);
    return MW_OK;
}

mw_status mw_brier_binary(const uint32_t *y, uint32_t pos, const double *score, size_t n,
                          double *out, mw_error *err) {
    if (!out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no output");
    *out = NAN;
    if (!n || !y || !score)
        return mw_error_set(err, MW_EINVAL, "", 0, 0, "Brier score of no record");
    mw_ksum s = {0, 0};
    for (size_t i = 0; i < n; i++) {
        double p = score[i];
        if (!(p >= 0.0 && p <= 1.0))
            return mw_error_set(err, MW_EINVAL, "", i + 1, 0,
                                "record %zu: score %g is not a probability in [0, 1]", i + 1, p);
        double d = (y[i] == pos ? 1.0 : 0.0) - p;
        mw_ksum_add(&s, d * d);
    }
    *out = mw_ksum_value(&s) / (double)n;
    return MW_OK;
}
