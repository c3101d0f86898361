import { mkdirSync, openSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { type DestinationStream, type LevelWithSilent, type Logger, pino } from 'pino';
import { CommonErrors, WeftError } from '../errors/index.js';
import { ObservabilityErrors } from './errors.js';
import { currentSpan } from './tracing.js';

export type { Logger } from 'pino';

export type LogLevel = LevelWithSilent;

export const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/**
 * Field names whose values never reach a log line, matched case-insensitively in the logged object and in plain
 * objects nested up to three levels in it (so `req.headers.authorization` is covered).
 */
export const REDACTED_FIELDS: readonly string[] = [
  'privateKey',
  'private_key',
  'password',
  'passphrase',
  'secret',
  'token',
  'accessToken',
  'refreshToken',
  'authorization',
];

const REDACTED = new Set(REDACTED_FIELDS.map((f) => f.toLowerCase()));
const CENSOR = '[redacted]';
const REDACT_DEPTH = 3;

/**
 * Rotation and retention of a log file (pino-roll): the active file is `<file without .log>.<n>.log`, a new number
 * starts when the file reaches `maxFileSizeMb` or the period (`frequency`) ends, and only the newest `maxFiles`
 * rotated files are kept besides the active one.
 */
export interface LogRotation {
  readonly maxFileSizeMb: number;
  readonly frequency?: 'daily' | 'hourly';
  readonly maxFiles: number;
}

export interface LoggerOptions {
  /** Minimum level written; default `info`. */
  readonly level?: LogLevel;
  /** Levels of components (the `component` field) that differ from `level`, e.g. `{ 'ledger-api': 'debug' }`. */
  readonly levels?: Readonly<Record<string, LogLevel>>;
  /** Append JSON lines to this file (parent directories are created) instead of stdout. */
  readonly file?: string;
  /** Rotate `file` (which it requires) and delete the oldest files; absent, `file` grows without bound. */
  readonly rotation?: LogRotation;
  /** With `file`, write every line to stdout as well (a container's log shipper reads stdout). */
  readonly stdout?: boolean;
  /** Where to write instead of stdout (e.g. a test capture); cannot be combined with `file`. */
  readonly destination?: DestinationStream;
  /** The node name, written as `node` on every line. */
  readonly node?: string;
  /** pino redaction paths for values whose field name is not secret in general, e.g. `config.storage.url`. */
  readonly redact?: readonly string[];
}

/**
 * A JSON-lines logger. Inside {@link withSpan} every line carries `trace_id` and `span_id`; components add
 * `component` with `logger.child({ component: 'sequencer-client' })`.
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const { level = 'info', file, destination, node, redact = [] } = options;
  assertLevel(level);
  for (const l of Object.values(options.levels ?? {})) assertLevel(l);
  if (file !== undefined && destination !== undefined) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      'a logger writes to a file or to a destination, not both',
    );
  }
  if (file === undefined && (options.rotation !== undefined || options.stdout !== undefined)) {
    throw new WeftError(CommonErrors.INVALID_ARGUMENT, 'log rotation and stdout copies need a log file');
  }
  const levels = new LogLevels(options.levels ?? {});
  const logger = pino(
    {
      level,
      onChild: (child) => levels.adopt(child),
      base: { pid: process.pid, hostname: hostname(), ...(node === undefined ? {} : { node }) },
      timestamp: pino.stdTimeFunctions.isoTime,
      // pino's wildcard paths (`*.password`) cost about 5 µs per level on every line; a walk by name is ~0.3 µs.
      formatters: { level: (label) => ({ level: label }), log: (object) => scrub(object, REDACT_DEPTH) },
      redact: { paths: [...redact], censor: CENSOR },
      // pino merges the call's fields into this object, so it must be a fresh one per line.
      mixin: () => {
        const span = currentSpan();
        return span ? { trace_id: span.traceId, span_id: span.spanId, span_name: span.name } : {};
      },
    },
    file === undefined ? destination : fileOutput(file, options.rotation, options.stdout ?? false),
  );
  levels.root = logger;
  controls.set(logger, levels);
  return logger;
}

function assertLevel(level: string): void {
  if (!LOG_LEVELS.includes(level as LogLevel)) {
    throw new WeftError(
      CommonErrors.INVALID_ARGUMENT,
      `log level '${level}' is not one of ${LOG_LEVELS.join(', ')}`,
    );
  }
}

const controls = new WeakMap<Logger, LogLevels>();

/**
 * The run-time levels of a logger made by {@link createLogger} (the Admin API's SetLogLevel): its own level, which
 * every child without a level of its own follows, and per-component levels. Undefined for another logger.
 */
export function logLevelsOf(logger: Logger): LogLevels | undefined {
  return controls.get(logger);
}

/** Component loggers kept per component before dead ones are swept (a component re-creates its logger rarely). */
const SWEEP_AT = 64;

/**
 * Per-component levels. pino makes a child with `Object.create(parent)`, so a child without a level of its own
 * follows its parent's level as it changes; a component's logger (the child that adds `component`) gets the
 * component's level, and the children it makes per call follow it. Component loggers are held weakly.
 */
export class LogLevels {
  root: Logger | undefined;
  readonly #levels = new Map<string, LogLevel>();
  readonly #loggers = new Map<string, Set<WeakRef<Logger>>>();

  constructor(levels: Readonly<Record<string, LogLevel>>) {
    for (const [component, level] of Object.entries(levels)) this.#levels.set(component, level);
  }

  /** The root level and the components' levels. */
  levels(): { readonly level: LogLevel; readonly components: Readonly<Record<string, LogLevel>> } {
    return { level: (this.root?.level ?? 'info') as LogLevel, components: Object.fromEntries(this.#levels) };
  }

  /** Sets the level of `component`, or of the node (every component without its own level) when absent. */
  set(level: LogLevel, component?: string): void {
    assertLevel(level);
    if (component === undefined) {
      if (this.root) this.root.level = level;
      return;
    }
    this.#levels.set(component, level);
    for (const ref of this.#loggers.get(component) ?? []) {
      const logger = ref.deref();
      if (logger) logger.level = level;
    }
  }

  adopt(child: Logger): void {
    const parent = Object.getPrototypeOf(child) as Logger;
    const own = (child as unknown as Record<symbol, string>)[chindings] ?? '';
    const inherited = (parent as unknown as Record<symbol, string>)[chindings] ?? '';
    // Only the child that adds a component binding is that component's logger; per-call children follow it.
    if (own.indexOf('"component":', inherited.length) === -1) return;
    const component = child.bindings().component;
    if (typeof component !== 'string') return;
    const level = this.#levels.get(component);
    if (level !== undefined) child.level = level;
    let refs = this.#loggers.get(component);
    if (refs === undefined) {
      refs = new Set();
      this.#loggers.set(component, refs);
    }
    if (refs.size >= SWEEP_AT) {
      for (const ref of refs) if (ref.deref() === undefined) refs.delete(ref);
    }
    refs.add(new WeakRef(child));
  }
}

const chindings = pino.symbols.chindingsSym;

/** `value`, or a copy with secret fields censored; copies only the objects on the way to a secret. */
function scrub(value: Record<string, unknown>, depth: number): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const field = value[key];
    let replaced = field;
    if (REDACTED.has(key.toLowerCase())) replaced = CENSOR;
    else if (depth > 0 && isPlainObject(field)) replaced = scrub(field, depth - 1);
    if (replaced !== field) {
      copy ??= { ...value };
      copy[key] = replaced;
    }
  }
  return copy ?? value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The file output: rotated by pino-roll in a worker thread (pino's transport flushes it on exit), or one file;
 * with `stdout`, each line goes to stdout as well.
 */
function fileOutput(file: string, rotation: LogRotation | undefined, stdout: boolean): DestinationStream {
  const target = rotation === undefined ? fileDestination(file) : rollingDestination(file, rotation);
  return stdout ? pino.multistream([{ stream: target }, { stream: pino.destination(1) }]) : target;
}

function rollingDestination(file: string, rotation: LogRotation): DestinationStream {
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (e) {
    throw logFileUnavailable(file, e);
  }
  return pino.transport({
    target: 'pino-roll',
    options: {
      file: file.replace(/\.log$/, ''),
      extension: '.log',
      size: `${rotation.maxFileSizeMb}m`,
      ...(rotation.frequency === undefined ? {} : { frequency: rotation.frequency }),
      limit: { count: rotation.maxFiles },
      mkdir: true,
    },
  });
}

function logFileUnavailable(file: string, e: unknown): WeftError {
  return new WeftError(
    ObservabilityErrors.LOG_FILE_UNAVAILABLE,
    `cannot open log file ${file}: ${(e as Error).message}`,
    {},
    { cause: e },
  );
}

/**
 * Asynchronous file output. The file is opened synchronously: pino flushes an async destination on process exit,
 * which fails ("sonic boom is not ready yet") and drops the lines when the exit comes before an async open.
 */
function fileDestination(file: string): DestinationStream {
  try {
    mkdirSync(dirname(file), { recursive: true });
    return pino.destination({ dest: openSync(file, 'a'), sync: false });
  } catch (e) {
    throw logFileUnavailable(file, e);
  }
}
