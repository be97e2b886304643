/*
 * Signatures: parsing MLflow column specs (arrays, strings holding them,
 * unnamed columns, "optional"), every malformed case with its message, the
 * normalised JSON, MLflow's widening table cell by cell (8 x 8), every
 * compatibility rule case by case, and the record check (missing, type and
 * class violations per field).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modelwatch/signature.h"

static void parse_ok(const char *text, mw_signature *s) {
    mw_error err;
    mw_status st = mw_signature_parse(text, "sig.json", s, &err);
    if (st) fail_msg("parse failed: %s", err.message);
}

/* Parsing fails with status st and a message containing want. */
static void parse_fails(const char *text, mw_status st, const char *want) {
    mw_signature s;
    mw_error err;
    mw_status got = mw_signature_parse(text, "sig.json", &s, &err);
    if (got != st || !strstr(err.message, want))
        fail_msg("for %s: status %d (want %d), message \"%s\" lacks \"%s\"", text, got, st,
                 err.message, want);
    assert_null(s.inputs);
    assert_int_equal(s.ninputs, 0);
}

static void test_parse(void **state) {
    (void)state;
    mw_signature s;
    parse_ok("{\"inputs\": [{\"name\": \"amount\", \"type\": \"double\"},"
             " {\"name\": \"country\", \"type\": \"string\", \"required\": false},"
             " {\"name\": \"n\", \"type\": \"long\", \"optional\": true}],"
             " \"outputs\": [{\"type\": \"long\"}], \"classes\": [0, \"1\", 2.0]}",
             &s);
    assert_int_equal(s.ninputs, 3);
    assert_string_equal(s.inputs[0].name, "amount");
    assert_int_equal(s.inputs[0].type, MW_SIG_DOUBLE);
    assert_int_equal(s.inputs[0].required, 1);
    assert_int_equal(s.inputs[1].required, 0);
    assert_int_equal(s.inputs[2].required, 0);
    assert_int_equal(s.noutputs, 1);
    assert_string_equal(s.outputs[0].name, "0"); /* unnamed: its position */
    assert_int_equal(s.has_classes, 1);
    assert_int_equal(s.nclasses, 3);
    assert_string_equal(s.classes[0], "0");
    assert_string_equal(s.classes[1], "1");
    assert_string_equal(s.classes[2], "2");
    char *json = mw_signature_to_json(&s);
    assert_string_equal(json,
                        "{\"inputs\":[{\"name\":\"amount\",\"type\":\"double\",\"required\":true},"
                        "{\"name\":\"country\",\"type\":\"string\",\"required\":false},"
                        "{\"name\":\"n\",\"type\":\"long\",\"required\":false}],"
                        "\"outputs\":[{\"name\":\"0\",\"type\":\"long\",\"required\":true}],"
                        "\"classes\":[\"0\",\"1\",\"2\"]}");
    /* the normalised form parses back to itself */
    mw_signature again;
    parse_ok(json, &again);
    char *json2 = mw_signature_to_json(&again);
    assert_string_equal(json, json2);
    free(json);
    free(json2);
    mw_signature_free(&again);
    mw_signature_free(&s);
    mw_signature_free(&s); /* safe twice */

    /* MLflow's MLmodel form: the column specs as strings; params ignored */
    parse_ok("{\"inputs\": \"[{\\\"name\\\": \\\"x\\\", \\\"type\\\": \\\"integer\\\"}]\","
             " \"outputs\": \"[{\\\"type\\\": \\\"double\\\", \\\"required\\\": true}]\","
             " \"params\": null}",
             &s);
    assert_int_equal(s.ninputs, 1);
    assert_int_equal(s.inputs[0].type, MW_SIG_INTEGER);
    assert_int_equal(s.outputs[0].type, MW_SIG_DOUBLE);
    assert_int_equal(s.has_classes, 0);
    mw_signature_free(&s);
}

static void test_parse_errors(void **state) {
    (void)state;
    parse_fails("{\"inputs\": [", MW_EPARSE, "sig.json:1:");
    parse_fails("[]", MW_EINVAL, "expected an object");
    parse_fails("{\"inputs\": [], \"outputs\": []}", MW_EINVAL, "\"inputs\" has no columns");
    parse_fails("{\"outputs\": [{\"type\": \"long\"}]}", MW_EINVAL, "\"inputs\" has no columns");
    parse_fails("{\"inputs\": [{\"name\": \"x\", \"type\": \"double\"}], \"colour\": 1}", MW_EINVAL,
                "unknown key \"colour\"");
    parse_fails("{\"inputs\": {\"x\": \"double\"}}", MW_EINVAL, "inputs: expected an array");
    parse_fails("{\"inputs\": \"[{\\\"name\\\": \"}", MW_EPARSE,
                "inputs: the column specs are not JSON");
    parse_fails("{\"inputs\": [3]}", MW_EINVAL, "inputs[0]: expected an object");
    parse_fails("{\"inputs\": [{\"name\": \"x\"}]}", MW_EINVAL,
                "inputs[0] \"x\": \"type\" must be");
    parse_fails("{\"inputs\": [{\"name\": \"x\", \"type\": \"decimal\"}]}", MW_EINVAL,
                "unknown type \"decimal\"");
    parse_fails("{\"inputs\": [{\"name\": \"x\", \"type\": \"array\", \"items\": {}}]}", MW_EINVAL,
                "array, object, map and any are not supported");
    parse_fails("{\"inputs\": [{\"name\": \"x\", \"type\": {\"type\": \"array\"}}]}", MW_EINVAL,
                "composite types are not supported");
    parse_fails("{\"inputs\": [{\"name\": \"img\", \"type\": \"tensor\", \"tensor-spec\": "
                "{\"dtype\": \"float32\", \"shape\": [-1, 28, 28]}}]}",
                MW_EINVAL, "inputs[0] \"img\": tensor specs are not supported");
    parse_fails("{\"inputs\": [{\"name\": \"\", \"type\": \"long\"}]}", MW_EINVAL,
                "\"name\" must be non-empty");
    parse_fails("{\"inputs\": [{\"name\": \"x\", \"type\": \"long\"}, {\"name\": \"x\", \"type\": "
                "\"double\"}]}",
                MW_EINVAL, "inputs[1]: column \"x\" appears twice");
    parse_fails("{\"inputs\": [{\"name\": \"x\", \"type\": \"long\"}, {\"type\": \"double\"}]}",
                MW_EINVAL, "named and unnamed columns are mixed");
    parse_fails("{\"inputs\": [{\"name\": \"x\", \"type\": \"long\", \"required\": \"yes\"}]}",
                MW_EINVAL, "must be true or false");
    parse_fails("{\"inputs\": [{\"name\": \"x\", \"type\": \"long\", \"required\": true, "
                "\"optional\": true}]}",
                MW_EINVAL, "contradict");
    parse_fails("{\"inputs\": [{\"name\": \"x\", \"type\": \"long\"}], \"classes\": \"a,b\"}",
                MW_EINVAL, "classes: expected an array");
    parse_fails("{\"inputs\": [{\"name\": \"x\", \"type\": \"long\"}], \"classes\": [\"a\", {}]}",
                MW_EINVAL, "classes[1]: expected text or a number");
    parse_fails("{\"inputs\": [{\"name\": \"x\", \"type\": \"long\"}], \"classes\": [1, \"1\"]}",
                MW_EINVAL, "classes[1]: class \"1\" appears twice");
    parse_fails("{\"inputs\": [{\"name\": \"x\", \"type\": \"long\"}], \"outputs\": "
                "[{\"type\": \"tensor\"}]}",
                MW_EINVAL, "outputs[0]: tensor specs");
}

/* MLflow's widening table: rows `from`, columns `to`, 1 where a value of type
 * from is accepted for type to (same type included). */
static void test_widening_table(void **state) {
    (void)state;
    static const int want[MW_SIG_NTYPES][MW_SIG_NTYPES] = {
        /*            bool int long float double string binary datetime */
        /* boolean */ {1, 0, 0, 0, 0, 0, 0, 0},
        /* integer */ {0, 1, 1, 0, 1, 0, 0, 0},
        /* long    */ {0, 0, 1, 0, 0, 0, 0, 0},
        /* float   */ {0, 0, 0, 1, 1, 0, 0, 0},
        /* double  */ {0, 0, 0, 0, 1, 0, 0, 0},
        /* string  */ {0, 0, 0, 0, 0, 1, 0, 0},
        /* binary  */ {0, 0, 0, 0, 0, 0, 1, 0},
        /* datetime*/ {0, 0, 0, 0, 0, 0, 0, 1},
    };
    for (int a = 0; a < MW_SIG_NTYPES; a++)
        for (int b = 0; b < MW_SIG_NTYPES; b++)
            if (mw_sig_widens((mw_sig_type)a, (mw_sig_type)b) != want[a][b])
                fail_msg("%s -> %s: got %d", mw_sig_type_name((mw_sig_type)a),
                         mw_sig_type_name((mw_sig_type)b), !want[a][b]);
    for (int t = 0; t < MW_SIG_NTYPES; t++)
        assert_int_equal(mw_sig_type_parse(mw_sig_type_name((mw_sig_type)t)), t);
    assert_int_equal(mw_sig_type_parse("int"), -1);
}

/* Compares two one-side signatures; expects exactly one change of kind k. */
static void one_change(const char *old_json, const char *new_json, mw_compat_kind k, int breaking,
                       const char *field, const char *msg) {
    mw_signature a, b;
    parse_ok(old_json, &a);
    parse_ok(new_json, &b);
    mw_compat_report r;
    assert_int_equal(mw_signature_compat(&a, &b, &r), MW_OK);
    if (r.n != 1 || r.changes[0].kind != k)
        fail_msg("%s -> %s: %zu changes, first %s, want %s", old_json, new_json, r.n,
                 r.n ? mw_compat_kind_name(r.changes[0].kind) : "-", mw_compat_kind_name(k));
    assert_int_equal(r.changes[0].breaking, breaking);
    assert_int_equal(r.breaking, breaking);
    assert_int_equal(mw_compat_kind_breaking(k), breaking);
    assert_string_equal(r.changes[0].field, field);
    if (!strstr(r.changes[0].message, msg))
        fail_msg("message \"%s\" lacks \"%s\"", r.changes[0].message, msg);
    mw_compat_report_free(&r);
    mw_signature_free(&a);
    mw_signature_free(&b);
}

#define IN1(t, req) "{\"inputs\": [{\"name\": \"x\", \"type\": \"" t "\", \"required\": " req "}]}"
#define BASE "{\"name\": \"a\", \"type\": \"double\"}"
#define OUT1(t, req)                                                                               \
    "{\"inputs\": [" BASE "], \"outputs\": [{\"name\": \"y\", \"type\": \"" t                      \
    "\", \"required\": " req "}]}"

static void test_compat_rules(void **state) {
    (void)state;
    /* identical: no changes */
    mw_signature a, b;
    parse_ok(IN1("long", "true"), &a);
    parse_ok(IN1("long", "true"), &b);
    mw_compat_report r;
    assert_int_equal(mw_signature_compat(&a, &b, &r), MW_OK);
    assert_int_equal(r.n, 0);
    assert_int_equal(r.breaking, 0);
    mw_compat_report_free(&r);
    mw_signature_free(&a);
    mw_signature_free(&b);

    /* inputs */
    one_change("{\"inputs\": [" BASE "]}",
               "{\"inputs\": [" BASE ", {\"name\": \"b\", \"type\": \"string\", \"required\": "
               "false}]}",
               MW_CHANGE_INPUT_ADDED_OPTIONAL, 0, "b", "new optional input \"b\" (string)");
    one_change("{\"inputs\": [" BASE "]}",
               "{\"inputs\": [" BASE ", {\"name\": \"b\", \"type\": \"string\"}]}",
               MW_CHANGE_INPUT_ADDED_REQUIRED, 1, "b", "new required input \"b\"");
    one_change("{\"inputs\": [" BASE ", {\"name\": \"b\", \"type\": \"string\", \"required\": "
               "false}]}",
               "{\"inputs\": [" BASE "]}", MW_CHANGE_INPUT_REMOVED, 1, "b",
               "input \"b\" (string) was removed");
    one_change(IN1("long", "false"), IN1("long", "true"), MW_CHANGE_INPUT_NOW_REQUIRED, 1, "x",
               "optional -> required");
    one_change(IN1("long", "true"), IN1("long", "false"), MW_CHANGE_INPUT_NOW_OPTIONAL, 0, "x",
               "required -> optional");
    /* every type pair on an input: widened exactly where MLflow widens */
    for (int t1 = 0; t1 < MW_SIG_NTYPES; t1++)
        for (int t2 = 0; t2 < MW_SIG_NTYPES; t2++) {
            if (t1 == t2) continue;
            char o[128], n[128], msg[64];
            snprintf(o, sizeof o, "{\"inputs\": [{\"name\": \"x\", \"type\": \"%s\"}]}",
                     mw_sig_type_name((mw_sig_type)t1));
            snprintf(n, sizeof n, "{\"inputs\": [{\"name\": \"x\", \"type\": \"%s\"}]}",
                     mw_sig_type_name((mw_sig_type)t2));
            snprintf(msg, sizeof msg, "%s -> %s", mw_sig_type_name((mw_sig_type)t1),
                     mw_sig_type_name((mw_sig_type)t2));
            int w = mw_sig_widens((mw_sig_type)t1, (mw_sig_type)t2);
            one_change(o, n, w ? MW_CHANGE_INPUT_TYPE_WIDENED : MW_CHANGE_INPUT_TYPE_CHANGED, !w,
                       "x", msg);
        }
    /* the named cases of the issue */
    one_change(IN1("integer", "true"), IN1("double", "true"), MW_CHANGE_INPUT_TYPE_WIDENED, 0, "x",
               "integer -> double (widened");
    one_change(IN1("double", "true"), IN1("integer", "true"), MW_CHANGE_INPUT_TYPE_CHANGED, 1, "x",
               "double -> integer (narrowed");
    one_change(IN1("long", "true"), IN1("double", "true"), MW_CHANGE_INPUT_TYPE_CHANGED, 1, "x",
               "long -> double");
    one_change(IN1("string", "true"), IN1("long", "true"), MW_CHANGE_INPUT_TYPE_CHANGED, 1, "x",
               "string -> long");

    /* outputs: the rule runs from new to old */
    one_change("{\"inputs\": [" BASE "]}", OUT1("long", "true"), MW_CHANGE_OUTPUT_ADDED, 0, "y",
               "new output \"y\" (long)");
    one_change(OUT1("long", "true"), "{\"inputs\": [" BASE "]}", MW_CHANGE_OUTPUT_REMOVED, 1, "y",
               "output \"y\" (long) was removed");
    one_change(OUT1("long", "true"), OUT1("long", "false"), MW_CHANGE_OUTPUT_NOW_OPTIONAL, 1, "y",
               "required -> optional");
    one_change(OUT1("long", "false"), OUT1("long", "true"), MW_CHANGE_OUTPUT_NOW_REQUIRED, 0, "y",
               "optional -> required");
    one_change(OUT1("double", "true"), OUT1("integer", "true"), MW_CHANGE_OUTPUT_TYPE_NARROWED, 0,
               "y", "double -> integer");
    one_change(OUT1("float", "true"), OUT1("double", "true"), MW_CHANGE_OUTPUT_TYPE_CHANGED, 1, "y",
               "float -> double");
    one_change(OUT1("long", "true"), OUT1("string", "true"), MW_CHANGE_OUTPUT_TYPE_CHANGED, 1, "y",
               "long -> string");
}

#define CL(c) "{\"inputs\": [" BASE "], \"classes\": " c "}"

/* Class sets: reordering is no change; anything else breaks. */
static void test_compat_classes(void **state) {
    (void)state;
    mw_signature a, b;
    parse_ok(CL("[\"a\", \"b\"]"), &a);
    parse_ok(CL("[\"b\", \"a\"]"), &b);
    mw_compat_report r;
    assert_int_equal(mw_signature_compat(&a, &b, &r), MW_OK);
    assert_int_equal(r.n, 0);
    mw_compat_report_free(&r);
    mw_signature_free(&a);
    mw_signature_free(&b);
    one_change(CL("[\"a\", \"b\"]"), CL("[\"a\", \"b\", \"c\"]"), MW_CHANGE_CLASSES_CHANGED, 1, "",
               "added \"c\"");
    one_change(CL("[\"a\", \"b\"]"), CL("[\"a\"]"), MW_CHANGE_CLASSES_CHANGED, 1, "",
               "removed \"b\"");
    one_change(CL("[0, 1]"), CL("[\"0\", \"2\"]"), MW_CHANGE_CLASSES_CHANGED, 1, "",
               "removed \"1\" added \"2\"");
    one_change("{\"inputs\": [" BASE "]}", CL("[1]"), MW_CHANGE_CLASSES_CHANGED, 1, "",
               "class set added");
    one_change(CL("[1]"), "{\"inputs\": [" BASE "]}", MW_CHANGE_CLASSES_CHANGED, 1, "",
               "class set removed");
}

/* Several changes at once: reported in order, breaking when any is. */
static void test_compat_many(void **state) {
    (void)state;
    mw_signature a, b;
    parse_ok("{\"inputs\": [{\"name\": \"a\", \"type\": \"integer\"}, {\"name\": \"b\", \"type\": "
             "\"string\"}], \"outputs\": [{\"name\": \"y\", \"type\": \"long\"}]}",
             &a);
    parse_ok("{\"inputs\": [{\"name\": \"a\", \"type\": \"long\", \"required\": false}, {\"name\": "
             "\"c\", \"type\": \"double\", \"required\": false}], \"outputs\": [{\"name\": \"y\", "
             "\"type\": \"long\"}, {\"name\": \"p\", \"type\": \"double\"}]}",
             &b);
    mw_compat_report r;
    assert_int_equal(mw_signature_compat(&a, &b, &r), MW_OK);
    assert_int_equal(r.n, 5);
    assert_int_equal(r.changes[0].kind, MW_CHANGE_INPUT_TYPE_WIDENED);
    assert_int_equal(r.changes[1].kind, MW_CHANGE_INPUT_NOW_OPTIONAL);
    assert_int_equal(r.changes[2].kind, MW_CHANGE_INPUT_REMOVED);
    assert_string_equal(r.changes[2].field, "b");
    assert_int_equal(r.changes[3].kind, MW_CHANGE_INPUT_ADDED_OPTIONAL);
    assert_int_equal(r.changes[4].kind, MW_CHANGE_OUTPUT_ADDED);
    assert_int_equal(r.breaking, 1);
    mw_compat_report_free(&r);
    /* the other way round is breaking in other ways */
    assert_int_equal(mw_signature_compat(&b, &a, &r), MW_OK);
    assert_int_equal(r.breaking, 1);
    mw_compat_report_free(&r);
    mw_signature_free(&a);
    mw_signature_free(&b);
}

static mw_feature num(const char *name, double v) {
    return (mw_feature){
        .name = name, .name_len = strlen(name), .kind = MW_VALUE_NUMBER, .number = v};
}
static mw_feature str(const char *name, const char *v) {
    return (mw_feature){.name = name,
                        .name_len = strlen(name),
                        .kind = MW_VALUE_STRING,
                        .str = v,
                        .str_len = strlen(v)};
}

static void test_check_records(void **state) {
    (void)state;
    mw_signature s;
    parse_ok("{\"inputs\": [{\"name\": \"n\", \"type\": \"integer\"},"
             " {\"name\": \"l\", \"type\": \"long\"}, {\"name\": \"d\", \"type\": \"double\"},"
             " {\"name\": \"b\", \"type\": \"boolean\"}, {\"name\": \"s\", \"type\": \"string\"},"
             " {\"name\": \"t\", \"type\": \"datetime\", \"required\": false}],"
             " \"classes\": [\"0\", \"1\"]}",
             &s);
    size_t slots = mw_signature_slots(&s);
    assert_int_equal(slots, 7 * MW_SIG_REASONS);
    uint64_t *c = calloc(slots, sizeof *c);
    /* a good record */
    mw_feature good[] = {num("n", 3),      num("l", 5e15), num("d", 0.5),
                         str("b", "true"), str("s", "x"),  num("extra", 1)};
    mw_record rec = {.features = good, .nfeatures = 6, .prediction = num("", 1)};
    assert_int_equal(mw_signature_check(&s, &rec, c), 0);
    /* wrong types everywhere, a class not in the set */
    mw_feature bad[] = {
        num("n", 3e9),   num("l", 1.5),
        str("d", "0.5"), str("b", "yes"),
        num("s", 1),     (mw_feature){.name = "t", .name_len = 1, .kind = MW_VALUE_MISSING}};
    rec = (mw_record){.features = bad, .nfeatures = 6, .prediction = str("", "2")};
    assert_int_equal(mw_signature_check(&s, &rec, c), 6);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(c[i * MW_SIG_REASONS + MW_SIG_TYPE], 1);
    assert_int_equal(c[5 * MW_SIG_REASONS + MW_SIG_MISSING], 0); /* t is optional */
    assert_int_equal(c[6 * MW_SIG_REASONS + MW_SIG_CLASS], 1);
    /* missing required inputs: absent or null */
    mw_feature few[] = {(mw_feature){.name = "n", .name_len = 1, .kind = MW_VALUE_MISSING}};
    rec = (mw_record){.features = few, .nfeatures = 1};
    assert_int_equal(mw_signature_check(&s, &rec, c), 5);
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(c[i * MW_SIG_REASONS + MW_SIG_MISSING], 1);
    assert_string_equal(mw_sig_reason_name(MW_SIG_MISSING), "missing");
    assert_string_equal(mw_sig_reason_name(MW_SIG_TYPE), "type");
    assert_string_equal(mw_sig_reason_name(MW_SIG_CLASS), "class");
    free(c);
    mw_signature_free(&s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),          cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_widening_table), cmocka_unit_test(test_compat_rules),
        cmocka_unit_test(test_compat_classes), cmocka_unit_test(test_compat_many),
        cmocka_unit_test(test_check_records),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
