import { expect, it } from 'vitest';
import { DEFAULT_PARTICIPANT_SETTINGS, participantSettings } from './config.js';

it('the participant section: its defaults are the node defaults, and its bounds are enforced', () => {
  expect(DEFAULT_PARTICIPANT_SETTINGS).toEqual({
    deduplicationWindowMs: 7 * 86_400_000,
    maxSequencingDelayMs: 60_000,
    activationTimeoutMs: 30_000,
    maxBackoffMs: 5000,
    cursorIntervalMs: 200,
    maxQueuedWrites: 1000,
  });
  expect(participantSettings({ 'activation-timeout-ms': 5000 }).activationTimeoutMs).toBe(5000);
  expect(() => participantSettings({ 'deduplication-window-ms': 10 })).toThrow(
    /participant\.deduplication-window-ms/,
  );
  expect(() => participantSettings({ 'max-queued-writes': 0 })).toThrow(/participant\.max-queued-writes/);
});
