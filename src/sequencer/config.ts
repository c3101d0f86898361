import {
  boolean,
  ConfigErrors,
  formatProblems,
  type Infer,
  integer,
  nodeSchema,
  object,
  oneOf,
  optional,
  storageSchema,
  withDefault,
} from '../config/index.js';
import { WeftError } from '../errors/index.js';
import { GROUP_COMMIT_MAX_DELAY_MS, type GroupCommitSettings } from '../storage/index.js';

/**
 * Writer presets, as Canton's DB sequencer: LowLatency writes every request in its own transaction as soon as it
 * arrives; HighThroughput lets requests queue up while a write is in flight, waits a few milliseconds for more
 * while they arrive faster than that (the group-commit window), and commits up to 100 per transaction.
 */
export const WRITER_PRESETS = {
  'low-latency': { eventBatchSize: 1, groupCommitMaxDelayMs: 0 },
  'high-throughput': { eventBatchSize: 100, groupCommitMaxDelayMs: GROUP_COMMIT_MAX_DELAY_MS.default },
} as const;

export type WriterPreset = keyof typeof WRITER_PRESETS;

const ms = (min: number, fallback: number) => withDefault(integer({ min, max: 86_400_000 }), fallback);

/** The `sequencer` section of a sequencer node's config. Durations are in milliseconds. */
export const sequencerSectionSchema = object({
  writer: withDefault(
    object({
      preset: withDefault(oneOf(['low-latency', 'high-throughput'] as const), 'low-latency'),
      /** Overrides the preset's number of requests per transaction. */
      'event-batch-size': optional(integer({ min: 1, max: 1000 })),
      /**
       * Overrides the preset's group-commit window: how long a batch may wait for more requests while they arrive
       * faster than that (docs/architecture.md, 'Batch every durable write'); each waiting request's latency grows
       * by up to this, each commit saved is an fsync. 0 turns the wait off; above a second latency costs more than
       * any commit saved.
       */
      'group-commit-max-delay-ms': optional(
        integer({ min: GROUP_COMMIT_MAX_DELAY_MS.min, max: GROUP_COMMIT_MAX_DELAY_MS.max }),
      ),
      /** Requests waiting for the writer; beyond it SendAsync fails with SEQUENCER_OVERLOADED. */
      'queue-size': withDefault(integer({ min: 1, max: 1_000_000 }), 1000),
    }),
    {},
  ),
  'high-availability': withDefault(
    object({
      /** Upper bound of node indexes; every node sharing the database must use the same value. */
      'total-node-count': withDefault(integer({ min: 1, max: 1024 }), 10),
      /**
       * How often an idle writer advances its watermark to show that it is alive: peers mark a writer offline after
       * `offline-duration-ms` without, and a node restarting under the same name watches 8 intervals for it. Each
       * one is a commit (an fsync), so it is well above a commit's time; no delivery waits for it, since an idle
       * writer whose watermark holds back other writers' events advances at once.
       */
      'keep-alive-interval-ms': ms(1, 250),
      /** A writer whose watermark lags this much behind the clock is marked offline. */
      'offline-duration-ms': ms(1, 8000),
      'online-check-interval-ms': ms(1, 5000),
      /** How often readers look for other nodes' watermarks while another writer is online. */
      'poll-interval-ms': ms(1, 10),
      /**
       * How often a node that sees no other writer online looks for one: each look is a query, and a lone node's
       * own commits are seen at once anyway. A node coming online is noticed within this, once (its events reach
       * this node's members that much later), and from then on `poll-interval-ms` applies.
       */
      'alone-poll-interval-ms': ms(1, 250),
    }),
    {},
  ),
  /**
   * The most recent events in memory, from which members' streams are served instead of reading back what the
   * writers just wrote (docs/sequencer.md, 'Events buffer'). The oldest are evicted beyond either bound; that is
   * no error, since a reader behind the buffer reads the database. So the bounds trade memory for how far behind a
   * reader may be and still be served from memory: 10 000 events are several seconds at full load, 64 MiB holds
   * them with typical payloads (larger ones evict sooner). 0 events turn the buffer off.
   */
  'events-buffer': withDefault(
    object({
      'max-events': withDefault(integer({ min: 0, max: 1_000_000 }), 10_000),
      'max-bytes': withDefault(integer({ min: 0, max: 2 ** 34 }), 64 << 20),
    }),
    {},
  ),
  /**
   * Transport limit for one gRPC message, a guard against oversized frames; the synchronizer's dynamic parameter
   * max-request-size (10 MiB by default) is what submissions are checked against.
   */
  'max-request-size': withDefault(integer({ min: 1024, max: 1 << 30 }), 16 << 20),
  authentication: withDefault(
    object({
      'token-ttl-ms': ms(1000, 3_600_000),
      /** How long a challenge can be answered; it counts against the bounds below until then. */
      'nonce-ttl-ms': ms(100, 60_000),
      /**
       * Outstanding challenges of one member, beyond which the node refuses more with
       * SEQUENCER_TOO_MANY_CHALLENGES. Anyone may ask for a member's challenge before authenticating; a member
       * needs one per connection attempt, so a few cover its retries while a flood stays small.
       */
      'max-challenges-per-member': withDefault(integer({ min: 1, max: 1000 }), 16),
      /** Outstanding challenges of all members: the node's memory for unauthenticated requests (~100 B each). */
      'max-challenges': withDefault(integer({ min: 1, max: 1_000_000 }), 10_000),
      /**
       * Live tokens of one member (one per connection to this node, plus its re-authentications within the token
       * TTL); a new one beyond it logs out the member's oldest, so the node's token memory is bounded by members.
       */
      'max-tokens-per-member': withDefault(integer({ min: 1, max: 10_000 }), 64),
    }),
    {},
  ),
  /** Serve the public API without TLS on a non-loopback address (behind a TLS-terminating proxy). */
  insecure: withDefault(boolean(), false),
  /**
   * Where the sequencer's ordering state lives (events, members, writer slots, the genesis and the sequencer's
   * topology store), shaped like the node's `storage`, which then keeps only the node's identity and keys.
   * Distinct sequencers (each its own node storage and identity) that name the same ordering storage order
   * together; absent, it is the node's storage, which the nodes of one sequencer (HA replicas) share.
   */
  'ordering-storage': optional(storageSchema),
});

export type SequencerSettings = Infer<typeof sequencerSectionSchema>;

/** A sequencer node's config: the common node sections plus `sequencer`. */
export const sequencerNodeSchema = nodeSchema.extend({
  sequencer: withDefault(sequencerSectionSchema, {}),
});

/** The settings with every default filled in; `raw` is written as in a config file (kebab-case keys). */
export function sequencerSettings(raw: unknown = {}): SequencerSettings {
  const parsed = sequencerSectionSchema.parse(raw, 'sequencer');
  if (!parsed.ok) throw new WeftError(ConfigErrors.CONFIG_INVALID, formatProblems(parsed.problems));
  return parsed.value;
}

export function eventBatchSize(settings: SequencerSettings): number {
  return settings.writer.eventBatchSize ?? WRITER_PRESETS[settings.writer.preset].eventBatchSize;
}

/** The writer's group-commit window: the preset's, with the overrides; a batch is at most `eventBatchSize`. */
export function writerGroupCommit(settings: SequencerSettings): GroupCommitSettings {
  const { preset, groupCommitMaxDelayMs } = settings.writer;
  return {
    maxDelayMs: groupCommitMaxDelayMs ?? WRITER_PRESETS[preset].groupCommitMaxDelayMs,
    maxBatch: eventBatchSize(settings),
  };
}
