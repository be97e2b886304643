/*
 * Alert rule expressions (src/alert/expr.h): the exposition parser on a
 * hand-written page and on src/server/expo.c's own output, its error messages;
 * the expression parser's errors (exact message and column) and limits;
 * evaluation of selectors and matchers, each comparison (with NaN and
 * infinities), and/or/unless with label-set matching and precedence; the
 * canonical text and its round trip; the list of metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "alert/expr.h"
#include "server/expo.h"

/* ---- helpers ---- */

static mw_sample_set parse_page(const char *text) {
    mw_sample_set set;
    mw_error err;
    mw_error_clear(&err);
    mw_status st = mw_samples_parse(text, strlen(text), &set, &err);
    if (st != MW_OK) fail_msg("mw_samples_parse: %s", err.message);
    return set;
}

static mw_expr *parse_expr(const char *text) {
    mw_expr *e = NULL;
    mw_error err;
    mw_error_clear(&err);
    if (mw_expr_parse(text, &e, &err) != MW_OK)
        fail_msg("mw_expr_parse(%s): %s", text, err.message);
    return e;
}

/* The samples as "name{a=\"x\",b=\"y\"} value; ..." in one of four rotating
 * buffers, so that two results can be compared in one assertion. */
static const char *render(const mw_sample_set *set) {
    static char bufs[4][8192];
    static unsigned next;
    char *buf = bufs[next++ % 4];
    size_t k = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < set->n; i++) {
        const mw_sample *s = &set->s[i];
        k += (size_t)snprintf(buf + k, 8192 - k, "%s%s{", i ? "; " : "", s->name ? s->name : "");
        for (size_t j = 0; j < s->nlabels; j++)
            k += (size_t)snprintf(buf + k, 8192 - k, "%s%s=\"%s\"", j ? "," : "", s->labels[j].name,
                                  s->labels[j].value);
        k += (size_t)snprintf(buf + k, 8192 - k, "} %g", s->value);
    }
    return buf;
}

static const char eval_page[] = "m{job=\"a\",inst=\"1\"} 1\n"
                                "m{job=\"a\",inst=\"2\"} 5\n"
                                "m{job=\"b\",inst=\"1\"} NaN\n"
                                "m{inst=\"3\"} 7\n"
                                "m{job=\"ab\",inst=\"4\"} 2\n"
                                "n{job=\"a\",inst=\"1\"} 10\n"
                                "n{inst=\"9\",job=\"c\"} 20\n";

/* Evaluates expr over eval_page; the result rendered. */
static const char *eval_text(const char *expr) {
    mw_sample_set page = parse_page(eval_page), out;
    mw_expr *e = parse_expr(expr);
    mw_error err;
    mw_error_clear(&err);
    assert_int_equal(mw_expr_eval(e, &page, &out, &err), MW_OK);
    for (size_t i = 0; i < out.n; i++)
        assert_null(out.s[i].name);
    const char *r = render(&out);
    mw_samples_free(&out);
    mw_samples_free(&page);
    mw_expr_free(e);
    return r;
}

/* ---- exposition parser ---- */

static const char page[] =
    "# HELP modelwatch_records_total Records accepted.\\nBackslash: \\\\ done.\n"
    "# TYPE modelwatch_records_total counter\n"
    "modelwatch_records_total{model=\"fraud\",version=\"v2\"} 1027\n"
    "modelwatch_records_total{version=\"v1\",model=\"fraud\"} 3 1712345678000\n"
    "\n"
    "# HELP modelwatch_drift_score Drift score by feature.\n"
    "# TYPE modelwatch_drift_score gauge\n"
    "modelwatch_drift_score{model=\"fraud\",feature=\"amount \\\"usd\\\"\\\\n\",method=\"psi\"} "
    "0.25\n"
    "modelwatch_drift_score{model=\"fraud\",feature=\"two\\nlines\",method=\"psi\"} NaN\n"
    "modelwatch_drift_score{ model = \"churn\" , feature=\"\", method=\"ks\", } +Inf\r\n"
    "modelwatch_up -Inf\n"
    "# TYPE modelwatch_latency_seconds histogram\n"
    "modelwatch_latency_seconds_bucket{route=\"/ingest\",le=\"0.005\"} 0\n"
    "modelwatch_latency_seconds_bucket{route=\"/ingest\",le=\"0.01\"} 2\n"
    "modelwatch_latency_seconds_bucket{route=\"/ingest\",le=\"+Inf\"} 5\n"
    "modelwatch_latency_seconds_sum{route=\"/ingest\"} 6.25e-2\n"
    "modelwatch_latency_seconds_count{route=\"/ingest\"} 5\n"
    "# EOF";

static void test_samples_parse(void **state) {
    (void)state;
    mw_sample_set set = parse_page(page);
    assert_int_equal(set.n, 11);
    assert_string_equal(set.s[0].name, "modelwatch_records_total");
    assert_int_equal(set.s[0].nlabels, 2);
    assert_string_equal(set.s[0].labels[0].name, "model");
    assert_string_equal(set.s[0].labels[0].value, "fraud");
    assert_string_equal(set.s[0].labels[1].name, "version");
    assert_string_equal(set.s[0].labels[1].value, "v2");
    assert_true(set.s[0].value == 1027);
    /* labels sorted by name whatever the written order; timestamp ignored */
    assert_string_equal(set.s[1].labels[0].name, "model");
    assert_string_equal(set.s[1].labels[1].value, "v1");
    assert_true(set.s[1].value == 3);
    /* escapes: \" \\ \n */
    assert_string_equal(set.s[2].labels[0].name, "feature");
    assert_string_equal(set.s[2].labels[0].value, "amount \"usd\"\\n");
    assert_string_equal(set.s[2].labels[1].name, "method");
    assert_string_equal(set.s[2].labels[2].name, "model");
    assert_true(set.s[2].value == 0.25);
    assert_string_equal(mw_sample_label(&set.s[3], "feature"), "two\nlines");
    assert_true(isnan(set.s[3].value));
    /* blanks around tokens, trailing comma, CRLF; an empty value is absent */
    assert_int_equal(set.s[4].nlabels, 2);
    assert_string_equal(set.s[4].labels[0].name, "method");
    assert_string_equal(set.s[4].labels[1].value, "churn");
    assert_string_equal(mw_sample_label(&set.s[4], "feature"), "");
    assert_true(isinf(set.s[4].value) && set.s[4].value > 0);
    assert_string_equal(set.s[5].name, "modelwatch_up");
    assert_int_equal(set.s[5].nlabels, 0);
    assert_null(set.s[5].labels);
    assert_true(isinf(set.s[5].value) && set.s[5].value < 0);
    /* histogram lines */
    assert_string_equal(set.s[6].name, "modelwatch_latency_seconds_bucket");
    assert_string_equal(mw_sample_label(&set.s[6], "le"), "0.005");
    assert_string_equal(set.s[6].labels[0].name, "le");
    assert_string_equal(set.s[6].labels[1].name, "route");
    assert_string_equal(mw_sample_label(&set.s[8], "le"), "+Inf");
    assert_true(set.s[8].value == 5);
    assert_string_equal(set.s[9].name, "modelwatch_latency_seconds_sum");
    assert_true(set.s[9].value == 0.0625);
    assert_string_equal(set.s[10].name, "modelwatch_latency_seconds_count");
    assert_true(set.s[10].value == 5);
    assert_true(mw_samples_has_metric(&set, "modelwatch_up"));
    assert_true(mw_samples_has_metric(&set, "modelwatch_latency_seconds_count"));
    assert_false(mw_samples_has_metric(&set, "modelwatch_latency_seconds"));
    assert_string_equal(mw_sample_label(&set.s[0], "nope"), "");
    mw_samples_free(&set);
    assert_int_equal(set.n, 0);
    assert_null(set.s);
    mw_samples_free(&set); /* reusable, and NULL-safe */
    mw_samples_free(NULL);

    /* empty input and comments only */
    set = parse_page("");
    assert_int_equal(set.n, 0);
    set = parse_page("# just a comment\n\n   \n");
    assert_int_equal(set.n, 0);
}

/* What src/server/expo.c writes reads back, in both formats. */
static void test_samples_from_writer(void **state) {
    (void)state;
    for (int om = 0; om <= 1; om++) {
        mw_expo e;
        mw_expo_init(&e, om);
        const char *names[] = {"model", "path"};
        const char *values[] = {"fraud \"v2\"", "C:\\tmp\nx"};
        assert_int_equal(mw_expo_family(&e, "modelwatch_records_total", MW_EXPO_COUNTER,
                                        "Records\\accepted\nin total."),
                         MW_OK);
        assert_int_equal(mw_expo_sample(&e, NULL, names, values, 2, 42), MW_OK);
        assert_int_equal(mw_expo_family(&e, "modelwatch_score", MW_EXPO_GAUGE, NULL), MW_OK);
        assert_int_equal(mw_expo_sample(&e, NULL, NULL, NULL, 0, NAN), MW_OK);
        assert_int_equal(mw_expo_sample(&e, NULL, names, values, 1, 0.1), MW_OK);
        assert_int_equal(mw_expo_family(&e, "modelwatch_lat", MW_EXPO_HISTOGRAM, "Latency."),
                         MW_OK);
        const double bounds[] = {0.5, 1};
        const uint64_t counts[] = {1, 2, 3};
        assert_int_equal(mw_expo_histogram(&e, names, values, 1, bounds, 2, counts, 4.5), MW_OK);
        assert_int_equal(mw_expo_finish(&e), MW_OK);
        mw_sample_set set = parse_page(e.buf);
        assert_string_equal(render(&set),
                            "modelwatch_records_total{model=\"fraud \"v2\"\",path=\"C:\\tmp\nx\"} "
                            "42; modelwatch_score{} nan; modelwatch_score{model=\"fraud \"v2\"\"} "
                            "0.1; modelwatch_lat_bucket{le=\"0.5\",model=\"fraud \"v2\"\"} 1; "
                            "modelwatch_lat_bucket{le=\"1\",model=\"fraud \"v2\"\"} 3; "
                            "modelwatch_lat_bucket{le=\"+Inf\",model=\"fraud \"v2\"\"} 6; "
                            "modelwatch_lat_sum{model=\"fraud \"v2\"\"} 4.5; "
                            "modelwatch_lat_count{model=\"fraud \"v2\"\"} 6");
        mw_samples_free(&set);
        mw_expo_free(&e);
    }
}

static void samples_error_is(const char *text, size_t len, unsigned line, unsigned col,
                             const char *msg) {
    mw_sample_set set;
    mw_error err;
    mw_error_clear(&err);
    assert_int_equal(mw_samples_parse(text, len, &set, &err), MW_EPARSE);
    assert_string_equal(err.message, msg);
    assert_int_equal(err.line, line);
    assert_int_equal(err.column, col);
    assert_int_equal(set.n, 0);
    assert_null(set.s);
}

static void test_samples_errors(void **state) {
    (void)state;
    static const struct {
        const char *text;
        unsigned line, col;
        const char *msg;
    } cases[] = {
        {"x{a=\"b\" 1\n", 1, 9, "line 1, column 9: expected \",\" or \"}\", found \"1\""},
        {"ok 1\nx{a=\"b\\q\"} 1\n", 2, 7,
         "line 2, column 7: expected an escape sequence (\\\\, \\\" or \\n), found \"\\\\q\\\"}\""},
        {"x 1 2 3", 1, 7, "line 1, column 7: expected the end of the line, found \"3\""},
        {"x abc", 1, 3,
         "line 1, column 3: expected a sample value (a number, NaN, +Inf or -Inf), found \"abc\""},
        {"x", 1, 2, "line 1, column 2: expected a sample value, found the end of the line"},
        {"x{a=\"b\"", 1, 8, "line 1, column 8: expected \",\" or \"}\", found the end of the line"},
        {"x{a=\"b} 1", 1, 10,
         "line 1, column 10: expected a closing '\"' of the label value, found the end of the "
         "line"},
        {"# c\n{a=\"b\"} 1", 2, 1,
         "line 2, column 1: expected a metric name, found \"{a=\\\"b\\\"}\""},
        {"x{a=\"1\",b=\"\",a=\"2\"} 1", 1, 14,
         "line 1, column 14: expected a label name not used before in the sample, found "
         "\"a=\\\"2\\\"}\""},
        {"x 1 abc", 1, 5,
         "line 1, column 5: expected a timestamp or the end of the line, found \"abc\""},
        {"x 1 +Inf", 1, 5,
         "line 1, column 5: expected a timestamp or the end of the line, found \"+Inf\""},
        {"x{1=\"b\"} 1", 1, 3,
         "line 1, column 3: expected a label name or \"}\", found \"1=\\\"b\\\"}\""},
        {"x{a \"b\"} 1", 1, 5, "line 1, column 5: expected \"=\", found \"\\\"b\\\"}\""},
        {"x{a=b} 1", 1, 5, "line 1, column 5: expected a quoted label value, found \"b}\""},
        {"x 0x10", 1, 3,
         "line 1, column 3: expected a sample value (a number, NaN, +Inf or -Inf), found \"0x10\""},
        {"x 1\xff", 1, 3,
         "line 1, column 3: expected a sample value (a number, NaN, +Inf or -Inf), found "
         "\"1\\xff\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        samples_error_is(cases[i].text, strlen(cases[i].text), cases[i].line, cases[i].col,
                         cases[i].msg);
    /* a NUL byte inside a label value, and a long word cut in the message */
    static const char nul[] = "x{a=\"\0\"} 1";
    samples_error_is(nul, sizeof nul - 1, 1, 6,
                     "line 1, column 6: expected a closing '\"' of the label value, found "
                     "\"\\x00\\\"}\"");
    samples_error_is("x 0123456789abcdefghijklmnopqrstuvwxyz", 38, 1, 3,
                     "line 1, column 3: expected a sample value (a number, NaN, +Inf or -Inf), "
                     "found \"0123456789abcdefghijklmn\"...");
}

/* ---- expression parser errors ---- */

static void expr_error_is(const char *text, mw_status st, unsigned col, const char *msg) {
    mw_expr *e = (mw_expr *)1;
    mw_error err;
    mw_error_clear(&err);
    assert_int_equal(mw_expr_parse(text, &e, &err), st);
    assert_null(e);
    assert_int_equal(err.status, st);
    assert_string_equal(err.message, msg);
    assert_int_equal(err.column, col);
}

static void test_expr_errors(void **state) {
    (void)state;
    static const struct {
        const char *text;
        unsigned col;
        const char *msg;
    } cases[] = {
        {"modelwatch_x{a=\"b\"} << 1", 21,
         "column 21: expected a comparison operator or the end, found \"<<\""},
        {"", 1, "column 1: expected a metric name, found the end"},
        {"   ", 4, "column 4: expected a metric name, found the end"},
        {"x{a=\"b}", 8,
         "column 8: expected the closing \" of the string at column 5, found the end"},
        {"x{a='b\\'}", 10,
         "column 10: expected the closing ' of the string at column 5, found the end"},
        {"x{a=\"b\\", 8,
         "column 8: expected the closing \" of the string at column 5, found the end"},
        {"x{a=\"\\q\"}", 6,
         "column 6: expected an escape sequence (\\\\, \\\", \\', \\n or \\t), found \"\\\\q\""},
        {"x{a=~\"a(\"}", 3,
         "column 3: expected a valid regular expression, found \"a(\" (Unmatched ( or \\()"},
        {"x{b=\"\", a!~\"a)|(b\"}", 9,
         "column 9: expected a valid regular expression, found \"a)|(b\" (unmatched \")\")"},
        {"x{a=~\"(a)\\\\1\"}", 3,
         "column 3: expected a valid regular expression, found \"(a)\\\\1\" (back-references "
         "are not supported)"},
        {"x{a=~\"((a{100}){100}){100}\"}", 3,
         "column 3: expected a valid regular expression, found \"((a{100}){100}){100}\" "
         "(repetitions expand too far)"},
        {"x{a=~\"((((a+)+)+)+)\"}", 3,
         "column 3: expected a valid regular expression, found \"((((a+)+)+)+)\" (repetitions "
         "nested more than 3 deep)"},
        {"x{a=~\"x(a*|b)+\"}", 3,
         "column 3: expected a valid regular expression, found \"x(a*|b)+\" (repeating a pattern "
         "that can match the empty string)"},
        {"x{a=~\"(a|b?c?){2,5}\"}", 3,
         "column 3: expected a valid regular expression, found \"(a|b?c?){2,5}\" (repeating a "
         "pattern that can match the empty string)"},
        {"x{a=~\"b|.*+\"}", 3,
         "column 3: expected a valid regular expression, found \"b|.*+\" (nested repetition "
         "operators are not supported)"},
        {"x{a=~\"(((((((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))))))\"}", 3,
         "column 3: expected a valid regular expression, found \"((((((((((((((((((((((((\"... "
         "(groups nested more than 32 deep)"},
        {"x @ 1", 3, "column 3: expected a comparison operator or the end, found \"@\""},
        {"x{a=\"b\"", 8, "column 8: expected \",\" or \"}\", found the end"},
        {"x{a=\"b\" c=\"d\"}", 9, "column 9: expected \",\" or \"}\", found \"c\""},
        {"x y", 3, "column 3: expected a comparison operator or the end, found \"y\""},
        {"x > 1 y", 7, "column 7: expected \"and\", \"or\", \"unless\" or the end, found \"y\""},
        {"x > 1 > 2", 7, "column 7: expected \"and\", \"or\", \"unless\" or the end, found \">\""},
        {"(x > 1", 7, "column 7: expected \"and\", \"or\", \"unless\" or \")\", found the end"},
        {"(x", 3, "column 3: expected a comparison operator or \")\", found the end"},
        {"(x or y))", 9, "column 9: expected \"and\", \"or\", \"unless\" or the end, found \")\""},
        {"x >", 4, "column 4: expected a number, found the end"},
        {"x > y", 5, "column 5: expected a number, found \"y\""},
        {"x > 0x1", 6, "column 6: expected \"and\", \"or\", \"unless\" or the end, found \"x1\""},
        {"x = 1", 3, "column 3: expected a comparison operator or the end, found \"=\""},
        {"x{a}", 4, "column 4: expected \"=\", \"!=\", \"=~\" or \"!~\", found \"}\""},
        {"x{a==\"b\"}", 4, "column 4: expected \"=\", \"!=\", \"=~\" or \"!~\", found \"==\""},
        {"x{a=1}", 5, "column 5: expected a string, found \"1\""},
        {"x{,}", 3, "column 3: expected a label name or \"}\", found \",\""},
        {"x{a=\"b\",,}", 9, "column 9: expected a label name or \"}\", found \",\""},
        {"x{a:b=\"c\"}", 3, "column 3: expected a label name or \"}\", found \"a:b\""},
        {"and", 1, "column 1: expected a metric name, found \"and\""},
        {"x and", 6, "column 6: expected a metric name, found the end"},
        {"x OR Unless y", 6, "column 6: expected a metric name, found \"Unless\""},
        {"()", 2, "column 2: expected a metric name, found \")\""},
        {"x > 1 and", 10, "column 10: expected a metric name, found the end"},
        {"9x", 1, "column 1: expected a metric name, found \"9\""},
        {"x == \xc3\xa9", 6, "column 6: expected a number, found \"\\xc3\\xa9\""},
        {"x{a=\"b\"} | y", 10, "column 10: expected a comparison operator or the end, found \"|\""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        expr_error_is(cases[i].text, MW_EPARSE, cases[i].col, cases[i].msg);
    mw_expr *e = (mw_expr *)1;
    assert_int_equal(mw_expr_parse(NULL, &e, NULL), MW_EINVAL);
    assert_null(e);
}

static void test_expr_limits(void **state) {
    (void)state;
    char buf[5000];
    /* nesting: 32 parentheses parse, 33 do not */
    for (int depth = 32; depth <= 33; depth++) {
        size_t k = 0;
        for (int i = 0; i < depth; i++)
            buf[k++] = '(';
        buf[k++] = 'x';
        for (int i = 0; i < depth; i++)
            buf[k++] = ')';
        buf[k] = '\0';
        if (depth == 32)
            mw_expr_free(parse_expr(buf));
        else
            expr_error_is(buf, MW_ERANGE, 33,
                          "column 33: expected at most 32 nested parentheses, found more");
    }
    /* length: 4096 bytes parse, 4097 do not */
    memset(buf, ' ', 4097);
    buf[0] = 'x';
    buf[4096] = '\0';
    mw_expr_free(parse_expr(buf));
    buf[4096] = ' ';
    buf[4097] = '\0';
    expr_error_is(buf, MW_ERANGE, 4097,
                  "column 4097: expected an expression of at most 4096 bytes, found more");
    /* the longest chain of operators: formatted back unchanged, evaluated */
    size_t len = 1;
    buf[0] = 'm';
    for (int i = 0; len + 6 <= 4096; i++) {
        memcpy(buf + len, i % 2 ? " or m" : " and n", i % 2 ? 5 : 6);
        len += i % 2 ? 5 : 6;
    }
    buf[len] = '\0';
    mw_expr *e = parse_expr(buf);
    char *text = mw_expr_format(e);
    assert_string_equal(text, buf);
    free(text);
    mw_expr_free(e);
    assert_string_equal(eval_text(buf), eval_text("m"));
    /* matchers: 64 parse, the 65th is refused at its column */
    for (int nm = 64; nm <= 65; nm++) {
        size_t k = (size_t)snprintf(buf, sizeof buf, "x{");
        for (int i = 0; i < nm; i++)
            k += (size_t)snprintf(buf + k, 8192 - k, "l%02d=\"\",", i);
        snprintf(buf + k, 8192 - k, "}");
        if (nm == 64)
            mw_expr_free(parse_expr(buf));
        else
            expr_error_is(buf, MW_ERANGE, 3 + 64 * 7,
                          "column 451: expected at most 64 matchers in a selector, found more");
    }
}

/* ---- evaluation ---- */

static void test_eval_selectors(void **state) {
    (void)state;
    assert_string_equal(eval_text("m"), "{inst=\"1\",job=\"a\"} 1; {inst=\"2\",job=\"a\"} 5; "
                                        "{inst=\"1\",job=\"b\"} nan; {inst=\"3\"} 7; "
                                        "{inst=\"4\",job=\"ab\"} 2");
    assert_string_equal(eval_text("m{job=\"a\"}"),
                        "{inst=\"1\",job=\"a\"} 1; {inst=\"2\",job=\"a\"} 5");
    assert_string_equal(eval_text("m{job='a', inst=\"2\",}"), "{inst=\"2\",job=\"a\"} 5");
    /* a missing label is "" */
    assert_string_equal(eval_text("m{job=\"\"}"), "{inst=\"3\"} 7");
    assert_string_equal(eval_text("m{job!=\"a\"}"),
                        "{inst=\"1\",job=\"b\"} nan; {inst=\"3\"} 7; {inst=\"4\",job=\"ab\"} 2");
    assert_string_equal(eval_text("m{nope=\"\"}"), eval_text("m"));
    assert_string_equal(eval_text("m{nope!=\"\"}"), "");
    /* regular expressions are anchored */
    assert_string_equal(eval_text("m{job=~\"a\"}"),
                        "{inst=\"1\",job=\"a\"} 1; {inst=\"2\",job=\"a\"} 5");
    assert_string_equal(
        eval_text("m{job=~\"a|b\"}"),
        "{inst=\"1\",job=\"a\"} 1; {inst=\"2\",job=\"a\"} 5; {inst=\"1\",job=\"b\"} nan");
    assert_string_equal(
        eval_text("m{job=~\"a.*\"}"),
        "{inst=\"1\",job=\"a\"} 1; {inst=\"2\",job=\"a\"} 5; {inst=\"4\",job=\"ab\"} 2");
    assert_string_equal(eval_text("m{job!~\"a|b\"}"), "{inst=\"3\"} 7; {inst=\"4\",job=\"ab\"} 2");
    assert_string_equal(eval_text("m{job=~\"\"}"), "{inst=\"3\"} 7");
    assert_string_equal(eval_text("m{job=~\"[ab]+\", inst!~\"[2-4]\"}"),
                        "{inst=\"1\",job=\"a\"} 1; {inst=\"1\",job=\"b\"} nan");
    /* ")" inside a bracket expression is no group; character classes */
    assert_string_equal(eval_text("m{job=~\"[)]|a\"}"), eval_text("m{job=\"a\"}"));
    assert_string_equal(eval_text("m{job=~\"[[:alpha:]]{2}\", inst=~\"(4)+\"}"),
                        "{inst=\"4\",job=\"ab\"} 2");
    assert_string_equal(eval_text("m{job=~\"(a|b?c)+\", inst=~\"(((1)+){1,2})*\"}"),
                        "{inst=\"1\",job=\"a\"} 1");
    assert_string_equal(eval_text("m{__name__=~\"m|n\", inst=\"3\"}"), "{inst=\"3\"} 7");
    assert_string_equal(eval_text("absent_metric"), "");
    assert_string_equal(eval_text("n{job=\"c\"}"), "{inst=\"9\",job=\"c\"} 20");
    /* no samples at all */
    mw_expr *e = parse_expr("m");
    mw_sample_set out;
    assert_int_equal(mw_expr_eval(e, NULL, &out, NULL), MW_OK);
    assert_int_equal(out.n, 0);
    mw_expr_free(e);
}

static void test_eval_comparisons(void **state) {
    (void)state;
    /* m: 1, 5, NaN, 7, 2 */
    assert_string_equal(eval_text("m > 2"), "{inst=\"2\",job=\"a\"} 5; {inst=\"3\"} 7");
    assert_string_equal(eval_text("m >= 5"), "{inst=\"2\",job=\"a\"} 5; {inst=\"3\"} 7");
    assert_string_equal(eval_text("m < 5"), "{inst=\"1\",job=\"a\"} 1; {inst=\"4\",job=\"ab\"} 2");
    assert_string_equal(eval_text("m <= 1"), "{inst=\"1\",job=\"a\"} 1");
    assert_string_equal(eval_text("m == 5"), "{inst=\"2\",job=\"a\"} 5");
    assert_string_equal(eval_text("m != 5"),
                        "{inst=\"1\",job=\"a\"} 1; {inst=\"1\",job=\"b\"} nan; "
                        "{inst=\"3\"} 7; {inst=\"4\",job=\"ab\"} 2");
    assert_string_equal(eval_text("m == NaN"), "");
    assert_string_equal(eval_text("m > nan"), "");
    assert_string_equal(eval_text("m != NaN"), eval_text("m"));
    assert_string_equal(eval_text("m < +Inf"),
                        "{inst=\"1\",job=\"a\"} 1; {inst=\"2\",job=\"a\"} 5; "
                        "{inst=\"3\"} 7; {inst=\"4\",job=\"ab\"} 2");
    assert_string_equal(eval_text("m < inf"), eval_text("m < +Inf"));
    assert_string_equal(eval_text("m > -Inf"), eval_text("m < +Inf"));
    assert_string_equal(eval_text("m >= 7.0e0"), "{inst=\"3\"} 7");
    assert_string_equal(eval_text("m > -1.5"), eval_text("m < +Inf"));
    assert_string_equal(eval_text("m{job=\"a\"} > .5"),
                        "{inst=\"1\",job=\"a\"} 1; {inst=\"2\",job=\"a\"} 5");
}

static void test_eval_set_operators(void **state) {
    (void)state;
    /* n: {inst=1,job=a} 10, {inst=9,job=c} 20 */
    assert_string_equal(eval_text("m and n"), "{inst=\"1\",job=\"a\"} 1");
    assert_string_equal(eval_text("n and m"), "{inst=\"1\",job=\"a\"} 10");
    assert_string_equal(eval_text("m AND n > 15"), "");
    assert_string_equal(eval_text("m unless n"),
                        "{inst=\"2\",job=\"a\"} 5; {inst=\"1\",job=\"b\"} nan; "
                        "{inst=\"3\"} 7; {inst=\"4\",job=\"ab\"} 2");
    assert_string_equal(eval_text("n unless m"), "{inst=\"9\",job=\"c\"} 20");
    assert_string_equal(eval_text("m or n"),
                        "{inst=\"1\",job=\"a\"} 1; {inst=\"2\",job=\"a\"} 5; "
                        "{inst=\"1\",job=\"b\"} nan; {inst=\"3\"} 7; "
                        "{inst=\"4\",job=\"ab\"} 2; {inst=\"9\",job=\"c\"} 20");
    assert_string_equal(
        eval_text("n or m{job=\"a\"}"),
        "{inst=\"1\",job=\"a\"} 10; {inst=\"9\",job=\"c\"} 20; {inst=\"2\",job=\"a\"} 5");
    /* and binds tighter than or */
    assert_string_equal(eval_text("m > 4 or m < 2 and n"),
                        "{inst=\"2\",job=\"a\"} 5; {inst=\"3\"} 7; {inst=\"1\",job=\"a\"} 1");
    assert_string_equal(eval_text("(m > 4 or m < 2) and n"), "{inst=\"1\",job=\"a\"} 1");
    assert_string_equal(eval_text("m < 2 and n or m > 4"),
                        "{inst=\"1\",job=\"a\"} 1; {inst=\"2\",job=\"a\"} 5; {inst=\"3\"} 7");
    /* and/unless are left-associative at one level */
    assert_string_equal(eval_text("m and n unless n"), "");
    assert_string_equal(eval_text("m unless n and n"), "");
    assert_string_equal(eval_text("m unless (n and n)"), eval_text("m unless n"));
    assert_string_equal(
        eval_text("m unless n or n"),
        "{inst=\"2\",job=\"a\"} 5; {inst=\"1\",job=\"b\"} nan; {inst=\"3\"} 7; "
        "{inst=\"4\",job=\"ab\"} 2; {inst=\"1\",job=\"a\"} 10; {inst=\"9\",job=\"c\"} 20");
    assert_string_equal(eval_text("((m)) and ((n{job=~\"a|c\"}))"), "{inst=\"1\",job=\"a\"} 1");
}

/* Label sets ignore a __name__ label and empty values, which samples built by
 * hand may carry; results drop them. */
static void test_eval_label_sets(void **state) {
    (void)state;
    mw_label la[] = {{"__name__", "x"}, {"a", "1"}, {"b", ""}};
    mw_label lb[] = {{"a", "1"}};
    mw_sample s[] = {{"x", la, 3, 1.0}, {"y", lb, 1, 2.0}};
    mw_sample_set set = {s, 2, 2}, out;
    mw_expr *e = parse_expr("y and x");
    assert_int_equal(mw_expr_eval(e, &set, &out, NULL), MW_OK);
    assert_string_equal(render(&out), "{a=\"1\"} 2");
    mw_samples_free(&out);
    mw_expr_free(e);
    e = parse_expr("x{b=\"\"} unless y");
    assert_int_equal(mw_expr_eval(e, &set, &out, NULL), MW_OK);
    assert_string_equal(render(&out), "");
    mw_expr_free(e);
    e = parse_expr("x");
    assert_int_equal(mw_expr_eval(e, &set, &out, NULL), MW_OK);
    assert_string_equal(render(&out), "{a=\"1\"} 1");
    mw_samples_free(&out);
    mw_expr_free(e);
}

/* ---- canonical text ---- */

static void format_is(const char *text, const char *want) {
    mw_expr *e = parse_expr(text);
    char *s = mw_expr_format(e);
    assert_non_null(s);
    assert_string_equal(s, want);
    free(s);
    mw_expr_free(e);
}

static void test_format(void **state) {
    (void)state;
    format_is("  modelwatch_x{ a = \"b\" , c!~'d\\'e' ,}>=1e3 AND(y or z<-0.5)",
              "modelwatch_x{a=\"b\", c!~\"d'e\"} >= 1000 and (y or z < -0.5)");
    format_is("x{}", "x");
    format_is("x>NaN", "x > NaN");
    format_is("x < inf", "x < +Inf");
    format_is("x > -INF", "x > -Inf");
    format_is("x == 0.1", "x == 0.1");
    format_is("x != 1e-7", "x != 1e-07");
    format_is("x <= 1.7976931348623157e308", "x <= 1.7976931348623157e+308");
    format_is("x == 0.30000000000000004", "x == 0.30000000000000004");
    format_is("x == -0", "x == -0");
    format_is("x{a=\"q\\\"\\\\\\n\\t\"}", "x{a=\"q\\\"\\\\\\n\\t\"}");
    format_is("a Or b UNLESS c and d", "a or b unless c and d");
    format_is("((a or b)) and (c)", "((a or b)) and (c)");
    format_is("ns:rule_metric:rate5m{job=~\"api.*\"}", "ns:rule_metric:rate5m{job=~\"api.*\"}");
}

/* parse -> format -> parse -> format gives the same text. */
static void test_format_round_trip(void **state) {
    (void)state;
    static const char *const exprs[] = {
        "m",
        "m{a=\"1\"}",
        "m{a!=\"\", b=~\"x|y\", c!~'z\\\\.\\n',}",
        "m > 0.1 or n < 1e300 and o == -2.5e-310",
        "(((m)) unless n) or (o and p)",
        "m != NaN and m >= +Inf or m <= -Inf",
        "m > 123456789012345678901234567890",
        "m{a=\"\\'quoted\\\"\\t\"} == 0.000123",
        "a or b or c or d and e unless f",
    };
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        mw_expr *e1 = parse_expr(exprs[i]);
        char *t1 = mw_expr_format(e1);
        assert_non_null(t1);
        mw_expr *e2 = parse_expr(t1);
        char *t2 = mw_expr_format(e2);
        assert_string_equal(t1, t2);
        /* and the same results */
        char r1[8192];
        snprintf(r1, sizeof r1, "%s", eval_text(exprs[i]));
        assert_string_equal(r1, eval_text(t1));
        free(t1);
        free(t2);
        mw_expr_free(e1);
        mw_expr_free(e2);
    }
}

static void test_metrics(void **state) {
    (void)state;
    mw_expr *e = parse_expr("a or b and a unless (c > 1 or b{x=\"a\"})");
    const char *names[4];
    assert_int_equal(mw_expr_metrics(e, names, 4), 3);
    assert_string_equal(names[0], "a");
    assert_string_equal(names[1], "b");
    assert_string_equal(names[2], "c");
    names[1] = NULL;
    assert_int_equal(mw_expr_metrics(e, names, 1), 3);
    assert_string_equal(names[0], "a");
    assert_null(names[1]);
    assert_int_equal(mw_expr_metrics(e, NULL, 0), 3);
    mw_expr_free(e);
    e = parse_expr("modelwatch_drift_score{feature=\"x\"} > 0.2");
    assert_int_equal(mw_expr_metrics(e, names, 4), 1);
    assert_string_equal(names[0], "modelwatch_drift_score");
    mw_expr_free(e);
    mw_expr_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_samples_parse),     cmocka_unit_test(test_samples_from_writer),
        cmocka_unit_test(test_samples_errors),    cmocka_unit_test(test_expr_errors),
        cmocka_unit_test(test_expr_limits),       cmocka_unit_test(test_eval_selectors),
        cmocka_unit_test(test_eval_comparisons),  cmocka_unit_test(test_eval_set_operators),
        cmocka_unit_test(test_eval_label_sets),   cmocka_unit_test(test_format),
        cmocka_unit_test(test_format_round_trip), cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
