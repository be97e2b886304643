/* Internal layout of mw_profile, shared by profile.c (updates, merge, summaries)
 * and profile_io.c (serialisation). */
#ifndef MW_MONITOR_PROFILE_INT_H
#define MW_MONITOR_PROFILE_INT_H

#include "modelwatch/profile.h"
#include "stats/sketch.h"

typedef struct mw_colprof {
    char *name;
    mw_coltype type;
    uint64_t count, missing, type_errors, pos_inf, neg_inf;
    uint64_t n; /* finite numbers or non-missing categories */
    double min, max, mean, m2;
    mw_reservoir sample; /* numeric only */
    mw_distinct distinct;
    mw_dict *cats;        /* categorical: category -> code */
    uint64_t *cat_counts; /* by code */
    size_t cat_alloc;
    uint64_t other_count; /* categories past max_categories */
    /* summary scratch: top categories, rebuilt by mw_profile_summary */
    const char *top[MW_PROFILE_TOP];
    uint64_t top_count[MW_PROFILE_TOP];
} mw_colprof;

struct mw_profile {
    mw_profile_options opt;
    mw_rng rng;
    mw_colprof *cols;
    size_t ncols, cap;
};

/* Appends a new empty column (no duplicate check). */
mw_status mw_profile_append_column(mw_profile *p, const char *name, size_t name_len,
                                   mw_coltype type, size_t *index);
/* Adds count occurrences of a category (used by merge and deserialisation). */
mw_status mw_profile_add_category_n(mw_profile *p, size_t col, const char *s, size_t len,
                                    uint64_t count);

#endif
