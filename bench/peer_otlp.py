#!/usr/bin/env python3
"""Peer for bench/bench_otlp.sh: the same OTLP JSON requests read by Python's
json.loads, each GenAI span's attributes put in a dict and the record fields
taken out (model, tokens, finish reason, latency), the work an OTLP receiver
written in Python does at least. Usage: peer_otlp.py FILE (one request per
line). Prints "spans N", "mapped M" and "spans_per_s X" (per second of CPU
time, as bench_otlp)."""
import json
import sys
import time


def main():
    lines = open(sys.argv[1], "rb").read().splitlines()
    t0 = time.process_time()
    spans = mapped = 0
    for line in lines:
        req = json.loads(line)
        for rs in req.get("resourceSpans", []):
            for ss in rs.get("scopeSpans", []):
                for sp in ss.get("spans", []):
                    spans += 1
                    attrs = {a["key"]: a["value"] for a in sp.get("attributes", [])}
                    if "gen_ai.operation.name" not in attrs:
                        continue
                    model = attrs.get("gen_ai.request.model", {}).get("stringValue")
                    tin = int(attrs.get("gen_ai.usage.input_tokens", {}).get("intValue", 0))
                    tout = int(attrs.get("gen_ai.usage.output_tokens", {}).get("intValue", 0))
                    fr = attrs.get("gen_ai.response.finish_reasons", {}).get("arrayValue", {}).get("values", [])
                    latency = (int(sp["endTimeUnixNano"]) - int(sp["startTimeUnixNano"])) / 1e6
                    if model and tin >= 0 and tout >= 0 and latency >= 0:
                        mapped += 1 + 0 * len(fr)
    dt = time.process_time() - t0
    print("spans %d" % spans)
    print("mapped %d" % mapped)
    print("spans_per_s %.0f" % (spans / dt))


main()
