import { describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { StorageErrors } from './errors.js';
import { checkIdentifier, checkParams, insertSql, parseSql } from './sql.js';

function rejects(fn: () => unknown, message: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(isWeftError(e, StorageErrors.STORAGE_QUERY_FAILED)).toBe(true);
    expect((e as Error).message).toMatch(message);
    return;
  }
  throw new Error('expected a STORAGE_QUERY_FAILED');
}

describe('parseSql', () => {
  it('rewrites $n to positional ? and records the binding order', () => {
    expect(parseSql('SELECT a FROM t WHERE a = $1 AND b = $2')).toEqual({
      paramCount: 2,
      positional: 'SELECT a FROM t WHERE a = ? AND b = ?',
      order: undefined,
    });
    expect(parseSql('UPDATE t SET a = $2 WHERE b = $1 OR c = $2')).toEqual({
      paramCount: 2,
      positional: 'UPDATE t SET a = ? WHERE b = ? OR c = ?',
      order: [1, 0, 1],
    });
    expect(parseSql('SELECT $10, $1, $2, $3, $4, $5, $6, $7, $8, $9').order).toEqual([
      9, 0, 1, 2, 3, 4, 5, 6, 7, 8,
    ]);
  });

  it('leaves literals, quoted identifiers, comments and dollar quotes alone', () => {
    const sql = `SELECT '$1 ? ;' AS "$2?", 'it''s $3' -- $4 ? ;
      /* $5 ; ? */ , $$ $6 ? $$, $tag$ ; $7 $tag$, $1`;
    const parsed = parseSql(sql);
    expect(parsed.paramCount).toBe(1);
    expect(parsed.positional).toBe(`${sql.slice(0, -2)}?`);
  });

  it('accepts a trailing semicolon and comments but not a second statement', () => {
    expect(parseSql('SELECT 1; -- done\n /* really */ ').paramCount).toBe(0);
    rejects(() => parseSql('SELECT 1; SELECT 2'), /one statement per call/);
    rejects(() => parseSql("INSERT INTO t VALUES (';'); DELETE FROM t"), /one statement per call/);
  });

  it('rejects ?, $0 and unused placeholder numbers', () => {
    rejects(() => parseSql('SELECT a FROM t WHERE a = ?'), /use \$1..\$n placeholders/);
    rejects(() => parseSql('SELECT $0'), /numbered from \$1/);
    rejects(() => parseSql('SELECT $1, $3'), /\$2 is never used/);
  });
});

describe('checkParams', () => {
  it('accepts the portable value types', () => {
    expect(() =>
      checkParams('x', 7, [null, 'a', true, 1.5, -(2n ** 63n), 2n ** 63n - 1n, new Uint8Array(1)]),
    ).not.toThrow();
  });

  it('rejects wrong counts, out-of-range integers, non-finite numbers and other types', () => {
    rejects(() => checkParams('x', 2, [1]), /2 placeholders but 1 parameters/);
    rejects(() => checkParams('x', 1, [2n ** 63n]), /signed 64-bit/);
    rejects(() => checkParams('x', 1, [Number.POSITIVE_INFINITY]), /not a finite number/);
    rejects(() => checkParams('x', 1, [undefined as never]), /unsupported type undefined/);
    rejects(() => checkParams('x', 1, [new Date() as never]), /unsupported type object/);
  });
});

describe('identifiers and insert statements', () => {
  it('accepts only lowercase identifiers', () => {
    expect(() => checkIdentifier('seq_events_2', 'table')).not.toThrow();
    for (const bad of ['Events', 'a-b', '1a', 'a b', 'x'.repeat(64), 'a;drop table t']) {
      rejects(() => checkIdentifier(bad, 'table'), /lowercase SQL identifier/);
    }
  });

  it('builds one multi-row INSERT in both placeholder styles', () => {
    const built = insertSql('t', ['a', 'b'], 3, true);
    expect(built.sql).toBe('INSERT INTO t (a, b) VALUES ($1,$2),($3,$4),($5,$6) ON CONFLICT DO NOTHING');
    expect(built.parsed).toEqual({ ...parseSql(built.sql), order: undefined });
    expect(insertSql('t', ['a'], 1, false).sql).toBe('INSERT INTO t (a) VALUES ($1)');
  });
});
