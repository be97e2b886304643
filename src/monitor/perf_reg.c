/*
 * Regression metrics, agreeing with sklearn.metrics 1.2 within 1e-12:
 *   mean_absolute_error            MAE  = mean |y - yhat|
 *   mean_squared_error             MSE  = mean (y - yhat)^2, RMSE = sqrt(MSE)
 *                                  (mean_squared_error(squared=False))
 *   mean_absolute_percentage_error MAPE = mean |y - yhat| / max(|y|, DBL_EPSILON)
 *                                  (a fraction, not a percentage, as sklearn)
 *   r2_score                       R2 = 1 - SS_res / SS_tot with SS_tot =
 *                                  sum (y - mean y)^2; when SS_tot = 0: 1 if
 *                                  SS_res = 0 else 0 (force_finite=True); NaN
 *                                  with fewer than two records (sklearn warns)
 *   max_error                      max |y - yhat|
 *   median_absolute_error          median |y - yhat| (mean of the two middle
 *                                  values for even n, as numpy.median)
 * The mergeable state keeps compensated sums, the maximum, and for SS_tot the
 * compensated sums of d = y - K and d^2 with K the first target seen ("shifted
 * data" variance: the differences are exact when y is within a factor two of
 * K, so SS_tot = sum d^2 - (sum d)^2 / n keeps full precision where Welford's
 * running mean loses 1e-10 per record at y ~ 1e6). Merging re-bases the source's
 * sums on the destination's K. Every metric but the median merges exactly up to
 * rounding. The batch function computes SS_tot in two passes, as sklearn.
 */
#include "modelwatch/perf.h"
#include "modelwatch/stats.h"

#include "monitor/perf_int.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void mw_reg_init(mw_reg_state *s) {
    if (s) memset(s, 0, sizeof *s);
}

static double ape(double y, double e) {
    double d = fabs(y);
    return e / (d > DBL_EPSILON ? d : DBL_EPSILON);
}

mw_status mw_reg_add(mw_reg_state *s, double y, double yhat) {
    if (!s || !isfinite(y) || !isfinite(yhat)) return MW_EINVAL;
    double e = fabs(y - yhat);
    mw_ksum_add(&s->abs_err, e);
    mw_ksum_add(&s->sq_err, e * e);
    mw_ksum_add(&s->ape, ape(y, e));
    if (e > s->max_err || s->n == 0) s->max_err = e;
    if (s->n == 0) s->shift = y;
    s->n++;
    double d = y - s->shift;
    mw_ksum_add(&s->sum_d, d);
    mw_ksum_add(&s->sum_d2, d * d);
    return MW_OK;
}

void mw_reg_merge(mw_reg_state *dst, const mw_reg_state *src) {
    if (!dst || !src || !src->n) return;
    if (!dst->n) {
        *dst = *src;
        return;
    }
    mw_ksum_add(&dst->abs_err, src->abs_err.s);
    mw_ksum_add(&dst->abs_err, src->abs_err.c);
    mw_ksum_add(&dst->sq_err, src->sq_err.s);
    mw_ksum_add(&dst->sq_err, src->sq_err.c);
    mw_ksum_add(&dst->ape, src->ape.s);
    mw_ksum_add(&dst->ape, src->ape.c);
    if (src->max_err > dst->max_err) dst->max_err = src->max_err;
    /* src's d' = y - K2 = d - delta with delta = K1 - K2 */
    double delta = dst->shift - src->shift, nb = (double)src->n;
    double s1 = mw_ksum_value(&src->sum_d);
    mw_ksum_add(&dst->sum_d, src->sum_d.s);
    mw_ksum_add(&dst->sum_d, src->sum_d.c);
    mw_ksum_add(&dst->sum_d, -nb * delta);
    mw_ksum_add(&dst->sum_d2, src->sum_d2.s);
    mw_ksum_add(&dst->sum_d2, src->sum_d2.c);
    mw_ksum_add(&dst->sum_d2, -2.0 * delta * s1);
    mw_ksum_add(&dst->sum_d2, nb * delta * delta);
    dst->n += src->n;
}

static double r2_of(double ss_res, double ss_tot, uint64_t n) {
    if (n < 2) return NAN;
    if (ss_tot == 0.0) return ss_res == 0.0 ? 1.0 : 0.0;
    return 1.0 - ss_res / ss_tot;
}

static void clear_reg(mw_reg_metrics *m) {
    m->n = 0;
    m->mae = m->mse = m->rmse = m->mape = m->r2 = m->max_error = m->median_absolute_error = NAN;
}

void mw_reg_state_metrics(const mw_reg_state *s, mw_reg_metrics *out) {
    if (!out) return;
    clear_reg(out);
    if (!s || !s->n) return;
    double n = (double)s->n;
    out->n = s->n;
    out->mae = mw_ksum_value(&s->abs_err) / n;
    out->mse = mw_ksum_value(&s->sq_err) / n;
    out->rmse = sqrt(out->mse);
    out->mape = mw_ksum_value(&s->ape) / n;
    out->max_error = s->max_err;
    double s1 = mw_ksum_value(&s->sum_d);
    double sst = mw_ksum_value(&s->sum_d2) - s1 * s1 / n;
    if (sst < 0) sst = 0;
    out->r2 = r2_of(mw_ksum_value(&s->sq_err), sst, s->n);
}

#define REG_MAGIC "MWRG"

void mw_reg_serialize(const mw_reg_state *s, unsigned char buf[MW_REG_STATE_BYTES]) {
    memset(buf, 0, MW_REG_STATE_BYTES);
    memcpy(buf, REG_MAGIC, 4);
    buf[4] = 1;
    const double v[12] = {s->abs_err.s, s->abs_err.c, s->sq_err.s, s->sq_err.c,
                          s->ape.s,     s->ape.c,     s->max_err,  s->shift,
                          s->sum_d.s,   s->sum_d.c,   s->sum_d2.s, s->sum_d2.c};
    mw_perf_put_u64(buf + 8, s->n);
    for (int i = 0; i < 12; i++)
        mw_perf_put_f64(buf + 16 + 8 * i, v[i]);
}

mw_status mw_reg_deserialize(const void *buf, size_t len, mw_reg_state *out, mw_error *err) {
    if (!out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no output");
    mw_reg_init(out);
    const unsigned char *b = buf;
    if (!b || len != MW_REG_STATE_BYTES || memcmp(b, REG_MAGIC, 4) != 0 || b[4] != 1)
        return mw_error_set(err, MW_ECORRUPT, "", 0, 0,
                            "regression sums: bad header or size (%zu bytes, expected %d)", len,
                            MW_REG_STATE_BYTES);
    double v[12];
    for (int i = 0; i < 12; i++)
        v[i] = mw_perf_get_f64(b + 16 + 8 * i);
    out->n = mw_perf_get_u64(b + 8);
    out->abs_err = (mw_ksum){v[0], v[1]};
    out->sq_err = (mw_ksum){v[2], v[3]};
    out->ape = (mw_ksum){v[4], v[5]};
    out->max_err = v[6];
    out->shift = v[7];
    out->sum_d = (mw_ksum){v[8], v[9]};
    out->sum_d2 = (mw_ksum){v[10], v[11]};
    return MW_OK;
}

mw_status mw_regression_metrics(const double *y, const double *yhat, size_t n, mw_reg_metrics *out,
                                mw_error *err) {
    if (!out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no output");
    clear_reg(out);
    if (!n || !y || !yhat)
        return mw_error_set(err, MW_EINVAL, "", 0, 0, "regression metrics of no record");
    double *e = malloc(2 * n * sizeof *e);
    if (!e) return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory");
    mw_ksum sa = {0, 0}, ss = {0, 0}, sp = {0, 0}, sy = {0, 0};
    double mx = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(y[i]) || !isfinite(yhat[i])) {
            free(e);
            return mw_error_set(
                err, MW_EINVAL, "", i + 1, 0, "record %zu: %s value %g is not a finite number",
                i + 1, isfinite(y[i]) ? "predicted" : "target", isfinite(y[i]) ? yhat[i] : y[i]);
        }
        double d = fabs(y[i] - yhat[i]);
        e[i] = d;
        mw_ksum_add(&sa, d);
        mw_ksum_add(&ss, d * d);
        mw_ksum_add(&sp, ape(y[i], d));
        mw_ksum_add(&sy, y[i]);
        if (d > mx) mx = d;
    }
    double dn = (double)n;
    double mean = mw_ksum_value(&sy) / dn;
    mw_ksum st = {0, 0};
    for (size_t i = 0; i < n; i++)
        mw_ksum_add(&st, (y[i] - mean) * (y[i] - mean));
    mw_sort_doubles(e, n, e + n);
    out->n = n;
    out->mae = mw_ksum_value(&sa) / dn;
    out->mse = mw_ksum_value(&ss) / dn;
    out->rmse = sqrt(out->mse);
    out->mape = mw_ksum_value(&sp) / dn;
    out->max_error = mx;
    out->r2 = r2_of(mw_ksum_value(&ss), mw_ksum_value(&st), n);
    out->median_absolute_error = n % 2 ? e[n / 2] : (e[n / 2 - 1] + e[n / 2]) / 2.0;
    free(e);
    return MW_OK;
}
