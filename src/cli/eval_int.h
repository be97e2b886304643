/* Internal to `modelwatch eval`: the types its evaluation (cmd_eval.c) and
 * its report writers (eval_report.c) share. */
#ifndef MW_CLI_EVAL_INT_H
#define MW_CLI_EVAL_INT_H

#include <stdio.h>

#include "cli/cli.h"
#include "cli/labels.h"
#include "modelwatch/perf.h"

typedef struct eval_args {
    const char *file, *reference, *target, *pred, *scores, *pos_label, *output;
    int task, estimate;
    mw_report_format format;
} eval_args;

#define MAX_WARN 32
typedef struct warns {
    char *msg[MAX_WARN];
    size_t n;
} warns;

typedef struct result {
    const char *task;
    size_t rows, evaluated;
    uint64_t missing_target, missing_pred, unknown_pred;
    labels L;
    mw_confusion *cm;
    mw_class_metrics cls;
    int has_cls;
    double roc_auc, ap, log_loss, brier, ece;
    uint64_t scored;
    mw_reg_metrics reg;
    int has_reg;
    /* estimate */
    int has_est;
    mw_cbpe_estimate est;
    size_t ref_rows;
    warns w;
} result;

/* The report: JSON, or text/HTML (html != 0). */
void mw_eval_write_json(FILE *f, const eval_args *a, const result *R);
void mw_eval_write_text(FILE *f, int html, const eval_args *a, const result *R);

#endif
