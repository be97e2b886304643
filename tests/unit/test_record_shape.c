/*
 * The record parser's record-shape fast path (src/data/record_shape.c): the
 * same bodies parsed by a parser with the fast path on and one with it off
 * (mw_record_parser_shapes) must give the same result for every record:
 * accepted or not, every field of mw_record (strings by content, views into
 * the body at the same address, numbers bit for bit), the decoded flag, and
 * for bad records the same status, message, line and column. Bodies come
 * from a seeded generator: runs of records of one shape (values of every
 * kind, numbers of every form, escapes in values) broken by changed shapes
 * (keys reordered, added, dropped, spaced differently, a feature renamed),
 * and damaged records (truncated, extra whitespace, escapes in keys, NaN and
 * infinities, wrong types, duplicate names, a second "features"). The
 * accepted numbers are checked against strtod of their text. Each test also
 * checks that the fast path was taken (the shape's hit count), so that it
 * cannot pass by never running.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "data/record_int.h"
#include "record_compare.h"

/* ---- a seeded generator of record lines ------------------------------------- */

static uint64_t rng_state;

static uint64_t rnd(void) { /* xorshift64* */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545F4914F6CDD1DULL;
}

static int pick(int n) {
    return (int)(rnd() % (uint64_t)n);
}

static double unit(void) {
    return (double)(rnd() >> 11) / 9007199254740992.0;
}

/* Appends printf output at *o. */
static void put(char **o, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    *o += vsprintf(*o, fmt, ap);
    va_end(ap);
}

/* A JSON number of one of many forms (most valid, a few out of range). */
static void put_number(char **o) {
    double x = (unit() - 0.3) * 100;
    switch (pick(12)) {
    case 0:
        put(o, "%d", pick(2000) - 1000);
        break;
    case 1:
    case 2:
        put(o, "%.17g", x);
        break;
    case 3:
        put(o, "%.6f", x);
        break;
    case 4:
        put(o, "%.3e", x * 1e10);
        break;
    case 5:
        put(o, "%s", (const char *[]){"0", "-0", "0.0", "-0.0", "0e0"}[pick(5)]);
        break;
    case 6:
        put(o, "%llu%02d", (unsigned long long)(rnd() % 1000000000000000000ULL), pick(100));
        break;
    case 7:
        put(o, "%s",
            (const char *[]){"4.9e-324", "1e-320", "1.7976931348623157e308", "2.5e-5", "1E+2",
                             "123456789012345678901234567890.5"}[pick(6)]);
        break;
    case 8:
        put(o, "0.%llu%llu", (unsigned long long)(rnd() % 10000000000ULL),
            (unsigned long long)(rnd() % 10000000000000ULL));
        break;
    default:
        put(o, "%.*f", pick(4), x);
        break;
    }
}

/* A feature value: mostly numbers, some strings (escapes and UTF-8 among
 * them), booleans and null. */
static void put_value(char **o, int kind) {
    int k = kind >= 0 && pick(10) ? kind : pick(4);
    if (k == 0) return put_number(o);
    if (k == 1) {
        static const char *const s[] = {"DE",
                                        "FR",
                                        "android",
                                        "",
                                        "a\\\"b",
                                        "caf\\u00e9",
                                        "\xc3\xa9t\xc3\xa9",
                                        "x\\ny",
                                        "\\ud83d\\ude00",
                                        "tab\\there"};
        return put(o, "\"%s\"", s[pick(10)]);
    }
    if (k == 2) return put(o, "%s", pick(2) ? "true" : "false");
    put(o, "null");
}

/* What a shape is: which top-level members in which order, the features'
 * names and usual kinds, and the spacing. */
enum {
    K_MODEL,
    K_VERSION,
    K_ID,
    K_TS,
    K_FEATURES,
    K_PREDICTION,
    K_SCORES,
    K_LATENCY,
    K_ERROR,
    K_LLM,
    K_PROMPT,
    K_EMBEDDING,
    K_EXTRA,
    K_LABEL,
    NKEYS
};
typedef struct shape {
    int key[NKEYS];
    int nkey;
    char fname[40][12];
    int fkind[40];
    int nfeat;
    int space; /* 0: compact, 1: ", " and ": ", 2: spaces everywhere */
} shape;

static void shape_new(shape *s) {
    static const int base[] = {K_MODEL, K_VERSION, K_ID, K_FEATURES, K_PREDICTION, K_LATENCY};
    memcpy(s->key, base, sizeof base);
    s->nkey = 6;
    for (int k = K_TS; k < NKEYS; k++)
        if (k != K_FEATURES && k != K_PREDICTION && k != K_LATENCY && !pick(5))
            s->key[s->nkey++] = k;
    s->nfeat = pick(13);
    for (int i = 0; i < s->nfeat; i++) {
        snprintf(s->fname[i], sizeof s->fname[i], "f%d", i);
        s->fkind[i] = pick(4) ? 0 : pick(3) + 1;
    }
    s->space = pick(3);
}

/* A changed shape: keys swapped, one added or dropped, a feature renamed,
 * added or dropped, or the spacing changed. */
static void shape_change(shape *s) {
    switch (pick(6)) {
    case 0:
        if (s->nkey > 1) {
            int i = pick(s->nkey), j = pick(s->nkey), t = s->key[i];
            s->key[i] = s->key[j];
            s->key[j] = t;
        }
        break;
    case 1:
        if (s->nkey < NKEYS) s->key[s->nkey++] = pick(NKEYS);
        break;
    case 2:
        if (s->nkey > 1) {
            int i = pick(s->nkey);
            s->nkey--;
            s->key[i] = s->key[s->nkey];
        }
        break;
    case 3:
        if (s->nfeat) snprintf(s->fname[pick(s->nfeat)], sizeof s->fname[0], "g%d", pick(100));
        break;
    case 4:
        if (s->nfeat < 40 && pick(2)) {
            snprintf(s->fname[s->nfeat], sizeof s->fname[0], "h%d", pick(1000));
            s->fkind[s->nfeat++] = 0;
        } else if (s->nfeat) {
            s->nfeat--;
        }
        break;
    default:
        s->space = pick(3);
        break;
    }
}

static const char *const key_name[NKEYS] = {
    "model",      "version", "id",  "ts",     "features",  "prediction", "scores",
    "latency_ms", "error",   "llm", "prompt", "embedding", "extra",      "label"};

static void put_member_value(char **o, int key, const shape *s, int n) {
    const char *sep = s->space ? ", " : ",", *col = s->space ? ": " : ":";
    switch (key) {
    case K_MODEL:
        return put(o, "\"%s\"", pick(50) ? "bench" : "m\\u0031");
    case K_VERSION:
        return pick(4) ? put(o, "\"%d\"", 1 + pick(2)) : put(o, "%d", pick(3));
    case K_ID:
        return pick(8) ? put(o, "\"r-%d\"", n) : put(o, "%d", n);
    case K_TS:
        return pick(3) ? put(o, "%.3f", 1764000000 + unit() * 1e5)
                       : put(o, "\"2025-11-2%dT10:00:0%dZ\"", pick(10), pick(10));
    case K_FEATURES:
        put(o, s->space == 2 ? "{ " : "{");
        for (int i = 0; i < s->nfeat; i++) {
            put(o, "%s\"%s\"%s", i ? sep : "", s->fname[i], col);
            put_value(o, s->fkind[i]);
        }
        return put(o, s->space == 2 ? " }" : "}");
    case K_PREDICTION:
    case K_LABEL:
        return put_value(o, pick(2));
    case K_SCORES:
        put(o, "{\"0\"%s", col);
        put_number(o);
        put(o, "%s\"1\"%s", sep, col);
        put_number(o);
        return put(o, "}");
    case K_LATENCY:
        return put(o, "%.1f", unit() * 20);
    case K_ERROR:
        return put(o, pick(3) ? "null" : "\"timeout\"");
    case K_LLM:
        return put(o, "{\"input_tokens\"%s%d%s\"finish_reason\"%s\"stop\"}", col, pick(900), sep,
                   col);
    case K_PROMPT:
        return put(o, pick(4) ? "\"hello there\"" : "\"line\\none\"");
    case K_EMBEDDING:
        put(o, "[");
        put_number(o);
        put(o, "%s", sep);
        put_number(o);
        return put(o, "]");
    default:
        return put(o, "{\"a\"%s[1%s2%s{\"b\"%snull}]}", col, sep, sep, col);
    }
}

/* One record line of shape s at o (no newline); returns its length. */
static size_t put_record(char *o, const shape *s, int n) {
    char *start = o;
    const char *sep = s->space ? ", " : ",", *col = s->space ? ": " : ":";
    put(&o, s->space == 2 ? "{ " : "{");
    for (int i = 0; i < s->nkey; i++) {
        put(&o, "%s\"%s\"%s", i ? sep : "", key_name[s->key[i]], col);
        put_member_value(&o, s->key[i], s, n);
    }
    put(&o, s->space == 2 ? " }" : "}");
    return (size_t)(o - start);
}

/* Damages the line r[0..*len) (room for 64 more bytes) in one of many ways. */
static void damage(char *r, size_t *len) {
    size_t n = *len, at = n ? (size_t)pick((int)n) : 0;
    switch (pick(9)) {
    case 0: /* truncated */
        *len = at;
        return;
    case 1: /* whitespace inserted anywhere (inside strings too) */
        memmove(r + at + 1, r + at, n - at);
        r[at] = " \t\r"[pick(3)];
        *len = n + 1;
        return;
    case 2: { /* a token replaced at a value's place */
        char *c = memchr(r + at, ':', n - at);
        if (!c) return;
        static const char *const tok[] = {"NaN", "Infinity", "-Infinity", "1e400",      "{}",
                                          "[1]", "nul",      "tru",       "-",          "01",
                                          "1.",  ".5",       "\"\\x\"",   "\"\\ud800\""};
        const char *t = tok[pick(14)];
        size_t tl = strlen(t);
        c += 1 + (c[1] == ' ');
        memmove(c + tl, c, n - (size_t)(c - r));
        memcpy(c, t, tl);
        *len = n + tl;
        return;
    }
    case 3: { /* an escape in a key (or a string value): "f1" as "\u0066" "1" */
        char *c = r + at, esc[8];
        while (c + 1 < r + n && !(c[0] == '"' && c[1] >= 'a' && c[1] <= 'z'))
            c++;
        if (c + 1 >= r + n) return;
        snprintf(esc, sizeof esc, "\\u%04x", (unsigned char)c[1]);
        memmove(c + 7, c + 2, n - (size_t)(c + 2 - r));
        memcpy(c + 1, esc, 6);
        *len = n + 5;
        return;
    }
    case 4: /* a byte changed */
        if (n) r[at] = "{}[]\",: a0\\"[pick(11)];
        return;
    case 5: /* a second "features" object */
        if (n && r[n - 1] == '}') {
            memcpy(r + n - 1, ",\"features\":{\"f0\":1}}", 21);
            *len = n + 20;
        }
        return;
    case 6: /* a feature named twice */
    {
        char *c = strstr(r, "\"f1\"");
        if (c) c[2] = '0';
        return;
    }
    case 7: /* a NUL byte or invalid UTF-8 */
        if (n) r[at] = pick(2) ? 0 : (char)0xC3;
        return;
    default: { /* trailing bytes */
        const char *t = pick(2) ? " x" : "}";
        memcpy(r + n, t, strlen(t));
        *len = n + strlen(t);
        return;
    }
    }
}

/* ---- both parsers over one body ---------------------------------------------- */

static mw_record_parser *fast, *slow;
static uint64_t accepted_total, rejected_total;

static int setup(void **state) {
    (void)state;
    fast = mw_record_parser_new();
    slow = mw_record_parser_new();
    if (!fast || !slow) return -1;
    mw_record_parser_shapes(slow, 0);
    return 0;
}

static int teardown(void **state) {
    (void)state;
    mw_record_parser_free(fast);
    mw_record_parser_free(slow);
    return 0;
}

/* Every number feature of rec (accepted from line[0..len)) is strtod's value
 * of its text, bit for bit. */
static void check_numbers(const char *line, size_t len, const mw_record *rec) {
    const char *names[64];
    size_t lens[64], n = 0;
    for (; n < rec->nfeatures && n < 64; n++) {
        names[n] = rec->features[n].name;
        lens[n] = rec->features[n].name_len;
    }
    mw_record_span sp[128];
    size_t c = mw_record_feature_spans(line, len, names, lens, n, sp, 128);
    for (size_t i = 0; i < c && i < 128; i++) {
        const mw_feature *f = &rec->features[sp[i].name];
        if (!sp[i].last || f->kind != MW_VALUE_NUMBER || sp[i].len >= 200) continue;
        char num[200];
        memcpy(num, line + sp[i].at, sp[i].len);
        num[sp[i].len] = 0;
        double want = strtod(num, NULL);
        if (memcmp(&want, &f->number, sizeof want) != 0)
            fail_msg("feature %.*s: %s parsed as %.17g, strtod gives %.17g", (int)f->name_len,
                     f->name, num, f->number, want);
    }
}

/* Parses body with both parsers (through the iterator) and fails at the first
 * record where they differ. */
static void compare_body(const char *body, size_t len) {
    mw_record_iter a, b;
    mw_record ra, rb;
    mw_error ea, eb;
    mw_record_iter_init(&a, body, len);
    mw_record_iter_init(&b, body, len);
    for (;;) {
        size_t at = a.pos;
        int x = mw_record_iter_next(&a, fast, &ra, &ea);
        int y = mw_record_iter_next(&b, slow, &rb, &eb);
        if (x != y)
            fail_msg("line %llu: fast path %d (%s), normal %d (%s)", (unsigned long long)a.line, x,
                     ea.message, y, eb.message);
        if (x == 0) break;
        if (x < 0) {
            const char *d = mw_test_error_diff(&ea, &eb);
            if (d)
                fail_msg("line %llu: errors differ in %s:\n  fast   %llu:%llu %s\n  normal "
                         "%llu:%llu %s",
                         (unsigned long long)a.line, d, (unsigned long long)ea.line,
                         (unsigned long long)ea.column, ea.message, (unsigned long long)eb.line,
                         (unsigned long long)eb.column, eb.message);
            rejected_total++;
            continue;
        }
        const char *d = mw_test_record_diff(&ra, &rb, body, len);
        if (d) fail_msg("line %llu: records differ in %s", (unsigned long long)a.line, d);
        assert_int_equal(mw_record_parser_decoded(fast), mw_record_parser_decoded(slow));
        if (!a.array) {
            const char *nl = memchr(body + at, '\n', len - at);
            check_numbers(body + at, nl ? (size_t)(nl - body - at) : len - at, &ra);
        }
        accepted_total++;
    }
}

/* A body of n records from shape s (changed with probability 1/change, a
 * record damaged with probability 1/dmg; 0: never), NDJSON or a JSON array. */
static char *make_body(shape *s, int n, int change, int dmg, int array, size_t *len) {
    char *body = malloc((size_t)n * 4096 + 16), *o = body;
    assert_non_null(body);
    if (array) *o++ = '[';
    for (int i = 0; i < n; i++) {
        if (change && !pick(change)) shape_change(s);
        size_t l = put_record(o, s, i);
        if (dmg && !pick(dmg)) damage(o, &l);
        o += l;
        if (array && i + 1 < n) *o++ = ',';
        *o++ = array ? ' ' : '\n';
    }
    if (array) *o++ = ']';
    *len = (size_t)(o - body);
    return body;
}

/* One shape, fresh values: every record after the first takes the fast path. */
static void test_same_shape(void **state) {
    (void)state;
    rng_state = 1;
    for (int round = 0; round < 20; round++) {
        shape s;
        shape_new(&s);
        size_t len;
        char *body = make_body(&s, 100, 0, 0, 0, &len);
        uint64_t hits = fast->shape.hits, acc = accepted_total;
        compare_body(body, len);
        assert_int_equal(accepted_total - acc, 100);
        assert_true(fast->shape.hits - hits >= 99);
        free(body);
    }
    assert_int_equal(slow->shape.hits, 0);
}

/* Shapes that change now and then, records damaged now and then. */
static void test_random_bodies(void **state) {
    (void)state;
    uint64_t hits = fast->shape.hits, acc = accepted_total, rej = rejected_total;
    for (int seed = 0; seed < 300; seed++) {
        rng_state = 0x9E3779B97F4A7C15ULL * (uint64_t)(seed + 2);
        shape s;
        shape_new(&s);
        size_t len;
        char *body = make_body(&s, 200, 2 + seed % 20, 2 + seed % 12, seed % 7 == 0, &len);
        compare_body(body, len);
        free(body);
    }
    print_message("random bodies: %llu accepted (%llu by the shape), %llu rejected\n",
                  (unsigned long long)(accepted_total - acc),
                  (unsigned long long)(fast->shape.hits - hits),
                  (unsigned long long)(rejected_total - rej));
    assert_true(fast->shape.hits - hits > (accepted_total - acc) / 4);
    assert_true(rejected_total - rej > 1000);
}

/* Label lines ("version" optional), with shapes that drop "version". */
static void test_labels(void **state) {
    (void)state;
    mw_record_parser_labels(fast, 1);
    mw_record_parser_labels(slow, 1);
    rng_state = 77;
    for (int round = 0; round < 30; round++) {
        shape s;
        shape_new(&s);
        s.key[1] = K_LABEL; /* no "version" */
        size_t len;
        char *body = make_body(&s, 100, 10, 10, 0, &len);
        compare_body(body, len);
        free(body);
    }
    mw_record_parser_labels(fast, 0);
    mw_record_parser_labels(slow, 0);
}

/* Hand-written sequences: a value changes kind at the same place, a bad value
 * after good records gives the normal message, escapes in values are decoded
 * on the fast path, a missing model at the end is still refused. */
static void test_cases(void **state) {
    (void)state;
    static const char body[] =
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": 1, \"b\": \"x\"}}\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": 2.5, \"b\": \"y\"}}\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": \"s\", \"b\": 3}}\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": null, \"b\": true}}\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": \"\\u00e9\", \"b\": false}}\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": {}, \"b\": 1}}\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": NaN, \"b\": 1}}\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": 1e400, \"b\": 1}}\n"
        "{\"model\": \"\", \"version\": \"1\", \"features\": {\"a\": 1, \"b\": 1}}\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\":  1, \"b\": 1}}\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": 1, \"b\": 1} }\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": 1, \"a\": 1}}\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": 1, \"b\": 1}, \"x\": [}\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": 1, \"b\": 1}}\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": 1, \"b\": 1e5}}\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": 1, \"b\": 1}\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": 1, \"b\": 1}}\n"
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": 1, \"b\": -0}}\n";
    mw_record_parser_shapes(fast, 1); /* a fresh shape */
    uint64_t hits = fast->shape.hits;
    compare_body(body, sizeof body - 1);
    assert_true(fast->shape.hits - hits >= 6);
    /* the same on the fast path: the message of a bad value, the decoded flag */
    mw_record r;
    mw_error e;
    const char *good = "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": 1, \"b\": 2}}";
    const char *bad = "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": 1, \"b\": +2}}";
    const char *esc =
        "{\"model\": \"m\", \"version\": \"1\", \"features\": {\"a\": 1, \"b\": \"\\t\"}}";
    assert_int_equal(mw_record_parse(fast, good, strlen(good), &r, &e), MW_OK);
    hits = fast->shape.hits;
    assert_int_equal(mw_record_parse(fast, bad, strlen(bad), &r, &e), MW_EPARSE);
    assert_string_equal(e.message,
                        "feature \"b\": expected a number, string, boolean or null, got +2");
    assert_int_equal(e.column, 58);
    assert_null(r.model);
    assert_int_equal(mw_record_parse(fast, esc, strlen(esc), &r, &e), MW_OK);
    assert_int_equal(fast->shape.hits, hits + 1);
    assert_int_equal(mw_record_parser_decoded(fast), 1);
    assert_int_equal(r.features[1].str_len, 1);
    assert_int_equal(r.features[1].str[0], '\t');
    assert_ptr_equal(r.features[1].name, esc + 53);
    assert_int_equal(mw_record_parse(fast, good, strlen(good), &r, &e), MW_OK);
    assert_int_equal(fast->shape.hits, hits + 2);
    assert_int_equal(mw_record_parser_decoded(fast), 0);
    assert_true(r.features[1].number == 2);
}

/* Two shapes in turn: every try misses, so the tries pause (4 misses, then
 * 64 records without, then 128, ...); the results stay the normal parser's. */
static void test_alternating(void **state) {
    (void)state;
    rng_state = 5;
    shape s[2];
    shape_new(&s[0]);
    s[1] = s[0];
    s[1].space = (s[0].space + 1) % 3;
    char *body = malloc(400 * 4096), *o = body;
    assert_non_null(body);
    for (int i = 0; i < 400; i++) {
        o += put_record(o, &s[i & 1], i);
        *o++ = '\n';
    }
    mw_record_parser_shapes(fast, 1);
    uint64_t hits = fast->shape.hits;
    compare_body(body, (size_t)(o - body));
    assert_int_equal(fast->shape.hits, hits);
    assert_int_equal(fast->shape.pause, 256); /* 64, 128, 256 after 4 misses each */
    free(body);
}

/* Body of two copies of a line of n members: features named with `pad`
 * bytes of padding (features = 1), or top-level keys. */
static char *wide_body(int n, int pad, int features, size_t *len) {
    char *body = malloc((size_t)2 * (size_t)n * (size_t)(pad + 32) + 256), *o = body;
    assert_non_null(body);
    for (int copy = 0; copy < 2; copy++) {
        put(&o, "{\"model\":\"m\",\"version\":\"1\",%s", features ? "\"features\":{" : "");
        for (int i = 0; i < n; i++)
            put(&o, "%s\"%0*d\":%d", i ? "," : "", pad, i, i);
        put(&o, "%s}\n", features ? "}" : "");
    }
    *len = (size_t)(o - body);
    return body;
}

/* Wide records: 5,000 features take the fast path; runs over 1 MiB (10,000
 * names of 110 bytes) or more values than the notes hold (25,000 top-level
 * keys) make no shape; the results are the normal parse's either way. */
static void test_limits(void **state) {
    (void)state;
    static const int n[3] = {5000, 10000, 25000}, pad[3] = {8, 110, 8}, feat[3] = {1, 1, 0};
    mw_record_parser_shapes(fast, 1); /* no pause left from an earlier test */
    for (int t = 0; t < 3; t++) {
        size_t len;
        char *body = wide_body(n[t], pad[t], feat[t], &len);
        uint64_t hits = fast->shape.hits, acc = accepted_total;
        compare_body(body, len);
        assert_int_equal(accepted_total - acc, 2);
        assert_int_equal(fast->shape.hits - hits, t == 0 ? 1 : 0);
        free(body);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_shape),  cmocka_unit_test(test_random_bodies),
        cmocka_unit_test(test_labels),      cmocka_unit_test(test_cases),
        cmocka_unit_test(test_alternating), cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
