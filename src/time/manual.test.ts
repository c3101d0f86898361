import { describe, expect, it } from 'vitest';

import { ManualClock, sleep, startStopwatch } from './index.js';

describe('ManualClock', () => {
  it('moves only when advanced', () => {
    const clock = new ManualClock(1_000n);
    expect(clock.now()).toBe(1_000n);
    clock.advance(2.5);
    expect(clock.now()).toBe(3_500n);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    clock.advanceTo(0n);
    expect(clock.now()).toBe(3_500n);
  });

  it('fires due timers in due order, equal times in scheduling order, each at its due time', () => {
    const clock = new ManualClock(0n);
    const fired: string[] = [];
    const at = (name: string) => () => fired.push(`${name}@${clock.now()}`);
    clock.schedule(30, at('c'));
    clock.schedule(10, at('a'));
    clock.schedule(10, at('b'));
    clock.schedule(50, at('late'));
    clock.advance(40);
    expect(fired).toEqual(['a@10000', 'b@10000', 'c@30000']);
    expect(clock.now()).toBe(40_000n);
    expect(clock.pending).toBe(1);
    expect(clock.nextDue()).toBe(50_000n);
  });

  it('fires timers that callbacks schedule within the advanced span', () => {
    const clock = new ManualClock(0n);
    const fired: bigint[] = [];
    const tick = () => {
      fired.push(clock.now());
      if (fired.length < 5) clock.schedule(10, tick);
    };
    clock.schedule(10, tick);
    clock.advance(35);
    expect(fired).toEqual([10_000n, 20_000n, 30_000n]);
    clock.advance(100);
    expect(fired).toEqual([10_000n, 20_000n, 30_000n, 40_000n, 50_000n]);
    expect(clock.pending).toBe(0);
  });

  it('does not fire cancelled timers', () => {
    const clock = new ManualClock(0n);
    let fired = 0;
    const cancel = clock.schedule(5, () => fired++);
    clock.schedule(6, () => fired++);
    cancel();
    expect(clock.pending).toBe(1);
    clock.advance(10);
    expect(fired).toBe(1);
    expect(clock.nextDue()).toBeUndefined();
  });

  it('drives sleep and stopwatches', async () => {
    const clock = new ManualClock(0n);
    const watch = startStopwatch(clock);
    let woke = false;
    const slept = sleep(clock, 100).then(() => {
      woke = true;
    });
    clock.advance(99);
    await Promise.resolve();
    expect(woke).toBe(false);
    clock.advance(1);
    await slept;
    expect(woke).toBe(true);
    expect(watch.elapsedMs()).toBe(100);
  });
});
