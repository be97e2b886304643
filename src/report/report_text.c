/*
 * Text reports for a terminal: a short summary and aligned tables that fit 80
 * columns. Column names longer than the name field are shortened with "~".
 * Drift rows are sorted by drift (mw_report_drift_order).
 */
#include "report/report_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define NAME_W 20

static void put_name(FILE *out, const char *name, int width) {
    int len = (int)strlen(name);
    if (len <= width)
        fprintf(out, "%-*s", width, name);
    else
        fprintf(out, "%.*s~", width - 1, name);
}

static void put_num(FILE *out, double v, int width) {
    if (isnan(v))
        fprintf(out, "%*s", width, "-");
    else if (isinf(v))
        fprintf(out, "%*s", width, v > 0 ? "inf" : "-inf");
    else
        fprintf(out, "%*.4g", width, v);
}

static const char *short_type(const mw_column_report *c) {
    if (c->type == MW_TYPE_CATEGORICAL) return "cat";
    return c->discrete ? "num*" : "num";
}

static void sources(FILE *out, const mw_drift_report *r) {
    fprintf(out, "reference  %s  (%llu rows)\n", r->reference, (unsigned long long)r->ref_rows);
    fprintf(out, "current    %s  (%llu rows)\n\n", r->current, (unsigned long long)r->cur_rows);
}

static void quality_section(FILE *out, const mw_drift_report *r) {
    char issues[8][96];
    uint64_t total = 0;
    fprintf(out, "Data quality\n");
    if (r->cur_duplicate_rows)
        fprintf(out, "  %llu duplicate rows in current data (reference: %llu)\n",
                (unsigned long long)r->cur_duplicate_rows,
                (unsigned long long)r->ref_duplicate_rows);
    if (r->cur_empty_rows)
        fprintf(out, "  %llu empty rows in current data\n", (unsigned long long)r->cur_empty_rows);
    for (size_t i = 0; i < r->n_only_ref; i++)
        fprintf(out, "  column %s is missing from the current data\n", r->only_ref[i]);
    for (size_t i = 0; i < r->n_only_cur; i++)
        fprintf(out, "  column %s is new in the current data (not in the reference)\n",
                r->only_cur[i]);
    total += (r->cur_duplicate_rows > 0) + (r->cur_empty_rows > 0) + r->n_only_ref + r->n_only_cur;
    for (size_t i = 0; i < r->ncols; i++) {
        size_t n = mw_report_column_issues(&r->cols[i], issues, 8);
        for (size_t k = 0; k < n; k++) {
            fputs("  ", out);
            put_name(out, r->cols[i].name, NAME_W);
            fprintf(out, " %s\n", issues[k]);
        }
        total += n;
    }
    if (!total) fprintf(out, "  no issues found\n");
}

static void embeddings_text(FILE *out, const mw_drift_report *r) {
    fprintf(out, "Embedding drift: %s\n", r->embedding_drift ? "DETECTED" : "not detected");
    for (size_t i = 0; i < r->nembeddings; i++) {
        const mw_embedding_report *e = &r->embeddings[i];
        const mw_embedding_result *x = &e->result;
        fprintf(out, "  %s (dim %zu): ", e->name, e->dim);
        if (!e->tested) {
            fprintf(out, "skipped: %s\n", e->skip_reason);
            continue;
        }
        fprintf(out, "%s\n    mmd2 %.4g (p %.4g, %zu permutations, bandwidth %.4g) %s\n",
                x->drifted ? "DRIFT" : "ok", x->mmd.statistic, x->mmd.p_value, x->permutations,
                x->mmd.bandwidth, x->mmd_drifted ? "DRIFT" : "ok");
        fprintf(out, "    classifier AUC %.4f (%zu-fold, threshold %.3g) %s\n", x->auc, x->folds,
                x->auc_threshold, x->classifier_drifted ? "DRIFT" : "ok");
        fprintf(out, "    rows: reference %zu (sampled %zu), current %zu (sampled %zu)", x->n_ref,
                x->n_ref_used, x->n_cur, x->n_cur_used);
        if (e->ref_invalid || e->cur_invalid)
            fprintf(out, "; invalid (wrong dimension or non-finite): reference %llu, current %llu",
                    (unsigned long long)e->ref_invalid, (unsigned long long)e->cur_invalid);
        fputs("\n    largest mean shifts (dim: ref -> cur, shift in pooled sd):", out);
        for (size_t k = 0; k < x->ntop; k++)
            fprintf(out, " %zu: %.3g -> %.3g (%+.3g)%s", x->top[k].dim, x->top[k].ref_mean,
                    x->top[k].cur_mean, x->top[k].shift, k + 1 < x->ntop ? "," : "");
        fputc('\n', out);
    }
    fputc('\n', out);
}

void mw_report_drift_text(FILE *out, const mw_drift_report *r) {
    sources(out, r);
    fprintf(out,
            "Dataset drift: %s\n  %zu of %zu tested columns drifted (share %.3g, threshold %.3g",
            r->dataset_drift ? "DETECTED" : "not detected", r->n_drifted, r->n_tested,
            r->drift_share, r->drift_share_threshold);
    if (r->correction != MW_CORRECTION_NONE)
        fprintf(out, ", %s correction", mw_correction_name(r->correction));
    fprintf(out, ")\n\n");
    fputs("COLUMN               TYPE  TEST              STATISTIC    P-VALUE  THRESH  DRIFT\n",
          out);
    size_t *order = malloc((r->ncols + 1) * sizeof *order);
    if (!order) return;
    mw_report_drift_order(r, order);
    for (size_t k = 0; k < r->ncols; k++) {
        const mw_column_report *c = &r->cols[order[k]];
        put_name(out, c->name, NAME_W);
        fprintf(out, " %-5s", short_type(c));
        if (!c->tested) {
            fprintf(out, " skipped: %.40s\n", c->skip_reason);
            continue;
        }
        fprintf(out, " %-16s", mw_test_name(c->drift_test));
        put_num(out, c->statistic, 10);
        fputc(' ', out);
        put_num(out, mw_test_has_p_value(c->drift_test) ? c->p_adjusted : NAN, 10);
        fputc(' ', out);
        put_num(out, c->threshold, 7);
        fprintf(out, "  %s\n", c->drifted ? "DRIFT" : "ok");
    }
    free(order);
    int any_discrete = 0;
    for (size_t i = 0; i < r->ncols; i++)
        any_discrete |= r->cols[i].discrete;
    if (any_discrete)
        fprintf(out,
                "(num* = numeric with <= 5 distinct reference values, tested as categories)\n");
    fputc('\n', out);
    if (r->nembeddings) embeddings_text(out, r);
    quality_section(out, r);
}

void mw_report_quality_text(FILE *out, const mw_drift_report *r) {
    sources(out, r);
    fputs("COLUMN               TYPE   MISSING%  REF MISS%   OUT-RANGE   UNSEEN  DISTINCT\n", out);
    for (size_t i = 0; i < r->ncols; i++) {
        const mw_column_report *c = &r->cols[i];
        put_name(out, c->name, NAME_W);
        fprintf(out, " %-5s", short_type(c));
        put_num(out, c->cur_count ? 100.0 * (double)c->cur_missing / (double)c->cur_count : 0, 10);
        put_num(out, c->ref_count ? 100.0 * (double)c->ref_missing / (double)c->ref_count : 0, 11);
        if (c->type == MW_TYPE_NUMERIC)
            fprintf(out, " %11llu %8s",
                    (unsigned long long)(c->cur_below_range + c->cur_above_range), "-");
        else
            fprintf(out, " %11s %8llu", "-", (unsigned long long)c->unseen_values);
        fprintf(out, " %9llu\n", (unsigned long long)c->cur_distinct);
    }
    fputc('\n', out);
    quality_section(out, r);
}

void mw_report_profile_text(FILE *out, const mw_profile *p, const char *src, uint64_t rows) {
    fprintf(out, "%s  (%llu rows, %zu columns)\n\n", src, (unsigned long long)rows,
            mw_profile_ncols(p));
    fputs("COLUMN               TYPE  MISSING%  DISTINCT      MEAN       STD       MIN       MAX\n",
          out);
    for (size_t i = 0; i < mw_profile_ncols(p); i++) {
        mw_column_summary s;
        if (mw_profile_summary(p, i, &s)) continue;
        put_name(out, s.name, NAME_W);
        fprintf(out, " %-4s", s.type == MW_TYPE_NUMERIC ? "num" : "cat");
        put_num(out, s.count ? 100.0 * (double)s.missing / (double)s.count : 0, 9);
        fprintf(out, " %8llu%s", (unsigned long long)s.distinct, s.distinct_exact ? " " : "~");
        if (s.type == MW_TYPE_NUMERIC) {
            put_num(out, s.mean, 9);
            fputc(' ', out);
            put_num(out, s.stddev, 9);
            fputc(' ', out);
            put_num(out, s.min, 9);
            fputc(' ', out);
            put_num(out, s.max, 9);
        } else {
            fputs(" top:", out);
            for (size_t t = 0; t < s.ntop && t < 3; t++)
                fprintf(out, " %.12s(%llu)", s.top[t], (unsigned long long)s.top_count[t]);
        }
        fputc('\n', out);
    }
}
