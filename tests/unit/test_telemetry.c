/*
 * Telemetry (src/telemetry): the /proc/PID/stat parser on hostile process names;
 * sampling this process against what the kernel tells it otherwise (getpid,
 * times(2), descriptors it opens, the name it sets); missing and foreign
 * processes (another user's process is sampled with io absent, never an error); lookup by comm and
 * by argv[0] with a process that exits and comes back; host memory against sysconf, CPU ratios
 * summing to 1, the file system; and NVML through the real dlopen path with the fake library
 * (tests/support/fake_nvml.c, compiled here with cc when one is installed).
 * The comparison with psutil is tests/integration/test_telemetry_psutil.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "modelwatch/telemetry.h"
#include "telemetry/telemetry_int.h"

/* Burns `seconds` of this process's CPU time (not wall time: on a loaded
 * machine a wall-clock spin may get less CPU than the assertions expect). */
static double cpu_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void spin(double seconds) {
    double t0 = cpu_now();
    volatile double x = 0;
    while (cpu_now() - t0 < seconds)
        x = x + 1;
    assert_true(x > 0);
}

static void test_parse_stat(void **state) {
    (void)state;
    mw_proc_stats s;
    memset(&s, 0, sizeof s);
    /* comm with spaces and parentheses; negative priority/nice fields */
    const char *t = "1234 (a) b (c) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 -2 -5 7 0 "
                    "4321 123456789 300 18446744073709551615 1 1 0 0\n";
    assert_int_equal(mw_tel_parse_proc_stat(t, 100, 4096, &s), 0);
    assert_int_equal(s.pid, 1234);
    assert_string_equal(s.name, "a) b (c");
    assert_int_equal(s.state, 'S');
    assert_int_equal(s.cpu_user_ticks, 250);
    assert_int_equal(s.cpu_system_ticks, 75);
    assert_true(s.cpu_user_seconds == 2.5);
    assert_true(s.cpu_system_seconds == 0.75);
    assert_int_equal(s.threads, 7);
    assert_int_equal(s.start_ticks, 4321);
    assert_true(s.start_seconds == 43.21);
    assert_int_equal(s.virtual_bytes, 123456789);
    assert_int_equal(s.resident_bytes, 300 * 4096);
    /* malformed: no comm, truncated, empty */
    assert_int_equal(mw_tel_parse_proc_stat("1234 a S 1 2", 100, 4096, &s), -1);
    assert_int_equal(mw_tel_parse_proc_stat("1234 (x) S 1 2 3", 100, 4096, &s), -1);
    assert_int_equal(mw_tel_parse_proc_stat("", 100, 4096, &s), -1);
    assert_int_equal(mw_tel_parse_proc_stat("12 (x)S 1", 100, 4096, &s), -1);
}

static void test_self(void **state) {
    (void)state;
    char old[16] = "";
    prctl(PR_GET_NAME, old, 0, 0, 0);
    prctl(PR_SET_NAME, "mw) tel (x", 0, 0, 0);
    spin(0.05);
    mw_proc_stats a, b;
    mw_error err;
    assert_int_equal(mw_proc_sample(0, &a, &err), MW_OK);
    struct tms tm;
    times(&tm);
    assert_int_equal(a.pid, getpid());
    assert_string_equal(a.name, "mw) tel (x");
    assert_int_equal(a.state, 'R');
    assert_int_equal(a.uid, geteuid());
    assert_int_equal(a.threads, 1);
    assert_int_equal(a.absent, 0);
    assert_true(a.resident_bytes > 0 && a.virtual_bytes > a.resident_bytes);
    assert_true(a.resident_bytes % (uint64_t)sysconf(_SC_PAGESIZE) == 0);
    /* CPU ticks within one tick of times(2), taken just after */
    assert_true(llabs((long long)a.cpu_user_ticks - (long long)tm.tms_utime) <= 1);
    assert_true(llabs((long long)a.cpu_system_ticks - (long long)tm.tms_stime) <= 1);
    assert_true(a.cpu_user_seconds + a.cpu_system_seconds >= 0.03);
    assert_true(a.read_chars > 0); /* we read /proc files */
    /* the same process by its pid number */
    assert_int_equal(mw_proc_sample(getpid(), &b, &err), MW_OK);
    assert_int_equal(b.pid, a.pid);
    assert_int_equal(b.start_ticks, a.start_ticks);
    /* three more descriptors are seen */
    int fds[3];
    for (int i = 0; i < 3; i++)
        fds[i] = open("/dev/null", O_RDONLY);
    assert_int_equal(mw_proc_sample(0, &b, &err), MW_OK);
    assert_int_equal(b.open_fds, a.open_fds + 3);
    for (int i = 0; i < 3; i++)
        close(fds[i]);
    /* write_chars counts what we write */
    int fd = open("/dev/null", O_WRONLY);
    char buf[4096] = {0};
    assert_int_equal(mw_proc_sample(0, &a, &err), MW_OK);
    for (int i = 0; i < 10; i++)
        assert_int_equal(write(fd, buf, sizeof buf), sizeof buf);
    close(fd);
    assert_int_equal(mw_proc_sample(0, &b, &err), MW_OK);
    assert_true(b.write_chars - a.write_chars >= 40960);
    prctl(PR_SET_NAME, old, 0, 0, 0);
}

static void test_cpu_ratio(void **state) {
    (void)state;
    mw_proc_stats a, b;
    double c0 = cpu_now();
    assert_int_equal(mw_proc_sample(0, &a, NULL), MW_OK);
    spin(0.3);
    assert_int_equal(mw_proc_sample(0, &b, NULL), MW_OK);
    double c1 = cpu_now();
    double r = mw_proc_cpu_ratio(&a, &b);
    /* the CPU time we burned over the wall time between the samples, whatever
     * the machine's load; /proc counts in 10 ms ticks (one at each end) */
    double wall = b.sampled_at - a.sampled_at, expected = (c1 - c0) / wall;
    assert_true(wall > 0 && r > 0 && r < 1.1);
    assert_true(fabs(r - expected) <= 0.02 / wall + 0.02);
    assert_true(isnan(mw_proc_cpu_ratio(&a, &a))); /* no time elapsed */
    mw_proc_stats c = b;
    c.start_ticks++; /* a restarted process with the same pid */
    assert_true(isnan(mw_proc_cpu_ratio(&a, &c)));
    c = b;
    c.pid++;
    assert_true(isnan(mw_proc_cpu_ratio(&a, &c)));
    assert_true(isnan(mw_proc_cpu_ratio(NULL, &b)));
}

static void test_missing(void **state) {
    (void)state;
    mw_proc_stats s;
    mw_error err;
    memset(&s, 0xab, sizeof s);
    assert_int_equal(mw_proc_sample(99999999, &s, &err), MW_ENOTFOUND);
    assert_int_equal(err.status, MW_ENOTFOUND);
    assert_non_null(strstr(err.message, "no process with id 99999999"));
    assert_int_equal(s.pid, 0); /* cleared */
    assert_int_equal(mw_proc_sample(-5, &s, &err), MW_EINVAL);
    assert_non_null(strstr(err.message, "negative"));
    assert_int_equal(mw_proc_sample(1, NULL, &err), MW_EINVAL);
    /* a child that exited and was reaped is gone */
    pid_t c = fork();
    if (c == 0) _exit(0);
    waitpid(c, NULL, 0);
    assert_int_equal(mw_proc_sample(c, &s, NULL), MW_ENOTFOUND);
}

/* Another user's process: sampled, with io absent, never an error. As
 * root, a child drops to nobody and samples pid 1; it reports through its exit
 * status. */
static int sample_foreign(void) {
    mw_proc_stats s;
    mw_error err;
    if (mw_proc_sample(1, &s, &err) != MW_OK) return 10;
    if (s.pid != 1 || s.uid == getuid()) return 11;
    if (!(s.absent & MW_PROC_ABSENT_IO) || s.read_bytes != 0) return 12;
    /* Linux >= 6.2 gives anyone the fd count through stat(2) of /proc/PID/fd
     * (measured on 6.18); older kernels refuse the listing: absent */
    if ((s.absent & MW_PROC_ABSENT_FDS) ? s.open_fds != 0 : s.open_fds == 0) return 13;
    if (s.resident_bytes == 0 && s.name[0] == '\0') return 14;
    return 0;
}

static void test_foreign(void **state) {
    (void)state;
    if (getuid() != 0) {
        mw_proc_stats s;
        if (mw_proc_sample(1, &s, NULL) == MW_OK && s.uid != getuid())
            assert_int_equal(sample_foreign(), 0);
        return;
    }
    pid_t c = fork();
    if (c == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(20);
        _exit(sample_foreign());
    }
    int st = 0;
    waitpid(c, &st, 0);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
}

/* A child named by prctl that waits to be killed. */
static pid_t start_named(const char *name) {
    int p[2];
    assert_int_equal(pipe(p), 0);
    pid_t c = fork();
    if (c == 0) {
        prctl(PR_SET_NAME, name, 0, 0, 0);
        close(p[0]);
        if (write(p[1], "x", 1) != 1) _exit(1);
        for (;;)
            pause();
    }
    close(p[1]);
    char x;
    assert_int_equal(read(p[0], &x, 1), 1);
    close(p[0]);
    return c;
}

static void stop(pid_t c) {
    kill(c, SIGKILL);
    waitpid(c, NULL, 0);
}

static void test_find_by_name(void **state) {
    (void)state;
    pid_t pids[8];
    size_t n = 99;
    mw_error err;
    assert_int_equal(mw_proc_find_by_name("mwtelchild", pids, 8, &n, &err), MW_OK);
    assert_int_equal(n, 0);
    pid_t c1 = start_named("mwtelchild");
    assert_int_equal(mw_proc_find_by_name("mwtelchild", pids, 8, &n, &err), MW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(pids[0], c1);
    mw_proc_stats s;
    assert_int_equal(mw_proc_sample(pids[0], &s, &err), MW_OK);
    assert_string_equal(s.name, "mwtelchild");
    /* it exits: gone; it comes back: found under its new pid */
    stop(c1);
    assert_int_equal(mw_proc_find_by_name("mwtelchild", pids, 8, &n, &err), MW_OK);
    assert_int_equal(n, 0);
    pid_t c2 = start_named("mwtelchild");
    pid_t c3 = start_named("mwtelchild");
    assert_int_equal(mw_proc_find_by_name("mwtelchild", pids, 8, &n, &err), MW_OK);
    assert_int_equal(n, 2);
    assert_int_equal(pids[0], c2 < c3 ? c2 : c3); /* sorted */
    assert_int_equal(pids[1], c2 < c3 ? c3 : c2);
    /* more matches than room: the count still says how many */
    assert_int_equal(mw_proc_find_by_name("mwtelchild", pids, 1, &n, &err), MW_OK);
    assert_int_equal(n, 2);
    assert_int_equal(mw_proc_find_by_name("mwtelchild", NULL, 0, &n, &err), MW_OK);
    assert_int_equal(n, 2);
    stop(c2);
    stop(c3);
    /* argv[0]'s basename, longer than comm's 15 bytes */
    pid_t c4 = fork();
    if (c4 == 0) {
        char *argv[] = {"/opt/nowhere/modelwatch-test-long-server", "30", NULL};
        execv("/bin/sleep", argv);
        _exit(127);
    }
    for (int i = 0; i < 200; i++) {
        assert_int_equal(mw_proc_find_by_name("modelwatch-test-long-server", pids, 8, &n, &err),
                         MW_OK);
        if (n) break;
        usleep(5000);
    }
    assert_int_equal(n, 1);
    assert_int_equal(pids[0], c4);
    stop(c4);
    /* bad arguments */
    assert_int_equal(mw_proc_find_by_name("", pids, 8, &n, &err), MW_EINVAL);
    assert_int_equal(mw_proc_find_by_name(NULL, pids, 8, &n, &err), MW_EINVAL);
    assert_int_equal(mw_proc_find_by_name("x", NULL, 8, &n, &err), MW_EINVAL);
}

static void test_host(void **state) {
    (void)state;
    mw_host_stats h;
    mw_error err;
    assert_int_equal(mw_host_sample(&h, "/", &err), MW_OK);
    uint64_t total = (uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
    /* sysconf rounds MemTotal to pages: within a page */
    assert_true(h.mem_total_bytes <= total + 4096 && h.mem_total_bytes + 4096 >= total);
    assert_int_equal(h.mem_used_bytes + h.mem_available_bytes, h.mem_total_bytes);
    assert_true(h.mem_available_bytes <= h.mem_total_bytes);
    assert_true(h.mem_used_ratio > 0 && h.mem_used_ratio < 1);
    assert_true(fabs(h.mem_used_ratio - (double)h.mem_used_bytes / (double)h.mem_total_bytes) <
                1e-12);
    assert_int_equal(h.cpus, (uint32_t)sysconf(_SC_NPROCESSORS_ONLN));
    assert_true(h.cpu_seconds[MW_CPU_IDLE] > 0 || h.cpu_seconds[MW_CPU_USER] > 0);
    assert_true(h.load1 >= 0 && h.load5 >= 0 && h.load15 >= 0);
    assert_true(h.has_fs);
    assert_true(h.fs_total_bytes > 0 && h.fs_free_bytes <= h.fs_total_bytes &&
                h.fs_avail_bytes <= h.fs_free_bytes);
    /* boot time: now minus uptime */
    struct timespec rt, bt;
    clock_gettime(CLOCK_REALTIME, &rt);
    clock_gettime(CLOCK_BOOTTIME, &bt);
    assert_true(fabs(h.boot_time - (double)(rt.tv_sec - bt.tv_sec)) < 2.0);
    /* no fs_path: has_fs stays 0 */
    assert_int_equal(mw_host_sample(&h, NULL, &err), MW_OK);
    assert_int_equal(h.has_fs, 0);
    /* a missing path: ENOTFOUND, every other field filled */
    assert_int_equal(mw_host_sample(&h, "/nonexistent/mw/db.sqlite", &err), MW_ENOTFOUND);
    assert_non_null(strstr(err.message, "/nonexistent/mw/db.sqlite"));
    assert_true(h.mem_total_bytes > 0 && h.cpus > 0 && !h.has_fs);
    assert_int_equal(mw_host_sample(NULL, "/", &err), MW_EINVAL);
}

static void test_host_ratios(void **state) {
    (void)state;
    mw_host_stats a, b;
    double r[MW_CPU_MODE_COUNT];
    assert_int_equal(mw_host_sample(&a, NULL, NULL), MW_OK);
    assert_int_equal(mw_host_cpu_ratios(&a, &a, r), MW_EINVAL); /* no tick elapsed */
    for (int m = 0; m < MW_CPU_MODE_COUNT; m++)
        assert_true(r[m] == 0);
    spin(0.2);
    assert_int_equal(mw_host_sample(&b, NULL, NULL), MW_OK);
    assert_int_equal(mw_host_cpu_ratios(&a, &b, r), MW_OK);
    double sum = 0;
    for (int m = 0; m < MW_CPU_MODE_COUNT; m++) {
        assert_true(r[m] >= 0 && r[m] <= 1);
        sum += r[m];
    }
    assert_true(fabs(sum - 1) < 1e-12);
    /* we kept one of the CPUs busy */
    assert_true(r[MW_CPU_USER] + r[MW_CPU_SYSTEM] + r[MW_CPU_NICE] >= 0.3 / b.cpus);
    /* a counter going backwards (other than iowait) is refused */
    mw_host_stats c = b;
    c.cpu_ticks[MW_CPU_USER] = a.cpu_ticks[MW_CPU_USER] - 1;
    assert_int_equal(mw_host_cpu_ratios(&a, &c, r), MW_EINVAL);
    c = b;
    c.cpu_ticks[MW_CPU_IOWAIT] = 0;
    assert_int_equal(mw_host_cpu_ratios(&a, &c, r), MW_OK);
    assert_string_equal(mw_cpu_mode_name(MW_CPU_USER), "user");
    assert_string_equal(mw_cpu_mode_name(MW_CPU_STEAL), "steal");
    assert_string_equal(mw_cpu_mode_name(MW_CPU_MODE_COUNT), "?");
}

static void test_nvml_absent(void **state) {
    (void)state;
    mw_nvml *h = (mw_nvml *)&h;
    mw_error err;
    assert_int_equal(mw_nvml_open_library("/nonexistent/libnvidia-ml.so.1", &h, &err),
                     MW_ENOTFOUND);
    assert_null(h);
    assert_non_null(strstr(err.message, "NVML not loaded"));
    assert_int_equal(mw_nvml_open_library("libm.so.6", &h, &err), MW_ENOTFOUND);
    assert_null(h);
    assert_non_null(strstr(err.message, "lacks nvmlInit_v2"));
    assert_int_equal(mw_nvml_open(NULL, &err), MW_EINVAL);
    mw_nvml_close(NULL);
    size_t n = 5;
    assert_int_equal(mw_nvml_sample(NULL, NULL, 0, &n), MW_EINVAL);
    assert_int_equal(n, 0);
    assert_int_equal(mw_nvml_device_count(NULL), 0);
    assert_int_equal(mw_nvml_errors_total(NULL), 0);
}

/* The fake library, compiled from the source tree next to the fixtures. */
static void test_nvml_fake(void **state) {
    (void)state;
    char lib[] = "/tmp/mw_fake_nvml_XXXXXX";
    int fd = mkstemp(lib);
    assert_true(fd >= 0);
    close(fd);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cc -shared -fPIC -o %s %s/../support/fake_nvml.c 2>/dev/null", lib,
             MW_FIXTURE_DIR);
    if (system(cmd) != 0) {
        unlink(lib);
        skip(); /* no compiler: tests/integration/test_telemetry_nvml.sh covers it */
    }
    mw_nvml *h = NULL;
    mw_error err;
    assert_int_equal(mw_nvml_open_library(lib, &h, &err), MW_OK);
    assert_int_equal(mw_nvml_device_count(h), 2);
    mw_gpu_stats g[4];
    size_t n = 0;
    assert_int_equal(mw_nvml_sample(h, g, 4, &n), MW_OK);
    assert_int_equal(n, 2);
    assert_int_equal(g[0].index, 0);
    assert_string_equal(g[0].name, "Fake GPU Alpha");
    assert_string_equal(g[0].uuid, "GPU-00000000-1111-2222-3333-444444444444");
    assert_true(fabs(g[0].util_compute_ratio - 0.37) < 1e-12);
    assert_true(fabs(g[0].util_memory_ratio - 0.12) < 1e-12);
    assert_int_equal(g[0].mem_total_bytes, 80ull << 30);
    assert_int_equal(g[0].mem_used_bytes, 5ull << 30);
    assert_true(g[0].temperature_celsius == 41);
    assert_true(fabs(g[0].power_watts - 123.456) < 1e-9);
    assert_int_equal(g[0].absent, 0);
    assert_int_equal(g[1].absent, MW_GPU_ABSENT_MEMORY | MW_GPU_ABSENT_TEMP);
    assert_true(fabs(g[1].power_watts - 300) < 1e-9);
    assert_int_equal(mw_nvml_errors_total(h), 2);
    /* max smaller than the device count */
    assert_int_equal(mw_nvml_sample(h, g, 1, &n), MW_OK);
    assert_int_equal(n, 1);
    assert_int_equal(mw_nvml_errors_total(h), 2);
    pid_t pids[3] = {4242, 4343, 5000};
    uint64_t used[3];
    size_t failed = 9;
    assert_int_equal(mw_nvml_process_memory(h, pids, 3, used, &failed), MW_OK);
    assert_int_equal(failed, 0);
    assert_int_equal(used[0], (1ull << 30) + (1ull << 29));
    assert_int_equal(used[1], 2ull << 30);
    assert_int_equal(used[2], 0); /* NVML_VALUE_NOT_AVAILABLE */
    mw_nvml_close(h);
    unlink(lib);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_stat),  cmocka_unit_test(test_self),
        cmocka_unit_test(test_cpu_ratio),   cmocka_unit_test(test_missing),
        cmocka_unit_test(test_foreign),     cmocka_unit_test(test_find_by_name),
        cmocka_unit_test(test_host),        cmocka_unit_test(test_host_ratios),
        cmocka_unit_test(test_nvml_absent), cmocka_unit_test(test_nvml_fake),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
