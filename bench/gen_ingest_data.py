#!/usr/bin/python3
"""Writes the ingestion benchmark's inputs into OUT_DIR: reference.csv (10,000
rows) and records.ndjson (1,000 records of 10 numeric and 2 categorical features,
model "bench", version "1", full-precision floats).
usage: /usr/bin/python3 bench/gen_ingest_data.py OUT_DIR"""
import json
import os
import sys

import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(3)
cats = (["DE", "FR", "US", "GB", "IT", "ES"], ["ios", "android", "web"])
with open(os.path.join(out, "reference.csv"), "w") as f:
    f.write(",".join(["f%d" % i for i in range(10)] + ["country", "device"]) + "\n")
    for r in range(10000):
        f.write(",".join(repr(float(rng.normal(i, 1))) for i in range(10)) + ",%s,%s\n"
                % (cats[0][r % 6], cats[1][r % 3]))
with open(os.path.join(out, "records.ndjson"), "w") as f:
    for r in range(1000):
        feats = {"f%d" % i: float(rng.normal(i + 0.1, 1)) for i in range(10)}
        feats["country"] = cats[0][r % 6]
        feats["device"] = cats[1][r % 3]
        f.write(json.dumps({"model": "bench", "version": "1", "id": "r-%d" % r,
                            "features": feats, "prediction": int(r % 2),
                            "latency_ms": 5.0 + r % 7}) + "\n")
