/*
 * Telemetry sampling cost and dumps (issue 6, items 2-5).
 *
 *   bench_telemetry [N]          times N (default 10,000) samples of everything
 *                                without GPUs: mw_host_sample (with the file
 *                                system of ".") + mw_proc_sample of this process;
 *                                prints CPU µs per sample (CLOCK_PROCESS_CPUTIME_ID)
 *                                and wall µs. Target: <= 50 µs CPU.
 *   bench_telemetry --json PID   one process sample and one host sample as JSON
 *                                (tests/integration/test_telemetry_psutil.sh)
 *   bench_telemetry --nvml-dump [PID...]  what NVML reports, one "key value" line
 *                                each (tests/integration/test_telemetry_nvml.sh),
 *                                and the GPU memory of the given pids
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modelwatch/telemetry.h"

static double now(clockid_t c) {
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int bench(long n) {
    mw_host_stats h;
    mw_proc_stats p;
    mw_error err;
    /* warm-up */
    for (int i = 0; i < 100; i++) {
        if (mw_host_sample(&h, ".", &err) != MW_OK || mw_proc_sample(0, &p, &err) != MW_OK) {
            fprintf(stderr, "bench_telemetry: %s\n", err.message);
            return 1;
        }
    }
    double c0 = now(CLOCK_PROCESS_CPUTIME_ID), w0 = now(CLOCK_MONOTONIC);
    for (long i = 0; i < n; i++) {
        mw_host_sample(&h, ".", NULL);
        mw_proc_sample(0, &p, NULL);
    }
    double c1 = now(CLOCK_PROCESS_CPUTIME_ID), w1 = now(CLOCK_MONOTONIC);
    double hc0 = now(CLOCK_PROCESS_CPUTIME_ID);
    for (long i = 0; i < n; i++)
        mw_host_sample(&h, ".", NULL);
    double hc1 = now(CLOCK_PROCESS_CPUTIME_ID);
    printf("samples %ld\n", n);
    printf("cpu_us_per_sample %.2f\n", (c1 - c0) * 1e6 / (double)n);
    printf("wall_us_per_sample %.2f\n", (w1 - w0) * 1e6 / (double)n);
    printf("host_cpu_us %.2f\n", (hc1 - hc0) * 1e6 / (double)n);
    printf("proc_cpu_us %.2f\n", ((c1 - c0) - (hc1 - hc0)) * 1e6 / (double)n);
    return 0;
}

static int json(long pid) {
    mw_proc_stats p;
    mw_host_stats h;
    mw_error err;
    mw_status s = mw_proc_sample((pid_t)pid, &p, &err);
    if (s != MW_OK) {
        fprintf(stderr, "bench_telemetry: %s\n", err.message);
        return s == MW_ENOTFOUND ? 3 : 1;
    }
    if (mw_host_sample(&h, "/", &err) != MW_OK) {
        fprintf(stderr, "bench_telemetry: %s\n", err.message);
        return 1;
    }
    printf("{\"pid\":%ld,\"name\":\"%s\",\"uid\":%lu,\"cpu_user_seconds\":%.6f,"
           "\"cpu_system_seconds\":%.6f,\"resident_bytes\":%" PRIu64 ",\"virtual_bytes\":%" PRIu64
           ",\"threads\":%u,\"open_fds\":%u,\"read_bytes\":%" PRIu64 ",\"write_bytes\":%" PRIu64
           ",\"read_chars\":%" PRIu64 ",\"write_chars\":%" PRIu64
           ",\"start_time\":%.3f,\"io_absent\":%s,\"fds_absent\":%s,",
           (long)p.pid, p.name, (unsigned long)p.uid, p.cpu_user_seconds, p.cpu_system_seconds,
           p.resident_bytes, p.virtual_bytes, p.threads, p.open_fds, p.read_bytes, p.write_bytes,
           p.read_chars, p.write_chars, h.boot_time + p.start_seconds,
           (p.absent & MW_PROC_ABSENT_IO) ? "true" : "false",
           (p.absent & MW_PROC_ABSENT_FDS) ? "true" : "false");
    printf("\"host\":{\"cpus\":%u,", h.cpus);
    for (int m = 0; m < MW_CPU_MODE_COUNT; m++)
        printf("\"cpu_%s_seconds\":%.2f,", mw_cpu_mode_name((mw_cpu_mode)m), h.cpu_seconds[m]);
    printf("\"mem_total_bytes\":%" PRIu64 ",\"mem_available_bytes\":%" PRIu64
           ",\"mem_used_bytes\":%" PRIu64 ",\"mem_used_ratio\":%.6f,\"load1\":%.4f,\"load5\":%.4f,"
           "\"load15\":%.4f,\"boot_time\":%.3f,\"fs_total_bytes\":%" PRIu64
           ",\"fs_free_bytes\":%" PRIu64 ",\"fs_avail_bytes\":%" PRIu64 "}}\n",
           h.mem_total_bytes, h.mem_available_bytes, h.mem_used_bytes, h.mem_used_ratio, h.load1,
           h.load5, h.load15, h.boot_time, h.fs_total_bytes, h.fs_free_bytes, h.fs_avail_bytes);
    return 0;
}

static int nvml_dump(int argc, char **argv) {
    mw_nvml *nv;
    mw_error err;
    mw_status s = mw_nvml_open(&nv, &err);
    if (s != MW_OK) {
        printf("open %s\n", mw_status_str(s));
        printf("message %s\n", err.message);
        return s == MW_ENOTFOUND ? 3 : 1;
    }
    size_t count = mw_nvml_device_count(nv);
    printf("open ok\ncount %zu\n", count);
    mw_gpu_stats g[16];
    size_t n = 0;
    mw_nvml_sample(nv, g, 16, &n);
    for (size_t i = 0; i < n; i++) {
        printf("gpu%u.name %s\n", g[i].index, g[i].name);
        printf("gpu%u.uuid %s\n", g[i].index, g[i].uuid);
        printf("gpu%u.util_compute_ratio %.4f\n", g[i].index, g[i].util_compute_ratio);
        printf("gpu%u.util_memory_ratio %.4f\n", g[i].index, g[i].util_memory_ratio);
        printf("gpu%u.mem_used_bytes %" PRIu64 "\n", g[i].index, g[i].mem_used_bytes);
        printf("gpu%u.mem_total_bytes %" PRIu64 "\n", g[i].index, g[i].mem_total_bytes);
        printf("gpu%u.temperature_celsius %.1f\n", g[i].index, g[i].temperature_celsius);
        printf("gpu%u.power_watts %.3f\n", g[i].index, g[i].power_watts);
        printf("gpu%u.absent 0x%x\n", g[i].index, g[i].absent);
    }
    if (argc > 0) {
        pid_t pids[64];
        uint64_t used[64];
        size_t np = 0, failed = 0;
        for (int i = 0; i < argc && np < 64; i++)
            pids[np++] = (pid_t)atol(argv[i]);
        s = mw_nvml_process_memory(nv, pids, np, used, &failed);
        printf("procs %s\nprocs.failed_devices %zu\n", mw_status_str(s), failed);
        for (size_t i = 0; i < np; i++)
            printf("pid%ld.gpu_mem_bytes %" PRIu64 "\n", (long)pids[i], used[i]);
    }
    printf("errors_total %" PRIu64 "\n", mw_nvml_errors_total(nv));
    mw_nvml_close(nv);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 3 && strcmp(argv[1], "--json") == 0) return json(atol(argv[2]));
    if (argc >= 2 && strcmp(argv[1], "--nvml-dump") == 0) return nvml_dump(argc - 2, argv + 2);
    if (argc >= 2 && argv[1][0] == '-') {
        fprintf(stderr, "usage: bench_telemetry [N] | --json PID | --nvml-dump [PID...]\n");
        return 2;
    }
    long n = argc >= 2 ? atol(argv[1]) : 10000;
    return bench(n > 0 ? n : 10000);
}
