/*
 * Estimated performance of a window before its labels arrive (CBPE, perf.h):
 * each record's class scores are calibrated on the labelled reference and its
 * calibrated probabilities go into the column of its predicted class of an
 * expected confusion matrix, whose sums give the expected accuracy,
 * precision, recall and F1. The matrix is plain sums, so it costs k*k doubles
 * per window whatever the traffic.
 */
#include "monitor/labels_int.h"
#include "monitor/live_int.h"

#include <math.h>
#include <string.h>

#define MAX_STACK_CLASSES 64

void mw_window_cbpe_observe(mw_window *w, const mw_base_perf *p, const mw_record *rec) {
    size_t k = p->k;
    double scores[MAX_STACK_CLASSES], probs[MAX_STACK_CLASSES];
    char buf[32];
    size_t len, found = 0;
    uint32_t pred, code;
    const char *cls = mw_labels_class_text(&rec->prediction, buf, &len);
    if (k > MAX_STACK_CLASSES || !cls || !mw_dict_find(p->class_codes, cls, len, &pred)) {
        w->cbpe_skipped += rec->prediction.kind != MW_VALUE_MISSING || rec->nscores;
        return;
    }
    for (size_t i = 0; i < k; i++)
        scores[i] = NAN;
    for (size_t i = 0; i < rec->nscores; i++) {
        const mw_feature *s = &rec->scores[i];
        if (s->kind == MW_VALUE_NUMBER && mw_dict_find(p->class_codes, s->name, s->name_len, &code) &&
            isnan(scores[code])) {
            scores[code] = s->number;
            found++;
        }
    }
    if (found < k || mw_cbpe_calibrate(p->cbpe, scores, probs) != MW_OK) {
        w->cbpe_skipped++;
        return;
    }
    for (size_t t = 0; t < k; t++)
        w->cbpe_conf[t * k + pred] += probs[t];
    w->cbpe_npred[pred]++;
    w->cbpe_n++;
}

int mw_window_cbpe_estimate(const mw_window *w, mw_cbpe_estimate *out) {
    memset(out, 0, sizeof *out);
    if (!w->cbpe_k || !w->cbpe_n) return 0;
    mw_cbpe_confusion_metrics(w->cbpe_conf, w->cbpe_npred, w->cbpe_k, w->cbpe_n, out);
    return 1;
}
