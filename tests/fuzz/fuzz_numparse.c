/*
 * libFuzzer target: mw_parse_double against strtod. Whenever mw_parse_double
 * accepts the input, strtod (C locale) must consume the same trimmed text and
 * give the identical bits; mw_format_double must round-trip the value. The CSV
 * reader's whole-field parses (the portable one and, where the CPU has SSSE3,
 * the vector one, with the field 0 to 39 bytes after the buffer start) must
 * agree with the scanner on every input, with readable bytes after it (digits,
 * as a worst case) and without.
 */
#include "modelwatch/data.h"
#include "data/data_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size > 4096) return 0;
    char pad[40 + 4096 + 40];
    size_t lead = size ? data[0] % 40 : 0; /* bytes before the field in the buffer */
    char *field = pad + 40;
    memset(pad, '5', 40);
    memcpy(field, data, size);
    memset(field + size, '7', 40);
    for (int padded = 0; padded < 2; padded++) {
        double f = 0, g = 0, h = 0;
        const char *end = field + size, *limit = padded ? end + 40 : end;
        int fok = mw_data_parse_field(field, end, limit, &f);
        int gok = mw_data_parse_number(field, end, &g) == end;
        if (fok != gok || (fok && memcmp(&f, &g, sizeof f) != 0)) abort();
        if (mw_data_parse_field_ssse3 && mw_data_field_parser_best() == mw_data_parse_field_ssse3) {
            int hok = mw_data_parse_field_ssse3(field - lead, field, end, limit, &h);
            if (hok != gok || (hok && memcmp(&h, &g, sizeof h) != 0)) abort();
        }
    }
    double v;
    int ok = mw_parse_double((const char *)data, size, &v);
    if (!ok) return 0;
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    if (strlen(s) != size) abort(); /* accepted text with a NUL inside */
    char *end;
    double ref = strtod(s, &end);
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r' || *end == '\f' ||
           *end == '\v')
        end++;
    if (*end != 0) abort(); /* we accepted more than strtod */
    if (memcmp(&ref, &v, sizeof v) != 0) abort();
    char buf[32];
    size_t n = mw_format_double(v, buf);
    double back;
    if (!mw_parse_double(buf, n, &back) || memcmp(&back, &v, sizeof v) != 0) abort();
    free(s);
    return 0;
}
