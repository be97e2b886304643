/*
 * L2-regularised binary logistic regression fitted by L-BFGS (the embedding
 * drift's domain classifier, src/monitor/embedding.c).
 *
 * Objective (scikit-learn's LogisticRegression(C=C, penalty='l2'), intercept
 * not penalised), with s_i = 2 y_i - 1 and z_i = w . x_i + b:
 *   f(w, b) = C sum_i log(1 + exp(-s_i z_i)) + ||w||^2 / 2,
 *   grad_w = -C sum_i s_i sigmoid(-s_i z_i) x_i + w,  grad_b = -C sum_i s_i sigmoid(-s_i z_i).
 * f is strictly convex in w (and in b given both classes), so any descent
 * method reaches the one minimiser; only the stopping rule makes fits differ.
 *
 * L-BFGS (Nocedal & Wright, "Numerical Optimization", 2nd ed., algorithm 7.4
 * with the two-loop recursion 7.5): 10 correction pairs, initial Hessian
 * scaling gamma = s.y / y.y, backtracking line search from step 1 with the
 * Armijo condition (c1 = 1e-4, halving, at most 60 halvings); a pair with
 * s.y <= 1e-12 |s| |y| is skipped to keep the approximation positive definite.
 * Stops when max |grad| <= tol * max(1, |f|), after max_iter iterations, or
 * when the line search cannot decrease f (converged to rounding).
 * Cost per iteration: two passes over x (about 4 n dim flops) and O(10 dim).
 */
#include "modelwatch/embedding.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LBFGS_M 10

typedef struct lr_problem {
    const double *x;
    const unsigned char *y;
    size_t n, d;
    double c;
} lr_problem;

/* log(1 + exp(t)) without overflow */
static double log1pexp(double t) {
    return t > 0 ? t + log1p(exp(-t)) : log1p(exp(t));
}

/* f and its gradient g (d + 1) at coef */
static double objective(lr_problem *P, const double *coef, double *g) {
    size_t n = P->n, d = P->d;
    const double *w = coef;
    double b = coef[d], f = 0;
    for (size_t k = 0; k < d; k++)
        g[k] = w[k];
    g[d] = 0;
    for (size_t i = 0; i < n; i++) {
        const double *xi = P->x + i * d;
        double z = b;
        for (size_t k = 0; k < d; k++)
            z += w[k] * xi[k];
        double s = P->y[i] ? 1.0 : -1.0;
        f += P->c * log1pexp(-s * z);
        double r = -P->c * s / (1.0 + exp(s * z)); /* -C s sigmoid(-s z) */
        for (size_t k = 0; k < d; k++)
            g[k] += r * xi[k];
        g[d] += r;
    }
    double ww = 0;
    for (size_t k = 0; k < d; k++)
        ww += w[k] * w[k];
    return f + 0.5 * ww;
}

static double vdot(const double *a, const double *b, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double vmaxabs(const double *a, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s = fabs(a[i]) > s ? fabs(a[i]) : s;
    return s;
}

/* direction dir = -H g by the two-loop recursion over the stored pairs */
static void two_loop(const double *g, double *dir, size_t p, double *S, double *Y, double *rho,
                     size_t count, size_t newest, double *alpha) {
    for (size_t k = 0; k < p; k++)
        dir[k] = -g[k];
    for (size_t t = 0; t < count; t++) {
        size_t j = (newest + LBFGS_M - t) % LBFGS_M;
        alpha[j] = rho[j] * vdot(S + j * p, dir, p);
        for (size_t k = 0; k < p; k++)
            dir[k] -= alpha[j] * Y[j * p + k];
    }
    if (count) {
        const double *s = S + newest * p, *y = Y + newest * p;
        double gamma = vdot(s, y, p) / vdot(y, y, p);
        for (size_t k = 0; k < p; k++)
            dir[k] *= gamma;
    }
    for (size_t t = count; t-- > 0;) {
        size_t j = (newest + LBFGS_M - t) % LBFGS_M;
        double beta = rho[j] * vdot(Y + j * p, dir, p);
        for (size_t k = 0; k < p; k++)
            dir[k] += (alpha[j] - beta) * S[j * p + k];
    }
}

mw_status mw_logreg_fit(const double *x, const unsigned char *y, size_t n, size_t dim, double c,
                        double tol, size_t max_iter, double *coef, size_t *iters) {
    if (iters) *iters = 0;
    if (!n || !dim || !(c > 0) || dim > SIZE_MAX / (2 * LBFGS_M + 6) - 1 || n > SIZE_MAX / dim)
        return MW_EINVAL;
    size_t p = dim + 1;
    double *mem = calloc((2 * LBFGS_M + 4) * p + 2 * LBFGS_M, sizeof *mem);
    if (!mem) return MW_ENOMEM;
    double *S = mem, *Y = S + LBFGS_M * p, *g = Y + LBFGS_M * p, *gn = g + p, *dir = gn + p,
           *xn = dir + p, *rho = xn + p, *alpha = rho + LBFGS_M;
    lr_problem P = {.x = x, .y = y, .n = n, .d = dim, .c = c};
    memset(coef, 0, p * sizeof *coef);
    double f = objective(&P, coef, g);
    size_t count = 0, newest = LBFGS_M - 1, it = 0;
    while (it < max_iter && vmaxabs(g, p) > tol * fmax(1.0, fabs(f))) {
        two_loop(g, dir, p, S, Y, rho, count, newest, alpha);
        double gd = vdot(g, dir, p);
        if (!(gd < 0)) { /* not a descent direction: restart from steepest descent */
            count = 0;
            for (size_t k = 0; k < p; k++)
                dir[k] = -g[k];
            gd = -vdot(g, g, p);
        }
        double step = count ? 1.0 : fmin(1.0, 1.0 / sqrt(-gd)), fn = f;
        int ok = 0;
        for (int h = 0; h < 60 && !ok; h++, step *= 0.5) {
            for (size_t k = 0; k < p; k++)
                xn[k] = coef[k] + step * dir[k];
            fn = objective(&P, xn, gn);
            ok = fn <= f + 1e-4 * step * gd;
        }
        if (!ok) break; /* no decrease left at double precision */
        size_t slot = (newest + 1) % LBFGS_M;
        double *s = S + slot * p, *yy = Y + slot * p;
        for (size_t k = 0; k < p; k++) {
            s[k] = xn[k] - coef[k];
            yy[k] = gn[k] - g[k];
        }
        double sy = vdot(s, yy, p);
        if (sy > 1e-12 * sqrt(vdot(s, s, p) * vdot(yy, yy, p))) {
            rho[slot] = 1.0 / sy;
            newest = slot;
            if (count < LBFGS_M) count++;
        }
        memcpy(coef, xn, p * sizeof *coef);
        memcpy(g, gn, p * sizeof *g);
        f = fn;
        it++;
    }
    free(mem);
    if (iters) *iters = it;
    return MW_OK;
}
