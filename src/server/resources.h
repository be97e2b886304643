/*
 * Resource sampling of the daemon (issue #6): its own process, watched
 * processes (by pid, or by name re-resolved at every sample so that a watched
 * model server that restarts is found again), the host, and NVIDIA GPUs
 * through NVML when the library and a GPU are there. Sampled from the
 * scheduler thread every interval (default 5 s), never on the ingestion path;
 * /metrics reads the latest sample.
 */
#ifndef MW_SERVER_RESOURCES_H
#define MW_SERVER_RESOURCES_H

#include <pthread.h>

#include "modelwatch/telemetry.h"
#include "server/expo.h"

#define MW_MAX_TARGETS 64
#define MW_MAX_GPUS 16

typedef struct mw_resources {
    pthread_mutex_t lock;
    const char *fs_path; /* the database's file system */
    pid_t watch_pids[MW_MAX_TARGETS];
    size_t nwatch_pids;
    const char *watch_names[MW_MAX_TARGETS];
    size_t nwatch_names;
    mw_nvml *nvml; /* NULL without NVML or GPUs */
    /* the latest sample */
    size_t ntargets; /* [0] is the daemon itself */
    mw_proc_stats target[MW_MAX_TARGETS + 1];
    double target_cpu_ratio[MW_MAX_TARGETS + 1];
    uint64_t target_gpu_bytes[MW_MAX_TARGETS + 1];
    int has_host;
    mw_host_stats host;
    double host_cpu_ratio[MW_CPU_MODE_COUNT];
    size_t ngpus;
    mw_gpu_stats gpu[MW_MAX_GPUS];
    uint64_t sample_errors;   /* watched processes not found, unreadable files */
    double last_cost_seconds; /* CPU time of the last sample */
    uint64_t samples;
} mw_resources;

/* Opens NVML (logging one line when absent) and takes the watch lists; the
 * strings must outlive the sampler. */
void mw_resources_init(mw_resources *r, const char *fs_path, const pid_t *pids, size_t npids,
                       const char *const *names, size_t nnames);
void mw_resources_free(mw_resources *r);
void mw_resources_sample(mw_resources *r);
mw_status mw_resources_write_metrics(mw_resources *r, mw_expo *e);

#endif
