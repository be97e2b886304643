/* Streaming JSON writer (see json_writer.h). */
#include "report/json_writer.h"

#include <math.h>

void mw_json_init(mw_json *j, FILE *f, int pretty) {
    j->f = f;
    j->depth = 0;
    j->first[0] = 1;
    j->after_key = 0;
    j->pretty = pretty;
}

static void indent(mw_json *j) {
    if (!j->pretty) return;
    fputc('\n', j->f);
    for (int i = 0; i < j->depth; i++)
        fputs("  ", j->f);
}

/* Separator and indentation before a value or key at the current level. */
static void before_item(mw_json *j) {
    if (j->after_key) {
        j->after_key = 0;
        return;
    }
    if (!j->first[j->depth]) fputc(',', j->f);
    j->first[j->depth] = 0;
    if (j->depth > 0) indent(j);
}

static void open(mw_json *j, char c) {
    before_item(j);
    fputc(c, j->f);
    if (j->depth < MW_JSON_MAX_DEPTH - 1) j->depth++;
    j->first[j->depth] = 1;
}

static void close_(mw_json *j, char c) {
    int empty = j->first[j->depth];
    if (j->depth > 0) j->depth--;
    if (!empty) indent(j);
    fputc(c, j->f);
    if (j->depth == 0 && j->pretty) fputc('\n', j->f);
}

void mw_json_begin_object(mw_json *j) {
    open(j, '{');
}
void mw_json_end_object(mw_json *j) {
    close_(j, '}');
}
void mw_json_begin_array(mw_json *j) {
    open(j, '[');
}
void mw_json_end_array(mw_json *j) {
    close_(j, ']');
}

void mw_json_escape(FILE *f, const char *s) {
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", f);
            break;
        case '\\':
            fputs("\\\\", f);
            break;
        case '\n':
            fputs("\\n", f);
            break;
        case '\r':
            fputs("\\r", f);
            break;
        case '\t':
            fputs("\\t", f);
            break;
        default:
            if (*p < 0x20)
                fprintf(f, "\\u%04x", *p);
            else
                fputc(*p, f);
        }
    }
}

void mw_json_key(mw_json *j, const char *key) {
    before_item(j);
    fputc('"', j->f);
    mw_json_escape(j->f, key);
    fputs(j->pretty ? "\": " : "\":", j->f);
    j->after_key = 1;
}

void mw_json_string(mw_json *j, const char *s) {
    before_item(j);
    fputc('"', j->f);
    mw_json_escape(j->f, s ? s : "");
    fputc('"', j->f);
}

void mw_json_number(mw_json *j, double v) {
    before_item(j);
    if (isnan(v) || isinf(v))
        fputs("null", j->f);
    else
        fprintf(j->f, "%.17g", v);
}

void mw_json_uint(mw_json *j, uint64_t v) {
    before_item(j);
    fprintf(j->f, "%llu", (unsigned long long)v);
}

void mw_json_bool(mw_json *j, int v) {
    before_item(j);
    fputs(v ? "true" : "false", j->f);
}

void mw_json_null(mw_json *j) {
    before_item(j);
    fputs("null", j->f);
}

void mw_json_kv_number(mw_json *j, const char *key, double v) {
    mw_json_key(j, key);
    mw_json_number(j, v);
}

void mw_json_kv_uint(mw_json *j, const char *key, uint64_t v) {
    mw_json_key(j, key);
    mw_json_uint(j, v);
}

void mw_json_kv_string(mw_json *j, const char *key, const char *v) {
    mw_json_key(j, key);
    mw_json_string(j, v);
}

void mw_json_kv_bool(mw_json *j, const char *key, int v) {
    mw_json_key(j, key);
    mw_json_bool(j, v);
}
