/*
 * Minimal streaming JSON writer for reports: keeps comma state per nesting
 * level, escapes strings, writes numbers with %.17g (round-trip exact) and
 * NaN/infinity as null (JSON has neither). Internal to src/report.
 */
#ifndef MW_REPORT_JSON_WRITER_H
#define MW_REPORT_JSON_WRITER_H

#include <stdint.h>
#include <stdio.h>

#define MW_JSON_MAX_DEPTH 32

typedef struct mw_json {
    FILE *f;
    int depth;
    int first[MW_JSON_MAX_DEPTH]; /* no element written yet at this level */
    int after_key;                /* a key was just written: no comma before the value */
    int pretty;
} mw_json;

void mw_json_init(mw_json *j, FILE *f, int pretty);
void mw_json_begin_object(mw_json *j);
void mw_json_end_object(mw_json *j);
void mw_json_begin_array(mw_json *j);
void mw_json_end_array(mw_json *j);
void mw_json_key(mw_json *j, const char *key);
void mw_json_string(mw_json *j, const char *s);
void mw_json_number(mw_json *j, double v); /* null for NaN and infinities */
void mw_json_uint(mw_json *j, uint64_t v);
void mw_json_bool(mw_json *j, int v);
void mw_json_null(mw_json *j);
/* A key and its value in one call. */
void mw_json_kv_number(mw_json *j, const char *key, double v);
void mw_json_kv_uint(mw_json *j, const char *key, uint64_t v);
void mw_json_kv_string(mw_json *j, const char *key, const char *v);
void mw_json_kv_bool(mw_json *j, const char *key, int v);
/* Writes s as a JSON string body (without quotes) to f. */
void mw_json_escape(FILE *f, const char *s);

#endif
