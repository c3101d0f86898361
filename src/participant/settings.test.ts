import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { DEFAULT_PARTICIPANT_SETTINGS, PARTICIPANT_SETTING_BOUNDS, participantSettings } from './settings.js';

describe('participant settings', () => {
  it('default within their bounds, and take overrides', () => {
    expect(participantSettings()).toEqual(DEFAULT_PARTICIPANT_SETTINGS);
    for (const [name, { min, max }] of Object.entries(PARTICIPANT_SETTING_BOUNDS)) {
      const value = DEFAULT_PARTICIPANT_SETTINGS[name as keyof typeof DEFAULT_PARTICIPANT_SETTINGS];
      expect(value, name).toBeGreaterThanOrEqual(min);
      expect(value, name).toBeLessThanOrEqual(max);
    }
    expect(participantSettings({ contractCacheSize: 1 }).contractCacheSize).toBe(1);
  });

  it('refuse a value out of bounds or not an integer, naming the setting', () => {
    for (const given of [
      { maxSubmissionsInFlight: 0 },
      { maxValidationsInFlight: 1.5 },
      { contractCacheSize: 1e9 },
    ]) {
      let error: unknown;
      try {
        participantSettings(given);
      } catch (e) {
        error = e;
      }
      expect(isWeftError(error) && error.code).toBe('INVALID_ARGUMENT');
      expect(isWeftError(error) && error.context.setting).toBe(Object.keys(given)[0]);
    }
  });
});
