export {
  type AuditCall,
  type AuditedApi,
  AuditLog,
  type AuditLogOptions,
  type AuditTopologyChange,
  certificateCaller,
  ledgerCaller,
  outcomeOf,
} from './audit.js';
export { ObservabilityErrors } from './errors.js';
export {
  DUMP_LOG_BYTES,
  type HealthDumpInput,
  healthDump,
  redactConfig,
  rotatedName,
} from './health-dump.js';
export {
  type HealthServer,
  type HealthServerOptions,
  type Readiness,
  startHealthServer,
} from './health-server.js';
export {
  MAX_TRACE_LINES,
  MAX_TRACES,
  slowestTraces,
  type TraceLine,
  type TraceSummary,
  traceTimeline,
} from './log-reader.js';
export {
  createLogger,
  LOG_LEVELS,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  LogLevels,
  type LogRotation,
  logLevelsOf,
  REDACTED_FIELDS,
} from './logging.js';
export {
  ApiMetrics,
  type HealthProbes,
  METRIC_PREFIX,
  type MetricInfo,
  metricInfos,
  NodeMetrics,
  type NodeMetricsOptions,
  nodeHealthMetrics,
} from './metrics.js';
export { type OtlpExport, type OtlpExportOptions, startOtlpExport } from './otlp.js';
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
  type FinishedSpan,
  type Span,
  type SpanOptions,
  setSpanSink,
  Tracer,
  withSpan,
} from './tracing.js';
