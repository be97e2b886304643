/*
 * Rank / ECDF two-sample tests (ks, cvm, anderson, mannwhitney, energy,
 * wasserstein) and kstwo.sf against scipy 1.10 reference values in
 * tests/fixtures/stats_rank.txt (written by gen_stats_rank.py): statistics
 * within MW_TOL_STAT, p-values within MW_TOL_P_REL / MW_TOL_P_ABS, MW_EINVAL
 * where scipy refuses the input, and the preconditions of stats.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "fixture.h"
#include "modelwatch/stats.h"

typedef mw_status (*two_sample_fn)(const double *, size_t, const double *, size_t,
                                   mw_test_result *);

static const struct {
    const char *key;
    two_sample_fn fn;
} TESTS[] = {
    {"ks", mw_ks_2samp},
    {"mwu", mw_mannwhitneyu},
    {"cvm", mw_cvm_2samp},
    {"ad", mw_anderson_ksamp},
    {"energy", mw_energy_distance},
    {"wasserstein", mw_wasserstein_distance},
};
#define NTESTS (sizeof TESTS / sizeof TESTS[0])

static double rel_err(double a, double b) {
    if (isnan(a) && isnan(b)) return 0.0;
    if (a == b) return 0.0;
    return b != 0.0 ? fabs(a - b) / fabs(b) : fabs(a - b);
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void test_pairs_against_scipy(void **state) {
    (void)state;
    mw_fx_file *f = mw_fx_load("stats_rank.txt");
    double max_stat[NTESTS] = {0}, max_p[NTESTS] = {0};
    size_t checked[NTESTS] = {0};
    char key[64];
    for (size_t c = 0; c < mw_fx_count(f); c++) {
        const mw_fx_case *cs = mw_fx_case_at(f, c);
        const char *name = mw_fx_name(cs);
        if (strncmp(name, "kstwo_", 6) == 0) continue;
        size_t n, m;
        const double *x = mw_fx_array(cs, "x", &n);
        const double *y = mw_fx_array(cs, "y", &m);
        assert_non_null(x);
        assert_non_null(y);
        for (size_t t = 0; t < NTESTS; t++) {
            mw_test_result r = {123.0, 456.0};
            snprintf(key, sizeof key, "%s_err", TESTS[t].key);
            if (mw_fx_text(cs, key)) {
                if (TESTS[t].fn(x, n, y, m, &r) != MW_EINVAL)
                    fail_msg("%s %s: expected MW_EINVAL (scipy: %s)", name, TESTS[t].key,
                             mw_fx_text(cs, key));
                assert_true(isnan(r.statistic) && isnan(r.p_value));
                checked[t]++;
                continue;
            }
            double es, ep;
            snprintf(key, sizeof key, "%s_stat", TESTS[t].key);
            if (!mw_fx_value(cs, key, &es)) continue; /* not computed for this case */
            snprintf(key, sizeof key, "%s_p", TESTS[t].key);
            ep = mw_fx_need(cs, key);
            mw_status st = TESTS[t].fn(x, n, y, m, &r);
            if (st != MW_OK) fail_msg("%s %s: status %d", name, TESTS[t].key, (int)st);
            snprintf(key, sizeof key, "%s statistic", TESTS[t].key);
            mw_assert_close(r.statistic, es, MW_TOL_STAT, 0.0, name, key);
            snprintf(key, sizeof key, "%s p-value", TESTS[t].key);
            mw_assert_close(r.p_value, ep, MW_TOL_P_REL, MW_TOL_P_ABS, name, key);
            double e1 = rel_err(r.statistic, es), e2 = rel_err(r.p_value, ep);
            if (e1 > max_stat[t]) max_stat[t] = e1;
            if (fabs(ep) >= 1e-12 && e2 > max_p[t]) max_p[t] = e2;
            checked[t]++;
        }
    }
    for (size_t t = 0; t < NTESTS; t++) {
        print_message("%-12s %3zu cases, max rel err statistic %.2e, p-value %.2e "
                      "(where p >= 1e-12)\n",
                      TESTS[t].key, checked[t], max_stat[t], max_p[t]);
        assert_true(checked[t] >= 60);
    }
    mw_fx_free(f);
}

static void test_kstwo_sf_grid(void **state) {
    (void)state;
    mw_fx_file *f = mw_fx_load("stats_rank.txt");
    size_t k = 0;
    double worst = 0.0;
    char what[96];
    for (size_t c = 0; c < mw_fx_count(f); c++) {
        const mw_fx_case *cs = mw_fx_case_at(f, c);
        if (strncmp(mw_fx_name(cs), "kstwo_", 6) != 0) continue;
        double d = mw_fx_need(cs, "d"), n = mw_fx_need(cs, "n"), sf = mw_fx_need(cs, "sf");
        double got = mw_kstwo_sf(d, n);
        snprintf(what, sizeof what, "kstwo.sf(%.17g, %.0f)", d, n);
        mw_assert_close(got, sf, MW_TOL_P_REL, MW_TOL_P_ABS, mw_fx_name(cs), what);
        if (fabs(sf) >= 1e-12 && rel_err(got, sf) > worst) worst = rel_err(got, sf);
        k++;
    }
    print_message("kstwo.sf    %3zu points, max rel err %.2e (where sf >= 1e-12)\n", k, worst);
    assert_true(k >= 250);
    /* outside the support and invalid n, as scipy */
    assert_true(mw_kstwo_sf(-0.5, 10) == 1.0);
    assert_true(mw_kstwo_sf(1.5, 10) == 0.0);
    assert_true(isnan(mw_kstwo_sf(0.3, 0)));
    assert_true(isnan(mw_kstwo_sf(0.3, 2.5)));
    assert_true(isnan(mw_kstwo_sf(NAN, 10)));
    mw_fx_free(f);
}

static void test_preconditions(void **state) {
    (void)state;
    const double ok[] = {0.0, 1.0, 2.0, 3.0};
    const double unsorted[] = {0.0, 2.0, 1.0, 3.0};
    const double with_nan[] = {0.0, 1.0, NAN, 3.0};
    const double with_inf[] = {0.0, 1.0, 2.0, INFINITY};
    /* the check reads the ends for finiteness and the order for the rest */
    const double nan_first[] = {NAN, 0.0, 1.0, 2.0}, nan_last[] = {0.0, 1.0, 2.0, NAN};
    const double minus_inf_first[] = {-INFINITY, 0.0, 1.0, 2.0};
    for (size_t t = 0; t < NTESTS; t++) {
        mw_test_result r = {1.0, 1.0};
        assert_int_equal(TESTS[t].fn(unsorted, 4, ok, 4, &r), MW_EINVAL);
        assert_true(isnan(r.statistic) && isnan(r.p_value));
        assert_int_equal(TESTS[t].fn(ok, 4, unsorted, 4, &r), MW_EINVAL);
        assert_int_equal(TESTS[t].fn(ok, 4, with_nan, 4, &r), MW_EINVAL);
        assert_int_equal(TESTS[t].fn(with_inf, 4, ok, 4, &r), MW_EINVAL);
        assert_int_equal(TESTS[t].fn(ok, 0, ok, 4, &r), MW_EINVAL);
        assert_int_equal(TESTS[t].fn(ok, 4, ok, 0, &r), MW_EINVAL);
        assert_int_equal(TESTS[t].fn(NULL, 4, ok, 4, &r), MW_EINVAL);
        assert_int_equal(TESTS[t].fn(ok, 4, ok, 4, NULL), MW_EINVAL);
        assert_int_equal(TESTS[t].fn(ok, 4, with_inf, 3, &r), MW_OK);
        assert_int_equal(TESTS[t].fn(nan_first, 4, ok, 4, &r), MW_EINVAL);
        assert_int_equal(TESTS[t].fn(ok, 4, nan_last, 4, &r), MW_EINVAL);
        assert_int_equal(TESTS[t].fn(minus_inf_first, 4, ok, 4, &r), MW_EINVAL);
        assert_int_equal(TESTS[t].fn(ok, 4, minus_inf_first + 1, 3, &r), MW_OK);
    }
}

/* Two threads run every test on the large cases at once and must reproduce the
 * single-threaded results bit for bit (no hidden state). */
typedef struct {
    const double *x, *y;
    size_t n, m;
    mw_test_result res[NTESTS];
    mw_status st[NTESTS];
} thread_job;

static void *run_job(void *arg) {
    thread_job *j = arg;
    for (size_t t = 0; t < NTESTS; t++)
        j->st[t] = TESTS[t].fn(j->x, j->n, j->y, j->m, &j->res[t]);
    return NULL;
}

static void test_threads_and_timing(void **state) {
    (void)state;
    mw_fx_file *f = mw_fx_load("stats_rank.txt");
    const mw_fx_case *a = NULL, *b = NULL, *big = NULL;
    for (size_t c = 0; c < mw_fx_count(f); c++) {
        const mw_fx_case *cs = mw_fx_case_at(f, c);
        if (!strcmp(mw_fx_name(cs), "ks_exact_9999_10000")) a = cs;
        if (!strcmp(mw_fx_name(cs), "asymp_shift_3000_4000")) b = cs;
        if (!strcmp(mw_fx_name(cs), "ks_exact_10000_10000")) big = cs;
    }
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(big);
    thread_job jobs[2];
    const mw_fx_case *cases[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        jobs[i].x = mw_fx_array(cases[i], "x", &jobs[i].n);
        jobs[i].y = mw_fx_array(cases[i], "y", &jobs[i].m);
    }
    pthread_t th[2];
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_create(&th[i], NULL, run_job, &jobs[i]), 0);
    for (int i = 0; i < 2; i++)
        assert_int_equal(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < 2; i++) {
        thread_job single = jobs[i];
        run_job(&single);
        for (size_t t = 0; t < NTESTS; t++) {
            assert_int_equal(jobs[i].st[t], single.st[t]);
            assert_memory_equal(&jobs[i].res[t], &single.res[t], sizeof(mw_test_result));
        }
    }
    /* figures for the record (not asserted: sanitizer builds are slower) */
    size_t n, m;
    const double *x = mw_fx_array(big, "x", &n), *y = mw_fx_array(big, "y", &m);
    mw_test_result r;
    double t0 = now_s();
    assert_int_equal(mw_ks_2samp(x, n, y, m, &r), MW_OK);
    double t1 = now_s();
    assert_int_equal(mw_ks_2samp(jobs[0].x, jobs[0].n, jobs[0].y, jobs[0].m, &r), MW_OK);
    double t2 = now_s();
    print_message("ks exact 10000x10000: %.4f s, 9999x10000: %.4f s\n", t1 - t0, t2 - t1);
    mw_fx_free(f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairs_against_scipy),
        cmocka_unit_test(test_kstwo_sf_grid),
        cmocka_unit_test(test_preconditions),
        cmocka_unit_test(test_threads_and_timing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
