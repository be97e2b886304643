#!/usr/bin/env python3
"""Benchmark data for bench/bench_otlp.sh: OTLP/HTTP JSON trace requests of
GenAI spans as OpenTelemetry SDKs write them (ids hex, times as strings,
attributes in AnyValue form; 9 attributes per span: operation, provider,
request/response model, temperature, input/output tokens as intValue,
finish_reasons as an arrayValue, server.address), plus one non-GenAI span in
20. Usage: gen_otlp_data.py N BATCH > file: N spans, BATCH spans per request,
one request per line. Deterministic (seed 1); span ends lie in the last hour."""
import json
import random
import sys
import time

random.seed(1)
n, batch = int(sys.argv[1]), int(sys.argv[2])
end0 = (int(time.time()) - 3600) * 10**9
out = sys.stdout
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
