/*
 * modelwatch profiles: everything the system keeps about a batch of data, per
 * column, in bounded memory. A profile is mergeable (two windows, processes or
 * hosts -> one profile) and serialisable (the daemon stores them).
 *
 * Per column: row count, missing, type errors, +/-inf, and for finite numbers
 * min, max, mean and M2 (Welford; merged with Chan et al.'s pairwise formula,
 * so the standard deviation is numerically stable), a bounded uniform sample
 * (reservoir, Vitter's algorithm R) for quantiles, and a distinct count that
 * is exact up to 1024 values and a HyperLogLog estimate (2^12 registers, about
 * 1.6% error) beyond. Categorical columns keep exact counts per category up to
 * max_categories; later new categories are counted together as "other".
 *
 * Ownership: a profile owns all its memory; strings returned in summaries are
 * valid until the profile is modified or freed.
 */
#ifndef MODELWATCH_PROFILE_H
#define MODELWATCH_PROFILE_H

#include "modelwatch/core.h"
#include "modelwatch/data.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mw_profile mw_profile;

typedef struct mw_profile_options {
    size_t sample_capacity; /* 0 = default 100000 values per numeric column */
    size_t max_categories;  /* 0 = default 10000 categories per column */
    uint64_t seed;          /* reservoir sampling seed */
} mw_profile_options;

#define MW_PROFILE_NQUANTILES 7
/* The quantile levels reported in summaries: 1, 5, 25, 50, 75, 95, 99 %. */
extern const double mw_profile_quantile_levels[MW_PROFILE_NQUANTILES];
#define MW_PROFILE_TOP 10

typedef struct mw_column_summary {
    const char *name;
    mw_coltype type;
    uint64_t count;       /* rows seen */
    uint64_t missing;     /* missing values */
    uint64_t type_errors; /* values that did not fit the type (also counted as missing) */
    uint64_t pos_inf, neg_inf;
    uint64_t n;                    /* finite numbers, or non-missing categories */
    double min, max, mean, stddev; /* finite numbers; stddev with ddof = 1 (NaN when n < 2) */
    double quantiles[MW_PROFILE_NQUANTILES]; /* numpy.quantile (linear) of the sample */
    int quantiles_exact;                     /* 1 when the sample holds every value */
    uint64_t distinct;
    int distinct_exact;
    size_t ntop; /* categorical: most frequent categories, count descending */
    const char *top[MW_PROFILE_TOP];
    uint64_t top_count[MW_PROFILE_TOP];
    uint64_t other_count; /* categories beyond max_categories */
} mw_column_summary;

mw_status mw_profile_new(const mw_profile_options *opt, mw_profile **out);
void mw_profile_free(mw_profile *p);

/* Adds (or finds) a column; its index comes back in *index. A column name may
 * appear once; asking again with another type is MW_EINVAL. */
mw_status mw_profile_column_index(mw_profile *p, const char *name, mw_coltype type, size_t *index);
/* One value: NaN means missing. */
mw_status mw_profile_add_number(mw_profile *p, size_t col, double v);
/* One category; s == NULL means missing. */
mw_status mw_profile_add_category(mw_profile *p, size_t col, const char *s, size_t len);
/* Counts a value that did not fit the column's type (and is missing). */
void mw_profile_add_type_errors(mw_profile *p, size_t col, uint64_t n);

/* Profile of a whole table (IGNORE columns are left out). */
mw_status mw_profile_from_table(const mw_table *t, const mw_profile_options *opt, mw_profile **out);
/* Adds other into into, column by column matched by name (new columns are
 * appended). Types must agree, else MW_EINVAL naming the column. */
mw_status mw_profile_merge(mw_profile *into, const mw_profile *other, mw_error *err);

size_t mw_profile_ncols(const mw_profile *p);
mw_status mw_profile_summary(const mw_profile *p, size_t col, mw_column_summary *out);
/* Sorted copy of a numeric column's sample (caller frees); *n its length. */
mw_status mw_profile_sample(const mw_profile *p, size_t col, double **values, size_t *n);

/* Versioned binary form; deserialising checks every length and count, so a
 * truncated or corrupted buffer gives MW_ECORRUPT, never a crash. */
mw_status mw_profile_serialize(const mw_profile *p, unsigned char **buf, size_t *len);
mw_status mw_profile_deserialize(const unsigned char *buf, size_t len, mw_profile **out,
                                 mw_error *err);

#ifdef __cplusplus
}
#endif
#endif
