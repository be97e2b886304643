/*
 * `modelwatch top`: the live serving and resource picture of a running daemon
 * in the terminal, refreshed every second. It reads the daemon's own /metrics
 * (so it shows exactly what Prometheus sees) and derives rates from the
 * difference between two scrapes: records/s and errors/s per model version,
 * the last window's latency percentiles, drift share and outlier ratio, and,
 * when the daemon exports them, process, host and GPU resources.
 */
#include "cli/cli.h"

#include <curl/curl.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

static const char top_help[] =
    "usage: modelwatch top [--url URL] [--interval S] [--count N]\n"
    "\n"
    "Shows a running daemon's serving and resource picture, refreshed every\n"
    "second: records/s and errors/s per model version (from two scrapes of\n"
    "/metrics), the last window's latency percentiles, drift share and outlier\n"
    "ratio, and process, host and GPU resources when the daemon exports them.\n"
    "\n"
    "options:\n"
    "  -u, --url URL            the daemon (default http://127.0.0.1:9750)\n"
    "  -i, --interval S         seconds between refreshes (default 1)\n"
    "  -n, --count N            stop after N refreshes (default: until Ctrl-C)\n"
    "  -h, --help               show this help\n";

/* One parsed sample: name, the labels as written, value. */
typedef struct sample {
    char name[96];
    char labels[256];
    double value;
} sample;

typedef struct scrape {
    sample *s;
    size_t n, cap;
} scrape;

static size_t sink(char *p, size_t sz, size_t n, void *ctx) {
    mw_buf_put(ctx, p, sz * n);
    return sz * n;
}

/* Parses the text exposition format: `name{labels} value` lines. */
static void parse_metrics(const char *text, scrape *out) {
    out->n = 0;
    for (const char *line = text; line && *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len && line[0] != '#') {
            sample sm = {{0}, {0}, NAN};
            const char *brace = memchr(line, '{', len), *space = memchr(line, ' ', len);
            const char *name_end = brace && (!space || brace < space) ? brace : space;
            if (name_end && (size_t)(name_end - line) < sizeof sm.name) {
                memcpy(sm.name, line, (size_t)(name_end - line));
                const char *vstart = space;
                if (name_end == brace) {
                    const char *close = memchr(brace, '}', len - (size_t)(brace - line));
                    if (close && (size_t)(close - brace - 1) < sizeof sm.labels)
                        memcpy(sm.labels, brace + 1, (size_t)(close - brace - 1));
                    vstart = close ? memchr(close, ' ', len - (size_t)(close - line)) : NULL;
                }
                if (vstart) sm.value = strtod(vstart + 1, NULL);
                if (out->n == out->cap) {
                    size_t cap = out->cap ? out->cap * 2 : 256;
                    sample *ns = realloc(out->s, cap * sizeof *ns);
                    if (!ns) return;
                    out->s = ns;
                    out->cap = cap;
                }
                out->s[out->n++] = sm;
            }
        }
        line = eol ? eol + 1 : NULL;
    }
}

static int fetch(CURL *c, const char *url, scrape *out) {
    mw_buf body = {0};
    char full[512];
    snprintf(full, sizeof full, "%s/metrics", url);
    curl_easy_setopt(c, CURLOPT_URL, full);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 5L);
    long status = 0;
    int ok = curl_easy_perform(c) == CURLE_OK &&
             curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200;
    mw_buf_u8(&body, 0);
    if (ok && !body.failed) parse_metrics((const char *)body.data, out);
    free(body.data);
    return ok;
}

/* Value of name with exactly these labels, or NAN. */
static double get(const scrape *s, const char *name, const char *labels) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->s[i].name, name) && !strcmp(s->s[i].labels, labels)) return s->s[i].value;
    return NAN;
}

/* Sum of name over samples whose labels start with prefix. */
static double sum_prefix(const scrape *s, const char *name, const char *prefix) {
    double total = 0;
    int any = 0;
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->s[i].name, name) && !strncmp(s->s[i].labels, prefix, strlen(prefix))) {
            total += s->s[i].value;
            any = 1;
        }
    return any ? total : NAN;
}

static void cell(double v, const char *fmt, int width) {
    if (isnan(v))
        printf("%*s", width, "-");
    else
        printf(fmt, width, v);
}

static void draw(const scrape *now, const scrape *before, double dt, const char *url) {
    printf("\033[H\033[2J");
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    printf("modelwatch top  %s  %02d:%02d:%02d\n\n", url, tm.tm_hour, tm.tm_min, tm.tm_sec);
    printf("%-24s %9s %8s %8s %8s %8s %7s %7s\n", "MODEL/VERSION", "REC/S", "ERR/S", "P50 ms",
           "P95 ms", "P99 ms", "DRIFT", "OUTL");
    for (size_t i = 0; i < now->n; i++) {
        const sample *sm = &now->s[i];
        if (strcmp(sm->name, "modelwatch_records_total")) continue;
        char mv[160] = "", pre[300];
        const char *m = strstr(sm->labels, "model=\""), *v = strstr(sm->labels, "version=\"");
        if (!m || !v) continue;
        int ml = (int)strcspn(m + 7, "\""), vl = (int)strcspn(v + 9, "\"");
        snprintf(mv, sizeof mv, "%.*s/%.*s", ml, m + 7, vl, v + 9);
        snprintf(pre, sizeof pre, "%s", sm->labels);
        double rec = (sm->value - get(before, sm->name, sm->labels)) / dt;
        double err = (sum_prefix(now, "modelwatch_prediction_errors_total", pre) -
                      sum_prefix(before, "modelwatch_prediction_errors_total", pre)) /
                     dt;
        char ql[340];
        double q[3];
        const char *qs[3] = {"0.5", "0.95", "0.99"};
        for (int k = 0; k < 3; k++) {
            snprintf(ql, sizeof ql, "%s,quantile=\"%s\"", sm->labels, qs[k]);
            q[k] = 1000 * get(now, "modelwatch_window_latency_seconds", ql);
        }
        printf("%-24.24s ", mv);
        cell(rec, "%*.0f", 9);
        cell(err, " %*.1f", 8);
        for (int k = 0; k < 3; k++)
            cell(q[k], " %*.1f", 8);
        cell(get(now, "modelwatch_dataset_drift_share", sm->labels), " %*.2f", 7);
        cell(get(now, "modelwatch_outlier_ratio", sm->labels), " %*.3f", 7);
        printf("\n");
    }
    /* resources, when exported */
    int header = 0;
    for (size_t i = 0; i < now->n; i++) {
        const sample *sm = &now->s[i];
        if (strcmp(sm->name, "modelwatch_process_resident_memory_bytes")) continue;
        if (!header++) printf("\n%-40s %10s %8s\n", "PROCESS", "RSS MiB", "CPU %");
        char cpu_labels[300];
        snprintf(cpu_labels, sizeof cpu_labels, "%s", sm->labels);
        double cpu = (sum_prefix(now, "modelwatch_process_cpu_seconds_total", cpu_labels) -
                      sum_prefix(before, "modelwatch_process_cpu_seconds_total", cpu_labels)) /
                     dt * 100;
        printf("%-40.40s %10.1f ", sm->labels, sm->value / 1048576.0);
        cell(cpu, "%*.1f", 8);
        printf("\n");
    }
    double avail = sum_prefix(now, "modelwatch_host_memory_available_bytes", "");
    double total = sum_prefix(now, "modelwatch_host_memory_total_bytes", "");
    if (!isnan(total))
        printf("\nhost memory: %.0f of %.0f MiB available\n", avail / 1048576.0, total / 1048576.0);
    for (size_t i = 0; i < now->n; i++)
        if (!strcmp(now->s[i].name, "modelwatch_gpu_utilization_ratio"))
            printf("GPU {%s}: utilisation %.0f %%\n", now->s[i].labels, 100 * now->s[i].value);
    fflush(stdout);
}

int mw_cmd_top(int argc, char **argv) {
    static const struct option longopts[] = {{"url", required_argument, NULL, 'u'},
                                             {"interval", required_argument, NULL, 'i'},
                                             {"count", required_argument, NULL, 'n'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *cmd = "top", *url = "http://127.0.0.1:9750";
    double interval = 1, count = 0;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":u:i:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'u':
            url = optarg;
            break;
        case 'i':
            if (!mw_cli_parse_number(optarg, &interval) || interval < 0.1 || interval > 3600)
                return mw_cli_usage_error(cmd, "--interval expects seconds from 0.1 to 3600");
            break;
        case 'n':
            if (!mw_cli_parse_number(optarg, &count) || count < 1 || count != floor(count))
                return mw_cli_usage_error(cmd, "--count expects a whole number >= 1");
            break;
        case 'h':
            fputs(top_help, stdout);
            return MW_EXIT_OK;
        case ':':
            return mw_cli_usage_error(cmd, "option %s needs a value", argv[optind - 1]);
        default:
            return mw_cli_usage_error(cmd, "unknown option %s", argv[optind - 1]);
        }
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURL *curl = curl_easy_init();
    scrape a = {0}, b = {0};
    int rc = MW_EXIT_OK;
    sigset_t set;
    mw_cli_block_signals(&set);
    if (!curl || !fetch(curl, url, &a)) {
        rc = mw_cli_error(cmd, "cannot read %s/metrics: is `modelwatch serve` running there?", url);
    } else {
        double t0 = mw_cli_now();
        for (long k = 0; count == 0 || k < (long)count; k++) {
            if (mw_cli_wait_signal(&set, (long)(interval * 1000))) break;
            if (!fetch(curl, url, &b)) {
                rc = mw_cli_error(cmd, "lost %s", url);
                break;
            }
            double t1 = mw_cli_now();
            draw(&b, &a, t1 - t0, url);
            scrape tmp = a;
            a = b;
            b = tmp;
            t0 = t1;
        }
    }
    free(a.s);
    free(b.s);
    if (curl) curl_easy_cleanup(curl);
    curl_global_cleanup();
    return rc;
}
