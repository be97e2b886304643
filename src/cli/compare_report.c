/*
 * The report of `modelwatch compare` (cmd_compare.c computes it): JSON with
 * the keys of its help and README, or a text table of at most 80 columns.
 */
#include "cli/compare_int.h"
#include "report/json_writer.h"

#include <math.h>
#include <string.h>

/* {"baseline_right_candidate_wrong": lost, "baseline_wrong_candidate_right": gained} members */
static void json_flips(mw_json *j, uint64_t lost, uint64_t gained) {
    mw_json_kv_uint(j, "baseline_right_candidate_wrong", lost);
    mw_json_kv_uint(j, "baseline_wrong_candidate_right", gained);
}

void mw_compare_write_json(FILE *f, const compare_args *a, const compare_result *R) {
    mw_json j;
    mw_json_init(&j, f, 1);
    mw_json_begin_object(&j);
    mw_json_kv_string(&j, "golden", a->golden);
    mw_json_kv_string(&j, "task", R->task);
    mw_json_kv_uint(&j, "rows", R->rows);
    mw_json_kv_string(&j, "target", a->target);
    mw_json_kv_string(&j, "baseline", a->baseline);
    mw_json_kv_string(&j, "candidate", a->candidate);
    mw_json_kv_number(&j, "agreement", R->agreement);
    mw_json_key(&j, "mcnemar");
    if (R->classification) {
        mw_json_begin_object(&j);
        mw_json_kv_number(&j, "statistic", R->mcnemar.statistic);
        mw_json_kv_number(&j, "p_value", R->mcnemar.p_value);
        json_flips(&j, R->lost, R->gained);
        mw_json_end_object(&j);
    } else {
        mw_json_null(&j);
    }
    mw_json_key(&j, "flips");
    if (R->classification) {
        char buf[40];
        mw_json_begin_object(&j);
        for (size_t c = 0; c < R->L.k; c++) {
            mw_json_key(&j, mw_labels_str(&R->L, c, buf));
            mw_json_begin_object(&j);
            json_flips(&j, R->lost_by_class[c], R->gained_by_class[c]);
            mw_json_end_object(&j);
        }
        mw_json_end_object(&j);
    } else {
        mw_json_null(&j);
    }
    mw_json_key(&j, "metrics");
    mw_json_begin_object(&j);
    for (size_t i = 0; i < R->nm; i++) {
        const cmp_metric *m = &R->m[i];
        mw_json_key(&j, m->name);
        mw_json_begin_object(&j);
        mw_json_kv_number(&j, "baseline", m->baseline);
        mw_json_kv_number(&j, "candidate", m->candidate);
        mw_json_kv_number(&j, "delta", m->delta);
        mw_json_key(&j, "ci");
        if (isnan(m->lo)) {
            mw_json_null(&j);
        } else {
            mw_json_begin_array(&j);
            mw_json_number(&j, m->lo);
            mw_json_number(&j, m->hi);
            mw_json_end_array(&j);
        }
        mw_json_kv_bool(&j, "greater_is_better", m->greater_is_better);
        mw_json_end_object(&j);
    }
    mw_json_end_object(&j);
    mw_json_key(&j, "bootstrap");
    mw_json_begin_object(&j);
    mw_json_kv_uint(&j, "resamples", R->resamples);
    mw_json_kv_uint(&j, "seed", a->seed);
    mw_json_kv_number(&j, "confidence", a->confidence);
    mw_json_kv_string(&j, "quantiles", "linear");
    mw_json_kv_uint(&j, "resamples_with_nan", R->nan_resamples);
    mw_json_end_object(&j);
    mw_json_key(&j, "gate");
    mw_json_begin_object(&j);
    mw_json_kv_bool(&j, "passed", R->passed);
    mw_json_kv_string(&j, "rules", a->nthr ? "thresholds" : "default");
    mw_json_kv_number(&j, "alpha", a->alpha);
    mw_json_key(&j, "failures");
    mw_json_begin_array(&j);
    for (size_t i = 0; i < R->nfail; i++) {
        const cmp_failure *x = &R->fail[i];
        mw_json_begin_object(&j);
        mw_json_kv_string(&j, "metric", x->metric);
        mw_json_kv_string(&j, "rule", x->rule);
        mw_json_kv_number(&j, "baseline", x->baseline);
        mw_json_kv_number(&j, "candidate", x->candidate);
        mw_json_kv_number(&j, "limit", x->limit);
        mw_json_kv_string(&j, "message", x->message);
        mw_json_end_object(&j);
    }
    mw_json_end_array(&j);
    mw_json_end_object(&j);
    mw_json_end_object(&j);
    fputc('\n', f);
}

void mw_compare_write_text(FILE *f, const compare_args *a, const compare_result *R) {
    fprintf(f, "Regression gate: %s\n  %s, %zu rows; target %s, baseline %s, candidate %s\n\n",
            a->golden, R->task, R->rows, a->target, a->baseline, a->candidate);
    /* at most 2 + 18 + 3 * 11 + 2 + 22 = 77 columns */
    fprintf(f, "  %-18s %10s %10s %10s  %g%% CI of delta\n", "metric", "baseline", "candidate",
            "delta", 100 * a->confidence);
    for (size_t i = 0; i < R->nm; i++) {
        const cmp_metric *m = &R->m[i];
        fprintf(f, "  %-18.18s %10.5g %10.5g %+10.4g", m->name, m->baseline, m->candidate,
                m->delta);
        if (isnan(m->lo))
            fputs("  -\n", f);
        else
            fprintf(f, "  [%+.3g, %+.3g]\n", m->lo, m->hi);
    }
    if (R->resamples)
        fprintf(f, "  (paired bootstrap: %llu resamples, seed %llu)\n",
                (unsigned long long)R->resamples, (unsigned long long)a->seed);
    if (R->classification) {
        fprintf(f,
                "\n  agreement %.6f; baseline right and candidate wrong on %llu rows, the\n"
                "  reverse on %llu; McNemar's exact test: statistic %.0f, p = %.4g\n",
                R->agreement, (unsigned long long)R->lost, (unsigned long long)R->gained,
                R->mcnemar.statistic, R->mcnemar.p_value);
        fprintf(f, "\n  %-30s %22s %22s\n", "flips by true class", "baseline right,",
                "baseline wrong,");
        fprintf(f, "  %-30s %22s %22s\n", "", "candidate wrong", "candidate right");
        char buf[40];
        for (size_t c = 0; c < R->L.k; c++)
            fprintf(f, "  %-30.30s %22llu %22llu\n", mw_labels_str(&R->L, c, buf),
                    (unsigned long long)R->lost_by_class[c],
                    (unsigned long long)R->gained_by_class[c]);
    }
    fprintf(f, "\nGate: %s (%s rules)\n", R->passed ? "passed" : "FAILED",
            a->nthr ? "--threshold" : "default");
    for (size_t i = 0; i < R->nfail; i++) {
        /* wrap the message at 76 columns after "  - " */
        const char *s = R->fail[i].message;
        const char *lead = "  - ";
        while (*s) {
            size_t len = strlen(s), cut = len;
            if (len > 74) {
                cut = 74;
                while (cut > 0 && s[cut] != ' ')
                    cut--;
                if (!cut) cut = 74;
            }
            fprintf(f, "%s%.*s\n", lead, (int)cut, s);
            s += cut;
            while (*s == ' ')
                s++;
            lead = "    ";
        }
    }
}
