/*
 * Whole-field number parsing for the CSV reader with 16-byte vectors (SSSE3),
 * and the choice, once per process, between it and the portable
 * mw_data_parse_field (numparse.c).
 *
 * Why: converting numbers is the largest part of reading a numeric CSV (the
 * drift benchmark's files hold 20 million numbers of 16-18 characters). The
 * portable path spends ~190 instructions per such number finding the digits
 * and the dot 8 bytes at a time and combining digits in 64-bit words; here one
 * 16-byte load ending at the field's end is classified (digits, dot) in a few
 * vector instructions, the dot is squeezed out with one byte shuffle, and the
 * 16 digits are combined by two multiply-add instructions (pmaddubsw,
 * pmaddwd) and a pack.
 *
 * Shapes handled: [sign] digits [. digits], at most 20 characters after the
 * sign and 19 digits, the dot neither first nor last. The last 16 characters
 * are the vector; up to 4 characters before them (numbers of 17+ characters)
 * are read one by one. Everything else (exponents, spaces, other bytes, longer
 * numbers, a field within 16 bytes of the buffer start) goes to
 * mw_data_parse_field. The digits w and exponent q are those the scanner
 * finds and the conversion is the shared mw_data_digits_to_double, so every
 * value is the scanner's bit for bit (tests/unit/test_data_numparse.c checks
 * it on random fields at every distance from the buffer start).
 *
 * The parser itself is inline in numparse_ssse3.h (the CSV reader's fast path
 * inlines it); this file holds its out-of-line copy and the run-time choice.
 */
#include "data/numparse_ssse3.h"

int mw_data_parse_field_portable(const char *floor, const char *p, const char *end,
                                 const char *limit, double *out) {
    (void)floor;
    return mw_data_parse_field(p, end, limit, out);
}

static int vector_allowed = 1;

void mw_data_allow_vector(int allow) {
    vector_allowed = allow;
}

#if MW_DATA_HAVE_SSSE3_PARSER
SSSE3 static int parse_field_ssse3(const char *floor, const char *p, const char *end,
                                   const char *limit, double *out) {
    return mw_data_parse_field_vec(floor, p, end, limit, out);
}

const mw_data_field_parser mw_data_parse_field_ssse3 = parse_field_ssse3;

mw_data_field_parser mw_data_field_parser_best(void) {
    return vector_allowed && __builtin_cpu_supports("ssse3") ? parse_field_ssse3
                                                             : mw_data_parse_field_portable;
}
#else
const mw_data_field_parser mw_data_parse_field_ssse3 = NULL;

mw_data_field_parser mw_data_field_parser_best(void) {
    return mw_data_parse_field_portable;
}
#endif
