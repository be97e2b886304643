/*
 * Text descriptors (text.h), case by case against the definitions: characters,
 * bytes and words over ASCII, multi-byte and invalid UTF-8; whitespace-only
 * text; scripts; each personal-data pattern with its edges (dots, Luhn,
 * separators, overlaps); the repetition score of looping output; refusals
 * (case, curly apostrophe, word start); JSON validity. The pass reads 16
 * bytes at a time where it can: every case is also checked at each of the 16
 * alignments (leading spaces, which change nothing but the counts of
 * characters), over fragments that stress the chunk edges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "modelwatch/text.h"

static mw_text_descriptors d(const char *s) {
    mw_text_descriptors out;
    mw_text_describe(s, strlen(s), NULL, &out);
    return out;
}

static void test_lengths_and_words(void **state) {
    (void)state;
    mw_text_descriptors x = d("Hello, wörld!  二つ\tlines\n");
    assert_int_equal(x.bytes, strlen("Hello, wörld!  二つ\tlines\n"));
    assert_int_equal(x.chars, 24);
    assert_int_equal(x.words, 4);
    assert_false(x.empty);
    assert_false(x.invalid_utf8);
    assert_true(fabs(x.non_ascii - 3.0 / 24.0) < 1e-15);
    x = d(" \t\n\xC2\xA0\xE3\x80\x80"); /* ASCII spaces, NBSP, ideographic space */
    assert_true(x.empty);
    assert_int_equal(x.words, 0);
    assert_int_equal(x.chars, 5);
    x = d("");
    assert_true(x.empty && x.chars == 0 && x.non_ascii == 0 && x.script == MW_SCRIPT_NONE);
    x = d("ok \xC3\x28 \xED\xA0\x80 \xF4\x90\x80\x80 \xC0\xAF"); /* bad: truncated, surrogate, >10FFFF, overlong */
    assert_true(x.invalid_utf8);
    assert_int_equal(x.words, 5);
    assert_int_equal(x.chars, 3 + 2 + 1 + 3 + 1 + 4 + 1 + 2);
}

static void test_scripts(void **state) {
    (void)state;
    assert_int_equal(d("Bonjour à tous").script, MW_SCRIPT_LATIN);
    assert_int_equal(d("Привет, мир! OK").script, MW_SCRIPT_CYRILLIC);
    assert_int_equal(d("これは日本語です abc").script, MW_SCRIPT_CJK);
    assert_int_equal(d("مرحبا بالعالم").script, MW_SCRIPT_ARABIC);
    assert_int_equal(d("안녕하세요").script, MW_SCRIPT_HANGUL);
    assert_int_equal(d("Καλημέρα").script, MW_SCRIPT_GREEK);
    assert_int_equal(d("12345 !!! ...").script, MW_SCRIPT_NONE);
    assert_int_equal(d("ab аб").script, MW_SCRIPT_LATIN); /* a tie: the first in order */
    assert_string_equal(mw_script_name(MW_SCRIPT_CJK), "cjk");
}

static void test_emails_and_urls(void **state) {
    (void)state;
    assert_int_equal(d("write to a.b+c@example.co.uk or x@y.io.").emails, 2);
    assert_int_equal(d("a@b.c, @example.com, me@localhost, x@1.23").emails, 0);
    assert_int_equal(d("a@b.com1 and c@d.museum").emails, 2);
    assert_int_equal(d("a@b@c.org").emails, 1); /* b@c.org */
    assert_int_equal(d("see https://x.org/a?b=1, http://y and www.z.com; not http:// or www.").urls, 3);
    assert_int_equal(d("https://a.com/https://b.com").urls, 1);
}

static void test_numbers(void **state) {
    (void)state;
    mw_text_descriptors x = d("server 10.0.0.1, mask 255.255.255.0. Not 256.1.1.1 nor 1.2.3.4.5");
    assert_int_equal(x.ips, 2);
    x = d("card 4111 1111 1111 1111 and 4111-1111-1111-1112 and 378282246310005");
    assert_int_equal(x.cards, 2); /* the second fails Luhn */
    x = d("call +1 (555) 123-4567 or 030 1234 5678, not 12345 or 555-1234");
    assert_int_equal(x.phones, 2);
    assert_int_equal(x.cards, 0);
    x = d("order 4111111111111111 shipped");
    assert_int_equal(x.cards, 1);
    assert_int_equal(x.phones, 0); /* 16 digits, and a card */
    x = d("id A1234567890 and 12345678901234567890123");
    assert_int_equal(x.phones + x.cards, 0); /* after a letter; too long */
}

static void test_repetition(void **state) {
    (void)state;
    assert_true(d("the cat sat on the mat").repetition == 0);
    assert_true(d("one two").repetition == 0);
    /* "a b c a b c a b c": 7 trigrams, 4 repeat an earlier one */
    assert_true(fabs(d("a b c a b c a b c").repetition - 4.0 / 7.0) < 1e-15);
    assert_true(fabs(d("Loop loop LOOP loop").repetition - 1.0 / 2.0) < 1e-15); /* case-folded */
    /* a long looping completion: most trigrams repeat (and the set grows past the stack) */
    size_t n = 200000;
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++) s[i] = "I will help. "[i % 13];
    s[n] = 0;
    mw_text_descriptors x = d(s);
    assert_true(x.repetition > 0.99);
    uint64_t r = 88172645463325252ULL; /* random 5-letter words: nothing repeats */
    for (size_t i = 0; i < n; i++) {
        r ^= r << 13, r ^= r >> 7, r ^= r << 17;
        s[i] = i % 6 == 5 ? ' ' : (char)('a' + r % 26);
    }
    x = d(s);
    assert_true(x.repetition < 0.001);
    free(s);
}

static void test_refusals(void **state) {
    (void)state;
    assert_true(d("I'm sorry, but I can't help with that.").refusal);
    assert_true(d("i’m sorry").refusal); /* curly apostrophe */
    assert_true(d("Unfortunately, AS AN AI model ...").refusal);
    assert_false(d("Sure! Here it is.").refusal);
    assert_false(d("Xi cannot").refusal); /* not at a word start */
    const char *mine[] = {"nope"};
    mw_text_options o = {mine, 1};
    mw_text_descriptors x;
    mw_text_describe("NOPE.", 5, &o, &x);
    assert_true(x.refusal);
    mw_text_describe("I cannot", 8, &o, &x);
    assert_false(x.refusal);
    /* phrases shorter than four bytes, and at the very end of the text */
    const char *short_ones[] = {"no", "ok'"};
    mw_text_options so = {short_ones, 2};
    mw_text_describe("well NO", 7, &so, &x);
    assert_true(x.refusal);
    mw_text_describe("fine, ok\xE2\x80\x99", 11, &so, &x);
    assert_true(x.refusal);
    mw_text_describe("nothing", 7, &so, &x);
    assert_true(x.refusal); /* a phrase matches at a word start, not a whole word */
    mw_text_describe("yes ok", 6, &so, &x);
    assert_false(x.refusal);
    assert_true(d("so... i can\xE2\x80\x99t").refusal);
    assert_false(d("I can").refusal);
}

static void test_json(void **state) {
    (void)state;
    assert_true(d(" {\"a\": [1, -2.5e3, true, null, \"x\\u00e9\"], \"b\": {}} ").json_valid);
    assert_true(d("[]").json_valid);
    assert_false(d("{\"a\": 1,}").json_valid);
    assert_false(d("{\"a\" 1}").json_valid);
    assert_false(d("[1, 2").json_valid);
    assert_false(d("\"just a string\"").json_valid); /* an object or array only */
    assert_false(d("{} {}").json_valid);
    assert_false(d("[01]").json_valid);
    assert_true(mw_text_is_json("42", 2));
    char deep[2000];
    memset(deep, '[', 1000);
    memset(deep + 1000, ']', 1000);
    assert_false(mw_text_is_json(deep, 2000)); /* deeper than 512 */
    assert_true(mw_text_is_json(deep + 600, 800));
}

/* Descriptors of s after k leading spaces, with the spaces taken back out of
 * the counts that see them. */
static mw_text_descriptors shifted(const char *s, size_t k) {
    size_t n = strlen(s);
    char *b = malloc(n + k + 1);
    memset(b, ' ', k);
    memcpy(b + k, s, n + 1);
    mw_text_descriptors x;
    mw_text_describe(b, n + k, NULL, &x);
    free(b);
    double na = x.non_ascii * (double)x.chars;
    x.chars -= k;
    x.bytes -= k;
    x.non_ascii = x.chars ? na / (double)x.chars : 0;
    return x;
}

static void same(const mw_text_descriptors *a, const mw_text_descriptors *b, const char *what) {
    if (a->chars != b->chars || a->bytes != b->bytes || a->words != b->words ||
        a->empty != b->empty || a->invalid_utf8 != b->invalid_utf8 || a->refusal != b->refusal ||
        a->json_valid != b->json_valid || fabs(a->non_ascii - b->non_ascii) > 1e-12 ||
        a->script != b->script || a->emails != b->emails || a->urls != b->urls ||
        a->ips != b->ips || a->cards != b->cards || a->phones != b->phones ||
        !(a->repetition == b->repetition || (isnan(a->repetition) && isnan(b->repetition))))
        fail_msg("descriptors differ with the alignment of: %s", what);
}

static void test_alignments(void **state) {
    (void)state;
    static const char *const frag[] = {
        "привет мир модель ", "Größe über Straße ", "2×3÷4 ", "مرحبا بالعالم ",
        "これは 日本語 ", "I'm sorry ", "I\xE2\x80\x99m sorry ", "a\xC2\xA0" "b ",
        "x\xE3\x80\x80" "y ", "\xC3" "( ", "\xD0", "loop loop loop ", "WORD word ",
        "αβγ δεζ ", "שלום ", "jane@example.com ", "+1 555 123 4567 ", "\t\n", "abcdefghijklmnopq ",
        "Ñandú ", "ǅemal ", "ɐɑ ", "\xE2\x80\x8A", "€ ",
    };
    const size_t nf = sizeof frag / sizeof frag[0];
    unsigned seed = 12345;
    char buf[2048];
    for (int round = 0; round < 400; round++) {
        size_t len = 0;
        int parts = 1 + round % 12;
        buf[0] = 0;
        for (int k = 0; k < parts; k++) {
            seed = seed * 1103515245u + 12345u;
            const char *f = frag[(seed >> 16) % nf];
            size_t fl = strlen(f);
            if (len + fl >= sizeof buf) break;
            memcpy(buf + len, f, fl + 1);
            len += fl;
        }
        mw_text_descriptors base = shifted(buf, 0);
        for (size_t k = 1; k < 16; k++) {
            mw_text_descriptors x = shifted(buf, k);
            same(&base, &x, buf);
        }
    }
    /* known values through the 16-byte paths */
    mw_text_descriptors x = d("привет мир модель ответ данные пожалуйста");
    assert_int_equal(x.words, 6);
    assert_int_equal(x.chars, 41);
    assert_int_equal(x.script, MW_SCRIPT_CYRILLIC);
    assert_true(fabs(x.non_ascii - 36.0 / 41.0) < 1e-15);
    x = d("×××××××× ÷÷÷÷÷÷÷ ab"); /* Latin-1 signs are not letters */
    assert_int_equal(x.script, MW_SCRIPT_LATIN);
    assert_int_equal(x.words, 3);
    x = d("×××××××× ÷÷÷÷÷÷÷ ×");
    assert_int_equal(x.script, MW_SCRIPT_NONE);
    x = d("Ünïcödé wörds äöü ÄÖÜ éèê ñ and more");
    assert_int_equal(x.script, MW_SCRIPT_LATIN);
    assert_int_equal(x.words, 8);
    x = d("word\xC2\xA0word\xC2\xA0word\xC2\xA0word"); /* NBSP separates words */
    assert_int_equal(x.words, 4);
    x = d("Loop loop LOOP loop Loop loop LOOP loop"); /* a word across a 16-byte edge */
    assert_true(fabs(x.repetition - 5.0 / 6.0) < 1e-15);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lengths_and_words), cmocka_unit_test(test_scripts),
        cmocka_unit_test(test_emails_and_urls),   cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_repetition),        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_json),              cmocka_unit_test(test_alignments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
