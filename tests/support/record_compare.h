/*
 * Test support: compares two parsed records (record.h) field by field, for
 * the tests that parse the same bytes with the record-shape fast path on and
 * off (tests/unit/test_record_shape.c, tests/fuzz/fuzz_record.c): strings by
 * content and, where one of them is a view into the input [body, body +
 * len), by address too (the two parsers must agree on what is a view and
 * what was decoded into their scratch); numbers bit for bit. Header only (the
 * fuzz targets do not link the test support library).
 */
#ifndef MW_TEST_RECORD_COMPARE_H
#define MW_TEST_RECORD_COMPARE_H

#include <stdint.h>
#include <string.h>

#include "modelwatch/record.h"

static inline int mw_test_in_body(const char *s, const char *body, size_t len) {
    return s && (uintptr_t)s >= (uintptr_t)body && (uintptr_t)s <= (uintptr_t)body + len;
}

static inline int mw_test_same_str(const char *a, size_t an, const char *b, size_t bn,
                                   const char *body, size_t len) {
    if (!a || !b) return !a && !b && an == bn;
    if ((mw_test_in_body(a, body, len) || mw_test_in_body(b, body, len)) && a != b) return 0;
    return an == bn && (an == 0 || memcmp(a, b, an) == 0);
}

static inline int mw_test_same_num(double a, double b) {
    return memcmp(&a, &b, sizeof a) == 0;
}

static inline int mw_test_same_feature(const mw_feature *a, const mw_feature *b, const char *body,
                                       size_t len) {
    return mw_test_same_str(a->name, a->name_len, b->name, b->name_len, body, len) &&
           a->kind == b->kind && mw_test_same_num(a->number, b->number) &&
           mw_test_same_str(a->str, a->str_len, b->str, b->str_len, body, len);
}

/* NULL when a and b are the same record, else the name of the first field
 * that differs. */
static inline const char *mw_test_record_diff(const mw_record *a, const mw_record *b,
                                              const char *body, size_t len) {
#define MW_SAME_STR(f)                                                                             \
    if (!mw_test_same_str(a->f, a->f##_len, b->f, b->f##_len, body, len)) return #f
#define MW_SAME_NUM(f)                                                                             \
    if (!mw_test_same_num(a->f, b->f)) return #f
    MW_SAME_STR(model);
    MW_SAME_STR(version);
    MW_SAME_STR(id);
    MW_SAME_NUM(ts);
    MW_SAME_NUM(latency_ms);
    MW_SAME_STR(error);
    MW_SAME_NUM(input_tokens);
    MW_SAME_NUM(output_tokens);
    MW_SAME_NUM(ttft_ms);
    MW_SAME_STR(finish_reason);
    MW_SAME_STR(prompt);
    MW_SAME_STR(completion);
    MW_SAME_STR(prompt_raw);
    MW_SAME_STR(completion_raw);
#undef MW_SAME_STR
#undef MW_SAME_NUM
    if (!mw_test_same_feature(&a->prediction, &b->prediction, body, len)) return "prediction";
    if (!mw_test_same_feature(&a->label, &b->label, body, len)) return "label";
    if (a->nfeatures != b->nfeatures || !a->features != !b->features) return "nfeatures";
    for (size_t i = 0; i < a->nfeatures; i++)
        if (!mw_test_same_feature(&a->features[i], &b->features[i], body, len)) return "features";
    if (a->nscores != b->nscores || !a->scores != !b->scores) return "nscores";
    for (size_t i = 0; i < a->nscores; i++)
        if (!mw_test_same_feature(&a->scores[i], &b->scores[i], body, len)) return "scores";
    if (a->embedding_len != b->embedding_len || !a->embedding != !b->embedding)
        return "embedding_len";
    for (size_t i = 0; i < a->embedding_len; i++)
        if (!mw_test_same_num(a->embedding[i], b->embedding[i])) return "embedding";
    return NULL;
}

/* NULL when the two errors are the same (status, message, line, column). */
static inline const char *mw_test_error_diff(const mw_error *a, const mw_error *b) {
    if (a->status != b->status) return "status";
    if (strcmp(a->message, b->message) != 0) return "message";
    if (a->line != b->line) return "line";
    if (a->column != b->column) return "column";
    return NULL;
}

#endif
