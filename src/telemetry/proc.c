/*
 * Process resources from /proc (issue 6, item 2): one process per call, and a
 * lookup by name so that a watched process that restarts is found again.
 *
 * Files and fields (proc(5); fs/proc/array.c, fs/proc/base.c):
 *   /proc/PID/stat   "pid (comm) state ..." — fields counted from 1 after
 *                    the LAST ')' of comm (comm may hold ')' and spaces):
 *                    14 utime, 15 stime       clock ticks (USER_HZ, sysconf(_SC_CLK_TCK))
 *                    20 num_threads
 *                    22 starttime             clock ticks after boot
 *                    23 vsize                 bytes
 *                    24 rss                   pages (sysconf(_SC_PAGESIZE)); an
 *                                             approximate read of the per-CPU RSS
 *                                             counters, replaced by statm's below
 *   /proc/PID/statm  size, resident in pages: the exact sums of those counters,
 *                    what psutil's memory_info() reads (vms, rss); measured here
 *                    (Linux 6.18) stat's rss differed from it by ~100 kB
 *   /proc/PID/io     rchar, wchar, read_bytes, write_bytes in bytes; readable by
 *                    the owner (ptrace access) only: absent otherwise, no error
 *   /proc/PID/fd     st_size of the directory is the number of open descriptors
 *                    on Linux >= 6.2; older kernels report 0 there, and the
 *                    directory is then counted with getdents64 (like psutil)
 *   /proc/PID/comm, /proc/PID/cmdline  for mw_proc_find_by_name
 *   the owner uid is the st_uid of /proc/PID (fstat of the stat file's fd).
 * /proc/PID/status is not read: every field we report is in stat and statm, which
 * saves a file and keeps one sample of everything under the 50 µs (bench/).
 *
 * Cost: files are read with one pread into a stack buffer and parsed by hand;
 * no stdio, no allocation. Reference for the numbers: psutil 5.9 _pslinux.py
 * (Process.cpu_times, memory_info, num_threads, num_fds, io_counters).
 */
#include "telemetry/telemetry_int.h"

#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* "/proc/" + decimal pid + "/" into buf; returns the length. */
static size_t proc_dir(char *buf, pid_t pid) {
    memcpy(buf, "/proc/", 6);
    size_t n = 6;
    if (pid == 0) {
        memcpy(buf + n, "self", 4);
        n += 4;
    } else {
        char tmp[16];
        size_t k = 0;
        unsigned long v = (unsigned long)pid;
        do {
            tmp[k++] = (char)('0' + v % 10);
            v /= 10;
        } while (v);
        while (k)
            buf[n++] = tmp[--k];
    }
    buf[n++] = '/';
    buf[n] = '\0';
    return n;
}

int mw_tel_parse_proc_stat(const char *text, long clk_tck, long page_size, mw_proc_stats *out) {
    uint64_t pid;
    const char *p = text;
    if (!mw_tel_u64(&p, &pid) || pid == 0) return -1;
    const char *open = strchr(p, '(');
    const char *close = strrchr(p, ')');
    if (!open || !close || close < open || close[1] != ' ') return -1;
    size_t nl = (size_t)(close - open - 1);
    if (nl >= sizeof out->name) nl = sizeof out->name - 1;
    memcpy(out->name, open + 1, nl);
    out->name[nl] = '\0';
    out->pid = (pid_t)pid;
    p = close + 2; /* field 3: state */
    out->state = *p;
    uint64_t f[25] = {0};
    for (int i = 4; i <= 24; i++) {
        p = mw_tel_next_field(p);
        if (!p) return -1;
        /* fields 4.. are integers; some (priority, nice, tpgid) may be negative,
         * none of those we keep: skip a minus sign */
        if (*p == '-') continue;
        if (!mw_tel_u64(&p, &f[i])) return -1;
    }
    out->cpu_user_ticks = f[14];
    out->cpu_system_ticks = f[15];
    out->cpu_user_seconds = (double)f[14] / (double)clk_tck;
    out->cpu_system_seconds = (double)f[15] / (double)clk_tck;
    out->threads = (uint32_t)f[20];
    out->start_ticks = f[22];
    out->start_seconds = (double)f[22] / (double)clk_tck;
    out->virtual_bytes = f[23];
    out->resident_bytes = f[24] * (uint64_t)page_size;
    return 0;
}

/* Parses /proc/PID/io ("rchar: N\nwchar: N\n...read_bytes: N\nwrite_bytes: N\n"). */
static int parse_io(const char *s, mw_proc_stats *out) {
    int got = 0;
    const char *k;
    size_t kl;
    uint64_t x;
    while (mw_tel_next_kv(&s, &k, &kl, &x)) {
        if (kl == 5 && memcmp(k, "rchar", 5) == 0)
            out->read_chars = x, got++;
        else if (kl == 5 && memcmp(k, "wchar", 5) == 0)
            out->write_chars = x, got++;
        else if (kl == 10 && memcmp(k, "read_bytes", 10) == 0)
            out->read_bytes = x, got++;
        else if (kl == 11 && memcmp(k, "write_bytes", 11) == 0)
            out->write_bytes = x, got++;
    }
    return got == 4 ? 0 : -1;
}

/* Number of entries of /proc/PID/fd other than "." and "..": -errno on failure. */
static long count_fds(const char *fd_dir) {
    struct stat st;
    if (stat(fd_dir, &st) != 0) return -errno;
    if (st.st_size > 0) return (long)st.st_size; /* Linux >= 6.2 */
    int dfd = open(fd_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) return -errno;
    long n = 0;
    char buf[4096] __attribute__((aligned(8)));
    for (;;) {
        long r = syscall(SYS_getdents64, dfd, buf, sizeof buf);
        if (r < 0) {
            int e = errno;
            close(dfd);
            return -e;
        }
        if (r == 0) break;
        for (long off = 0; off < r;) {
            /* struct linux_dirent64: u64 ino, s64 off, u16 reclen, u8 type, name */
            unsigned short reclen;
            memcpy(&reclen, buf + off + 16, sizeof reclen);
            const char *name = buf + off + 19;
            if (name[0] != '.') n++;
            off += reclen;
        }
    }
    close(dfd);
    /* sampling ourselves, the count includes the descriptor that read the
     * directory, as psutil's os.listdir() does */
    return n;
}

mw_status mw_proc_sample(pid_t pid, mw_proc_stats *out, mw_error *err) {
    if (!out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "mw_proc_sample: out is NULL");
    memset(out, 0, sizeof *out);
    if (pid < 0)
        return mw_error_set(err, MW_EINVAL, "", 0, 0, "process id %ld is negative", (long)pid);
    char path[64];
    size_t dl = proc_dir(path, pid);
    char buf[1024];

    memcpy(path + dl, "stat", 5);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == ENOENT || e == ESRCH) {
            /* hidepid= hides other users' processes: tell that apart from "gone" */
            if (pid > 0 && kill(pid, 0) != 0 && errno == EPERM)
                return mw_error_set(err, MW_EINVAL, "", 0, 0,
                                    "process %ld belongs to another user and /proc hides it "
                                    "(hidepid): run modelwatch as that user or remount /proc",
                                    (long)pid);
            return mw_error_set(err, MW_ENOTFOUND, "", 0, 0, "no process with id %ld", (long)pid);
        }
        if (e == EACCES || e == EPERM)
            return mw_error_set(err, MW_EINVAL, "", 0, 0,
                                "process %ld: permission denied reading %s (another user's "
                                "process?)",
                                (long)pid, path);
        return mw_error_set(err, MW_EIO, path, 0, 0, "cannot open %s: %s", path, strerror(e));
    }
    ssize_t r;
    do
        r = pread(fd, buf, sizeof buf - 1, 0);
    while (r < 0 && errno == EINTR);
    int re = errno;
    struct stat st;
    int have_st = fstat(fd, &st) == 0;
    close(fd);
    if (r < 0) {
        if (re == ESRCH)
            return mw_error_set(err, MW_ENOTFOUND, "", 0, 0, "process %ld exited", (long)pid);
        return mw_error_set(err, MW_EIO, path, 0, 0, "cannot read %s: %s", path, strerror(re));
    }
    buf[r] = '\0';
    long page = sysconf(_SC_PAGESIZE);
    if (mw_tel_parse_proc_stat(buf, mw_tel_clk_tck(), page > 0 ? page : 4096, out) != 0) {
        memset(out, 0, sizeof *out);
        return mw_error_set(err, MW_EPARSE, path, 0, 0, "cannot parse %s", path);
    }
    out->sampled_at = mw_tel_monotonic();
    if (have_st) out->uid = st.st_uid;

    /* statm's resident is the exact sum of the per-CPU RSS counters; stat's rss
     * field is their approximate read (Linux >= 6.x reads them differently),
     * and psutil reads statm */
    memcpy(path + dl, "statm", 6);
    long n = mw_tel_read_file(AT_FDCWD, path, buf, sizeof buf);
    if (n > 0) {
        const char *q = buf;
        uint64_t size, resident;
        if (mw_tel_u64(&q, &size) && mw_tel_u64(&q, &resident)) {
            out->virtual_bytes = size * (uint64_t)(page > 0 ? page : 4096);
            out->resident_bytes = resident * (uint64_t)(page > 0 ? page : 4096);
        }
    }

    memcpy(path + dl, "io", 3);
    n = mw_tel_read_file(AT_FDCWD, path, buf, sizeof buf);
    if (n <= 0 || parse_io(buf, out) != 0) {
        out->absent |= MW_PROC_ABSENT_IO;
        out->read_chars = out->write_chars = out->read_bytes = out->write_bytes = 0;
    }

    memcpy(path + dl, "fd", 3);
    long fds = count_fds(path);
    if (fds < 0)
        out->absent |= MW_PROC_ABSENT_FDS;
    else
        out->open_fds = (uint32_t)fds;
    return MW_OK;
}

double mw_proc_cpu_ratio(const mw_proc_stats *prev, const mw_proc_stats *cur) {
    if (!prev || !cur || prev->pid != cur->pid || prev->start_ticks != cur->start_ticks) return NAN;
    double dt = cur->sampled_at - prev->sampled_at;
    if (!(dt > 0)) return NAN;
    double dc = (cur->cpu_user_seconds + cur->cpu_system_seconds) -
                (prev->cpu_user_seconds + prev->cpu_system_seconds);
    if (dc < 0) return NAN;
    return dc / dt;
}

/* basename of the first NUL-terminated word of a cmdline buffer */
static const char *argv0_base(const char *s, size_t len) {
    size_t end = strnlen(s, len);
    const char *b = s;
    for (size_t i = 0; i < end; i++)
        if (s[i] == '/') b = s + i + 1;
    return b;
}

static int cmp_pid(const void *a, const void *b) {
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return (x > y) - (x < y);
}

mw_status mw_proc_find_by_name(const char *name, pid_t *pids, size_t max, size_t *n,
                               mw_error *err) {
    if (n) *n = 0;
    if (!name || !*name || !n || (max && !pids))
        return mw_error_set(err, MW_EINVAL, "", 0, 0,
                            "mw_proc_find_by_name: empty process name or NULL output");
    size_t name_len = strlen(name);
    DIR *d = opendir("/proc");
    if (!d)
        return mw_error_set(err, MW_EIO, "/proc", 0, 0, "cannot list /proc: %s", strerror(errno));
    int pfd = dirfd(d);
    struct dirent *de;
    size_t found = 0;
    char path[48], buf[4096];
    while ((de = readdir(d)) != NULL) {
        const char *s = de->d_name;
        if (*s < '1' || *s > '9') continue;
        size_t k = 0;
        while (s[k] >= '0' && s[k] <= '9' && k < 20)
            k++;
        if (s[k] || k + 10 > sizeof path) continue;
        memcpy(path, s, k);
        memcpy(path + k, "/comm", 6);
        long len = mw_tel_read_file(pfd, path, buf, sizeof buf);
        int match = 0;
        if (len > 0) {
            if (buf[len - 1] == '\n') buf[--len] = '\0';
            match = (size_t)len == name_len && memcmp(buf, name, name_len) == 0;
        }
        if (!match) {
            /* comm is truncated to 15 bytes and may be renamed by the program:
             * also try argv[0]'s basename */
            memcpy(path + k, "/cmdline", 9);
            len = mw_tel_read_file(pfd, path, buf, sizeof buf);
            if (len > 0) match = strcmp(argv0_base(buf, (size_t)len), name) == 0;
        }
        if (!match) continue;
        if (found < max) pids[found] = (pid_t)strtol(s, NULL, 10);
        found++;
    }
    closedir(d);
    if (found > 1 && max > 1) qsort(pids, found < max ? found : max, sizeof *pids, cmp_pid);
    *n = found;
    return MW_OK;
}
