/*
 * Schemas: YAML (libyaml event parser) mapping column name -> numeric |
 * categorical | text | ignore (also "auto"), either at the top level or under a
 * `columns:` key:
 *
 *     columns:            # or the same pairs at the top level
 *       amount: numeric
 *       country: categorical
 *       id: ignore
 *
 * Errors name the file, the 1-based line and what was expected. Duplicate column
 * names are errors. Ownership: the schema owns copies of the names.
 */
#include "data/data_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <yaml.h>

struct mw_schema {
    mw_dict *names; /* code = index into types */
    mw_coltype *types;
    size_t n, cap;
};

void mw_schema_free(mw_schema *s) {
    if (!s) return;
    mw_dict_free(s->names);
    free(s->types);
    free(s);
}

mw_coltype mw_schema_type(const mw_schema *s, const char *column) {
    uint32_t code;
    if (!s || !column || !mw_dict_find(s->names, column, strlen(column), &code))
        return MW_TYPE_AUTO;
    return s->types[code];
}

typedef struct yparse {
    yaml_parser_t p;
    yaml_event_t ev;
    int have;
    const char *name;
    mw_error *err;
} yparse;

static mw_status next(yparse *y) {
    if (y->have) yaml_event_delete(&y->ev);
    y->have = 0;
    if (!yaml_parser_parse(&y->p, &y->ev)) {
        return mw_error_set(y->err, MW_EPARSE, y->name, (uint64_t)y->p.problem_mark.line + 1,
                            (uint64_t)y->p.problem_mark.column + 1, "invalid YAML: %s",
                            y->p.problem ? y->p.problem : "syntax error");
    }
    y->have = 1;
    return MW_OK;
}

static uint64_t ev_line(const yparse *y) {
    return (uint64_t)y->ev.start_mark.line + 1;
}

static const char *ev_what(yaml_event_type_t t) {
    switch (t) {
    case YAML_MAPPING_START_EVENT:
        return "a mapping";
    case YAML_SEQUENCE_START_EVENT:
        return "a list";
    case YAML_SCALAR_EVENT:
        return "a scalar";
    case YAML_ALIAS_EVENT:
        return "an alias";
    default:
        return "the end of the document";
    }
}

static mw_status add(yparse *y, mw_schema *s, const char *col, size_t len, uint64_t line) {
    if (y->ev.type != YAML_SCALAR_EVENT)
        return mw_error_set(
            y->err, MW_EPARSE, y->name, ev_line(y), 0,
            "column \"%.*s\": expected numeric, categorical, text or ignore, got %s",
            (int)(len > 100 ? 100 : len), col, ev_what(y->ev.type));
    const char *v = (const char *)y->ev.data.scalar.value;
    mw_coltype t;
    if (!strcmp(v, "numeric"))
        t = MW_TYPE_NUMERIC;
    else if (!strcmp(v, "categorical"))
        t = MW_TYPE_CATEGORICAL;
    else if (!strcmp(v, "ignore"))
        t = MW_TYPE_IGNORE;
    else if (!strcmp(v, "text"))
        t = MW_TYPE_TEXT;
    else if (!strcmp(v, "auto"))
        t = MW_TYPE_AUTO;
    else
        return mw_error_set(
            y->err, MW_EPARSE, y->name, ev_line(y), 0,
            "column \"%.*s\": expected numeric, categorical, text or ignore, got \"%.60s\"",
            (int)(len > 100 ? 100 : len), col, v);
    uint32_t code;
    if (mw_dict_find(s->names, col, len, &code))
        return mw_error_set(y->err, MW_EPARSE, y->name, line, 0, "column \"%.*s\" is listed twice",
                            (int)(len > 100 ? 100 : len), col);
    if (mw_dict_intern(s->names, col, len, &code) != MW_OK) goto nomem;
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 16;
        mw_coltype *nt = realloc(s->types, nc * sizeof *nt);
        if (!nt) goto nomem;
        s->types = nt;
        s->cap = nc;
    }
    s->types[s->n++] = t;
    return MW_OK;
nomem:
    return mw_error_set(y->err, MW_ENOMEM, y->name, line, 0, "out of memory");
}

/* Reads pairs of the mapping just started, until its end. top: a `columns` key
 * may hold a nested mapping. */
static mw_status read_map(yparse *y, mw_schema *s, int top) {
    for (;;) {
        mw_status st = next(y);
        if (st != MW_OK) return st;
        if (y->ev.type == YAML_MAPPING_END_EVENT) return MW_OK;
        if (y->ev.type != YAML_SCALAR_EVENT)
            return mw_error_set(y->err, MW_EPARSE, y->name, ev_line(y), 0,
                                "expected a column name, got %s", ev_what(y->ev.type));
        size_t len = y->ev.data.scalar.length;
        char *key = malloc(len + 1);
        if (!key) return mw_error_set(y->err, MW_ENOMEM, y->name, 0, 0, "out of memory");
        memcpy(key, y->ev.data.scalar.value, len + 1);
        uint64_t line = ev_line(y);
        st = next(y);
        if (st == MW_OK) {
            if (top && y->ev.type == YAML_MAPPING_START_EVENT && !strcmp(key, "columns"))
                st = read_map(y, s, 0);
            else
                st = add(y, s, key, len, line);
        }
        free(key);
        if (st != MW_OK) return st;
    }
}

mw_status mw_schema_parse(const char *name, const char *text, size_t len, mw_schema **out,
                          mw_error *err) {
    mw_error_clear(err);
    if (out) *out = NULL;
    if (!out || (!text && len)) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no schema text");
    if (!name) name = "<schema>";
    mw_schema *s = calloc(1, sizeof *s);
    if (!s || !(s->names = mw_dict_new())) {
        mw_schema_free(s);
        return mw_error_set(err, MW_ENOMEM, name, 0, 0, "out of memory");
    }
    yparse y;
    memset(&y, 0, sizeof y);
    y.name = name;
    y.err = err;
    if (!yaml_parser_initialize(&y.p)) {
        mw_schema_free(s);
        return mw_error_set(err, MW_ENOMEM, name, 0, 0, "out of memory");
    }
    yaml_parser_set_input_string(&y.p, (const unsigned char *)(text ? text : ""), len);
    mw_status st;
    do {
        st = next(&y);
    } while (st == MW_OK &&
             (y.ev.type == YAML_STREAM_START_EVENT || y.ev.type == YAML_DOCUMENT_START_EVENT));
    if (st == MW_OK) {
        if (y.ev.type == YAML_MAPPING_START_EVENT)
            st = read_map(&y, s, 1);
        else if (y.ev.type == YAML_STREAM_END_EVENT)
            st = mw_error_set(err, MW_EPARSE, name, 0, 0,
                              "empty schema: expected a mapping of column names to "
                              "numeric, categorical, text or ignore");
        else
            st = mw_error_set(err, MW_EPARSE, name, ev_line(&y), 0,
                              "expected a mapping of column names to types (optionally under "
                              "`columns:`), got %s",
                              ev_what(y.ev.type));
    }
    if (y.have) yaml_event_delete(&y.ev);
    yaml_parser_delete(&y.p);
    if (st != MW_OK) {
        mw_schema_free(s);
        return st;
    }
    *out = s;
    return MW_OK;
}

mw_status mw_schema_load(const char *path, mw_schema **out, mw_error *err) {
    mw_error_clear(err);
    if (out) *out = NULL;
    if (!path || !out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "no schema path");
    FILE *f = fopen(path, "rb");
    if (!f) return mw_error_set(err, MW_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    mw_status st = MW_OK;
    while (buf) {
        if (len == cap) {
            if (cap >= ((size_t)16 << 20)) {
                st = mw_error_set(err, MW_ERANGE, path, 0, 0, "schema file is larger than 16 MiB");
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) break;
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0) {
            if (ferror(f)) st = mw_error_set(err, MW_EIO, path, 0, 0, "read failed");
            break;
        }
    }
    fclose(f);
    if (!buf) return mw_error_set(err, MW_ENOMEM, path, 0, 0, "out of memory");
    if (st == MW_OK) st = mw_schema_parse(path, buf, len, out, err);
    free(buf);
    return st;
}
