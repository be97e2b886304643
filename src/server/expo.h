/*
 * Prometheus exposition: a writer of the text format 0.0.4 or OpenMetrics 1.0.0
 * into a growable buffer, and a thread-safe histogram (mw_histo) whose snapshot
 * the writer turns into _bucket/_sum/_count samples. Internal to the daemon.
 *
 * Usage:
 *     mw_expo e;
 *     mw_expo_init(&e, mw_expo_wants_openmetrics(accept));
 *     mw_expo_family(&e, "modelwatch_records_total", MW_EXPO_COUNTER, "Records accepted.");
 *     const char *names[] = {"model"}, *values[] = {"fraud"};
 *     mw_expo_sample(&e, NULL, names, values, 1, 42);
 *     mw_expo_finish(&e);          // "# EOF" in OpenMetrics
 *     ... e.buf, e.len, mw_expo_content_type(e.openmetrics) ...
 *     mw_expo_free(&e);
 *
 * Family names: counters may be given with or without "_total" and info metrics
 * with or without "_info"; the writer puts the right names on the TYPE line and
 * the samples for each format (OpenMetrics: "# TYPE x counter" + "x_total";
 * 0.0.4: "# TYPE x_total counter" + "x_total"; info: OpenMetrics "# TYPE x info"
 * + "x_info", 0.0.4 "# TYPE x_info gauge" + "x_info").
 *
 * Errors: a call with an invalid metric or label name returns MW_EINVAL and
 * writes nothing (the output stays valid). An allocation failure sets `failed`;
 * later calls are no-ops and mw_expo_finish returns MW_ENOMEM.
 * Ownership: label names/values and strings are borrowed for the call only; the
 * buffer belongs to the mw_expo until mw_expo_free (or mw_expo_take).
 */
#ifndef MW_SERVER_EXPO_H
#define MW_SERVER_EXPO_H

#include "modelwatch/core.h"

#include <stddef.h>
#include <stdint.h>

typedef enum mw_expo_type {
    MW_EXPO_COUNTER,
    MW_EXPO_GAUGE,
    MW_EXPO_HISTOGRAM,
    MW_EXPO_INFO,
    MW_EXPO_UNTYPED /* "untyped" in 0.0.4, "unknown" in OpenMetrics */
} mw_expo_type;

typedef struct mw_expo {
    char *buf; /* NUL-terminated output */
    size_t len, cap;
    int openmetrics;
    int failed;     /* allocation failure: output truncated */
    int has_family; /* a valid family is open */
    mw_expo_type type;
    char name[256]; /* base name: without _total (counter) / _info (info) */
    size_t name_len;
    unsigned errors; /* number of calls rejected with MW_EINVAL */
} mw_expo;

/* 1 when an Accept header asks for application/openmetrics-text (q > 0). NULL -> 0. */
int mw_expo_wants_openmetrics(const char *accept);
/* Content-Type for the format. */
const char *mw_expo_content_type(int openmetrics);

void mw_expo_init(mw_expo *e, int openmetrics);
/* Empties the buffer (keeping its memory) and the family state. */
void mw_expo_reset(mw_expo *e);
void mw_expo_free(mw_expo *e);
/* Hands the buffer to the caller (free() it); *len gets its length. The writer
 * is left empty and reusable. Returns NULL when empty or after failure. */
char *mw_expo_take(mw_expo *e, size_t *len);

/* Starts a family: "# HELP" (when help is non-NULL) and "# TYPE" lines.
 * name must match [a-zA-Z_:][a-zA-Z0-9_:]*. */
mw_status mw_expo_family(mw_expo *e, const char *name, mw_expo_type type, const char *help);

/*
 * One sample of the current family: name = family name + suffix, where a NULL
 * suffix means the natural one ("_total" for counters, "_info" for info, "" for
 * gauges and untyped). Label names must match [a-zA-Z_][a-zA-Z0-9_]*, must not
 * start with "__" and must be distinct; values are escaped. nlabels may be 0
 * (names/values then may be NULL).
 */
mw_status mw_expo_sample(mw_expo *e, const char *suffix, const char *const *names,
                         const char *const *values, size_t nlabels, double value);
/* Same with an exact integer value. */
mw_status mw_expo_sample_u64(mw_expo *e, const char *suffix, const char *const *names,
                             const char *const *values, size_t nlabels, uint64_t value);

/*
 * One histogram series of the current (histogram) family: counts[i] is the
 * number of observations in (bounds[i-1], bounds[i]] for i < nbounds and
 * counts[nbounds] those above the last bound; written cumulatively as
 * _bucket{le="..."} ending with le="+Inf", then _sum and _count (= the +Inf
 * bucket). bounds must be strictly increasing and finite; "le" is reserved.
 */
mw_status mw_expo_histogram(mw_expo *e, const char *const *names, const char *const *values,
                            size_t nlabels, const double *bounds, size_t nbounds,
                            const uint64_t *counts, double sum);

/* Ends the exposition ("# EOF" in OpenMetrics). MW_ENOMEM when a write failed. */
mw_status mw_expo_finish(mw_expo *e);

/* Formats v as the exposition does (integers without exponent, +Inf, -Inf,
 * NaN, shortest round-trip otherwise). out needs 32 bytes; returns length. */
size_t mw_expo_format_double(double v, char out[32]);

/* 1 when s is a valid label name (and not reserved "__..."). */
int mw_expo_valid_label_name(const char *s);
/* 1 when s is a valid metric name. */
int mw_expo_valid_metric_name(const char *s);

/* ---- thread-safe histogram ---- */

typedef struct mw_histo mw_histo;

/* Prometheus' default latency buckets in seconds (.005 ... 10), 11 bounds. */
extern const double mw_histo_default_seconds[11];

/* bounds: strictly increasing, finite, nbounds >= 0 (copied). */
mw_status mw_histo_new(const double *bounds, size_t nbounds, mw_histo **out);
void mw_histo_free(mw_histo *h);
/* Lock-free (atomics); NaN observations are ignored. */
void mw_histo_observe(mw_histo *h, double v);
size_t mw_histo_nbounds(const mw_histo *h);
const double *mw_histo_bounds(const mw_histo *h);
/* counts: nbounds + 1 entries, non-cumulative. Returns the total count. */
uint64_t mw_histo_snapshot(const mw_histo *h, uint64_t *counts, double *sum);
/* Writes h as one histogram series of the current family. */
mw_status mw_expo_histo(mw_expo *e, const char *const *names, const char *const *values,
                        size_t nlabels, const mw_histo *h);

#endif
