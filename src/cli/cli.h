/*
 * Shared pieces of the CLI subcommands: exit codes, option helpers, reading
 * files (two at once on two threads), running batch columns on all cores,
 * progress lines on a terminal, and atomic report output.
 */
#ifndef MW_CLI_H
#define MW_CLI_H

#include <stdio.h>

#include "modelwatch/data.h"
#include "modelwatch/drift.h"
#include "modelwatch/report.h"

enum { MW_EXIT_OK = 0, MW_EXIT_ERROR = 1, MW_EXIT_USAGE = 2, MW_EXIT_CHECK_FAILED = 3 };

/* Subcommand entry points (argv[0] is the subcommand name). */
int mw_cmd_drift(int argc, char **argv);
int mw_cmd_quality(int argc, char **argv);
int mw_cmd_profile(int argc, char **argv);
int mw_cmd_serve(int argc, char **argv);
int mw_cmd_demo(int argc, char **argv);
int mw_cmd_top(int argc, char **argv);
int mw_cmd_outliers(int argc, char **argv);
int mw_cmd_eval(int argc, char **argv);
int mw_cmd_compare(int argc, char **argv);
int mw_cmd_alerts(int argc, char **argv);
int mw_cmd_rules(int argc, char **argv);
int mw_cmd_registry(int argc, char **argv);
int mw_cmd_compat(int argc, char **argv);
int mw_cmd_diagnose(int argc, char **argv);
int mw_cmd_probes(int argc, char **argv);

/* Prints "modelwatch CMD: message" to stderr and returns MW_EXIT_USAGE. */
int mw_cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints "modelwatch CMD: message" to stderr and returns MW_EXIT_ERROR. */
int mw_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Splits a comma-separated list in place (empty items dropped); returns the
 * count, items in *items (caller frees the array, not the strings). */
size_t mw_cli_split_list(char *s, char ***items);
/* Monotonic clock, seconds. */
double mw_cli_now(void);
/* --format text|json: 1 with *json set, 0 for anything else. */
int mw_cli_text_or_json(const char *arg, int *json);
/* The getopt cases the daemon-reading commands share: 'f' (--format text|json
 * into *json), 'h' (prints help), ':' and unknown options. -1 when the
 * option was taken (go on), else the exit status to return. */
int mw_cli_common_option(const char *cmd, int c, char **argv, const char *help, int *json);
/* Parses a finite double; 1 on success. */
int mw_cli_parse_number(const char *s, double *v);
/* Parses option opt's value s as a whole number in [lo, hi] into *v: 0 on
 * success, else the usage error's exit status (the message names opt). */
int mw_cli_parse_count(const char *cmd, const char *opt, const char *s, double lo, double hi,
                       double *v);

/* Blocks SIGINT and SIGTERM in this thread (and threads it starts later) and
 * fills set with them, for mw_cli_wait_signal. */
#include <signal.h>
void mw_cli_block_signals(sigset_t *set);
/* Waits for a signal of set; with timeout_ms > 0, returns 0 after that long. */
int mw_cli_wait_signal(const sigset_t *set, long timeout_ms);

/* Progress messages go to stderr only when it is a terminal. */
void mw_cli_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mw_cli_progress_done(void);

/* What the batch commands read with (cli_input.c): --schema, --refusals FILE
 * (text columns' refusal phrases), --no-text-inference and --max-line, as
 * read options. */
typedef struct mw_cli_input_args {
    const char *schema, *refusals; /* NULL when not given */
    int no_text_inference;
    size_t max_line; /* 0: the readers' default */
} mw_cli_input_args;
typedef struct mw_cli_input {
    mw_read_options ropt; /* points into this struct */
    mw_schema *schema;
    mw_text_options text;
    char **phrases;
    size_t nphrases;
} mw_cli_input;
/* Fills in; an error is printed and its exit code returned, with in left
 * empty. */
int mw_cli_input_open(const char *cmd, const mw_cli_input_args *args, mw_cli_input *in);
/* --max-line's value: a whole number of bytes from 1 KiB to 1 GiB. */
int mw_cli_parse_max_line(const char *cmd, const char *s, size_t *out);
void mw_cli_input_close(mw_cli_input *in);
/* Help lines of those options. */
#define MW_CLI_INPUT_HELP                                                                          \
    "      --schema FILE        YAML: column -> numeric|categorical|text|ignore\n"                 \
    "      --refusals FILE      refusal phrases of text columns, one per line\n"                   \
    "                           (default: a built-in English list)\n"                              \
    "      --no-text-inference  text columns only where the schema says text (default:\n"          \
    "                           also long, varied strings with spaces; see README)\n"          \
    "      --max-line BYTES     longest line (record) read (default 8388608: 8 MiB;\n"          \
    "                           up to 1073741824), for files with very long texts\n"

/* Reads n (1 or 2) files in parallel; tables[i] gets each, err[i] its error. */
int mw_cli_read_tables(const char *cmd, const char *const *paths, size_t n,
                       const mw_read_options *opt, mw_table **tables);
/* Runs every batch column on up to `threads` threads (0 = number of cores). */
int mw_cli_run_batch(const char *cmd, mw_batch *b, unsigned threads);

/* Output: stdout, or FILE written to FILE.tmp and renamed on success so an
 * interrupted run never leaves a half-written report. */
typedef struct mw_cli_output {
    FILE *f;
    char *path, *tmp;
} mw_cli_output;
int mw_cli_output_open(const char *cmd, const char *path, mw_cli_output *o);
int mw_cli_output_close(const char *cmd, mw_cli_output *o, int ok);

#endif
