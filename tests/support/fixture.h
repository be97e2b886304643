/*
 * Test support: loads reference-value fixtures written by the Python scripts in
 * tests/fixtures/ (scipy/sklearn computed them; the tests need no Python), and
 * compares doubles with DESIGN.md's tolerances.
 *
 * Fixture format, one item per line, '#' starts a comment line:
 *   case NAME                 starts a case
 *   array KEY N v1 v2 ... vN  a named array of doubles (repr() text, nan/inf allowed)
 *   value KEY v               a named scalar
 *   text KEY rest-of-line     a named string
 *   end                       ends the case
 * Values are parsed with strtod, which is exact for repr() output.
 */
#ifndef MW_TEST_FIXTURE_H
#define MW_TEST_FIXTURE_H

#include <stddef.h>

typedef struct mw_fx_file mw_fx_file;
typedef struct mw_fx_case mw_fx_case;

/* Loads MW_FIXTURE_DIR/name; fails the running test on any error. */
mw_fx_file *mw_fx_load(const char *name);
void mw_fx_free(mw_fx_file *f);
size_t mw_fx_count(const mw_fx_file *f);
const mw_fx_case *mw_fx_case_at(const mw_fx_file *f, size_t i);
const char *mw_fx_name(const mw_fx_case *c);
/* Array KEY of the case and its length, or NULL when absent. */
const double *mw_fx_array(const mw_fx_case *c, const char *key, size_t *n);
/* 1 and the value when scalar KEY exists, else 0. */
int mw_fx_value(const mw_fx_case *c, const char *key, double *v);
/* Scalar KEY; fails the test when absent. */
double mw_fx_need(const mw_fx_case *c, const char *key);
/* String KEY, or NULL. */
const char *mw_fx_text(const mw_fx_case *c, const char *key);

/* 1 when a and b agree: both NaN, equal infinities, or |a-b| <= abs_tol or
 * |a-b| <= rel_tol*|b|. */
int mw_close(double a, double b, double rel_tol, double abs_tol);
/* Fails the test with a message naming what, the case and both values. */
void mw_assert_close_msg(double actual, double expected, double rel_tol, double abs_tol,
                         const char *case_name, const char *what, const char *file, int line);
#define mw_assert_close(actual, expected, rel, abs, case_name, what)                              \
    mw_assert_close_msg((actual), (expected), (rel), (abs), (case_name), (what), __FILE__, __LINE__)

/* DESIGN.md tolerances */
#define MW_TOL_STAT 1e-9
#define MW_TOL_P_REL 1e-6
#define MW_TOL_P_ABS 1e-12

#endif
