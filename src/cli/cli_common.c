/*
 * CLI helpers shared by subcommands (see cli.h). Threads live here, not in the
 * library: the library's calls are reentrant, and the CLI decides how to use
 * the cores (two files read at once, then columns spread over the cores).
 */
#include "cli/cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void vreport(const char *cmd, const char *fmt, va_list ap) {
    mw_cli_progress_done();
    fprintf(stderr, "modelwatch %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int mw_cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try 'modelwatch %s --help'.\n", cmd);
    return MW_EXIT_USAGE;
}

int mw_cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vreport(cmd, fmt, ap);
    va_end(ap);
    return MW_EXIT_ERROR;
}

size_t mw_cli_split_list(char *s, char ***items) {
    size_t cap = 1;
    for (char *p = s; *p; p++)
        cap += *p == ',';
    char **v = malloc(cap * sizeof *v);
    size_t n = 0;
    if (!v) {
        *items = NULL;
        return 0;
    }
    char *save = NULL;
    for (char *tok = strtok_r(s, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        char *end = tok + strlen(tok);
        while (end > tok && end[-1] == ' ')
            *--end = 0;
        if (*tok) v[n++] = tok;
    }
    *items = v;
    return n;
}

double mw_cli_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int mw_cli_text_or_json(const char *arg, int *json) {
    if (strcmp(arg, "text") && strcmp(arg, "json")) return 0;
    *json = !strcmp(arg, "json");
    return 1;
}

int mw_cli_common_option(const char *cmd, int c, char **argv, const char *help, int *json) {
    switch (c) {
    case 'f':
        if (!mw_cli_text_or_json(optarg, json))
            return mw_cli_usage_error(cmd, "--format expects text or json");
        return -1;
    case 'h':
        fputs(help, stdout);
        return MW_EXIT_OK;
    case ':':
        return mw_cli_usage_error(cmd, "option %s needs a value", argv[optind - 1]);
    default:
        return mw_cli_usage_error(cmd, "unknown option %s", argv[optind - 1]);
    }
}

int mw_cli_parse_number(const char *s, double *v) {
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return end != s && !*end && errno == 0 && isfinite(*v);
}

int mw_cli_parse_count(const char *cmd, const char *opt, const char *s, double lo, double hi,
                       double *v) {
    if (!mw_cli_parse_number(s, v) || *v < lo || *v > hi || *v != floor(*v))
        return mw_cli_usage_error(cmd, "%s expects a whole number from %.0f to %.0f, got \"%s\"",
                                  opt, lo, hi, s);
    return 0;
}

void mw_cli_block_signals(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int mw_cli_wait_signal(const sigset_t *set, long timeout_ms) {
    if (timeout_ms <= 0) {
        int sig = 0;
        return sigwait(set, &sig) == 0 ? sig : SIGTERM;
    }
    struct timespec ts = {timeout_ms / 1000, (timeout_ms % 1000) * 1000000L};
    int sig = sigtimedwait(set, NULL, &ts);
    return sig > 0 ? sig : 0;
}

static int progress_shown;

void mw_cli_progress(const char *fmt, ...) {
    if (!isatty(STDERR_FILENO)) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("\r\033[K", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fflush(stderr);
    progress_shown = 1;
}

void mw_cli_progress_done(void) {
    if (progress_shown) fputs("\r\033[K", stderr);
    progress_shown = 0;
}

typedef struct read_job {
    const char *path;
    const mw_read_options *opt;
    mw_table *table;
    mw_error err;
    mw_status st;
} read_job;

static void *read_thread(void *arg) {
    read_job *j = arg;
    mw_error_clear(&j->err);
    j->st = mw_table_read(j->path, j->opt, &j->table, &j->err);
    /* counting duplicates now frees the row hashes while the other file may
     * still be reading, which lowers the peak memory of a comparison */
    if (j->st == MW_OK) mw_table_count_duplicates(j->table);
    return NULL;
}

int mw_cli_read_tables(const char *cmd, const char *const *paths, size_t n,
                       const mw_read_options *opt, mw_table **tables) {
    read_job jobs[2] = {{0}};
    pthread_t th[2];
    int started[2] = {0, 0};
    if (n > 2) return mw_cli_error(cmd, "internal: at most two files at once");
    mw_cli_progress("reading %s%s%s ...", paths[0], n > 1 ? " and " : "", n > 1 ? paths[1] : "");
    int stdin_count = 0;
    for (size_t i = 0; i < n; i++)
        stdin_count += !strcmp(paths[i], "-");
    if (stdin_count > 1)
        return mw_cli_usage_error(cmd, "only one input can be read from stdin (-)");
    for (size_t i = 0; i < n; i++) {
        jobs[i].path = paths[i];
        jobs[i].opt = opt;
        /* the last file is read on this thread */
        if (i + 1 < n && pthread_create(&th[i], NULL, read_thread, &jobs[i]) == 0)
            started[i] = 1;
        else
            read_thread(&jobs[i]);
    }
    for (size_t i = 0; i < n; i++)
        if (started[i]) pthread_join(th[i], NULL);
    int rc = MW_EXIT_OK;
    for (size_t i = 0; i < n; i++) {
        tables[i] = jobs[i].table;
        if (jobs[i].st != MW_OK && rc == MW_EXIT_OK)
            rc = mw_cli_error(cmd, "%s",
                              jobs[i].err.message[0] ? jobs[i].err.message
                                                     : mw_status_str(jobs[i].st));
    }
    if (rc == MW_EXIT_OK && n == 2) { /* a text column on one side is text on both */
        mw_error err;
        mw_error_clear(&err);
        if (mw_table_align_text(tables[0], tables[1], opt ? opt->text : NULL, &err) != MW_OK)
            rc = mw_cli_error(cmd, "%s", err.message);
    }
    if (rc != MW_EXIT_OK)
        for (size_t i = 0; i < n; i++) {
            mw_table_free(tables[i]);
            tables[i] = NULL;
        }
    return rc;
}

typedef struct batch_pool {
    mw_batch *b;
    size_t n;
    atomic_size_t done;
    atomic_int failed;
    pthread_mutex_t lock;
    mw_error err;
} batch_pool;

static void batch_column(void *arg, size_t i) {
    batch_pool *p = arg;
    if (atomic_load(&p->failed)) return;
    mw_error err;
    mw_error_clear(&err);
    if (mw_batch_run_column(p->b, i, &err) != MW_OK) {
        pthread_mutex_lock(&p->lock);
        if (!atomic_exchange(&p->failed, 1)) p->err = err;
        pthread_mutex_unlock(&p->lock);
        return;
    }
    size_t d = atomic_fetch_add(&p->done, 1) + 1;
    mw_cli_progress("testing columns: %zu/%zu", d, p->n);
}

int mw_cli_run_batch(const char *cmd, mw_batch *b, unsigned threads) {
    batch_pool pool = {.b = b, .n = mw_batch_ncolumns(b)};
    atomic_init(&pool.done, 0);
    atomic_init(&pool.failed, 0);
    pthread_mutex_init(&pool.lock, NULL);
    mw_runner runner = mw_runner_threads(threads);
    mw_runner_run(&runner, batch_column, &pool, pool.n);
    pthread_mutex_destroy(&pool.lock);
    if (atomic_load(&pool.failed)) return mw_cli_error(cmd, "%s", pool.err.message);
    if (mw_batch_finish(b) != MW_OK) return mw_cli_error(cmd, "out of memory");
    mw_cli_progress_done();
    return MW_EXIT_OK;
}

int mw_cli_output_open(const char *cmd, const char *path, mw_cli_output *o) {
    memset(o, 0, sizeof *o);
    if (!path || !strcmp(path, "-")) {
        o->f = stdout;
        return MW_EXIT_OK;
    }
    o->path = strdup(path);
    if (!o->path || asprintf(&o->tmp, "%s.tmp", path) < 0) {
        free(o->path);
        return mw_cli_error(cmd, "out of memory");
    }
    o->f = fopen(o->tmp, "w");
    if (!o->f) {
        int rc = mw_cli_error(cmd, "cannot write %s: %s", o->tmp, strerror(errno));
        free(o->path);
        free(o->tmp);
        return rc;
    }
    return MW_EXIT_OK;
}

int mw_cli_output_close(const char *cmd, mw_cli_output *o, int ok) {
    int rc = MW_EXIT_OK;
    if (o->f == stdout) {
        if (fflush(stdout) != 0)
            rc = mw_cli_error(cmd, "writing the report failed: %s", strerror(errno));
        return rc;
    }
    if (fclose(o->f) != 0 && ok)
        rc = mw_cli_error(cmd, "writing %s failed: %s", o->tmp, strerror(errno));
    if (ok && rc == MW_EXIT_OK && rename(o->tmp, o->path) != 0)
        rc = mw_cli_error(cmd, "cannot rename %s to %s: %s", o->tmp, o->path, strerror(errno));
    if (!ok || rc != MW_EXIT_OK) unlink(o->tmp);
    free(o->path);
    free(o->tmp);
    return rc;
}
