import { describe, expect, it } from 'vitest';
import {
  CryptoErrors,
  DeterministicRandom,
  type EncryptionKeyPair,
  generateEncryptionKeyPair,
  Hash,
  HashPurpose,
  type RandomSource,
} from '../crypto/index.js';
import { isWeftError } from '../errors/index.js';
import { ManualClock } from '../time/index.js';
import { decryptView, encryptView } from './encryption.js';
import { type SessionKeySettings, SessionKeyStore } from './session-keys.js';

const random = new DeterministicRandom('session-keys-test');
const SYNC = 'sync::1220ab';
const SETTINGS: SessionKeySettings = { ttlMs: 10_000, maxUses: 3, cacheSize: 4 };
const a = generateEncryptionKeyPair(random);
const b = generateEncryptionKeyPair(random);
const c = generateEncryptionKeyPair(random);
const hashOf = (s: string) => Hash.digest(HashPurpose.ViewCommonData, Buffer.from(s));

/** Counts the draws, so a test sees whether a fresh session key (and its hybrid encryptions) was made. */
class CountingRandom implements RandomSource {
  draws = 0;
  bytes(n: number): Uint8Array {
    this.draws++;
    return random.bytes(n);
  }
}

function setup(settings: SessionKeySettings = SETTINGS) {
  const clock = new ManualClock(1_000_000n);
  return { clock, store: new SessionKeyStore(settings, clock) };
}

const wrappedOf = (k: { wrapped: readonly { encryptedKey: Uint8Array }[] }) =>
  k.wrapped.map((w) => Buffer.from(w.encryptedKey).toString('hex'));

describe('session key store, sender side', () => {
  it('reuses the key of a group, whatever the order of its recipients, up to its uses', () => {
    const { store } = setup();
    const first = store.sessionKeyFor(SYNC, [a.publicKey, b.publicKey], random);
    const second = store.sessionKeyFor(SYNC, [b.publicKey, a.publicKey], random);
    const third = store.sessionKeyFor(SYNC, [a.publicKey, b.publicKey], random);
    expect(second.key).toBe(first.key);
    expect(third.key).toBe(first.key);
    expect(wrappedOf(second)).toEqual(wrappedOf(first));
    // The fourth use is past max-uses: a new key, wrapped anew.
    const fourth = store.sessionKeyFor(SYNC, [a.publicKey, b.publicKey], random);
    expect(fourth.key).not.toBe(first.key);
    expect(fourth.key.toBytes()).not.toEqual(first.key.toBytes());
    expect(wrappedOf(fourth)).not.toEqual(wrappedOf(first));
  });

  it('makes a new key once the time bound has passed', () => {
    const { clock, store } = setup();
    const first = store.sessionKeyFor(SYNC, [a.publicKey], random);
    clock.advance(9_999);
    expect(store.sessionKeyFor(SYNC, [a.publicKey], random).key).toBe(first.key);
    clock.advance(1);
    expect(store.sessionKeyFor(SYNC, [a.publicKey], random).key).not.toBe(first.key);
  });

  it('makes a new key for another group, synchronizer or recipient key', () => {
    const { store } = setup();
    const ab = store.sessionKeyFor(SYNC, [a.publicKey, b.publicKey], random);
    expect(store.sessionKeyFor(SYNC, [a.publicKey], random).key).not.toBe(ab.key);
    expect(store.sessionKeyFor(SYNC, [a.publicKey, b.publicKey, c.publicKey], random).key).not.toBe(ab.key);
    expect(store.sessionKeyFor('sync::other', [a.publicKey, b.publicKey], random).key).not.toBe(ab.key);
    // b rotates its encryption key (a topology change): the group gets a new key, wrapped to the new one only.
    const rotated = generateEncryptionKeyPair(random);
    const after = store.sessionKeyFor(SYNC, [a.publicKey, rotated.publicKey], random);
    expect(after.key).not.toBe(ab.key);
    expect(after.wrapped.map((w) => w.keyFingerprint)).toEqual([
      a.publicKey.fingerprint.value,
      rotated.publicKey.fingerprint.value,
    ]);
  });

  it('keeps a key for at most cache-size groups, the oldest out first', () => {
    const { store } = setup();
    const keys = Array.from({ length: 5 }, () => generateEncryptionKeyPair(random).publicKey);
    const first = store.sessionKeyFor(SYNC, [keys[0]!], random);
    const last = store.sessionKeyFor(SYNC, [keys[4]!], random);
    for (const k of keys.slice(1, 4)) store.sessionKeyFor(SYNC, [k], random);
    // Five groups in a store of four: the first is gone (a new key), the last is still there.
    expect(store.sessionKeyFor(SYNC, [keys[4]!], random).key).toBe(last.key);
    expect(store.sessionKeyFor(SYNC, [keys[0]!], random).key).not.toBe(first.key);
  });

  it('with max-uses 1 makes a fresh key for every view', () => {
    const { store } = setup({ ...SETTINGS, maxUses: 1 });
    const first = store.sessionKeyFor(SYNC, [a.publicKey], random);
    expect(store.sessionKeyFor(SYNC, [a.publicKey], random).key).not.toBe(first.key);
  });

  it('encrypts each view under its own key: the hybrid encryption is paid once per group', () => {
    const { store } = setup({ ...SETTINGS, maxUses: 100 });
    const counting = new CountingRandom();
    const encrypt = (view: string) =>
      encryptView({
        plaintext: Buffer.from(view),
        viewHash: hashOf(view),
        synchronizerId: SYNC,
        recipients: [a.publicKey, b.publicKey],
        sessionKeys: store,
        random: counting,
      });
    const v1 = encrypt('view 1');
    const firstDraws = counting.draws;
    const v2 = encrypt('view 2');
    // Only the view's nonce was drawn: no session key, no ephemeral keys.
    expect(counting.draws - firstDraws).toBe(1);
    expect(v2.sessionKeys).toEqual(v1.sessionKeys);
    const receiver = setup().store;
    for (const [m, view] of [
      [v1, 'view 1'],
      [v2, 'view 2'],
    ] as const) {
      expect(Buffer.from(decryptView(m, b.privateKey, hashOf(view), receiver)).toString()).toBe(view);
    }
    // Another view's ciphertext does not open as this view, though the session key is the same.
    expectDecryptionFailure(() =>
      decryptView({ ...v2, ciphertext: v1.ciphertext }, a.privateKey, hashOf('view 2'), receiver),
    );
  });
});

function expectDecryptionFailure(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    expect(isWeftError(e, CryptoErrors.DECRYPTION_FAILED)).toBe(true);
    return;
  }
  throw new Error('expected DECRYPTION_FAILED');
}

describe('session key store, receiver side', () => {
  const wrapFor = (to: EncryptionKeyPair, sync = SYNC) =>
    setup().store.sessionKeyFor(sync, [to.publicKey], random).wrapped[0]!.encryptedKey;

  it('unwraps once and serves the same bytes from the cache until the time bound', () => {
    const sender = setup().store;
    const session = sender.sessionKeyFor(SYNC, [a.publicKey], random);
    const wrapped = session.wrapped[0]!.encryptedKey;
    const { clock, store } = setup();
    const first = store.unwrap(a.privateKey, SYNC, wrapped);
    expect(first.toBytes()).toEqual(session.key.toBytes());
    expect(store.unwrap(a.privateKey, SYNC, wrapped)).toBe(first);
    clock.advance(10_000);
    const again = store.unwrap(a.privateKey, SYNC, wrapped);
    expect(again).not.toBe(first);
    expect(again.toBytes()).toEqual(session.key.toBytes());
  });

  it('never serves a cached key for other bytes, another receiving key or another synchronizer', () => {
    const { store } = setup();
    const wrapped = wrapFor(a);
    store.unwrap(a.privateKey, SYNC, wrapped);
    // One flipped bit of the wrapped key: not a cache hit, and it does not authenticate.
    const flipped = Uint8Array.from(wrapped);
    flipped[flipped.length - 1]! ^= 1;
    expectDecryptionFailure(() => store.unwrap(a.privateKey, SYNC, flipped));
    // The same bytes for another receiving key, or presented as being for another synchronizer.
    expectDecryptionFailure(() => store.unwrap(b.privateKey, SYNC, wrapped));
    expectDecryptionFailure(() => store.unwrap(a.privateKey, 'sync::other', wrapped));
    // A wrapped key made for another synchronizer does not open here either.
    expectDecryptionFailure(() => store.unwrap(a.privateKey, SYNC, wrapFor(a, 'sync::other')));
    // Failures cache nothing.
    expect(store.cachedUnwrapped).toBe(1);
  });

  it('keeps at most cache-size keys, the oldest out first', () => {
    const { store } = setup();
    const wrapped = Array.from({ length: 6 }, () => wrapFor(a));
    const keys = wrapped.map((w) => store.unwrap(a.privateKey, SYNC, w));
    expect(store.cachedUnwrapped).toBe(SETTINGS.cacheSize);
    // The newest are served from the cache; the oldest was evicted and is unwrapped again (same bytes, new object).
    expect(store.unwrap(a.privateKey, SYNC, wrapped[5]!)).toBe(keys[5]);
    const evicted = store.unwrap(a.privateKey, SYNC, wrapped[0]!);
    expect(evicted).not.toBe(keys[0]);
    expect(evicted.toBytes()).toEqual(keys[0]!.toBytes());
    expect(store.cachedUnwrapped).toBe(SETTINGS.cacheSize);
  });
});
