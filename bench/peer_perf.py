#!/usr/bin/python3
"""The peer of bench/bench_perf.c: times scikit-learn 1.2 on the same arrays
(read from DIR, file parsing excluded), best of RUNS runs, and prints one line
per metric: "name seconds value" (the value checks both computed the same).

usage: /usr/bin/python3 bench/peer_perf.py DIR [RUNS]
"""
import sys
import time
import warnings

import numpy as np
import sklearn.metrics as M

warnings.simplefilter("ignore")
d = sys.argv[1]
runs = int(sys.argv[2]) if len(sys.argv) > 2 else 3
yt = np.fromfile(d + "/y_true.u32", dtype=np.uint32).astype(np.int64)
yp = np.fromfile(d + "/y_pred.u32", dtype=np.uint32).astype(np.int64)
yb = np.fromfile(d + "/yb.u32", dtype=np.uint32).astype(np.int64)
s = np.fromfile(d + "/score.f64", dtype=np.float64)

tests = [
    ("precision_recall_fscore_support_macro",
     lambda: M.precision_recall_fscore_support(yt, yp, average="macro", zero_division=0)[2]),
    ("confusion_matrix", lambda: M.confusion_matrix(yt, yp)[0, 0]),
    ("accuracy_score", lambda: M.accuracy_score(yt, yp)),
    ("roc_auc_score", lambda: M.roc_auc_score(yb, s)),
    ("average_precision_score", lambda: M.average_precision_score(yb, s)),
    ("log_loss", lambda: M.log_loss(yb, s)),
]
for name, fn in tests:
    best = float("inf")
    for _ in range(runs):
        t0 = time.perf_counter()
        v = fn()
        best = min(best, time.perf_counter() - t0)
    print("%s %.6f %r" % (name, best, float(v)))
