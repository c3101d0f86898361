import { describe, expect, it } from 'vitest';
import { parseSimulateArgs, simulate } from './cli.js';
import { runSimulation } from './index.js';

describe('deterministic simulation', () => {
  it('replays a run exactly from its seed', async () => {
    const a = await runSimulation({ seed: 7 });
    const b = await runSimulation({ seed: 7 });
    expect(a.violations).toEqual([]);
    expect(b.trace).toEqual(a.trace);
    expect(b.traceHash).toBe(a.traceHash);
    const other = await runSimulation({ seed: 8 });
    expect(other.traceHash).not.toBe(a.traceHash);
  }, 120_000);

  it('finds the planted mediator bug and reproduces it from the seed it prints', async () => {
    const lines: string[] = [];
    const failed = await simulate({ seed: 1, runs: 5, planted: 'approve-rejections', trace: false }, (l) =>
      lines.push(l),
    );
    expect(failed.length).toBeGreaterThan(0);
    const first = failed[0]!;
    expect(first.violations.map((v) => v.invariant)).toContain('double-spend');
    const printed = lines.find((l) => l.includes('reproduce: npm run simulate -- '))!;
    const args = parseSimulateArgs(printed.split('npm run simulate -- ')[1]!.split(' '));
    expect(args).toEqual({ seed: first.seed, runs: 1, planted: 'approve-rejections', trace: false });
    const again = await simulate(args, () => {});
    expect(again).toHaveLength(1);
    expect(again[0]!.violations).toEqual(first.violations);
    expect(again[0]!.traceHash).toBe(first.traceHash);
  }, 180_000);

  it('rejects malformed arguments', () => {
    expect(() => parseSimulateArgs(['--runs', '0'])).toThrow(/--runs/);
    expect(() => parseSimulateArgs(['--planted', 'nonsense'])).toThrow(/--planted/);
    expect(() => parseSimulateArgs(['--seeds', '3'])).toThrow(/unknown argument/);
  });
});
