/*
 * Internals of the text descriptors (include/modelwatch/text.h): the scans
 * for personal data (pii.c) and the JSON check (json_check.c) that
 * describe.c calls after its pass over characters and words.
 */
#ifndef MW_TEXT_INT_H
#define MW_TEXT_INT_H

#include "modelwatch/text.h"

/* Fills emails, urls, ips, cards and phones of out. */
void mw_text_scan_pii(const unsigned char *s, size_t len, mw_text_descriptors *out);

/* The personal data that redaction removes (URLs are not among them). */
typedef enum mw_pii_kind { MW_PII_EMAIL, MW_PII_PHONE, MW_PII_CARD, MW_PII_IP } mw_pii_kind;
typedef void (*mw_pii_fn)(mw_pii_kind kind, size_t start, size_t end, void *ctx);
/* Calls fn for every e-mail address, then every IPv4 address, card and phone
 * number of s (the matches mw_text_scan_pii counts), with its byte span. */
void mw_text_each_pii(const unsigned char *s, size_t len, mw_pii_fn fn, void *ctx);

/* Decodes one UTF-8 character at p (p < end) under RFC 3629; *cp gets it.
 * Returns its length, or 0 for an invalid sequence (describe.c). */
size_t mw_text_decode(const unsigned char *p, const unsigned char *end, uint32_t *cp);

static inline int mw_text_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}
static inline int mw_text_alpha(unsigned char c) {
    return (unsigned char)((c | 0x20) - 'a') < 26;
}

#endif
