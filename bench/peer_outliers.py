#!/usr/bin/python3
"""scikit-learn side of bench/bench_outliers.sh.

  peer_outliers.py gen DIR N_IF N_LOF D   writes the benchmark data (seeded)
  peer_outliers.py run DIR                times sklearn on it, checks
                                          modelwatch's LOF scores against it

Data: Isolation Forest reference = current = N_IF x D (standard normal with 1%
shifted rows); LOF reference and current N_LOF x D each. Files are two u64
(rows, columns) then row-major float64, read by bench_outliers.c.
"""
import sys
import time

import numpy as np


def write(path, x):
    x = np.ascontiguousarray(x, dtype="<f8")
    with open(path, "wb") as f:
        np.array(x.shape, dtype="<u8").tofile(f)
        x.tofile(f)


def read(path):
    with open(path, "rb") as f:
        n, d = np.fromfile(f, dtype="<u8", count=2)
        return np.fromfile(f, dtype="<f8").reshape(int(n), int(d))


def gen(d, n_if, n_lof, k):
    rng = np.random.default_rng(1234)
    def data(n):
        x = rng.normal(0, 1, (n, k))
        x[: n // 100] += 4
        return x[rng.permutation(n)]
    write(d + "/if_ref.f64", data(n_if))
    write(d + "/if_cur.f64", data(n_if))
    write(d + "/lof_ref.f64", data(n_lof))
    write(d + "/lof_cur.f64", data(n_lof))


def run(d):
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import LocalOutlierFactor
    ref, cur = read(d + "/if_ref.f64"), read(d + "/if_cur.f64")
    t0 = time.perf_counter()
    f = IsolationForest(n_estimators=100, random_state=1).fit(ref)
    fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    s = -f.score_samples(cur)
    score = time.perf_counter() - t0
    print("sk_iforest_fit_s %.6f" % fit)
    print("sk_iforest_score_s %.6f" % score)
    print("sk_iforest_rows_per_s %.0f" % (len(cur) / score))
    print("sk_iforest_mean_score %.6f" % s.mean())
    # one record at a time, as a live service would call it
    t0 = time.perf_counter()
    for i in range(200):
        f.score_samples(cur[i:i + 1])
    print("sk_iforest_live_us_per_record %.1f" % ((time.perf_counter() - t0) / 200 * 1e6))
    ref, cur = read(d + "/lof_ref.f64"), read(d + "/lof_cur.f64")
    t0 = time.perf_counter()
    lof = LocalOutlierFactor(n_neighbors=20, novelty=True).fit(ref)
    fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    s = -lof.score_samples(cur)
    score = time.perf_counter() - t0
    print("sk_lof_fit_s %.6f" % fit)
    print("sk_lof_score_s %.6f" % score)
    ours = np.fromfile(d + "/lof_scores.f64", dtype="<f8")
    print("lof_max_rel_diff %.3g" % np.max(np.abs(ours - s) / np.abs(s)))


if __name__ == "__main__":
    if sys.argv[1] == "gen":
        gen(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    else:
        run(sys.argv[2])
