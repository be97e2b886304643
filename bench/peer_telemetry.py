#!/usr/bin/env python3
"""Peer for bench/bench_telemetry.sh: the CPU cost of one psutil sample of the
host and this process, as the issue measures it: psutil.cpu_percent() +
psutil.virtual_memory() + psutil.Process().memory_info() per call, timed with
time.process_time() over N calls (default 10,000) after 100 warm-up calls.
Prints "cpu_us_per_call X" and "wall_us_per_call Y". Run with /usr/bin/python3
(Debian python3-psutil 5.9)."""
import sys
import time

import psutil


def once():
    psutil.cpu_percent()
    psutil.virtual_memory()
    psutil.Process().memory_info()


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
    for _ in range(100):
        once()
    c0, w0 = time.process_time(), time.perf_counter()
    for _ in range(n):
        once()
    c1, w1 = time.process_time(), time.perf_counter()
    print("psutil %s" % psutil.__version__)
    print("cpu_us_per_call %.2f" % ((c1 - c0) * 1e6 / n))
    print("wall_us_per_call %.2f" % ((w1 - w0) * 1e6 / n))


if __name__ == "__main__":
    main()
