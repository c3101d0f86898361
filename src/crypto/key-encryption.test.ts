import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { loadKeyEncryptionKey, parseKeyEncryptionKey } from './key-encryption.js';
import { DeterministicRandom } from './random.js';

const dir = mkdtempSync(join(tmpdir(), 'weft-kek-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const KEK = Buffer.from(new DeterministicRandom('kek').bytes(32));

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return isWeftError(e) ? e.code : String(e);
  }
}

/** Whether two KEKs are the same key: one opens what the other sealed. */
function sameKey(text: string): boolean {
  const random = new DeterministicRandom('nonces');
  const sealed = parseKeyEncryptionKey(KEK.toString('hex'), 'reference').encrypt(
    Uint8Array.of(1, 2, 3),
    new Uint8Array(),
    random,
  );
  return codeOf(() => parseKeyEncryptionKey(text, 'test').decrypt(sealed, new Uint8Array())) === undefined;
}

describe('key-encryption keys', () => {
  it('take 32 bytes as hex or padded base64, surrounding whitespace ignored', () => {
    expect(sameKey(KEK.toString('hex'))).toBe(true);
    expect(sameKey(KEK.toString('hex').toUpperCase())).toBe(true);
    expect(sameKey(`${KEK.toString('base64')}\n`)).toBe(true);
    expect(sameKey(Buffer.alloc(32).toString('base64'))).toBe(false);
  });

  it('refuse anything else with KEK_MALFORMED, never echoing the value', () => {
    for (const text of [
      '',
      KEK.subarray(1).toString('hex'),
      KEK.subarray(1).toString('base64'),
      `${KEK.toString('hex')}00`,
      KEK.toString('base64url').replace(/=$/, ''),
      'correct horse battery staple',
    ]) {
      expect(codeOf(() => parseKeyEncryptionKey(text, 'variable K'))).toBe('KEK_MALFORMED');
    }
    expect(() => parseKeyEncryptionKey('secret-ish', 'variable K')).toThrow(/variable K/);
    expect(() => parseKeyEncryptionKey('secret-ish', 'variable K')).not.toThrow(/secret-ish/);
  });

  it('come from the configured variable or file; plain storage has none', () => {
    const file = join(dir, 'kek');
    writeFileSync(file, `${KEK.toString('base64')}\n`);
    expect(loadKeyEncryptionKey({ type: 'plain' }, {})).toBeUndefined();
    expect(
      loadKeyEncryptionKey({ type: 'kek-env', variable: 'K' }, { K: KEK.toString('hex') }),
    ).toBeDefined();
    expect(loadKeyEncryptionKey({ type: 'kek-file', file }, {})).toBeDefined();
    expect(codeOf(() => loadKeyEncryptionKey({ type: 'kek-env', variable: 'K' }, {}))).toBe(
      'KEK_UNAVAILABLE',
    );
    expect(codeOf(() => loadKeyEncryptionKey({ type: 'kek-file', file: join(dir, 'missing') }, {}))).toBe(
      'KEK_UNAVAILABLE',
    );
    expect(codeOf(() => loadKeyEncryptionKey({ type: 'kek-env', variable: 'K' }, { K: 'short' }))).toBe(
      'KEK_MALFORMED',
    );
  });
});
