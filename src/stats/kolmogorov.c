/*
 * The exact distribution of the two-sided one-sample Kolmogorov-Smirnov
 * statistic D_n = sup |F_n - F|: mw_kstwo_sf(d, n) = Pr(D_n >= d).
 *
 * Agrees with scipy.stats.kstwo.sf(d, n) (scipy 1.10, scipy/stats/_ksstats.py
 * and the one-sided Smirnov function scipy.special.smirnov), by computing the
 * same quantity in the same regimes, chosen as Simard & L'Ecuyer (2011) advise:
 *
 *   t = n d                          regime
 *   t <= 1/2                         sf = 1
 *   1/2 < t <= 1                     Ruben-Gambino: cdf = n!/n^n (2t - 1)^n
 *   t >= n - 1                       Ruben-Gambino: sf = 2 (1 - d)^n
 *   d >= 1/2                         sf = 2 Smirnov+(n, d) (the two one-sided
 *                                    events are disjoint)
 *   n <= 140, n d^2 <= 0.754693      Durbin matrix (Marsaglia-Tsang-Wang 2003)
 *   n <= 140, n d^2 <= 4             Pomeranz recursion (Pomeranz 1974)
 *   n <= 140, otherwise              2 Smirnov+(n, d)
 *   n > 140, n d^2 >= 370            0 (underflows)
 *   n > 140, n d^2 >= 2.2            2 Smirnov+(n, d)
 *   n > 140, n <= 1e5, n d^1.5<=1.4  Durbin matrix
 *   n > 140, otherwise               Pelz-Good (1976) asymptotic series
 *
 * Smirnov+(n, d) = Pr(D+_n >= d) is the Birnbaum-Tingey sum
 *   d * sum_{v=0}^{floor(n(1-d))} C(n,v) (d + v/n)^(v-1) (1 - d - v/n)^(n-v),
 * evaluated term by term in long double logarithms; for n > 1e6 scipy (and we)
 * use exp(-(6nd+1)^2 / (18n)).
 *
 * References: Durbin (1968) Ann. Math. Statist. 39; Pomeranz (1974) CACM 17(12)
 * Algorithm 487; Marsaglia, Tsang & Wang (2003) J. Stat. Soft. 8(18); Pelz & Good
 * (1976) JRSS B 38(2); Simard & L'Ecuyer (2011) J. Stat. Soft. 39(11); Birnbaum
 * & Tingey (1951) Ann. Math. Statist. 22.
 *
 * Thread-safe: no state; temporary matrices are heap-allocated per call (an
 * allocation failure returns NAN, which callers treat as an error).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "modelwatch/stats.h"

#define KS_E128 128
#define KS_MIN_LOG (-708.0)
/* cephes MINLOG = log(2^-1022) */
#define KS_CEPHES_MINLOG (-7.08396418532264106224e2)
#define KS_PI 3.14159265358979323846
#define KS_SQRT2PI 2.50662827463100050242
#define KS_LOG_2PI 1.83787706640934548356

static double clip01(double p) {
    if (p < 0.0) return 0.0;
    if (p > 1.0) return 1.0;
    return p;
}

/* log(n! / n^n) by Stirling's series with n log n removed up front. */
static double log_nfact_over_npow(double n) {
    static const double c[8] = {-2.955065359477124183e-2,  6.4102564102564102564e-3,
                                -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                -5.952380952380952381e-4,  7.9365079365079365079e-4,
                                -2.7777777777777777778e-3, 8.3333333333333333333e-2};
    double rn = 1.0 / n, x = rn / n, poly = 0.0;
    for (int i = 0; i < 8; i++)
        poly = poly * x + c[i];
    return log(n) / 2 - n + KS_LOG_2PI / 2 + rn * poly;
}

/* ---- one-sided Smirnov upper tail --------------------------------------- */

/* Pr(D+_n >= x) for integer n >= 1 and 0 <= x <= 1. */
static double smirnov_sf(int64_t n, double x) {
    if (n == 1) return 1.0 - x;
    if (x == 0.0) return 1.0;
    if (x == 1.0) return 0.0;
    double dn = (double)n;
    /* floor(n x) exactly, from the error-free product n*x = hi + lo */
    double hi = dn * x, lo = fma(dn, x, -hi);
    double fl = floor(hi);
    if (hi == fl && lo < 0) fl -= 1.0;
    double alpha = (hi - fl) + lo;
    if (alpha >= 1.0) {
        fl += 1.0;
        alpha = 0.0;
    }
    int64_t nxfl = (int64_t)fl;
    if (nxfl == 0 || (nxfl == 1 && alpha == 0.0)) {
        double cdf = x * pow(1.0 + x, dn - 1.0);
        return 1.0 - cdf;
    }
    if (-2.0 * dn * x * x < KS_CEPHES_MINLOG) return 0.0;
    if (nxfl >= n - 1) return pow(1.0 - x, dn);
    if (n > 1000000) {
        double a = 6.0 * dn * x + 1.0;
        return exp(-a * a / 18.0 / dn);
    }
    /* Terms v = 0 .. n - nxfl - 1 (the next one has 1 - x - v/n <= 0). */
    int64_t nterms = n - nxfl;
    long double lx = x, ln = (long double)n;
    long double lognx_lo = (long double)hi + lo; /* n x to ~ 106 bits */
    long double logc = 0.0L, sum = 0.0L;
    for (int64_t v = 0; v < nterms; v++) {
        long double lv = (long double)v;
        long double up = lx + lv / ln;                  /* x + v/n */
        long double down = ((ln - lv) - lognx_lo) / ln; /* 1 - x - v/n */
        if (down <= 0.0L) break;
        long double lt = logc + (lv - 1.0L) * logl(up) + (ln - lv) * logl(down);
        long double t = expl(lt);
        sum += t;
        if (t != 0.0L && v != nterms - 1 &&
            4.0L * (long double)(nterms - v) * t < (long double)DBL_EPSILON * sum)
            break;
        logc += logl((ln - lv) / (lv + 1.0L));
    }
    return (double)(sum * lx);
}

/* ---- Durbin matrix, Marsaglia-Tsang-Wang evaluation --------------------- */

static void matmul(const double *a, const double *b, double *c, int m) {
    for (int i = 0; i < m; i++) {
        double *ci = c + (size_t)i * m;
        for (int j = 0; j < m; j++)
            ci[j] = 0.0;
        for (int k = 0; k < m; k++) {
            double aik = a[(size_t)i * m + k];
            if (aik == 0.0) continue;
            const double *bk = b + (size_t)k * m;
            for (int j = 0; j < m; j++)
                ci[j] += aik * bk[j];
        }
    }
}

/* Pr(D_n <= d), clipped to [0, 1]; NAN when out of memory. */
static double dmtw_cdf(int64_t n, double d) {
    if (d >= 1.0) return 1.0;
    double nd = (double)n * d;
    if (nd <= 0.5) return 0.0;
    int k = (int)ceil(nd);
    double h = k - nd;
    int m = 2 * k - 1;
    size_t mm = (size_t)m * m;
    double *buf = calloc(4 * mm + 2 * (size_t)m, sizeof(double));
    if (!buf) return NAN;
    double *H = buf, *P = buf + mm, *T = buf + 2 * mm, *T2 = buf + 3 * mm;
    double *v = buf + 4 * mm, *w = v + m;
    double fac = 1.0;
    for (int j = 1; j <= m; j++) {
        v[j - 1] = 1.0 - pow(h, j);
        w[j - 1] = fac;
        fac /= j;
        v[j - 1] *= fac;
    }
    double base = 2 * h - 1.0 > 0 ? 2 * h - 1.0 : 0.0;
    double tt = pow(base, m) - 2 * pow(h, m);
    v[m - 1] = (1.0 + tt) * fac;
    for (int c = 1; c < m; c++)
        for (int r = c - 1; r < m; r++)
            H[(size_t)r * m + c] = w[r - c + 1];
    for (int r = 0; r < m; r++)
        H[(size_t)r * m] = v[r];
    for (int c = 0; c < m; c++)
        H[(size_t)(m - 1) * m + c] = v[m - 1 - c];
    for (int i = 0; i < m; i++)
        P[(size_t)i * m + i] = 1.0;

    const double ep128 = ldexp(1.0, KS_E128), em128 = ldexp(1.0, -KS_E128);
    int64_t nn = n;
    long expnt = 0, hexpnt = 0;
    while (nn > 0) {
        if (nn % 2) {
            matmul(P, H, T, m);
            memcpy(P, T, mm * sizeof(double));
            expnt += hexpnt;
        }
        matmul(H, H, T2, m);
        memcpy(H, T2, mm * sizeof(double));
        hexpnt *= 2;
        if (fabs(H[(size_t)(k - 1) * m + (k - 1)]) > ep128) {
            for (size_t i = 0; i < mm; i++)
                H[i] /= ep128;
            hexpnt += KS_E128;
        }
        nn /= 2;
    }
    long double p = P[(size_t)(k - 1) * m + (k - 1)];
    free(buf);
    long double ln = (long double)n;
    for (int64_t i = 1; i <= n; i++) {
        p = (long double)i * p / ln;
        if (fabsl(p) < (long double)em128) {
            p *= (long double)ep128;
            expnt -= KS_E128;
        }
    }
    if (expnt != 0) p = ldexpl(p, (int)expnt);
    return clip01((double)p);
}

/* ---- Pomeranz recursion ------------------------------------------------- */

static void pomeranz_j1j2(int64_t i, int64_t n, int64_t ll, int ceilf, int roundf, int64_t *pj1,
                          int64_t *pj2) {
    int64_t j1, j2;
    if (i == 0) {
        j1 = -ll - ceilf - 1;
        j2 = ll + ceilf - 1;
    } else {
        int64_t half = (i + 1) / 2;
        if ((i + 1) % 2 == 0) { /* i odd */
            if (half == n + 1) {
                j1 = n - ll - ceilf - 1;
                j2 = n + ll + ceilf - 1;
            } else {
                j1 = half - 1 - ll - roundf - 1;
                j2 = half + ll - 1 + ceilf - 1;
            }
        } else {
            j1 = half - 1 - ll - 1;
            j2 = half + ll + roundf - 1;
        }
    }
    *pj1 = j1 + 2 > 0 ? j1 + 2 : 0;
    *pj2 = j2 < n ? j2 : n;
}

/* Pr(D_n <= x) by Pomeranz's recursion, clipped; NAN when out of memory. */
static double pomeranz_cdf(int64_t n, double x) {
    double t = (double)n * x;
    int64_t ll = (int64_t)floor(t);
    double f = t - (double)ll;
    double g = f < 1.0 - f ? f : 1.0 - f;
    int ceilf = f > 0 ? 1 : 0, roundf = f > 0.5 ? 1 : 0;
    int64_t np = 2 * (ll + 1);
    double *buf = calloc((size_t)np * 5, sizeof(double));
    if (!buf) return NAN;
    double *gp = buf, *tgp = buf + np, *ogp = buf + 2 * np;
    double *V0 = buf + 3 * np, *V1 = buf + 4 * np;
    double dn = (double)n;
    double gn = g / dn, tgn = 2 * g / dn, ogn = (1 - 2 * g) / dn;
    gp[0] = tgp[0] = ogp[0] = 1.0;
    for (int64_t k = 1; k < np; k++) {
        gp[k] = gp[k - 1] * gn / (double)k;
        tgp[k] = tgp[k - 1] * tgn / (double)k;
        ogp[k] = ogp[k - 1] * ogn / (double)k;
    }
    const double ep128 = ldexp(1.0, KS_E128), em128 = ldexp(1.0, -KS_E128);
    long expnt = 0;
    V1[0] = 1.0;
    int64_t V0s = 0, V1s = 0, j1, j2;
    pomeranz_j1j2(0, n, ll, ceilf, roundf, &j1, &j2);
    for (int64_t i = 1; i < 2 * n + 2; i++) {
        int64_t k1 = j1;
        double *tmp = V0;
        V0 = V1;
        V1 = tmp;
        int64_t ts = V0s;
        V0s = V1s;
        V1s = ts;
        memset(V1, 0, (size_t)np * sizeof(double));
        pomeranz_j1j2(i, n, ll, ceilf, roundf, &j1, &j2);
        const double *pw = (i == 1 || i == 2 * n + 1) ? gp : ((i % 2) ? tgp : ogp);
        int64_t ln2 = j2 - k1 + 1;
        if (ln2 > 0) {
            /* a = V0[k1 - V0s : k1 - V0s + ln2] (clipped like a slice), b = pw[:ln2] */
            int64_t lo = k1 - V0s, hi = lo + ln2;
            if (lo < 0) lo = 0; /* does not happen for valid (n, x) */
            if (hi > np) hi = np;
            int64_t la = hi > lo ? hi - lo : 0, lb = ln2 < np ? ln2 : np;
            int64_t start = j1 - k1, len = j2 - j1 + 1, clen = la + lb - 1;
            for (int64_t c = 0; c < len; c++) {
                int64_t idx = start + c;
                double s = 0.0;
                if (idx >= 0 && idx < clen) {
                    int64_t a0 = idx - (lb - 1) > 0 ? idx - (lb - 1) : 0;
                    int64_t a1 = idx < la - 1 ? idx : la - 1;
                    for (int64_t a = a0; a <= a1; a++)
                        s += V0[lo + a] * pw[idx - a];
                }
                if (c < np) V1[c] = s;
            }
            double vmax = V1[0];
            for (int64_t c = 1; c < np; c++)
                if (V1[c] > vmax) vmax = V1[c];
            if (vmax > 0 && vmax < em128) {
                for (int64_t c = 0; c < np; c++)
                    V1[c] *= ep128;
                expnt -= KS_E128;
            }
            V1s = V0s + j1 - k1;
        }
    }
    double ans = V1[n - V1s];
    free(buf);
    for (int64_t k = 1; k <= n; k++) {
        if (fabs(ans) > ep128) {
            ans *= em128;
            expnt += KS_E128;
        }
        ans *= (double)k;
    }
    if (expnt != 0) ans = ldexp(ans, (int)expnt);
    return clip01(ans);
}

/* ---- Pelz-Good asymptotic series --------------------------------------- */

static double pelzgood_cdf(double n, double x) {
    if (x <= 0.0) return 0.0;
    if (x >= 1.0) return 1.0;
    const double pi2 = KS_PI * KS_PI, pi4 = pi2 * pi2, pi6 = pi4 * pi2;
    double z = sqrt(n) * x;
    double z2 = z * z, z3 = z2 * z, z4 = z2 * z2, z6 = z4 * z2;
    double qlog = -pi2 / 8 / z2;
    if (qlog < KS_MIN_LOG) return 0.0;
    double q = exp(qlog);
    double k1a = -z2, k1b = pi2 / 4;
    double k2a = 6 * z6 + 2 * z4, k2b = (2 * z4 - 5 * z2) * pi2 / 4, k2c = pi4 * (1 - 2 * z2) / 16;
    double k3d = pi6 * (5 - 30 * z2) / 64, k3c = pi4 * (-60 * z2 + 212 * z4) / 16,
           k3b = pi2 * (135 * z4 - 96 * z6) / 4, k3a = -30 * z6 - 90 * pow(z, 8);
    double K[4] = {0, 0, 0, 0};
    long maxk = (long)ceil(16 * z / KS_PI);
    for (long k = maxk; k > 0; k--) {
        double m = 2.0 * k - 1, m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
        double qp = pow(q, 8.0 * k);
        double c[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4,
                       k3a + k3b * m2 + k3c * m4 + k3d * m6};
        for (int i = 0; i < 4; i++)
            K[i] = K[i] * qp + c[i];
    }
    double den[4] = {z, 6 * z4, 72 * pow(z, 7), 6480 * pow(z, 10)};
    for (int i = 0; i < 4; i++)
        K[i] = K[i] * q * KS_SQRT2PI / den[i];
    double q2 = exp(-pi2 / 2 / z2);
    double s2 = 0.0, s3 = 0.0, sq3z = sqrt(3.0) * z;
    for (long k = maxk; k > 0; k--) {
        double k2 = (double)k * (double)k, qk = pow(q2, k2), kpi = KS_PI * (double)k;
        s2 += k2 * qk;
        s3 += (sq3z + kpi) * (sq3z - kpi) * k2 * qk;
    }
    K[2] += s2 * (pi2 * KS_SQRT2PI / (-36 * z3));
    K[3] += s3 * (pi2 * KS_SQRT2PI / (216 * z6));
    K[1] /= sqrt(n);
    K[2] /= n;
    K[3] /= pow(n, 1.5);
    return K[0] + K[1] + K[2] + K[3];
}

/* ---- regime selection --------------------------------------------------- */

double mw_kstwo_sf(double d, double n) {
    if (isnan(d) || isnan(n)) return NAN;
    if (!(n >= 1.0) || n != nearbyint(n) || n > 9007199254740992.0) return NAN;
    if (d <= 0.0) return 1.0;
    if (d >= 1.0) return 0.0;
    int64_t ni = (int64_t)n;
    double t = n * d;
    if (t <= 1.0) {
        if (t <= 0.5) return 1.0;
        double prob;
        if (ni <= 140) {
            double base = 2 * t - 1, inv = 1.0 / n;
            prob = 1.0;
            for (int64_t i = 1; i <= ni; i++)
                prob *= (double)i * inv * base;
        } else {
            prob = exp(log_nfact_over_npow(n) + n * log(2 * t - 1));
        }
        return clip01(1.0 - clip01(prob));
    }
    if (t >= n - 1) return clip01(2 * pow(1.0 - d, n));
    if (d >= 0.5) return clip01(2 * smirnov_sf(ni, d));
    double nx2 = t * d;
    if (ni <= 140) {
        double cdf;
        if (nx2 <= 0.754693)
            cdf = dmtw_cdf(ni, d);
        else if (nx2 <= 4)
            cdf = pomeranz_cdf(ni, d);
        else
            return clip01(2 * smirnov_sf(ni, d));
        return isnan(cdf) ? NAN : clip01(1.0 - cdf);
    }
    if (nx2 >= 370.0) return 0.0;
    if (nx2 >= 2.2) return clip01(2 * smirnov_sf(ni, d));
    double cdf;
    if (ni <= 100000 && n * pow(d, 1.5) <= 1.4)
        cdf = dmtw_cdf(ni, d);
    else
        cdf = pelzgood_cdf(n, d);
    return isnan(cdf) ? NAN : clip01(1.0 - cdf);
}
