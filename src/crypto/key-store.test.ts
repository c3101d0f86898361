import { existsSync, readFileSync } from 'node:fs';
import { inspect } from 'node:util';
import { expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import type { Storage, StorageConfig } from '../storage/index.js';
import { describeBackends } from '../storage/testing.js';
import { type EncryptionKeyPair, generateEncryptionKeyPair } from './encryption.js';
import { parseKeyEncryptionKey } from './key-encryption.js';
import { KeyStore } from './key-store.js';
import { DeterministicRandom, systemRandom } from './random.js';
import { generateSigningKeyPair, type SigningKeyPair } from './signing.js';

describeBackends('key store', (backend) => {
  it('persists keys across reopen and returns the newest per role order', async () => {
    const config = backend.freshConfig();
    const ns = generateSigningKeyPair(systemRandom);
    const sig = generateSigningKeyPair(systemRandom);
    const enc = generateEncryptionKeyPair(systemRandom);
    {
      const store = await KeyStore.open(await backend.open(config));
      await store.add(ns, 'namespace', 'participant1-namespace', 1n);
      await store.add(sig, 'signing', 'participant1-signing', 2n);
      await store.add(enc, 'encryption', 'participant1-encryption', 3n);
      // Idempotent: the same key in the same role.
      await store.add(sig, 'signing', 'participant1-signing', 4n);
    }
    const store = await KeyStore.open(await backend.open(config));
    expect((await store.list()).map((k) => k.role)).toEqual(['namespace', 'signing', 'encryption']);
    const current = (await store.list('signing')).at(-1);
    expect(current?.fingerprint.equals(sig.publicKey.fingerprint)).toBe(true);
    const restored = current!.record.toSigningKeyPair();
    const message = new TextEncoder().encode('hello');
    expect(sig.publicKey.verify(message, restored.privateKey.sign(message))).toBe(true);
    expect((await store.get(enc.publicKey.fingerprint)).record.toEncryptionKeyPair().publicKey.bytes).toEqual(
      enc.publicKey.bytes,
    );
  });

  it('rejects role mismatches and unknown keys with typed errors, never printing key material', async () => {
    const store = await KeyStore.open(await backend.open());
    const sig = generateSigningKeyPair(systemRandom);
    await expect(store.add(sig, 'encryption', 'x', 1n)).rejects.toSatisfy((e) => isWeftError(e));
    await store.add(sig, 'signing', 'x', 1n);
    await expect(store.add(sig, 'namespace', 'x', 2n)).rejects.toThrow(
      /stored already with the role signing/,
    );
    await expect(store.get(generateSigningKeyPair(systemRandom).publicKey.fingerprint)).rejects.toThrow(
      /holds no private key/,
    );
    const stored = await store.get(sig.publicKey.fingerprint);
    const der = Buffer.from(sig.privateKey.toPkcs8());
    for (const text of [
      inspect(stored, { depth: 5 }),
      JSON.stringify(stored, (_, v) => (typeof v === 'bigint' ? String(v) : v)),
    ]) {
      expect(text).not.toContain(der.toString('hex'));
      expect(text).not.toContain(der.toString('base64'));
    }
  });
});

describeBackends('key store encrypted at rest', (backend) => {
  const kek = parseKeyEncryptionKey(Buffer.alloc(32, 7).toString('base64'), 'test');
  const otherKek = parseKeyEncryptionKey('ab'.repeat(32), 'test');
  const random = new DeterministicRandom('key store nonces');
  const sealed = { kek, random };

  /** The last 32 bytes of an Ed25519 or X25519 PKCS#8 key are the raw private key. */
  const rawPrivateKey = (pair: SigningKeyPair | EncryptionKeyPair) =>
    Buffer.from(pair.privateKey.toPkcs8()).subarray(-32);

  /** Every stored row's bytes, in the order of their fingerprints. */
  async function rows(storage: Storage): Promise<Buffer[]> {
    const all = await storage.query<Record<string, unknown>>(
      'SELECT * FROM crypto_keys ORDER BY fingerprint',
    );
    return all.map((row) =>
      Buffer.concat(
        Object.values(row).map((v) => (v instanceof Uint8Array ? Buffer.from(v) : Buffer.from(String(v)))),
      ),
    );
  }

  /** The database as bytes: the SQLite files, or the key table's rows on PostgreSQL. */
  async function databaseBytes(config: StorageConfig, storage: Storage): Promise<Buffer> {
    if (config.kind !== 'sqlite') return Buffer.concat(await rows(storage));
    const files = [config.path, `${config.path}-wal`].filter((f) => existsSync(f));
    return Buffer.concat(files.map((f) => readFileSync(f)));
  }

  async function failureOf(promise: Promise<unknown>): Promise<string | undefined> {
    return promise.then(
      () => undefined,
      (e: unknown) => (isWeftError(e) ? e.code : String(e)),
    );
  }

  it('keeps no private key in plain form, reopens with the KEK, refuses a wrong or missing one unchanged', async () => {
    const config = backend.freshConfig();
    const sig = generateSigningKeyPair(systemRandom);
    const enc = generateEncryptionKeyPair(systemRandom);
    const storage = await backend.open(config);
    const store = await KeyStore.open(storage, sealed);
    await store.add(sig, 'signing', 'n-signing', 1n);
    await store.add(enc, 'encryption', 'n-encryption', 2n);
    const bytes = await databaseBytes(config, storage);
    for (const pair of [sig, enc]) {
      expect(bytes.includes(rawPrivateKey(pair))).toBe(false);
      expect(bytes.includes(Buffer.from(pair.privateKey.toPkcs8()))).toBe(false);
    }
    const before = await rows(storage);

    const reopened = await KeyStore.open(await backend.open(config), sealed);
    const restored = (await reopened.get(sig.publicKey.fingerprint)).record.toSigningKeyPair();
    const message = new TextEncoder().encode('hello');
    expect(sig.publicKey.verify(message, restored.privateKey.sign(message))).toBe(true);

    expect(await failureOf(KeyStore.open(await backend.open(config), { kek: otherKek, random }))).toBe(
      'KEK_MISMATCH',
    );
    expect(await failureOf(KeyStore.open(await backend.open(config)))).toBe('KEK_UNAVAILABLE');
    expect(await rows(storage)).toEqual(before);
  });

  it('refuses a sealed record moved into another key row', async () => {
    const config = backend.freshConfig();
    const storage = await backend.open(config);
    const store = await KeyStore.open(storage, sealed);
    const a = generateSigningKeyPair(systemRandom);
    const b = generateSigningKeyPair(systemRandom);
    await store.add(a, 'signing', 'a', 1n);
    await store.add(b, 'namespace', 'b', 2n);
    await storage.execute(
      'UPDATE crypto_keys SET record = (SELECT record FROM crypto_keys WHERE fingerprint = $1) WHERE fingerprint = $2',
      [a.publicKey.fingerprint.value, b.publicKey.fingerprint.value],
    );
    expect(await failureOf(KeyStore.open(await backend.open(config), sealed))).toBe('KEK_MISMATCH');
  });

  it('encrypts plain keys in place when first opened with a KEK', async () => {
    const config = backend.freshConfig();
    const storage = await backend.open(config);
    const plainStore = await KeyStore.open(storage);
    const ns = generateSigningKeyPair(systemRandom);
    const enc = generateEncryptionKeyPair(systemRandom);
    await plainStore.add(ns, 'namespace', 'n-namespace', 1n);
    await plainStore.add(enc, 'encryption', 'n-encryption', 2n);
    expect((await rows(storage)).some((row) => row.includes(rawPrivateKey(ns)))).toBe(true);

    const upgraded = await KeyStore.open(await backend.open(config), sealed);
    expect(upgraded.encryptedOnOpen).toBe(2);
    for (const row of await rows(storage)) {
      expect(row.includes(rawPrivateKey(ns))).toBe(false);
      expect(row.includes(rawPrivateKey(enc))).toBe(false);
    }
    expect((await upgraded.list()).map((k) => k.fingerprint.value)).toEqual([
      ns.publicKey.fingerprint.value,
      enc.publicKey.fingerprint.value,
    ]);
    const reopened = await KeyStore.open(await backend.open(config), sealed);
    expect(reopened.encryptedOnOpen).toBe(0);
    const key = (await reopened.get(enc.publicKey.fingerprint)).record.toEncryptionKeyPair();
    expect(key.publicKey.bytes).toEqual(enc.publicKey.bytes);
    expect(await failureOf(KeyStore.open(await backend.open(config)))).toBe('KEK_UNAVAILABLE');
  });
});
