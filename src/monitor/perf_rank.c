/*
 * Ranking metrics: ROC AUC and average precision, binary and one-vs-rest
 * macro, exact with tied scores; and a mergeable accumulator for windows that
 * is exact up to a bound on the pairs it keeps and histogram-based beyond.
 *
 * ROC AUC (sklearn.metrics.roc_auc_score: the trapezoidal area under the ROC
 * curve whose points are the distinct score thresholds) equals the
 * Mann-Whitney form with ties counted one half:
 *   AUC = sum over (pos i, neg j) of (1[s_i > s_j] + 1/2 1[s_i = s_j]) / (P N).
 * We count it without sorting (the fused bucket ranking below): a histogram
 * of both classes over the top bits of the scores settles the pairs in
 * different buckets, the pairs inside one are compared exactly while the
 * bucket is in cache; numerator*2 in exact 64-bit integers, one division at
 * the end.
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
 * figures in that script's output and README.md's Performance section.
 */
#include "modelwatch/perf.h"
#include "modelwatch/stats.h"

#include "core/util.h"
#include "monitor/perf_int.h"
#include "stats/sort_key.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- fused bucket ranking ------------------------------------------------- */

/*
 * No full sort. One histogram of both classes over up to 2^12 buckets of the
 * top differing bits of the keys (stats/sort_key.h, -0.0 read as +0.0: key
 * order is score order and equal keys are equal scores) settles every pair of
 * records in different buckets by prefix sums; only pairs inside one bucket
 * need exact comparison. The records are scattered once into bucket order as
 * tagged values
 *   tag = (key bits below the digit) << 1 | 1[positive]
 * (the bits above are the bucket's): in tag order equal scores are adjacent,
 * negatives first. A bucket of one class needs no work for AUC (and for AP
 * none without positives); a larger mixed one is split again the same way,
 * in cache (split_bucket); a leaf of at most LEAF_MAX records is counted pair
 * by pair (AUC) or sorted and walked from the top (AP).
 *
 * Counts are exact integers; AP adds the same terms in the same order (the
 * distinct thresholds from the top) as a walk over fully sorted arrays, so
 * both agree bit for bit with such a walk.
 */
#define RANK_MAX_BITS 12 /* 4096 top buckets: half the L1 misses of 65536 in the scatter */
#define SPLIT_MAX_BITS 10
#define LEAF_MAX 64
#ifndef PACK_MAX /* records and positives packed in one count: at most 2^32 - 1 */
#define PACK_MAX UINT32_MAX
#endif

typedef struct rank_ws {
    uint64_t *tag;           /* n tagged values in bucket order */
    uint64_t *scratch;       /* the splits and sorts of buckets (rank_metric) */
    uint64_t *cnt;           /* per top bucket: records | positives << 32, then ends */
    size_t np, nn;           /* positives, negatives */
    int wmax;                /* digit width: at most 2^wmax top buckets */
    const mw_runner *runner; /* ROC AUC's buckets on the caller's threads (NULL: in order) */
} rank_ws;

/* The running state of one metric over the buckets in score order: ascending
 * for AUC (num2 = 2 x its numerator, below = negatives so far), descending
 * for AP (tp, fp at or above the threshold). */
typedef struct rank_run {
    int ap;
    uint64_t num2, below, tp, fp;
    double sum, np;
} rank_run;

static inline uint64_t score_key(const double *s, size_t i, size_t stride) {
    return mw_sort_key(s[i * stride] + 0.0); /* -0.0 -> +0.0 */
}

/* One group of equal scores: p positives and q negatives. */
static void run_group(rank_run *r, uint64_t p, uint64_t q) {
    if (!r->ap) {
        r->num2 += p * (2 * r->below + q);
        r->below += q;
        return;
    }
    r->tp += p;
    r->fp += q;
    if (p) r->sum += (double)p / r->np * ((double)r->tp / (double)(r->tp + r->fp));
}

/* A sorted bucket, group by group in the run's order. */
static void run_sorted(rank_run *r, const uint64_t *t, size_t m) {
    for (size_t g = 0; g < m;) {
        size_t i = r->ap ? m - 1 - g : g;
        uint64_t k = t[i] >> 1, p = 0, q = 0;
        for (; g < m; g++) {
            i = r->ap ? m - 1 - g : g;
            if (t[i] >> 1 != k) break;
            p += t[i] & 1;
            q += (t[i] & 1) ^ 1;
        }
        run_group(r, p, q);
    }
}

/* The tags of a leaf bucket (m <= LEAF_MAX) apart: a positives in pt, b
 * negatives in nt. */
static void leaf_apart(const uint64_t *t, size_t m, uint64_t *pt, size_t *a, uint64_t *nt,
                       size_t *b) {
    size_t i = 0, j = 0;
    for (size_t x = 0; x < m; x++) {
        uint64_t c = t[x] & 1;
        pt[i] = t[x];
        nt[j] = t[x];
        i += c;
        j += c ^ 1;
    }
    *a = i;
    *b = j;
}

/* AUC of a leaf, pair by pair: a negative tag 2 k' and a positive one 2 k + 1
 * give 2 [k' < k] + [k' = k] = [2 k' < 2 k + 1] + [2 k' + 1 < 2 k + 1]. */
static void leaf_auc(rank_run *r, const uint64_t *t, size_t m) {
    uint64_t pt[LEAF_MAX], nt[LEAF_MAX], num2 = 0;
    size_t a, b;
    leaf_apart(t, m, pt, &a, nt, &b);
    for (size_t i = 0; i < a; i++) {
        uint64_t v = pt[i], sum = 0;
        for (size_t j = 0; j < b; j++)
            sum += (uint64_t)(nt[j] < v) + (uint64_t)(nt[j] + 1 < v);
        num2 += sum;
    }
    r->num2 += num2 + 2 * (uint64_t)a * r->below;
    r->below += b;
}

/* AP of a leaf: its positives sorted (descending), then per distinct score
 * from the top the negatives at or above it, counted pair by pair. */
static void leaf_ap(rank_run *r, const uint64_t *t, size_t m) {
    uint64_t pt[LEAF_MAX], nt[LEAF_MAX];
    size_t a, b;
    leaf_apart(t, m, pt, &a, nt, &b);
    for (size_t i = 1; i < a; i++) {
        uint64_t x = pt[i];
        size_t j = i;
        for (; j > 0 && pt[j - 1] < x; j--)
            pt[j] = pt[j - 1];
        pt[j] = x;
    }
    uint64_t tp = r->tp, fp = r->fp;
    for (size_t i = 0; i < a;) {
        uint64_t v = pt[i] - 1, above = 0; /* the tag of a negative of equal score */
        size_t g = i;
        for (; i < a && pt[i] == pt[g]; i++)
            ;
        for (size_t j = 0; j < b; j++)
            above += nt[j] >= v;
        r->tp = tp + g;
        r->fp = fp + above;
        run_group(r, i - g, 0);
    }
    r->tp = tp + a;
    r->fp = fp + b;
}

static void run_bucket(rank_run *r, uint64_t *t, uint64_t *scratch, size_t m, size_t p, int bits);

/*
 * A bucket of m > LEAF_MAX mixed records in t (scratch alongside, as long),
 * whose tags hold `bits` key bits above the class bit: one MSD pass in cache
 * on a digit of at most SPLIT_MAX_BITS from the top of those bits, about
 * m / 8 buckets (the counts of one level take 8 KiB of stack; each level
 * consumes at least 4 bits, so at most 17 levels), then each sub-bucket in
 * order. Only when every record lands in one sub-bucket (values clustered
 * below the top bits, or all equal) is the range looked up, to start the
 * digit at the highest bit that differs. Buckets of 2^32 and more records
 * (the packed counts would overflow) are sorted instead.
 */
static void split_bucket(rank_run *r, uint64_t *t, uint64_t *scratch, size_t m, int bits) {
    if ((uint64_t)m > PACK_MAX) {
        mw_sort_u64(t, m, scratch);
        run_sorted(r, t, m);
        return;
    }
    int top = bits, ranged = 0; /* top: the tag bit of the highest key bit that may differ */
    uint64_t cnt[1 << SPLIT_MAX_BITS], mask;
    int shift;
    for (;;) {
        int w = 64 - __builtin_clzll((uint64_t)m) - 3;
        w = w > SPLIT_MAX_BITS ? SPLIT_MAX_BITS : w > top ? top : w;
        shift = top + 1 - w;
        mask = ((uint64_t)1 << w) - 1;
        memset(cnt, 0, ((size_t)mask + 1) * sizeof *cnt);
        for (size_t i = 0; i < m; i++)
            cnt[(t[i] >> shift) & mask] += 1 | (t[i] & 1) << 32;
        int one = 0;
        uint64_t sum = 0;
        for (size_t d = 0; d <= mask; d++) {
            uint64_t c = cnt[d];
            one |= (c & UINT32_MAX) == m;
            cnt[d] = sum | (c >> 32) << 32; /* start | positives */
            sum += c & UINT32_MAX;
        }
        if (!one || ranged) break;
        uint64_t lo = UINT64_MAX, hi = 0, np = 0;
        for (size_t i = 0; i < m; i++) {
            uint64_t k = t[i] >> 1;
            lo = k < lo ? k : lo;
            hi = k > hi ? k : hi;
            np += t[i] & 1;
        }
        if (lo == hi) { /* one group of equal scores */
            run_group(r, np, m - np);
            return;
        }
        top = 63 - __builtin_clzll(lo ^ hi) + 1; /* in tag bits */
        ranged = 1;
    }
    for (size_t i = 0; i < m; i++)
        scratch[cnt[(t[i] >> shift) & mask]++ & UINT32_MAX] = t[i];
    for (size_t j = 0; j <= mask; j++) {
        size_t d = r->ap ? mask - j : j;
        size_t e = cnt[d] & UINT32_MAX, b = d ? cnt[d - 1] & UINT32_MAX : 0;
        run_bucket(r, scratch + b, t + b, e - b, (size_t)(cnt[d] >> 32), shift - 1);
    }
}

/* A bucket of m records, p of them positive, in t (scratch alongside), whose
 * tags hold `bits` key bits. */
static void run_bucket(rank_run *r, uint64_t *t, uint64_t *scratch, size_t m, size_t p, int bits) {
    if (!m) return;
    if (p == m && !r->ap) { /* positives only: all negatives so far lie below */
        r->num2 += 2 * (uint64_t)p * r->below;
        return;
    }
    if (!p || (p == 1 && m == 1) || bits <= 0) { /* negatives only, a single record, or
                                                    equal keys */
        run_group(r, p, m - p);
        return;
    }
    if (m > LEAF_MAX) {
        split_bucket(r, t, scratch, m, bits);
    } else if (!r->ap) {
        leaf_auc(r, t, m);
    } else {
        leaf_ap(r, t, m);
    }
}

/* The first bad record (no label, NaN score) in order. */
static mw_status report_bad(const uint32_t *y, const double *s, size_t stride, size_t n,
                            mw_error *err) {
    for (size_t i = 0; i < n; i++) {
        if (y[i] == MW_PERF_MISSING)
            return mw_error_set(err, MW_EINVAL, "", i + 1, 0, "record %zu has no label", i + 1);
        if (isnan(s[i * stride]))
            return mw_error_set(err, MW_EINVAL, "", i + 1, 0, "record %zu: the score is NaN",
                                i + 1);
    }
    return MW_OK;
}

/* More records than the packed counts hold: two halves on the highest
 * differing key bit, tagged with the bits below it, each split on its own. */
static void rank_halves(rank_run *r, const uint32_t *y, uint32_t pos, const double *s,
                        size_t stride, size_t n, uint64_t lo, uint64_t hi, rank_ws *ws) {
    if (lo == hi) {
        run_group(r, ws->np, ws->nn);
        return;
    }
    int top = 63 - __builtin_clzll(lo ^ hi);
    uint64_t low = ((uint64_t)1 << top) - 1;
    size_t n0 = 0, p0 = 0, p1 = 0;
    for (size_t i = 0; i < n; i++) {
        size_t hi_half = (size_t)(score_key(s, i, stride) >> top & 1), c = y[i] == pos;
        n0 += hi_half ^ 1;
        p0 += c & (hi_half ^ 1);
        p1 += c & hi_half;
    }
    size_t at[2] = {0, n0};
    for (size_t i = 0; i < n; i++) {
        uint64_t k = score_key(s, i, stride);
        ws->tag[at[k >> top & 1]++] = (k & low) << 1 | (uint64_t)(y[i] == pos);
    }
    if (r->ap) run_bucket(r, ws->tag + n0, ws->scratch, n - n0, p1, top);
    run_bucket(r, ws->tag, ws->scratch, n0, p0, top);
    if (!r->ap) run_bucket(r, ws->tag + n0, ws->scratch, n - n0, p1, top);
}

/*
 * ROC AUC's in-bucket work on the caller's runner: the top buckets (tags in
 * bucket order, cnt[d] = end | positives << 32) in RANGES contiguous ranges
 * of about equal size, each counted from the negatives below its first
 * bucket (known from the counts). The numerator is a sum of exact integers,
 * so the result is the same bit for bit whatever the runner.
 */
#define RANGES 16
#define PARALLEL_MIN 65536 /* fewer records: not worth the threads */

typedef struct bucket_range {
    const uint64_t *cnt;
    uint64_t *tag;
    int shift;
    size_t d0, d1;  /* buckets [d0, d1) */
    uint64_t below; /* negatives in the buckets before d0 */
    uint64_t num2;  /* out */
    int nomem;
} bucket_range;

static void range_task(void *arg, size_t i) {
    bucket_range *g = (bucket_range *)arg + i;
    size_t most = 0;
    for (size_t d = g->d0; d < g->d1; d++) {
        size_t e = g->cnt[d] & UINT32_MAX, b = d ? g->cnt[d - 1] & UINT32_MAX : 0;
        most = e - b > most ? e - b : most;
    }
    uint64_t *scratch = malloc((most ? most : 1) * sizeof *scratch);
    if (!scratch) {
        g->nomem = 1;
        return;
    }
    rank_run r = {.ap = 0, .below = g->below};
    for (size_t d = g->d0; d < g->d1; d++) {
        size_t e = g->cnt[d] & UINT32_MAX, b = d ? g->cnt[d - 1] & UINT32_MAX : 0;
        run_bucket(&r, g->tag + b, scratch, e - b, (size_t)(g->cnt[d] >> 32), g->shift);
    }
    g->num2 = r.num2;
    free(scratch);
}

/* 2 x the AUC numerator over buckets [0, mask] through the runner; 0 when out
 * of memory. */
static int auc_buckets_parallel(const mw_runner *runner, const uint64_t *cnt, uint64_t *tag,
                                size_t mask, int shift, size_t n, uint64_t *num2) {
    bucket_range g[RANGES];
    size_t ng = 0, d = 0;
    uint64_t below = 0;
    for (size_t k = 1; k <= RANGES && d <= mask; k++) {
        size_t goal = n / RANGES * k, d0 = d;
        uint64_t neg = 0;
        for (; d <= mask && (k == RANGES || (cnt[d] & UINT32_MAX) <= goal); d++) {
            size_t e = cnt[d] & UINT32_MAX, b = d ? cnt[d - 1] & UINT32_MAX : 0;
            neg += (e - b) - (cnt[d] >> 32);
        }
        if (d == d0) continue;
        g[ng++] = (bucket_range){cnt, tag, shift, d0, d, below, 0, 0};
        below += neg;
    }
    mw_runner_run(runner, range_task, g, ng);
    *num2 = 0;
    for (size_t i = 0; i < ng; i++) {
        if (g[i].nomem) return 0;
        *num2 += g[i].num2;
    }
    return 1;
}

/* The digit of the top buckets for keys in [lo, hi]: at most wmax bits that
 * end at the highest bit where lo and hi differ. */
static void top_digit(uint64_t lo, uint64_t hi, int wmax, int *shift, uint64_t *mask) {
    int top = lo == hi ? 0 : 63 - __builtin_clzll(lo ^ hi);
    int w = wmax < top + 1 ? wmax : top + 1;
    *shift = top + 1 - w;
    *mask = ((uint64_t)1 << w) - 1;
}

/* The histogram of the top buckets: records | positives << 32 per bucket. */
static void top_histogram(const uint32_t *y, uint32_t pos, const double *s, size_t stride, size_t n,
                          int shift, uint64_t mask, uint64_t *cnt) {
    memset(cnt, 0, ((size_t)mask + 1) * sizeof *cnt);
    for (size_t i = 0; i < n; i++)
        cnt[(score_key(s, i, stride) >> shift) & mask] += 1 | (uint64_t)(y[i] == pos) << 32;
}

/*
 * Two passes over the records in the common case. The first validates,
 * counts the classes, finds the range of the keys and, on the digit that a
 * sample of 1024 evenly spaced scores suggests, counts the top buckets (one
 * cache line touched per record); only when the full range turns out to need
 * another digit (the sample missed an extreme in the high bits) is the
 * histogram taken again. The second pass scatters the records into bucket
 * order. Then the top buckets in the metric's order.
 */
static mw_status rank_metric(int ap, const uint32_t *y, uint32_t pos, const double *s,
                             size_t stride, size_t n, rank_ws *ws, double *out, mw_error *err) {
    int packed = (uint64_t)n <= PACK_MAX, shift = 0;
    uint64_t lo = UINT64_MAX, hi = 0, mask = 0, *cnt = ws->cnt;
    if (packed) {
        for (size_t i = 0, step = n / 1024 + 1; i < n; i += step) {
            uint64_t k = score_key(s, i, stride);
            lo = k < lo ? k : lo;
            hi = k > hi ? k : hi;
        }
        top_digit(lo, hi, ws->wmax, &shift, &mask);
        memset(cnt, 0, ((size_t)mask + 1) * sizeof *cnt);
        lo = UINT64_MAX, hi = 0;
    }
    size_t np = 0;
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t k = score_key(s, i, stride), c = y[i] == pos;
        lo = k < lo ? k : lo;
        hi = k > hi ? k : hi;
        np += c;
        bad |= (y[i] == MW_PERF_MISSING) | isnan(s[i * stride]);
        if (packed) cnt[(k >> shift) & mask] += 1 | c << 32;
    }
    if (bad) return report_bad(y, s, stride, n, err);
    ws->np = np;
    ws->nn = n - np;
    if (!ap && (!np || np == n))
        return mw_error_set(err, MW_EINVAL, "", 0, 0,
                            "only one class present in the targets (%s): ROC AUC is not defined",
                            np ? "every record is positive" : "no positive record");
    if (ap && !np) {
        *out = 0.0;
        return MW_OK;
    }
    rank_run r = {.ap = ap, .np = (double)np};
    if (!packed) {
        if (!(ws->scratch = malloc(n * sizeof *ws->scratch))) goto nomem;
        rank_halves(&r, y, pos, s, stride, n, lo, hi, ws);
    } else {
        int guessed = shift;
        uint64_t guessed_mask = mask;
        top_digit(lo, hi, ws->wmax, &shift, &mask);
        if (shift != guessed || mask != guessed_mask)
            top_histogram(y, pos, s, stride, n, shift, mask, cnt);
        uint64_t low = ((uint64_t)1 << shift) - 1, *tag = ws->tag, sum = 0, most = 0;
        for (size_t d = 0; d <= mask; d++) {
            uint64_t c = cnt[d];
            cnt[d] = sum | (c >> 32) << 32; /* start | positives */
            sum += c & UINT32_MAX;
            most = (c & UINT32_MAX) > most ? c & UINT32_MAX : most;
        }
        for (size_t i = 0; i < n; i++) {
            uint64_t k = score_key(s, i, stride);
            tag[cnt[(k >> shift) & mask]++ & UINT32_MAX] = (k & low) << 1 | (uint64_t)(y[i] == pos);
        }
        if (!ap && ws->runner && ws->runner->run && n >= PARALLEL_MIN) {
            if (!auc_buckets_parallel(ws->runner, cnt, tag, mask, shift, n, &r.num2)) goto nomem;
            *out = (double)r.num2 / (2.0 * (double)np * (double)(n - np));
            return MW_OK;
        }
        /* a bucket's split scatters into the scratch: as long as the largest
         * (small unless the scores cluster), not n, to spare its page faults */
        if (!(ws->scratch = malloc((size_t)(most ? most : 1) * sizeof *ws->scratch))) goto nomem;
        for (size_t j = 0; j <= mask; j++) {
            size_t d = ap ? mask - j : j;
            size_t e = cnt[d] & UINT32_MAX, b = d ? cnt[d - 1] & UINT32_MAX : 0;
            run_bucket(&r, tag + b, ws->scratch, e - b, (size_t)(cnt[d] >> 32), shift);
        }
    }
    free(ws->scratch);
    ws->scratch = NULL;
    *out = ap ? r.sum : (double)r.num2 / (2.0 * (double)np * (double)(n - np));
    return MW_OK;
nomem:
    return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory ranking %zu scores", n);
}

/* The tagged values and the counts in one block, offered to huge pages
 * (mw_malloc_huge: a fresh block otherwise costs a page fault per 4 KiB,
 * about 10 % of the time on a million scores). About 2^w <= n / 16 top buckets. The
 * scratch, as long as the largest top bucket, comes later (rank_metric). */
static mw_status rank_alloc(size_t n, rank_ws *ws, mw_error *err) {
    memset(ws, 0, sizeof *ws);
    int w = 64 - __builtin_clzll((uint64_t)n | 1) - 4;
    ws->wmax = w < 1 ? 1 : w > RANK_MAX_BITS ? RANK_MAX_BITS : w;
    size_t nb = (size_t)1 << ws->wmax, nk = n ? n : 1;
    size_t bytes = (nk + nb) * sizeof *ws->tag;
    void *p = mw_malloc_huge(bytes);
    if (!p) return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory ranking %zu scores", n);
    ws->tag = p;
    ws->cnt = ws->tag + nk;
    return MW_OK;
}

enum { METRIC_AUC, METRIC_AP };

static mw_status binary_entry(int metric, const uint32_t *y, uint32_t pos, const double *score,
                              size_t n, const mw_runner *runner, double *out, mw_error *err) {
    if (!out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no output");
    *out = NAN;
    if (!n || !y || !score) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no record to rank");
    rank_ws ws;
    mw_status st = rank_alloc(n, &ws, err);
    if (st != MW_OK) return st;
    ws.runner = runner;
    double v = NAN;
    st = rank_metric(metric == METRIC_AP, y, pos, score, 1, n, &ws, &v, err);
    free(ws.tag);
    if (st == MW_OK) *out = v;
    return st;
}

mw_status mw_roc_auc_binary(const uint32_t *y, uint32_t pos, const double *score, size_t n,
                            double *out, mw_error *err) {
    return binary_entry(METRIC_AUC, y, pos, score, n, NULL, out, err);
}

mw_status mw_roc_auc_binary_run(const uint32_t *y, uint32_t pos, const double *score, size_t n,
                                const mw_runner *runner, double *out, mw_error *err) {
    return binary_entry(METRIC_AUC, y, pos, score, n, runner, out, err);
}

mw_status mw_average_precision_binary(const uint32_t *y, uint32_t pos, const double *score,
                                      size_t n, double *out, mw_error *err) {
    return binary_entry(METRIC_AP, y, pos, score, n, NULL, out, err);
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
    rank_ws ws;
    mw_status st = rank_alloc(n, &ws, err);
    if (st != MW_OK) return st;
    double sum = 0;
    for (size_t c = 0; c < k && st == MW_OK; c++) {
        double v = NAN;
        st = rank_metric(metric == METRIC_AP, y, (uint32_t)c, scores + c, k, n, &ws, &v, err);
        if (st != MW_OK && metric == METRIC_AUC && ws.np == 0 && ws.nn > 0 && err)
            mw_error_set(err, st, "", 0, 0,
                         "class %zu never occurs in the targets: one-vs-rest ROC AUC is not "
                         "defined",
                         c);
        sum += v;
    }
    free(ws.tag);
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
    mw_status st = binary_entry(metric, y, 1, r->score, r->n, NULL, out, NULL);
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
