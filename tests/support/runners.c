/*
 * Runners for thread-independence tests, and the CPU's kernels (see
 * runners.h).
 */
#include "runners.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void run_reversed(void *ctx, mw_task_fn fn, void *arg, size_t n) {
    (void)ctx;
    for (size_t i = n; i-- > 0;)
        fn(arg, i);
}

mw_runner mw_test_runner_reversed(void) {
    mw_runner r = {run_reversed, NULL};
    return r;
}

unsigned char *mw_test_fit_any_runner(const mw_table *t, const double *x, size_t n, size_t d,
                                      mw_outlier_options o, size_t *len) {
    mw_runner runners[5] = {{NULL, NULL}, mw_runner_threads(2), mw_runner_threads(3),
                            mw_runner_threads(8), mw_test_runner_reversed()};
    unsigned char *want = NULL;
    for (int k = 0; k < 5; k++) {
        o.runner = &runners[k];
        mw_outlier_model *m;
        mw_error err;
        mw_error_clear(&err);
        mw_status st = t ? mw_outlier_fit(t, &o, &m, &err)
                         : mw_outlier_fit_matrix(x, n, d, NULL, &o, &m, &err);
        if (st != MW_OK) fail_msg("fit with runner %d: %s", k, err.message);
        unsigned char *buf;
        size_t blen;
        assert_int_equal(mw_outlier_save(m, &buf, &blen), MW_OK);
        mw_outlier_free(m);
        if (!k) {
            want = buf;
            *len = blen;
            continue;
        }
        assert_int_equal(blen, *len);
        assert_memory_equal(buf, want, blen);
        free(buf);
    }
    return want;
}

int mw_test_cpu_avx512(void) {
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    return __builtin_cpu_supports("avx512f");
#else
    return 0;
#endif
}
