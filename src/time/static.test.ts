import { describe, expect, it } from 'vitest';

import {
  ManualClock,
  realTime,
  StaticClock,
  sleep,
  startStopwatch,
  staticTimeOf,
  systemClock,
} from './index.js';

describe('StaticClock', () => {
  it('stands at the epoch until moved forward, never back', () => {
    const clock = new StaticClock();
    expect(clock.now()).toBe(0n);
    clock.advanceTo(5_000_000n);
    expect(clock.now()).toBe(5_000_000n);
    clock.advanceTo(5_000_000n);
    expect(() => clock.advanceTo(4_999_999n)).toThrow(RangeError);
    expect(clock.now()).toBe(5_000_000n);
  });

  it('runs timers and stopwatches on its wall clock while its time stands still', async () => {
    const wall = new ManualClock(1_000n);
    const clock = new StaticClock(0n, wall);
    const watch = startStopwatch(clock);
    let woke = false;
    const slept = sleep(clock, 100).then(() => {
      woke = true;
    });
    wall.advance(100);
    await slept;
    expect(woke).toBe(true);
    expect(watch.elapsedMs()).toBe(100);
    expect(clock.now()).toBe(0n);
    // Moving the static time fires nothing: the timers are the wall clock's.
    clock.schedule(10, () => {
      throw new Error('fired on static time');
    });
    clock.advanceTo(1_000_000_000n);
    expect(wall.pending).toBe(1);
  });

  it('tells static time from real time', () => {
    const clock = new StaticClock(0n, systemClock);
    expect(realTime(clock)).toBe(systemClock);
    expect(staticTimeOf(clock)).toBe(clock);
    const manual = new ManualClock(0n);
    expect(realTime(manual)).toBe(manual);
    expect(staticTimeOf(manual)).toBeUndefined();
  });
});
