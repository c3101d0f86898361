/**
 * View encryption with and without session keys: CPU per view encrypted by the sender and per view decrypted by
 * one recipient, a view of 2 KiB to two recipient participants (a two-party transfer). "Without" is max-uses 1: a
 * fresh session key, hybrid-encrypted to each recipient, per view, and an unwrap per view at the receiver. The two
 * modes alternate round by round (the machine is shared); medians over rounds. Run: npx tsx bench/session-keys.bench.ts
 */
import { availableParallelism, loadavg } from 'node:os';
import { generateEncryptionKeyPair, Hash, HashPurpose, systemRandom } from '../src/crypto/index.js';
import { decryptView, encryptView, SessionKeyStore } from '../src/protocol/index.js';
import { systemClock } from '../src/time/index.js';

const ROUNDS = 11;
const VIEWS = 400;
const random = systemRandom;
const a = generateEncryptionKeyPair(random);
const b = generateEncryptionKeyPair(random);
const plaintext = random.bytes(2048);
const hashes = Array.from({ length: VIEWS }, (_, i) =>
  Hash.digest(HashPurpose.ViewCommonData, Buffer.from(`v${i}`)),
);
const SYNC = 'bench::1220';

/** CPU microseconds (user + system) of `f`, per item. */
function cpuPer(items: number, f: () => void): number {
  const start = process.cpuUsage();
  f();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / items;
}

function round(maxUses: number): { encrypt: number; decrypt: number } {
  const sender = new SessionKeyStore({ ttlMs: 10_000, maxUses, cacheSize: 10_000 }, systemClock);
  const receiver = new SessionKeyStore({ ttlMs: 10_000, maxUses, cacheSize: 10_000 }, systemClock);
  let messages: ReturnType<typeof encryptView>[] = [];
  const encrypt = cpuPer(VIEWS, () => {
    messages = hashes.map((viewHash) =>
      encryptView({
        plaintext,
        viewHash,
        synchronizerId: SYNC,
        recipients: [a.publicKey, b.publicKey],
        sessionKeys: sender,
        random,
      }),
    );
  });
  const decrypt = cpuPer(VIEWS, () => {
    for (const [i, m] of messages.entries()) decryptView(m, b.privateKey, hashes[i]!, receiver);
  });
  return { encrypt, decrypt };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const modes = { without: 1, with: 10_000 };
const samples = {
  without: [] as { encrypt: number; decrypt: number }[],
  with: [] as { encrypt: number; decrypt: number }[],
};
round(1);
round(10_000); // warm-up
for (let r = 0; r < ROUNDS; r++) {
  for (const mode of r % 2 === 0 ? (['without', 'with'] as const) : (['with', 'without'] as const)) {
    samples[mode].push(round(modes[mode]));
  }
}
const row = (mode: 'without' | 'with') => ({
  encrypt: median(samples[mode].map((s) => s.encrypt)),
  decrypt: median(samples[mode].map((s) => s.decrypt)),
});
const [without, withKeys] = [row('without'), row('with')];
console.log(
  'CPU µs per view (2 KiB, 2 recipients), medians of',
  ROUNDS,
  'alternating rounds of',
  VIEWS,
  'views',
);
console.log(
  `without session keys: encrypt ${without.encrypt.toFixed(1)}, decrypt ${without.decrypt.toFixed(1)}`,
);
console.log(
  `with session keys:    encrypt ${withKeys.encrypt.toFixed(1)}, decrypt ${withKeys.decrypt.toFixed(1)}`,
);
console.log(
  `ratio: encrypt ${(without.encrypt / withKeys.encrypt).toFixed(1)}x, decrypt ${(without.decrypt / withKeys.decrypt).toFixed(1)}x; ` +
    `1-min load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`,
);
