/*
 * modelwatch reports: drift, quality and profile reports as text (an aligned
 * table for an 80-column terminal), JSON (the contract other tools read) and
 * HTML (one self-contained file with inline SVG, no network access).
 * Writers write to a caller-provided stream; they never open files themselves.
 */
#ifndef MODELWATCH_REPORT_H
#define MODELWATCH_REPORT_H

#include <stdio.h>

#include "modelwatch/drift.h"
#include "modelwatch/profile.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mw_report_format {
    MW_FORMAT_TEXT = 0,
    MW_FORMAT_JSON,
    MW_FORMAT_HTML
} mw_report_format;

/* 1 and the format for "text", "json" or "html", else 0. */
int mw_report_format_from_name(const char *name, mw_report_format *fmt);

/* The drift report (quality included as extra keys / sections). */
mw_status mw_report_drift(FILE *out, const mw_drift_report *r, mw_report_format fmt);
/* The data-quality report of the same comparison. */
mw_status mw_report_quality(FILE *out, const mw_drift_report *r, mw_report_format fmt);
/* A closed window's result (the daemon's window JSON): the drift report of the
 * window plus where and when it was. */
typedef struct mw_window_meta {
    const char *model, *version;
    double start, end; /* seconds since the epoch */
    uint64_t records, late;
    /* outliers (method NULL: no detector) */
    const char *outlier_method;
    uint64_t scored, outliers;
    double expected_share, threshold, p_value; /* binomial test: more outliers than expected */
    /* serving telemetry of the window (src/monitor/serving.h), and its latency
     * percentiles in milliseconds */
    const struct mw_serving *serving;
    double latency_p50, latency_p95, latency_p99;
    /* estimated performance (CBPE) of the window, NULL when none */
    const struct mw_cbpe_estimate *estimated;
    uint64_t estimated_skipped; /* records with outputs that could not be estimated */
} mw_window_meta;
mw_status mw_report_window_json(FILE *out, const mw_drift_report *r, const mw_window_meta *w);

/* Number of data-quality findings in the comparison (what the quality report lists). */
uint64_t mw_report_quality_issue_count(const mw_drift_report *r);
/* A profile of one data set. */
mw_status mw_report_profile(FILE *out, const mw_profile *p, const char *source, uint64_t rows,
                            mw_report_format fmt);

#ifdef __cplusplus
}
#endif
#endif
