/*
 * Missing-value tokens: pandas' default na_values (read_csv), matched exactly and
 * case-sensitively, plus the empty string. Dispatch on length first so that the
 * common case (a field that is not a token) costs one switch and at most a few
 * byte compares.
 */
#include "data/data_int.h"

static inline int eq(const char *s, const char *lit, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (s[i] != lit[i]) return 0;
    return 1;
}

int mw_is_na_token(const char *s, size_t len) {
    if (len == 0) return 1;
    switch (s[0]) { /* every token starts with one of these */
    case '#':
    case '-':
    case '1':
    case '<':
    case 'N':
    case 'n':
        break;
    default:
        return 0;
    }
    switch (len) {
    case 0:
        return 1;
    case 2:
        return eq(s, "NA", 2);
    case 3:
        return eq(s, "N/A", 3) || eq(s, "NaN", 3) || eq(s, "n/a", 3) || eq(s, "nan", 3) ||
               eq(s, "#NA", 3);
    case 4:
        return eq(s, "NULL", 4) || eq(s, "null", 4) || eq(s, "None", 4) || eq(s, "#N/A", 4) ||
               eq(s, "-NaN", 4) || eq(s, "-nan", 4) || eq(s, "<NA>", 4);
    case 6:
        return eq(s, "1.#IND", 6);
    case 7:
        return eq(s, "-1.#IND", 7) || eq(s, "1.#QNAN", 7);
    case 8:
        return eq(s, "#N/A N/A", 8) || eq(s, "-1.#QNAN", 8);
    default:
        return 0;
    }
}
