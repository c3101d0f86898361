export { ObservabilityErrors } from './errors.js';
export {
  type HealthServer,
  type HealthServerOptions,
  type Readiness,
  startHealthServer,
} from './health-server.js';
export {
  createLogger,
  LOG_LEVELS,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  REDACTED_FIELDS,
} from './logging.js';
export { METRIC_PREFIX, NodeMetrics, type NodeMetricsOptions } from './metrics.js';
export {
  assertValidSpanContext,
  formatTraceparent,
  parseTraceparent,
  SAMPLED_FLAG,
  type SpanContext,
  type TraceparentResult,
} from './traceparent.js';
export {
  currentSpan,
  currentTraceparent,
  type Span,
  type SpanOptions,
  Tracer,
  withSpan,
} from './tracing.js';
