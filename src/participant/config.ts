import { ConfigErrors, formatProblems, type Infer, integer, object, withDefault } from '../config/index.js';
import { WeftError } from '../errors/index.js';
import type { SessionKeySettings } from '../protocol/index.js';
import { sendBatchSchema } from '../sequencer/index.js';
import { GROUP_COMMIT_MAX_DELAY_MS } from '../storage/index.js';

const DAY_MS = 86_400_000;
const ms = (min: number, max: number, fallback: number) => withDefault(integer({ min, max }), fallback);

/**
 * The `participant` section of a participant node's config, and the settings of a {@link ParticipantNode}: the one
 * place their defaults and bounds live. Durations are in milliseconds (see docs/participant.md).
 */
export const participantSectionSchema = object({
  /**
   * How long an accepted command id blocks a resubmission (Canton's max deduplication duration); at least a
   * second, so that an immediate retry of an accepted command is always caught.
   */
  'deduplication-window-ms': ms(1000, 365 * DAY_MS, 7 * DAY_MS),
  /**
   * How long a confirmation request may take to be sequenced; capped by the synchronizer's ledger time
   * tolerance, since a request sequenced later would be rejected anyway.
   */
  'max-sequencing-delay-ms': ms(100, DAY_MS, 60_000),
  /**
   * How long connecting (onboarding), a party allocation or a vetting waits for its topology change to be in
   * force; above the synchronizer's topology change delay, or nothing ever takes effect in time.
   */
  'activation-timeout-ms': ms(100, DAY_MS, 30_000),
  /** Longest wait between attempts to reach the sequencer again after losing the connection. */
  'max-backoff-ms': ms(10, 600_000, 5000),
  /**
   * How submissions that queue while a send to a sequencer is in flight go out together, in one call signed once
   * (docs/sequencer.md, 'Sequencer client').
   */
  'send-batch': withDefault(sendBatchSchema, {}),
  /**
   * The resume cursor alone (no update to write with it) is written at most this often: more often costs writes,
   * less often replays more events after a restart.
   */
  'cursor-interval-ms': ms(1, 60_000, 200),
  /**
   * How long a batch of durable effects (with the deduplication records of new submissions) may wait for more to
   * share its commit, while they arrive faster than that (docs/architecture.md, 'Batch every durable write'): each
   * waiting effect's completion is later by up to this, each commit saved is an fsync. 0 turns the wait off; above
   * a second latency costs more than any commit saved.
   */
  'group-commit-max-delay-ms': ms(
    GROUP_COMMIT_MAX_DELAY_MS.min,
    GROUP_COMMIT_MAX_DELAY_MS.max,
    GROUP_COMMIT_MAX_DELAY_MS.default,
  ),
  /**
   * Additions (the effects of one event, one submission's deduplication record) after which a batch commits without
   * waiting longer; a larger batch holds its transaction open longer. Back-pressure is `max-queued-writes`.
   */
  'group-commit-max-batch': withDefault(integer({ min: 1, max: 100_000 }), 256),
  /**
   * A storage operation that failed transiently (the database restarting, a lost connection) is retried after this
   * wait, doubled per failure up to `storage-retry-max-delay-ms`: the longest the participant stays idle once the
   * database is back.
   */
  'storage-retry-initial-delay-ms': ms(1, 60_000, 50),
  'storage-retry-max-delay-ms': ms(1, 60_000, 2000),
  /**
   * Effects waiting for the database beyond which event processing waits for it (back-pressure instead of
   * unbounded memory).
   */
  'max-queued-writes': withDefault(integer({ min: 1, max: 1_000_000 }), 1000),
  /**
   * Submissions from interpretation to completion, on all synchronizers, beyond which `submit` refuses with
   * PARTICIPANT_OVERLOADED (Canton's max commands in flight): each holds its interpreted transaction and a
   * completion waiter in memory, and past a few hundred the sequencer and mediator are the bottleneck anyway.
   */
  'max-submissions-in-flight': withDefault(integer({ min: 1, max: 100_000 }), 500),
  /**
   * Phase 3 validations (model conformance and responses) running at once, on all synchronizers. At the bound
   * event processing waits for one to end: reinterpretation is CPU-bound, so more concurrency only holds more
   * requests in memory, while fewer serialises the database and sequencer round trips.
   */
  'max-validations-in-flight': withDefault(integer({ min: 1, max: 10_000 }), 64),
  /**
   * Active contracts kept in memory (least recently used first out); the rest are read from the database when a
   * submission, a validation or a commit needs them. Contracts whose changes are not durable yet and locked
   * contracts are held besides; the default is some 100–300 MB of decoded contracts.
   */
  'contract-cache-size': withDefault(integer({ min: 1, max: 10_000_000 }), 100_000),
  /**
   * Bytes an uploaded DAR's manifest and dalfs may inflate to in total, checked while inflating (a zip bomb of a few
   * megabytes otherwise takes gigabytes of memory). The largest DARs in test/dars inflate to under 3 MB and real
   * ones to tens of MB; the bound is also what one upload may hold in memory at most.
   */
  'max-dar-inflated-bytes': withDefault(
    integer({ min: 1024 * 1024, max: 4 * 1024 * 1024 * 1024 - 1 }),
    512 * 1024 * 1024,
  ),
  /** Zip entries of an uploaded DAR (damlc writes a few per module: dalf, source, interface files). */
  'max-dar-entries': withDefault(integer({ min: 2, max: 1_000_000 }), 10_000),
  /**
   * How long a view-encryption session key is reused for one recipient group, and kept unwrapped by a receiver
   * (Canton's session-encryption-key-cache `expire-after-timeout`, default 10 s): longer saves more hybrid
   * encryptions but keeps a key in memory, and what its compromise exposes, for longer. At most an hour.
   */
  'session-key-ttl-ms': ms(1, 3_600_000, 10_000),
  /**
   * Views encrypted under one session key at most (each under its own derived key); 1 turns reuse off. Bounds what
   * one compromised session key exposes when a group is busy, whatever the time bound.
   */
  'session-key-max-uses': withDefault(integer({ min: 1, max: 1_000_000 }), 10_000),
  /**
   * Recipient groups a sender keeps a session key for, and unwrapped session keys a receiver keeps, oldest out
   * first (Canton's default size, 10 000): a few hundred bytes each.
   */
  'session-key-cache-size': withDefault(integer({ min: 1, max: 1_000_000 }), 10_000),
});

export type ParticipantSettings = Infer<typeof participantSectionSchema>;

const kebabCase = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** `given`'s fields as a config file writes them, nested sections (`sendBatch`) included. */
function asWritten(given: object): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(given)
      .filter(([, value]) => value !== undefined)
      .map(([key, value]) => [
        kebabCase(key),
        value !== null && typeof value === 'object' && !Array.isArray(value) ? asWritten(value) : value,
      ]),
  );
}

/**
 * The settings with every default filled in, checked against the section's bounds: `given` as a program passes
 * it (camelCase fields, as the parsed config section has them); CONFIG_INVALID naming the key when one is out of
 * bounds.
 */
export function participantSettings(given: Partial<ParticipantSettings> = {}): ParticipantSettings {
  const parsed = participantSectionSchema.parse(asWritten(given), 'participant');
  if (!parsed.ok) throw new WeftError(ConfigErrors.CONFIG_INVALID, formatProblems(parsed.problems));
  return parsed.value;
}

export const DEFAULT_PARTICIPANT_SETTINGS: ParticipantSettings = Object.freeze(participantSettings());

/** The session key store's bounds out of the participant's settings. */
export const sessionKeySettings = (s: ParticipantSettings): SessionKeySettings => ({
  ttlMs: s.sessionKeyTtlMs,
  maxUses: s.sessionKeyMaxUses,
  cacheSize: s.sessionKeyCacheSize,
});
