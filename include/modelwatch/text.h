/*
 * modelwatch text: descriptors of a text value (a prompt, a completion, any
 * free-text column), so that text is monitored like numbers: each descriptor
 * becomes a numeric (or categorical) value that profiles, drift tests and
 * quality checks take as they take any feature.
 *
 * Definitions (exact, so that another implementation gives the same numbers):
 *  chars        code points; each byte of an invalid UTF-8 sequence counts as one
 *  bytes        the length in bytes
 *  words        maximal runs of characters other than whitespace (ASCII space,
 *               \t \n \v \f \r, U+00A0, U+2000..U+200A, U+2028, U+2029, U+3000)
 *  empty        1 when there is no character other than whitespace
 *  invalid_utf8 1 when the bytes are not valid UTF-8 (RFC 3629: no overlongs,
 *               surrogates or code points past U+10FFFF)
 *  non_ascii    share of chars above U+007F (0 for an empty text)
 *  script       the script of most letters (ties: the first in mw_script
 *               order): latin (A-Z a-z, U+00C0..U+024F, U+1E00..U+1EFF),
 *               greek (U+0370..U+03FF), cyrillic (U+0400..U+052F), hebrew
 *               (U+0590..U+05FF), arabic (U+0600..U+06FF, U+0750..U+077F),
 *               devanagari (U+0900..U+097F), thai (U+0E00..U+0E7F), hangul
 *               (U+1100..U+11FF, U+AC00..U+D7AF), cjk (U+3040..U+30FF kana,
 *               U+3400..U+4DBF, U+4E00..U+9FFF); none without letters
 *  emails       non-overlapping leftmost matches of
 *               [A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}
 *  urls         non-overlapping matches of https?://\S+ or www\.\S+ (ASCII
 *               whitespace ends a URL)
 *  ips          IPv4 addresses: four groups of 1-3 digits joined by dots, each
 *               at most 255, not preceded by a digit or a dot, not followed by
 *               a digit or by a dot and a digit
 *  cards        maximal digit runs (digits with single spaces or hyphens
 *               between them, not preceded by a digit) of 13 to 19 digits
 *               that pass the Luhn check
 *  phones       maximal runs that start with "+" or a digit (not preceded by a
 *               letter, digit or dot), of digits with up to two separators
 *               from " .-()" between digits, holding 10 to 15 digits, that
 *               are neither a card nor an IPv4 address
 *  repetition   share of word trigrams that repeat an earlier trigram of the
 *               same text (words compared with ASCII letters lower-cased): 0
 *               for fewer than 3 words; degenerate looping output nears 1
 *  refusal      1 when a refusal phrase occurs (ASCII case-insensitive, at a
 *               word start); defaults in mw_text_default_refusals
 *  json_valid   1 when the text, without surrounding whitespace, is one JSON
 *               object or array (RFC 8259)
 *
 * Cost: one pass for the characters, words and trigrams, and cheap scans
 * for '@', "://", "www." and digits; no allocation for texts under 16 KiB
 * (trigram sets beyond that are malloc'd; on allocation failure repetition is
 * NaN). Any bytes are accepted, of any length.
 */
#ifndef MODELWATCH_TEXT_H
#define MODELWATCH_TEXT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum mw_script {
    MW_SCRIPT_NONE = 0,
    MW_SCRIPT_LATIN,
    MW_SCRIPT_GREEK,
    MW_SCRIPT_CYRILLIC,
    MW_SCRIPT_HEBREW,
    MW_SCRIPT_ARABIC,
    MW_SCRIPT_DEVANAGARI,
    MW_SCRIPT_THAI,
    MW_SCRIPT_HANGUL,
    MW_SCRIPT_CJK,
    MW_SCRIPT_COUNT
} mw_script;

/* "none", "latin", "greek", ... */
const char *mw_script_name(mw_script s);

typedef struct mw_text_descriptors {
    uint64_t chars, bytes, words;
    int empty, invalid_utf8, refusal, json_valid;
    double non_ascii;
    mw_script script;
    uint32_t emails, urls, ips, cards, phones;
    double repetition;
} mw_text_descriptors;

typedef struct mw_text_options {
    const char *const *refusals; /* lower-case ASCII phrases; NULL = the defaults */
    size_t nrefusals;
} mw_text_options;

extern const char *const mw_text_default_refusals[];
extern const size_t mw_text_default_nrefusals;

/* Describes len bytes at s (opt may be NULL). */
void mw_text_describe(const char *s, size_t len, const mw_text_options *opt,
                      mw_text_descriptors *out);

/* 1 when s[0..len) is one JSON value (RFC 8259), whitespace around allowed. */
int mw_text_is_json(const char *s, size_t len);

/* ---- descriptors as columns (columns.c) ---------------------------------------
 *
 * A text column X is monitored through MW_TEXT_NDESC derived columns named
 * "X.<descriptor>" in this order: chars, bytes, words, empty, invalid_utf8,
 * non_ascii, script, emails, phones, cards, ips, urls, repetition, refusal,
 * json_valid. All are numeric except script (categorical: mw_script_name).
 */
#define MW_TEXT_NDESC 15
#define MW_TEXT_DESC_SCRIPT 6 /* the categorical one */
extern const char *const mw_text_descriptor_names[MW_TEXT_NDESC];
/* Value of descriptor i (not MW_TEXT_DESC_SCRIPT) of d. */
double mw_text_descriptor_value(const mw_text_descriptors *d, size_t i);
/* Index of the descriptor named s[0..len) ("chars"), or -1. */
int mw_text_descriptor_find(const char *s, size_t len);

/* ---- redaction (redact.c) -------------------------------------------------------
 *
 * Replaces every e-mail address, phone number, card number and IPv4 address
 * (the matches counted by mw_text_describe, same definitions) with the tokens
 * [EMAIL], [PHONE], [CARD] and [IP]; overlapping matches become one token (the
 * first's). Bytes that are not valid UTF-8 become U+FFFD, so the result is
 * always valid UTF-8. Writes at most cap - 1 bytes and a NUL to out (cut at a
 * character boundary, never inside a token) and returns the length written;
 * *truncated (may be NULL) says whether the text was cut.
 */
size_t mw_text_redact(const char *s, size_t len, char *out, size_t cap, int *truncated);

#ifdef __cplusplus
}
#endif
#endif
