import { open, readdir, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { strToU8, zipSync } from 'fflate';
import { REDACTED_FIELDS } from './logging.js';

/** The tail of the node's log a dump carries: enough for the last minutes of a busy node, small enough to mail. */
export const DUMP_LOG_BYTES = 1024 * 1024;

export interface HealthDumpInput {
  /** What GetStatus answers (JSON-serializable; bigints become strings). */
  readonly status: unknown;
  /** The node's config; secret fields and credentials in URLs are redacted here. */
  readonly config: unknown;
  /** The Prometheus text of the node's metrics. */
  readonly metrics: string;
  /** The node's log file, if it writes one (with rotation: the path before numbering). */
  readonly logFile?: string;
}

/**
 * A zip archive for a support request (Canton's `health.dump()`): `status.json`, `config.json` (secrets redacted),
 * `metrics.txt` and `logs.jsonl`, the last {@link DUMP_LOG_BYTES} of the newest log file.
 */
export async function healthDump(input: HealthDumpInput): Promise<Uint8Array> {
  const json = (value: unknown) =>
    strToU8(`${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
  return zipSync({
    'status.json': json(input.status),
    'config.json': json(redactConfig(input.config)),
    'metrics.txt': strToU8(input.metrics),
    'logs.jsonl': strToU8(input.logFile === undefined ? '' : await logTail(input.logFile)),
  });
}

const SECRET = new Set(REDACTED_FIELDS.map((f) => f.toLowerCase()));
const URL_CREDENTIALS = /^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i;

/** A copy of `value` with secret-named fields replaced and `user:password@` removed from URLs. */
export function redactConfig(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(URL_CREDENTIALS, '$1[redacted]@');
  if (Array.isArray(value)) return value.map(redactConfig);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [
      k,
      SECRET.has(k.toLowerCase()) || /secret|password|kek/i.test(k) ? '[redacted]' : redactConfig(v),
    ]),
  );
}

/** The last bytes of the log: `file` itself, or with rotation the newest `<name>.<n>.log` beside it. */
async function logTail(file: string): Promise<string> {
  const newest = await newestLogFile(file);
  if (newest === undefined) return '';
  const handle = await open(newest, 'r');
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, DUMP_LOG_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const text = buffer.toString('utf8');
    // Drop the first, probably cut, line when the tail starts mid-file.
    return length < size ? text.slice(text.indexOf('\n') + 1) : text;
  } finally {
    await handle.close();
  }
}

async function newestLogFile(file: string): Promise<string | undefined> {
  const stem = basename(file).replace(/\.log$/, '');
  const dir = dirname(file);
  const names = await readdir(dir).catch(() => [] as string[]);
  const candidates = names.filter((n) => n === basename(file) || rotatedName(stem).test(n));
  let newest: { path: string; mtime: number } | undefined;
  for (const name of candidates) {
    const path = join(dir, name);
    const { mtimeMs } = await stat(path);
    if (newest === undefined || mtimeMs >= newest.mtime) newest = { path, mtime: mtimeMs };
  }
  return newest?.path;
}

/** pino-roll's names for `<stem>`: `<stem>.<n>.log`, with an optional date before the number. */
export function rotatedName(stem: string): RegExp {
  return new RegExp(`^${stem.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\.[0-9-]+)?\\.\\d+\\.log$`);
}
