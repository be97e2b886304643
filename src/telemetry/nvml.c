/*
 * NVIDIA GPUs through NVML (issue 6, item 4), loaded at run time with dlopen so
 * that modelwatch has no build-time dependency on the driver: the library is
 * MW_NVML_LIBRARY from the environment when set (tests point it at a fake),
 * else "libnvidia-ml.so.1" (installed by the driver).
 *
 * The few NVML types used are declared here from the NVML API reference
 * (docs.nvidia.com/deploy/nvml-api, nvml.h): nvmlReturn_t is an int (0 =
 * NVML_SUCCESS, 7 = NVML_ERROR_INSUFFICIENT_SIZE), nvmlDevice_t an opaque
 * pointer, nvmlUtilization_t {gpu, memory} in percent of the last sample period,
 * nvmlMemory_t {total, free, used} in bytes, temperature in °C
 * (sensor NVML_TEMPERATURE_GPU = 0), power in milliwatts, and nvmlProcessInfo_t
 * {pid, usedGpuMemory bytes, gpuInstanceId, computeInstanceId} for the _v2 and
 * _v3 process queries ({pid, usedGpuMemory} for the original one).
 *
 * Required symbols: nvmlInit_v2, nvmlShutdown, nvmlDeviceGetCount_v2,
 * nvmlDeviceGetHandleByIndex_v2. Everything else is optional: a missing symbol
 * or a failing call marks the field absent and counts an error; never fatal.
 */
#include "telemetry/telemetry_int.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

typedef int nv_ret;
typedef void *nv_dev;
typedef struct {
    unsigned int gpu, memory;
} nv_util;
typedef struct {
    unsigned long long total, free, used;
} nv_mem;
typedef struct {
    unsigned int pid;
    unsigned long long used;
    unsigned int gpu_instance, compute_instance;
} nv_proc_v2; /* nvmlProcessInfo_t for _v2 and _v3 */
typedef struct {
    unsigned int pid;
    unsigned long long used;
} nv_proc_v1;

#define NV_SUCCESS 0
#define NV_INSUFFICIENT_SIZE 7
#define NV_TEMPERATURE_GPU 0
#define NV_VALUE_NOT_AVAILABLE 0xFFFFFFFFFFFFFFFFull

struct mw_nvml {
    void *lib;
    nv_ret (*shutdown)(void);
    nv_ret (*handle_by_index)(unsigned int, nv_dev *);
    nv_ret (*get_name)(nv_dev, char *, unsigned int);
    nv_ret (*get_uuid)(nv_dev, char *, unsigned int);
    nv_ret (*get_util)(nv_dev, nv_util *);
    nv_ret (*get_mem)(nv_dev, nv_mem *);
    nv_ret (*get_temp)(nv_dev, int, unsigned int *);
    nv_ret (*get_power)(nv_dev, unsigned int *);
    nv_ret (*procs_v2)(nv_dev, unsigned int *, nv_proc_v2 *); /* _v3 or _v2 */
    nv_ret (*procs_v1)(nv_dev, unsigned int *, nv_proc_v1 *);
    unsigned int count;
    uint64_t errors;
};

/* dlsym into a function pointer without the object-to-function cast warning */
static void sym(void *lib, const char *name, void *fp) {
    void *p = dlsym(lib, name);
    memcpy(fp, &p, sizeof p);
}

mw_status mw_nvml_open(mw_nvml **out, mw_error *err) {
    return mw_nvml_open_library(NULL, out, err);
}

mw_status mw_nvml_open_library(const char *library, mw_nvml **out, mw_error *err) {
    if (!out) return mw_error_set(err, MW_EINVAL, "", 0, 0, "mw_nvml_open: out is NULL");
    *out = NULL;
    if (!library || !*library) library = getenv("MW_NVML_LIBRARY");
    if (!library || !*library) library = "libnvidia-ml.so.1";
    void *lib = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return mw_error_set(err, MW_ENOTFOUND, "", 0, 0,
                            "NVML not loaded (%s): no NVIDIA driver here, GPU metrics are off",
                            library);
    mw_nvml *h = calloc(1, sizeof *h);
    if (!h) {
        dlclose(lib);
        return mw_error_set(err, MW_ENOMEM, "", 0, 0, "out of memory opening NVML");
    }
    h->lib = lib;
    nv_ret (*init)(void) = NULL;
    nv_ret (*get_count)(unsigned int *) = NULL;
    sym(lib, "nvmlInit_v2", &init);
    sym(lib, "nvmlShutdown", &h->shutdown);
    sym(lib, "nvmlDeviceGetCount_v2", &get_count);
    sym(lib, "nvmlDeviceGetHandleByIndex_v2", &h->handle_by_index);
    sym(lib, "nvmlDeviceGetName", &h->get_name);
    sym(lib, "nvmlDeviceGetUUID", &h->get_uuid);
    sym(lib, "nvmlDeviceGetUtilizationRates", &h->get_util);
    sym(lib, "nvmlDeviceGetMemoryInfo", &h->get_mem);
    sym(lib, "nvmlDeviceGetTemperature", &h->get_temp);
    sym(lib, "nvmlDeviceGetPowerUsage", &h->get_power);
    sym(lib, "nvmlDeviceGetComputeRunningProcesses_v3", &h->procs_v2);
    if (!h->procs_v2) sym(lib, "nvmlDeviceGetComputeRunningProcesses_v2", &h->procs_v2);
    if (!h->procs_v2) sym(lib, "nvmlDeviceGetComputeRunningProcesses", &h->procs_v1);
    if (!init || !h->shutdown || !get_count || !h->handle_by_index) {
        dlclose(lib);
        free(h);
        return mw_error_set(err, MW_ENOTFOUND, "", 0, 0,
                            "NVML library %s lacks nvmlInit_v2/nvmlDeviceGetCount_v2 (driver "
                            "too old?): GPU metrics are off",
                            library);
    }
    nv_ret rc = init();
    if (rc != NV_SUCCESS) {
        dlclose(lib);
        free(h);
        return mw_error_set(err, MW_EIO, "", 0, 0,
                            "nvmlInit_v2 failed with NVML error %d: GPU metrics are off", rc);
    }
    unsigned int count = 0;
    rc = get_count(&count);
    if (rc != NV_SUCCESS || count == 0) {
        h->shutdown();
        dlclose(lib);
        free(h);
        if (rc != NV_SUCCESS)
            return mw_error_set(err, MW_EIO, "", 0, 0,
                                "nvmlDeviceGetCount_v2 failed with NVML error %d: GPU metrics "
                                "are off",
                                rc);
        return mw_error_set(err, MW_ENOTFOUND, "", 0, 0, "NVML found no GPU: GPU metrics are off");
    }
    h->count = count;
    *out = h;
    return MW_OK;
}

void mw_nvml_close(mw_nvml *h) {
    if (!h) return;
    h->shutdown();
    dlclose(h->lib);
    free(h);
}

size_t mw_nvml_device_count(const mw_nvml *h) {
    return h ? h->count : 0;
}

uint64_t mw_nvml_errors_total(const mw_nvml *h) {
    return h ? h->errors : 0;
}

static void sample_one(mw_nvml *h, unsigned int i, mw_gpu_stats *g) {
    memset(g, 0, sizeof *g);
    g->index = i;
    nv_dev dev = NULL;
    if (h->handle_by_index(i, &dev) != NV_SUCCESS) {
        g->absent = MW_GPU_ABSENT_ALL;
        h->errors++;
        return;
    }
    if (!h->get_name || h->get_name(dev, g->name, sizeof g->name) != NV_SUCCESS)
        g->name[0] = '\0', g->absent |= MW_GPU_ABSENT_NAME;
    g->name[sizeof g->name - 1] = '\0';
    if (!h->get_uuid || h->get_uuid(dev, g->uuid, sizeof g->uuid) != NV_SUCCESS)
        g->uuid[0] = '\0', g->absent |= MW_GPU_ABSENT_UUID;
    g->uuid[sizeof g->uuid - 1] = '\0';
    nv_util u;
    if (h->get_util && h->get_util(dev, &u) == NV_SUCCESS) {
        g->util_compute_ratio = u.gpu / 100.0;
        g->util_memory_ratio = u.memory / 100.0;
    } else
        g->absent |= MW_GPU_ABSENT_UTIL;
    nv_mem m;
    if (h->get_mem && h->get_mem(dev, &m) == NV_SUCCESS) {
        g->mem_total_bytes = m.total;
        g->mem_used_bytes = m.used;
    } else
        g->absent |= MW_GPU_ABSENT_MEMORY;
    unsigned int t;
    if (h->get_temp && h->get_temp(dev, NV_TEMPERATURE_GPU, &t) == NV_SUCCESS)
        g->temperature_celsius = t;
    else
        g->absent |= MW_GPU_ABSENT_TEMP;
    unsigned int mw;
    if (h->get_power && h->get_power(dev, &mw) == NV_SUCCESS)
        g->power_watts = mw / 1000.0;
    else
        g->absent |= MW_GPU_ABSENT_POWER;
    for (unsigned b = g->absent; b; b &= b - 1)
        h->errors++;
}

mw_status mw_nvml_sample(mw_nvml *h, mw_gpu_stats *gpus, size_t max, size_t *n) {
    if (n) *n = 0;
    if (!h || !n || (max && !gpus)) return MW_EINVAL;
    size_t k = 0;
    for (unsigned int i = 0; i < h->count && k < max; i++)
        sample_one(h, i, &gpus[k++]);
    *n = k;
    return MW_OK;
}

/* Adds the processes of one device to used_bytes; returns 0, or -1 on failure. */
static int device_procs(mw_nvml *h, nv_dev dev, const pid_t *pids, size_t npids,
                        uint64_t *used_bytes) {
    unsigned int cap = 64;
    for (int attempt = 0; attempt < 4; attempt++) {
        unsigned int cnt = cap;
        size_t elem = h->procs_v2 ? sizeof(nv_proc_v2) : sizeof(nv_proc_v1);
        void *buf = calloc(cap, elem);
        if (!buf) return -1;
        nv_ret rc = h->procs_v2 ? h->procs_v2(dev, &cnt, buf) : h->procs_v1(dev, &cnt, buf);
        if (rc == NV_INSUFFICIENT_SIZE) {
            free(buf);
            cap = cnt > cap ? cnt + 16 : cap * 2;
            continue;
        }
        if (rc != NV_SUCCESS) {
            free(buf);
            return -1;
        }
        if (cnt > cap) cnt = cap;
        for (unsigned int j = 0; j < cnt; j++) {
            unsigned int pid;
            unsigned long long used;
            if (h->procs_v2) {
                const nv_proc_v2 *p = (const nv_proc_v2 *)buf + j;
                pid = p->pid, used = p->used;
            } else {
                const nv_proc_v1 *p = (const nv_proc_v1 *)buf + j;
                pid = p->pid, used = p->used;
            }
            /* NVML_VALUE_NOT_AVAILABLE under some virtualisation: counts 0 */
            if (used == NV_VALUE_NOT_AVAILABLE) continue;
            for (size_t q = 0; q < npids; q++)
                if ((unsigned int)pids[q] == pid) used_bytes[q] += used;
        }
        free(buf);
        return 0;
    }
    return -1;
}

mw_status mw_nvml_process_memory(mw_nvml *h, const pid_t *pids, size_t npids, uint64_t *used_bytes,
                                 size_t *failed_devices) {
    if (failed_devices) *failed_devices = 0;
    if (!h || (npids && (!pids || !used_bytes))) return MW_EINVAL;
    for (size_t q = 0; q < npids; q++)
        used_bytes[q] = 0;
    if (!h->procs_v2 && !h->procs_v1) return MW_ENOTFOUND;
    size_t failed = 0;
    for (unsigned int i = 0; i < h->count; i++) {
        nv_dev dev = NULL;
        if (h->handle_by_index(i, &dev) != NV_SUCCESS ||
            device_procs(h, dev, pids, npids, used_bytes) != 0) {
            failed++;
            h->errors++;
        }
    }
    if (failed_devices) *failed_devices = failed;
    return MW_OK;
}
