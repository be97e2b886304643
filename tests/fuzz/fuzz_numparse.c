/*
 * libFuzzer target: mw_parse_double against strtod. Whenever mw_parse_double
 * accepts the input, strtod (C locale) must consume the same trimmed text and
 * give the identical bits; mw_format_double must round-trip the value.
 */
#include "modelwatch/data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size > 4096) return 0;
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
