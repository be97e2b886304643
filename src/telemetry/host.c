/*
 * Host resources (issue 6, item 3): CPU time by mode, memory, load averages and
 * the file system holding the database.
 *
 * Sources and units:
 *   /proc/stat      first line "cpu  user nice system idle iowait irq softirq steal
 *                   guest guest_nice" in clock ticks (USER_HZ) summed over CPUs;
 *                   guest time is already inside user/nice, so the guest columns
 *                   are left out of every total (psutil does the same in
 *                   cpu_percent). Online CPUs = number of "cpuN" lines.
 *   /proc/meminfo   MemTotal, MemFree, MemAvailable in kB (1024 bytes).
 *                   used = total - available and used_ratio = used / total: the
 *                   definition of psutil 5.9 virtual_memory().percent
 *                   (_pslinux.py: percent = usage_percent(total - avail, total),
 *                   avail = MemAvailable, replaced by MemFree when it exceeds
 *                   total). psutil's .used field is a different quantity
 *                   (total - free - buffers - cached); we do not report it.
 *                   Without MemAvailable (kernels < 3.14) available = MemFree.
 *   sysinfo(2)      load averages as fixed point with SI_LOAD_SHIFT (16) bits,
 *                   exact where /proc/loadavg rounds to 2 decimals.
 *   statvfs(3)      f_blocks, f_bfree, f_bavail in units of f_frsize.
 *   clocks          boot time = CLOCK_REALTIME - CLOCK_BOOTTIME (no file read;
 *                   within a millisecond of /proc/stat's integer btime).
 *
 * Cost: two /proc files read with one pread each into a stack buffer, parsed by
 * hand, plus two syscalls: ~10-15 µs (bench/bench_telemetry.c).
 */
#include "telemetry/telemetry_int.h"

#include <string.h>
#include <sys/statvfs.h>
#include <sys/sysinfo.h>

static const char *const mode_names[MW_CPU_MODE_COUNT] = {"user",   "nice", "system",  "idle",
                                                          "iowait", "irq",  "softirq", "steal"};

const char *mw_cpu_mode_name(mw_cpu_mode m) {
    return (unsigned)m < MW_CPU_MODE_COUNT ? mode_names[m] : "?";
}

static int parse_stat(const char *s, mw_host_stats *out, long clk_tck, int truncated) {
    if (strncmp(s, "cpu ", 4) != 0) return -1;
    const char *p = s + 4;
    for (int m = 0; m < MW_CPU_MODE_COUNT; m++) {
        uint64_t v = 0;
        /* steal appeared in 2.6.11; older kernels end the line earlier */
        if (!mw_tel_u64(&p, &v) && m < MW_CPU_IOWAIT) return -1;
        out->cpu_ticks[m] = v;
        out->cpu_seconds[m] = (double)v / (double)clk_tck;
    }
    uint32_t cpus = 0;
    const char *line = strchr(p, '\n');
    int ended = 0;
    while (line) {
        line++;
        if (line[0] == 'c' && line[1] == 'p' && line[2] == 'u' && line[3] >= '0' && line[3] <= '9')
            cpus++;
        else if (*line) {
            ended = 1;
            break;
        }
        line = strchr(line, '\n');
    }
    if (!ended && truncated) {
        long c = sysconf(_SC_NPROCESSORS_ONLN);
        cpus = c > 0 ? (uint32_t)c : cpus;
    }
    out->cpus = cpus;
    return 0;
}

static int parse_meminfo(const char *s, mw_host_stats *out) {
    uint64_t total = 0, free_kb = 0, avail = 0;
    int have_total = 0, have_free = 0, have_avail = 0;
    const char *k;
    size_t kl;
    uint64_t x;
    while (!(have_total && have_free && have_avail) && mw_tel_next_kv(&s, &k, &kl, &x)) {
        if (kl == 8 && memcmp(k, "MemTotal", 8) == 0)
            total = x, have_total = 1;
        else if (kl == 7 && memcmp(k, "MemFree", 7) == 0)
            free_kb = x, have_free = 1;
        else if (kl == 12 && memcmp(k, "MemAvailable", 12) == 0)
            avail = x, have_avail = 1;
    }
    if (!have_total || !have_free || total == 0) return -1;
    if (!have_avail || avail > total) avail = free_kb;
    out->mem_total_bytes = total * 1024;
    out->mem_free_bytes = free_kb * 1024;
    out->mem_available_bytes = avail * 1024;
    out->mem_used_bytes = (total - avail) * 1024;
    out->mem_used_ratio = (double)(total - avail) / (double)total;
    return 0;
}

mw_status mw_host_sample(mw_host_stats *out, const char *fs_path, mw_error *err) {
    if (!out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "mw_host_sample: out is NULL");
    memset(out, 0, sizeof *out);
    char buf[8192];
    long n = mw_tel_read_file(AT_FDCWD, "/proc/stat", buf, sizeof buf);
    if (n < 0)
        return mw_error_set(err, MW_EIO, "/proc/stat", 0, 0, "cannot read /proc/stat: %s",
                            strerror((int)-n));
    if (parse_stat(buf, out, mw_tel_clk_tck(), (size_t)n + 1 >= sizeof buf) != 0)
        return mw_error_set(err, MW_EPARSE, "/proc/stat", 0, 0,
                            "cannot parse the cpu line of /proc/stat");
    out->sampled_at = mw_tel_monotonic();

    n = mw_tel_read_file(AT_FDCWD, "/proc/meminfo", buf, sizeof buf);
    if (n < 0)
        return mw_error_set(err, MW_EIO, "/proc/meminfo", 0, 0, "cannot read /proc/meminfo: %s",
                            strerror((int)-n));
    if (parse_meminfo(buf, out) != 0)
        return mw_error_set(err, MW_EPARSE, "/proc/meminfo", 0, 0,
                            "/proc/meminfo lacks MemTotal or MemFree");

    struct sysinfo si;
    if (sysinfo(&si) == 0) {
        out->load1 = (double)si.loads[0] / (double)(1 << SI_LOAD_SHIFT);
        out->load5 = (double)si.loads[1] / (double)(1 << SI_LOAD_SHIFT);
        out->load15 = (double)si.loads[2] / (double)(1 << SI_LOAD_SHIFT);
    }
    struct timespec rt, bt;
    if (clock_gettime(CLOCK_REALTIME, &rt) == 0 && clock_gettime(CLOCK_BOOTTIME, &bt) == 0)
        out->boot_time = (double)(rt.tv_sec - bt.tv_sec) + (double)(rt.tv_nsec - bt.tv_nsec) * 1e-9;

    if (fs_path) {
        struct statvfs vfs;
        if (statvfs(fs_path, &vfs) != 0) {
            int e = errno;
            return mw_error_set(err, e == ENOENT ? MW_ENOTFOUND : MW_EIO, fs_path, 0, 0,
                                "cannot query the file system of %s: %s", fs_path, strerror(e));
        }
        uint64_t fr = vfs.f_frsize ? vfs.f_frsize : vfs.f_bsize;
        out->fs_total_bytes = (uint64_t)vfs.f_blocks * fr;
        out->fs_free_bytes = (uint64_t)vfs.f_bfree * fr;
        out->fs_avail_bytes = (uint64_t)vfs.f_bavail * fr;
        out->has_fs = 1;
    }
    return MW_OK;
}

mw_status mw_host_cpu_ratios(const mw_host_stats *prev, const mw_host_stats *cur,
                             double out[MW_CPU_MODE_COUNT]) {
    if (!out) return MW_EINVAL;
    for (int m = 0; m < MW_CPU_MODE_COUNT; m++)
        out[m] = 0;
    if (!prev || !cur) return MW_EINVAL;
    uint64_t d[MW_CPU_MODE_COUNT], total = 0;
    for (int m = 0; m < MW_CPU_MODE_COUNT; m++) {
        /* iowait may go backwards on some kernels (proc(5)): clamp at 0 */
        if (cur->cpu_ticks[m] < prev->cpu_ticks[m]) {
            if (m == MW_CPU_IOWAIT)
                d[m] = 0;
            else
                return MW_EINVAL;
        } else
            d[m] = cur->cpu_ticks[m] - prev->cpu_ticks[m];
        total += d[m];
    }
    if (total == 0) return MW_EINVAL;
    for (int m = 0; m < MW_CPU_MODE_COUNT; m++)
        out[m] = (double)d[m] / (double)total;
    return MW_OK;
}
