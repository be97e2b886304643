/*
 * modelwatch drift: runs the drift tests of DESIGN.md on a reference and a
 * current data set, column by column, decides per column and for the data set,
 * and checks data quality (missing values, type errors, ranges, unseen
 * categories, constants, duplicates). The same per-column engine serves the
 * batch CLI (whole files) and, later, the daemon's windows.
 *
 * Test selection per column:
 *  - auto (default): a numeric column with more than 5 distinct reference values
 *    uses ks (drift when p < 0.05) when the reference has <= 1000 values, else
 *    wasserstein_norm (drift when >= 0.1); any other column (categorical, or
 *    numeric with <= 5 distinct reference values, whose values are then treated
 *    as categories) uses chi2 (p < 0.05) when <= 1000 values, else
 *    jensenshannon (>= 0.1). "values" counts the non-missing, finite ones.
 *  - all: every test that applies to the column's type; the deciding test is
 *    the one auto would pick.
 *  - a list: the listed tests that apply; the deciding test is the first
 *    listed one that applies.
 * Tests with a p-value decide drift when p < threshold; distances when the
 * statistic >= threshold. The data set drifts when the share of drifted
 * columns among those tested is >= drift_share (default 0.5).
 */
#ifndef MODELWATCH_DRIFT_H
#define MODELWATCH_DRIFT_H

#include "modelwatch/core.h"
#include "modelwatch/data.h"
#include "modelwatch/embedding.h"
#include "modelwatch/stats.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mw_test_id {
    MW_TEST_KS,
    MW_TEST_CVM,
    MW_TEST_ANDERSON,
    MW_TEST_MANNWHITNEY,
    MW_TEST_TTEST,
    MW_TEST_ENERGY,
    MW_TEST_WASSERSTEIN,
    MW_TEST_WASSERSTEIN_NORM,
    MW_TEST_CHI2,
    MW_TEST_GTEST,
    MW_TEST_FISHER,
    MW_TEST_PSI,
    MW_TEST_KL,
    MW_TEST_JENSENSHANNON,
    MW_TEST_HELLINGER,
    MW_TEST_TVD,
    MW_TEST_COUNT
} mw_test_id;

/* Exact names used by the CLI, JSON and metrics ("ks", "wasserstein_norm", ...). */
const char *mw_test_name(mw_test_id t);
/* 1 and the id when name is a test name, else 0. */
int mw_test_from_name(const char *name, mw_test_id *t);
/* 1 for tests that give a p-value (drift when p < threshold), 0 for distances. */
int mw_test_has_p_value(mw_test_id t);
/* Default threshold: 0.05 for p-value tests, 0.1 for distances. */
double mw_test_default_threshold(mw_test_id t);

typedef enum mw_correction {
    MW_CORRECTION_NONE = 0,
    MW_CORRECTION_BONFERRONI,
    MW_CORRECTION_BH
} mw_correction;
const char *mw_correction_name(mw_correction c);

typedef enum mw_test_selection { MW_TESTS_AUTO = 0, MW_TESTS_ALL, MW_TESTS_LIST } mw_test_selection;

/* A per-column override of the deciding threshold. */
typedef struct mw_column_threshold {
    const char *column;
    double threshold;
} mw_column_threshold;

typedef struct mw_drift_options {
    mw_test_selection selection;
    mw_test_id list[MW_TEST_COUNT]; /* MW_TESTS_LIST: tests in priority order */
    size_t nlist;
    double threshold; /* NAN = each test's default */
    const mw_column_threshold *column_thresholds;
    size_t ncolumn_thresholds;
    double drift_share; /* 0 = default 0.5 */
    mw_correction correction;
    const char *const *columns; /* only these columns (NULL = all common columns) */
    size_t ncolumns;
    int quality_only; /* prepare and check quality, run no drift test */
    int histograms;   /* fill each column's display histogram (for HTML reports) */
    /* Embeddings (batch): groups of numeric columns tested together, not one by
     * one. A group PREFIX holds the columns named PREFIX<i> or PREFIX[<i>]
     * (i = 0, 1, ... in decimal; NDJSON arrays read with expand_arrays give
     * KEY[0], KEY[1], ...); its dimension is the reference's largest i + 1. */
    const char *const *embeddings; /* prefixes given (each must match a reference column) */
    size_t nembeddings;
    int auto_embeddings;            /* also every group of KEY[i] columns */
    mw_embedding_options embedding; /* test options (defaults when zero) */
} mw_drift_options;

/* Display histogram of one column: bins with reference and current shares. */
#define MW_HIST_MAX_BINS 20
typedef struct mw_histogram {
    size_t nbins;
    double lo[MW_HIST_MAX_BINS], hi[MW_HIST_MAX_BINS];   /* numeric bin bounds */
    const char *label[MW_HIST_MAX_BINS];                 /* categorical bin labels */
    double ref[MW_HIST_MAX_BINS], cur[MW_HIST_MAX_BINS]; /* shares of non-missing values */
} mw_histogram;

#define MW_QUALITY_EXAMPLES 3

typedef struct mw_column_report {
    const char *name;
    mw_coltype type;
    int discrete; /* numeric column tested as categories (<= 5 distinct reference values) */
    /* drift */
    uint32_t computed; /* bit t set when tests[t] holds a result */
    mw_test_result tests[MW_TEST_COUNT];
    int tested; /* 0 when no deciding test could run (skip_reason) */
    char skip_reason[160];
    mw_test_id drift_test;
    double statistic, p_value; /* of the deciding test; p NAN for distances */
    double p_adjusted;         /* after the correction (= p_value with none) */
    double threshold;
    int drifted;
    /* quality */
    uint64_t ref_count, cur_count;     /* rows */
    uint64_t ref_missing, cur_missing; /* incl. type errors */
    uint64_t ref_values, cur_values;   /* non-missing finite values (or categories) */
    uint64_t ref_inf, cur_inf;
    uint64_t cur_type_errors;
    char type_error_example[MW_QUALITY_EXAMPLES][64];
    uint64_t type_error_line[MW_QUALITY_EXAMPLES];
    size_t n_type_error_examples;
    double ref_min, ref_max, cur_min, cur_max, ref_mean, cur_mean, ref_std, cur_std;
    uint64_t cur_below_range, cur_above_range; /* current values outside [ref_min, ref_max] */
    uint64_t ref_distinct, cur_distinct;
    uint64_t unseen_values; /* current rows whose category the reference lacks */
    uint64_t unseen_distinct;
    char unseen_example[MW_QUALITY_EXAMPLES][64];
    size_t n_unseen_examples;
    int ref_constant, cur_constant; /* at most one distinct non-missing value */
    mw_histogram hist;
} mw_column_report;

/* One embedding group of a batch comparison. Rows whose every dimension is
 * missing have no embedding (missing); rows with some dimensions missing or
 * non-finite, or (current) values beyond the reference's dimension, are
 * invalid: counted and left out, the rest of the row still counts. */
typedef struct mw_embedding_report {
    const char *name;
    size_t dim;
    uint64_t ref_missing, cur_missing, ref_invalid, cur_invalid;
    uint64_t ref_first_invalid, cur_first_invalid; /* 1-based row of the first invalid one */
    int tested;                                    /* 0: skip_reason says why */
    char skip_reason[160];
    mw_embedding_result result; /* when tested */
} mw_embedding_report;

typedef struct mw_drift_report {
    const char *reference, *current; /* source names */
    uint64_t ref_rows, cur_rows;
    size_t ncols;
    mw_column_report *cols;
    size_t n_tested, n_drifted;
    double drift_share; /* n_drifted / n_tested (0 when none tested) */
    double drift_share_threshold;
    int dataset_drift;
    mw_correction correction;
    /* data set quality */
    uint64_t ref_duplicate_rows, cur_duplicate_rows;
    uint64_t ref_empty_rows, cur_empty_rows;
    uint64_t ref_blank_lines, cur_blank_lines;
    size_t n_only_ref, n_only_cur; /* columns present on one side only */
    const char **only_ref, **only_cur;
    size_t nembeddings; /* embedding groups (batch only) */
    mw_embedding_report *embeddings;
    int embedding_drift; /* some embedding drifted */
} mw_drift_report;

/*
 * Batch comparison of two tables. mw_batch_new matches columns by name,
 * reconciles types (the reference's type wins; current values that do not fit
 * are type errors) and plans the work. mw_batch_run_column may be called for
 * different columns from different threads at once; it sorts the tables'
 * numeric arrays in place and mw_batch_new counts duplicate rows (freeing the
 * row hashes; the tables are consumed: row order is not kept). mw_batch_finish applies the
 * correction and the data set decision. The report stays valid until mw_batch_free; the tables must
 * outlive it.
 */
typedef struct mw_batch mw_batch;
mw_status mw_batch_new(mw_table *ref, mw_table *cur, const mw_drift_options *opt, mw_batch **out,
                       mw_error *err);
size_t mw_batch_ncolumns(const mw_batch *b);
mw_status mw_batch_run_column(mw_batch *b, size_t i, mw_error *err);
mw_status mw_batch_finish(mw_batch *b);
const mw_drift_report *mw_batch_report(const mw_batch *b);
void mw_batch_free(mw_batch *b);

#ifdef __cplusplus
}
#endif
#endif
