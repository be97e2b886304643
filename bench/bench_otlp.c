/*
 * OTLP ingestion speed (issue #9, part 3: target >= 100,000 spans/s).
 *
 *   bench_otlp FILE [PROTO_FILE]
 *       FILE holds OTLP/HTTP JSON trace requests, one per line; PROTO_FILE the
 *       same requests in protobuf, each after its length (4 bytes,
 *       little-endian) (both from bench/gen_otlp_data.py). Times, per encoding:
 *         parse  mw_otlp_parse / mw_otlp_parse_proto with a no-op callback
 *         map    mw_otlp_map_body (reading + GenAI mapping to NDJSON record lines)
 *         ingest map + mw_monitor_ingest into an in-memory monitor with the
 *                version registered (POST /v1/traces less HTTP and the journal)
 *       and prints "<enc>_<stage>_spans_per_s X" and "<enc>_<stage>_mb_per_s Y"
 *       per second of CPU time, the best of 3 runs (the machine is shared:
 *       the best run is the one least disturbed by others). With both files it checks that each
 *       request maps to the same record lines in both encodings.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modelwatch/data.h"
#include "modelwatch/monitor.h"
#include "modelwatch/otlp.h"

/* CPU time of this (single-threaded) process: on the shared machine, time
 * spent waiting for a core is not counted against the code. */
static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int count_span(const mw_otlp_span *s, void *ctx) {
    (*(uint64_t *)ctx) += s->nattrs > 0;
    return 0;
}

typedef struct req {
    const char *p;
    size_t n;
} req;

typedef struct input {
    char *buf;
    size_t len;
    req *reqs;
    size_t nreq;
} input;

static int load(const char *path, int framed, input *in) {
    FILE *f = fopen(path, "rb");
    if (!f) return perror(path), 1;
    fseek(f, 0, SEEK_END);
    in->len = (size_t)ftell(f);
    rewind(f);
    in->buf = malloc(in->len + 1);
    if (!in->buf || fread(in->buf, 1, in->len, f) != in->len)
        return fprintf(stderr, "cannot read %s\n", path), 1;
    fclose(f);
    char *end = in->buf + in->len;
    for (char *p = in->buf; p < end;) {
        size_t n;
        if (framed) { /* 4-byte little-endian length, then the request */
            const unsigned char *u = (const unsigned char *)p;
            n = (size_t)u[0] | (size_t)u[1] << 8 | (size_t)u[2] << 16 | (size_t)u[3] << 24;
            p += 4;
            if (n > (size_t)(end - p)) return fprintf(stderr, "%s: bad framing\n", path), 1;
        } else {
            char *e = memchr(p, '\n', (size_t)(end - p));
            n = (size_t)((e ? e : end) - p);
        }
        in->reqs = realloc(in->reqs, (in->nreq + 1) * sizeof *in->reqs);
        in->reqs[in->nreq++] = (req){p, n};
        p += n + !framed;
    }
    return 0;
}

static void report(const char *enc, const char *stage, uint64_t spans, size_t bytes, double dt) {
    printf("%s_%s_spans_per_s %.0f\n%s_%s_mb_per_s %.1f\n", enc, stage, (double)spans / dt, enc,
           stage, (double)bytes / dt / 1e6);
}

/* The three stages on one encoding; 0 when every mapped span was accepted. */
static int stages(const input *in, mw_otlp_encoding enc, const mw_otlp_map *map) {
    const char *name = enc == MW_OTLP_PROTOBUF ? "protobuf" : "json";
    mw_error err;
    uint64_t spans = 0, with_attrs = 0, mapped = 0, accepted = 0;
    double best = 1e30;
    for (int run = 0; run < 3; run++) {
        with_attrs = 0;
        double t0 = now();
        for (size_t i = 0; i < in->nreq; i++)
            if ((enc == MW_OTLP_PROTOBUF ? mw_otlp_parse_proto : mw_otlp_parse)(
                    in->reqs[i].p, in->reqs[i].n, count_span, &with_attrs, &err))
                return fprintf(stderr, "parse: %s\n", err.message), 1;
        best = fmin(best, now() - t0);
    }
    report(name, "parse", with_attrs, in->len, best);
    best = 1e30;
    for (int run = 0; run < 3; run++) {
        spans = mapped = 0;
        double t0 = now();
        for (size_t i = 0; i < in->nreq; i++) {
            mw_otlp_batch b;
            if (mw_otlp_map_body(map, enc, in->reqs[i].p, in->reqs[i].n, &b, &err))
                return fprintf(stderr, "map: %s\n", err.message), 1;
            spans += b.spans;
            mapped += b.counts[MW_OTLP_MAPPED];
            mw_otlp_batch_free(&b);
        }
        best = fmin(best, now() - t0);
    }
    report(name, "map", spans, in->len, best);

    mw_monitor_options mo = {.seed = 1};
    mw_monitor *m;
    mw_table *t;
    const char *csv = "gen_ai.request.temperature\n0.2\n0.7\n1.0\n0.7\n0.2\n1.0\n";
    mw_read_options ro = {.format = MW_FMT_CSV};
    if (mw_monitor_open(&mo, &m, &err) ||
        mw_monitor_register(m, "chat", "1", "{\"window_seconds\":86400}", &err) ||
        mw_table_read_mem("ref", csv, strlen(csv), &ro, &t, &err) ||
        mw_monitor_set_reference(m, "chat", "1", t, &err))
        return fprintf(stderr, "monitor: %s\n", err.message), 1;
    mw_table_free(t);
    best = 1e30;
    for (int run = 0; run < 3; run++) {
        accepted = 0;
        double t0 = now();
        for (size_t i = 0; i < in->nreq; i++) {
            mw_otlp_batch b;
            mw_ingest_result res;
            if (mw_otlp_map_body(map, enc, in->reqs[i].p, in->reqs[i].n, &b, &err) ||
                mw_monitor_ingest(m, b.ndjson, b.ndjson_len, &res, &err))
                return fprintf(stderr, "ingest: %s\n", err.message), 1;
            accepted += res.accepted;
            mw_otlp_batch_free(&b);
        }
        best = fmin(best, now() - t0);
    }
    report(name, "ingest", spans, in->len, best);
    printf("%s_requests %zu\n%s_spans %llu\n%s_mapped %llu\n%s_accepted %llu\n", name, in->nreq,
           name, (unsigned long long)spans, name, (unsigned long long)mapped, name,
           (unsigned long long)accepted);
    mw_monitor_close(m);
    return accepted == mapped ? 0 : 1;
}

/* Each request must give the same record lines in both encodings. */
static int same_records(const input *js, const input *pb, const mw_otlp_map *map) {
    if (js->nreq != pb->nreq) return fprintf(stderr, "request counts differ\n"), 1;
    for (size_t i = 0; i < js->nreq; i++) {
        mw_otlp_batch a, b;
        mw_error err;
        if (mw_otlp_map_body(map, MW_OTLP_JSON, js->reqs[i].p, js->reqs[i].n, &a, &err) ||
            mw_otlp_map_body(map, MW_OTLP_PROTOBUF, pb->reqs[i].p, pb->reqs[i].n, &b, &err))
            return fprintf(stderr, "request %zu: %s\n", i + 1, err.message), 1;
        int same = a.ndjson_len == b.ndjson_len && !memcmp(a.ndjson, b.ndjson, a.ndjson_len);
        mw_otlp_batch_free(&a);
        mw_otlp_batch_free(&b);
        if (!same) return fprintf(stderr, "request %zu maps differently\n", i + 1), 1;
    }
    printf("same_records_both_encodings yes\n");
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: bench_otlp FILE [PROTO_FILE] (bench/gen_otlp_data.py output)\n");
        return 2;
    }
    input js = {0}, pb = {0};
    if (load(argv[1], 0, &js) || (argc == 3 && load(argv[2], 1, &pb))) return 1;
    mw_otlp_map *map;
    mw_error err;
    if (mw_otlp_map_new(
            "{\"models\":[{\"match\":\"gpt-4o*\",\"model\":\"chat\",\"version\":\"1\"}],"
            "\"features\":[\"gen_ai.request.temperature\"]}",
            &map, &err))
        return fprintf(stderr, "map: %s\n", err.message), 1;
    int rc = stages(&js, MW_OTLP_JSON, map);
    if (!rc && argc == 3) rc = stages(&pb, MW_OTLP_PROTOBUF, map) || same_records(&js, &pb, map);
    mw_otlp_map_free(map);
    free(js.reqs);
    free(js.buf);
    free(pb.reqs);
    free(pb.buf);
    return rc;
}
