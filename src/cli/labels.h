/*
 * Class labels of the CLI's performance commands (`eval`, `compare`): the
 * label set of some columns in scikit-learn's order (numbers ascending, text
 * by code point, as unique_labels), dense codes 0..k-1 for perf.h, and the
 * checks that make a file's label columns usable (kinds unified, values
 * numeric for regression), each failure printed as "modelwatch CMD: FILE:
 * column "C", row R: ..." and returned as MW_EXIT_ERROR.
 */
#ifndef MW_CLI_LABELS_H
#define MW_CLI_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "modelwatch/data.h"

typedef struct labels {
    int numeric;
    size_t k;
    double *num; /* numeric: ascending */
    char **text; /* text: ascending, owned */
} labels;

void mw_labels_free(labels *L);
/* Code of a label, or -1 when it is not a class. */
long mw_labels_find_num(const labels *L, double v);
long mw_labels_find_text(const labels *L, const char *s);
/* Text of class c for messages and JSON keys (buf holds 32 bytes). */
const char *mw_labels_str(const labels *L, size_t c, char *buf);

/* Values collected before the label set is built; text is borrowed. */
typedef struct vlist {
    double *num;
    char **text;
    size_t n, cap;
} vlist;
int mw_vlist_num(vlist *v, double x);       /* 0, or -1 out of memory */
int mw_vlist_text(vlist *v, const char *s); /* 0, or -1 out of memory */
void mw_vlist_free(vlist *v);

/*
 * Makes the n label columns one kind and collects their distinct values into
 * v: a text column beside numeric ones becomes numeric when each of its texts
 * is a number, else an error names the first row that is not ("labels of the
 * wrong type"). src[i] names column i's file. NULL columns are skipped.
 * Returns 0 with *numeric set, or an exit code.
 */
int mw_labels_collect(const char *cmd, mw_column **cols, const char **src, size_t n, vlist *v,
                      int *numeric);
/* The sorted distinct values of v as a label set (v is sorted in place). 0, or
 * -1 out of memory. */
int mw_labels_build(vlist *v, int numeric, labels *L);
/* Codes of a label column of the label set's kind (MW_PERF_MISSING where
 * missing, and for a value that is not a class). 0, or -1 out of memory. */
int mw_labels_encode(const mw_column *c, const labels *L, uint32_t *out);

/* --task auto|classification|regression */
enum { TASK_AUTO, TASK_CLASS, TASK_REG };
/* Parses a --task value: 0, or a usage error naming the value. */
int mw_cli_parse_task(const char *cmd, const char *arg, int *task);

/* Whole numbers with at most 50 distinct values over the n columns (or any text
 * column) look like class labels: `--task auto`. */
int mw_labels_look_like_classes(mw_column *const *cols, size_t n);

/* Makes a label column numeric for regression; a text value that is not a
 * number is an error naming its file, column and row. */
int mw_cli_numeric_column(const char *cmd, const char *file, mw_column *c);

/* The column called name, or NULL after an error "FILE: no WHAT column". */
mw_column *mw_cli_need_column(const char *cmd, mw_table *t, const char *name, const char *what);

#endif
