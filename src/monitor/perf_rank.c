/*
 * Ranking metrics: ROC AUC and average precision, binary and one-vs-rest
 * macro, exact with tied scores; and a mergeable accumulator for windows that
 * is exact up to a bound on the pairs it keeps and histogram-based beyond.
 *
 * ROC AUC (sklearn.metrics.roc_auc_score: the trapezoidal area under the ROC
 * curve whose points are the distinct score thresholds) equals the
 * Mann-Whitney form with ties counted one half:
 *   AUC = sum over (pos i, neg j) of (1[s_i > s_j] + 1/2 1[s_i = s_j]) / (P N).
 * We sort the positive and the negative scores separately with the radix sort
 * of stats.h (mw_sort_doubles, O(n)) and walk both in ascending order, group
 * by distinct value: numerator*2 += pos_v (2 neg_below + neg_v), in exact
 * 64-bit integers, one division at the end.
 *
 * Average precision (sklearn.metrics.average_precision_score, the
 * un-interpolated step integral of precision_recall_curve): walking the
 * distinct thresholds from high to low with cumulative tp, fp after each,
 *   AP = sum_t (tp_t - tp_{t-1}) / P * tp_t / (tp_t + fp_t),
 * and 0 when there is no positive (sklearn sets recall to 1 and warns).
 *
 * One-vs-rest macro: class c's scores against 1[y = c], averaged over the k
 * classes (roc_auc_score(multi_class='ovr', average='macro'); for AP the
 * label-binarised multilabel form, as sklearn 1.2 has no multiclass AP).
 *
 * Measured (bench/bench_perf.sh, 1M binary scores, 2-core machine): see the
 * figures in that script's output; the sort dominates.
 */
#include "modelwatch/perf.h"
#include "modelwatch/stats.h"

#include "monitor/perf_int.h"
#include "stats/sort_key.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ---- the walks over sorted positives and negatives ----------------------- */

/* The walks compare sort keys (stats/sort_key.h) of the scores with -0.0
 * read as +0.0: key order is score order and equal keys are equal scores. */

/* AUC from ascending arrays pos[0..np) and neg[0..nn), both non-empty. */
static double auc_sorted(const uint64_t *pos, size_t np, const uint64_t *neg, size_t nn) {
    uint64_t num2 = 0, below = 0;
    size_t i = 0, j = 0;
    while (i < np) {
        uint64_t v = pos[i];
        while (j < nn && neg[j] < v) {
            j++;
            below++;
        }
        uint64_t pv = 0, nv = 0;
        while (i < np && pos[i] == v) {
            i++;
            pv++;
        }
        while (j < nn && neg[j] == v) {
            j++;
            nv++;
        }
        num2 += pv * (2 * below + nv);
        below += nv;
    }
    return (double)num2 / (2.0 * (double)np * (double)nn);
}

/* AP from ascending arrays (np > 0): walk from the top. */
static double ap_sorted(const uint64_t *pos, size_t np, const uint64_t *neg, size_t nn) {
    size_t i = np, j = nn; /* elements [i, np) and [j, nn) are above the threshold */
    uint64_t tp = 0, fp = 0;
    double ap = 0.0;
    while (i > 0) {
        uint64_t v = pos[i - 1];
        if (j > 0 && neg[j - 1] > v) v = neg[j - 1];
        uint64_t dtp = 0;
        while (i > 0 && pos[i - 1] == v) {
            i--;
            dtp++;
        }
        while (j > 0 && neg[j - 1] == v) {
            j--;
            fp++;
        }
        tp += dtp;
        if (dtp) ap += (double)dtp / (double)np * ((double)tp / (double)(tp + fp));
    }
    return ap;
}

/* Splits the column of scores (stride apart) by 1[y = pos] into sorted keys
 * held in one buffer of n keys (positives, then negatives) plus n scratch. */
typedef struct split {
    uint64_t *buf, *scratch;
    uint64_t *pos, *neg;
    size_t np, nn;
} split;

static mw_status split_sort(const uint32_t *y, uint32_t pos, const double *s, size_t stride,
                            size_t n, split *sp, mw_error *err) {
    /* one pass: positives' keys fill buf upward from 0, negatives' downward
     * from n (both slots are written, the one of the other class is reused);
     * bad records are only flagged here and reported in order below */
    uint64_t *buf = sp->buf;
    size_t a = 0, b = n;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        double v = s[i * stride] + 0.0; /* -0.0 -> +0.0 */
        uint64_t k = mw_sort_key(v);
        int p = y[i] == pos;
        bad |= (y[i] == MW_PERF_MISSING) | isnan(v);
        buf[a] = k;
        buf[b - 1] = k;
        a += (size_t)p;
        b -= (size_t)!p;
    }
    if (bad) {
        for (size_t i = 0; i < n; i++) {
            if (y[i] == MW_PERF_MISSING)
                return mw_error_set(err, MW_EINVAL, "", i + 1, 0, "record %zu has no label", i + 1);
            if (isnan(s[i * stride]))
                return mw_error_set(err, MW_EINVAL, "", i + 1, 0, "record %zu: the score is NaN",
                                    i + 1);
        }
    }
    sp->pos = buf;
    sp->neg = buf + a;
    sp->np = a;
    sp->nn = n - a;
    mw_sort_u64(sp->pos, sp->np, sp->scratch);
    mw_sort_u64(sp->neg, sp->nn, sp->scratch);
    return MW_OK;
}

#define HUGE_PAGE ((size_t)2 << 20)

/* The keys and the scratch in one block; from 8 MiB on, aligned to 2 MiB and
 * offered to transparent huge pages (where the kernel leaves them to
 * madvise): a fresh block otherwise costs a page fault per 4 KiB, about 10 %
 * of the time on a million scores. */
static mw_status split_alloc(size_t n, split *sp, mw_error *err) {
    memset(sp, 0, sizeof *sp);
    size_t bytes = 2 * (n ? n : 1) * sizeof *sp->buf;
    void *p = NULL;
#ifdef MADV_HUGEPAGE
    if (bytes >= 4 * HUGE_PAGE) {
        bytes = (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
        if (posix_memalign(&p, HUGE_PAGE, bytes) == 0)
            (void)madvise(p, bytes, MADV_HUGEPAGE);
        else
            p = NULL;
    }
#endif
    if (!p) p = malloc(bytes);
    if (!p) return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory sorting %zu scores", n);
    sp->buf = p;
    sp->scratch = sp->buf + (n ? n : 1);
    return MW_OK;
}

static void split_free(split *sp) {
    free(sp->buf);
}

enum { METRIC_AUC, METRIC_AP };

static mw_status binary_metric(int metric, const uint32_t *y, uint32_t pos, const double *s,
                               size_t stride, size_t n, split *sp, double *out, mw_error *err) {
    mw_status st = split_sort(y, pos, s, stride, n, sp, err);
    if (st != MW_OK) return st;
    if (metric == METRIC_AUC) {
        if (!sp->np || !sp->nn)
            return mw_error_set(err, MW_EINVAL, "", 0, 0,
                                "only one class present in the targets (%s): ROC AUC is not "
                                "defined",
                                sp->np ? "every record is positive" : "no positive record");
        *out = auc_sorted(sp->pos, sp->np, sp->neg, sp->nn);
    } else {
        *out = sp->np ? ap_sorted(sp->pos, sp->np, sp->neg, sp->nn) : 0.0;
    }
    return MW_OK;
}

static mw_status binary_entry(int metric, const uint32_t *y, uint32_t pos, const double *score,
                              size_t n, double *out, mw_error *err) {
    if (!out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no output");
    *out = NAN;
    if (!n || !y || !score) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no record to rank");
    split sp;
    mw_status st = split_alloc(n, &sp, err);
    if (st != MW_OK) return st;
    double v = NAN;
    st = binary_metric(metric, y, pos, score, 1, n, &sp, &v, err);
    split_free(&sp);
    if (st == MW_OK) *out = v;
    return st;
}

mw_status mw_roc_auc_binary(const uint32_t *y, uint32_t pos, const double *score, size_t n,
                            double *out, mw_error *err) {
    return binary_entry(METRIC_AUC, y, pos, score, n, out, err);
}

mw_status mw_average_precision_binary(const uint32_t *y, uint32_t pos, const double *score,
                                      size_t n, double *out, mw_error *err) {
    return binary_entry(METRIC_AP, y, pos, score, n, out, err);
}

static mw_status ovr_entry(int metric, const uint32_t *y, const double *scores, size_t n, size_t k,
                           double *out, mw_error *err) {
    if (!out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no output");
    *out = NAN;
    if (!n || !y || !scores) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no record to rank");
    if (k < 2) return mw_error_set(err, MW_EINVAL, "", 0, 0, "one-vs-rest needs two classes");
    for (size_t i = 0; i < n; i++)
        if (y[i] >= k)
            return mw_error_set(err, MW_EINVAL, "", i + 1, 0,
                                "record %zu: class code %u has no score column (k = %zu)", i + 1,
                                (unsigned)y[i], k);
    split sp;
    mw_status st = split_alloc(n, &sp, err);
    if (st != MW_OK) return st;
    double sum = 0;
    for (size_t c = 0; c < k && st == MW_OK; c++) {
        double v = NAN;
        st = binary_metric(metric, y, (uint32_t)c, scores + c, k, n, &sp, &v, err);
        if (st != MW_OK && metric == METRIC_AUC && sp.np == 0 && sp.nn > 0 && err)
            mw_error_set(err, st, "", 0, 0,
                         "class %zu never occurs in the targets: one-vs-rest ROC AUC is not "
                         "defined",
                         c);
        sum += v;
    }
    split_free(&sp);
    if (st == MW_OK) *out = sum / (double)k;
    return st;
}

mw_status mw_roc_auc_ovr(const uint32_t *y, const double *scores, size_t n, size_t k, double *out,
                         mw_error *err) {
    return ovr_entry(METRIC_AUC, y, scores, n, k, out, err);
}

mw_status mw_average_precision_ovr(const uint32_t *y, const double *scores, size_t n, size_t k,
                                   double *out, mw_error *err) {
    return ovr_entry(METRIC_AP, y, scores, n, k, out, err);
}

/* ---- mergeable accumulator ------------------------------------------------ */

struct mw_rank_acc {
    size_t cap;      /* most pairs kept */
    size_t n, alloc; /* pairs kept */
    double *score;
    unsigned char *pos;
    int overflow;    /* pairs dropped: histogram answers */
    uint64_t np, nn; /* all records */
    uint64_t hpos[MW_RANK_BINS], hneg[MW_RANK_BINS];
};

mw_status mw_rank_acc_new(size_t cap, mw_rank_acc **out) {
    if (!out) return MW_EINVAL;
    *out = calloc(1, sizeof **out);
    if (!*out) return MW_ENOMEM;
    (*out)->cap = cap;
    return MW_OK;
}

void mw_rank_acc_free(mw_rank_acc *r) {
    if (!r) return;
    free(r->score);
    free(r->pos);
    free(r);
}

static void drop_pairs(mw_rank_acc *r) {
    free(r->score);
    free(r->pos);
    r->score = NULL;
    r->pos = NULL;
    r->n = r->alloc = 0;
    r->overflow = 1;
}

static mw_status reserve(mw_rank_acc *r, size_t need) {
    if (need <= r->alloc) return MW_OK;
    size_t a = r->alloc ? r->alloc : 1024;
    while (a < need)
        a *= 2;
    if (a > r->cap) a = r->cap;
    double *s = realloc(r->score, a * sizeof *s);
    if (!s) return MW_ENOMEM;
    r->score = s;
    unsigned char *p = realloc(r->pos, a);
    if (!p) return MW_ENOMEM;
    r->pos = p;
    r->alloc = a;
    return MW_OK;
}

static size_t hist_bin(double s) {
    double b = floor(s * MW_RANK_BINS);
    if (!(b >= 0)) return 0;
    if (b > MW_RANK_BINS - 1) return MW_RANK_BINS - 1;
    return (size_t)b;
}

mw_status mw_rank_acc_add(mw_rank_acc *r, double score, int is_pos) {
    if (!r || isnan(score)) return MW_EINVAL;
    if (!r->overflow) {
        if (r->n >= r->cap) {
            drop_pairs(r);
        } else {
            mw_status st = reserve(r, r->n + 1);
            if (st != MW_OK) return st;
            r->score[r->n] = score;
            r->pos[r->n] = is_pos != 0;
            r->n++;
        }
    }
    size_t b = hist_bin(score);
    if (is_pos) {
        r->hpos[b]++;
        r->np++;
    } else {
        r->hneg[b]++;
        r->nn++;
    }
    return MW_OK;
}

mw_status mw_rank_acc_merge(mw_rank_acc *dst, const mw_rank_acc *src) {
    if (!dst || !src) return MW_EINVAL;
    if (!dst->overflow) {
        if (src->overflow || dst->n + src->n > dst->cap) {
            drop_pairs(dst);
        } else if (src->n) {
            mw_status st = reserve(dst, dst->n + src->n);
            if (st != MW_OK) return st;
            memcpy(dst->score + dst->n, src->score, src->n * sizeof *src->score);
            memcpy(dst->pos + dst->n, src->pos, src->n);
            dst->n += src->n;
        }
    }
    for (size_t b = 0; b < MW_RANK_BINS; b++) {
        dst->hpos[b] += src->hpos[b];
        dst->hneg[b] += src->hneg[b];
    }
    dst->np += src->np;
    dst->nn += src->nn;
    return MW_OK;
}

/* Exact metric over the kept pairs. */
static mw_status acc_exact(const mw_rank_acc *r, int metric, double *out) {
    uint32_t *y = malloc((r->n ? r->n : 1) * sizeof *y);
    if (!y) return MW_ENOMEM;
    for (size_t i = 0; i < r->n; i++)
        y[i] = r->pos[i];
    mw_status st = binary_entry(metric, y, 1, r->score, r->n, out, NULL);
    free(y);
    return st;
}

mw_status mw_rank_acc_roc_auc(const mw_rank_acc *r, double *auc, int *exact, double *bound) {
    if (auc) *auc = NAN;
    if (exact) *exact = 0;
    if (bound) *bound = NAN;
    if (!r || !auc) return MW_EINVAL;
    if (!r->np || !r->nn) return MW_EINVAL;
    if (!r->overflow) {
        mw_status st = acc_exact(r, METRIC_AUC, auc);
        if (st == MW_OK) {
            if (exact) *exact = 1;
            if (bound) *bound = 0.0;
        }
        return st;
    }
    uint64_t num2 = 0, below = 0, ties = 0;
    for (size_t b = 0; b < MW_RANK_BINS; b++) {
        num2 += r->hpos[b] * (2 * below + r->hneg[b]);
        ties += r->hpos[b] * r->hneg[b];
        below += r->hneg[b];
    }
    double pn = (double)r->np * (double)r->nn;
    *auc = (double)num2 / (2.0 * pn);
    if (bound) *bound = 0.5 * (double)ties / pn;
    return MW_OK;
}

mw_status mw_rank_acc_average_precision(const mw_rank_acc *r, double *ap, int *exact) {
    if (ap) *ap = NAN;
    if (exact) *exact = 0;
    if (!r || !ap) return MW_EINVAL;
    if (!r->np && !r->nn) return MW_EINVAL;
    if (!r->overflow) {
        mw_status st = acc_exact(r, METRIC_AP, ap);
        if (st == MW_OK && exact) *exact = 1;
        return st;
    }
    if (!r->np) {
        *ap = 0.0;
        return MW_OK;
    }
    uint64_t tp = 0, fp = 0;
    double s = 0;
    for (size_t b = MW_RANK_BINS; b-- > 0;) {
        tp += r->hpos[b];
        fp += r->hneg[b];
        if (r->hpos[b]) s += (double)r->hpos[b] / (double)r->np * ((double)tp / (double)(tp + fp));
    }
    *ap = s;
    return MW_OK;
}

#define RK_MAGIC "MWRK"
#define RK_HEAD 48

mw_status mw_rank_acc_serialize(const mw_rank_acc *r, unsigned char **buf, size_t *len) {
    if (buf) *buf = NULL;
    if (len) *len = 0;
    if (!r || !buf || !len) return MW_EINVAL;
    size_t n = RK_HEAD + 2 * MW_RANK_BINS * 8 + r->n * 9;
    unsigned char *b = malloc(n), *p;
    if (!b) return MW_ENOMEM;
    memcpy(b, RK_MAGIC, 4);
    b[4] = 1;
    b[5] = (unsigned char)r->overflow;
    b[6] = b[7] = 0;
    mw_perf_put_u64(b + 8, r->cap);
    mw_perf_put_u64(b + 16, r->n);
    mw_perf_put_u64(b + 24, r->np);
    mw_perf_put_u64(b + 32, r->nn);
    mw_perf_put_u64(b + 40, MW_RANK_BINS);
    p = b + RK_HEAD;
    for (size_t i = 0; i < MW_RANK_BINS; i++, p += 16) {
        mw_perf_put_u64(p, r->hpos[i]);
        mw_perf_put_u64(p + 8, r->hneg[i]);
    }
    for (size_t i = 0; i < r->n; i++, p += 9) {
        mw_perf_put_f64(p, r->score[i]);
        p[8] = r->pos[i];
    }
    *buf = b;
    *len = n;
    return MW_OK;
}

mw_status mw_rank_acc_deserialize(const void *buf, size_t len, mw_rank_acc **out, mw_error *err) {
    if (out) *out = NULL;
    if (!out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no output");
    const unsigned char *b = buf;
    if (!b || len < RK_HEAD || memcmp(b, RK_MAGIC, 4) != 0 || b[4] != 1 || b[5] > 1 ||
        mw_perf_get_u64(b + 40) != MW_RANK_BINS)
        return mw_error_set(err, MW_ECORRUPT, "", 0, 0, "rank accumulator: bad header");
    uint64_t cap = mw_perf_get_u64(b + 8), n = mw_perf_get_u64(b + 16);
    if (n > cap || n > (len - RK_HEAD) / 9 || len != RK_HEAD + 2 * MW_RANK_BINS * 8 + n * 9 ||
        (b[5] && n))
        return mw_error_set(err, MW_ECORRUPT, "", 0, 0,
                            "rank accumulator: %llu pairs do not fit %zu bytes",
                            (unsigned long long)n, len);
    mw_rank_acc *r;
    if (mw_rank_acc_new((size_t)cap, &r) != MW_OK)
        return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory");
    r->overflow = b[5];
    r->np = mw_perf_get_u64(b + 24);
    r->nn = mw_perf_get_u64(b + 32);
    const unsigned char *p = b + RK_HEAD;
    uint64_t tp = 0, tn = 0;
    for (size_t i = 0; i < MW_RANK_BINS; i++, p += 16) {
        r->hpos[i] = mw_perf_get_u64(p);
        r->hneg[i] = mw_perf_get_u64(p + 8);
        tp += r->hpos[i];
        tn += r->hneg[i];
    }
    if (tp != r->np || tn != r->nn || (!r->overflow && n != r->np + r->nn)) {
        mw_rank_acc_free(r);
        return mw_error_set(err, MW_ECORRUPT, "", 0, 0, "rank accumulator: counts disagree");
    }
    if (n && reserve(r, (size_t)n) != MW_OK) {
        mw_rank_acc_free(r);
        return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory");
    }
    for (size_t i = 0; i < n; i++, p += 9) {
        r->score[i] = mw_perf_get_f64(p);
        r->pos[i] = p[8] != 0;
        if (isnan(r->score[i])) {
            mw_rank_acc_free(r);
            return mw_error_set(err, MW_ECORRUPT, "", 0, 0, "rank accumulator: NaN score");
        }
    }
    r->n = (size_t)n;
    *out = r;
    return MW_OK;
}
