/*
 * The report of `modelwatch eval` (cmd_eval.c computes it): JSON with the
 * scikit-learn function names as keys, and a text or self-contained HTML table.
 */
#include "cli/eval_int.h"
#include "report/json_writer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- report writing --------------------------------------------------------- */

static void json_labels(mw_json *j, const labels *L) {
    mw_json_begin_array(j);
    for (size_t c = 0; c < L->k; c++) {
        if (L->numeric)
            mw_json_number(j, L->num[c]);
        else
            mw_json_string(j, L->text[c]);
    }
    mw_json_end_array(j);
}

void mw_eval_write_json(FILE *f, const eval_args *a, const result *R) {
    mw_json j;
    mw_json_init(&j, f, 1);
    mw_json_begin_object(&j);
    mw_json_key(&j, "file");
    mw_json_string(&j, a->file);
    mw_json_key(&j, "task");
    mw_json_string(&j, R->task);
    mw_json_key(&j, "rows");
    mw_json_uint(&j, R->rows);
    mw_json_key(&j, "rows_evaluated");
    mw_json_uint(&j, R->evaluated);
    if (R->has_reg) {
        const mw_reg_metrics *m = &R->reg;
        mw_json_kv_number(&j, "mae", m->mae);
        mw_json_kv_number(&j, "mse", m->mse);
        mw_json_kv_number(&j, "rmse", m->rmse);
        mw_json_kv_number(&j, "mape", m->mape);
        mw_json_kv_number(&j, "r2", m->r2);
        mw_json_kv_number(&j, "max_error", m->max_error);
        mw_json_kv_number(&j, "median_absolute_error", m->median_absolute_error);
    }
    char buf[40];
    if (R->has_cls) {
        const mw_class_metrics *m = &R->cls;
        mw_json_kv_number(&j, "accuracy", m->accuracy);
        mw_json_kv_number(&j, "balanced_accuracy", m->balanced_accuracy);
        mw_json_kv_number(&j, "precision_macro", m->precision_macro);
        mw_json_kv_number(&j, "recall_macro", m->recall_macro);
        mw_json_kv_number(&j, "f1_macro", m->f1_macro);
        mw_json_kv_number(&j, "precision_micro", m->precision_micro);
        mw_json_kv_number(&j, "recall_micro", m->recall_micro);
        mw_json_kv_number(&j, "f1_micro", m->f1_micro);
        mw_json_kv_number(&j, "precision_weighted", m->precision_weighted);
        mw_json_kv_number(&j, "recall_weighted", m->recall_weighted);
        mw_json_kv_number(&j, "f1_weighted", m->f1_weighted);
        mw_json_kv_number(&j, "roc_auc", R->roc_auc);
        mw_json_kv_number(&j, "average_precision", R->ap);
        mw_json_kv_number(&j, "log_loss", R->log_loss);
        mw_json_kv_number(&j, "brier", R->brier);
        mw_json_kv_number(&j, "ece", R->ece);
        mw_json_key(&j, "rows_scored");
        mw_json_uint(&j, R->scored);
        mw_json_key(&j, "per_class");
        mw_json_begin_object(&j);
        for (size_t c = 0; c < R->L.k; c++) {
            if (!m->per_class[c].present) continue;
            mw_json_key(&j, mw_labels_str(&R->L, c, buf));
            mw_json_begin_object(&j);
            mw_json_kv_number(&j, "precision", m->per_class[c].precision);
            mw_json_kv_number(&j, "recall", m->per_class[c].recall);
            mw_json_kv_number(&j, "f1", m->per_class[c].f1);
            mw_json_key(&j, "support");
            mw_json_uint(&j, m->per_class[c].support);
            mw_json_end_object(&j);
        }
        mw_json_end_object(&j);
        /* confusion matrix over the present classes, as confusion_matrix(y, yhat) */
        labels P = {R->L.numeric, 0, NULL, NULL};
        size_t *idx = malloc((R->L.k ? R->L.k : 1) * sizeof *idx);
        if (idx) {
            P.num = R->L.numeric ? malloc((R->L.k ? R->L.k : 1) * sizeof(double)) : NULL;
            P.text = R->L.numeric ? NULL : malloc((R->L.k ? R->L.k : 1) * sizeof(char *));
            for (size_t c = 0; c < R->L.k; c++)
                if (m->per_class[c].present) {
                    idx[P.k] = c;
                    if (P.num) P.num[P.k] = R->L.num[c];
                    if (P.text) P.text[P.k] = R->L.text[c];
                    P.k++;
                }
            mw_json_key(&j, "confusion_matrix");
            mw_json_begin_object(&j);
            mw_json_key(&j, "labels");
            json_labels(&j, &P);
            mw_json_key(&j, "matrix");
            mw_json_begin_array(&j);
            for (size_t a1 = 0; a1 < P.k; a1++) {
                mw_json_begin_array(&j);
                for (size_t b1 = 0; b1 < P.k; b1++)
                    mw_json_uint(&j, mw_confusion_get(R->cm, idx[a1], idx[b1]));
                mw_json_end_array(&j);
            }
            mw_json_end_array(&j);
            mw_json_end_object(&j);
            free(P.num);
            free(P.text);
            free(idx);
        }
    }
    if (R->has_est) {
        const mw_cbpe_estimate *e = &R->est;
        mw_json_key(&j, "reference_rows");
        mw_json_uint(&j, R->ref_rows);
        mw_json_key(&j, "estimated");
        mw_json_begin_object(&j);
        mw_json_kv_number(&j, "accuracy", e->accuracy);
        mw_json_kv_number(&j, "precision_macro", e->precision_macro);
        mw_json_kv_number(&j, "recall_macro", e->recall_macro);
        mw_json_kv_number(&j, "f1_macro", e->f1_macro);
        if (e->k == 2) {
            mw_json_kv_number(&j, "precision", e->precision);
            mw_json_kv_number(&j, "recall", e->recall);
            mw_json_kv_number(&j, "f1", e->f1);
        }
        mw_json_kv_number(&j, "roc_auc", e->roc_auc);
        mw_json_key(&j, "confusion_matrix");
        mw_json_begin_object(&j);
        mw_json_key(&j, "labels");
        json_labels(&j, &R->L);
        mw_json_key(&j, "matrix");
        mw_json_begin_array(&j);
        for (size_t a1 = 0; a1 < e->k; a1++) {
            mw_json_begin_array(&j);
            for (size_t b1 = 0; b1 < e->k; b1++)
                mw_json_number(&j, e->confusion[a1 * e->k + b1]);
            mw_json_end_array(&j);
        }
        mw_json_end_array(&j);
        mw_json_end_object(&j);
        mw_json_end_object(&j);
    }
    mw_json_key(&j, "skipped");
    mw_json_begin_object(&j);
    mw_json_key(&j, "missing_target");
    mw_json_uint(&j, R->missing_target);
    mw_json_key(&j, "missing_prediction");
    mw_json_uint(&j, R->missing_pred);
    mw_json_end_object(&j);
    mw_json_key(&j, "warnings");
    mw_json_begin_array(&j);
    for (size_t i = 0; i < R->w.n; i++)
        mw_json_string(&j, R->w.msg[i]);
    mw_json_end_array(&j);
    mw_json_end_object(&j);
    fputc('\n', f);
}

static void text_row(FILE *f, const char *name, double v) {
    if (isnan(v))
        fprintf(f, "  %-28s n/a\n", name);
    else
        fprintf(f, "  %-28s %.6f\n", name, v);
}

static void html_row(FILE *f, const char *name, double v) {
    if (isnan(v))
        fprintf(f, "<tr><td>%s</td><td>n/a</td></tr>\n", name);
    else
        fprintf(f, "<tr><td>%s</td><td>%.6f</td></tr>\n", name, v);
}

static void html_escape(FILE *f, const char *s) {
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '"')
            fputs("&quot;", f);
        else
            fputc(*s, f);
    }
}

void mw_eval_write_text(FILE *f, int html, const eval_args *a, const result *R) {
    void (*row)(FILE *, const char *, double) = text_row;
    if (html) {
        fputs(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>modelwatch eval</title>\n"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:2px 8px;text-align:right}"
            "td:first-child{text-align:left}</style></head><body>\n<h1>Model performance: ",
            f);
        html_escape(f, a->file);
        fprintf(f, "</h1>\n<p>%s, %zu rows, %zu evaluated</p>\n<table>\n", R->task, R->rows,
                R->evaluated);
        row = html_row;
    } else {
        fprintf(f, "Model performance: %s\n  task %s, %zu rows, %zu evaluated\n\n", a->file,
                R->task, R->rows, R->evaluated);
    }
#define ROW(name, v) row(f, name, v)
    if (R->has_reg) {
        ROW("mae", R->reg.mae);
        ROW("mse", R->reg.mse);
        ROW("rmse", R->reg.rmse);
        ROW("mape", R->reg.mape);
        ROW("r2", R->reg.r2);
        ROW("max_error", R->reg.max_error);
        ROW("median_absolute_error", R->reg.median_absolute_error);
    }
    if (R->has_cls) {
        const mw_class_metrics *m = &R->cls;
        ROW("accuracy", m->accuracy);
        ROW("balanced_accuracy", m->balanced_accuracy);
        ROW("precision_macro", m->precision_macro);
        ROW("recall_macro", m->recall_macro);
        ROW("f1_macro", m->f1_macro);
        ROW("precision_weighted", m->precision_weighted);
        ROW("recall_weighted", m->recall_weighted);
        ROW("f1_weighted", m->f1_weighted);
        ROW("f1_micro", m->f1_micro);
        ROW("roc_auc", R->roc_auc);
        ROW("average_precision", R->ap);
        ROW("log_loss", R->log_loss);
        ROW("brier", R->brier);
        ROW("ece", R->ece);
    }
    if (R->has_est) {
        if (!html) fprintf(f, "\n  estimated (CBPE, reference %zu rows):\n", R->ref_rows);
        ROW("estimated accuracy", R->est.accuracy);
        ROW("estimated precision_macro", R->est.precision_macro);
        ROW("estimated recall_macro", R->est.recall_macro);
        ROW("estimated f1_macro", R->est.f1_macro);
        ROW("estimated roc_auc", R->est.roc_auc);
    }
#undef ROW
    char buf[40];
    if (R->has_cls) {
        if (html)
            fputs("</table>\n<h2>Per class</h2>\n<table><tr><th>class</th><th>precision</th>"
                  "<th>recall</th><th>f1</th><th>support</th></tr>\n",
                  f);
        else
            fprintf(f, "\n  %-20s %10s %10s %10s %10s\n", "class", "precision", "recall", "f1",
                    "support");
        for (size_t c = 0; c < R->L.k; c++) {
            const mw_class_stats *s = &R->cls.per_class[c];
            if (!s->present) continue;
            const char *nm = mw_labels_str(&R->L, c, buf);
            if (html) {
                fputs("<tr><td>", f);
                html_escape(f, nm);
                fprintf(f, "</td><td>%.6f</td><td>%.6f</td><td>%.6f</td><td>%llu</td></tr>\n",
                        s->precision, s->recall, s->f1, (unsigned long long)s->support);
            } else {
                fprintf(f, "  %-20.20s %10.6f %10.6f %10.6f %10llu\n", nm, s->precision, s->recall,
                        s->f1, (unsigned long long)s->support);
            }
        }
    }
    if (html) fputs("</table>\n", f);
    if (R->missing_target || R->missing_pred) {
        if (html)
            fprintf(f, "<p>skipped: %llu rows without a target, %llu without a prediction</p>\n",
                    (unsigned long long)R->missing_target, (unsigned long long)R->missing_pred);
        else
            fprintf(f, "\n  skipped: %llu rows without a target, %llu without a prediction\n",
                    (unsigned long long)R->missing_target, (unsigned long long)R->missing_pred);
    }
    for (size_t i = 0; i < R->w.n; i++) {
        if (html) {
            fputs("<p>warning: ", f);
            html_escape(f, R->w.msg[i]);
            fputs("</p>\n", f);
        } else {
            fprintf(f, "  warning: %s\n", R->w.msg[i]);
        }
    }
    if (html) fputs("</body></html>\n", f);
}
