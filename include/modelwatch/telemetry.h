/*
 * modelwatch telemetry: resources of processes, of the host and of NVIDIA GPUs.
 *
 * Three independent samplers, each a plain function over caller-owned structs:
 *
 *   mw_proc_sample()  one process from /proc/PID/{stat,io,fd}
 *   mw_host_sample()  the host from /proc/stat, /proc/meminfo, sysinfo(2), statvfs(3)
 *   mw_nvml_*()       GPUs through NVML, loaded with dlopen at run time
 *
 * Rates (CPU utilisation) come from two samples: keep the previous one and call
 * mw_proc_cpu_ratio() / mw_host_cpu_ratios(). Numbers agree with psutil 5.9 on the
 * same process at the same moment (tests/integration/test_telemetry_psutil.sh).
 *
 * Cost: one host sample plus one process sample is 16-19 µs of CPU, measured on
 * a 2-core VM where psutil's cpu_percent + virtual_memory + Process().memory_info
 * take 61 µs (no stdio, one pread per file into a stack buffer, hand parsing);
 * bench/bench_telemetry.sh measures both.
 *
 * Thread safety: no global state. The proc and host functions may run on any
 * thread; an mw_nvml handle is used by one thread at a time.
 * Errors are never fatal: a missing process is MW_ENOTFOUND, an unreadable
 * optional file (another user's /proc/PID/io) is marked absent in the result.
 * Prometheus names the daemon should use are given next to each field.
 */
#ifndef MODELWATCH_TELEMETRY_H
#define MODELWATCH_TELEMETRY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "modelwatch/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ process */

/* Fields of mw_proc_stats that may be absent (bits of .absent). */
enum {
    MW_PROC_ABSENT_IO = 1u << 0,  /* /proc/PID/io unreadable (another user, no taskstats) */
    MW_PROC_ABSENT_FDS = 1u << 1, /* /proc/PID/fd unreadable (another user's process on
                                     Linux < 6.2; newer kernels give its count to anyone) */
};

typedef struct mw_proc_stats {
    pid_t pid;
    char name[16];             /* comm (at most 15 bytes, NUL-terminated), e.g. "python3" */
    char state;                /* 'R', 'S', 'D', 'Z', ... */
    uid_t uid;                 /* owner (effective uid) of the process */
    double cpu_user_seconds;   /* modelwatch_process_cpu_seconds_total{mode="user"} */
    double cpu_system_seconds; /* modelwatch_process_cpu_seconds_total{mode="system"} */
    uint64_t cpu_user_ticks;   /* the same in clock ticks (1 / sysconf(_SC_CLK_TCK) s) */
    uint64_t cpu_system_ticks;
    uint64_t resident_bytes; /* modelwatch_process_resident_memory_bytes (psutil rss) */
    uint64_t virtual_bytes;  /* modelwatch_process_virtual_memory_bytes (psutil vms) */
    uint32_t threads;        /* modelwatch_process_threads */
    uint32_t open_fds;       /* modelwatch_process_open_fds (absent: MW_PROC_ABSENT_FDS) */
    uint64_t read_bytes;     /* modelwatch_process_io_read_bytes_total: read_bytes of io */
    uint64_t write_bytes;    /* modelwatch_process_io_write_bytes_total: write_bytes of io */
    uint64_t read_chars;     /* rchar of io: bytes asked of read(2), cache hits included */
    uint64_t write_chars;    /* wchar of io */
    double start_seconds;    /* start time in seconds after boot; add mw_host_stats.boot_time
                                for modelwatch_process_start_time_seconds (Unix time) */
    uint64_t start_ticks;    /* the same in clock ticks: (pid, start_ticks) names a process
                                across pid reuse */
    double sampled_at;       /* CLOCK_MONOTONIC seconds when sampled, for rates */
    unsigned absent;         /* MW_PROC_ABSENT_* bits */
} mw_proc_stats;

/*
 * Samples process pid (0 = the calling process). *out is cleared on entry.
 * MW_ENOTFOUND: no such process (it may have exited: re-resolve by name);
 * MW_EINVAL: pid < 0, or /proc hides the process (another user's process under
 * hidepid=): err says which. io and fd being unreadable is not an error: the
 * fields stay 0 and .absent says so.
 */
mw_status mw_proc_sample(pid_t pid, mw_proc_stats *out, mw_error *err);

/*
 * Finds running processes whose comm equals name, or whose command line's first
 * word (argv[0]) has basename name, so names longer than comm's 15 bytes match
 * too. Threads are not listed, only processes. Writes up to max pids, sorted
 * ascending, and the number of matches in *n (which may exceed max). Call it
 * before each sample: a watched process that exits and comes back is found
 * again under its new pid. The calling process is included when it matches.
 * MW_OK with *n = 0 when none; MW_EINVAL on NULL/empty name; MW_EIO when /proc
 * cannot be listed.
 */
mw_status mw_proc_find_by_name(const char *name, pid_t *pids, size_t max, size_t *n, mw_error *err);

/*
 * CPU utilisation of a process between two samples as a ratio of ONE core:
 * (Δuser + Δsystem CPU seconds) / Δwall seconds, so a process busy on 4 cores
 * reads 4.0 (psutil Process.cpu_percent() / 100). NaN when the samples are of
 * different processes (pid or start time differ: the process restarted) or
 * Δwall <= 0. Prometheus users rather rate() the cpu_seconds counter.
 */
double mw_proc_cpu_ratio(const mw_proc_stats *prev, const mw_proc_stats *cur);

/* --------------------------------------------------------------------- host */

/* CPU modes of /proc/stat, in its column order. */
typedef enum mw_cpu_mode {
    MW_CPU_USER = 0,
    MW_CPU_NICE,
    MW_CPU_SYSTEM,
    MW_CPU_IDLE,
    MW_CPU_IOWAIT,
    MW_CPU_IRQ,
    MW_CPU_SOFTIRQ,
    MW_CPU_STEAL,
    MW_CPU_MODE_COUNT
} mw_cpu_mode;

/* "user", "nice", ... (the mode label value); "?" out of range. */
const char *mw_cpu_mode_name(mw_cpu_mode m);

typedef struct mw_host_stats {
    /* modelwatch_host_cpu_seconds_total{mode}: all CPUs together. Note: the
     * kernel's user and nice include guest and guest_nice time (psutil too). */
    double cpu_seconds[MW_CPU_MODE_COUNT];
    uint64_t cpu_ticks[MW_CPU_MODE_COUNT]; /* the same in clock ticks */
    uint32_t cpus;                         /* online CPUs (cpuN lines of /proc/stat) */
    uint64_t mem_total_bytes;              /* modelwatch_host_memory_total_bytes: MemTotal */
    uint64_t mem_available_bytes; /* modelwatch_host_memory_available_bytes: MemAvailable */
    uint64_t mem_free_bytes;      /* MemFree */
    uint64_t mem_used_bytes;      /* total - available (psutil's percent definition) */
    double mem_used_ratio;        /* modelwatch_host_memory_used_ratio: used / total, in [0,1];
                                     psutil virtual_memory().percent / 100 */
    double load1, load5, load15;  /* modelwatch_host_load1/5/15 (sysinfo(2), exact) */
    double boot_time;             /* Unix time of boot (seconds) */
    uint64_t fs_total_bytes;      /* modelwatch_host_filesystem_size_bytes (f_blocks) */
    uint64_t fs_free_bytes;       /* free blocks, root's reserve included (f_bfree) */
    uint64_t fs_avail_bytes;      /* modelwatch_host_filesystem_avail_bytes: usable by
                                     unprivileged users (f_bavail), df's "Avail" */
    int has_fs;                   /* 1 when fs_path was given and statvfs succeeded */
    double sampled_at;            /* CLOCK_MONOTONIC seconds */
} mw_host_stats;

/*
 * Samples the host; fs_path (borrowed, may be NULL) names a file or directory on
 * the file system to report (the database's). *out is cleared on entry.
 * MW_EIO when /proc/stat or /proc/meminfo cannot be read or parsed; MW_ENOTFOUND
 * when fs_path does not exist (every other field is filled, has_fs = 0).
 */
mw_status mw_host_sample(mw_host_stats *out, const char *fs_path, mw_error *err);

/*
 * Host CPU utilisation by mode between two samples: out[m] = Δticks[m] / Σ Δticks,
 * a ratio of ALL CPUs (the ratios sum to 1; 1 - out[MW_CPU_IDLE] - out[MW_CPU_IOWAIT]
 * is the busy ratio, psutil.cpu_percent() / 100). MW_EINVAL when no tick elapsed
 * or a counter went backwards (out all 0).
 */
mw_status mw_host_cpu_ratios(const mw_host_stats *prev, const mw_host_stats *cur,
                             double out[MW_CPU_MODE_COUNT]);

/* ---------------------------------------------------------------------- GPU */

typedef struct mw_nvml mw_nvml;

/* Fields of mw_gpu_stats that are absent because their NVML call failed. */
enum {
    MW_GPU_ABSENT_NAME = 1u << 0,
    MW_GPU_ABSENT_UUID = 1u << 1,
    MW_GPU_ABSENT_UTIL = 1u << 2,   /* util_compute_ratio and util_memory_ratio */
    MW_GPU_ABSENT_MEMORY = 1u << 3, /* mem_used_bytes and mem_total_bytes */
    MW_GPU_ABSENT_TEMP = 1u << 4,
    MW_GPU_ABSENT_POWER = 1u << 5,
    MW_GPU_ABSENT_ALL = 0x3f /* the device handle itself could not be had */
};

typedef struct mw_gpu_stats {
    uint32_t index;             /* label gpu="0" */
    char uuid[96];              /* label uuid="GPU-..." */
    char name[96];              /* label name="NVIDIA H200" */
    double util_compute_ratio;  /* modelwatch_gpu_utilization_ratio: share of the last sample
                                   period a kernel ran (NVML utilization.gpu / 100) */
    double util_memory_ratio;   /* modelwatch_gpu_memory_utilization_ratio (utilization.memory) */
    uint64_t mem_used_bytes;    /* modelwatch_gpu_memory_used_bytes */
    uint64_t mem_total_bytes;   /* modelwatch_gpu_memory_total_bytes */
    double temperature_celsius; /* modelwatch_gpu_temperature_celsius */
    double power_watts;         /* modelwatch_gpu_power_watts (NVML milliwatts / 1000) */
    unsigned absent;            /* MW_GPU_ABSENT_* bits */
} mw_gpu_stats;

/*
 * Loads NVML from the library named by the environment variable MW_NVML_LIBRARY,
 * else "libnvidia-ml.so.1", initialises it and counts devices. *out is set to
 * NULL on entry. MW_ENOTFOUND when the library, a required symbol or any GPU is
 * missing (err says which, in one line the caller logs; GPU metrics are then
 * simply absent); MW_EIO when nvmlInit fails; MW_ENOMEM.
 * The handle is returned for the caller to free with mw_nvml_close().
 */
mw_status mw_nvml_open(mw_nvml **out, mw_error *err);
/* The same with an explicit library path or name (NULL: as mw_nvml_open). */
mw_status mw_nvml_open_library(const char *library, mw_nvml **out, mw_error *err);
/* Shuts NVML down and unloads it. NULL is a no-op. */
void mw_nvml_close(mw_nvml *h);
/* Number of GPUs found at open. */
size_t mw_nvml_device_count(const mw_nvml *h);
/* NVML calls that failed so far on this handle (each absent field counts one):
 * modelwatch_gpu_errors_total. */
uint64_t mw_nvml_errors_total(const mw_nvml *h);

/*
 * Samples up to max GPUs into gpus[0..*n). A device whose calls fail is still
 * reported, with .absent telling which fields are missing; never fatal.
 * MW_EINVAL on NULL arguments.
 */
mw_status mw_nvml_sample(mw_nvml *h, mw_gpu_stats *gpus, size_t max, size_t *n);

/*
 * GPU memory used by each of npids processes, summed over all GPUs
 * (modelwatch_process_gpu_memory_bytes): used_bytes[i] for pids[i], 0 when the
 * process holds no GPU memory. Compute processes (nvmlDeviceGetComputeRunningProcesses
 * v3, else v2, else v1). *failed_devices (may be NULL) counts GPUs whose list could
 * not be read. MW_ENOTFOUND when the library has no such function at all.
 */
mw_status mw_nvml_process_memory(mw_nvml *h, const pid_t *pids, size_t npids, uint64_t *used_bytes,
                                 size_t *failed_devices);

#ifdef __cplusplus
}
#endif
#endif
