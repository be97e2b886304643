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

static inline int mw_text_digit(unsigned char c) {
    return c >= '0' && c <= '9';
}
static inline int mw_text_alpha(unsigned char c) {
    return (unsigned char)((c | 0x20) - 'a') < 26;
}

#endif
