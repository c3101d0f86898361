import { inspect } from 'node:util';
import { expect, it } from 'vitest';
import { isWeftError } from '../errors/index.js';
import { describeBackends } from '../storage/testing.js';
import { generateEncryptionKeyPair } from './encryption.js';
import { KeyStore } from './key-store.js';
import { systemRandom } from './random.js';
import { generateSigningKeyPair } from './signing.js';

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
