#!/usr/bin/python3
"""The label-join peer: Python indexes the predictions by id (not timed), then
parses each label line with json.loads, finds its prediction and counts the
(label, prediction) pair, as a hand-written join would; prints labels/s.
usage: /usr/bin/python3 bench/peer_labels.py preds.ndjson labels.ndjson"""
import collections
import json
import sys
import time

preds = {}
for line in open(sys.argv[1], "rb"):
    r = json.loads(line)
    preds[(r["model"], r["id"])] = r["prediction"]
labels = open(sys.argv[2], "rb").read().splitlines()
counts = collections.Counter()
t0 = time.perf_counter()
for line in labels:
    r = json.loads(line)
    p = preds.get((r["model"], r["id"]))
    if p is not None:
        counts[(r["label"], p)] += 1
print("%.0f" % (len(labels) / (time.perf_counter() - t0)))
