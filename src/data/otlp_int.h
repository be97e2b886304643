/*
 * Internal interface of the OTLP readers (src/data/otlp.c for JSON,
 * src/data/otlp_proto.c for protobuf): the reader state both fill, and the
 * span assembly they share, so that both hand the same mw_otlp_span to the
 * callback (include/modelwatch/otlp.h).
 */
#ifndef MW_DATA_OTLP_INT_H
#define MW_DATA_OTLP_INT_H

#include "modelwatch/otlp.h"

typedef struct mw_otlp_rd {
    const char *p, *end, *begin; /* JSON: the unread input */
    mw_error *err;
    char *scratch; /* JSON: len + 1 bytes for decoded strings */
    size_t slen;
    int depth;
    mw_otlp_attr *attrs; /* the current span's */
    size_t nattrs, capattrs;
    mw_otlp_event *events;
    size_t nevents, capevents;
    const char *invalid; /* first problem of the current span */
    char invalid_buf[200];
    uint64_t nspans;
    mw_otlp_span_fn fn;
    void *ctx;
    int stop;
} mw_otlp_rd;

/* Starts a span (index, limit MW_OTLP_MAX_SPANS: -1 with MW_ERANGE in err). */
int mw_otlp_rd_begin_span(mw_otlp_rd *P, mw_otlp_span *sp);
/* Room for one more attribute of the current span, zeroed; NULL when out of memory. */
mw_otlp_attr *mw_otlp_rd_new_attr(mw_otlp_rd *P);
/* Appends an event (past MW_OTLP_MAX_EVENTS the span is invalid); -1 when out of memory. */
int mw_otlp_rd_add_event(mw_otlp_rd *P, const mw_otlp_event *ev);
/* Marks the current span invalid: fmt has one "%.*s" for key (the first reason is kept). */
void mw_otlp_rd_invalid(mw_otlp_rd *P, const char *fmt, const char *key, size_t kn);
/* Hands the finished span, with the attributes and events gathered, to the callback. */
void mw_otlp_rd_deliver(mw_otlp_rd *P, mw_otlp_span *sp);
void mw_otlp_rd_free(mw_otlp_rd *P);

#endif
