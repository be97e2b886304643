/*
 * Helpers shared by the alert module's files (samples.c, expr.c, expr_eval.c);
 * not part of the public interface.
 */
#ifndef MW_ALERT_INT_H
#define MW_ALERT_INT_H

#include <stddef.h>

/* Room for mw_alert_quote's output. */
#define MW_ALERT_QUOTE_MAX 128

/*
 * Writes s[0..n) as a double-quoted C-style string for an error message's
 * "found ..." part: `"` and `\` escaped, bytes outside printable ASCII as
 * \xNN, and at most 24 source bytes (then "..." after the closing quote).
 * out must hold MW_ALERT_QUOTE_MAX bytes; returns out.
 */
const char *mw_alert_quote(char *out, const char *s, size_t n);

/* A malloc'd NUL-terminated copy of s[0..n), or NULL. */
char *mw_alert_dup_n(const char *s, size_t n);

#endif
