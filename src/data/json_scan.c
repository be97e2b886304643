/*
 * Small JSON scanning pieces shared by the data module's JSON readers (the
 * NDJSON table reader in ndjson.c and the record parser in record.c): the exact
 * JSON number grammar, \uXXXX hex digits, UTF-8 encoding of a code point, and the
 * words error messages use to describe what stands at a position.
 *
 * Why separate: both readers tokenize JSON by hand (each has its own error and
 * output conventions), and these pieces must agree between them byte for byte.
 *
 * Invariants: every function reads only inside [p, end) and has no state.
 */
#include "data/data_int.h"

const char *mw_jscan_number(const char *p, const char *end) {
    if (p < end && *p == '-') p++;
    if (p >= end) return NULL;
    if (*p == '0') {
        p++;
    } else if (*p >= '1' && *p <= '9') {
        p++;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    } else {
        return NULL;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || *p < '0' || *p > '9') return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || *p < '0' || *p > '9') return NULL;
        while (p < end && *p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') return (c | 0x20) - 'a' + 10;
    return -1;
}

int mw_jscan_hex4(const char *p, const char *end, unsigned *u) {
    if (end - p < 4) return 0;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0) return 0;
        v = v * 16 + (unsigned)h;
    }
    *u = v;
    return 1;
}

size_t mw_jscan_utf8_put(char *o, unsigned u) {
    if (u < 0x80) {
        o[0] = (char)u;
        return 1;
    }
    if (u < 0x800) {
        o[0] = (char)(0xC0 | (u >> 6));
        o[1] = (char)(0x80 | (u & 0x3F));
        return 2;
    }
    if (u < 0x10000) {
        o[0] = (char)(0xE0 | (u >> 12));
        o[1] = (char)(0x80 | ((u >> 6) & 0x3F));
        o[2] = (char)(0x80 | (u & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (u >> 18));
    o[1] = (char)(0x80 | ((u >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((u >> 6) & 0x3F));
    o[3] = (char)(0x80 | (u & 0x3F));
    return 4;
}

const char *mw_jscan_describe(const char *p, const char *end) {
    if (p >= end) return "the end of the line";
    switch (*p) {
    case '{':
        return "an object";
    case '[':
        return "an array";
    case '"':
        return "a string";
    case 't':
    case 'f':
        return "a boolean";
    case 'n':
        return "null";
    case ',':
        return "','";
    case ':':
        return "':'";
    case '}':
        return "'}'";
    case ']':
        return "']'";
    default:
        break;
    }
    if (*p == '-' || (*p >= '0' && *p <= '9')) return "a number";
    return "an unexpected character";
}
