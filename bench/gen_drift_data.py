#!/usr/bin/python3
"""Writes the drift benchmark data: ROWS rows (default 1,000,000) of 10 numeric
columns (full-precision repr() floats, as pandas writes them) and 2 categorical
columns, as reference.csv and current.csv in the given folder. The current data
drifts in half of the columns.

usage: /usr/bin/python3 bench/gen_drift_data.py OUT_DIR [ROWS]
"""
import os
import sys

import numpy as np
import pandas as pd

out = sys.argv[1]
rows = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
os.makedirs(out, exist_ok=True)


def frame(seed, drift):
    rng = np.random.default_rng(seed)
    d = {}
    for i in range(10):
        shift = 0.25 * drift if i % 2 == 0 else 0.0
        d["num%d" % i] = rng.normal(i + shift, 1.0 + i / 10, rows)
    d["country"] = rng.choice(["DE", "FR", "US", "GB", "IT", "ES"], rows,
                              p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1] if not drift
                              else [0.2, 0.2, 0.3, 0.1, 0.1, 0.1])
    d["device"] = rng.choice(["ios", "android", "web"], rows, p=[0.3, 0.4, 0.3])
    return pd.DataFrame(d)


for name, seed, drift in (("reference.csv", 1, 0), ("current.csv", 2, 1)):
    path = os.path.join(out, name)
    frame(seed, drift).to_csv(path, index=False)
    print("wrote", path, os.path.getsize(path) // (1 << 20), "MiB")
