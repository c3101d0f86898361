/**
 * Ed25519 verification off the event loop: batches of signature checks verified inline vs by a pool of 1 and 2
 * worker threads, at batch sizes 1, 8 and 64. Per configuration:
 * - *latency*: one batch at a time on an idle pool, call → results (what a batch adds to a request's latency);
 * - *throughput*: checks/s with 2 batches per worker in flight (inline: one after another), plus the main thread's
 *   busy time per check (event-loop utilisation: what is left for everything else the node does) and the process
 *   CPU per check (all threads: what message passing costs on top of the verification itself).
 * Keys: 10 members (as the sequencer bench); messages are 34-byte hash multihashes, as the protocol signs.
 *
 * The pool lives here, not in src/: it did not pay on the sequencer's hot path (docs/performance.md, "Signature
 * verification off the event loop"). A fuller version (per-turn batching of single checks, worker replacement, the
 * `sequencer.crypto-workers` setting) is in the history: commits deb862f and 8c14fac.
 *
 * Run: npx tsx bench/crypto-pool.bench.ts [--runs 5] [--checks 4096] [--latency-rounds 100]
 */
import { availableParallelism, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';
import {
  generateSigningKeyPair,
  Hash,
  HashPurpose,
  SigningPublicKey,
  systemRandom,
} from '../src/crypto/index.js';

/** One Ed25519 signature to check: the raw 32-byte public key, the signed bytes and the 64-byte signature. */
interface SignatureCheck {
  readonly publicKey: Uint8Array;
  readonly message: Uint8Array;
  readonly signature: Uint8Array;
}

/** Whether `check` verifies; a malformed key or signature is `false`, never an exception. */
function checkSignature(check: SignatureCheck): boolean {
  try {
    return SigningPublicKey.fromRaw(check.publicKey).verify(check.message, check.signature);
  } catch {
    return false;
  }
}

/**
 * A batch as one buffer, so that it crosses to a worker as a single transferable instead of being structured-cloned
 * field by field: a u32 count, then per check the u32-length-prefixed key, signature and message.
 */
function packChecks(checks: readonly SignatureCheck[]): ArrayBuffer {
  let size = 4;
  for (const c of checks) size += 12 + c.publicKey.byteLength + c.signature.byteLength + c.message.byteLength;
  const buffer = new ArrayBuffer(size);
  const view = new DataView(buffer);
  const bytes = new Uint8Array(buffer);
  view.setUint32(0, checks.length);
  let at = 4;
  for (const c of checks) {
    for (const part of [c.publicKey, c.signature, c.message]) {
      view.setUint32(at, part.byteLength);
      bytes.set(part, at + 4);
      at += 4 + part.byteLength;
    }
  }
  return buffer;
}

/** Checks a {@link packChecks} batch: one byte per check, 1 when it verifies. */
function checkPacked(buffer: ArrayBuffer): Uint8Array<ArrayBuffer> {
  const view = new DataView(buffer);
  const results = new Uint8Array(view.getUint32(0));
  let at = 4;
  const next = () => {
    const length = view.getUint32(at);
    const part = new Uint8Array(buffer, at + 4, length);
    at += 4 + length;
    return part;
  };
  for (let i = 0; i < results.length; i++) {
    const publicKey = next();
    const signature = next();
    results[i] = checkSignature({ publicKey, signature, message: next() }) ? 1 : 0;
  }
  return results;
}

interface Slot {
  readonly worker: Worker;
  readonly jobs: Map<number, (results: boolean[]) => void>;
  /** Checks sent and not answered yet: a batch goes to the least loaded worker. */
  load: number;
}

/**
 * Worker threads verifying batches; size 0 verifies inline. The workers run this file (under tsx, which a worker's
 * `execArgv: ['--import', 'tsx']` does not reach on Node 20, so the worker registers it first).
 */
class VerifierPool {
  readonly #slots: Slot[] = [];
  #nextId = 0;

  constructor(size: number) {
    const code = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(import.meta.url)}); })`;
    for (let i = 0; i < size; i++) {
      const slot: Slot = { worker: new Worker(code, { eval: true }), jobs: new Map(), load: 0 };
      slot.worker.on('message', ({ id, results }: { id: number; results: Uint8Array }) => {
        const resolve = slot.jobs.get(id)!;
        slot.jobs.delete(id);
        slot.load -= results.length;
        resolve(Array.from(results, (r) => r === 1));
      });
      slot.worker.on('error', (e) => {
        throw e;
      });
      this.#slots.push(slot);
    }
  }

  get size(): number {
    return this.#slots.length;
  }

  verifyBatch(checks: readonly SignatureCheck[]): Promise<boolean[]> {
    if (this.#slots.length === 0) return Promise.resolve(checks.map(checkSignature));
    let slot = this.#slots[0]!;
    for (const s of this.#slots) if (s.load < slot.load) slot = s;
    const id = this.#nextId++;
    const batch = packChecks(checks);
    return new Promise((resolve) => {
      slot.load += checks.length;
      slot.jobs.set(id, resolve);
      slot.worker.postMessage({ id, batch }, [batch]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#slots.splice(0).map((s) => s.worker.terminate()));
  }
}

if (!isMainThread) {
  parentPort?.on('message', ({ id, batch }: { id: number; batch: ArrayBuffer }) => {
    const results = checkPacked(batch);
    parentPort?.postMessage({ id, results }, [results.buffer]);
  });
} else {
  await main();
}

async function main(): Promise<void> {
  const args = new Map<string, string>();
  for (let i = 2; i < process.argv.length; i += 2)
    args.set(process.argv[i]!.replace(/^--/, ''), process.argv[i + 1]!);
  const RUNS = Number(args.get('runs') ?? 5);
  const CHECKS = Number(args.get('checks') ?? 4096);
  const LATENCY_ROUNDS = Number(args.get('latency-rounds') ?? 100);
  const BATCH_SIZES = [1, 8, 64];
  const POOL_SIZES = [0, 1, 2];

  const keys = Array.from({ length: 10 }, () => generateSigningKeyPair(systemRandom));
  const checks: SignatureCheck[] = Array.from({ length: 640 }, (_, i) => {
    const key = keys[i % keys.length]!;
    const message = Hash.digest(
      HashPurpose.SubmissionRequestSignature,
      systemRandom.bytes(1024),
    ).toMultihash();
    return { publicKey: key.publicKey.bytes, message, signature: key.privateKey.sign(message) };
  });
  const batchAt = (i: number, size: number) =>
    Array.from({ length: size }, (_, j) => checks[(i * size + j) % checks.length]!);

  interface Measurement {
    workers: number;
    batch: number;
    latencyUs: number;
    checksPerSec: number;
    mainUsPerCheck: number;
    cpuUsPerCheck: number;
  }

  async function measure(pool: VerifierPool, batch: number): Promise<Measurement> {
    const samples: number[] = [];
    for (let i = 0; i < LATENCY_ROUNDS; i++) {
      const b = batchAt(i, batch);
      const t0 = performance.now();
      const results = await pool.verifyBatch(b);
      samples.push((performance.now() - t0) * 1000);
      if (!results.every((r) => r)) throw new Error('a valid signature did not verify');
    }
    const batches = Math.ceil(CHECKS / batch);
    const window = Math.max(1, 2 * pool.size);
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    let next = 0;
    const lane = async () => {
      while (next < batches) await pool.verifyBatch(batchAt(next++, batch));
    };
    await Promise.all(Array.from({ length: window }, lane));
    const seconds = (performance.now() - t0) / 1000;
    const elu = performance.eventLoopUtilization(elu0);
    const cpu = process.cpuUsage(cpu0);
    const verified = batches * batch;
    return {
      workers: pool.size,
      batch,
      latencyUs: median(samples),
      checksPerSec: verified / seconds,
      mainUsPerCheck: (elu.active * 1000) / verified,
      cpuUsPerCheck: (cpu.user + cpu.system) / verified,
    };
  }

  function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.floor(s.length / 2)]!;
  }

  const pools = POOL_SIZES.map((n) => new VerifierPool(n));
  const runs: Measurement[][] = [];
  try {
    for (const pool of pools) await measure(pool, 8); // warm-up: worker start-up, key imports, JIT
    for (let r = 0; r < RUNS; r++) {
      const run: Measurement[] = [];
      for (const batch of BATCH_SIZES) for (const pool of pools) run.push(await measure(pool, batch));
      for (const m of run)
        console.log(JSON.stringify({ bench: 'crypto-pool', run: r, ...m, load: loadavg()[0] }));
      runs.push(run);
    }
  } finally {
    for (const pool of pools) await pool.close();
  }

  const rows = runs[0]!.map((m, i) => {
    const of = (f: (m: Measurement) => number) => median(runs.map((run) => f(run[i]!)));
    return {
      workers: m.workers,
      batch: m.batch,
      latencyUs: of((m) => m.latencyUs),
      checksPerSec: of((m) => m.checksPerSec),
      mainUsPerCheck: of((m) => m.mainUsPerCheck),
      cpuUsPerCheck: of((m) => m.cpuUsPerCheck),
      range: [
        Math.min(...runs.map((run) => run[i]!.checksPerSec)),
        Math.max(...runs.map((run) => run[i]!.checksPerSec)),
      ],
    };
  });
  const f = (n: number, d = 1) => n.toFixed(d);
  console.log(
    `\nEd25519 verification, inline vs worker pool; medians of ${RUNS} runs; ${CHECKS} checks per throughput run; ` +
      `load average ${loadavg()[0]!.toFixed(1)} on ${availableParallelism()} CPUs`,
  );
  console.log(
    '| batch | verifier | latency µs | vs inline | checks/s (range) | vs inline | main-thread µs/check | CPU µs/check |',
  );
  console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
  for (const m of rows) {
    const inline = rows.find((r) => r.batch === m.batch && r.workers === 0)!;
    console.log(
      `| ${m.batch} | ${m.workers === 0 ? 'inline' : `pool, ${m.workers} worker${m.workers > 1 ? 's' : ''}`} | ` +
        `${f(m.latencyUs)} | ${f(m.latencyUs / inline.latencyUs, 2)}× | ${Math.round(m.checksPerSec)} ` +
        `(${Math.round(m.range[0]!)}–${Math.round(m.range[1]!)}) | ${f(m.checksPerSec / inline.checksPerSec, 2)}× | ` +
        `${f(m.mainUsPerCheck)} | ${f(m.cpuUsPerCheck)} |`,
    );
  }
}
