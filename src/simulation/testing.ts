import { expect } from 'vitest';
import { simulate } from './cli.js';

/** Runs seeds `first` to `first + runs - 1` of the correct build; fails listing each violation and its replay line. */
export async function keepsEveryInvariant(first: number, runs: number): Promise<void> {
  const lines: string[] = [];
  const failed = await simulate({ seed: first, runs, trace: false }, (l) => lines.push(l));
  expect(failed.length, lines.filter((l) => l.startsWith('  ')).join('\n')).toBe(0);
}
