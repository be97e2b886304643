/*
 * Test support for work spread over the caller's runner (mw_runner): results
 * must not depend on the number of threads or on the order of the tasks; and
 * for kernels chosen at run time by the CPU.
 */
#ifndef MW_TEST_RUNNERS_H
#define MW_TEST_RUNNERS_H

#include "modelwatch/outlier.h"

#include <stddef.h>

/* A runner that runs the tasks last to first on the calling thread. */
mw_runner mw_test_runner_reversed(void);

/* Fits an outlier detector on table t, or (t NULL) on the n x d matrix x,
 * with o's runner replaced in turn by none (this thread), 2, 3 and 8 threads
 * and mw_test_runner_reversed; fails the test unless every fit saves the same
 * bytes, and returns them (*len; for the caller to free). */
unsigned char *mw_test_fit_any_runner(const mw_table *t, const double *x, size_t n, size_t d,
                                      mw_outlier_options o, size_t *len);

/* 1 when the library's AVX-512 kernels run on this CPU (x86-64 with
 * AVX-512F), 0 where the portable paths run. */
int mw_test_cpu_avx512(void);

#endif
