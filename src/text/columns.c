/*
 * Text descriptors as columns (text.h): the names of the derived columns
 * "X.<descriptor>" that a text column X expands into, in one fixed order, and
 * each descriptor's value as a number. The batch readers (src/data/text_cols.c)
 * and the daemon (src/monitor/text_live.c) both go through this list, so a
 * reference file and live records give columns of the same names and meaning.
 */
#include "text/text_int.h"

#include <math.h>
#include <string.h>

const char *const mw_text_descriptor_names[MW_TEXT_NDESC] = {
    "chars",  "bytes", "words", "empty", "invalid_utf8", "non_ascii", "script",    "emails",
    "phones", "cards", "ips",   "urls",  "repetition",   "refusal",   "json_valid"};

double mw_text_descriptor_value(const mw_text_descriptors *d, size_t i) {
    switch (i) {
    case 0:
        return (double)d->chars;
    case 1:
        return (double)d->bytes;
    case 2:
        return (double)d->words;
    case 3:
        return d->empty;
    case 4:
        return d->invalid_utf8;
    case 5:
        return d->non_ascii;
    case 7:
        return d->emails;
    case 8:
        return d->phones;
    case 9:
        return d->cards;
    case 10:
        return d->ips;
    case 11:
        return d->urls;
    case 12:
        return d->repetition;
    case 13:
        return d->refusal;
    case 14:
        return d->json_valid;
    default: /* the script is categorical */
        return NAN;
    }
}

int mw_text_descriptor_find(const char *s, size_t len) {
    for (int i = 0; i < MW_TEXT_NDESC; i++)
        if (strlen(mw_text_descriptor_names[i]) == len &&
            !memcmp(mw_text_descriptor_names[i], s, len))
            return i;
    return -1;
}
