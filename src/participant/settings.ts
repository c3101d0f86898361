import { CommonErrors, WeftError } from '../errors/index.js';

/** The participant's knobs; {@link DEFAULT_PARTICIPANT_SETTINGS} is the one source of their defaults. */
export interface ParticipantSettings {
  /** How long a completed command id blocks a resubmission (Canton's max deduplication duration); default 7 days. */
  readonly deduplicationWindowMs: number;
  /** How long a confirmation request may take to be sequenced; default 60 s (capped by the ledger time tolerance). */
  readonly maxSequencingDelayMs: number;
  /** The resume cursor alone is written at most this often; default 200 ms. */
  readonly cursorIntervalMs: number;
  /** Effects waiting for the database beyond which event processing waits; default 1000. */
  readonly maxQueuedWrites: number;
  /** How long `connect` waits for the onboarding to take effect; default 30 s. */
  readonly activationTimeoutMs: number;
  /**
   * Submissions from interpretation to completion, on all synchronizers, beyond which `submit` refuses with
   * PARTICIPANT_OVERLOADED (Canton's max commands in flight): each holds its interpreted transaction and a
   * completion waiter in memory, and past a few hundred the sequencer and mediator are the bottleneck anyway;
   * default 500.
   */
  readonly maxSubmissionsInFlight: number;
  /**
   * Phase 3 validations (model conformance and responses) running at once, on all synchronizers. At the bound
   * event processing waits for one to end: reinterpretation is CPU-bound, so more concurrency only holds more
   * requests in memory, while fewer serialises the database and sequencer round trips; default 64.
   */
  readonly maxValidationsInFlight: number;
  /**
   * Active contracts kept in memory (least recently used first out); the rest are read from the database when a
   * submission, a validation or a commit needs them. Contracts whose changes are not durable yet and locked
   * contracts are held besides; default 100 000 (some 100–300 MB of decoded contracts).
   */
  readonly contractCacheSize: number;
}

export const DEFAULT_PARTICIPANT_SETTINGS: ParticipantSettings = Object.freeze({
  deduplicationWindowMs: 7 * 24 * 3600 * 1000,
  maxSequencingDelayMs: 60_000,
  cursorIntervalMs: 200,
  maxQueuedWrites: 1000,
  activationTimeoutMs: 30_000,
  maxSubmissionsInFlight: 500,
  maxValidationsInFlight: 64,
  contractCacheSize: 100_000,
});

/** A year: durations beyond it are mistakes (the ledger time tolerance caps the sequencing delay anyway). */
const YEAR_MS = 365 * 86_400_000;

/**
 * The range each setting may take: below the minimum the participant cannot work (nothing admitted, no time to
 * be sequenced or activated), beyond the maximum of a count it runs out of memory.
 */
export const PARTICIPANT_SETTING_BOUNDS: Readonly<
  Record<keyof ParticipantSettings, { readonly min: number; readonly max: number }>
> = Object.freeze({
  deduplicationWindowMs: { min: 1000, max: YEAR_MS },
  maxSequencingDelayMs: { min: 100, max: YEAR_MS },
  cursorIntervalMs: { min: 1, max: 60_000 },
  maxQueuedWrites: { min: 1, max: 1_000_000 },
  activationTimeoutMs: { min: 100, max: YEAR_MS },
  maxSubmissionsInFlight: { min: 1, max: 100_000 },
  maxValidationsInFlight: { min: 1, max: 10_000 },
  contractCacheSize: { min: 1, max: 10_000_000 },
});

/** The defaults overridden by `given`; INVALID_ARGUMENT naming the setting when one is not an integer in bounds. */
export function participantSettings(given: Partial<ParticipantSettings> = {}): ParticipantSettings {
  const settings = { ...DEFAULT_PARTICIPANT_SETTINGS, ...given };
  for (const [name, { min, max }] of Object.entries(PARTICIPANT_SETTING_BOUNDS)) {
    const value = settings[name as keyof ParticipantSettings];
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new WeftError(
        CommonErrors.INVALID_ARGUMENT,
        `participant setting ${name} is ${value}; it must be an integer from ${min} to ${max}`,
        { setting: name },
      );
    }
  }
  return Object.freeze(settings);
}
