/*
 * Status strings and the mw_error record. An error message always carries its
 * position in front ("file.csv:12:3: ...") so that whoever prints it needs no
 * further context.
 */
#include "modelwatch/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *mw_status_str(mw_status s) {
    switch (s) {
    case MW_OK:
        return "ok";
    case MW_EINVAL:
        return "invalid argument";
    case MW_ENOMEM:
        return "out of memory";
    case MW_EIO:
        return "input/output error";
    case MW_EPARSE:
        return "parse error";
    case MW_ECORRUPT:
        return "corrupt data";
    case MW_ERANGE:
        return "value out of range";
    case MW_ENOTFOUND:
        return "not found";
    }
    return "unknown status";
}

void mw_error_clear(mw_error *err) {
    if (err) memset(err, 0, sizeof *err);
}

mw_status mw_error_set(mw_error *err, mw_status status, const char *file, uint64_t line,
                       uint64_t column, const char *fmt, ...) {
    if (!err) return status;
    err->status = status;
    err->line = line;
    err->column = column;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    char body[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    if (file && *file && line && column)
        snprintf(err->message, sizeof err->message, "%s:%llu:%llu: %s", file,
                 (unsigned long long)line, (unsigned long long)column, body);
    else if (file && *file && line)
        snprintf(err->message, sizeof err->message, "%s:%llu: %s", file, (unsigned long long)line,
                 body);
    else if (file && *file)
        snprintf(err->message, sizeof err->message, "%s: %s", file, body);
    else
        snprintf(err->message, sizeof err->message, "%s", body);
    return status;
}
