import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { DEFAULT_PARTICIPANT_SETTINGS, participantSettings } from './config.js';

describe('participant settings', () => {
  it('default as the config section does, and take overrides', () => {
    expect(DEFAULT_PARTICIPANT_SETTINGS).toEqual({
      deduplicationWindowMs: 7 * 86_400_000,
      maxSequencingDelayMs: 60_000,
      activationTimeoutMs: 30_000,
      maxBackoffMs: 5000,
      sendBatch: { maxCallsInFlight: 64, maxRequests: 100, maxBytes: 4 << 20, queueSize: 10_000 },
      cursorIntervalMs: 200,
      groupCommitMaxDelayMs: 5,
      groupCommitMaxBatch: 256,
      storageRetryInitialDelayMs: 50,
      storageRetryMaxDelayMs: 2000,
      maxQueuedWrites: 1000,
      maxSubmissionsInFlight: 500,
      maxValidationsInFlight: 64,
      contractCacheSize: 100_000,
      maxDarInflatedBytes: 512 * 1024 * 1024,
      maxDarEntries: 10_000,
      sessionKeyTtlMs: 10_000,
      sessionKeyMaxUses: 10_000,
      sessionKeyCacheSize: 10_000,
    });
    expect(participantSettings()).toEqual(DEFAULT_PARTICIPANT_SETTINGS);
    expect(participantSettings({ contractCacheSize: 1 }).contractCacheSize).toBe(1);
    expect(participantSettings({ contractCacheSize: undefined }).contractCacheSize).toBe(100_000);
    // Nested sections as the parsed config has them, e.g. the node's settings passed on.
    const sendBatch = { maxCallsInFlight: 2, maxRequests: 7, maxBytes: 2048, queueSize: 3 };
    expect(participantSettings({ sendBatch }).sendBatch).toEqual(sendBatch);
  });

  it('refuse a value out of bounds or not an integer, naming the key', () => {
    for (const [given, key] of [
      [{ maxSubmissionsInFlight: 0 }, 'max-submissions-in-flight'],
      [{ maxValidationsInFlight: 1.5 }, 'max-validations-in-flight'],
      [{ contractCacheSize: 1e9 }, 'contract-cache-size'],
      [{ deduplicationWindowMs: 10 }, 'deduplication-window-ms'],
      [{ maxQueuedWrites: 0 }, 'max-queued-writes'],
      [{ maxDarInflatedBytes: 1000 }, 'max-dar-inflated-bytes'],
      [{ maxDarEntries: 1 }, 'max-dar-entries'],
      [{ groupCommitMaxDelayMs: 1001 }, 'group-commit-max-delay-ms'],
      [{ groupCommitMaxBatch: 0 }, 'group-commit-max-batch'],
      [{ storageRetryMaxDelayMs: 600_000 }, 'storage-retry-max-delay-ms'],
      [
        { sendBatch: { maxCallsInFlight: 1, maxRequests: 0, maxBytes: 4096, queueSize: 1 } },
        'send-batch.max-requests',
      ],
    ] as const) {
      let error: unknown;
      try {
        participantSettings(given);
      } catch (e) {
        error = e;
      }
      expect(isWeftError(error) && error.code).toBe('CONFIG_INVALID');
      expect(String(error)).toContain(`participant.${key}`);
    }
  });
});
