import { inspect } from 'node:util';
import { isWeftError } from '../errors/index.js';
import { ConsoleId } from './values.js';

/** An error as one line: a WeftError's code and message, else the error's name and message (no stack). */
export function errorLine(e: unknown): string {
  const text = isWeftError(e) ? e.toString() : e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  return text.replace(/\s*\n\s*/g, ' ');
}

const cell = (v: unknown): string =>
  v === undefined || v === null
    ? ''
    : typeof v === 'object' && !(v instanceof ConsoleId)
      ? JSON.stringify(v)
      : String(v);

/** Rows of objects as a table: a header of their keys, then one padded line per row; ids in full. */
function table(rows: readonly Record<string, unknown>[]): string {
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns), ...cells.map(line)].join('\n');
}

const isRow = (x: unknown): x is Record<string, unknown> =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;

/** How the console prints a result: text and ids as they are, lists of records as tables, the rest inspected. */
export function render(value: unknown): string {
  if (value instanceof Error) return errorLine(value);
  if (typeof value === 'string' || value instanceof ConsoleId || typeof value === 'bigint')
    return String(value);
  if (Array.isArray(value)) {
    if (value.length === 0) return '(none)';
    if (value.every(isRow)) return table(value);
    if (value.every((v) => typeof v === 'string' || v instanceof ConsoleId)) return value.join('\n');
  }
  return inspect(value, { depth: 6, breakLength: 100, maxStringLength: null, maxArrayLength: 1000 });
}
