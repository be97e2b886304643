/*
 * Internals of the golden-prompt probes (probes.h), shared by
 * probe_config.c (the `probes:` section), probe_response.c (reading an
 * answer: JSON or server-sent events, and the expectation check),
 * probe_client.c (one request with libcurl), probes.c (threads, results,
 * store) and probes_api.c (HTTP views and metrics).
 */
#ifndef MW_SERVER_PROBES_INT_H
#define MW_SERVER_PROBES_INT_H

#include "core/util.h"
#include "server/probes.h"

#include <regex.h>
#include <stdatomic.h>
#include <stdint.h>

/* Limits on the configuration and on answers. */
#define MW_PROBE_MAX_SETS 64
#define MW_PROBE_MAX_PROMPTS 100
#define MW_PROBE_MAX_MESSAGES 64
#define MW_PROBE_MAX_TEXT (64 * 1024)          /* one message or expected value, bytes */
#define MW_PROBE_MAX_NAME 64                   /* set names and prompt ids */
#define MW_PROBE_MAX_BODY (1024 * 1024)        /* bytes of one request body */
#define MW_PROBE_MAX_ANSWER (4u * 1024 * 1024) /* bytes of one HTTP answer */
#define MW_PROBE_EXCERPT 200                   /* bytes of an answer kept in a failure's detail */

typedef enum mw_probe_expect {
    MW_PROBE_EXACT,
    MW_PROBE_CONTAINS,
    MW_PROBE_REGEX,
    MW_PROBE_JSON
} mw_probe_expect;

/* Why a prompt failed; the `reason` label of modelwatch_probe_failures_total. */
typedef enum mw_probe_reason {
    MW_PROBE_MISMATCH,         /* answered, but the expectation does not hold */
    MW_PROBE_TIMEOUT,          /* no complete answer within timeout, or no data for stall_timeout */
    MW_PROBE_CONNECT,          /* cannot resolve or connect */
    MW_PROBE_HTTP_STATUS,      /* a status other than 2xx */
    MW_PROBE_INVALID_RESPONSE, /* not the chat completions format */
    MW_PROBE_TRUNCATED,        /* the stream ended before data: [DONE], or the connection broke */
    MW_PROBE_TOO_LARGE,        /* answer over MW_PROBE_MAX_ANSWER */
    MW_PROBE_ERROR,            /* any other transport error */
    MW_PROBE_REASONS
} mw_probe_reason;

const char *mw_probe_reason_name(mw_probe_reason r);
const char *mw_probe_expect_name(mw_probe_expect t);

typedef struct mw_probe_prompt {
    char *id;
    char *body; /* the request body, JSON */
    mw_probe_expect expect;
    char *value; /* expected text or pattern; NULL for json */
    int ignore_case;
    regex_t re; /* for regex */
    int has_re;
} mw_probe_prompt;

typedef struct mw_probe_set_config {
    char *name;
    char *url;     /* the full /chat/completions URL */
    char *log_url; /* url without user:password@, for logs and the API */
    char *model;
    char *api_key_env; /* name of the variable; the key itself is never kept here */
    double interval_s, timeout_s, stall_s;
    int stream, include_usage;
    long max_tokens;
    double temperature;
    mw_probe_prompt *prompts;
    size_t nprompts;
} mw_probe_set_config;

/* Parses set i of a `probes:` list into c (cleared first; freed on error). */
mw_status mw_probe_set_parse(const json_t *v, size_t i, const char *file, mw_probe_set_config *c,
                             mw_error *err);
void mw_probe_set_free(mw_probe_set_config *c);
/* The set as the API shows it (no key, URL without credentials). */
json_t *mw_probe_set_json(const mw_probe_set_config *c);

/* ---- an answer ---- */

/* Reads an answer as it arrives: the whole JSON body, or server-sent events
 * whose data lines are chat.completion.chunk objects (or [DONE]). */
typedef struct mw_probe_answer {
    int stream;
    mw_buf raw;                         /* non-stream: the body; stream: the unfinished line */
    mw_buf content;                     /* the assistant's text so far */
    mw_buf event;                       /* stream: data lines of the event being read */
    char excerpt[MW_PROBE_EXCERPT + 1]; /* the first bytes received, for error details */
    size_t received;                    /* bytes in all */
    int events;                         /* stream: data events seen */
    int done;                           /* stream: data: [DONE] seen */
    int invalid;                        /* something did not parse: detail says what */
    char detail[256];
    double ttft_s;                      /* seconds to the first content text; NaN before */
    double input_tokens, output_tokens; /* from usage; NaN when none came */
    char finish_reason[32];
} mw_probe_answer;

void mw_probe_answer_init(mw_probe_answer *a, int stream);
void mw_probe_answer_free(mw_probe_answer *a);
/* Takes len more bytes, received elapsed_s after the request started.
 * 0, or -1 once the answer is over MW_PROBE_MAX_ANSWER (nothing taken). */
int mw_probe_answer_feed(mw_probe_answer *a, const char *data, size_t len, double elapsed_s);
/* The answer is complete: parses a non-stream body, or the last event of a
 * stream that did not end with a blank line. */
void mw_probe_answer_finish(mw_probe_answer *a);

/* Copies at most size - 1 bytes of src to dst (size > 0), bytes other than
 * printable ASCII as spaces, so that a detail stays one line of text;
 * NUL-terminated; returns the bytes copied. */
size_t mw_probe_printable(char *dst, size_t size, const char *src, size_t len);

/* 1 when text (len bytes) meets the prompt's expectation. */
int mw_probe_expect_holds(const mw_probe_prompt *p, const char *text, size_t len);

/* ---- one request ---- */

typedef struct mw_probe_result {
    int passed;
    int aborted; /* stopped by shutdown: the run is dropped */
    mw_probe_reason reason;
    char detail[512];
    long http_status;
    double latency_s, ttft_s;           /* NaN when not measured */
    double input_tokens, output_tokens; /* NaN when no usage */
    char finish_reason[32];
} mw_probe_result;

typedef struct mw_probe_client mw_probe_client;

/* A client for one set; stop is polled during transfers (non-zero aborts).
 * api_key (borrowed, may be NULL) goes into the Authorization header. */
mw_status mw_probe_client_new(const mw_probe_set_config *c, const char *api_key, atomic_int *stop,
                              mw_probe_client **out, mw_error *err);
void mw_probe_client_free(mw_probe_client *cl);
/* Sends prompt p and judges the answer. */
void mw_probe_client_run(mw_probe_client *cl, const mw_probe_prompt *p, mw_probe_result *r);

/* ---- the running sets (probes.c), read by probes_api.c ---- */

#include "modelwatch/store.h"

#include <pthread.h>

#define MW_PROBE_KEEP_RUNS 10000 /* stored runs kept per set */

typedef struct mw_probe_state {
    mw_probe_set_config cfg;
    struct mw_probes *owner;
    char *api_key; /* from cfg.api_key_env at start; wiped at stop */
    pthread_t thread;
    int started;
    mw_histo *latency, *ttft; /* thread-safe on their own */
    pthread_mutex_t mu;       /* guards what follows */
    pthread_cond_t cond;      /* on CLOCK_MONOTONIC: wakes the thread for stop or a run */
    int run_now;
    uint64_t runs;
    uint64_t *requests; /* per prompt */
    uint64_t *failures; /* per prompt and reason: [prompt * MW_PROBE_REASONS + reason] */
    int *last_passed;   /* per prompt in the last run: 1, 0; -1 before the first */
    double tokens[2];   /* input, output, from usage */
    int has_last;       /* the gauges below describe the last run */
    double last_end, last_ratio, last_latency[2], last_ttft[2]; /* [mean, max]; NaN: none */
    char *last_json;                                            /* the last run's result */
    char last_summary[160]; /* what was logged for the last run */
} mw_probe_state;

struct mw_probes {
    mw_probe_state *sets;
    size_t n;
    atomic_int stopping;
    mw_store *store;
};

/* The set called name, or NULL. */
mw_probe_state *mw_probes_find(mw_probes *p, const char *name);
/* Asks the set's thread for a run now (after the one in progress, if any). */
void mw_probes_trigger(mw_probe_state *s);

#endif
