/*
 * modelwatch core: status codes and the error record every fallible call fills.
 *
 * Conventions (see DESIGN.md): fallible functions return mw_status; results come
 * back through out-parameters cleared on entry; parsers fill an mw_error with a
 * sentence a person can act on and the position (file, line, column, field) of the
 * problem. The library never prints, exits or aborts on bad data.
 */
#ifndef MODELWATCH_CORE_H
#define MODELWATCH_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mw_status {
    MW_OK = 0,
    MW_EINVAL,   /* an argument or option is invalid */
    MW_ENOMEM,   /* allocation failed */
    MW_EIO,      /* reading or writing a file failed */
    MW_EPARSE,   /* input text is malformed */
    MW_ECORRUPT, /* serialised data fails its checks */
    MW_ERANGE,   /* a value or size is outside what is supported */
    MW_ENOTFOUND /* a named thing (column, model) does not exist */
} mw_status;

/* Short fixed description of a status ("invalid argument", ...). */
const char *mw_status_str(mw_status s);

/* Where an error happened and what it was. Fields that do not apply are 0 / "". */
typedef struct mw_error {
    mw_status status;
    char message[512]; /* full sentence including the position, ready to print */
    char file[256];    /* input file name, "" when not from a file */
    uint64_t line;     /* 1-based line, 0 when unknown */
    uint64_t column;   /* 1-based field/column index, 0 when unknown */
} mw_error;

/* Clears an error record (NULL is a no-op). */
void mw_error_clear(mw_error *err);

/*
 * Records an error: formats the message printf-style and stores status and
 * position. Returns status so callers can write `return mw_error_set(...)`.
 * err may be NULL, in which case only the status is returned.
 */
mw_status mw_error_set(mw_error *err, mw_status status, const char *file, uint64_t line,
                       uint64_t column, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/*
 * Parallel work on the caller's threads. The library has no threads of its
 * own; where work splits into independent tasks (scoring blocks of rows,
 * describing columns) it hands them to a runner the caller supplies:
 * run(ctx, fn, arg, n) must call fn(arg, i) exactly once for each i in
 * [0, n), in any order and on any threads, and return when all have returned.
 * A NULL runner (or run) runs the tasks one after the other on the calling
 * thread. Results never depend on the runner: tasks write disjoint outputs.
 */
typedef void (*mw_task_fn)(void *arg, size_t i);
typedef struct mw_runner {
    void (*run)(void *ctx, mw_task_fn fn, void *arg, size_t n);
    void *ctx;
} mw_runner;

/* Runs fn(arg, 0..n-1) through r (serially when r or r->run is NULL). */
void mw_runner_run(const mw_runner *r, mw_task_fn fn, void *arg, size_t n);

/* A runner on up to `threads` POSIX threads (0 = the number of online cores),
 * the caller's thread among them; threads are started per call (the tasks it
 * is meant for take milliseconds, a thread start microseconds). */
mw_runner mw_runner_threads(unsigned threads);

#ifdef __cplusplus
}
#endif
#endif
