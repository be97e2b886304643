/*
 * Reader of OTLP/HTTP protobuf trace requests (include/modelwatch/otlp.h,
 * mw_otlp_parse_proto): the same spans as the JSON reader, from the binary
 * encoding (Content-Type application/x-protobuf, the OTLP exporters' default).
 *
 * Protobuf wire format (protobuf.dev, "Encoding"): each field is a varint key
 * (field number << 3 | wire type) followed by a varint (type 0), 8 bytes
 * (type 1), a varint length and that many bytes (type 2), or 4 bytes (type 5).
 * The messages read, with their field numbers (opentelemetry-proto,
 * trace/v1/trace.proto and common/v1/common.proto):
 *
 *   ExportTraceServiceRequest  1 resource_spans (repeated)
 *   ResourceSpans              2 scope_spans (repeated)
 *   ScopeSpans                 2 spans (repeated)
 *   Span                       5 name, 7 start_time_unix_nano (fixed64),
 *                              8 end_time_unix_nano (fixed64), 9 attributes,
 *                              11 events, 15 status
 *   Event                      1 time_unix_nano (fixed64), 2 name
 *   Status                     3 code (0 unset, 1 ok, 2 error)
 *   KeyValue                   1 key, 2 value (AnyValue)
 *   AnyValue                   1 string_value, 2 bool_value, 3 int_value (int64),
 *                              4 double_value (double), 5 array_value, 6 kvlist_value,
 *                              7 bytes_value
 *   ArrayValue                 1 values (repeated AnyValue)
 *
 * Every other field is skipped by its wire type, so the reader needs no
 * generated code and no recursion beyond this fixed nesting (no depth limit
 * needed). Strings are views into the body (protobuf has no escapes).
 * A key, length or value running past its message, a wire type that is not
 * the field's, or groups (types 3 and 4) make the request malformed
 * (MW_EPARSE with the byte offset), as a protobuf decoder would refuse it.
 */
#include "data/otlp_int.h"

#include <string.h>

typedef struct pb {
    const unsigned char *p, *end;
} pb;

typedef struct proto {
    mw_otlp_rd *P;
    const unsigned char *begin;
} proto;

static int bad(proto *R, const unsigned char *at, const char *what) {
    mw_error_set(R->P->err, MW_EPARSE, NULL, 0, (uint64_t)(at - R->begin) + 1,
                 "OTLP protobuf, byte %llu: %s", (unsigned long long)(at - R->begin) + 1, what);
    return -1;
}

static int varint(proto *R, pb *b, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (b->p >= b->end) return bad(R, b->p, "a varint runs past the end of its message");
        unsigned char c = *b->p++;
        x |= (uint64_t)(c & 0x7F) << (shift < 64 ? shift : 63);
        if (!(c & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return bad(R, b->p, "a varint longer than 10 bytes");
}

/* Next field of b: 1 with number, wire type and (type 2) the sub-message
 * range in *sub, or (types 0, 1, 5) the value in *v; 0 at the end. */
static int field(proto *R, pb *b, uint32_t *num, int *wt, pb *sub, uint64_t *v) {
    if (b->p >= b->end) return 0;
    const unsigned char *at = b->p;
    uint64_t key, len;
    if (varint(R, b, &key)) return -1;
    *num = (uint32_t)(key >> 3);
    *wt = (int)(key & 7);
    if (*num == 0) return bad(R, at, "field number 0");
    switch (*wt) {
    case 0:
        return varint(R, b, v) ? -1 : 1;
    case 1:
    case 5: {
        size_t n = *wt == 1 ? 8 : 4;
        if ((size_t)(b->end - b->p) < n) return bad(R, at, "a fixed-size value runs past the end");
        uint64_t x = 0;
        for (size_t i = 0; i < n; i++) /* little-endian */
            x |= (uint64_t)b->p[i] << (8 * i);
        b->p += n;
        *v = x;
        return 1;
    }
    case 2:
        if (varint(R, b, &len)) return -1;
        if (len > (uint64_t)(b->end - b->p)) return bad(R, at, "a length runs past the end");
        sub->p = b->p;
        sub->end = b->p + len;
        b->p += len;
        return 1;
    default:
        return bad(R, at, "an unsupported wire type (groups are not used by OTLP)");
    }
}

/* The field must have wire type want; 0 when it has, -1 (malformed) otherwise. */
static int expect(proto *R, const pb *b, int wt, int want) {
    return wt == want ? 0 : bad(R, b->p, "a field with the wrong wire type");
}

static int any_value(proto *R, pb *b, mw_otlp_attr *a, int in_array) {
    uint32_t num;
    int wt, r;
    pb sub;
    uint64_t v;
    while ((r = field(R, b, &num, &wt, &sub, &v)) == 1) {
        switch (num) {
        case 1:
            if (expect(R, b, wt, 2)) return -1;
            a->kind = MW_OTLP_STRING;
            a->str = (const char *)sub.p;
            a->str_len = (size_t)(sub.end - sub.p);
            break;
        case 2:
        case 3:
            if (expect(R, b, wt, 0)) return -1;
            a->kind = num == 2 ? MW_OTLP_BOOL : MW_OTLP_INT;
            a->number = num == 2 ? (double)(v != 0) : (double)(int64_t)v;
            break;
        case 4:
            if (expect(R, b, wt, 1)) return -1;
            a->kind = MW_OTLP_DOUBLE;
            memcpy(&a->number, &v, sizeof a->number);
            break;
        case 5: {
            if (expect(R, b, wt, 2)) return -1;
            if (in_array) break; /* arrays in arrays are not read */
            a->kind = MW_OTLP_ARRAY;
            a->str = NULL;
            a->number = 0;
            uint32_t n2;
            int w2, r2;
            pb el;
            while ((r2 = field(R, &sub, &n2, &w2, &el, &v)) == 1) {
                if (n2 != 1) continue;
                if (expect(R, &sub, w2, 2)) return -1;
                mw_otlp_attr e = {0};
                if (any_value(R, &el, &e, 1)) return -1;
                if (e.kind == MW_OTLP_STRING && !a->str) {
                    a->str = e.str;
                    a->str_len = e.str_len;
                }
                a->number++;
            }
            if (r2 < 0) return -1;
            break;
        }
        default: /* kvlist_value, bytes_value, unknown */
            a->kind = MW_OTLP_NONE;
            break;
        }
    }
    return r;
}

static int key_value(proto *R, pb *b) {
    mw_otlp_rd *P = R->P;
    if (P->nattrs >= MW_OTLP_MAX_ATTRS) {
        mw_otlp_rd_invalid(P, "more than 1024 attributes%.*s", "", 0);
        return 0;
    }
    mw_otlp_attr *a = mw_otlp_rd_new_attr(P);
    if (!a) return mw_error_set(P->err, MW_ENOMEM, NULL, 0, 0, "out of memory"), -1;
    uint32_t num;
    int wt, r, has_key = 0;
    pb sub;
    uint64_t v;
    while ((r = field(R, b, &num, &wt, &sub, &v)) == 1) {
        if (num == 1) {
            if (expect(R, b, wt, 2)) return -1;
            a->key = (const char *)sub.p;
            a->key_len = (size_t)(sub.end - sub.p);
            has_key = 1;
        } else if (num == 2) {
            if (expect(R, b, wt, 2) || any_value(R, &sub, a, 0)) return -1;
        }
    }
    if (r < 0) return -1;
    if (!has_key) {
        P->nattrs--;
        mw_otlp_rd_invalid(P, "an attribute has no \"key\"%.*s", "", 0);
    }
    return 0;
}

static int event(proto *R, pb *b) {
    mw_otlp_event ev = {0};
    uint32_t num;
    int wt, r;
    pb sub;
    uint64_t v;
    while ((r = field(R, b, &num, &wt, &sub, &v)) == 1) {
        if (num == 1) {
            if (expect(R, b, wt, 1)) return -1;
            ev.time_ns = v;
        } else if (num == 2) {
            if (expect(R, b, wt, 2)) return -1;
            ev.name = (const char *)sub.p;
            ev.name_len = (size_t)(sub.end - sub.p);
        }
    }
    return r < 0 ? -1 : mw_otlp_rd_add_event(R->P, &ev);
}

static int span(proto *R, pb *b) {
    mw_otlp_span sp;
    if (mw_otlp_rd_begin_span(R->P, &sp)) return -1;
    uint32_t num;
    int wt, r;
    pb sub;
    uint64_t v;
    while ((r = field(R, b, &num, &wt, &sub, &v)) == 1) {
        int e = 0;
        switch (num) {
        case 5:
            if (!(e = expect(R, b, wt, 2))) {
                sp.name = (const char *)sub.p;
                sp.name_len = (size_t)(sub.end - sub.p);
            }
            break;
        case 7:
        case 8:
            if (!(e = expect(R, b, wt, 1))) *(num == 7 ? &sp.start_ns : &sp.end_ns) = v;
            break;
        case 9:
            e = expect(R, b, wt, 2) || key_value(R, &sub);
            break;
        case 11:
            e = expect(R, b, wt, 2) || event(R, &sub);
            break;
        case 15: {
            if ((e = expect(R, b, wt, 2))) break;
            uint32_t n2;
            int w2, r2;
            pb s2;
            while ((r2 = field(R, &sub, &n2, &w2, &s2, &v)) == 1) {
                if (n2 != 3) continue;
                if (expect(R, &sub, w2, 0)) return -1;
                if (v > 2)
                    mw_otlp_rd_invalid(R->P, "%.*s: expected 0, 1 or 2", "status.code", 11);
                else
                    sp.status_code = (int)v;
            }
            e = r2 < 0;
            break;
        }
        default:
            break;
        }
        if (e) return -1;
    }
    if (r < 0) return -1;
    mw_otlp_rd_deliver(R->P, &sp);
    return 0;
}

/* Reads the repeated message field `want` of b with fn; other fields skipped. */
static int each(proto *R, pb *b, uint32_t want, int (*fn)(proto *, pb *)) {
    uint32_t num;
    int wt, r;
    pb sub;
    uint64_t v;
    while ((r = field(R, b, &num, &wt, &sub, &v)) == 1)
        if (num == want && (expect(R, b, wt, 2) || fn(R, &sub))) return -1;
    return r;
}

static int scope_spans(proto *R, pb *b) {
    return each(R, b, 2, span);
}

static int resource_spans(proto *R, pb *b) {
    return each(R, b, 2, scope_spans);
}

mw_status mw_otlp_parse_proto(const char *body, size_t len, mw_otlp_span_fn fn, void *ctx,
                              mw_error *err) {
    mw_otlp_rd P = {.err = err, .fn = fn, .ctx = ctx};
    proto R = {&P, (const unsigned char *)body};
    pb b = {(const unsigned char *)body, (const unsigned char *)body + len};
    int e = each(&R, &b, 1, resource_spans);
    mw_otlp_rd_free(&P);
    return e ? (err && err->status ? err->status : MW_EPARSE) : MW_OK;
}
