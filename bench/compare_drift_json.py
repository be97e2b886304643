#!/usr/bin/python3
"""Compares two drift JSON reports column by column (deciding test, statistic,
p-value, drift flag) and prints the largest relative difference.

usage: compare_drift_json.py OURS.json PEER.json
"""
import json
import sys

ours = {c["name"]: c["drift"] for c in json.load(open(sys.argv[1]))["columns"]}
peer = {c["name"]: c["drift"] for c in json.load(open(sys.argv[2]))["columns"]}
worst = 0.0
bad = 0
for name, p in peer.items():
    o = ours.get(name)
    if o is None or o["test"] != p["test"] or o["drifted"] != p["drifted"]:
        print("MISMATCH", name, o, p)
        bad += 1
        continue
    for key in ("statistic", "p_value"):
        if p.get(key) is None:
            continue
        d = abs(o[key] - p[key]) / max(abs(p[key]), 1e-300)
        worst = max(worst, d)
print("columns compared: %d, mismatches: %d, max relative difference: %.3g"
      % (len(peer), bad, worst))
sys.exit(1 if bad else 0)
