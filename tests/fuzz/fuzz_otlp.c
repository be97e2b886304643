/*
 * libFuzzer target: the OTLP/HTTP trace readers (JSON and protobuf) and the
 * GenAI mapping (otlp.h) over arbitrary bytes, read both ways. Checks invariants: every span handed
 * out has readable views (ASan catches stray ones) and counts within the limits; a successful
 * mapping writes one NDJSON line per mapped span, each of which the record parser accepts with the
 * configured model and version; a failure has a status and a message and keeps nothing.
 */
#include "modelwatch/otlp.h"
#include "modelwatch/record.h"

#include <stdlib.h>
#include <string.h>

static unsigned sink;

static void touch(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++)
        sink += (unsigned char)s[i];
}

static int check_span(const mw_otlp_span *s, void *ctx) {
    (void)ctx;
    if (s->nattrs > MW_OTLP_MAX_ATTRS || s->nevents > MW_OTLP_MAX_EVENTS || !s->index) abort();
    if (s->name) touch(s->name, s->name_len);
    for (size_t i = 0; i < s->nattrs; i++) {
        touch(s->attrs[i].key, s->attrs[i].key_len);
        if (s->attrs[i].str) touch(s->attrs[i].str, s->attrs[i].str_len);
    }
    for (size_t i = 0; i < s->nevents; i++)
        if (s->events[i].name) touch(s->events[i].name, s->events[i].name_len);
    if (s->invalid) touch(s->invalid, strlen(s->invalid));
    return 0;
}

/* One encoding: the reader alone, then the mapping, whose lines the record parser reads. */
static void check_encoding(const mw_otlp_map *map, mw_record_parser *p, mw_otlp_encoding enc,
                           const char *body, size_t size) {
    mw_error err;
    mw_error_clear(&err);
    mw_status st = (enc == MW_OTLP_PROTOBUF ? mw_otlp_parse_proto
                                            : mw_otlp_parse)(body, size, check_span, NULL, &err);
    if (st && (err.status == MW_OK || !err.message[0])) abort();
    mw_otlp_batch b;
    mw_error_clear(&err);
    mw_status st2 = mw_otlp_map_body(map, enc, body, size, &b, &err);
    if (st2 != st && st2 != MW_ENOMEM) abort(); /* the mapping reads what the reader reads */
    if (st2) {
        if (b.ndjson || b.nlines || !err.message[0]) abort();
        return;
    }
    if (b.counts[MW_OTLP_MAPPED] != b.nlines) abort();
    mw_record_iter it;
    mw_record rec;
    mw_record_iter_init(&it, b.ndjson, b.ndjson_len);
    uint64_t lines = 0;
    int r;
    while ((r = mw_record_iter_next(&it, p, &rec, &err)) != 0) {
        lines++;
        /* invalid UTF-8 in a copied string is the record parser's to reject */
        if (r < 0) continue;
        if (!(rec.model_len == 1 && (rec.model[0] == 'm' || rec.model[0] == 'd'))) abort();
        if (!(rec.latency_ms >= 0) && !(rec.latency_ms != rec.latency_ms)) abort();
    }
    if (lines != b.nlines) abort();
    mw_otlp_batch_free(&b);
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    static mw_otlp_map *map;
    static mw_record_parser *p;
    if (!map) {
        mw_error e;
        if (mw_otlp_map_new("{\"models\":[{\"match\":\"g*\",\"model\":\"m\",\"version\":\"1\"}],"
                            "\"default\":{\"model\":\"d\",\"version\":\"2\"},"
                            "\"features\":[\"f\",\"gen_ai.request.temperature\"],"
                            "\"first_chunk_event\":\"first\"}",
                            &map, &e))
            abort();
        p = mw_record_parser_new();
    }
    const char *body = (const char *)data;
    for (int enc = MW_OTLP_JSON; enc <= MW_OTLP_PROTOBUF; enc++)
        check_encoding(map, p, (mw_otlp_encoding)enc, body, size);
    return 0;
}
