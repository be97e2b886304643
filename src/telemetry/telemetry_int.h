/*
 * Helpers shared by the src/telemetry sources: whole-file reads of /proc into a caller's
 * stack buffer (open + pread + close, no stdio), hand parsing of decimal
 * numbers, the monotonic clock, and the /proc/PID/stat parser (exposed so that
 * unit tests can feed it hostile process names).
 */
#ifndef MW_TELEMETRY_INT_H
#define MW_TELEMETRY_INT_H

#include <errno.h>
#include <string.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "modelwatch/telemetry.h"

/*
 * Reads the file at path (relative to dirfd, or absolute with AT_FDCWD) into
 * buf[0..cap-1] and NUL-terminates it. Returns the length, or -errno.
 * procfs generates a file whole on the first read and hands out as much as was
 * asked, so one pread of a large enough buffer is the whole file (a short read
 * is its end). A result of cap - 1 bytes may be truncated: callers that care
 * (/proc/stat) check for it. One syscall fewer than reading until 0.
 */
static inline long mw_tel_read_file(int dirfd, const char *path, char *buf, size_t cap) {
    int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -errno;
    ssize_t r;
    do
        r = pread(fd, buf, cap - 1, 0);
    while (r < 0 && errno == EINTR);
    int e = errno;
    close(fd);
    if (r < 0) return -e;
    buf[r] = '\0';
    return (long)r;
}

/* Parses an unsigned decimal at *p (leading spaces skipped), advancing *p past
 * it. Returns 0 when no digit is there. */
static inline int mw_tel_u64(const char **p, uint64_t *v) {
    const char *s = *p;
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s < '0' || *s > '9') return 0;
    uint64_t x = 0;
    while (*s >= '0' && *s <= '9')
        x = x * 10 + (uint64_t)(*s++ - '0');
    *v = x;
    *p = s;
    return 1;
}

/* Iterates the "key: number ..." lines of a /proc file (meminfo, PID/io): returns
 * 1 with the next line's key (not NUL-terminated), its length and its number,
 * passing over lines without a number; 0 at the end. */
static inline int mw_tel_next_kv(const char **s, const char **key, size_t *klen, uint64_t *value) {
    while (**s) {
        const char *line = *s, *colon = strchr(line, ':');
        if (!colon) return 0;
        const char *nl = strchr(colon, '\n');
        *s = nl ? nl + 1 : colon + strlen(colon);
        const char *v = colon + 1;
        if (mw_tel_u64(&v, value)) {
            *key = line;
            *klen = (size_t)(colon - line);
            return 1;
        }
    }
    return 0;
}

/* Skips to the character after the next space; NULL at the end of the string. */
static inline const char *mw_tel_next_field(const char *s) {
    while (*s && *s != ' ')
        s++;
    return *s ? s + 1 : NULL;
}

static inline double mw_tel_monotonic(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Clock ticks per second (USER_HZ, 100 on Linux). */
static inline long mw_tel_clk_tck(void) {
    long t = sysconf(_SC_CLK_TCK);
    return t > 0 ? t : 100;
}

/*
 * Parses the text of /proc/PID/stat into out (pid, name, state, CPU ticks and
 * seconds, threads, start, virtual bytes, resident bytes with page_size).
 * comm may hold spaces and parentheses: it runs from the first '(' to the LAST
 * ')'. Returns 0 on success, -1 when the text is malformed.
 */
int mw_tel_parse_proc_stat(const char *text, long clk_tck, long page_size, mw_proc_stats *out);

#endif
