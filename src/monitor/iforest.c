/*
 * Isolation Forest (Liu, Ting & Zhou, "Isolation Forest", ICDM 2008) over a
 * row-major matrix of finite doubles.
 *
 * Fit: each of n_trees trees is grown on psi = max_samples rows drawn without
 * replacement (the first psi steps of a Fisher-Yates shuffle, displaced
 * entries in a small map), over max(1, floor(max_features * d)) features
 * drawn without replacement. Tree t draws from its own random stream, seeded
 * by the t-th number of the stream of the forest's seed (as sklearn seeds each
 * tree from the forest's random_state), so trees are built in parallel on the
 * caller's runner and the forest depends on the seed alone, not on the number
 * of threads (100 trees on 100k x 20: ~9 ms on one core of the project's
 * machine). Until 29 Nov one stream ran through all trees: a given seed now
 * grows other trees (saved forests load as they were). A node
 * splits on a feature drawn uniformly among those not constant in the node, at
 * a threshold drawn uniformly in [min, max) of that feature (x <= t goes left);
 * it is a leaf when it holds one row, when every feature is constant, or at
 * depth max_depth = ceil(log2(max(psi, 2))). This is what sklearn's
 * IsolationForest (ExtraTreeRegressor, max_features=1, random splitter) does.
 *
 * Score: h(x) in a tree is the depth of the leaf reached plus c(leaf size),
 * c(n) = 2 (ln(n - 1) + gamma) - 2 (n - 1) / n, c(2) = 1, c(<=1) = 0
 * (sklearn's _average_path_length, Euler's gamma = 0.5772156649015329);
 * score = 2^(-sum_t h_t(x) / (n_trees c(psi))), 1 when c(psi) = 0. This is
 * -IsolationForest.score_samples(x).
 *
 * Scoring layout (why it is fast): trees are flattened into one array of
 * 16-byte nodes with the two children side by side, so a step is
 * `i = left + (x[feat] > thr)` without a branch; leaves point to themselves
 * with thr = +inf, so every tree is walked a fixed number of steps (its depth).
 * 16 independent walks run interleaved (16 rows through one tree for batches,
 * one row through 16 trees for a single record) so the dependent loads of one
 * walk overlap with the others'. A depth-8 tree is at most 511 nodes (8 KiB)
 * and stays in L1 while a block of rows goes through it. This portable path
 * scores 0.9M rows/s on one core of the project's machine; batches of 16 rows
 * or more go through iforest_fast.c instead when the CPU has AVX-512 (about
 * 2.5x that, the same bits); single records stay here (a one-row AVX-512 walk,
 * 16 trees in the lanes, measured 3 us against 1.1 us: the gathers' latency).
 */
#include "monitor/outlier_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define IF_LANES 16
#define EULER_GAMMA 0.5772156649015329

double mw_iforest_c(double n) {
    if (n <= 1) return 0.0;
    if (n == 2) return 1.0;
    return 2.0 * (log(n - 1.0) + EULER_GAMMA) - 2.0 * (n - 1.0) / n;
}

static uint32_t depth_limit(uint32_t psi) {
    uint32_t m = 0, v = psi < 2 ? 2 : psi;
    while (m < 32 && ((uint64_t)1 << m) < v)
        m++;
    return m;
}

void mw_iforest_free(mw_iforest *f) {
    if (!f) return;
    mw_if_fast_free(f->fast);
    free(f->root);
    free(f->steps);
    free(f->nodes);
    free(f->value);
    free(f);
}

/* ---- fitting ------------------------------------------------------------- */

typedef struct build_item {
    uint32_t node, lo, hi, depth;
} build_item;

/* One tree's nodes, indexed from 0 inside its own slot of 2 psi - 1 nodes. */
typedef struct builder {
    mw_if_node *nodes;
    double *value;
    size_t n_nodes;
} builder;

static uint32_t add_nodes(builder *b, size_t count) {
    uint32_t at = (uint32_t)b->n_nodes;
    b->n_nodes += count;
    return at;
}

static void make_leaf(builder *b, uint32_t node, uint32_t depth, uint32_t size) {
    b->nodes[node].thr = INFINITY;
    b->nodes[node].feat = 0;
    b->nodes[node].left = node;
    b->value[node] = (double)depth + mw_iforest_c((double)size);
}

/* Grows one tree on the sample s (row-major, stride nfp >= nf, a multiple of
 * FEAT_BLOCK: s[i * nfp + fi] for the tree's feature fi), appending its
 * nodes; returns the deepest leaf's depth. A node's ranges are taken for all
 * features at once, a row at a time, FEAT_BLOCK features in independent lanes
 * (one feature at a time was a chain of dependent min/max: 80 % of the fit). */
#define FEAT_BLOCK 8
static uint32_t grow_tree(builder *b, const double *s, uint32_t psi, const uint32_t *feats,
                          uint32_t nf, size_t nfp, uint32_t max_depth, mw_rng *rng, uint32_t *order,
                          build_item *stack, uint32_t *cand, double *restrict mn,
                          double *restrict mx) {
    uint32_t deepest = 0;
    for (uint32_t i = 0; i < psi; i++)
        order[i] = i;
    size_t top = 0;
    stack[top++] = (build_item){add_nodes(b, 1), 0, psi, 0};
    while (top) {
        build_item it = stack[--top];
        uint32_t cnt = it.hi - it.lo;
        uint32_t nc = 0;
        if (cnt > 1 && it.depth < max_depth) {
            memcpy(mn, s + (size_t)order[it.lo] * nfp, nfp * sizeof *mn);
            memcpy(mx, mn, nfp * sizeof *mx);
            for (uint32_t i = it.lo + 1; i < it.hi; i++) {
                const double *restrict row = s + (size_t)order[i] * nfp;
                for (size_t f0 = 0; f0 < nfp; f0 += FEAT_BLOCK)
                    for (size_t l = f0; l < f0 + FEAT_BLOCK; l++) {
                        mn[l] = row[l] < mn[l] ? row[l] : mn[l];
                        mx[l] = row[l] > mx[l] ? row[l] : mx[l];
                    }
            }
            for (uint32_t fi = 0; fi < nf; fi++)
                if (mx[fi] > mn[fi]) cand[nc++] = fi;
        }
        if (!nc) {
            make_leaf(b, it.node, it.depth, cnt);
            if (it.depth > deepest) deepest = it.depth;
            continue;
        }
        uint32_t fi = cand[mw_rng_below(rng, nc)];
        double thr = mn[fi] + mw_rng_unit(rng) * (mx[fi] - mn[fi]);
        if (thr >= mx[fi]) thr = mn[fi]; /* as sklearn: the right side is never empty */
        const double *col = s + fi;
        uint32_t i = it.lo, j = it.hi;
        while (i < j) { /* partition: <= thr first */
            if (col[(size_t)order[i] * nfp] <= thr)
                i++;
            else {
                uint32_t t = order[i];
                order[i] = order[--j];
                order[j] = t;
            }
        }
        uint32_t left = add_nodes(b, 2);
        b->nodes[it.node].thr = thr;
        b->nodes[it.node].feat = feats[fi];
        b->nodes[it.node].left = left;
        b->value[it.node] = 0.0;
        stack[top++] = (build_item){left + 1, i, it.hi, it.depth + 1};
        stack[top++] = (build_item){left, it.lo, i, it.depth + 1};
    }
    return deepest;
}

/* The first psi steps of a Fisher-Yates shuffle of 0..n-1 (rows[i] = the
 * entry moved to position i), with only the displaced entries kept, in an
 * open-addressing map of cap >= 2 psi slots (a power of two): psi distinct
 * rows drawn uniformly, in O(psi) memory whatever n. */
static void draw_rows(mw_rng *rng, size_t n, uint32_t psi, uint32_t *rows, uint32_t *key,
                      uint32_t *val, size_t cap) {
    memset(key, 0xFF, cap * sizeof *key); /* UINT32_MAX: empty (n <= UINT32_MAX) */
    for (uint32_t i = 0; i < psi; i++) {
        uint32_t j = (uint32_t)(i + mw_rng_below(rng, n - i)), at_i = i, at_j = j;
        size_t hi = mw_mix64(i) & (cap - 1), hj = mw_mix64(j) & (cap - 1);
        while (key[hi] != UINT32_MAX && key[hi] != i)
            hi = (hi + 1) & (cap - 1);
        if (key[hi] == i) at_i = val[hi];
        while (key[hj] != UINT32_MAX && key[hj] != j)
            hj = (hj + 1) & (cap - 1);
        if (key[hj] == j) at_j = val[hj];
        rows[i] = at_j;
        key[hj] = j; /* position j now holds what position i held */
        val[hj] = at_i;
    }
}

/* Everything the trees share; tree t writes only its own slot. */
typedef struct forest_job {
    const double *x;
    size_t n, d, nf;
    uint32_t psi, max_depth;
    const uint64_t *seed; /* per tree */
    size_t slot;          /* nodes per tree slot: 2 psi - 1 */
    mw_if_node *nodes;
    double *value;
    uint32_t *used; /* nodes used per tree */
    uint8_t *steps;
    uint8_t *nomem; /* per tree */
} forest_job;

/* Tree t: its sample of rows (and features when max_features < 1) from its
 * own random stream, then its nodes. */
static void tree_task(void *arg, size_t t) {
    const forest_job *j = arg;
    const uint32_t psi = j->psi, nf = (uint32_t)j->nf;
    size_t cap = 4;
    while (cap < 2 * (size_t)psi)
        cap *= 2;
    /* one allocation for the scratch: sample, min, max (doubles), then rows,
     * order, map keys and values, features, candidates (32-bit) and the stack */
    size_t nfp = (nf + FEAT_BLOCK - 1) / FEAT_BLOCK * FEAT_BLOCK;
    size_t nd = (size_t)psi * nfp + 2 * nfp;
    size_t nu = 2 * (size_t)psi + 2 * cap + j->d + nf;
    size_t ns = ((size_t)j->max_depth + 2) * 2;
    char *mem = malloc(nd * sizeof(double) + nu * sizeof(uint32_t) + ns * sizeof(build_item));
    if (!mem) {
        j->nomem[t] = 1;
        return;
    }
    double *s = (double *)(void *)mem, *mn = s + (size_t)psi * nfp, *mx = mn + nfp;
    uint32_t *rows = (uint32_t *)(void *)(mx + nfp), *order = rows + psi, *key = order + psi;
    uint32_t *val = key + cap, *fperm = val + cap, *cand = fperm + j->d;
    build_item *stack = (build_item *)(void *)(cand + nf);
    mw_rng rng;
    mw_rng_seed(&rng, j->seed[t]);
    draw_rows(&rng, j->n, psi, rows, key, val, cap);
    for (size_t f = 0; f < j->d; f++)
        fperm[f] = (uint32_t)f;
    if (nf < j->d)
        for (size_t i = 0; i < nf; i++) {
            size_t k = i + (size_t)mw_rng_below(&rng, j->d - i);
            uint32_t tmp = fperm[i];
            fperm[i] = fperm[k];
            fperm[k] = tmp;
        }
    for (uint32_t i = 0; i < psi; i++) { /* padding features: 0, constant, never split */
        const double *src = j->x + (size_t)rows[i] * j->d;
        double *dst = s + (size_t)i * nfp;
        if (nf == j->d)
            memcpy(dst, src, nf * sizeof *dst);
        else
            for (size_t fi = 0; fi < nf; fi++)
                dst[fi] = src[fperm[fi]];
        for (size_t fi = nf; fi < nfp; fi++)
            dst[fi] = 0.0;
    }
    builder b = {j->nodes + t * j->slot, j->value + t * j->slot, 0};
    j->steps[t] = (uint8_t)grow_tree(&b, s, psi, fperm, nf, nfp, j->max_depth, &rng, order, stack,
                                     cand, mn, mx);
    j->used[t] = (uint32_t)b.n_nodes;
    free(mem);
}

mw_status mw_iforest_fit(const double *x, size_t n, size_t d, const mw_iforest_params *p,
                         mw_iforest **out) {
    *out = NULL;
    if (!n || !d || d > UINT32_MAX || n > UINT32_MAX) return MW_EINVAL;
    uint32_t T = p->n_trees ? p->n_trees : 100;
    uint32_t psi = p->max_samples ? p->max_samples : 256;
    if (psi > n) psi = (uint32_t)n;
    size_t nf = d;
    if (p->max_features > 0 && p->max_features < 1) {
        nf = (size_t)(p->max_features * (double)d);
        if (nf < 1) nf = 1;
    }
    uint32_t max_depth = depth_limit(psi);
    size_t slot = 2 * (size_t)psi - 1;
    mw_iforest *f = calloc(1, sizeof *f);
    forest_job job = {x, n, d, nf, psi, max_depth, NULL, slot, NULL, NULL, NULL, NULL, NULL};
    uint64_t *seed = malloc((size_t)T * sizeof *seed);
    job.nodes = malloc((size_t)T * slot * sizeof *job.nodes);
    job.value = malloc((size_t)T * slot * sizeof *job.value);
    job.used = malloc((size_t)T * sizeof *job.used);
    job.nomem = calloc(T, 1);
    if (f) {
        f->root = malloc(((size_t)T + 1) * sizeof *f->root);
        f->steps = malloc(T);
    }
    mw_status st = MW_OK;
    if (!f || !seed || !job.nodes || !job.value || !job.used || !job.nomem || !f->root ||
        !f->steps) {
        st = MW_ENOMEM;
        goto out;
    }
    /* each tree its own stream, seeded by the seed's stream (as sklearn gives
     * each tree a random_state drawn from the forest's): the trees do not
     * depend on which thread builds them, or in which order */
    mw_rng rng;
    mw_rng_seed(&rng, p->seed);
    for (uint32_t t = 0; t < T; t++)
        seed[t] = mw_rng_next(&rng);
    job.seed = seed;
    job.steps = f->steps;
    mw_runner_run(p->runner, tree_task, &job, T);
    /* the slots side by side, child indices made global */
    size_t at = 0;
    for (uint32_t t = 0; t < T && st == MW_OK; t++) {
        if (job.nomem[t]) {
            st = MW_ENOMEM;
            break;
        }
        f->root[t] = (uint32_t)at;
        memmove(job.nodes + at, job.nodes + t * slot, job.used[t] * sizeof *job.nodes);
        memmove(job.value + at, job.value + t * slot, job.used[t] * sizeof *job.value);
        for (size_t i = at; i < at + job.used[t]; i++)
            job.nodes[i].left += (uint32_t)at;
        at += job.used[t];
    }
    if (st != MW_OK) goto out;
    f->root[T] = (uint32_t)at;
    f->d = d;
    f->n_trees = T;
    f->max_samples = psi;
    f->max_depth = max_depth;
    f->c_psi = mw_iforest_c((double)psi);
    f->n_nodes = at;
    /* shrink to what was used */
    mw_if_node *nn = realloc(job.nodes, (at ? at : 1) * sizeof *nn);
    if (nn) job.nodes = nn;
    double *nv = realloc(job.value, (at ? at : 1) * sizeof *nv);
    if (nv) job.value = nv;
    f->nodes = job.nodes;
    f->value = job.value;
    job.nodes = NULL;
    job.value = NULL;
    mw_if_fast_build(f);
    *out = f;
    f = NULL;
out:
    free(job.nodes);
    free(job.value);
    free(job.used);
    free(job.nomem);
    free(seed);
    mw_iforest_free(f);
    return st;
}

/* ---- scoring ------------------------------------------------------------- */

static double to_score(const mw_iforest *f, double sum_h) {
    double den = (double)f->n_trees * f->c_psi;
    return den != 0 ? exp2(-(sum_h / den)) : 1.0;
}

/* 16 rows through every tree; xt holds them feature-major (xt[f * 16 + l]),
 * so a step addresses its value from the node's feature and the lane alone. */
static void score_block(const mw_iforest *f, const double *xt, double *sum) {
    const mw_if_node *nodes = f->nodes;
    const double *value = f->value;
    double acc[IF_LANES] = {0};
    for (uint32_t t = 0; t < f->n_trees; t++) {
        uint32_t idx[IF_LANES];
        uint32_t r = f->root[t];
        for (int l = 0; l < IF_LANES; l++)
            idx[l] = r;
        for (unsigned s = f->steps[t]; s; s--)
            for (int l = 0; l < IF_LANES; l++) {
                const mw_if_node *nd = nodes + idx[l];
                idx[l] = nd->left + (xt[(size_t)nd->feat * IF_LANES + (size_t)l] > nd->thr);
            }
        for (int l = 0; l < IF_LANES; l++)
            acc[l] += value[idx[l]];
    }
    for (int l = 0; l < IF_LANES; l++)
        sum[l] = acc[l];
}

/* One row through 16 trees at a time (the live path). Trees are added in
 * order, so the sum equals the row-block path's exactly. */
static double path_sum_row(const mw_iforest *f, const double *row) {
    const mw_if_node *nodes = f->nodes;
    double acc = 0;
    for (uint32_t t0 = 0; t0 < f->n_trees; t0 += IF_LANES) {
        uint32_t nt = f->n_trees - t0 < IF_LANES ? f->n_trees - t0 : IF_LANES;
        uint32_t idx[IF_LANES];
        unsigned steps = 0;
        for (uint32_t l = 0; l < IF_LANES; l++) {
            uint32_t t = t0 + (l < nt ? l : 0);
            idx[l] = f->root[t];
            if (f->steps[t] > steps) steps = f->steps[t];
        }
        for (; steps; steps--)
            for (int l = 0; l < IF_LANES; l++) {
                const mw_if_node *nd = nodes + idx[l];
                idx[l] = nd->left + (row[nd->feat] > nd->thr);
            }
        for (uint32_t l = 0; l < nt; l++)
            acc += f->value[idx[l]];
    }
    return acc;
}

void mw_iforest_score(const mw_iforest *f, const double *x, size_t n, double *scores) {
    size_t i = 0;
    if (n >= IF_LANES && mw_if_fast_score(f, x, n, scores)) {
        for (; i < n; i++)
            scores[i] = to_score(f, scores[i]);
        return;
    }
    double stackbuf[IF_LANES * 64];
    double *xt = n < IF_LANES ? NULL : f->d <= 64 ? stackbuf : malloc(f->d * IF_LANES * sizeof *xt);
    if (xt)
        for (; i + IF_LANES <= n; i += IF_LANES) {
            double sum[IF_LANES];
            for (int l = 0; l < IF_LANES; l++)
                for (size_t j = 0; j < f->d; j++)
                    xt[j * IF_LANES + (size_t)l] = x[(i + (size_t)l) * f->d + j];
            score_block(f, xt, sum);
            for (int l = 0; l < IF_LANES; l++)
                scores[i + (size_t)l] = to_score(f, sum[l]);
        }
    if (xt != stackbuf) free(xt);
    /* the rest (and everything if the buffer could not be had): row by row */
    for (; i < n; i++)
        scores[i] = to_score(f, path_sum_row(f, x + i * f->d));
}

double mw_iforest_path_length(const mw_iforest *f, const double *row) {
    return path_sum_row(f, row) / (double)f->n_trees;
}

void mw_iforest_explain(const mw_iforest *f, const double *row, double *weight) {
    memset(weight, 0, f->d * sizeof *weight);
    for (uint32_t t = 0; t < f->n_trees; t++) {
        uint32_t i = f->root[t], last = UINT32_MAX;
        for (unsigned s = 0; s <= f->steps[t]; s++) {
            const mw_if_node *nd = f->nodes + i;
            if (nd->left == i) break;
            last = nd->feat;
            i = nd->left + (row[nd->feat] > nd->thr);
        }
        if (last != UINT32_MAX && f->value[i] < f->c_psi) weight[last] += 1.0;
    }
    for (size_t j = 0; j < f->d; j++)
        weight[j] /= (double)f->n_trees;
}

/* ---- construction from nodes, serialisation ----------------------------- */

mw_status mw_iforest_from_nodes(size_t d, uint32_t n_trees, uint32_t max_samples,
                                const uint32_t *root, const mw_if_node *nodes, size_t n_nodes,
                                const double *value, mw_iforest **out) {
    *out = NULL;
    if (!d || !n_trees || !max_samples || !n_nodes || n_nodes > UINT32_MAX || root[0] != 0 ||
        root[n_trees] != n_nodes)
        return MW_ECORRUPT;
    for (uint32_t t = 0; t < n_trees; t++)
        if (root[t + 1] <= root[t]) return MW_ECORRUPT;
    for (size_t i = 0; i < n_nodes; i++)
        if (!(value[i] >= 0 && value[i] < 1e6)) return MW_ECORRUPT;
    mw_iforest *f = calloc(1, sizeof *f);
    uint8_t *depth = calloc(n_nodes, 1);
    if (f) {
        f->root = malloc(((size_t)n_trees + 1) * sizeof *f->root);
        f->steps = calloc(n_trees, 1);
        f->nodes = malloc(n_nodes * sizeof *f->nodes);
        f->value = malloc(n_nodes * sizeof *f->value);
    }
    if (!f || !depth || !f->root || !f->steps || !f->nodes || !f->value) {
        mw_iforest_free(f);
        free(depth);
        return MW_ENOMEM;
    }
    memcpy(f->root, root, ((size_t)n_trees + 1) * sizeof *root);
    memcpy(f->nodes, nodes, n_nodes * sizeof *nodes);
    memcpy(f->value, value, n_nodes * sizeof *value);
    mw_status st = MW_OK;
    for (uint32_t t = 0; t < n_trees && st == MW_OK; t++) {
        for (size_t i = root[t]; i < root[t + 1]; i++) {
            const mw_if_node *nd = &nodes[i];
            if (nd->left == i) { /* leaf */
                if (!(isinf(nd->thr) && nd->thr > 0))
                    st = MW_ECORRUPT;
                else if (depth[i] > f->steps[t])
                    f->steps[t] = depth[i];
            } else if (nd->left <= i || (size_t)nd->left + 1 >= root[t + 1] || nd->feat >= d ||
                       isnan(nd->thr) || depth[i] >= 64) {
                st = MW_ECORRUPT;
            } else {
                /* children come after their parent: depths are final when read */
                uint8_t dc = (uint8_t)(depth[i] + 1);
                if (depth[nd->left] < dc) depth[nd->left] = dc;
                if (depth[nd->left + 1] < dc) depth[nd->left + 1] = dc;
            }
            if (st != MW_OK) break;
        }
    }
    free(depth);
    if (st != MW_OK) {
        mw_iforest_free(f);
        return st;
    }
    f->d = d;
    f->n_trees = n_trees;
    f->max_samples = max_samples;
    f->max_depth = depth_limit(max_samples);
    f->c_psi = mw_iforest_c((double)max_samples);
    f->n_nodes = n_nodes;
    mw_if_fast_build(f);
    *out = f;
    return MW_OK;
}

void mw_iforest_save(const mw_iforest *f, mw_buf *b) {
    mw_buf_u32(b, f->n_trees);
    mw_buf_u32(b, f->max_samples);
    mw_buf_u64(b, f->n_nodes);
    for (uint32_t t = 0; t <= f->n_trees; t++)
        mw_buf_u32(b, f->root[t]);
    for (size_t i = 0; i < f->n_nodes; i++) {
        mw_buf_f64(b, f->nodes[i].thr);
        mw_buf_u32(b, f->nodes[i].feat);
        mw_buf_u32(b, f->nodes[i].left);
        mw_buf_f64(b, f->value[i]);
    }
}

mw_status mw_iforest_load(mw_reader *r, size_t d, mw_iforest **out) {
    *out = NULL;
    uint32_t T = mw_rd_u32(r), psi = mw_rd_u32(r);
    uint64_t nn = mw_rd_u64(r);
    /* every count is checked against the bytes left before allocating */
    size_t left = (size_t)(r->end - r->p);
    if (r->failed || !T || !nn || (uint64_t)T + 1 > left / 4 || nn > left / 24) return MW_ECORRUPT;
    uint32_t *root = malloc(((size_t)T + 1) * sizeof *root);
    mw_if_node *nodes = malloc((size_t)nn * sizeof *nodes);
    double *value = malloc((size_t)nn * sizeof *value);
    mw_status st = MW_ENOMEM;
    if (root && nodes && value) {
        for (uint32_t t = 0; t <= T; t++)
            root[t] = mw_rd_u32(r);
        for (size_t i = 0; i < nn; i++) {
            nodes[i].thr = mw_rd_f64(r);
            nodes[i].feat = mw_rd_u32(r);
            nodes[i].left = mw_rd_u32(r);
            value[i] = mw_rd_f64(r);
        }
        st = r->failed ? MW_ECORRUPT
                       : mw_iforest_from_nodes(d, T, psi, root, nodes, (size_t)nn, value, out);
    }
    free(root);
    free(nodes);
    free(value);
    return st;
}
