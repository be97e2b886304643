/*
 * Performance metrics (src/monitor/perf_*.c) against scikit-learn 1.2 reference
 * values in tests/fixtures/perf.txt (written by gen_perf.py): every metric
 * within 1e-12 absolute, MW_EINVAL where scikit-learn raises; mergeable states
 * (split, merge, serialise, corrupt); the rank accumulator past its bound; and
 * CBPE on synthetic data with covariate shift, where the estimated accuracy
 * must track the realised one within 0.02 on windows of 10,000 records (and
 * visibly fails under concept drift, its documented limit).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "modelwatch/perf.h"

#define TOL 1e-12

/* largest |ours - sklearn| / max(1, |sklearn|) over all checks: 1e-12 absolute,
 * relative for values above 1 (a MAPE of 8e11 from a zero target is exact to
 * one ulp, 1e-4 absolute) */
static double max_dev = 0;

static void check(double got, double want, const char *cs, const char *what) {
    if (!isnan(got) && !isnan(want)) {
        double d = fabs(got - want) / fmax(1.0, fabs(want));
        if (d > max_dev) max_dev = d;
    }
    mw_assert_close(got, want, TOL, TOL, cs, what);
}

static uint32_t *codes(const double *v, size_t n) {
    uint32_t *c = malloc((n ? n : 1) * sizeof *c);
    assert_non_null(c);
    for (size_t i = 0; i < n; i++)
        c[i] = (uint32_t)v[i];
    return c;
}

static void test_classification_against_sklearn(void **state) {
    (void)state;
    mw_fx_file *f = mw_fx_load("perf.txt");
    size_t ncases = 0;
    for (size_t ci = 0; ci < mw_fx_count(f); ci++) {
        const mw_fx_case *c = mw_fx_case_at(f, ci);
        const char *name = mw_fx_name(c);
        if (strncmp(name, "cls_", 4)) continue;
        ncases++;
        size_t n, n2, npres;
        size_t k = (size_t)mw_fx_need(c, "k");
        const double *yv = mw_fx_array(c, "y", &n);
        const double *ypv = mw_fx_array(c, "yp", &n2);
        uint32_t *y = codes(yv, n);
        uint32_t *yp = codes(ypv, n2);
        assert_int_equal(n, n2);
        const double *present = mw_fx_array(c, "present", &npres);

        mw_confusion *cm;
        assert_int_equal(mw_confusion_new(k, &cm), MW_OK);
        uint64_t skipped = 99;
        assert_int_equal(mw_confusion_add_codes(cm, y, yp, n, &skipped), MW_OK);
        assert_int_equal(skipped, 0);
        mw_class_metrics m;
        mw_error err;
        assert_int_equal(mw_confusion_metrics(cm, &m, &err), MW_OK);
        assert_int_equal(m.n_present, npres);
        check(m.accuracy, mw_fx_need(c, "accuracy"), name, "accuracy");
        check(m.balanced_accuracy, mw_fx_need(c, "balanced_accuracy"), name, "balanced_accuracy");
        check(m.precision_micro, mw_fx_need(c, "precision_micro"), name, "precision_micro");
        check(m.recall_micro, mw_fx_need(c, "recall_micro"), name, "recall_micro");
        check(m.f1_micro, mw_fx_need(c, "f1_micro"), name, "f1_micro");
        check(m.precision_macro, mw_fx_need(c, "precision_macro"), name, "precision_macro");
        check(m.recall_macro, mw_fx_need(c, "recall_macro"), name, "recall_macro");
        check(m.f1_macro, mw_fx_need(c, "f1_macro"), name, "f1_macro");
        check(m.precision_weighted, mw_fx_need(c, "precision_weighted"), name,
              "precision_weighted");
        check(m.recall_weighted, mw_fx_need(c, "recall_weighted"), name, "recall_weighted");
        check(m.f1_weighted, mw_fx_need(c, "f1_weighted"), name, "f1_weighted");
        const double *pp = mw_fx_array(c, "pc_precision", NULL);
        const double *pr = mw_fx_array(c, "pc_recall", NULL);
        const double *pf = mw_fx_array(c, "pc_f1", NULL);
        const double *ps = mw_fx_array(c, "pc_support", NULL);
        size_t ncm;
        const double *cmx = mw_fx_array(c, "confusion", &ncm);
        assert_int_equal(ncm, npres * npres);
        for (size_t a = 0; a < npres; a++) {
            size_t ca = (size_t)present[a];
            assert_true(m.per_class[ca].present);
            check(m.per_class[ca].precision, pp[a], name, "per-class precision");
            check(m.per_class[ca].recall, pr[a], name, "per-class recall");
            check(m.per_class[ca].f1, pf[a], name, "per-class f1");
            assert_int_equal(m.per_class[ca].support, (uint64_t)ps[a]);
            for (size_t b = 0; b < npres; b++)
                assert_int_equal(mw_confusion_get(cm, ca, (size_t)present[b]),
                                 (uint64_t)cmx[a * npres + b]);
        }
        mw_class_metrics_free(&m);
        mw_confusion_free(cm);

        double v, want;
        size_t ns;
        const double *score = mw_fx_array(c, "score", &ns);
        const double *scores = mw_fx_array(c, "scores", &ns);
        if (score) {
            uint32_t pos = (uint32_t)mw_fx_need(c, "pos");
            if (mw_fx_text(c, "roc_auc_err")) {
                assert_int_equal(mw_roc_auc_binary(y, pos, score, n, &v, &err), MW_EINVAL);
                assert_true(isnan(v));
                assert_non_null(strstr(err.message, "one class"));
            } else {
                assert_int_equal(mw_roc_auc_binary(y, pos, score, n, &v, &err), MW_OK);
                check(v, mw_fx_need(c, "roc_auc"), name, "roc_auc");
            }
            assert_int_equal(mw_average_precision_binary(y, pos, score, n, &v, &err), MW_OK);
            check(v, mw_fx_need(c, "average_precision"), name, "average_precision");
            assert_int_equal(mw_brier_binary(y, pos, score, n, &v, &err), MW_OK);
            check(v, mw_fx_need(c, "brier"), name, "brier");
            mw_calibration cal;
            mw_calibration_init(&cal);
            for (size_t i = 0; i < n; i++)
                assert_int_equal(
                    mw_calibration_add_binary(&cal, y[i] == pos, score[i], MW_LOG_LOSS_EPS), MW_OK);
            check(mw_calibration_log_loss(&cal), mw_fx_need(c, "log_loss"), name, "log_loss");
            check(mw_calibration_brier(&cal), mw_fx_need(c, "brier"), name, "brier (sums)");
            check(mw_calibration_ece(&cal), mw_fx_need(c, "ece"), name, "ece");
        }
        if (scores) {
            assert_int_equal(ns, n * k);
            if (mw_fx_text(c, "roc_auc_err")) {
                assert_int_equal(mw_roc_auc_ovr(y, scores, n, k, &v, &err), MW_EINVAL);
                assert_true(isnan(v));
            } else {
                assert_int_equal(mw_roc_auc_ovr(y, scores, n, k, &v, &err), MW_OK);
                check(v, mw_fx_need(c, "roc_auc"), name, "roc_auc ovr");
            }
            assert_int_equal(mw_average_precision_ovr(y, scores, n, k, &v, &err), MW_OK);
            check(v, mw_fx_need(c, "average_precision"), name, "average_precision ovr");
            if (mw_fx_value(c, "log_loss", &want)) {
                assert_int_equal(mw_log_loss(y, scores, n, k, MW_LOG_LOSS_EPS, &v, &err), MW_OK);
                check(v, want, name, "log_loss");
            }
            mw_calibration cal;
            mw_calibration_init(&cal);
            for (size_t i = 0; i < n; i++)
                assert_int_equal(mw_calibration_add(&cal, y[i], scores + i * k, k, MW_LOG_LOSS_EPS),
                                 MW_OK);
            check(mw_calibration_ece(&cal), mw_fx_need(c, "ece"), name, "ece multiclass");
            assert_true(isnan(mw_calibration_brier(&cal)));
        }
        free(y);
        free(yp);
    }
    assert_true(ncases >= 12);
    mw_fx_free(f);
}

static void test_regression_against_sklearn(void **state) {
    (void)state;
    mw_fx_file *f = mw_fx_load("perf.txt");
    for (size_t ci = 0; ci < mw_fx_count(f); ci++) {
        const mw_fx_case *c = mw_fx_case_at(f, ci);
        const char *name = mw_fx_name(c);
        if (strncmp(name, "reg_", 4)) continue;
        size_t n;
        const double *y = mw_fx_array(c, "y", &n);
        const double *yh = mw_fx_array(c, "yhat", NULL);
        mw_reg_metrics m;
        mw_error err;
        assert_int_equal(mw_regression_metrics(y, yh, n, &m, &err), MW_OK);
        /* the mergeable state, built in two halves and merged */
        mw_reg_state a, b;
        mw_reg_init(&a);
        mw_reg_init(&b);
        for (size_t i = 0; i < n; i++)
            assert_int_equal(mw_reg_add(i < n / 2 ? &a : &b, y[i], yh[i]), MW_OK);
        mw_reg_merge(&a, &b);
        unsigned char buf[MW_REG_STATE_BYTES];
        mw_reg_serialize(&a, buf);
        mw_reg_state r;
        assert_int_equal(mw_reg_deserialize(buf, sizeof buf, &r, &err), MW_OK);
        mw_reg_metrics s;
        mw_reg_state_metrics(&r, &s);
        assert_true(isnan(s.median_absolute_error));
        static const char *keys[] = {"mae", "mse", "rmse", "mape", "r2", "max_error"};
        const double got[] = {m.mae, m.mse, m.rmse, m.mape, m.r2, m.max_error};
        const double gots[] = {s.mae, s.mse, s.rmse, s.mape, s.r2, s.max_error};
        for (size_t i = 0; i < 6; i++) {
            double want = mw_fx_need(c, keys[i]);
            check(got[i], want, name, keys[i]);
            check(gots[i], want, name, keys[i]);
        }
        check(m.median_absolute_error, mw_fx_need(c, "median_absolute_error"), name,
              "median_absolute_error");
    }
    mw_fx_free(f);
    mw_reg_metrics m;
    double y[2] = {1, NAN}, yh[2] = {1, 2};
    mw_error err;
    assert_int_equal(mw_regression_metrics(y, yh, 2, &m, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "record 2"));
    assert_true(isnan(m.mae));
    assert_int_equal(mw_regression_metrics(y, yh, 0, &m, &err), MW_EINVAL);
}

static void test_isotonic_against_sklearn(void **state) {
    (void)state;
    mw_fx_file *f = mw_fx_load("perf.txt");
    size_t ncases = 0;
    for (size_t ci = 0; ci < mw_fx_count(f); ci++) {
        const mw_fx_case *c = mw_fx_case_at(f, ci);
        const char *name = mw_fx_name(c);
        if (strncmp(name, "iso_", 4)) continue;
        ncases++;
        size_t n, nq;
        const double *x = mw_fx_array(c, "x", &n);
        const double *y = mw_fx_array(c, "y", NULL);
        const double *q = mw_fx_array(c, "q", &nq);
        const double *want = mw_fx_array(c, "pred", NULL);
        mw_isotonic *iso;
        mw_error err;
        assert_int_equal(mw_isotonic_fit(x, y, NULL, n, &iso, &err), MW_OK);
        for (size_t i = 0; i < nq; i++)
            check(mw_isotonic_predict(iso, q[i]), want[i], name, "isotonic");
        mw_isotonic_free(iso);
    }
    assert_int_equal(ncases, 6);
    mw_fx_free(f);
}

static void test_confusion_state(void **state) {
    (void)state;
    mw_confusion *a, *b, *c;
    assert_int_equal(mw_confusion_new(2, &a), MW_OK);
    assert_int_equal(mw_confusion_new(0, &b), MW_OK);
    uint32_t t[5] = {0, 1, 1, MW_PERF_MISSING, 0}, p[5] = {0, 1, 0, 1, MW_PERF_MISSING};
    uint64_t skipped;
    assert_int_equal(mw_confusion_add_codes(a, t, p, 5, &skipped), MW_OK);
    assert_int_equal(skipped, 2);
    assert_int_equal(mw_confusion_total(a), 3);
    /* a code outside the matrix: nothing added */
    uint32_t bad[2] = {0, 7};
    assert_int_equal(mw_confusion_add_codes(a, bad, bad, 2, NULL), MW_EINVAL);
    assert_int_equal(mw_confusion_total(a), 3);
    /* a late class grows the matrix */
    assert_int_equal(mw_confusion_add(b, 3, 1, 5), MW_OK);
    assert_int_equal(mw_confusion_classes(b), 4);
    assert_int_equal(mw_confusion_add(b, MW_PERF_MISSING, 1, 1), MW_EINVAL);
    assert_int_equal(mw_confusion_merge(a, b), MW_OK);
    assert_int_equal(mw_confusion_classes(a), 4);
    assert_int_equal(mw_confusion_get(a, 3, 1), 5);
    assert_int_equal(mw_confusion_get(a, 1, 0), 1);
    assert_int_equal(mw_confusion_total(a), 8);
    unsigned char *buf;
    size_t len;
    mw_error err;
    assert_int_equal(mw_confusion_serialize(a, &buf, &len), MW_OK);
    assert_int_equal(mw_confusion_deserialize(buf, len, &c, &err), MW_OK);
    for (size_t i = 0; i < 4; i++)
        for (size_t j = 0; j < 4; j++)
            assert_int_equal(mw_confusion_get(c, i, j), mw_confusion_get(a, i, j));
    mw_confusion_free(c);
    assert_int_equal(mw_confusion_deserialize(buf, len - 1, &c, &err), MW_ECORRUPT);
    assert_null(c);
    assert_non_null(strstr(err.message, "confusion matrix"));
    buf[0] = 'X';
    assert_int_equal(mw_confusion_deserialize(buf, len, &c, &err), MW_ECORRUPT);
    free(buf);
    /* metrics: class 2 is in the matrix but absent from data: not averaged */
    mw_class_metrics m;
    assert_int_equal(mw_confusion_metrics(a, &m, &err), MW_OK);
    assert_int_equal(m.n_present, 3);
    assert_false(m.per_class[2].present);
    mw_class_metrics_free(&m);
    mw_confusion_free(a);
    mw_confusion_free(b);
    assert_int_equal(mw_confusion_new(3, &a), MW_OK);
    assert_int_equal(mw_confusion_metrics(a, &m, &err), MW_EINVAL);
    assert_true(isnan(m.accuracy));
    mw_confusion_free(a);
    mw_confusion_free(NULL);
}

static void test_calibration_state(void **state) {
    (void)state;
    mw_calibration whole, a, b, r;
    mw_calibration_init(&whole);
    mw_calibration_init(&a);
    mw_calibration_init(&b);
    for (int i = 0; i < 1000; i++) {
        double p = (i * 37 % 1000) / 999.0;
        int pos = (i * 13 % 7) < 3;
        mw_calibration_add_binary(&whole, pos, p, MW_LOG_LOSS_EPS);
        mw_calibration_add_binary(i % 3 ? &a : &b, pos, p, MW_LOG_LOSS_EPS);
    }
    assert_int_equal(mw_calibration_merge(&a, &b), MW_OK);
    unsigned char buf[MW_CALIBRATION_BYTES];
    mw_calibration_serialize(&a, buf);
    mw_error err;
    assert_int_equal(mw_calibration_deserialize(buf, sizeof buf, &r, &err), MW_OK);
    mw_assert_close(mw_calibration_log_loss(&r), mw_calibration_log_loss(&whole), 1e-15, 0, "merge",
                    "log loss");
    mw_assert_close(mw_calibration_brier(&r), mw_calibration_brier(&whole), 1e-15, 0, "merge",
                    "brier");
    mw_assert_close(mw_calibration_ece(&r), mw_calibration_ece(&whole), 1e-14, 1e-16, "merge",
                    "ece");
    buf[8] ^= 1; /* n no longer matches the bins */
    assert_int_equal(mw_calibration_deserialize(buf, sizeof buf, &r, &err), MW_ECORRUPT);
    /* mixing binary and multiclass sums is refused */
    mw_calibration mc;
    mw_calibration_init(&mc);
    double pr[3] = {0.2, 0.3, 0.5};
    assert_int_equal(mw_calibration_add(&mc, 2, pr, 3, MW_LOG_LOSS_EPS), MW_OK);
    assert_int_equal(mw_calibration_merge(&mc, &whole), MW_EINVAL);
    assert_int_equal(mw_calibration_add_binary(&mc, 1, 0.5, MW_LOG_LOSS_EPS), MW_EINVAL);
    double nanp[3] = {NAN, 0.5, 0.5};
    assert_int_equal(mw_calibration_add(&mc, 0, nanp, 3, MW_LOG_LOSS_EPS), MW_EINVAL);
    assert_int_equal(mw_calibration_add_binary(&whole, 1, NAN, MW_LOG_LOSS_EPS), MW_EINVAL);
    assert_int_equal(mw_calibration_add_binary(&whole, 1, 1.5, MW_LOG_LOSS_EPS), MW_EINVAL);
}

/* ---- deterministic random numbers for the synthetic tests ----------------- */

static uint64_t rng_state;
static double unif(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}
static double normal(void) {
    return sqrt(-2.0 * log(unif())) * cos(6.283185307179586 * unif());
}
static double sigmoid(double z) {
    return 1.0 / (1.0 + exp(-z));
}

static void test_rank_acc(void **state) {
    (void)state;
    rng_state = 42;
    enum { N = 20000 };
    uint32_t *y = malloc(N * sizeof *y);
    double *s = malloc(N * sizeof *s);
    mw_rank_acc *a, *b, *big;
    assert_int_equal(mw_rank_acc_new(N, &a), MW_OK);
    assert_int_equal(mw_rank_acc_new(N, &b), MW_OK);
    assert_int_equal(mw_rank_acc_new(1000, &big), MW_OK);
    for (int i = 0; i < N; i++) {
        y[i] = unif() < 0.3;
        s[i] = sigmoid(normal() + 1.2 * y[i]);
        if (i % 5 == 0) s[i] = round(s[i] * 20) / 20; /* ties */
        assert_int_equal(mw_rank_acc_add(i % 2 ? a : b, s[i], (int)y[i]), MW_OK);
        assert_int_equal(mw_rank_acc_add(big, s[i], (int)y[i]), MW_OK);
    }
    assert_int_equal(mw_rank_acc_add(a, NAN, 1), MW_EINVAL);
    double auc, ap, v, bound;
    int exact;
    mw_error err;
    assert_int_equal(mw_roc_auc_binary(y, 1, s, N, &auc, &err), MW_OK);
    assert_int_equal(mw_average_precision_binary(y, 1, s, N, &ap, &err), MW_OK);
    assert_int_equal(mw_rank_acc_merge(a, b), MW_OK);
    unsigned char *buf;
    size_t len;
    mw_rank_acc *r;
    assert_int_equal(mw_rank_acc_serialize(a, &buf, &len), MW_OK);
    assert_int_equal(mw_rank_acc_deserialize(buf, len, &r, &err), MW_OK);
    mw_rank_acc *bad_r;
    assert_int_equal(mw_rank_acc_deserialize(buf, len - 3, &bad_r, &err), MW_ECORRUPT);
    assert_null(bad_r);
    free(buf);
    assert_int_equal(mw_rank_acc_roc_auc(r, &v, &exact, &bound), MW_OK);
    assert_true(exact);
    assert_true(fabs(v - auc) < 1e-15); /* same pairs, another order */
    assert_int_equal(mw_rank_acc_average_precision(r, &v, &exact), MW_OK);
    assert_true(exact);
    assert_true(fabs(v - ap) < 1e-12);
    /* past the bound: histogram answer, within the stated bound */
    assert_int_equal(mw_rank_acc_roc_auc(big, &v, &exact, &bound), MW_OK);
    assert_false(exact);
    assert_true(bound > 0 && bound < 0.01);
    assert_true(fabs(v - auc) <= bound);
    assert_int_equal(mw_rank_acc_average_precision(big, &v, &exact), MW_OK);
    assert_false(exact);
    assert_true(fabs(v - ap) < 0.01);
    mw_rank_acc_free(a);
    mw_rank_acc_free(b);
    mw_rank_acc_free(r);
    mw_rank_acc_free(big);
    free(y);
    free(s);
}

/* Reference for the large-input test: sort (score, label) pairs with qsort,
 * then the Mann-Whitney sum and the precision steps over tie groups. */
typedef struct scored {
    double s;
    int pos;
} scored;

static int cmp_scored(const void *a, const void *b) {
    double x = ((const scored *)a)->s, y = ((const scored *)b)->s;
    return (x > y) - (x < y);
}

static void rank_reference(const uint32_t *y, const double *s, size_t n, double *auc, double *ap) {
    scored *p = malloc(n * sizeof *p);
    uint64_t np = 0;
    for (size_t i = 0; i < n; i++) {
        p[i].s = s[i];
        p[i].pos = y[i] == 1;
        np += (uint64_t)p[i].pos;
    }
    qsort(p, n, sizeof *p, cmp_scored);
    uint64_t nn = n - np, num2 = 0, below = 0, tp = 0, fp = 0;
    for (size_t i = 0; i < n;) { /* ascending groups: AUC */
        size_t j = i;
        uint64_t gp = 0, gn = 0;
        for (; j < n && p[j].s == p[i].s; j++) {
            gp += (uint64_t)p[j].pos;
            gn += (uint64_t)!p[j].pos;
        }
        num2 += gp * (2 * below + gn);
        below += gn;
        i = j;
    }
    *auc = (double)num2 / (2.0 * (double)np * (double)nn);
    *ap = 0;
    for (size_t i = n; i > 0;) { /* descending groups: AP */
        size_t j = i;
        uint64_t gp = 0;
        for (; j > 0 && p[j - 1].s == p[i - 1].s; j--) {
            gp += (uint64_t)p[j - 1].pos;
            fp += (uint64_t)!p[j - 1].pos;
        }
        tp += gp;
        if (gp) *ap += (double)gp / (double)np * ((double)tp / (double)(tp + fp));
        i = j;
    }
    free(p);
}

/* 300k scores (the sort's wide first pass) of several shapes: scores in
 * [0, 1] with ties, both signs with -0.0 and +0.0 (one value), infinities,
 * integers; AUC and AP equal the qsort reference. */
static void test_rank_large(void **state) {
    (void)state;
    enum { N = 300000 };
    uint32_t *y = malloc(N * sizeof *y);
    double *s = malloc(N * sizeof *s);
    for (int shape = 0; shape < 3; shape++) {
        for (size_t i = 0; i < N; i++) {
            y[i] = unif() < 0.3;
            double z = normal() + 0.8 * y[i];
            switch (shape) {
            case 0:
                s[i] = i % 4 ? sigmoid(z) : round(sigmoid(z) * 1000) / 1000;
                break;
            case 1:
                s[i] = i % 5 ? z : (i % 10 ? 0.0 : -0.0);
                break;
            default:
                s[i] = i % 1000 ? floor(z * 3) : (i % 2000 ? INFINITY : -INFINITY);
                break;
            }
        }
        double auc, ap, want_auc, want_ap;
        mw_error err;
        rank_reference(y, s, N, &want_auc, &want_ap);
        assert_int_equal(mw_roc_auc_binary(y, 1, s, N, &auc, &err), MW_OK);
        assert_int_equal(mw_average_precision_binary(y, 1, s, N, &ap, &err), MW_OK);
        assert_true(auc == want_auc);
        assert_true(fabs(ap - want_ap) < 1e-14);
    }
    /* the first bad record is named, whichever the fault */
    y[7] = MW_PERF_MISSING;
    s[5] = NAN;
    double v;
    mw_error err;
    assert_int_equal(mw_roc_auc_binary(y, 1, s, N, &v, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "record 6: the score is NaN"));
    s[5] = 0.5;
    assert_int_equal(mw_average_precision_binary(y, 1, s, N, &v, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "record 8 has no label"));
    free(y);
    free(s);
}

/* Random sizes from 1 to 300k, heavy ties, skewed class balance and scores
 * of every shape (few distinct values, both signs with -0.0 and +0.0, the
 * infinities, a range wider than 2^63 keys, extremes outside the range of
 * the sample that picks the first digit): AUC and AP are bit-identical to
 * the qsort reference, and AUC without one class is refused. */
static double tie_score(int shape, size_t i, uint32_t yi) {
    double z = normal() + 0.7 * yi;
    switch (shape) {
    case 0:
        return floor(z * 2); /* a dozen distinct values */
    case 1:
        return unif() < 0.5 ? sigmoid(z) : round(sigmoid(z) * 50) / 50;
    case 2:
        return i % 7 ? z : (i % 14 ? 0.0 : -0.0);
    case 3:
        return i % 9 ? z * 1e300 : (i % 2 ? INFINITY : -INFINITY);
    case 4:
        return unif() < 0.9 ? 0.25 : z; /* one value for most records */
    case 5: /* a narrow bulk and rare extremes that a strided sample misses */
        return i % 1031 == 3 ? (i % 2 ? 1e-300 : -5.0) : 0.4 + 0.2 * sigmoid(z);
    default:
        return ldexp(1.0 + unif(), (int)(unif() * 40) - 20) * (yi ? 1.01 : 1.0);
    }
}

static void test_rank_random(void **state) {
    (void)state;
    enum { NMAX = 300000 };
    static const size_t sizes[] = {1,  2,   3,    5,    16,    17,     63,  64,
                                   65, 129, 1000, 4097, 65537, 131073, NMAX};
    static const double rates[] = {0.5, 0.02, 0.98, 0.3};
    uint32_t *y = malloc(NMAX * sizeof *y);
    double *s = malloc(NMAX * sizeof *s);
    assert_non_null(y);
    assert_non_null(s);
    size_t ncase = sizeof sizes / sizeof *sizes + 6;
    for (size_t ci = 0; ci < ncase; ci++) {
        double u = unif();
        size_t n = ci < sizeof sizes / sizeof *sizes ? sizes[ci] : 1 + (size_t)(u * u * NMAX);
        for (int shape = 0; shape < 7; shape++) {
            double rate = rates[(ci + (size_t)shape) % 4];
            uint64_t np = 0;
            for (size_t i = 0; i < n; i++) {
                y[i] = unif() < rate;
                np += y[i];
                s[i] = tie_score(shape, i, y[i]);
            }
            double auc = NAN, ap = NAN, want_auc, want_ap;
            mw_error err;
            rank_reference(y, s, n, &want_auc, &want_ap);
            assert_int_equal(mw_average_precision_binary(y, 1, s, n, &ap, &err), MW_OK);
            assert_true(np ? ap == want_ap : ap == 0.0);
            if (!np || np == n) {
                assert_int_equal(mw_roc_auc_binary(y, 1, s, n, &auc, &err), MW_EINVAL);
                continue;
            }
            assert_int_equal(mw_roc_auc_binary(y, 1, s, n, &auc, &err), MW_OK);
            assert_true(auc == want_auc);
            /* the same on two threads (bucket ranges from 65,536 records on) */
            mw_runner two = mw_runner_threads(2);
            double par = NAN;
            assert_int_equal(mw_roc_auc_binary_run(y, 1, s, n, &two, &par, &err), MW_OK);
            assert_true(par == want_auc);
        }
    }
    free(y);
    free(s);
}

static void test_bad_input(void **state) {
    (void)state;
    uint32_t y[4] = {0, 1, 0, 1};
    double s[4] = {0.1, NAN, 0.3, 0.9};
    double v = 7;
    mw_error err;
    assert_int_equal(mw_roc_auc_binary(y, 1, s, 4, &v, &err), MW_EINVAL);
    assert_true(isnan(v));
    assert_non_null(strstr(err.message, "record 2"));
    assert_int_equal(mw_average_precision_binary(y, 1, s, 0, &v, &err), MW_EINVAL);
    double P[8] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    uint32_t yb[4] = {0, 1, 2, 1};
    assert_int_equal(mw_roc_auc_ovr(yb, P, 4, 2, &v, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "record 3"));
    assert_int_equal(mw_log_loss(y, P, 4, 1, MW_LOG_LOSS_EPS, &v, &err), MW_EINVAL);
    double bad[4] = {0.1, 1.2, 0.3, 0.9};
    assert_int_equal(mw_brier_binary(y, 1, bad, 4, &v, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "record 2"));
}

/* ---- CBPE ------------------------------------------------------------------ */

/* Binary world: x ~ N(mu, sd); truth P(y=1|x) = sigmoid(slope x - 0.5) (slope
 * 2: no concept drift; another slope is concept drift); the model's score sigmoid(1.2x - 0.1) is
 * informative but miscalibrated; prediction = score >= 0.5. */
static void binary_world(size_t n, double mu, double sd, double slope, uint32_t *y, double *s,
                         uint32_t *yp) {
    for (size_t i = 0; i < n; i++) {
        double x = mu + sd * normal();
        double pt = sigmoid(slope * x - 0.5);
        y[i] = unif() < pt;
        s[i] = sigmoid(1.2 * x - 0.1);
        yp[i] = s[i] >= 0.5;
    }
}

static double realised_accuracy(const uint32_t *y, const uint32_t *yp, size_t n) {
    size_t hit = 0;
    for (size_t i = 0; i < n; i++)
        hit += y[i] == yp[i];
    return (double)hit / (double)n;
}

static void test_cbpe_covariate_shift(void **state) {
    (void)state;
    rng_state = 7;
    enum { NREF = 20000, W = 10000 };
    uint32_t *y = malloc(NREF * sizeof *y), *yp = malloc(NREF * sizeof *yp);
    double *s = malloc(NREF * sizeof *s);
    binary_world(NREF, 0.0, 1.0, 2.0, y, s, yp);
    mw_cbpe *cb;
    mw_error err;
    assert_int_equal(mw_cbpe_fit(y, s, NREF, 2, 1, &cb, &err), MW_OK);
    const double mus[] = {0.0, 0.5, 1.0, 1.5, -0.5, -1.0, 0.25};
    const double sds[] = {1.0, 1.0, 0.7, 0.5, 1.3, 0.8, 2.0};
    double worst = 0, worst_auc = 0;
    for (size_t w = 0; w < sizeof mus / sizeof *mus; w++) {
        binary_world(W, mus[w], sds[w], 2.0, y, s, yp);
        mw_cbpe_estimate e;
        assert_int_equal(mw_cbpe_estimate_metrics(cb, yp, s, W, &e, &err), MW_OK);
        double real = realised_accuracy(y, yp, W), auc;
        assert_int_equal(mw_roc_auc_binary(y, 1, s, W, &auc, &err), MW_OK);
        double d = fabs(e.accuracy - real);
        if (d > worst) worst = d;
        if (fabs(e.roc_auc - auc) > worst_auc) worst_auc = fabs(e.roc_auc - auc);
        if (d > 0.02)
            fail_msg("window %zu (mu %g, sd %g): estimated accuracy %.4f, realised %.4f", w, mus[w],
                     sds[w], e.accuracy, real);
        /* the expected confusion matrix sums to n */
        double tot = 0;
        for (size_t i = 0; i < 4; i++)
            tot += e.confusion[i];
        assert_true(fabs(tot - W) < 1e-6);
        mw_cbpe_estimate_free(&e);
    }
    print_message("CBPE binary: max |estimated - realised| accuracy %.4f, ROC AUC %.4f\n", worst,
                  worst_auc);
    assert_true(worst_auc < 0.03);
    /* the documented limit: concept drift (P(y|x) changes) is invisible to it */
    binary_world(W, 0.0, 1.0, 0.3, y, s, yp);
    mw_cbpe_estimate e;
    assert_int_equal(mw_cbpe_estimate_metrics(cb, yp, s, W, &e, &err), MW_OK);
    assert_true(fabs(e.accuracy - realised_accuracy(y, yp, W)) > 0.05);
    mw_cbpe_estimate_free(&e);
    /* NaN score named */
    s[3] = NAN;
    assert_int_equal(mw_cbpe_estimate_metrics(cb, yp, s, W, &e, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "record 4"));
    mw_cbpe_free(cb);
    free(y);
    free(yp);
    free(s);
}

/* Three classes: x in R^2 ~ N(mu, I); true logits (2x1, 2x2, 0); the model's
 * scores are softmax(0.6 * logits + noise-free bias), overconfident nowhere,
 * underconfident everywhere; prediction = argmax. */
static void multi_world(size_t n, double m1, double m2, uint32_t *y, double *s, uint32_t *yp) {
    for (size_t i = 0; i < n; i++) {
        double x1 = m1 + normal(), x2 = m2 + normal();
        double z[3] = {2 * x1, 2 * x2, 0}, e[3], t = 0;
        for (int c = 0; c < 3; c++)
            t += (e[c] = exp(z[c]));
        double u = unif() * t;
        y[i] = u < e[0] ? 0 : (u < e[0] + e[1] ? 1 : 2);
        double q[3], tq = 0;
        for (int c = 0; c < 3; c++)
            tq += (q[c] = exp(0.6 * z[c] + (c == 2 ? 0.3 : 0)));
        uint32_t best = 0;
        for (int c = 0; c < 3; c++) {
            s[i * 3 + c] = q[c] / tq;
            if (q[c] > q[best]) best = (uint32_t)c;
        }
        yp[i] = best;
    }
}

static void test_cbpe_multiclass(void **state) {
    (void)state;
    rng_state = 99;
    enum { NREF = 30000, W = 10000 };
    uint32_t *y = malloc(NREF * sizeof *y), *yp = malloc(NREF * sizeof *yp);
    double *s = malloc(3 * NREF * sizeof *s);
    multi_world(NREF, 0, 0, y, s, yp);
    mw_cbpe *cb;
    mw_error err;
    assert_int_equal(mw_cbpe_fit(y, s, NREF, 3, 3, &cb, &err), MW_OK);
    assert_int_equal(mw_cbpe_classes(cb), 3);
    const double m1[] = {0, 1, -1, 0.5}, m2[] = {0, -0.5, 1, 1};
    double worst = 0;
    for (size_t w = 0; w < 4; w++) {
        multi_world(W, m1[w], m2[w], y, s, yp);
        mw_cbpe_estimate e;
        assert_int_equal(mw_cbpe_estimate_metrics(cb, yp, s, W, &e, &err), MW_OK);
        double d = fabs(e.accuracy - realised_accuracy(y, yp, W));
        if (d > worst) worst = d;
        assert_true(isnan(e.precision));
        assert_true(e.roc_auc > 0.5 && e.roc_auc < 1);
        mw_cbpe_estimate_free(&e);
    }
    print_message("CBPE 3 classes: max |estimated - realised| accuracy %.4f\n", worst);
    assert_true(worst <= 0.02);
    double bad[2] = {0.5, 0.5};
    uint32_t by[1] = {5};
    mw_cbpe *none;
    assert_int_equal(mw_cbpe_fit(by, bad, 1, 3, 3, &none, &err), MW_EINVAL);
    assert_null(none);
    mw_cbpe_free(cb);
    free(y);
    free(yp);
    free(s);
}

static void test_report_max_deviation(void **state) {
    (void)state;
    print_message("max |modelwatch - sklearn| over all fixture checks: %.3g\n", max_dev);
    assert_true(max_dev <= TOL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classification_against_sklearn),
        cmocka_unit_test(test_regression_against_sklearn),
        cmocka_unit_test(test_isotonic_against_sklearn),
        cmocka_unit_test(test_confusion_state),
        cmocka_unit_test(test_calibration_state),
        cmocka_unit_test(test_rank_acc),
        cmocka_unit_test(test_rank_large),
        cmocka_unit_test(test_rank_random),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_cbpe_covariate_shift),
        cmocka_unit_test(test_cbpe_multiclass),
        cmocka_unit_test(test_report_max_deviation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
