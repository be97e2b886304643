/*
 * libFuzzer target: mw_parse_double against strtod. Whenever mw_parse_double
 * accepts the input, strtod (C locale) must consume the same trimmed text and
 * give the identical bits; mw_format_double must round-trip the value. The CSV
 * reader's whole-field parse must agree with the scanner on every input, with
 * readable bytes after it (digits, as a worst case) and without.
 */
#include "modelwatch/data.h"
#include "data/data_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size > 4096) return 0;
    char pad[4096 + 40];
    memcpy(pad, data, size);
    memset(pad + size, '7', 40);
    for (int padded = 0; padded < 2; padded++) {
        double f = 0, g = 0;
        const char *end = pad + size;
        int fok = mw_data_parse_field(pad, end, padded ? end + 40 : end, &f);
        int gok = mw_data_parse_number(pad, end, &g) == end;
        if (fok != gok || (fok && memcmp(&f, &g, sizeof f) != 0)) abort();
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
