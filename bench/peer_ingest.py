#!/usr/bin/python3
"""The ingestion peer: Python parses the same NDJSON body with json.loads and
touches every field (no statistics at all), for SECONDS; prints records/s.
usage: /usr/bin/python3 bench/peer_ingest.py records.ndjson [SECONDS]"""
import json
import sys
import time

lines = open(sys.argv[1], "rb").read().splitlines()
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5
n = 0
t0 = time.perf_counter()
while time.perf_counter() - t0 < seconds:
    for line in lines:
        r = json.loads(line)
        _ = (r["model"], r["version"], r.get("id"), r.get("prediction"))
        for k, v in r["features"].items():
            pass
    n += len(lines)
print("%.0f" % (n / (time.perf_counter() - t0)))
