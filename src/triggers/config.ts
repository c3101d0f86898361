import {
  ConfigErrors,
  formatProblems,
  type Infer,
  integer,
  object,
  optional,
  port,
  readConfigTree,
  type Schema,
  storageSchema,
  string,
  withDefault,
} from '../config/index.js';
import { WeftError } from '../errors/index.js';

const ms = (min: number, max: number, fallback: number) => withDefault(integer({ min, max }), fallback);

/** How one trigger runs: the bounds of its state and its retry pacing. */
export const triggerRuntimeSchema = object({
  /**
   * Commands submitted and not yet completed (Daml's `maximumInFlightCommands`); a rule that emits more is stopped
   * with TRIGGER_LIMIT_EXCEEDED instead of flooding the participant.
   */
  'max-in-flight-commands': withDefault(integer({ min: 1, max: 100_000 }), 100),
  /** Active contracts one trigger holds in memory (Daml's `maximumActiveContracts`); beyond it the trigger stops. */
  'max-active-contracts': withDefault(integer({ min: 1, max: 10_000_000 }), 100_000),
  /**
   * After a rejected command (contention on a contract, a Daml error) the rule waits this long before it runs
   * again, doubled per consecutive rejection up to `retry-max-delay-ms`, so contention settles instead of storming.
   */
  'retry-initial-delay-ms': ms(1, 60_000, 100),
  'retry-max-delay-ms': ms(1, 600_000, 10_000),
  /** Log lines kept per trigger for its status (the oldest go first). */
  'max-log-entries': withDefault(integer({ min: 1, max: 10_000 }), 100),
});
export type TriggerRuntimeSettings = Infer<typeof triggerRuntimeSchema>;

/**
 * The trigger service's config file: `trigger-service { … }`. Where it listens, the participant's Ledger API it
 * runs triggers against, where running triggers are persisted, the directory of trigger packages loaded at start,
 * the auth middleware (absent: triggers run without tokens, for a Ledger API without auth-services) and bounds.
 */
export const triggerServiceSchema = object({
  address: withDefault(string(), '127.0.0.1'),
  /** Daml's trigger service default. */
  port: withDefault(port(), 8088),
  /** `http://host:port` of the participant's gRPC Ledger API. */
  'ledger-api': string(),
  storage: storageSchema,
  /** Trigger packages (`*.js`/`*.mjs` modules or npm-style package directories) loaded at start. */
  'packages-dir': optional(string()),
  /** The user id commands are submitted as when the start request names no applicationId. */
  'application-id': withDefault(string(), 'weft-trigger-service'),
  'auth-middleware': optional(
    object({
      /** Where the trigger service calls the middleware (`/auth`, `/refresh`). */
      url: string(),
      /** Where browsers reach it for `/login` (default: `url`). */
      'public-url': optional(string()),
      /** This service's URL as browsers reach it, for the login callback (`…/cb`). */
      'callback-url': string(),
    }),
  ),
  /** Triggers running at once (each holds its party's active contracts). */
  'max-triggers': withDefault(integer({ min: 1, max: 100_000 }), 1000),
  /** Largest trigger package upload. */
  'max-upload-bytes': withDefault(integer({ min: 1024, max: 256 * 1024 * 1024 }), 8 * 1024 * 1024),
  /** Logins in progress (a start waiting for the browser to come back from the middleware). */
  'max-pending-logins': withDefault(integer({ min: 1, max: 100_000 }), 1000),
  /** How long a login in progress is remembered. */
  'login-timeout-ms': ms(1000, 3_600_000, 300_000),
  runtime: withDefault(triggerRuntimeSchema, {}),
});
export type TriggerServiceConfig = Infer<typeof triggerServiceSchema>;

function decode<T>(schema: Schema<T>, raw: unknown, path: string): T {
  const parsed = schema.parse(raw, path);
  if (!parsed.ok) throw new WeftError(ConfigErrors.CONFIG_INVALID, formatProblems(parsed.problems));
  return parsed.value;
}

/** The runtime settings with every default filled in (`raw` in kebab-case, as in a file). */
export function triggerRuntimeSettings(raw: unknown = {}): TriggerRuntimeSettings {
  const s = decode(triggerRuntimeSchema, raw, 'runtime');
  if (s.retryInitialDelayMs > s.retryMaxDelayMs) {
    throw new WeftError(
      ConfigErrors.CONFIG_INVALID,
      `runtime.retry-initial-delay-ms (${s.retryInitialDelayMs}) is above runtime.retry-max-delay-ms (${s.retryMaxDelayMs})`,
    );
  }
  return s;
}

/** Validates a `trigger-service` section (kebab-case keys). */
export function triggerServiceSettings(raw: unknown): TriggerServiceConfig {
  const s = decode(triggerServiceSchema, raw, 'trigger-service');
  triggerRuntimeSettings(raw && typeof raw === 'object' ? (raw as { runtime?: unknown }).runtime : undefined);
  return s;
}

/** Reads a config file (HOCON, YAML or JSON) whose `trigger-service` section configures the service. */
export async function loadTriggerServiceConfig(path: string): Promise<TriggerServiceConfig> {
  const tree = (await readConfigTree(path, process.env)) as { 'trigger-service'?: unknown } | null;
  if (!tree || tree['trigger-service'] === undefined) {
    throw new WeftError(ConfigErrors.CONFIG_INVALID, `${path}: it has no trigger-service section`);
  }
  return triggerServiceSettings(tree['trigger-service']);
}
