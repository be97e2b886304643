/*
 * Resource sampling and its exposition (see resources.h). Metric names follow
 * Prometheus practice (base units, _total counters); a process is named by the
 * label target="NAME:PID" (bounded by the watch lists), GPUs by gpu, uuid and
 * name. A sample costs about 16 us of CPU here without GPUs (psutil's three
 * calls: 61 us; bench/bench_telemetry.sh).
 */
#include "server/resources.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

void mw_resources_init(mw_resources *r, const char *fs_path, const pid_t *pids, size_t npids,
                       const char *const *names, size_t nnames) {
    memset(r, 0, sizeof *r);
    pthread_mutex_init(&r->lock, NULL);
    r->fs_path = fs_path;
    for (size_t i = 0; i < npids && i < MW_MAX_TARGETS; i++)
        r->watch_pids[r->nwatch_pids++] = pids[i];
    for (size_t i = 0; i < nnames && i < MW_MAX_TARGETS; i++)
        r->watch_names[r->nwatch_names++] = names[i];
    mw_error err;
    mw_error_clear(&err);
    if (mw_nvml_open(&r->nvml, &err) != MW_OK)
        fprintf(stderr, "modelwatch: no GPU metrics: %s\n",
                err.message[0] ? err.message : "NVML not available");
    else
        fprintf(stderr, "modelwatch: NVML: %zu GPU(s)\n", mw_nvml_device_count(r->nvml));
}

void mw_resources_free(mw_resources *r) {
    mw_nvml_close(r->nvml);
    pthread_mutex_destroy(&r->lock);
}

static double cpu_time(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The previous sample of the same process (pid and start time), for rates. */
static const mw_proc_stats *previous(const mw_resources *r, const mw_proc_stats *p) {
    for (size_t i = 0; i < r->ntargets; i++)
        if (r->target[i].pid == p->pid && r->target[i].start_ticks == p->start_ticks)
            return &r->target[i];
    return NULL;
}

static int sampled(const mw_proc_stats *procs, size_t n, pid_t pid) {
    for (size_t i = 0; i < n; i++)
        if (procs[i].pid == pid) return 1;
    return 0;
}

void mw_resources_sample(mw_resources *r) {
    double c0 = cpu_time();
    mw_proc_stats procs[MW_MAX_TARGETS + 1];
    size_t n = 0;
    uint64_t errors = 0;
    mw_error err;
    if (mw_proc_sample(0, &procs[n], &err) == MW_OK)
        n++;
    else
        errors++;
    for (size_t i = 0; i < r->nwatch_pids && n <= MW_MAX_TARGETS; i++) {
        if (sampled(procs, n, r->watch_pids[i])) continue; /* each process once */
        if (mw_proc_sample(r->watch_pids[i], &procs[n], &err) == MW_OK)
            n++;
        else
            errors++; /* gone, or another user's: counted, never fatal */
    }
    for (size_t i = 0; i < r->nwatch_names && n <= MW_MAX_TARGETS; i++) {
        pid_t pids[8];
        size_t found = 0;
        if (mw_proc_find_by_name(r->watch_names[i], pids, 8, &found, &err) != MW_OK || !found) {
            errors++;
            continue;
        }
        for (size_t k = 0; k < found && k < 8 && n <= MW_MAX_TARGETS; k++)
            if (!sampled(procs, n, pids[k]) && mw_proc_sample(pids[k], &procs[n], &err) == MW_OK)
                n++;
    }
    mw_host_stats host;
    int has_host = mw_host_sample(&host, r->fs_path, &err) == MW_OK;
    errors += !has_host;
    mw_gpu_stats gpus[MW_MAX_GPUS];
    size_t ngpus = 0;
    uint64_t gpu_bytes[MW_MAX_TARGETS + 1] = {0};
    if (r->nvml) {
        mw_nvml_sample(r->nvml, gpus, MW_MAX_GPUS, &ngpus);
        pid_t pids[MW_MAX_TARGETS + 1];
        for (size_t i = 0; i < n; i++)
            pids[i] = procs[i].pid;
        mw_nvml_process_memory(r->nvml, pids, n, gpu_bytes, NULL);
    }
    pthread_mutex_lock(&r->lock);
    double ratios[MW_MAX_TARGETS + 1];
    for (size_t i = 0; i < n; i++) {
        const mw_proc_stats *prev = previous(r, &procs[i]);
        ratios[i] = prev ? mw_proc_cpu_ratio(prev, &procs[i]) : NAN;
    }
    if (has_host && r->has_host)
        mw_host_cpu_ratios(&r->host, &host, r->host_cpu_ratio);
    else
        for (int m = 0; m < MW_CPU_MODE_COUNT; m++)
            r->host_cpu_ratio[m] = NAN;
    memcpy(r->target, procs, n * sizeof *procs);
    memcpy(r->target_cpu_ratio, ratios, n * sizeof *ratios);
    memcpy(r->target_gpu_bytes, gpu_bytes, n * sizeof *gpu_bytes);
    r->ntargets = n;
    if (has_host) r->host = host;
    r->has_host = r->has_host || has_host;
    memcpy(r->gpu, gpus, ngpus * sizeof *gpus);
    r->ngpus = ngpus;
    r->sample_errors += errors;
    r->samples++;
    r->last_cost_seconds = cpu_time() - c0;
    pthread_mutex_unlock(&r->lock);
}

/* ---- exposition ---- */

typedef struct fam {
    const char *name;
    mw_expo_type type;
    const char *help;
} fam;

static mw_status process_families(mw_resources *r, mw_expo *e) {
    static const fam f[] = {
        {"modelwatch_process_cpu_seconds_total", MW_EXPO_COUNTER,
         "CPU time of the process, by mode."},
        {"modelwatch_process_cpu_utilization_ratio", MW_EXPO_GAUGE,
         "CPU used between the last two samples, as a ratio of one core."},
        {"modelwatch_process_resident_memory_bytes", MW_EXPO_GAUGE, "Resident memory."},
        {"modelwatch_process_virtual_memory_bytes", MW_EXPO_GAUGE, "Virtual memory."},
        {"modelwatch_process_threads", MW_EXPO_GAUGE, "Threads."},
        {"modelwatch_process_open_fds", MW_EXPO_GAUGE, "Open file descriptors."},
        {"modelwatch_process_io_read_bytes_total", MW_EXPO_COUNTER, "Bytes read from storage."},
        {"modelwatch_process_io_write_bytes_total", MW_EXPO_COUNTER, "Bytes written to storage."},
        {"modelwatch_process_gpu_memory_bytes", MW_EXPO_GAUGE, "GPU memory held, all GPUs."}};
    mw_status st = MW_OK;
    for (size_t k = 0; k < sizeof f / sizeof *f && !st; k++) {
        if (k == 8 && !r->nvml) break;
        st = mw_expo_family(e, f[k].name, f[k].type, f[k].help);
        for (size_t i = 0; i < r->ntargets && !st; i++) {
            const mw_proc_stats *p = &r->target[i];
            char target[48];
            snprintf(target, sizeof target, "%s:%d", p->name, (int)p->pid);
            const char *n1[1] = {"target"}, *v1[1] = {target};
            const char *n2[2] = {"target", "mode"};
            switch (k) {
            case 0: {
                const char *vu[2] = {target, "user"}, *vs[2] = {target, "system"};
                st = mw_expo_sample(e, NULL, n2, vu, 2, p->cpu_user_seconds);
                if (!st) st = mw_expo_sample(e, NULL, n2, vs, 2, p->cpu_system_seconds);
                break;
            }
            case 1:
                if (!isnan(r->target_cpu_ratio[i]))
                    st = mw_expo_sample(e, NULL, n1, v1, 1, r->target_cpu_ratio[i]);
                break;
            case 2:
                st = mw_expo_sample_u64(e, NULL, n1, v1, 1, p->resident_bytes);
                break;
            case 3:
                st = mw_expo_sample_u64(e, NULL, n1, v1, 1, p->virtual_bytes);
                break;
            case 4:
                st = mw_expo_sample_u64(e, NULL, n1, v1, 1, p->threads);
                break;
            case 5:
                if (!(p->absent & MW_PROC_ABSENT_FDS))
                    st = mw_expo_sample_u64(e, NULL, n1, v1, 1, p->open_fds);
                break;
            case 6:
                if (!(p->absent & MW_PROC_ABSENT_IO))
                    st = mw_expo_sample_u64(e, NULL, n1, v1, 1, p->read_bytes);
                break;
            case 7:
                if (!(p->absent & MW_PROC_ABSENT_IO))
                    st = mw_expo_sample_u64(e, NULL, n1, v1, 1, p->write_bytes);
                break;
            default:
                st = mw_expo_sample_u64(e, NULL, n1, v1, 1, r->target_gpu_bytes[i]);
                break;
            }
        }
    }
    return st;
}

static mw_status host_families(mw_resources *r, mw_expo *e) {
    if (!r->has_host) return MW_OK;
    const mw_host_stats *h = &r->host;
    const char *mn[1] = {"mode"};
    mw_status st = mw_expo_family(e, "modelwatch_host_cpu_seconds_total", MW_EXPO_COUNTER,
                                  "Host CPU time, all CPUs, by mode.");
    for (int m = 0; m < MW_CPU_MODE_COUNT && !st; m++) {
        const char *mv[1] = {mw_cpu_mode_name((mw_cpu_mode)m)};
        st = mw_expo_sample(e, NULL, mn, mv, 1, h->cpu_seconds[m]);
    }
    if (!st)
        st = mw_expo_family(e, "modelwatch_host_cpu_utilization_ratio", MW_EXPO_GAUGE,
                            "Share of host CPU time by mode between the last two samples.");
    for (int m = 0; m < MW_CPU_MODE_COUNT && !st; m++) {
        if (isnan(r->host_cpu_ratio[m])) continue;
        const char *mv[1] = {mw_cpu_mode_name((mw_cpu_mode)m)};
        st = mw_expo_sample(e, NULL, mn, mv, 1, r->host_cpu_ratio[m]);
    }
    struct {
        const char *name, *help;
        double v;
    } g[] = {{"modelwatch_host_memory_total_bytes", "Host memory (MemTotal).",
              (double)h->mem_total_bytes},
             {"modelwatch_host_memory_available_bytes", "Available memory (MemAvailable).",
              (double)h->mem_available_bytes},
             {"modelwatch_host_memory_used_ratio",
              "Used memory share, (total - available) / total.", h->mem_used_ratio},
             {"modelwatch_host_load1", "Load average over 1 minute.", h->load1},
             {"modelwatch_host_load5", "Load average over 5 minutes.", h->load5},
             {"modelwatch_host_load15", "Load average over 15 minutes.", h->load15}};
    for (size_t k = 0; k < sizeof g / sizeof *g && !st; k++) {
        st = mw_expo_family(e, g[k].name, MW_EXPO_GAUGE, g[k].help);
        if (!st) st = mw_expo_sample(e, NULL, NULL, NULL, 0, g[k].v);
    }
    if (!st && h->has_fs) {
        const char *pn[1] = {"path"}, *pv[1] = {r->fs_path};
        st = mw_expo_family(e, "modelwatch_host_filesystem_avail_bytes", MW_EXPO_GAUGE,
                            "Bytes available to the daemon on the database's file system.");
        if (!st) st = mw_expo_sample_u64(e, NULL, pn, pv, 1, h->fs_avail_bytes);
        if (!st)
            st = mw_expo_family(e, "modelwatch_host_filesystem_size_bytes", MW_EXPO_GAUGE,
                                "Size of the database's file system.");
        if (!st) st = mw_expo_sample_u64(e, NULL, pn, pv, 1, h->fs_total_bytes);
    }
    return st;
}

static mw_status gpu_families(mw_resources *r, mw_expo *e) {
    if (!r->nvml) return MW_OK;
    static const fam f[] = {
        {"modelwatch_gpu_utilization_ratio", MW_EXPO_GAUGE, "GPU compute utilisation."},
        {"modelwatch_gpu_memory_utilization_ratio", MW_EXPO_GAUGE,
         "GPU memory bandwidth utilisation."},
        {"modelwatch_gpu_memory_used_bytes", MW_EXPO_GAUGE, "GPU memory used."},
        {"modelwatch_gpu_memory_total_bytes", MW_EXPO_GAUGE, "GPU memory."},
        {"modelwatch_gpu_memory_used_ratio", MW_EXPO_GAUGE, "GPU memory used / total."},
        {"modelwatch_gpu_temperature_celsius", MW_EXPO_GAUGE, "GPU temperature."},
        {"modelwatch_gpu_power_watts", MW_EXPO_GAUGE, "GPU power draw."}};
    static const unsigned need[] = {
        MW_GPU_ABSENT_UTIL,   MW_GPU_ABSENT_UTIL, MW_GPU_ABSENT_MEMORY, MW_GPU_ABSENT_MEMORY,
        MW_GPU_ABSENT_MEMORY, MW_GPU_ABSENT_TEMP, MW_GPU_ABSENT_POWER};
    mw_status st = MW_OK;
    for (size_t k = 0; k < sizeof f / sizeof *f && !st; k++) {
        st = mw_expo_family(e, f[k].name, f[k].type, f[k].help);
        for (size_t i = 0; i < r->ngpus && !st; i++) {
            const mw_gpu_stats *g = &r->gpu[i];
            if (g->absent & need[k]) continue;
            char idx[16];
            snprintf(idx, sizeof idx, "%u", g->index);
            const char *n[3] = {"gpu", "uuid", "name"}, *v[3] = {idx, g->uuid, g->name};
            double val[] = {
                g->util_compute_ratio,
                g->util_memory_ratio,
                (double)g->mem_used_bytes,
                (double)g->mem_total_bytes,
                g->mem_total_bytes ? (double)g->mem_used_bytes / (double)g->mem_total_bytes : NAN,
                g->temperature_celsius,
                g->power_watts};
            if (!isnan(val[k])) st = mw_expo_sample(e, NULL, n, v, 3, val[k]);
        }
    }
    if (!st)
        st = mw_expo_family(e, "modelwatch_gpu_errors_total", MW_EXPO_COUNTER,
                            "NVML calls that failed (fields left out).");
    if (!st) st = mw_expo_sample_u64(e, NULL, NULL, NULL, 0, mw_nvml_errors_total(r->nvml));
    return st;
}

mw_status mw_resources_write_metrics(mw_resources *r, mw_expo *e) {
    pthread_mutex_lock(&r->lock);
    mw_status st = MW_OK;
    if (r->samples) {
        st = process_families(r, e);
        if (!st) st = host_families(r, e);
        if (!st) st = gpu_families(r, e);
    }
    if (!st)
        st = mw_expo_family(e, "modelwatch_resource_sample_errors_total", MW_EXPO_COUNTER,
                            "Watched processes not found and unreadable sources.");
    if (!st) st = mw_expo_sample_u64(e, NULL, NULL, NULL, 0, r->sample_errors);
    if (!st)
        st = mw_expo_family(e, "modelwatch_resource_sample_cpu_seconds", MW_EXPO_GAUGE,
                            "CPU time the last resource sample cost.");
    if (!st) st = mw_expo_sample(e, NULL, NULL, NULL, 0, r->last_cost_seconds);
    pthread_mutex_unlock(&r->lock);
    return st;
}
