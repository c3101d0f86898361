import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ManualClock, StaticClock } from '../time/index.js';
import { GroupCommitWindow } from './group-commit.js';

/** A window on a manual clock, and a way to feed it arrivals `gapMs` apart. */
function windowOf(maxDelayMs: number, maxBatch = 100) {
  const clock = new ManualClock(1_000_000n);
  const window = new GroupCommitWindow({ maxDelayMs, maxBatch }, clock);
  const stream = (n: number, gapMs: number) => {
    for (let i = 0; i < n; i++) {
      clock.advance(gapMs);
      window.arrived();
    }
  };
  return { clock, window, stream };
}

/** Whether `p` has settled, after the pending microtasks ran. */
async function settled(p: Promise<void>): Promise<boolean> {
  let done = false;
  void p.then(() => {
    done = true;
  });
  await Promise.resolve();
  await Promise.resolve();
  return done;
}

describe('GroupCommitWindow', () => {
  it('commits a lone write at once, and a trickle slower than the window', () => {
    const { window, stream } = windowOf(5);
    window.arrived();
    expect(window.wait()).toBeUndefined();
    window.taken();
    // One transaction in flight: work every 10 ms or so, never sooner than the window closes.
    for (let i = 0; i < 50; i++) {
      stream(1, 10);
      expect(window.wait()).toBeUndefined();
      window.taken();
    }
  });

  it('waits under load until the window closes, counted from the oldest item', async () => {
    const { clock, window, stream } = windowOf(5);
    stream(60, 1); // the estimate follows the load: about one item a millisecond
    window.taken();
    stream(1, 1);
    const wait = window.wait();
    expect(wait).toBeDefined();
    stream(3, 1);
    clock.advance(1);
    expect(await settled(wait!)).toBe(false);
    clock.advance(1); // 5 ms after the oldest item
    expect(await settled(wait!)).toBe(true);
    expect(window.wait()).toBeUndefined();
  });

  it('closes the window as soon as the batch is full, and does not wait again for what stayed behind', async () => {
    const { clock, window, stream } = windowOf(50, 4);
    stream(60, 1);
    window.taken();
    stream(1, 1);
    const wait = window.wait()!;
    stream(2, 1);
    expect(await settled(wait)).toBe(false);
    stream(1, 1); // the fourth item
    expect(await settled(wait)).toBe(true);
    stream(3, 0);
    expect(window.wait()).toBeUndefined(); // seven items: a full batch goes, three stay
    window.taken(3);
    expect(window.wait()).toBeUndefined(); // they waited their window already
    clock.advance(100);
    window.taken();
    stream(1, 1);
    expect(window.wait()).toBeDefined();
  });

  it('stops waiting when arrivals slow down below one per window', async () => {
    const { clock, window, stream } = windowOf(50);
    stream(60, 1);
    window.taken();
    stream(1, 1);
    const wait = window.wait()!;
    clock.advance(49); // the next comes late: the moving average rises above the window
    stream(3, 0);
    expect(await settled(wait)).toBe(false);
    clock.advance(50);
    expect(await settled(wait)).toBe(true);
    window.taken();
    // Then one item every 60 ms for a while: no more waiting, though the window is still open.
    for (let i = 0; i < 20; i++) {
      stream(1, 60);
      window.taken();
    }
    stream(1, 60);
    expect(window.wait()).toBeUndefined();
  });

  it('follows real time when the ledger runs on static time', async () => {
    const wall = new ManualClock(1_000_000n);
    const window = new GroupCommitWindow({ maxDelayMs: 5, maxBatch: 100 }, new StaticClock(0n, wall));
    for (let i = 0; i < 60; i++) {
      wall.advance(1);
      window.arrived();
    }
    window.taken();
    wall.advance(1);
    window.arrived();
    const wait = window.wait()!;
    expect(await settled(wait)).toBe(false);
    wall.advance(5);
    expect(await settled(wait)).toBe(true);
    expect(window.wait()).toBeUndefined(); // the window closed, though static time stood still
  });

  it('never waits with a zero delay, and ends a wait when told to stop', async () => {
    const zero = windowOf(0);
    zero.stream(60, 0);
    expect(zero.window.wait()).toBeUndefined();

    const { window, stream } = windowOf(1000);
    stream(60, 1);
    const stop = new AbortController();
    const wait = window.wait(stop.signal)!;
    expect(await settled(wait)).toBe(false);
    stop.abort();
    expect(await settled(wait)).toBe(true);
    expect(window.wait(stop.signal)).toBeUndefined();
  });

  it('keeps the process running while a batch waits for its window (a script awaiting a commit)', () => {
    const module = fileURLToPath(new URL('./group-commit.ts', import.meta.url));
    const clock = fileURLToPath(new URL('../time/index.ts', import.meta.url));
    // Dense arrivals open the window; nothing else holds the process, as in a script or a bench building a ledger.
    const script = `
      const { GroupCommitWindow } = await import(${JSON.stringify(module)});
      const { systemClock } = await import(${JSON.stringify(clock)});
      const window = new GroupCommitWindow({ maxDelayMs: 200, maxBatch: 100 }, systemClock);
      for (let i = 0; i < 20; i++) window.arrived();
      await window.wait();
      console.log('committed');`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('committed');
  });

  it('never waits in a closed loop (each write awaits its commit before the next), however dense', () => {
    const { window, stream } = windowOf(20);
    for (let i = 0; i < 100; i++) {
      stream(1, 1);
      expect(window.wait()).toBeUndefined();
      window.taken();
    }
    // Once work overlaps (two items in one batch), the window opens.
    stream(2, 1);
    expect(window.wait()).toBeDefined();
  });
});
