import { type Context, ROOT_CONTEXT, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type IdGenerator } from '@opentelemetry/sdk-trace-base';
import { type FinishedSpan, setSpanSink } from './tracing.js';

export interface OtlpExportOptions {
  /** The OTLP/HTTP traces endpoint, e.g. `http://127.0.0.1:4318/v1/traces`. */
  readonly endpoint: string;
  /** `service.name` of the exported spans: the node's name. */
  readonly serviceName: string;
  /** Most spans buffered for export; more are dropped (the SDK's queue bound). */
  readonly maxQueueSize?: number;
  /** How often a batch is sent, ms. */
  readonly scheduledDelayMs?: number;
}

export interface OtlpExport {
  /** Sends what is buffered. */
  flush(): Promise<void>;
  /** Stops exporting (and sends what is buffered). */
  shutdown(): Promise<void>;
}

/**
 * Exports Weft's spans over OTLP/HTTP with the OpenTelemetry SDK (BatchSpanProcessor, OTLPTraceExporter). Weft keeps
 * its own span ids (they are in the logs and travel in the protocol messages), so each finished span is replayed into
 * the SDK with those ids: the SDK's id generator hands out the ids of the span being replayed. One export per
 * process: a sandbox running several nodes exports them all under `serviceName`.
 */
export function startOtlpExport(options: OtlpExportOptions): OtlpExport {
  let replaying: FinishedSpan | undefined;
  const ids: IdGenerator = {
    generateTraceId: () => replaying!.traceId,
    generateSpanId: () => replaying!.spanId,
  };
  const processor = new BatchSpanProcessor(new OTLPTraceExporter({ url: options.endpoint }), {
    maxQueueSize: options.maxQueueSize ?? 2048,
    scheduledDelayMillis: options.scheduledDelayMs ?? 5000,
  });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': options.serviceName }),
    idGenerator: ids,
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('weft');
  setSpanSink((span) => {
    const parent: Context =
      span.parentSpanId === undefined
        ? ROOT_CONTEXT
        : trace.setSpanContext(ROOT_CONTEXT, {
            traceId: span.traceId,
            spanId: span.parentSpanId,
            traceFlags: span.traceFlags,
            isRemote: true,
          });
    replaying = span;
    try {
      const s = tracer.startSpan(span.name, { startTime: span.startMs }, parent);
      if (span.error !== undefined) s.setStatus({ code: SpanStatusCode.ERROR, message: span.error });
      s.end(span.endMs);
    } finally {
      replaying = undefined;
    }
  });
  return {
    flush: () => provider.forceFlush(),
    shutdown: async () => {
      setSpanSink(undefined);
      await provider.shutdown();
    },
  };
}
