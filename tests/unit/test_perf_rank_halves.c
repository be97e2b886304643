/*
 * The ranking metrics' path for more records than the packed bucket counts
 * hold (2^32 - 1: two halves on the highest differing key bit, each split on
 * its own), which real inputs reach only past four billion scores. This test
 * compiles perf_rank.c again with the limit at 5000 and its public functions
 * renamed, and checks that the copy gives bit-identical ROC AUC and AP to the
 * library's own (itself checked against a qsort reference in test_perf.c) on
 * inputs of every shape: ties, both signs, a single distinct value.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#define PACK_MAX 5000
#define mw_roc_auc_binary halves_roc_auc_binary
#define mw_roc_auc_binary_run halves_roc_auc_binary_run
#define mw_average_precision_binary halves_average_precision_binary
#define mw_roc_auc_ovr halves_roc_auc_ovr
#define mw_average_precision_ovr halves_average_precision_ovr
#define mw_rank_acc_new halves_rank_acc_new
#define mw_rank_acc_free halves_rank_acc_free
#define mw_rank_acc_add halves_rank_acc_add
#define mw_rank_acc_merge halves_rank_acc_merge
#define mw_rank_acc_roc_auc halves_rank_acc_roc_auc
#define mw_rank_acc_average_precision halves_rank_acc_average_precision
#define mw_rank_acc_serialize halves_rank_acc_serialize
#define mw_rank_acc_deserialize halves_rank_acc_deserialize
#include "monitor/perf_rank.c"
#undef mw_roc_auc_binary
#undef mw_average_precision_binary
mw_status mw_roc_auc_binary(const uint32_t *y, uint32_t pos, const double *score, size_t n,
                            double *out, mw_error *err);
mw_status mw_average_precision_binary(const uint32_t *y, uint32_t pos, const double *score,
                                      size_t n, double *out, mw_error *err);

static uint64_t rng = 42;
static double unit(void) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static void test_halves_equal_packed(void **state) {
    (void)state;
    enum { N = 20000 };
    static const size_t sizes[] = {5001, 7777, N};
    uint32_t *y = malloc(N * sizeof *y);
    double *s = malloc(N * sizeof *s);
    assert_non_null(y);
    assert_non_null(s);
    for (int shape = 0; shape < 5; shape++) {
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            size_t n = sizes[k];
            for (size_t i = 0; i < n; i++) {
                y[i] = unit() < 0.3;
                double z = unit() + 0.4 * y[i];
                switch (shape) {
                case 0:
                    s[i] = z;
                    break;
                case 1: /* ties */
                    s[i] = round(z * 20) / 20;
                    break;
                case 2: /* both signs */
                    s[i] = i % 3 ? z - 0.7 : (i % 2 ? 0.0 : -0.0);
                    break;
                case 3: /* one value mostly */
                    s[i] = i % 100 ? 0.5 : z;
                    break;
                default:
                    s[i] = ldexp(1 + z, (int)(unit() * 60) - 30); /* wide range */
                }
            }
            double a1, a2, p1, p2;
            mw_error err;
            assert_int_equal(mw_roc_auc_binary(y, 1, s, n, &a1, &err), MW_OK);
            assert_int_equal(halves_roc_auc_binary(y, 1, s, n, &a2, &err), MW_OK);
            assert_int_equal(mw_average_precision_binary(y, 1, s, n, &p1, &err), MW_OK);
            assert_int_equal(halves_average_precision_binary(y, 1, s, n, &p2, &err), MW_OK);
            if (a1 != a2 || p1 != p2)
                fail_msg("shape %d, n %zu: AUC %.17g vs %.17g, AP %.17g vs %.17g", shape, n, a1, a2,
                         p1, p2);
        }
    }
    free(y);
    free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_halves_equal_packed)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
