/* Internal entry points of the report writers, one file per format, and
 * helpers they share (ordering of columns, counting quality issues). */
#ifndef MW_REPORT_INT_H
#define MW_REPORT_INT_H

#include "modelwatch/report.h"

void mw_report_drift_json(FILE *out, const mw_drift_report *r);
void mw_report_quality_json(FILE *out, const mw_drift_report *r);
void mw_report_profile_json(FILE *out, const mw_profile *p, const char *src, uint64_t rows);
void mw_report_drift_text(FILE *out, const mw_drift_report *r);
void mw_report_quality_text(FILE *out, const mw_drift_report *r);
void mw_report_profile_text(FILE *out, const mw_profile *p, const char *src, uint64_t rows);
void mw_report_drift_html(FILE *out, const mw_drift_report *r, int quality_only);
void mw_report_profile_html(FILE *out, const mw_profile *p, const char *src, uint64_t rows);

/* Column indices ordered by drift: drifted first, then by how far past (or
 * short of) its threshold each deciding statistic is; untested columns last.
 * order must hold r->ncols entries. */
void mw_report_drift_order(const mw_drift_report *r, size_t *order);
/* Severity of a column's drift result relative to its threshold (> 1: drifted). */
double mw_report_drift_score(const mw_column_report *c);

/* Quality findings of one column as short phrases ("missing 12.0% (+10.0)");
 * returns how many were written into out (at most max). */
size_t mw_report_column_issues(const mw_column_report *c, char out[][96], size_t max);

#endif
