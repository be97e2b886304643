/*
 * HTML reports: one self-contained file (inline CSS and SVG, no scripts, no
 * network), with a summary, the drift table, the quality findings and one
 * reference-vs-current histogram per column. Its size depends on the number of
 * columns only (at most 20 bins each), never on the row count: about 5 KB per
 * column.
 */
#include "report/report_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static void esc(FILE *out, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '&':
            fputs("&amp;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        default:
            fputc(*s, out);
        }
    }
}

static void num(FILE *out, double v) {
    if (isnan(v))
        fputs("&ndash;", out);
    else
        fprintf(out, "%.4g", v);
}

static void page_start(FILE *out, const char *title) {
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>", out);
    esc(out, title);
    fputs("</title>\n<style>\n"
          "body{font:14px/1.4 system-ui,sans-serif;margin:2em auto;max-width:1100px;color:#222}\n"
          "table{border-collapse:collapse;width:100%;margin:1em 0}\n"
          "th,td{padding:4px 8px;border-bottom:1px solid #ddd;text-align:left}\n"
          "td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
          ".drift{color:#b00020;font-weight:bold}.ok{color:#1b7f3b}\n"
          ".summary{padding:1em;border-radius:6px;background:#f3f5f8}\n"
          ".cards{display:flex;flex-wrap:wrap;gap:12px}\n"
          ".card{border:1px solid #ddd;border-radius:6px;padding:8px;width:340px}\n"
          ".card h3{font-size:14px;margin:0 0 4px}\n"
          ".legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 10px}\n"
          "</style></head><body>\n",
          out);
}

static void histogram_svg(FILE *out, const mw_column_report *c) {
    const mw_histogram *h = &c->hist;
    const int W = 320, H = 140, top = 8, bottom = 24;
    fprintf(out, "<svg width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\">", W, H, W, H);
    if (!h->nbins) {
        fputs("<text x=\"10\" y=\"70\">no values</text></svg>", out);
        return;
    }
    double maxv = 0;
    for (size_t i = 0; i < h->nbins; i++)
        maxv = fmax(maxv, fmax(h->ref[i], h->cur[i]));
    if (maxv <= 0) maxv = 1;
    double slot = (double)W / (double)h->nbins, bw = slot * 0.42, ph = H - top - bottom;
    for (size_t i = 0; i < h->nbins; i++) {
        double x = slot * (double)i + slot * 0.08;
        double hr = ph * h->ref[i] / maxv, hc = ph * h->cur[i] / maxv;
        fprintf(out, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#4e79a7\">",
                x, top + ph - hr, bw, hr);
        fputs("<title>", out);
        if (h->label[i])
            esc(out, h->label[i]);
        else
            fprintf(out, "%.4g to %.4g", h->lo[i], h->hi[i]);
        fprintf(out, ": reference %.2f%%, current %.2f%%</title></rect>", 100 * h->ref[i],
                100 * h->cur[i]);
        fprintf(out,
                "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#f28e2b\"/>",
                x + bw, top + ph - hc, bw, hc);
    }
    fprintf(out, "<line x1=\"0\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#888\"/>", top + ph, W,
            top + ph);
    if (c->type == MW_TYPE_NUMERIC) {
        fprintf(out, "<text x=\"2\" y=\"%d\" font-size=\"11\">%.4g</text>", H - 6, h->lo[0]);
        fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"11\" text-anchor=\"end\">%.4g</text>",
                W - 2, H - 6, h->hi[h->nbins - 1]);
    } else {
        fprintf(out, "<text x=\"2\" y=\"%d\" font-size=\"11\">%zu categories</text>", H - 6,
                h->nbins);
    }
    fputs("</svg>", out);
}

static void drift_table(FILE *out, const mw_drift_report *r) {
    size_t *order = malloc((r->ncols + 1) * sizeof *order);
    if (!order) return;
    mw_report_drift_order(r, order);
    fputs("<h2>Drift by column</h2><table><tr><th>column</th><th>type</th><th>test</th>"
          "<th>statistic</th><th>p-value</th><th>threshold</th><th>drift</th></tr>\n",
          out);
    for (size_t k = 0; k < r->ncols; k++) {
        const mw_column_report *c = &r->cols[order[k]];
        fputs("<tr><td>", out);
        esc(out, c->name);
        fprintf(out, "</td><td>%s%s</td>", mw_coltype_name(c->type),
                c->discrete ? " (discrete)" : "");
        if (!c->tested) {
            fputs("<td colspan=\"5\">skipped: ", out);
            esc(out, c->skip_reason);
            fputs("</td></tr>\n", out);
            continue;
        }
        fprintf(out, "<td>%s</td><td class=\"n\">", mw_test_name(c->drift_test));
        num(out, c->statistic);
        fputs("</td><td class=\"n\">", out);
        num(out, mw_test_has_p_value(c->drift_test) ? c->p_adjusted : NAN);
        fputs("</td><td class=\"n\">", out);
        num(out, c->threshold);
        fprintf(out, "</td><td class=\"%s\">%s</td></tr>\n", c->drifted ? "drift" : "ok",
                c->drifted ? "drift" : "ok");
    }
    fputs("</table>\n", out);
    free(order);
}

static void embeddings_table(FILE *out, const mw_drift_report *r) {
    fputs("<h2>Embedding drift</h2><table><tr><th>embedding</th><th>dim</th><th>rows (ref / "
          "cur)</th><th>MMD&sup2;</th><th>p-value</th><th>classifier AUC</th><th>largest "
          "shifts (dim: shift)</th><th>drift</th></tr>\n",
          out);
    for (size_t i = 0; i < r->nembeddings; i++) {
        const mw_embedding_report *e = &r->embeddings[i];
        const mw_embedding_result *x = &e->result;
        fputs("<tr><td>", out);
        esc(out, e->name);
        fprintf(out, "</td><td class=\"n\">%zu</td>", e->dim);
        if (!e->tested) {
            fputs("<td colspan=\"6\">skipped: ", out);
            esc(out, e->skip_reason);
            fputs("</td></tr>\n", out);
            continue;
        }
        fprintf(out, "<td class=\"n\">%zu / %zu</td><td class=\"n\">", x->n_ref, x->n_cur);
        num(out, x->mmd.statistic);
        fputs("</td><td class=\"n\">", out);
        num(out, x->mmd.p_value);
        fputs("</td><td class=\"n\">", out);
        num(out, x->auc);
        fputs("</td><td>", out);
        for (size_t k = 0; k < x->ntop; k++) {
            fprintf(out, "%s%zu: ", k ? ", " : "", x->top[k].dim);
            num(out, x->top[k].shift);
        }
        fprintf(out, "</td><td class=\"%s\">%s</td></tr>\n", x->drifted ? "drift" : "ok",
                x->drifted ? "drift" : "ok");
    }
    fputs("</table>\n", out);
}

static void quality_list(FILE *out, const mw_drift_report *r) {
    char issues[8][96];
    fputs("<h2>Data quality</h2><ul>\n", out);
    size_t total = 0;
    if (r->cur_duplicate_rows) {
        fprintf(out, "<li>%llu duplicate rows in current data</li>\n",
                (unsigned long long)r->cur_duplicate_rows);
        total++;
    }
    if (r->cur_empty_rows) {
        fprintf(out, "<li>%llu empty rows in current data</li>\n",
                (unsigned long long)r->cur_empty_rows);
        total++;
    }
    for (size_t i = 0; i < r->n_only_ref; i++, total++) {
        fputs("<li>column <b>", out);
        esc(out, r->only_ref[i]);
        fputs("</b> is missing from the current data</li>\n", out);
    }
    for (size_t i = 0; i < r->n_only_cur; i++, total++) {
        fputs("<li>column <b>", out);
        esc(out, r->only_cur[i]);
        fputs("</b> is new in the current data</li>\n", out);
    }
    for (size_t i = 0; i < r->ncols; i++) {
        size_t n = mw_report_column_issues(&r->cols[i], issues, 8);
        for (size_t k = 0; k < n; k++, total++) {
            fputs("<li><b>", out);
            esc(out, r->cols[i].name);
            fputs("</b>: ", out);
            esc(out, issues[k]);
            fputs("</li>\n", out);
        }
    }
    if (!total) fputs("<li>no issues found</li>\n", out);
    fputs("</ul>\n", out);
}

void mw_report_drift_html(FILE *out, const mw_drift_report *r, int quality_only) {
    page_start(out, quality_only ? "modelwatch data quality report" : "modelwatch drift report");
    fprintf(out, "<h1>%s</h1>\n<div class=\"summary\">",
            quality_only ? "Data quality" : "Data drift");
    fputs("<p>Reference: <b>", out);
    esc(out, r->reference);
    fprintf(out, "</b> (%llu rows) &middot; Current: <b>", (unsigned long long)r->ref_rows);
    esc(out, r->current);
    fprintf(out, "</b> (%llu rows)</p>", (unsigned long long)r->cur_rows);
    if (!quality_only)
        fprintf(out,
                "<p class=\"%s\">Dataset drift %s: %zu of %zu tested columns drifted "
                "(share %.3g, threshold %.3g, correction %s)</p>",
                r->dataset_drift ? "drift" : "ok", r->dataset_drift ? "detected" : "not detected",
                r->n_drifted, r->n_tested, r->drift_share, r->drift_share_threshold,
                mw_correction_name(r->correction));
    fputs("</div>\n", out);
    if (!quality_only) drift_table(out, r);
    if (!quality_only && r->nembeddings) embeddings_table(out, r);
    quality_list(out, r);
    fputs("<h2>Distributions</h2><p class=\"legend\"><span style=\"background:#4e79a7\"></span>"
          "reference<span style=\"background:#f28e2b\"></span>current</p><div class=\"cards\">\n",
          out);
    for (size_t i = 0; i < r->ncols; i++) {
        const mw_column_report *c = &r->cols[i];
        fputs("<div class=\"card\"><h3>", out);
        esc(out, c->name);
        if (c->tested && !quality_only)
            fprintf(out, " <span class=\"%s\">%s</span>", c->drifted ? "drift" : "ok",
                    c->drifted ? "drift" : "ok");
        fputs("</h3>", out);
        histogram_svg(out, c);
        fputs("</div>\n", out);
    }
    fputs("</div>\n<p><small>modelwatch " MW_VERSION "</small></p></body></html>\n", out);
}

void mw_report_profile_html(FILE *out, const mw_profile *p, const char *src, uint64_t rows) {
    page_start(out, "modelwatch profile");
    fputs("<h1>Profile of ", out);
    esc(out, src);
    fprintf(out, "</h1><p>%llu rows, %zu columns</p>\n", (unsigned long long)rows,
            mw_profile_ncols(p));
    fputs("<table><tr><th>column</th><th>type</th><th>missing</th><th>distinct</th><th>mean</th>"
          "<th>std</th><th>min</th><th>median</th><th>max</th><th>top values</th></tr>\n",
          out);
    for (size_t i = 0; i < mw_profile_ncols(p); i++) {
        mw_column_summary s;
        if (mw_profile_summary(p, i, &s)) continue;
        fputs("<tr><td>", out);
        esc(out, s.name);
        fprintf(out, "</td><td>%s</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td>",
                mw_coltype_name(s.type), (unsigned long long)s.missing,
                (unsigned long long)s.distinct);
        double cells[5] = {s.mean, s.stddev, s.min, s.quantiles[3], s.max};
        for (int k = 0; k < 5; k++) {
            fputs("<td class=\"n\">", out);
            num(out, cells[k]);
            fputs("</td>", out);
        }
        fputs("<td>", out);
        for (size_t t = 0; t < s.ntop && t < 5; t++) {
            esc(out, s.top[t]);
            fprintf(out, " (%llu)%s", (unsigned long long)s.top_count[t],
                    t + 1 < s.ntop ? ", " : "");
        }
        fputs("</td></tr>\n", out);
    }
    fputs("</table></body></html>\n", out);
}
