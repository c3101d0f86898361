import { WeftError } from '../errors/index.js';
import { StorageErrors } from './errors.js';
import type { SqlValue } from './types.js';

/** What the storage layer needs to know about a statement's text. */
export interface ParsedSql {
  /** The statement expects exactly this many parameters ($1..$paramCount, each used at least once). */
  readonly paramCount: number;
  /** The statement with every `$n` replaced by an anonymous `?` (SQLite's positional form). */
  readonly positional: string;
  /** For each `?` of `positional`, the 0-based index of the parameter it binds; `undefined` when it is 0,1,2… */
  readonly order: readonly number[] | undefined;
}

/** Parsed statements are cached when short: components reuse the same statement texts over and over. */
const MAX_CACHED = 1000;
const MAX_CACHED_LENGTH = 16_384;
const cache = new Map<string, ParsedSql>();

function remember<V>(map: Map<string, V>, key: string, value: V): V {
  if (map.size >= MAX_CACHED) map.delete(map.keys().next().value as string);
  map.set(key, value);
  return value;
}

function fail(message: string, sql: string): never {
  throw new WeftError(StorageErrors.STORAGE_QUERY_FAILED, message, { sql: sql.slice(0, 200) });
}

/**
 * Scans `sql` outside string literals, quoted identifiers, comments and PostgreSQL dollar quotes, and checks the
 * rules both backends need to behave alike: `$n` placeholders only, numbered without gaps, one statement.
 */
export function parseSql(sql: string): ParsedSql {
  const cached = cache.get(sql);
  if (cached) return cached;
  const order: number[] = [];
  let positional = '';
  let copied = 0;
  let i = 0;
  const n = sql.length;
  const skipTo = (close: string, from: number): number => {
    const end = sql.indexOf(close, from);
    return end < 0 ? n : end + close.length;
  };
  while (i < n) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      // A doubled quote inside the literal reads as two adjacent literals, which scans the same.
      i = skipTo(c, i + 1);
    } else if (c === '-' && sql[i + 1] === '-') {
      i = skipTo('\n', i + 2);
    } else if (c === '/' && sql[i + 1] === '*') {
      i = skipTo('*/', i + 2);
    } else if (c === '$') {
      const number = /^\$(\d+)/.exec(sql.slice(i, i + 12));
      if (number) {
        const index = Number(number[1]);
        if (index < 1) fail('placeholders are numbered from $1', sql);
        order.push(index - 1);
        positional += `${sql.slice(copied, i)}?`;
        i += number[0].length;
        copied = i;
        continue;
      }
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      i = tag ? skipTo(tag[0], i + tag[0].length) : i + 1;
    } else if (c === '?') {
      fail('use $1..$n placeholders, not ?', sql);
    } else if (c === ';') {
      if (/\S/.test(sql.slice(i + 1).replace(/--[^\n]*|\/\*[\s\S]*?\*\//g, ''))) {
        fail('one statement per call; run several statements in a transaction', sql);
      }
      i++;
    } else {
      i++;
    }
  }
  positional += sql.slice(copied);
  const paramCount = order.reduce((max, k) => Math.max(max, k + 1), 0);
  const used = new Set(order);
  for (let k = 0; k < paramCount; k++) if (!used.has(k)) fail(`placeholder $${k + 1} is never used`, sql);
  const parsed: ParsedSql = {
    paramCount,
    positional,
    order: order.every((k, j) => k === j) ? undefined : order,
  };
  return sql.length <= MAX_CACHED_LENGTH ? remember(cache, sql, parsed) : parsed;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** Rejects parameter lists that one backend would accept and the other reject or read differently. */
export function checkParams(sql: string, paramCount: number, params: readonly SqlValue[]): void {
  if (params.length !== paramCount) {
    fail(`the statement has ${paramCount} placeholders but ${params.length} parameters were given`, sql);
  }
  for (let k = 0; k < params.length; k++) {
    const v = params[k];
    if (v === null || typeof v === 'string' || typeof v === 'boolean' || v instanceof Uint8Array) continue;
    if (typeof v === 'bigint') {
      if (v < INT64_MIN || v > INT64_MAX)
        fail(`parameter $${k + 1} does not fit in a signed 64-bit integer`, sql);
    } else if (typeof v === 'number') {
      if (!Number.isFinite(v)) fail(`parameter $${k + 1} is not a finite number`, sql);
    } else {
      fail(`parameter $${k + 1} has unsupported type ${v === undefined ? 'undefined' : typeof v}`, sql);
    }
  }
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/** Table and column names are interpolated into SQL, so only plain lowercase identifiers are accepted. */
export function checkIdentifier(name: string, what: string): void {
  if (!IDENTIFIER.test(name) || name.length > 63) {
    throw new WeftError(
      StorageErrors.STORAGE_QUERY_FAILED,
      `${what} '${name}' is not a lowercase SQL identifier of at most 63 characters`,
    );
  }
}

/** A statement built by the storage layer, parsed already. */
export interface BuiltSql {
  readonly sql: string;
  readonly parsed: ParsedSql;
}

/** Insert statements repeat a few batch sizes; the cache holds a bounded amount of their (long) text. */
const MAX_INSERT_CACHE_CHARS = 4_000_000;
const insertCache = new Map<string, BuiltSql>();
let insertCacheChars = 0;

/** `INSERT INTO table (cols) VALUES ($1,..),(..)` for `rowCount` rows. */
export function insertSql(
  table: string,
  columns: readonly string[],
  rowCount: number,
  ignore: boolean,
): BuiltSql {
  const key = `${table}(${columns.join(',')})${rowCount}${ignore ? 'i' : ''}`;
  const cached = insertCache.get(key);
  if (cached) return cached;
  const tuples: string[] = [];
  let p = 1;
  for (let r = 0; r < rowCount; r++) {
    const row: string[] = [];
    for (let c = 0; c < columns.length; c++) row.push(`$${p++}`);
    tuples.push(`(${row.join(',')})`);
  }
  const head = `INSERT INTO ${table} (${columns.join(', ')}) VALUES `;
  const tail = ignore ? ' ON CONFLICT DO NOTHING' : '';
  const tuple = `(${columns.map(() => '?').join(',')})`;
  const built: BuiltSql = {
    sql: `${head}${tuples.join(',')}${tail}`,
    parsed: {
      paramCount: rowCount * columns.length,
      positional: `${head}${Array(rowCount).fill(tuple).join(',')}${tail}`,
      order: undefined,
    },
  };
  const chars = built.sql.length + built.parsed.positional.length;
  for (const [oldest, entry] of insertCache) {
    if (insertCacheChars + chars <= MAX_INSERT_CACHE_CHARS) break;
    insertCache.delete(oldest);
    insertCacheChars -= entry.sql.length + entry.parsed.positional.length;
  }
  if (chars <= MAX_INSERT_CACHE_CHARS) {
    insertCache.set(key, built);
    insertCacheChars += chars;
  }
  return built;
}
