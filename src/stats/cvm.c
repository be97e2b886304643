/*
 * Two-sample Cramer-von Mises test: mw_cvm_2samp agrees with
 * scipy.stats.cramervonmises_2samp(x, y, method='auto') of scipy 1.10.
 *
 * Statistic (Anderson 1962, eq. 9-10), with midranks r of the merged sample
 * and r_i / s_j the ranks of the i-th smallest x / j-th smallest y:
 *   U = n sum_i (r_i - i)^2 + m sum_j (s_j - j)^2,
 *   T = U / (n m N) - (4 n m - 1) / (6 N),   N = n + m.
 * n < 2 or m < 2 is an error (scipy raises): MW_EINVAL.
 *
 * p-value, max(n, m) <= 20 ("exact", Xiao, Gordon & Yakovlev 2006, J. Stat.
 * Soft. 17(8), Algorithm 1): with L = lcm(n, m), a = L/n, b = L/m, every
 * lattice path from (0,0) to (m, n) carries the integer sum of (a v - b u)^2
 * over its points; the frequency table of these sums is built row by row
 * (sorted (value, count) lists merged cell to cell), and
 *   p = #{paths with sum >= zeta} / C(N, n),
 *   zeta = floor(L^2 N (6 U - n m (4 n m - 1)) / (6 (n m)^2))
 * (Python float floor division, as scipy evaluates it).
 *
 * Otherwise ("asymptotic", Anderson 1962 eq. 11, 14, 15): E T = (1 + 1/N)/6,
 *   Var T = (N+1)(4 k N - 3(n^2 + m^2) - 2k) / (45 N^2 4k),  k = n m,
 *   tn = 1/6 + (T - E T) / sqrt(45 Var T),
 *   p = 1 if tn < 0.003, else max(0, 1 - V(tn)), with V the limiting CDF of the
 *   one-sample statistic (Csorgo & Faraway 1996, eq. 1.2-1.3):
 *   V(x) = sum_k Gamma(k+1/2)/(Gamma(k+1) pi^1.5 sqrt x) sqrt(4k+1)
 *          exp(-q_k) K_{1/4}(q_k),  q_k = (4k+1)^2 / (16 x),
 *   summed until a term falls below 1e-7 (that term included), as scipy does.
 * K_{1/4} comes from its integral representation
 *   K_nu(z) = int_0^inf exp(-z cosh t) cosh(nu t) dt
 * by the trapezoidal rule, which converges geometrically for this analytic,
 * double-exponentially decaying integrand (Trefethen & Weideman 2014, SIAM
 * Review 56(3)); the step is min(0.1, 0.5/sqrt(z)), giving ~1e-16 relative.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "modelwatch/stats.h"
#include "rank_int.h"

#define CVM_PI 3.14159265358979323846

/* exp(-z) * K_nu(z) * exp(-z), i.e. exp(-2z) * (e^z K_nu(z)), for z > 0. */
static double exp_m2z_kv(double nu, double z) {
    double h = 0.1, hs = 0.5 / sqrt(z);
    if (hs < h) h = hs;
    /* integrand exp(-z (cosh t - 1)) cosh(nu t), cosh t - 1 = 2 sinh^2(t/2) */
    double sum = 0.5;
    for (int k = 1; k < 100000; k++) {
        double t = k * h, sh = sinh(t / 2);
        double e = -z * 2 * sh * sh;
        if (e < -745.0) break;
        double f = exp(e) * cosh(nu * t);
        sum += f;
        if (f < 1e-18 * sum && e < -40.0) break;
    }
    return exp(-2.0 * z) * sum * h;
}

/* Limiting CDF of the one-sample CvM statistic (scipy's _cdf_cvm_inf). */
static double cdf_cvm_inf(double x) {
    double tot = 0.0;
    double ratio = sqrt(CVM_PI); /* Gamma(k + 1/2) / Gamma(k + 1) at k = 0 */
    for (int k = 0; k < 10000; k++) {
        double u = ratio / (pow(CVM_PI, 1.5) * sqrt(x));
        double y = 4.0 * k + 1;
        double q = y * y / (16 * x);
        double z = u * sqrt(y) * exp_m2z_kv(0.25, q);
        tot += z;
        if (!(fabs(z) >= 1e-7)) break;
        ratio *= (k + 0.5) / (k + 1.0);
    }
    return tot;
}

/* Python's float floor division a // b (b > 0 here). */
static double py_floordiv(double a, double b) {
    double mod = fmod(a, b);
    double div = (a - mod) / b;
    if (mod != 0.0 && ((b < 0) != (mod < 0))) div -= 1.0;
    double fl;
    if (div != 0.0) {
        fl = floor(div);
        if (div - fl > 0.5) fl += 1.0;
    } else {
        fl = copysign(0.0, a / b);
    }
    return fl;
}

/* ---- exact null distribution -------------------------------------------- */

typedef struct cvm_dist {
    int64_t *val;
    double *cnt; /* counts are integers < C(40, 20) ~ 1.4e11: exact in double */
    size_t len;
} cvm_dist;

static void dist_free(cvm_dist *d) {
    free(d->val);
    free(d->cnt);
    d->val = NULL;
    d->cnt = NULL;
    d->len = 0;
}

/* out = merge(a, b) with every value increased by shift; 0 on success. */
static int dist_merge_shift(const cvm_dist *a, const cvm_dist *b, int64_t shift, cvm_dist *out) {
    size_t cap = a->len + b->len;
    out->len = 0;
    out->val = malloc((cap ? cap : 1) * sizeof *out->val);
    out->cnt = malloc((cap ? cap : 1) * sizeof *out->cnt);
    if (!out->val || !out->cnt) {
        dist_free(out);
        return -1;
    }
    size_t i = 0, j = 0, k = 0;
    while (i < a->len || j < b->len) {
        int64_t v;
        double c;
        if (j >= b->len || (i < a->len && a->val[i] < b->val[j])) {
            v = a->val[i];
            c = a->cnt[i++];
        } else if (i >= a->len || b->val[j] < a->val[i]) {
            v = b->val[j];
            c = b->cnt[j++];
        } else {
            v = a->val[i];
            c = a->cnt[i++] + b->cnt[j++];
        }
        out->val[k] = v + shift;
        out->cnt[k++] = c;
    }
    out->len = k;
    return 0;
}

/* scipy's _pval_cvm_2samp_exact(U, nx, ny); -1 when out of memory. */
static double cvm_exact_p(double U, int64_t m, int64_t n) {
    int64_t g = m, r = n;
    while (r) {
        int64_t t = g % r;
        g = r;
        r = t;
    }
    int64_t lcm = m / g * n, a = lcm / m, b = lcm / n, mn = m * n;
    double zeta = py_floordiv((double)(lcm * lcm * (m + n)) * (6 * U - (double)(mn * (4 * mn - 1))),
                              (double)(6 * mn * mn));
    double comb = 1.0;
    for (int64_t i = 1; i <= m; i++)
        comb = comb * (double)(n + i) / (double)i;

    cvm_dist *cur = calloc((size_t)(m + 1), sizeof *cur);
    cvm_dist *nxt = calloc((size_t)(m + 1), sizeof *nxt);
    double p = -1.0;
    if (!cur || !nxt) goto done;
    cur[0].val = malloc(sizeof(int64_t));
    cur[0].cnt = malloc(sizeof(double));
    if (!cur[0].val || !cur[0].cnt) goto done;
    cur[0].val[0] = 0;
    cur[0].cnt[0] = 1.0;
    cur[0].len = 1;
    for (int64_t u = 0; u <= n; u++) {
        cvm_dist empty = {NULL, NULL, 0};
        const cvm_dist *tmp = &empty;
        for (int64_t v = 0; v <= m; v++) {
            int64_t d = a * v - b * u;
            if (dist_merge_shift(tmp, &cur[v], d * d, &nxt[v]) != 0) goto done;
            tmp = &nxt[v];
        }
        for (int64_t v = 0; v <= m; v++)
            dist_free(&cur[v]);
        cvm_dist *sw = cur;
        cur = nxt;
        nxt = sw;
    }
    {
        double s = 0.0;
        const cvm_dist *last = &cur[m];
        for (size_t i = 0; i < last->len; i++)
            if ((double)last->val[i] >= zeta) s += last->cnt[i];
        p = s / comb;
    }
done:
    if (cur)
        for (int64_t v = 0; v <= m; v++)
            dist_free(&cur[v]);
    if (nxt)
        for (int64_t v = 0; v <= m; v++)
            dist_free(&nxt[v]);
    free(cur);
    free(nxt);
    return p;
}

mw_status mw_cvm_2samp(const double *x, size_t n, const double *y, size_t m, mw_test_result *out) {
    mw_status st = mw_rank_begin(x, n, y, m, out);
    if (st != MW_OK) return st;
    if (n < 2 || m < 2) return MW_EINVAL;

    mw_ksum sx = {0, 0}, sy = {0, 0};
    mw_tie_walk w;
    mw_tie_init(&w, x, n, y, m);
    while (mw_tie_next(&w)) {
        double c = (double)(w.cx + w.cy);
        double r = (double)(w.below_x + w.below_y) + (c + 1.0) / 2.0;
        for (size_t i = 1; i <= w.cx; i++) {
            double d = r - (double)(w.below_x + i);
            mw_ksum_add(&sx, d * d);
        }
        for (size_t j = 1; j <= w.cy; j++) {
            double d = r - (double)(w.below_y + j);
            mw_ksum_add(&sy, d * d);
        }
    }
    double nx = (double)n, ny = (double)m;
    double u = nx * mw_ksum_value(&sx) + ny * mw_ksum_value(&sy);
    double k = nx * ny, N = nx + ny;
    double t = u / (k * N) - (4 * k - 1) / (6 * N);
    double p;
    if (n <= 20 && m <= 20) {
        p = cvm_exact_p(u, (int64_t)n, (int64_t)m);
        if (p < 0) return MW_ENOMEM;
    } else {
        double et = (1 + 1 / N) / 6;
        double vt = (N + 1) * (4 * k * N - 3 * (nx * nx + ny * ny) - 2 * k);
        vt = vt / (45 * N * N * 4 * k);
        double tn = 1.0 / 6 + (t - et) / sqrt(45 * vt);
        if (tn < 0.003) {
            p = 1.0;
        } else {
            p = 1.0 - cdf_cvm_inf(tn);
            if (p < 0.0) p = 0.0;
        }
    }
    out->statistic = t;
    out->p_value = p;
    return MW_OK;
}
