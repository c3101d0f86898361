import {
  boolean,
  ConfigErrors,
  formatProblems,
  type Infer,
  integer,
  list,
  nodeSchema,
  object,
  optional,
  string,
  withDefault,
} from '../config/index.js';
import { WeftError } from '../errors/index.js';
import { sendBatchSchema } from '../sequencer/index.js';
import { GROUP_COMMIT_MAX_DELAY_MS } from '../storage/index.js';

const ms = (min: number, fallback: number) => withDefault(integer({ min, max: 86_400_000 }), fallback);

/** The `mediator` section of a mediator node's config. Durations are in milliseconds. */
export const mediatorSectionSchema = object({
  /**
   * Verdicts and deliveries waiting to be written; beyond it, event processing waits for the database
   * (backpressure instead of unbounded memory).
   */
  'write-queue-size': withDefault(integer({ min: 1, max: 1_000_000 }), 10_000),
  /** The resume cursor alone (no verdict to write with it) is persisted at most this often. */
  'cursor-interval-ms': ms(1, 1000),
  /**
   * How long a batch of verdicts may wait for more to share its commit, while they are decided faster than that
   * (docs/architecture.md, 'Batch every durable write'): a verdict is sent only once committed, so each waiting one
   * reaches the participants later by up to this, and each commit saved is an fsync. 0 turns the wait off; above a
   * second latency costs more than any commit saved.
   */
  'group-commit-max-delay-ms': withDefault(
    integer({ min: GROUP_COMMIT_MAX_DELAY_MS.min, max: GROUP_COMMIT_MAX_DELAY_MS.max }),
    GROUP_COMMIT_MAX_DELAY_MS.default,
  ),
  /** Verdicts after which a batch commits without waiting longer (a larger one holds its transaction longer). */
  'group-commit-max-batch': withDefault(integer({ min: 1, max: 100_000 }), 256),
  /**
   * After a response deadline passed on the local clock without an event from after it, the mediator asks the
   * sequencer for one (a tick); it asks again after this interval while it still sees none.
   */
  'tick-interval-ms': ms(10, 1000),
  /** How long a tick may wait to be sequenced. */
  'tick-max-sequencing-ms': ms(100, 60_000),
  /** How long to wait before sending a verdict again that the sequencer refused as overloaded. */
  'send-retry-ms': ms(1, 500),
  /** How often the mediator acknowledges processed events to the sequencer (so it may prune them). */
  'acknowledge-interval-ms': ms(100, 10_000),
  /**
   * A storage operation that failed transiently (the database restarting, a lost connection) is retried after this
   * wait, doubled per failure up to `storage-retry-max-delay-ms`: the longest the mediator stays idle once the
   * database is back.
   */
  'storage-retry-initial-delay-ms': withDefault(integer({ min: 1, max: 60_000 }), 50),
  'storage-retry-max-delay-ms': withDefault(integer({ min: 1, max: 60_000 }), 2000),
});

export type MediatorSettings = Infer<typeof mediatorSectionSchema>;

/** A non-empty list of endpoint URLs; a single string is a list of one (`endpoints = ${SEQUENCER_URL}`). */
const endpointList = () => list(string(), { min: 1, single: true });

/**
 * How a member node reaches its synchronizer's sequencers: several `endpoints` of one sequencer fail over
 * (`connect_multi`), or distinct `sequencers`, each with its endpoints, deliver each event identically at least
 * `trust-threshold` times (`connect_bft`); `trust-collection-file` is a PEM root CA for https endpoints instead of
 * the public CAs.
 */
export const sequencerConnectionSchema = object({
  endpoints: optional(endpointList()),
  sequencers: optional(list(object({ endpoints: endpointList() }), { min: 1 })),
  'trust-threshold': optional(integer({ min: 1, max: 1000 })),
  'trust-collection-file': optional(string()),
  /** Allow plaintext (http://) to a non-loopback host (a TLS-terminating proxy in between). */
  insecure: withDefault(boolean(), false),
  /** Longest wait between reconnection attempts. */
  'max-backoff-ms': withDefault(integer({ min: 10, max: 600_000 }), 5000),
  /** How verdicts that queue while a send is in flight go out together (docs/sequencer.md, 'Sequencer client'). */
  'send-batch': withDefault(sendBatchSchema, {}),
});

export type SequencerConnectionConfig = Infer<typeof sequencerConnectionSchema>;

/** A mediator node's config: the common node sections, `mediator`, and its `sequencer-connection`. */
export const mediatorNodeSchema = nodeSchema.extend({
  mediator: withDefault(mediatorSectionSchema, {}),
  'sequencer-connection': sequencerConnectionSchema,
});

/**
 * The sequencer connection of a member node: `endpoints` of one sequencer, or distinct `sequencers` with a trust
 * threshold; CONFIG_INVALID naming `path` when it has both, neither, or a threshold above the number of sequencers.
 */
export function memberSequencerConnection(
  c: SequencerConnectionConfig,
  path = 'sequencer-connection',
): { endpoints: readonly string[]; sequencers?: readonly (readonly string[])[]; trustThreshold?: number } {
  const invalid = (message: string) => new WeftError(ConfigErrors.CONFIG_INVALID, `${path}: ${message}`);
  if ((c.endpoints === undefined) === (c.sequencers === undefined))
    throw invalid('give the endpoints of one sequencer (endpoints) or of several (sequencers), not both');
  if (c.sequencers === undefined) {
    if (c.trustThreshold !== undefined) throw invalid('trust-threshold needs sequencers');
    return { endpoints: c.endpoints! };
  }
  const trustThreshold = c.trustThreshold ?? 1;
  if (trustThreshold > c.sequencers.length)
    throw invalid(
      `trust-threshold ${trustThreshold} is above the number of sequencers (${c.sequencers.length})`,
    );
  return { endpoints: [], sequencers: c.sequencers.map((s) => s.endpoints), trustThreshold };
}

/** The settings with every default filled in; `raw` is written as in a config file (kebab-case keys). */
export function mediatorSettings(raw: unknown = {}): MediatorSettings {
  const parsed = mediatorSectionSchema.parse(raw, 'mediator');
  if (!parsed.ok) throw new WeftError(ConfigErrors.CONFIG_INVALID, formatProblems(parsed.problems));
  const { storageRetryInitialDelayMs, storageRetryMaxDelayMs } = parsed.value;
  if (storageRetryInitialDelayMs > storageRetryMaxDelayMs) {
    throw new WeftError(
      ConfigErrors.CONFIG_INVALID,
      `mediator.storage-retry-initial-delay-ms (${storageRetryInitialDelayMs}) is above mediator.storage-retry-max-delay-ms (${storageRetryMaxDelayMs})`,
    );
  }
  return parsed.value;
}
