/*
 * A fake libnvidia-ml.so.1 for the NVML tests (tests/integration/test_telemetry_nvml.sh,
 * tests/unit/test_telemetry.c): the same function names and signatures as NVML
 * (nvml.h), returning known values, so that src/telemetry/nvml.c is tested
 * through its real dlopen path on machines without a GPU.
 *
 * Build: cc -shared -fPIC tests/support/fake_nvml.c -o libfake.so
 *        (-DFAKE_V1_ONLY: only the original nvmlDeviceGetComputeRunningProcesses)
 * Environment: FAKE_NVML_COUNT (devices, default 2), FAKE_NVML_MANY=1 (see nprocs),
 * FAKE_NVML_INIT_FAIL=1 (nvmlInit_v2 returns 999, NVML_ERROR_UNKNOWN), FAKE_NVML_BAD_HANDLE=1
 * (device 1's handle cannot be had).
 *
 * Known values:
 *   gpu0 "Fake GPU Alpha" GPU-00000000-1111-2222-3333-444444444444 util 37 %/12 %,
 *        memory 5 GiB used of 80 GiB, 41 °C, 123456 mW;
 *        processes 4242 (1 GiB), 4343 (2 GiB)
 *   gpu1 "Fake GPU Beta" GPU-55555555-6666-7777-8888-999999999999 util 99 %/50 %,
 *        memory info and temperature fail (NVML_ERROR_NOT_SUPPORTED = 3), 300000 mW;
 *        processes 4242 (512 MiB), 5000 (NVML_VALUE_NOT_AVAILABLE)
 * The process calls answer NVML_ERROR_INSUFFICIENT_SIZE (7) when the caller's
 * array is too small, as NVML does.
 */
#include <stdlib.h>
#include <string.h>

typedef struct {
    unsigned int gpu, memory;
} nvmlUtilization_t;
typedef struct {
    unsigned long long total, free, used;
} nvmlMemory_t;
typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
    unsigned int gpuInstanceId, computeInstanceId;
} nvmlProcessInfo_t;
typedef struct {
    unsigned int pid;
    unsigned long long usedGpuMemory;
} nvmlProcessInfo_v1_t;

typedef struct fake_dev {
    int index;
} * nvmlDevice_t;

static struct fake_dev devs[8] = {{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}};

#define GIB (1024ull * 1024 * 1024)

static unsigned int count(void) {
    const char *c = getenv("FAKE_NVML_COUNT");
    unsigned int n = c ? (unsigned int)atoi(c) : 2;
    return n > 8 ? 8 : n;
}

int nvmlInit_v2(void) {
    const char *f = getenv("FAKE_NVML_INIT_FAIL");
    return f && *f == '1' ? 999 : 0;
}
int nvmlShutdown(void) {
    return 0;
}
int nvmlDeviceGetCount_v2(unsigned int *n) {
    *n = count();
    return 0;
}
int nvmlDeviceGetHandleByIndex_v2(unsigned int i, nvmlDevice_t *d) {
    const char *b = getenv("FAKE_NVML_BAD_HANDLE");
    if (i >= count() || (i == 1 && b && *b == '1')) return 2;
    *d = &devs[i];
    return 0;
}
static int copy(char *dst, unsigned int len, const char *s) {
    if (strlen(s) + 1 > len) return 7;
    memcpy(dst, s, strlen(s) + 1);
    return 0;
}
int nvmlDeviceGetName(nvmlDevice_t d, char *name, unsigned int len) {
    return copy(name, len, d->index == 0 ? "Fake GPU Alpha" : "Fake GPU Beta");
}
int nvmlDeviceGetUUID(nvmlDevice_t d, char *uuid, unsigned int len) {
    return copy(uuid, len,
                d->index == 0 ? "GPU-00000000-1111-2222-3333-444444444444"
                              : "GPU-55555555-6666-7777-8888-999999999999");
}
int nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t *u) {
    u->gpu = d->index == 0 ? 37 : 99;
    u->memory = d->index == 0 ? 12 : 50;
    return 0;
}
int nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t *m) {
    if (d->index != 0) return 3;
    m->total = 80 * GIB;
    m->used = 5 * GIB;
    m->free = 75 * GIB;
    return 0;
}
int nvmlDeviceGetTemperature(nvmlDevice_t d, int sensor, unsigned int *t) {
    if (d->index != 0 || sensor != 0) return 3;
    *t = 41;
    return 0;
}
int nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned int *mw) {
    *mw = d->index == 0 ? 123456 : 300000;
    return 0;
}

static const struct {
    unsigned int pid;
    unsigned long long used;
} procs[2][2] = {{{4242, 1 * GIB}, {4343, 2 * GIB}},
                 {{4242, GIB / 2}, {5000, 0xFFFFFFFFFFFFFFFFull}}};

/* FAKE_NVML_MANY=1: device 0 also runs 100 processes 10000..10099 of 1 MiB each,
 * more than a first guess of 64 slots, to exercise the INSUFFICIENT_SIZE retry */
static unsigned int nprocs(nvmlDevice_t d) {
    const char *m = getenv("FAKE_NVML_MANY");
    if (d->index >= 2) return 0;
    return d->index == 0 && m && *m == '1' ? 102 : 2;
}
static void proc_at(nvmlDevice_t d, unsigned int i, unsigned int *pid, unsigned long long *used) {
    if (i < 2) {
        *pid = procs[d->index][i].pid;
        *used = procs[d->index][i].used;
    } else {
        *pid = 10000 + (i - 2);
        *used = 1024 * 1024;
    }
}

#ifndef FAKE_V1_ONLY
int nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned int *n, nvmlProcessInfo_t *p) {
    unsigned int have = nprocs(d);
    if (*n < have) {
        *n = have;
        return 7;
    }
    for (unsigned int i = 0; i < have; i++) {
        proc_at(d, i, &p[i].pid, &p[i].usedGpuMemory);
        p[i].gpuInstanceId = p[i].computeInstanceId = 0xFFFFFFFFu;
    }
    *n = have;
    return 0;
}
#endif

int nvmlDeviceGetComputeRunningProcesses(nvmlDevice_t d, unsigned int *n, nvmlProcessInfo_v1_t *p) {
    unsigned int have = nprocs(d);
    if (*n < have) {
        *n = have;
        return 7;
    }
    for (unsigned int i = 0; i < have; i++)
        proc_at(d, i, &p[i].pid, &p[i].usedGpuMemory);
    *n = have;
    return 0;
}
