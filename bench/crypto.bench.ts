/**
 * Crypto micro-benchmarks: Ed25519 sign/verify (with the parsed-key cache, and re-importing the key per
 * verification for comparison), hybrid X25519/AES-256-GCM encryption, AES-256-GCM view encryption and
 * purpose-tagged SHA-256. Run: npx tsx bench/crypto.bench.ts
 */
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import {
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  Hash,
  HashPurpose,
  SigningPublicKey,
  SymmetricKey,
  systemRandom,
} from '../src/crypto/index.js';

interface Result {
  name: string;
  ops: number;
  opsPerSec: number;
  p50Us: number;
  p99Us: number;
  rssMiB: number;
}

/** Runs `op` `iterations` times after a warm-up, timing each call. */
function measure(name: string, iterations: number, op: () => unknown): Result {
  for (let i = 0; i < Math.min(200, iterations / 10); i++) op();
  const samples = new Float64Array(iterations);
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    op();
    samples[i] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const totalSec = Number(process.hrtime.bigint() - start) / 1e9;
  samples.sort();
  const pct = (p: number) => samples[Math.min(iterations - 1, Math.floor(p * iterations))]!;
  return {
    name,
    ops: iterations,
    opsPerSec: Math.round(iterations / totalSec),
    p50Us: round(pct(0.5)),
    p99Us: round(pct(0.99)),
    rssMiB: round(process.memoryUsage().rss / 2 ** 20),
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

const random = systemRandom;
const signer = generateSigningKeyPair(random);
const rawSigningKey = signer.publicKey.bytes;
const spki = signer.publicKey.toSpki();
const jwk = { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(rawSigningKey).toString('base64url') };
const message = random.bytes(32); // the protocol signs hashes
const signature = signer.privateKey.sign(message);
const recipient = generateEncryptionKeyPair(random);
const aad = random.bytes(34);
const viewKey = SymmetricKey.generate(random);
const kib = (n: number) => random.bytes(n * 1024);
const [pt1k, pt16k] = [kib(1), kib(16)];
const [ct1k, ct16k] = [pt1k, pt16k].map((pt) => recipient.publicKey.encrypt(pt, aad, random)) as [
  Uint8Array,
  Uint8Array,
];
const sym16k = viewKey.encrypt(pt16k, aad, random);
const digests = [1, 2, 3, 4].map((i) =>
  Hash.digest(HashPurpose.MerkleTreeInnerNode, Uint8Array.of(i)).toMultihash(),
);

const results: Result[] = [
  measure('ed25519 sign (32 B)', 5000, () => signer.privateKey.sign(message)),
  measure('ed25519 verify, parsed key held', 5000, () => signer.publicKey.verify(message, signature)),
  measure('ed25519 verify, fromRaw per call (interned)', 5000, () =>
    SigningPublicKey.fromRaw(rawSigningKey).verify(message, signature),
  ),
  measure('ed25519 verify, key re-imported per call (JWK)', 3000, () =>
    nodeVerify(null, message, createPublicKey({ key: jwk, format: 'jwk' }), signature),
  ),
  measure('ed25519 verify, key re-imported per call (SPKI DER)', 3000, () =>
    nodeVerify(
      null,
      message,
      createPublicKey({ key: Buffer.from(spki), format: 'der', type: 'spki' }),
      signature,
    ),
  ),
  measure('hybrid encrypt 32 B (wrap view key)', 3000, () =>
    recipient.publicKey.encrypt(viewKey.toBytes(), aad, random),
  ),
  measure('hybrid encrypt 1 KiB', 3000, () => recipient.publicKey.encrypt(pt1k, aad, random)),
  measure('hybrid decrypt 1 KiB', 3000, () => recipient.privateKey.decrypt(ct1k, aad)),
  measure('hybrid encrypt 16 KiB', 3000, () => recipient.publicKey.encrypt(pt16k, aad, random)),
  measure('hybrid decrypt 16 KiB', 3000, () => recipient.privateKey.decrypt(ct16k, aad)),
  measure('aes-256-gcm encrypt 16 KiB', 20000, () => viewKey.encrypt(pt16k, aad, random)),
  measure('aes-256-gcm decrypt 16 KiB', 20000, () => viewKey.decrypt(sym16k, aad)),
  // The shape of most protocol hashes: a few ints, ids and digests (here a Merkle node of four children).
  measure('sha-256 builder, 4 ints + id + 4 digests', 50000, () =>
    digests
      .reduce(
        (b, d) => b.addRaw(d),
        Hash.build(HashPurpose.MerkleTreeInnerNode)
          .addInt32(1)
          .addInt32(4)
          .addString('PAR::p1::1220ab')
          .addInt64(7n),
      )
      .finish(),
  ),
  measure('sha-256 with purpose, 32 B', 50000, () => Hash.digest(HashPurpose.MerkleTreeInnerNode, message)),
  measure('sha-256 with purpose, 1 KiB', 50000, () => Hash.digest(HashPurpose.MerkleTreeInnerNode, pt1k)),
  measure('sha-256 with purpose, 16 KiB', 20000, () => Hash.digest(HashPurpose.MerkleTreeInnerNode, pt16k)),
];

const width = Math.max(...results.map((r) => r.name.length));
console.log(
  `${'benchmark'.padEnd(width)}  ${'ops/s'.padStart(9)}  ${'p50 µs'.padStart(8)}  ${'p99 µs'.padStart(8)}  RSS MiB`,
);
for (const r of results) {
  console.log(
    `${r.name.padEnd(width)}  ${String(r.opsPerSec).padStart(9)}  ${r.p50Us.toFixed(1).padStart(8)}  ${r.p99Us.toFixed(1).padStart(8)}  ${r.rssMiB.toFixed(1).padStart(7)}`,
  );
}
// Ratios from p50 latencies: throughput on the shared VM swings with other load, the median per-call time does not.
const [held, jwkImport, derImport] = [results[1]!, results[3]!, results[4]!].map((r) => r.p50Us) as [
  number,
  number,
  number,
];
console.log(
  `verify p50, re-imported per call vs parsed key held: ${(jwkImport / held).toFixed(2)}x (JWK), ` +
    `${(derImport / held).toFixed(2)}x (SPKI DER); 1-min load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`,
);
for (const r of results) console.log(JSON.stringify({ bench: 'crypto', ...r }));
