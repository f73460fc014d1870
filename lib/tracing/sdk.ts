import "server-only";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BatchSpanProcessor,
  type IdGenerator,
  NodeTracerProvider,
  RandomIdGenerator,
} from "@opentelemetry/sdk-trace-node";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import { tracingState } from "./index";

// The OpenTelemetry SDK: imported (by lib/tracing/start.ts) only when OTEL_EXPORTER_OTLP_ENDPOINT
// is set. Spans leave in batches, by OTLP/HTTP JSON, to the endpoint's /v1/traces (the exporter
// reads OTEL_EXPORTER_OTLP_ENDPOINT and the other OTEL_EXPORTER_OTLP_* variables itself).

/** Random ids, except for a span that lib/tracing/index.ts starts with a hint (a turn's ids). */
function turnIdGenerator(): IdGenerator {
  const random = new RandomIdGenerator();
  return {
    generateTraceId: () => tracingState().hint?.traceId ?? random.generateTraceId(),
    generateSpanId: () => tracingState().hint?.spanId ?? random.generateSpanId(),
  };
}

export function startSdk(serviceName: string): void {
  const tracing = tracingState();
  if (tracing.on) return;
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
    idGenerator: turnIdGenerator(),
    spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter())],
  });
  provider.register();
  tracing.flush = () => provider.forceFlush();
  tracing.on = true;
}
