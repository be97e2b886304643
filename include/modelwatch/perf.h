/*
 * modelwatch perf: model-performance metrics that agree with sklearn.metrics
 * (scikit-learn 1.2, zero_division=0) within 1e-12, and confidence-based
 * performance estimation (CBPE, as NannyML) for data whose labels have not
 * arrived yet.
 *
 * Classes are dense codes 0..k-1 assigned by the caller in scikit-learn's
 * sorted label order (numbers ascending, strings by code point); the code
 * MW_PERF_MISSING (UINT32_MAX) marks a record without a label or prediction.
 * For a binary classifier the positive class is the code the caller names
 * (scikit-learn: the greater label, classes_[1]).
 *
 * Mergeable state: the confusion matrix (counts), the calibration sums (log
 * loss, Brier score, ECE bins), the regression sums and the rank accumulator
 * can be added to record by record, merged (two windows, two hosts -> one) and
 * serialised to a portable byte string, so that the daemon's windows and
 * scale-out share the code the CLI uses on one big batch. Metrics that are not
 * mergeable (median absolute error) have only batch functions.
 *
 * Ownership: input arrays are borrowed for the call. Objects returned through
 * **out belong to the caller and are freed with their _free function (NULL is a
 * no-op); serialised buffers are malloc'd and freed with free(). Out-parameters
 * are cleared on entry (NaN for metrics). No function prints, exits or keeps
 * global state; distinct objects may be used from distinct threads.
 */
#ifndef MODELWATCH_PERF_H
#define MODELWATCH_PERF_H

#include "modelwatch/core.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MW_PERF_MISSING UINT32_MAX

/* A compensated (Neumaier) running sum: value = s + c. Mergeable by adding both. */
typedef struct mw_ksum {
    double s, c;
} mw_ksum;
void mw_ksum_add(mw_ksum *k, double x);
double mw_ksum_value(const mw_ksum *k);

/* ==== classification: confusion matrix (src/monitor/perf_class.c) ======== */

/* k x k counts, row = true class, column = predicted class (confusion_matrix). */
typedef struct mw_confusion mw_confusion;

mw_status mw_confusion_new(size_t k, mw_confusion **out);
void mw_confusion_free(mw_confusion *cm);
size_t mw_confusion_classes(const mw_confusion *cm);
uint64_t mw_confusion_total(const mw_confusion *cm);
/* Count of records of true class t predicted as p (0 outside the matrix). */
uint64_t mw_confusion_get(const mw_confusion *cm, size_t t, size_t p);
/* Adds count records (t, p); the matrix grows when a code is >= k (a class
 * first seen late, as labels arriving in the daemon). MW_EINVAL on
 * MW_PERF_MISSING or a code >= 2^20. */
mw_status mw_confusion_add(mw_confusion *cm, uint32_t t, uint32_t p, uint64_t count);
/* Adds n pairs; pairs where either code is MW_PERF_MISSING are skipped and
 * counted in *skipped (may be NULL). Codes must be < k (else MW_EINVAL and
 * nothing is added). */
mw_status mw_confusion_add_codes(mw_confusion *cm, const uint32_t *t, const uint32_t *p, size_t n,
                                 uint64_t *skipped);
/* dst += src (dst grows to src's classes). */
mw_status mw_confusion_merge(mw_confusion *dst, const mw_confusion *src);
/* Portable little-endian bytes: "MWCM", version, k, k*k counts. *buf is malloc'd. */
mw_status mw_confusion_serialize(const mw_confusion *cm, unsigned char **buf, size_t *len);
mw_status mw_confusion_deserialize(const void *buf, size_t len, mw_confusion **out, mw_error *err);

typedef struct mw_class_stats {
    double precision, recall, f1; /* 0 where the denominator is 0 (zero_division=0) */
    uint64_t support;             /* true records of the class */
    uint64_t predicted;           /* records predicted as the class */
    uint64_t tp;
    int present; /* the class occurs in the targets or the predictions: only
                    present classes enter the averages (sklearn's unique_labels) */
} mw_class_stats;

/* precision_recall_fscore_support, accuracy_score, balanced_accuracy_score. */
typedef struct mw_class_metrics {
    size_t k;         /* classes of the matrix (per_class entries) */
    size_t n_present; /* classes present (the averages' denominator) */
    uint64_t n;       /* records */
    double accuracy;
    double balanced_accuracy; /* mean recall over classes with support > 0 */
    double precision_micro, recall_micro, f1_micro;
    double precision_macro, recall_macro, f1_macro;
    double precision_weighted, recall_weighted, f1_weighted; /* weights = support */
    mw_class_stats *per_class; /* k entries; freed by mw_class_metrics_free */
} mw_class_metrics;

/* MW_EINVAL (metrics NaN) when the matrix holds no record. */
mw_status mw_confusion_metrics(const mw_confusion *cm, mw_class_metrics *out, mw_error *err);
void mw_class_metrics_free(mw_class_metrics *m);

/* ==== classification: scores, calibration sums (perf_class.c) ============= */

#define MW_ECE_BINS 10
/* log_loss's clipping in scikit-learn 1.2 (eps="auto" = float64 machine epsilon). */
#define MW_LOG_LOSS_EPS 2.220446049250313e-16

/*
 * Mergeable sums behind log_loss, brier_score_loss and the expected
 * calibration error (ECE, 10 equal-width bins on [0, 1], bin b = [b/10,
 * (b+1)/10), the last bin closed; see perf_class.c for the exact definition).
 * Plain data: may be copied; serialise with mw_calibration_serialize.
 */
typedef struct mw_calibration {
    uint64_t n;
    int binary;                    /* filled by add_binary (1) or add (0); not mixed */
    mw_ksum log_loss;              /* sum of -ln p(true class), clipped and renormalised */
    mw_ksum brier;                 /* binary: sum of (1[y = pos] - p)^2 */
    uint64_t bin_n[MW_ECE_BINS];   /* records per confidence bin */
    mw_ksum bin_conf[MW_ECE_BINS]; /* sum of confidences */
    mw_ksum bin_hit[MW_ECE_BINS];  /* binary: positives; multiclass: correct argmax */
} mw_calibration;

void mw_calibration_init(mw_calibration *c);
/* A binary record: is_pos = 1 when the true class is the positive class, p the
 * positive-class score in [0, 1]. MW_EINVAL for NaN or p outside [0, 1]. */
mw_status mw_calibration_add_binary(mw_calibration *c, int is_pos, double p, double eps);
/* A multiclass record: probs[0..k) the class scores (renormalised to sum 1 for
 * the log loss after clipping, as sklearn), y the true class (< k). MW_EINVAL
 * for NaN, negative scores or a zero sum. */
mw_status mw_calibration_add(mw_calibration *c, uint32_t y, const double *probs, size_t k,
                             double eps);
/* dst += src; MW_EINVAL when one is binary and the other is not (both non-empty). */
mw_status mw_calibration_merge(mw_calibration *dst, const mw_calibration *src);
double mw_calibration_log_loss(const mw_calibration *c); /* NaN when empty */
double mw_calibration_brier(const mw_calibration *c);    /* NaN when empty or multiclass */
double mw_calibration_ece(const mw_calibration *c);      /* NaN when empty */
#define MW_CALIBRATION_BYTES (8 + 8 + 8 + 32 + MW_ECE_BINS * 40)
void mw_calibration_serialize(const mw_calibration *c, unsigned char buf[MW_CALIBRATION_BYTES]);
mw_status mw_calibration_deserialize(const void *buf, size_t len, mw_calibration *out,
                                     mw_error *err);

/* Batch forms over whole arrays (y codes < k, no NaN; MW_EINVAL otherwise).
 * probs is row-major n x k. log_loss as sklearn.metrics.log_loss(y, probs,
 * labels=range(k), eps) (MW_EINVAL when k < 2); brier as brier_score_loss(y ==
 * pos, score). */
mw_status mw_log_loss(const uint32_t *y, const double *probs, size_t n, size_t k, double eps,
                      double *out, mw_error *err);
mw_status mw_brier_binary(const uint32_t *y, uint32_t pos, const double *score, size_t n,
                          double *out, mw_error *err);

/* ==== ranking metrics (src/monitor/perf_rank.c) =========================== */

/*
 * roc_auc_score and average_precision_score (binary: y == pos is positive),
 * exact with tied scores. Scores must be finite or infinite, not NaN. MW_EINVAL
 * with out = NaN when a class is absent: ROC AUC needs both classes (sklearn
 * raises); average precision with no positive is 0 (as sklearn, which warns).
 */
mw_status mw_roc_auc_binary(const uint32_t *y, uint32_t pos, const double *score, size_t n,
                            double *out, mw_error *err);
mw_status mw_average_precision_binary(const uint32_t *y, uint32_t pos, const double *score,
                                      size_t n, double *out, mw_error *err);
/* mw_roc_auc_binary with the work inside the score buckets spread over the
 * caller's runner (core.h) from 65,536 records on: the same value bit for
 * bit (the numerator is a sum of exact integers), on more cores. */
mw_status mw_roc_auc_binary_run(const uint32_t *y, uint32_t pos, const double *score, size_t n,
                                const mw_runner *runner, double *out, mw_error *err);
/* One-vs-rest macro averages from per-class scores (row-major n x k):
 * roc_auc_score(y, scores, multi_class='ovr', average='macro', labels=range(k))
 * and average_precision_score(label_binarize(y, range(k)), scores,
 * average='macro'). ROC AUC needs every class present in y (MW_EINVAL
 * otherwise, as sklearn). sklearn also requires rows summing to 1; that check
 * is the caller's. */
mw_status mw_roc_auc_ovr(const uint32_t *y, const double *scores, size_t n, size_t k, double *out,
                         mw_error *err);
mw_status mw_average_precision_ovr(const uint32_t *y, const double *scores, size_t n, size_t k,
                                   double *out, mw_error *err);

/*
 * Mergeable binary rank accumulator for windows: keeps every (score, label)
 * pair up to `cap` pairs (exact ROC AUC and AP, as the batch functions), and
 * alongside a histogram of MW_RANK_BINS equal-width bins on [0, 1] per class
 * (scores clipped). Past cap the pairs are dropped and the metrics come from the
 * histogram, treating scores within one bin as tied; *exact is then 0 and
 * *bound the largest possible |error| of the ROC AUC:
 *   0.5 * sum_b pos_b * neg_b / (P * N).
 */
#define MW_RANK_BINS 4096
typedef struct mw_rank_acc mw_rank_acc;
mw_status mw_rank_acc_new(size_t cap, mw_rank_acc **out);
void mw_rank_acc_free(mw_rank_acc *r);
mw_status mw_rank_acc_add(mw_rank_acc *r, double score, int is_pos); /* MW_EINVAL for NaN */
mw_status mw_rank_acc_merge(mw_rank_acc *dst, const mw_rank_acc *src);
mw_status mw_rank_acc_roc_auc(const mw_rank_acc *r, double *auc, int *exact, double *bound);
mw_status mw_rank_acc_average_precision(const mw_rank_acc *r, double *ap, int *exact);
mw_status mw_rank_acc_serialize(const mw_rank_acc *r, unsigned char **buf, size_t *len);
mw_status mw_rank_acc_deserialize(const void *buf, size_t len, mw_rank_acc **out, mw_error *err);

/* ==== regression (src/monitor/perf_reg.c) ================================= */

typedef struct mw_reg_metrics {
    uint64_t n;
    double mae;  /* mean_absolute_error */
    double mse;  /* mean_squared_error */
    double rmse; /* mean_squared_error(squared=False) */
    double mape; /* mean_absolute_percentage_error: mean |e| / max(|y|, DBL_EPSILON) */
    double r2;   /* r2_score (1 when y is constant and predicted exactly, else 0 then) */
    double max_error;
    double median_absolute_error; /* batch only: NaN from a mergeable state */
} mw_reg_metrics;

/* Mergeable regression sums (plain data). */
typedef struct mw_reg_state {
    uint64_t n;
    mw_ksum abs_err, sq_err, ape;
    double max_err;
    double shift;          /* the first y seen: sums below are of d = y - shift, */
    mw_ksum sum_d, sum_d2; /* exact differences (Sterbenz), so SS_tot keeps precision */
} mw_reg_state;

void mw_reg_init(mw_reg_state *s);
mw_status mw_reg_add(mw_reg_state *s, double y, double yhat); /* MW_EINVAL for NaN/inf */
void mw_reg_merge(mw_reg_state *dst, const mw_reg_state *src);
void mw_reg_state_metrics(const mw_reg_state *s, mw_reg_metrics *out);
#define MW_REG_STATE_BYTES (16 + 12 * 8)
void mw_reg_serialize(const mw_reg_state *s, unsigned char buf[MW_REG_STATE_BYTES]);
mw_status mw_reg_deserialize(const void *buf, size_t len, mw_reg_state *out, mw_error *err);
/* All metrics of n pairs (finite values; MW_EINVAL otherwise or when n == 0). */
mw_status mw_regression_metrics(const double *y, const double *yhat, size_t n, mw_reg_metrics *out,
                                mw_error *err);

/* ==== confidence-based performance estimation (src/monitor/perf_cbpe.c) ==== */

/* Isotonic regression, as sklearn IsotonicRegression(out_of_bounds='clip',
 * increasing=True): ties in x (within 1e-15, as sklearn's _make_unique) are
 * averaged, pool adjacent violators, then linear interpolation between knots,
 * x clipped to the fitted range. w may be NULL (unit weights). */
typedef struct mw_isotonic mw_isotonic;
mw_status mw_isotonic_fit(const double *x, const double *y, const double *w, size_t n,
                          mw_isotonic **out, mw_error *err);
double mw_isotonic_predict(const mw_isotonic *m, double x);
void mw_isotonic_free(mw_isotonic *m);

/*
 * CBPE. Fit on labelled reference data: y codes < k, scores row-major n x m
 * where m = k per-class scores, or m = 1 for a binary classifier's
 * positive-class score (k = 2, positive code 1). Each class's score is
 * calibrated against 1[y = class] by isotonic regression; with m = k the
 * calibrated row is renormalised to sum 1.
 */
typedef struct mw_cbpe mw_cbpe;
mw_status mw_cbpe_fit(const uint32_t *y, const double *scores, size_t n, size_t k, size_t m,
                      mw_cbpe **out, mw_error *err);
void mw_cbpe_free(mw_cbpe *c);
size_t mw_cbpe_classes(const mw_cbpe *c);
/* Calibrated class probabilities of one record (scores has m entries, probs k). */
mw_status mw_cbpe_calibrate(const mw_cbpe *c, const double *scores, double *probs);

typedef struct mw_cbpe_estimate {
    size_t k;
    uint64_t n;
    double *confusion; /* k x k expected counts, row = true class, col = predicted */
    double accuracy;
    double precision_macro, recall_macro, f1_macro;
    double precision, recall, f1; /* binary: of the positive class (code 1); else NaN */
    double roc_auc;               /* binary: expected AUC; multiclass: OvR macro of expected AUCs */
} mw_cbpe_estimate;

/* The confusion-based estimates (accuracy, precision/recall/F1 macro and, when
 * binary, of the positive class) from an expected confusion matrix conf (k x k,
 * row = true class, col = predicted: the sum over records of the calibrated
 * probabilities in the predicted class's column), npred (records predicted as
 * each class) and n records. Mergeable: sum conf, npred and n over windows.
 * Leaves out->confusion alone; roc_auc is NaN (it needs the records). */
void mw_cbpe_confusion_metrics(const double *conf, const uint64_t *npred, size_t k, uint64_t n,
                               mw_cbpe_estimate *out);
/* The fitted calibration as bytes (malloc'd), and back. */
mw_status mw_cbpe_serialize(const mw_cbpe *c, unsigned char **buf, size_t *len);
mw_status mw_cbpe_deserialize(const void *buf, size_t len, mw_cbpe **out, mw_error *err);
/* Estimates metrics of n unlabelled records from their predictions and scores. */
mw_status mw_cbpe_estimate_metrics(const mw_cbpe *c, const uint32_t *y_pred, const double *scores,
                                   size_t n, mw_cbpe_estimate *out, mw_error *err);
void mw_cbpe_estimate_free(mw_cbpe_estimate *e);

#ifdef __cplusplus
}
#endif
#endif
