// Exports GenAI spans to modelwatch with the OpenTelemetry JavaScript SDK
// (sdk-trace-base + exporter-trace-otlp-http, OTLP/HTTP JSON, and
// exporter-trace-otlp-proto, OTLP/HTTP protobuf), the way an instrumented
// application does. Usage: node export.cjs URL BASE (spans start
// from BASE, seconds since the epoch, and end within 8 s of it)
// The first provider sends plain JSON, the second gzip, the third protobuf. Prints "exported N"
// per provider once its spans are flushed; exits 1 when an export fails.
'use strict';
const { BasicTracerProvider, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-http');
const { OTLPTraceExporter: OTLPProtoExporter } = require('@opentelemetry/exporter-trace-otlp-proto');
const { resourceFromAttributes } = require('@opentelemetry/resources');
const { SpanStatusCode } = require('@opentelemetry/api');

const url = process.argv[2] + '/v1/traces';
const base = Number(process.argv[3]);

// [seconds, nanoseconds] high-resolution times, as the SDK keeps them
const at = (ms) => [base + Math.floor(ms / 1000), (ms % 1000) * 1e6];

function provider(compression, Exporter = OTLPTraceExporter) {
  let failed = 0;
  const exporter = new Exporter({ url, compression });
  const wrapped = {
    export(spans, done) {
      exporter.export(spans, (r) => {
        if (r.code !== 0) {
          failed++;
          console.error('export failed:', r.error && r.error.message);
        }
        done(r);
      });
    },
    shutdown: () => exporter.shutdown(),
    forceFlush: () => exporter.forceFlush(),
  };
  const p = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'otlp-test' }),
    spanProcessors: [new SimpleSpanProcessor(wrapped)],
  });
  return { p, tracer: p.getTracer('genai-test', '1.0.0'), failed: () => failed };
}

function chat(tracer, model, startMs, durMs, attrs, error) {
  const span = tracer.startSpan(`chat ${model}`, {
    startTime: at(startMs),
    attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai',
                  'gen_ai.request.model': model, ...attrs },
  });
  if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'upstream timed out' });
  span.end(at(startMs + durMs));
}

async function main() {
  const a = provider(undefined);
  chat(a.tracer, 'gpt-4o', 0, 1000, {
    'gen_ai.usage.input_tokens': 100, 'gen_ai.usage.output_tokens': 20,
    'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.response.time_to_first_chunk': 0.1,
    'gen_ai.request.temperature': 0.5,
    'gen_ai.input.messages': JSON.stringify([{ role: 'user', parts: [{ type: 'text', content: 'Hello?' }] }]),
    'gen_ai.output.messages': JSON.stringify([{ role: 'assistant', parts: [{ type: 'text', content: 'Hi!' }], finish_reason: 'stop' }]),
  });
  chat(a.tracer, 'gpt-4o-mini', 1000, 500, {
    'gen_ai.usage.input_tokens': 200, 'gen_ai.usage.output_tokens': 30,
    'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.response.time_to_first_chunk': 0.2,
    'gen_ai.request.temperature': 0.7,
  });
  chat(a.tracer, 'gpt-4o', 2000, 250, {
    'gen_ai.usage.input_tokens': 300, 'gen_ai.usage.output_tokens': 50,
    'gen_ai.response.finish_reasons': ['length'], 'error.type': 'timeout',
  }, true);
  chat(a.tracer, 'claude-3-5-sonnet', 3000, 2000, {
    'gen_ai.usage.input_tokens': 10, 'gen_ai.usage.output_tokens': 5,
  });
  chat(a.tracer, 'llama-3', 4000, 100, { 'gen_ai.usage.input_tokens': 1 }); // unmapped
  chat(a.tracer, 'gpt-4o', 5000, 100, { 'gen_ai.usage.input_tokens': 'many' }); // invalid
  const http = a.tracer.startSpan('GET /health', { startTime: at(6000), attributes: { 'http.request.method': 'GET' } });
  http.end(at(6010)); // not a GenAI span
  await a.p.forceFlush();
  await a.p.shutdown();
  console.log('exported 7');

  const b = provider('gzip');
  chat(b.tracer, 'gpt-4o', 7000, 125, {
    'gen_ai.usage.input_tokens': 400, 'gen_ai.usage.output_tokens': 60,
    'gen_ai.response.finish_reasons': ['stop'],
  });
  await b.p.forceFlush();
  await b.p.shutdown();
  console.log('exported 1');

  const c = provider(undefined, OTLPProtoExporter);
  chat(c.tracer, 'gpt-4o', 7500, 500, {
    'gen_ai.usage.input_tokens': 500, 'gen_ai.usage.output_tokens': 70,
    'gen_ai.response.finish_reasons': ['stop'], 'gen_ai.response.time_to_first_chunk': 0.05,
  });
  await c.p.forceFlush();
  await c.p.shutdown();
  console.log('exported 1 protobuf');
  process.exit(a.failed() + b.failed() + c.failed() ? 1 : 0);
}
main().catch((e) => { console.error(e); process.exit(1); });
