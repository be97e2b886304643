/*
 * `modelwatch demo`: a newcomer's first minute. Starts the daemon in-process
 * with a demo model (model "demo", version "1", 10-second windows), uploads a
 * synthetic reference through the HTTP API, then posts synthetic prediction
 * traffic through the API as a client would. After --drift-after seconds the
 * traffic drifts (amount grows, the country mix changes, a new device appears),
 * and the next windows report modelwatch_feature_drifted = 1 for those features.
 * Each closed window is summarised on the terminal with where to look.
 */
#include "cli/cli.h"
#include "core/util.h"
#include "server/daemon.h"

#include "cli/cli_http.h"
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char demo_help[] =
    "usage: modelwatch demo [--listen HOST:PORT] [--db PATH] [options]\n"
    "\n"
    "Starts the daemon with a demo model, uploads a reference data set and\n"
    "replays synthetic prediction traffic that drifts after a while. Watch\n"
    "http://HOST:PORT/metrics (modelwatch_feature_drifted) or the window results.\n"
    "\n"
    "options:\n"
    "  -l, --listen HOST:PORT   default 127.0.0.1:9750\n"
    "      --db PATH            default ./modelwatch-demo.db (recreated at start)\n"
    "      --window SECONDS     window length (default 10)\n"
    "      --rate N             records per second (default 500)\n"
    "      --drift-after S      seconds of healthy traffic before the drift (default 25)\n"
    "      --duration S         stop after S seconds (default: run until Ctrl-C)\n"
    "  -h, --help               show this help\n";

static const char *const countries[] = {"DE", "FR", "US", "GB"};
static const char *const devices[] = {"ios", "android", "web", "tv"};

static double normal(mw_rng *r) {
    double u1 = (mw_rng_next(r) >> 11) * 0x1.0p-53 + 0x1.0p-54, u2 = mw_rng_unit(r);
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

static size_t pick(mw_rng *r, const double *p, size_t n) {
    double u = mw_rng_unit(r), acc = 0;
    for (size_t i = 0; i < n; i++)
        if (u < (acc += p[i])) return i;
    return n - 1;
}

/* One synthetic row; drifted traffic shifts amount and the category mixes. */
static void features(mw_rng *r, int drifted, double *amount, double *age, double *score,
                     const char **country, const char **device) {
    static const double cp_healthy[4] = {0.4, 0.3, 0.2, 0.1}, cp_drift[4] = {0.15, 0.15, 0.6, 0.1};
    static const double dp_healthy[4] = {0.4, 0.4, 0.2, 0}, dp_drift[4] = {0.3, 0.3, 0.2, 0.2};
    *amount = exp(3.0 + 0.6 * normal(r)) * (drifted ? 1.6 : 1.0);
    *age = 40 + 12 * normal(r);
    *score = mw_rng_unit(r);
    *country = countries[pick(r, drifted ? cp_drift : cp_healthy, 4)];
    *device = devices[pick(r, drifted ? dp_drift : dp_healthy, 4)];
}

typedef mw_cli_http http;

static long request(http *h, const char *method, const char *path, const char *ctype,
                    const char *body, size_t len, char **out) {
    return mw_cli_http_request(h, method, path, ctype, body, len, out);
}

static int upload_reference(http *h, mw_rng *r) {
    mw_buf csv = {0};
    char line[160];
    mw_buf_put(&csv, "amount,age,score,country,device\n", 32);
    for (int i = 0; i < 5000; i++) {
        double a, g, s;
        const char *c, *d;
        features(r, 0, &a, &g, &s, &c, &d);
        int n = snprintf(line, sizeof line, "%.6f,%.3f,%.6f,%s,%s\n", a, g, s, c, d);
        mw_buf_put(&csv, line, (size_t)n);
    }
    long st = request(h, "PUT", "/api/v1/models/demo/versions/1/reference", "text/csv",
                      (const char *)csv.data, csv.len, NULL);
    free(csv.data);
    return st == 200;
}

static long post_batch(http *h, mw_rng *r, int drifted, size_t n, uint64_t *next_id) {
    mw_buf body = {0};
    char line[400];
    for (size_t i = 0; i < n; i++) {
        double a, g, s;
        const char *c, *d;
        features(r, drifted, &a, &g, &s, &c, &d);
        double p = 1 / (1 + exp(-(a / 40 - 1.5)));
        int k = snprintf(
            line, sizeof line,
            "{\"model\":\"demo\",\"version\":\"1\",\"id\":\"r-%llu\",\"features\":{"
            "\"amount\":%.4f,\"age\":%.2f,\"score\":%.5f,\"country\":\"%s\",\"device\":"
            "\"%s\"},\"prediction\":%d,\"scores\":{\"1\":%.4f},\"latency_ms\":%.2f}\n",
            (unsigned long long)(*next_id)++, a, g, s, c, d, p > 0.5, p, 5 + 3 * mw_rng_unit(r));
        mw_buf_put(&body, line, (size_t)k);
    }
    long st = request(h, "POST", "/api/v1/records", "application/x-ndjson", (const char *)body.data,
                      body.len, NULL);
    free(body.data);
    return st;
}

/* Prints a line for the newest window result when it is new. */
static void report_window(http *h, double *last_end) {
    char *out = NULL;
    if (request(h, "GET", "/api/v1/models/demo/versions/1/windows?limit=1", NULL, NULL, 0, &out) !=
        200) {
        free(out);
        return;
    }
    json_t *root = json_loads(out, 0, NULL);
    free(out);
    json_t *w = json_array_get(json_object_get(root, "windows"), 0);
    double end = json_number_value(json_object_get(w, "end"));
    if (w && end > *last_end) {
        *last_end = end;
        char drifted[256] = "";
        size_t i;
        json_t *c;
        json_array_foreach(json_object_get(w, "columns"), i, c) {
            if (!json_is_true(json_object_get(json_object_get(c, "drift"), "drifted"))) continue;
            size_t l = strlen(drifted);
            snprintf(drifted + l, sizeof drifted - l, "%s%s", l ? ", " : "",
                     json_string_value(json_object_get(c, "name")));
        }
        time_t e = (time_t)end;
        struct tm tm;
        localtime_r(&e, &tm);
        printf("window ending %02d:%02d:%02d: %lld records, drifted features: %s%s\n", tm.tm_hour,
               tm.tm_min, tm.tm_sec, (long long)json_integer_value(json_object_get(w, "records")),
               drifted[0] ? drifted : "none",
               json_is_true(json_object_get(w, "dataset_drift")) ? "  => DATASET DRIFT" : "");
        fflush(stdout);
    }
    json_decref(root);
}

enum { OPT_DB = 1000, OPT_WINDOW, OPT_RATE, OPT_DRIFT_AFTER, OPT_DURATION };

int mw_cmd_demo(int argc, char **argv) {
    static const struct option longopts[] = {
        {"listen", required_argument, NULL, 'l'},
        {"db", required_argument, NULL, OPT_DB},
        {"window", required_argument, NULL, OPT_WINDOW},
        {"rate", required_argument, NULL, OPT_RATE},
        {"drift-after", required_argument, NULL, OPT_DRIFT_AFTER},
        {"duration", required_argument, NULL, OPT_DURATION},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *cmd = "demo", *listen = "127.0.0.1:9750", *db = "./modelwatch-demo.db";
    double window = 10, rate = 500, drift_after = 25, duration = 0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":l:h", longopts, NULL)) != -1) {
        double *target = c == OPT_WINDOW        ? &window
                         : c == OPT_RATE        ? &rate
                         : c == OPT_DRIFT_AFTER ? &drift_after
                         : c == OPT_DURATION    ? &duration
                                                : NULL;
        if (target) {
            if (!mw_cli_parse_number(optarg, target) || *target < 0 || *target > 1e7)
                return mw_cli_usage_error(cmd, "%s expects a number >= 0", argv[optind - 1]);
            continue;
        }
        switch (c) {
        case 'l':
            listen = optarg;
            break;
        case OPT_DB:
            db = optarg;
            break;
        case 'h':
            fputs(demo_help, stdout);
            return MW_EXIT_OK;
        case ':':
            return mw_cli_usage_error(cmd, "option %s needs a value", argv[optind - 1]);
        default:
            return mw_cli_usage_error(cmd, "unknown option %s", argv[optind - 1]);
        }
    }
    if (window < 1 || rate < 1) return mw_cli_usage_error(cmd, "--window and --rate must be >= 1");
    /* the demo database is the demo's own: start from scratch */
    char path[1024];
    const char *suffix[] = {"", "-wal", "-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s%s", db, suffix[i]);
        unlink(path);
    }
    char cfg_json[128];
    snprintf(cfg_json, sizeof cfg_json, "{\"window_seconds\":%g}", window);
    mw_config_version ver = {"demo", "1", cfg_json, NULL};
    mw_daemon_config cfg = {.listen = (char *)listen,
                            .db = (char *)db,
                            .tick_seconds = 0.5,
                            .versions = &ver,
                            .nversions = 1,
                            .alerting = {.starter_rules = 1}}; /* alerts fire when it drifts */
    sigset_t set;
    mw_cli_block_signals(&set);
    mw_daemon d;
    mw_error err;
    mw_error_clear(&err);
    if (mw_daemon_start(&d, &cfg, &err) != MW_OK) return mw_cli_error(cmd, "%s", err.message);
    char host[256], base[300];
    uint16_t port;
    mw_parse_listen(listen, host, sizeof host, &port);
    snprintf(base, sizeof base, strchr(host, ':') ? "http://[%s]:%u" : "http://%s:%u",
             !strcmp(host, "0.0.0.0") ? "127.0.0.1" : host, port);
    http h;
    mw_cli_http_init(&h, base);
    mw_rng rng;
    mw_rng_seed(&rng, (uint64_t)time(NULL));
    int rc = MW_EXIT_OK;
    if (!h.curl || !upload_reference(&h, &rng)) {
        rc = mw_cli_error(cmd, "could not upload the demo reference to %s", h.base);
    } else {
        printf("modelwatch demo: daemon on %s, model demo/1, %g-second windows, %g records/s.\n"
               "Traffic drifts after %g s. Look at:\n"
               "  curl -s %s/metrics | grep modelwatch_feature_drifted\n"
               "  curl -s '%s/api/v1/models/demo/versions/1/windows?limit=1'\n"
               "  modelwatch alerts --url %s      (starter alert rules are on)\n"
               "Ctrl-C to stop.\n",
               h.base, window, rate, drift_after, h.base, h.base, h.base);
        fflush(stdout);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        uint64_t next_id = 1;
        double last_end = 0;
        int announced = 0;
        for (int tick = 0;; tick++) {
            struct timespec now;
            clock_gettime(CLOCK_MONOTONIC, &now);
            double elapsed =
                (double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) * 1e-9;
            if (duration > 0 && elapsed >= duration) break;
            int drifted = elapsed >= drift_after;
            if (drifted && !announced) {
                printf("-- traffic drifts now: amount x1.6, more US, a new device \"tv\" --\n");
                announced = 1;
            }
            long st = post_batch(&h, &rng, drifted, (size_t)ceil(rate / 5), &next_id);
            if (st != 200)
                fprintf(stderr, "modelwatch demo: POST /api/v1/records answered %ld\n", st);
            if (tick % 5 == 0) report_window(&h, &last_end);
            if (mw_cli_wait_signal(&set, 200)) break;
        }
    }
    mw_cli_http_free(&h);
    mw_daemon_stop(&d);
    return rc;
}
