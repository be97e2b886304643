#!/usr/bin/env python3
"""Benchmark data for bench/bench_otlp.sh: OTLP/HTTP JSON trace requests of
GenAI spans as OpenTelemetry SDKs write them (ids hex, times as strings,
attributes in AnyValue form; 9 attributes per span: operation, provider,
request/response model, temperature, input/output tokens as intValue,
finish_reasons as an arrayValue, server.address), plus one non-GenAI span in
20. Usage: gen_otlp_data.py N BATCH [PROTO_FILE] > file: N spans, BATCH spans
per request, one request per line; with PROTO_FILE, the same requests in the
protobuf encoding there, each after its length as 4 bytes little-endian.
Deterministic (seed 1); span ends lie in the last hour."""
import json
import random
import struct
import sys
import time


def varint(x):
    out = bytearray()
    while True:
        c, x = x & 0x7F, x >> 7
        out.append(c | (0x80 if x else 0))
        if not x:
            return bytes(out)


def ld(num, b):
    return varint(num << 3 | 2) + varint(len(b)) + b


def any_value(v):
    """AnyValue from its JSON form (common.proto field numbers)."""
    if "stringValue" in v:
        return ld(1, v["stringValue"].encode())
    if "intValue" in v:
        return varint(3 << 3) + varint(int(v["intValue"]) & (2**64 - 1))
    if "doubleValue" in v:
        return varint(4 << 3 | 1) + struct.pack("<d", v["doubleValue"])
    return ld(5, b"".join(ld(1, any_value(x)) for x in v["arrayValue"]["values"]))


def kv(a):
    return ld(1, a["key"].encode()) + ld(2, any_value(a["value"]))


def proto(req):
    """ExportTraceServiceRequest from its JSON form (trace.proto field numbers)."""
    out = b""
    for rs in req["resourceSpans"]:
        res = ld(1, b"".join(ld(1, kv(a)) for a in rs["resource"]["attributes"]))
        sss = b""
        for ss in rs["scopeSpans"]:
            body = ld(1, ld(1, ss["scope"]["name"].encode()) + ld(2, ss["scope"]["version"].encode()))
            for sp in ss["spans"]:
                m = ld(1, bytes.fromhex(sp["traceId"])) + ld(2, bytes.fromhex(sp["spanId"]))
                m += ld(5, sp["name"].encode()) + varint(6 << 3) + varint(sp["kind"])
                m += varint(7 << 3 | 1) + struct.pack("<Q", int(sp["startTimeUnixNano"]))
                m += varint(8 << 3 | 1) + struct.pack("<Q", int(sp["endTimeUnixNano"]))
                m += b"".join(ld(9, kv(a)) for a in sp["attributes"]) + ld(15, b"")
                body += ld(2, m)
            sss += ld(2, body)
        out += ld(1, res + sss)
    return out


random.seed(1)
n, batch = int(sys.argv[1]), int(sys.argv[2])
end0 = (int(time.time()) - 3600) * 10**9
out = sys.stdout
pout = open(sys.argv[3], "wb") if len(sys.argv) > 3 else None
for first in range(0, n, batch):
    spans = []
    for i in range(first, min(n, first + batch)):
        st = end0 + i * 10**6
        if i % 20 == 19:
            attrs = [{"key": "http.request.method", "value": {"stringValue": "GET"}},
                     {"key": "url.path", "value": {"stringValue": "/health"}}]
        else:
            attrs = [
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "gen_ai.provider.name", "value": {"stringValue": "openai"}},
                {"key": "gen_ai.request.model", "value": {"stringValue": "gpt-4o"}},
                {"key": "gen_ai.response.model", "value": {"stringValue": "gpt-4o-2024-08-06"}},
                {"key": "gen_ai.request.temperature", "value": {"doubleValue": random.choice([0.2, 0.7, 1.0])}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(random.randint(10, 2000))}},
                {"key": "gen_ai.usage.output_tokens", "value": {"intValue": str(random.randint(1, 500))}},
                {"key": "gen_ai.response.finish_reasons",
                 "value": {"arrayValue": {"values": [{"stringValue": random.choice(["stop", "length"])}]}}},
                {"key": "server.address", "value": {"stringValue": "api.openai.com"}},
            ]
        spans.append({"traceId": "%032x" % random.getrandbits(128), "spanId": "%016x" % random.getrandbits(64),
                      "name": "chat gpt-4o", "kind": 3, "startTimeUnixNano": str(st),
                      "endTimeUnixNano": str(st + random.randint(100, 3000) * 10**6),
                      "attributes": attrs, "status": {}})
    req = {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "app"}}]},
                              "scopeSpans": [{"scope": {"name": "opentelemetry.instrumentation.openai", "version": "0.1"},
                                              "spans": spans}]}]}
    out.write(json.dumps(req, separators=(",", ":")) + "\n")
    if pout:
        p = proto(req)
        pout.write(struct.pack("<I", len(p)) + p)
