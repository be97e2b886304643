/*
 * Local Outlier Factor (Breunig, Kriegel, Ng & Sander, "LOF: Identifying
 * Density-Based Local Outliers", SIGMOD 2000) in novelty mode, with exactly
 * the semantics of sklearn 1.2's LocalOutlierFactor(novelty=True):
 *
 *   fit:   for every reference row i, its k nearest other rows (Euclidean);
 *          kdist(i) = distance to the k-th of them;
 *          lrd(i) = 1 / (mean_j max(d(i, j), kdist(j)) + 1e-10)
 *          (the 1e-10 keeps lrd finite when more than k rows coincide);
 *   score: for a new row x, its k nearest reference rows N(x),
 *          lrd(x) as above, LOF(x) = mean_{j in N(x)} lrd(j) / lrd(x),
 *          which is -score_samples(x); the reference rows' own (leave-one-out)
 *          LOF is -negative_outlier_factor_.
 * "Other rows" excludes the row itself by index, so duplicates of a row are
 * neighbours at distance 0, as in sklearn (which asks for k + 1 neighbours and
 * drops the row itself, or a duplicate standing in for it: the same distances).
 * Distances are sqrt(sum_f (x_f - y_f)^2) summed in feature order, as sklearn's
 * KD-tree computes them. The reference needs more than k rows (sklearn would
 * silently lower k to n - 1; we report an error instead).
 *
 * Exact k nearest neighbours, fast (why this code is hand-written: sklearn
 * takes ~4 s for 20k x 20 queries against a 20k reference on 2 cores; the goal
 * is 20x that): a blocked scan computes approximate squared distances
 * |q|^2 + |r|^2 - 2 q.r with a register-tiled kernel (8 queries x 16 reference
 * rows, AVX-512 FMA when the CPU has it, portable C otherwise) over reference
 * chunks that stay in L2. A row r is kept as a candidate when the lower bound
 * of its distance, val - tol (|q|^2 + |r|^2) with tol = (4d + 8) 2^-52 (which
 * covers the rounding of the GEMM form and of the exact sum), is not above
 * tau, the k-th smallest upper bound seen so far. Candidates are then measured
 * exactly (the sequential sum above) and the k smallest kept, ties by index.
 * So the result is exact, not approximate: only the filtering is fast.
 */
#include "monitor/outlier_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define MW_LOF_AVX512 1
#endif
#if defined(__clang__)
#pragma clang fp contract(off) /* the exact distance must not fuse into FMA */
#endif

#define QTILE 8    /* queries per kernel tile */
#define QCHUNK 256 /* queries whose candidate lists are live at once */
#define RCHUNK 128 /* reference blocks (8 rows each) per L2-sized chunk */
#define CAND_CAP(k) (4 * (size_t)(k) + 32) /* a query's first candidate list */

typedef struct cand {
    double lo, hi;
    uint32_t idx;
} cand;

typedef struct qstate {
    double tau; /* the k-th smallest upper bound seen (inf until k were seen) */
    size_t n, cap;
    cand *c;
    double *best; /* the k smallest upper bounds seen, unordered */
    uint32_t nbest, top; /* how many; where the largest (tau) is */
} qstate;

typedef struct scan {
    const mw_lof *l;
    double tol;
    const double *q[QTILE];
    double qn[QTILE];
    double tq[QTILE];     /* tau - |q|^2 (1 - 2 tol), the kernel's test */
    uint32_t self[QTILE]; /* reference index to skip, UINT32_MAX = none */
    qstate *st[QTILE];
} scan;

/* Records upper bound hi among the k smallest seen; tau is their largest
 * once k were seen. An unordered array whose largest is found again after a
 * replacement: k compares that predict well (a binary heap's sift-down, with
 * its unpredictable branches, was a third of the search's time). */
static void keep_best(qstate *st, uint32_t k, double hi) {
    double *b = st->best;
    if (st->nbest < k) {
        b[st->nbest++] = hi;
        if (st->nbest < k) return;
    } else if (hi < st->tau) {
        b[st->top] = hi;
    } else {
        return;
    }
    uint32_t top = 0;
    for (uint32_t j = 1; j < k; j++)
        top = b[j] > b[top] ? j : top;
    st->top = top;
    st->tau = b[top];
}

/* Drops candidates whose lower bound is above tau; grows the list when many
 * remain (ties: duplicates). */
static mw_status compact(qstate *st) {
    size_t w = 0;
    for (size_t i = 0; i < st->n; i++)
        if (st->c[i].lo <= st->tau) st->c[w++] = st->c[i];
    st->n = w;
    if (st->n > st->cap / 2) {
        cand *c = realloc(st->c, st->cap * 2 * sizeof *c);
        if (!c) return MW_ENOMEM;
        st->c = c;
        st->cap *= 2;
    }
    return MW_OK;
}

/* Candidates among 16 reference rows for tile query i: lanes of mask (bit l:
 * row base + l), acc the 16 dot products. */
static mw_status hit(scan *s, int i, size_t base, unsigned mask, const double *acc) {
    const mw_lof *l = s->l;
    qstate *st = s->st[i];
    for (; mask; mask &= mask - 1) {
        unsigned lane = (unsigned)__builtin_ctz(mask);
        size_t r = base + lane;
        if (r >= l->n || r == s->self[i]) continue;
        double qr = s->qn[i] + l->norm2[r];
        double val = qr - 2.0 * acc[lane], bnd = s->tol * qr;
        double lo = val - bnd;
        if (!(lo <= st->tau)) continue;
        keep_best(st, l->k, val + bnd);
        if (st->n == st->cap) {
            mw_status rc = compact(st);
            if (rc != MW_OK) return rc;
        }
        st->c[st->n++] = (cand){lo, val + bnd, (uint32_t)r};
    }
    s->tq[i] = st->tau - s->qn[i] * (1.0 - 2.0 * s->tol);
    return MW_OK;
}

/* Portable kernel: the same tiles in plain C (the compiler vectorises it). */
static mw_status scan_generic(scan *s, size_t b0, size_t b1) {
    const size_t d = s->l->d;
    const double onem = 1.0 - 2.0 * s->tol;
    for (size_t b = b0; b < b1; b += 2) {
        int two = b + 1 < b1;
        const double *B0 = s->l->blk + b * d * 8, *B1 = two ? B0 + d * 8 : B0;
        double acc[QTILE][16];
        memset(acc, 0, sizeof acc);
        for (size_t f = 0; f < d; f++)
            for (int i = 0; i < QTILE; i++) {
                double qv = s->q[i][f];
                for (int lane = 0; lane < 8; lane++) {
                    acc[i][lane] += qv * B0[f * 8 + lane];
                    acc[i][8 + lane] += qv * B1[f * 8 + lane];
                }
            }
        for (int i = 0; i < QTILE; i++) {
            unsigned mask = 0;
            for (int lane = 0; lane < 16; lane++) {
                if (lane >= 8 && !two) break;
                double rn = s->l->norm2[b * 8 + (size_t)lane];
                if (rn * onem - 2.0 * acc[i][lane] <= s->tq[i]) mask |= 1u << lane;
            }
            if (mask) {
                mw_status rc = hit(s, i, b * 8, mask, acc[i]);
                if (rc != MW_OK) return rc;
            }
        }
    }
    return MW_OK;
}

#ifdef MW_LOF_AVX512
#define Q8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
__attribute__((target("avx512f"))) static mw_status scan_avx512(scan *s, size_t b0, size_t b1) {
    const size_t d = s->l->d;
    const __m512d onem = _mm512_set1_pd(1.0 - 2.0 * s->tol), m2 = _mm512_set1_pd(-2.0);
    const __m512d nanv = _mm512_set1_pd(NAN);
    const double *q0 = s->q[0], *q1 = s->q[1], *q2 = s->q[2], *q3 = s->q[3];
    const double *q4 = s->q[4], *q5 = s->q[5], *q6 = s->q[6], *q7 = s->q[7];
    for (size_t b = b0; b < b1; b += 2) {
        int two = b + 1 < b1;
        const double *B0 = s->l->blk + b * d * 8, *B1 = two ? B0 + d * 8 : B0;
#define DECL(i) __m512d a##i = _mm512_setzero_pd(), c##i = _mm512_setzero_pd();
        Q8(DECL)
#undef DECL
        for (size_t f = 0; f < d; f++) {
            __m512d r0 = _mm512_loadu_pd(B0 + f * 8), r1 = _mm512_loadu_pd(B1 + f * 8);
#define STEP(i)                                                                                    \
    {                                                                                              \
        __m512d qq = _mm512_set1_pd(q##i[f]);                                                      \
        a##i = _mm512_fmadd_pd(qq, r0, a##i);                                                      \
        c##i = _mm512_fmadd_pd(qq, r1, c##i);                                                      \
    }
            Q8(STEP)
#undef STEP
        }
        __m512d rn0 = _mm512_mul_pd(_mm512_loadu_pd(s->l->norm2 + b * 8), onem);
        __m512d rn1 = two ? _mm512_mul_pd(_mm512_loadu_pd(s->l->norm2 + b * 8 + 8), onem) : nanv;
#define TEST(i)                                                                                    \
    {                                                                                              \
        __m512d tq = _mm512_set1_pd(s->tq[i]);                                                     \
        __mmask8 k0 = _mm512_cmp_pd_mask(_mm512_fmadd_pd(m2, a##i, rn0), tq, _CMP_LE_OQ);          \
        __mmask8 k1 = _mm512_cmp_pd_mask(_mm512_fmadd_pd(m2, c##i, rn1), tq, _CMP_LE_OQ);          \
        if (k0 | k1) {                                                                             \
            double acc[16];                                                                        \
            _mm512_storeu_pd(acc, a##i);                                                           \
            _mm512_storeu_pd(acc + 8, c##i);                                                       \
            mw_status rc = hit(s, i, b * 8, (unsigned)k0 | (unsigned)k1 << 8, acc);                \
            if (rc != MW_OK) return rc;                                                            \
        }                                                                                          \
    }
        Q8(TEST)
#undef TEST
    }
    return MW_OK;
}
#undef Q8
#endif

static int use_avx512(const mw_lof *l) {
#ifdef MW_LOF_AVX512
    return !l->portable && __builtin_cpu_supports("avx512f");
#else
    (void)l;
    return 0;
#endif
}

/* Exact squared distance, summed in feature order (sklearn's KD-tree rdist). */
static double exact_d2(const double *a, const double *b, size_t d) {
    double s = 0;
    for (size_t f = 0; f < d; f++) {
        double t = a[f] - b[f];
        s += t * t;
    }
    return s;
}

static int cmp_exact(const void *pa, const void *pb) {
    const cand *a = pa, *b = pb;
    if (a->lo != b->lo) return a->lo < b->lo ? -1 : 1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static mw_status finish_query(scan *s, qstate *st, const double *q, double *dist, uint32_t *idx) {
    mw_status rc = compact(st);
    if (rc != MW_OK) return rc;
    const mw_lof *l = s->l;
    for (size_t i = 0; i < st->n; i++) /* lo now holds the exact squared distance */
        st->c[i].lo = exact_d2(q, l->x + (size_t)st->c[i].idx * l->d, l->d);
    for (size_t i = 1; i < st->n; i++) { /* insertion sort: about k + a few */
        cand c = st->c[i];
        size_t j = i;
        for (; j > 0 && cmp_exact(&c, &st->c[j - 1]) < 0; j--)
            st->c[j] = st->c[j - 1];
        st->c[j] = c;
    }
    for (uint32_t j = 0; j < l->k; j++) {
        dist[j] = sqrt(st->c[j].lo);
        idx[j] = st->c[j].idx;
    }
    return MW_OK;
}

mw_status mw_lof_knn(const mw_lof *l, const double *q, size_t m, int exclude_self, double *dist,
                     uint32_t *idx) {
    if (!m) return MW_OK;
    const uint32_t k = l->k;
    scan s;
    memset(&s, 0, sizeof s);
    s.l = l;
    s.tol = (4.0 * (double)l->d + 8.0) * 0x1p-52;
    qstate *st = calloc(QCHUNK, sizeof *st);
    double *qn = malloc(QCHUNK * sizeof *qn), *best = malloc(QCHUNK * k * sizeof *best);
    mw_status rc = st && qn && best ? MW_OK : MW_ENOMEM;
    for (size_t i = 0; i < QCHUNK && rc == MW_OK; i++) {
        st[i].cap = CAND_CAP(k);
        if (!(st[i].c = malloc(st[i].cap * sizeof *st[i].c))) rc = MW_ENOMEM;
    }
    int avx = use_avx512(l);
    for (size_t c0 = 0; c0 < m && rc == MW_OK; c0 += QCHUNK) {
        size_t nq = m - c0 < QCHUNK ? m - c0 : QCHUNK;
        for (size_t i = 0; i < nq; i++) {
            const double *row = q + (c0 + i) * l->d;
            double a = 0;
            for (size_t f = 0; f < l->d; f++)
                a += row[f] * row[f];
            qn[i] = a;
            st[i].n = 0;
            st[i].tau = INFINITY;
            st[i].best = best + i * k;
            st[i].nbest = 0;
        }
        for (size_t r0 = 0; r0 < l->nblk && rc == MW_OK; r0 += RCHUNK) {
            size_t r1 = l->nblk - r0 < RCHUNK ? l->nblk : r0 + RCHUNK;
            for (size_t t0 = 0; t0 < nq && rc == MW_OK; t0 += QTILE) {
                for (int i = 0; i < QTILE; i++) {
                    size_t qi = t0 + (size_t)i < nq ? t0 + (size_t)i : t0;
                    int valid = t0 + (size_t)i < nq;
                    s.q[i] = q + (c0 + qi) * l->d;
                    s.qn[i] = qn[qi];
                    s.st[i] = &st[qi];
                    s.self[i] = exclude_self ? (uint32_t)(c0 + qi) : UINT32_MAX;
                    s.tq[i] = valid ? st[qi].tau - qn[qi] * (1.0 - 2.0 * s.tol) : -INFINITY;
                }
#ifdef MW_LOF_AVX512
                if (avx)
                    rc = scan_avx512(&s, r0, r1);
                else
#endif
                    rc = scan_generic(&s, r0, r1);
            }
        }
        for (size_t i = 0; i < nq && rc == MW_OK; i++)
            rc = finish_query(&s, &st[i], q + (c0 + i) * l->d, dist + (c0 + i) * k,
                              idx + (c0 + i) * k);
    }
    (void)avx;
    if (st)
        for (size_t i = 0; i < QCHUNK; i++)
            free(st[i].c);
    free(st);
    free(qn);
    free(best);
    return rc;
}

/* ---- fit, score ---------------------------------------------------------- */

void mw_lof_free(mw_lof *l) {
    if (!l) return;
    free(l->x);
    free(l->kdist);
    free(l->lrd);
    free(l->blk);
    free(l->norm2);
    free(l);
}

/* The blocked copy of the reference and its squared norms (padding NaN, so
 * padding rows never pass the kernel's test). */
static mw_status build_blocks(mw_lof *l) {
    l->nblk = (l->n + 7) / 8;
    l->blk = calloc(l->nblk * l->d * 8 + 8, sizeof *l->blk);
    l->norm2 = malloc((l->nblk * 8 + 8) * sizeof *l->norm2);
    if (!l->blk || !l->norm2) return MW_ENOMEM;
    for (size_t i = 0; i < l->nblk * 8 + 8; i++)
        l->norm2[i] = NAN;
    for (size_t r = 0; r < l->n; r++) {
        const double *row = l->x + r * l->d;
        double a = 0;
        for (size_t f = 0; f < l->d; f++) {
            l->blk[((r / 8) * l->d + f) * 8 + r % 8] = row[f];
            a += row[f] * row[f];
        }
        l->norm2[r] = a;
    }
    return MW_OK;
}

/* lrd of one row from its k neighbour distances and indices. */
static double lrd_of(const mw_lof *l, const double *dist, const uint32_t *idx) {
    double s = 0;
    for (uint32_t j = 0; j < l->k; j++) {
        double kd = l->kdist[idx[j]];
        s += dist[j] > kd ? dist[j] : kd;
    }
    return 1.0 / (s / (double)l->k + 1e-10);
}

static double lof_of(const mw_lof *l, double lrd, const uint32_t *idx) {
    double s = 0;
    for (uint32_t j = 0; j < l->k; j++)
        s += l->lrd[idx[j]] / lrd;
    return s / (double)l->k;
}

mw_status mw_lof_fit(const double *x, size_t n, size_t d, uint32_t k, mw_lof **out,
                     double *ref_scores) {
    *out = NULL;
    if (!k || !d || n <= k || n > UINT32_MAX) return MW_EINVAL;
    mw_lof *l = calloc(1, sizeof *l);
    if (!l) return MW_ENOMEM;
    l->n = n;
    l->d = d;
    l->k = k;
    l->x = malloc(n * d * sizeof *l->x);
    l->kdist = malloc(n * sizeof *l->kdist);
    l->lrd = malloc(n * sizeof *l->lrd);
    double *dist = malloc(n * k * sizeof *dist);
    uint32_t *idx = malloc(n * k * sizeof *idx);
    mw_status rc = MW_ENOMEM;
    if (l->x && l->kdist && l->lrd && dist && idx) {
        memcpy(l->x, x, n * d * sizeof *x);
        rc = build_blocks(l);
    }
    if (rc == MW_OK) rc = mw_lof_knn(l, l->x, n, 1, dist, idx);
    if (rc == MW_OK) {
        for (size_t i = 0; i < n; i++)
            l->kdist[i] = dist[i * k + k - 1];
        for (size_t i = 0; i < n; i++)
            l->lrd[i] = lrd_of(l, dist + i * k, idx + i * k);
        if (ref_scores)
            for (size_t i = 0; i < n; i++)
                ref_scores[i] = lof_of(l, l->lrd[i], idx + i * k);
        *out = l;
        l = NULL;
    }
    free(dist);
    free(idx);
    mw_lof_free(l);
    return rc;
}

mw_status mw_lof_score(const mw_lof *l, const double *q, size_t m, double *scores, uint32_t *nbrs) {
    const size_t chunk = 4096;
    const uint32_t k = l->k;
    size_t cm = m < chunk ? m : chunk;
    double *dist = malloc((cm ? cm : 1) * k * sizeof *dist);
    uint32_t *idx = malloc((cm ? cm : 1) * k * sizeof *idx);
    mw_status rc = dist && idx ? MW_OK : MW_ENOMEM;
    for (size_t c0 = 0; c0 < m && rc == MW_OK; c0 += chunk) {
        size_t nq = m - c0 < chunk ? m - c0 : chunk;
        rc = mw_lof_knn(l, q + c0 * l->d, nq, 0, dist, idx);
        for (size_t i = 0; i < nq && rc == MW_OK; i++) {
            double lrd = lrd_of(l, dist + i * k, idx + i * k);
            scores[c0 + i] = lof_of(l, lrd, idx + i * k);
            if (nbrs) memcpy(nbrs + (c0 + i) * k, idx + i * k, k * sizeof *idx);
        }
    }
    free(dist);
    free(idx);
    return rc;
}

/* ---- serialisation ------------------------------------------------------- */

void mw_lof_save(const mw_lof *l, mw_buf *b) {
    mw_buf_u64(b, l->n);
    mw_buf_u32(b, l->k);
    for (size_t i = 0; i < l->n * l->d; i++)
        mw_buf_f64(b, l->x[i]);
    for (size_t i = 0; i < l->n; i++)
        mw_buf_f64(b, l->kdist[i]);
    for (size_t i = 0; i < l->n; i++)
        mw_buf_f64(b, l->lrd[i]);
}

mw_status mw_lof_load(mw_reader *r, size_t d, mw_lof **out) {
    *out = NULL;
    uint64_t n = mw_rd_u64(r);
    uint32_t k = mw_rd_u32(r);
    size_t left = (size_t)(r->end - r->p);
    if (r->failed || !d || !k || n <= k || n > UINT32_MAX || n > left / 8 / (d + 2))
        return MW_ECORRUPT;
    mw_lof *l = calloc(1, sizeof *l);
    if (!l) return MW_ENOMEM;
    l->n = (size_t)n;
    l->d = d;
    l->k = k;
    l->x = malloc(l->n * d * sizeof *l->x);
    l->kdist = malloc(l->n * sizeof *l->kdist);
    l->lrd = malloc(l->n * sizeof *l->lrd);
    mw_status rc = MW_ENOMEM;
    if (l->x && l->kdist && l->lrd) {
        rc = MW_OK;
        for (size_t i = 0; i < l->n * d; i++)
            if (!isfinite(l->x[i] = mw_rd_f64(r))) rc = MW_ECORRUPT;
        for (size_t i = 0; i < l->n; i++)
            if (!((l->kdist[i] = mw_rd_f64(r)) >= 0) || !isfinite(l->kdist[i])) rc = MW_ECORRUPT;
        for (size_t i = 0; i < l->n; i++)
            if (!((l->lrd[i] = mw_rd_f64(r)) > 0) || !isfinite(l->lrd[i])) rc = MW_ECORRUPT;
        if (r->failed) rc = MW_ECORRUPT;
        if (rc == MW_OK) rc = build_blocks(l);
    }
    if (rc != MW_OK) {
        mw_lof_free(l);
        return rc;
    }
    *out = l;
    return MW_OK;
}
