/*
 * Helpers shared by the perf_*.c files: portable little-endian encoding of the
 * serialised states, and the Neumaier sum. Internal to src/monitor.
 */
#ifndef MW_MONITOR_PERF_INT_H
#define MW_MONITOR_PERF_INT_H

#include <stdint.h>
#include <string.h>

static inline void mw_perf_put_u64(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}
static inline uint64_t mw_perf_get_u64(const unsigned char *p) {
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}
static inline void mw_perf_put_f64(unsigned char *p, double d) {
    uint64_t v;
    memcpy(&v, &d, 8);
    mw_perf_put_u64(p, v);
}
static inline double mw_perf_get_f64(const unsigned char *p) {
    uint64_t v = mw_perf_get_u64(p);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

#endif
