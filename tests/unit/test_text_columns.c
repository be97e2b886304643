/*
 * Text columns: expansion of a table's text column into descriptor columns
 * (values checked against hand-computed descriptors), the inference rule and
 * its edges, alignment of a reference and a small current file, name
 * clashes; redaction (each kind of personal data, overlaps, invalid UTF-8,
 * truncation, a 10 MB text); the journal encoding of a record's texts
 * (no raw text left, the same descriptors after replay); the version option
 * "text" and a monitor observing prompts and completions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "modelwatch/data.h"
#include "modelwatch/monitor.h"
#include "modelwatch/record.h"
#include "modelwatch/text.h"
#include "monitor/monitor_int.h"

static mw_table *read_csv(const char *csv, const char *schema_yaml, int no_infer) {
    mw_error err;
    mw_schema *s = NULL;
    if (schema_yaml)
        assert_int_equal(mw_schema_parse("s", schema_yaml, strlen(schema_yaml), &s, &err), MW_OK);
    mw_read_options ro = {.schema = s, .no_text_inference = no_infer};
    mw_table *t = NULL;
    mw_status st = mw_table_read_mem("t.csv", csv, strlen(csv), &ro, &t, &err);
    if (st) fprintf(stderr, "%s\n", err.message);
    assert_int_equal(st, MW_OK);
    mw_schema_free(s);
    return t;
}

static const mw_column *col(const mw_table *t, const char *name) {
    long i = mw_table_find(t, name);
    if (i < 0) fprintf(stderr, "no column %s\n", name);
    assert_true(i >= 0);
    return &t->cols[i];
}

static const char *cat(const mw_column *c, size_t row) {
    return c->codes[row] == MW_CODE_MISSING ? NULL : mw_dict_str(c->dict, c->codes[row], NULL);
}

static void test_expand_values(void **state) {
    (void)state;
    mw_table *t = read_csv("id,t\n1,Hello world\n2,\n3,Write to a@b.co now\n4,Привет\n"
                           "5,\"{\"\"a\"\": [1, 2]}\"\n6,I'm sorry but no no no no no\n",
                           "t: text\n", 0);
    assert_int_equal(t->ncols, 1 + MW_TEXT_NDESC);
    assert_int_equal(t->ntext, 1);
    assert_string_equal(t->text_cols[0], "t");
    assert_int_equal(mw_table_find(t, "t"), -1); /* no raw text left */
    for (size_t i = 0; i < MW_TEXT_NDESC; i++) {
        char name[64];
        snprintf(name, sizeof name, "t.%s", mw_text_descriptor_names[i]);
        assert_int_equal(mw_table_find(t, name), (long)(1 + i)); /* in place, in order */
        assert_int_equal(t->cols[1 + i].n_missing, 1);
        assert_int_equal(t->cols[1 + i].type,
                         i == MW_TEXT_DESC_SCRIPT ? MW_TYPE_CATEGORICAL : MW_TYPE_NUMERIC);
    }
    /* hand-computed: "Hello world" 11 chars, 2 words; "Write to a@b.co now" 19 chars,
     * 4 words, 1 e-mail; "Привет" 6 chars in 12 bytes, all non-ASCII, Cyrillic;
     * {"a": [1, 2]} valid JSON, 3 words; the refusal has 28 chars, 8 words,
     * 6 trigrams of which "no no no" repeats twice: 2 of 6 */
    const double chars[] = {11, NAN, 19, 6, 13, 28}, bytes[] = {11, NAN, 19, 12, 13, 28};
    const double words[] = {2, NAN, 4, 1, 3, 8}, emails[] = {0, NAN, 1, 0, 0, 0};
    const double non_ascii[] = {0, NAN, 0, 1, 0, 0}, json[] = {0, NAN, 0, 0, 1, 0};
    const double refusal[] = {0, NAN, 0, 0, 0, 1}, rep[] = {0, NAN, 0, 0, 0, 2.0 / 6.0};
    const char *script[] = {"latin", NULL, "latin", "cyrillic", "latin", "latin"};
    for (size_t r = 0; r < 6; r++) {
        if (r == 1) {
            assert_true(isnan(col(t, "t.chars")->num[r]) && isnan(col(t, "t.refusal")->num[r]));
            assert_null(cat(col(t, "t.script"), r));
            continue;
        }
        assert_true(col(t, "t.chars")->num[r] == chars[r]);
        assert_true(col(t, "t.bytes")->num[r] == bytes[r]);
        assert_true(col(t, "t.words")->num[r] == words[r]);
        assert_true(col(t, "t.emails")->num[r] == emails[r]);
        assert_true(col(t, "t.non_ascii")->num[r] == non_ascii[r]);
        assert_true(col(t, "t.json_valid")->num[r] == json[r]);
        assert_true(col(t, "t.refusal")->num[r] == refusal[r]);
        assert_true(fabs(col(t, "t.repetition")->num[r] - rep[r]) < 1e-15);
        assert_true(col(t, "t.empty")->num[r] == 0 && col(t, "t.invalid_utf8")->num[r] == 0);
        assert_string_equal(cat(col(t, "t.script"), r), script[r]);
    }
    mw_table_free(t);
    /* a numeric column typed text: the numbers' text is described */
    t = read_csv("n\n12\n3.5\n", "n: text\n", 0);
    assert_true(col(t, "n.chars")->num[0] == 2 && col(t, "n.chars")->num[1] == 3);
    assert_string_equal(cat(col(t, "n.script"), 0), "none");
    mw_table_free(t);
}

/* n rows of column t: prose (with spaces) or long identifiers */
static char *rows_csv(size_t n, int prose, int repeat) {
    char *s = malloc(n * 120 + 16), *p = s;
    p += sprintf(p, "id,t\n");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%zu,%s%s%zu\n", i,
                     prose ? "the quick brown fox jumps over the lazy dog again and"
                           : "a3f9c2d1e0b4a3f9c2d1e0b4a3f9c2d1e0b4a3f9c2d1e0b4a3f9c2d1e0",
                     prose ? " " : "-", repeat ? i % 2 : i);
    return s;
}

static void test_inference(void **state) {
    (void)state;
    char *csv = rows_csv(10, 1, 0);
    mw_table *t = read_csv(csv, NULL, 0);
    assert_int_equal(t->ntext, 1); /* 10 distinct prose values >= 40 bytes */
    assert_true(mw_table_find(t, "t.words") >= 0);
    mw_table_free(t);
    t = read_csv(csv, NULL, 1); /* inference off */
    assert_int_equal(t->ntext, 0);
    assert_int_equal(col(t, "t")->type, MW_TYPE_CATEGORICAL);
    mw_table_free(t);
    t = read_csv(csv, "t: categorical\n", 0); /* the schema decides */
    assert_int_equal(t->ntext, 0);
    mw_table_free(t);
    free(csv);
    csv = rows_csv(9, 1, 0); /* too few values */
    t = read_csv(csv, NULL, 0);
    assert_int_equal(t->ntext, 0);
    mw_table_free(t);
    free(csv);
    csv = rows_csv(10, 0, 0); /* identifiers: no spaces */
    t = read_csv(csv, NULL, 0);
    assert_int_equal(t->ntext, 0);
    mw_table_free(t);
    free(csv);
    csv = rows_csv(10, 1, 1); /* two distinct values: categories, not text */
    t = read_csv(csv, NULL, 0);
    assert_int_equal(t->ntext, 0);
    mw_table_free(t);
    free(csv);
}

static void test_align_and_clash(void **state) {
    (void)state;
    char *csv = rows_csv(20, 1, 0);
    mw_table *ref = read_csv(csv, NULL, 0);
    free(csv);
    mw_table *cur = read_csv("id,t\n1,short\n2,words here\n", NULL, 0);
    assert_int_equal(cur->ntext, 0);
    mw_error err;
    assert_int_equal(mw_table_align_text(ref, cur, NULL, &err), MW_OK);
    assert_int_equal(cur->ntext, 1);
    assert_true(col(cur, "t.chars")->num[0] == 5 && col(cur, "t.words")->num[1] == 2);
    assert_int_equal(cur->ncols, ref->ncols);
    mw_table_free(ref);
    mw_table_free(cur);
    /* a descriptor column's name already taken */
    mw_schema *s;
    assert_int_equal(mw_schema_parse("s", "t: text\n", 8, &s, &err), MW_OK);
    mw_read_options ro = {.schema = s};
    mw_table *t = NULL;
    const char *bad = "t,t.words\nhello,1\n";
    assert_int_equal(mw_table_read_mem("x.csv", bad, strlen(bad), &ro, &t, &err), MW_EINVAL);
    assert_null(t);
    assert_non_null(strstr(err.message, "\"t.words\""));
    mw_schema_free(s);
}

static void test_schema_text_type(void **state) {
    (void)state;
    mw_schema *s;
    mw_error err;
    const char *y = "columns:\n  a: text\n  b: numeric\n";
    assert_int_equal(mw_schema_parse("s", y, strlen(y), &s, &err), MW_OK);
    assert_int_equal(mw_schema_type(s, "a"), MW_TYPE_TEXT);
    assert_string_equal(mw_coltype_name(MW_TYPE_TEXT), "text");
    mw_schema_free(s);
}

static char *redact(const char *s, size_t cap, int *cut) {
    char *out = malloc(cap);
    mw_text_redact(s, strlen(s), out, cap, cut);
    return out;
}

static void test_redact(void **state) {
    (void)state;
    int cut;
    char *r = redact("mail a.b@example.com, call +1 415 555 0100, card 4111 1111 1111 1111, "
                     "ip 10.0.0.1 or https://x.org ok",
                     512, &cut);
    assert_string_equal(r, "mail [EMAIL], call [PHONE], card [CARD], ip [IP] or https://x.org ok");
    assert_false(cut);
    free(r);
    /* overlapping e-mail and phone: one token; 16 digits failing Luhn are
     * neither a card nor a phone (as the descriptors count them) */
    r = redact("+12345678901@example.com and 4111111111111112", 512, &cut);
    assert_string_equal(r, "[EMAIL] and 4111111111111112");
    free(r);
    r = redact("bad \xff\xc3 byte \xc3\xa9", 64, &cut); /* invalid bytes become U+FFFD */
    assert_string_equal(r, "bad \xEF\xBF\xBD\xEF\xBF\xBD byte \xC3\xA9");
    free(r);
    r = redact("abc a.b@example.com", 8, &cut); /* no room for the token: cut before it */
    assert_string_equal(r, "abc ");
    assert_true(cut);
    free(r);
    r = redact("\xC3\xA9\xC3\xA9\xC3\xA9", 6, &cut); /* cut at a character boundary */
    assert_string_equal(r, "\xC3\xA9\xC3\xA9");
    assert_true(cut);
    free(r);
    /* 10 MB of phone numbers and e-mails: bounded output, every match found */
    size_t n = 10u << 20;
    char *big = malloc(n + 1);
    for (size_t i = 0; i < n; i += 20)
        memcpy(big + i, i % 40 ? "x@example.com  zzzz " : "+1 415 555 0100 zzz ", 20);
    big[n] = 0;
    char *out = malloc(n + 1);
    size_t len = mw_text_redact(big, n, out, n + 1, &cut);
    assert_false(cut);
    assert_null(strstr(out, "@") ? strstr(out, "example") : NULL);
    assert_null(strstr(out, "415"));
    assert_true(len < n);
    free(out);
    free(big);
}

/* A version's state with a baseline of the columns in csv (prompt,
 * completion and review are text), enough for text_live.c. */
static mw_vstate *text_version(const char *csv) {
    mw_table *t = read_csv(csv, "prompt: text\ncompletion: text\nreview: text\n", 1);
    mw_vstate *v = calloc(1, sizeof *v);
    mw_error err;
    assert_int_equal(mw_baseline_from_table(t, NULL, 1, &v->baseline, &err), MW_OK);
    mw_table_free(t);
    return v;
}

static void text_version_free(mw_vstate *v) {
    mw_live_texts_free(v->texts);
    free(v->text_vals);
    free(v->text_feat);
    mw_baseline_free(v->baseline);
    free(v);
}

/* The journal line of one record of line for v; its texts in *t (tb kept
 * for them, freed by the caller). */
static char *journal_line(mw_vstate *v, mw_record_parser *p, const char *line, mw_text_batch *tb,
                          mw_live_text **t) {
    mw_record rec;
    mw_error err;
    assert_int_equal(mw_record_parse(p, line, strlen(line), &rec, &err), MW_OK);
    assert_int_equal(mw_text_batch_init(tb, v, 1), MW_OK);
    assert_int_equal(mw_text_batch_describe(tb, 0, &rec, line, strlen(line), NULL, t), MW_OK);
    mw_buf o = {0};
    mw_text_batch_journal(tb, 0, &o, line, strlen(line), rec.prompt_raw, rec.prompt_raw_len,
                          rec.completion_raw, rec.completion_raw_len);
    mw_buf_u8(&o, 0);
    return (char *)o.data;
}

static void same_descriptors(const mw_text_descriptors *a, const mw_text_descriptors *b) {
    for (size_t i = 0; i < MW_TEXT_NDESC; i++)
        if (i != MW_TEXT_DESC_SCRIPT)
            assert_true(mw_text_descriptor_value(a, i) == mw_text_descriptor_value(b, i));
    assert_int_equal(a->script, b->script);
}

static void test_journal_encoding(void **state) {
    (void)state;
    mw_vstate *v = text_version("x,prompt,completion,review\n1,a b,c d,e f\n2,g h,i j,k l\n");
    const mw_live_texts *set;
    assert_int_equal(mw_live_texts_get(v, &set), MW_OK);
    assert_non_null(set);
    assert_int_equal(set->n, 3);
    assert_int_equal(set->nfeat, 1);
    assert_string_equal(set->cols[2].name, "review");
    assert_string_equal(set->cols[2].desc[0], "review.chars");
    assert_int_equal(set->at[0], 0);
    assert_int_equal(set->at[1], 1);
    const char *line = "{\"model\":\"m\",\"version\":\"1\",\"completion\":\"It said \\\"Hi\\\" "
                       "to a@b.co\",\"features\":{\"x\":1,\"re\\u0076iew\":\"Great \\\"stuff\\\", "
                       "call +44 20 7946 0958\"},\"prompt\":\"Sure \\u00e9\"}";
    mw_record_parser *p = mw_record_parser_new();
    mw_text_batch tb;
    mw_live_text *t;
    char *j = journal_line(v, p, line, &tb, &t);
    assert_true(t->v[0].has && t->v[1].has && t->v[2].has);
    assert_int_equal(t->v[2].d.phones, 1);
    assert_false(t->unsafe);
    assert_null(strstr(j, "Hi"));
    assert_null(strstr(j, "a@b.co"));
    assert_null(strstr(j, "Sure"));
    assert_null(strstr(j, "Great"));
    assert_null(strstr(j, "7946"));
    assert_non_null(strstr(j, "\"features\":{\"x\":1,\"re\\u0076iew\":\"\\u001fmwtext1 "));
    /* the window sees x and the descriptors, not the review itself */
    mw_record rec, seen;
    mw_error err;
    assert_int_equal(mw_record_parse(p, line, strlen(line), &rec, &err), MW_OK);
    assert_int_equal(mw_live_text_record(v, &rec, t, &seen), MW_OK);
    assert_int_equal(seen.nfeatures, 1 + 3 * MW_TEXT_NDESC);
    assert_int_equal(seen.features[0].name_len, 1); /* a view into the line */
    assert_memory_equal(seen.features[0].name, "x", 1);
    assert_string_equal(seen.features[1 + 2 * MW_TEXT_NDESC + 2].name, "review.words");
    assert_true(seen.features[1 + 2 * MW_TEXT_NDESC + 2].number == 7);
    /* replayed: the same descriptors */
    mw_record back;
    assert_int_equal(mw_record_parse(p, j, strlen(j), &back, &err), MW_OK);
    mw_live_text u;
    assert_int_equal(mw_live_text_single(v, &back, 1, &u), MW_OK);
    for (int k = 0; k < 3; k++) {
        assert_true(u.v[k].has);
        same_descriptors(&u.v[k].d, &t->v[k].d);
    }
    assert_int_equal(u.v[1].d.emails, 1);
    assert_int_equal(u.v[0].d.chars, 6);
    mw_text_batch_free(&tb);
    free(j);
    /* a journal value that is not a valid encoding is described as text */
    const char *odd = "{\"model\":\"m\",\"version\":\"1\",\"prompt\":\"\\u001fmwtext1 "
                      "-1,1e300,1,0,0,0,latin,1e20,0,0,0,0,0,0,0\"}";
    assert_int_equal(mw_record_parse(p, odd, strlen(odd), &back, &err), MW_OK);
    assert_int_equal(mw_live_text_single(v, &back, 1, &u), MW_OK);
    assert_true(u.v[0].has && !u.v[1].has && !u.v[2].has);
    assert_int_equal(u.v[0].d.chars, back.prompt_len); /* its own characters */
    /* review not a string, or a missing-value token: no descriptors, and
     * every occurrence (an earlier "features" too) is null in the journal */
    static const char *const odd_values[] = {"true", "42", "null", "\"NA\"", "\"\""};
    for (size_t k = 0; k < 5; k++) {
        char l[256], want[256];
        snprintf(l, sizeof l,
                 "{\"model\":\"m\",\"features\":{\"review\":\"secret\"},\"version\":\"1\","
                 "\"features\":{\"review\":%s,\"x\":2}}",
                 odd_values[k]);
        j = journal_line(v, p, l, &tb, &t);
        assert_false(t->v[2].has);
        assert_int_equal(mw_record_parse(p, l, strlen(l), &rec, &err), MW_OK);
        assert_int_equal(mw_live_text_record(v, &rec, t, &seen), MW_OK);
        assert_int_equal(seen.nfeatures, 1); /* x */
        snprintf(want, sizeof want,
                 "{\"model\":\"m\",\"features\":{\"review\":null},\"version\":\"1\","
                 "\"features\":{\"review\":null,\"x\":2}}");
        assert_string_equal(j, want);
        mw_text_batch_free(&tb);
        free(j);
    }
    text_version_free(v);
    /* a version without text monitoring: prompt and completion become null,
     * a feature named review is any feature */
    v = text_version("x\n1\n2\n");
    j = journal_line(v, p, line, &tb, &t);
    assert_null(t);
    assert_string_equal(j, "{\"model\":\"m\",\"version\":\"1\",\"completion\":null,\"features\":"
                           "{\"x\":1,\"re\\u0076iew\":\"Great \\\"stuff\\\", call +44 20 7946 "
                           "0958\"},\"prompt\":null}");
    mw_text_batch_free(&tb);
    free(j);
    text_version_free(v);
    mw_record_parser_free(p);
}

static void test_version_option(void **state) {
    (void)state;
    mw_vconfig c;
    mw_error err;
    assert_int_equal(
        mw_vconfig_parse("{\"text\":{\"samples\":5,\"refusals\":[\"No Way\"]}}", &c, &err), MW_OK);
    assert_int_equal(c.text_samples, 5);
    assert_int_equal(c.text.nrefusals, 1);
    assert_string_equal(c.text.refusals[0], "no way");
    mw_vconfig_free(&c);
    assert_int_equal(mw_vconfig_parse("{\"text\":{\"samples\":1001}}", &c, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "samples"));
    assert_int_equal(mw_vconfig_parse("{\"text\":{\"refusals\":[]}}", &c, &err), MW_EINVAL);
    assert_int_equal(mw_vconfig_parse("{\"text\":{\"refusals\":[\"\"]}}", &c, &err), MW_EINVAL);
    assert_int_equal(mw_vconfig_parse("{\"text\":{\"sample\":1}}", &c, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "unknown key \"sample\""));
    assert_int_equal(mw_vconfig_parse("{\"text\":3}", &c, &err), MW_EINVAL);
}

/* The mean of column name in a window result. */
static double current_mean(const char *json, const char *name) {
    json_error_t je;
    json_t *o = json_loads(json, 0, &je), *cols = json_object_get(o, "columns"), *c;
    size_t i;
    double v = NAN;
    json_array_foreach(cols, i, c) {
        if (!strcmp(json_string_value(json_object_get(c, "name")), name))
            v = json_number_value(json_object_get(json_object_get(c, "quality"), "current_mean"));
    }
    json_decref(o);
    return v;
}

static void test_monitor_texts(void **state) {
    (void)state;
    mw_monitor_options o = {.seed = 1};
    mw_monitor *m;
    mw_error err;
    assert_int_equal(mw_monitor_open(&o, &m, &err), MW_OK);
    assert_int_equal(mw_monitor_register(m, "m", "1", "{\"text\":{\"refusals\":[\"nope\"]}}", &err),
                     MW_OK);
    mw_table *t = read_csv("x,prompt\n1,hello there\n2,nope not this\n3,a b c\n4,d\n", NULL, 1);
    assert_int_equal(mw_monitor_set_reference(m, "m", "1", t, &err), MW_OK);
    mw_table_free(t);
    mw_feature f = {"x", 1, MW_VALUE_NUMBER, 2, NULL, 0};
    mw_record r = {.model = "m",
                   .model_len = 1,
                   .version = "1",
                   .version_len = 1,
                   .ts = NAN,
                   .features = &f,
                   .nfeatures = 1,
                   .latency_ms = NAN,
                   .input_tokens = NAN,
                   .output_tokens = NAN,
                   .ttft_ms = NAN,
                   .prompt = "Nope, four words here",
                   .prompt_len = 21,
                   .completion = "ignored: no completion column",
                   .completion_len = 29};
    assert_int_equal(mw_monitor_observe(m, &r, &err), MW_OK);
    r.prompt = "two words";
    r.prompt_len = 9;
    assert_int_equal(mw_monitor_observe(m, &r, &err), MW_OK);
    char *json;
    assert_int_equal(mw_monitor_close_window(m, "m", "1", &json, &err), MW_OK);
    assert_non_null(json);
    assert_true(current_mean(json, "prompt.words") == 3);       /* (4 + 2) / 2 */
    assert_true(current_mean(json, "prompt.refusal") == 0.5);   /* the version's phrase */
    assert_true(current_mean(json, "prompt.chars") == 15);      /* (21 + 9) / 2 */
    assert_true(isnan(current_mean(json, "completion.chars"))); /* not monitored */
    assert_null(strstr(json, "Nope"));
    free(json);
    /* a version whose columns say otherwise keeps its prompt column as it says */
    assert_int_equal(
        mw_monitor_register(m, "m", "2", "{\"columns\":{\"prompt\":{\"type\":\"ignore\"}}}", &err),
        MW_OK);
    t = read_csv("x,prompt\n1,hello there\n2,nope not this\n", NULL, 1);
    assert_int_equal(mw_monitor_set_reference(m, "m", "2", t, &err), MW_OK);
    mw_table_free(t);
    assert_int_equal(mw_monitor_describe(m, "m", "2", &json, &err), MW_OK);
    assert_null(strstr(json, "prompt.chars"));
    assert_non_null(strstr(json, "\"x\""));
    free(json);
    /* a text feature through the C API: any string is described (invalid
     * UTF-8 too), a number is missing, the raw value is not a column */
    assert_int_equal(
        mw_monitor_register(m, "m", "3", "{\"columns\":{\"review\":{\"type\":\"text\"}}}", &err),
        MW_OK);
    t = read_csv("x,review\n1,good\n2,bad\n", NULL, 1);
    assert_int_equal(mw_monitor_set_reference(m, "m", "3", t, &err), MW_OK);
    mw_table_free(t);
    mw_feature rf[2] = {{"x", 1, MW_VALUE_NUMBER, 1, NULL, 0},
                        {"review", 6, MW_VALUE_STRING, NAN, "bad \xff byte", 10}};
    mw_record q = {.model = "m", .model_len = 1, .version = "3", .version_len = 1, .ts = NAN,
                   .features = rf, .nfeatures = 2, .latency_ms = NAN, .input_tokens = NAN,
                   .output_tokens = NAN, .ttft_ms = NAN};
    assert_int_equal(mw_monitor_observe(m, &q, &err), MW_OK);
    rf[1].str = "fine words";
    assert_int_equal(mw_monitor_observe(m, &q, &err), MW_OK);
    rf[1].kind = MW_VALUE_NUMBER;
    rf[1].number = 42;
    assert_int_equal(mw_monitor_observe(m, &q, &err), MW_OK);
    assert_int_equal(mw_monitor_close_window(m, "m", "3", &json, &err), MW_OK);
    assert_true(current_mean(json, "review.invalid_utf8") == 0.5);
    assert_true(current_mean(json, "review.words") == 2.5); /* (3 + 2) / 2 */
    json_error_t je;
    json_t *w = json_loads(json, 0, &je), *c;
    size_t i, missing = 99;
    json_array_foreach(json_object_get(w, "columns"), i, c) {
        const char *name = json_string_value(json_object_get(c, "name"));
        assert_string_not_equal(name, "review");
        if (!strcmp(name, "review.chars"))
            missing = (size_t)json_integer_value(
                json_object_get(json_object_get(c, "quality"), "current_missing"));
    }
    assert_int_equal(missing, 1);
    json_decref(w);
    free(json);
    mw_monitor_close(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand_values),   cmocka_unit_test(test_inference),
        cmocka_unit_test(test_align_and_clash), cmocka_unit_test(test_schema_text_type),
        cmocka_unit_test(test_redact),          cmocka_unit_test(test_journal_encoding),
        cmocka_unit_test(test_version_option),  cmocka_unit_test(test_monitor_texts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
