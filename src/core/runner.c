/*
 * Runners: how the library's independent tasks reach the caller's threads
 * (see mw_runner in core.h). The serial runner is the default; the thread
 * runner is an opt-in for callers (the CLI, the daemon, benchmarks) that
 * want the work on several cores: the library itself never starts a thread
 * unless handed this runner.
 *
 * Tasks are claimed from an atomic counter, so uneven tasks balance; the
 * calling thread works too and waits for the others by joining them.
 */
#include "modelwatch/core.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#define MAX_THREADS 64

void mw_runner_run(const mw_runner *r, mw_task_fn fn, void *arg, size_t n) {
    if (r && r->run) {
        r->run(r->ctx, fn, arg, n);
        return;
    }
    for (size_t i = 0; i < n; i++)
        fn(arg, i);
}

typedef struct shared_tasks {
    mw_task_fn fn;
    void *arg;
    size_t n;
    atomic_size_t next;
} shared_tasks;

static void *work(void *p) {
    shared_tasks *t = p;
    for (size_t i; (i = atomic_fetch_add(&t->next, 1)) < t->n;)
        t->fn(t->arg, i);
    return NULL;
}

/* ctx carries the thread count itself (no allocation, nothing to free). */
static void run_threads(void *ctx, mw_task_fn fn, void *arg, size_t n) {
    size_t threads = (size_t)(uintptr_t)ctx;
    if (threads > n) threads = n;
    shared_tasks t = {fn, arg, n, 0};
    pthread_t th[MAX_THREADS];
    size_t started = 0;
    for (size_t k = 1; k < threads; k++)
        if (pthread_create(&th[started], NULL, work, &t) == 0) started++;
    work(&t); /* a failed start only means fewer helpers */
    for (size_t k = 0; k < started; k++)
        pthread_join(th[k], NULL);
}

mw_runner mw_runner_threads(unsigned threads) {
    if (!threads) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        threads = c > 0 ? (unsigned)c : 1;
    }
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    mw_runner r = {threads > 1 ? run_threads : NULL, (void *)(uintptr_t)threads};
    return r;
}
